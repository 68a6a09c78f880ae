#include "switchyard/core/router.hpp"
#include "switchyard/core/health_view.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "switchyard/core/sticky.hpp"

namespace switchyard {
namespace {

// Two pools balanced by round-robin (the tests below that predate least
// request check its exact sequences); blue gets `blue_weights`, green one server.
Settings two_pools(std::vector<std::uint32_t> blue_weights,
                   BalancePolicy balance = BalancePolicy::round_robin) {
    Settings s;
    s.routing.active = "blue";
    PoolSettings blue;
    blue.name = "blue";
    blue.balance = balance;
    for (std::size_t i = 0; i < blue_weights.size(); ++i)
        blue.servers.push_back(
            {{"127.0.0.1", static_cast<std::uint16_t>(9000 + i)}, blue_weights[i]});
    PoolSettings green;
    green.name = "green";
    green.balance = balance;
    green.servers.push_back({{"127.0.0.1", 9100}, 1});
    s.pools = {blue, green};
    return s;
}

TEST(RoutingState, BuildsPoolsAndActive) {
    auto s = two_pools({1, 1});
    s.routing.active = "green";
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 7);
    EXPECT_EQ(state.snapshot, 7u);
    ASSERT_EQ(state.pools.size(), 2u);
    EXPECT_EQ(state.find_pool("green"), 1);
    EXPECT_EQ(state.find_pool("nope"), -1);
    EXPECT_EQ(state.active, 1);
    EXPECT_EQ(state.pools[0].servers[1].address, "127.0.0.1:9001");
    EXPECT_EQ(state.pools[0].servers[1].resolved, std::vector<std::string>{"127.0.0.1"});
}

TEST(RoutingState, HostNamesTakeTheirResolvedAddresses) {
    auto s = two_pools({1});
    s.pools[0].servers.push_back({{"app.internal", 80}, 1});
    auto unresolved = build_routing_state(s, initial_runtime_state(s), {}, 1);
    EXPECT_TRUE(unresolved.pools[0].servers[1].resolved.empty());
    ResolvedHosts dns{{"app.internal", {"10.0.0.1", "10.0.0.2"}}};
    auto resolved = build_routing_state(s, initial_runtime_state(s), dns, 1);
    EXPECT_EQ(resolved.pools[0].servers[1].resolved.size(), 2u);
    // A changed DNS answer changes the server's identity (no stale pooled connections).
    EXPECT_NE(unresolved.pools[0].servers[1].id, resolved.pools[0].servers[1].id);
    EXPECT_EQ(unresolved.pools[0].servers[0].id, resolved.pools[0].servers[0].id);
}

TEST(RoutingState, ServerIdentityDependsOnPoolAndAddress) {
    auto s = two_pools({1, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    EXPECT_NE(state.pools[0].servers[0].id, state.pools[0].servers[1].id);
    EXPECT_NE(state.pools[0].servers[0].id, state.pools[1].servers[0].id);
}

TEST(RoutingState, IpLiterals) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("[::1]"));
}

TEST(Router, RoundRobinFollowsWeightsSmoothly) {
    auto s = two_pools({5, 1, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    std::string order;
    for (int i = 0; i < 7; ++i) {
        auto d = Router::decide({}, state, balancer, random);
        ASSERT_EQ(d.pool, 0);
        order += static_cast<char>('a' + d.server);
    }
    // NGINX's smooth weighted round-robin sequence for weights 5,1,1.
    EXPECT_EQ(order, "aabacaa");
}

TEST(Router, RoundRobinSharesMatchWeights) {
    auto s = two_pools({3, 2, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    std::map<int, int> counts;
    for (int i = 0; i < 6000; ++i)
        ++counts[Router::decide({}, state, balancer, random).server];
    EXPECT_EQ(counts[0], 3000);
    EXPECT_EQ(counts[1], 2000);
    EXPECT_EQ(counts[2], 1000);
}

TEST(Router, ServersWithoutAddressAreSkipped) {
    auto s = two_pools({1});
    s.pools[0].servers.insert(s.pools[0].servers.begin(),
                              ServerSettings{{"nowhere.invalid", 80}, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(Router::decide({}, state, balancer, random).server, 1);
}

TEST(Router, PoolWithNoUsableServerGivesNoServer) {
    auto s = two_pools({1});
    s.pools[0].servers = {ServerSettings{{"nowhere.invalid", 80}, 1}};
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    auto d = Router::decide({}, state, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_EQ(d.server, -1);
}

TEST(RoutingState, RuntimeStateDecidesRolesAndAdminStates) {
    auto s = two_pools({1, 1});
    RuntimeState rt = initial_runtime_state(s);
    rt.active = "green";
    rt.previous = "blue";
    rt.canary_pool = "blue";
    rt.canary_weight_bp = 500;
    rt.generation = 9;
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::draining, std::nullopt};
    rt.servers["blue"]["127.0.0.1:9001"] = {AdminState::enabled, 7u};
    auto state = build_routing_state(s, rt, {}, 3);
    EXPECT_EQ(state.active, 1);
    EXPECT_EQ(state.previous, 0);
    EXPECT_EQ(state.canary, 0);
    EXPECT_EQ(state.canary_weight_bp, 500u);
    EXPECT_EQ(state.generation, 9u);
    EXPECT_EQ(state.pools[0].servers[0].admin, AdminState::draining);
    EXPECT_EQ(state.pools[0].servers[1].weight, 7u);
    EXPECT_FALSE(state.takes_traffic(0, 0));  // draining
    EXPECT_TRUE(state.takes_traffic(0, 1));   // canary with weight > 0
    EXPECT_TRUE(state.takes_traffic(1, 0));   // active
    rt.canary_weight_bp = 0;
    auto no_canary = build_routing_state(s, rt, {}, 4);
    EXPECT_FALSE(no_canary.takes_traffic(0, 1));
}

TEST(Router, DrainedAndDisabledServersAreSkipped) {
    auto s = two_pools({1, 1});
    RuntimeState rt = initial_runtime_state(s);
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::disabled, std::nullopt};
    auto state = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(Router::decide({}, state, balancer, random).server, 1);
}

TEST(Router, UnhealthyServersAreSkippedAndTakeNoTraffic) {
    auto s = two_pools({1, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    HealthView view(1);
    ServerHealth down;
    down.state = HealthState::unhealthy;
    view.set("blue", "127.0.0.1:9000", down);
    apply_health(state, view, HealthTime{});
    EXPECT_FALSE(state.pools[0].servers[0].healthy);
    EXPECT_FALSE(state.takes_traffic(0, 0));
    EXPECT_TRUE(state.takes_traffic(0, 1));
    BalancerState balancer;
    SplitMix64 random(1);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(Router::decide({}, state, balancer, random).server, 1);
}

TEST(Router, ActivePoolWithoutAUsableServerFailsOrFallsBack) {
    auto s = two_pools({1});
    RuntimeState rt = initial_runtime_state(s);
    rt.previous = "green";
    HealthView view(1);
    ServerHealth down;
    down.state = HealthState::unhealthy;
    view.set("blue", "127.0.0.1:9000", down);
    BalancerState balancer;
    SplitMix64 random(1);

    auto fail = build_routing_state(s, rt, {}, 1);  // on_unhealthy = "fail" (default)
    apply_health(fail, view, HealthTime{});
    EXPECT_EQ(fail.serving_pool(), 0);
    auto d = Router::decide({}, fail, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_EQ(d.server, -1);  // → 503
    EXPECT_FALSE(d.fallback);

    s.pools[0].on_unhealthy = OnUnhealthy::fallback;
    auto fallback = build_routing_state(s, rt, {}, 2);
    apply_health(fallback, view, HealthTime{});
    EXPECT_EQ(fallback.serving_pool(), 1);
    d = Router::decide({}, fallback, balancer, random);
    EXPECT_EQ(d.pool, 1);
    EXPECT_EQ(d.server, 0);
    EXPECT_TRUE(d.fallback);                    // counted in status
    EXPECT_TRUE(fallback.takes_traffic(1, 0));  // the previous pool stands in

    // Back to healthy: the active pool serves again.
    auto healed = build_routing_state(s, rt, {}, 3);
    EXPECT_EQ(healed.serving_pool(), 0);
    EXPECT_FALSE(healed.takes_traffic(1, 0));
}

TEST(Router, BalancerResetsOnANewGeneration) {
    auto s = two_pools({1, 1});
    auto first = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    EXPECT_EQ(Router::decide({}, first, balancer, random).server, 0);
    auto second = build_routing_state(s, initial_runtime_state(s), {}, 2);
    EXPECT_EQ(Router::decide({}, second, balancer, random).server, 0);  // fresh credits
}

// --- Pool choice: sticky buckets, canary, override -------------------------------

// blue active with `blue_weights`, green the canary at `weight_bp`, both
// balanced by least request; the sticky key comes from `source`.
RoutingState canary_state(std::uint32_t weight_bp, std::uint64_t seed = 0,
                          StickySource source = StickySource::header, std::uint64_t snapshot = 1,
                          std::vector<std::uint32_t> blue_weights = {1, 1}) {
    auto s = two_pools(std::move(blue_weights), BalancePolicy::least_request);
    s.routing.seed = seed;
    s.routing.sticky.source = source;
    s.routing.sticky.name = source == StickySource::header ? "X-User" : "sy_uid";
    RuntimeState rt = initial_runtime_state(s);
    rt.canary_pool = "green";
    rt.canary_weight_bp = weight_bp;
    return build_routing_state(s, rt, {}, snapshot);
}

RequestView with_key(std::string_view key) {
    RequestView r;
    r.sticky_header = key;
    return r;
}

TEST(Router, CanaryWithoutAUsableServerSendsItsShareToTheActivePool) {
    auto state = canary_state(10000);  // everyone to green
    HealthView view(1);
    ServerHealth ejected;
    ejected.state = HealthState::ejected;
    ejected.ejected_until = HealthTime::max();
    view.set("green", "127.0.0.1:9100", ejected);
    apply_health(state, view, HealthTime{});
    BalancerState balancer;
    SplitMix64 random(1);
    RequestView alice;
    alice.sticky_header = "alice";
    auto d = Router::decide(alice, state, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_FALSE(d.canary);
    EXPECT_TRUE(d.canary_failover);  // counted in status
    EXPECT_GE(d.server, 0);
    // Users outside the canary share are not failovers.
    auto none = canary_state(0);
    EXPECT_FALSE(Router::decide(alice, none, balancer, random).canary_failover);
}

TEST(Router, BucketDecidesTheCanary) {
    auto state = canary_state(1000, 7);
    BalancerState balancer;
    SplitMix64 random(1);
    // seed 7: alice → 7714 (blue), user-42 → 3225 (blue at 10 %, green at 40 %).
    auto alice = Router::decide(with_key("alice"), state, balancer, random);
    EXPECT_EQ(alice.bucket, 7714u);
    EXPECT_EQ(alice.pool, 0);
    EXPECT_FALSE(alice.canary);
    EXPECT_TRUE(alice.assign_cookie_value.empty());
    auto forty = canary_state(4000, 7, StickySource::header, 2);
    auto user = Router::decide(with_key("user-42"), forty, balancer, random);
    EXPECT_EQ(user.bucket, 3225u);
    EXPECT_EQ(user.pool, 1);
    EXPECT_EQ(user.server, 0);
    EXPECT_TRUE(user.canary);
    EXPECT_FALSE(user.overridden);
}

TEST(Router, BucketIsSetWithoutACanary) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    s.routing.sticky.source = StickySource::client_ip;
    s.routing.seed = 7;
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    RequestView r;
    r.client_ip = "192.0.2.7";
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.bucket, bucket_of("192.0.2.7", 7));
    EXPECT_EQ(d.pool, 0);
    EXPECT_FALSE(d.canary);
    EXPECT_TRUE(d.assign_cookie_value.empty());
}

TEST(Router, MonotoneOverEveryWholePercent) {
    // Raising the weight only moves users from active to canary.
    std::vector<std::string> keys;
    for (int i = 0; i < 100000; ++i)
        keys.push_back("k" + std::to_string(i));
    std::vector<char> was_canary(keys.size(), 0);
    BalancerState balancer;
    SplitMix64 random(3);
    for (std::uint32_t w = 0; w <= 100; ++w) {
        const auto state = canary_state(w * 100, 5, StickySource::header, w + 1);
        std::size_t moved_back = 0, wrong = 0, canary = 0;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const auto d = Router::decide(with_key(keys[i]), state, balancer, random);
            if (d.canary != (d.bucket < w * 100) || d.pool != (d.canary ? 1 : 0)) ++wrong;
            if (was_canary[i] && !d.canary) ++moved_back;
            was_canary[i] = d.canary;
            canary += d.canary;
        }
        ASSERT_EQ(moved_back, 0u) << "weight " << w;
        ASSERT_EQ(wrong, 0u) << "weight " << w;
        if (w == 0) {
            EXPECT_EQ(canary, 0u);
        }
        if (w == 100) {
            EXPECT_EQ(canary, keys.size());
        }
    }
}

TEST(Router, InstancesWithTheSameSeedAgree) {
    // Two instances (own snapshot, balancer and randomness) decide alike.
    const auto a = canary_state(2500, 99, StickySource::cookie, 1);
    const auto b = canary_state(2500, 99, StickySource::cookie, 8);
    BalancerState balancer_a, balancer_b;
    SplitMix64 random_a(1), random_b(2);
    std::mt19937_64 gen(77);
    std::size_t canary = 0;
    for (int i = 0; i < 100000; ++i) {
        const std::string cookie = "theme=dark; sy_uid=" + std::to_string(gen());
        const std::string_view cookies[] = {cookie};
        RequestView r;
        r.cookies = cookies;
        const auto da = Router::decide(r, a, balancer_a, random_a);
        const auto db = Router::decide(r, b, balancer_b, random_b);
        ASSERT_EQ(da.bucket, db.bucket);
        ASSERT_EQ(da.pool, db.pool);
        ASSERT_EQ(da.canary, db.canary);
        canary += da.canary;
    }
    EXPECT_NEAR(static_cast<double>(canary) / 1000.0, 25.0, 0.5);
}

TEST(Router, DifferentSeedsPickDifferentCanaryUsers) {
    const auto one = canary_state(1000, 1);
    const auto two = canary_state(1000, 2, StickySource::header, 2);
    BalancerState balancer_one, balancer_two;
    SplitMix64 random(4);
    std::size_t both = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const std::string key = "user-" + std::to_string(i);
        both += Router::decide(with_key(key), one, balancer_one, random).canary &&
                Router::decide(with_key(key), two, balancer_two, random).canary;
    }
    EXPECT_NEAR(100.0 * static_cast<double>(both) / n, 1.0, 0.3);
}

TEST(Router, AssignmentCookieOnlyWhenThereIsNoKey) {
    auto state = canary_state(1000, 7, StickySource::cookie);
    BalancerState balancer;
    SplitMix64 random(5);

    // No cookie at all: a fresh 32-hex-digit id, which is the key.
    auto fresh = Router::decide({}, state, balancer, random);
    ASSERT_EQ(fresh.assign_cookie_value.size(), 32u);
    EXPECT_EQ(fresh.assign_cookie_value.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(fresh.bucket, bucket_of(fresh.assign_cookie_value, 7));
    auto again = Router::decide({}, state, balancer, random);
    EXPECT_NE(again.assign_cookie_value, fresh.assign_cookie_value);

    // The cookie it set brings the user back to the same bucket, without a new cookie.
    const std::string back = "a=1; sy_uid=" + fresh.assign_cookie_value;
    const std::string_view back_fields[] = {back};
    RequestView r;
    r.cookies = back_fields;
    auto returning = Router::decide(r, state, balancer, random);
    EXPECT_TRUE(returning.assign_cookie_value.empty());
    EXPECT_EQ(returning.bucket, fresh.bucket);

    // An empty cookie value is no key.
    const std::string_view empty_fields[] = {"sy_uid="};
    r.cookies = empty_fields;
    EXPECT_EQ(Router::decide(r, state, balancer, random).assign_cookie_value.size(), 32u);
    // A cookie whose name merely starts with sy_uid is no key either.
    const std::string_view prefix_fields[] = {"sy_uidx=1"};
    r.cookies = prefix_fields;
    EXPECT_EQ(Router::decide(r, state, balancer, random).assign_cookie_value.size(), 32u);
}

TEST(Router, ApplicationKeyThenAssignmentCookie) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    s.routing.seed = 7;
    s.routing.sticky.source = StickySource::cookie;
    s.routing.sticky.name = "session";
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(6);
    RequestView r;
    // The application's cookie wins over ours.
    const std::string_view both[] = {"sy_uid=alice; session=user-42"};
    r.cookies = both;
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.bucket, 3225u);
    EXPECT_TRUE(d.assign_cookie_value.empty());
    // Without it, our assignment cookie is the key.
    const std::string_view ours[] = {"other=1", "sy_uid=alice"};
    r.cookies = ours;
    d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.bucket, 7714u);
    EXPECT_TRUE(d.assign_cookie_value.empty());
    // Neither: a new id.
    r.cookies = {};
    EXPECT_FALSE(Router::decide(r, state, balancer, random).assign_cookie_value.empty());
}

TEST(Router, HeaderAndClientIpSourcesFallBackToTheAssignmentCookie) {
    for (auto source : {StickySource::header, StickySource::client_ip}) {
        auto state = canary_state(0, 7, source);
        BalancerState balancer;
        SplitMix64 random(7);
        RequestView r;
        r.sticky_header = "user-42";
        r.client_ip = "user-42";
        auto d = Router::decide(r, state, balancer, random);
        EXPECT_EQ(d.bucket, 3225u);
        EXPECT_TRUE(d.assign_cookie_value.empty());
        r.sticky_header = {};
        r.client_ip = {};
        const std::string_view fields[] = {"sy_uid=alice"};
        r.cookies = fields;
        d = Router::decide(r, state, balancer, random);
        EXPECT_EQ(d.bucket, 7714u);
        EXPECT_TRUE(d.assign_cookie_value.empty());
        r.cookies = {};
        EXPECT_EQ(Router::decide(r, state, balancer, random).assign_cookie_value.size(), 32u);
    }
}

TEST(Router, SourceNoneDrawsABucketPerRequestAndSetsNoCookie) {
    auto state = canary_state(1000, 7, StickySource::none);
    BalancerState balancer;
    SplitMix64 random(8);
    const std::string_view fields[] = {"sy_uid=alice"};
    RequestView r;
    r.cookies = fields;
    r.sticky_header = "user-42";
    std::set<std::uint32_t> buckets;
    int canary = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto d = Router::decide(r, state, balancer, random);
        ASSERT_TRUE(d.assign_cookie_value.empty());
        ASSERT_LT(d.bucket, kBucketCount);
        ASSERT_EQ(d.canary, d.bucket < 1000);
        buckets.insert(d.bucket);
        canary += d.canary;
    }
    EXPECT_GT(buckets.size(), 9900u);  // the same request lands all over
    EXPECT_NEAR(100.0 * canary / n, 10.0, 0.5);
}

RoutingState override_state(std::string token) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    s.routing.override_header = "X-Switchyard-Pool";
    s.routing.override_token = std::move(token);
    return build_routing_state(s, initial_runtime_state(s), {}, 1);
}

TEST(Router, OverrideFromTrustedProxies) {
    auto state = override_state("");
    BalancerState balancer;
    SplitMix64 random(9);
    RequestView r;
    r.override_pool = "green";
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.pool, 0);  // untrusted, no token configured
    EXPECT_FALSE(d.overridden);
    r.override_token = "";  // an empty token never matches an empty configured one
    EXPECT_FALSE(Router::decide(r, state, balancer, random).overridden);
    r.from_trusted_proxy = true;
    d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.pool, 1);
    EXPECT_EQ(d.server, 0);
    EXPECT_TRUE(d.overridden);
    EXPECT_FALSE(d.canary);
    r.override_pool = "purple";  // unknown pool: ignored
    d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_FALSE(d.overridden);
}

TEST(Router, OverrideWithTheRightTokenOnly) {
    auto state = override_state("s3cret");
    BalancerState balancer;
    SplitMix64 random(10);
    RequestView r;
    r.override_pool = "green";
    EXPECT_FALSE(Router::decide(r, state, balancer, random).overridden);
    for (std::string_view wrong : {"s3cre", "s3cret!", "S3CRET", "x3cret", " s3cret"}) {
        r.override_token = wrong;
        EXPECT_FALSE(Router::decide(r, state, balancer, random).overridden) << wrong;
    }
    r.override_token = "s3cret";
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_TRUE(d.overridden);
    EXPECT_EQ(d.pool, 1);
    r.override_pool = "blue";  // any existing pool, the active one included
    d = Router::decide(r, state, balancer, random);
    EXPECT_TRUE(d.overridden);
    EXPECT_EQ(d.pool, 0);
}

TEST(Router, OverrideIsOffWithoutAHeaderName) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    s.routing.override_token = "s3cret";
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    SplitMix64 random(11);
    RequestView r;
    r.override_pool = "green";
    r.override_token = "s3cret";
    r.from_trusted_proxy = true;
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_FALSE(d.overridden);
    EXPECT_EQ(d.pool, 0);
}

TEST(Router, OverrideBeatsTheCanaryAndKeepsTheBucket) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    s.routing.seed = 7;
    s.routing.override_header = "X-Switchyard-Pool";
    s.routing.sticky.source = StickySource::header;
    RuntimeState rt = initial_runtime_state(s);
    rt.canary_pool = "green";
    rt.canary_weight_bp = 10000;
    auto state = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    SplitMix64 random(12);
    RequestView r = with_key("user-42");
    r.override_pool = "blue";
    r.from_trusted_proxy = true;
    auto d = Router::decide(r, state, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_TRUE(d.overridden);
    EXPECT_FALSE(d.canary);
    EXPECT_EQ(d.bucket, 3225u);
}

TEST(Router, CanaryWithoutUsableServerSendsItsShareToActive) {
    auto s = two_pools({1}, BalancePolicy::least_request);
    RuntimeState rt = initial_runtime_state(s);
    rt.canary_pool = "green";
    rt.canary_weight_bp = 10000;
    auto all_canary = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    SplitMix64 random(13);
    EXPECT_EQ(Router::decide(with_key("a"), all_canary, balancer, random).pool, 1);
    for (auto admin : {AdminState::draining, AdminState::disabled}) {
        rt.servers["green"]["127.0.0.1:9100"] = {admin, std::nullopt};
        auto state = build_routing_state(s, rt, {}, 2);
        for (int i = 0; i < 100; ++i) {
            auto d = Router::decide(with_key(std::to_string(i)), state, balancer, random);
            ASSERT_EQ(d.pool, 0);
            ASSERT_EQ(d.server, 0);
            ASSERT_FALSE(d.canary);
        }
    }
}

TEST(Router, NoActivePoolGivesNoPool) {
    RoutingState empty;
    BalancerState balancer;
    SplitMix64 random(14);
    auto d = Router::decide({}, empty, balancer, random);
    EXPECT_EQ(d.pool, -1);
    EXPECT_EQ(d.server, -1);
}

// --- Server choice: least request (power of two choices) -------------------------

RoutingState one_pool(std::vector<std::uint32_t> weights, std::uint64_t snapshot = 1) {
    auto s = two_pools(std::move(weights), BalancePolicy::least_request);
    s.routing.sticky.source = StickySource::none;
    return build_routing_state(s, initial_runtime_state(s), {}, snapshot);
}

std::map<int, int> pick_many(const RoutingState& state, BalancerState& balancer, int n,
                             std::uint64_t seed = 21) {
    SplitMix64 random(seed);
    std::map<int, int> counts;
    for (int i = 0; i < n; ++i) {
        auto d = Router::decide({}, state, balancer, random);
        EXPECT_EQ(d.pool, 0);
        ++counts[d.server];
    }
    return counts;
}

TEST(LeastRequest, AlwaysTakesTheLessLoadedOfTheTwo) {
    auto state = one_pool({1, 1});
    BalancerState balancer;
    balancer.sync(state);
    balancer.add_load(0, 0, 10);
    EXPECT_EQ(pick_many(state, balancer, 10000)[1], 10000);
    balancer.add_load(0, 0, -10);
    balancer.add_load(0, 1, 10);
    EXPECT_EQ(pick_many(state, balancer, 10000)[0], 10000);
}

TEST(LeastRequest, TheMostLoadedOfThreeLosesEveryDraw) {
    // Loads 10, 0, 5: each pair is drawn a third of the time; the idle server
    // is in two pairs, the busiest wins none.
    auto state = one_pool({1, 1, 1});
    BalancerState balancer;
    balancer.sync(state);
    balancer.add_load(0, 0, 10);
    balancer.add_load(0, 2, 5);
    const int n = 100000;
    auto counts = pick_many(state, balancer, n);
    EXPECT_EQ(counts[0], 0);
    EXPECT_NEAR(100.0 * counts[1] / n, 100.0 * 2 / 3, 1.0);
    EXPECT_NEAR(100.0 * counts[2] / n, 100.0 / 3, 1.0);
}

TEST(LeastRequest, EqualLoadsFollowTheWeights) {
    auto state = one_pool({3, 1});
    BalancerState balancer;
    const int n = 100000;
    auto counts = pick_many(state, balancer, n);
    EXPECT_NEAR(100.0 * counts[0] / n, 75.0, 1.0);
    EXPECT_NEAR(100.0 * counts[1] / n, 25.0, 1.0);
    // Equal load per unit of weight is a tie too.
    balancer.add_load(0, 0, 6);
    balancer.add_load(0, 1, 2);
    counts = pick_many(state, balancer, n, 22);
    EXPECT_NEAR(100.0 * counts[0] / n, 75.0, 1.0);
}

TEST(LeastRequest, LoadIsMeasuredPerUnitOfWeight) {
    auto state = one_pool({2, 1});
    BalancerState balancer;
    balancer.sync(state);
    balancer.add_load(0, 0, 3);  // 1.5 per unit
    balancer.add_load(0, 1, 1);  // 1 per unit
    EXPECT_EQ(pick_many(state, balancer, 1000)[1], 1000);
    balancer.add_load(0, 1, 1);  // 2 per unit
    EXPECT_EQ(pick_many(state, balancer, 1000)[0], 1000);
}

TEST(LeastRequest, UnusableServersAreNeverPicked) {
    auto s = two_pools({1, 1, 1, 1, 1, 1}, BalancePolicy::least_request);
    s.routing.sticky.source = StickySource::none;
    s.pools[0].servers[2].address.host = "nowhere.invalid";  // unresolved
    RuntimeState rt = initial_runtime_state(s);
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::draining, std::nullopt};
    rt.servers["blue"]["127.0.0.1:9001"] = {AdminState::disabled, std::nullopt};
    rt.servers["blue"]["127.0.0.1:9003"] = {AdminState::enabled, 0u};
    auto state = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    const int n = 20000;
    auto counts = pick_many(state, balancer, n);
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_NEAR(100.0 * counts[4] / n, 50.0, 2.0);
    EXPECT_NEAR(100.0 * counts[5] / n, 50.0, 2.0);
}

TEST(LeastRequest, OneUsableServerOrNone) {
    auto s = two_pools({1, 1}, BalancePolicy::least_request);
    s.routing.sticky.source = StickySource::none;
    RuntimeState rt = initial_runtime_state(s);
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::disabled, std::nullopt};
    auto one = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    EXPECT_EQ(pick_many(one, balancer, 100)[1], 100);
    rt.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    auto none = build_routing_state(s, rt, {}, 2);
    SplitMix64 random(1);
    auto d = Router::decide({}, none, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_EQ(d.server, -1);
}

TEST(LeastRequest, LoadsFollowTheSnapshot) {
    BalancerState balancer;
    balancer.add_load(0, 0, 1);  // before any sync: ignored
    EXPECT_EQ(balancer.load(0, 0), 0u);
    auto first = one_pool({1, 1}, 5);
    balancer.sync(first);
    EXPECT_EQ(balancer.snapshot(), 5u);
    balancer.add_load(0, 1, 3);
    balancer.add_load(0, 1, -1);
    EXPECT_EQ(balancer.load(0, 1), 2u);
    balancer.add_load(0, 1, -5);  // never below zero
    EXPECT_EQ(balancer.load(0, 1), 0u);
    balancer.add_load(0, 9, 1);  // out of range: ignored
    balancer.add_load(7, 0, 1);
    balancer.add_load(-1, 0, 1);
    EXPECT_EQ(balancer.load(0, 9), 0u);
    EXPECT_EQ(balancer.load(7, 0), 0u);
    EXPECT_TRUE(balancer.add_load_if(5, 0, 0, 4));
    EXPECT_EQ(balancer.load(0, 0), 4u);
    balancer.sync(first);  // same snapshot: kept
    EXPECT_EQ(balancer.load(0, 0), 4u);
    auto second = one_pool({1, 1}, 6);
    balancer.sync(second);  // new snapshot: reset
    EXPECT_EQ(balancer.snapshot(), 6u);
    EXPECT_EQ(balancer.load(0, 0), 0u);
    EXPECT_FALSE(balancer.add_load_if(5, 0, 0, -1));  // the old snapshot's end: dropped
    EXPECT_EQ(balancer.load(0, 0), 0u);
}

TEST(LeastRequest, AnOlderSnapshotLeavesTheMemoryAlone) {
    // A request that pinned an older snapshot (a retry, say) must not wipe
    // the loads kept for the current one; it gets a weighted random pick.
    auto current = one_pool({1, 1}, 6);
    auto older = one_pool({1, 1, 1}, 5);
    BalancerState balancer;
    balancer.sync(current);
    balancer.add_load(0, 0, 10);
    EXPECT_FALSE(balancer.sync(older));
    std::map<int, int> counts;
    SplitMix64 random(3);
    for (int i = 0; i < 3000; ++i)
        ++counts[Router::pick_server(older, 0, balancer, random)];
    EXPECT_EQ(counts.size(), 3u);
    for (int s = 0; s < 3; ++s)
        EXPECT_NEAR(counts[s], 1000, 150) << s;
    auto d = Router::decide({}, older, balancer, random);
    EXPECT_EQ(d.pool, 0);
    EXPECT_GE(d.server, 0);
    EXPECT_EQ(balancer.snapshot(), 6u);
    EXPECT_EQ(balancer.load(0, 0), 10u);
    EXPECT_TRUE(balancer.sync(current));
    EXPECT_EQ(Router::pick_server(current, 0, balancer, random), 1);
}

TEST(PickServer, ARetrySkipsTheServersAlreadyTried) {
    // Least request: the excluded servers are never drawn, whatever the loads.
    auto state = one_pool({1, 1, 1});
    BalancerState balancer;
    SplitMix64 random(11);
    const int tried[] = {0, 2};
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(Router::pick_server(state, 0, balancer, random, tried), 1) << i;
    const int all[] = {0, 1, 2};
    EXPECT_EQ(Router::pick_server(state, 0, balancer, random, all), -1);
    std::map<int, int> counts;
    const int first[] = {0};
    for (int i = 0; i < 2000; ++i)
        ++counts[Router::pick_server(state, 0, balancer, random, first)];
    EXPECT_EQ(counts.count(0), 0u);
    EXPECT_NEAR(counts[1], 1000, 150);
    EXPECT_NEAR(counts[2], 1000, 150);

    // Round robin: the excluded server gets no credit, the others keep their order.
    auto rr = build_routing_state(two_pools({2, 1, 1}), initial_runtime_state(two_pools({2, 1, 1})),
                                  {}, 1);
    BalancerState rr_balancer;
    std::string order;
    const int skip_a[] = {0};
    for (int i = 0; i < 4; ++i)
        order += static_cast<char>('a' + Router::pick_server(rr, 0, rr_balancer, random, skip_a));
    EXPECT_EQ(order, "bcbc");
}

TEST(LeastRequest, RoundRobinIsStillAvailableWithInjectedRandomness) {
    auto state = build_routing_state(two_pools({5, 1, 1}),
                                     initial_runtime_state(two_pools({5, 1, 1})), {}, 1);
    BalancerState balancer;
    SplitMix64 random(1);
    std::string order;
    for (int i = 0; i < 7; ++i)
        order += static_cast<char>('a' + Router::decide({}, state, balancer, random).server);
    EXPECT_EQ(order, "aabacaa");
}

}  // namespace
}  // namespace switchyard

#include "switchyard/core/shadow_policy.hpp"

#include <gtest/gtest.h>

#include <string>

#include "switchyard/core/sticky.hpp"

namespace switchyard {
namespace {

// Blue (active), green and orange, one server each; shadow to green.
Settings with_shadow(std::uint32_t percent_milli, ShadowSample sample = ShadowSample::user) {
    Settings s;
    s.routing.active = "blue";
    for (const char* name : {"blue", "green", "orange"}) {
        PoolSettings p;
        p.name = name;
        p.servers.push_back({{"127.0.0.1", static_cast<std::uint16_t>(9001 + s.pools.size())}, 1});
        s.pools.push_back(p);
    }
    s.shadow.pool = "green";
    s.shadow.percent_milli = percent_milli;
    s.shadow.sample = sample;
    return s;
}

RoutingState state_of(const Settings& s) {
    return build_routing_state(s, initial_runtime_state(s), {}, 1);
}

TEST(ShadowPolicy, GoldenBuckets) {
    // XXH64("shadow/" + key, seed) mod 100000 from libxxhash's one-shot
    // XXH64: every instance and version must agree on these.
    EXPECT_EQ(shadow_bucket("alice", 0), 73532u);
    EXPECT_EQ(shadow_bucket("bob", 0), 48592u);
    EXPECT_EQ(shadow_bucket("alice", 7), 64610u);
    // The same hash as routing over the joined key (100000 is a multiple of
    // 10000), also for keys streamed rather than copied.
    for (std::size_t n : {1u, 249u, 250u, 251u, 4000u}) {
        const std::string key(n, 'k');
        EXPECT_EQ(shadow_bucket(key, 3) % kBucketCount, bucket_of("shadow/" + key, 3)) << n;
    }
}

TEST(ShadowPolicy, UserSamplingIsStickyMonotoneAndNearTheShare) {
    SplitMix64 random(1);
    const RoutingState five = state_of(with_shadow(5000));
    const RoutingState ten = state_of(with_shadow(10000));
    int at_five = 0, at_ten = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::string key = "u" + std::to_string(i);
        const bool a = shadow_sampled(five, key, 0, random);
        EXPECT_EQ(a, shadow_sampled(five, key, 0, random)) << key;  // no randomness
        const bool b = shadow_sampled(ten, key, 0, random);
        if (a) {
            EXPECT_TRUE(b) << key << " lost mirroring when the percent rose";
        }
        at_five += a;
        at_ten += b;
    }
    EXPECT_NEAR(at_five, 500, 50);
    EXPECT_NEAR(at_ten, 1000, 50);
}

TEST(ShadowPolicy, RequestSamplingDrawsPerRequest) {
    SplitMix64 random(2);
    const RoutingState state = state_of(with_shadow(20000, ShadowSample::request));
    int sampled = 0;
    for (int i = 0; i < 10000; ++i)
        sampled += shadow_sampled(state, "alice", 0, random);
    EXPECT_NEAR(sampled, 2000, 200);  // one user, yet about a fifth of the requests
    // A user sample without a key (sticky source none) draws too.
    const RoutingState user = state_of(with_shadow(20000));
    sampled = 0;
    for (int i = 0; i < 10000; ++i)
        sampled += shadow_sampled(user, "", 0, random);
    EXPECT_NEAR(sampled, 2000, 200);
}

TEST(ShadowPolicy, NeverWhenOffOrRoutedToTheShadowPool) {
    SplitMix64 random(3);
    EXPECT_FALSE(shadow_sampled(state_of(with_shadow(0)), "alice", 0, random));
    const RoutingState all = state_of(with_shadow(100000));
    EXPECT_TRUE(shadow_sampled(all, "alice", 0, random));
    EXPECT_TRUE(shadow_sampled(all, "alice", 2, random));    // a canary in orange
    EXPECT_FALSE(shadow_sampled(all, "alice", 1, random));   // already on green
    EXPECT_FALSE(shadow_sampled(all, "alice", -1, random));  // no pool (503)
    Settings off = with_shadow(100000);
    off.shadow.pool.clear();
    EXPECT_EQ(state_of(off).shadow.pool, -1);
    EXPECT_FALSE(shadow_sampled(state_of(off), "alice", 0, random));
}

TEST(ShadowPolicy, RouterDecidesWithTheUserKey) {
    const RoutingState state = state_of(with_shadow(50000));
    BalancerState balancer;
    SplitMix64 random(4);
    for (int i = 0; i < 200; ++i) {
        const std::string cookie = "sy_uid=u" + std::to_string(i);
        const std::string_view view = cookie;
        RequestView r;
        r.cookies = {&view, 1};
        const Decision d = Router::decide(r, state, balancer, random);
        EXPECT_EQ(d.shadow, shadow_bucket("u" + std::to_string(i), 0) < 50000) << i;
    }
    // A new user is sampled with the assignment id they are given.
    const Decision fresh = Router::decide({}, state, balancer, random);
    ASSERT_FALSE(fresh.assign_cookie_value.empty());
    EXPECT_EQ(fresh.shadow, shadow_bucket(fresh.assign_cookie_value, 0) < 50000);
}

TEST(ShadowPolicy, Methods) {
    ShadowSettings s;  // GET, HEAD, OPTIONS
    EXPECT_TRUE(shadow_method_allowed(s, "GET"));
    EXPECT_TRUE(shadow_method_allowed(s, "OPTIONS"));
    EXPECT_FALSE(shadow_method_allowed(s, "POST"));
    EXPECT_FALSE(shadow_method_allowed(s, "get"));  // methods are case-sensitive
    s.methods = {"GET", "POST"};
    EXPECT_FALSE(shadow_method_allowed(s, "POST"));  // unsafe without allow_unsafe
    EXPECT_FALSE(shadow_method_allowed(s, "HEAD"));  // not listed
    s.allow_unsafe = true;
    EXPECT_TRUE(shadow_method_allowed(s, "POST"));
    EXPECT_TRUE(is_safe_method("HEAD"));
    EXPECT_FALSE(is_safe_method("DELETE"));
}

}  // namespace
}  // namespace switchyard

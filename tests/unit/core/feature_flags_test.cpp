#include "switchyard/core/feature_flags.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "switchyard/core/router.hpp"
#include "switchyard/core/sticky.hpp"

namespace switchyard {
namespace {

// Blue (active) and green, one server each, with `flags`.
Settings with_flags(std::vector<FlagSettings> flags, std::uint64_t seed = 0) {
    Settings s;
    s.routing.active = "blue";
    s.routing.seed = seed;
    PoolSettings blue;
    blue.name = "blue";
    blue.servers.push_back({{"127.0.0.1", 9001}, 1});
    PoolSettings green = blue;
    green.name = "green";
    green.servers[0].address.port = 9002;
    s.pools = {blue, green};
    s.flags = std::move(flags);
    return s;
}

RoutingState state_of(const Settings& s) {
    return build_routing_state(s, initial_runtime_state(s), {}, 1);
}

TEST(FeatureFlags, GoldenBuckets) {
    // XXH64("flag/" + name + "/" + key, seed) mod 100000, computed with
    // libxxhash's one-shot XXH64 over the joined string: every instance and
    // version must agree on these.
    EXPECT_EQ(flag_bucket("new-checkout", "alice", 0), 19676u);
    EXPECT_EQ(flag_bucket("new-checkout", "bob", 0), 50117u);
    EXPECT_EQ(flag_bucket("dark-mode", "alice", 7), 42097u);
    EXPECT_EQ(flag_bucket("dark-mode", "user-42", 7), 72964u);
    EXPECT_EQ(flag_bucket("x", "", 12345), 51066u);
}

TEST(FeatureFlags, TheHashIsTheRoutingHashOfTheJoinedKey) {
    // 100000 is a multiple of 10000: the flag bucket reduces to the routing
    // bucket of "flag/NAME/KEY", whatever the split between name and key.
    for (int i = 0; i < 1000; ++i) {
        const std::string key = "u" + std::to_string(i);
        EXPECT_EQ(flag_bucket("a/b", key, 9) % kBucketCount, bucket_of("flag/a/b/" + key, 9));
        EXPECT_EQ(flag_bucket("a", "b/" + key, 9), flag_bucket("a/b", key, 9));
    }
    // Long keys take another path (streamed, not copied): the same digest.
    for (std::size_t n : {240u, 248u, 249u, 250u, 300u, 5000u}) {
        const std::string key(n, 'k');
        EXPECT_EQ(flag_bucket("ab", key, 3) % kBucketCount, bucket_of("flag/ab/" + key, 3)) << n;
    }
}

// The measure: users u0..u9999 at 5 % are 5 % within half a point,
// and raising the flag to 10 % keeps every one of them.
TEST(FeatureFlags, ShareIsExactAndRaisingItKeepsEveryUser) {
    auto users_at = [](std::uint32_t milli) {
        std::set<int> on;
        for (int i = 0; i < 10000; ++i)
            if (flag_bucket("new-checkout", "u" + std::to_string(i), 0) < milli) on.insert(i);
        return on;
    };
    const auto at5 = users_at(5000);
    EXPECT_NEAR(static_cast<double>(at5.size()) / 100.0, 5.0, 0.5) << at5.size();
    const auto at10 = users_at(10000);
    EXPECT_NEAR(static_cast<double>(at10.size()) / 100.0, 10.0, 0.5) << at10.size();
    for (int u : at5)
        EXPECT_TRUE(at10.count(u)) << "user u" << u << " lost the flag when it rose";
    // 0.001 % steps: the smallest share is a real one.
    const auto at_milli = users_at(1);
    EXPECT_LE(at_milli.size(), 3u);
}

TEST(FeatureFlags, FlagsAreIndependentOfEachOtherAndOfTheCanary) {
    // Two flags at 50 % share about a quarter of users, not all or none, and
    // neither follows the canary bucket.
    int both = 0, first_and_canary = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::string key = "u" + std::to_string(i);
        const bool a = flag_bucket("a", key, 0) < 50000;
        const bool b = flag_bucket("b", key, 0) < 50000;
        both += a && b;
        first_and_canary += a && bucket_of(key, 0) < 5000;
    }
    EXPECT_NEAR(both, 2500, 200);
    EXPECT_NEAR(first_and_canary, 2500, 200);
}

TEST(FeatureFlags, NamesAndPercents) {
    for (const char* good : {"a", "new-checkout", "Dark.Mode_2", "0"})
        EXPECT_TRUE(valid_flag_name(good)) << good;
    for (const std::string& bad :
         std::vector<std::string>{"", "a b", "a,b", "a/b", "ü", "a=b", std::string(65, 'x')})
        EXPECT_FALSE(valid_flag_name(bad)) << bad;
    EXPECT_TRUE(valid_flag_name(std::string(64, 'x')));

    EXPECT_EQ(format_flag_percent(0), "0.000");
    EXPECT_EQ(format_flag_percent(1), "0.001");
    EXPECT_EQ(format_flag_percent(5000), "5.000");
    EXPECT_EQ(format_flag_percent(12345), "12.345");
    EXPECT_EQ(format_flag_percent(100000), "100.000");

    EXPECT_EQ(parse_flag_percent("5"), 5000u);
    EXPECT_EQ(parse_flag_percent("0.001"), 1u);
    EXPECT_EQ(parse_flag_percent("12.5"), 12500u);
    EXPECT_EQ(parse_flag_percent("12.34"), 12340u);
    EXPECT_EQ(parse_flag_percent("100"), 100000u);
    EXPECT_EQ(parse_flag_percent("100.000"), 100000u);
    EXPECT_EQ(parse_flag_percent("0"), 0u);
    for (const char* bad :
         {"", ".", "5.", ".5", "100.001", "101", "1000", "0.0001", "-1", "+1", "1e2", " 5", "5%"})
        EXPECT_FALSE(parse_flag_percent(bad)) << bad;
}

TEST(FeatureFlags, FlagsForAUserAndPool) {
    FlagSettings all{"all", 100000, {}, ""};
    FlagSettings none{"none", 0, {}, ""};
    FlagSettings green_only{"green-only", 100000, {"green"}, ""};
    FlagSettings half{"half", 50000, {}, ""};
    const auto state = state_of(with_flags({all, none, green_only, half}));
    ASSERT_EQ(state.flags.size(), 4u);
    EXPECT_EQ(state.flags[2].pools, std::vector<int>{1});

    const std::uint64_t blue = flags_for(state, "alice", 0);
    EXPECT_EQ(blue & 0b0111, 0b0001u);  // all, not none, not green-only
    EXPECT_EQ(flags_for(state, "alice", 1) & 0b0111, 0b0101u);
    // "half" follows the hash.
    EXPECT_EQ((blue >> 3) & 1, flag_bucket("half", "alice", 0) < 50000 ? 1u : 0u);
    // No key: no flags, whatever the percent.
    EXPECT_EQ(flags_for(state, "", 0), 0u);
}

TEST(FeatureFlags, RuntimePercentWinsAndAFlagWithoutItsPoolsIsOff) {
    auto s = with_flags({{"a", 1000, {}, ""}, {"b", 100000, {"green"}, ""}});
    RuntimeState rt = initial_runtime_state(s);
    EXPECT_EQ(rt.flags, (std::map<std::string, std::uint32_t>{{"a", 1000}, {"b", 100000}}));
    rt.flags["a"] = 100000;
    auto state = build_routing_state(s, rt, {}, 1);
    EXPECT_EQ(state.flags[0].percent_milli, 100000u);
    // A pools list that names no pool of the snapshot (cannot pass --check,
    // but the snapshot must not read it as "any pool").
    s.flags[1].pools = {"orange"};
    state = build_routing_state(s, rt, {}, 1);
    EXPECT_EQ(state.flags[1].percent_milli, 0u);
    EXPECT_EQ(flags_for(state, "alice", 1) & 0b10, 0u);
}

TEST(FeatureFlags, UpstreamFields) {
    auto s = with_flags({{"a", 100000, {}, ""}, {"b", 100000, {}, ""}, {"c", 0, {}, ""}});
    auto state = state_of(s);
    std::string out;
    append_flag_fields(state, 0b011, 1, 1234, out);
    EXPECT_EQ(out, "X-Switchyard-Flags: a,b\r\n");
    out.clear();
    append_flag_fields(state, 0, 1, 1234, out);
    EXPECT_EQ(out, "");  // no flags: no header
    s.routing.context_header = "X-Switchyard-Context";
    s.routing.flags_header = "X-Features";
    state = state_of(s);
    append_flag_fields(state, 0b010, 1, 1234, out);
    EXPECT_EQ(out, "X-Features: b\r\nX-Switchyard-Context: pool=green; bucket=1234\r\n");
    out.clear();
    append_flag_fields(state, 0, 0, 7, out);
    EXPECT_EQ(out, "X-Switchyard-Context: pool=blue; bucket=7\r\n");
    EXPECT_EQ(state.private_fields, (std::vector<std::string>{"X-Features", "X-Switchyard-Context",
                                                              "X-Switchyard-Shadow"}));
}

// Router::decide computes the flags once, with the user key the bucket
// came from: a new user's flags are those of the cookie they are given.
TEST(FeatureFlags, DecideUsesTheSameUserKeyAsRouting) {
    auto s = with_flags({{"half", 50000, {}, ""}, {"green-only", 100000, {"green"}, ""}});
    s.routing.canary_pool = "green";
    s.routing.canary_weight_percent = 50;
    const auto state = state_of(s);
    BalancerState balancer;
    SplitMix64 random(42);
    int new_users_with_half = 0;
    for (int i = 0; i < 400; ++i) {
        RequestView fresh;
        const Decision first = Router::decide(fresh, state, balancer, random);
        ASSERT_FALSE(first.assign_cookie_value.empty());
        const std::string id = first.assign_cookie_value;
        EXPECT_EQ(first.flags & 1, flag_bucket("half", id, 0) < 50000 ? 1u : 0u);
        EXPECT_EQ((first.flags >> 1) & 1, first.pool == 1 ? 1u : 0u);
        new_users_with_half += static_cast<int>(first.flags & 1);

        RequestView again;
        const std::string cookie = "sy_uid=" + id;
        const std::string_view cookie_view = cookie;
        again.cookies = {&cookie_view, 1};
        const Decision back = Router::decide(again, state, balancer, random);
        EXPECT_TRUE(back.assign_cookie_value.empty());
        EXPECT_EQ(back.flags, first.flags) << id;
        EXPECT_EQ(back.pool, first.pool) << id;
    }
    EXPECT_GT(new_users_with_half, 120);
    EXPECT_LT(new_users_with_half, 280);
}

TEST(FeatureFlags, NoFlagsConfiguredMeansNoFlagsDecided) {
    const auto state = state_of(with_flags({}));
    BalancerState balancer;
    SplitMix64 random(1);
    const std::string cookie = "sy_uid=alice";
    const std::string_view view = cookie;
    RequestView r;
    r.cookies = {&view, 1};
    EXPECT_EQ(Router::decide(r, state, balancer, random).flags, 0u);
    EXPECT_EQ(state.private_fields,
              (std::vector<std::string>{"X-Switchyard-Flags", "X-Switchyard-Shadow"}));
}

}  // namespace
}  // namespace switchyard

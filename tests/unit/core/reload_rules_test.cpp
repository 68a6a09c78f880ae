#include "switchyard/core/reload_rules.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

Settings pools(std::initializer_list<const char*> names, std::uint64_t seed = 7) {
    Settings s;
    s.routing.seed = seed;
    for (const char* name : names) {
        PoolSettings p;
        p.name = name;
        s.pools.push_back(p);
    }
    return s;
}

RuntimeState routing(std::string active, std::string canary = {}, std::uint32_t weight_bp = 0) {
    RuntimeState r;
    r.active = std::move(active);
    r.canary_pool = std::move(canary);
    r.canary_weight_bp = weight_bp;
    return r;
}

const Settings kCurrent = pools({"blue", "green"});

TEST(ReloadRefusal, TheSameConfigurationIsAccepted) {
    EXPECT_EQ(reload_refusal(kCurrent, kCurrent, routing("blue", "green", 500)), std::nullopt);
}

TEST(ReloadRefusal, RemovingTheActivePoolIsRefused) {
    EXPECT_EQ(reload_refusal(kCurrent, pools({"green"}), routing("blue")),
              "the new configuration has no pool blue, the active pool");
    // Whatever the canary does.
    EXPECT_EQ(reload_refusal(kCurrent, pools({"green"}), routing("blue", "green", 10000)),
              "the new configuration has no pool blue, the active pool");
}

TEST(ReloadRefusal, RemovingACanaryPoolThatTakesTrafficIsRefused) {
    for (std::uint32_t bp : {1u, 500u, 9999u, 10000u})
        EXPECT_EQ(reload_refusal(kCurrent, pools({"blue"}), routing("blue", "green", bp)),
                  "the new configuration has no pool green, a canary pool with a weight above 0")
            << bp;
}

TEST(ReloadRefusal, RemovingACanaryPoolAtWeightZeroOrAnIdlePoolIsAccepted) {
    EXPECT_EQ(reload_refusal(kCurrent, pools({"blue"}), routing("blue", "green", 0)), std::nullopt);
    EXPECT_EQ(reload_refusal(kCurrent, pools({"blue"}), routing("blue")), std::nullopt);
    // A previous pool takes no traffic either.
    RuntimeState after_switch = routing("blue", "green", 0);
    after_switch.previous = "green";
    EXPECT_EQ(reload_refusal(kCurrent, pools({"blue"}), after_switch), std::nullopt);
}

TEST(ReloadRefusal, AddingPoolsIsAccepted) {
    EXPECT_EQ(
        reload_refusal(kCurrent, pools({"blue", "green", "red"}), routing("blue", "green", 500)),
        std::nullopt);
}

TEST(ReloadRefusal, ChangingTheSeedIsRefusedOnlyStrictlyBetweenZeroAndAHundredPercent) {
    const Settings reseeded = pools({"blue", "green"}, 8);
    for (std::uint32_t bp : {1u, 3000u, 9999u})
        EXPECT_EQ(reload_refusal(kCurrent, reseeded, routing("blue", "green", bp)),
                  "routing.seed cannot change while a canary holds 0 < weight < 100%")
            << bp;
    // At 0 % and 100 % the seed decides no user's pool.
    for (std::uint32_t bp : {0u, 10000u})
        EXPECT_EQ(reload_refusal(kCurrent, reseeded, routing("blue", "green", bp)), std::nullopt)
            << bp;
    EXPECT_EQ(reload_refusal(kCurrent, reseeded, routing("blue")), std::nullopt);
}

TEST(ReloadRefusal, TheFirstBrokenRuleIsNamed) {
    // No active pool and no canary pool, and a new seed: the active pool comes first.
    EXPECT_EQ(reload_refusal(kCurrent, pools({"red"}, 8), routing("blue", "green", 500)),
              "the new configuration has no pool blue, the active pool");
    // No canary pool and a new seed: the pool comes first.
    EXPECT_EQ(reload_refusal(kCurrent, pools({"blue"}, 8), routing("blue", "green", 500)),
              "the new configuration has no pool green, a canary pool with a weight above 0");
}

TEST(ReloadWarnings, NoneWhenNothingRestartBoundChanged) {
    Settings next = kCurrent;
    next.routing.seed = 99;
    next.pools.pop_back();
    EXPECT_TRUE(reload_warnings(kCurrent, next).empty());
}

TEST(ReloadWarnings, LogTargetsAndTheAdminListenerWaitForARestart) {
    Settings log_changed = kCurrent;
    log_changed.log.access_log = "/var/log/switchyard/access.log";
    EXPECT_EQ(reload_warnings(kCurrent, log_changed),
              std::vector<std::string>{"log target changes take effect at the next restart"});

    Settings admin_added = kCurrent;
    admin_added.admin = AdminSettings{{"127.0.0.1", 9901}};
    EXPECT_EQ(reload_warnings(kCurrent, admin_added),
              std::vector<std::string>{"admin listener changes take effect at the next restart"});

    Settings both = admin_added;
    both.log.level = "debug";
    EXPECT_EQ(reload_warnings(kCurrent, both),
              (std::vector<std::string>{"log target changes take effect at the next restart",
                                        "admin listener changes take effect at the next restart"}));

    Settings clustered = kCurrent;
    clustered.cluster.emplace().prefix = "/sy/prod";
    EXPECT_EQ(reload_warnings(kCurrent, clustered),
              std::vector<std::string>{"cluster changes take effect at the next restart"});
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// DESIGN.md "State": a seed change would give a flag to other users while
// it is strictly between 0 and 100 %.
TEST(ReloadRefusal, ChangingTheSeedWhileAFlagIsPartlyOnIsRefused) {
    RuntimeState r = routing("blue");
    const Settings reseeded = pools({"blue", "green"}, 8);
    for (std::uint32_t percent : {0u, 100000u}) {
        r.flags = {{"new-checkout", percent}};
        EXPECT_EQ(reload_refusal(kCurrent, reseeded, r), std::nullopt) << percent;
    }
    for (std::uint32_t percent : {1u, 50000u, 99999u}) {
        r.flags = {{"dark-mode", 0}, {"new-checkout", percent}};
        EXPECT_EQ(reload_refusal(kCurrent, reseeded, r),
                  "routing.seed cannot change while flag new-checkout is on for 0 < percent < "
                  "100% (its users would change)")
            << percent;
        // The same seed: anything else may change.
        EXPECT_EQ(reload_refusal(kCurrent, pools({"blue", "green", "red"}), r), std::nullopt);
    }
}

TEST(ReloadRefusal, ChangingTheSeedWhileAUserSampledShadowIsPartlyOnIsRefused) {
    RuntimeState r = routing("blue");
    Settings reseeded = pools({"blue", "green"}, 8);
    for (std::uint32_t percent : {0u, 100000u}) {
        r.shadow = {"green", percent, false};
        EXPECT_EQ(reload_refusal(kCurrent, reseeded, r), std::nullopt) << percent;
    }
    r.shadow = {"green", 10000, true};
    EXPECT_EQ(reload_refusal(kCurrent, reseeded, r),
              "routing.seed cannot change while 0 < shadow percent < 100% samples users (the "
              "mirrored users would change)");
    // Sampled per request, no user's mirroring depends on the seed.
    reseeded.shadow.sample = ShadowSample::request;
    EXPECT_EQ(reload_refusal(kCurrent, reseeded, r), std::nullopt);
}

}  // namespace
}  // namespace switchyard

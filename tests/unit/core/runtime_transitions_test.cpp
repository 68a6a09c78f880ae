#include "switchyard/core/runtime_transitions.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using Kind = RoutingCommand::Kind;
using Action = RoutingCommand::ServerAction;

Settings three_pools() {
    Settings s;
    s.routing.active = "blue";
    s.routing.canary_pool = "green";
    for (const char* name : {"blue", "green", "red"}) {
        PoolSettings p;
        p.name = name;
        s.pools.push_back(p);
    }
    s.pools[0].servers = {{{"127.0.0.1", 9001}, 1}, {{"127.0.0.1", 9002}, 3}};
    s.pools[1].servers = {{{"127.0.0.1", 9101}, 1}};
    s.pools[2].servers = {{{"::1", 9201}, 1}};
    return s;
}

RuntimeState state(std::string active, std::string previous, std::string canary,
                   std::uint32_t weight_bp, std::uint64_t generation) {
    RuntimeState r;
    r.active = std::move(active);
    r.previous = std::move(previous);
    r.canary_pool = std::move(canary);
    r.canary_weight_bp = weight_bp;
    r.generation = generation;
    return r;
}

RoutingCommand switch_cmd(std::string pool) {
    RoutingCommand c;
    c.kind = Kind::switch_to;
    c.pool = std::move(pool);
    return c;
}

RoutingCommand canary_cmd(std::string pool, std::uint32_t weight_bp) {
    RoutingCommand c;
    c.kind = Kind::canary;
    c.pool = std::move(pool);
    c.weight_bp = weight_bp;
    return c;
}

RoutingCommand simple(Kind kind) {
    RoutingCommand c;
    c.kind = kind;
    return c;
}

RoutingCommand server_cmd(std::string pool, std::string server, Action action,
                          std::uint32_t weight = 0) {
    RoutingCommand c;
    c.kind = Kind::server_admin;
    c.pool = std::move(pool);
    c.server = std::move(server);
    c.action = action;
    c.server_weight = weight;
    return c;
}

void expect_refused(const Transition& t, const RuntimeState& before, const std::string& error) {
    EXPECT_FALSE(t.ok);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.error, error);
    EXPECT_EQ(t.next, before);
    EXPECT_EQ(t.drain_pool, "");
}

class Transitions : public ::testing::Test {
  protected:
    Settings settings_ = three_pools();
};

// --- canary POOL W --------------------------------------------------------

TEST_F(Transitions, CanarySetsPoolAndWeight) {
    auto before = state("blue", "", "green", 0, 2);
    auto t = apply(before, canary_cmd("green", 500), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next, state("blue", "", "green", 500, 3));
    EXPECT_EQ(t.drain_pool, "");
}

TEST_F(Transitions, CanaryCanMoveToAnotherPool) {
    auto t = apply(state("blue", "", "green", 500, 2), canary_cmd("red", 1), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next, state("blue", "", "red", 1, 3));
}

TEST_F(Transitions, CanaryWeightBounds) {
    auto before = state("blue", "", "green", 0, 0);
    auto zero = apply(state("blue", "", "green", 700, 0), canary_cmd("green", 0), settings_);
    ASSERT_TRUE(zero.ok);
    EXPECT_EQ(zero.next.canary_weight_bp, 0u);
    auto full = apply(before, canary_cmd("green", 10000), settings_);
    ASSERT_TRUE(full.ok);
    EXPECT_EQ(full.next.canary_weight_bp, 10000u);
    expect_refused(apply(before, canary_cmd("green", 10001), settings_), before,
                   "canary weight must be between 0 and 100 percent");
}

TEST_F(Transitions, CanaryOnTheActivePoolIsRefused) {
    auto before = state("green", "blue", "blue", 0, 4);
    expect_refused(apply(before, canary_cmd("green", 500), settings_), before,
                   "green is the active pool; a canary must be another pool");
}

TEST_F(Transitions, CanaryOnAnUnknownPoolIsRefused) {
    auto before = state("blue", "", "green", 0, 4);
    expect_refused(apply(before, canary_cmd("purple", 500), settings_), before,
                   "pool purple does not exist");
}

TEST_F(Transitions, SameCanaryIsANoOp) {
    auto before = state("blue", "", "green", 500, 4);
    auto t = apply(before, canary_cmd("green", 500), settings_);
    EXPECT_TRUE(t.ok);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.next, before);
}

// --- switch POOL ----------------------------------------------------------

TEST_F(Transitions, SwitchMovesActiveToPreviousAndCanaryToZero) {
    auto before = state("blue", "", "green", 500, 3);
    auto t = apply(before, switch_cmd("green"), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next, state("green", "blue", "blue", 0, 4));
    EXPECT_EQ(t.drain_pool, "blue");
}

TEST_F(Transitions, SwitchToAThirdPoolAbortsTheCanary) {
    auto t = apply(state("blue", "", "green", 500, 3), switch_cmd("red"), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next, state("red", "blue", "blue", 0, 4));
    EXPECT_EQ(t.drain_pool, "blue");
}

TEST_F(Transitions, SwitchToTheActivePoolIsANoOp) {
    auto before = state("blue", "green", "green", 0, 9);
    auto t = apply(before, switch_cmd("blue"), settings_);
    EXPECT_TRUE(t.ok);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.next, before);
    EXPECT_EQ(t.drain_pool, "");
}

TEST_F(Transitions, SwitchToAnUnknownPoolIsRefused) {
    auto before = state("blue", "", "green", 0, 1);
    expect_refused(apply(before, switch_cmd("purple"), settings_), before,
                   "pool purple does not exist");
}

TEST_F(Transitions, SwitchKeepsServerAdminStates) {
    auto before = state("blue", "", "green", 0, 1);
    before.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    auto t = apply(before, switch_cmd("green"), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next.servers, before.servers);
}

// --- promote --------------------------------------------------------------

TEST_F(Transitions, PromoteSwitchesToTheCanaryPool) {
    auto t = apply(state("blue", "", "green", 2500, 5), simple(Kind::promote), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next, state("green", "blue", "blue", 0, 6));
    EXPECT_EQ(t.drain_pool, "blue");
}

TEST_F(Transitions, PromoteWithoutACanaryWeightIsRefused) {
    auto before = state("blue", "", "green", 0, 5);
    expect_refused(apply(before, simple(Kind::promote), settings_), before,
                   "nothing to promote: no canary has a weight above 0");
    auto no_pool = state("blue", "", "", 0, 5);
    expect_refused(apply(no_pool, simple(Kind::promote), settings_), no_pool,
                   "nothing to promote: no canary has a weight above 0");
}

// --- rollback -------------------------------------------------------------

TEST_F(Transitions, RollbackAbortsACanaryFirst) {
    // A previous pool exists too: the canary abort wins and nothing switches.
    auto t = apply(state("green", "blue", "red", 1000, 7), simple(Kind::rollback), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next, state("green", "blue", "red", 0, 8));
    EXPECT_EQ(t.drain_pool, "");
}

TEST_F(Transitions, RollbackOfASwitchSwitchesBack) {
    auto t = apply(state("green", "blue", "blue", 0, 4), simple(Kind::rollback), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next, state("blue", "green", "green", 0, 5));
    EXPECT_EQ(t.drain_pool, "green");
}

TEST_F(Transitions, RollbackWithNothingToUndoIsRefused) {
    auto before = state("blue", "", "green", 0, 0);
    expect_refused(apply(before, simple(Kind::rollback), settings_), before,
                   "nothing to roll back: no canary and no previous pool");
}

TEST_F(Transitions, RollbackToAPoolTheConfigNoLongerHasIsRefused) {
    auto before = state("blue", "purple", "green", 0, 3);
    expect_refused(apply(before, simple(Kind::rollback), settings_), before,
                   "previous pool purple does not exist");
}

TEST_F(Transitions, CanarySwitchRollbackSequence) {
    auto s = initial_runtime_state(settings_);
    EXPECT_EQ(s, state("blue", "", "green", 0, 0));
    for (const auto& [cmd, expected] : std::vector<std::pair<RoutingCommand, RuntimeState>>{
             {canary_cmd("green", 100), state("blue", "", "green", 100, 1)},
             {canary_cmd("green", 5000), state("blue", "", "green", 5000, 2)},
             {simple(Kind::promote), state("green", "blue", "blue", 0, 3)},
             {simple(Kind::rollback), state("blue", "green", "green", 0, 4)},
             {simple(Kind::rollback), state("green", "blue", "blue", 0, 5)},
             {switch_cmd("green"), state("green", "blue", "blue", 0, 5)},
         }) {
        auto t = apply(s, cmd, settings_);
        ASSERT_TRUE(t.ok) << t.error;
        EXPECT_EQ(t.next, expected);
        s = t.next;
    }
}

// --- if-generation --------------------------------------------------------

TEST_F(Transitions, IfGenerationMatchApplies) {
    auto cmd = switch_cmd("green");
    cmd.if_generation = 6;
    auto t = apply(state("blue", "", "green", 0, 6), cmd, settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next.generation, 7u);
}

TEST_F(Transitions, IfGenerationMismatchRefusesEveryCommand) {
    auto before = state("blue", "green", "green", 500, 7);
    std::vector<RoutingCommand> commands = {
        switch_cmd("green"),      switch_cmd("blue"),
        canary_cmd("green", 100), simple(Kind::promote),
        simple(Kind::rollback),   server_cmd("blue", "127.0.0.1:9001", Action::drain)};
    for (auto cmd : commands) {
        cmd.if_generation = 6;
        expect_refused(apply(before, cmd, settings_), before, "generation is 7, not 6");
    }
}

TEST_F(Transitions, ForceIsCarriedButChangesNothingYet) {
    auto cmd = switch_cmd("green");
    cmd.force = true;
    auto t = apply(state("blue", "", "green", 0, 0), cmd, settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next, state("green", "blue", "blue", 0, 1));
}

// --- server POOL ADDRESS ... ----------------------------------------------

TEST_F(Transitions, ServerDrainDisableEnable) {
    auto s = state("blue", "", "green", 0, 0);
    auto t = apply(s, server_cmd("blue", "127.0.0.1:9001", Action::drain), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next.generation, 1u);
    EXPECT_EQ(t.next.servers.at("blue").at("127.0.0.1:9001").state, AdminState::draining);
    EXPECT_EQ(t.drain_pool, "");

    t = apply(t.next, server_cmd("blue", "127.0.0.1:9001", Action::disable), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next.generation, 2u);
    EXPECT_EQ(t.next.servers.at("blue").at("127.0.0.1:9001").state, AdminState::disabled);

    t = apply(t.next, server_cmd("blue", "127.0.0.1:9001", Action::enable), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.next.generation, 3u);
    EXPECT_TRUE(t.next.servers.empty()) << "an entry back at the default is not kept";
}

TEST_F(Transitions, ServerActionAlreadyInEffectIsANoOp) {
    auto before = state("blue", "", "green", 0, 4);
    auto t = apply(before, server_cmd("blue", "127.0.0.1:9001", Action::enable), settings_);
    EXPECT_TRUE(t.ok);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.next, before);
    before.servers["blue"]["127.0.0.1:9001"].state = AdminState::draining;
    t = apply(before, server_cmd("blue", "127.0.0.1:9001", Action::drain), settings_);
    EXPECT_TRUE(t.ok);
    EXPECT_FALSE(t.changed);
}

TEST_F(Transitions, ServerWeightOverride) {
    auto s = state("blue", "", "green", 0, 0);
    auto t = apply(s, server_cmd("blue", "127.0.0.1:9002", Action::weight, 10), settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_EQ(t.next.servers.at("blue").at("127.0.0.1:9002"),
              (ServerAdmin{AdminState::enabled, 10u}));
    // Back to the config weight (3): the override disappears.
    t = apply(t.next, server_cmd("blue", "127.0.0.1:9002", Action::weight, 3), settings_);
    ASSERT_TRUE(t.ok);
    EXPECT_TRUE(t.changed);
    EXPECT_TRUE(t.next.servers.empty());
    EXPECT_EQ(t.next.generation, 2u);
}

TEST_F(Transitions, ServerWeightSurvivesDisableAndEnable) {
    auto s = state("blue", "", "green", 0, 0);
    s = apply(s, server_cmd("blue", "127.0.0.1:9001", Action::weight, 5), settings_).next;
    s = apply(s, server_cmd("blue", "127.0.0.1:9001", Action::disable), settings_).next;
    EXPECT_EQ(s.servers.at("blue").at("127.0.0.1:9001"), (ServerAdmin{AdminState::disabled, 5u}));
    s = apply(s, server_cmd("blue", "127.0.0.1:9001", Action::enable), settings_).next;
    EXPECT_EQ(s.servers.at("blue").at("127.0.0.1:9001"), (ServerAdmin{AdminState::enabled, 5u}));
    EXPECT_EQ(s.generation, 3u);
}

TEST_F(Transitions, ServerWeightBounds) {
    auto before = state("blue", "", "green", 0, 0);
    const std::string error =
        "server weight must be between 1 and 10000 (use disable to take a server out)";
    expect_refused(
        apply(before, server_cmd("blue", "127.0.0.1:9001", Action::weight, 0), settings_), before,
        error);
    expect_refused(
        apply(before, server_cmd("blue", "127.0.0.1:9001", Action::weight, 10001), settings_),
        before, error);
    auto max =
        apply(before, server_cmd("blue", "127.0.0.1:9001", Action::weight, 10000), settings_);
    EXPECT_TRUE(max.ok);
}

TEST_F(Transitions, ServerInUnknownPoolOrUnknownServerIsRefused) {
    auto before = state("blue", "", "green", 0, 0);
    expect_refused(apply(before, server_cmd("purple", "127.0.0.1:9001", Action::drain), settings_),
                   before, "pool purple does not exist");
    expect_refused(apply(before, server_cmd("green", "127.0.0.1:9001", Action::drain), settings_),
                   before, "server 127.0.0.1:9001 is not in pool green");
}

TEST_F(Transitions, ServerAddressIsMatchedAsConfigured) {
    auto t = apply(state("blue", "", "green", 0, 0), server_cmd("red", "[::1]:9201", Action::drain),
                   settings_);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_EQ(t.next.servers.at("red").count("[::1]:9201"), 1u);
}

TEST_F(Transitions, GenerationIncrementsByExactlyOnePerChange) {
    auto s = state("blue", "", "green", 0, 41);
    std::vector<RoutingCommand> commands = {
        canary_cmd("green", 1), canary_cmd("green", 1) /* no-op */,
        simple(Kind::promote),  switch_cmd("green") /* no-op */,
        simple(Kind::rollback), server_cmd("blue", "127.0.0.1:9001", Action::drain),
        switch_cmd("purple") /* refused */};
    std::uint64_t expected = 41;
    for (const auto& cmd : commands) {
        auto t = apply(s, cmd, settings_);
        if (t.changed) ++expected;
        EXPECT_EQ(t.next.generation, expected);
        s = t.next;
    }
    EXPECT_EQ(expected, 45u);
}

TEST(FormatWeightPercent, TwoDecimals) {
    EXPECT_EQ(format_weight_percent(0), "0.00");
    EXPECT_EQ(format_weight_percent(5), "0.05");
    EXPECT_EQ(format_weight_percent(50), "0.50");
    EXPECT_EQ(format_weight_percent(500), "5.00");
    EXPECT_EQ(format_weight_percent(1234), "12.34");
    EXPECT_EQ(format_weight_percent(10000), "100.00");
}

// --- reconcile ------------------------------------------------------------

TEST(Reconcile, StateThatAgreesWithTheConfigHasNoReports) {
    auto settings = three_pools();
    auto loaded = initial_runtime_state(settings);
    loaded.generation = 12;
    auto r = reconcile(loaded, settings);
    EXPECT_EQ(r.state, loaded);
    EXPECT_TRUE(r.dropped.empty());
    EXPECT_TRUE(r.conflicts.empty());
}

TEST(Reconcile, StateWinsAndTheDifferenceIsReported) {
    auto settings = three_pools();
    auto loaded = state("green", "blue", "blue", 0, 4);
    auto r = reconcile(loaded, settings);
    EXPECT_EQ(r.state, loaded);
    EXPECT_TRUE(r.dropped.empty());
    EXPECT_EQ(r.conflicts, std::vector<std::string>{"active green from state; config says blue"});
}

TEST(Reconcile, CanaryWithTrafficDifferingFromTheConfigIsAConflict) {
    auto settings = three_pools();
    auto r = reconcile(state("blue", "", "red", 250, 2), settings);
    EXPECT_EQ(r.state, state("blue", "", "red", 250, 2));
    EXPECT_EQ(r.conflicts,
              std::vector<std::string>{"canary red 2.50% from state; config says green 0.00%"});
    settings.routing.canary_pool.clear();
    r = reconcile(state("blue", "", "red", 250, 2), settings);
    EXPECT_EQ(r.conflicts,
              std::vector<std::string>{"canary red 2.50% from state; config says none"});
}

TEST(Reconcile, UnknownPoolsAndServersAreDropped) {
    auto settings = three_pools();
    auto loaded = state("purple", "orange", "yellow", 500, 9);
    loaded.servers["orange"]["10.0.0.1:80"] = {AdminState::disabled, std::nullopt};
    loaded.servers["blue"]["127.0.0.1:9999"] = {AdminState::draining, std::nullopt};
    loaded.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    auto r = reconcile(loaded, settings);
    auto expected = state("blue", "", "", 0, 9);
    expected.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    EXPECT_EQ(r.state, expected);
    EXPECT_EQ(r.dropped, (std::vector<std::string>{
                             "active pool purple (not in the config; using blue)",
                             "previous pool orange (not in the config)",
                             "canary pool yellow (not in the config)",
                             "server 127.0.0.1:9999 of pool blue (not in the config)",
                             "server admin states of pool orange (not in the config)",
                         }));
}

TEST(Reconcile, CanaryOrPreviousEqualToAFallbackActiveAreDropped) {
    auto settings = three_pools();
    auto r = reconcile(state("purple", "blue", "blue", 300, 1), settings);
    EXPECT_EQ(r.state, state("blue", "", "", 0, 1));
    EXPECT_EQ(r.dropped, (std::vector<std::string>{
                             "active pool purple (not in the config; using blue)",
                             "previous pool blue (it is the active pool)",
                             "canary pool blue (it is the active pool)",
                         }));
}

TEST(Reconcile, WeightOverridesEqualToTheConfigAreNormalised) {
    auto settings = three_pools();
    auto loaded = initial_runtime_state(settings);
    loaded.servers["blue"]["127.0.0.1:9002"] = {AdminState::enabled, 3u};  // config weight
    loaded.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, 1u};
    auto r = reconcile(loaded, settings);
    auto expected = initial_runtime_state(settings);
    expected.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    EXPECT_EQ(r.state, expected);
    EXPECT_TRUE(r.dropped.empty());
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

Settings with_flag(std::uint32_t percent_milli) {
    Settings s = three_pools();
    s.flags = {{"new-checkout", percent_milli, {}, ""}, {"dark-mode", 0, {"green"}, ""}};
    return s;
}

RoutingCommand flag_cmd(std::string name, std::uint32_t percent_milli) {
    RoutingCommand c;
    c.kind = Kind::flag;
    c.flag = std::move(name);
    c.flag_percent_milli = percent_milli;
    return c;
}

TEST(FlagTransitions, FlagSetsItsPercentAndBumpsTheGeneration) {
    const Settings s = with_flag(5000);
    RuntimeState cur = initial_runtime_state(s);
    cur.generation = 3;
    auto t = apply(cur, flag_cmd("new-checkout", 10000), s);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next.flags.at("new-checkout"), 10000u);
    EXPECT_EQ(t.next.flags.at("dark-mode"), 0u);
    EXPECT_EQ(t.next.generation, 4u);
    EXPECT_TRUE(t.drain_pool.empty());
    // Routing is untouched.
    EXPECT_EQ(t.next.active, cur.active);
    EXPECT_EQ(t.next.canary_weight_bp, cur.canary_weight_bp);

    // The same percent again (off is 0): a no-op.
    t = apply(t.next, flag_cmd("new-checkout", 10000), s);
    ASSERT_TRUE(t.ok);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.next.generation, 4u);
    t = apply(t.next, flag_cmd("dark-mode", 0), s);
    EXPECT_TRUE(t.ok && !t.changed);
}

TEST(FlagTransitions, FlagRefusalsChangeNothing) {
    const Settings s = with_flag(5000);
    RuntimeState cur = initial_runtime_state(s);
    cur.generation = 3;
    auto t = apply(cur, flag_cmd("old-checkout", 1000), s);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.error, "flag old-checkout does not exist (flags come from [[flags]])");
    EXPECT_EQ(t.next, cur);
    t = apply(cur, flag_cmd("new-checkout", 100001), s);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.error, "flag percent must be between 0 and 100");
    EXPECT_EQ(t.next, cur);
    auto stale = flag_cmd("new-checkout", 1000);
    stale.if_generation = 2;
    t = apply(cur, stale, s);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.error, "generation is 3, not 2");
    EXPECT_EQ(t.next, cur);
    stale.if_generation = 3;
    EXPECT_TRUE(apply(cur, stale, s).changed);
}

TEST(Reconcile, FlagsFromStateWinNewOnesStartAtTheConfigAndRemovedOnesAreDropped) {
    const Settings s = with_flag(5000);
    RuntimeState loaded = initial_runtime_state(s);
    loaded.flags = {{"new-checkout", 25000}, {"gone", 1000}};  // no dark-mode: older state
    const auto r = reconcile(loaded, s);
    EXPECT_EQ(r.state.flags,
              (std::map<std::string, std::uint32_t>{{"dark-mode", 0}, {"new-checkout", 25000}}));
    EXPECT_EQ(r.dropped, std::vector<std::string>{"flag gone (not in the config)"});
    EXPECT_EQ(r.conflicts,
              std::vector<std::string>{"flag new-checkout 25.000% from state; config says 5.000%"});
    // A state without flags (written before flags existed) takes the config's.
    RuntimeState old = initial_runtime_state(s);
    old.flags.clear();
    const auto fresh = reconcile(old, s);
    EXPECT_EQ(fresh.state.flags, initial_runtime_state(s).flags);
    EXPECT_TRUE(fresh.conflicts.empty());
    EXPECT_TRUE(fresh.dropped.empty());
}

RoutingCommand shadow_cmd(std::string pool, std::uint32_t percent_milli, bool diff = false) {
    RoutingCommand c;
    c.kind = Kind::shadow;
    c.pool = std::move(pool);
    c.shadow_percent_milli = percent_milli;
    c.shadow_diff = diff;
    return c;
}

TEST(ShadowTransitions, ShadowSetsPoolPercentAndDiffAndOffClearsThem) {
    const Settings s = three_pools();
    RuntimeState cur = initial_runtime_state(s);
    cur.generation = 3;
    auto t = apply(cur, shadow_cmd("green", 12500, true), s);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next.shadow, (ShadowRuntime{"green", 12500, true}));
    EXPECT_EQ(t.next.generation, 4u);
    EXPECT_TRUE(t.drain_pool.empty());
    EXPECT_EQ(t.next.active, cur.active);
    // The same again: a no-op; without diff: a change.
    EXPECT_FALSE(apply(t.next, shadow_cmd("green", 12500, true), s).changed);
    t = apply(t.next, shadow_cmd("green", 12500), s);
    EXPECT_TRUE(t.ok && t.changed);
    EXPECT_FALSE(t.next.shadow.diff);
    // off (an empty pool) clears everything; off again is a no-op.
    t = apply(t.next, shadow_cmd("", 0), s);
    ASSERT_TRUE(t.ok && t.changed);
    EXPECT_EQ(t.next.shadow, ShadowRuntime{});
    EXPECT_FALSE(apply(t.next, shadow_cmd("", 0), s).changed);
}

TEST(ShadowTransitions, RefusalsChangeNothing) {
    const Settings s = three_pools();
    RuntimeState cur = initial_runtime_state(s);
    cur.shadow = {"green", 1000, false};
    cur.generation = 5;
    const std::pair<RoutingCommand, std::string> cases[] = {
        {shadow_cmd("purple", 1000), "pool purple does not exist"},
        {shadow_cmd(cur.active, 1000),
         cur.active + " is the active pool; a shadow pool must be another pool"},
        {shadow_cmd("green", 100001), "shadow percent must be between 0 and 100"},
    };
    for (const auto& [command, error] : cases) {
        const auto t = apply(cur, command, s);
        EXPECT_FALSE(t.ok);
        EXPECT_EQ(t.error, error);
        EXPECT_EQ(t.next, cur);
    }
    auto stale = shadow_cmd("", 0);
    stale.if_generation = 4;
    EXPECT_FALSE(apply(cur, stale, s).ok);
}

TEST(ShadowTransitions, SwitchingToTheShadowPoolEndsMirroring) {
    const Settings s = three_pools();
    RuntimeState cur = initial_runtime_state(s);
    cur.shadow = {"green", 10000, true};
    // A canary in the shadow pool keeps it (its users are simply not copied).
    auto canary = RoutingCommand{};
    canary.kind = Kind::canary;
    canary.pool = "green";
    canary.weight_bp = 500;
    auto t = apply(cur, canary, s);
    ASSERT_TRUE(t.ok && t.changed);
    EXPECT_EQ(t.next.shadow, cur.shadow);
    // Promoting it (or switching to it) ends mirroring with the same change.
    RoutingCommand promote;
    promote.kind = Kind::promote;
    t = apply(t.next, promote, s);
    ASSERT_TRUE(t.ok && t.changed) << t.error;
    EXPECT_EQ(t.next.active, "green");
    EXPECT_EQ(t.next.shadow, ShadowRuntime{});
    // Switching elsewhere keeps it.
    RoutingCommand to_red;
    to_red.kind = Kind::switch_to;
    to_red.pool = "red";
    t = apply(cur, to_red, s);
    EXPECT_EQ(t.next.shadow, cur.shadow);
    // A state whose shadow is the active pool (written by an older version)
    // loses it.
    RuntimeState loaded = cur;
    loaded.active = "green";
    loaded.canary_pool = "blue";
    const auto r = reconcile(loaded, s);
    EXPECT_EQ(r.state.shadow, ShadowRuntime{});
    EXPECT_EQ(r.dropped, std::vector<std::string>{"shadow pool green (it is the active pool)"});
}

TEST(Reconcile, ShadowFromStateWinsAndAPoolNoLongerConfiguredEndsIt) {
    Settings s = three_pools();
    s.shadow.pool = "green";
    s.shadow.percent_milli = 5000;
    RuntimeState loaded = initial_runtime_state(s);
    EXPECT_EQ(loaded.shadow, (ShadowRuntime{"green", 5000, false}));
    EXPECT_TRUE(reconcile(loaded, s).conflicts.empty());
    loaded.shadow = {"green", 20000, true};
    auto r = reconcile(loaded, s);
    EXPECT_EQ(r.state.shadow, loaded.shadow);
    EXPECT_EQ(r.conflicts, std::vector<std::string>{
                               "shadow green 20.000% diff from state; config says green 5.000%"});
    loaded.shadow = {"gone", 20000, false};
    r = reconcile(loaded, s);
    EXPECT_EQ(r.state.shadow, ShadowRuntime{});
    EXPECT_EQ(r.dropped, std::vector<std::string>{"shadow pool gone (not in the config)"});
    EXPECT_EQ(r.conflicts,
              std::vector<std::string>{"shadow off from state; config says green 5.000%"});
}

// DESIGN.md "Fleet": cut off from the store, a member may stop a canary,
// never advance or switch.
TEST(EmergencyStop, OnlyStoppingACanaryIsOne) {
    const RuntimeState canary_on = state("blue", "", "green", 500, 1);
    const RuntimeState canary_off = state("blue", "green", "green", 0, 1);
    RoutingCommand c;
    c.kind = RoutingCommand::Kind::canary;
    c.pool = "green";
    c.weight_bp = 0;
    EXPECT_TRUE(is_emergency_stop(c, canary_on));
    c.weight_bp = 100;
    EXPECT_FALSE(is_emergency_stop(c, canary_on));
    c.kind = RoutingCommand::Kind::rollback;
    EXPECT_TRUE(is_emergency_stop(c, canary_on));
    EXPECT_FALSE(is_emergency_stop(c, canary_off)) << "a rollback without a canary switches";
    for (auto kind : {RoutingCommand::Kind::switch_to, RoutingCommand::Kind::promote,
                      RoutingCommand::Kind::server_admin, RoutingCommand::Kind::flag,
                      RoutingCommand::Kind::shadow}) {
        c.kind = kind;
        EXPECT_FALSE(is_emergency_stop(c, canary_on));
    }
}

TEST(EmergencyStop, ReplayedOnTheStoreUnlessItsActivePoolChanged) {
    const EmergencyStop stop{"green", "blue"};
    RuntimeState store = state("blue", "", "green", 2500, 9);
    const Transition t = replay_stop(store, stop);
    ASSERT_TRUE(t.ok);
    EXPECT_TRUE(t.changed);
    EXPECT_EQ(t.next.canary_weight_bp, 0u);
    EXPECT_EQ(t.next.generation, 10u);
    EXPECT_EQ(t.next.active, "blue");

    store.canary_weight_bp = 0;
    EXPECT_FALSE(replay_stop(store, stop).changed) << "already stopped";
    EXPECT_TRUE(replay_stop(store, stop).ok);
    EXPECT_FALSE(replay_stop(state("blue", "", "orange", 500, 1), stop).changed)
        << "another canary is not this stop's";

    const Transition moved = replay_stop(state("green", "blue", "blue", 0, 1), stop);
    EXPECT_FALSE(moved.ok);
    EXPECT_EQ(moved.error,
              "the store's active pool is green, not blue as when the canary was stopped");
}

}  // namespace
}  // namespace switchyard

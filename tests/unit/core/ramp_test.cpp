#include "switchyard/core/ramp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using Kind = RampCommand::Kind;
using Action = RoutingCheck::Action;

// A realistic wall-clock start (November 2023), so nothing depends on 0.
constexpr RampTime kT0{std::chrono::milliseconds{1'700'000'000'000}};
RampTime at(std::chrono::milliseconds since_start) {
    return kT0 + since_start;
}

StepCounts counts(std::uint64_t requests, std::uint64_t errors) {
    StepCounts c;
    for (std::uint64_t i = 0; i < requests; ++i)
        c.record(i < errors ? RequestOutcome::error : RequestOutcome::ok, 10000);
    return c;
}
CanaryJudgement passing() {
    return judge_canary(counts(2000, 2), counts(200, 0), {});
}
CanaryJudgement failing() {
    return judge_canary(counts(2000, 2), counts(200, 40), {});
}
CanaryJudgement no_data() {
    return judge_canary(counts(2000, 2), counts(10, 0), {});
}

GateResult healthy() {
    return RampContext::passing_health();
}
GateResult unhealthy() {
    GateResult g;
    g.pass = false;
    g.message =
        "pool green has 0 of 1 servers healthy (needs 1 and 50 %): 127.0.0.1:9002 unhealthy";
    return g;
}

RampContext context(RampTime now, GateResult health = healthy(), RampSettings defaults = {}) {
    RampContext c;
    c.now = now;
    c.defaults = std::move(defaults);
    c.pools = {"blue", "green", "red"};
    c.active = "blue";
    c.health = std::move(health);
    return c;
}

RampCommand command(Kind kind, std::string pool = {}) {
    RampCommand c;
    c.kind = kind;
    c.pool = std::move(pool);
    return c;
}
RampCommand start(std::string pool = "green", std::vector<std::uint32_t> steps = {},
                  PromoteMode promote = PromoteMode::automatic) {
    RampCommand c = command(Kind::start, std::move(pool));
    if (!steps.empty()) c.steps_bp = std::move(steps);
    c.promote = promote;
    return c;
}

// Drives a RolloutState as the control plane does when every state file
// write succeeds: keep r.next, mark it persisted.
struct Driver {
    RolloutState state;
    RampSettings defaults;

    RampResult apply(const RampCommand& c, RampTime now, GateResult health = healthy()) {
        return keep(apply_ramp_command(state, c, context(now, std::move(health), defaults)));
    }
    RampResult tick(RampTime now, const CanaryJudgement& j,
                    std::optional<GateResult> health = std::nullopt) {
        RampTick t;
        t.now = now;
        t.window = state.window;
        t.judgement = j;
        t.health = std::move(health);
        return keep(tick_ramp(state, t));
    }
    RampResult answer(RampTime now, bool allowed, std::string text) {
        return keep(answer_gate(state, now, GateAnswer{allowed, std::move(text)}));
    }
    RampResult keep(RampResult r) {
        state = r.next;
        if (r.effects.persist != PersistOrder::none) mark_persisted(state);
        return r;
    }
    const RampRecord& record() const { return state.ramp->record; }
};

// ---- Named states for the tables ----

enum class Named { none, running, holding, paused, waiting, aborted_auto, aborted_cmd, promoted };

const char* name_of(Named n) {
    switch (n) {
        case Named::none:
            return "none";
        case Named::running:
            return "running";
        case Named::holding:
            return "holding";
        case Named::paused:
            return "paused";
        case Named::waiting:
            return "waiting for ramp promote";
        case Named::aborted_auto:
            return "aborted automatically";
        case Named::aborted_cmd:
            return "aborted by command";
        case Named::promoted:
            return "promoted";
    }
    return "?";
}

Driver make(Named n) {
    Driver d;
    if (n == Named::none) return d;
    const bool two_steps = n == Named::waiting || n == Named::promoted;
    const auto promote = n == Named::waiting ? PromoteMode::manual : PromoteMode::automatic;
    const std::vector<std::uint32_t> steps =
        two_steps ? std::vector<std::uint32_t>{100, 10000} : std::vector<std::uint32_t>{};
    EXPECT_TRUE(d.apply(start("green", steps, promote), at(0s)).ok);
    switch (n) {
        case Named::holding:
            d.tick(at(61s), no_data());
            break;
        case Named::paused:
            d.apply(command(Kind::pause), at(10s));
            break;
        case Named::waiting:
        case Named::promoted:
            d.tick(at(61s), passing());
            break;
        case Named::aborted_auto:
            d.tick(at(5s), failing());
            d.tick(at(6s), failing());
            break;
        case Named::aborted_cmd:
            d.apply(command(Kind::abort), at(5s));
            break;
        default:
            break;
    }
    return d;
}

RampState state_of(Named n) {
    switch (n) {
        case Named::running:
            return RampState::running;
        case Named::holding:
            return RampState::holding;
        case Named::paused:
        case Named::waiting:
            return RampState::paused;
        case Named::aborted_auto:
        case Named::aborted_cmd:
            return RampState::aborted;
        default:
            return RampState::promoted;
    }
}

TEST(RampTest, NamedStatesAreWhatTheyClaim) {
    for (Named n : {Named::running, Named::holding, Named::paused, Named::waiting,
                    Named::aborted_auto, Named::aborted_cmd, Named::promoted}) {
        const Driver d = make(n);
        ASSERT_TRUE(d.state.ramp) << name_of(n);
        EXPECT_EQ(d.record().state, state_of(n)) << name_of(n);
    }
    EXPECT_EQ(make(Named::waiting).record().reason, "waiting for ramp promote");
    EXPECT_EQ(make(Named::aborted_auto).state.unacknowledged_aborts.size(), 1u);
    EXPECT_TRUE(make(Named::aborted_cmd).state.unacknowledged_aborts.empty());
}

// ---- Steps ----

TEST(RampTest, ValidateStepsTable) {
    struct Case {
        std::vector<std::uint32_t> steps;
        std::optional<std::string> error;
    };
    const Case cases[] = {
        {{100, 500, 2500, 5000, 10000}, std::nullopt},
        {{1, 10000}, std::nullopt},
        {{100}, std::nullopt},  // ends below 100: the end is the promotion
        {{9999}, std::nullopt},
        {{}, "steps must not be empty"},
        {{0, 100}, "step 0 is out of range (0, 100]"},
        {{100, 10001}, "step 100.01 is out of range (0, 100]"},
        {{500, 100}, "steps must be ascending: 1 after 5"},
        {{500, 500}, "steps must be ascending: 5 after 5"},
        {{2550, 2505}, "steps must be ascending: 25.05 after 25.5"},
        {{10000},
         "steps need one below 100 (a step of 100 is the promotion; to promote at once, use "
         "switch)"},
    };
    for (const Case& c : cases)
        EXPECT_EQ(validate_ramp_steps(c.steps), c.error) << format_ramp_steps(c.steps);
}

TEST(RampTest, ParseStepsTable) {
    struct Case {
        const char* text;
        std::vector<std::uint32_t> steps;
        const char* error;
    };
    const Case cases[] = {
        {"1,5,25,50,100", {100, 500, 2500, 5000, 10000}, ""},
        {"0.01,100", {1, 10000}, ""},
        {"25.5,99.99", {2550, 9999}, ""},
        {"100.00", {}, "steps need one below 100"},
        {"1.234",
         {},
         "step '1.234' is not a percentage with at most two decimals (0.01 % resolution)"},
        {"1.", {}, "step '1.' is not a percentage"},
        {".5", {}, "step '.5' is not a percentage"},
        {"1.5.5", {}, "step '1.5.5' is not a percentage"},
        {"-1", {}, "step '-1' is not a percentage"},
        {" 1", {}, "step ' 1' is not a percentage"},
        {"abc", {}, "step 'abc' is not a percentage"},
        {"1,,5", {}, "steps: an empty step in '1,,5'"},
        {"", {}, "steps: an empty step in ''"},
        {"5,", {}, "steps: an empty step in '5,'"},
        {"0", {}, "step 0 is out of range (0, 100]"},
        {"0.00", {}, "step 0.00 is out of range (0, 100]"},
        {"150", {}, "step 150 is out of range (0, 100]"},
        {"1234567", {}, "step '1234567' is not a percentage"},
        {"5,1", {}, "steps must be ascending: 1 after 5"},
    };
    for (const Case& c : cases) {
        const RampStepsParse p = parse_ramp_steps(c.text);
        EXPECT_EQ(p.steps_bp, c.steps) << c.text;
        if (*c.error == '\0')
            EXPECT_EQ(p.error, "") << c.text;
        else
            EXPECT_EQ(p.error.rfind(c.error, 0), 0u) << c.text << ": " << p.error;
    }
}

TEST(RampTest, StepsFromConfigNumbers) {
    EXPECT_EQ(ramp_steps_from_percent(std::vector<double>{1, 5, 25, 50, 100}).steps_bp,
              (std::vector<std::uint32_t>{100, 500, 2500, 5000, 10000}));
    EXPECT_EQ(ramp_steps_from_percent(std::vector<double>{0.01, 33.33}).steps_bp,
              (std::vector<std::uint32_t>{1, 3333}));
    EXPECT_NE(ramp_steps_from_percent(std::vector<double>{0.001}).error.find("0.01 % resolution"),
              std::string::npos);
    EXPECT_NE(ramp_steps_from_percent(std::vector<double>{0}).error.find("out of range"),
              std::string::npos);
    EXPECT_NE(ramp_steps_from_percent(std::vector<double>{101}).error.find("out of range"),
              std::string::npos);
    EXPECT_NE(ramp_steps_from_percent(std::vector<double>{5, 1}).error.find("ascending"),
              std::string::npos);
    EXPECT_EQ(format_ramp_steps(std::vector<std::uint32_t>{100, 2550, 10000}), "1, 25.5, 100 %");
}

// ---- Start ----

TEST(RampTest, StartSetsTheFirstStep) {
    Driver d;
    RampCommand c = start("green", {200, 1000, 10000});
    c.bake = 30s;
    const RampResult r = d.apply(c, at(0s));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.effects.canary_weight_bp, 200u);
    EXPECT_EQ(r.effects.switch_to, "");
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_EQ(r.effects.new_window, 1u);
    EXPECT_FALSE(r.effects.ask_gate);
    ASSERT_EQ(r.effects.events.size(), 1u);
    const RampEvent& e = r.effects.events[0];
    EXPECT_EQ(e.type, RampEventType::started);
    EXPECT_EQ(e.pool, "green");
    EXPECT_EQ(e.step, 0u);
    EXPECT_EQ(e.steps, 3u);
    EXPECT_EQ(e.weight_bp, 200u);
    EXPECT_EQ(e.reason, "started: steps 2, 10, 100 %, bake 30s, promote auto");
    const RampRecord& rec = d.record();
    EXPECT_EQ(rec.pool, "green");
    EXPECT_EQ(rec.step, 0u);
    EXPECT_EQ(rec.step_start, at(0s));
    EXPECT_EQ(rec.state, RampState::running);
    EXPECT_EQ(rec.reason, "step 1 of 3 (2.00 %)");
    EXPECT_EQ(rec.settings.steps_bp, (std::vector<std::uint32_t>{200, 1000, 10000}));
    EXPECT_EQ(rec.settings.bake, 30s);
    EXPECT_EQ(rec.settings.max_hold, RampSettings{}.max_hold);  // from the config
    EXPECT_EQ(ramp_weight_bp(rec), 200u);
    EXPECT_EQ(d.state.window, 1u);
    EXPECT_TRUE(r.forced.empty());
}

TEST(RampTest, StartTakesTheConfigDefaults) {
    Driver d;
    d.defaults.steps_bp = {1000, 5000, 10000};
    d.defaults.bake = 5s;
    d.defaults.promote = PromoteMode::manual;
    d.defaults.failure_limit = 3;
    RampCommand c = command(Kind::start, "green");
    ASSERT_TRUE(d.apply(c, at(0s)).ok);
    EXPECT_EQ(d.record().settings, d.defaults);
}

TEST(RampTest, StartRefusalsChangeNothing) {
    struct Case {
        const char* name;
        Named before;
        RampCommand command;
        GateResult health;
        std::string error;
    };
    RampCommand bad_steps = start("green", {500, 100});
    RampCommand lone = start("green", {10000});
    RampCommand forced_running = start("red");
    forced_running.force = true;
    const std::string in_progress = "ramp abort first";
    const Case cases[] = {
        {"unknown pool", Named::none, start("orange"), healthy(), "pool orange does not exist"},
        {"active pool", Named::none, start("blue"), healthy(), "pool blue is the active pool"},
        {"not ascending", Named::none, bad_steps, healthy(), "steps must be ascending: 1 after 5"},
        {"lone 100", Named::none, lone, healthy(),
         "steps need one below 100 (a step of 100 is the promotion; to promote at once, use "
         "switch)"},
        {"running", Named::running, start("red"), healthy(),
         "a ramp of green is already in progress (running); ramp abort first"},
        {"holding", Named::holding, start("green"), healthy(),
         "a ramp of green is already in progress (holding); ramp abort first"},
        {"paused", Named::paused, start("red"), healthy(),
         "a ramp of green is already in progress (paused); ramp abort first"},
        {"waiting", Named::waiting, start("red"), healthy(),
         "a ramp of green is already in progress (paused); ramp abort first"},
        {"running, force", Named::running, forced_running, healthy(),
         "a ramp of green is already in progress (running); ramp abort first"},
        {"health gate", Named::none, start("green"), unhealthy(),
         unhealthy().message + "; nothing changed (add force to override)"},
        {"unacknowledged abort", Named::aborted_auto, start("green"), healthy(),
         "pool green was aborted automatically and the abort is not acknowledged (2 failing "
         "judgements in a row: "},
    };
    for (const Case& c : cases) {
        Driver d = make(c.before);
        const RolloutState before = d.state;
        const RampResult r = d.apply(c.command, at(100s), c.health);
        EXPECT_FALSE(r.ok) << c.name;
        EXPECT_EQ(r.error.rfind(c.error, 0), 0u) << c.name << ": " << r.error;
        EXPECT_FALSE(r.changed) << c.name;
        EXPECT_EQ(snapshot(r.next), snapshot(before)) << c.name;
        EXPECT_EQ(r.next.window, before.window) << c.name;
        EXPECT_EQ(r.effects.persist, PersistOrder::none) << c.name;
        EXPECT_FALSE(r.effects.canary_weight_bp) << c.name;
        EXPECT_TRUE(r.effects.events.empty()) << c.name;
    }
    // The unacknowledged abort's message ends with the way out.
    Driver d = make(Named::aborted_auto);
    const std::string error = d.apply(start("green"), at(100s)).error;
    EXPECT_NE(error.find("); ramp ack first, or add force"), std::string::npos) << error;
}

TEST(RampTest, StartIsAllowedAfterAFinishedRamp) {
    for (Named n : {Named::none, Named::aborted_cmd, Named::promoted}) {
        Driver d = make(n);
        const RampResult r = d.apply(start("red"), at(100s));
        EXPECT_TRUE(r.ok) << name_of(n) << ": " << r.error;
        EXPECT_EQ(d.record().pool, "red");
        EXPECT_EQ(d.record().state, RampState::running);
    }
    // Another pool's unacknowledged abort does not block this one, and stays.
    Driver d = make(Named::aborted_auto);
    ASSERT_TRUE(d.apply(start("red"), at(100s)).ok);
    ASSERT_EQ(d.state.unacknowledged_aborts.size(), 1u);
    EXPECT_EQ(d.state.unacknowledged_aborts[0].pool, "green");
}

TEST(RampTest, ForceOverridesTheHealthGateAndAnUnacknowledgedAbort) {
    Driver d = make(Named::aborted_auto);
    RampCommand c = start("green");
    c.force = true;
    const RampResult r = d.apply(c, at(100s), unhealthy());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.forced.rfind("past the unacknowledged abort of green (2 failing judgements", 0), 0u)
        << r.forced;
    EXPECT_NE(r.forced.find("; past the health gate: " + unhealthy().message), std::string::npos)
        << r.forced;
    EXPECT_NE(r.effects.events[0].reason.find("; forced past the unacknowledged abort"),
              std::string::npos);
    // Only `ramp ack` clears the abort.
    EXPECT_EQ(d.state.unacknowledged_aborts.size(), 1u);
}

// ---- pause, resume, promote, abort, ack in every state ----

enum class Outcome { refused, unchanged, changed };

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::start:
            return "start";
        case Kind::pause:
            return "pause";
        case Kind::resume:
            return "resume";
        case Kind::promote:
            return "promote";
        case Kind::abort:
            return "abort";
        case Kind::ack:
            return "ack";
    }
    return "?";
}

struct CommandCase {
    Named before;
    Kind kind;
    Outcome outcome;
    RampState after;     // when changed or unchanged with a ramp
    const char* reason;  // prefix of the ramp's reason (changed) or of the error (refused)
};

TEST(RampTest, CommandTable) {
    const CommandCase cases[] = {
        // pause
        {Named::none, Kind::pause, Outcome::refused, {}, "no ramp in progress"},
        {Named::running, Kind::pause, Outcome::changed, RampState::paused, "paused by ramp pause"},
        {Named::holding, Kind::pause, Outcome::changed, RampState::paused, "paused by ramp pause"},
        {Named::paused, Kind::pause, Outcome::unchanged, RampState::paused, "paused by ramp pause"},
        {Named::waiting, Kind::pause, Outcome::unchanged, RampState::paused,
         "waiting for ramp promote"},
        {Named::aborted_auto,
         Kind::pause,
         Outcome::refused,
         {},
         "no ramp in progress (the ramp of green was aborted: 2 failing judgements in a row"},
        {Named::aborted_cmd,
         Kind::pause,
         Outcome::refused,
         {},
         "no ramp in progress (the ramp of green was aborted: aborted by ramp abort)"},
        {Named::promoted,
         Kind::pause,
         Outcome::refused,
         {},
         "no ramp in progress (the ramp of green was promoted)"},
        // resume
        {Named::none, Kind::resume, Outcome::refused, {}, "no ramp in progress"},
        {Named::running, Kind::resume, Outcome::unchanged, RampState::running, "step 1 of 5"},
        {Named::holding, Kind::resume, Outcome::unchanged, RampState::holding, "canary has 10"},
        {Named::paused, Kind::resume, Outcome::changed, RampState::running,
         "resumed by ramp resume at step 1 of 5 (1.00 %)"},
        {Named::waiting, Kind::resume, Outcome::changed, RampState::running,
         "resumed by ramp resume at step 1 of 2 (1.00 %)"},
        {Named::aborted_auto, Kind::resume, Outcome::refused, {}, "no ramp in progress"},
        {Named::aborted_cmd, Kind::resume, Outcome::refused, {}, "no ramp in progress"},
        {Named::promoted, Kind::resume, Outcome::refused, {}, "no ramp in progress"},
        // promote
        {Named::none, Kind::promote, Outcome::refused, {}, "no ramp in progress"},
        {Named::running, Kind::promote, Outcome::changed, RampState::promoted,
         "promoted by ramp promote at step 1 of 5 (1.00 %)"},
        {Named::holding, Kind::promote, Outcome::changed, RampState::promoted,
         "promoted by ramp promote at step 1 of 5 (1.00 %)"},
        {Named::paused, Kind::promote, Outcome::changed, RampState::promoted,
         "promoted by ramp promote"},
        {Named::waiting, Kind::promote, Outcome::changed, RampState::promoted,
         "promoted by ramp promote at step 1 of 2 (1.00 %)"},
        {Named::aborted_auto, Kind::promote, Outcome::refused, {}, "no ramp in progress"},
        {Named::aborted_cmd, Kind::promote, Outcome::refused, {}, "no ramp in progress"},
        {Named::promoted, Kind::promote, Outcome::refused, {}, "no ramp in progress"},
        // abort
        {Named::none, Kind::abort, Outcome::refused, {}, "no ramp in progress"},
        {Named::running, Kind::abort, Outcome::changed, RampState::aborted,
         "aborted by ramp abort"},
        {Named::holding, Kind::abort, Outcome::changed, RampState::aborted,
         "aborted by ramp abort"},
        {Named::paused, Kind::abort, Outcome::changed, RampState::aborted, "aborted by ramp abort"},
        {Named::waiting, Kind::abort, Outcome::changed, RampState::aborted,
         "aborted by ramp abort"},
        {Named::aborted_auto,
         Kind::abort,
         Outcome::refused,
         {},
         "no ramp in progress (the ramp of green was aborted"},
        {Named::aborted_cmd, Kind::abort, Outcome::refused, {}, "no ramp in progress"},
        {Named::promoted, Kind::abort, Outcome::refused, {}, "no ramp in progress"},
        // ack: nothing to acknowledge is not an error
        {Named::none, Kind::ack, Outcome::unchanged, {}, ""},
        {Named::running, Kind::ack, Outcome::unchanged, RampState::running, ""},
        {Named::aborted_cmd, Kind::ack, Outcome::unchanged, RampState::aborted, ""},
        {Named::aborted_auto, Kind::ack, Outcome::changed, RampState::aborted,
         "2 failing judgements in a row"},
        {Named::promoted, Kind::ack, Outcome::unchanged, RampState::promoted, ""},
    };
    for (const CommandCase& c : cases) {
        Driver d = make(c.before);
        const RolloutState before = d.state;
        const RampResult r = d.apply(command(c.kind), at(100s));
        const std::string label = std::string(name_of(c.before)) + " / ramp " + kind_name(c.kind);
        switch (c.outcome) {
            case Outcome::refused:
                EXPECT_FALSE(r.ok) << label;
                EXPECT_EQ(r.error.rfind(c.reason, 0), 0u) << label << ": " << r.error;
                EXPECT_EQ(snapshot(r.next), snapshot(before)) << label;
                EXPECT_EQ(r.effects.persist, PersistOrder::none) << label;
                break;
            case Outcome::unchanged:
                EXPECT_TRUE(r.ok) << label << ": " << r.error;
                EXPECT_FALSE(r.changed) << label;
                EXPECT_EQ(snapshot(r.next), snapshot(before)) << label;
                EXPECT_EQ(r.effects.persist, PersistOrder::none) << label;
                EXPECT_TRUE(r.effects.events.empty()) << label;
                break;
            case Outcome::changed:
                EXPECT_TRUE(r.ok) << label << ": " << r.error;
                EXPECT_TRUE(r.changed) << label;
                EXPECT_NE(r.effects.persist, PersistOrder::none) << label;
                break;
        }
        if (c.outcome != Outcome::refused && d.state.ramp) {
            EXPECT_EQ(d.record().state, c.after) << label;
            EXPECT_EQ(d.record().reason.rfind(c.reason, 0), 0u)
                << label << ": " << d.record().reason;
        }
    }
}

TEST(RampTest, PauseEffects) {
    Driver d = make(Named::running);
    const RampResult r = d.apply(command(Kind::pause), at(10s));
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_FALSE(r.effects.canary_weight_bp);  // the weight stays
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::paused);
    EXPECT_EQ(r.effects.events[0].weight_bp, 100u);
    EXPECT_EQ(ramp_weight_bp(d.record()), 100u);
}

TEST(RampTest, ResumeContinuesTheStepAndSaysSo) {
    Driver d = make(Named::paused);
    const RampResult r = d.apply(command(Kind::resume), at(30s));
    EXPECT_EQ(d.record().step_start, at(0s));  // the bake is not restarted
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_FALSE(r.effects.canary_weight_bp);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::step);  // no "resumed" event type
    EXPECT_EQ(bake_left(*d.state.ramp, at(30s)), 30s);
}

TEST(RampTest, RampPromoteSkipsTheRemainingStepsAndIsHealthGated) {
    Driver d = make(Named::running);
    RampResult r = d.apply(command(Kind::promote), at(10s), unhealthy());
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, unhealthy().message + "; nothing changed (add force to override)");
    EXPECT_EQ(d.record().state, RampState::running);

    RampCommand forced = command(Kind::promote);
    forced.force = true;
    r = d.apply(forced, at(10s), unhealthy());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.forced, "past the health gate: " + unhealthy().message);
    EXPECT_EQ(r.effects.switch_to, "green");
    EXPECT_FALSE(r.effects.canary_weight_bp);
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::promoted);
    EXPECT_EQ(r.effects.events[0].weight_bp, 10000u);
    EXPECT_EQ(ramp_weight_bp(d.record()), 10000u);
}

TEST(RampTest, RampAbortIsWeightZeroPublishedFirstAndLeavesNoBlock) {
    Driver d = make(Named::running);
    const RampResult r = d.apply(command(Kind::abort), at(10s), unhealthy());  // never gated
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(r.effects.persist, PersistOrder::after_publish);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::aborted);
    EXPECT_EQ(r.effects.events[0].weight_bp, 0u);
    EXPECT_EQ(r.effects.events[0].reason, "aborted by ramp abort");
    EXPECT_EQ(d.record().abort_cause, AbortCause::command);
    EXPECT_TRUE(d.state.unacknowledged_aborts.empty());
    EXPECT_EQ(ramp_weight_bp(d.record()), 0u);
}

TEST(RampTest, AckClearsOnePoolOrAll) {
    Driver d = make(Named::aborted_auto);
    ASSERT_TRUE(d.apply(start("red"), at(100s)).ok);
    d.tick(at(101s), failing());
    d.tick(at(102s), failing());
    ASSERT_EQ(d.state.unacknowledged_aborts.size(), 2u);
    EXPECT_EQ(d.state.unacknowledged_aborts[1].pool, "red");
    EXPECT_EQ(d.state.unacknowledged_aborts[1].at, at(102s));

    RampResult r = d.apply(command(Kind::ack, "orange"), at(103s));
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(r.changed);
    r = d.apply(command(Kind::ack, "green"), at(103s));
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_TRUE(r.effects.events.empty());
    ASSERT_EQ(d.state.unacknowledged_aborts.size(), 1u);
    EXPECT_EQ(d.state.unacknowledged_aborts[0].pool, "red");
    EXPECT_TRUE(d.apply(start("green"), at(104s)).ok);
    EXPECT_TRUE(d.apply(command(Kind::abort), at(105s)).ok);
    r = d.apply(command(Kind::ack), at(106s));
    EXPECT_TRUE(r.changed);
    EXPECT_TRUE(d.state.unacknowledged_aborts.empty());
}

// ---- Ticks ----

TEST(RampTest, StepAdvancesWhenBakedAndPassed) {
    Driver d = make(Named::running);
    // Passing before the bake is over: no advance.
    RampResult r = d.tick(at(59s), passing());
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.effects.persist, PersistOrder::none);
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(d.record().reason.rfind("pass: canary 0.00 % (0 of 200)", 0), 0u)
        << d.record().reason;
    EXPECT_EQ(bake_left(*d.state.ramp, at(59s)), 1s);
    // Baked and passing: step 2.
    r = d.tick(at(60s), passing());
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.effects.canary_weight_bp, 500u);
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_EQ(r.effects.new_window, 2u);
    ASSERT_EQ(r.effects.events.size(), 1u);
    const RampEvent& e = r.effects.events[0];
    EXPECT_EQ(e.type, RampEventType::step);
    EXPECT_EQ(e.step, 1u);
    EXPECT_EQ(e.weight_bp, 500u);
    EXPECT_EQ(e.reason.rfind("step 2 of 5 (5.00 %): 1.00 % passed: canary 0.00 % (0 of 200)", 0),
              0u)
        << e.reason;
    ASSERT_TRUE(e.judgement);
    EXPECT_EQ(e.judgement->verdict, Verdict::pass);
    EXPECT_EQ(d.record().step, 1u);
    EXPECT_EQ(d.record().step_start, at(60s));
    EXPECT_EQ(d.record().reason, "step 2 of 5 (5.00 %)");
    EXPECT_EQ(d.state.window, 2u);
    EXPECT_EQ(bake_left(*d.state.ramp, at(60s)), 60s);
}

TEST(RampTest, WholeRampToAutomaticPromotion) {
    Driver d = make(Named::running);
    const std::uint32_t expected[] = {500, 2500, 5000};
    for (int i = 0; i < 3; ++i) {
        const RampResult r = d.tick(at(std::chrono::seconds(60 * (i + 1))), passing());
        ASSERT_EQ(r.effects.canary_weight_bp, expected[i]) << i;
    }
    EXPECT_EQ(d.record().step, 3u);
    // The step before 100 passes: the promotion, not a weight of 100.
    const RampResult r = d.tick(at(240s), passing());
    EXPECT_TRUE(r.changed);
    EXPECT_FALSE(r.effects.canary_weight_bp);
    EXPECT_EQ(r.effects.switch_to, "green");
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::promoted);
    EXPECT_EQ(r.effects.events[0].weight_bp, 10000u);
    EXPECT_EQ(d.record().state, RampState::promoted);
    EXPECT_EQ(d.record().reason.rfind("promoted: 50.00 % passed: canary", 0), 0u);
    // Further ticks change nothing.
    const RampResult after = d.tick(at(300s), failing());
    EXPECT_FALSE(after.changed);
    EXPECT_EQ(after.effects.persist, PersistOrder::none);
}

TEST(RampTest, ManualPromotionWaitsPausedThenRampPromote) {
    Driver d;
    ASSERT_TRUE(d.apply(start("green", {100, 5000, 10000}, PromoteMode::manual), at(0s)).ok);
    d.tick(at(60s), passing());
    ASSERT_EQ(d.record().step, 1u);
    const RampResult r = d.tick(at(120s), passing());
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(d.record().state, RampState::paused);
    EXPECT_EQ(d.record().reason, "waiting for ramp promote");
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_FALSE(r.effects.canary_weight_bp);
    EXPECT_EQ(r.effects.switch_to, "");
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::paused);
    EXPECT_EQ(r.effects.events[0].reason.rfind("waiting for ramp promote: 50.00 % passed", 0), 0u);
    EXPECT_EQ(ramp_weight_bp(d.record()), 5000u);
    // Waiting, it is still judged: passes change nothing, failures abort.
    EXPECT_FALSE(d.tick(at(200s), passing()).changed);
    EXPECT_EQ(d.record().state, RampState::paused);
    const RampResult p = d.apply(command(Kind::promote), at(300s));
    EXPECT_EQ(p.effects.switch_to, "green");
    EXPECT_EQ(d.record().state, RampState::promoted);
}

TEST(RampTest, StepsEndingBelowOneHundredEndTheSameWay) {
    for (PromoteMode mode : {PromoteMode::automatic, PromoteMode::manual}) {
        Driver d;
        ASSERT_TRUE(d.apply(start("green", {100, 2000}, mode), at(0s)).ok);
        d.tick(at(60s), passing());
        ASSERT_EQ(d.record().step, 1u);
        const RampResult r = d.tick(at(120s), passing());
        if (mode == PromoteMode::automatic) {
            EXPECT_EQ(r.effects.switch_to, "green");
            EXPECT_EQ(d.record().state, RampState::promoted);
        } else {
            EXPECT_EQ(r.effects.switch_to, "");
            EXPECT_EQ(d.record().state, RampState::paused);
            EXPECT_EQ(d.record().reason, "waiting for ramp promote");
        }
    }
}

TEST(RampTest, FailureLimitFailingJudgementsInARowAbort) {
    Driver d = make(Named::running);
    RampResult r = d.tick(at(5s), failing());
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(d.record().reason.rfind("1 of 2 failing judgements: error rate: canary 20.00 %", 0),
              0u)
        << d.record().reason;
    EXPECT_EQ(d.state.ramp->consecutive_failures, 1u);
    // The second aborts at once, bake or not.
    r = d.tick(at(6s), failing());
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(r.effects.persist, PersistOrder::after_publish);
    ASSERT_EQ(r.effects.events.size(), 1u);
    const RampEvent& e = r.effects.events[0];
    EXPECT_EQ(e.type, RampEventType::aborted);
    EXPECT_EQ(e.weight_bp, 0u);
    ASSERT_TRUE(e.judgement);
    EXPECT_EQ(e.judgement->rule, AnalysisRule::error_increase);
    const std::string reason = d.record().reason;
    EXPECT_EQ(reason.rfind("2 failing judgements in a row: error rate: canary 20.00 % (40 of 200) "
                           "vs baseline 0.10 % (2 of 2000)",
                           0),
              0u)
        << reason;
    EXPECT_EQ(d.record().state, RampState::aborted);
    EXPECT_EQ(d.record().abort_cause, AbortCause::analysis);
    ASSERT_EQ(d.state.unacknowledged_aborts.size(), 1u);
    EXPECT_EQ(d.state.unacknowledged_aborts[0].pool, "green");
    EXPECT_EQ(d.state.unacknowledged_aborts[0].reason, reason);
}

TEST(RampTest, AbortIsNeverHeldByTheHealthGate) {
    Driver d = make(Named::running);
    d.tick(at(5s), failing(), unhealthy());
    const RampResult r = d.tick(at(6s), failing(), unhealthy());
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(d.record().state, RampState::aborted);
}

TEST(RampTest, ConsecutiveFailureCountingTable) {
    struct Case {
        const char* name;
        std::uint32_t limit;
        std::vector<Verdict> verdicts;
        bool aborted;
    };
    using V = Verdict;
    const Case cases[] = {
        {"one fail", 2, {V::fail}, false},
        {"two fails", 2, {V::fail, V::fail}, true},
        {"inconclusive neither counts nor resets", 2, {V::fail, V::inconclusive, V::fail}, true},
        {"inconclusive does not count", 2, {V::inconclusive, V::inconclusive, V::fail}, false},
        {"pass resets", 2, {V::fail, V::pass, V::fail}, false},
        {"limit 1", 1, {V::fail}, true},
        {"limit 0 counts as 1", 0, {V::fail}, true},
        {"limit 3", 3, {V::fail, V::fail, V::pass, V::fail, V::fail}, false},
        {"limit 3 reached", 3, {V::fail, V::inconclusive, V::fail, V::fail}, true},
    };
    for (const Case& c : cases) {
        Driver d;
        d.defaults.failure_limit = c.limit;
        d.defaults.bake = 1h;  // nothing advances meanwhile
        ASSERT_TRUE(d.apply(start(), at(0s)).ok);
        int second = 1;
        for (Verdict v : c.verdicts) {
            const CanaryJudgement j = v == V::fail   ? failing()
                                      : v == V::pass ? passing()
                                                     : no_data();
            d.tick(at(std::chrono::seconds(second++)), j);
        }
        EXPECT_EQ(d.record().state == RampState::aborted, c.aborted) << c.name;
    }
}

TEST(RampTest, PausedRampIsStillJudgedAndAbortedButNeverAdvances) {
    Driver d = make(Named::paused);
    EXPECT_FALSE(d.tick(at(100s), passing()).changed);
    EXPECT_FALSE(d.tick(at(101s), no_data()).changed);
    EXPECT_EQ(d.record().state, RampState::paused);
    EXPECT_EQ(d.record().reason, "paused by ramp pause");
    d.tick(at(102s), failing());
    EXPECT_EQ(d.record().state, RampState::paused);
    const RampResult r = d.tick(at(103s), failing());
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(d.record().state, RampState::aborted);
    EXPECT_EQ(d.record().abort_cause, AbortCause::analysis);
}

TEST(RampTest, InconclusiveBeforeTheBakeIsRunningAfterItHolding) {
    Driver d = make(Named::running);
    RampResult r = d.tick(at(10s), no_data());
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(d.record().reason, "canary has 10 of 50 requests needed");
    EXPECT_TRUE(r.effects.events.empty());
    r = d.tick(at(60s), no_data());
    EXPECT_FALSE(r.changed);  // not persisted
    EXPECT_EQ(r.effects.persist, PersistOrder::none);
    EXPECT_EQ(d.record().state, RampState::holding);
    EXPECT_EQ(d.record().reason, "canary has 10 of 50 requests needed");
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::holding);
    EXPECT_EQ(r.effects.events[0].reason, "canary has 10 of 50 requests needed");
    // Still holding: no second event; the hold time grows.
    r = d.tick(at(90s), no_data());
    EXPECT_TRUE(r.effects.events.empty());
    EXPECT_EQ(hold_time(*d.state.ramp, at(90s)), 30s);
    EXPECT_EQ(bake_left(*d.state.ramp, at(90s)), 0s);
    // Data arrives and passes: the step advances.
    r = d.tick(at(95s), passing());
    EXPECT_EQ(r.effects.canary_weight_bp, 500u);
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(hold_time(*d.state.ramp, at(95s)), 0s);
}

TEST(RampTest, AFailureBelowTheLimitEndsAHold) {
    Driver d = make(Named::holding);
    d.tick(at(70s), failing());
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(d.record().reason.rfind("1 of 2 failing judgements", 0), 0u);
}

struct NoDataCase {
    OnNoData action;
    RampState after;
    const char* reason;
    std::optional<std::uint32_t> weight;
};

TEST(RampTest, MaxHoldDecidesByOnNoData) {
    const NoDataCase cases[] = {
        {OnNoData::pause, RampState::paused,
         "no verdict for 10m (canary has 10 of 50 requests needed)", std::nullopt},
        {OnNoData::abort, RampState::aborted,
         "no verdict for 10m (canary has 10 of 50 requests needed)", 0},
        {OnNoData::advance, RampState::running, "step 2 of 5 (5.00 %)", 500},
    };
    for (const NoDataCase& c : cases) {
        Driver d;
        d.defaults.on_no_data = c.action;
        ASSERT_TRUE(d.apply(start(), at(0s)).ok);
        d.tick(at(60s), no_data());  // holding from here
        RampResult r = d.tick(at(60s + 599s), no_data());
        EXPECT_FALSE(r.changed) << to_string(c.action);
        EXPECT_EQ(d.record().state, RampState::holding);
        r = d.tick(at(660s), no_data());  // 10 min without a verdict
        EXPECT_TRUE(r.changed) << to_string(c.action);
        EXPECT_EQ(d.record().state, c.after) << to_string(c.action);
        EXPECT_EQ(d.record().reason, c.reason) << to_string(c.action);
        EXPECT_EQ(r.effects.canary_weight_bp, c.weight) << to_string(c.action);
    }
}

TEST(RampTest, NoDataAbortLeavesAnUnacknowledgedAbort) {
    Driver d;
    d.defaults.on_no_data = OnNoData::abort;
    d.defaults.max_hold = 0s;
    ASSERT_TRUE(d.apply(start(), at(0s)).ok);
    const RampResult r = d.tick(at(60s), no_data());
    EXPECT_EQ(r.effects.persist, PersistOrder::after_publish);
    EXPECT_EQ(d.record().abort_cause, AbortCause::no_data);
    ASSERT_EQ(d.state.unacknowledged_aborts.size(), 1u);
}

TEST(RampTest, AdvanceOnNoDataWithoutMaxHoldIsBakeTimeAlone) {
    Driver d;
    d.defaults.on_no_data = OnNoData::advance;
    d.defaults.max_hold = 0s;
    d.defaults.bake = 10s;
    ASSERT_TRUE(d.apply(start("green", {1000, 5000, 10000}), at(0s)).ok);
    EXPECT_FALSE(d.tick(at(9s), no_data()).changed);
    RampResult r = d.tick(at(10s), no_data());
    EXPECT_EQ(r.effects.canary_weight_bp, 5000u);
    EXPECT_EQ(r.effects.events[0].reason,
              "step 2 of 3 (50.00 %): no verdict for 0s (canary has 10 of 50 requests needed); "
              "advancing on bake time alone");
    r = d.tick(at(20s), no_data());
    EXPECT_EQ(r.effects.switch_to, "green");
    // Failures still abort an advancing ramp.
    Driver e;
    e.defaults = d.defaults;
    ASSERT_TRUE(e.apply(start(), at(0s)).ok);
    e.tick(at(1s), failing());
    e.tick(at(2s), failing());
    EXPECT_EQ(e.record().state, RampState::aborted);
}

TEST(RampTest, AVerdictRestartsTheWaitForMaxHold) {
    Driver d;
    d.defaults.max_hold = 60s;
    d.defaults.bake = 1h;
    ASSERT_TRUE(d.apply(start(), at(0s)).ok);
    // Before the bake is over nothing is a hold.
    d.tick(at(3599s), no_data());
    EXPECT_EQ(d.record().state, RampState::running);
    d.tick(at(3600s), no_data());
    EXPECT_EQ(d.record().state, RampState::holding);
    d.tick(at(3630s), failing());  // a verdict
    d.tick(at(3640s), no_data());  // inconclusive again: a new wait
    d.tick(at(3690s), no_data());
    EXPECT_EQ(d.record().state, RampState::holding);
    d.tick(at(3700s), no_data());
    EXPECT_EQ(d.record().state, RampState::paused);
}

TEST(RampTest, FailingHealthGateHoldsIncreasesButNotAborts) {
    Driver d = make(Named::running);
    RampResult r = d.tick(at(60s), passing(), unhealthy());
    EXPECT_FALSE(r.effects.canary_weight_bp);
    EXPECT_EQ(d.record().state, RampState::holding);
    EXPECT_EQ(d.record().reason, "health gate: " + unhealthy().message);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::holding);
    r = d.tick(at(61s), passing(), healthy());
    EXPECT_EQ(r.effects.canary_weight_bp, 500u);
}

TEST(RampTest, JudgementsOfAnotherWindowAreIgnored) {
    Driver d = make(Named::running);
    d.tick(at(60s), passing());  // step 2, window 2
    ASSERT_EQ(d.state.window, 2u);
    RampTick stale;
    stale.now = at(61s);
    stale.window = 1;
    stale.judgement = failing();
    for (int i = 0; i < 3; ++i) {
        const RampResult r = tick_ramp(d.state, stale);
        EXPECT_FALSE(r.changed);
        EXPECT_EQ(r.next.ramp->consecutive_failures, 0u);
        EXPECT_TRUE(r.next.ramp->recent.size() == d.state.ramp->recent.size());
        d.keep(r);
    }
    EXPECT_EQ(d.record().state, RampState::running);
}

TEST(RampTest, RecentVerdictsAreKeptBounded) {
    Driver d;
    d.defaults.bake = 1h;
    ASSERT_TRUE(d.apply(start(), at(0s)).ok);
    for (int i = 0; i < 25; ++i)
        d.tick(at(std::chrono::seconds(i + 1)), i % 2 ? passing() : no_data());
    EXPECT_EQ(d.state.ramp->recent.size(), kRecentVerdicts);
    EXPECT_EQ(d.state.ramp->recent.back().verdict, Verdict::inconclusive);  // i = 24
}

TEST(RampTest, TicksWithoutARampChangeNothing) {
    for (Named n : {Named::none, Named::aborted_auto, Named::aborted_cmd, Named::promoted}) {
        Driver d = make(n);
        const RolloutState before = d.state;
        const RampResult r = d.tick(at(1000s), failing());
        EXPECT_FALSE(r.changed) << name_of(n);
        EXPECT_EQ(snapshot(r.next), snapshot(before)) << name_of(n);
        EXPECT_EQ(r.effects.persist, PersistOrder::none) << name_of(n);
        EXPECT_TRUE(r.effects.events.empty()) << name_of(n);
    }
}

TEST(RampTest, AClockThatStepsBackCountsAsNoTime) {
    Driver d = make(Named::running);
    const RampResult r = d.tick(at(-3600s), passing());
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(bake_left(*d.state.ramp, at(-3600s)), 60s);
}

// ---- gate_url ----

Driver gated() {
    Driver d;
    d.defaults.gate = true;
    d.defaults.gate_retry = 30s;
    EXPECT_TRUE(d.apply(start(), at(0s)).ok);
    return d;
}

TEST(RampTest, GateIsAskedBeforeEachIncrease) {
    Driver d = gated();
    RampResult r = d.tick(at(60s), passing());
    EXPECT_FALSE(r.changed);
    EXPECT_FALSE(r.effects.canary_weight_bp);
    ASSERT_TRUE(r.effects.ask_gate);
    EXPECT_EQ(r.effects.ask_gate->type, RampEventType::step);
    EXPECT_EQ(r.effects.ask_gate->step, 1u);
    EXPECT_EQ(r.effects.ask_gate->weight_bp, 500u);
    EXPECT_EQ(r.effects.ask_gate->reason.rfind("asking to go to step 2 of 5 (5.00 %)", 0), 0u);
    EXPECT_EQ(d.record().state, RampState::running);
    EXPECT_EQ(d.record().reason, "asking the gate for step 2 of 5 (5.00 %)");
    // Asked once, not on every judgement.
    r = d.tick(at(61s), passing());
    EXPECT_FALSE(r.effects.ask_gate);
    r = d.answer(at(62s), true, "ok");
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.effects.canary_weight_bp, 500u);
    EXPECT_EQ(r.effects.persist, PersistOrder::before_publish);
    EXPECT_EQ(r.effects.events[0].reason.rfind("step 2 of 5 (5.00 %): gate allowed step 2", 0), 0u)
        << r.effects.events[0].reason;
    EXPECT_EQ(d.record().step_start, at(62s));
}

TEST(RampTest, GateRefusalHoldsAndIsAskedAgainLater) {
    Driver d = gated();
    d.tick(at(60s), passing());
    RampResult r = d.answer(at(61s), false, "HTTP 409: migration 42 not applied");
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(d.record().state, RampState::holding);
    EXPECT_EQ(d.record().reason,
              "gate refused step 2 of 5 (5.00 %): HTTP 409: migration 42 not applied");
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::holding);
    // Not asked again before gate_retry; a refusal is not "no data".
    r = d.tick(at(90s), passing());
    EXPECT_FALSE(r.effects.ask_gate);
    EXPECT_EQ(d.record().state, RampState::holding);
    EXPECT_EQ(d.record().reason.rfind("gate refused", 0), 0u);
    EXPECT_FALSE(d.state.ramp->no_verdict_since);
    r = d.tick(at(91s), passing());
    EXPECT_TRUE(r.effects.ask_gate);
    r = d.answer(at(92s), true, "");
    EXPECT_EQ(r.effects.canary_weight_bp, 500u);
}

TEST(RampTest, GateAnswerIsMootAfterAFailurePauseOrAbort) {
    {
        Driver d = gated();
        d.tick(at(60s), passing());
        d.tick(at(61s), failing());
        const RampResult r = d.answer(at(62s), true, "ok");
        EXPECT_FALSE(r.changed);
        EXPECT_FALSE(r.effects.canary_weight_bp);
        // Passing again asks again.
        EXPECT_TRUE(d.tick(at(63s), passing()).effects.ask_gate);
    }
    {
        Driver d = gated();
        d.tick(at(60s), passing());
        d.apply(command(Kind::pause), at(61s));
        EXPECT_FALSE(d.answer(at(62s), true, "ok").changed);
        EXPECT_EQ(d.record().state, RampState::paused);
    }
    {
        Driver d = gated();
        d.tick(at(60s), passing());
        d.apply(command(Kind::abort), at(61s));
        EXPECT_FALSE(d.answer(at(62s), true, "ok").changed);
        EXPECT_EQ(d.record().state, RampState::aborted);
    }
    {
        Driver d = gated();  // nothing asked
        const RampResult r = d.answer(at(5s), true, "ok");
        EXPECT_FALSE(r.changed);
        EXPECT_EQ(d.record().step, 0u);
    }
}

TEST(RampTest, AbortIsNeverDelayedByAPendingGate) {
    Driver d = gated();
    d.tick(at(60s), passing());
    ASSERT_TRUE(d.state.ramp->gate_asked_for);
    d.tick(at(61s), failing());
    const RampResult r = d.tick(at(62s), failing());
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(d.record().state, RampState::aborted);
}

TEST(RampTest, GateIsAskedBeforeTheAutomaticPromotion) {
    Driver d;
    d.defaults.gate = true;
    ASSERT_TRUE(d.apply(start("green", {100, 10000}), at(0s)).ok);
    RampResult r = d.tick(at(60s), passing());
    ASSERT_TRUE(r.effects.ask_gate);
    EXPECT_EQ(r.effects.ask_gate->type, RampEventType::promoted);
    EXPECT_EQ(r.effects.ask_gate->weight_bp, 10000u);
    EXPECT_EQ(d.record().reason, "asking the gate for the promotion");
    r = d.answer(at(61s), true, "approved by alice");
    EXPECT_EQ(r.effects.switch_to, "green");
    EXPECT_EQ(d.record().reason, "promoted: gate allowed the promotion: approved by alice");
}

// ---- The state file cannot be written ----

TEST(RampTest, AStepIsNotTakenWhenItsWriteFails) {
    Driver d = make(Named::running);
    const RampResult attempted = tick_ramp(d.state, {at(60s), d.state.window, passing(), {}});
    ASSERT_EQ(attempted.effects.persist, PersistOrder::before_publish);
    const RampResult r = persist_failed(attempted, "No space left on device");
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(r.changed);
    EXPECT_FALSE(r.effects.canary_weight_bp);
    EXPECT_FALSE(r.effects.new_window);
    EXPECT_EQ(r.effects.persist, PersistOrder::none);
    ASSERT_EQ(r.effects.events.size(), 1u);
    EXPECT_EQ(r.effects.events[0].type, RampEventType::holding);
    d.keep(r);
    EXPECT_EQ(d.record().step, 0u);
    EXPECT_EQ(d.state.window, 1u);
    EXPECT_EQ(d.record().state, RampState::holding);
    EXPECT_EQ(d.record().reason,
              "cannot write the state file: No space left on device; step 2 of 5 (5.00 %) not "
              "taken");
    // The next judgement tries again.
    const RampResult again = d.tick(at(61s), passing());
    EXPECT_EQ(again.effects.canary_weight_bp, 500u);
    EXPECT_EQ(d.record().step, 1u);
}

TEST(RampTest, APromotionIsNotDoneWhenItsWriteFails) {
    Driver d = make(Named::running);
    d.state.ramp->record.step = 3;
    const RampResult r =
        persist_failed(tick_ramp(d.state, {at(60s), d.state.window, passing(), {}}), "EIO");
    EXPECT_EQ(r.effects.switch_to, "");
    EXPECT_EQ(r.next.ramp->record.state, RampState::holding);
    EXPECT_EQ(r.next.ramp->record.reason, "cannot write the state file: EIO; promotion not done");
}

TEST(RampTest, AnAutomaticPauseThatCannotBeWrittenHolds) {
    Driver d = make(Named::running);
    d.state.ramp->record.settings.promote = PromoteMode::manual;
    d.state.ramp->record.step = 3;
    const RampResult r =
        persist_failed(tick_ramp(d.state, {at(60s), d.state.window, passing(), {}}), "EIO");
    EXPECT_EQ(r.next.ramp->record.state, RampState::holding);
    EXPECT_EQ(r.next.ramp->record.reason, "cannot write the state file: EIO; pause not written");
    EXPECT_EQ(r.effects.events.size(), 1u);  // holding, not paused
    EXPECT_EQ(r.effects.events[0].type, RampEventType::holding);
}

TEST(RampTest, AnAbortTakesEffectWhenItsWriteFails) {
    Driver d = make(Named::running);
    d.tick(at(5s), failing());
    const RampResult attempted = tick_ramp(d.state, {at(6s), d.state.window, failing(), {}});
    ASSERT_EQ(attempted.effects.persist, PersistOrder::after_publish);
    ASSERT_EQ(attempted.effects.canary_weight_bp, 0u);  // published before the write
    const RampResult r = persist_failed(attempted, "Read-only file system");
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.next.ramp->record.state, RampState::aborted);
    EXPECT_TRUE(r.next.persist_pending);
    EXPECT_EQ(r.next.persist_error, "Read-only file system");
    EXPECT_EQ(r.next.unacknowledged_aborts.size(), 1u);
    d.state = r.next;
    // Every tick asks for the write again until one succeeds.
    for (int i = 0; i < 3; ++i) {
        const RampResult t =
            tick_ramp(d.state, {at(std::chrono::seconds(7 + i)), 0, passing(), {}});
        EXPECT_EQ(t.effects.persist, PersistOrder::after_publish);
        EXPECT_FALSE(t.effects.canary_weight_bp);
        d.state = persist_failed(t, "Read-only file system").next;
        EXPECT_TRUE(d.state.persist_pending);
    }
    mark_persisted(d.state);
    EXPECT_FALSE(d.state.persist_pending);
    EXPECT_EQ(d.state.persist_error, "");
    EXPECT_EQ(tick_ramp(d.state, {at(20s), 0, passing(), {}}).effects.persist, PersistOrder::none);
}

TEST(RampTest, EmergencyStopTakesEffectWhenItsWriteFails) {
    Driver d = make(Named::running);
    RampCommand stop = command(Kind::abort);
    stop.origin = "canary green 0";
    const RampResult attempted = apply_ramp_command(d.state, stop, context(at(5s)));
    const RampResult r = persist_failed(attempted, "EIO");
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.next.ramp->record.state, RampState::aborted);
    EXPECT_EQ(r.next.ramp->record.reason, "aborted by canary green 0");
    EXPECT_TRUE(r.next.persist_pending);
}

TEST(RampTest, CommandsAreRefusedWhenTheirWriteFails) {
    struct Case {
        Named before;
        RampCommand command;
    };
    const Case cases[] = {
        {Named::none, start()},
        {Named::running, command(Kind::pause)},
        {Named::paused, command(Kind::resume)},
        {Named::running, command(Kind::promote)},
        {Named::aborted_auto, command(Kind::ack)},
    };
    for (const Case& c : cases) {
        Driver d = make(c.before);
        const RampResult attempted = apply_ramp_command(d.state, c.command, context(at(100s)));
        ASSERT_TRUE(attempted.ok) << name_of(c.before);
        ASSERT_EQ(attempted.effects.persist, PersistOrder::before_publish);
        const RampResult r = persist_failed(attempted, "EACCES");
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.error, "cannot write the state file: EACCES; nothing changed");
        EXPECT_EQ(snapshot(r.next), snapshot(d.state)) << name_of(c.before);
        EXPECT_EQ(r.next.window, d.state.window);
        EXPECT_TRUE(r.effects.events.empty());
        EXPECT_FALSE(r.effects.canary_weight_bp);
        EXPECT_EQ(r.effects.switch_to, "");
    }
}

// ---- Other routing commands ----

RoutingCommand routing(RoutingCommand::Kind kind, std::string pool = {}, std::uint32_t bp = 0,
                       bool force = false) {
    RoutingCommand c;
    c.kind = kind;
    c.pool = std::move(pool);
    c.weight_bp = bp;
    c.force = force;
    return c;
}

RuntimeState runtime(std::string canary, std::uint32_t bp, std::string previous = {}) {
    RuntimeState r;
    r.active = "blue";
    r.canary_pool = std::move(canary);
    r.canary_weight_bp = bp;
    r.previous = std::move(previous);
    return r;
}

TEST(RampTest, RoutingCommandsDuringARamp) {
    using RK = RoutingCommand::Kind;
    struct Case {
        RoutingCommand command;
        Action action;
        const char* reason;
    };
    const Case cases[] = {
        {routing(RK::switch_to, "green"), Action::refuse,
         "ramp in progress (green, STATE at step 1 of 5 (1.00 %)); ramp promote or ramp abort "
         "first"},
        {routing(RK::switch_to, "green", 0, true), Action::refuse, "ramp in progress"},
        {routing(RK::switch_to, "red"), Action::refuse,
         "ramp in progress (green, STATE at step 1 of 5 (1.00 %)); ramp abort first"},
        {routing(RK::switch_to, "blue"), Action::refuse, "ramp in progress"},
        {routing(RK::promote), Action::refuse,
         "ramp in progress (green, STATE at step 1 of 5 (1.00 %)); ramp promote or ramp abort "
         "first"},
        {routing(RK::canary, "green", 1000), Action::refuse, "ramp in progress"},
        {routing(RK::canary, "green", 1000, true), Action::refuse, "ramp in progress"},
        {routing(RK::canary, "red", 1), Action::refuse, "ramp in progress"},
        {routing(RK::canary, "green", 0), Action::abort_ramp, "canary green 0"},
        {routing(RK::canary, "red", 0), Action::abort_ramp, "canary red 0"},
        {routing(RK::rollback), Action::abort_ramp, "rollback"},
        {routing(RK::server_admin, "green"), Action::allow, ""},
    };
    for (Named n : {Named::running, Named::holding, Named::paused, Named::waiting}) {
        const Driver d = make(n);
        const std::string state(to_string(d.record().state));
        for (const Case& c : cases) {
            const RoutingCheck check =
                check_routing_command(d.state, runtime("green", 100), c.command);
            std::string expected = c.reason;
            if (auto pos = expected.find("STATE"); pos != std::string::npos)
                expected.replace(pos, 5, state);
            if (n == Named::waiting)  // a two-step ramp
                if (auto pos = expected.find("of 5"); pos != std::string::npos)
                    expected.replace(pos, 4, "of 2");
            EXPECT_EQ(check.action, c.action) << name_of(n) << " " << c.reason;
            EXPECT_EQ(check.reason.rfind(expected, 0), 0u)
                << name_of(n) << ": " << check.reason << " vs " << expected;
        }
    }
}

TEST(RampTest, EmergencyStopIsARampAbortWithItsOrigin) {
    Driver d = make(Named::holding);
    const RoutingCheck check = check_routing_command(d.state, runtime("green", 100),
                                                     routing(RoutingCommand::Kind::rollback));
    ASSERT_EQ(check.action, Action::abort_ramp);
    RampCommand stop = command(Kind::abort);
    stop.origin = check.reason;
    const RampResult r = d.apply(stop, at(70s), unhealthy());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.effects.canary_weight_bp, 0u);
    EXPECT_EQ(r.effects.persist, PersistOrder::after_publish);
    EXPECT_EQ(d.record().reason, "aborted by rollback");
    EXPECT_EQ(d.record().abort_cause, AbortCause::command);
    // A human stopped it: the pool is not blocked.
    EXPECT_TRUE(d.state.unacknowledged_aborts.empty());
    EXPECT_TRUE(d.apply(start(), at(80s)).ok);
}

TEST(RampTest, RoutingCommandsAfterAnUnacknowledgedAbort) {
    using RK = RoutingCommand::Kind;
    struct Case {
        const char* name;
        RuntimeState runtime;
        RoutingCommand command;
        Action action;
        bool forced;
    };
    const Case cases[] = {
        {"canary green 5", runtime("green", 0), routing(RK::canary, "green", 500), Action::refuse,
         false},
        {"canary green 5 force", runtime("green", 0), routing(RK::canary, "green", 500, true),
         Action::allow, true},
        {"canary green 0", runtime("green", 0), routing(RK::canary, "green", 0), Action::allow,
         false},
        {"canary red 5", runtime("green", 0), routing(RK::canary, "red", 500), Action::allow,
         false},
        {"switch green", runtime("green", 0), routing(RK::switch_to, "green"), Action::refuse,
         false},
        {"switch green force", runtime("green", 0), routing(RK::switch_to, "green", 0, true),
         Action::allow, true},
        {"switch red", runtime("green", 0), routing(RK::switch_to, "red"), Action::allow, false},
        {"switch blue (active)", runtime("green", 0), routing(RK::switch_to, "blue"), Action::allow,
         false},
        {"promote without canary weight", runtime("green", 0), routing(RK::promote), Action::allow,
         false},
        {"promote of a forced green canary", runtime("green", 500), routing(RK::promote),
         Action::refuse, false},
        {"promote of a forced green canary, force", runtime("green", 500),
         routing(RK::promote, {}, 0, true), Action::allow, true},
        {"promote of red", runtime("red", 500), routing(RK::promote), Action::allow, false},
        {"rollback to green", runtime("green", 0, "green"), routing(RK::rollback), Action::refuse,
         false},
        {"rollback to green, force", runtime("green", 0, "green"),
         routing(RK::rollback, {}, 0, true), Action::allow, true},
        {"rollback to red", runtime("green", 0, "red"), routing(RK::rollback), Action::allow,
         false},
        {"rollback of a canary", runtime("red", 500, "green"), routing(RK::rollback), Action::allow,
         false},
        {"rollback with nothing", runtime("green", 0), routing(RK::rollback), Action::allow, false},
        {"server", runtime("green", 0), routing(RK::server_admin, "green"), Action::allow, false},
    };
    const Driver d = make(Named::aborted_auto);
    for (const Case& c : cases) {
        const RoutingCheck check = check_routing_command(d.state, c.runtime, c.command);
        EXPECT_EQ(check.action, c.action) << c.name;
        if (c.action == Action::refuse) {
            EXPECT_EQ(check.reason.rfind("pool green was aborted automatically and the abort is "
                                         "not acknowledged (2 failing judgements in a row",
                                         0),
                      0u)
                << c.name << ": " << check.reason;
        }
        EXPECT_EQ(!check.forced.empty(), c.forced) << c.name;
    }
    // After ack, nothing is refused.
    Driver acked = make(Named::aborted_auto);
    acked.apply(command(Kind::ack), at(100s));
    for (const Case& c : cases)
        EXPECT_EQ(check_routing_command(acked.state, c.runtime, c.command).action, Action::allow)
            << c.name;
}

TEST(RampTest, NothingIsRefusedWithoutARampOrAbort) {
    using RK = RoutingCommand::Kind;
    for (Named n : {Named::none, Named::aborted_cmd, Named::promoted}) {
        const Driver d = make(n);
        for (const RoutingCommand& c :
             {routing(RK::switch_to, "green"), routing(RK::promote), routing(RK::rollback),
              routing(RK::canary, "green", 500), routing(RK::canary, "green", 0)})
            EXPECT_EQ(check_routing_command(d.state, runtime("green", 500, "green"), c).action,
                      Action::allow)
                << name_of(n);
    }
}

// ---- Persistence and restart ----

std::vector<std::string> config_pools() {
    return {"blue", "green", "red"};
}

TEST(RampTest, SnapshotHoldsTheDurableFields) {
    Driver d = make(Named::running);
    d.tick(at(60s), passing());
    d.tick(at(70s), failing());
    const RolloutSnapshot s = snapshot(d.state);
    ASSERT_TRUE(s.ramp);
    EXPECT_EQ(s.ramp->pool, "green");
    EXPECT_EQ(s.ramp->step, 1u);
    EXPECT_EQ(s.ramp->step_start, at(60s));
    EXPECT_EQ(s.ramp->state, RampState::running);
    EXPECT_EQ(s.ramp->settings, RampSettings{});
    EXPECT_TRUE(s.unacknowledged_aborts.empty());
    const RolloutSnapshot aborted = snapshot(make(Named::aborted_auto).state);
    ASSERT_EQ(aborted.unacknowledged_aborts.size(), 1u);
    EXPECT_EQ(aborted.unacknowledged_aborts[0].pool, "green");
    EXPECT_EQ(aborted.ramp->abort_cause, AbortCause::analysis);
}

TEST(RampTest, RestartInTheMiddleContinuesTheStep) {
    Driver d = make(Named::running);
    d.tick(at(60s), passing());  // step 2 from 60 s
    d.tick(at(70s), failing());
    const RolloutSnapshot saved = snapshot(d.state);

    // The new process, at 90 s: same step, same start, a new window.
    const RolloutRestore restored =
        restore_rollout(saved, config_pools(), runtime("green", 500), at(90s));
    EXPECT_TRUE(restored.dropped.empty());
    EXPECT_EQ(restored.new_window, 1u);
    Driver after;
    after.state = restored.state;
    EXPECT_EQ(snapshot(after.state), saved);
    EXPECT_EQ(after.state.ramp->consecutive_failures, 0u);  // that window's counts are gone
    EXPECT_TRUE(after.state.ramp->recent.empty());
    EXPECT_EQ(bake_left(*after.state.ramp, at(90s)), 30s);
    // The old process's judgement (window 2) is not this window's.
    RampTick old;
    old.now = at(91s);
    old.window = 2;
    old.judgement = failing();
    EXPECT_EQ(tick_ramp(after.state, old).next.ramp->consecutive_failures, 0u);
    // Before the bake is over nothing advances; after it, the step does.
    EXPECT_FALSE(after.tick(at(100s), passing()).changed);
    const RampResult r = after.tick(at(120s), passing());
    EXPECT_EQ(r.effects.canary_weight_bp, 2500u);
    EXPECT_EQ(after.record().step, 2u);
}

TEST(RampTest, RestoreOfEachState) {
    for (Named n : {Named::running, Named::holding, Named::paused, Named::waiting,
                    Named::aborted_auto, Named::aborted_cmd, Named::promoted}) {
        const Driver d = make(n);
        const RuntimeState rt = ramp_in_progress(d.state)
                                    ? runtime("green", ramp_weight_bp(d.record()))
                                    : runtime("green", 0);
        const RolloutRestore r = restore_rollout(snapshot(d.state), config_pools(), rt, at(500s));
        EXPECT_TRUE(r.dropped.empty()) << name_of(n);
        EXPECT_EQ(snapshot(r.state), snapshot(d.state)) << name_of(n);
        EXPECT_EQ(r.new_window.has_value(), ramp_in_progress(d.state)) << name_of(n);
        if (n == Named::holding) {
            EXPECT_EQ(hold_time(*r.state.ramp, at(510s)), 10s);
        }
    }
}

TEST(RampTest, RestoreDropsWhatTheConfigOrRoutingNoLongerHas) {
    const RolloutSnapshot running = snapshot(make(Named::running).state);
    const RolloutSnapshot aborted = snapshot(make(Named::aborted_auto).state);
    struct Case {
        const char* name;
        RolloutSnapshot snapshot;
        std::vector<std::string> pools;
        RuntimeState runtime;
        std::vector<std::string> dropped;
    };
    RolloutSnapshot bad_steps = running;
    bad_steps.ramp->settings.steps_bp = {500, 100};
    RolloutSnapshot bad_index = running;
    bad_index.ramp->step = 5;
    RolloutSnapshot at_full = running;
    at_full.ramp->step = 4;  // 100 %: a running ramp is never there
    const Case cases[] = {
        {"pool gone",
         running,
         {"blue", "red"},
         runtime("green", 100),
         {"ramp of pool green (not in the config)"}},
        {"abort's pool gone",
         aborted,
         {"blue", "red"},
         runtime("green", 0),
         {"unacknowledged abort of pool green (not in the config)",
          "ramp of pool green (not in the config)"}},
        {"invalid steps",
         bad_steps,
         config_pools(),
         runtime("green", 100),
         {"ramp of pool green (invalid steps)"}},
        {"step out of range",
         bad_index,
         config_pools(),
         runtime("green", 100),
         {"ramp of pool green (invalid steps)"}},
        {"running at 100",
         at_full,
         config_pools(),
         runtime("green", 100),
         {"ramp of pool green (invalid steps)"}},
        {"another canary",
         running,
         config_pools(),
         runtime("red", 100),
         {"ramp of pool green (no longer the canary pool)"}},
        {"now active",
         running,
         config_pools(),
         [] {
             RuntimeState r = runtime("blue", 0);
             r.active = "green";
             return r;
         }(),
         {"ramp of pool green (no longer the canary pool)"}},
        {"finished ramps need no canary", aborted, config_pools(), runtime("red", 0), {}},
    };
    for (const Case& c : cases) {
        const RolloutRestore r = restore_rollout(c.snapshot, c.pools, c.runtime, at(100s));
        EXPECT_EQ(r.dropped, c.dropped) << c.name;
        if (!c.dropped.empty() && c.dropped.back().rfind("ramp of", 0) == 0) {
            EXPECT_FALSE(r.state.ramp) << c.name;
            EXPECT_FALSE(r.new_window) << c.name;
        }
    }
}

// ---- Status helpers and names ----

TEST(RampTest, WeightOfEachState) {
    EXPECT_EQ(ramp_weight_bp(make(Named::running).record()), 100u);
    EXPECT_EQ(ramp_weight_bp(make(Named::holding).record()), 100u);
    EXPECT_EQ(ramp_weight_bp(make(Named::paused).record()), 100u);
    EXPECT_EQ(ramp_weight_bp(make(Named::waiting).record()), 100u);
    EXPECT_EQ(ramp_weight_bp(make(Named::aborted_auto).record()), 0u);
    EXPECT_EQ(ramp_weight_bp(make(Named::aborted_cmd).record()), 0u);
    EXPECT_EQ(ramp_weight_bp(make(Named::promoted).record()), 10000u);
    EXPECT_EQ(bake_left(*make(Named::aborted_cmd).state.ramp, at(1s)), 0s);
    EXPECT_EQ(hold_time(*make(Named::running).state.ramp, at(100s)), 0s);
}

TEST(RampTest, Names) {
    for (RampState s : {RampState::running, RampState::holding, RampState::paused,
                        RampState::aborted, RampState::promoted})
        EXPECT_EQ(parse_ramp_state(to_string(s)), s);
    EXPECT_EQ(parse_ramp_state("stopped"), std::nullopt);
    for (AbortCause c :
         {AbortCause::none, AbortCause::analysis, AbortCause::no_data, AbortCause::command})
        EXPECT_EQ(parse_abort_cause(to_string(c)), c);
    EXPECT_EQ(parse_abort_cause(""), std::nullopt);
    const std::pair<RampEventType, const char*> events[] = {
        {RampEventType::started, "started"}, {RampEventType::step, "step"},
        {RampEventType::holding, "holding"}, {RampEventType::paused, "paused"},
        {RampEventType::aborted, "aborted"}, {RampEventType::promoted, "promoted"}};
    for (const auto& [type, name] : events)
        EXPECT_EQ(to_string(type), name);
}

}  // namespace
}  // namespace switchyard

// The ramp's part of the state file ("rollout"): written only when there is
// one, read back exactly, and every malformed field refused by its name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/control/state_file.hpp"

namespace switchyard::control {
namespace {

using std::chrono::milliseconds;

RuntimeState routing() {
    RuntimeState s;
    s.active = "blue";
    s.canary_pool = "green";
    s.canary_weight_bp = 2500;
    s.generation = 7;
    return s;
}

RolloutSnapshot known_rollout() {
    RolloutSnapshot r;
    RampRecord& ramp = r.ramp.emplace();
    ramp.pool = "green";
    ramp.step = 2;
    ramp.step_start = RampTime(milliseconds(1'700'000'000'000));
    r.unacknowledged_aborts.push_back(
        {"orange", "error rate 9.1 % vs 0.2 %", RampTime(milliseconds(1'699'999'000'000))});
    return r;
}

// The defaults of RampSettings, written out.
const char* const kKnownJson =
    R"({"version":1,"active":"blue","previous":null,"canary":{"pool":"green","weight":25.00},)"
    R"("generation":7,"servers":{},"rollout":{"ramp":{"pool":"green","settings":{)"
    R"("steps":[1.00,5.00,25.00,50.00,100.00],"bake_ms":60000,"promote":"auto",)"
    R"("interval_ms":1000,"failure_limit":2,"max_hold_ms":600000,"on_no_data":"pause",)"
    R"("gate":false,"gate_retry_ms":10000,"analysis":{"min_requests":50,)"
    R"("max_error_increase":1,"max_error_rate":5,"confidence":0.99,"max_p99_ratio":1.5,)"
    R"("min_p99_delta_ms":5}},"step":2,"step_start_ms":1700000000000,"state":"running",)"
    R"("reason":"","abort_cause":"none"},"unacknowledged_aborts":[{"pool":"orange",)"
    R"("reason":"error rate 9.1 % vs 0.2 %","at_ms":1699999000000}]}})";

TEST(StateRollout, ExactTextForAKnownSnapshot) {
    EXPECT_EQ(to_json(routing(), known_rollout()), kKnownJson);
}

TEST(StateRollout, WithoutARampTheFileIsAsBefore) {
    const std::string without = to_json(routing());
    EXPECT_EQ(to_json(routing(), RolloutSnapshot{}), without);
    EXPECT_EQ(without.find("rollout"), std::string::npos) << without;
    // Files without "rollout" are read, with an empty snapshot.
    RolloutSnapshot rollout = known_rollout();
    std::string error;
    auto back = from_json(without, rollout, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, routing());
    EXPECT_EQ(rollout, RolloutSnapshot{});
}

TEST(StateRollout, OnlyWhatIsThereIsWritten) {
    RolloutSnapshot aborts_only = known_rollout();
    aborts_only.ramp.reset();
    auto text = to_json(routing(), aborts_only);
    EXPECT_NE(text.find(R"("rollout":{"unacknowledged_aborts":[)"), std::string::npos) << text;
    RolloutSnapshot ramp_only = known_rollout();
    ramp_only.unacknowledged_aborts.clear();
    text = to_json(routing(), ramp_only);
    EXPECT_EQ(text.find("unacknowledged_aborts"), std::string::npos) << text;
    for (const auto& snapshot : {aborts_only, ramp_only}) {
        RolloutSnapshot back;
        std::string error;
        ASSERT_TRUE(from_json(to_json(routing(), snapshot), back, error)) << error;
        EXPECT_EQ(back, snapshot);
    }
}

TEST(StateRollout, RoundTripOfEveryField) {
    RolloutSnapshot r = known_rollout();
    RampRecord& ramp = *r.ramp;
    RampSettings& s = ramp.settings;
    s.steps_bp = {1, 50, 255, 9999, 10000};
    s.bake = milliseconds(0);
    s.promote = PromoteMode::manual;
    s.interval = milliseconds(100);
    s.failure_limit = 4'294'967'295u;
    s.max_hold = milliseconds(86'400'000);
    s.on_no_data = OnNoData::advance;
    s.gate = true;
    s.gate_retry = milliseconds(1);
    s.analysis.min_requests = 18'446'744'073'709'551'615ull;
    s.analysis.max_error_increase = 0.1;
    s.analysis.max_error_rate = 100;
    s.analysis.confidence = 0.9999;
    s.analysis.max_p99_ratio = 1.0 / 3;  // no short decimal: the shortest exact text is kept
    s.analysis.min_p99_delta = milliseconds(0);
    ramp.step = 4;
    ramp.step_start = RampTime(milliseconds(-5));  // a clock set before 1970
    ramp.reason = "canary \"green\": 3 of 50 requests needed\n\\";
    r.unacknowledged_aborts.push_back({"green", "", RampTime(milliseconds(0))});
    const RuntimeState rt = routing();
    for (auto state : {RampState::running, RampState::holding, RampState::paused,
                       RampState::aborted, RampState::promoted}) {
        for (auto cause :
             {AbortCause::none, AbortCause::analysis, AbortCause::no_data, AbortCause::command}) {
            ramp.state = state;
            ramp.abort_cause = cause;
            for (auto on_no_data : {OnNoData::pause, OnNoData::abort, OnNoData::advance}) {
                s.on_no_data = on_no_data;
                RolloutSnapshot back;
                std::string error;
                const std::string text = to_json(rt, r);
                auto back_state = from_json(text, back, error);
                ASSERT_TRUE(back_state) << error << "\n" << text;
                EXPECT_EQ(*back_state, rt);
                EXPECT_EQ(back, r) << text;
            }
        }
    }
}

// The known text with one piece replaced: exactly one field is wrong.
std::string with(std::string_view from, std::string_view to) {
    std::string text = kKnownJson;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

// The known text with the object or array after `key` ("\"settings\":")
// replaced by `value`.
std::string with_value(std::string_view key, std::string_view value) {
    std::string text = kKnownJson;
    const auto at = text.find(key);
    EXPECT_NE(at, std::string::npos) << key;
    if (at == std::string::npos) return text;
    const std::size_t start = at + key.size();
    std::size_t end = start;
    int depth = 0;
    do {  // the known text has no brackets inside its strings
        if (text[end] == '{' || text[end] == '[') ++depth;
        if (text[end] == '}' || text[end] == ']') --depth;
        ++end;
    } while (depth > 0 && end < text.size());
    text.replace(start, end - start, value);
    return text;
}

TEST(StateRollout, EachMalformedFieldIsRefusedByName) {
    const std::string settings = "rollout.ramp.settings: ";
    const std::string analysis = "rollout.ramp.settings.analysis: ";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {with_value(R"("rollout":)", "[]"), "\"rollout\" must be an object"},
        {with(R"("rollout":{"ramp")", R"("rollout":{"rmap")"), "rollout: unknown key \"rmap\""},
        {with_value(R"("ramp":)", "7"), "rollout: \"ramp\" must be an object"},
        {with(R"("pool":"green","settings")", R"("settings")"),
         "rollout.ramp: \"pool\" is missing"},
        {with(R"("pool":"green","settings")", R"("pool":"","settings")"),
         "rollout.ramp: \"pool\" must be a pool name"},
        {with(R"("step":2,)", R"("step":2,"weight":25,)"), "rollout.ramp: unknown key \"weight\""},
        {with(R"("step":2,)", R"("step":-1,)"),
         "rollout.ramp: \"step\" must be a non-negative integer"},
        {with(R"("step":2,)", R"("step":2.5,)"),
         "rollout.ramp: \"step\" must be a non-negative integer"},
        {with(R"("step_start_ms":1700000000000)", R"("step_start_ms":"2023-11-14")"),
         "rollout.ramp: \"step_start_ms\" must be an integer (ms since the epoch)"},
        {with(R"("state":"running")", R"("state":"walking")"),
         "rollout.ramp: \"state\" must be \"running\", \"holding\", \"paused\", \"aborted\" or "
         "\"promoted\""},
        {with(R"("reason":"",)", R"("reason":null,)"), "rollout.ramp: \"reason\" must be a string"},
        {with(R"("abort_cause":"none")", R"("abort_cause":"bad luck")"),
         "rollout.ramp: \"abort_cause\" must be \"none\", \"analysis\", \"no_data\" or "
         "\"command\""},
        {with(R"(,"abort_cause":"none")", ""), "rollout.ramp: \"abort_cause\" is missing"},
        {with_value(R"("settings":)", "[]"), "rollout.ramp: \"settings\" must be an object"},
        {with(R"("steps":[1.00,5.00,25.00,50.00,100.00])", R"("steps":"1,5,25,50,100")"),
         settings + "\"steps\" must be an array"},
        {with(R"("steps":[1.00,5.00,)", R"("steps":[1.00,"5",)"),
         "rollout.ramp.settings.steps[1] must be a number"},
        {with(R"("steps":[1.00,5.00,)", R"("steps":[1.00,5.001,)"),
         "rollout.ramp.settings.steps[1] must have at most two decimals"},
        {with(R"(50.00,100.00])", R"(50.00,100.01])"),
         "rollout.ramp.settings.steps[4] must be between 0 and 100"},
        {with(R"("bake_ms":60000)", R"("bake_ms":"60s")"),
         settings + "\"bake_ms\" must be a non-negative integer (milliseconds)"},
        {with(R"("promote":"auto")", R"("promote":"automatic")"),
         settings + "\"promote\" must be \"auto\" or \"manual\""},
        {with(R"("interval_ms":1000)", R"("interval_ms":-1000)"),
         settings + "\"interval_ms\" must be a non-negative integer (milliseconds)"},
        {with(R"("failure_limit":2)", R"("failure_limit":4294967296)"),
         settings + "\"failure_limit\" must be an integer from 0 to 4294967295"},
        {with(R"("max_hold_ms":600000,)", ""), settings + "\"max_hold_ms\" is missing"},
        {with(R"("on_no_data":"pause")", R"("on_no_data":"wait")"),
         settings + "\"on_no_data\" must be \"pause\", \"abort\" or \"advance\""},
        {with(R"("gate":false)", R"("gate":0)"), settings + "\"gate\" must be true or false"},
        {with(R"("gate_retry_ms":10000)", R"("gate_retry_ms":1e4)"),
         settings + "\"gate_retry_ms\" must be a non-negative integer (milliseconds)"},
        {with(R"("gate_retry_ms":10000,)", R"("gate_retry_ms":10000,"gate_url":"",)"),
         settings + "unknown key \"gate_url\""},
        {with_value(R"("analysis":)", "null"), settings + "\"analysis\" must be an object"},
        {with(R"("min_requests":50)", R"("min_requests":50.5)"),
         analysis + "\"min_requests\" must be a non-negative integer"},
        {with(R"("max_error_increase":1)", R"("max_error_increase":-1)"),
         analysis + "\"max_error_increase\" must be a non-negative number"},
        {with(R"("max_error_rate":5)", R"("max_error_rate":"5")"),
         analysis + "\"max_error_rate\" must be a non-negative number"},
        {with(R"("confidence":0.99,)", ""), analysis + "\"confidence\" is missing"},
        {with(R"("max_p99_ratio":1.5)", R"("max_p99_ratio":true)"),
         analysis + "\"max_p99_ratio\" must be a non-negative number"},
        {with(R"("min_p99_delta_ms":5)", R"("min_p99_delta_ms":-5)"),
         analysis + "\"min_p99_delta_ms\" must be a non-negative integer (milliseconds)"},
        {with(R"("min_p99_delta_ms":5)", R"("min_p99_delta_ms":5,"p99":1)"),
         analysis + "unknown key \"p99\""},
        {with_value(R"("unacknowledged_aborts":)", "{}"),
         "rollout: \"unacknowledged_aborts\" must be an array"},
        {with(R"("unacknowledged_aborts":[{)", R"("unacknowledged_aborts":["orange",{)"),
         "rollout.unacknowledged_aborts[0] must be an object"},
        {with(R"({"pool":"orange",)", R"({"pool":null,)"),
         "rollout.unacknowledged_aborts[0]: \"pool\" must be a pool name"},
        {with(R"("reason":"error rate)", R"("why":"error rate)"),
         "rollout.unacknowledged_aborts[0]: unknown key \"why\""},
        {with(R"("at_ms":1699999000000)", R"("at_ms":1.5)"),
         "rollout.unacknowledged_aborts[0]: \"at_ms\" must be an integer (ms since the epoch)"},
    };
    for (const auto& [text, expected] : cases) {
        RolloutSnapshot rollout = known_rollout();
        rollout.unacknowledged_aborts.clear();
        const RolloutSnapshot before = rollout;
        std::string error;
        EXPECT_FALSE(from_json(text, rollout, error)) << text;
        EXPECT_EQ(error, expected) << text;
        EXPECT_EQ(rollout, before) << "left as it was on an error";
        // The routing-only reader checks the ramp too: a file is valid or not.
        EXPECT_FALSE(from_json(text, error)) << text;
    }
}

TEST(StateRollout, SaveThenLoad) {
    char tmpl[] = "/tmp/sy-state-rollout-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::filesystem::path dir = tmpl;
    const std::string path = (dir / "state.json").string();
    std::string error;
    ASSERT_TRUE(save_state_file(path, routing(), known_rollout(), error)) << error;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), std::string(kKnownJson) + "\n");
    RuntimeState state;
    RolloutSnapshot rollout;
    EXPECT_EQ(load_state_file(path, state, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(state, routing());
    EXPECT_EQ(rollout, known_rollout());
    // A later save without a ramp drops it from the file.
    ASSERT_TRUE(save_state_file(path, routing(), RolloutSnapshot{}, error)) << error;
    EXPECT_EQ(load_state_file(path, state, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(rollout, RolloutSnapshot{});
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::control

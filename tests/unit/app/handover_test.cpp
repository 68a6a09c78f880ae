#include "switchyard/app/handover.hpp"

#include <gtest/gtest.h>

namespace switchyard::app {
namespace {

HandoverMessage sample() {
    HandoverMessage m;
    m.from_pid = 4242;
    m.listeners = {{10, "0.0.0.0:8080"}, {11, "[::1]:8081"}};
    m.control_fd = 12;
    m.runtime.active = "green";
    m.runtime.previous = "blue";
    m.runtime.canary_pool = "blue";
    m.runtime.canary_weight_bp = 250;
    m.runtime.generation = 9;
    m.runtime.flags = {{"new-checkout", 12345}, {"dark-mode", 0}};
    m.runtime.shadow = {"orange", 2500, true};
    m.watchdog_usec = 30'000'000;
    m.config_generation = 6;
    return m;
}

// The descriptors arrive renumbered: the message names them by index.
TEST(Handover, RoundTripsWithRenumberedDescriptors) {
    std::vector<int> fds;
    const std::string line = encode_handover(sample(), fds);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(fds, (std::vector<int>{10, 11, 12}));
    std::string error;
    auto m = decode_handover(line.substr(0, line.size() - 1), {20, 21, 22}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->from_pid, 4242);
    ASSERT_EQ(m->listeners.size(), 2u);
    EXPECT_EQ(m->listeners[0].fd, 20);
    EXPECT_EQ(m->listeners[0].name, "0.0.0.0:8080");
    EXPECT_EQ(m->listeners[1].fd, 21);
    EXPECT_EQ(m->listeners[1].name, "[::1]:8081");
    EXPECT_EQ(m->control_fd, 22);
    EXPECT_EQ(m->runtime.active, "green");
    EXPECT_EQ(m->runtime.previous, "blue");
    EXPECT_EQ(m->runtime.canary_pool, "blue");
    EXPECT_EQ(m->runtime.canary_weight_bp, 250u);
    EXPECT_EQ(m->runtime.generation, 9u);
    // Flags cross an upgrade with the routing state.
    EXPECT_EQ(m->runtime.flags,
              (std::map<std::string, std::uint32_t>{{"dark-mode", 0}, {"new-checkout", 12345}}));
    // So does mirroring.
    EXPECT_EQ(m->runtime.shadow, (ShadowRuntime{"orange", 2500, true}));
    EXPECT_EQ(m->watchdog_usec, 30'000'000u);
    EXPECT_EQ(m->config_generation, 6u);
}

TEST(Handover, WithoutControlSocket) {
    auto in = sample();
    in.control_fd = -1;
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds);
    EXPECT_EQ(fds.size(), 2u);
    std::string error;
    auto m = decode_handover(line, {3, 4}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->control_fd, -1);
}

TEST(Handover, RejectsWhatItCannotTrust) {
    std::vector<int> fds;
    const std::string good = encode_handover(sample(), fds);
    std::string error;
    // Fewer descriptors arrived than the message names.
    EXPECT_FALSE(decode_handover(good, {20, 21}, error));
    EXPECT_NE(error.find("control_fd"), std::string::npos) << error;
    EXPECT_FALSE(decode_handover(good, {}, error));
    EXPECT_NE(error.find("descriptor"), std::string::npos) << error;

    struct Case {
        const char* json;
        const char* error;
    };
    for (const Case& c : {
             Case{"not json", "not a JSON object"},
             Case{R"({"version":2,"listeners":[],"runtime":{}})", "unsupported hand-over version"},
             Case{R"({"version":1,"runtime":{}})", "no listeners array"},
             Case{R"({"version":1,"listeners":[{"name":"a:1","fd":-1}],"runtime":{}})",
                  "valid descriptor index"},
             Case{R"({"version":1,"listeners":[{"fd":0}],"runtime":{}})", "lacks a name"},
             Case{R"({"version":1,"listeners":[]})", "no runtime state"},
             Case{R"({"version":1,"listeners":[],"runtime":{"active":7}})",
                  "runtime state is invalid"},
         }) {
        error.clear();
        EXPECT_FALSE(decode_handover(c.json, {5}, error)) << c.json;
        EXPECT_NE(error.find(c.error), std::string::npos) << c.json << " -> " << error;
    }
}

// --- The health section ---------------------------------------------------------

HealthTime at_ms(std::int64_t ms) {
    return HealthTime{} + std::chrono::milliseconds(ms);
}

// An unhealthy checked server and an ejected one with back-off history.
std::vector<HealthHandover> sample_health(HealthTime now) {
    HealthHandover down;
    down.pool = "green";
    down.address = "127.0.0.1:9002";
    down.health.state = HealthState::unhealthy;
    down.health.last_check = {CheckOutcome::refused, 0, ""};
    down.health.reason = "connection refused";
    down.checked = true;
    down.check_settings.path = "/";
    down.check_settings.interval = Duration(100);
    down.check_settings.rise = 1;
    down.check_state = HealthState::unhealthy;
    down.failures = 4;

    HealthHandover ejected;
    ejected.pool = "blue";
    ejected.address = "app.internal:80";
    ejected.health.state = HealthState::ejected;
    ejected.health.ejected_until = now + std::chrono::milliseconds(29500);
    ejected.health.ejections = 3;
    ejected.health.last_check = {CheckOutcome::bad_response, 0, "no status line"};
    ejected.health.reason = "5 consecutive failures, last: status 503";
    ejected.ejection_level = 2;
    ejected.returned = now - std::chrono::milliseconds(1200);
    return {down, ejected};
}

// Times travel relative to the moment of encoding: the successor's clock
// may be read later, and the remaining ejection and the time since the
// last one ended are kept, not the time points.
TEST(Handover, HealthRoundTripsWithRelativeTimes) {
    auto in = sample();
    in.health = sample_health(at_ms(1'000'000));
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds, at_ms(1'000'000));
    EXPECT_NE(line.find("\"ejected_until_ms\":29500"), std::string::npos) << line;
    EXPECT_NE(line.find("\"returned_ms_ago\":1200"), std::string::npos) << line;
    EXPECT_EQ(line.find("ejected_until\":"), std::string::npos) << line;  // no time points

    std::string error;
    auto m = decode_handover(line, {20, 21, 22}, error, at_ms(5'000'000));
    ASSERT_TRUE(m) << error;
    auto expected = sample_health(at_ms(5'000'000));
    ASSERT_EQ(m->health.size(), 2u);
    EXPECT_EQ(m->health[0], expected[0]);
    EXPECT_EQ(m->health[1], expected[1]);
    EXPECT_EQ(m->health[1].health.ejected_until, at_ms(5'029'500));
    EXPECT_EQ(m->health[1].returned, at_ms(4'998'800));
    EXPECT_EQ(m->runtime.active, "green");  // the rest is unchanged
}

TEST(Handover, AnEjectionAlreadyDueTravelsAsZero) {
    auto in = sample();
    in.health = sample_health(at_ms(1'000'000));
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds, at_ms(1'040'000));
    EXPECT_NE(line.find("\"ejected_until_ms\":0"), std::string::npos) << line;
    std::string error;
    auto m = decode_handover(line, {20, 21, 22}, error, at_ms(2'000'000));
    ASSERT_TRUE(m) << error;
    ASSERT_EQ(m->health.size(), 2u);
    EXPECT_EQ(m->health[1].health.ejected_until, at_ms(2'000'000));
}

// Version 1 either way: a message from a sender that predates the section
// decodes with no health, and one without health has no "health" member
// (an older receiver would ignore it anyway).
TEST(Handover, WithoutHealthStaysCompatible) {
    std::vector<int> fds;
    const std::string line = encode_handover(sample(), fds);
    EXPECT_EQ(line.find("health"), std::string::npos) << line;
    EXPECT_NE(line.find("\"version\":1"), std::string::npos) << line;
    std::string error;
    auto m = decode_handover(line, fds, error);
    ASSERT_TRUE(m) << error;
    EXPECT_TRUE(m->health.empty());

    auto in = sample();
    in.health = sample_health(std::chrono::steady_clock::now());
    const std::string with = encode_handover(in, fds);
    EXPECT_NE(with.find("\"version\":1"), std::string::npos) << with;
}

// A sender that predates the config generation sends none: 0, and the
// successor starts from 1.
TEST(Handover, WithoutConfigGenerationDecodesAsZero) {
    auto in = sample();
    in.config_generation = 0;
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds);
    EXPECT_EQ(line.find("config_generation"), std::string::npos) << line;
    std::string error;
    auto m = decode_handover(line, fds, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->config_generation, 0u);
}

// Health knowledge is worth less than the upgrade: an entry this binary
// cannot read is left out, and active-check data it cannot read only drops
// the verdict (the server starts unknown), never the whole message.
TEST(Handover, UnreadableHealthEntriesAreLeftOut) {
    auto in = sample();
    in.control_fd = -1;
    in.listeners.clear();
    std::vector<int> fds;
    std::string line = encode_handover(in, fds);
    line.resize(line.rfind('}'));  // open: a health member follows
    const std::string head = line + R"(,"health":[)";
    std::string error;
    for (const char* entry : {
             R"(7)",
             R"({"address":"a:1","state":"healthy"})",             // no pool
             R"({"pool":"p","state":"healthy"})",                  // no address
             R"({"pool":"p","address":"a:1","state":"sleepy"})",   // unknown state
             R"({"pool":"p","address":"a:1","state":"ejected"})",  // no end
             R"({"pool":"p","address":"a:1","state":"ejected","ejected_until_ms":-5})",
             R"({"pool":"p","address":"a:1","state":"healthy","last_check":{"outcome":"meh"}})",
         }) {
        auto m = decode_handover(head + entry + "]}", {}, error);
        ASSERT_TRUE(m) << entry << ": " << error;
        EXPECT_TRUE(m->health.empty()) << entry;
    }
    // Not an array: ignored as well.
    auto m = decode_handover(line + R"(,"health":{}})", {}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_TRUE(m->health.empty());

    // Checks without their settings: the entry stays, unchecked.
    m = decode_handover(
        head +
            R"({"pool":"p","address":"a:1","state":"unhealthy","checks":{"state":"unhealthy"}},)" +
            R"({"pool":"p","address":"b:1","state":"healthy"}]})",
        {}, error);
    ASSERT_TRUE(m) << error;
    ASSERT_EQ(m->health.size(), 2u);
    EXPECT_EQ(m->health[0].address, "a:1");
    EXPECT_EQ(m->health[0].health.state, HealthState::unhealthy);
    EXPECT_FALSE(m->health[0].checked);
    EXPECT_EQ(m->health[1].address, "b:1");
}

// The line pinned byte for byte: an older or newer binary reads it with its
// own decoder, so member names, order and types must not drift (integers as
// integers, the canary weight as the state file writes it).
// A ramp goes on across an upgrade: its durable part rides in "runtime" (as
// in the state file) and its analysis window's counts alongside.
TEST(Handover, TheRampAndItsCountsTravel) {
    auto in = sample();
    RampRecord ramp;
    ramp.pool = "blue";
    ramp.step = 1;
    ramp.state = RampState::holding;
    ramp.reason = "canary has 37 of 50 requests needed";
    in.rollout.ramp = ramp;
    in.rollout.unacknowledged_aborts = {
        {"orange", "error rate", RampTime(std::chrono::milliseconds(5))}};
    StepCounts& blue = in.step_window.pools["blue"];
    for (std::uint64_t us : {800u, 1200u, 250000u})
        blue.record(RequestOutcome::ok, us);
    blue.record(RequestOutcome::error, std::nullopt);  // untimed
    in.step_window.pools["green"].record(RequestOutcome::ok, 5000);
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds);
    std::string error;
    auto m = decode_handover(line, {3, 4, 5}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->rollout, in.rollout);
    ASSERT_EQ(m->step_window.pools.size(), 2u);
    EXPECT_EQ(m->step_window.pools.at("blue"), blue);  // every bucket and exact figure
    EXPECT_EQ(m->step_window.pools.at("green"), in.step_window.pools.at("green"));
}

// Counts that do not add up are left out (that pool counts afresh); the
// upgrade goes on.
TEST(Handover, UnreadableStepCountsAreLeftOut) {
    std::vector<int> fds;
    auto line = encode_handover(sample(), fds);
    line.pop_back();  // the newline
    line.pop_back();  // the closing brace
    line +=
        R"(,"step_window":{"pools":{)"
        R"("blue":{"requests":1,"errors":2,"latency":{"buckets":[],"sum":0,"min":0,"max":0,"clamped":0}},)"
        R"("green":{"requests":5,"errors":0,"latency":{"buckets":[[9999,1]],"sum":0,"min":0,"max":0,"clamped":0}},)"
        R"("red":{"requests":5,"errors":1,"latency":{"buckets":[[3,2]],"sum":6,"min":3,"max":3,"clamped":0}}}}})";
    std::string error;
    auto m = decode_handover(line, {3, 4, 5}, error);
    ASSERT_TRUE(m) << error;
    ASSERT_EQ(m->step_window.pools.size(), 1u);
    EXPECT_EQ(m->step_window.pools.at("red").requests, 5u);
    EXPECT_EQ(m->step_window.pools.at("red").latency.count(), 2u);
}

TEST(Handover, TheMessageIsPinned) {
    auto in = sample();
    in.health = sample_health(at_ms(1'000'000));
    in.tls_ticket_keys = "00ff";
    std::vector<int> fds;
    EXPECT_EQ(
        encode_handover(in, fds, at_ms(1'000'000)),
        R"({"version":1,"from_pid":4242,"listeners":[{"name":"0.0.0.0:8080","fd":0},)"
        R"({"name":"[::1]:8081","fd":1}],"control_fd":2,"runtime":{"version":1,)"
        R"("active":"green","previous":"blue","canary":{"pool":"blue","weight":2.50},)"
        R"("generation":9,"servers":{},"flags":{"dark-mode":0.000,"new-checkout":12.345},)"
        R"("shadow":{"pool":"orange","percent":2.500,"diff":true}},)"
        R"("watchdog_usec":30000000,"config_generation":6,)"
        R"("tls_ticket_keys":"00ff","health":[{"pool":"green","address":"127.0.0.1:9002",)"
        R"("state":"unhealthy","reason":"connection refused","last_check":{"outcome":)"
        R"("refused","status":0,"detail":""},"ejections":0,"ejection_level":0,"checks":)"
        R"({"path":"/","host":"","interval_ms":100,"timeout_ms":1000,"rise":1,"fall":3,)"
        R"("expect_min":200,"expect_max":399,"state":"unhealthy","successes":0,"failures":4}},)"
        R"({"pool":"blue","address":"app.internal:80","state":"ejected","reason":"5 )"
        R"(consecutive failures, last: status 503","last_check":{"outcome":"bad_response",)"
        R"("status":0,"detail":"no status line"},"ejections":3,"ejected_until_ms":29500,)"
        R"("ejection_level":2,"returned_ms_ago":1200}]})"
        "\n");
    EXPECT_EQ(encode_reply({true, 77, {}}), "{\"ready\":true,\"pid\":77}\n");
    EXPECT_EQ(encode_reply({false, 0, "config has errors"}),
              "{\"ready\":false,\"error\":\"config has errors\"}\n");
}

TEST(Handover, Replies) {
    auto ready = decode_reply(encode_reply({true, 77, {}}));
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ready);
    EXPECT_EQ(ready->pid, 77);
    auto failed = decode_reply(encode_reply({false, 0, "config has errors"}));
    ASSERT_TRUE(failed);
    EXPECT_FALSE(failed->ready);
    EXPECT_EQ(failed->error, "config has errors");
    EXPECT_FALSE(decode_reply("{}"));
    EXPECT_FALSE(decode_reply(R"({"ready":true})"));  // ready needs a pid
    EXPECT_FALSE(decode_reply("garbage"));
}

}  // namespace
}  // namespace switchyard::app

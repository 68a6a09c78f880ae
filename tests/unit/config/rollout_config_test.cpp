// [rollout], [[rollout.webhooks]] and log.event_log: the ramp's defaults,
// its canary analysis, gate and event delivery (DESIGN.md, "Progressive
// delivery: `ramp`"). Every rule's diagnostic is checked with its place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "switchyard/config/config_loader.hpp"

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using namespace test;

// DESIGN.md's block, verbatim.
constexpr std::string_view kDesignRollout = R"toml(
[rollout]
steps = [1, 5, 25, 50, 100]
bake = "60s"
promote = "auto"               # or "manual"
interval = "1s"               # how often the step's cumulative counts are judged
min_requests = 50              # per side, since the step started
max_error_increase = 1.0       # percentage points above the baseline
max_error_rate = 5.0           # absolute ceiling, percent
confidence = 0.99
max_p99_ratio = 1.5
min_p99_delta = "5ms"
failure_limit = 2
max_hold = "10m"
on_no_data = "pause"           # pause | abort | advance
gate_url = ""                  # optional, see above

[[rollout.webhooks]]           # zero or more; URLs only from the config (they are secrets)
url = "https://hooks.example.com/deploys"
secret = ""                    # if set: X-Switchyard-Signature: sha256=<HMAC of the body>
events = ["started", "step", "holding", "paused", "aborted", "promoted"]
format = "json"                # or "slack" ({"text": …}, for Slack/Mattermost incoming webhooks)
timeout = "3s"
)toml";

TEST(ConfigRollout, AbsentGivesTheDefaults) {
    auto r = load_with("");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->rollout, RolloutSettings{});
    EXPECT_FALSE(r.settings->rollout.ramp.gate);
    EXPECT_EQ(r.settings->log.event_log, "");
    // An empty [rollout] too.
    r = load_with("[rollout]\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->rollout, RolloutSettings{});
}

TEST(ConfigRollout, TheDesignBlockIsTheDefaultsWithoutADiagnostic) {
    auto r = load_with(kDesignRollout);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    RolloutSettings expected;
    expected.webhooks.push_back(WebhookSettings{});
    expected.webhooks[0].url = "https://hooks.example.com/deploys";
    EXPECT_EQ(r.settings->rollout, expected);
}

TEST(ConfigRollout, EveryKeySetToANonDefaultValue) {
    auto r = load_with(R"toml([log]
event_log = "/var/log/switchyard/events.log"
[rollout]
steps = [0.5, 2.25, 10, 99.99, 100]
bake = "0"
promote = "manual"
interval = "100ms"
min_requests = 1
max_error_increase = 0
max_error_rate = 100
confidence = 0.9999
max_p99_ratio = 1
min_p99_delta = "0"
failure_limit = 1000
max_hold = "0"
on_no_data = "advance"
gate_url = "http://[::1]:8080/gate?pool=x"
[[rollout.webhooks]]
url = "https://hooks.slack.com/services/T0/B0/XX"
secret = "s3cret"
events = ["aborted", "promoted"]
format = "slack"
timeout = "1ms"
[[rollout.webhooks]]
url = "HTTP://10.0.0.1"
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.log.event_log, "/var/log/switchyard/events.log");
    const RampSettings& ramp = s.rollout.ramp;
    EXPECT_EQ(ramp.steps_bp, (std::vector<std::uint32_t>{50, 225, 1000, 9999, 10000}));
    EXPECT_EQ(ramp.bake, milliseconds(0));
    EXPECT_EQ(ramp.promote, PromoteMode::manual);
    EXPECT_EQ(ramp.interval, milliseconds(100));
    EXPECT_EQ(ramp.analysis.min_requests, 1u);
    EXPECT_EQ(ramp.analysis.max_error_increase, 0.0);
    EXPECT_EQ(ramp.analysis.max_error_rate, 100.0);
    EXPECT_EQ(ramp.analysis.confidence, 0.9999);
    EXPECT_EQ(ramp.analysis.max_p99_ratio, 1.0);
    EXPECT_EQ(ramp.analysis.min_p99_delta, milliseconds(0));
    EXPECT_EQ(ramp.failure_limit, 1000u);
    EXPECT_EQ(ramp.max_hold, milliseconds(0));
    EXPECT_EQ(ramp.on_no_data, OnNoData::advance);
    EXPECT_TRUE(ramp.gate);
    EXPECT_EQ(ramp.gate_retry, RampSettings{}.gate_retry);  // not a config key
    EXPECT_EQ(s.rollout.gate_url, "http://[::1]:8080/gate?pool=x");
    ASSERT_EQ(s.rollout.webhooks.size(), 2u);
    const WebhookSettings& slack = s.rollout.webhooks[0];
    EXPECT_EQ(slack.url, "https://hooks.slack.com/services/T0/B0/XX");
    EXPECT_EQ(slack.secret, "s3cret");
    EXPECT_EQ(slack.events,
              (std::vector<RampEventType>{RampEventType::aborted, RampEventType::promoted}));
    EXPECT_EQ(slack.format, WebhookFormat::slack);
    EXPECT_EQ(slack.timeout, milliseconds(1));
    WebhookSettings plain;
    plain.url = "HTTP://10.0.0.1";
    EXPECT_EQ(s.rollout.webhooks[1], plain);
    EXPECT_EQ(summary(s),
              "config ok: 1 listener, 1 pool (blue: 1 server), active blue, one worker per core, "
              "ramp gate, 2 ramp webhooks");
}

TEST(ConfigRollout, EventLogTakesAPathStdoutStderrOrEmpty) {
    for (std::string value : {"stdout", "stderr", "", "events.log"}) {
        auto r = load_with("[log]\nevent_log = \"" + value + "\"\n");
        ASSERT_TRUE(r.ok()) << value << ::testing::PrintToString(lines(r));
        EXPECT_THAT(lines(r), IsEmpty());
        EXPECT_EQ(r.settings->log.event_log, value);
    }
}

// Each rule once, with the place of the offending value.
TEST(ConfigRollout, EachInvalidValueIsAnErrorAtItsPlace) {
    const std::pair<std::string, std::string> cases[] = {
        // steps
        {"[rollout]\nsteps = 5\n",
         "t.toml:6:9: error: rollout.steps: expected an array, got an integer"},
        {"[rollout]\nsteps = []\n", "t.toml:6:9: error: rollout.steps: steps must not be empty"},
        {"[rollout]\nsteps = [1, \"5\"]\n",
         "t.toml:6:13: error: rollout.steps[1]: expected a number, got a string"},
        {"[rollout]\nsteps = [0, 5]\n",
         "t.toml:6:10: error: rollout.steps[0]: must be above 0 (a step is a canary weight in "
         "(0, 100])"},
        {"[rollout]\nsteps = [1, 100.5]\n",
         "t.toml:6:13: error: rollout.steps[1]: 100.5 is out of range (expected 0 to 100)"},
        {"[rollout]\nsteps = [-1, 5]\n",
         "t.toml:6:10: error: rollout.steps[0]: -1 is out of range (expected 0 to 100)"},
        {"[rollout]\nsteps = [1, 2.125]\n",
         "t.toml:6:13: error: rollout.steps[1]: at most two decimals (0.01 % resolution)"},
        {"[rollout]\nsteps = [1, 25, 5, 100]\n",
         "t.toml:6:17: error: rollout.steps[2]: steps must be ascending: 5 after 25"},
        {"[rollout]\nsteps = [1, 5, 5]\n",
         "t.toml:6:16: error: rollout.steps[2]: steps must be ascending: 5 after 5"},
        {"[rollout]\nsteps = [100]\n",
         "t.toml:6:10: error: rollout.steps[0]: steps need one below 100 (a step of 100 is the "
         "promotion; to promote at once, use switch)"},
        // durations
        {"[rollout]\nbake = 60\n",
         "t.toml:6:8: error: rollout.bake: expected a duration string like \"30s\", got an "
         "integer"},
        {"[rollout]\nbake = \"1.5s\"\n",
         "t.toml:6:8: error: rollout.bake: invalid duration \"1.5s\" (expected an integer with a "
         "unit ms, s, m, h or d, like \"30s\")"},
        {"[rollout]\ninterval = \"0\"\n",
         "t.toml:6:12: error: rollout.interval: must be at least 100ms"},
        {"[rollout]\ninterval = \"99ms\"\n",
         "t.toml:6:12: error: rollout.interval: must be at least 100ms"},
        {"[rollout]\nmax_hold = \"forever\"\n",
         "t.toml:6:12: error: rollout.max_hold: invalid "
         "duration \"forever\" (expected an integer with a "
         "unit ms, s, m, h or d, like \"30s\")"},
        {"[rollout]\nmin_p99_delta = 5\n",
         "t.toml:6:17: error: rollout.min_p99_delta: expected a duration string like \"30s\", got "
         "an integer"},
        // choices
        {"[rollout]\npromote = \"automatic\"\n",
         "t.toml:6:11: error: rollout.promote: invalid value \"automatic\" (expected \"auto\" or "
         "\"manual\"); did you mean \"auto\"?"},
        {"[rollout]\non_no_data = \"hold\"\n",
         "t.toml:6:14: error: rollout.on_no_data: invalid value \"hold\" (expected one of "
         "\"pause\", \"abort\" or \"advance\")"},
        // analysis
        {"[rollout]\nmin_requests = 0\n",
         "t.toml:6:16: error: rollout.min_requests: 0 is out of range (expected 1 to "
         "1000000000)"},
        {"[rollout]\nmin_requests = 2.5\n",
         "t.toml:6:16: error: rollout.min_requests: expected an integer, got a floating-point "
         "number"},
        {"[rollout]\nmax_error_increase = -0.5\n",
         "t.toml:6:22: error: rollout.max_error_increase: -0.5 is out of range (expected 0 to "
         "100)"},
        {"[rollout]\nmax_error_rate = 101\n",
         "t.toml:6:18: error: rollout.max_error_rate: 101 is out of range (expected 0 to 100)"},
        {"[rollout]\nconfidence = 0.5\n",
         "t.toml:6:14: error: rollout.confidence: must be above 0.5 (at 0.5 a coin flip would "
         "fail the canary)"},
        {"[rollout]\nconfidence = 1\n",
         "t.toml:6:14: error: rollout.confidence: 1 is out of range (expected 0.5 to 0.9999)"},
        {"[rollout]\nconfidence = 0.3\n",
         "t.toml:6:14: error: rollout.confidence: 0.3 is out of range (expected 0.5 to 0.9999)"},
        {"[rollout]\nmax_p99_ratio = 0.9\n",
         "t.toml:6:17: error: rollout.max_p99_ratio: 0.9 is out of range (expected 1 to 1000)"},
        {"[rollout]\nfailure_limit = 0\n",
         "t.toml:6:17: error: rollout.failure_limit: 0 is out of range (expected 1 to 1000)"},
        // gate_url
        {"[rollout]\ngate_url = \"hooks.example.com/gate\"\n",
         "t.toml:6:12: error: rollout.gate_url: invalid URL: expected http:// or https:// "
         "(expected http:// or https:// and a host, like \"https://hooks.example.com/deploys\")"},
        {"[rollout]\ngate_url = \"ftp://h/gate\"\n",
         "t.toml:6:12: error: rollout.gate_url: invalid URL: scheme \"ftp\" is not http or https "
         "(expected http:// or https:// and a host, like \"https://hooks.example.com/deploys\")"},
        {"[rollout]\ngate_url = \"https:///gate\"\n",
         "t.toml:6:12: error: rollout.gate_url: invalid URL: no host (expected http:// or "
         "https:// and a host, like \"https://hooks.example.com/deploys\")"},
        {"[rollout]\ngate_url = 1\n",
         "t.toml:6:12: error: rollout.gate_url: expected a string, got an integer"},
        // webhooks
        {"[rollout]\nwebhooks = { url = \"https://h\" }\n",
         "t.toml:6:12: error: rollout.webhooks: expected an array, got a table"},
        {"[[rollout.webhooks]]\nsecret = \"x\"\n",
         "t.toml:5:1: error: rollout.webhooks[0].url: required key is missing"},
        {"[[rollout.webhooks]]\nurl = \"\"\n",
         "t.toml:6:7: error: rollout.webhooks[0].url: must not be empty"},
        {"[[rollout.webhooks]]\nurl = \"https://user:pw@h/x\"\n",
         "t.toml:6:7: error: rollout.webhooks[0].url: invalid URL: credentials (user@) in the URL "
         "are not supported (expected http:// or https:// and a host, like "
         "\"https://hooks.example.com/deploys\")"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nevents = []\n",
         "t.toml:7:10: error: rollout.webhooks[0].events: must not be empty (leave events out to "
         "deliver every event)"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nevents = [\"started\", \"stepped\"]\n",
         "t.toml:7:22: error: rollout.webhooks[0].events[1]: invalid value \"stepped\" (expected "
         "one of \"started\", \"step\", \"holding\", \"paused\", \"aborted\" or \"promoted\"); "
         "did you mean \"step\"?"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nevents = [\"step\", \"aborted\", \"step\"]\n",
         "t.toml:7:30: error: rollout.webhooks[0].events[2]: duplicate event \"step\" (also "
         "rollout.webhooks[0].events[0])"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nformat = \"xml\"\n",
         "t.toml:7:10: error: rollout.webhooks[0].format: invalid value \"xml\" (expected "
         "\"json\" or \"slack\")"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\ntimeout = \"0\"\n",
         "t.toml:7:11: error: rollout.webhooks[0].timeout: must be greater than 0"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nsecret = 5\n",
         "t.toml:7:10: error: rollout.webhooks[0].secret: expected a string, got an integer"},
        // log.event_log
        {"[log]\nevent_log = \"off\"\n",
         "t.toml:6:13: error: log.event_log: the ramp's events cannot be turned off (\"\" writes "
         "them to the error log)"},
        {"[log]\nevent_log = false\n",
         "t.toml:6:13: error: log.event_log: expected a string, got a boolean"},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(extra);
        EXPECT_FALSE(r.ok()) << extra;
        EXPECT_THAT(lines(r), ElementsAre(expected)) << extra;
    }
}

TEST(ConfigRollout, EveryErrorOfTheSectionIsReportedInOneRun) {
    auto r = load_with(
        "[rollout]\nsteps = [5, 1]\nbake = 1\nfailure_limit = 0\n"
        "[[rollout.webhooks]]\nurl = \"x\"\n");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error_count(), 4u) << ::testing::PrintToString(lines(r));
}

TEST(ConfigRollout, UnknownKeysAreErrorsWithAHint) {
    const std::pair<std::string, std::string> cases[] = {
        {"[rollout]\nbake_time = \"60s\"\n",
         "t.toml:6:1: error: rollout.bake_time: unknown key \"bake_time\" (did you mean "
         "\"bake\"?)"},
        {"[rollout]\ngateurl = \"https://h\"\n",
         "t.toml:6:1: error: rollout.gateurl: unknown key \"gateurl\" (did you mean "
         "\"gate_url\"?)"},
        {"[[rollout.webhooks]]\nurl = \"https://h\"\nsecrets = \"x\"\n",
         "t.toml:7:1: error: rollout.webhooks[0].secrets: unknown key \"secrets\" (did you mean "
         "\"secret\"?)"},
        {"[rolout]\nbake = \"60s\"\n",
         "t.toml:5:2: error: rolout: unknown key \"rolout\" (did you mean \"rollout\"?)"},
        {"[log]\nevents_log = \"x\"\n",
         "t.toml:6:1: error: log.events_log: unknown key \"events_log\" (did you mean "
         "\"event_log\"?)"},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(extra);
        EXPECT_FALSE(r.ok()) << extra;
        EXPECT_THAT(lines(r), ElementsAre(expected)) << extra;
    }
}

TEST(ConfigRollout, TheGateIsOnExactlyWhenGateUrlIsSet) {
    auto r = load_with("[rollout]\ngate_url = \"https://deploys.internal/approve\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_TRUE(r.settings->rollout.ramp.gate);
    EXPECT_EQ(summary(*r.settings),
              "config ok: 1 listener, 1 pool (blue: 1 server), active blue, one worker per core, "
              "ramp gate");
    r = load_with("[rollout]\ngate_url = \"\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.settings->rollout.ramp.gate);
}

}  // namespace
}  // namespace switchyard::config

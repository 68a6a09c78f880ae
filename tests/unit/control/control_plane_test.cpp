// ControlPlane over a fake data plane: the order of a routing change
// (persist, publish, acknowledge, reply), the drain cut, the upgrade, the
// `status` reply, wait-drained, and what the audit log records for each
// kind of control line. Reloads: control_plane_reload_test.cpp.
#include <gtest/gtest.h>

#include "control_plane_fixture.hpp"
#include "switchyard/control/state_file.hpp"

namespace switchyard::control::test {
namespace {

using Cut = std::pair<std::string, std::uint64_t>;

// status' "shadow" while mirroring is off (control_plane_shadow_test.cpp
// has it on).
const std::string kShadowOff =
    "\"shadow\":{\"pool\":null,\"percent\":0.000,\"diff\":false,\"sample\":\"user\",\"methods\":"
    "[\"GET\",\"HEAD\",\"OPTIONS\"],\"allow_unsafe\":false,\"health\":null,\"requests\":{\"sent\":"
    "0,\"ok\":0,\"error\":0,\"timeout\":0,\"dropped_overload\":0,\"skipped_method\":0,\"skipped_"
    "body\":0}},";

// What `status` answers in StatusReportsStateRolesServersHealthAndConflicts
// (server.metrics off: the rates are checked apart).
const std::string kStatusLine =
    "{\"ok\":true,\"active\":\"blue\",\"previous\":null,\"canary\":{\"pool\":\"green\",\"weig"
    "ht\":5.00},\"generation\":2,\"config_generation\":3,\"pools\":[{\"name\":\"blue\",\"role"
    "\":\"active\",\"inflight\":2,\"tunnels\":1,\"idle_connections\":3,\"retries\":6,\"retry_"
    "budget_exhausted\":7,\"canary_failovers\":8,\"fallbacks\":9,\"servers\":[{\"address\":\""
    "127.0.0.1:9001\",\"admin\":\"draining\",\"weight\":1,\"inflight\":2,\"tunnels\":1,\"idle"
    "_connections\":3,\"requests\":10,\"failures\":1,\"limit_reached\":4,\"responses_5xx\":5,"
    "\"health\":\"ejected\",\"last_check\":\"ok\",\"reason\":\"5 consecutive failures, last: "
    "status 503\",\"ejections\":1}]},{\"name\":\"green\",\"role\":\"canary\",\"inflight\":0,"
    "\"tunnels\":0,\"idle_connections\":0,\"retries\":0,\"retry_budget_exhausted\":0,\"canary"
    "_failovers\":0,\"fallbacks\":0,\"servers\":[{\"address\":\"127.0.0.1:9002\",\"admin\":\""
    "enabled\",\"weight\":1,\"inflight\":0,\"tunnels\":0,\"idle_connections\":0,\"requests\":"
    "0,\"failures\":0,\"limit_reached\":0,\"responses_5xx\":0}]}],\"flags\":[]," +
    kShadowOff +
    "\"conflicts\":[\"active gre"
    "en from state; config says blue\"],\"ramp\":null,\"unacknowledged_aborts\":[]}";

// DESIGN.md "Data plane and control plane are separate": persist, publish,
// wait for every worker's ack, then reply.
TEST_F(ControlPlaneTest, ASwitchIsPersistedAndPublishedBeforeTheReply) {
    data_plane_.hold_acks = true;
    EXPECT_TRUE(send("switch green").empty()) << "no reply before the workers acknowledged";
    ASSERT_EQ(data_plane_.published.size(), 1u);
    EXPECT_EQ(data_plane_.published[0].active, "green");
    EXPECT_EQ(data_plane_.published[0].generation, 1u);
    // Durable before visible: the state file already holds it.
    RuntimeState saved;
    RolloutSnapshot rollout;
    std::string error;
    ASSERT_EQ(load_state_file(state_path(), saved, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(saved, data_plane_.published[0]);
    EXPECT_TRUE(audit_lines().empty()) << "audited once applied";

    ASSERT_EQ(data_plane_.held_acks.size(), 1u);
    data_plane_.held_acks[0]();
    EXPECT_EQ(reply_line(),
              "{\"ok\":true,\"changed\":true,\"active\":\"green\",\"previous\":\"blue\","
              "\"canary\":{\"pool\":\"blue\",\"weight\":0.00},\"generation\":1,"
              "\"draining\":\"blue\"}");
    EXPECT_EQ(plane_->runtime(), data_plane_.published[0]);
    EXPECT_EQ(audit_lines().size(), 1u);
}

TEST_F(ControlPlaneTest, ASwitchToTheActivePoolPublishesNothing) {
    auto r = send("switch blue");
    EXPECT_TRUE(r["ok"].as_bool());
    EXPECT_FALSE(r["changed"].as_bool());
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_FALSE(fs::exists(state_path())) << "nothing to persist";
}

TEST_F(ControlPlaneTest, WhenTheStateFileCannotBeWrittenNothingIsPublished) {
    // The state file's directory is a regular file: no write can succeed.
    const auto blocker = dir_ / "not-a-directory";
    std::ofstream(blocker) << "x";
    ConfigText c;
    c.state_file = (blocker / "state.json").string();
    write_config(c);
    start();
    const RuntimeState before = plane_->runtime();
    audit_lines();
    for (const char* line :
         {"switch green", "canary green 5", "server blue 127.0.0.1:9001 drain"}) {
        auto r = send(line);
        EXPECT_FALSE(r["ok"].as_bool()) << line;
        const std::string error(r["error"].as_string());
        EXPECT_EQ(error.rfind("cannot write the state file: ", 0), 0u) << error;
        EXPECT_NE(error.find("; nothing changed"), std::string::npos) << error;
    }
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_EQ(plane_->runtime(), before);
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].rfind(std::string(kWho) + "command=\"switch green\" failed: ", 0), 0u)
        << lines[0];
}

// A switch's drain cut is scheduled with the switch's generation, so that
// only what started on the old pool before the switch is cut.
TEST_F(ControlPlaneTest, TheDrainCutCarriesTheSwitchsGeneration) {
    ASSERT_TRUE(send("switch green drain=20ms")["ok"].as_bool());
    EXPECT_TRUE(data_plane_.cuts.empty()) << "not before the drain time";
    run_timers();
    EXPECT_EQ(data_plane_.cuts, (std::vector<Cut>{{"blue", 1}}));
}

TEST_F(ControlPlaneTest, APoolThatServesAgainWhenItsDrainEndsIsNotCut) {
    ASSERT_TRUE(send("switch green drain=20ms")["ok"].as_bool());  // 1: blue drains
    ASSERT_TRUE(send("switch blue drain=40ms")["ok"].as_bool());   // 2: green drains
    run_timers();
    // blue is active again when its cut is due; green, at canary 0, is cut.
    EXPECT_EQ(data_plane_.cuts, (std::vector<Cut>{{"green", 2}}));
}

TEST_F(ControlPlaneTest, OverlappingDrainsEachCutTheirOwnGeneration) {
    // The three switches come well within the first drain time.
    ASSERT_TRUE(send("switch green drain=300ms")["ok"].as_bool());  // 1: blue drains
    ASSERT_TRUE(send("switch blue drain=300ms")["ok"].as_bool());   // 2: green drains
    ASSERT_TRUE(send("switch green drain=300ms")["ok"].as_bool());  // 3: blue drains again
    run_timers();
    // Requests that started on blue while it was active again (generation
    // 2) are the third switch's to cut, not the first's.
    EXPECT_EQ(data_plane_.cuts, (std::vector<Cut>{{"blue", 1}, {"blue", 3}}));
}

TEST_F(ControlPlaneTest, ACanaryChangeSchedulesNoCut) {
    ASSERT_TRUE(send("canary green 5")["ok"].as_bool());
    ASSERT_TRUE(send("canary green 0")["ok"].as_bool());
    run_timers();
    EXPECT_TRUE(data_plane_.cuts.empty());
}

// The health gate (DESIGN.md): no users to a pool that cannot serve them
// unless forced; stopping a canary is never gated.
TEST_F(ControlPlaneTest, TheHealthGateRefusesAnUnhealthyTargetUnlessForced) {
    mark_unhealthy("green", "127.0.0.1:9002");

    auto refused = send("switch green");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_NE(std::string(refused["error"].as_string()).find("add force to override"),
              std::string::npos)
        << json::serialize(refused);
    EXPECT_TRUE(data_plane_.published.empty());
    audit_lines();

    ASSERT_TRUE(send("canary green 5 force")["ok"].as_bool());
    const auto forced = audit_lines();
    ASSERT_EQ(forced.size(), 1u);
    EXPECT_NE(forced[0].find("(forced past the health gate: "), std::string::npos) << forced[0];
    EXPECT_TRUE(send("canary green 0")["ok"].as_bool()) << "an emergency stop is never gated";
}

TEST_F(ControlPlaneTest, ChangesAreAuditedWithOldAndNewState) {
    ASSERT_TRUE(send("canary green 5")["ok"].as_bool());
    ASSERT_TRUE(send("server blue 127.0.0.1:9001 weight 3")["ok"].as_bool());
    ASSERT_TRUE(send("switch green")["ok"].as_bool());
    ASSERT_TRUE(send("switch green")["ok"].as_bool());  // no change
    EXPECT_EQ(
        audit_lines(),
        (std::vector<std::string>{
            std::string(kWho) +
                "command=\"canary green 5\" active=blue generation=0 -> active=blue "
                "canary=green:5.00% generation=1",
            std::string(kWho) + "command=\"server blue 127.0.0.1:9001 weight 3\" active=blue "
                                "canary=green:5.00% generation=1 -> active=blue canary=green:5.00% "
                                "generation=2 server=blue/127.0.0.1:9001:enabled,weight=3",
            std::string(kWho) +
                "command=\"switch green\" active=blue canary=green:5.00% generation=2 "
                "server=blue/127.0.0.1:9001:enabled,weight=3 -> active=green previous=blue "
                "canary=blue:0.00% generation=3 server=blue/127.0.0.1:9001:enabled,weight=3",
            std::string(kWho) + "command=\"switch green\" ok, no change"}));
}

TEST_F(ControlPlaneTest, RefusedCommandsAreAuditedWithTheirReason) {
    EXPECT_FALSE(send("canary blue 5")["ok"].as_bool());
    EXPECT_FALSE(send("switch green if-generation=9")["ok"].as_bool());
    EXPECT_FALSE(send("ramp blue")["ok"].as_bool());  // the active pool
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].rfind(std::string(kWho) + "command=\"canary blue 5\" refused: ", 0), 0u)
        << lines[0];
    EXPECT_EQ(lines[1].rfind(std::string(kWho) + "command=\"switch green if-generation=9\" "
                                                 "refused: ",
                             0),
              0u)
        << lines[1];
    EXPECT_NE(lines[1].find("generation"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[2].rfind(std::string(kWho) + "command=\"ramp blue\" refused: ", 0), 0u)
        << lines[2];
    EXPECT_TRUE(data_plane_.published.empty());
}

TEST_F(ControlPlaneTest, CommandsDuringAnUpgradeAreRefusedAndAudited) {
    send("upgrade");
    ASSERT_TRUE(data_plane_.upgrade_done);
    EXPECT_FALSE(send("switch green")["ok"].as_bool());
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    data_plane_.upgrade_done({false, 0, 0, "the new binary exited"});
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{
                  std::string(kWho) + "command=\"upgrade\" started",
                  std::string(kWho) + "command=\"switch green\" refused: upgrade in progress",
                  std::string(kWho) + "command=\"reload\" refused: upgrade in progress",
                  std::string(kWho) + "command=\"upgrade\" failed: the new binary exited"}));
}

TEST_F(ControlPlaneTest, UnparseableLinesAreAuditedQuotedAndReadOnlyCommandsAreNot) {
    send("status");
    send("wait-drained blue timeout=1s");
    EXPECT_TRUE(audit_lines().empty());
    send("swtich green");
    // A quote, a control character or a byte that is not UTF-8 cannot forge
    // an audit line: the line is a JSON string.
    send("switch \"x\" ok\x01\xff");
    send(std::string(300, 'a'));
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{
                  std::string(kWho) +
                      "command=\"swtich green\" unparseable: unknown command swtich (commands: "
                      "status, switch, canary, promote, rollback, wait-drained, server, reload, "
                      "upgrade, ramp, flag, shadow, diff, cluster)",
                  std::string(kWho) +
                      "command=\"switch \\\"x\\\" ok\\u0001\\ufffd\" unparseable: command contains "
                      "a control character",
                  std::string(kWho) + "command=\"" + std::string(256, 'a') +
                      "\"... (300 bytes) unparseable: unknown command " + std::string(300, 'a') +
                      " (commands: status, switch, canary, promote, rollback, wait-drained, "
                      "server, reload, upgrade, ramp, flag, shadow, diff, cluster)"}));
}

// A C1 control (U+0085 here) would act on a terminal: the audit line carries
// it escaped as its code point, and valid UTF-8 as is.
TEST_F(ControlPlaneTest, AuditEscapesC1ControlsAndKeepsValidUtf8) {
    send("switch gr\xc2\x85n caf\xc3\xa9");
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].rfind(std::string(kWho) + "command=\"switch gr\\u0085n caf\xc3\xa9\" ", 0),
              0u)
        << lines[0];
}

TEST_F(ControlPlaneTest, ASuccessfulUpgradeRepliesWithBothPidsAndKeepsRefusing) {
    EXPECT_TRUE(send("upgrade binary=/usr/sbin/switchyard").empty()) << "not before it ends";
    const auto upgrade_reply = answer_;
    EXPECT_EQ(data_plane_.upgrade_binary, "/usr/sbin/switchyard");
    EXPECT_FALSE(send("canary green 5")["ok"].as_bool());
    EXPECT_FALSE(send("upgrade")["ok"].as_bool()) << "one upgrade at a time";
    EXPECT_TRUE(send("status")["ok"].as_bool()) << "read-only commands still answer";
    EXPECT_TRUE(send("wait-drained blue timeout=1s")["ok"].as_bool());
    audit_lines();

    data_plane_.upgrade_done({true, 4300, 4242, {}});
    EXPECT_EQ(*upgrade_reply, "{\"ok\":true,\"pid\":4300,\"old_pid\":4242}");
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{std::string(kWho) + "command=\"upgrade binary=/usr/sbin/"
                                                            "switchyard\" ok, new pid 4300"}));
    // This process only drains now: the successor takes the commands.
    EXPECT_EQ(json::serialize(send("switch green")),
              "{\"ok\":false,\"error\":\"upgrade in progress\"}");
    EXPECT_TRUE(data_plane_.published.empty());
}

TEST_F(ControlPlaneTest, AFailedUpgradeRepliesWithTheErrorAndCommandsWorkAgain) {
    send("upgrade");
    data_plane_.upgrade_done(
        {false, 0, 0,
         "upgrade failed: cannot execute /x: No such file; this process keeps serving"});
    EXPECT_EQ(reply_line(),
              "{\"ok\":false,\"error\":\"upgrade failed: cannot execute /x: No such file; this "
              "process keeps serving\"}");
    EXPECT_TRUE(send("switch green")["ok"].as_bool());
}

TEST_F(ControlPlaneTest, ShuttingDownRefusesChangesButNotStatus) {
    plane_->set_stopping();
    EXPECT_EQ(json::serialize(send("switch green")), "{\"ok\":false,\"error\":\"shutting down\"}");
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    EXPECT_FALSE(send("upgrade")["ok"].as_bool());
    EXPECT_FALSE(data_plane_.upgrade_done) << "no upgrade was started";
    EXPECT_TRUE(send("status")["ok"].as_bool());
    EXPECT_TRUE(data_plane_.published.empty());
}

// `status`: the routing state, each pool's role and each server's admin
// state, weight, counts and health, the config generation and the
// conflicts between state and config. The line is pinned byte for byte:
// operators' scripts parse it.
TEST_F(ControlPlaneTest, StatusReportsStateRolesServersHealthAndConflicts) {
    ConfigText c;
    c.extra = "metrics = false\n";
    write_config(c);
    start(3, {"active green from state; config says blue"});
    ASSERT_TRUE(send("canary green 5")["ok"].as_bool());
    ASSERT_TRUE(send("server blue 127.0.0.1:9001 drain")["ok"].as_bool());
    ServerStats& blue = data_plane_.traffic.servers[{"blue", "127.0.0.1:9001"}];
    blue.inflight = 2;
    blue.tunnels = 1;
    blue.idle_connections = 3;
    blue.attempts = 10;
    blue.failures = 1;
    blue.limited = 4;
    blue.responses[4] = 5;
    PoolStats& blue_pool = data_plane_.traffic.pools["blue"];
    blue_pool.retries = 6;
    blue_pool.budget_exhausted = 7;
    blue_pool.canary_failovers = 8;
    blue_pool.fallbacks = 9;
    auto health = std::make_shared<HealthView>(1);
    ServerHealth ejected;
    ejected.state = HealthState::ejected;
    ejected.ejections = 1;
    ejected.last_check = {CheckOutcome::ok, 200, {}};
    ejected.reason = "5 consecutive failures, last: status 503";
    health->set("blue", "127.0.0.1:9001", ejected);
    data_plane_.health_view = health;

    auto status = send("status");
    EXPECT_EQ(reply_line(), kStatusLine);
    EXPECT_TRUE(audit_lines().size() == 2u) << "status itself is not audited";
    // The same, read as a client would.
    EXPECT_EQ(status["active"].as_string(), "blue");
    EXPECT_EQ(status["config_generation"].as_int64(), 3);
    const auto& pools = status["pools"].as_array();
    ASSERT_EQ(pools.size(), 2u);
    EXPECT_EQ(pools[0].as_object().at("role").as_string(), "active");
    EXPECT_EQ(pools[1].as_object().at("role").as_string(), "canary");
    const auto& server = pools[0].as_object().at("servers").as_array()[0].as_object();
    EXPECT_EQ(server.at("admin").as_string(), "draining");
    EXPECT_EQ(server.at("health").as_string(), "ejected");
    EXPECT_EQ(server.at("inflight").as_int64(), 2);
    // A server the health view does not know yet has no health fields.
    const auto& green = pools[1].as_object().at("servers").as_array()[0].as_object();
    EXPECT_FALSE(green.contains("health"));
}

TEST_F(ControlPlaneTest, StatusShowsPreviousAndStandbyRoles) {
    ASSERT_TRUE(send("switch green")["ok"].as_bool());
    auto pools = send("status")["pools"].as_array();
    EXPECT_EQ(pools[0].as_object().at("role").as_string(), "previous");  // blue, canary at 0
    EXPECT_EQ(pools[1].as_object().at("role").as_string(), "active");
    start();  // fresh: green is neither canary nor previous
    pools = send("status")["pools"].as_array();
    EXPECT_EQ(pools[1].as_object().at("role").as_string(), "standby");
}

// With server.metrics (the default) each pool has its request rates over
// the last 10 s and 60 s; quantiles are null without requests.
TEST_F(ControlPlaneTest, StatusCarriesEachPoolsRatesWithMetricsOn) {
    auto pools = send("status")["pools"].as_array();
    for (const auto& p : pools) {
        const auto& rates = p.as_object().at("rates").as_object();
        for (const char* window : {"10s", "60s"}) {
            const auto& w = rates.at(window).as_object();
            EXPECT_EQ(w.at("requests").as_int64(), 0);
            EXPECT_EQ(w.at("requests_per_second").to_number<double>(), 0.0);
            EXPECT_TRUE(w.at("p50_ms").is_null());
            EXPECT_TRUE(w.at("p99_ms").is_null());
        }
    }
}

// The rates pinned byte for byte: numbers in fixed form with a set number
// of decimals (1.500, never 1.5E0), quantiles null in a window without
// requests. blue's last 10 s: three requests over 2 s, one an error;
// p50 is the upper end of 1500 µs's bucket, p90 and p99 the exact maximum.
TEST_F(ControlPlaneTest, StatusRatesHaveFixedDecimals) {
    PoolStats& blue = data_plane_.traffic.pools["blue"];
    for (std::uint64_t micros : {1500, 1500, 3000})
        blue.last_10s.latency.record(micros);
    blue.last_10s.errors = 1;
    blue.last_10s.span = std::chrono::seconds(2);
    send("status");
    const std::string idle_window =
        "{\"requests\":0,\"requests_per_second\":0.000,\"errors_per_second\":0.000,"
        "\"error_ratio\":0.000000,\"p50_ms\":null,\"p90_ms\":null,\"p99_ms\":null,"
        "\"span_s\":0.000}";
    const std::string counts =
        "\"inflight\":0,\"tunnels\":0,\"idle_connections\":0,\"retries\":0,\"retry_budget_"
        "exhausted\":0,\"canary_failovers\":0,\"fallbacks\":0,";
    const auto server = [](const char* address) {
        return std::string("\"servers\":[{\"address\":\"") + address +
               "\",\"admin\":\"enabled\",\"weight\":1,\"inflight\":0,\"tunnels\":0,\"idle_"
               "connections\":0,\"requests\":0,\"failures\":0,\"limit_reached\":0,\"responses_"
               "5xx\":0}]";
    };
    EXPECT_EQ(reply_line(),
              "{\"ok\":true,\"active\":\"blue\",\"previous\":null,\"canary\":{\"pool\":null,"
              "\"weight\":0.00},\"generation\":0,\"config_generation\":1,\"pools\":[{\"name\":"
              "\"blue\",\"role\":\"active\"," +
                  counts +
                  "\"rates\":{\"10s\":{\"requests\":3,\"requests_per_second\":1.500,"
                  "\"errors_per_second\":0.500,\"error_ratio\":0.333333,\"p50_ms\":1.503,"
                  "\"p90_ms\":3.000,\"p99_ms\":3.000,\"span_s\":2.000},\"60s\":" +
                  idle_window + "}," + server("127.0.0.1:9001") +
                  "},{\"name\":\"green\",\"role\":\"standby\"," + counts +
                  "\"rates\":{\"10s\":" + idle_window + ",\"60s\":" + idle_window + "}," +
                  server("127.0.0.1:9002") + "}],\"flags\":[]," + kShadowOff +
                  "\"conflicts\":[],\"ramp\":null,\"unacknowledged_aborts\":[]}");
}

TEST_F(ControlPlaneTest, WaitDrainedAnswersAtOnceWhenNothingIsLeft) {
    auto r = send("wait-drained blue timeout=1s");
    EXPECT_TRUE(r["ok"].as_bool());
    EXPECT_TRUE(r["drained"].as_bool());
    EXPECT_EQ(r["pool"].as_string(), "blue");
    EXPECT_EQ(r["inflight"].as_int64(), 0);
}

TEST_F(ControlPlaneTest, WaitDrainedTimesOutWithWhatIsLeft) {
    ServerStats& s = data_plane_.traffic.servers[{"blue", "127.0.0.1:9001"}];
    s.inflight = 1;
    s.tunnels = 2;
    s.idle_connections = 3;
    // Another pool's requests do not count.
    data_plane_.traffic.servers[{"green", "127.0.0.1:9002"}].inflight = 9;
    EXPECT_TRUE(send("wait-drained blue timeout=50ms").empty()) << "it polls until the timeout";
    run_timers();
    auto r = reply();
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_FALSE(r["drained"].as_bool());
    EXPECT_EQ(r["error"].as_string(),
              "timeout: pool blue still has 1 requests in flight, 2 tunnels and 3 idle upstream "
              "connections");
    EXPECT_EQ(r["inflight"].as_int64(), 1);
    EXPECT_EQ(r["tunnels"].as_int64(), 2);
    EXPECT_EQ(r["idle_connections"].as_int64(), 3);
    EXPECT_GE(r["waited_ms"].as_int64(), 50);
}

TEST_F(ControlPlaneTest, WaitDrainedForAnUnknownPoolIsAnError) {
    EXPECT_EQ(json::serialize(send("wait-drained orange")),
              "{\"ok\":false,\"error\":\"pool orange does not exist\"}");
}

}  // namespace
}  // namespace switchyard::control::test

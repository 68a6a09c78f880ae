// The shadow command through the control plane (DESIGN.md "Dark launch"):
// the routing-change path (state file before publish, generation,
// if-generation, audit), its replies, and `diff`.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "control_plane_fixture.hpp"
#include "switchyard/control/state_file.hpp"

namespace switchyard::control::test {
namespace {

using ShadowTest = ControlPlaneTest;

constexpr const char* kRoutingHead =
    "{\"ok\":true,\"changed\":true,\"active\":\"blue\",\"previous\":null,\"canary\":{\"pool\":"
    "null,\"weight\":0.00},";

TEST_F(ShadowTest, ShadowIsPersistedAndPublishedBeforeTheReply) {
    data_plane_.hold_acks = true;
    EXPECT_TRUE(send("shadow green 10 diff").empty()) << "no reply before the acknowledgements";
    ASSERT_EQ(data_plane_.published.size(), 1u);
    EXPECT_EQ(data_plane_.published[0].shadow, (ShadowRuntime{"green", 10000, true}));
    EXPECT_EQ(data_plane_.published[0].generation, 1u);
    RuntimeState saved;
    RolloutSnapshot rollout;
    std::string error;
    ASSERT_EQ(load_state_file(state_path(), saved, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(saved, data_plane_.published[0]);

    ASSERT_EQ(data_plane_.held_acks.size(), 1u);
    data_plane_.held_acks[0]();
    EXPECT_EQ(reply_line(), std::string(kRoutingHead) +
                                "\"generation\":1,\"shadow\":{\"pool\":\"green\",\"percent\":"
                                "10.000,\"diff\":true}}");
    EXPECT_EQ(plane_->runtime().shadow, (ShadowRuntime{"green", 10000, true}));
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{std::string(kWho) +
                                        "command=\"shadow green 10 diff\" active=blue generation=0 "
                                        "shadow=off -> active=blue generation=1 "
                                        "shadow=green:10.000%:diff"}));
}

TEST_F(ShadowTest, ShadowOffRepliesWithAPoollessShadow) {
    // The config names the pool (at 0 %): off must be recorded in the state
    // file, or a restart would bring the config's shadow back.
    ConfigText c;
    c.extra = "[shadow]\npool = \"green\"\n";
    write_config(c);
    start();
    ASSERT_TRUE(send("shadow green 0.5")["ok"].as_bool());
    auto r = send("shadow off if-generation=1");
    ASSERT_TRUE(r["ok"].as_bool()) << reply_line();
    EXPECT_EQ(reply_line(), std::string(kRoutingHead) +
                                "\"generation\":2,\"shadow\":{\"pool\":null,\"percent\":0.000,"
                                "\"diff\":false}}");
    EXPECT_EQ(plane_->runtime().shadow, ShadowRuntime{});
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], std::string(kWho) +
                            "command=\"shadow green 0.5\" active=blue generation=0 "
                            "shadow=green:0.000% -> active=blue generation=1 shadow=green:0.500%");
    EXPECT_EQ(lines[1], std::string(kWho) +
                            "command=\"shadow off if-generation=1\" active=blue generation=1 "
                            "shadow=green:0.500% -> active=blue generation=2 shadow=off");
    // The state file says off, so a restart does not bring the config's back.
    RuntimeState saved;
    saved.shadow = {"green", 1, false};
    RolloutSnapshot rollout;
    std::string error;
    ASSERT_EQ(load_state_file(state_path(), saved, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(saved.shadow, ShadowRuntime{});
}

TEST_F(ShadowTest, TheSameShadowAgainIsNoChangeAndStillShowsIt) {
    ASSERT_TRUE(send("shadow green 10")["ok"].as_bool());
    auto r = send("shadow green 10.000");
    EXPECT_TRUE(r["ok"].as_bool());
    EXPECT_FALSE(r["changed"].as_bool());
    EXPECT_EQ(r["shadow"].as_object()["pool"].as_string(), "green");
    EXPECT_EQ(data_plane_.published.size(), 1u);
    // Off when already off: no change, the shadow object says off.
    ASSERT_TRUE(send("shadow off")["ok"].as_bool());
    r = send("shadow off");
    EXPECT_FALSE(r["changed"].as_bool());
    EXPECT_TRUE(r["shadow"].as_object()["pool"].is_null());
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1], std::string(kWho) + "command=\"shadow green 10.000\" ok, no change");
    EXPECT_EQ(lines[3], std::string(kWho) + "command=\"shadow off\" ok, no change");
}

TEST_F(ShadowTest, RefusalsChangeNothing) {
    for (const char* line :
         {"shadow blue 5", "shadow purple 5", "shadow green 5 if-generation=4"}) {
        auto r = send(line);
        EXPECT_FALSE(r["ok"].as_bool()) << line;
    }
    EXPECT_EQ(send("shadow blue 5")["error"].as_string(),
              "blue is the active pool; a shadow pool must be another pool");
    EXPECT_EQ(send("shadow purple 5")["error"].as_string(), "pool purple does not exist");
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_FALSE(fs::exists(state_path()));
    EXPECT_EQ(plane_->runtime().shadow, ShadowRuntime{});
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].rfind(std::string(kWho) + "command=\"shadow blue 5\" refused: ", 0), 0u)
        << lines[0];
    EXPECT_EQ(lines[2].rfind(
                  std::string(kWho) + "command=\"shadow green 5 if-generation=4\" refused: ", 0),
              0u)
        << lines[2];
}

// Without a shadow pool in the config, an off state is not written: the
// state file stays what it was before mirroring existed.
TEST_F(ShadowTest, OffIsNotWrittenWhenTheConfigHasNoShadow) {
    ASSERT_TRUE(send("shadow green 10")["ok"].as_bool());
    std::ifstream on(state_path());
    EXPECT_NE(std::string(std::istreambuf_iterator<char>(on), {}).find("\"shadow\""),
              std::string::npos);
    ASSERT_TRUE(send("shadow off")["ok"].as_bool());
    std::ifstream off(state_path());
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(off), {}).find("\"shadow\""),
              std::string::npos);
}

// Once mirroring is on, every mutating reply and audit line carries it.
TEST_F(ShadowTest, OtherChangesCarryTheShadowWhileItIsOn) {
    ASSERT_TRUE(send("shadow green 10")["ok"].as_bool());
    audit_lines();
    auto r = send("server blue 127.0.0.1:9001 drain");
    ASSERT_TRUE(r["ok"].as_bool());
    EXPECT_EQ(r["shadow"].as_object()["percent"].as_double(), 10.0);
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{
                  std::string(kWho) +
                  "command=\"server blue 127.0.0.1:9001 drain\" active=blue generation=1 "
                  "shadow=green:10.000% -> active=blue generation=2 "
                  "server=blue/127.0.0.1:9001:draining shadow=green:10.000%"}));
}

TEST_F(ShadowTest, ShadowIsRefusedDuringAnUpgrade) {
    send("upgrade");
    ASSERT_TRUE(data_plane_.upgrade_done);
    EXPECT_EQ(send("shadow green 5")["error"].as_string(), "upgrade in progress");
    data_plane_.upgrade_done({false, 0, 0, "the new binary exited"});
    EXPECT_TRUE(data_plane_.published.empty());
}

// status shows the shadow pool's health (never a gate: an unhealthy shadow
// pool still takes the command) and its copies by result.
TEST_F(ShadowTest, StatusShowsTheShadowHealthAndCounts) {
    mark_unhealthy("green", "127.0.0.1:9002");
    ASSERT_TRUE(send("shadow green 25 diff")["ok"].as_bool()) << reply_line();
    WorkerStats w;
    ShadowCounts counts{};
    counts[static_cast<std::size_t>(ShadowResult::sent)] = 4;
    counts[static_cast<std::size_t>(ShadowResult::ok)] = 3;
    counts[static_cast<std::size_t>(ShadowResult::skipped_method)] = 2;
    w.shadow_requests["green"] = counts;
    data_plane_.traffic.add(w);
    send("status");
    const std::string& line = reply_line();
    EXPECT_NE(line.find("\"shadow\":{\"pool\":\"green\",\"percent\":25.000,\"diff\":true,"
                        "\"sample\":\"user\",\"methods\":[\"GET\",\"HEAD\",\"OPTIONS\"],"
                        "\"allow_unsafe\":false,\"health\":{\"healthy\":0,\"servers\":1},"
                        "\"requests\":{\"sent\":4,\"ok\":3,\"error\":0,\"timeout\":0,"
                        "\"dropped_overload\":0,\"skipped_method\":2,\"skipped_body\":0}},"
                        "\"conflicts\""),
              std::string::npos)
        << line;
}

// `diff` reads the workers' summed comparison table with the noise rule
// applied; `diff reset` forgets it (audited) and is refused, as any change,
// during an upgrade, while `diff` still answers.
TEST_F(ShadowTest, DiffReportsAndResetsTheComparisons) {
    ASSERT_TRUE(send("shadow green 10 diff")["ok"].as_bool());
    const std::vector<std::string> price = {"$.price"};
    for (int i = 0; i < 4; ++i)
        data_plane_.traffic.diff.record_candidate("/api/items",
                                                  i == 0 ? std::vector<std::string>{} : price);
    data_plane_.traffic.diff.record_skipped("/api/items");
    auto r = send("diff");
    ASSERT_TRUE(r["ok"].as_bool()) << reply_line();
    EXPECT_EQ(reply_line(),
              "{\"ok\":true,\"pool\":\"green\",\"enabled\":true,\"secondary\":true,"
              "\"relative_threshold\":0.2000,\"absolute_threshold\":0.0300,\"max_routes\":100,"
              "\"other_routes\":false,\"routes\":[{\"route\":\"/api/items\",\"compared\":4,"
              "\"equal\":1,\"skipped\":1,\"secondary_compared\":0,\"differing_fields\":1,"
              "\"fields\":[{\"field\":\"$.price\",\"differing\":3,\"rate\":0.750000,"
              "\"noise_differing\":0,\"noise_rate\":0.000000,\"noise\":false}]}]}");
    r = send("diff reset");
    EXPECT_EQ(reply_line(), "{\"ok\":true,\"reset\":true}");
    EXPECT_EQ(data_plane_.diff_resets, 1);
    EXPECT_EQ(send("diff")["routes"].as_array().size(), 0u);
    EXPECT_EQ(audit_lines().back(), std::string(kWho) + "command=\"diff reset\" ok");
    send("upgrade");
    EXPECT_TRUE(send("diff")["ok"].as_bool());
    EXPECT_EQ(send("diff reset")["error"].as_string(), "upgrade in progress");
    EXPECT_EQ(data_plane_.diff_resets, 1);
    data_plane_.upgrade_done({false, 0, 0, "the new binary exited"});
}

}  // namespace
}  // namespace switchyard::control::test

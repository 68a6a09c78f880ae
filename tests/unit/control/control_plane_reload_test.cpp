// ControlPlane's reload over a fake data plane: the config generation, the
// refusals of DESIGN.md "State" (core/reload_rules) and of the data plane
// (TLS files, listeners), what a refused reload leaves untouched, and what
// systemd and the audit log hear.
#include <gtest/gtest.h>

#include "control_plane_fixture.hpp"

namespace switchyard::control::test {
namespace {

TEST_F(ControlPlaneTest, ConfigGenerationCountsSuccessfulReloads) {
    EXPECT_EQ(config_generation(), 1);
    auto ok = send("reload");
    ASSERT_TRUE(ok["ok"].as_bool()) << json::serialize(ok);
    EXPECT_EQ(ok["config_generation"].as_int64(), 2);
    EXPECT_EQ(config_generation(), 2);
    EXPECT_EQ(plane_->config_generation(), 2u);
    // A refused reload leaves it.
    std::ofstream(config_path()) << "[bogus]\n";
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    EXPECT_EQ(config_generation(), 2);
    write_config(7, true);
    ASSERT_TRUE(send("reload")["ok"].as_bool());
    EXPECT_EQ(config_generation(), 3);
    const auto lines = audit_lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], std::string(kWho) + "command=\"reload\" ok: config generation 1 -> 2");
    // The reason with the first error (escaped like everything in the line).
    EXPECT_EQ(lines[1], std::string(kWho) +
                            "command=\"reload\" refused: the configuration has errors; the "
                            "running one is kept: " +
                            config_path() +
                            ":1:2: error: bogus: unknown key \\\"bogus\\\" (and 2 more)");
    EXPECT_EQ(lines[2], std::string(kWho) + "command=\"reload\" ok: config generation 2 -> 3");
}

TEST_F(ControlPlaneTest, AHotUpgradeSuccessorGoesOnFromTheHandedOverGeneration) {
    start(5);
    EXPECT_EQ(config_generation(), 5);
}

TEST_F(ControlPlaneTest, ReloadThatDropsStateEntriesAuditsTheStateChange) {
    ASSERT_TRUE(send("switch green")["ok"].as_bool());
    ASSERT_TRUE(send("switch blue")["ok"].as_bool());  // previous green, canary green 0
    audit_lines();
    write_config(7, false);
    ASSERT_TRUE(send("reload")["ok"].as_bool());
    EXPECT_EQ(
        audit_lines(),
        (std::vector<std::string>{std::string(kWho) +
                                  "command=\"reload\" ok: config generation 1 -> 2; active=blue "
                                  "previous=green canary=green:0.00% generation=2 -> active=blue "
                                  "generation=2"}));
}

// DESIGN.md "State": a reload must not move users between pools.
TEST_F(ControlPlaneTest, ReloadChangingTheSeedMidCanaryIsRefusedAndChangesNothing) {
    ASSERT_TRUE(send("canary green 30")["ok"].as_bool());
    const RuntimeState before = plane_->runtime();
    const auto settings_before = plane_->settings();
    const auto published = data_plane_.published.size();
    audit_lines();
    write_config(8, true);
    auto r = send("reload");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_EQ(r["error"].as_string(),
              "routing.seed cannot change while a canary holds 0 < weight < 100%; the running "
              "configuration is kept");
    EXPECT_EQ(plane_->settings(), settings_before);  // the running config stays
    EXPECT_EQ(plane_->settings()->routing.seed, 7u);
    EXPECT_EQ(plane_->runtime(), before);
    EXPECT_EQ(data_plane_.published.size(), published);  // nothing reached the workers
    EXPECT_EQ(config_generation(), 1);
    EXPECT_EQ(audit_lines(),
              (std::vector<std::string>{std::string(kWho) + "command=\"reload\" refused: " +
                                        std::string(r["error"].as_string())}));
    // At 0 % and at 100 % no user moves: the same change is accepted.
    ASSERT_TRUE(send("canary green 100")["ok"].as_bool());
    EXPECT_TRUE(send("reload")["ok"].as_bool());
    EXPECT_EQ(plane_->settings()->routing.seed, 8u);
    write_config(9, true);
    ASSERT_TRUE(send("canary green 0")["ok"].as_bool());
    EXPECT_TRUE(send("reload")["ok"].as_bool());
    EXPECT_EQ(plane_->settings()->routing.seed, 9u);
}

TEST_F(ControlPlaneTest, ReloadRemovingAWeightedCanaryPoolIsRefusedAndChangesNothing) {
    ASSERT_TRUE(send("canary green 0.01")["ok"].as_bool());
    const RuntimeState before = plane_->runtime();
    const auto settings_before = plane_->settings();
    write_config(7, false);
    auto r = send("reload");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_EQ(r["error"].as_string(),
              "the new configuration has no pool green, a canary pool with a weight above 0; the "
              "running configuration is kept");
    EXPECT_EQ(plane_->settings(), settings_before);
    EXPECT_NE(plane_->settings()->find_pool("green"), nullptr);
    EXPECT_EQ(plane_->runtime(), before);
    EXPECT_EQ(config_generation(), 1);
    // With the canary stopped the pool may go.
    ASSERT_TRUE(send("canary green 0")["ok"].as_bool());
    EXPECT_TRUE(send("reload")["ok"].as_bool());
    EXPECT_EQ(plane_->settings()->find_pool("green"), nullptr);
    EXPECT_EQ(config_generation(), 2);
}

TEST_F(ControlPlaneTest, AReloadThatTheDataPlaneCannotPrepareChangesNothing) {
    data_plane_.prepare_error = "listener 127.0.0.1:1: cannot bind: Address in use";
    const auto settings_before = plane_->settings();
    write_config(8, true);
    auto r = send("reload");
    EXPECT_EQ(json::serialize(r),
              "{\"ok\":false,\"error\":\"listener 127.0.0.1:1: cannot bind: Address in use; "
              "the running configuration is kept\"}");
    EXPECT_EQ(data_plane_.prepared.size(), 1u);
    EXPECT_EQ(plane_->settings(), settings_before);
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_EQ(config_generation(), 1);
    EXPECT_EQ(plane_->reload_stats().failed, 1u);
    EXPECT_FALSE(plane_->reload_stats().last_ok);
}

TEST_F(ControlPlaneTest, AnAcceptedReloadPreparesThenPublishesTheNewSettings) {
    write_config(8, true);
    data_plane_.hold_acks = true;
    EXPECT_TRUE(send("reload").empty()) << "no reply before the workers acknowledged";
    ASSERT_EQ(data_plane_.prepared.size(), 1u);
    ASSERT_EQ(data_plane_.published_settings.size(), 1u);
    EXPECT_EQ(data_plane_.published_settings[0].get(), data_plane_.prepared[0]);
    EXPECT_EQ(data_plane_.published_settings[0]->routing.seed, 8u);
    data_plane_.held_acks[0]();
    auto r = reply();
    EXPECT_TRUE(r["ok"].as_bool());
    EXPECT_EQ(r["config_generation"].as_int64(), 2);
    EXPECT_FALSE(r.contains("warnings"));
    EXPECT_EQ(plane_->reload_stats().succeeded, 1u);
}

TEST_F(ControlPlaneTest, RefusedReloadsPrepareNothing) {
    write_config(7, false);
    ASSERT_TRUE(send("canary green 5")["ok"].as_bool());
    data_plane_.published.clear();
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    std::ofstream(config_path()) << "[bogus]\n";
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    EXPECT_TRUE(data_plane_.prepared.empty()) << "no socket opened, no file loaded";
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_EQ(plane_->reload_stats().failed, 2u);
}

TEST_F(ControlPlaneTest, RestartBoundChangesAreAcceptedWithAWarning) {
    ConfigText c;
    c.extra = "[log]\nlevel = \"debug\"\n[admin]\naddress = \"127.0.0.1:0\"\n";
    write_config(c);
    auto r = send("reload");
    ASSERT_TRUE(r["ok"].as_bool()) << json::serialize(r);
    EXPECT_EQ(json::serialize(r["warnings"]),
              "[\"log target changes take effect at the next restart\","
              "\"admin listener changes take effect at the next restart\"]");
}

// systemd (Type=notify) hears RELOADING=1, then READY=1 whatever the outcome.
TEST_F(ControlPlaneTest, EveryReloadIsAnnouncedAndEndsReady) {
    ASSERT_TRUE(send("reload")["ok"].as_bool());
    std::ofstream(config_path()) << "[bogus]\n";
    EXPECT_FALSE(send("reload")["ok"].as_bool());
    const std::string ready = "ready: reloaded " + config_path();
    EXPECT_EQ(notifications_, (std::vector<std::string>{"reloading", ready, "reloading", ready}));
}

TEST_F(ControlPlaneTest, AReloadRefusedDuringAnUpgradeIsNotAnnounced) {
    send("upgrade");
    EXPECT_EQ(json::serialize(send("reload")), "{\"ok\":false,\"error\":\"upgrade in progress\"}");
    EXPECT_TRUE(notifications_.empty());
}

}  // namespace
}  // namespace switchyard::control::test

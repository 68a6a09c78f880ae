// ControlPlane running a ramp over a fake data plane: the ramp's commands
// go through the same persist → publish → reply path as `canary`, every
// interval the workers' step counts are judged, and what the ramp refuses
// of the other routing commands (DESIGN.md, "Progressive delivery").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "control_plane_fixture.hpp"
#include "switchyard/control/state_file.hpp"

namespace switchyard::control::test {
namespace {

class ControlPlaneRampTest : public ControlPlaneTest {
  protected:
    // Judged every 100 ms; no bake, so a passing step advances at once.
    void SetUp() override {
        config_.extra =
            "[rollout]\ninterval = \"100ms\"\nmin_requests = 20\nsteps = [10, 100]\n"
            "bake = \"0s\"\n";
        start();
    }
    const RuntimeState& runtime() const { return plane_->runtime(); }

    // What the workers counted in the current window: `n` requests a side,
    // `canary_errors` of the canary's failing.
    void count(std::uint64_t n, std::uint64_t canary_errors) {
        ASSERT_FALSE(data_plane_.windows.empty());
        StepWindow w;
        w.id = data_plane_.windows.back();
        for (std::uint64_t i = 0; i < n * 10; ++i)
            w.pools["blue"].record(RequestOutcome::ok, 1000);
        for (std::uint64_t i = 0; i < n; ++i)
            w.pools["green"].record(i < canary_errors ? RequestOutcome::error : RequestOutcome::ok,
                                    1000);
        data_plane_.step_window = w;
    }

    // Runs the control thread until `done` holds (ticks every 100 ms).
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io_.restart();
            io_.run_for(std::chrono::milliseconds(20));
        }
        return true;
    }

    json::object ramp() { return send("status")["ramp"].as_object(); }
    std::string ramp_state() { return std::string(ramp()["state"].as_string()); }
};

TEST_F(ControlPlaneRampTest, StartPersistsAndPublishesTheFirstStep) {
    auto r = send("ramp green");
    ASSERT_TRUE(r["ok"].as_bool()) << reply_line();
    EXPECT_TRUE(r["changed"].as_bool());
    EXPECT_EQ(r["canary"].as_object()["weight"].as_double(), 10.0);
    EXPECT_EQ(r["ramp"].as_object()["state"].as_string(), "running");
    EXPECT_EQ(r["ramp"].as_object()["step"].as_int64(), 1);
    ASSERT_EQ(data_plane_.published.size(), 1u);
    EXPECT_EQ(data_plane_.published[0].canary_pool, "green");
    EXPECT_EQ(data_plane_.published[0].canary_weight_bp, 1000u);
    // Counting starts once the workers have the new weight.
    ASSERT_EQ(data_plane_.windows.size(), 1u);
    EXPECT_NE(data_plane_.windows[0], 0u);
    // Durable: the state file holds the ramp.
    RuntimeState saved;
    RolloutSnapshot rollout;
    std::string error;
    ASSERT_EQ(load_state_file(state_path(), saved, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(saved.canary_weight_bp, 1000u);
    ASSERT_TRUE(rollout.ramp);
    EXPECT_EQ(rollout.ramp->pool, "green");
    const auto audit = audit_lines();
    ASSERT_FALSE(audit.empty());
    EXPECT_NE(audit.back().find("command=\"ramp green\" ok: ramp of green running at step 1"),
              std::string::npos)
        << audit.back();
}

TEST_F(ControlPlaneRampTest, AHealthyCanaryIsPromoted) {
    ASSERT_TRUE(send("ramp green")["ok"].as_bool());
    count(50, 0);
    ASSERT_TRUE(run_until([&] { return runtime().active == "green"; })) << reply_line();
    EXPECT_EQ(ramp_state(), "promoted");
    EXPECT_EQ(runtime().previous, "blue");
    // The old pool's drain is cut after the drain timeout, as after a switch.
    EXPECT_EQ(data_plane_.published.back().active, "green");
    const auto verdicts = ramp()["verdicts"].as_array();
    ASSERT_FALSE(verdicts.empty());
    EXPECT_EQ(verdicts[0].as_object().at("verdict").as_string(), "pass");
    EXPECT_EQ(verdicts[0].as_object().at("canary").as_object().at("requests").as_int64(), 50);
    EXPECT_GE(plane_->ramp_metrics().verdicts[0], 1u);
    EXPECT_EQ(plane_->ramp_metrics().state, "promoted");
    // The counting stopped with the ramp.
    EXPECT_EQ(data_plane_.windows.back(), 0u);
}

TEST_F(ControlPlaneRampTest, AFailingCanaryIsAbortedAndBlockedUntilAck) {
    ASSERT_TRUE(send("ramp green")["ok"].as_bool());
    count(100, 40);
    ASSERT_TRUE(run_until([&] { return runtime().canary_weight_bp == 0; }));
    EXPECT_EQ(ramp_state(), "aborted");
    EXPECT_EQ(runtime().active, "blue");
    auto s = send("status");
    ASSERT_EQ(s["unacknowledged_aborts"].as_array().size(), 1u);
    EXPECT_NE(std::string(ramp()["reason"].as_string()).find("error rate"), std::string::npos);
    EXPECT_GE(plane_->ramp_metrics().verdicts[1], 2u);  // failure_limit judgements failed

    EXPECT_FALSE(send("canary green 5")["ok"].as_bool());
    EXPECT_FALSE(send("switch green")["ok"].as_bool());
    EXPECT_FALSE(send("ramp green")["ok"].as_bool());
    EXPECT_TRUE(send("canary green 5 force")["ok"].as_bool());  // force: audited
    EXPECT_TRUE(send("canary green 0")["ok"].as_bool());
    EXPECT_TRUE(send("ramp ack green")["ok"].as_bool());
    EXPECT_TRUE(send("status")["unacknowledged_aborts"].as_array().empty());
    EXPECT_TRUE(send("ramp green")["ok"].as_bool());
}

TEST_F(ControlPlaneRampTest, CommandsThatWouldFightTheRampAreRefused) {
    ASSERT_TRUE(send("ramp green")["ok"].as_bool());
    const auto published = data_plane_.published.size();
    for (const char* line : {"switch green", "promote", "canary green 50"}) {
        auto r = send(line);
        EXPECT_FALSE(r["ok"].as_bool()) << line;
        EXPECT_NE(std::string(r["error"].as_string()).find("ramp in progress"), std::string::npos)
            << line << ": " << reply_line();
    }
    EXPECT_EQ(data_plane_.published.size(), published);
    EXPECT_FALSE(send("ramp green")["ok"].as_bool());  // one ramp at a time
    EXPECT_TRUE(send("server blue 127.0.0.1:9001 drain")["ok"].as_bool());
}

TEST_F(ControlPlaneRampTest, RollbackIsTheEmergencyStop) {
    ASSERT_TRUE(send("ramp green")["ok"].as_bool());
    auto r = send("rollback");
    ASSERT_TRUE(r["ok"].as_bool()) << reply_line();
    EXPECT_EQ(r["canary"].as_object()["weight"].as_double(), 0.0);
    EXPECT_EQ(r["active"].as_string(), "blue");
    EXPECT_EQ(ramp_state(), "aborted");
    // A human's stop: nothing to acknowledge.
    EXPECT_TRUE(send("status")["unacknowledged_aborts"].as_array().empty());
}

TEST_F(ControlPlaneRampTest, PauseResumeAndIfGeneration) {
    auto refused = send("ramp green if-generation=7");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_EQ(refused["error"].as_string(), "generation is 0, not 7");
    ASSERT_TRUE(send("ramp green if-generation=0")["ok"].as_bool());
    ASSERT_TRUE(send("ramp pause")["ok"].as_bool());
    EXPECT_EQ(ramp_state(), "paused");
    count(50, 0);
    // Paused: judged, never advanced.
    ASSERT_TRUE(run_until([&] { return plane_->ramp_metrics().verdicts[0] >= 2; }));
    EXPECT_EQ(runtime().canary_weight_bp, 1000u);
    ASSERT_TRUE(send("ramp resume")["ok"].as_bool());
    count(50, 0);
    ASSERT_TRUE(run_until([&] { return runtime().active == "green"; }));
}

// A ramp sends users to its pool: the pool's health gate applies, and
// force is audited.
TEST_F(ControlPlaneRampTest, TheHealthGateRefusesARampOfAnUnhealthyPoolUnlessForced) {
    mark_unhealthy("green", "127.0.0.1:9002");

    auto refused = send("ramp green");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_NE(std::string(refused["error"].as_string()).find("green"), std::string::npos)
        << reply_line();
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_TRUE(send("status")["ramp"].is_null());
    audit_lines();

    ASSERT_TRUE(send("ramp green force")["ok"].as_bool()) << reply_line();
    const auto audit = audit_lines();
    ASSERT_FALSE(audit.empty());
    EXPECT_NE(audit.back().find("(forced: "), std::string::npos) << audit.back();
    EXPECT_EQ(runtime().canary_weight_bp, 1000u);
}

TEST_F(ControlPlaneRampTest, ARefusedStartChangesNothing) {
    auto r = send("ramp blue");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_TRUE(data_plane_.published.empty());
    EXPECT_TRUE(send("status")["ramp"].is_null());
    r = send("ramp nosuch");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_FALSE(std::string(r["error"].as_string()).empty());
}

// The disk fails mid-ramp: a step is not taken (the reason says why), but an
// abort takes effect at once and its write is retried until it succeeds.
TEST_F(ControlPlaneRampTest, WhenTheStateFileFailsAnAbortStillTakesEffect) {
    const auto state_dir = dir_ / "state";
    std::filesystem::create_directories(state_dir);
    config_.state_file = (state_dir / "state.json").string();
    config_.extra =
        "[rollout]\ninterval = \"100ms\"\nmin_requests = 20\nsteps = [10, 50, 100]\n"
        "bake = \"0s\"\n";
    start();
    ASSERT_TRUE(send("ramp green")["ok"].as_bool()) << reply_line();
    // The state file's directory becomes a regular file: no write succeeds.
    std::filesystem::remove_all(state_dir);
    std::ofstream(state_dir.string()) << "x";

    count(50, 0);  // a passing step: the next weight cannot be made durable
    ASSERT_TRUE(run_until([&] { return ramp_state() == "holding"; })) << reply_line();
    EXPECT_NE(std::string(ramp()["reason"].as_string()).find("cannot write the state file"),
              std::string::npos)
        << reply_line();
    EXPECT_EQ(runtime().canary_weight_bp, 1000u);

    count(100, 50);  // now failing: the abort is published whatever the disk says
    ASSERT_TRUE(run_until([&] { return runtime().canary_weight_bp == 0; }));
    EXPECT_EQ(ramp_state(), "aborted");
    EXPECT_EQ(data_plane_.published.back().canary_weight_bp, 0u);
    EXPECT_TRUE(send("status").contains("state_file_pending")) << reply_line();

    // The disk is back: the pending write goes through on the next tick.
    std::filesystem::remove(state_dir);
    std::filesystem::create_directories(state_dir);
    ASSERT_TRUE(run_until([&] { return !send("status").contains("state_file_pending"); }));
    RuntimeState saved;
    RolloutSnapshot rollout;
    std::string error;
    ASSERT_EQ(load_state_file(config_.state_file, saved, rollout, error), LoadStatus::ok) << error;
    EXPECT_EQ(saved.canary_weight_bp, 0u);
    ASSERT_TRUE(rollout.ramp);
    EXPECT_EQ(rollout.ramp->state, RampState::aborted);
}

}  // namespace
}  // namespace switchyard::control::test

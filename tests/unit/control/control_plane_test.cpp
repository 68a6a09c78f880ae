// ControlPlane over a fake data plane: what the audit log records for each
// kind of control line, the config generation in `status`, and the reloads
// that DESIGN.md "State" refuses. The config file is real (a temp dir), so
// reload runs its whole path; publishing is acknowledged at once.
#include "switchyard/control/control_plane.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "switchyard/config/config_loader.hpp"

namespace switchyard::control {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// A fresh directory per test for the config and state files, removed after.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = ::testing::TempDir() + "sy_control_plane_XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

class FakeDataPlane final : public DataPlane {
  public:
    void publish(std::shared_ptr<const Settings>, const RuntimeState& runtime,
                 std::function<void()> applied) override {
        published.push_back(runtime);
        if (applied) applied();
    }
    void collect(bool, std::function<void(TrafficTotals)> done) override { done({}); }
    void cut_pool(const std::string&, std::uint64_t,
                  std::function<void(std::size_t)> done) override {
        done(0);
    }
    bool prepare_config(const Settings&, std::string&) override { return true; }
    std::shared_ptr<const RoutingState> routing() const override { return nullptr; }
    std::shared_ptr<const HealthView> health() const override {
        return std::make_shared<const HealthView>();
    }
    // Held, so the test decides when the upgrade ends.
    void upgrade(const std::string&, std::function<void(UpgradeResult)> done) override {
        upgrade_done = std::move(done);
    }

    std::vector<RuntimeState> published;
    std::function<void(UpgradeResult)> upgrade_done;
};

std::string config_text(const TempDir& dir, int seed, bool with_green) {
    std::string t = "[server]\nstate_file = \"" + (dir / "state.json").string() + "\"\n";
    t += "[[listeners]]\naddress = \"127.0.0.1:0\"\n";
    t += "[routing]\nactive = \"blue\"\nseed = " + std::to_string(seed) + "\n";
    t += "[pools.blue]\nservers = [{ address = \"127.0.0.1:9001\" }]\n";
    if (with_green) t += "[pools.green]\nservers = [{ address = \"127.0.0.1:9002\" }]\n";
    return t;
}

class ControlPlaneTest : public ::testing::Test {
  protected:
    void SetUp() override { start(); }

    void start(std::uint64_t config_generation = ControlPlane::kFirstConfigGeneration) {
        write_config(7, true);
        auto loaded = config::load_file(config_path());
        ASSERT_TRUE(loaded.ok());
        auto settings = std::make_shared<const Settings>(std::move(*loaded.settings));
        audit_text_.str("");
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(audit_text_);
        auto audit = std::make_shared<spdlog::logger>("audit", sink);
        audit->set_pattern("%v");
        auto log = std::make_shared<spdlog::logger>(
            "log", std::make_shared<spdlog::sinks::null_sink_mt>());
        plane_ = std::make_unique<ControlPlane>(io_, data_plane_, log, audit);
        plane_->start(settings, initial_runtime_state(*settings), {}, config_generation);
    }

    std::string config_path() const { return (dir_ / "switchyard.toml").string(); }
    void write_config(int seed, bool with_green) {
        std::ofstream(config_path()) << config_text(dir_, seed, with_green);
    }

    // Sends a line as the control server would: parsed, or rejected.
    json::object send(const std::string& line) {
        auto parsed = control::parse_command(line);
        if (!parsed.command) {
            plane_->rejected(peer_, line, parsed.error);
            return json::parse(control::error_reply(parsed.error)).as_object();
        }
        // A reply may come after send() returns (upgrade): kept in the fixture.
        auto answer = std::make_shared<std::string>();
        plane_->handle(*parsed.command, peer_, [answer](std::string reply) { *answer = reply; });
        io_.restart();
        io_.poll();
        if (answer->empty()) return {};
        return json::parse(*answer).as_object();
    }

    // The audit lines written since the last call.
    std::vector<std::string> audit_lines() {
        std::vector<std::string> lines;
        std::istringstream in(audit_text_.str());
        for (std::string l; std::getline(in, l);)
            lines.push_back(l);
        audit_text_.str("");
        return lines;
    }

    std::int64_t config_generation() { return send("status")["config_generation"].as_int64(); }

    TempDir dir_;
    boost::asio::io_context io_;
    FakeDataPlane data_plane_;
    std::ostringstream audit_text_;
    std::unique_ptr<ControlPlane> plane_;
    const PeerCredentials peer_{1000, 4242};
};

constexpr const char* kWho = "control uid=1000 pid=4242 ";

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
    EXPECT_FALSE(send("ramp green")["ok"].as_bool());  // not built yet: refused, still audited
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
    EXPECT_EQ(lines[2], std::string(kWho) + "command=\"ramp green\" refused: not implemented");
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
                      "upgrade)",
                  std::string(kWho) +
                      "command=\"switch \\\"x\\\" ok\\u0001\\ufffd\" unparseable: command contains "
                      "a control character",
                  std::string(kWho) + "command=\"" + std::string(256, 'a') +
                      "\"... (300 bytes) unparseable: unknown command " + std::string(300, 'a') +
                      " (commands: status, switch, canary, promote, rollback, wait-drained, "
                      "server, reload, upgrade)"}));
}

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

}  // namespace
}  // namespace switchyard::control

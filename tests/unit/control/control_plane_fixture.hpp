// The control plane's test bench: a ControlPlane over a fake data plane that
// records what it is asked (publications, cuts, config preparations) and
// lets a test hold the acknowledgements and the upgrade's end. The config
// file is real (a temp dir), so reload runs its whole path; timers run on
// the fixture's io_context, driven by the test (run_for/poll), never slept.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/control_plane.hpp"

namespace switchyard::control::test {

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
    void publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                 std::function<void()> applied) override {
        published.push_back(runtime);
        published_settings.push_back(std::move(settings));
        if (hold_acks)
            held_acks.push_back(std::move(applied));
        else if (applied)
            applied();
    }
    void collect(bool, std::function<void(TrafficTotals)> done) override { done(traffic); }
    void reset_diff(std::function<void()> done) override {
        traffic.diff.reset();
        ++diff_resets;
        done();
    }
    void cut_pool(const std::string& pool, std::uint64_t generation,
                  std::function<void(std::size_t)> done) override {
        cuts.emplace_back(pool, generation);
        done(1);
    }
    void set_step_window(std::uint64_t id, std::function<void()> applied) override {
        windows.push_back(id);
        step_window.id = id;
        step_window.pools.clear();
        if (applied) applied();
    }
    void collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) override {
        StepWindow w;
        w.id = id;
        w.add(step_window);
        done(std::move(w));
    }
    bool prepare_config(const Settings& next, std::string& error) override {
        prepared.push_back(&next);
        error = prepare_error;
        return prepare_error.empty();
    }
    std::shared_ptr<const RoutingState> routing() const override { return routing_state; }
    std::shared_ptr<const HealthView> health() const override { return health_view; }
    // Held, so the test decides when the upgrade ends.
    void upgrade(const std::string& binary, std::function<void(UpgradeResult)> done) override {
        upgrade_binary = binary;
        upgrade_done = std::move(done);
    }

    // What the control plane asked for.
    std::vector<RuntimeState> published;
    std::vector<std::shared_ptr<const Settings>> published_settings;
    std::vector<std::pair<std::string, std::uint64_t>> cuts;  // (pool, generation)
    std::vector<const Settings*> prepared;
    std::vector<std::uint64_t> windows;  // set_step_window's ids
    std::string upgrade_binary;
    std::function<void(UpgradeResult)> upgrade_done;
    // What it answers.
    bool hold_acks = false;  // publish() keeps `applied` in held_acks
    std::vector<std::function<void()>> held_acks;
    TrafficTotals traffic;
    int diff_resets = 0;
    StepWindow step_window;     // what the workers counted (the test fills it)
    std::string prepare_error;  // not empty: prepare_config() fails with it
    std::shared_ptr<const RoutingState> routing_state;
    std::shared_ptr<const HealthView> health_view = std::make_shared<const HealthView>();
};

struct ConfigText {
    int seed = 7;
    bool with_green = true;
    std::string state_file;  // empty: state.json in the test's directory
    std::string extra;       // more TOML after [server]'s keys
};

class ControlPlaneTest : public ::testing::Test {
  protected:
    void SetUp() override { start(); }

    void start(std::uint64_t config_generation = ControlPlane::kFirstConfigGeneration,
               std::vector<std::string> conflicts = {}) {
        write_config(config_);
        auto loaded = config::load_file(config_path());
        ASSERT_TRUE(loaded.ok());
        auto settings = std::make_shared<const Settings>(std::move(*loaded.settings));
        audit_text_.str("");
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(audit_text_);
        auto audit = std::make_shared<spdlog::logger>("audit", sink);
        audit->set_pattern("%v");
        auto log = std::make_shared<spdlog::logger>(
            "log", std::make_shared<spdlog::sinks::null_sink_mt>());
        plane_ = std::make_unique<ControlPlane>(
            io_, data_plane_, log, audit,
            ReloadNotifications{[this] { notifications_.push_back("reloading"); },
                                [this](const std::string& status) {
                                    notifications_.push_back("ready: " + status);
                                }});
        plane_->start(settings, initial_runtime_state(*settings), std::move(conflicts),
                      config_generation);
    }

    std::string config_path() const { return (dir_ / "switchyard.toml").string(); }
    std::string state_path() const {
        return config_.state_file.empty() ? (dir_ / "state.json").string() : config_.state_file;
    }
    void write_config(const ConfigText& c) {
        config_ = c;
        std::string t = "[server]\nstate_file = \"" + state_path() + "\"\n" + c.extra;
        t += "[[listeners]]\naddress = \"127.0.0.1:0\"\n";
        t += "[routing]\nactive = \"blue\"\nseed = " + std::to_string(c.seed) + "\n";
        t += "[pools.blue]\nservers = [{ address = \"127.0.0.1:9001\" }]\n";
        if (c.with_green) t += "[pools.green]\nservers = [{ address = \"127.0.0.1:9002\" }]\n";
        std::ofstream(config_path()) << t;
    }
    void write_config(int seed, bool with_green) {
        ConfigText c = config_;
        c.seed = seed;
        c.with_green = with_green;
        write_config(c);
    }

    // Sends a line as the control server would: parsed, or rejected. Runs
    // what is ready on the io_context; returns the reply, or an empty object
    // when there is none yet (see reply()).
    json::object send(const std::string& line) {
        auto parsed = parse_command(line);
        if (!parsed.command) {
            plane_->rejected(peer_, line, parsed.error);
            return json::parse(error_reply(parsed.error)).as_object();
        }
        answer_ = std::make_shared<std::string>();
        plane_->handle(*parsed.command, peer_, [answer = answer_](std::string r) { *answer = r; });
        io_.restart();
        io_.poll();
        return reply();
    }
    // The reply to the last command sent, once it came; the raw line too.
    json::object reply() const {
        if (answer_->empty()) return {};
        return json::parse(*answer_).as_object();
    }
    const std::string& reply_line() const { return *answer_; }

    // Runs the io_context until nothing is left to do (timers included).
    void run_timers() {
        io_.restart();
        io_.run_for(std::chrono::seconds(10));
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

    // The data plane's snapshots: the current routing, with one server unhealthy
    // (its check answered 500), for the health gates.
    void mark_unhealthy(const std::string& pool, const std::string& address) {
        data_plane_.routing_state = std::make_shared<RoutingState>(
            build_routing_state(*plane_->settings(), plane_->runtime(), {}, 1));
        auto health = std::make_shared<HealthView>(1);
        ServerHealth down;
        down.state = HealthState::unhealthy;
        down.reason = "status 500";
        health->set(pool, address, down);
        data_plane_.health_view = health;
    }

    std::int64_t config_generation() { return send("status")["config_generation"].as_int64(); }

    TempDir dir_;
    ConfigText config_;
    boost::asio::io_context io_;
    FakeDataPlane data_plane_;
    std::ostringstream audit_text_;
    std::vector<std::string> notifications_;
    std::unique_ptr<ControlPlane> plane_;
    std::shared_ptr<std::string> answer_ = std::make_shared<std::string>();
    const PeerCredentials peer_{1000, 4242};
};

inline constexpr const char* kWho = "control uid=1000 pid=4242 ";

}  // namespace switchyard::control::test

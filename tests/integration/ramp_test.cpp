// The canary ramp (README, "Canary ramp"; DESIGN.md, "Progressive
// delivery"): a real switchyard, two switchyard-echo pools, real traffic
// from many users, and the ramp promoting a healthy canary and aborting a
// failing one on its own.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

// Requests from users u0, u1, ... (cookie), round and round, until stopped
// or its bounds (count, time) are reached.
class UserLoad {
  public:
    UserLoad(std::uint16_t port, std::size_t max_requests = 200000,
             Clock::duration max_time = seconds(30))
        : thread_([this, port, max_requests, max_time] {
              const auto deadline = after(max_time);
              HttpConn c(port);
              for (std::size_t i = 0; i < max_requests && !stop_ && Clock::now() < deadline; ++i) {
                  const std::string user = "u" + std::to_string(i % 5000);
                  Response r;
                  try {
                      r = c.roundtrip(get_request("/", "Cookie: sy_uid=" + user + "\r\n"));
                  } catch (const std::exception&) {
                      ++failed_;
                      c = HttpConn(port);
                      continue;
                  }
                  ++sent_;
                  if (r.status() >= 500) ++errors_;
                  if (r.header("X-Echo-Name") == "green") ++green_;
              }
          }) {}
    ~UserLoad() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::size_t sent() const { return sent_; }
    std::size_t errors() const { return errors_; }
    std::size_t failed() const { return failed_; }
    std::size_t green() const { return green_; }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> sent_{0}, errors_{0}, failed_{0}, green_{0};
    std::thread thread_;
};

class Ramp : public ProxyTest {
  protected:
    std::filesystem::path socket() const { return dir_.path() / "control.sock"; }
    json::object control(const std::string& line) {
        return json::parse(control_command(socket(), line, seconds(10))).as_object();
    }
    json::object ramp_status() {
        auto s = control("status");
        const auto* r = s.if_contains("ramp");
        return r != nullptr && r->is_object() ? r->as_object() : json::object{};
    }
    std::string ramp_state() {
        auto r = ramp_status();
        return r.contains("state") ? std::string(r["state"].as_string()) : "";
    }
    // Waits until the ramp is in `state` (or the deadline passes).
    bool wait_state(const std::string& state, Clock::duration timeout) {
        return poll_until(after(timeout), [&] { return ramp_state() == state; });
    }

    // Fast steps, so the test takes seconds: judged every 100 ms, 30
    // requests a side at least.
    ProxyConfig ramp_config(const std::string& rollout) {
        auto cfg = base_config();
        cfg.workers = 2;
        cfg.error_log_file = true;
        cfg.audit_log_file = true;
        cfg.log = {{"event_log", "\"" + (dir_.path() / "events.log").string() + "\""}};
        cfg.extra = "\n[rollout]\ninterval = \"100ms\"\nmin_requests = 30\n" + rollout;
        return cfg;
    }

    CtlRun ctl(const std::vector<std::string>& args) {
        return run_switchyardctl(dir_.path(), socket(), args);
    }
};

TEST_F(Ramp, AHealthyCanaryIsPromotedWithoutAFailedRequest) {
    start_proxy(ramp_config("steps = [10, 50, 100]\nbake = \"300ms\"\n"));
    UserLoad load(proxy_->port());
    auto started = control("ramp green");
    ASSERT_TRUE(started["ok"].as_bool()) << json::serialize(started);
    EXPECT_EQ(started["canary"].as_object()["weight"].as_double(), 10.0);
    EXPECT_EQ(started["ramp"].as_object()["state"].as_string(), "running");

    ASSERT_TRUE(wait_state("promoted", seconds(20))) << json::serialize(ramp_status());
    load.stop();
    auto s = control("status");
    EXPECT_EQ(s["active"].as_string(), "green");
    EXPECT_EQ(s["previous"].as_string(), "blue");
    EXPECT_EQ(load.errors(), 0u);
    EXPECT_EQ(load.failed(), 0u);
    EXPECT_GT(load.green(), 0u);
    // Each step was judged on both sides' numbers before it advanced.
    const auto& verdicts = s["ramp"].as_object()["verdicts"].as_array();
    ASSERT_FALSE(verdicts.empty());
    EXPECT_EQ(verdicts[0].as_object().at("verdict").as_string(), "pass");
    EXPECT_GE(verdicts[0].as_object().at("canary").as_object().at("requests").as_int64(), 30);

    // Every transition is an event line, and the automatic changes are audited.
    const std::string events = read_file(dir_.path() / "events.log");
    for (const char* type : {"\"type\":\"started\"", "\"type\":\"step\"", "\"type\":\"promoted\""})
        EXPECT_NE(events.find(type), std::string::npos) << type << "\n" << events;
    const std::string audit = read_file(proxy_->audit_log_path());
    EXPECT_NE(audit.find("command=\"ramp green\""), std::string::npos) << audit;
    EXPECT_NE(audit.find("ramp: switch green"), std::string::npos) << audit;
}

TEST_F(Ramp, AFailingCanaryIsAbortedWithinSecondsAndStaysOutUntilAcknowledged) {
    blue_ = std::make_unique<EchoServer>(dir_, "blue");
    green_ = std::make_unique<EchoServer>(dir_, "green",
                                          std::vector<std::string>{"--fail-percent", "30"});
    // A webhook that takes every request and never answers: it must not
    // delay the abort, nor stall the control socket.
    std::atomic<ScriptedUpstream*> self{nullptr};
    ScriptedUpstream hanging([&self](ScriptedUpstream::Conn& c, int) {
        const auto until = after(seconds(30));
        while (Clock::now() < until && !(self.load() != nullptr && self.load()->stopping()))
            c.read_request(milliseconds(100));
    });
    self = &hanging;
    start_proxy(
        ramp_config("steps = [20, 100]\nbake = \"60s\"\n[[rollout.webhooks]]\nurl = "
                    "\"http://" +
                    hanging.address() + "/hook\"\ntimeout = \"20s\"\n"));
    UserLoad load(proxy_->port());
    const auto t0 = Clock::now();
    auto run = ctl({"ramp", "green", "--wait", "--timeout", "20s"});
    const auto took = ms_since(t0);
    EXPECT_EQ(run.exit_code, 4) << run.out << run.err;
    EXPECT_NE(run.out.find("green aborted"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("error rate"), std::string::npos) << run.out;
    EXPECT_LT(took, 10000) << run.out;
    EXPECT_GE(hanging.connections(), 1);  // the webhook was called, and hangs

    auto s = control("status");
    EXPECT_EQ(s["canary"].as_object()["weight"].as_double(), 0.0);
    EXPECT_EQ(s["active"].as_string(), "blue");
    ASSERT_EQ(s["unacknowledged_aborts"].as_array().size(), 1u);
    EXPECT_EQ(s["unacknowledged_aborts"].as_array()[0].as_object().at("pool").as_string(), "green");
    // Nothing takes users back to the failed build before `ramp ack`...
    EXPECT_FALSE(control("canary green 5")["ok"].as_bool());
    EXPECT_FALSE(control("ramp green")["ok"].as_bool());
    EXPECT_FALSE(control("switch green")["ok"].as_bool());
    // ... and afterwards it may.
    EXPECT_TRUE(control("ramp ack green")["ok"].as_bool());
    EXPECT_TRUE(control("status")["unacknowledged_aborts"].as_array().empty());
    EXPECT_TRUE(control("canary green 5")["ok"].as_bool());
    load.stop();
    // Only the canary's users saw errors, and only while it had weight.
    EXPECT_GT(load.errors(), 0u);
    EXPECT_EQ(load.failed(), 0u);
}

TEST_F(Ramp, OtherCommandsDuringARampAndTheEmergencyStop) {
    start_proxy(ramp_config("steps = [10, 100]\nbake = \"60s\"\n"));
    ASSERT_TRUE(control("ramp green")["ok"].as_bool());
    auto refused = control("switch green");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_NE(std::string(refused["error"].as_string()).find("ramp in progress"), std::string::npos)
        << json::serialize(refused);
    EXPECT_FALSE(control("canary green 50")["ok"].as_bool());
    EXPECT_FALSE(control("promote")["ok"].as_bool());
    EXPECT_FALSE(control("ramp blue")["ok"].as_bool());  // the active pool
    EXPECT_EQ(ramp_status()["weight"].as_double(), 10.0);

    // `canary green 0` is the emergency stop: never refused, the ramp ends,
    // and a human's stop leaves no abort to acknowledge.
    auto stop = control("canary green 0");
    ASSERT_TRUE(stop["ok"].as_bool()) << json::serialize(stop);
    EXPECT_EQ(stop["canary"].as_object()["weight"].as_double(), 0.0);
    EXPECT_EQ(ramp_state(), "aborted");
    EXPECT_TRUE(control("status")["unacknowledged_aborts"].as_array().empty());
    EXPECT_TRUE(control("ramp green")["ok"].as_bool());
    EXPECT_TRUE(control("rollback")["ok"].as_bool());
    EXPECT_EQ(ramp_state(), "aborted");
}

TEST_F(Ramp, ARestartContinuesTheRampAtItsStep) {
    const auto cfg = ramp_config("steps = [10, 40, 100]\nbake = \"60s\"\n");
    start_proxy(cfg);
    ASSERT_TRUE(control("ramp green bake=1h")["ok"].as_bool());
    ASSERT_TRUE(control("ramp pause")["ok"].as_bool());
    proxy_.reset();  // killed: the state file is all that is left
    start_proxy(cfg);
    auto r = ramp_status();
    EXPECT_EQ(r["pool"].as_string(), "green");
    EXPECT_EQ(r["state"].as_string(), "paused");
    EXPECT_EQ(r["step"].as_int64(), 1);
    EXPECT_EQ(r["weight"].as_double(), 10.0);
    EXPECT_GT(r["bake_s"].as_double(), 3000.0);  // the command's bake, not the config's
    EXPECT_EQ(control("status")["canary"].as_object()["weight"].as_double(), 10.0);
    ASSERT_TRUE(control("ramp resume")["ok"].as_bool());
    EXPECT_EQ(ramp_state(), "running");
    ASSERT_TRUE(control("ramp abort")["ok"].as_bool());
    EXPECT_EQ(control("status")["canary"].as_object()["weight"].as_double(), 0.0);
}

// gate_url and [[rollout.webhooks]] through the real binary: the gate's
// refusal holds the step with its answer as the reason, `ramp promote`
// skips the rest, and the webhook gets the chosen events, signed.
TEST_F(Ramp, TheGateHoldsAndWebhooksGetTheEventsSigned) {
    std::mutex mu;
    std::vector<std::string> hooks;  // request heads + bodies the webhook got
    ScriptedUpstream receiver([&](ScriptedUpstream::Conn& c, int) {
        while (auto r = c.read_request(seconds(5))) {
            const bool gate = r->head.rfind("POST /gate ", 0) == 0;
            if (gate) {
                c.send(
                    "HTTP/1.1 409 Conflict\r\nContent-Length: 17\r\nConnection: close\r\n"
                    "\r\nmigration pending");
                return;
            }
            {
                std::lock_guard lock(mu);
                hooks.push_back(r->head + r->body);
            }
            c.send("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            return;
        }
    });
    const std::string base = "http://" + receiver.address();
    start_proxy(ramp_config("steps = [10, 50, 100]\nbake = \"0s\"\ngate_url = \"" + base +
                            "/gate\"\n[[rollout.webhooks]]\nurl = \"" + base +
                            "/hook/secret-path\"\nsecret = \"s3cret\"\n"
                            "events = [\"started\", \"holding\", \"promoted\"]\n"));
    UserLoad load(proxy_->port());
    ASSERT_TRUE(control("ramp green")["ok"].as_bool());
    // Step 1 passes its analysis, the gate says no: the ramp holds at 10 %.
    ASSERT_TRUE(poll_until(after(seconds(15)), [&] {
        auto r = ramp_status();
        return r.contains("reason") &&
               std::string(r["reason"].as_string()).find("migration pending") != std::string::npos;
    })) << json::serialize(ramp_status());
    EXPECT_EQ(ramp_state(), "holding");
    EXPECT_EQ(control("status")["canary"].as_object()["weight"].as_double(), 10.0);
    // A human decides: promote now.
    ASSERT_TRUE(control("ramp promote")["ok"].as_bool());
    EXPECT_EQ(ramp_state(), "promoted");
    EXPECT_EQ(control("status")["active"].as_string(), "green");
    load.stop();

    // Deliveries run concurrently, in whatever order. "holding" may come twice
    // (a first judgement short of min_requests, then the gate's refusal);
    // "step" is not among the webhook's events.
    const std::vector<std::string> types = {"started", "holding", "promoted"};
    const auto of_type = [&](const std::string& type) {
        return std::find_if(hooks.begin(), hooks.end(), [&](const std::string& x) {
            return x.find("X-Switchyard-Event: " + type + "\r\n") != std::string::npos;
        });
    };
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        std::lock_guard lock(mu);
        return std::all_of(types.begin(), types.end(),
                           [&](const std::string& t) { return of_type(t) != hooks.end(); });
    }));
    std::lock_guard lock(mu);
    for (const auto& h : hooks) {
        EXPECT_EQ(h.rfind("POST /hook/secret-path HTTP/1.1\r\n", 0), 0u) << h;
        const std::string sig_field = "X-Switchyard-Signature: sha256=";
        const auto sig = h.find(sig_field);
        ASSERT_NE(sig, std::string::npos) << h;
        EXPECT_EQ(h.find("\r\n", sig) - sig, sig_field.size() + 64) << h;
        EXPECT_EQ(h.find("X-Switchyard-Event: step\r\n"), std::string::npos) << h;
    }
    for (const auto& type : types)
        EXPECT_NE(of_type(type)->find("\"type\":\"" + type + "\""), std::string::npos);
    // The secret path is never logged.
    EXPECT_EQ(read_file(proxy_->error_log_path()).find("secret-path"), std::string::npos);
}

// A hot upgrade hands the step's counts over: the successor judges what the
// old process had counted, without traffic of its own.
TEST_F(Ramp, AHotUpgradeHandsTheStepsCountsOver) {
    auto cfg = ramp_config("steps = [20, 100]\nbake = \"1h\"\n");
    cfg.level = "info";
    start_proxy(cfg);
    ASSERT_TRUE(control("ramp green")["ok"].as_bool());
    {
        UserLoad load(proxy_->port(), 3000);
        ASSERT_TRUE(poll_until(after(seconds(20)), [&] { return load.sent() >= 3000; }));
    }
    const auto canary_requests = [&]() -> std::int64_t {
        auto r = ramp_status();
        if (!r.contains("verdicts") || r["verdicts"].as_array().empty()) return -1;
        return r["verdicts"]
            .as_array()[0]
            .as_object()
            .at("canary")
            .as_object()
            .at("requests")
            .as_int64();
    };
    // Settled: the same count for several intervals (every request counted).
    std::int64_t before = -1;
    auto since = Clock::now();
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        const auto n = canary_requests();
        if (n != before) {
            before = n;
            since = Clock::now();
        }
        return n > 0 && Clock::now() - since > milliseconds(500);
    }));
    auto reply = json::parse(control_command(socket(), "upgrade", seconds(30))).as_object();
    ASSERT_TRUE(reply["ok"].as_bool()) << json::serialize(reply);
    const auto new_pid = static_cast<pid_t>(reply["pid"].as_int64());
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(20))), 0));
    // The successor's judgements count what the old process had counted.
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] { return canary_requests() == before; }))
        << canary_requests() << " vs " << before;
    EXPECT_EQ(ramp_state(), "running");
    EXPECT_EQ(control("status")["canary"].as_object()["weight"].as_double(), 20.0);
    ::kill(new_pid, SIGTERM);
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] { return ::kill(new_pid, 0) != 0; }));
}

}  // namespace
}  // namespace sy_it

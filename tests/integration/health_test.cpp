// Health: active checks mark servers up and down, cutover gates
// refuse pools that cannot serve (force overrides, audited), outlier
// detection ejects a failing server and lets it back.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <optional>

#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

// A pause that paces a sampling loop (never a wait for something to happen).
void pace(milliseconds d) {
    poll_until(
        after(d), [] { return false; }, milliseconds(1));
}

const char* kFastHealth =
    "health = { path = \"/\", interval = \"100ms\", timeout = \"300ms\", rise = 1, fall = 2 }\n";

class Health : public ProxyTest {
  protected:
    std::string command(std::string_view line) {
        return control_command(dir_ / "control.sock", line);
    }
    // The status JSON of one server, from `"address":"ADDR"` to the end of
    // its object.
    std::string server_status(const std::string& address) {
        std::string status = command("status");
        auto at = status.find("\"address\":\"" + address + "\"");
        if (at == std::string::npos) return "";
        return status.substr(at, status.find('}', at) - at);
    }
    // The servers of `pool` in a status reply, by address (one address may
    // be in several pools, with a health of its own in each).
    static std::map<std::string, json::object> pool_servers(const std::string& status,
                                                            std::string_view pool) {
        std::map<std::string, json::object> out;
        const json::value v = json::parse(status);
        for (const auto& p : v.at("pools").as_array()) {
            if (p.at("name").as_string() != pool) continue;
            for (const auto& s : p.at("servers").as_array())
                out[std::string(s.at("address").as_string())] = s.as_object();
        }
        return out;
    }
    static std::string field(const json::object& server, std::string_view name) {
        const auto* v = server.if_contains(name);
        return v && v->is_string() ? std::string(v->as_string()) : "";
    }
};

TEST_F(Health, SwitchToAPoolThatIsNotUpIsRefusedUntilItComesUp) {
    start_upstreams();
    const std::uint16_t late_port = free_port();  // nothing listens yet
    const std::string late = "127.0.0.1:" + std::to_string(late_port);
    ProxyConfig cfg;
    cfg.level = "info";
    cfg.pools = {{"blue", {blue_->address()}, ""}, {"green", {late}, kFastHealth}};
    start_proxy(cfg);

    auto refused = command("switch green");
    EXPECT_TRUE(has(refused, "\"ok\":false")) << refused;
    EXPECT_TRUE(has(refused, "pool green has 0 of 1")) << refused;
    EXPECT_TRUE(has(refused, late)) << refused;
    EXPECT_TRUE(has(command("status"), "\"active\":\"blue\""));
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(server_status(late), "\"health\":\"unhealthy\"");
    })) << server_status(late);
    EXPECT_TRUE(has(server_status(late), "connection refused")) << server_status(late);

    // The pool comes up: the gate opens once a probe succeeded.
    Process::Options o;
    o.argv = {SWITCHYARD_ECHO_BIN, "--name", "green", "--listen", late};
    o.stdout_pipe = true;
    Process green(o);
    ASSERT_TRUE(green.read_line(after(seconds(5))).has_value());
    std::string reply;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        reply = command("switch green");
        return has(reply, "\"ok\":true");
    })) << reply;
    EXPECT_EQ(proxy_->connect().roundtrip(get_request("/")).body(), "green\n");

    // Rolling back to blue (no checks: its servers count healthy) is allowed.
    EXPECT_TRUE(has(command("rollback"), "\"ok\":true"));
}

TEST_F(Health, ForceOverridesTheGateAndIsAudited) {
    start_upstreams();
    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    ProxyConfig cfg;
    cfg.level = "info";
    cfg.pools = {{"blue", {blue_->address()}, ""}, {"green", {nowhere}, kFastHealth}};
    start_proxy(cfg);
    EXPECT_TRUE(has(command("canary green 10"), "\"ok\":false"));
    auto forced = command("canary green 10 force");
    EXPECT_TRUE(has(forced, "\"ok\":true")) << forced;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(proxy_->stderr_text(), "forced past the health gate: pool green has 0 of 1");
    })) << proxy_->stderr_text();
    // Stopping a canary is never gated.
    EXPECT_TRUE(has(command("canary green 0"), "\"ok\":true"));
}

TEST_F(Health, RollbackToAScaledDownPoolIsRefused) {
    start_upstreams();
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address()}, kFastHealth}, {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(server_status(blue_->address()), "\"health\":\"healthy\"");
    }));
    ASSERT_TRUE(has(command("switch green"), "\"ok\":true"));
    blue_->process().signal(SIGKILL);  // the old pool is scaled down
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(server_status(blue_->address()), "\"health\":\"unhealthy\"");
    }));
    auto refused = command("rollback");
    EXPECT_TRUE(has(refused, "\"ok\":false")) << refused;
    EXPECT_TRUE(has(refused, "pool blue has 0 of 1")) << refused;
    EXPECT_TRUE(has(command("status"), "\"active\":\"green\""));
    EXPECT_EQ(proxy_->connect().roundtrip(get_request("/")).body(), "green\n");
}

TEST_F(Health, AKilledServerIsMarkedDownAndTakesNoMoreTraffic) {
    start_upstreams();
    EchoServer second(dir_, "blue-b");
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address(), second.address()}, kFastHealth},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(server_status(second.address()), "\"health\":\"healthy\"");
    }));
    second.process().signal(SIGKILL);
    const auto killed = Clock::now();
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(server_status(second.address()), "\"health\":\"unhealthy\"");
    })) << server_status(second.address());
    // fall × interval plus a probe timeout, with room for a busy machine.
    EXPECT_LT(ms_since(killed), 2000);
    HttpConn c = proxy_->connect();
    for (int i = 0; i < 30; ++i) {
        auto r = c.roundtrip(get_request("/"));
        ASSERT_EQ(r.status(), 200u) << i;
        EXPECT_EQ(r.body(), "blue\n");
    }
}

TEST_F(Health, AServerAnswering500IsEjectedAndComesBack) {
    start_upstreams();
    ScriptedUpstream failing([](ScriptedUpstream::Conn& conn, int) {
        while (auto req = conn.read_request(seconds(10)))
            if (!conn.send("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"))
                return;
    });
    ProxyConfig cfg;
    cfg.level = "info";
    cfg.pools = {{"blue",
                  {blue_->address(), failing.address()},
                  "outlier = { consecutive_failures = 3, base_ejection = \"700ms\", "
                  "max_ejected_percent = 50 }\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    HttpConn c = proxy_->connect();
    int errors = 0;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        if (c.roundtrip(get_request("/")).status() == 500) ++errors;
        return has(server_status(failing.address()), "\"health\":\"ejected\"");
    }));
    EXPECT_GE(errors, 3);  // the threshold was reached, no sooner
    // Ejected: everything goes to the good server.
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(c.roundtrip(get_request("/")).status(), 200u) << i;
    EXPECT_TRUE(has(proxy_->stderr_text(), "ejected (3 consecutive failures"))
        << proxy_->stderr_text();
    // It returns after its ejection time (and, still failing, is ejected again).
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return has(proxy_->stderr_text(), "returns to service");
    })) << proxy_->stderr_text();
}

// A health endpoint that never answers costs its probe the timeout and the
// server its health, and nothing else: probes are never on the request path.
// The same upstream process is in two pools: "blue" (active, no checks)
// takes every request, "green" checks it on /healthz, which hangs. So while
// a probe of that very server hangs, requests to it go through the proxy,
// with one worker: a probe that blocked anything (the worker, the control
// thread that publishes health and answers `status`, a shared upstream
// connection) shows up as a failed or slow request or status reply. (Had the
// checks been on the pool taking the requests, the server would take no
// traffic once down, and a blocked request path would go unnoticed.)
TEST_F(Health, AHangingHealthEndpointTimesOutWhileRequestsKeepSucceeding) {
    std::atomic<int> probes{0};
    std::atomic<int> hanging{0};              // probes waiting for an answer now
    std::atomic<int> most_hanging{0};         // the most at once
    std::atomic<int> served{0};               // other requests answered
    std::atomic<int> served_during_probe{0};  // … while a probe hung
    ScriptedUpstream upstream([&](ScriptedUpstream::Conn& conn, int) {
        while (auto req = conn.read_request(seconds(10))) {
            if (req->head.rfind("GET /healthz ", 0) == 0) {
                ++probes;
                const int now = ++hanging;
                int most = most_hanging.load();
                while (now > most && !most_hanging.compare_exchange_weak(most, now)) {
                }
                // No answer: wait (bounded) for the prober to give up and close.
                const auto until = after(seconds(10));
                while (Clock::now() < until && conn.wait_readable(until - Clock::now()) ==
                                                   ScriptedUpstream::Conn::Wait::data)
                    conn.buf.clear();
                --hanging;
                return;
            }
            if (hanging.load() > 0) ++served_during_probe;
            ++served;
            if (!conn.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")) return;
        }
    });
    const std::string address = upstream.address();
    ProxyConfig cfg;
    cfg.level = "info";
    cfg.workers = 1;
    cfg.pools = {{"blue", {address}, ""},
                 {"green",
                  {address},
                  "health = { path = \"/healthz\", interval = \"100ms\", timeout = \"200ms\", "
                  "rise = 1, fall = 2 }\n"}};
    start_proxy(cfg);

    // Requests from the start (the first probe is due within an interval)
    // until they have gone on for 2.5 s with the server down in green.
    HttpConn c = proxy_->connect();
    int sent = 0;
    int ok = 0;
    long long slowest = 0;         // ms, a request through the proxy
    long long slowest_status = 0;  // ms, a `status` reply
    std::string first_problem;
    std::optional<Clock::time_point> down_at;
    json::object green;
    json::object blue;
    const auto deadline = after(seconds(15));
    while (sent < 2000 && Clock::now() < deadline &&
           !(down_at && Clock::now() - *down_at >= milliseconds(2500))) {
        ++sent;
        const auto t0 = Clock::now();
        try {
            auto r = c.roundtrip(get_request("/work"), seconds(2));
            if (r.status() == 200 && r.body() == "ok\n")
                ++ok;
            else if (first_problem.empty())
                first_problem = "request " + std::to_string(sent) + ": status " +
                                std::to_string(r.status()) + " " + r.body();
        } catch (const std::exception& e) {
            if (first_problem.empty())
                first_problem = "request " + std::to_string(sent) + ": " + e.what();
            c = proxy_->connect();  // carry on with a new connection
        }
        slowest = std::max(slowest, ms_since(t0));
        const auto s0 = Clock::now();
        const std::string status = command("status");
        slowest_status = std::max(slowest_status, ms_since(s0));
        green = pool_servers(status, "green")[address];
        blue = pool_servers(status, "blue")[address];
        if (!down_at && field(green, "health") == "unhealthy") down_at = Clock::now();
        pace(milliseconds(10));
    }

    ASSERT_TRUE(down_at.has_value()) << json::serialize(green);
    EXPECT_GE(ms_since(*down_at), 2500) << "requests stopped early: " << sent;
    // Down for its timeouts, and still down at the end.
    EXPECT_EQ(field(green, "health"), "unhealthy") << json::serialize(green);
    EXPECT_TRUE(has(field(green, "reason"), "timeout")) << json::serialize(green);
    EXPECT_EQ(field(green, "last_check"), "timeout") << json::serialize(green);
    EXPECT_TRUE(has(proxy_->stderr_text(), "health: pool green server " + address +
                                               " is unhealthy (timeout; was unknown)"))
        << proxy_->stderr_text();
    // The same server, unchecked in blue, is unaffected …
    EXPECT_EQ(field(blue, "health"), "healthy") << json::serialize(blue);
    // … and every request to it succeeded promptly, while probes hung.
    EXPECT_EQ(ok, sent) << first_problem;
    EXPECT_EQ(served.load(), sent);
    EXPECT_LT(slowest, 1000);
    EXPECT_LT(slowest_status, 1000);
    EXPECT_GT(served_during_probe.load(), 0);
    // Probes went on (one per interval plus timeout, ~300 ms) and a timed-out
    // probe closes its connection: they do not pile up on the server.
    EXPECT_GE(probes.load(), 5);
    EXPECT_LE(most_hanging.load(), 2);
}

// max_ejected_percent = 50 of 4 servers: at most 2 ejected at once
// (max(1, floor(4 × 50 / 100)) = 2). Three of the four answer 500 to
// everything: two are ejected, the third is refused by the cap and keeps its
// failure count, so it takes the place of the first to return; servers come
// back and are ejected again. Sampled after every request, `status` never
// shows more than 2 ejected.
TEST_F(Health, EjectionNeverExceedsThePoolCap) {
    start_upstreams();
    auto fail_all = [](ScriptedUpstream::Conn& conn, int) {
        while (auto req = conn.read_request(seconds(10)))
            if (!conn.send("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"))
                return;
    };
    ScriptedUpstream f1(fail_all);
    ScriptedUpstream f2(fail_all);
    ScriptedUpstream f3(fail_all);
    const std::string good = blue_->address();
    const std::vector<std::string> all = {good, f1.address(), f2.address(), f3.address()};
    ProxyConfig cfg;
    cfg.level = "info";
    cfg.pools = {{"blue", all,
                  "outlier = { consecutive_failures = 2, base_ejection = \"500ms\", "
                  "max_ejected_percent = 50 }\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);

    HttpConn c = proxy_->connect();
    int sent = 0;
    int ok = 0;
    int failed = 0;
    std::string unexpected;        // a reply that is neither the good nor a failing server's
    std::size_t most_ejected = 0;  // in one sample
    std::string over_cap;          // the first sample with more than 2 ejected
    int samples_with_two = 0;
    std::map<std::string, std::uint64_t> ejections;  // the most seen, per server
    auto most_ejections = [&] {
        std::uint64_t most = 0;
        for (const auto& [a, n] : ejections)
            most = std::max(most, n);
        return most;
    };
    const auto start = Clock::now();
    const auto deadline = after(seconds(20));
    // At least 3 s of samples, and until the cap was reached and some server
    // was ejected twice.
    while (sent < 4000 && Clock::now() < deadline &&
           !(ms_since(start) >= 3000 && samples_with_two > 0 && most_ejections() >= 2)) {
        ++sent;
        try {
            auto r = c.roundtrip(get_request("/"), seconds(2));
            if (r.status() == 200 && r.body() == "blue\n")
                ++ok;
            else if (r.status() == 500)
                ++failed;
            else if (unexpected.empty())
                unexpected = "status " + std::to_string(r.status()) + " " + r.body();
        } catch (const std::exception& e) {
            if (unexpected.empty()) unexpected = e.what();
            c = proxy_->connect();
        }
        const std::string status = command("status");
        const auto servers = pool_servers(status, "blue");
        std::size_t ejected = 0;
        for (const auto& a : all) {
            auto it = servers.find(a);
            if (it == servers.end()) continue;
            if (field(it->second, "health") == "ejected") ++ejected;
            if (const auto* n = it->second.if_contains("ejections"))
                ejections[a] = std::max(ejections[a], n->to_number<std::uint64_t>());
        }
        ASSERT_EQ(servers.size(), 4u) << status;
        most_ejected = std::max(most_ejected, ejected);
        if (ejected > 2 && over_cap.empty()) over_cap = status;
        if (ejected == 2) ++samples_with_two;
        pace(milliseconds(2));
    }

    EXPECT_LE(most_ejected, 2u) << over_cap;
    EXPECT_TRUE(over_cap.empty()) << over_cap;
    EXPECT_GT(samples_with_two, 0) << "the cap was never reached, " << sent << " requests";
    EXPECT_GE(most_ejections(), 2u) << "no server was ejected twice, " << sent << " requests";
    EXPECT_EQ(ejections[good], 0u);  // the good server is never ejected
    EXPECT_TRUE(unexpected.empty()) << unexpected;
    EXPECT_GT(ok, 0);
    EXPECT_GT(failed, 0);
    // The cap held a failing server back, and ejected servers came back.
    const std::string log = proxy_->stderr_text();
    EXPECT_TRUE(has(log, "2 of 4 servers already ejected (max 50 %)")) << log;
    EXPECT_TRUE(has(log, "returns to service")) << log;
}

}  // namespace
}  // namespace sy_it

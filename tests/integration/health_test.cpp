// Health (issue 6): active checks mark servers up and down, cutover gates
// refuse pools that cannot serve (force overrides, audited), outlier
// detection ejects a failing server and lets it back.
#include <signal.h>

#include "fixture.hpp"

namespace sy_it {
namespace {

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
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

}  // namespace
}  // namespace sy_it

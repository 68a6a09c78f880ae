// The admin listener: /healthz says whether the
// process serves (503 from the start of a shutdown, during shutdown_delay
// too), /status is the control status, nothing on it changes state, and it
// is handed over in a hot upgrade like the other listeners.
#include <signal.h>

#include "fixture.hpp"

namespace sy_it {
namespace {

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

using Admin = ProxyTest;

TEST_F(Admin, HealthzAndStatusAreServedAndNothingChangesState) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    HttpConn admin(cfg.admin_port);
    auto health = admin.roundtrip(get_request("/healthz"));
    EXPECT_EQ(health.status(), 200u);
    EXPECT_EQ(health.body(), "ok\n");
    auto status = admin.roundtrip(get_request("/status"));  // keep-alive
    EXPECT_EQ(status.status(), 200u);
    EXPECT_EQ(status.header("Content-Type"), "application/json");
    EXPECT_TRUE(has(status.body(), "\"active\":\"blue\"")) << status.body();
    EXPECT_EQ(admin.roundtrip(get_request("/nope")).status(), 404u);
    auto post = admin.roundtrip("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(post.status(), 405u);
    EXPECT_TRUE(has(control_command(dir_ / "control.sock", "status"), "\"active\":\"blue\""));
}

TEST_F(Admin, HealthzSays503DuringTheShutdownDelayWhileRequestsAreServed) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    cfg.server = {{"shutdown_delay", "\"2s\""}};
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    EXPECT_EQ(HttpConn(cfg.admin_port).roundtrip(get_request("/healthz")).status(), 200u);
    proxy_->process().signal(SIGTERM);
    EXPECT_TRUE(poll_until(after(seconds(2)), [&] {
        return HttpConn(cfg.admin_port).roundtrip(get_request("/healthz")).status() == 503;
    }));
    // Still serving traffic meanwhile: the delay is for the outer balancer.
    EXPECT_EQ(proxy_->connect().roundtrip(get_request("/")).status(), 200u);
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
}

TEST_F(Admin, TheAdminListenerIsHandedOverInAnUpgrade) {
    auto cfg = base_config();
    cfg.level = "info";
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    auto reply = control_command(dir_ / "control.sock", "upgrade", seconds(30));
    ASSERT_TRUE(has(reply, "\"ok\":true")) << reply;
    const auto at = reply.find("\"pid\":");
    ASSERT_NE(at, std::string::npos);
    const pid_t new_pid = static_cast<pid_t>(std::stol(reply.substr(at + 6)));
    // From the reply on, health checks reach the new process (never a 503
    // from the old one, which only drains), on the same socket.
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(HttpConn(cfg.admin_port).roundtrip(get_request("/healthz")).status(), 200u) << i;
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
    EXPECT_EQ(HttpConn(cfg.admin_port).roundtrip(get_request("/healthz")).status(), 200u);
    EXPECT_TRUE(
        has(proxy_->stderr_text(), "admin listener 127.0.0.1:" + std::to_string(cfg.admin_port) +
                                       ": using the inherited socket"))
        << proxy_->stderr_text();
    ::kill(new_pid, SIGTERM);
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] { return ::kill(new_pid, 0) != 0; }));
}

// status.config_generation (control socket and admin /status): 1 at start,
// +1 per successful reload, unchanged by a refused one, and carried over a
// hot upgrade, whose successor loads the file once more (+1).
TEST_F(Admin, ConfigGenerationCountsReloadsAndCrossesAnUpgrade) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto socket = dir_ / "control.sock";
    const auto admin_status = [&] {
        return HttpConn(cfg.admin_port).roundtrip(get_request("/status")).body();
    };
    EXPECT_TRUE(has(control_command(socket, "status"), "\"config_generation\":1,"))
        << admin_status();
    EXPECT_TRUE(has(control_command(socket, "reload"), "\"config_generation\":2"));
    const std::string good = read_file(proxy_->config_path());
    write_file(proxy_->config_path(), good + "\n[bogus]\n");
    EXPECT_TRUE(has(control_command(socket, "reload"), "\"ok\":false"));
    write_file(proxy_->config_path(), good);
    EXPECT_TRUE(has(control_command(socket, "status"), "\"config_generation\":2,"));
    EXPECT_TRUE(has(admin_status(), "\"config_generation\":2,")) << admin_status();

    auto reply = control_command(socket, "upgrade", seconds(30));
    ASSERT_TRUE(has(reply, "\"ok\":true")) << reply;
    const pid_t new_pid = static_cast<pid_t>(std::stol(reply.substr(reply.find("\"pid\":") + 6)));
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
    EXPECT_TRUE(has(control_command(socket, "status"), "\"config_generation\":3,"));
    EXPECT_TRUE(has(admin_status(), "\"config_generation\":3,")) << admin_status();
    ::kill(new_pid, SIGTERM);
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] { return ::kill(new_pid, 0) != 0; }));
}

}  // namespace
}  // namespace sy_it

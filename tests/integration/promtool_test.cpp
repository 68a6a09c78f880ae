// /metrics checked by Prometheus' own checker: `promtool check
// metrics` (Debian package prometheus) parses the page as Prometheus does and
// lints it against the naming and type conventions. Run on the page of a
// Switchyard with traffic on both pools, a canary, health checks and an
// upstream error, so that nearly every family has series. promtool must exit
// 0 and report nothing. Skipped, with the reason, only where promtool is not
// installed (scripts/install-deps.sh installs it).
#include <filesystem>
#include <optional>

#include "exposition_check.hpp"
#include "fixture.hpp"

namespace sy_it {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

using Promtool = ProxyTest;

std::string scrape(std::uint16_t admin_port) {
    auto r = HttpConn(admin_port).roundtrip(get_request("/metrics"));
    if (r.status() != 200) throw std::runtime_error("GET /metrics: " + std::to_string(r.status()));
    return r.body();
}

struct CheckRun {
    std::optional<int> status;  // the wait status; nullopt if it did not finish
    std::string output;         // stdout and stderr
};

// `promtool check metrics` reads the page on stdin.
CheckRun promtool_check(const TempDir& dir, const std::string& page) {
    const auto page_path = dir / "metrics.txt";
    const auto out_path = dir / "promtool.out";
    write_file(page_path, page);
    Process::Options o;
    o.argv = {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\" 2>&1", kPromtool,
              page_path.string()};
    o.stdout_path = out_path;
    Process p(o);
    CheckRun run;
    run.status = p.wait_exit(after(seconds(30)));
    run.output = read_file(out_path);
    return run;
}

TEST_F(Promtool, MetricsPagePassesPromtoolCheckMetrics) {
    if (!std::filesystem::exists(kPromtool))
        GTEST_SKIP() << kPromtool
                     << " is not installed (Debian package prometheus; scripts/install-deps.sh)";

    start_upstreams();
    const auto dead = free_port();  // nothing listens: connect refused
    ProxyConfig cfg;
    cfg.workers = 2;
    cfg.admin_port = free_port();
    const std::string health =
        "health = { path = \"/\", interval = \"100ms\", timeout = \"300ms\", rise = 1, fall = 1 "
        "}\n";
    // green has a server that refuses connections: an unhealthy server.
    const std::string dead_server = "127.0.0.1:" + std::to_string(dead);
    cfg.pools = {{"blue", {blue_->address()}, health},
                 {"green", {green_->address(), dead_server}, health}};
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto healthy = [&](const Exposition& m, const char* pool, const std::string& server) {
        return m.value("switchyard_server_healthy", {{"pool", pool}, {"server", server}});
    };
    // The health checks judge every server first (the canary's health gate
    // needs half of green up).
    Exposition m;
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        m = parse_exposition(scrape(cfg.admin_port));
        return healthy(m, "blue", blue_->address()) == 1 &&
               healthy(m, "green", green_->address()) == 1 && healthy(m, "green", dead_server) == 0;
    })) << scrape(cfg.admin_port);
    // The metric counts a server not checked yet as healthy (it takes
    // traffic); the gate wants a finished check: wait for status to say so.
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        const auto status = control_command(dir_ / "control.sock", "status");
        return status.find("\"address\":\"" + green_->address() + "\",\"admin\":\"enabled\"") !=
                   std::string::npos &&
               status.find("\"health\":\"unknown\"") == std::string::npos;
    }));
    auto reply = control_command(dir_ / "control.sock", "canary green 50");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;

    // Traffic: new users (no cookie) split between blue and the canary;
    // some 5xx, a 404 and a malformed request.
    const auto port = proxy_->port();
    for (int i = 0; i < 40; ++i)
        HttpConn(port).roundtrip(get_request(i % 10 == 0 ? "/?status=503" : "/"));
    HttpConn(port).roundtrip(get_request("/?status=404"));
    EXPECT_EQ(HttpConn(port).roundtrip("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status(),
              400u);
    // A request is counted once its response is out.
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        m = parse_exposition(scrape(cfg.admin_port));
        return m.sum("switchyard_requests_total") + m.sum("switchyard_unrouted_requests_total") >=
               42;
    })) << scrape(cfg.admin_port);
    const std::string page = scrape(cfg.admin_port);
    // The page promtool sees has the families of every kind (counters,
    // gauges, histograms; per pool, per server, per process).
    for (const char* family :
         {"switchyard_requests_total", "switchyard_unrouted_requests_total",
          "switchyard_request_duration_seconds", "switchyard_upstream_connect_duration_seconds",
          "switchyard_upstream_errors_total", "switchyard_server_healthy",
          "switchyard_server_responses_total", "switchyard_canary_weight_percent",
          "switchyard_active_pool", "switchyard_build_info", "process_resident_memory_bytes"})
        EXPECT_TRUE(m.types.count(family)) << "no family " << family << " on the page";
    EXPECT_GE(m.types.size(), 30u);

    const CheckRun run = promtool_check(dir_, page);
    ASSERT_TRUE(run.status) << "promtool did not finish";
    EXPECT_TRUE(exited_with(run.status, 0)) << describe_status(*run.status) << "\n" << run.output;
    // promtool exits 1 on a parse error and 3 on lint findings, and prints
    // them: none is accepted, so its output must be empty too.
    EXPECT_EQ(run.output, "") << "promtool check metrics reported problems on:\n" << page;
}

// The check above can fail: promtool refuses a broken page and reports a
// lint problem (a counter without _total) on a well-formed one.
TEST_F(Promtool, PromtoolReportsABrokenPageAndALintProblem) {
    if (!std::filesystem::exists(kPromtool))
        GTEST_SKIP() << kPromtool
                     << " is not installed (Debian package prometheus; scripts/install-deps.sh)";
    const CheckRun broken = promtool_check(dir_, "# TYPE x counter\nx{a=\"1\" 1\n");
    ASSERT_TRUE(broken.status);
    EXPECT_FALSE(exited_with(broken.status, 0)) << broken.output;
    const CheckRun lint =
        promtool_check(dir_, "# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");
    ASSERT_TRUE(lint.status);
    EXPECT_FALSE(exited_with(lint.status, 0)) << lint.output;
    EXPECT_NE(lint.output.find("_total"), std::string::npos) << lint.output;
}

}  // namespace
}  // namespace sy_it

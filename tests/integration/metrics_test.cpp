// /metrics and the rates of /status: after a known mix of
// requests every counter and histogram count is exact, and the page is
// valid exposition format. Access log fields and sampling ride along, since
// they are written at the same moment a request is counted.
#include <boost/json/parse.hpp>
#include <cmath>

#include "exposition_check.hpp"
#include "fixture.hpp"

namespace sy_it {
namespace {

using Metrics = ProxyTest;
using Labels = std::map<std::string, std::string>;

std::string scrape(std::uint16_t admin_port) {
    auto r = HttpConn(admin_port).roundtrip(get_request("/metrics"));
    if (r.status() != 200) throw std::runtime_error("GET /metrics: " + std::to_string(r.status()));
    return r.body();
}

unsigned status_of(std::uint16_t port, const std::string& target) {
    return HttpConn(port).roundtrip(get_request(target)).status();
}

TEST_F(Metrics, EveryCounterAndHistogramCountIsExactAfterAKnownMix) {
    auto cfg = base_config();
    cfg.workers = 2;  // per-worker counters, summed on scrape
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto port = proxy_->port();
    // The harness connected once to see the proxy up (and closed): wait
    // until the proxy has accepted and closed it, then count from there.
    double accepted_before = 0;
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        auto m0 = parse_exposition(scrape(cfg.admin_port));
        accepted_before = m0.value("switchyard_client_connections_accepted_total");
        return accepted_before >= 1 && m0.value("switchyard_client_connections") == 0;
    }));

    // Blue active: 7 × 200, 3 × 503, 2 × 404 from the upstream. Each on its
    // own connection, so the accepted-connection count is known too.
    for (int i = 0; i < 7; ++i)
        ASSERT_EQ(status_of(port, "/"), 200u);
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(status_of(port, "/?status=503"), 503u);
    for (int i = 0; i < 2; ++i)
        ASSERT_EQ(status_of(port, "/?status=404"), 404u);
    // Two malformed requests: answered before any pool is chosen.
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(HttpConn(port).roundtrip("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status(),
                  400u);
    auto reply = control_command(dir_ / "control.sock", "switch green");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    // Green active: 5 × 200 and 1 × 500.
    for (int i = 0; i < 5; ++i)
        ASSERT_EQ(status_of(port, "/"), 200u);
    ASSERT_EQ(status_of(port, "/?status=500"), 500u);

    // A request is counted when its access log line would be written, just
    // after the last byte went out: wait until all 18 are in.
    Exposition m;
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        m = parse_exposition(scrape(cfg.admin_port));
        return m.sum("switchyard_requests_total") == 18;
    })) << m.sum("switchyard_requests_total");
    EXPECT_TRUE(m.errors.empty()) << ::testing::PrintToString(m.errors);

    const Labels blue{{"pool", "blue"}}, green{{"pool", "green"}};
    auto code = [](const char* pool, const char* c) { return Labels{{"pool", pool}, {"code", c}}; };
    EXPECT_EQ(m.value("switchyard_requests_total", code("blue", "200")), 7);
    EXPECT_EQ(m.value("switchyard_requests_total", code("blue", "503")), 3);
    EXPECT_EQ(m.value("switchyard_requests_total", code("blue", "404")), 2);
    EXPECT_EQ(m.value("switchyard_requests_total", code("green", "200")), 5);
    EXPECT_EQ(m.value("switchyard_requests_total", code("green", "500")), 1);
    EXPECT_EQ(m.value("switchyard_unrouted_requests_total", {{"code", "400"}}), 2);
    EXPECT_EQ(m.sum("switchyard_unrouted_requests_total"), 2);

    for (const auto& [labels, n] : {std::pair{blue, 12.0}, std::pair{green, 6.0}}) {
        EXPECT_EQ(m.value("switchyard_request_duration_seconds_count", labels), n);
        Labels inf = labels;
        inf["le"] = "+Inf";
        EXPECT_EQ(m.value("switchyard_request_duration_seconds_bucket", inf), n);
        EXPECT_GT(m.value("switchyard_request_duration_seconds_sum", labels), 0);
        // Every request reached its upstream, on a new or a pooled connection.
        EXPECT_EQ(m.value("switchyard_upstream_response_duration_seconds_count", labels), n);
        const double connects =
            m.value("switchyard_upstream_connect_duration_seconds_count", labels);
        EXPECT_GE(connects, 1);
        EXPECT_LE(connects, n);
    }
    EXPECT_EQ(m.sum("switchyard_upstream_connect_duration_seconds_count"),
              m.value("switchyard_upstream_connections_opened_total"));

    const Labels blue_server{{"pool", "blue"}, {"server", blue_->address()}};
    const Labels green_server{{"pool", "green"}, {"server", green_->address()}};
    auto with = [](Labels l, const char* k, const char* v) {
        l[k] = v;
        return l;
    };
    EXPECT_EQ(m.value("switchyard_server_requests_total", blue_server), 12);
    EXPECT_EQ(m.value("switchyard_server_requests_total", green_server), 6);
    EXPECT_EQ(m.value("switchyard_server_responses_total", with(blue_server, "class", "2xx")), 7);
    EXPECT_EQ(m.value("switchyard_server_responses_total", with(blue_server, "class", "4xx")), 2);
    EXPECT_EQ(m.value("switchyard_server_responses_total", with(blue_server, "class", "5xx")), 3);
    EXPECT_EQ(m.value("switchyard_server_responses_total", with(green_server, "class", "5xx")), 1);
    EXPECT_EQ(m.sum("switchyard_upstream_errors_total"), 0);
    EXPECT_EQ(m.value("switchyard_server_healthy", blue_server), 1);

    EXPECT_EQ(m.value("switchyard_active_pool", green), 1);
    EXPECT_EQ(m.value("switchyard_active_pool", blue), 0);
    EXPECT_EQ(m.value("switchyard_canary_weight_percent", blue), 0);
    EXPECT_EQ(m.value("switchyard_generation"), 1);
    EXPECT_EQ(m.value("switchyard_inflight_requests", blue), 0);
    EXPECT_EQ(m.value("switchyard_client_connections_accepted_total") - accepted_before, 20);
    EXPECT_EQ(m.value("switchyard_workers"), 2);
    EXPECT_EQ(m.value("switchyard_reloads_total", {{"result", "ok"}}), 0);
    EXPECT_EQ(m.value("switchyard_last_reload_success"), 1);
    EXPECT_GT(m.value("process_resident_memory_bytes"), 1e6);
    EXPECT_GT(m.value("process_open_fds"), 5);
    EXPECT_EQ(m.types.at("switchyard_request_duration_seconds"), "histogram");
    EXPECT_EQ(m.types.at("switchyard_requests_total"), "counter");

    // /status: the same requests in the windows, 5xx share per pool.
    const auto status =
        boost::json::parse(HttpConn(cfg.admin_port).roundtrip(get_request("/status")).body());
    const auto& pools = status.at("pools").as_array();
    ASSERT_EQ(pools.size(), 2u);
    for (const auto& [index, requests, errors] : {std::tuple{0, 12, 3}, std::tuple{1, 6, 1}}) {
        const auto& rates = pools[static_cast<std::size_t>(index)].at("rates");
        for (const char* window : {"10s", "60s"}) {
            const auto& w = rates.at(window);
            EXPECT_EQ(w.at("requests").to_number<int>(), requests) << window;
            EXPECT_NEAR(w.at("error_ratio").to_number<double>(), double(errors) / requests, 1e-6);
            EXPECT_GT(w.at("requests_per_second").to_number<double>(), 0);
            const double p50 = w.at("p50_ms").to_number<double>();
            const double p99 = w.at("p99_ms").to_number<double>();
            EXPECT_GT(p50, 0);
            EXPECT_LE(p50, p99);
        }
    }

    // A reload counts, with its time.
    reply = control_command(dir_ / "control.sock", "reload");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    m = parse_exposition(scrape(cfg.admin_port));
    EXPECT_EQ(m.value("switchyard_reloads_total", {{"result", "ok"}}), 1);
    EXPECT_GT(m.value("switchyard_last_reload_timestamp_seconds"), 1.6e9);
}

TEST_F(Metrics, UpstreamErrorsAreCountedByServerAndKind) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    const auto dead = free_port();  // nothing listens: connect refused
    cfg.pools = {{"blue", {"127.0.0.1:" + std::to_string(dead)}}, {"green", {green_->address()}}};
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(status_of(proxy_->port(), "/"), 502u);
    Exposition m;
    const Labels server{{"pool", "blue"}, {"server", "127.0.0.1:" + std::to_string(dead)}};
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        m = parse_exposition(scrape(cfg.admin_port));
        return m.sum("switchyard_requests_total") == 3;
    }));
    EXPECT_TRUE(m.errors.empty()) << ::testing::PrintToString(m.errors);
    Labels kind = server;
    kind["kind"] = "connect_failed";
    EXPECT_EQ(m.value("switchyard_upstream_errors_total", kind), 3);
    EXPECT_EQ(m.value("switchyard_requests_total", {{"pool", "blue"}, {"code", "502"}}), 3);
    EXPECT_EQ(m.value("switchyard_upstream_connections"), 0);  // failed connects are gone
}

TEST_F(Metrics, AccessLogCarriesBucketAndUpstreamTimingsAndSamplingKeepsFailures) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    cfg.routing = {{"seed", "0"}};
    start_proxy(cfg);
    const auto port = proxy_->port();
    // "bob" is in bucket 27 with seed 0 (DESIGN.md's golden values).
    auto r = HttpConn(port).roundtrip(get_request("/", "Cookie: sy_uid=bob\r\n"));
    ASSERT_EQ(r.status(), 200u);
    auto lines = proxy_->wait_access_lines(1);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"pool\":\"blue\""), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("\"upstream\":\"" + blue_->address() + "\""), std::string::npos);
    EXPECT_NE(lines[0].find("\"bucket\":27"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("\"upstream_connect_ms\":"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("\"upstream_response_ms\":"), std::string::npos) << lines[0];

    // Sampling: with a tiny share (one in a billion) only failures are
    // logged, so of 30 × 200 and 4 × 503 the log gets exactly the 503s.
    proxy_.reset();
    std::filesystem::remove(dir_ / "access.log");
    cfg.log = {{"access_log_sample", "1e-9"}};
    start_proxy(cfg);
    for (int i = 0; i < 30; ++i)
        ASSERT_EQ(status_of(proxy_->port(), "/"), 200u);
    for (int i = 0; i < 4; ++i)
        ASSERT_EQ(status_of(proxy_->port(), "/?status=503"), 503u);
    lines = proxy_->wait_access_lines(4);
    ASSERT_EQ(lines.size(), 4u);
    for (const auto& line : lines)
        EXPECT_NE(line.find("\"status\":503"), std::string::npos) << line;
}

}  // namespace
}  // namespace sy_it

// The access log, graceful shutdown on SIGTERM, and upstreams given by name.
#include <signal.h>

#include <boost/json.hpp>
#include <regex>

#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;
using Lifecycle = ProxyTest;

json::object parse_line(const std::string& line) {
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) throw std::runtime_error("not a JSON object: " + line);
    return v.as_object();
}

std::string str(const json::object& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return "<missing " + std::string(key) + ">";
    return std::string(it->value().as_string());
}

std::int64_t num(const json::object& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_number()) return -1;
    return it->value().to_number<std::int64_t>();
}

TEST_F(Lifecycle, AccessLogLineHasEveryField) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    const std::string req = get_request("/log?x=1", "X-Request-Id: req-abc-123\r\n");
    auto r = c.roundtrip(req);
    ASSERT_EQ(r.status(), 200u);

    auto lines = sy.wait_access_lines(1);
    ASSERT_EQ(lines.size(), 1u);
    auto o = parse_line(lines[0]);
    SCOPED_TRACE(lines[0]);
    EXPECT_EQ(str(o, "method"), "GET");
    EXPECT_EQ(str(o, "target"), "/log?x=1");
    EXPECT_EQ(num(o, "status"), 200);
    EXPECT_EQ(num(o, "bytes_in"), static_cast<std::int64_t>(req.size()));
    EXPECT_EQ(num(o, "bytes_out"), static_cast<std::int64_t>(r.wire_bytes));
    EXPECT_EQ(str(o, "upstream"), blue_->address());
    EXPECT_EQ(str(o, "pool"), "blue");
    EXPECT_EQ(str(o, "request_id"), "req-abc-123");
    EXPECT_EQ(str(o, "client"), "127.0.0.1:" + std::to_string(c.local_port()));
    EXPECT_TRUE(std::regex_match(str(o, "time"),
                                 std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)")))
        << str(o, "time");
    ASSERT_TRUE(o.contains("duration_ms"));
    ASSERT_TRUE(o.at("duration_ms").is_number());
    const double ms = o.at("duration_ms").to_number<double>();
    EXPECT_GE(ms, 0.0);
    EXPECT_LT(ms, 5000.0);
    EXPECT_FALSE(o.contains("error"));
}

TEST_F(Lifecycle, GeneratedRequestIdIsTheOneLoggedAndSentUpstream) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    const std::string body(1000, 'q');
    const std::string head =
        "POST /submit?echo=head HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n";
    auto r = c.roundtrip(head + body);
    ASSERT_EQ(r.status(), 200u);
    auto ids = SeenHead::parse(r.body()).values("X-Request-Id");
    ASSERT_EQ(ids.size(), 1u);
    ASSERT_TRUE(is_hex32(ids[0]));

    auto lines = sy.wait_access_lines(1);
    ASSERT_EQ(lines.size(), 1u);
    auto o = parse_line(lines[0]);
    SCOPED_TRACE(lines[0]);
    EXPECT_EQ(str(o, "method"), "POST");
    EXPECT_EQ(str(o, "target"), "/submit?echo=head");
    EXPECT_EQ(str(o, "request_id"), ids[0]);
    EXPECT_EQ(num(o, "bytes_in"), static_cast<std::int64_t>(head.size() + body.size()));
    EXPECT_EQ(num(o, "bytes_out"), static_cast<std::int64_t>(r.wire_bytes));
}

TEST_F(Lifecycle, FailedRequestIsLoggedWithItsStatus) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    const std::string dead = "127.0.0.1:" + std::to_string(free_port());
    cfg.pools[0].servers = {dead};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/down"));
    ASSERT_EQ(r.status(), 502u);
    auto lines = sy.wait_access_lines(1);
    ASSERT_EQ(lines.size(), 1u);
    auto o = parse_line(lines[0]);
    SCOPED_TRACE(lines[0]);
    EXPECT_EQ(num(o, "status"), 502);
    EXPECT_EQ(str(o, "upstream"), dead);
    EXPECT_EQ(str(o, "pool"), "blue");
    EXPECT_EQ(str(o, "request_id"), r.header("X-Request-Id"));
    EXPECT_EQ(num(o, "bytes_out"), static_cast<std::int64_t>(r.wire_bytes));
}

// An upstream that reports when a request arrived and answers after `delay`
// (or stops early when the proxy closes the connection).
struct SlowUpstream {
    explicit SlowUpstream(milliseconds delay)
        : delay_(delay), up([this](ScriptedUpstream::Conn& c, int) { serve(c); }) {}
    void serve(ScriptedUpstream::Conn& c) {
        for (;;) {
            auto req = c.read_request(seconds(10));
            if (!req) return;
            if (req->head.rfind("GET /fast ", 0) == 0) {  // answered at once, keep-alive
                if (!c.send(kResponse)) return;
                continue;
            }
            ++received;
            // Ends early at EOF: the proxy gave up on the request.
            if (c.wait_readable(delay_) != ScriptedUpstream::Conn::Wait::timeout || up.stopping())
                return;
            if (!c.send(kResponse)) return;
            ++answered;
        }
    }
    static constexpr std::string_view kResponse =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nslow\n";
    std::atomic<int> received{0};
    std::atomic<int> answered{0};
    milliseconds delay_;
    ScriptedUpstream up;
};

TEST_F(Lifecycle, SigtermDrainsInFlightRequestAndExitsZero) {
    SlowUpstream slow(milliseconds(1000));
    auto cfg = base_config();
    cfg.workers = 2;
    cfg.server = {{"drain_timeout", "\"10s\""}};
    cfg.pools[0].servers = {slow.up.address()};
    auto& sy = start_proxy(cfg);

    // An idle keep-alive connection (one request done): closed at once on SIGTERM.
    auto idle = sy.connect();
    ASSERT_EQ(idle.roundtrip(get_request("/fast")).status(), 200u);
    auto in_flight = sy.connect();
    in_flight.send(get_request("/slow"));
    ASSERT_TRUE(poll_until(after(seconds(3)), [&] { return slow.received.load() == 1; }));

    const auto t0 = Clock::now();
    sy.process().signal(SIGTERM);

    // New connections are refused once the listener is closed.
    int err = 0;
    EXPECT_TRUE(poll_until(after(seconds(2)), [&] {
        auto s = Socket::connect(sy.port(), after(milliseconds(200)), &err);
        return !s.valid() && err == ECONNREFUSED;
    })) << "the proxy still accepts connections after SIGTERM";

    EXPECT_TRUE(idle.wait_closed(seconds(2))) << "an idle connection was kept open";

    auto r = in_flight.read_response(seconds(5));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.body(), "slow\n");
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(in_flight.wait_closed(seconds(2)));

    auto status = sy.process().wait_exit(t0 + seconds(5));
    ASSERT_TRUE(status.has_value()) << "switchyard did not exit within 5 s of SIGTERM";
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status);
    EXPECT_LT(ms_since(t0), 4000);
    EXPECT_EQ(slow.answered.load(), 1);
}

TEST_F(Lifecycle, SigtermCutsRequestsAfterDrainTimeout) {
    SlowUpstream slow(milliseconds(5000));
    auto cfg = base_config();
    cfg.server = {{"drain_timeout", "\"500ms\""}};
    cfg.pools[0].servers = {slow.up.address()};
    auto& sy = start_proxy(cfg);
    auto in_flight = sy.connect();
    in_flight.send(get_request("/very-slow"));
    ASSERT_TRUE(poll_until(after(seconds(3)), [&] { return slow.received.load() == 1; }));

    const auto t0 = Clock::now();
    sy.process().signal(SIGTERM);
    auto status = sy.process().wait_exit(t0 + seconds(3));
    const auto ms = ms_since(t0);
    ASSERT_TRUE(status.has_value()) << "switchyard did not exit within 3 s (drain_timeout 500ms)";
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status);
    EXPECT_LT(ms, 1500);
    EXPECT_GE(ms, 400);

    Response r;
    auto ec = in_flight.try_read_response(r, seconds(2));
    EXPECT_TRUE(ec) << "got a complete response: " << r.status() << " wire " << r.wire_bytes
                    << " body " << r.body() << " ec " << ec.message();
    EXPECT_NE(ec, beast::error::timeout);
    EXPECT_EQ(slow.answered.load(), 0);
}

TEST_F(Lifecycle, HostnameUpstreamResolvedAtStart) {
    auto cfg = base_config();
    cfg.pools[0].servers = {"localhost:" + std::to_string(blue_->port())};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("X-Echo-Name"), "blue");
    EXPECT_EQ(r.body(), "blue\n");
}

}  // namespace
}  // namespace sy_it

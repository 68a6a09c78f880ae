// The access log, graceful shutdown on SIGTERM, and upstreams given by name.
#include <signal.h>

#include <boost/json.hpp>
#include <mutex>
#include <regex>
#include <thread>

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

// Each request is its own exchange: a malformed request after a routed one
// on the same connection gets its own request id and is logged without the
// routed request's pool, server or user bucket.
TEST_F(Lifecycle, ARequestAnsweredWithoutAHeadInheritsNothingFromThePreviousOne) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto ok = c.roundtrip(get_request("/first", "X-Request-Id: first-request\r\n"));
    ASSERT_EQ(ok.status(), 200u);
    auto bad = c.roundtrip("GET /second HTTP/1.1\r\nHost: test\r\nBad Name: x\r\n\r\n");
    ASSERT_EQ(bad.status(), 400u);
    EXPECT_TRUE(is_hex32(bad.header("X-Request-Id"))) << bad.header("X-Request-Id");

    auto lines = sy.wait_access_lines(2);
    ASSERT_EQ(lines.size(), 2u);
    auto first = parse_line(lines[0]);
    auto second = parse_line(lines[1]);
    SCOPED_TRACE(lines[0] + lines[1]);
    EXPECT_EQ(str(first, "pool"), "blue");
    EXPECT_GE(num(first, "bucket"), 0);
    EXPECT_EQ(num(second, "status"), 400);
    EXPECT_EQ(str(second, "request_id"), bad.header("X-Request-Id"));
    EXPECT_EQ(str(second, "pool"), "");
    EXPECT_EQ(str(second, "upstream"), "");
    EXPECT_FALSE(second.contains("bucket"));
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

// switchyard-echo on a given address; its port is read from its first line.
struct EchoAt {
    std::unique_ptr<Process> proc;
    std::uint16_t port = 0;
    EchoAt(const TempDir& dir, const std::string& name, const std::string& listen) {
        Process::Options o;
        o.argv = {SWITCHYARD_ECHO_BIN, "--name", name, "--listen", listen};
        o.stdout_pipe = true;
        o.stderr_path = dir / ("echo-" + name + ".stderr");
        proc = std::make_unique<Process>(o);
        const std::string host = listen.substr(0, listen.rfind(':'));
        auto line = proc->read_line(after(seconds(10)));
        const std::string prefix = "listening " + host + ":";
        if (line && line->rfind(prefix, 0) == 0)
            port = static_cast<std::uint16_t>(std::stoul(line->substr(prefix.size())));
    }
};

// pools.*.dns_refresh: a server given by name moves to the name's new
// address at the next refresh, without failing a request. The name lives in
// a hosts file that the proxy, and only the proxy, sees as /etc/hosts: it
// runs in its own user and mount namespace (unshare), so the machine's
// /etc/hosts is never touched and the real resolver path is exercised.
TEST_F(Lifecycle, DnsRefreshMovesRequestsToTheNewAddress) {
    {
        Process::Options probe;
        probe.argv = {"/usr/bin/unshare", "-rm", "--",
                      "/bin/sh",          "-c",  "mount --bind /dev/null /etc/hosts"};
        Process p(probe);
        if (!exited_with(p.wait_exit(after(seconds(10))), 0))
            GTEST_SKIP() << "unshare -rm cannot bind-mount /etc/hosts here (no user namespaces?)";
    }
    // The old and the new address of the name, on one port.
    EchoAt old_server(dir_, "old", "127.0.0.1:0");
    ASSERT_NE(old_server.port, 0);
    const std::string port = std::to_string(old_server.port);
    EchoAt new_server(dir_, "new", "127.0.0.2:" + port);
    ASSERT_NE(new_server.port, 0) << "127.0.0.2:" << port << " is taken";

    const auto hosts = dir_ / "hosts";
    write_file(hosts, "127.0.0.1 localhost\n127.0.0.1 app.switchyard.test\n");
    ProxyConfig cfg;
    cfg.pools = {{"blue", {"app.switchyard.test:" + port}, "dns_refresh = \"1s\"\n"}};
    cfg.launcher = {
        "/usr/bin/unshare", "-rm", "--",
        "/bin/sh",          "-c",  "mount --bind \"$SY_HOSTS\" /etc/hosts && exec \"$0\" \"$@\""};
    ::setenv("SY_HOSTS", hosts.c_str(), 1);
    auto& sy = start_proxy(cfg);
    ::unsetenv("SY_HOSTS");

    // Requests run all along, on a keep-alive connection and on new ones.
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::mutex mu;
    std::vector<std::string> served;  // X-Echo-Name of each response, in order
    std::thread load([&] {
        HttpConn keep_alive(sy.port());
        for (int i = 0; !stop; ++i) {
            try {
                HttpConn fresh;
                HttpConn& c = i % 2 == 0 ? keep_alive : (fresh = HttpConn(sy.port()));
                Response r = c.roundtrip(get_request("/"));
                std::lock_guard lock(mu);
                if (r.status() != 200) ++failures;
                served.push_back(r.header("X-Echo-Name"));
            } catch (const std::exception&) {
                ++failures;
                keep_alive = HttpConn(sy.port());
            }
        }
    });
    const auto count = [&](const std::string& name) {
        std::lock_guard lock(mu);
        return std::count(served.begin(), served.end(), name);
    };
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] { return count("old") >= 20; }));
    write_file(hosts, "127.0.0.1 localhost\n127.0.0.2 app.switchyard.test\n");
    // At the next refresh (1 s) the name's new address takes the requests.
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return count("new") > 0; }));
    std::size_t moved_at = 0;
    {
        std::lock_guard lock(mu);
        moved_at = served.size();
    }
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        std::lock_guard lock(mu);
        return served.size() >= moved_at + 50;
    }));
    stop = true;
    load.join();
    EXPECT_EQ(failures.load(), 0);
    // Once moved, every request goes to the new address.
    std::lock_guard lock(mu);
    EXPECT_EQ(std::count(served.begin() + static_cast<long>(moved_at), served.end(), "old"), 0);
}

}  // namespace
}  // namespace sy_it

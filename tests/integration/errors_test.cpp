// Upstream failures, timeouts on both sides, stale pooled connections and
// the retry rule (never replay a request that may have reached an upstream
// unless it is idempotent).
#include "fixture.hpp"

namespace sy_it {
namespace {

using Errors = ProxyTest;

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n";

TEST_F(Errors, ConnectRefusedGives502) {
    auto cfg = base_config();
    cfg.pools[0].servers = {"127.0.0.1:" + std::to_string(free_port())};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.status(), 502u);
    EXPECT_EQ(r.body(), "502 Bad Gateway\n");
    EXPECT_TRUE(is_hex32(r.header("X-Request-Id"))) << r.header("X-Request-Id");
    // A bodiless request leaves the client connection usable.
    auto again = c.roundtrip(get_request("/"));
    EXPECT_EQ(again.status(), 502u);
}

TEST_F(Errors, UnresolvableOnlyServerGives503) {
    auto cfg = base_config();
    cfg.pools[0].servers = {"no-such-host.invalid:80"};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.status(), 503u);
    EXPECT_EQ(r.body(), "503 Service Unavailable\n");
    EXPECT_EQ(r.header("Retry-After"), "1");
}

TEST_F(Errors, SlowUpstreamGives504WithinAboutOneSecond) {
    auto cfg = base_config();
    cfg.timeouts = {{"upstream_response", "\"300ms\""}};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    const auto t0 = Clock::now();
    auto r = c.roundtrip(get_request("/?delay_ms=2000"), seconds(5));
    const auto ms = ms_since(t0);
    EXPECT_EQ(r.status(), 504u);
    EXPECT_EQ(r.body(), "504 Gateway Timeout\n");
    EXPECT_GE(ms, 280);
    EXPECT_LT(ms, 1000);
}

TEST_F(Errors, StalledRequestHeadGets408AndClose) {
    auto cfg = base_config();
    cfg.timeouts = {{"client_header", "\"300ms\""}};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    const auto t0 = Clock::now();
    c.send("GET /slowloris HTTP/1.1\r\nHost: te");
    auto r = c.read_response(seconds(3));
    const auto ms = ms_since(t0);
    EXPECT_EQ(r.status(), 408u);
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_GE(ms, 280);
    EXPECT_LT(ms, 1000);
    EXPECT_TRUE(c.wait_closed(seconds(3)));
}

TEST_F(Errors, IdleKeepAliveClientClosedAfterClientIdle) {
    auto cfg = base_config();
    cfg.timeouts = {{"client_idle", "\"300ms\""}};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/"));
    ASSERT_EQ(r.status(), 200u);
    const auto t0 = Clock::now();
    std::string extra;
    EXPECT_TRUE(c.wait_closed(seconds(3), &extra)) << "got bytes: " << extra;
    const auto ms = ms_since(t0);
    EXPECT_GE(ms, 280);
    EXPECT_LT(ms, 1200);

    // A connection that never sends a byte is closed the same way.
    auto silent = sy.connect();
    const auto t1 = Clock::now();
    EXPECT_TRUE(silent.wait_closed(seconds(3)));
    EXPECT_LT(ms_since(t1), 1200);
}

TEST_F(Errors, UpstreamAbortMidBodyClosesClientBeforeFullLength) {
    auto& sy = start_proxy();
    for (const char* mode : {"mid", "reset"}) {
        SCOPED_TRACE(mode);
        auto c = sy.connect();
        c.send(get_request(std::string("/?bytes=100000&abort=") + mode));
        Response r;
        auto ec = c.try_read_response(r, seconds(5));
        EXPECT_TRUE(ec) << "a truncated response looked complete";
        EXPECT_NE(ec, beast::error::timeout) << "the proxy kept the connection open";
        EXPECT_EQ(r.status(), 200u);
        EXPECT_EQ(r.header("Content-Length"), "100000");
        EXPECT_LT(r.body().size(), 100000u);
        EXPECT_EQ(pattern_mismatch(0, r.body()), std::string_view::npos);
    }
}

TEST_F(Errors, UpstreamClosesWithoutResponseGives502) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/?abort=before"));
    EXPECT_EQ(r.status(), 502u);
}

// An upstream that answers with keep-alive, then closes a connection idle for
// 50 ms: the proxy's pooled connection is dead when the next request comes.
TEST_F(Errors, StalePooledConnectionIsNotUsed) {
    std::atomic<int> requests{0};
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int seq) {
        for (;;) {
            if (!c.read_request(seconds(5))) return;
            ++requests;
            c.send(kOk + "X-Conn: " + std::to_string(seq) + "\r\n\r\nok\n");
            if (c.wait_readable(milliseconds(50)) != ScriptedUpstream::Conn::Wait::data)
                return;  // idle for 50 ms (or closed): close
        }
    });
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r1 = c.roundtrip(get_request("/one"));
    ASSERT_EQ(r1.status(), 200u);
    EXPECT_EQ(r1.header("X-Conn"), "1");
    ASSERT_TRUE(poll_until(after(seconds(3)), [&] { return up.closed.load() >= 1; }));
    auto r2 = c.roundtrip(get_request("/two"));
    EXPECT_EQ(r2.status(), 200u);
    EXPECT_EQ(r2.body(), "ok\n");
    EXPECT_EQ(r2.header("X-Conn"), "2");
    EXPECT_EQ(requests.load(), 2);
}

// An upstream that closes every connection right after its response, whose
// framing says keep-alive: the end arrives with the last bytes. The proxy
// must not reuse such a connection, nor wait on it: each request is answered
// at once (the response timeout is far longer than the whole test).
TEST_F(Errors, AConnectionClosedWithTheResponseIsNotWaitedOn) {
    std::atomic<int> requests{0};
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int seq) {
        if (!c.read_request(seconds(5))) return;
        ++requests;
        c.send(kOk + "X-Conn: " + std::to_string(seq) + "\r\n\r\nok\n");
    });  // returns: closed with the response
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    cfg.timeouts = {{"upstream_response", "\"30s\""}};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect(seconds(10));
    const auto started = Clock::now();
    for (int i = 0; i < 40; ++i) {
        auto r = c.roundtrip(get_request("/" + std::to_string(i)));
        ASSERT_EQ(r.status(), 200u) << i;
        EXPECT_EQ(r.body(), "ok\n") << i;
    }
    EXPECT_LT(Clock::now() - started, seconds(10));
    EXPECT_EQ(requests.load(), 40);  // none was lost to a dead connection
}

// A response whose first read fills the proxy's 16 KiB head buffer makes it
// take what else is in the socket before relaying, without waiting: around
// that size, with the connection kept or closed after the response, every
// response arrives whole and at once (the response timeout is far longer
// than the test), and a closed connection is not reused.
TEST_F(Errors, ResponsesAroundTheFirstReadsSizeArriveWholeAndAtOnce) {
    const std::size_t kHead =
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 16000\r\n\r\n").size();
    for (const bool close : {false, true}) {
        for (const std::size_t total : {16383u, 16384u, 16385u, 16384u + 160u, 100000u}) {
            const std::size_t length = total - kHead;  // 5 digits either way
            const std::string body(length, 'x');
            std::atomic<int> connections{0};
            ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int) {
                ++connections;
                while (c.read_request(seconds(5))) {
                    if (!c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) +
                                "\r\n\r\n" + body))
                        return;
                    if (close) return;
                }
            });
            auto cfg = base_config();
            cfg.pools[0].servers = {up.address()};
            cfg.timeouts = {{"upstream_response", "\"30s\""}};
            proxy_.reset();
            auto& sy = start_proxy(cfg);
            auto c = sy.connect(seconds(10));
            const auto started = Clock::now();
            for (int i = 0; i < 5; ++i) {
                auto r = c.roundtrip(get_request("/" + std::to_string(i)));
                ASSERT_EQ(r.status(), 200u) << total << " close=" << close;
                EXPECT_EQ(r.body().size(), length) << total << " close=" << close;
            }
            EXPECT_LT(Clock::now() - started, seconds(10)) << total << " close=" << close;
            EXPECT_EQ(connections.load(), close ? 5 : 1) << total << " close=" << close;
        }
    }
}

// The upstream answers the first request on a connection and closes on the
// second one after reading it, without a response (as if its keep-alive
// timer fired just as the request arrived).
struct ClosesOnSecondRequest {
    std::atomic<int> requests{0};
    std::atomic<int> posts{0};
    void operator()(ScriptedUpstream::Conn& c, int seq) {
        for (int n = 1;; ++n) {
            auto req = c.read_request(seconds(5));
            if (!req) return;
            ++requests;
            if (req->method() == "POST") ++posts;
            if (seq == 1 && n == 2) return;  // close, no response
            c.send(kOk + "X-Conn: " + std::to_string(seq) + "\r\n\r\nok\n");
        }
    }
};

TEST_F(Errors, IdempotentRequestRetriedOnFreshConnection) {
    ClosesOnSecondRequest script;
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int seq) { script(c, seq); });
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r1 = c.roundtrip(get_request("/warm"));
    ASSERT_EQ(r1.status(), 200u);
    auto r2 = c.roundtrip(get_request("/retry-me"));
    EXPECT_EQ(r2.status(), 200u);
    EXPECT_EQ(r2.body(), "ok\n");
    EXPECT_EQ(r2.header("X-Conn"), "2");
    EXPECT_EQ(script.requests.load(), 3);
}

TEST_F(Errors, PostOnReusedConnectionNeverReplayed) {
    ClosesOnSecondRequest script;
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int seq) { script(c, seq); });
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    auto r1 = c.roundtrip(get_request("/warm"));
    ASSERT_EQ(r1.status(), 200u);
    c.send("POST /order HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nbuy 1 share");
    auto r2 = c.read_response(seconds(5));
    EXPECT_EQ(r2.status(), 502u);
    // Nothing more arrives upstream afterwards.
    EXPECT_FALSE(poll_until(after(milliseconds(300)), [&] { return script.posts.load() > 1; }));
    EXPECT_EQ(script.posts.load(), 1);
    EXPECT_EQ(up.connections(), 1);
}

TEST_F(Errors, PostOnFreshConnectionClosedWithoutResponseGives502Once) {
    std::atomic<int> posts{0};
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int) {
        auto req = c.read_request(seconds(5));
        if (req && req->method() == "POST") ++posts;
    });
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    c.send("POST /order HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nbuy 1 share");
    auto r = c.read_response(seconds(5));
    EXPECT_EQ(r.status(), 502u);
    EXPECT_FALSE(poll_until(after(milliseconds(300)), [&] { return posts.load() > 1; }));
    EXPECT_EQ(posts.load(), 1);
    EXPECT_EQ(up.connections(), 1);
}

}  // namespace
}  // namespace sy_it

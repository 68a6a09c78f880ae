// The walking skeleton end to end: routing to the active pool, header rules
// in both directions, keep-alive on both sides, and request/response bodies
// in every framing.
#include <set>

#include "fixture.hpp"

namespace sy_it {
namespace {

using Proxy = ProxyTest;

TEST_F(Proxy, GetReachesActivePoolBlue) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.msg.version(), 11u);
    EXPECT_EQ(r.header("X-Echo-Name"), "blue");
    EXPECT_EQ(r.body(), "blue\n");
    EXPECT_EQ(r.header("Content-Length"), "5");
    EXPECT_EQ(r.header("Via"), "1.1 switchyard");
    EXPECT_EQ(r.header("X-Echo-Body-Bytes"), "0");
    EXPECT_EQ(r.header("X-Echo-Body-Sum"), "cbf29ce484222325");
}

TEST_F(Proxy, RequestHeaderRules) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    const std::string req =
        "GET /rules?echo=head HTTP/1.1\r\n"
        "Host: example.test:8080\r\n"
        "X-First: 1\r\n"
        "Connection: keep-alive, X-Secret\r\n"
        "Keep-Alive: timeout=5\r\n"
        "TE: trailers\r\n"
        "Trailer: X-Checksum\r\n"
        "Upgrade: foo/1\r\n"
        "Proxy-Connection: keep-alive\r\n"
        "X-Secret: 1\r\n"
        "X-Forwarded-For: 1.2.3.4\r\n"
        "X-Middle: 2\r\n"
        "Accept: */*\r\n"
        "X-Last: 3\r\n"
        "\r\n";
    auto r = c.roundtrip(req);
    ASSERT_EQ(r.status(), 200u);
    const auto seen = SeenHead::parse(r.body());
    SCOPED_TRACE("upstream saw:\n" + r.body());
    EXPECT_EQ(seen.request_line, "GET /rules?echo=head HTTP/1.1");
    for (const char* gone :
         {"Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection", "X-Secret"})
        EXPECT_TRUE(seen.values(gone).empty()) << gone << " was forwarded";
    EXPECT_EQ(seen.values("Via"), std::vector<std::string>{"1.1 switchyard"});
    EXPECT_EQ(seen.values("X-Forwarded-For"), std::vector<std::string>{"1.2.3.4, 127.0.0.1"});
    EXPECT_EQ(seen.values("X-Forwarded-Proto"), std::vector<std::string>{"http"});
    EXPECT_EQ(seen.values("X-Forwarded-Host"), std::vector<std::string>{"example.test:8080"});
    EXPECT_EQ(seen.values("Host"), std::vector<std::string>{"example.test:8080"});
    auto ids = seen.values("X-Request-Id");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_TRUE(is_hex32(ids[0])) << ids[0];
    // The other fields keep the client's order.
    EXPECT_EQ(seen.order_of({"host", "x-first", "x-middle", "accept", "x-last"}),
              (std::vector<std::string>{"host", "x-first", "x-middle", "accept", "x-last"}));
}

TEST_F(Proxy, RequestIdPassedThroughAndGeneratedIdsDiffer) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/?echo=head", "X-Request-Id: client-id-42\r\n"));
    ASSERT_EQ(r.status(), 200u);
    EXPECT_EQ(SeenHead::parse(r.body()).values("X-Request-Id"),
              std::vector<std::string>{"client-id-42"});

    std::set<std::string> generated;
    for (int i = 0; i < 3; ++i) {
        auto g = c.roundtrip(get_request("/?echo=head"));
        ASSERT_EQ(g.status(), 200u);
        auto ids = SeenHead::parse(g.body()).values("X-Request-Id");
        ASSERT_EQ(ids.size(), 1u);
        EXPECT_TRUE(is_hex32(ids[0])) << ids[0];
        generated.insert(ids[0]);
    }
    EXPECT_EQ(generated.size(), 3u);
}

TEST_F(Proxy, Http10ClientIsForwardedAsHttp11) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send("GET /old?echo=head HTTP/1.0\r\nHost: legacy.test\r\nUser-Agent: t\r\n\r\n");
    auto r = c.read_response();
    ASSERT_EQ(r.status(), 200u);
    const auto seen = SeenHead::parse(r.body());
    EXPECT_EQ(seen.request_line, "GET /old?echo=head HTTP/1.1");
    EXPECT_EQ(seen.values("X-Forwarded-Host"), std::vector<std::string>{"legacy.test"});
    EXPECT_EQ(seen.values("User-Agent"), std::vector<std::string>{"t"});
    // HTTP/1.0 without keep-alive: the proxy closes after the response.
    EXPECT_TRUE(c.wait_closed(seconds(3)));
}

TEST_F(Proxy, ResponseHeaderRules) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r = c.roundtrip(
        get_request("/?header=Keep-Alive:timeout%3D5&header=Connection:X-Foo&header=X-Foo:1"
                    "&header=Proxy-Connection:keep-alive&header=Upgrade:foo/1&header=X-Kept:yes"));
    ASSERT_EQ(r.status(), 200u);
    EXPECT_FALSE(r.has("Keep-Alive"));
    EXPECT_FALSE(r.has("Connection"));
    EXPECT_FALSE(r.has("X-Foo"));
    EXPECT_FALSE(r.has("Proxy-Connection"));
    EXPECT_FALSE(r.has("Upgrade"));
    EXPECT_EQ(r.header("X-Kept"), "yes");
    EXPECT_EQ(r.count("Via"), 1u);
    EXPECT_EQ(r.header("Via"), "1.1 switchyard");
    EXPECT_EQ(r.header("X-Echo-Name"), "blue");
    EXPECT_EQ(r.body(), "blue\n");
    // The connection stays usable.
    auto again = c.roundtrip(get_request("/"));
    EXPECT_EQ(again.status(), 200u);
}

TEST_F(Proxy, KeepAliveBothSidesOneUpstreamConnection) {
    auto cfg = base_config();
    cfg.workers = 2;
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    std::set<std::string> conns;
    for (int i = 0; i < 20; ++i) {
        auto r = c.roundtrip(get_request("/ka"));
        ASSERT_EQ(r.status(), 200u) << "request " << i;
        ASSERT_EQ(r.body(), "blue\n");
        EXPECT_FALSE(r.has("Connection")) << "request " << i << ": " << r.header("Connection");
        conns.insert(r.header("X-Echo-Conn"));
    }
    EXPECT_EQ(conns.size(), 1u) << "the upstream saw several connections";
}

TEST_F(Proxy, PipelinedRequestsAnsweredInOrder) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send(get_request("/?header=X-Seq:1") + get_request("/?header=X-Seq:2&bytes=1000") +
           get_request("/?header=X-Seq:3"));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    auto r3 = c.read_response();
    EXPECT_EQ(r1.header("X-Seq"), "1");
    EXPECT_EQ(r2.header("X-Seq"), "2");
    EXPECT_EQ(r2.body(), pattern(0, 1000));
    EXPECT_EQ(r3.header("X-Seq"), "3");
    EXPECT_EQ(r3.body(), "blue\n");
}

// An idle keep-alive connection waits for its next request with a small
// read buffer, and gives back a large one that a large head or body grew:
// heads larger than that read (alone, or split across it by pipelining)
// and the requests after them still arrive whole.
TEST_F(Proxy, KeepAliveAcrossLargeHeadsAndBodies) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    const std::string big(6000, 'x');
    for (int i = 0; i < 3; ++i) {
        auto r = c.roundtrip(get_request("/?echo=head", "X-Big: " + big + "\r\n"));
        ASSERT_EQ(r.status(), 200u) << "round " << i;
        EXPECT_EQ(SeenHead::parse(r.body()).values("X-Big"), std::vector<std::string>{big});
        auto small = c.roundtrip(get_request("/"));
        ASSERT_EQ(small.status(), 200u) << "round " << i;
        EXPECT_EQ(small.body(), "blue\n");
    }
    const std::string body = pattern(3, 300 * 1000);
    c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    auto posted = c.read_response(seconds(10));
    ASSERT_EQ(posted.status(), 200u);
    EXPECT_EQ(posted.header("X-Echo-Body-Sum"), hex16(fnv1a(body)));
    // Pipelined: the first read ends inside the second head, whose rest
    // (larger than that read) follows.
    const std::string pad(700, 'p');
    c.send(get_request("/?header=X-Seq:1", "X-Pad: " + pad + "\r\n") +
           get_request("/?echo=head&header=X-Seq:2", "X-Big: " + big + "\r\n") +
           get_request("/?header=X-Seq:3"));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    auto r3 = c.read_response();
    EXPECT_EQ(r1.header("X-Seq"), "1");
    EXPECT_EQ(r2.header("X-Seq"), "2");
    EXPECT_EQ(SeenHead::parse(r2.body()).values("X-Big"), std::vector<std::string>{big});
    EXPECT_EQ(r3.header("X-Seq"), "3");
    EXPECT_EQ(r3.body(), "blue\n");
}

TEST_F(Proxy, HeadRequestKeepsContentLengthWithoutBody) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send("HEAD /?bytes=1000 HTTP/1.1\r\nHost: test\r\n\r\n");
    auto r = c.read_response(seconds(5), /*head_request=*/true);
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("Content-Length"), "1000");
    EXPECT_EQ(r.body(), "");
    // No body bytes may follow: the next response parses cleanly.
    auto next = c.roundtrip(get_request("/"));
    EXPECT_EQ(next.status(), 200u);
    EXPECT_EQ(next.body(), "blue\n");
}

// --- Bodies ------------------------------------------------------------------------

TEST_F(Proxy, ContentLengthPostOneMiB) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    const std::string body = pattern(7, 1024 * 1024);
    c.send(
        "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    c.send(body);
    auto r = c.read_response(seconds(10));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("X-Echo-Body-Bytes"), "1048576");
    EXPECT_EQ(r.header("X-Echo-Body-Sum"), hex16(fnv1a(body)));
    // And again on the same connection.
    c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nxyz");
    auto r2 = c.read_response();
    EXPECT_EQ(r2.header("X-Echo-Body-Bytes"), "3");
    EXPECT_EQ(r2.header("X-Echo-Body-Sum"), hex16(fnv1a("xyz")));
}

TEST_F(Proxy, ChunkedPostOddChunkSizes) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send("POST /chunks?echo=head HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string all;
    std::uint64_t offset = 0;
    for (std::size_t size : {1u, 7u, 4093u, 65537u, 3u, 100003u, 26u}) {
        std::string data = pattern(offset, size);
        offset += size;
        all += data;
        char line[32];
        std::snprintf(line, sizeof line, "%zx\r\n", size);
        c.send(std::string(line) + data + "\r\n");
    }
    c.send("0\r\n\r\n");
    auto r = c.read_response(seconds(10));
    ASSERT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("X-Echo-Body-Bytes"), std::to_string(all.size()));
    EXPECT_EQ(r.header("X-Echo-Body-Sum"), hex16(fnv1a(all)));
    const auto seen = SeenHead::parse(r.body());
    // The upstream got a chunked body (or an exact length), never both.
    const bool chunked = seen.values("Transfer-Encoding") == std::vector<std::string>{"chunked"};
    const bool length =
        seen.values("Content-Length") == std::vector<std::string>{std::to_string(all.size())};
    EXPECT_TRUE(chunked != length) << r.body();
    // The connection is still in sync.
    auto next = c.roundtrip(get_request("/"));
    EXPECT_EQ(next.body(), "blue\n");
}

TEST_F(Proxy, ChunkedResponseArrivesComplete) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r = c.roundtrip(get_request("/?bytes=100000&chunked=1"), seconds(10));
    ASSERT_EQ(r.status(), 200u);
    EXPECT_TRUE(r.msg.chunked());
    EXPECT_FALSE(r.has("Content-Length"));
    ASSERT_EQ(r.body().size(), 100000u);
    EXPECT_EQ(pattern_mismatch(0, r.body()), std::string_view::npos);
    auto next = c.roundtrip(get_request("/"));
    EXPECT_EQ(next.body(), "blue\n");
}

TEST_F(Proxy, Http10ClientGetsChunkedUpstreamResponseDechunked) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send("GET /?bytes=100000&chunked=1 HTTP/1.0\r\nHost: test\r\n\r\n");
    auto raw = c.read_until_close(seconds(10));
    ASSERT_TRUE(raw.eof) << "the proxy must close an HTTP/1.0 response it cannot frame";
    const auto end = raw.bytes.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << raw.bytes.substr(0, 200);
    std::string head = raw.bytes.substr(0, end + 2);
    const std::string body = raw.bytes.substr(end + 4);
    SCOPED_TRACE(head);
    EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u);
    EXPECT_EQ(SeenHead::lower(head).find("transfer-encoding"), std::string::npos);
    ASSERT_EQ(body.size(), 100000u);
    EXPECT_EQ(pattern_mismatch(0, body), std::string_view::npos);
}

TEST_F(Proxy, UpstreamConnectionCloseKeepsClientConnection) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    auto r1 = c.roundtrip(get_request("/?close=1&bytes=5000"));
    ASSERT_EQ(r1.status(), 200u);
    EXPECT_EQ(r1.body(), pattern(0, 5000));
    // The upstream closed its side; the client's connection still works, on
    // a new upstream connection.
    auto r2 = c.roundtrip(get_request("/"));
    ASSERT_EQ(r2.status(), 200u);
    EXPECT_EQ(r2.body(), "blue\n");
    EXPECT_NE(r1.header("X-Echo-Conn"), r2.header("X-Echo-Conn"));
}

TEST_F(Proxy, CloseDelimitedUpstreamResponse) {
    const std::string body = pattern(0, 70000);
    ScriptedUpstream up([&](ScriptedUpstream::Conn& c, int) {
        if (!c.read_request(seconds(5))) return;
        c.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Kind: until-close\r\n\r\n" + body);
        // FIN: the end of the body.
    });
    auto cfg = base_config();
    cfg.pools[0].servers = {up.address()};
    auto& sy = start_proxy(cfg);
    auto c = sy.connect();
    c.send(get_request("/close-delimited"));
    auto raw = c.read_until_close(seconds(10));
    ASSERT_TRUE(raw.eof);
    const auto end = raw.bytes.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos);
    const std::string head = raw.bytes.substr(0, end + 2);
    SCOPED_TRACE(head);
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    EXPECT_NE(head.find("X-Kind: until-close\r\n"), std::string::npos);
    const std::string got = raw.bytes.substr(end + 4);
    const std::string lower_head = SeenHead::lower(head);
    if (lower_head.find("transfer-encoding: chunked") != std::string::npos) {
        // Re-framed as chunked for the HTTP/1.1 client: decode it.
        bhttp::response_parser<bhttp::string_body> p;
        p.body_limit(boost::none);
        beast::error_code ec;
        p.put(boost::asio::buffer(raw.bytes), ec);
        ASSERT_TRUE(p.is_done()) << ec.message();
        EXPECT_EQ(p.get().body(), body);
    } else {
        EXPECT_EQ(lower_head.find("content-length"), std::string::npos);
        EXPECT_EQ(got, body);
    }
}

TEST_F(Proxy, Expect100ContinueRelayed) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    c.send("POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    auto interim = c.read_response(seconds(5));
    EXPECT_EQ(interim.status(), 100u);
    c.send("hello");
    auto r = c.read_response(seconds(5));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("X-Echo-Body-Bytes"), "5");
    EXPECT_EQ(r.header("X-Echo-Body-Sum"), hex16(fnv1a("hello")));
}

}  // namespace
}  // namespace sy_it

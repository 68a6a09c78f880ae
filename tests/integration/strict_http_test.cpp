// A strict HTTP/1.1 intermediary (RFC 9110, RFC 9112): raw bytes on a real
// socket, an upstream that records exactly what reaches it. tests/README.md
// maps each requirement to its test here.
#include <boost/json.hpp>
#include <mutex>

#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

// An upstream that answers every request with `response` and records what it
// received.
class Recorder {
  public:
    explicit Recorder(std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        : response_(std::move(response)), upstream_([this](ScriptedUpstream::Conn& conn, int) {
              while (auto req = conn.read_request(seconds(5))) {
                  {
                      std::lock_guard lock(mu_);
                      heads_.push_back(req->head);
                  }
                  if (!conn.send(response_)) return;
              }
          }) {}
    std::string address() const { return upstream_.address(); }
    int connections() const { return upstream_.connections(); }
    std::vector<std::string> heads() {
        std::lock_guard lock(mu_);
        return heads_;
    }

  private:
    std::string response_;
    std::mutex mu_;
    std::vector<std::string> heads_;
    ScriptedUpstream upstream_;
};

class StrictHttp : public ProxyTest {
  protected:
    Switchyard& start_with(const std::string& upstream_address,
                           std::map<std::string, std::string> limits = {}) {
        ProxyConfig cfg;
        cfg.pools = {{"blue", {upstream_address}}};
        cfg.limits = std::move(limits);
        return start_proxy(cfg);
    }

    struct Outcome {
        unsigned status = 0;
        bool closed = false;
        std::string raw;
    };
    // Sends raw bytes on a new connection; reads what comes back until close.
    Outcome exchange(std::string_view raw) {
        HttpConn c(proxy_->port());
        c.send(raw);
        auto got = c.read_until_close(seconds(3));
        Outcome o;
        o.raw = got.bytes;
        o.closed = got.eof || got.reset;
        if (got.bytes.rfind("HTTP/1.1 ", 0) == 0) o.status = std::stoul(got.bytes.substr(9, 3));
        return o;
    }
};

struct RefusedCase {
    const char* name;
    std::string request;
    unsigned status;
};

TEST_F(StrictHttp, MalformedAndSmugglingHeadsAreRefusedAndNeverReachTheUpstream) {
    Recorder upstream;
    start_with(upstream.address());
    const std::string post = "POST / HTTP/1.1\r\nHost: a\r\n";
    const std::vector<RefusedCase> cases = {
        {"CL with TE",
         post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         400},
        {"TE then CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
        {"differing CL list", post + "Content-Length: 3, 4\r\n\r\nabcd", 400},
        {"differing CL lines", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        {"CL with plus", post + "Content-Length: +3\r\n\r\nabc", 400},
        {"negative CL", post + "Content-Length: -1\r\n\r\n", 400},
        {"CL overflow", post + "Content-Length: 99999999999999999999999\r\n\r\n", 400},
        {"TE gzip only", post + "Transfer-Encoding: gzip\r\n\r\nabc", 400},
        {"TE chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
        {"TE xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n", 400},
        {"TE gzip then CL", post + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", 400},
        {"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"unknown coding", post + "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 501},
        {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400},
        {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 38), 400},
        {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400},
        {"bare LF line end", "GET / HTTP/1.1\nHost: a\n\n", 400},
        {"space in field name", "GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", 400},
        {"underscore in field name", "GET / HTTP/1.1\r\nHost: a\r\nX_User: admin\r\n\r\n", 400},
        {"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
        {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"CONNECT", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 405},
        {"Via loop", "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 switchyard\r\n\r\n", 508},
        {"Via loop 1.0", "GET / HTTP/1.0\r\nVia: 1.0 switchyard\r\n\r\n", 508},
        {"Via loop mid-list with port",
         "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 a, HTTP/1.1 SwitchYard:8080, 1.1 b\r\n\r\n", 508},
        {"Via loop after a comment with a quote",
         "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 a (x \"y), 1.1 switchyard (z)\r\n\r\n", 508},
        {"Via loop on a second line",
         "POST / HTTP/1.1\r\nHost: a\r\nVia: 1.1 a\r\nContent-Length: 3\r\n"
         "Via: 1.0 b,1.1 switchyard\r\n\r\nabc",
         508},
        {"HTTP/2.0 version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"HTTP/3.0 version", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505},
        {"version HTTP/1.01", "GET / HTTP/1.01\r\nHost: a\r\n\r\n", 400},
        {"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
        {"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"TLS handshake on a plain port",
         std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400},
    };
    for (const auto& c : cases) {
        Outcome o = exchange(c.request);
        EXPECT_EQ(o.status, c.status) << c.name << ": " << o.raw;
        EXPECT_TRUE(o.closed) << c.name;
    }
    EXPECT_EQ(upstream.connections(), 0) << "a refused request reached the upstream";
}

// Refused as soon as the request line (or too much of a method) is in, not
// after timeouts.client_header: the head never ends here.
TEST_F(StrictHttp, BadRequestLinesAreRefusedAtOnce) {
    Recorder upstream;
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    cfg.timeouts = {{"client_header", "\"20s\""}};
    start_proxy(cfg);
    const std::vector<RefusedCase> cases = {
        {"HTTP/0.9 request line", "GET /\r\n", 400},
        {"bad version, head not ended", "GET / HTTP/1.01\r\nHost: a\r\n", 400},
        {"overlong method, line not ended", std::string(4096, 'G'), 501},
    };
    for (const auto& c : cases) {
        const auto t0 = Clock::now();
        Outcome o = exchange(c.request);
        EXPECT_EQ(o.status, c.status) << c.name << ": " << o.raw;
        EXPECT_TRUE(o.closed) << c.name;
        EXPECT_LT(ms_since(t0), 2000) << c.name;
    }
    EXPECT_EQ(upstream.connections(), 0);
}

TEST_F(StrictHttp, LocallyAnsweredRequestsLeaveTheConnectionReadyForTheNext) {
    // Regression: a head answered by the proxy itself (503, Max-Forwards: 0)
    // stayed in the read buffer and was answered again, forever.
    ProxyConfig cfg;
    cfg.pools = {{"blue", {"no-such-host.invalid:80"}}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    c.send(get_request("/one") + "TRACE /two HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n" +
           get_request("/three"));
    EXPECT_EQ(c.read_response().status(), 503u);
    Response trace = c.read_response();
    EXPECT_EQ(trace.status(), 200u);
    EXPECT_EQ(trace.body().rfind("TRACE /two ", 0), 0u);
    EXPECT_EQ(c.read_response().status(), 503u);
    // Nothing more comes: each request was answered exactly once.
    std::string extra;
    EXPECT_FALSE(c.wait_closed(milliseconds(300), &extra));
    EXPECT_EQ(extra, "");
}

TEST_F(StrictHttp, LimitsGive431And414And413) {
    Recorder upstream;
    start_with(upstream.address(), {{"max_header_bytes", "\"4KiB\""},
                                    {"max_target_bytes", "\"1KiB\""},
                                    {"max_body_bytes", "\"1KiB\""}});
    Outcome big_head =
        exchange("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n");
    EXPECT_EQ(big_head.status, 431u);
    EXPECT_TRUE(big_head.closed);
    Outcome long_target =
        exchange("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(long_target.status, 414u);
    Outcome big_body = exchange("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
    EXPECT_EQ(big_body.status, 413u);
    EXPECT_TRUE(big_body.closed);
    EXPECT_EQ(upstream.connections(), 0);
    // A chunked body that grows past the limit is cut with 413 too.
    std::string chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i)
        chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    chunked += "0\r\n\r\n";
    Outcome big_chunked = exchange(chunked);
    EXPECT_EQ(big_chunked.status, 413u);
    EXPECT_TRUE(big_chunked.closed);
    // It arrived in one piece, larger than the read of an idle connection:
    // read on at once, it was refused before any of it was forwarded.
    EXPECT_TRUE(upstream.heads().empty());
}

TEST_F(StrictHttp, MalformedChunkedBodiesAreRefused) {
    // The upstream reads and never answers, so the only answer is the proxy's
    // (an upstream may legitimately answer early; that would race the 400).
    ScriptedUpstream upstream([](ScriptedUpstream::Conn& conn, int) {
        while (conn.wait_readable(seconds(5)) == ScriptedUpstream::Conn::Wait::data) {
            char tmp[4096];
            if (conn.sock.recv_some(tmp, sizeof tmp, after(seconds(1))) <= 0) return;
        }
    });
    start_with(upstream.address());
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::vector<RefusedCase> cases = {
        {"hex prefix", head + "0x3\r\nabc\r\n0\r\n\r\n", 400},
        {"space in size", head + "3 \r\nabc\r\n0\r\n\r\n", 400},
        {"bare LF", head + "3\nabc\n0\n\n", 400},
        {"huge extension", head + "3;" + std::string(8000, 'e') + "\r\nabc\r\n0\r\n\r\n", 400},
        {"obs-fold in trailer", head + "3\r\nabc\r\n0\r\nX-T: a\r\n b\r\n\r\n", 400},
        {"oversized trailer", head + "0\r\nX-T: " + std::string(20000, 't') + "\r\n\r\n", 400},
        {"size overflow", head + "fffffffffffffffff\r\n", 400},
    };
    for (const auto& c : cases) {
        Outcome o = exchange(c.request);
        EXPECT_EQ(o.status, c.status) << c.name << ": " << o.raw.substr(0, 200);
        EXPECT_TRUE(o.closed) << c.name;
    }
}

TEST_F(StrictHttp, ChunkedBodyIsReEncodedWithoutExtensionsButWithItsTrailer) {
    Recorder upstream;
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    Response r = c.roundtrip(
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;name=value\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n");
    ASSERT_EQ(r.status(), 200u);
    // The recorder reads Content-Length bodies only, so the chunked body shows
    // up as a second "head": exactly the re-encoded chunks, nothing else. It
    // records that one after answering the first, so wait for it.
    poll_until(after(seconds(3)), [&] { return upstream.heads().size() >= 2; });
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 2u);
    EXPECT_NE(heads[0].find("Transfer-Encoding: chunked\r\n"), std::string::npos) << heads[0];
    EXPECT_EQ(heads[1], "5\r\nabcde\r\n0\r\nX-Trailer: t\r\n\r\n");
}

// RFC 9110 §6.5: fields that frame, route, authenticate or that Switchyard
// owns are dropped from a trailer section (never merged into the header
// section, never a reason to refuse the request); the rest is passed on.
TEST_F(StrictHttp, ForbiddenTrailerFieldsAreDroppedAndTheRestForwarded) {
    Recorder upstream;
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    cfg.routing = {{"override_header", "\"X-Switchyard-Pool\""},
                   {"context_header", "\"X-Switchyard-Context\""}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    Response r = c.roundtrip(
        "POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nContent-Length: 10\r\nX-Checksum: abc\r\nTransfer-Encoding: chunked\r\n"
        "Host: evil.example\r\nConnection: close\r\nX-Forwarded-For: 6.6.6.6\r\n"
        "Forwarded: for=6.6.6.6\r\nVia: 1.1 switchyard\r\nX-Switchyard-Pool: green\r\n"
        "x-switchyard-flags: admin-mode\r\nX-Switchyard-Context: pool=green; bucket=0\r\n"
        "Authorization: Basic x\r\nGrpc-Status: 0\r\n\r\n");
    ASSERT_EQ(r.status(), 200u);
    poll_until(after(seconds(3)), [&] { return upstream.heads().size() >= 2; });
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 2u);
    EXPECT_EQ(heads[0].find("evil"), std::string::npos) << heads[0];
    EXPECT_EQ(heads[0].find("6.6.6.6"), std::string::npos) << heads[0];
    EXPECT_EQ(heads[1], "3\r\nabc\r\n0\r\nX-Checksum: abc\r\nGrpc-Status: 0\r\n\r\n");
    // The connection stays usable: nothing was refused.
    EXPECT_EQ(c.roundtrip(get_request("/again")).status(), 200u);
}

TEST_F(StrictHttp, ResponseTrailersReachHttp11ClientsWithoutTheDroppedFields) {
    ScriptedUpstream upstream([](ScriptedUpstream::Conn& conn, int) {
        while (conn.read_request(seconds(5))) {
            if (!conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                           "2\r\nok\r\n0\r\nX-Sum: 1\r\nSet-Cookie: s=evil\r\n"
                           "Content-Length: 99\r\n\r\n"))
                return;
        }
    });
    start_with(upstream.address());
    Outcome http11 = exchange("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(http11.status, 200u);
    EXPECT_TRUE(http11.raw.ends_with("\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n")) << http11.raw;
    EXPECT_EQ(http11.raw.find("evil"), std::string::npos) << http11.raw;
    Outcome http10 = exchange("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(http10.status, 200u);
    EXPECT_TRUE(http10.raw.ends_with("\r\n\r\nok")) << http10.raw;
}

// Upstream responses the proxy must not relay: 502, and the upstream
// connection is not reused.
TEST_F(StrictHttp, MalformedUpstreamResponsesGive502) {
    const std::vector<std::pair<const char*, std::string>> responses = {
        {"obs-fold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 2\r\n\r\nok"},
        {"conflicting CL", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"},
        {"invalid CL", "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"},
        {"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"},
        {"TE on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        {"unsolicited 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
    };
    for (const auto& [name, response] : responses) {
        Recorder upstream(response);
        start_with(upstream.address());
        HttpConn c(proxy_->port());
        Response r = c.roundtrip(get_request("/"));
        EXPECT_EQ(r.status(), 502u) << name;
        Response again = c.roundtrip(get_request("/"));
        EXPECT_EQ(again.status(), 502u) << name;
        EXPECT_EQ(upstream.connections(), 2) << name << ": a broken upstream connection was reused";
        proxy_.reset();
    }
}

TEST_F(StrictHttp, NoContentWithABodyClosesTheUpstreamConnection) {
    Recorder upstream("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello");
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    Response r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.status(), 204u);
    EXPECT_EQ(r.body(), "");
    // "hello" must not be read as the next response: a new upstream connection.
    Response again = c.roundtrip(get_request("/"));
    EXPECT_EQ(again.status(), 204u);
    EXPECT_EQ(upstream.connections(), 2);
}

TEST_F(StrictHttp, ResponseWithoutFinalChunkedIsReadUntilClose) {
    ScriptedUpstream upstream([](ScriptedUpstream::Conn& conn, int) {
        if (conn.read_request(seconds(5)))
            conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nrawbytes");
        // Returning closes the connection: that ends the body (RFC 9112 §6.3 rule 4).
    });
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    c.send(get_request("/"));
    auto got = c.read_until_close(seconds(3));
    EXPECT_TRUE(got.eof);
    EXPECT_NE(got.bytes.find("\r\n\r\nrawbytes"), std::string::npos) << got.bytes;
    EXPECT_NE(got.bytes.find("Connection: close"), std::string::npos) << got.bytes;
    EXPECT_EQ(got.bytes.find("Transfer-Encoding"), std::string::npos) << got.bytes;
}

TEST_F(StrictHttp, EarlyHintsReachHttp11ClientsOnly) {
    Recorder upstream(
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    start_with(upstream.address());
    HttpConn c11(proxy_->port());
    c11.send(get_request("/"));
    Response interim = c11.read_response();
    EXPECT_EQ(interim.status(), 103u);
    EXPECT_EQ(interim.header("Link"), "</s.css>; rel=preload");
    Response final_response = c11.read_response();
    EXPECT_EQ(final_response.status(), 200u);
    EXPECT_EQ(final_response.body(), "ok");

    HttpConn c10(proxy_->port());
    c10.send("GET / HTTP/1.0\r\n\r\n");
    auto got = c10.read_until_close(seconds(3));
    EXPECT_EQ(got.bytes.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got.bytes;
    EXPECT_EQ(got.bytes.find("HTTP/1.1 103"), std::string::npos) << got.bytes;
}

TEST_F(StrictHttp, Http10GetsPersistenceOnlyWhenItAsks) {
    Recorder upstream;
    start_with(upstream.address());
    Outcome plain = exchange("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(plain.status, 200u);
    EXPECT_TRUE(plain.closed);
    EXPECT_NE(plain.raw.find("Connection: close\r\n"), std::string::npos);

    HttpConn c(proxy_->port());
    Response r = c.roundtrip("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("Connection"), "keep-alive");
    EXPECT_EQ(c.roundtrip("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").status(), 200u);
}

// RFC 9110 §7.6.3: the received-protocol is that of the message as received,
// in each direction.
TEST_F(StrictHttp, ViaNamesTheProtocolOfTheMessageAsReceived) {
    Recorder http10_upstream("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    start_with(http10_upstream.address());
    Outcome o = exchange("GET / HTTP/1.0\r\n\r\n");
    EXPECT_NE(o.raw.find("\r\nVia: 1.0 switchyard\r\n"), std::string::npos) << o.raw;
    auto heads = http10_upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_NE(heads[0].find("\r\nVia: 1.0 switchyard\r\n"), std::string::npos) << heads[0];

    proxy_.reset();  // one proxy at a time: they share the control socket path
    Recorder http11_upstream;
    start_with(http11_upstream.address());
    HttpConn c(proxy_->port());
    Response r = c.roundtrip(get_request("/"));
    EXPECT_EQ(r.header("Via"), "1.1 switchyard");
    heads = http11_upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_NE(heads[0].find("\r\nVia: 1.1 switchyard\r\n"), std::string::npos) << heads[0];
}

// RFC 7239: a client cannot spoof Forwarded; a trusted proxy's is appended to.
TEST_F(StrictHttp, ForwardedIsReplacedUnlessThePeerIsTrusted) {
    const std::string request =
        "GET / HTTP/1.1\r\nHost: app.example\r\nForwarded: for=6.6.6.6;proto=https\r\n\r\n";
    auto forwarded_seen = [&](const std::string& listener_extra) {
        proxy_.reset();  // one proxy at a time: they share the control socket path
        Recorder upstream;
        ProxyConfig cfg;
        cfg.pools = {{"blue", {upstream.address()}}};
        cfg.listener_extra = listener_extra;
        start_proxy(cfg);
        HttpConn c(proxy_->port());
        EXPECT_EQ(c.roundtrip(request).status(), 200u);
        auto heads = upstream.heads();
        if (heads.size() != 1) return std::string("no request");
        SeenHead seen = SeenHead::parse(heads[0]);
        std::string all;
        for (const auto& [name, value] : seen.fields)
            if (SeenHead::lower(name) == "forwarded") all += (all.empty() ? "" : " | ") + value;
        return all;
    };
    EXPECT_EQ(forwarded_seen(""), "for=127.0.0.1;proto=http;host=app.example");
    EXPECT_EQ(forwarded_seen("trusted_proxies = [\"127.0.0.1\"]\n"),
              "for=6.6.6.6;proto=https, for=127.0.0.1;proto=http;host=app.example");
    EXPECT_EQ(forwarded_seen("trusted_proxies = [\"127.0.0.1\"]\nforwarded = \"replace\"\n"),
              "for=127.0.0.1;proto=http;host=app.example");
    EXPECT_EQ(forwarded_seen("forwarded = \"off\"\n"), "");
}

TEST_F(StrictHttp, MaxForwardsIsHonouredForOptionsAndTrace) {
    Recorder upstream;
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    Response trace =
        c.roundtrip("TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\nCookie: s=1\r\n\r\n");
    EXPECT_EQ(trace.status(), 200u);
    EXPECT_EQ(trace.header("Content-Type"), "message/http");
    EXPECT_EQ(trace.body().rfind("TRACE /t HTTP/1.1\r\n", 0), 0u);
    EXPECT_EQ(trace.body().find("Cookie"), std::string::npos);
    Response options = c.roundtrip("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n");
    EXPECT_EQ(options.status(), 200u);
    EXPECT_TRUE(options.has("Allow"));
    EXPECT_EQ(upstream.connections(), 0);

    Response forwarded = c.roundtrip("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 2\r\n\r\n");
    EXPECT_EQ(forwarded.status(), 200u);
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_NE(heads[0].find("Max-Forwards: 1\r\n"), std::string::npos) << heads[0];
}

TEST_F(StrictHttp, AbsoluteFormTargetRebuildsHost) {
    Recorder upstream;
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    EXPECT_EQ(
        c.roundtrip("GET http://origin.example:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n").status(),
        200u);
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_EQ(heads[0].rfind("GET /p?q HTTP/1.1\r\nHost: origin.example:8080\r\n", 0), 0u)
        << heads[0];
}

TEST_F(StrictHttp, SetCookieIsNeverMergedAndDateIsAdded) {
    Recorder upstream(
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-M: 1\r\nSet-Cookie: b=2\r\n"
        "Content-Length: 0\r\n\r\n");
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    c.send(get_request("/"));
    auto got = c.read_until_close(milliseconds(500));  // keep-alive: ends at the deadline
    EXPECT_NE(got.bytes.find("Set-Cookie: a=1\r\nX-M: 1\r\nSet-Cookie: b=2\r\n"), std::string::npos)
        << got.bytes;
    EXPECT_NE(got.bytes.find("\r\nDate: "), std::string::npos);
}

TEST_F(StrictHttp, H2cUpgradeIsRemoved) {
    Recorder upstream;
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    EXPECT_EQ(c.roundtrip("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                          "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
                  .status(),
              200u);
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_EQ(heads[0].find("Upgrade"), std::string::npos) << heads[0];
    EXPECT_EQ(heads[0].find("HTTP2-Settings"), std::string::npos) << heads[0];
}

TEST_F(StrictHttp, WebSocketUpgradeIsTunnelledBothWays) {
    std::atomic<bool> upgrade_seen{false};
    ScriptedUpstream upstream([&](ScriptedUpstream::Conn& conn, int) {
        auto req = conn.read_request(seconds(5));
        if (!req) return;
        upgrade_seen =
            req->head.find("Upgrade: websocket\r\nConnection: upgrade\r\n") != std::string::npos;
        conn.send(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nhello-from-upstream");
        // Echo whatever comes, upper-cased, until the peer closes.
        std::string pending = conn.buf;
        for (;;) {
            for (auto& ch : pending)
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (!pending.empty() && !conn.send(pending)) return;
            pending.clear();
            char tmp[4096];
            long n = conn.sock.recv_some(tmp, sizeof tmp, after(seconds(5)));
            if (n <= 0) return;
            pending.assign(tmp, static_cast<std::size_t>(n));
        }
    });
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    c.send(
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    Response r = c.read_response();
    ASSERT_EQ(r.status(), 101u);
    EXPECT_EQ(r.header("Upgrade"), "websocket");
    EXPECT_TRUE(upgrade_seen);
    // Bytes the upstream sent with its 101 arrive first, then the echo.
    std::string got = c.buffered();
    c.buffered().clear();
    c.socket().send_all("ping-from-client", after(seconds(2)));
    const auto deadline = after(seconds(3));
    while (got.find("PING-FROM-CLIENT") == std::string::npos && Clock::now() < deadline) {
        char tmp[256];
        long n = c.socket().recv_some(tmp, sizeof tmp, deadline);
        if (n <= 0) break;
        got.append(tmp, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got, "hello-from-upstreamPING-FROM-CLIENT");
}

// A half-close in a tunnel is passed on (shutdown of the write side towards
// the other peer) and the other direction keeps flowing until it ends too.
TEST_F(StrictHttp, TunnelHalfCloseIsPassedOnAndTheOtherDirectionKeepsFlowing) {
    std::mutex mu;
    std::string upstream_got;
    ScriptedUpstream upstream([&](ScriptedUpstream::Conn& conn, int seq) {
        if (!conn.read_request(seconds(5))) return;
        conn.send(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n\r\n");
        if (seq == 2) {  // the upstream half-closes first, then reads on
            conn.send("upstream-done");
            conn.sock.shutdown_write();
        }
        std::string got = conn.buf;
        for (;;) {
            char tmp[4096];
            const long n = conn.sock.recv_some(tmp, sizeof tmp, after(seconds(5)));
            if (n < 0) return;  // an error or the deadline: no clean EOF
            if (n == 0) break;
            got.append(tmp, static_cast<std::size_t>(n));
        }
        {
            std::lock_guard lock(mu);
            upstream_got = got + "<EOF>";
        }
        if (seq == 1) conn.send("last-words-after-eof");  // the client half-closed first
    });
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    start_proxy(cfg);
    auto tunnels = [&] {
        auto status = json::parse(control_command(dir_ / "control.sock", "status")).as_object();
        return status["pools"].as_array()[0].as_object()["tunnels"].as_int64();
    };
    const std::string upgrade =
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";

    // The client half-closes: the upstream sees its bytes, then EOF, and
    // what it sends after that still reaches the client, then EOF.
    HttpConn c(proxy_->port());
    c.send(upgrade);
    ASSERT_EQ(c.read_response().status(), 101u);
    c.send("client-bytes");
    c.socket().shutdown_write();
    auto got = c.read_until_close(seconds(5));
    EXPECT_EQ(got.bytes, "last-words-after-eof");
    EXPECT_TRUE(got.eof);
    {
        std::lock_guard lock(mu);
        EXPECT_EQ(upstream_got, "client-bytes<EOF>");
    }
    EXPECT_TRUE(poll_until(after(seconds(3)), [&] { return tunnels() == 0; }));

    // The upstream half-closes: the client reads to EOF and can still send.
    HttpConn d(proxy_->port());
    d.send(upgrade);
    ASSERT_EQ(d.read_response().status(), 101u);
    std::string early = d.buffered();
    d.buffered().clear();
    auto first = d.read_until_close(seconds(5));
    EXPECT_EQ(early + first.bytes, "upstream-done");
    EXPECT_TRUE(first.eof);
    EXPECT_EQ(tunnels(), 1) << "the tunnel is still open one way";
    d.send("client-after-upstream-eof");
    d.socket().shutdown_write();
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        std::lock_guard lock(mu);
        return upstream_got == "client-after-upstream-eof<EOF>";
    })) << upstream_got;
    EXPECT_TRUE(poll_until(after(seconds(3)), [&] { return tunnels() == 0; }));
}

TEST_F(StrictHttp, UpgradeOnHttp10IsIgnored) {
    Recorder upstream;
    start_with(upstream.address());
    HttpConn c(proxy_->port());
    c.send("GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    auto got = c.read_until_close(seconds(3));
    EXPECT_EQ(got.bytes.rfind("HTTP/1.1 200 OK", 0), 0u);
    auto heads = upstream.heads();
    ASSERT_EQ(heads.size(), 1u);
    EXPECT_EQ(heads[0].find("Upgrade"), std::string::npos) << heads[0];
}

}  // namespace
}  // namespace sy_it

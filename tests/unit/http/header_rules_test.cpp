#include "switchyard/http/header_rules.hpp"

#include <gtest/gtest.h>

namespace switchyard::http {
namespace {

struct Request {
    std::string text;
    std::vector<HeaderField> fields;
    RequestHeadParser parser;
    RequestFacts facts;
    unsigned refused = 0;
    explicit Request(std::string t) : text(std::move(t)), parser({}, fields) {
        EXPECT_EQ(parser.parse(text), ParseStatus::done) << text;
        refused = inspect_request(parser, facts);
    }
    std::string upstream_head(UpstreamRequestOptions o = {}) {
        if (o.client_ip.empty()) o.client_ip = "10.0.0.9";
        std::string out;
        write_upstream_request_head(parser, facts, o, out);
        return out;
    }
};

TEST(HeaderRules, ForwardsWithHopByHopRemovedAndProxyFieldsAdded) {
    Request r(
        "GET /p?q=1 HTTP/1.1\r\nHost: app.example\r\nConnection: keep-alive, X-Secret\r\n"
        "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n"
        "Proxy-Connection: keep-alive\r\nTrailer: X\r\nAccept: */*\r\n"
        "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    UpstreamRequestOptions o;
    o.new_request_id = "abc";
    EXPECT_EQ(r.upstream_head(o),
              "GET /p?q=1 HTTP/1.1\r\n"
              "Host: app.example\r\n"
              "Accept: */*\r\n"
              "X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\n"
              "X-Forwarded-Proto: http\r\n"
              "X-Forwarded-Host: app.example\r\n"
              "Forwarded: for=10.0.0.9;proto=http;host=app.example\r\n"
              "X-Request-Id: abc\r\n"
              "Via: 1.1 switchyard\r\n"
              "\r\n");
}

// The override, flags and context headers never pass from a client, in any
// case or number; the proxy's own lines go in before Via.
TEST(HeaderRules, PrivateFieldsAreDroppedAndTheProxysAreAdded) {
    Request r(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Switchyard-Flags: admin-mode\r\nAccept: */*\r\n"
        "x-switchyard-flags: x\r\nX-Switchyard-Context: pool=green; bucket=1\r\n"
        "X-Switchyard-Pool: green\r\nX-Switchyard-Flagsy: kept\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    const std::vector<std::string> dropped = {"X-Switchyard-Pool", "X-Switchyard-Flags",
                                              "X-Switchyard-Context"};
    UpstreamRequestOptions o;
    o.drop_fields = dropped;
    o.forwarded = false;
    o.extra_fields = "X-Switchyard-Flags: new-checkout\r\n";
    EXPECT_EQ(r.upstream_head(o),
              "GET / HTTP/1.1\r\n"
              "Host: a\r\n"
              "Accept: */*\r\n"
              "X-Switchyard-Flagsy: kept\r\n"
              "X-Forwarded-For: 10.0.0.9\r\n"
              "X-Forwarded-Proto: http\r\n"
              "X-Forwarded-Host: a\r\n"
              "X-Switchyard-Flags: new-checkout\r\n"
              "Via: 1.1 switchyard\r\n"
              "\r\n");
}

// RFC 7239: a client's Forwarded is replaced by this hop's element, unless
// the peer is a trusted proxy: then this hop is appended to the list.
TEST(HeaderRules, ForwardedIsReplacedUnlessThePeerIsTrusted) {
    const std::string text =
        "GET / HTTP/1.1\r\nHost: app.example:8080\r\nForwarded: for=1.2.3.4;proto=https\r\n"
        "A: b\r\nforwarded: for=\"[2001:db8::7]\", for=unknown\r\n\r\n";
    Request untrusted(text);
    auto head = untrusted.upstream_head();
    EXPECT_NE(head.find("\r\nForwarded: for=10.0.0.9;proto=http;host=\"app.example:8080\"\r\n"),
              std::string::npos)
        << head;
    EXPECT_EQ(head.find("1.2.3.4"), std::string::npos) << head;
    EXPECT_EQ(head.find("2001:db8::7"), std::string::npos) << head;

    Request trusted(text);
    UpstreamRequestOptions o;
    o.keep_client_forwarded = true;
    o.proto = "https";
    o.client_ip = "2001:db8::1";
    head = trusted.upstream_head(o);
    EXPECT_NE(head.find("\r\nForwarded: for=1.2.3.4;proto=https, for=\"[2001:db8::7]\", "
                        "for=unknown, for=\"[2001:db8::1]\";proto=https;"
                        "host=\"app.example:8080\"\r\n"),
              std::string::npos)
        << head;
    EXPECT_EQ(head.find("\nForwarded: for=1.2.3.4;proto=https\r\n"), std::string::npos) << head;

    Request off(text);
    o.forwarded = false;
    head = off.upstream_head(o);
    EXPECT_EQ(head.find("\nForwarded:"), std::string::npos) << head;
    EXPECT_EQ(head.find("\nforwarded:"), std::string::npos) << head;
}

TEST(HeaderRules, ABrokenForwardedFromATrustedProxyIsReplaced) {
    Request r("GET / HTTP/1.1\r\nHost: h\r\nForwarded: for=\"1.2.3.4, by=x\r\n\r\n");
    UpstreamRequestOptions o;
    o.keep_client_forwarded = true;
    auto head = r.upstream_head(o);
    EXPECT_NE(head.find("\r\nForwarded: for=10.0.0.9;proto=http;host=h\r\n"), std::string::npos)
        << head;
    EXPECT_EQ(head.find("1.2.3.4"), std::string::npos) << head;
}

TEST(HeaderRules, ForwardedSyntax) {
    for (std::string_view ok :
         {"for=1.2.3.4", "for=\"[::1]:80\";proto=https;by=_hidden", "For=a, for=b",
          "for=a;;proto=http", ";for=a", "for=\"a\\\"b\"", "for=unknown , host=\"x,y\""})
        EXPECT_TRUE(is_valid_forwarded(ok)) << ok;
    for (std::string_view bad : {"", " , ", "for", "for=", "=a", "for=a b", "for =a", "for=\"a",
                                 "for=[::1]", "for=a;proto", "for=\"a\"b"})
        EXPECT_FALSE(is_valid_forwarded(bad)) << bad;
    std::string out;
    append_forwarded_element(out, "192.0.2.60", "http", "");
    EXPECT_EQ(out, "for=192.0.2.60;proto=http");
}

TEST(HeaderRules, SeveralForwardedForLinesCombineInOrder) {
    Request r(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\nA: b\r\n"
        "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\r\n");
    auto head = r.upstream_head();
    EXPECT_NE(head.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n"),
              std::string::npos)
        << head;
}

TEST(HeaderRules, FramingFieldsAreRewrittenByTheProxy) {
    Request cl("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    ASSERT_EQ(cl.refused, 0u);
    EXPECT_EQ(cl.facts.framing.kind, BodyKind::content_length);
    EXPECT_NE(cl.upstream_head().find("Content-Length: 5\r\n"), std::string::npos);
    Request te("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_EQ(te.refused, 0u);
    EXPECT_NE(te.upstream_head().find("Transfer-Encoding: chunked\r\n"), std::string::npos);
}

TEST(HeaderRules, AbsoluteFormRebuildsHostFromTheTarget) {
    Request r("GET http://origin.example:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    auto head = r.upstream_head();
    EXPECT_EQ(head.rfind("GET /x?y HTTP/1.1\r\nHost: origin.example:8080\r\n", 0), 0u) << head;
}

TEST(HeaderRules, Http10RequestUsesTheProxysVersion) {
    Request r("GET / HTTP/1.0\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    EXPECT_FALSE(r.facts.persistent);
    EXPECT_EQ(r.upstream_head().rfind("GET / HTTP/1.1\r\n", 0), 0u);
    Request ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(ka.facts.persistent);
}

TEST(HeaderRules, RefusesBadRequests) {
    EXPECT_EQ(Request("GET / HTTP/1.1\r\n\r\n").refused, 400u);  // no Host
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").refused, 400u);
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a b\r\n\r\n").refused, 400u);
    EXPECT_EQ(
        Request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n").refused,
        501u);
}

TEST(HeaderRules, ConnectionCloseEndsPersistence) {
    Request r("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_FALSE(r.facts.persistent);
}

struct Response {
    std::string text;
    std::vector<HeaderField> fields;
    ResponseHeadParser parser;
    ResponseFacts facts;
    unsigned refused = 0;
    // A head the parser refuses ends as 502 in the proxy, as does one that
    // inspect_response() refuses.
    Response(std::string t, bool head_request = false) : text(std::move(t)), parser({}, fields) {
        refused = parser.parse(text) == ParseStatus::done
                      ? inspect_response(parser, head_request, facts)
                      : 502u;
    }
    std::string client_head(const ClientResponseOptions& o) {
        std::string out;
        write_client_response_head(parser, facts, o, out);
        return out;
    }
};

TEST(HeaderRules, ClientResponseHead) {
    Response r(
        "HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\n"
        "Content-Length: 3\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ClientResponseOptions o;
    o.date_field = "Date: D\r\n";
    EXPECT_EQ(r.client_head(o),
              "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nDate: D\r\n"
              "Via: 1.1 switchyard\r\nContent-Length: 3\r\n\r\n");
}

// Lines already in "Name: value" form are copied as runs; a line in another
// form (no space after the colon, OWS around the value, an empty value)
// is written from its name and value, and a removed field ends a run: the
// head is the same as written field by field.
TEST(HeaderRules, ClientResponseHeadMixesCopiedRunsAndRewrittenLines) {
    Response r(
        "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC:3\r\nD:  4 \t\r\nE: \r\nConnection: X-Hop\r\n"
        "F: 5\r\nX-Hop: 1\r\nG: 6\r\nKeep-Alive: 5\r\nH: 7\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ClientResponseOptions o;
    o.date_field = "Date: D\r\n";
    EXPECT_EQ(r.client_head(o),
              "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: \r\nF: 5\r\nG: 6\r\nH: 7\r\n"
              "Date: D\r\nVia: 1.1 switchyard\r\nContent-Length: 0\r\n\r\n");
}

TEST(HeaderRules, UpstreamRequestHeadMixesCopiedRunsAndRewrittenLines) {
    Request r(
        "GET / HTTP/1.1\r\nA: 1\r\nHost:h\r\nB: 2\r\nC:3\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
        "D: 4 \r\nE: 5\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    UpstreamRequestOptions o;
    o.forwarded = false;
    EXPECT_EQ(r.upstream_head(o),
              "GET / HTTP/1.1\r\nA: 1\r\nHost: h\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"
              "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
              "Via: 1.1 switchyard\r\n\r\n");
}

TEST(HeaderRules, ClientResponseHeadForHttp10AndClose) {
    Response r("HTTP/1.1 200 OK\r\nDate: X\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ClientResponseOptions o;
    o.close = true;
    o.client_http10 = true;
    std::string out;
    write_client_response_head(r.parser, r.facts, o, out);
    EXPECT_EQ(out,
              "HTTP/1.1 200 OK\r\nDate: X\r\nVia: 1.1 switchyard\r\nConnection: close\r\n\r\n");
}

TEST(HeaderRules, HeadResponseKeepsItsContentLength) {
    Response r("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", /*head_request=*/true);
    ASSERT_EQ(r.refused, 0u);
    EXPECT_EQ(r.facts.framing.kind, BodyKind::none);
    std::string out;
    write_client_response_head(r.parser, r.facts, {}, out);
    EXPECT_NE(out.find("Content-Length: 99\r\n"), std::string::npos);
}

TEST(HeaderRules, BadUpstreamFramingIs502) {
    EXPECT_EQ(Response("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n").refused, 502u);
    EXPECT_EQ(Response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n").refused,
              502u);
    EXPECT_EQ(Response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n").refused, 0u);
}

TEST(HeaderRules, ConflictingFramingNeverGetsThroughTheParser) {
    // Beast refuses these already; the head parser reports them as malformed.
    std::vector<HeaderField> fields;
    RequestHeadParser req({}, fields);
    EXPECT_EQ(req.parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"),
              ParseStatus::error);
    EXPECT_EQ(status_for(req.error()), 400u);
    ResponseHeadParser resp({}, fields);
    EXPECT_EQ(resp.parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              ParseStatus::error);
}

TEST(HeaderRules, UpstreamPersistence) {
    EXPECT_TRUE(Response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").facts.persistent);
    EXPECT_FALSE(Response("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                     .facts.persistent);
    EXPECT_FALSE(Response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").facts.persistent);
    EXPECT_FALSE(Response("HTTP/1.1 200 OK\r\n\r\n").facts.persistent);  // until close
}

TEST(HeaderRules, LocalResponseIsComplete) {
    std::string out;
    write_local_response(502, true, "rid", "Date: D\r\n", out);
    EXPECT_EQ(out,
              "HTTP/1.1 502 Bad Gateway\r\nDate: D\r\nContent-Type: text/plain\r\n"
              "Content-Length: 16\r\nX-Request-Id: rid\r\nConnection: close\r\n\r\n"
              "502 Bad Gateway\n");
    write_local_response(503, false, "", "", out);
    EXPECT_NE(out.find("Retry-After: 1\r\n"), std::string::npos);
    EXPECT_EQ(out.find("Connection:"), std::string::npos);
}

TEST(HeaderRules, DateField) {
    EXPECT_EQ(make_date_field(0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
    EXPECT_EQ(make_date_field(1795651200), "Date: Thu, 26 Nov 2026 00:00:00 GMT\r\n");
}

}  // namespace
}  // namespace switchyard::http

namespace switchyard::http {
namespace {

TEST(HeaderRules, ConnectIsRefusedWith405) {
    EXPECT_EQ(Request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").refused,
              405u);
}

TEST(HeaderRules, UnderscoreInAFieldNameIs400) {
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nX_User: admin\r\n\r\n").refused, 400u);
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nX-User: admin\r\n\r\n").refused, 0u);
}

TEST(HeaderRules, OurOwnViaEntryIsALoop) {
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.0 edge, 1.1 switchyard\r\n\r\n").refused,
              508u);
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nVia: HTTP/1.1 SwitchYard (x)\r\n\r\n").refused,
              508u);
    EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 switchyard-edge\r\n\r\n").refused, 0u);
    // Another tier's name is not a loop; ours, configured, is.
    std::vector<HeaderField> fields;
    RequestHeadParser p({}, fields);
    ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 switchyard\r\n\r\n"),
              ParseStatus::done);
    RequestFacts facts;
    EXPECT_EQ(inspect_request(p, facts, "inner"), 0u);
}

// Every shape a Via entry of ours can take, wherever it is: 508.
TEST(HeaderRules, OurOwnViaEntryIsFoundInAnyShapeAndPosition) {
    const std::vector<std::string> loops = {
        "Via: 1.0 switchyard",
        "Via: HTTP/1.1 switchyard",
        "Via: 1.1 SWITCHYARD",
        "Via: 1.1\tswitchyard",
        "Via: 1.1 switchyard (Switchyard, the load balancer)",
        "Via: 1.1 switchyard(comment)",
        "Via: 1.1 switchyard:8080",
        "Via: 1.1 a, 1.1 switchyard, 1.1 b",
        "Via: 1.1 a,1.1 switchyard",
        "Via: 1.1 a (a \"quote), 1.1 switchyard",
        "Via: 1.1 a (nested (x, \"y\") \\) z), 1.1 switchyard",
        "Via: 1.1 a\r\nVia: 1.1 b, 1.0 switchyard",
        "Via: switchyard",
    };
    for (const auto& via : loops)
        EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\n" + via + "\r\n\r\n").refused, 508u) << via;
    const std::vector<std::string> not_loops = {
        "Via: 1.1 switchyard2",
        "Via: 1.1 a (forwarded by 1.1 switchyard)",
        "Via: 1.1 a (x, 1.1 switchyard)",
        "Via: 1.1 xswitchyard:80",
    };
    for (const auto& via : not_loops)
        EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\n" + via + "\r\n\r\n").refused, 0u) << via;
}

TEST(HeaderRules, MaxForwardsIsDecrementedForOptionsAndTrace) {
    Request r("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 3\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ASSERT_TRUE(r.facts.max_forwards);
    EXPECT_EQ(*r.facts.max_forwards, 3u);
    EXPECT_NE(r.upstream_head().find("Max-Forwards: 2\r\n"), std::string::npos);
    Request get("GET / HTTP/1.1\r\nHost: a\r\nMax-Forwards: 3\r\n\r\n");
    EXPECT_FALSE(get.facts.max_forwards);  // only OPTIONS and TRACE (RFC 9110 §7.6.2)
    EXPECT_NE(get.upstream_head().find("Max-Forwards: 3\r\n"), std::string::npos);
    EXPECT_EQ(Request("TRACE / HTTP/1.1\r\nHost: a\r\nMax-Forwards: x\r\n\r\n").refused, 400u);
}

TEST(HeaderRules, MaxForwardsZeroIsAnsweredByTheProxy) {
    Request trace(
        "TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\nCookie: secret\r\nX-A: 1\r\n\r\n");
    std::string out;
    write_max_forwards_response(trace.parser, false, "Date: D\r\n", out);
    const std::string body = "TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\nX-A: 1\r\n\r\n";
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: message/http\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
    Request options("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n");
    write_max_forwards_response(options.parser, true, "", out);
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nAllow: ", 0), 0u);
    EXPECT_NE(out.find("Content-Length: 0\r\nConnection: close\r\n\r\n"), std::string::npos);
}

TEST(HeaderRules, H2cIsNeverForwarded) {
    Request r(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    EXPECT_FALSE(r.facts.upgrade_websocket);
    auto head = r.upstream_head();
    EXPECT_EQ(head.find("Upgrade"), std::string::npos) << head;
    EXPECT_EQ(head.find("HTTP2-Settings"), std::string::npos) << head;
    // Even when Connection does not name it.
    Request bare("GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAA\r\n\r\n");
    EXPECT_EQ(bare.upstream_head().find("HTTP2-Settings"), std::string::npos);
}

TEST(HeaderRules, WebSocketUpgradeIsForwarded) {
    Request r(
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    EXPECT_TRUE(r.facts.upgrade_websocket);
    auto head = r.upstream_head();
    EXPECT_NE(head.find("Sec-WebSocket-Key: k\r\n"), std::string::npos);
    EXPECT_NE(head.find("Upgrade: websocket\r\nConnection: upgrade\r\n"), std::string::npos)
        << head;
    // Not on HTTP/1.0 (RFC 9110 §7.8), not without Connection: upgrade.
    EXPECT_FALSE(Request("GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                     .facts.upgrade_websocket);
    EXPECT_FALSE(
        Request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").facts.upgrade_websocket);
}

TEST(HeaderRules, SwitchingProtocolsKeepsUpgradeForTheTunnel) {
    Response r(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: x\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ClientResponseOptions o;
    o.upgrade = true;
    std::string out;
    write_client_response_head(r.parser, r.facts, o, out);
    EXPECT_EQ(
        out,
        "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: x\r\nVia: 1.1 switchyard\r\n"
        "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n");
}

}  // namespace
}  // namespace switchyard::http

namespace switchyard::http {
namespace {

TEST(HeaderRules, RequestTargetsAreValidated) {
    // Found by fuzzing: nothing checked the target form.
    EXPECT_EQ(Request("GET /a?b=c HTTP/1.1\r\nHost: a\r\n\r\n").refused, 0u);
    EXPECT_EQ(Request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").refused, 0u);
    EXPECT_EQ(Request("GET * HTTP/1.1\r\nHost: a\r\n\r\n").refused, 400u);
    EXPECT_EQ(Request("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n").refused, 400u);
    EXPECT_EQ(Request("GET foo HTTP/1.1\r\nHost: a\r\n\r\n").refused, 400u);
    EXPECT_EQ(Request("GET ftp://a.example/x HTTP/1.1\r\nHost: a\r\n\r\n").refused, 400u);
    EXPECT_EQ(
        Request("GET http://user@evil.example/x HTTP/1.1\r\nHost: good.example\r\n\r\n").refused,
        400u);
    EXPECT_EQ(Request("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n").refused, 400u);
    // A valid absolute-form: its authority is the host the request is routed by.
    Request abs("GET http://origin.example:8080/p HTTP/1.1\r\nHost: other\r\n\r\n");
    EXPECT_EQ(abs.refused, 0u);
    EXPECT_EQ(abs.facts.host, "origin.example:8080");
}

TEST(HeaderRules, StatusOutsideTheRangeIs502) {
    EXPECT_EQ(Response("HTTP/1.1 002 OK\r\nContent-Length: 0\r\n\r\n").refused, 502u);
    EXPECT_EQ(Response("HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n").refused, 502u);
    EXPECT_EQ(Response("HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n").refused, 0u);
}

TEST(HeaderRules, DateNamedByConnectionIsReplaced) {
    Response r("HTTP/1.1 200 OK\r\nConnection: Date\r\nDate: old\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(r.refused, 0u);
    ClientResponseOptions o;
    o.date_field = "Date: new\r\n";
    std::string out;
    write_client_response_head(r.parser, r.facts, o, out);
    EXPECT_EQ(out.find("Date: old"), std::string::npos);
    EXPECT_NE(out.find("Date: new\r\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace switchyard::http

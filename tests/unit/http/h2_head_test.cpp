#include "switchyard/http/h2_head.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <utility>

namespace switchyard::http {
namespace {

std::vector<H2FieldView> request(std::vector<H2FieldView> extra = {},
                                 std::string_view method = "GET") {
    std::vector<H2FieldView> f = {
        {":method", method}, {":scheme", "https"}, {":authority", "a.test"}, {":path", "/p?q=1"}};
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
}

TEST(H2Head, ARequestBecomesAnHttp11Head) {
    std::string out;
    bool chunked = true;
    ASSERT_EQ(
        write_request_head(request({{"user-agent", "t"}, {"accept", "*/*"}}), false, out, chunked),
        0u);
    EXPECT_FALSE(chunked);
    EXPECT_EQ(out, "GET /p?q=1 HTTP/1.1\r\nhost: a.test\r\nuser-agent: t\r\naccept: */*\r\n\r\n");
    // The result parses as a request.
    std::vector<HeaderField> fields;
    RequestHeadParser parser({}, fields);
    ASSERT_EQ(parser.parse(out), ParseStatus::done);
    EXPECT_EQ(parser.target(), "/p?q=1");
}

TEST(H2Head, CookieCrumbsAreJoined) {
    std::string out;
    bool chunked = false;
    ASSERT_EQ(write_request_head(request({{"cookie", "a=1"}, {"x", "y"}, {"cookie", "b=2"}}), false,
                                 out, chunked),
              0u);
    EXPECT_EQ(out, "GET /p?q=1 HTTP/1.1\r\nhost: a.test\r\nx: y\r\ncookie: a=1; b=2\r\n\r\n");
}

TEST(H2Head, ABodyWithoutALengthIsChunked) {
    std::string out;
    bool chunked = false;
    ASSERT_EQ(write_request_head(request({}, "POST"), true, out, chunked), 0u);
    EXPECT_TRUE(chunked);
    EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos);

    ASSERT_EQ(write_request_head(request({{"content-length", "5"}}, "POST"), true, out, chunked),
              0u);
    EXPECT_FALSE(chunked);
    EXPECT_NE(out.find("content-length: 5\r\n"), std::string::npos);

    std::string body;
    append_chunk(body, "hello");
    append_chunk(body, "");
    append_chunk(body, std::string(26, 'x'));
    append_last_chunk(body, std::vector<H2FieldView>{{"x-sum", "1"}});
    EXPECT_EQ(body, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\nx-sum: 1\r\n\r\n");
}

TEST(H2Head, HostAndAuthority) {
    std::string out;
    bool chunked = false;
    // Only a host field: it is the authority.
    std::vector<H2FieldView> host_only = {
        {":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test"}};
    ASSERT_EQ(write_request_head(host_only, false, out, chunked), 0u);
    EXPECT_EQ(out, "GET / HTTP/1.1\r\nhost: h.test\r\n\r\n");
    // The same in both: once.
    ASSERT_EQ(write_request_head(request({{"host", "a.test"}}), false, out, chunked), 0u);
    EXPECT_EQ(out, "GET /p?q=1 HTTP/1.1\r\nhost: a.test\r\n\r\n");
    // Different, twice, or none: malformed.
    EXPECT_EQ(write_request_head(request({{"host", "b.test"}}), false, out, chunked), 400u);
    std::vector<H2FieldView> none = {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}};
    EXPECT_EQ(write_request_head(none, false, out, chunked), 400u);
    host_only.push_back({"host", "h.test"});
    EXPECT_EQ(write_request_head(host_only, false, out, chunked), 400u);
}

TEST(H2Head, ConnectNamesTheAuthority) {
    std::string out;
    bool chunked = false;
    std::vector<H2FieldView> f = {{":method", "CONNECT"}, {":authority", "db.test:5432"}};
    ASSERT_EQ(write_request_head(f, true, out, chunked), 0u);
    EXPECT_EQ(out.substr(0, out.find("\r\n")), "CONNECT db.test:5432 HTTP/1.1");
}

// A stream's head is given to the parser as parts (read_request_fields,
// RequestHeadParser::assign): it must be judged exactly as its text would
// be, refusals and their statuses included.
void expect_parts_parse_as_text(const std::vector<H2FieldView>& fields, bool body_follows,
                                const RequestHeadParser::Limits& limits = {}) {
    SCOPED_TRACE(testing::Message() << "request with " << fields.size() << " fields");
    RequestParts parts;
    std::string text;
    bool chunked = false;
    const unsigned refused = read_request_fields(fields, body_follows, parts);
    ASSERT_EQ(refused, write_request_head(fields, body_follows, text, chunked));
    if (refused != 0) return;
    EXPECT_EQ(parts.chunked, chunked);
    std::vector<HeaderField> from_parts, from_text;
    RequestHeadParser a(limits, from_parts), b(limits, from_text);
    const ParseStatus status = a.assign(parts.method, parts.target, parts.fields);
    ASSERT_EQ(status, b.parse(text)) << text;
    EXPECT_EQ(a.text_bytes(), text.size());
    EXPECT_EQ(a.head_bytes(), 0u);
    if (status != ParseStatus::done) {
        EXPECT_EQ(status_for(a.error()), status_for(b.error())) << text;
        return;
    }
    EXPECT_EQ(a.method(), b.method());
    EXPECT_EQ(a.method_string(), b.method_string());
    EXPECT_EQ(a.target(), b.target());
    EXPECT_EQ(a.version(), b.version());
    ASSERT_EQ(from_parts.size(), from_text.size()) << text;
    for (std::size_t i = 0; i < from_parts.size(); ++i) {
        EXPECT_EQ(from_parts[i].id, from_text[i].id) << from_text[i].name;
        EXPECT_EQ(from_parts[i].name, from_text[i].name);
        EXPECT_EQ(from_parts[i].value, from_text[i].value);
    }
}

TEST(H2Head, ItsPartsAreJudgedAsItsTextWouldBe) {
    expect_parts_parse_as_text(request({{"user-agent", "t"}, {"accept", "*/*"}}), false);
    expect_parts_parse_as_text(request({{"cookie", "a=1"}, {"x", "y"}, {"cookie", "b=2"}}), false);
    expect_parts_parse_as_text(request({}, "POST"), true);
    expect_parts_parse_as_text(request({{"content-length", "5"}}, "POST"), true);
    expect_parts_parse_as_text({{":method", "CONNECT"}, {":authority", "db.test:5432"}}, true);
    expect_parts_parse_as_text(request({{"x-empty", ""}, {"x-obs", "caf\xc3\xa9"}}), false);
    // Refused, each with the status its text gets.
    expect_parts_parse_as_text(request({}, "G(ET"), false);                // 400
    expect_parts_parse_as_text(request({}, std::string(33, 'M')), false);  // 501
    expect_parts_parse_as_text({{":method", "GET"}, {":authority", "a"}, {":path", "/a b"}},
                               false);  // 400
    expect_parts_parse_as_text({{":method", "GET"}, {":authority", "a"}, {":path", "/\x7f"}},
                               false);                                  // 400
    expect_parts_parse_as_text(request({{"x-ctl", "a\x01b"}}), false);  // 400
    expect_parts_parse_as_text(request({{"x(bad)", "1"}}), false);      // 400
    expect_parts_parse_as_text(request({{"host", "b.test"}}), false);   // 400
    const std::string long_path = "/" + std::string(100, 'p');
    expect_parts_parse_as_text({{":method", "GET"}, {":authority", "a"}, {":path", long_path}},
                               false, {4096, 64, 256});  // 414
    expect_parts_parse_as_text({{":method", "GET"}, {":authority", "a"}, {":path", long_path}},
                               false, {64, 32, 256});  // 414: over both limits
    expect_parts_parse_as_text(request({{"x-big", std::string(200, 'v')}}), false,
                               {128, 64, 256});  // 431
    std::vector<H2FieldView> many = request();
    for (int i = 0; i < 10; ++i)
        many.push_back({"x-n", "1"});
    expect_parts_parse_as_text(many, false, {4096, 1024, 8});   // 431: too many fields
    expect_parts_parse_as_text(many, false, {4096, 1024, 11});  // exactly the limit
}

TEST(H2Head, TheAuthoritysHost) {
    EXPECT_EQ(authority_host(request()), "a.test");
    EXPECT_EQ(authority_host(std::vector<H2FieldView>{{":authority", "a.test:8443"}}), "a.test");
    EXPECT_EQ(authority_host(std::vector<H2FieldView>{{":authority", "[::1]:8443"}}), "::1");
    EXPECT_EQ(authority_host(std::vector<H2FieldView>{{"host", "h.test"}}), "h.test");
    EXPECT_EQ(authority_host(std::vector<H2FieldView>{{":path", "/"}}), "");
    EXPECT_EQ(authority_host(std::vector<H2FieldView>{{":authority", "[::1"}}), "");
}

TEST(H2Head, OurResponseHeadReadBackDropsWhatHttp2Forbids) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        "Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nX-Mixed-Case: V\r\n"
        "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nVia: 1.1 switchyard\r\nX-Empty: \r\n\r\n";
    const std::size_t size = head.size();
    head += "5\r\nhello";  // the body's first bytes, after the head
    OwnResponseHead out;
    ASSERT_TRUE(read_own_response_head(head, out));
    EXPECT_EQ(out.status, 200u);
    EXPECT_TRUE(out.chunked);
    EXPECT_EQ(out.bytes, size);
    EXPECT_EQ(out.fields, (std::vector<H2FieldView>{{"content-type", "text/plain"},
                                                    {"x-mixed-case", "V"},
                                                    {"set-cookie", "a=1"},
                                                    {"set-cookie", "b=2"},
                                                    {"via", "1.1 switchyard"},
                                                    {"x-empty", ""}}));
    // The same object reads the next head afresh.
    std::string interim = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n";
    ASSERT_TRUE(read_own_response_head(interim, out));
    EXPECT_EQ(out.status, 103u);
    EXPECT_FALSE(out.chunked);
    EXPECT_EQ(out.fields, (std::vector<H2FieldView>{{"link", "</s.css>"}}));
}

// The fields an HTTP/2 stream gets for a forwarded response are those of
// the HTTP/1.1 head written for the same response, read back.
TEST(H2Head, ResponseFieldsAreThoseOfTheHttp11Head) {
    struct Case {
        std::string head;
        bool request_was_head;
    };
    const Case cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close, X-Hop\r\n"
         "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Mixed-Case: V\r\nContent-Length: 5\r\n\r\n",
         false},
        {"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n"
         "Date: Mon, 07 Dec 2026 10:00:00 GMT\r\nUpgrade: h2c\r\n\r\n",
         false},
        // A HEAD response keeps the length it describes.
        {"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n", true},
        {"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", false},
    };
    for (const auto& c : cases) {
        std::vector<HeaderField> parsed;
        ResponseHeadParser head({}, parsed);
        ASSERT_EQ(head.parse(c.head), ParseStatus::done) << c.head;
        ResponseFacts facts;
        ASSERT_EQ(inspect_response(head, c.request_was_head, facts), 0u) << c.head;
        ClientResponseOptions options;
        options.chunked = facts.framing.kind == BodyKind::chunked;
        options.date_field = "Date: Mon, 07 Dec 2026 11:00:00 GMT\r\n";
        options.extra_fields = "Set-Cookie: sy_uid=abc; Path=/\r\n";
        std::string text;
        write_client_response_head(head, facts, options, text);
        OwnResponseHead expected;
        ASSERT_TRUE(read_own_response_head(text, expected));

        std::vector<H2FieldView> fields;
        std::string scratch;
        const std::size_t bytes = collect_response_fields(head, facts, options, fields, scratch);
        std::vector<std::pair<std::string, std::string>> lowered;
        for (const auto& f : fields) {
            std::string name(f.name);
            for (auto& ch : name)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            lowered.emplace_back(name, std::string(f.value));
        }
        std::vector<std::pair<std::string, std::string>> want;
        for (const auto& f : expected.fields)
            want.emplace_back(std::string(f.name), std::string(f.value));
        EXPECT_EQ(lowered, want) << c.head;
        // As HTTP/1.1 text, without the framing fields HTTP/2 does not send.
        EXPECT_LE(bytes, text.size()) << c.head;
        EXPECT_GT(bytes, text.size() / 2) << c.head;
    }
}

TEST(H2Head, OurTrailersReadBackAsLowerCaseFields) {
    std::string text = "Grpc-Status: 0\r\nbroken line\r\nX-Sum:  abc \r\n";
    EXPECT_EQ(read_own_trailers(text),
              (std::vector<H2FieldView>{{"grpc-status", "0"}, {"x-sum", "abc"}}));
    std::string empty;
    EXPECT_TRUE(read_own_trailers(empty).empty());
}

TEST(H2Head, AnythingElseIsNotOurHead) {
    OwnResponseHead out;
    for (std::string text :
         {"", "HTTP/1.1 200 OK\r\nA: b\r\n", "HTTP/1.0 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\n: v\r\n\r\n", "HTTP/1.1 20"})
        EXPECT_FALSE(read_own_response_head(text, out)) << text;
}

}  // namespace
}  // namespace switchyard::http

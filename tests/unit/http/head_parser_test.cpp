#include "switchyard/http/head_parser.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace switchyard::http {
namespace {

struct Parsed {
    std::vector<HeaderField> fields;
    RequestHeadParser parser;
    ParseStatus status;
    Parsed(std::string_view text, RequestHeadParser::Limits limits = {})
        : parser(limits, fields), status(parser.parse(text)) {}
};

TEST(HeadParser, ParsesRequestLineAndFieldsInOrder) {
    std::string text = "POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-B: 2\r\nx-a: 1\r\nX-B: 3\r\n\r\nBODY";
    Parsed p(text);
    ASSERT_EQ(p.status, ParseStatus::done);
    EXPECT_EQ(p.parser.head_bytes(), text.size() - 4);  // stops before the body
    EXPECT_EQ(p.parser.method(), bhttp::verb::post);
    EXPECT_EQ(p.parser.method_string(), "POST");
    EXPECT_EQ(p.parser.target(), "/a?b=1");
    EXPECT_EQ(p.parser.version(), 11u);
    ASSERT_EQ(p.fields.size(), 4u);
    EXPECT_EQ(p.fields[0].id, bhttp::field::host);
    EXPECT_EQ(p.fields[1].name, "X-B");
    EXPECT_EQ(p.fields[1].value, "2");
    EXPECT_EQ(p.fields[2].name, "x-a");
    EXPECT_EQ(p.fields[3].value, "3");
    // Views point into the caller's buffer: nothing was copied.
    EXPECT_GE(p.fields[0].name.data(), text.data());
    EXPECT_LT(p.fields[0].name.data(), text.data() + text.size());
}

TEST(HeadParser, NeedsMoreUntilTheHeadIsComplete) {
    std::vector<HeaderField> fields;
    RequestHeadParser parser({}, fields);
    std::string text = "GET / HTTP/1.1\r\nHost: x\r\n";
    EXPECT_EQ(parser.parse(text), ParseStatus::need_more);
    text += "\r\n";
    EXPECT_EQ(parser.parse(text), ParseStatus::done);
    EXPECT_EQ(fields.size(), 1u);
}

TEST(HeadParser, ContentLengthBeyondBeastsDefaultBodyLimitIsAccepted) {
    Parsed p("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n");
    EXPECT_EQ(p.status, ParseStatus::done);
}

TEST(HeadParser, HeadOverTheLimitIs431) {
    std::string text = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
    Parsed p(text, {1024, 512, 256});
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(p.parser.error(), HeadError::header_too_large);
    EXPECT_EQ(status_for(p.parser.error()), 431u);
}

TEST(HeadParser, LongTargetIs414EvenBeforeTheHeadEnds) {
    std::string target = "/" + std::string(3000, 'a');
    Parsed complete("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", {64 * 1024, 1024, 256});
    ASSERT_EQ(complete.status, ParseStatus::error);
    EXPECT_EQ(complete.parser.error(), HeadError::target_too_long);
    Parsed partial("GET " + target, {64 * 1024, 1024, 256});
    ASSERT_EQ(partial.status, ParseStatus::error);
    EXPECT_EQ(status_for(partial.parser.error()), 414u);
}

TEST(HeadParser, TooManyFieldsIs431) {
    std::string text = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 10; ++i)
        text += "X-" + std::to_string(i) + ": v\r\n";
    text += "\r\n";
    Parsed p(text, {64 * 1024, 1024, 5});
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 431u);
}

// field_id names what the proxy acts on, in any case, and nothing else:
// held to Beast's string_to_field over every name Beast knows.
TEST(HeadParser, FieldIdNamesTheFieldsTheProxyActsOn) {
    const bhttp::field acted_on[] = {bhttp::field::te,
                                     bhttp::field::via,
                                     bhttp::field::host,
                                     bhttp::field::date,
                                     bhttp::field::cookie,
                                     bhttp::field::expect,
                                     bhttp::field::upgrade,
                                     bhttp::field::trailer,
                                     bhttp::field::forwarded,
                                     bhttp::field::connection,
                                     bhttp::field::keep_alive,
                                     bhttp::field::max_forwards,
                                     bhttp::field::authorization,
                                     bhttp::field::content_length,
                                     bhttp::field::http2_settings,
                                     bhttp::field::proxy_connection,
                                     bhttp::field::transfer_encoding,
                                     bhttp::field::proxy_authorization};
    for (const bhttp::field f : acted_on) {
        std::string name(bhttp::to_string(f));
        EXPECT_EQ(field_id(name), f) << name;
        for (char& c : name)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        EXPECT_EQ(field_id(name), f) << name;
        EXPECT_EQ(field_id(name + "x"), bhttp::field::unknown) << name;
        EXPECT_EQ(field_id(name.substr(1)), bhttp::field::unknown) << name;
    }
    std::size_t known = 0;
    for (int i = 1; i <= static_cast<int>(bhttp::field::xref); ++i) {
        const auto f = static_cast<bhttp::field>(i);
        const bhttp::field id = field_id(bhttp::to_string(f));
        if (id == bhttp::field::unknown) continue;
        EXPECT_EQ(id, f) << bhttp::to_string(f);
        ++known;
    }
    EXPECT_EQ(known, std::size(acted_on));
    EXPECT_EQ(field_id("X-Forwarded-For"), bhttp::field::unknown);
    EXPECT_EQ(field_id(""), bhttp::field::unknown);
}

TEST(HeadParser, ControlCharacterInValueIs400) {
    Parsed p(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"));
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 400u);
}

TEST(HeadParser, ObsFoldIs400) {
    Parsed p("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 400u);
    // Also after an empty value, which Beast's parser used to unfold.
    Parsed empty("GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n\tfolded\r\n\r\n");
    ASSERT_EQ(empty.status, ParseStatus::error);
    EXPECT_EQ(empty.parser.error(), HeadError::bad_field);
    // And a field line that starts with whitespace right after the start line.
    Parsed first("GET / HTTP/1.1\r\n Host: x\r\n\r\n");
    EXPECT_EQ(first.status, ParseStatus::error);
}

// The checks Beast made of Connection, Content-Length and Transfer-Encoding
// before framing.hpp sees the fields: the same heads are refused.
TEST(HeadParser, FramingFieldsBeastRefusedAreRefused) {
    struct Case {
        const char* fields;
        bool accepted;
    };
    const Case cases[] = {
        {"Content-Length: 5", true},
        {"Content-Length: 5, 5", true},
        {"Content-Length: 5\r\nContent-Length: 05", true},  // equal numbers; framing.hpp refuses
        {"Content-Length: 5, 6", false},
        {"Content-Length: 5\r\nContent-Length: 6", false},
        {"Content-Length: 5,", false},
        {"Content-Length: ,5", false},
        {"Content-Length: ", false},
        {"Content-Length: +5", false},
        {"Content-Length: 5 5", false},
        {"Content-Length: 18446744073709551615", true},
        {"Content-Length: 18446744073709551616", false},
        {"Transfer-Encoding: chunked\r\nContent-Length: 5", false},
        {"Content-Length: 5\r\nTransfer-Encoding: gzip", false},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", false},
        {"Transfer-Encoding: chunked, gzip\r\nContent-Length: 5", true},
        {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", true},
        {"Transfer-Encoding: chunked;x=1\r\nContent-Length: 5", false},
        {"Connection: keep-alive, , Upgrade", true},
        {"Connection: keep-alive;x", false},
        {"Proxy-Connection: a b", false},
    };
    for (const Case& c : cases) {
        for (bool response : {false, true}) {
            const std::string text =
                std::string(response ? "HTTP/1.1 200 OK\r\n" : "POST / HTTP/1.1\r\nHost: x\r\n") +
                c.fields + "\r\n\r\n";
            std::vector<HeaderField> fields;
            ParseStatus st;
            HeadError e;
            if (response) {
                ResponseHeadParser parser({}, fields);
                st = parser.parse(text);
                e = parser.error();
            } else {
                RequestHeadParser parser({}, fields);
                st = parser.parse(text);
                e = parser.error();
            }
            EXPECT_EQ(st, c.accepted ? ParseStatus::done : ParseStatus::error) << text;
            if (!c.accepted) {
                EXPECT_EQ(status_for(e), 400u) << text;
            }
        }
    }
}

TEST(HeadParser, StatusLineIsVersionStatusAndReason) {
    struct Case {
        const char* line;
        unsigned refused_with;  // 0: accepted
        const char* reason;
    };
    const Case cases[] = {
        {"HTTP/1.1 200 OK", 0, "OK"},
        {"HTTP/1.1 200 ", 0, ""},
        {"HTTP/1.1 599 A\tb \x80", 0, "A\tb \x80"},
        {"HTTP/1.1 200", 400, ""},
        {"HTTP/1.1 20 OK", 400, ""},
        {"HTTP/1.1 2000 OK", 400, ""},
        {"HTTP/1.1  200 OK", 400, ""},
        {"HTTP/1.1 200 O\x7fK", 400, ""},
        {"HTTP/1.1 200 O\rK", 400, ""},
        {"HTTP/2.0 200 OK", 505, ""},
        {"HTTP/1.1x200 OK", 505, ""},
        {"HTTP/1.", 505, ""},
        {"http/1.1 200 OK", 505, ""},
    };
    for (const Case& c : cases) {
        const std::string text = std::string(c.line) + "\r\nX: y\r\n\r\n";
        std::vector<HeaderField> fields;
        ResponseHeadParser parser({}, fields);
        const ParseStatus st = parser.parse(text);
        if (c.refused_with == 0) {
            ASSERT_EQ(st, ParseStatus::done) << c.line;
            EXPECT_EQ(parser.reason(), c.reason);
            ASSERT_EQ(fields.size(), 1u);
        } else {
            ASSERT_EQ(st, ParseStatus::error) << c.line;
            EXPECT_EQ(status_for(parser.error()), c.refused_with) << c.line;
        }
    }
}

TEST(HeadParser, FieldValuesLoseTheirSurroundingWhitespace) {
    Parsed p("GET / HTTP/1.1\r\nHost:x\r\nA: \t a  b \t\r\nB:   \r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::done);
    ASSERT_EQ(p.fields.size(), 3u);
    EXPECT_EQ(p.fields[0].value, "x");
    EXPECT_EQ(p.fields[1].value, "a  b");
    EXPECT_EQ(p.fields[2].value, "");
    EXPECT_EQ(p.fields[2].id, bhttp::field::unknown);
}

TEST(HeadParser, WhitespaceBeforeColonIs400) {
    Parsed p("GET / HTTP/1.1\r\nHost : x\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 400u);
}

TEST(HeadParser, BareLineFeedIs400WithoutWaitingForMore) {
    Parsed p("GET / HTTP/1.1\nHost: x\n");
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 400u);
}

TEST(HeadParser, ViewsStayInTheLatestBufferWhenItMoves) {
    std::vector<HeaderField> fields;
    RequestHeadParser parser({}, fields);
    std::string first = "GET /first HTTP/1.1\r\nHost: a\r\n";
    ASSERT_EQ(parser.parse(first), ParseStatus::need_more);
    std::string second = first + "X: y\r\n\r\n";  // another allocation
    first.assign(first.size(), '#');              // the old bytes are gone
    ASSERT_EQ(parser.parse(second), ParseStatus::done);
    EXPECT_EQ(parser.target(), "/first");
    EXPECT_GE(parser.target().data(), second.data());
    ASSERT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields[1].value, "y");
}

TEST(HeadParser, GarbageIs400) {
    Parsed p("HELLO\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(status_for(p.parser.error()), 400u);
}

// RFC 9112 §2.3: HTTP-version is exactly "HTTP/" DIGIT "." DIGIT; anything
// else is a malformed request line (400), and only a well-formed version we
// do not implement is 505. Every case is refused as soon as its line is in.
TEST(HeadParser, VersionThatIsNotHttpDigitDotDigitIs400AndAnUnsupportedOneIs505) {
    const std::vector<std::pair<std::string, unsigned>> cases = {
        {"HTTP/1.01", 400}, {"http/1.1", 400}, {"HTTP/1.1 ", 400}, {"HTTP/11", 400},
        {"HTTP/1.", 400},   {"HTTP/1.x", 400}, {"HTTPS/1.1", 400}, {"HTTP /1.1", 400},
        {"HTTP/2.0", 505},  {"HTTP/3.0", 505}, {"HTTP/0.9", 505},  {"HTTP/1.2", 505},
    };
    for (const auto& [version, status] : cases) {
        Parsed p("GET / " + version + "\r\n");
        ASSERT_EQ(p.status, ParseStatus::error) << version;
        EXPECT_EQ(status_for(p.parser.error()), status) << version;
        EXPECT_EQ(status_for(check_request_line("GET / " + version)), status) << version;
    }
    EXPECT_EQ(check_request_line("GET / HTTP/1.0"), HeadError::none);
    EXPECT_EQ(check_request_line("M-SEARCH * HTTP/1.1"), HeadError::none);
}

TEST(HeadParser, WhitespaceInTheTargetIs400) {
    for (std::string line : {"GET /a b HTTP/1.1", "GET  / HTTP/1.1", "GET /a\tb HTTP/1.1",
                             "GET / x HTTP/1.1", "GET  HTTP/1.1"}) {
        Parsed p(line + "\r\nHost: x\r\n\r\n");
        ASSERT_EQ(p.status, ParseStatus::error) << line;
        EXPECT_EQ(status_for(p.parser.error()), 400u) << line;
    }
}

TEST(HeadParser, Http09RequestLineIs400WithoutWaitingForTheHead) {
    Parsed p("GET /\r\n");
    ASSERT_EQ(p.status, ParseStatus::error);
    EXPECT_EQ(p.parser.error(), HeadError::malformed);
}

// RFC 9112 §3: a method longer than any the server implements -> 501, here
// as soon as one octet more than kMaxMethodBytes is in.
TEST(HeadParser, OverlongMethodIs501BeforeTheLineEnds) {
    Parsed longest(std::string(kMaxMethodBytes, 'A') + " / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(longest.status, ParseStatus::done);
    Parsed partial(std::string(kMaxMethodBytes + 1, 'A'));
    ASSERT_EQ(partial.status, ParseStatus::error);
    EXPECT_EQ(partial.parser.error(), HeadError::method_too_long);
    EXPECT_EQ(status_for(partial.parser.error()), 501u);
    Parsed whole(std::string(100, 'A') + " / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(whole.status, ParseStatus::error);
    EXPECT_EQ(status_for(whole.parser.error()), 501u);
}

TEST(HeadParser, ParsesResponses) {
    std::vector<HeaderField> fields;
    ResponseHeadParser parser({}, fields);
    std::string text = "HTTP/1.0 404 Not Here\r\nContent-Length: 3\r\n\r\nabc";
    ASSERT_EQ(parser.parse(text), ParseStatus::done);
    EXPECT_EQ(parser.status(), 404u);
    EXPECT_EQ(parser.reason(), "Not Here");
    EXPECT_EQ(parser.version(), 10u);
    EXPECT_EQ(parser.head_bytes(), text.size() - 3);
    ASSERT_NE(parser.find(bhttp::field::content_length), nullptr);
    EXPECT_EQ(parser.find(bhttp::field::content_length)->value, "3");
}

TEST(HeadParser, ReusedStorageIsClearedPerMessage) {
    std::vector<HeaderField> fields;
    {
        RequestHeadParser a({}, fields);
        ASSERT_EQ(a.parse("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n"), ParseStatus::done);
    }
    RequestHeadParser b({}, fields);
    ASSERT_EQ(b.parse("GET / HTTP/1.1\r\nHost: y\r\n\r\n"), ParseStatus::done);
    ASSERT_EQ(fields.size(), 1u);
    EXPECT_EQ(fields[0].value, "y");
}

}  // namespace
}  // namespace switchyard::http

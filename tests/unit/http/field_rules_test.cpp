#include "switchyard/http/field_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {
namespace {

using namespace std::string_view_literals;

std::vector<std::string> tokens_of(std::string_view list) {
    std::vector<std::string> out;
    for_each_token(list, [&](std::string_view t) { out.emplace_back(t); });
    return out;
}

using Strings = std::vector<std::string>;

TEST(FieldRules, FieldName) {
    EXPECT_TRUE(is_valid_field_name("Content-Length"));
    EXPECT_TRUE(is_valid_field_name("x"));
    EXPECT_FALSE(is_valid_field_name(""));
    EXPECT_FALSE(is_valid_field_name("Content-Length "));
    EXPECT_FALSE(is_valid_field_name("Host:"));
    EXPECT_FALSE(is_valid_field_name("X\tY"));
}

TEST(FieldRules, FieldValueAcceptsVcharSpHtabObsText) {
    EXPECT_TRUE(is_valid_field_value(""));
    EXPECT_TRUE(is_valid_field_value("text/html; q=0.9, */*"));
    EXPECT_TRUE(is_valid_field_value("a\tb c"));
    EXPECT_TRUE(is_valid_field_value("\x80\xff caf\xc3\xa9"));
    EXPECT_TRUE(is_valid_field_value("~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"));
}

TEST(FieldRules, FieldValueRejectsEveryOtherCtl) {
    for (int c = 0; c < 0x20; ++c) {
        if (c == '\t') continue;
        const std::string v = std::string("a") + static_cast<char>(c) + "b";
        EXPECT_FALSE(is_valid_field_value(v)) << "byte " << c;
    }
    EXPECT_FALSE(is_valid_field_value("a\x7f"));
    EXPECT_FALSE(is_valid_field_value("\r\nX-Injected: 1"));
    EXPECT_FALSE(is_valid_field_value("a\0"sv));
}

// The word-at-a-time scan stops exactly where the octet-by-octet rule does:
// every octet value at every position of a value longer than two words,
// behind a run of valid octets of each kind the words can hold.
TEST(FieldRules, FieldValueRunStopsAtTheFirstCtlOrDel) {
    for (const char filler : {'a', ' ', '\t', '\x80', '\xff', '~'}) {
        for (std::size_t at = 0; at < 20; ++at) {
            for (int c = 0; c < 256; ++c) {
                std::string v(20, filler);
                v[at] = static_cast<char>(c);
                const bool valid = c == '\t' || (c >= 0x20 && c != 0x7f);
                EXPECT_EQ(field_value_run(v), valid ? v.size() : at)
                    << "filler " << int(filler) << " byte " << c << " at " << at;
                EXPECT_EQ(is_valid_field_value(v), valid);
            }
        }
    }
    EXPECT_EQ(field_value_run(""), 0u);
}

TEST(FieldRules, ForEachTokenSplitsAndSkipsEmptyElements) {
    EXPECT_EQ(tokens_of("a, b ,c"), (Strings{"a", "b", "c"}));
    EXPECT_EQ(tokens_of(",,a,, ,\tb,"), (Strings{"a", "b"}));
    EXPECT_EQ(tokens_of(""), Strings{});
    EXPECT_EQ(tokens_of(" , ,"), Strings{});
    EXPECT_EQ(tokens_of("gzip;q=0.5 , chunked"), (Strings{"gzip;q=0.5", "chunked"}));
}

TEST(FieldRules, ForEachTokenKeepsCommasInsideQuotedStrings) {
    EXPECT_EQ(tokens_of("a;x=\"1,2\", b"), (Strings{"a;x=\"1,2\"", "b"}));
    EXPECT_EQ(tokens_of("a;x=\"q\\\",r\", b"), (Strings{"a;x=\"q\\\",r\"", "b"}));
    EXPECT_EQ(tokens_of("a, \"b, c"), (Strings{"a", "\"b, c"}));  // unterminated: to the end
    EXPECT_EQ(tokens_of("\"a\\"), (Strings{"\"a\\"}));            // trailing escape
}

TEST(FieldRules, ForEachTokenStopsWhenCallbackReturnsFalse) {
    std::vector<std::string> seen;
    const bool completed = for_each_token("a, b, c", [&](std::string_view t) {
        seen.emplace_back(t);
        return t != "b";
    });
    EXPECT_FALSE(completed);
    EXPECT_EQ(seen, (Strings{"a", "b"}));
    EXPECT_TRUE(for_each_token("a, b", [](std::string_view) { return true; }));
    EXPECT_TRUE(for_each_token("a, b", [](std::string_view) {}));
}

TEST(FieldRules, ForEachTokenYieldsViewsIntoTheInput) {
    const std::string list = "  close ,Upgrade";
    std::vector<std::string_view> views;
    for_each_token(list, [&](std::string_view t) { views.push_back(t); });
    ASSERT_EQ(views.size(), 2u);
    EXPECT_EQ(views[0].data(), list.data() + 2);
    EXPECT_EQ(views[1].data(), list.data() + 9);
}

TEST(FieldRules, HopByHop) {
    for (auto name : {"Connection", "keep-alive", "PROXY-CONNECTION", "te", "Trailer",
                      "transfer-encoding", "UpGrade"})
        EXPECT_TRUE(is_hop_by_hop(name)) << name;
    for (auto name : {"Content-Length", "Host", "Connections", "T", "Trailers", "TE ", "",
                      "Transfer-Encodings", "Upgrade-Insecure-Requests", "Keep-Alive2"})
        EXPECT_FALSE(is_hop_by_hop(name)) << name;
}

TEST(ConnectionTokens, FlagsAndNames) {
    const std::string v1 = "keep-alive, Upgrade";
    const std::string v2 = "X-Secret ,  close";
    const std::vector<std::string_view> values = {v1, v2};
    const ConnectionTokens ct(values);
    EXPECT_TRUE(ct.has_keep_alive());
    EXPECT_TRUE(ct.has_upgrade());
    EXPECT_TRUE(ct.has_close());
    EXPECT_TRUE(ct.names("x-secret"));
    EXPECT_TRUE(ct.names("UPGRADE"));
    EXPECT_FALSE(ct.names("X-Secre"));
    EXPECT_FALSE(ct.names("Host"));
    EXPECT_FALSE(ct.malformed());
    EXPECT_FALSE(ct.overflowed());
    ASSERT_EQ(ct.tokens().size(), 4u);
    EXPECT_EQ(ct.tokens()[0], "keep-alive");
    EXPECT_EQ(ct.tokens()[2], "X-Secret");
    EXPECT_EQ(ct.tokens()[2].data(), v2.data());  // a view, not a copy
}

TEST(ConnectionTokens, EmptyHasNothing) {
    ConnectionTokens ct;
    EXPECT_FALSE(ct.has_close());
    EXPECT_FALSE(ct.has_keep_alive());
    EXPECT_FALSE(ct.has_upgrade());
    EXPECT_FALSE(ct.names("close"));
    EXPECT_EQ(ct.tokens().size(), 0u);
    ct.add("");
    ct.add(" , ");
    EXPECT_EQ(ct.tokens().size(), 0u);
    EXPECT_FALSE(ct.malformed());
}

TEST(ConnectionTokens, CaseInsensitiveOptions) {
    ConnectionTokens ct;
    ct.add("CLOSE");
    EXPECT_TRUE(ct.has_close());
    EXPECT_FALSE(ct.has_keep_alive());
    ConnectionTokens ka;
    ka.add("Keep-Alive");
    EXPECT_TRUE(ka.has_keep_alive());
    EXPECT_FALSE(ka.has_close());
}

TEST(ConnectionTokens, MalformedElement) {
    ConnectionTokens ct;
    ct.add("close, a b");
    EXPECT_TRUE(ct.malformed());
    EXPECT_TRUE(ct.has_close());
    ConnectionTokens q;
    q.add("\"close\"");
    EXPECT_TRUE(q.malformed());
    EXPECT_FALSE(q.has_close());
}

TEST(ConnectionTokens, DuplicatesDoNotExhaustCapacity) {
    std::string v;
    for (int i = 0; i < 100; ++i)
        v += "close, ";
    ConnectionTokens ct;
    ct.add(v);
    EXPECT_FALSE(ct.overflowed());
    EXPECT_EQ(ct.tokens().size(), 1u);
}

TEST(ConnectionTokens, OverflowBeyondCapacity) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i <= ConnectionTokens::capacity; ++i)
        names.push_back("x-" + std::to_string(i));
    ConnectionTokens full;
    for (std::size_t i = 0; i < ConnectionTokens::capacity; ++i)
        full.add(names[i]);
    EXPECT_FALSE(full.overflowed());
    EXPECT_TRUE(full.names("X-15"));
    full.add(names.back());
    EXPECT_TRUE(full.overflowed());
    EXPECT_FALSE(full.names("x-16"));  // incomplete: the caller must refuse the message
    EXPECT_EQ(ConnectionTokens::capacity, 16u);
}

TEST(FieldRules, Methods) {
    for (auto m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
        EXPECT_TRUE(is_idempotent(m)) << m;
    for (auto m : {"POST", "PATCH", "CONNECT", "get", "Put", "", "GETX"})
        EXPECT_FALSE(is_idempotent(m)) << m;
    EXPECT_TRUE(is_valid_method("GET"));
    EXPECT_TRUE(is_valid_method("M-SEARCH"));
    EXPECT_FALSE(is_valid_method(""));
    EXPECT_FALSE(is_valid_method("GE T"));
    EXPECT_FALSE(is_valid_method("GET/"));
}

TEST(FieldRules, OriginFormValid) {
    for (auto t : {"/", "//", "/a/b?c=d&e=f", "/%41%2f%aF", "/a:b@c!$&'()*+,;=-._~", "/a?b?c/d",
                   "/?", "/x?", "/~user/index.html"})
        EXPECT_TRUE(is_valid_origin_form(t)) << t;
}

TEST(FieldRules, OriginFormInvalid) {
    for (auto t :
         {"",      "a",     "*",    "a/b",  "/a b", "/a#f", "/%4", "/%zz", "/%", "/%4g",  "/\x80",
          "/a\tb", "/a\"b", "/<x>", "/a|b", "/{}",  "/[x]", "/\\", "/^",   "/`", "/\x7f", "/a\r\n"})
        EXPECT_FALSE(is_valid_origin_form(t)) << t;
    EXPECT_FALSE(is_valid_origin_form("/a\0b"sv));
}

TEST(FieldRules, SplitAbsoluteForm) {
    auto a = split_absolute_form("http://example.com/a?b=1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->scheme, "http");
    EXPECT_EQ(a->authority, "example.com");
    EXPECT_EQ(a->path_and_query, "/a?b=1");

    auto b = split_absolute_form("HTTPS://h:8443");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->scheme, "HTTPS");
    EXPECT_EQ(b->authority, "h:8443");
    EXPECT_EQ(b->path_and_query, "");

    auto c = split_absolute_form("http://h?x=/y");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->authority, "h");
    EXPECT_EQ(c->path_and_query, "?x=/y");

    auto d = split_absolute_form("http://[::1]:80/");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->authority, "[::1]:80");
    EXPECT_EQ(d->path_and_query, "/");
}

TEST(FieldRules, SplitAbsoluteFormRejects) {
    for (auto t : {"ftp://h/", "http:/h", "http://", "http:///a", "http://u@h/", "http://u:p@h/",
                   "http://h/#f", "http://h#f", "http://h:/", "http://h:99999/", "http://h/a b",
                   "/a", "http://h:80:80/", "httpx://h/", "://h/", "http://h/%zz", "*"})
        EXPECT_FALSE(split_absolute_form(t)) << t;
}

TEST(FieldRules, HostValid) {
    for (auto h : {"example.com",
                   "example.com:8080",
                   "127.0.0.1",
                   "127.0.0.1:80",
                   "[::1]",
                   "[::1]:443",
                   "[2001:db8::1]",
                   "[::ffff:192.0.2.1]",
                   "a%2Db",
                   "localhost",
                   "xn--bcher-kva.example",
                   "example.com.",
                   "h:0",
                   "h:65535",
                   "h:00080",
                   "[1:2:3:4:5:6:7:8]",
                   "[1:2:3:4:5:6:7::]",
                   "[::]",
                   "[1::]",
                   "[1:2:3:4:5:6:1.2.3.4]",
                   "[::1.2.3.4]",
                   "[fe80::aBcD]",
                   "a!$&'()*+,;=b"})
        EXPECT_TRUE(is_valid_host(h)) << h;
}

TEST(FieldRules, HostInvalid) {
    for (auto h : {"",
                   ":80",
                   "example.com:",
                   "h:65536",
                   "h:123456",
                   "h:8a",
                   "h:80:80",
                   "h:-1",
                   "[::1",
                   "::1",
                   "[::1]x",
                   "[::1]:",
                   "[::1]:99999",
                   "[v1.x]",
                   "[fe80::1%25eth0]",
                   "[1:2:3:4:5:6:7:8:9]",
                   "[1:2:3:4::5:6:7:8]",
                   "[::1:2:3:4:5:6:7:8]",
                   "[1:2:3:4:5:6:7]",
                   "[1::2::3]",
                   "[12345::]",
                   "[::1.2.3.256]",
                   "[::01.2.3.4]",
                   "[1:2:3:4:5:6:7:1.2.3.4]",
                   "[:1::]",
                   "[1:]",
                   "[]",
                   "[:::]",
                   "[::1.2.3]",
                   "[::1.2.3.4:5]",
                   "[1.2.3.4]",
                   "a b",
                   "a/b",
                   "u@h",
                   "h#",
                   "%zz",
                   "a%2",
                   "h\r\n",
                   "[::g]",
                   "h:+80"})
        EXPECT_FALSE(is_valid_host(h)) << h;
    EXPECT_FALSE(is_valid_host("a\0b"sv));
}

}  // namespace
}  // namespace switchyard::http

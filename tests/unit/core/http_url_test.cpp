#include "switchyard/core/http_url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchyard {
namespace {

HttpUrl ok(std::string_view text) {
    auto p = parse_http_url(text);
    EXPECT_EQ(p.error, "") << text;
    return p.url;
}

TEST(HttpUrl, SplitsSchemeHostPortAndTarget) {
    EXPECT_EQ(ok("https://hooks.example.com/deploys"),
              (HttpUrl{true, "hooks.example.com", 443, "/deploys"}));
    EXPECT_EQ(ok("http://gate.internal:8080/approve?pool=green&x=%2F"),
              (HttpUrl{false, "gate.internal", 8080, "/approve?pool=green&x=%2F"}));
    EXPECT_EQ(ok("HTTPS://h"), (HttpUrl{true, "h", 443, "/"}));
    EXPECT_EQ(ok("http://h?q=1"), (HttpUrl{false, "h", 80, "/?q=1"}));
    EXPECT_EQ(ok("http://127.0.0.1:9/"), (HttpUrl{false, "127.0.0.1", 9, "/"}));
    EXPECT_EQ(ok("http://[::1]:65535/a"), (HttpUrl{false, "::1", 65535, "/a"}));
    EXPECT_EQ(ok("https://[2001:db8::1]"), (HttpUrl{true, "2001:db8::1", 443, "/"}));
    EXPECT_EQ(ok("https://hooks.slack.com/services/T000/B000/XXXX"),
              (HttpUrl{true, "hooks.slack.com", 443, "/services/T000/B000/XXXX"}));
}

TEST(HttpUrl, RefusesWhatCannotBeSent) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", "expected http:// or https://"},
        {"hooks.example.com/x", "expected http:// or https://"},
        {"ftp://h/x", "scheme \"ftp\" is not http or https"},
        {"https://", "no host"},
        {"https:///path", "no host"},
        {"https://:80/", "no host"},
        {"https://user:pw@h/", "credentials (user@) in the URL are not supported"},
        {"https://h:/", "empty port"},
        {"https://h:0/", "invalid port \"0\" (1 to 65535)"},
        {"https://h:65536/", "invalid port \"65536\" (1 to 65535)"},
        {"https://h:8o/", "invalid port \"8o\" (1 to 65535)"},
        {"https://h:+80/", "invalid port \"+80\" (1 to 65535)"},
        {"https://bad_host!/", "invalid host \"bad_host!\""},
        {"https://1.2.3/", "invalid host \"1.2.3\""},
        {"https://[::1/", "unclosed '[' in the host"},
        {"https://[::1]x/", "expected ':' and a port after ']'"},
        {"https://[1.2.3.4]/", "invalid IPv6 address in brackets"},
        {"https://h/a b", "character not allowed in a URL path or query (escape it as %XX)"},
        {"https://h/\xc3\xa9", "character not allowed in a URL path or query (escape it as %XX)"},
        {"https://h/a%2", "'%' not followed by two hex digits"},
        {"https://h/a%zz", "'%' not followed by two hex digits"},
        {"https://h/a#top", "a fragment (#...) is never sent; remove it"},
    };
    for (const auto& [text, why] : cases)
        EXPECT_EQ(parse_http_url(text).error, why) << text;
}

}  // namespace
}  // namespace switchyard

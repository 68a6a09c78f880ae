#include "switchyard/http/shadow_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::http {
namespace {

std::string shadow(std::string_view head, std::string_view suffix = "-shadow") {
    std::string out;
    EXPECT_TRUE(write_shadow_head(head, suffix, out)) << head;
    return out;
}

TEST(ShadowHead, MarksTheCopyAndSuffixesTheHostName) {
    EXPECT_EQ(shadow("GET /a?b=1 HTTP/1.1\r\nHost: app.example\r\nX-Request-Id: r1\r\n\r\n"),
              "GET /a?b=1 HTTP/1.1\r\nHost: app.example-shadow\r\nX-Request-Id: r1\r\n"
              "X-Switchyard-Shadow: 1\r\n\r\n");
    // Before the port; any case of the name; the rest of the fields as they were.
    EXPECT_EQ(shadow("POST / HTTP/1.1\r\nhOST:app:8080 \r\nContent-Length: 2\r\n\r\n"),
              "POST / HTTP/1.1\r\nhOST: app-shadow:8080\r\nContent-Length: 2\r\n"
              "X-Switchyard-Shadow: 1\r\n\r\n");
}

TEST(ShadowHead, IpLiteralsAndAnEmptySuffixKeepTheHost) {
    EXPECT_EQ(shadow("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"),
              "GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\nX-Switchyard-Shadow: 1\r\n\r\n");
    EXPECT_EQ(shadow("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
              "GET / HTTP/1.1\r\nHost: [::1]:80\r\nX-Switchyard-Shadow: 1\r\n\r\n");
    EXPECT_EQ(shadow("GET / HTTP/1.1\r\nHost: app\r\n\r\n", ""),
              "GET / HTTP/1.1\r\nHost: app\r\nX-Switchyard-Shadow: 1\r\n\r\n");
    // A name that only looks like an address is a name.
    EXPECT_EQ(shadow("GET / HTTP/1.1\r\nHost: 10.0.0.1.example\r\n\r\n"),
              "GET / HTTP/1.1\r\nHost: 10.0.0.1.example-shadow\r\nX-Switchyard-Shadow: 1\r\n\r\n");
}

TEST(ShadowHead, NoHostAndNotAHead) {
    EXPECT_EQ(shadow("GET / HTTP/1.0\r\n\r\n"), "GET / HTTP/1.0\r\nX-Switchyard-Shadow: 1\r\n\r\n");
    std::string out;
    EXPECT_FALSE(write_shadow_head("GET / HTTP/1.1\r\nHost: a\r\n", "-s", out));
    EXPECT_FALSE(write_shadow_head("", "-s", out));
}

}  // namespace
}  // namespace switchyard::http

#include "switchyard/core/diff_route.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

std::string route(std::string_view target, const std::vector<std::string>& patterns = {}) {
    return diff_route(target, patterns);
}

TEST(DiffRoute, FirstTwoSegmentsWithoutPatterns) {
    EXPECT_EQ(route("/api/users/42?x=1"), "/api/users");
    EXPECT_EQ(route("/api/users/42/orders"), "/api/users");
    EXPECT_EQ(route("/api/users"), "/api/users");
    EXPECT_EQ(route("/api/users/"), "/api/users");
    EXPECT_EQ(route("/api/"), "/api/");
    EXPECT_EQ(route("/health"), "/health");
    EXPECT_EQ(route("/health?verbose"), "/health");
    EXPECT_EQ(route("/"), "/");
    EXPECT_EQ(route("/?a=b"), "/");
    EXPECT_EQ(route(""), "/");
    EXPECT_EQ(route("?a=b"), "/");
    EXPECT_EQ(route("//a/b"), "//a");  // raw: an empty first segment is a segment
}

TEST(DiffRoute, QueryAndFragmentAreDropped) {
    EXPECT_EQ(route("/a/b/c#frag"), "/a/b");
    EXPECT_EQ(route("/a#x/y/z"), "/a");
    EXPECT_EQ(route("/a?x=/y/z"), "/a");
    EXPECT_EQ(diff_route_path("/a/b?c#d"), "/a/b");
}

TEST(DiffRoute, PercentEncodingIsComparedRaw) {
    EXPECT_EQ(route("/api%2Fusers/42/x"), "/api%2Fusers/42");
    EXPECT_EQ(route("/API/Users/1"), "/API/Users");
    const std::vector<std::string> patterns = {"/api/users/*"};
    EXPECT_EQ(route("/api/us%65rs/1", patterns), "/api/us%65rs");
    EXPECT_EQ(route("/api/users/%34%32", patterns), "/api/users/*");
}

TEST(DiffRoute, AbsoluteFormIsReducedToItsPath) {
    EXPECT_EQ(diff_route_path("http://example.com/a/b/c?q"), "/a/b/c");
    EXPECT_EQ(route("http://example.com/a/b/c?q"), "/a/b");
    EXPECT_EQ(route("https://example.com:8443"), "/");
    EXPECT_EQ(route("http://example.com?x=/a/b"), "/");
    EXPECT_EQ(route("*"), "/");
    EXPECT_EQ(route("example.com:443"), "/");
}

TEST(DiffRoute, StarMatchesExactlyOneSegment) {
    const std::vector<std::string> patterns = {"/api/users/*"};
    EXPECT_EQ(route("/api/users/42", patterns), "/api/users/*");
    EXPECT_EQ(route("/api/users/42?full=1", patterns), "/api/users/*");
    EXPECT_EQ(route("/api/users/", patterns), "/api/users/*");  // one empty segment
    // Zero or two segments do not match: the default rule applies.
    EXPECT_EQ(route("/api/users", patterns), "/api/users");
    EXPECT_EQ(route("/api/users/42/orders", patterns), "/api/users");
    EXPECT_EQ(route("/api/orders/42", patterns), "/api/orders");
}

TEST(DiffRoute, StarInTheMiddle) {
    const std::vector<std::string> patterns = {"/api/*/orders"};
    EXPECT_EQ(route("/api/7/orders", patterns), "/api/*/orders");
    EXPECT_EQ(route("/api/7/orders/", patterns), "/api/7");
    EXPECT_EQ(route("/api/7/invoices", patterns), "/api/7");
}

TEST(DiffRoute, TrailingDoubleStarMatchesTheRestAlsoNothing) {
    const std::vector<std::string> patterns = {"/static/**"};
    EXPECT_EQ(route("/static", patterns), "/static/**");
    EXPECT_EQ(route("/static/", patterns), "/static/**");
    EXPECT_EQ(route("/static/css/site.css", patterns), "/static/**");
    EXPECT_EQ(route("/statics/a", patterns), "/statics/a");
    EXPECT_EQ(route("/", std::vector<std::string>{"/**"}), "/**");
    EXPECT_EQ(route("/a/b/c", std::vector<std::string>{"/**"}), "/**");
}

TEST(DiffRoute, DoubleStarElsewhereAndPartialStarsAreLiterals) {
    EXPECT_FALSE(diff_route_matches("/a/**/c", "/a/b/c"));
    EXPECT_TRUE(diff_route_matches("/a/**/c", "/a/**/c"));
    EXPECT_FALSE(diff_route_matches("/a/b*", "/a/bc"));
    EXPECT_TRUE(diff_route_matches("/a/b*", "/a/b*"));
}

TEST(DiffRoute, LiteralPatternsMatchExactly) {
    EXPECT_TRUE(diff_route_matches("/", "/"));
    EXPECT_FALSE(diff_route_matches("/", "/a"));
    EXPECT_TRUE(diff_route_matches("/a/b", "/a/b"));
    EXPECT_FALSE(diff_route_matches("/a/b", "/a/b/"));
    EXPECT_FALSE(diff_route_matches("/a/b", "/a"));
    EXPECT_FALSE(diff_route_matches("/a/b", "/A/b"));
    EXPECT_FALSE(diff_route_matches("a/b", "/a/b"));  // a pattern starts with '/'
    EXPECT_FALSE(diff_route_matches("", "/"));
}

TEST(DiffRoute, TheFirstMatchingPatternWins) {
    const std::vector<std::string> patterns = {"/api/users/me", "/api/users/*", "/api/**"};
    EXPECT_EQ(route("/api/users/me", patterns), "/api/users/me");
    EXPECT_EQ(route("/api/users/7", patterns), "/api/users/*");
    EXPECT_EQ(route("/api/users/7/x", patterns), "/api/**");
    EXPECT_EQ(route("/web/x/y", patterns), "/web/x");
}

}  // namespace
}  // namespace switchyard

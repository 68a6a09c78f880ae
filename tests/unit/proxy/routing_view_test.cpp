#include "switchyard/proxy/routing_view.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace switchyard::proxy {
namespace {

using http::bhttp::field;

http::HeaderField unknown(std::string_view name, std::string_view value) {
    return {field::unknown, name, value};
}

TEST(RoutingView, CookiesInOrderUpToTheStorage) {
    RoutingState state;
    std::vector<http::HeaderField> fields{{field::cookie, "Cookie", "a=1"},
                                          {field::host, "Host", "x"},
                                          {field::cookie, "cookie", "sy_uid=u7"},
                                          {field::cookie, "Cookie", "c=3"}};
    std::array<std::string_view, 2> storage{};
    RequestView v = routing_view(fields, state, storage);
    ASSERT_EQ(v.cookies.size(), 2u);
    EXPECT_EQ(v.cookies[0], "a=1");
    EXPECT_EQ(v.cookies[1], "sy_uid=u7");
    EXPECT_TRUE(v.sticky_header.empty());
    EXPECT_TRUE(v.override_pool.empty());
}

TEST(RoutingView, StickyHeaderOnlyWhenItIsTheSource) {
    RoutingState state;
    state.sticky.source = StickySource::header;
    state.sticky.name = "X-User";
    std::vector<http::HeaderField> fields{unknown("x-user", "alice")};
    std::array<std::string_view, 4> storage{};
    EXPECT_EQ(routing_view(fields, state, storage).sticky_header, "alice");
    state.sticky.source = StickySource::cookie;
    EXPECT_TRUE(routing_view(fields, state, storage).sticky_header.empty());
}

TEST(RoutingView, OverrideHeaderWithAndWithoutToken) {
    RoutingState state;
    state.override_header = "X-Switchyard-Pool";
    std::array<std::string_view, 4> storage{};
    std::vector<http::HeaderField> plain{unknown("X-SWITCHYARD-POOL", " green ")};
    RequestView v = routing_view(plain, state, storage);
    EXPECT_EQ(v.override_pool, "green");
    EXPECT_TRUE(v.override_token.empty());
    std::vector<http::HeaderField> with_token{unknown("x-switchyard-pool", "green ; token=s3cret")};
    v = routing_view(with_token, state, storage);
    EXPECT_EQ(v.override_pool, "green");
    EXPECT_EQ(v.override_token, "s3cret");
    std::vector<http::HeaderField> other_param{unknown("x-switchyard-pool", "green; q=1")};
    EXPECT_TRUE(routing_view(other_param, state, storage).override_token.empty());
}

TEST(RoutingView, OverridesOffIgnoreTheHeader) {
    RoutingState state;  // override_header empty
    std::vector<http::HeaderField> fields{unknown("X-Switchyard-Pool", "green")};
    std::array<std::string_view, 4> storage{};
    EXPECT_TRUE(routing_view(fields, state, storage).override_pool.empty());
}

}  // namespace
}  // namespace switchyard::proxy

#include "switchyard/core/cookie.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

std::optional<std::string_view> find(std::vector<std::string_view> fields, std::string_view name) {
    return find_cookie(fields, name);
}

TEST(Cookie, FindsOneAmongSeveral) {
    EXPECT_EQ(find({"a=1; sy_uid=abc; b=2"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"sy_uid=abc"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"a=1; b=2; sy_uid=last"}, "sy_uid"), "last");
    EXPECT_EQ(find({"a=1; b=2"}, "a"), "1");
}

TEST(Cookie, SearchesEveryCookieLineInOrder) {
    EXPECT_EQ(find({"a=1; b=2", "c=3; sy_uid=x"}, "sy_uid"), "x");
    EXPECT_EQ(find({"sy_uid=first", "sy_uid=second"}, "sy_uid"), "first");
    EXPECT_EQ(find({"", "sy_uid=x"}, "sy_uid"), "x");
}

TEST(Cookie, FirstMatchWins) {
    EXPECT_EQ(find({"sy_uid=1; sy_uid=2"}, "sy_uid"), "1");
}

TEST(Cookie, Missing) {
    EXPECT_EQ(find({}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({""}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({"a=1; b=2"}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({"sy_uid=1"}, ""), std::nullopt);  // an empty name is no cookie
    EXPECT_EQ(find({"=1"}, ""), std::nullopt);
}

TEST(Cookie, NamesMatchExactly) {
    EXPECT_EQ(find({"sy_uidx=1"}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({"xsy_uid=1"}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({"sy_uidx=1; sy_uid=2"}, "sy_uid"), "2");
    EXPECT_EQ(find({"SY_UID=1"}, "sy_uid"), std::nullopt);  // case-sensitive
    EXPECT_EQ(find({"sy=1"}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({"a=sy_uid=1"}, "sy_uid"), std::nullopt);  // a value, not a name
    EXPECT_EQ(find({"a=sy_uid=1"}, "a"), "sy_uid=1");         // value runs to ';'
}

TEST(Cookie, EmptyValueIsPresent) {
    EXPECT_EQ(find({"sy_uid="}, "sy_uid"), "");
    EXPECT_EQ(find({"sy_uid=; b=2"}, "sy_uid"), "");
    EXPECT_EQ(find({"sy_uid=\"\""}, "sy_uid"), "");
}

TEST(Cookie, QuotedValuesLoseTheirQuotes) {
    EXPECT_EQ(find({"sy_uid=\"abc\""}, "sy_uid"), "abc");
    EXPECT_EQ(find({"a=1; sy_uid=\"abc\"; b=2"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"sy_uid=\"abc"}, "sy_uid"), "\"abc");  // unbalanced: kept as is
    EXPECT_EQ(find({"sy_uid=\""}, "sy_uid"), "\"");
}

TEST(Cookie, WhitespaceAroundPairsIsTrimmed) {
    EXPECT_EQ(find({"  sy_uid=abc  "}, "sy_uid"), "abc");
    EXPECT_EQ(find({"a=1;sy_uid=abc;b=2"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"a=1 ;\t sy_uid = abc\t; b=2"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"sy_uid=a b"}, "sy_uid"), "a b");  // inside a value: kept
}

TEST(Cookie, MalformedPairsAreSkipped) {
    EXPECT_EQ(find({"garbage; sy_uid=abc"}, "sy_uid"), "abc");
    EXPECT_EQ(find({";;; ; sy_uid=abc;;"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"=novalue; sy_uid=abc"}, "sy_uid"), "abc");
    EXPECT_EQ(find({"sy_uid; sy_uid=abc"}, "sy_uid"), "abc");  // no '=': not the cookie
    EXPECT_EQ(find({"sy_uid"}, "sy_uid"), std::nullopt);
    EXPECT_EQ(find({";"}, "sy_uid"), std::nullopt);
}

TEST(Cookie, BigHeaderIsSearchedToTheEnd) {
    std::string big;
    while (big.size() < 8 * 1024)
        big += "c" + std::to_string(big.size()) + "=" + std::string(50, 'v') + "; ";
    big += "sy_uid=found";
    ASSERT_GT(big.size(), 8u * 1024);
    EXPECT_EQ(find({big}, "sy_uid"), "found");
    EXPECT_EQ(find({big}, "sy_uidx"), std::nullopt);
    std::string one(8 * 1024, 'x');  // a single 8 KiB malformed pair
    EXPECT_EQ(find({one, "sy_uid=1"}, "sy_uid"), "1");
}

TEST(Cookie, AnswerIsAViewIntoTheInput) {
    const std::string field = "a=1; sy_uid=abc";
    std::vector<std::string_view> fields{field};
    const auto v = find_cookie(fields, "sy_uid");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->data(), field.data() + 12);
}

TEST(Cookie, AssignmentCookie) {
    auto cookie = [](std::string_view name, std::string_view value, std::int64_t max_age,
                     bool secure) {
        std::string out = "Set-Cookie: ";  // appended after what is there
        append_assign_cookie(out, name, value, max_age, secure);
        return out;
    };
    EXPECT_EQ(cookie("sy_uid", "0123abcd", 2592000, false),
              "Set-Cookie: sy_uid=0123abcd; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax");
    EXPECT_EQ(cookie("sy_uid", "0123abcd", 60, true),
              "Set-Cookie: sy_uid=0123abcd; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    EXPECT_EQ(cookie("other", "v", 0, false),
              "Set-Cookie: other=v; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

}  // namespace
}  // namespace switchyard

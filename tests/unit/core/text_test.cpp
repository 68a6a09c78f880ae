#include "switchyard/core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

TEST(Text, TcharIsExactlyTheRfcSet) {
    const std::string_view punct = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool expected = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                              (c >= 'A' && c <= 'Z') || (c != 0 && punct.find(ch) != punct.npos);
        EXPECT_EQ(is_tchar(ch), expected) << "byte " << c;
    }
}

TEST(Text, IsToken) {
    EXPECT_TRUE(is_token("GET"));
    EXPECT_TRUE(is_token("x-y_z.1~!"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token("a,b"));
    EXPECT_FALSE(is_token("\"a\""));
    EXPECT_FALSE(is_token("a\x80"));
    EXPECT_FALSE(is_token(std::string_view("a\0b", 3)));
    EXPECT_FALSE(is_token("(x)"));
    static_assert(is_token("Content-Length"));
}

TEST(Text, Iequals) {
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Host", "Hosts"));
    EXPECT_FALSE(iequals("a-", "A_"));
    // A naive `c | 0x20` fold would equate these pairs.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_FALSE(iequals("\xc0", "\xe0"));
    static_assert(iequals("Chunked", "chunked"));
}

TEST(Text, AsciiLowerTouchesOnlyAToZ) {
    EXPECT_EQ(ascii_lower('A'), 'a');
    EXPECT_EQ(ascii_lower('Z'), 'z');
    EXPECT_EQ(ascii_lower('a'), 'a');
    EXPECT_EQ(ascii_lower('@'), '@');
    EXPECT_EQ(ascii_lower('['), '[');
    EXPECT_EQ(ascii_lower('\xc0'), '\xc0');
}

TEST(Text, TrimOws) {
    EXPECT_EQ(trim_ows(" \t a b \t"), "a b");
    EXPECT_EQ(trim_ows(""), "");
    EXPECT_EQ(trim_ows(" \t "), "");
    EXPECT_EQ(trim_ows("x"), "x");
    EXPECT_EQ(trim_ows("\ra\r"), "\ra\r");  // CR is not OWS
}

TEST(Text, AppendNumber) {
    std::string out = "n=";
    append_number(out, 0);
    out += ',';
    append_number(out, 42);
    out += ',';
    append_number(out, 18446744073709551615ULL);
    EXPECT_EQ(out, "n=0,42,18446744073709551615");
}

TEST(Utf8, SequenceLengthOfEachWellFormedShape) {
    EXPECT_EQ(utf8_sequence_length("a"), 1u);
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);          // é
    EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac"), 3u);      // €
    EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80"), 4u);  // U+1F600
    EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9rest"), 2u);      // only the first
}

TEST(Utf8, IllFormedSequencesHaveNoLength) {
    for (const std::string& bad : {
             std::string(),                    // empty
             std::string("\x80"),              // stray continuation byte
             std::string("\xc0\xaf"),          // overlong '/'
             std::string("\xc1\xbf"),          // overlong
             std::string("\xe0\x80\xaf"),      // overlong, 3 bytes
             std::string("\xed\xa0\x80"),      // surrogate U+D800
             std::string("\xf0\x80\x80\xaf"),  // overlong, 4 bytes
             std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
             std::string("\xf5\x80\x80\x80"),  // no such lead byte
             std::string("\xe2\x82"),          // cut short
             std::string("\xc3"
                         "a"),  // continuation missing
         }) {
        EXPECT_EQ(utf8_sequence_length(bad), 0u) << testing::PrintToString(bad);
    }
}

TEST(Utf8, WholeStrings) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("switch green"));
    EXPECT_TRUE(is_valid_utf8("/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("sw\xffitch"));
    EXPECT_FALSE(is_valid_utf8("ends cut \xe2\x82"));
    EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));
}

}  // namespace
}  // namespace switchyard

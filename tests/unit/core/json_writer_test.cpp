#include "switchyard/core/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace switchyard {
namespace {

std::string escaped(std::string_view s) {
    std::string out;
    append_json_escaped(out, s);
    return out;
}

std::string fixed(double v, int decimals) {
    std::string out;
    JsonWriter(out).number_fixed(v, decimals);
    return out;
}

TEST(JsonEscaping, Ascii) {
    EXPECT_EQ(escaped("GET /a/b?c=d&e=f"), "GET /a/b?c=d&e=f");
    EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
    // Control characters (C0 and DEL) never appear raw.
    EXPECT_EQ(escaped(std::string_view("\n\r\t\x01\x1f\x7f\0", 7)),
              "\\u000a\\u000d\\u0009\\u0001\\u001f\\u007f\\u0000");
    EXPECT_EQ(escaped(""), "");
}

TEST(JsonEscaping, ValidUtf8IsKeptAsIs) {
    EXPECT_EQ(escaped("/caf\xc3\xa9"), "/caf\xc3\xa9");                          // 2 bytes: é
    EXPECT_EQ(escaped("/\xe2\x82\xac"), "/\xe2\x82\xac");                        // 3 bytes: €
    EXPECT_EQ(escaped("/\xf0\x9f\x98\x80/"), "/\xf0\x9f\x98\x80/");              // 4 bytes: U+1F600
    EXPECT_EQ(escaped("\xc2\xa0\xdf\xbf"), "\xc2\xa0\xdf\xbf");                  // U+00A0, U+07FF
    EXPECT_EQ(escaped("\xe0\xa0\x80\xef\xbf\xbf"), "\xe0\xa0\x80\xef\xbf\xbf");  // U+0800, U+FFFF
    EXPECT_EQ(escaped("\xed\x9f\xbf\xee\x80\x80"),
              "\xed\x9f\xbf\xee\x80\x80");  // around surrogates
    EXPECT_EQ(escaped("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
              "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");  // U+10000, U+10FFFF
    EXPECT_EQ(escaped("\"\xc3\xa9\""), "\\\"\xc3\xa9\\\"");
}

TEST(JsonEscaping, C1ControlsAreEscapedAsTheirCodePoint) {
    EXPECT_EQ(escaped("a\xc2\x80\xc2\x9b"
                      "b\xc2\x9f"),
              "a\\u0080\\u009bb\\u009f");
}

// Every byte that is not part of a well-formed UTF-8 sequence becomes one
// U+FFFD (written \ufffd); the bytes after it are read afresh.
TEST(JsonEscaping, InvalidUtf8BytesBecomeOneReplacementCharacterEach) {
    const std::string r = "\\ufffd";
    EXPECT_EQ(escaped("\x80"), r);  // stray continuation byte
    EXPECT_EQ(escaped("a\xbf"
                      "b"),
              "a" + r + "b");
    EXPECT_EQ(escaped("\xff\xfe"), r + r);  // never in UTF-8
    EXPECT_EQ(escaped("/caf\xc3"), "/caf" + r);
    EXPECT_EQ(escaped("\xe2\x82"
                      "A"),
              r + r + "A");
    EXPECT_EQ(escaped("\xf0\x9f\x98"), r + r + r);
    EXPECT_EQ(escaped("\xc3\xc3\xa9"), r + "\xc3\xa9");  // a lead byte then a valid é
    EXPECT_EQ(escaped("\xc0\xaf"), r + r);               // overlong '/'
    EXPECT_EQ(escaped("\xe0\x80\xaf"), r + r + r);
    EXPECT_EQ(escaped("\xf0\x80\x80\xaf"), r + r + r + r);
    EXPECT_EQ(escaped("\xed\xa0\x80"), r + r + r);          // surrogate U+D800
    EXPECT_EQ(escaped("\xf4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
}

TEST(JsonEscaping, AppendsToWhatIsThere) {
    std::string out = "x=";
    append_json_escaped(out, "\"");
    EXPECT_EQ(out, "x=\\\"");
}

// The fast path reads eight bytes at a time: a byte that needs escaping
// is found at every position of a word and of the tail, whatever the
// string's length.
TEST(JsonEscaping, EveryPositionOfEveryLengthIsChecked) {
    const std::string specials[] = {"\"",   "\\",       std::string(1, '\0'), "\x1f", "\x7f",
                                    "\x80", "\xc3\xa9", "\xc2\x85",           "\xff"};
    const std::string expected[] = {"\\\"",    "\\\\",     "\\u0000", "\\u001f", "\\u007f",
                                    "\\ufffd", "\xc3\xa9", "\\u0085", "\\ufffd"};
    for (std::size_t len = 0; len <= 24; ++len) {
        const std::string plain(len, 'a');
        EXPECT_EQ(escaped(plain), plain);
        for (std::size_t at = 0; at <= len; ++at)
            for (std::size_t k = 0; k < std::size(specials); ++k) {
                const std::string in = plain.substr(0, at) + specials[k] + plain.substr(at);
                EXPECT_EQ(escaped(in), plain.substr(0, at) + expected[k] + plain.substr(at))
                    << "length " << len << ", at " << at << ", special " << k;
            }
    }
    // Bytes next to the boundaries of the word tests: space, '~', '!' and '#'.
    EXPECT_EQ(escaped(" ~!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}"),
              " ~!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}");
}

TEST(JsonWriter, LiteralAndComputedKeys) {
    std::string out;
    const std::string pool = "we\"ird";
    JsonWriter(out).begin_object().key("fixed").number(1).key(pool).number(2).end_object();
    EXPECT_EQ(out, R"({"fixed":1,"we\"ird":2})");
}

TEST(JsonWriter, ObjectsArraysAndCommas) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("ok").boolean(true);
    w.key("n").number(-3);
    w.key("big").number(std::numeric_limits<std::uint64_t>::max());
    w.key("none").null();
    w.key("list").begin_array();
    w.number(1).string("two").begin_object().end_object().begin_array().end_array();
    w.end_array();
    w.key("empty").begin_object().end_object();
    w.key("raw").raw("{\"a\":1}");
    w.end_object();
    EXPECT_EQ(out,
              "{\"ok\":true,\"n\":-3,\"big\":18446744073709551615,\"none\":null,"
              "\"list\":[1,\"two\",{},[]],\"empty\":{},\"raw\":{\"a\":1}}");
}

TEST(JsonWriter, KeysAndStringsAreEscaped) {
    std::string out;
    JsonWriter(out)
        .begin_object()
        .key("a\"b")
        .string("line\nbreak \xff")
        .key("")
        .string("")
        .end_object();
    EXPECT_EQ(out, "{\"a\\\"b\":\"line\\u000abreak \\ufffd\",\"\":\"\"}");
}

TEST(JsonWriter, StringOrNull) {
    std::string out;
    JsonWriter(out).begin_array().string_or_null("").string_or_null("blue").end_array();
    EXPECT_EQ(out, "[null,\"blue\"]");
}

TEST(JsonWriter, AppendsAfterWhatTheBufferHolds) {
    // An access-log batch holds earlier lines; the writer only appends.
    std::string out = "{\"a\":1}\n";
    JsonWriter(out).begin_object().key("b").number(2u).end_object();
    EXPECT_EQ(out, "{\"a\":1}\n{\"b\":2}");
}

TEST(JsonWriter, FixedDecimals) {
    EXPECT_EQ(fixed(12.5, 2), "12.50");
    EXPECT_EQ(fixed(0, 2), "0.00");
    EXPECT_EQ(fixed(-0.0, 2), "0.00");
    EXPECT_EQ(fixed(100, 2), "100.00");
    EXPECT_EQ(fixed(1.2345, 3), "1.234");  // 1.2345 is 1.23449999... as a double
    EXPECT_EQ(fixed(2.0005, 3), "2.001");  // 2.00050000000000016698
    EXPECT_EQ(fixed(-1.5, 1), "-1.5");
    EXPECT_EQ(fixed(7.6, 0), "8");
    EXPECT_EQ(fixed(1e20, 1), "100000000000000000000.0");
    EXPECT_EQ(fixed(std::nan(""), 2), "null");
    EXPECT_EQ(fixed(std::numeric_limits<double>::infinity(), 2), "null");
    EXPECT_EQ(fixed(std::numeric_limits<double>::max(), 0).size(), 309u);
}

// A weight in basis points divided by 100 prints its exact two decimals for
// every weight there is: the replies' "weight":12.34.
TEST(JsonWriter, EveryBasisPointWeightPrintsExactly) {
    for (unsigned bp = 0; bp <= 10000; ++bp) {
        char expected[16];
        std::snprintf(expected, sizeof expected, "%u.%02u", bp / 100, bp % 100);
        ASSERT_EQ(fixed(bp / 100.0, 2), expected) << bp;
    }
}

// The load tool's summary printed milliseconds with "%.3f": the same digits.
TEST(JsonWriter, FixedDecimalsMatchPrintf) {
    for (std::uint64_t us = 0; us < 200000; us += 7) {
        const double ms = static_cast<double>(us) / 1000.0;
        char expected[32];
        std::snprintf(expected, sizeof expected, "%.3f", ms);
        ASSERT_EQ(fixed(ms, 3), expected) << us;
    }
    for (double v : {0.05, 0.15, 0.25, 1234.5678, 99999.95, 1e-7, 123456789.123}) {
        char expected[64];
        std::snprintf(expected, sizeof expected, "%.1f", v);
        EXPECT_EQ(fixed(v, 1), expected) << v;
    }
}

std::string millis(std::int64_t us) {
    std::string out = "x";
    append_json_millis(out, us);
    return out.substr(1);
}

TEST(JsonWriter, MicrosecondsAsMillis) {
    EXPECT_EQ(millis(0), "0.000");
    EXPECT_EQ(millis(1), "0.001");
    EXPECT_EQ(millis(250), "0.250");
    EXPECT_EQ(millis(1500), "1.500");
    EXPECT_EQ(millis(1234567), "1234.567");
    EXPECT_EQ(millis(-5), "-0.005");
    EXPECT_EQ(millis(-1000), "-1.000");
    EXPECT_EQ(millis(std::numeric_limits<std::int64_t>::max()), "9223372036854775.807");
    EXPECT_EQ(millis(std::numeric_limits<std::int64_t>::min()), "-9223372036854775.808");
}

// The same digits as the fixed form of the same duration as a double (what
// the access log printed before).
TEST(JsonWriter, MillisMatchTheFixedForm) {
    for (std::int64_t us = 0; us < 3000000; us += 997)
        ASSERT_EQ(millis(us), fixed(static_cast<double>(us) / 1000.0, 3)) << us;
}

}  // namespace
}  // namespace switchyard

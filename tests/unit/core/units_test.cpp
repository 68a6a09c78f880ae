#include "switchyard/core/units.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace switchyard {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnit) {
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
    EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
    EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
    EXPECT_EQ(parse_duration("30d"), milliseconds(2'592'000'000LL));
}

TEST(ParseDuration, AcceptsZeroWithAndWithoutUnit) {
    EXPECT_EQ(parse_duration("0"), milliseconds(0));
    EXPECT_EQ(parse_duration("0s"), milliseconds(0));
    EXPECT_EQ(parse_duration("0ms"), milliseconds(0));
    EXPECT_EQ(parse_duration("00"), milliseconds(0));
}

TEST(ParseDuration, AcceptsLeadingZeros) {
    EXPECT_EQ(parse_duration("007s"), milliseconds(7000));
}

TEST(ParseDuration, RejectsMissingUnitForNonZero) {
    EXPECT_EQ(parse_duration("30"), std::nullopt);
    EXPECT_EQ(parse_duration("1"), std::nullopt);
}

TEST(ParseDuration, RejectsMalformed) {
    for (const char* bad : {"", "s", "ms", "-5s", "+5s", " 5s", "5s ", "5 s", "1.5s", "5S", "5sec",
                            "5us", "5ns", "1h30m", "5w", "5y", "0x10s", "5mss", "s5"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << '"' << bad << '"';
    }
}

TEST(ParseDuration, RejectsOverflow) {
    // int64 max ms is ~106 751 991 167 days.
    EXPECT_EQ(parse_duration("9223372036854775807ms"),
              milliseconds(std::numeric_limits<long long>::max()));
    EXPECT_EQ(parse_duration("9223372036854775808ms"), std::nullopt);
    EXPECT_EQ(parse_duration("106751991167d"), milliseconds(106751991167LL * 86'400'000LL));
    EXPECT_EQ(parse_duration("106751991168d"), std::nullopt);
    EXPECT_EQ(parse_duration("99999999999999999999999s"), std::nullopt);
}

TEST(ParseSize, AcceptsUnitsAndPlainBytes) {
    EXPECT_EQ(parse_size("64KiB"), 65'536u);
    EXPECT_EQ(parse_size("8KiB"), 8'192u);
    EXPECT_EQ(parse_size("1MiB"), 1'048'576u);
    EXPECT_EQ(parse_size("2GiB"), 2'147'483'648ULL);
    EXPECT_EQ(parse_size("1TiB"), 1'099'511'627'776ULL);
    EXPECT_EQ(parse_size("1024"), 1'024u);
    EXPECT_EQ(parse_size("512B"), 512u);
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("0KiB"), 0u);
}

TEST(ParseSize, RejectsMalformed) {
    for (const char* bad : {"", "KiB", "-1", "+1", " 1", "1 ", "64 KiB", "1.5MiB", "64KB", "64kib",
                            "64K", "64k", "1MB", "1GB", "1b", "64KiBs", "0x10", "1e3"}) {
        EXPECT_EQ(parse_size(bad), std::nullopt) << '"' << bad << '"';
    }
}

TEST(ParseSize, RejectsOverflow) {
    EXPECT_EQ(parse_size("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
    EXPECT_EQ(parse_size("16777215TiB"), 16'777'215ULL << 40);
    EXPECT_EQ(parse_size("16777216TiB"), std::nullopt);
    EXPECT_EQ(parse_size("17179869184GiB"), std::nullopt);
}

TEST(FormatDuration, PicksTheLargestExactUnit) {
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
    EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
    EXPECT_EQ(format_duration(milliseconds(30'000)), "30s");
    EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
    EXPECT_EQ(format_duration(milliseconds(300'000)), "5m");
    EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
    EXPECT_EQ(format_duration(milliseconds(2'592'000'000LL)), "30d");
    EXPECT_EQ(format_duration(milliseconds(-5000)), "-5s");
}

TEST(FormatDuration, RoundTrips) {
    for (long long ms : {1LL, 999LL, 1000LL, 61'000LL, 7'200'000LL, 90'000'000LL, 864'000'000LL}) {
        auto text = format_duration(milliseconds(ms));
        EXPECT_EQ(parse_duration(text), milliseconds(ms)) << text;
    }
}

TEST(FormatSize, PicksTheLargestExactUnit) {
    EXPECT_EQ(format_size(0), "0");
    EXPECT_EQ(format_size(1), "1B");
    EXPECT_EQ(format_size(1536), "1536B");
    EXPECT_EQ(format_size(65'536), "64KiB");
    EXPECT_EQ(format_size(1'048'576), "1MiB");
    EXPECT_EQ(format_size(3ULL << 30), "3GiB");
    EXPECT_EQ(format_size(1ULL << 40), "1TiB");
}

TEST(FormatSize, RoundTrips) {
    for (std::uint64_t n : {std::uint64_t{1}, std::uint64_t{1023}, std::uint64_t{4096},
                            std::uint64_t{5} << 20, std::numeric_limits<std::uint64_t>::max()}) {
        auto text = format_size(n);
        EXPECT_EQ(parse_size(text), n) << text;
    }
}

TEST(ParseRate, SizePerSecondOrZero) {
    EXPECT_EQ(parse_rate("1KiB/s"), 1024u);
    EXPECT_EQ(parse_rate("500B/s"), 500u);
    EXPECT_EQ(parse_rate("1024/s"), 1024u);
    EXPECT_EQ(parse_rate("2MiB/s"), 2u * 1024 * 1024);
    EXPECT_EQ(parse_rate("0"), 0u);
    EXPECT_EQ(parse_rate("0/s"), 0u);
    for (const char* bad :
         {"", "1KiB", "/s", "1KiB/m", "1KiB/ s", "1 KiB/s", "-1/s", "1kib/s", "1KiB/s ", "0s"})
        EXPECT_EQ(parse_rate(bad), std::nullopt) << '"' << bad << '"';
}

}  // namespace
}  // namespace switchyard

#include "switchyard/core/sticky.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace switchyard {
namespace {

// Keys as a deploy sees them: opaque strings from a seeded generator.
std::vector<std::string> random_keys(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::vector<std::string> keys;
    keys.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        keys.push_back(std::to_string(gen()));
    return keys;
}

TEST(Sticky, GoldenBuckets) {
    // DESIGN.md: every instance and version must agree on these.
    EXPECT_EQ(bucket_of("alice", 0), 9289u);
    EXPECT_EQ(bucket_of("bob", 0), 27u);
    EXPECT_EQ(bucket_of("alice", 7), 7714u);
    EXPECT_EQ(bucket_of("user-42", 7), 3225u);
    EXPECT_EQ(bucket_of("", 12345), 445u);
}

TEST(Sticky, DesignIntegrationNumbers) {
    // The numbers the integration tests rely on: seed 7, keys u0..u1999.
    int below_10 = 0, below_20 = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto b = bucket_of("u" + std::to_string(i), 7);
        below_10 += b < 1000;
        below_20 += b < 2000;
    }
    EXPECT_EQ(below_10, 195);
    EXPECT_EQ(below_20, 385);
}

TEST(Sticky, KeyBytesMatterExactly) {
    // Embedded NULs and case are part of the key.
    EXPECT_NE(bucket_of(std::string_view("a\0b", 3), 0), bucket_of("a", 0));
    EXPECT_EQ(bucket_of(std::string("alice"), 7), 7714u);
}

TEST(Sticky, InCanaryIsBucketBelowWeight) {
    EXPECT_FALSE(in_canary(0, 0));
    EXPECT_TRUE(in_canary(0, 1));
    EXPECT_TRUE(in_canary(999, 1000));
    EXPECT_FALSE(in_canary(1000, 1000));
    EXPECT_TRUE(in_canary(9999, 10000));
}

TEST(Sticky, MonotoneForEveryWholePercent) {
    const auto keys = random_keys(100000, 11);
    std::vector<std::uint32_t> buckets;
    for (const auto& k : keys)
        buckets.push_back(bucket_of(k, 3));
    for (std::uint32_t w = 0; w < 100; ++w) {
        std::size_t moved_back = 0, in_w = 0;
        for (auto b : buckets) {
            in_w += in_canary(b, w * 100);
            if (in_canary(b, w * 100) && !in_canary(b, (w + 1) * 100)) ++moved_back;
        }
        EXPECT_EQ(moved_back, 0u) << "weight " << w;
        if (w == 0) {
            EXPECT_EQ(in_w, 0u);
        }
    }
    for (auto b : buckets)
        EXPECT_TRUE(in_canary(b, 10000));
}

TEST(Sticky, SharesMatchWeights) {
    const auto keys = random_keys(1000000, 42);
    std::vector<std::size_t> below(kBucketCount + 1, 0);  // histogram of buckets
    for (const auto& k : keys)
        ++below[bucket_of(k, 0)];
    for (double percent : {1.0, 5.0, 10.0, 50.0, 90.0}) {
        const auto weight = static_cast<std::uint32_t>(percent * 100);
        std::size_t in = 0;
        for (std::uint32_t b = 0; b < weight; ++b)
            in += below[b];
        const double share = 100.0 * static_cast<double>(in) / static_cast<double>(keys.size());
        EXPECT_NEAR(share, percent, 0.3) << "weight " << percent << "%";
    }
}

TEST(Sticky, DifferentSeedsDecorrelate) {
    // Independent 10 % sets overlap on about 10 % of 10 % of users.
    const auto keys = random_keys(200000, 5);
    std::size_t both = 0, first = 0, second = 0;
    for (const auto& k : keys) {
        const bool a = in_canary(bucket_of(k, 1), 1000);
        const bool b = in_canary(bucket_of(k, 2), 1000);
        first += a;
        second += b;
        both += a && b;
    }
    const double n = static_cast<double>(keys.size());
    EXPECT_NEAR(100.0 * static_cast<double>(first) / n, 10.0, 0.3);
    EXPECT_NEAR(100.0 * static_cast<double>(second) / n, 10.0, 0.3);
    EXPECT_NEAR(100.0 * static_cast<double>(both) / n, 1.0, 0.3);
}

TEST(Sticky, AssignmentIdIsTheRandomBitsInHex) {
    EXPECT_EQ(new_assignment_id(0, 0), std::string(32, '0'));
    EXPECT_EQ(new_assignment_id(0x0123456789abcdefULL, 0xfedcba9876543210ULL),
              "0123456789abcdeffedcba9876543210");
    EXPECT_EQ(new_assignment_id(~0ULL, 1), "ffffffffffffffff0000000000000001");
}

}  // namespace
}  // namespace switchyard

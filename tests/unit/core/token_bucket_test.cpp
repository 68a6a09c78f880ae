#include "switchyard/core/token_bucket.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, ABurstThenTheRate) {
    const Clock::time_point t0{};
    TokenBucket bucket(3, 10, t0);
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_FALSE(bucket.take(t0)) << "the burst is spent";
    EXPECT_FALSE(bucket.take(t0 + milliseconds(50))) << "half a token";
    EXPECT_TRUE(bucket.take(t0 + milliseconds(100))) << "10 per second: one per 100 ms";
    EXPECT_FALSE(bucket.take(t0 + milliseconds(100)));
}

TEST(TokenBucket, AQuietPeriodRefillsUpToTheBurstOnly) {
    const Clock::time_point t0{};
    TokenBucket bucket(2, 100, t0);
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_TRUE(bucket.take(t0));
    const auto later = t0 + std::chrono::hours(1);
    EXPECT_TRUE(bucket.take(later));
    EXPECT_TRUE(bucket.take(later));
    EXPECT_FALSE(bucket.take(later));
    // Time going backwards (another clock's reading) gives nothing.
    EXPECT_FALSE(bucket.take(t0));
}

}  // namespace
}  // namespace switchyard

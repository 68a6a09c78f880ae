#include "switchyard/core/retry_budget.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = RetryBudget::TimePoint;

const TimePoint t0{seconds(1000)};  // on a bucket boundary

void requests(RetryBudget& b, int n, TimePoint now) {
    for (int i = 0; i < n; ++i)
        b.record_request(now);
}

// How many retries are granted at `now` before the first refusal.
int drain(RetryBudget& b, TimePoint now) {
    int granted = 0;
    while (b.try_acquire_retry(now))
        ++granted;
    return granted;
}

RetryBudgetSettings no_minimum(std::uint32_t percent) {
    RetryBudgetSettings s;
    s.percent = percent;
    s.min_retries_per_second = 0;
    return s;
}

TEST(RetryBudget, Defaults) {
    RetryBudget b;
    EXPECT_EQ(b.window(), seconds(10));
    EXPECT_EQ(b.min_retries(), 30u);
    EXPECT_EQ(b.requests(t0), 0u);
    EXPECT_EQ(b.retries(t0), 0u);
    EXPECT_EQ(b.allowance(t0), 30u);
    RetryBudget pool(50);
    EXPECT_EQ(pool.window(), seconds(10));
    EXPECT_EQ(pool.min_retries(), 30u);
}

TEST(RetryBudget, WithoutTrafficTheMinimumStillAllowsRetries) {
    RetryBudget b(20);
    EXPECT_EQ(drain(b, t0), 30);
    EXPECT_FALSE(b.try_acquire_retry(t0));
    EXPECT_EQ(b.retries(t0), 30u);
}

TEST(RetryBudget, LowTrafficGetsTheMinimumNotTheSum) {
    RetryBudget b(20);
    requests(b, 100, t0);  // 20 % = 20 < 30
    EXPECT_EQ(b.allowance(t0), 30u);
    EXPECT_EQ(drain(b, t0), 30);
}

TEST(RetryBudget, UnderLoadRetriesStayWithinThePercentage) {
    RetryBudget b(20);
    requests(b, 1000, t0);
    EXPECT_EQ(b.allowance(t0), 200u);
    EXPECT_EQ(drain(b, t0), 200);
    // Attempts = requests + retries = 1.2 × requests exactly.
    EXPECT_EQ(b.requests(t0) + b.retries(t0), 1200u);
    // Each further request earns a fifth of a retry.
    requests(b, 4, t0);
    EXPECT_FALSE(b.try_acquire_retry(t0));
    requests(b, 1, t0);
    EXPECT_TRUE(b.try_acquire_retry(t0));
    EXPECT_FALSE(b.try_acquire_retry(t0));
}

TEST(RetryBudget, ThePercentageRoundsDown) {
    RetryBudget b(no_minimum(20));
    requests(b, 4, t0);  // 0.8
    EXPECT_FALSE(b.try_acquire_retry(t0));
    requests(b, 3, t0);  // 7 → 1.4
    EXPECT_EQ(drain(b, t0), 1);
    requests(b, 3, t0);  // 10 → 2
    EXPECT_EQ(drain(b, t0), 1);
}

TEST(RetryBudget, ZeroPercentLeavesOnlyTheMinimum) {
    RetryBudgetSettings s;
    s.percent = 0;
    RetryBudget b(s);
    requests(b, 10000, t0);
    EXPECT_EQ(drain(b, t0), 30);
    RetryBudget none(no_minimum(0));
    requests(none, 10000, t0);
    EXPECT_FALSE(none.try_acquire_retry(t0));
}

TEST(RetryBudget, OneHundredPercentIsOneRetryPerRequest) {
    RetryBudget b(no_minimum(100));
    requests(b, 3, t0);
    EXPECT_EQ(drain(b, t0), 3);
}

TEST(RetryBudget, RequestsLeaveTheWindowAfterTenBuckets) {
    RetryBudget b(no_minimum(20));
    requests(b, 1000, t0);
    EXPECT_EQ(drain(b, t0), 200);
    const TimePoint last = t0 + seconds(9) + milliseconds(999);
    EXPECT_EQ(b.requests(last), 1000u);
    EXPECT_EQ(b.retries(last), 200u);
    EXPECT_FALSE(b.try_acquire_retry(last));
    // The bucket of t0 leaves at t0 + 10 s: requests and retries with it.
    EXPECT_EQ(b.requests(t0 + seconds(10)), 0u);
    EXPECT_EQ(b.retries(t0 + seconds(10)), 0u);
    EXPECT_FALSE(b.try_acquire_retry(t0 + seconds(10)));  // and no minimum
}

TEST(RetryBudget, TheWindowSlidesBucketByBucket) {
    RetryBudget b(no_minimum(10));
    for (int s = 0; s < 10; ++s)
        requests(b, 10, t0 + seconds(s) + milliseconds(500));  // 10 per second
    const TimePoint end = t0 + seconds(9) + milliseconds(900);
    EXPECT_EQ(b.requests(end), 100u);
    EXPECT_EQ(drain(b, end), 10);
    // One second later the first second's 10 requests are gone (90 → 9
    // allowed) but the 10 retries, all in the newest bucket, stay.
    EXPECT_EQ(b.requests(end + seconds(1)), 90u);
    EXPECT_FALSE(b.try_acquire_retry(end + seconds(1)));
    requests(b, 10, end + seconds(1));  // 100 again → 10 allowed, 10 used
    EXPECT_FALSE(b.try_acquire_retry(end + seconds(1)));
    // 10 s after the retries they are gone: only the newest second's
    // requests remain.
    EXPECT_EQ(b.retries(end + seconds(10)), 0u);
    EXPECT_EQ(b.requests(end + seconds(10)), 10u);
    EXPECT_EQ(drain(b, end + seconds(10)), 1);
}

TEST(RetryBudget, AfterALongPauseEverythingIsForgotten) {
    RetryBudget b(20);
    requests(b, 1000, t0);
    drain(b, t0);
    const TimePoint later = t0 + seconds(3600) + milliseconds(250);
    EXPECT_EQ(b.requests(later), 0u);
    EXPECT_EQ(b.retries(later), 0u);
    EXPECT_EQ(drain(b, later), 30);
}

TEST(RetryBudget, TimeNeverGoesBack) {
    RetryBudget b(no_minimum(100));
    requests(b, 2, t0 + seconds(20));
    // An earlier time counts in the latest bucket and sees the same window.
    requests(b, 1, t0);
    EXPECT_EQ(b.requests(t0), 3u);
    EXPECT_EQ(b.requests(t0 + seconds(20)), 3u);
    EXPECT_EQ(drain(b, t0 + seconds(5)), 3);
    EXPECT_EQ(b.requests(t0 + seconds(30)), 0u);
}

TEST(RetryBudget, CustomBuckets) {
    RetryBudgetSettings s;
    s.percent = 50;
    s.min_retries_per_second = 3;
    s.bucket = milliseconds(100);
    s.buckets = 5;  // a 500 ms window
    RetryBudget b(s);
    EXPECT_EQ(b.window(), milliseconds(500));
    EXPECT_EQ(b.min_retries(), 1u);  // 3/s × 0.5 s, rounded down
    requests(b, 10, t0);
    EXPECT_EQ(drain(b, t0), 5);
    EXPECT_EQ(b.requests(t0 + milliseconds(499)), 10u);
    EXPECT_FALSE(b.try_acquire_retry(t0 + milliseconds(499)));
    EXPECT_EQ(b.requests(t0 + milliseconds(500)), 0u);
    EXPECT_EQ(b.retries(t0 + milliseconds(500)), 0u);
    EXPECT_EQ(drain(b, t0 + milliseconds(500)), 1);
}

TEST(RetryBudget, DegenerateSettingsAreClamped) {
    RetryBudgetSettings s;
    s.bucket = Duration(0);
    s.buckets = 0;
    s.min_retries_per_second = 1000;
    RetryBudget b(s);
    EXPECT_EQ(b.window(), milliseconds(1));
    EXPECT_EQ(b.min_retries(), 1u);
    EXPECT_TRUE(b.try_acquire_retry(t0));
    EXPECT_FALSE(b.try_acquire_retry(t0));
    EXPECT_TRUE(b.try_acquire_retry(t0 + milliseconds(1)));
}

TEST(RetryBudget, OutageScenarioKeepsAttemptsWithinTwentyPercent) {
    // Half of 2000 requests over 10 s fail and want a retry each: the budget
    // grants at most 20 % of the window's requests.
    RetryBudget b(20);
    std::uint64_t attempts = 0, requests_sent = 0;
    for (int i = 0; i < 2000; ++i) {
        const TimePoint now = t0 + milliseconds(i * 5);
        b.record_request(now);
        ++requests_sent;
        ++attempts;
        if (i % 2 == 0 && b.try_acquire_retry(now)) ++attempts;
    }
    EXPECT_LE(attempts * 10, requests_sent * 12);
    // The first 30 retries come from the minimum; from 155 requests on the
    // percentage is larger and, with more failures than it allows, retries
    // track it: floor(1999 × 20 %) by the last failed request.
    EXPECT_EQ(attempts, 2000u + 399u);
}

}  // namespace
}  // namespace switchyard

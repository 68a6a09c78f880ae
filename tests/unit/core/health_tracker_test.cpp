#include "switchyard/core/health_tracker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const CheckResult kOk{CheckOutcome::ok, 200, ""};
const CheckResult kTimeout{CheckOutcome::timeout, 0, ""};
const CheckResult kRefused{CheckOutcome::refused, 0, ""};
const CheckResult k500{CheckOutcome::bad_status, 500, ""};

TEST(HealthTracker, StartsUnknownWithNoResult) {
    HealthTracker t(2, 3);
    EXPECT_EQ(t.state(), HealthState::unknown);
    EXPECT_EQ(t.last(), CheckResult{});
    EXPECT_EQ(t.successes(), 0u);
    EXPECT_EQ(t.failures(), 0u);
    EXPECT_EQ(t.reason(), "no check finished yet");
    EXPECT_EQ(t.status(),
              (CheckStatus{HealthState::unknown, CheckResult{}, "no check finished yet"}));
}

// A hot upgrade: the successor's tracker goes on from the old one's streaks.
TEST(HealthTracker, RestoreGoesOnFromTheOldStreaks) {
    HealthTracker t(3, 2);
    t.restore(HealthState::unhealthy, kOk, 2, 5);  // the streak `last` contradicts is dropped
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_EQ(t.successes(), 2u);
    EXPECT_EQ(t.failures(), 0u);
    EXPECT_EQ(t.reason(), "ok (2 of 3 to rise)");
    EXPECT_TRUE(t.record(kOk));  // the third success in a row
    EXPECT_EQ(t.state(), HealthState::healthy);

    HealthTracker h(3, 2);
    h.restore(HealthState::healthy, kTimeout, 0, 1);
    EXPECT_EQ(h.reason(), "timeout (1 of 2 to fall)");
    EXPECT_TRUE(h.record(kRefused));
    EXPECT_EQ(h.state(), HealthState::unhealthy);

    // `ejected` is not a check state.
    HealthTracker e(1, 1);
    e.restore(HealthState::ejected, {}, 4, 4);
    EXPECT_EQ(e.status(),
              (CheckStatus{HealthState::unknown, CheckResult{}, "no check finished yet"}));
}

TEST(HealthTracker, TakesRiseAndFallFromSettings) {
    HealthCheckSettings s;
    s.rise = 4;
    s.fall = 5;
    HealthTracker t(s);
    EXPECT_EQ(t.rise(), 4u);
    EXPECT_EQ(t.fall(), 5u);
}

TEST(HealthTracker, ZeroRiseAndFallCountAsOne) {
    HealthTracker t(0, 0);
    EXPECT_EQ(t.rise(), 1u);
    EXPECT_EQ(t.fall(), 1u);
    EXPECT_TRUE(t.record(kOk));
    EXPECT_EQ(t.state(), HealthState::healthy);
    EXPECT_TRUE(t.record(kTimeout));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
}

TEST(HealthTracker, UnknownNeedsRiseSuccessesToBecomeHealthy) {
    HealthTracker t(3, 2);
    EXPECT_FALSE(t.record(kOk));
    EXPECT_EQ(t.state(), HealthState::unknown);
    EXPECT_EQ(t.reason(), "ok (1 of 3 to rise)");
    EXPECT_FALSE(t.record(kOk));
    EXPECT_EQ(t.reason(), "ok (2 of 3 to rise)");
    EXPECT_TRUE(t.record(kOk));
    EXPECT_EQ(t.state(), HealthState::healthy);
    EXPECT_EQ(t.successes(), 3u);
    EXPECT_EQ(t.reason(), "ok");
}

TEST(HealthTracker, UnknownFailsAtTheFirstFailure) {
    HealthTracker t(2, 3);
    EXPECT_TRUE(t.record(kRefused));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_EQ(t.failures(), 1u);
    EXPECT_EQ(t.reason(), "connection refused");
    EXPECT_EQ(t.last(), kRefused);
}

TEST(HealthTracker, AFailureAfterSomeSuccessesStillEndsUnknown) {
    HealthTracker t(3, 3);
    t.record(kOk);
    t.record(kOk);
    EXPECT_TRUE(t.record(kTimeout));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_EQ(t.successes(), 0u);
}

TEST(HealthTracker, HealthyNeedsFallConsecutiveFailures) {
    HealthTracker t(1, 3);
    t.record(kOk);
    ASSERT_EQ(t.state(), HealthState::healthy);
    EXPECT_FALSE(t.record(k500));
    EXPECT_EQ(t.reason(), "status 500 (1 of 3 to fall)");
    EXPECT_FALSE(t.record(kTimeout));
    EXPECT_EQ(t.reason(), "timeout (2 of 3 to fall)");
    EXPECT_EQ(t.state(), HealthState::healthy);
    EXPECT_TRUE(t.record(k500));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_EQ(t.failures(), 3u);
    EXPECT_EQ(t.reason(), "status 500");
}

TEST(HealthTracker, ASuccessResetsTheFailureStreak) {
    HealthTracker t(1, 2);
    t.record(kOk);
    EXPECT_FALSE(t.record(kTimeout));
    EXPECT_FALSE(t.record(kOk));
    EXPECT_EQ(t.failures(), 0u);
    EXPECT_EQ(t.reason(), "ok");
    EXPECT_FALSE(t.record(kTimeout));
    EXPECT_EQ(t.state(), HealthState::healthy);
    EXPECT_TRUE(t.record(kTimeout));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
}

TEST(HealthTracker, UnhealthyNeedsRiseConsecutiveSuccesses) {
    HealthTracker t(2, 1);
    t.record(kTimeout);
    ASSERT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_FALSE(t.record(kOk));
    EXPECT_EQ(t.reason(), "ok (1 of 2 to rise)");
    EXPECT_FALSE(t.record(kTimeout));  // the streak starts over
    EXPECT_EQ(t.successes(), 0u);
    EXPECT_FALSE(t.record(kOk));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_TRUE(t.record(kOk));
    EXPECT_EQ(t.state(), HealthState::healthy);
}

TEST(HealthTracker, FurtherFailuresWhileUnhealthyChangeNothing) {
    HealthTracker t(2, 2);
    EXPECT_TRUE(t.record(kTimeout));
    EXPECT_FALSE(t.record(kRefused));
    EXPECT_FALSE(t.record(k500));
    EXPECT_EQ(t.state(), HealthState::unhealthy);
    EXPECT_EQ(t.failures(), 3u);
    EXPECT_EQ(t.last(), k500);
    EXPECT_EQ(t.reason(), "status 500");
}

TEST(HealthTracker, ANoneResultIsIgnored) {
    HealthTracker t(1, 1);
    EXPECT_FALSE(t.record(CheckResult{}));
    EXPECT_EQ(t.state(), HealthState::unknown);
    EXPECT_EQ(t.reason(), "no check finished yet");
    t.record(kOk);
    EXPECT_FALSE(t.record(CheckResult{}));
    EXPECT_EQ(t.last(), kOk);
    EXPECT_EQ(t.successes(), 1u);
}

TEST(HealthTracker, EveryNonOkOutcomeIsAFailure) {
    for (CheckOutcome o :
         {CheckOutcome::timeout, CheckOutcome::refused, CheckOutcome::reset,
          CheckOutcome::bad_status, CheckOutcome::bad_response, CheckOutcome::other}) {
        HealthTracker t(1, 1);
        EXPECT_TRUE(t.record({o, 0, ""})) << to_string(o);
        EXPECT_EQ(t.state(), HealthState::unhealthy) << to_string(o);
    }
}

TEST(HealthTracker, StatusCarriesStateLastAndReason) {
    HealthTracker t(2, 2);
    t.record(kOk);
    t.record(kOk);
    t.record(kTimeout);
    EXPECT_EQ(t.status(),
              (CheckStatus{HealthState::healthy, kTimeout, "timeout (1 of 2 to fall)"}));
}

TEST(HealthTracker, StreaksSaturate) {
    HealthTracker t(std::numeric_limits<std::uint32_t>::max(), 1);
    for (int i = 0; i < 5; ++i)
        t.record(kOk);
    EXPECT_EQ(t.successes(), 5u);
    EXPECT_EQ(t.state(), HealthState::unknown);
}

TEST(ClassifyStatus, InsideTheExpectedRangeIsOk) {
    HealthCheckSettings s;  // 200-399
    EXPECT_EQ(classify_status(200, s), (CheckResult{CheckOutcome::ok, 200, ""}));
    EXPECT_EQ(classify_status(399, s), (CheckResult{CheckOutcome::ok, 399, ""}));
    EXPECT_EQ(classify_status(199, s), (CheckResult{CheckOutcome::bad_status, 199, ""}));
    EXPECT_EQ(classify_status(400, s), (CheckResult{CheckOutcome::bad_status, 400, ""}));
    EXPECT_EQ(classify_status(500, s), (CheckResult{CheckOutcome::bad_status, 500, ""}));
    s.expect_min = 204;
    s.expect_max = 204;
    EXPECT_EQ(classify_status(204, s).outcome, CheckOutcome::ok);
    EXPECT_EQ(classify_status(200, s).outcome, CheckOutcome::bad_status);
}

const HealthTime t0{seconds(500)};

TEST(NextProbeTime, TenPercentEitherSideOfTheInterval) {
    const Duration interval(2000);  // J = 200 ms
    EXPECT_EQ(next_probe_time(t0, interval, 0.0), t0 + milliseconds(1800));
    EXPECT_EQ(next_probe_time(t0, interval, 0.5), t0 + milliseconds(2000));
    EXPECT_EQ(next_probe_time(t0, interval, 0.25), t0 + milliseconds(1900));
    EXPECT_EQ(next_probe_time(t0, interval, 0.999999), t0 + milliseconds(2200));
}

TEST(NextProbeTime, OutOfRangeDrawsAreClamped) {
    const Duration interval(2000);
    EXPECT_EQ(next_probe_time(t0, interval, -3.0), t0 + milliseconds(1800));
    EXPECT_EQ(next_probe_time(t0, interval, 1.0), t0 + milliseconds(2200));
    EXPECT_EQ(next_probe_time(t0, interval, 42.0), t0 + milliseconds(2200));
    EXPECT_EQ(next_probe_time(t0, interval, std::numeric_limits<double>::quiet_NaN()),
              t0 + milliseconds(1800));
}

TEST(NextProbeTime, ShortIntervals) {
    // Under 10 ms there is no whole millisecond of jitter.
    EXPECT_EQ(next_probe_time(t0, Duration(9), 0.0), t0 + milliseconds(9));
    EXPECT_EQ(next_probe_time(t0, Duration(9), 0.99), t0 + milliseconds(9));
    EXPECT_EQ(next_probe_time(t0, Duration(10), 0.0), t0 + milliseconds(9));
    EXPECT_EQ(next_probe_time(t0, Duration(10), 0.99), t0 + milliseconds(11));
    // Never now itself.
    EXPECT_EQ(next_probe_time(t0, Duration(0), 0.5), t0 + milliseconds(1));
    EXPECT_EQ(next_probe_time(t0, Duration(-5), 0.5), t0 + milliseconds(1));
}

TEST(NextProbeTime, EveryWholeMillisecondOfTheRangeIsReachable) {
    const Duration interval(100);  // J = 10: 90..110, 21 values
    for (int i = 0; i < 21; ++i) {
        const double r = (i + 0.5) / 21.0;
        EXPECT_EQ(next_probe_time(t0, interval, r), t0 + milliseconds(90 + i)) << i;
    }
}

TEST(FirstProbeTime, WithinTheFirstTenPercent) {
    const Duration interval(2000);
    EXPECT_EQ(first_probe_time(t0, interval, 0.0), t0);
    EXPECT_EQ(first_probe_time(t0, interval, 0.5), t0 + milliseconds(100));
    EXPECT_EQ(first_probe_time(t0, interval, 0.999999), t0 + milliseconds(200));
    EXPECT_EQ(first_probe_time(t0, interval, 7.0), t0 + milliseconds(200));
    EXPECT_EQ(first_probe_time(t0, Duration(5), 0.9), t0);
    EXPECT_EQ(first_probe_time(t0, Duration(0), 0.9), t0);
}

}  // namespace
}  // namespace switchyard

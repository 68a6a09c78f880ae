#include "switchyard/core/shadow_backoff.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::milliseconds;

TEST(ShadowBackoff, PausesAfterFailuresInARowAndDoublesUpToTheMaximum) {
    ShadowBackoff b;
    Clock::time_point t{};
    for (std::uint32_t i = 0; i + 1 < ShadowBackoff::kFailuresInRow; ++i) {
        b.record(false, t);
        EXPECT_TRUE(b.allows(t)) << i;
    }
    b.record(false, t);  // the fifth in a row
    EXPECT_TRUE(b.paused());
    EXPECT_FALSE(b.allows(t));
    EXPECT_FALSE(b.allows(t + milliseconds(249)));
    EXPECT_TRUE(b.allows(t + milliseconds(250)));
    // Copies already on their way that fail now do not extend the pause.
    b.record(false, t + milliseconds(100));
    EXPECT_TRUE(b.allows(t + milliseconds(250)));
    // The retry after the pause fails: twice as long, and so on to 10 s.
    t += milliseconds(250);
    b.record(false, t);
    EXPECT_FALSE(b.allows(t + milliseconds(499)));
    EXPECT_TRUE(b.allows(t + milliseconds(500)));
    for (int i = 0; i < 10; ++i) {
        t = t + milliseconds(20000);
        b.record(false, t);
    }
    EXPECT_FALSE(b.allows(t + milliseconds(9999)));
    EXPECT_TRUE(b.allows(t + ShadowBackoff::kMaxPause));
}

TEST(ShadowBackoff, OneAnswerEndsItAndFailuresMustBeInARow) {
    ShadowBackoff b;
    const Clock::time_point t{};
    for (int i = 0; i < 20; ++i) {
        b.record(i % 4 == 3, t);  // three failures, then an answer
        EXPECT_TRUE(b.allows(t)) << i;
    }
    for (std::uint32_t i = 0; i < ShadowBackoff::kFailuresInRow; ++i)
        b.record(false, t);
    EXPECT_FALSE(b.allows(t));
    b.record(true, t);
    EXPECT_FALSE(b.paused());
    EXPECT_TRUE(b.allows(t));
    // The next run of failures starts from the first pause again.
    for (std::uint32_t i = 0; i < ShadowBackoff::kFailuresInRow; ++i)
        b.record(false, t);
    EXPECT_TRUE(b.allows(t + ShadowBackoff::kFirstPause));
}

}  // namespace
}  // namespace switchyard

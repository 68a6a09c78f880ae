#include "switchyard/core/body_rate.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = BodyRateMeter::Clock;

const Clock::time_point t0{};

TEST(BodyRateMeter, ATrickleIsTooSlowOnceTheGraceHasPassed) {
    BodyRateMeter m;
    m.reset(true, 0);
    const Duration grace = seconds(2);
    Clock::time_point now = t0;
    // 2 bytes a second, one read after another.
    for (int i = 0; i < 10; ++i) {
        m.read_started(now);
        now += milliseconds(500);
        m.read_done(now, 1);
    }
    EXPECT_EQ(m.waited(now), seconds(5));
    EXPECT_TRUE(m.too_slow(now, 1024, grace));     // 10 bytes < 1024 × 3 s
    EXPECT_FALSE(m.too_slow(now, 3, grace));       // 10 bytes >= 3 × 3 s
    EXPECT_FALSE(m.too_slow(now, 0, Duration{}));  // off
}

TEST(BodyRateMeter, AnOutstandingReadCountsUpToNow) {
    BodyRateMeter m;
    m.reset(true, 100);
    m.read_started(t0);
    EXPECT_EQ(m.waited(t0 + seconds(3)), seconds(3));
    EXPECT_FALSE(m.too_slow(t0 + seconds(3), 50, seconds(1)));  // 100 >= 50 × 2
    EXPECT_TRUE(m.too_slow(t0 + seconds(4), 50, seconds(1)));   // 100 < 50 × 3
}

// The upstream taking its time to read what was read already is no fault
// of the client: only time with a client read outstanding counts.
TEST(BodyRateMeter, TimeWithoutAReadOutstandingDoesNotCount) {
    BodyRateMeter m;
    m.reset(true, 0);
    m.read_started(t0);
    m.read_done(t0 + milliseconds(100), 1000);
    // 10 s writing upstream, then the next read.
    m.read_started(t0 + seconds(10));
    EXPECT_EQ(m.waited(t0 + seconds(11)), milliseconds(1100));
    EXPECT_FALSE(m.too_slow(t0 + seconds(11), 500, seconds(0)));  // 1000 >= 500 × 1.1 s
    EXPECT_TRUE(m.too_slow(t0 + seconds(13), 500, seconds(0)));   // 1000 < 500 × 3.1 s
}

// Expect: 100-continue: the client waits for the upstream's answer before
// it sends; its clock starts with the first body byte.
TEST(BodyRateMeter, AStoppedClockStartsWithTheFirstByte) {
    BodyRateMeter m;
    m.reset(false, 0);
    m.read_started(t0);
    EXPECT_EQ(m.waited(t0 + seconds(30)), Clock::duration::zero());
    m.read_done(t0 + seconds(30), 10);
    m.read_started(t0 + seconds(30));
    EXPECT_EQ(m.waited(t0 + seconds(32)), seconds(2));
    BodyRateMeter with_head_bytes;
    with_head_bytes.reset(false, 5);  // body bytes came with the head: running
    with_head_bytes.read_started(t0);
    EXPECT_EQ(with_head_bytes.waited(t0 + seconds(1)), seconds(1));
}

}  // namespace
}  // namespace switchyard

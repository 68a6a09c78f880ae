#include "switchyard/core/outlier_policy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = OutlierEvent::Kind;

const HealthTime t0{seconds(10000)};
const PassiveResult kOk{PassiveOutcome::success, 200};
const PassiveResult kReset{PassiveOutcome::reset, 0};
const PassiveResult kRefused{PassiveOutcome::connect_failure, 0};
const PassiveResult k503{PassiveOutcome::server_error, 503};

OutlierSettings settings(std::uint32_t failures, Duration base, std::uint32_t percent) {
    OutlierSettings s;
    s.consecutive_failures = failures;
    s.base_ejection = base;
    s.max_ejected_percent = percent;
    return s;
}

const std::vector<std::string> kTwo{"10.0.0.1:80", "10.0.0.2:80"};

OutlierEvent ejected(std::string address, HealthTime until, std::uint32_t ejections,
                     std::string reason) {
    return {Kind::ejected, std::move(address), until, ejections, std::move(reason)};
}

OutlierEvent returned(std::string address, HealthTime until, std::uint32_t ejections) {
    return {Kind::returned, std::move(address), until, ejections, ""};
}

// Fails `address` `n` times at `now`; returns the events of the last report.
std::vector<OutlierEvent> fail(OutlierPolicy& p, const std::string& address, int n, HealthTime now,
                               PassiveResult result = k503) {
    std::vector<OutlierEvent> last;
    for (int i = 0; i < n; ++i)
        last = p.record(address, result, now);
    return last;
}

TEST(PassiveResult, FromStatus) {
    EXPECT_EQ(passive_result_for_status(200), (PassiveResult{PassiveOutcome::success, 200}));
    EXPECT_EQ(passive_result_for_status(404), (PassiveResult{PassiveOutcome::success, 404}));
    EXPECT_EQ(passive_result_for_status(499), (PassiveResult{PassiveOutcome::success, 499}));
    EXPECT_EQ(passive_result_for_status(500), (PassiveResult{PassiveOutcome::server_error, 500}));
    EXPECT_EQ(passive_result_for_status(599), (PassiveResult{PassiveOutcome::server_error, 599}));
    EXPECT_EQ(passive_result_for_status(600), (PassiveResult{PassiveOutcome::success, 600}));
}

TEST(PassiveResult, Describe) {
    EXPECT_EQ(describe(kOk), "ok");
    EXPECT_EQ(describe(kRefused), "connect failure");
    EXPECT_EQ(describe(kReset), "connection reset");
    EXPECT_EQ(describe(PassiveResult{PassiveOutcome::timeout, 0}), "timeout");
    EXPECT_EQ(describe(k503), "status 503");
}

TEST(MaxEjectedServers, AtLeastOneUnlessZeroPercentOrNoServers) {
    EXPECT_EQ(max_ejected_servers(0, 50), 0u);
    EXPECT_EQ(max_ejected_servers(0, 100), 0u);
    EXPECT_EQ(max_ejected_servers(5, 0), 0u);
    EXPECT_EQ(max_ejected_servers(1, 50), 1u);  // rounds down to 0: one anyway
    EXPECT_EQ(max_ejected_servers(1, 1), 1u);
    EXPECT_EQ(max_ejected_servers(2, 50), 1u);
    EXPECT_EQ(max_ejected_servers(3, 50), 1u);  // 1.5 rounds down
    EXPECT_EQ(max_ejected_servers(4, 50), 2u);
    EXPECT_EQ(max_ejected_servers(3, 99), 2u);
    EXPECT_EQ(max_ejected_servers(10, 10), 1u);
    EXPECT_EQ(max_ejected_servers(10, 25), 2u);
    EXPECT_EQ(max_ejected_servers(5, 100), 5u);
    EXPECT_EQ(max_ejected_servers(5, 250), 5u);  // never more than the pool
}

TEST(OutlierPolicy, EjectionTimeGrowsAndIsCapped) {
    OutlierPolicy p(settings(5, seconds(30), 50), kTwo);
    EXPECT_EQ(p.ejection_time(0), seconds(30));
    EXPECT_EQ(p.ejection_time(1), seconds(30));
    EXPECT_EQ(p.ejection_time(2), seconds(60));
    EXPECT_EQ(p.ejection_time(9), seconds(270));
    EXPECT_EQ(p.ejection_time(10), seconds(300));
    EXPECT_EQ(p.ejection_time(11), seconds(300));

    OutlierPolicy long_base(settings(5, seconds(60), 50), kTwo);
    EXPECT_EQ(long_base.ejection_time(4), seconds(240));
    EXPECT_EQ(long_base.ejection_time(5), seconds(300));  // the 300 s cap first
    EXPECT_EQ(long_base.ejection_time(10), seconds(300));

    OutlierPolicy short_base(settings(5, seconds(1), 50), kTwo);
    EXPECT_EQ(short_base.ejection_time(10), seconds(10));  // the 10× cap first
    EXPECT_EQ(short_base.ejection_time(50), seconds(10));

    OutlierPolicy huge_base(settings(5, seconds(600), 50), kTwo);
    EXPECT_EQ(huge_base.ejection_time(1), seconds(600));  // the base is never cut
    EXPECT_EQ(huge_base.ejection_time(3), seconds(600));

    OutlierPolicy zero_base(settings(5, Duration(0), 50), kTwo);
    EXPECT_EQ(zero_base.ejection_time(3), Duration(0));
}

TEST(OutlierPolicy, StartsWithNothingEjected) {
    OutlierPolicy p(settings(5, seconds(30), 50), kTwo);
    EXPECT_EQ(p.size(), 2u);
    EXPECT_EQ(p.ejected_count(), 0u);
    EXPECT_EQ(p.max_ejected(), 1u);
    EXPECT_EQ(p.next_release(), std::nullopt);
    EXPECT_EQ(p.status("10.0.0.1:80"), PassiveStatus{});
    EXPECT_EQ(p.failures("10.0.0.1:80"), 0u);
    EXPECT_TRUE(p.release(t0).empty());
}

TEST(OutlierPolicy, EjectsAfterConsecutiveFailures) {
    OutlierPolicy p(settings(3, seconds(30), 50), kTwo);
    EXPECT_TRUE(p.record("10.0.0.1:80", kRefused, t0).empty());
    EXPECT_TRUE(p.record("10.0.0.1:80", kReset, t0).empty());
    EXPECT_EQ(p.failures("10.0.0.1:80"), 2u);
    auto events = p.record("10.0.0.1:80", k503, t0 + milliseconds(5));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], ejected("10.0.0.1:80", t0 + milliseconds(30005), 1,
                                 "3 consecutive failures, last: status 503"));
    EXPECT_EQ(p.ejected_count(), 1u);
    EXPECT_EQ(p.failures("10.0.0.1:80"), 0u);
    EXPECT_EQ(p.next_release(), t0 + milliseconds(30005));
    EXPECT_EQ(p.status("10.0.0.1:80"), (PassiveStatus{true, t0 + milliseconds(30005), 1,
                                                      "3 consecutive failures, last: status 503"}));
    EXPECT_EQ(p.status("10.0.0.2:80"), PassiveStatus{});
}

TEST(OutlierPolicy, ASuccessResetsTheCount) {
    OutlierPolicy p(settings(3, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 2, t0);
    EXPECT_TRUE(p.record("10.0.0.1:80", kOk, t0).empty());
    EXPECT_EQ(p.failures("10.0.0.1:80"), 0u);
    EXPECT_TRUE(fail(p, "10.0.0.1:80", 2, t0).empty());
    EXPECT_EQ(p.ejected_count(), 0u);
    EXPECT_EQ(fail(p, "10.0.0.1:80", 1, t0).size(), 1u);
}

TEST(OutlierPolicy, FailuresOfOneServerDoNotCountForAnother) {
    OutlierPolicy p(settings(2, seconds(30), 100), kTwo);
    EXPECT_TRUE(p.record("10.0.0.1:80", k503, t0).empty());
    EXPECT_TRUE(p.record("10.0.0.2:80", k503, t0).empty());
    EXPECT_EQ(p.failures("10.0.0.1:80"), 1u);
    EXPECT_EQ(p.failures("10.0.0.2:80"), 1u);
}

TEST(OutlierPolicy, AZeroThresholdCountsAsOne) {
    OutlierPolicy p(settings(0, seconds(30), 50), kTwo);
    EXPECT_EQ(fail(p, "10.0.0.1:80", 1, t0).size(), 1u);
    EXPECT_EQ(p.status("10.0.0.1:80").reason, "1 consecutive failures, last: status 503");
}

TEST(OutlierPolicy, ReportsAboutAnEjectedServerAreIgnored) {
    OutlierPolicy p(settings(2, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 2, t0);
    ASSERT_EQ(p.ejected_count(), 1u);
    EXPECT_TRUE(fail(p, "10.0.0.1:80", 5, t0 + seconds(1)).empty());
    EXPECT_EQ(p.failures("10.0.0.1:80"), 0u);
    EXPECT_TRUE(p.record("10.0.0.1:80", kOk, t0 + seconds(2)).empty());
    EXPECT_TRUE(p.status("10.0.0.1:80").ejected);  // a success does not end it early
    EXPECT_EQ(p.status("10.0.0.1:80").until, t0 + seconds(30));
}

TEST(OutlierPolicy, ReturnsExactlyAtItsTime) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.2:80", 1, t0);
    EXPECT_TRUE(p.release(t0 + seconds(30) - milliseconds(1)).empty());
    EXPECT_TRUE(p.status("10.0.0.2:80").ejected);
    auto events = p.release(t0 + seconds(30));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], returned("10.0.0.2:80", t0 + seconds(30), 1));
    EXPECT_EQ(p.status("10.0.0.2:80"), (PassiveStatus{false, {}, 1, ""}));
    EXPECT_EQ(p.ejected_count(), 0u);
    EXPECT_EQ(p.next_release(), std::nullopt);
    EXPECT_TRUE(p.release(t0 + seconds(60)).empty());  // only once
}

TEST(OutlierPolicy, ALateReleaseReportsWhenTheEjectionWasDue) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 1, t0);
    auto events = p.release(t0 + seconds(100));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].until, t0 + seconds(30));
}

TEST(OutlierPolicy, RecordFirstReturnsWhatIsDue) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 1, t0);
    // 10.0.0.1 is due at t0+30s; a report about 10.0.0.2 then returns it
    // first, which frees the cap for 10.0.0.2's own ejection.
    auto events = p.record("10.0.0.2:80", kReset, t0 + seconds(30));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], returned("10.0.0.1:80", t0 + seconds(30), 1));
    EXPECT_EQ(events[1], ejected("10.0.0.2:80", t0 + seconds(60), 1,
                                 "1 consecutive failures, last: connection reset"));
}

TEST(OutlierPolicy, AnUnknownAddressIsIgnoredButTimeStillMoves) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 1, t0);
    EXPECT_TRUE(p.record("10.9.9.9:80", k503, t0 + seconds(1)).empty());
    EXPECT_EQ(p.status("10.9.9.9:80"), PassiveStatus{});
    EXPECT_EQ(p.failures("10.9.9.9:80"), 0u);
    auto events = p.record("10.9.9.9:80", k503, t0 + seconds(31));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, Kind::returned);
}

TEST(OutlierPolicy, RepeatedEjectionsGrowUpToTheCap) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    HealthTime now = t0;
    std::vector<Duration> lengths;
    for (int i = 0; i < 12; ++i) {
        auto events = fail(p, "10.0.0.1:80", 1, now);
        ASSERT_EQ(events.size(), 1u) << i;
        ASSERT_EQ(events.back().kind, Kind::ejected) << i;
        EXPECT_EQ(events.back().ejections, static_cast<std::uint32_t>(i + 1));
        lengths.push_back(std::chrono::duration_cast<Duration>(events.back().until - now));
        now = events.back().until;  // fails again the moment it returns
        ASSERT_EQ(p.release(now).size(), 1u);
    }
    std::vector<Duration> expected;
    for (int i = 1; i <= 12; ++i)
        expected.push_back(seconds(30 * std::min(i, 10)));
    EXPECT_EQ(lengths, expected);
    EXPECT_EQ(p.status("10.0.0.1:80").ejections, 12u);
}

TEST(OutlierPolicy, TimeBackInServiceDecaysTheLevel) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    const std::string a = "10.0.0.1:80";
    HealthTime now = t0;
    // Three ejections back to back: 30 s, 60 s, 90 s.
    for (int i = 0; i < 3; ++i) {
        now = fail(p, a, 1, now).back().until;
        p.release(now);
    }
    // Back for 299 s: nothing forgiven, level 4 → 120 s.
    auto e = fail(p, a, 1, now + seconds(299));
    EXPECT_EQ(e.back().until - (now + seconds(299)), seconds(120));
    now = e.back().until;
    p.release(now);
    // Back for 300 s: one level forgiven (4 → 3), then up one: 120 s again.
    e = fail(p, a, 1, now + seconds(300));
    EXPECT_EQ(e.back().until - (now + seconds(300)), seconds(120));
    now = e.back().until;
    p.release(now);
    // Back for 25 min: five levels forgiven (4 → 0), so the base again.
    e = fail(p, a, 1, now + seconds(1500));
    EXPECT_EQ(e.back().until - (now + seconds(1500)), seconds(30));
    EXPECT_EQ(e.back().ejections, 6u);  // the count for status never decays
}

TEST(OutlierPolicy, DecayFollowsTheLongestEjectionOfAShortBase) {
    OutlierPolicy p(settings(1, seconds(1), 50), kTwo);
    const std::string a = "10.0.0.1:80";
    HealthTime now = fail(p, a, 1, t0).back().until;  // 1 s
    p.release(now);
    now = fail(p, a, 1, now).back().until;  // 2 s
    p.release(now);
    // 10 s (ejection_time(10)) back forgives one level: 2 → 1 → 2 s.
    auto e = fail(p, a, 1, now + seconds(10));
    EXPECT_EQ(e.back().until - (now + seconds(10)), seconds(2));
}

TEST(OutlierPolicy, NeverMoreThanTheCapOfAPool) {
    OutlierPolicy p(settings(2, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 2, t0);
    ASSERT_EQ(p.ejected_count(), 1u);
    EXPECT_TRUE(p.record("10.0.0.2:80", kReset, t0).empty());
    auto events = p.record("10.0.0.2:80", kReset, t0 + seconds(1));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0],
              (OutlierEvent{Kind::cap_reached,
                            "10.0.0.2:80",
                            {},
                            0,
                            "2 consecutive failures, last: connection reset; not ejected: 1 of 2 "
                            "servers already ejected (max 50 %)"}));
    EXPECT_EQ(p.ejected_count(), 1u);
    EXPECT_FALSE(p.status("10.0.0.2:80").ejected);
    // Reported once per streak; the count keeps going.
    EXPECT_TRUE(fail(p, "10.0.0.2:80", 3, t0 + seconds(2)).empty());
    EXPECT_EQ(p.failures("10.0.0.2:80"), 5u);
    // Once 10.0.0.1 has returned, the next failure ejects 10.0.0.2 at once.
    events = p.record("10.0.0.2:80", k503, t0 + seconds(30));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, Kind::returned);
    EXPECT_EQ(events[1], ejected("10.0.0.2:80", t0 + seconds(60), 1,
                                 "6 consecutive failures, last: status 503"));
    // Now 10.0.0.1 is the one held back by the cap.
    events = fail(p, "10.0.0.1:80", 2, t0 + seconds(31));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, Kind::cap_reached);
    EXPECT_EQ(events[0].ejections, 1u);
    EXPECT_EQ(p.ejected_count(), 1u);
}

TEST(OutlierPolicy, ASuccessStartsANewStreakThatIsReportedAgain) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 1, t0);
    EXPECT_EQ(fail(p, "10.0.0.2:80", 1, t0).size(), 1u);
    EXPECT_TRUE(fail(p, "10.0.0.2:80", 1, t0).empty());
    p.record("10.0.0.2:80", kOk, t0);
    auto events = fail(p, "10.0.0.2:80", 1, t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, Kind::cap_reached);
}

TEST(OutlierPolicy, TheOnlyServerOfAPoolMayBeEjected) {
    OutlierPolicy p(settings(1, seconds(30), 10), {"10.0.0.1:80"});
    EXPECT_EQ(p.max_ejected(), 1u);
    auto events = fail(p, "10.0.0.1:80", 1, t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, Kind::ejected);
}

TEST(OutlierPolicy, ZeroPercentNeverEjects) {
    OutlierPolicy p(settings(1, seconds(30), 0), kTwo);
    auto events = fail(p, "10.0.0.1:80", 1, t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].reason,
              "1 consecutive failures, last: status 503; not ejected: 0 of 2 servers already "
              "ejected (max 0 %)");
    EXPECT_EQ(p.ejected_count(), 0u);
}

TEST(OutlierPolicy, APoolWithoutServersIgnoresEverything) {
    OutlierPolicy p(settings(1, seconds(30), 50), {});
    EXPECT_EQ(p.size(), 0u);
    EXPECT_EQ(p.max_ejected(), 0u);
    EXPECT_TRUE(p.record("10.0.0.1:80", k503, t0).empty());
    EXPECT_TRUE(p.release(t0).empty());
}

TEST(OutlierPolicy, FourServersAtFiftyPercentEjectTwo) {
    OutlierPolicy p(settings(1, seconds(30), 50), {"a:1", "b:1", "c:1", "d:1"});
    EXPECT_EQ(fail(p, "a:1", 1, t0)[0].kind, Kind::ejected);
    EXPECT_EQ(fail(p, "b:1", 1, t0)[0].kind, Kind::ejected);
    EXPECT_EQ(fail(p, "c:1", 1, t0)[0].kind, Kind::cap_reached);
    EXPECT_EQ(p.ejected_count(), 2u);
}

TEST(OutlierPolicy, NextReleaseIsTheEarliest) {
    OutlierPolicy p(settings(1, seconds(30), 100), {"a:1", "b:1", "c:1"});
    fail(p, "b:1", 1, t0 + seconds(5));
    fail(p, "a:1", 1, t0 + seconds(9));
    fail(p, "c:1", 1, t0 + seconds(2));
    EXPECT_EQ(p.next_release(), t0 + seconds(32));
    // Released together, in address order.
    auto events = p.release(t0 + seconds(40));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].address, "a:1");
    EXPECT_EQ(events[1].address, "b:1");
    EXPECT_EQ(events[2].address, "c:1");
}

TEST(OutlierPolicy, AZeroBaseReturnsAtTheSameInstant) {
    OutlierPolicy p(settings(1, Duration(0), 50), kTwo);
    auto events = fail(p, "10.0.0.1:80", 1, t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].until, t0);
    EXPECT_EQ(p.release(t0).size(), 1u);
}

TEST(OutlierPolicy, ReconfigureKeepsListedServersAndForgetsOthers) {
    OutlierPolicy p(settings(2, seconds(30), 50), {"a:1", "b:1", "c:1"});
    fail(p, "a:1", 2, t0);  // ejected
    fail(p, "b:1", 1, t0);  // one failure
    fail(p, "c:1", 1, t0);
    p.reconfigure(settings(3, seconds(10), 50), {"a:1", "b:1", "d:1", "d:1"});
    EXPECT_EQ(p.size(), 3u);  // d:1 once
    EXPECT_TRUE(p.status("a:1").ejected);
    EXPECT_EQ(p.status("a:1").until, t0 + seconds(30));  // its old time stands
    EXPECT_EQ(p.failures("b:1"), 1u);
    EXPECT_EQ(p.failures("c:1"), 0u);  // gone
    EXPECT_EQ(p.status("c:1"), PassiveStatus{});
    EXPECT_EQ(p.ejection_time(1), seconds(10));
    // The new threshold applies: b needs two more.
    EXPECT_TRUE(fail(p, "b:1", 1, t0).empty());
    EXPECT_EQ(fail(p, "b:1", 1, t0).size(), 1u);  // cap of 3 at 50 % is 1: refused
    EXPECT_EQ(p.ejected_count(), 1u);
}

TEST(OutlierPolicy, AnEjectionOutlivesAShrinkingCap) {
    OutlierPolicy p(settings(1, seconds(30), 50), {"a:1", "b:1", "c:1", "d:1"});
    fail(p, "a:1", 1, t0);
    fail(p, "b:1", 1, t0);
    p.reconfigure(settings(1, seconds(30), 50), {"a:1", "b:1", "c:1"});
    EXPECT_EQ(p.ejected_count(), 2u);  // over the new cap of 1 until they return
    EXPECT_EQ(p.max_ejected(), 1u);
    EXPECT_EQ(fail(p, "c:1", 1, t0)[0].kind, Kind::cap_reached);
    EXPECT_EQ(p.release(t0 + seconds(30)).size(), 2u);
}

TEST(OutlierPolicy, StatusCombinesIntoTheHealthView) {
    OutlierPolicy p(settings(1, seconds(30), 50), kTwo);
    fail(p, "10.0.0.1:80", 1, t0, kRefused);
    CheckStatus checks{HealthState::healthy, CheckResult{CheckOutcome::ok, 200, ""}, "ok"};
    ServerHealth h = combine_health(checks, p.status("10.0.0.1:80"));
    EXPECT_EQ(h.state, HealthState::ejected);
    EXPECT_EQ(h.reason, "1 consecutive failures, last: connect failure");
    EXPECT_EQ(h.ejected_until, t0 + seconds(30));
    p.release(t0 + seconds(30));
    h = combine_health(checks, p.status("10.0.0.1:80"));
    EXPECT_EQ(h.state, HealthState::healthy);
    EXPECT_EQ(h.ejections, 1u);
}

// A hot upgrade: the successor's policy takes each server's memory and goes
// on exactly as the old one would have.
TEST(OutlierPolicy, RestoredMemoryGoesOnAsTheOldPolicyWould) {
    OutlierPolicy old(settings(1, seconds(30), 50), kTwo);
    const std::string a = "10.0.0.1:80";
    HealthTime now = old.record(a, k503, t0).back().until;  // level 1, back at t0 + 30 s
    old.release(now);
    fail(old, a, 1, now + seconds(10));  // level 2: 60 s, until t0 + 100 s
    const auto memory = old.memory(a);
    EXPECT_TRUE(memory.ejected);
    EXPECT_EQ(memory.until, t0 + seconds(100));
    EXPECT_EQ(memory.level, 2u);
    EXPECT_EQ(memory.ejections, 2u);
    EXPECT_EQ(memory.returned, t0 + seconds(30));
    EXPECT_EQ(memory.reason, "1 consecutive failures, last: status 503");
    EXPECT_EQ(old.memory("10.0.0.2:80"), OutlierPolicy::Memory{});
    EXPECT_EQ(old.memory("nowhere:1"), OutlierPolicy::Memory{});

    OutlierPolicy fresh(settings(1, seconds(30), 50), kTwo);
    fresh.restore(a, memory);
    fresh.restore("nowhere:1", memory);  // not in the pool: ignored
    EXPECT_EQ(fresh.memory(a), memory);
    EXPECT_EQ(fresh.status(a), old.status(a));
    EXPECT_EQ(fresh.ejected_count(), 1u);
    EXPECT_EQ(fresh.next_release(), t0 + seconds(100));
    // Reports about it are ignored while it is out; it returns on time and
    // the next ejection is level 3 (90 s), as with the old policy.
    EXPECT_TRUE(fresh.record(a, k503, t0 + seconds(50)).empty());
    EXPECT_EQ(fresh.release(t0 + seconds(100)), (std::vector{returned(a, t0 + seconds(100), 2)}));
    EXPECT_EQ(fail(fresh, a, 1, t0 + seconds(110)).back().until, t0 + seconds(200));
}

}  // namespace
}  // namespace switchyard

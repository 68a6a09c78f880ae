// HealthTracker: the active-check verdict for one server, a rise/fall state
// machine fed with finished probes (the control thread runs the probes; this
// only decides what they mean). Plus the pure helpers around a probe: how to
// read its status code and when to send the next one.
//
// States and transitions (one tracker per server, starting unknown):
//   unknown   --`rise` consecutive successes-->  healthy
//   unknown   --1 failure-->                     unhealthy
//   healthy   --`fall` consecutive failures-->   unhealthy
//   unhealthy --`rise` consecutive successes-->  healthy
// Unknown is provisional trust: the server takes traffic before anything is
// known, but a single failed probe ends that trust at once, as a server
// starting in HAProxy's default init-state ("up": one failed check marks it
// down). Becoming healthy always takes `rise` successes in a row, from
// unknown too (unlike Envoy, whose first success suffices at start-up),
// because healthy is what opens the cutover gates: one lucky probe of a
// half-started pool must not let a switch through. Nothing returns to
// unknown. rise and fall of 0 count as 1.
#pragma once

#include <cstdint>
#include <string>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

class HealthTracker {
  public:
    HealthTracker(std::uint32_t rise, std::uint32_t fall);
    explicit HealthTracker(const HealthCheckSettings& settings)
        : HealthTracker(settings.rise, settings.fall) {}

    // A finished probe: CheckOutcome::ok is a success, anything else a
    // failure (`none` is ignored: it is not a result). True if the state
    // changed, so the control thread knows to publish a new view.
    bool record(const CheckResult& result);

    // Continues where the tracker of the process this one replaces (hot
    // upgrade, same settings) left off. `ejected` is not a check state and
    // counts as unknown; of the streaks only the one that `last` continues is
    // kept (one of them is always 0).
    void restore(HealthState state, const CheckResult& last, std::uint32_t successes,
                 std::uint32_t failures);

    HealthState state() const { return state_; }
    const CheckResult& last() const { return last_; }
    // The current streaks; one of them is always 0.
    std::uint32_t successes() const { return successes_; }
    std::uint32_t failures() const { return failures_; }
    std::uint32_t rise() const { return rise_; }
    std::uint32_t fall() const { return fall_; }

    // Why the state is what it is: describe(last()), and while the last
    // result pulls the other way, how far the streak has gone:
    //   "no check finished yet", "ok", "status 500",
    //   "timeout (1 of 3 to fall)" (healthy, failing), "ok (1 of 2 to rise)"
    //   (unknown or unhealthy, succeeding).
    std::string reason() const;

    // state, last result and reason, for combine_health().
    CheckStatus status() const;

  private:
    std::uint32_t rise_;
    std::uint32_t fall_;
    HealthState state_ = HealthState::unknown;
    CheckResult last_;
    std::uint32_t successes_ = 0;
    std::uint32_t failures_ = 0;
};

// A probe's HTTP status read against `expect` (expect_min..expect_max,
// inclusive): ok with the status, else bad_status with it.
CheckResult classify_status(std::uint16_t status, const HealthCheckSettings& settings);

// Probe jitter: a probe is scheduled interval ± 10 %, so the servers of a
// pool (and the pools of many instances) drift apart instead of being probed
// in lock-step, while the mean interval stays the configured one.
inline constexpr std::uint32_t kProbeJitterPercent = 10;

// When to probe next after a probe that finished (or was sent) at `now`:
// with J = interval × 10 % in whole milliseconds, a uniform whole number of
// milliseconds in [interval − J, interval + J]:
//   now + interval − J + floor(random × (2J + 1)),
// never sooner than 1 ms after now. `random` is a uniform draw in [0, 1),
// injected (0.5 gives exactly the interval); values outside are clamped into
// it.
HealthTime next_probe_time(HealthTime now, Duration interval, double random);

// When to send a server's first probe (start, a reload adding it): within
// the first 10 % of an interval, now + floor(random × (J + 1)), so that its
// unknown state is resolved quickly but a pool's probes do not all start in
// the same millisecond.
HealthTime first_probe_time(HealthTime now, Duration interval, double random);

}  // namespace switchyard

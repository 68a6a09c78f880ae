#include "switchyard/core/health_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchyard {

namespace {

std::uint32_t saturating_increment(std::uint32_t n) {
    return n == std::numeric_limits<std::uint32_t>::max() ? n : n + 1;
}

double clamp_random(double random) {
    if (!(random >= 0.0)) return 0.0;  // also NaN
    if (random >= 1.0) return std::nextafter(1.0, 0.0);
    return random;
}

}  // namespace

HealthTracker::HealthTracker(std::uint32_t rise, std::uint32_t fall)
    : rise_(std::max<std::uint32_t>(rise, 1)), fall_(std::max<std::uint32_t>(fall, 1)) {}

bool HealthTracker::record(const CheckResult& result) {
    if (result.outcome == CheckOutcome::none) return false;
    last_ = result;
    const HealthState before = state_;
    if (result.outcome == CheckOutcome::ok) {
        failures_ = 0;
        successes_ = saturating_increment(successes_);
        if (state_ != HealthState::healthy && successes_ >= rise_) state_ = HealthState::healthy;
    } else {
        successes_ = 0;
        failures_ = saturating_increment(failures_);
        if (state_ == HealthState::unknown ||
            (state_ == HealthState::healthy && failures_ >= fall_))
            state_ = HealthState::unhealthy;
    }
    return state_ != before;
}

void HealthTracker::restore(HealthState state, const CheckResult& last, std::uint32_t successes,
                            std::uint32_t failures) {
    state_ = state == HealthState::ejected ? HealthState::unknown : state;
    last_ = last;
    const bool ok = last.outcome == CheckOutcome::ok;
    const bool none = last.outcome == CheckOutcome::none;
    successes_ = ok ? successes : 0;
    failures_ = ok || none ? 0 : failures;
}

std::string HealthTracker::reason() const {
    std::string text = describe(last_);
    if (last_.outcome == CheckOutcome::none) return text;
    if (last_.outcome == CheckOutcome::ok && state_ != HealthState::healthy) {
        text += " (" + std::to_string(successes_) + " of " + std::to_string(rise_) + " to rise)";
    } else if (last_.outcome != CheckOutcome::ok && state_ == HealthState::healthy) {
        text += " (" + std::to_string(failures_) + " of " + std::to_string(fall_) + " to fall)";
    }
    return text;
}

CheckStatus HealthTracker::status() const {
    return CheckStatus{state_, last_, reason()};
}

CheckResult classify_status(std::uint16_t status, const HealthCheckSettings& settings) {
    CheckResult r;
    r.status = status;
    r.outcome = status >= settings.expect_min && status <= settings.expect_max
                    ? CheckOutcome::ok
                    : CheckOutcome::bad_status;
    return r;
}

namespace {

// The largest jitter of a probe interval, whole milliseconds.
Duration::rep max_jitter_ms(Duration interval) {
    return std::max<Duration::rep>(interval.count(), 0) * kProbeJitterPercent / 100;
}

// floor(random × n) for n >= 1: an integer in [0, n).
Duration::rep scaled(double random, Duration::rep n) {
    const auto v = static_cast<Duration::rep>(clamp_random(random) * static_cast<double>(n));
    return std::min(v, n - 1);
}

}  // namespace

HealthTime next_probe_time(HealthTime now, Duration interval, double random) {
    const Duration::rep jitter = max_jitter_ms(interval);
    const Duration::rep ms = interval.count() - jitter + scaled(random, 2 * jitter + 1);
    return now + Duration(std::max<Duration::rep>(ms, 1));
}

HealthTime first_probe_time(HealthTime now, Duration interval, double random) {
    return now + Duration(scaled(random, max_jitter_ms(interval) + 1));
}

}  // namespace switchyard

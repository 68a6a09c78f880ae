// Canary analysis: the judgement of one ramp step (DESIGN.md, "Progressive
// delivery: `ramp`"): is the canary pool worse than the baseline (the
// active pool) on the requests each got since the step started?
//
// Pure: the control plane gathers each side's StepCounts from the workers
// (each worker keeps its own, merged on read, like the traffic stats), calls
// judge_canary() every `interval`, feeds the verdict to the ramp
// (ramp.hpp) and shows the numbers in status, events and metrics.
//
// The statistics. Each rule is a one-sided exact binomial test at
// `confidence`: it fails when the canary's count of bad requests would be
// that high with probability < 1 - confidence (the p-value) if the canary
// were only as bad as the rule allows. So a canary exactly at the limit
// fails a judgement with probability at most 1 - confidence, and a clearly
// worse one fails as soon as its sample makes the difference significant.
//  - error increase: errors against p0 = U + max_error_increase points, U
//    the baseline's one-sided Clopper–Pearson upper bound at `confidence`.
//    The bound (rather than the baseline's observed rate) keeps a canary as
//    good as its baseline from failing when the baseline's own sample is
//    small and happened to see fewer errors than its true rate (with the
//    observed rate, A/A canaries at 5 % errors and 50-200 requests a side
//    failed 2-4 % of judgements at 99 %). The price is a little speed at
//    low error rates: 1 error in 950 bounds at 0.7 %, so a 5 % canary
//    against 0.1 % at 10 canary requests/s aborts after about 12 s
//    instead of 10 (ramp_simulation_test.cpp).
//  - error ceiling: errors against max_error_rate percent.
//  - latency: the canary's requests slower than T = max(max_p99_ratio ×
//    baseline p99, baseline p99 + min_p99_delta) against a 1 % share, or
//    against the baseline's own share above T (its upper bound) when that
//    is larger. A canary as fast as the baseline has about 1 % of its
//    requests above the baseline's p99, so fewer above T; one that is slower
//    across the board has most of them above T. A few slow requests (a cold
//    cache) do not move the share much, where they would move a raw p99
//    comparison. The baseline's share matters when its slowest 1 % sit far
//    from the rest (1 % of requests hit a slow query): its sampled p99 then
//    falls in the fast body half the time, T below the slow ones, and the
//    share above T is about 1 % on both sides: at a fixed 1 % limit, where
//    a few extra slow canary requests would fail it.
// Fewer than min_requests on either side: inconclusive (no rule is tested).
// The latency rule needs min_requests timed requests on each side (upgraded
// requests are not timed); without them it is skipped, not inconclusive, so
// a WebSocket-heavy service is still judged on its errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/latency_histogram.hpp"
#include "switchyard/core/rollout_settings.hpp"

namespace switchyard {

// What one pool counted since the step started: the requests the canary
// split placed on it (not overrides, mirrors or failovers), once answered.
struct StepCounts {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;  // status >= 500, Switchyard's own 502/503/504 included
    // Request written upstream → response head received, of the timed
    // requests (all but upgraded ones): latency.count() <= requests.
    LatencyHistogram latency{};

    // One answered request; latency_micros empty for an untimed one.
    void record(RequestOutcome outcome, std::optional<std::uint64_t> latency_micros) noexcept;
    // Adds another worker's counts of the same step.
    void merge(const StepCounts& other) noexcept;
    bool operator==(const StepCounts&) const = default;
};

// The canary's share above T may reach this, or the baseline's share above
// T if larger (DESIGN.md's 1 %).
inline constexpr double kLatencyShareLimit = 0.01;

enum class Verdict { pass, fail, inconclusive };
// pass: none; inconclusive: min_requests; fail: the first failing rule in
// this order.
enum class AnalysisRule { none, min_requests, error_increase, error_rate, latency };

std::string_view to_string(Verdict verdict);    // "pass", "fail", "inconclusive"
std::string_view to_string(AnalysisRule rule);  // "none", "min_requests", "error_increase", ...

// One side's numbers, for reasons, status and metrics.
struct SideNumbers {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    double error_ratio = 0.0;      // errors / requests; 0 without requests
    std::uint64_t timed = 0;       // latency samples
    std::uint64_t p99_micros = 0;  // 0 without timed requests (histogram upper bound: never low)
    bool operator==(const SideNumbers&) const = default;
};

// One rule's test: P(X >= observed | trials, limit) < 1 - confidence fails.
struct RuleTest {
    bool judged = false;  // enough data to test
    bool failed = false;
    double limit = 0.0;          // the canary's allowed rate (a fraction) the test is against
    std::uint64_t observed = 0;  // canary errors, or canary requests slower than T
    std::uint64_t trials = 0;    // canary requests, or canary timed requests
    double p_value = 1.0;        // 1 when not judged
    bool operator==(const RuleTest&) const = default;
};

struct CanaryJudgement {
    Verdict verdict = Verdict::inconclusive;
    AnalysisRule rule = AnalysisRule::min_requests;
    SideNumbers baseline;
    SideNumbers canary;
    RuleTest error_increase;
    RuleTest error_rate;
    RuleTest latency;
    // T, rounded up to the end of its histogram bucket so that every request
    // counted above it really is above it; 0 when the latency rule was not
    // judged.
    std::uint64_t latency_threshold_micros = 0;
    // The baseline's timed requests above T, and the upper bound of that
    // share at `confidence` (a fraction); 0 when the rule was not judged.
    std::uint64_t baseline_slower = 0;
    double baseline_slower_bound = 0.0;
    // U, the baseline's error rate's upper bound the increase rule adds its
    // points to (a fraction); 0 when inconclusive.
    double baseline_error_bound = 0.0;
    std::uint64_t min_requests = 0;   // as applied (at least 1)
    CanaryAnalysisSettings settings;  // judged with
    bool operator==(const CanaryJudgement&) const = default;
};

CanaryJudgement judge_canary(const StepCounts& baseline, const StepCounts& canary,
                             const CanaryAnalysisSettings& settings);

// One line for the ramp's reason, events and `--wait` output, e.g.
//   canary has 37 of 50 requests needed
//   error rate: canary 5.20 % (13 of 250) vs baseline 0.10 % (1 of 1000),
//     above the baseline + 1.00 points (tested against 1.73 %, p = 2.1e-05)
//   latency: 48.00 % of canary requests (120 of 250) slower than 18.4 ms
//     (baseline p99 12.3 ms), above 1.00 % (p = 1e-50); baseline 2 of 1000,
//     canary p99 62.1 ms
//   error rate: canary 9.00 % (90 of 1000) above the 5.00 % ceiling (p = 0.00012);
//     baseline 8.00 % (800 of 10000)
//   pass: canary 0.40 % (1 of 250), p99 12.1 ms; baseline 0.10 % (1 of 1000), p99 11.8 ms
std::string describe(const CanaryJudgement& judgement);

// Both sides' numbers without the verdict, for reasons that give their own:
//   canary 0.40 % (1 of 250), p99 12.1 ms; baseline 0.10 % (1 of 1000), p99 11.8 ms
std::string describe_sides(const CanaryJudgement& judgement);

// "12.3 ms", "0.85 ms", "1250 ms": latencies in reasons.
std::string format_latency_ms(std::uint64_t micros);

}  // namespace switchyard

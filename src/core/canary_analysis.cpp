#include "switchyard/core/canary_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "switchyard/core/binomial.hpp"

namespace switchyard {
namespace {

// snprintf into a string: <format> is not in the toolchain (g++ 12).
template <typename... Args>
std::string printf_string(const char* format, Args... args) {
    char buffer[256];
    const int n = std::snprintf(buffer, sizeof buffer, format, args...);
    if (n < 0) return {};
    return std::string(buffer, std::min(static_cast<std::size_t>(n), sizeof buffer - 1));
}

std::string percent(double ratio) {
    return printf_string("%.2f %%", ratio * 100);
}

std::string p_value_text(double p) {
    return printf_string("p = %.2g", p);
}

SideNumbers numbers_of(const StepCounts& counts) {
    SideNumbers n;
    n.requests = counts.requests;
    n.errors = counts.errors;
    n.error_ratio = counts.requests == 0
                        ? 0.0
                        : static_cast<double>(counts.errors) / static_cast<double>(counts.requests);
    n.timed = counts.latency.count();
    n.p99_micros = counts.latency.quantile(0.99);
    return n;
}

// The canary's `observed` bad requests out of `trials` against the rate
// `limit`: fails when that many or more would be rarer than 1 - confidence.
RuleTest binomial_rule(std::uint64_t observed, std::uint64_t trials, double limit,
                       double confidence) {
    RuleTest t;
    t.judged = true;
    t.limit = std::clamp(limit, 0.0, 1.0);
    t.observed = observed;
    t.trials = trials;
    t.p_value = binomial_upper_tail(observed, trials, t.limit);
    t.failed = t.p_value < 1.0 - confidence;
    return t;
}

// T = max(ratio × p99, p99 + delta), rounded up to the end of its bucket:
// count_at_or_below is exact there, so no request at or below T is counted
// as slower (the rounding adds at most 1/32 to T, in the canary's favour).
std::uint64_t latency_threshold(std::uint64_t baseline_p99, const CanaryAnalysisSettings& s) {
    const double p99 = static_cast<double>(baseline_p99);
    const double delta = static_cast<double>(
        std::chrono::duration_cast<std::chrono::microseconds>(s.min_p99_delta).count());
    const double raw = std::max(s.max_p99_ratio * p99, p99 + std::max(delta, 0.0));
    const double limit = static_cast<double>(LatencyHistogram::kMaxValue);
    const auto t = static_cast<std::uint64_t>(std::ceil(std::clamp(raw, 0.0, limit)));
    return LatencyHistogram::bucket_upper(LatencyHistogram::bucket_index(t));
}

AnalysisRule first_failed(const CanaryJudgement& j) {
    if (j.error_increase.failed) return AnalysisRule::error_increase;
    if (j.error_rate.failed) return AnalysisRule::error_rate;
    if (j.latency.failed) return AnalysisRule::latency;
    return AnalysisRule::none;
}

std::string describe_missing(const CanaryJudgement& j) {
    const bool canary_short = j.canary.requests < j.min_requests;
    const bool baseline_short = j.baseline.requests < j.min_requests;
    const std::string needed = " of " + std::to_string(j.min_requests) + " requests needed";
    if (canary_short && baseline_short)
        return "canary has " + std::to_string(j.canary.requests) + " and baseline " +
               std::to_string(j.baseline.requests) + needed;
    if (canary_short) return "canary has " + std::to_string(j.canary.requests) + needed;
    return "baseline has " + std::to_string(j.baseline.requests) + needed;
}

std::string rate_of(const SideNumbers& side) {
    return percent(side.error_ratio) + " (" + std::to_string(side.errors) + " of " +
           std::to_string(side.requests) + ")";
}

std::string describe_error_increase(const CanaryJudgement& j) {
    return "error rate: canary " + rate_of(j.canary) + " vs baseline " + rate_of(j.baseline) +
           ", above the baseline + " + printf_string("%.2f", j.settings.max_error_increase) +
           " points (tested against " + percent(j.error_increase.limit) + ", " +
           p_value_text(j.error_increase.p_value) + ")";
}

std::string describe_error_rate(const CanaryJudgement& j) {
    return "error rate: canary " + rate_of(j.canary) + " above the " + percent(j.error_rate.limit) +
           " ceiling (" + p_value_text(j.error_rate.p_value) + "); baseline " + rate_of(j.baseline);
}

std::string describe_latency(const CanaryJudgement& j) {
    const RuleTest& t = j.latency;
    const double share =
        t.trials == 0 ? 0.0 : static_cast<double>(t.observed) / static_cast<double>(t.trials);
    return "latency: " + percent(share) + " of canary requests (" + std::to_string(t.observed) +
           " of " + std::to_string(t.trials) + ") slower than " +
           format_latency_ms(j.latency_threshold_micros) + " (baseline p99 " +
           format_latency_ms(j.baseline.p99_micros) + "), above " + percent(t.limit) + " (" +
           p_value_text(t.p_value) + "); baseline " + std::to_string(j.baseline_slower) + " of " +
           std::to_string(j.baseline.timed) + ", canary p99 " +
           format_latency_ms(j.canary.p99_micros);
}

std::string side_summary(const SideNumbers& side) {
    std::string out = rate_of(side);
    if (side.timed > 0) out += ", p99 " + format_latency_ms(side.p99_micros);
    return out;
}

}  // namespace

void StepCounts::record(RequestOutcome outcome,
                        std::optional<std::uint64_t> latency_micros) noexcept {
    ++requests;
    if (outcome == RequestOutcome::error) ++errors;
    if (latency_micros) latency.record(*latency_micros);
}

void StepCounts::merge(const StepCounts& other) noexcept {
    requests += other.requests;
    errors += other.errors;
    latency.merge(other.latency);
}

std::string_view to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::pass:
            return "pass";
        case Verdict::fail:
            return "fail";
        case Verdict::inconclusive:
            return "inconclusive";
    }
    return "?";
}

std::string_view to_string(AnalysisRule rule) {
    switch (rule) {
        case AnalysisRule::none:
            return "none";
        case AnalysisRule::min_requests:
            return "min_requests";
        case AnalysisRule::error_increase:
            return "error_increase";
        case AnalysisRule::error_rate:
            return "error_rate";
        case AnalysisRule::latency:
            return "latency";
    }
    return "?";
}

CanaryJudgement judge_canary(const StepCounts& baseline, const StepCounts& canary,
                             const CanaryAnalysisSettings& settings) {
    CanaryJudgement j;
    j.baseline = numbers_of(baseline);
    j.canary = numbers_of(canary);
    j.min_requests = std::max<std::uint64_t>(settings.min_requests, 1);
    j.settings = settings;
    if (baseline.requests < j.min_requests || canary.requests < j.min_requests) {
        j.verdict = Verdict::inconclusive;
        j.rule = AnalysisRule::min_requests;
        return j;
    }
    j.baseline_error_bound =
        binomial_upper_bound(baseline.errors, baseline.requests, settings.confidence);
    j.error_increase = binomial_rule(canary.errors, canary.requests,
                                     j.baseline_error_bound + settings.max_error_increase / 100.0,
                                     settings.confidence);
    j.error_rate = binomial_rule(canary.errors, canary.requests, settings.max_error_rate / 100.0,
                                 settings.confidence);
    if (j.baseline.timed >= j.min_requests && j.canary.timed >= j.min_requests) {
        const std::uint64_t t = latency_threshold(j.baseline.p99_micros, settings);
        j.latency_threshold_micros = t;
        j.baseline_slower = j.baseline.timed - baseline.latency.count_at_or_below(t);
        j.baseline_slower_bound =
            binomial_upper_bound(j.baseline_slower, j.baseline.timed, settings.confidence);
        const std::uint64_t slower = j.canary.timed - canary.latency.count_at_or_below(t);
        j.latency = binomial_rule(slower, j.canary.timed,
                                  std::max(kLatencyShareLimit, j.baseline_slower_bound),
                                  settings.confidence);
    }
    j.rule = first_failed(j);
    j.verdict = j.rule == AnalysisRule::none ? Verdict::pass : Verdict::fail;
    return j;
}

std::string describe(const CanaryJudgement& j) {
    switch (j.rule) {
        case AnalysisRule::min_requests:
            return describe_missing(j);
        case AnalysisRule::error_increase:
            return describe_error_increase(j);
        case AnalysisRule::error_rate:
            return describe_error_rate(j);
        case AnalysisRule::latency:
            return describe_latency(j);
        case AnalysisRule::none:
            break;
    }
    return "pass: " + describe_sides(j);
}

std::string describe_sides(const CanaryJudgement& j) {
    return "canary " + side_summary(j.canary) + "; baseline " + side_summary(j.baseline);
}

std::string format_latency_ms(std::uint64_t micros) {
    const double ms = static_cast<double>(micros) / 1000.0;
    if (ms >= 100) return printf_string("%.0f ms", ms);
    if (ms >= 1) return printf_string("%.1f ms", ms);
    return printf_string("%.2f ms", ms);
}

}  // namespace switchyard

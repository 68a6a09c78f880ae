#include "switchyard/core/canary_analysis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace switchyard {
namespace {

// Simulated traffic from a fixed generator: std::mt19937_64's sequence is
// fixed by the standard (the std distributions are not), so every platform
// sees the same requests.
class Traffic {
  public:
    explicit Traffic(std::uint64_t seed) : engine_(seed) {}

    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    std::uint64_t between(std::uint64_t low, std::uint64_t high) {
        return low + static_cast<std::uint64_t>(uniform() * static_cast<double>(high - low + 1));
    }

  private:
    std::mt19937_64 engine_;
};

using LatencyModel = std::function<std::uint64_t(Traffic&)>;

// A typical upstream: 8 ms plus an exponential tail of mean 2 ms (p99 about
// 17 ms).
std::uint64_t typical_latency(Traffic& t) {
    return 8000 + static_cast<std::uint64_t>(-std::log1p(-t.uniform()) * 2000);
}

// A harder one: 8–12 ms, and exactly 1 % of requests 20–60 ms (a slow
// query): the sampled p99 falls in the fast body or in the slow 1 %, by
// chance.
std::uint64_t cliff_latency(Traffic& t) {
    if (t.uniform() < 0.01) return t.between(20000, 60000);
    return t.between(8000, 12000);
}

StepCounts simulate(Traffic& t, std::uint64_t requests, double error_ratio,
                    const LatencyModel& latency = typical_latency) {
    StepCounts c;
    for (std::uint64_t i = 0; i < requests; ++i)
        c.record(t.uniform() < error_ratio ? RequestOutcome::error : RequestOutcome::ok,
                 latency(t));
    return c;
}

// Exact counts, every request timed at `micros`.
StepCounts counts(std::uint64_t requests, std::uint64_t errors, std::uint64_t micros = 10000) {
    StepCounts c;
    for (std::uint64_t i = 0; i < requests; ++i)
        c.record(i < errors ? RequestOutcome::error : RequestOutcome::ok, micros);
    return c;
}

CanaryAnalysisSettings defaults() {
    return {};
}

TEST(CanaryAnalysisTest, DefaultsAreTheDocumentedOnes) {
    const CanaryAnalysisSettings s;
    EXPECT_EQ(s.min_requests, 50u);
    EXPECT_EQ(s.max_error_increase, 1.0);
    EXPECT_EQ(s.max_error_rate, 5.0);
    EXPECT_EQ(s.confidence, 0.99);
    EXPECT_EQ(s.max_p99_ratio, 1.5);
    EXPECT_EQ(s.min_p99_delta, std::chrono::milliseconds(5));
}

TEST(CanaryAnalysisTest, StepCountsRecordAndMerge) {
    StepCounts a;
    a.record(RequestOutcome::ok, 1000);
    a.record(RequestOutcome::error, std::nullopt);  // an upgraded request: counted, not timed
    StepCounts b;
    b.record(RequestOutcome::error, 3000);
    a.merge(b);
    EXPECT_EQ(a.requests, 3u);
    EXPECT_EQ(a.errors, 2u);
    EXPECT_EQ(a.latency.count(), 2u);
    EXPECT_EQ(a.latency.max(), 3000u);
}

TEST(CanaryAnalysisTest, FewerThanMinRequestsOnEitherSideIsInconclusive) {
    struct Case {
        std::uint64_t baseline, canary;
        const char* reason;
    };
    const Case cases[] = {
        {1000, 49, "canary has 49 of 50 requests needed"},
        {49, 1000, "baseline has 49 of 50 requests needed"},
        {12, 37, "canary has 37 and baseline 12 of 50 requests needed"},
        {0, 0, "canary has 0 and baseline 0 of 50 requests needed"},
    };
    for (const Case& c : cases) {
        // Even a canary failing every request is not judged on too few.
        const CanaryJudgement j =
            judge_canary(counts(c.baseline, 0), counts(c.canary, c.canary), defaults());
        EXPECT_EQ(j.verdict, Verdict::inconclusive) << c.reason;
        EXPECT_EQ(j.rule, AnalysisRule::min_requests);
        EXPECT_FALSE(j.error_increase.judged);
        EXPECT_FALSE(j.error_rate.judged);
        EXPECT_FALSE(j.latency.judged);
        EXPECT_EQ(describe(j), c.reason);
        EXPECT_EQ(j.canary.requests, c.canary);
        EXPECT_EQ(j.baseline.requests, c.baseline);
    }
    // Exactly min_requests on both sides is judged.
    const CanaryJudgement j = judge_canary(counts(50, 0), counts(50, 0), defaults());
    EXPECT_EQ(j.verdict, Verdict::pass);
}

TEST(CanaryAnalysisTest, MinRequestsZeroCountsAsOne) {
    CanaryAnalysisSettings s;
    s.min_requests = 0;
    EXPECT_EQ(judge_canary(counts(10, 0), counts(0, 0), s).verdict, Verdict::inconclusive);
    EXPECT_EQ(judge_canary(counts(10, 0), counts(1, 0), s).verdict, Verdict::pass);
}

TEST(CanaryAnalysisTest, ClearlyWorseCanaryFailsWithAFewHundredRequests) {
    // 5 % errors against a 0.1 % baseline, at a 5 % step: the baseline gets
    // 19 requests for each canary one.
    int failed_at_300 = 0;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        Traffic t(seed);
        const StepCounts baseline = simulate(t, 5700, 0.001);
        const StepCounts canary = simulate(t, 300, 0.05);
        const CanaryJudgement j = judge_canary(baseline, canary, defaults());
        if (j.verdict == Verdict::fail) {
            ++failed_at_300;
            EXPECT_EQ(j.rule, AnalysisRule::error_increase) << seed;
        }
        Traffic more(seed + 1000);
        const CanaryJudgement later =
            judge_canary(simulate(more, 9500, 0.001), simulate(more, 500, 0.05), defaults());
        EXPECT_EQ(later.verdict, Verdict::fail) << "seed " << seed << ": " << describe(later);
    }
    EXPECT_GE(failed_at_300, 90);
}

TEST(CanaryAnalysisTest, WorseCanaryExactNumbers) {
    const CanaryJudgement j = judge_canary(counts(5700, 6), counts(300, 15), defaults());
    EXPECT_EQ(j.verdict, Verdict::fail);
    EXPECT_EQ(j.rule, AnalysisRule::error_increase);
    EXPECT_TRUE(j.error_increase.failed);
    EXPECT_FALSE(j.error_rate.failed);  // 5 % is not above the 5 % ceiling
    EXPECT_EQ(j.error_increase.observed, 15u);
    EXPECT_EQ(j.error_increase.trials, 300u);
    // The limit is the baseline's upper bound plus one point.
    EXPECT_NEAR(j.error_increase.limit, j.baseline_error_bound + 0.01, 1e-15);
    EXPECT_GT(j.baseline_error_bound, 6.0 / 5700);
    EXPECT_LT(j.baseline_error_bound, 0.003);
    EXPECT_LT(j.error_increase.p_value, 0.01);
    EXPECT_DOUBLE_EQ(j.canary.error_ratio, 0.05);
    EXPECT_DOUBLE_EQ(j.baseline.error_ratio, 6.0 / 5700);
    const std::string reason = describe(j);
    EXPECT_NE(reason.find("error rate: canary 5.00 % (15 of 300) vs baseline 0.11 % (6 of 5700)"),
              std::string::npos)
        << reason;
    EXPECT_NE(reason.find("above the baseline + 1.00 points"), std::string::npos) << reason;
}

// A/A: the canary runs the same build as the baseline. Over 1 000
// judgements per error rate, at sample sizes of a ramp's steps (1 %, 5 %,
// 25 % and 50 % of the traffic), the judgement must not fail more often than
// 1 - confidence allows; with the 1-point margin it should almost never.
// (Rates below the 5 % ceiling: at the ceiling, that rule is meant to fail.)
TEST(CanaryAnalysisTest, AaCanaryIsNotFailedMoreThanTheConfidenceAllows) {
    struct Size {
        std::uint64_t baseline, canary;
    };
    const Size sizes[] = {{50, 50}, {4950, 50}, {1900, 100}, {600, 200}, {1000, 1000}};
    for (double error_ratio : {0.001, 0.01, 0.03}) {
        for (LatencyModel latency : {LatencyModel(typical_latency), LatencyModel(cliff_latency)}) {
            int judged = 0;
            int failed = 0;
            for (std::uint64_t seed = 0; seed < 200; ++seed) {
                for (const Size& size : sizes) {
                    Traffic t(seed * 7919 + size.canary);
                    const StepCounts baseline = simulate(t, size.baseline, error_ratio, latency);
                    const StepCounts canary = simulate(t, size.canary, error_ratio, latency);
                    const CanaryJudgement j = judge_canary(baseline, canary, defaults());
                    ASSERT_NE(j.verdict, Verdict::inconclusive);
                    ++judged;
                    if (j.verdict == Verdict::fail) ++failed;
                }
            }
            EXPECT_EQ(judged, 1000);
            EXPECT_LE(failed, 2) << "error ratio " << error_ratio;  // 0.2 %, well under 1 %
        }
    }
}

// Without the margin the test still holds its level: the baseline's upper
// bound, not its observed rate, is what the canary is compared with.
TEST(CanaryAnalysisTest, AaCanaryWithoutMarginStaysWithinTheConfidence) {
    CanaryAnalysisSettings s;
    s.max_error_increase = 0.0;
    int failed = 0;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) {
        Traffic t(seed + 50000);
        const std::uint64_t n = 100 + (seed % 5) * 200;
        const CanaryJudgement j = judge_canary(simulate(t, n, 0.05), simulate(t, n, 0.05), s);
        if (j.verdict == Verdict::fail) ++failed;
    }
    EXPECT_LT(failed, 10);  // < 1 %
}

TEST(CanaryAnalysisTest, TheCeilingIsAbsolute) {
    // A baseline at 8 % errors does not raise the ceiling: an A/A canary of
    // that build fails it, as a canary at 8 % should.
    Traffic t(99);
    const CanaryJudgement j =
        judge_canary(simulate(t, 2000, 0.08), simulate(t, 1000, 0.08), defaults());
    EXPECT_EQ(j.verdict, Verdict::fail);
    EXPECT_EQ(j.rule, AnalysisRule::error_rate);
}

TEST(CanaryAnalysisTest, ErrorCeilingFailsABadCanaryNextToABadBaseline) {
    // The baseline is itself at 8 %: 9 % is within its + 1 point, but above
    // the 5 % ceiling.
    const CanaryJudgement j = judge_canary(counts(10000, 800), counts(1000, 90), defaults());
    EXPECT_EQ(j.verdict, Verdict::fail);
    EXPECT_EQ(j.rule, AnalysisRule::error_rate);
    EXPECT_FALSE(j.error_increase.failed);
    EXPECT_TRUE(j.error_rate.failed);
    EXPECT_DOUBLE_EQ(j.error_rate.limit, 0.05);
    const std::string reason = describe(j);
    EXPECT_NE(reason.find("error rate: canary 9.00 % (90 of 1000) above the 5.00 % ceiling"),
              std::string::npos)
        << reason;
    EXPECT_NE(reason.find("baseline 8.00 % (800 of 10000)"), std::string::npos) << reason;
}

TEST(CanaryAnalysisTest, ACeilingOfOneHundredPercentNeverFails) {
    CanaryAnalysisSettings s;
    s.max_error_rate = 100.0;
    s.max_error_increase = 100.0;
    const CanaryJudgement j = judge_canary(counts(100, 0), counts(100, 100), s);
    EXPECT_EQ(j.verdict, Verdict::pass);
    EXPECT_EQ(j.error_rate.p_value, 1.0);
}

TEST(CanaryAnalysisTest, ABaselineFailingEverythingLeavesNoRoomToBeWorse) {
    const CanaryJudgement j = judge_canary(counts(100, 100), counts(100, 3), defaults());
    EXPECT_EQ(j.baseline_error_bound, 1.0);
    EXPECT_DOUBLE_EQ(j.error_increase.limit, 1.0);
    EXPECT_FALSE(j.error_increase.failed);
}

TEST(CanaryAnalysisTest, WhenSeveralRulesFailTheFirstIsReported) {
    // Errors far above both limits and 50 ms slower.
    const CanaryJudgement j =
        judge_canary(counts(1000, 0, 10000), counts(200, 100, 60000), defaults());
    EXPECT_TRUE(j.error_increase.failed);
    EXPECT_TRUE(j.error_rate.failed);
    EXPECT_TRUE(j.latency.failed);
    EXPECT_EQ(j.rule, AnalysisRule::error_increase);
}

TEST(CanaryAnalysisTest, LatencyRuleFailsACanaryFiftyMillisecondsSlower) {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        Traffic t(seed);
        const StepCounts baseline = simulate(t, 950, 0.0);
        const StepCounts canary =
            simulate(t, 50, 0.0, [](Traffic& r) { return typical_latency(r) + 50000; });
        const CanaryJudgement j = judge_canary(baseline, canary, defaults());
        EXPECT_EQ(j.verdict, Verdict::fail) << seed;
        EXPECT_EQ(j.rule, AnalysisRule::latency) << seed;
        EXPECT_FALSE(j.error_increase.failed);
    }
}

TEST(CanaryAnalysisTest, LatencyRuleIgnoresAFewSlowRequests) {
    // 0.5 % of the canary's requests take 20–40 ms longer: its raw p99 can
    // well be above the baseline's, but the share above T stays under 1 %.
    const LatencyModel few_slow = [](Traffic& r) {
        const std::uint64_t base = typical_latency(r);
        return r.uniform() < 0.005 ? base + r.between(20000, 40000) : base;
    };
    int p99_higher = 0;
    for (std::uint64_t canary_requests : {200u, 500u, 2000u}) {
        for (std::uint64_t seed = 1; seed <= 100; ++seed) {
            Traffic t(seed * 31 + canary_requests);
            const StepCounts baseline = simulate(t, canary_requests * 4, 0.0);
            const StepCounts canary = simulate(t, canary_requests, 0.0, few_slow);
            const CanaryJudgement j = judge_canary(baseline, canary, defaults());
            ASSERT_TRUE(j.latency.judged);
            EXPECT_FALSE(j.latency.failed) << describe(j);
            if (j.canary.p99_micros > j.latency_threshold_micros) ++p99_higher;
        }
    }
    // A raw comparison, canary p99 above T, would have failed these.
    EXPECT_GT(p99_higher, 5);
}

TEST(CanaryAnalysisTest, AaLatencyWithASlowOnePercentIsNotFailed) {
    // The cliff: half the time the baseline's p99 is in the fast body and
    // T below every slow request, so both sides have about 1 % above T. The
    // baseline's own share is the limit then, not a fixed 1 %.
    int failed = 0;
    int body_p99 = 0;
    for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
        Traffic t(seed + 777);
        const std::uint64_t n = 200 + (seed % 4) * 600;
        const CanaryJudgement j = judge_canary(simulate(t, n * 3, 0.0, cliff_latency),
                                               simulate(t, n, 0.0, cliff_latency), defaults());
        if (j.latency.failed) ++failed;
        if (j.baseline.p99_micros < 20000) ++body_p99;
    }
    EXPECT_GT(body_p99, 200);  // the case arises
    EXPECT_LT(failed, 10);     // < 1 %
}

TEST(CanaryAnalysisTest, LatencyExactThresholdAndCounts) {
    // Baseline all at 10 ms: p99 10 ms, T = max(15, 10 + 5) = 15 ms, rounded
    // up to its bucket's end (15103 µs).
    StepCounts canary = counts(100, 0, 15000);  // at T: not slower
    for (int i = 0; i < 10; ++i)
        canary.record(RequestOutcome::ok, 15200);  // above the bucket: slower
    const CanaryJudgement j = judge_canary(counts(1000, 0, 10000), canary, defaults());
    EXPECT_EQ(j.baseline.p99_micros, 10000u);
    EXPECT_EQ(j.latency_threshold_micros, 15103u);
    EXPECT_EQ(j.latency.observed, 10u);
    EXPECT_EQ(j.latency.trials, 110u);
    EXPECT_DOUBLE_EQ(j.latency.limit, 0.01);
    EXPECT_EQ(j.verdict, Verdict::fail);  // 9 % of 110 is well above 1 %
    const std::string reason = describe(j);
    EXPECT_EQ(j.baseline_slower, 0u);
    EXPECT_NE(reason.find("latency: 9.09 % of canary requests (10 of 110) slower than 15.1 ms "
                          "(baseline p99 10.0 ms), above 1.00 % (p = "),
              std::string::npos)
        << reason;
}

TEST(CanaryAnalysisTest, LatencyThresholdTakesTheLargerOfRatioAndDelta) {
    // 4 ms baseline: 1.5 × 4 = 6 ms < 4 + 5 = 9 ms.
    CanaryJudgement j = judge_canary(counts(100, 0, 4000), counts(100, 0, 4000), defaults());
    EXPECT_GE(j.latency_threshold_micros, 9000u);
    EXPECT_LE(j.latency_threshold_micros, 9000u * 33 / 32);
    // 40 ms baseline: 1.5 × 40 = 60 ms > 45 ms.
    j = judge_canary(counts(100, 0, 40000), counts(100, 0, 40000), defaults());
    EXPECT_GE(j.latency_threshold_micros, 60000u);
    EXPECT_LE(j.latency_threshold_micros, 60000u * 33 / 32);
    // A ratio of 1 and no delta: T is the baseline's p99 itself.
    CanaryAnalysisSettings s;
    s.max_p99_ratio = 1.0;
    s.min_p99_delta = std::chrono::milliseconds(0);
    j = judge_canary(counts(100, 0, 40000), counts(100, 0, 40000), s);
    EXPECT_EQ(j.latency_threshold_micros,
              LatencyHistogram::bucket_upper(LatencyHistogram::bucket_index(40000)));
    EXPECT_EQ(j.latency.observed, 0u);
}

TEST(CanaryAnalysisTest, LatencyRuleNeedsTimedRequestsOnBothSides) {
    // Upgraded (WebSocket) requests are counted but not timed: judged on
    // errors alone rather than held forever.
    StepCounts canary;
    for (int i = 0; i < 100; ++i)
        canary.record(RequestOutcome::ok, std::nullopt);
    const CanaryJudgement j = judge_canary(counts(1000, 0), canary, defaults());
    EXPECT_EQ(j.verdict, Verdict::pass);
    EXPECT_FALSE(j.latency.judged);
    EXPECT_TRUE(j.error_increase.judged);
    EXPECT_EQ(j.latency_threshold_micros, 0u);
    EXPECT_EQ(describe(j),
              "pass: canary 0.00 % (0 of 100); baseline 0.00 % (0 of 1000), p99 10.0 ms");
}

TEST(CanaryAnalysisTest, PassDescribesBothSides) {
    const CanaryJudgement j =
        judge_canary(counts(1000, 1, 11800), counts(250, 1, 12100), defaults());
    EXPECT_EQ(j.verdict, Verdict::pass);
    EXPECT_EQ(j.rule, AnalysisRule::none);
    EXPECT_EQ(
        describe(j),
        "pass: canary 0.40 % (1 of 250), p99 12.1 ms; baseline 0.10 % (1 of 1000), p99 11.8 ms");
}

TEST(CanaryAnalysisTest, JudgementKeepsTheSettingsItUsed) {
    CanaryAnalysisSettings s;
    s.confidence = 0.95;
    s.min_requests = 10;
    const CanaryJudgement j = judge_canary(counts(10, 0), counts(10, 0), s);
    EXPECT_EQ(j.settings, s);
    EXPECT_EQ(j.min_requests, 10u);
}

TEST(CanaryAnalysisTest, LowerConfidenceFailsSooner) {
    // 4 errors in 100 against a clean baseline of 2000: significant at 95 %,
    // not at 99.9 %.
    CanaryAnalysisSettings loose;
    loose.confidence = 0.95;
    CanaryAnalysisSettings strict;
    strict.confidence = 0.999;
    const StepCounts baseline = counts(2000, 0);
    const StepCounts canary = counts(100, 5);
    const CanaryJudgement a = judge_canary(baseline, canary, loose);
    const CanaryJudgement b = judge_canary(baseline, canary, strict);
    EXPECT_EQ(a.verdict, Verdict::fail) << describe(a);
    EXPECT_EQ(b.verdict, Verdict::pass) << describe(b);
}

TEST(CanaryAnalysisTest, Names) {
    EXPECT_EQ(to_string(Verdict::pass), "pass");
    EXPECT_EQ(to_string(Verdict::fail), "fail");
    EXPECT_EQ(to_string(Verdict::inconclusive), "inconclusive");
    EXPECT_EQ(to_string(AnalysisRule::none), "none");
    EXPECT_EQ(to_string(AnalysisRule::min_requests), "min_requests");
    EXPECT_EQ(to_string(AnalysisRule::error_increase), "error_increase");
    EXPECT_EQ(to_string(AnalysisRule::error_rate), "error_rate");
    EXPECT_EQ(to_string(AnalysisRule::latency), "latency");
    EXPECT_EQ(format_latency_ms(850), "0.85 ms");
    EXPECT_EQ(format_latency_ms(12345), "12.3 ms");
    EXPECT_EQ(format_latency_ms(1250000), "1250 ms");
}

}  // namespace
}  // namespace switchyard

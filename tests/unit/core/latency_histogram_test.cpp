#include "switchyard/core/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using H = LatencyHistogram;
using TimePoint = WindowedHistogram::TimePoint;

// A quantile as a fraction num/den, so the test computes the exact nearest
// rank in integers, independently of LatencyHistogram::rank.
struct Fraction {
    std::uint64_t num = 0;
    std::uint64_t den = 1;
    double value() const { return static_cast<double>(num) / static_cast<double>(den); }
};

const std::vector<Fraction> kQuantiles = {
    {0, 1},    {1, 1000000}, {1, 1000},     {7, 100},          {1, 10}, {1, 4}, {1, 2}, {9, 10},
    {99, 100}, {999, 1000},  {9999, 10000}, {999999, 1000000}, {1, 3},  {2, 3}, {1, 1},
};

// The smallest value v with at least max(1, ceil(q n)) samples <= v.
std::uint64_t exact_quantile(const std::vector<std::uint64_t>& sorted, Fraction q) {
    const std::uint64_t n = sorted.size();
    std::uint64_t rank = (q.num * n + q.den - 1) / q.den;  // ceil
    rank = std::clamp<std::uint64_t>(rank, 1, n);
    return sorted[rank - 1];
}

H histogram_of(const std::vector<std::uint64_t>& values) {
    H h;
    for (std::uint64_t v : values)
        h.record(v);
    return h;
}

// Every quantile of kQuantiles (and some random ones) within the bound:
// x <= r <= x (1 + kRelativeError), exact below 64, and for clamped x
// kMaxValue <= r <= x.
void expect_quantiles_within_bound(const std::vector<std::uint64_t>& values,
                                   const std::string& what, double bound = H::kRelativeError) {
    SCOPED_TRACE(what + ", n = " + std::to_string(values.size()));
    const H h = histogram_of(values);
    std::vector<std::uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());

    std::vector<Fraction> qs = kQuantiles;
    std::mt19937_64 rng(values.size());
    for (int i = 0; i < 50; ++i)
        qs.push_back({std::uniform_int_distribution<std::uint64_t>(0, 100000)(rng), 100000});

    for (const Fraction& q : qs) {
        const std::uint64_t x = exact_quantile(sorted, q);
        const std::uint64_t r = h.quantile(q.value());
        SCOPED_TRACE("q = " + std::to_string(q.num) + "/" + std::to_string(q.den) + ", exact " +
                     std::to_string(x) + ", reported " + std::to_string(r));
        if (x > H::kMaxValue) {
            EXPECT_GE(r, H::kMaxValue);
            EXPECT_LE(r, x);
            continue;
        }
        EXPECT_GE(r, x);
        EXPECT_LE(static_cast<double>(r - x), static_cast<double>(x) * bound);
        if (x < 2 * H::kSubBuckets) {
            EXPECT_EQ(r, x);
        }
        // Consistent with the cumulative counts: r's bucket holds the rank.
        EXPECT_GE(h.count_at_or_below(H::bucket_upper(H::bucket_index(r))),
                  H::rank(q.value(), values.size()));
    }
    EXPECT_EQ(h.quantile(0.0), sorted.front());
    EXPECT_EQ(h.quantile(1.0), sorted.back());
}

std::vector<std::uint64_t> generate(std::size_t n, std::uint64_t seed, auto&& draw) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint64_t> v(n);
    for (auto& x : v)
        x = draw(rng);
    return v;
}

std::uint64_t to_micros(double x) {
    if (!(x > 0)) return 0;
    if (x >= 1.8e19) return UINT64_MAX;
    return static_cast<std::uint64_t>(std::llround(x));
}

const std::vector<std::size_t> kSizes = {1, 2, 3, 10, 101, 1000, 100003};

// --- layout ---

TEST(LatencyHistogram, LayoutCoversEveryValueOnceWithBoundedWidth) {
    EXPECT_EQ(H::bucket_count(), 896u);
    EXPECT_EQ(H::kMaxValue, 4294967295u);
    EXPECT_GE(H::kMaxValue, 3600u * 1000 * 1000);  // at least an hour
    EXPECT_DOUBLE_EQ(H::kRelativeError, 1.0 / 32);
    EXPECT_EQ(H::bucket_lower(0), 0u);
    EXPECT_EQ(H::bucket_upper(H::bucket_count() - 1), H::kMaxValue);
    for (std::size_t i = 0; i < H::bucket_count(); ++i) {
        SCOPED_TRACE(i);
        const std::uint64_t lo = H::bucket_lower(i), hi = H::bucket_upper(i);
        ASSERT_LE(lo, hi);
        EXPECT_EQ(H::bucket_index(lo), i);
        EXPECT_EQ(H::bucket_index(hi), i);
        if (i + 1 < H::bucket_count()) {
            EXPECT_EQ(H::bucket_lower(i + 1), hi + 1);
        }
        if (lo < 64) {
            EXPECT_EQ(lo, hi);  // exact
        } else {
            EXPECT_LT(static_cast<double>(hi - lo), static_cast<double>(lo) * H::kRelativeError);
        }
    }
    for (std::uint64_t v = 0; v < 64; ++v)
        EXPECT_EQ(H::bucket_index(v), v);
    EXPECT_EQ(H::bucket_index(64), 64u);
    EXPECT_EQ(H::bucket_index(65), 64u);
    EXPECT_EQ(H::bucket_index(66), 65u);
    EXPECT_EQ(H::bucket_index(H::kMaxValue + 1), H::bucket_count() - 1);
    EXPECT_EQ(H::bucket_index(UINT64_MAX), H::bucket_count() - 1);
}

TEST(LatencyHistogram, IsSmallEnoughForOnePerPoolWorkerAndSlice) {
    EXPECT_LE(sizeof(H), 7300u);
}

// --- the nearest rank ---

TEST(LatencyHistogram, RankIsTheNearestRank) {
    EXPECT_EQ(H::rank(0.5, 0), 0u);
    EXPECT_EQ(H::rank(0.0, 10), 1u);
    EXPECT_EQ(H::rank(-1.0, 10), 1u);
    EXPECT_EQ(H::rank(std::nan(""), 10), 1u);
    EXPECT_EQ(H::rank(1e-9, 10), 1u);
    EXPECT_EQ(H::rank(0.5, 10), 5u);
    EXPECT_EQ(H::rank(0.5, 11), 6u);
    EXPECT_EQ(H::rank(0.9, 10), 9u);
    EXPECT_EQ(H::rank(0.07, 100), 7u);  // 0.07 * 100 = 7.000000000000001 in doubles
    EXPECT_EQ(H::rank(0.29, 100), 29u);
    EXPECT_EQ(H::rank(0.999, 1000), 999u);
    EXPECT_EQ(H::rank(0.999, 1001), 1000u);
    EXPECT_EQ(H::rank(0.99, 1), 1u);
    EXPECT_EQ(H::rank(1.0, 10), 10u);
    EXPECT_EQ(H::rank(2.0, 10), 10u);
    // Against integer arithmetic for every fraction k/1000 and several n.
    for (std::uint64_t n : {1u, 7u, 100u, 999u, 1000u, 12345u}) {
        for (std::uint64_t k = 0; k <= 1000; ++k) {
            const std::uint64_t want = std::max<std::uint64_t>(1, (k * n + 999) / 1000);
            ASSERT_EQ(H::rank(static_cast<double>(k) / 1000, n), want) << k << "/1000 of " << n;
        }
    }
}

// --- count, sum, min, max ---

TEST(LatencyHistogram, EmptyHistogram) {
    const H h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.sum(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.clamped(), 0u);
    EXPECT_EQ(h.quantile(0.5), 0u);
    EXPECT_EQ(h.count_at_or_below(H::kMaxValue), 0u);
}

TEST(LatencyHistogram, CountSumMinMaxAreExact) {
    const auto values = generate(100000, 1, [](auto& rng) {
        return std::uniform_int_distribution<std::uint64_t>(1, 10'000'000)(rng);
    });
    const H h = histogram_of(values);
    std::uint64_t sum = 0;
    for (auto v : values)
        sum += v;
    EXPECT_EQ(h.count(), values.size());
    EXPECT_EQ(h.sum(), sum);
    EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
    EXPECT_EQ(h.clamped(), 0u);
    std::uint64_t in_buckets = 0;
    for (std::size_t i = 0; i < H::bucket_count(); ++i)
        in_buckets += h.count_in_bucket(i);
    EXPECT_EQ(in_buckets, values.size());
}

TEST(LatencyHistogram, RecordsDurations) {
    H h;
    h.record(std::chrono::microseconds(1500));
    h.record(milliseconds(2));
    h.record(std::chrono::microseconds(-5));  // a clock glitch counts as 0
    EXPECT_EQ(h.count(), 3u);
    EXPECT_EQ(h.sum(), 3500u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 2000u);
}

TEST(LatencyHistogram, HugeValuesClampIntoTheLastBucketButKeepTheirSum) {
    H h;
    h.record(10);
    h.record(H::kMaxValue);
    h.record(H::kMaxValue + 1);
    h.record(std::uint64_t{10} * 3600 * 1000 * 1000);  // 10 h
    EXPECT_EQ(h.count(), 4u);
    EXPECT_EQ(h.clamped(), 2u);
    EXPECT_EQ(h.count_in_bucket(H::bucket_count() - 1), 3u);
    EXPECT_EQ(h.sum(), 10 + H::kMaxValue + H::kMaxValue + 1 + std::uint64_t{36'000'000'000});
    EXPECT_EQ(h.max(), std::uint64_t{36'000'000'000});
    // The 3rd and 4th smallest are clamped: at least kMaxValue, at most true.
    EXPECT_EQ(h.quantile(0.25), 10u);
    EXPECT_EQ(h.quantile(0.5), H::kMaxValue);
    EXPECT_EQ(h.quantile(0.75), H::kMaxValue);
    EXPECT_EQ(h.quantile(1.0), std::uint64_t{36'000'000'000});  // max is exact
    // Clamped samples count as above every bound; +Inf is count().
    EXPECT_EQ(h.count_at_or_below(H::kMaxValue), 2u);
    EXPECT_EQ(h.count_at_or_below(UINT64_MAX), 2u);
    EXPECT_EQ(h.count_at_or_below(H::kMaxValue - 1), 1u);
}

TEST(LatencyHistogram, SumSaturates) {
    H h;
    h.record(UINT64_MAX - 5);
    h.record(10);
    EXPECT_EQ(h.sum(), UINT64_MAX);
    H other;
    other.record(UINT64_MAX);
    other.merge(h);
    EXPECT_EQ(other.sum(), UINT64_MAX);
    EXPECT_EQ(other.count(), 3u);
}

// --- quantile accuracy against exact nearest-rank quantiles ---

TEST(LatencyHistogram, QuantilesOfUniformData) {
    for (std::size_t n : kSizes)
        expect_quantiles_within_bound(
            generate(n, 11 + n,
                     [](auto& rng) {
                         return std::uniform_int_distribution<std::uint64_t>(1, 10'000'000)(rng);
                     }),
            "uniform 1 us .. 10 s");
}

TEST(LatencyHistogram, QuantilesOfLogUniformData) {
    for (std::size_t n : kSizes)
        expect_quantiles_within_bound(
            generate(n, 12 + n,
                     [](auto& rng) {
                         return to_micros(std::exp(
                             std::uniform_real_distribution<double>(0.0, std::log(1e10))(rng)));
                     }),
            "log-uniform 1 us .. 10 000 s");
}

TEST(LatencyHistogram, QuantilesOfLogNormalData) {
    for (std::size_t n : kSizes)
        expect_quantiles_within_bound(
            generate(n, 13 + n,
                     [](auto& rng) {
                         // median 20 ms, a long tail
                         return to_micros(
                             std::lognormal_distribution<double>(std::log(20000.0), 1.5)(rng));
                     }),
            "log-normal");
}

TEST(LatencyHistogram, QuantilesOfBimodalData) {
    for (std::size_t n : kSizes)
        expect_quantiles_within_bound(
            generate(n, 14 + n,
                     [](auto& rng) {
                         // 90 % cache hits around 300 us, 10 % slow around 800 ms
                         if (std::bernoulli_distribution(0.9)(rng))
                             return to_micros(std::normal_distribution<double>(300, 50)(rng));
                         return to_micros(std::normal_distribution<double>(800000, 150000)(rng));
                     }),
            "bimodal");
}

TEST(LatencyHistogram, QuantilesOfConstantData) {
    for (std::uint64_t c :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64},
          std::uint64_t{1000}, std::uint64_t{123457}, H::kMaxValue}) {
        const std::vector<std::uint64_t> values(1000, c);
        expect_quantiles_within_bound(values, "constant " + std::to_string(c));
        // min and max pin every quantile to the value itself.
        const H h = histogram_of(values);
        for (const Fraction& q : kQuantiles)
            EXPECT_EQ(h.quantile(q.value()), c);
    }
}

TEST(LatencyHistogram, QuantilesOfValuesAtBucketEdges) {
    for (std::size_t n : kSizes)
        expect_quantiles_within_bound(
            generate(n, 15 + n,
                     [](auto& rng) {
                         const std::size_t i = std::uniform_int_distribution<std::size_t>(
                             0, H::bucket_count() - 1)(rng);
                         return std::bernoulli_distribution(0.5)(rng) ? H::bucket_lower(i)
                                                                      : H::bucket_upper(i);
                     }),
            "bucket edges");
}

TEST(LatencyHistogram, QuantilesWithZerosAndHugeValues) {
    for (std::size_t n : kSizes) {
        expect_quantiles_within_bound(
            generate(n, 16 + n,
                     [](auto& rng) {
                         const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
                         if (kind < 3) return std::uint64_t{0};
                         if (kind == 9)  // clamped: beyond 71 min
                             return std::uniform_int_distribution<std::uint64_t>(
                                 H::kMaxValue + 1, UINT64_MAX / 2)(rng);
                         return std::uniform_int_distribution<std::uint64_t>(1, 5'000'000)(rng);
                     }),
            "zeros and huge");
    }
}

// A deliberately tight bound must fail, or the checks above prove nothing.
TEST(LatencyHistogram, TheAccuracyCheckCanFail) {
    const auto values = generate(10000, 17, [](auto& rng) {
        return std::uniform_int_distribution<std::uint64_t>(1, 10'000'000)(rng);
    });
    const H h = histogram_of(values);
    std::vector<std::uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    // Some quantile is off by more than a tenth of the bound (not exact).
    double worst = 0;
    for (std::uint64_t k = 1; k <= 1000; ++k) {
        const std::uint64_t x = exact_quantile(sorted, {k, 1000});
        const std::uint64_t r = h.quantile(static_cast<double>(k) / 1000);
        worst = std::max(worst, static_cast<double>(r - x) / static_cast<double>(x));
    }
    EXPECT_GT(worst, H::kRelativeError / 10);
    EXPECT_LT(worst, H::kRelativeError);
}

// --- merge, reset ---

TEST(LatencyHistogram, MergeEqualsRecordingEverythingIntoOne) {
    const auto values = generate(30000, 21, [](auto& rng) {
        return to_micros(std::lognormal_distribution<double>(std::log(5000.0), 2.0)(rng) *
                         (std::bernoulli_distribution(0.001)(rng) ? 1e6 : 1.0));
    });
    H all, parts[3];
    for (std::size_t i = 0; i < values.size(); ++i) {
        all.record(values[i]);
        parts[i % 3 == 0 ? 0 : (values[i] % 2 == 0 ? 1 : 2)].record(values[i]);
    }
    ASSERT_GT(all.clamped(), 0u);
    H merged;
    for (const H& p : parts)
        merged.merge(p);
    EXPECT_EQ(merged, all);
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.sum(), all.sum());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    EXPECT_EQ(merged.clamped(), all.clamped());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0})
        EXPECT_EQ(merged.quantile(q), all.quantile(q));

    H with_empty = all;
    with_empty.merge(H{});
    EXPECT_EQ(with_empty, all);
    H into_empty;
    into_empty.merge(all);
    EXPECT_EQ(into_empty, all);
}

TEST(LatencyHistogram, ResetEmpties) {
    H h;
    for (std::uint64_t v : {std::uint64_t{5}, std::uint64_t{5000}, H::kMaxValue + 7})
        h.record(v);
    h.reset();
    EXPECT_EQ(h, H{});
    h.record(7);
    EXPECT_EQ(h.min(), 7u);
    EXPECT_EQ(h.quantile(0.5), 7u);
}

// --- count_at_or_below ---

TEST(LatencyHistogram, CountAtOrBelowIsExactAtBucketUpperEnds) {
    auto values = generate(50000, 31, [](auto& rng) {
        return to_micros(std::exp(std::uniform_real_distribution<double>(0.0, 22.0)(rng)));
    });
    values.push_back(H::kMaxValue + 1);  // clamped: above every bound
    const H h = histogram_of(values);
    std::vector<std::uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const auto exact_at_or_below = [&](std::uint64_t b) {
        return static_cast<std::uint64_t>(std::upper_bound(sorted.begin(), sorted.end(), b) -
                                          sorted.begin());
    };
    std::uint64_t previous = 0;
    for (std::size_t i = 0; i < H::bucket_count(); ++i) {
        const std::uint64_t hi = H::bucket_upper(i);
        const std::uint64_t c = h.count_at_or_below(hi);
        ASSERT_EQ(c, exact_at_or_below(hi)) << "bucket " << i << " upper " << hi;
        ASSERT_GE(c, previous);
        previous = c;
    }
    // Between upper ends: a lower bound missing only the samples of the
    // bound's own bucket, i.e. exact at the previous upper end.
    std::mt19937_64 rng(32);
    for (int k = 0; k < 20000; ++k) {
        const std::uint64_t b = std::uniform_int_distribution<std::uint64_t>(0, H::kMaxValue)(rng);
        const std::size_t i = H::bucket_index(b);
        const std::uint64_t c = h.count_at_or_below(b);
        EXPECT_LE(c, exact_at_or_below(b));
        if (b != H::bucket_upper(i)) {
            EXPECT_EQ(c, i == 0 ? 0 : exact_at_or_below(H::bucket_lower(i) - 1)) << b;
        }
    }
    // The +Inf bucket of Prometheus.
    EXPECT_EQ(h.count_at_or_below(H::kMaxValue), values.size() - 1);
    EXPECT_EQ(h.count(), values.size());
}

// --- WindowedHistogram ---

const TimePoint t0{seconds(1000)};  // on a slice boundary

TEST(WindowedHistogram, Shape) {
    const WindowedHistogram w(seconds(1), 10);
    EXPECT_EQ(w.slice(), seconds(1));
    EXPECT_EQ(w.slices(), 10u);
    EXPECT_EQ(w.window(), seconds(10));
    const WindowedHistogram degenerate(milliseconds(0), 0);
    EXPECT_EQ(degenerate.slice(), milliseconds(1));
    EXPECT_EQ(degenerate.slices(), 1u);
    const WindowSnapshot empty = w.snapshot(t0, seconds(10));
    EXPECT_EQ(empty.requests(), 0u);
    EXPECT_EQ(empty.errors, 0u);
    EXPECT_EQ(empty.requests_per_second(), 0.0);
    EXPECT_EQ(empty.error_ratio(), 0.0);
}

TEST(WindowedHistogram, ASampleStaysForTheWindowAndIsGoneAfter) {
    WindowedHistogram w(seconds(1), 10);
    w.record(t0, 1234);
    for (auto at : {t0, t0 + milliseconds(500), t0 + seconds(9), t0 + milliseconds(9999)}) {
        const WindowSnapshot s = w.snapshot(at, seconds(10));
        EXPECT_EQ(s.requests(), 1u) << (at - t0).count();
        EXPECT_EQ(s.latency.quantile(0.5), 1234u);
    }
    EXPECT_EQ(w.snapshot(t0 + seconds(10), seconds(10)).requests(), 0u);
    EXPECT_EQ(w.snapshot(t0 + seconds(11), seconds(10)).requests(), 0u);
    // A shorter window: the 3 latest slices.
    EXPECT_EQ(w.snapshot(t0 + milliseconds(2999), seconds(3)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + seconds(3), seconds(3)).requests(), 0u);
    // A window that is not a whole number of slices rounds up; 0 is 1 slice;
    // a longer one than the ring is the ring.
    EXPECT_EQ(w.snapshot(t0 + milliseconds(2999), milliseconds(2001)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + milliseconds(999), milliseconds(0)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + seconds(1), milliseconds(0)).requests(), 0u);
    EXPECT_EQ(w.snapshot(t0 + seconds(9), seconds(60)).requests(), 1u);
}

TEST(WindowedHistogram, ASampleLeavesWithItsSlice) {
    WindowedHistogram w(seconds(1), 10);
    w.record(t0 + milliseconds(700), 5);
    EXPECT_EQ(w.snapshot(t0 + milliseconds(9999), seconds(10)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + seconds(10), seconds(10)).requests(), 0u);
}

TEST(WindowedHistogram, SlicesExpireOneByOne) {
    WindowedHistogram w(seconds(1), 10);
    for (int s = 0; s < 30; ++s) {
        for (int k = 0; k <= s; ++k)  // s + 1 samples of value s + 1 in second s
            w.record(t0 + seconds(s) + milliseconds(10 * k), static_cast<std::uint64_t>(s + 1));
        // The window holds seconds max(0, s - 9) .. s.
        std::uint64_t want = 0, lowest = 0;
        for (int j = std::max(0, s - 9); j <= s; ++j) {
            want += static_cast<std::uint64_t>(j + 1);
            if (lowest == 0) lowest = static_cast<std::uint64_t>(j + 1);
        }
        const WindowSnapshot snap = w.snapshot(t0 + seconds(s) + milliseconds(999), seconds(10));
        EXPECT_EQ(snap.requests(), want) << s;
        EXPECT_EQ(snap.latency.min(), lowest) << s;
        EXPECT_EQ(snap.latency.max(), static_cast<std::uint64_t>(s + 1)) << s;
    }
    // After a long quiet spell nothing old comes back, even in reused slots.
    EXPECT_EQ(w.snapshot(t0 + seconds(1000), seconds(10)).requests(), 0u);
    w.record(t0 + seconds(1000), 77);
    const WindowSnapshot snap = w.snapshot(t0 + seconds(1000), seconds(10));
    EXPECT_EQ(snap.requests(), 1u);
    EXPECT_EQ(snap.latency.max(), 77u);
}

TEST(WindowedHistogram, TheMinuteRingOfTenSecondSlices) {
    WindowedHistogram w(seconds(10), 6);
    w.record(t0, 100);
    w.record(t0 + seconds(15), 200);
    EXPECT_EQ(w.snapshot(t0 + seconds(59), seconds(60)).requests(), 2u);
    EXPECT_EQ(w.snapshot(t0 + seconds(60), seconds(60)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + seconds(69), seconds(60)).requests(), 1u);
    EXPECT_EQ(w.snapshot(t0 + seconds(70), seconds(60)).requests(), 0u);
}

TEST(WindowedHistogram, RatesOverTheWindow) {
    // Counting began at t0; 100 requests a second, 5 of them errors.
    WindowedHistogram w(seconds(1), 10, t0);
    for (int ms = 0; ms < 20000; ms += 10) {
        const bool error = ms % 200 == 0;
        w.record(t0 + milliseconds(ms), 1000 + static_cast<std::uint64_t>(ms % 7),
                 error ? RequestOutcome::error : RequestOutcome::ok);
    }
    // At t0 + 19.995 s the window is seconds 10 .. 19, up to now: 9.995 s.
    const WindowSnapshot s = w.snapshot(t0 + milliseconds(19995), seconds(10));
    EXPECT_EQ(s.requests(), 1000u);
    EXPECT_EQ(s.errors, 50u);
    EXPECT_EQ(s.span, milliseconds(9995));
    EXPECT_NEAR(s.requests_per_second(), 1000 / 9.995, 1e-9);
    EXPECT_NEAR(s.errors_per_second(), 50 / 9.995, 1e-9);
    EXPECT_DOUBLE_EQ(s.error_ratio(), 0.05);

    // Early on, the span starts at `start`, not before it.
    WindowedHistogram fresh(seconds(1), 10, t0 + milliseconds(500));
    for (int i = 0; i < 100; ++i)
        fresh.record(t0 + milliseconds(500 + 20 * i), 10);
    const WindowSnapshot early = fresh.snapshot(t0 + milliseconds(2500), seconds(10));
    EXPECT_EQ(early.span, seconds(2));
    EXPECT_EQ(early.requests(), 100u);
    EXPECT_DOUBLE_EQ(early.requests_per_second(), 50.0);
    const WindowedHistogram unused(seconds(1), 10, t0 + milliseconds(500));
    EXPECT_EQ(unused.snapshot(t0, seconds(10)).span, milliseconds(0));  // before start
}

TEST(WindowedHistogram, SlotsReusedForANewSliceStartWithoutErrors) {
    WindowedHistogram w(seconds(1), 2);
    w.record(t0, 10, RequestOutcome::error);
    w.record(t0 + seconds(2), 10);  // same slot, a new slice
    const WindowSnapshot s = w.snapshot(t0 + seconds(2), seconds(2));
    EXPECT_EQ(s.requests(), 1u);
    EXPECT_EQ(s.errors, 0u);
}

TEST(WindowedHistogram, TimeGoingBackwardsCountsAsTheLatestTime) {
    WindowedHistogram w(seconds(1), 10);
    w.record(t0 + seconds(5), 1);
    w.record(t0 + seconds(2), 2);  // an earlier now: counted in second 5
    // Both leave together with second 5's slice.
    EXPECT_EQ(w.snapshot(t0 + milliseconds(14999), seconds(10)).requests(), 2u);
    EXPECT_EQ(w.snapshot(t0 + seconds(15), seconds(10)).requests(), 0u);
    // A snapshot at an earlier now is taken at the latest time seen.
    const WindowSnapshot back = w.snapshot(t0 + seconds(1), seconds(1));
    EXPECT_EQ(back.requests(), 2u);
    EXPECT_EQ(back.span, seconds(0));
    // Time before the clock's epoch (tick floors, not truncates).
    WindowedHistogram neg(seconds(1), 10);
    const TimePoint before{-milliseconds(1500)};
    neg.record(before, 3);
    // Its slice is [-2 s, -1 s), so it is gone at 8 s (truncating would say 9 s).
    EXPECT_EQ(neg.snapshot(before + milliseconds(9499), seconds(10)).requests(), 1u);
    EXPECT_EQ(neg.snapshot(before + milliseconds(9500), seconds(10)).requests(), 0u);
}

TEST(WindowedHistogram, SnapshotsOfWorkersMerge) {
    WindowedHistogram a(seconds(1), 10, t0), b(seconds(1), 10, t0);
    std::mt19937_64 rng(41);
    H all;
    for (int i = 0; i < 5000; ++i) {
        const std::uint64_t v = std::uniform_int_distribution<std::uint64_t>(1, 2'000'000)(rng);
        const TimePoint at = t0 + milliseconds(i);
        (i % 3 == 0 ? a : b)
            .record(at, v, i % 10 == 0 ? RequestOutcome::error : RequestOutcome::ok);
        all.record(v);
    }
    WindowSnapshot s = a.snapshot(t0 + milliseconds(5000), seconds(10));
    s.merge(b.snapshot(t0 + milliseconds(5001), seconds(10)));
    EXPECT_EQ(s.latency, all);
    EXPECT_EQ(s.errors, 500u);
    EXPECT_EQ(s.span, milliseconds(5001));
}

// A hot upgrade rebuilds the ramp's histograms from their parts.
TEST(LatencyHistogram, FromPartsRebuildsWhatItWasGiven) {
    LatencyHistogram h;
    for (std::uint64_t us : {0ull, 63ull, 64ull, 1000ull, 1001ull, 250000ull, 5'000'000'000ull})
        h.record(us);
    std::vector<std::pair<std::size_t, std::uint64_t>> parts;
    for (std::size_t i = 0; i < LatencyHistogram::bucket_count(); ++i)
        if (h.count_in_bucket(i) != 0) parts.emplace_back(i, h.count_in_bucket(i));
    auto rebuilt = LatencyHistogram::from_parts(parts, h.sum(), h.min(), h.max(), h.clamped());
    ASSERT_TRUE(rebuilt);
    EXPECT_EQ(*rebuilt, h);
    EXPECT_EQ(rebuilt->quantile(0.99), h.quantile(0.99));

    EXPECT_EQ(LatencyHistogram::from_parts({}, 0, 0, 0, 0), LatencyHistogram{});
    const std::pair<std::size_t, std::uint64_t> out_of_range[] = {{896, 1}};
    EXPECT_FALSE(LatencyHistogram::from_parts(out_of_range, 1, 1, 1, 0));
    const std::pair<std::size_t, std::uint64_t> one[] = {{3, 1}};
    EXPECT_FALSE(LatencyHistogram::from_parts(one, 3, 5, 3, 0));  // max below min
    EXPECT_FALSE(LatencyHistogram::from_parts(one, 3, 3, 3, 2));  // more clamped than samples
}

}  // namespace
}  // namespace switchyard

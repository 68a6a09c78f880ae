// LatencyHistogram: request durations in log-linear buckets with a bounded
// relative error, HdrHistogram's layout. WindowedHistogram: a ring
// of them over time slices, for the p50/p90/p99 and rates of /status over
// the last 10 s and 60 s. (/metrics' histograms count at round bounds
// instead: core/latency_buckets.hpp says why.)
//
// Values are integer microseconds. Request durations of an L7 proxy run
// from tens of µs (a local upstream) to minutes (a streamed body); below
// 1 µs the clock and scheduling noise dominate, so nanoseconds would buy no
// accuracy, and they would need 10 more power-of-two ranges (320 more
// buckets, 2.5 KiB) to reach the same hour. Microseconds up to 2^32 - 1
// (71 min 35 s, beyond the required hour) fit the layout below in 7 KiB.
//
// Layout (k = kSubBucketBits = 5, so 32 sub-buckets):
//   values 0 .. 63            one bucket per value (exact)
//   each range [2^e, 2^(e+1)) for e = 6 .. 31: 32 buckets of width 2^(e-5)
// so a bucket [lo, hi] with lo >= 64 has hi - lo < 2^(e-5) <= lo / 32:
// every value in a bucket is within kRelativeError = 1/32 (3.125 %) of any
// other value of it. index = shift × 32 + (v >> shift) with
// shift = max(bit_width(v) - 6, 0): one bit_width, one shift, no branch.
// 896 buckets of uint64 counts: sizeof(LatencyHistogram) = 7208 bytes.
//
// Values above kMaxValue are clamped into the last bucket: they count in
// count(), in sum() with their true value, in max(), and in clamped(); a
// quantile that lands on one reports at least kMaxValue (see quantile()).
//
// Single writer, no synchronization: each worker owns its histograms and
// readers get copies posted back from the worker thread, merged on read
// with merge(). record() never allocates.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace switchyard {

class LatencyHistogram {
  public:
    static constexpr unsigned kSubBucketBits = 5;
    static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;  // 32
    // Relative bucket width: for v >= 64, bucket_upper - bucket_lower < v × this.
    static constexpr double kRelativeError = 1.0 / static_cast<double>(kSubBuckets);
    // The largest value with its own bucket: 2^32 - 1 µs, 71 min 34.967 s.
    static constexpr unsigned kValueBits = 32;
    static constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << kValueBits) - 1;

    static constexpr std::size_t kBucketCount =
        (kValueBits + 1 - kSubBucketBits) * kSubBuckets;  // 896

    static constexpr std::size_t bucket_count() noexcept { return kBucketCount; }
    // The bucket of a value; values above kMaxValue go to the last one.
    static constexpr std::size_t bucket_index(std::uint64_t micros) noexcept {
        const std::uint64_t v = std::min(micros, kMaxValue);
        // bit_width(v | 63) - 6 is 0 below 64 and bit_width(v) - 6 above.
        const unsigned shift =
            static_cast<unsigned>(std::bit_width(v | (2 * kSubBuckets - 1))) - (kSubBucketBits + 1);
        return static_cast<std::size_t>(shift * kSubBuckets + (v >> shift));
    }
    // Bucket i holds the integers bucket_lower(i) .. bucket_upper(i), both
    // included; bucket_lower(i + 1) = bucket_upper(i) + 1. i < bucket_count().
    static constexpr std::uint64_t bucket_lower(std::size_t i) noexcept {
        const unsigned shift = bucket_shift(i);
        return (static_cast<std::uint64_t>(i) - shift * kSubBuckets) << shift;
    }
    static constexpr std::uint64_t bucket_upper(std::size_t i) noexcept {
        return bucket_lower(i) + (std::uint64_t{1} << bucket_shift(i)) - 1;
    }

    // The nearest rank of quantile q among n samples: max(1, ceil(q × n)),
    // q clamped to [0, 1] (NaN counts as 0), tolerant of the rounding of
    // q × n in doubles (0.07 × 100 is 7.000000000000001 and gives 7). 0 if
    // n is 0.
    static std::uint64_t rank(double q, std::uint64_t n) noexcept;

    void record(std::uint64_t micros) noexcept {
        ++counts_[bucket_index(micros)];
        ++count_;
        clamped_ += micros > kMaxValue ? 1 : 0;
        sum_ = saturating_add(sum_, micros);
        min_ = std::min(min_, micros);
        max_ = std::max(max_, micros);
    }
    // A negative duration counts as 0. Convert finer durations explicitly
    // (std::chrono::duration_cast floors).
    void record(std::chrono::microseconds d) noexcept {
        record(d.count() < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count()));
    }

    // Adds another histogram's samples (another worker's, another slice's).
    // Afterwards this is what recording both sets of samples into one
    // histogram would have given.
    void merge(const LatencyHistogram& other) noexcept;
    void reset() noexcept;

    // Another process's histogram from its parts (a hot upgrade hands the
    // ramp's analysis window over): (bucket index, count) pairs and the
    // exact figures. nullopt if they do not fit together (an index out of
    // range, max below min, more clamped samples than samples).
    static std::optional<LatencyHistogram> from_parts(
        std::span<const std::pair<std::size_t, std::uint64_t>> buckets, std::uint64_t sum,
        std::uint64_t min, std::uint64_t max, std::uint64_t clamped) noexcept;

    std::uint64_t count() const noexcept { return count_; }
    // The exact sum of the recorded values, clamped ones included with their
    // true value; it saturates at 2^64 - 1 (584 000 years of latency).
    std::uint64_t sum() const noexcept { return sum_; }
    // Exact; 0 when empty.
    std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    std::uint64_t max() const noexcept { return max_; }
    // Samples above kMaxValue.
    std::uint64_t clamped() const noexcept { return clamped_; }
    std::uint64_t count_in_bucket(std::size_t i) const noexcept { return counts_[i]; }

    // The nearest-rank quantile: with x the smallest recorded value such that
    // at least rank(q, count()) samples are <= x (the rank-th smallest),
    // returns r with
    //     x <= r <= x × (1 + kRelativeError)      (r = x when x < 64)
    // namely the upper end of x's bucket, brought into [min(), max()]; the
    // first and the last rank (q = 0, q = 1) are min() and max(), exact.
    // Reporting the bucket's upper end rather than its middle doubles the
    // worst error, but the error is one-sided: a reported p99 is never below
    // the true one, like Prometheus' `le` buckets and HdrHistogram's
    // percentiles. If x was clamped (x > kMaxValue), kMaxValue <= r <= x.
    // 0 when empty (check count()). O(bucket_count()).
    std::uint64_t quantile(double q) const noexcept;

    // The number of samples <= `micros`, exact when `micros` is a bucket's
    // upper end (bucket_upper(i) for some i, kMaxValue included: clamped
    // samples count as above it). Otherwise it counts the whole buckets below
    // micros' bucket: a lower bound that misses only samples in
    // [bucket_lower(bucket_index(micros)), micros], all within
    // kRelativeError below micros. For values above kMaxValue it returns
    // count() - clamped(); a `+Inf` bucket would be count().
    // O(bucket_count()).
    std::uint64_t count_at_or_below(std::uint64_t micros) const noexcept;

    bool operator==(const LatencyHistogram&) const = default;

  private:
    static constexpr unsigned bucket_shift(std::size_t i) noexcept {
        const auto octave = static_cast<unsigned>(i / kSubBuckets);
        return octave == 0 ? 0 : octave - 1;
    }
    static constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
        return b > std::numeric_limits<std::uint64_t>::max() - a
                   ? std::numeric_limits<std::uint64_t>::max()
                   : a + b;
    }

    std::array<std::uint64_t, kBucketCount> counts_{};
    std::uint64_t count_{};
    std::uint64_t sum_{};
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_{};
    std::uint64_t clamped_{};
};

static_assert(LatencyHistogram::bucket_index(LatencyHistogram::kMaxValue) ==
              LatencyHistogram::bucket_count() - 1);
static_assert(LatencyHistogram::bucket_upper(LatencyHistogram::bucket_count() - 1) ==
              LatencyHistogram::kMaxValue);
static_assert(sizeof(LatencyHistogram) <= 7 * 1024 + 64, "one per pool, worker and time slice");

// Whether a request counts as an error in the window's error rate (the
// proxy decides: 5xx it produced or relayed, say).
enum class RequestOutcome { ok, error };

// One window's merged slices, as a worker reports them; the reader merges
// the workers' snapshots of the same window.
struct WindowSnapshot {
    LatencyHistogram latency{};  // requests = latency.count()
    std::uint64_t errors{};
    // The time the window covers: from the start of its oldest slice (or the
    // histogram's start, if later) to `now`.
    std::chrono::steady_clock::duration span{};

    std::uint64_t requests() const noexcept { return latency.count(); }
    // Per second of span; 0 when the span is empty.
    double requests_per_second() const noexcept;
    double errors_per_second() const noexcept;
    // errors / requests; 0 without requests.
    double error_ratio() const noexcept;
    // Adds another worker's snapshot of the same window; the span is the
    // longer of the two (they differ only by when each worker took its own).
    void merge(const WindowSnapshot& other) noexcept;
};

// A ring of `slices` LatencyHistograms of `slice` each, with time injected
// (no clock calls inside). A sample lives in the slice of its `now` (slice
// t covers [t × slice, (t + 1) × slice) of steady_clock's epoch), and a
// window of m slices is the current slice and the m - 1 before it: a sample
// recorded at t is in it from t until the start of its slice + m × slice,
// gone from then on. So a 10 s window over 1 s slices covers between 9 and
// 10 s; its snapshot says exactly how long (span), for rates.
//
// Time never goes backwards: a `now` earlier than the latest one recorded
// counts as that latest one (in record() and snapshot() alike).
//
// Memory (a slice is 7224 bytes): 10 slices of 1 s are 71 KiB. The 60 s
// window at 1 s resolution would take 60 slices, 423 KiB per pool and
// worker (53 MiB for 32 workers and 4 pools), and 60 merges per read;
// instead keep two rings, 10 × 1 s for the last 10 s and 6 × 10 s for the
// last 60 s (42 KiB), and record into both: 113 KiB per pool and worker.
// The price: the
// coarse ring's "60 s" covers 50 to 60 s (its snapshot's span says which).
class WindowedHistogram {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // slice < 1 ms counts as 1 ms, slices = 0 as 1. `start` is when counting
    // began (a worker's or pool's start): spans never reach before it, so
    // rates are right in the first window too.
    WindowedHistogram(std::chrono::milliseconds slice, std::size_t slices, TimePoint start = {});

    void record(TimePoint now, std::uint64_t micros,
                RequestOutcome outcome = RequestOutcome::ok) noexcept;

    // The slices of the last `window` at `now`, merged: the current slice
    // and the ones before it, ceil(window / slice) in all, at least 1 and at
    // most slices() (a longer window gets the whole ring).
    WindowSnapshot snapshot(TimePoint now, std::chrono::milliseconds window) const noexcept;

    std::chrono::milliseconds slice() const noexcept { return slice_; }
    std::size_t slices() const noexcept { return ring_.size(); }
    // The longest window: slice() × slices().
    std::chrono::milliseconds window() const noexcept {
        return slice_ * static_cast<std::chrono::milliseconds::rep>(ring_.size());
    }

  private:
    static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
    struct Slice {
        std::int64_t tick = kNone;  // which slice-long span of time it holds
        LatencyHistogram latency{};
        std::uint64_t errors{};
    };

    std::int64_t tick_of(TimePoint t) const noexcept;

    std::chrono::milliseconds slice_;
    TimePoint start_;
    std::vector<Slice> ring_;
    TimePoint latest_ = TimePoint::min();
};

}  // namespace switchyard

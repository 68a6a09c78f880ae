#include "switchyard/core/latency_histogram.hpp"

#include <cmath>

namespace switchyard {

std::uint64_t LatencyHistogram::rank(double q, std::uint64_t n) noexcept {
    if (n == 0) return 0;
    if (!(q > 0.0)) return 1;  // also NaN
    if (q >= 1.0) return n;
    const double exact = q * static_cast<double>(n);
    // q × n may come out a few ulps above an integer that it "is" (0.07 ×
    // 100); shaving 4 ulps keeps ceil from jumping to the next rank.
    const double r = std::ceil(exact * (1.0 - 4 * std::numeric_limits<double>::epsilon()));
    if (r < 1.0) return 1;
    if (r >= static_cast<double>(n)) return n;
    return static_cast<std::uint64_t>(r);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    count_ += other.count_;
    clamped_ += other.clamped_;
    sum_ = saturating_add(sum_, other.sum_);
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

std::optional<LatencyHistogram> LatencyHistogram::from_parts(
    std::span<const std::pair<std::size_t, std::uint64_t>> buckets, std::uint64_t sum,
    std::uint64_t min, std::uint64_t max, std::uint64_t clamped) noexcept {
    LatencyHistogram h;
    for (const auto& [i, n] : buckets) {
        if (i >= kBucketCount || n > std::numeric_limits<std::uint64_t>::max() - h.count_)
            return std::nullopt;
        h.counts_[i] += n;
        h.count_ += n;
    }
    if (h.count_ == 0) return h;
    if (max < min || clamped > h.count_) return std::nullopt;
    h.sum_ = sum;
    h.min_ = min;
    h.max_ = max;
    h.clamped_ = clamped;
    return h;
}

void LatencyHistogram::reset() noexcept {
    *this = LatencyHistogram{};
}

std::uint64_t LatencyHistogram::quantile(double q) const noexcept {
    const std::uint64_t want = rank(q, count_);
    if (want == 0) return 0;
    if (want == 1) return min_;  // exact at both ends
    if (want == count_) return max_;
    std::uint64_t seen = 0;
    std::size_t i = 0;
    for (; i + 1 < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= want) break;
    }
    // The rank-th smallest sample is in bucket i (the last one if the loop
    // ran out: the counts add up to count_). The clamp into [min, max] only
    // moves the answer towards it.
    return std::clamp(bucket_upper(i), min_, max_);
}

std::uint64_t LatencyHistogram::count_at_or_below(std::uint64_t micros) const noexcept {
    if (micros >= kMaxValue) return count_ - clamped_;
    const std::size_t i = bucket_index(micros);
    const std::size_t end = micros == bucket_upper(i) ? i + 1 : i;
    std::uint64_t n = 0;
    for (std::size_t j = 0; j < end; ++j)
        n += counts_[j];
    return n;
}

double WindowSnapshot::requests_per_second() const noexcept {
    const double seconds = std::chrono::duration<double>(span).count();
    return seconds > 0 ? static_cast<double>(requests()) / seconds : 0.0;
}

double WindowSnapshot::errors_per_second() const noexcept {
    const double seconds = std::chrono::duration<double>(span).count();
    return seconds > 0 ? static_cast<double>(errors) / seconds : 0.0;
}

double WindowSnapshot::error_ratio() const noexcept {
    return requests() > 0 ? static_cast<double>(errors) / static_cast<double>(requests()) : 0.0;
}

void WindowSnapshot::merge(const WindowSnapshot& other) noexcept {
    latency.merge(other.latency);
    errors += other.errors;
    span = std::max(span, other.span);
}

WindowedHistogram::WindowedHistogram(std::chrono::milliseconds slice, std::size_t slices,
                                     TimePoint start)
    : slice_(std::max(slice, std::chrono::milliseconds(1))),
      start_(start),
      ring_(std::max<std::size_t>(slices, 1)) {}

std::int64_t WindowedHistogram::tick_of(TimePoint t) const noexcept {
    const auto since = t.time_since_epoch();
    const auto len = std::chrono::duration_cast<TimePoint::duration>(slice_);
    std::int64_t tick = since / len;
    if (since.count() < 0 && since % len != TimePoint::duration::zero()) --tick;  // floor
    return tick;
}

void WindowedHistogram::record(TimePoint now, std::uint64_t micros,
                               RequestOutcome outcome) noexcept {
    latest_ = std::max(latest_, now);
    const std::int64_t tick = tick_of(latest_);
    const auto n = static_cast<std::int64_t>(ring_.size());
    Slice& s = ring_[static_cast<std::size_t>(((tick % n) + n) % n)];
    if (s.tick != tick) {  // a slice from a whole ring ago (or never used)
        s.tick = tick;
        s.latency.reset();
        s.errors = 0;
    }
    s.latency.record(micros);
    if (outcome == RequestOutcome::error) ++s.errors;
}

WindowSnapshot WindowedHistogram::snapshot(TimePoint now,
                                           std::chrono::milliseconds window) const noexcept {
    const TimePoint at = std::max(now, latest_);
    const std::int64_t tick = tick_of(at);
    const auto ring = static_cast<std::int64_t>(ring_.size());
    std::int64_t m =
        window.count() <= 0 ? 1 : (window.count() + slice_.count() - 1) / slice_.count();
    m = std::clamp<std::int64_t>(m, 1, ring);
    const std::int64_t oldest = tick - m + 1;

    WindowSnapshot snap;
    for (const Slice& s : ring_) {
        if (s.tick < oldest || s.tick > tick) continue;  // also kNone
        snap.latency.merge(s.latency);
        snap.errors += s.errors;
    }
    const TimePoint from = std::max(
        start_, TimePoint(std::chrono::duration_cast<TimePoint::duration>(slice_) * oldest));
    snap.span = at > from ? at - from : TimePoint::duration::zero();
    return snap;
}

}  // namespace switchyard

// LatencyBuckets: a Prometheus histogram's cumulative buckets at fixed,
// round bounds (the /metrics histograms), counted exactly.
//
// The log-linear LatencyHistogram answers quantiles to within 1/32, but its
// bucket edges are not round numbers (500 µs falls inside [496, 503]), so a
// Prometheus `le="0.0005"` read from it could miss samples just below the
// bound. Operators write SLO queries against round bounds, so /metrics
// counts those directly: a sample lands in the first bound it does not
// exceed, found by a short scan over 16 integers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace switchyard {

class LatencyBuckets {
  public:
    // Upper bounds in µs (`le`, inclusive); a last, implicit bucket is +Inf.
    static constexpr std::array<std::uint64_t, 16> kBoundsMicros = {
        500,    1000,   2500,    5000,    10000,   25000,    50000,    100000,
        250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000};

    void record(std::uint64_t micros) noexcept {
        std::size_t i = 0;
        while (i < kBoundsMicros.size() && micros > kBoundsMicros[i])
            ++i;
        ++counts_[i];
        ++count_;
        sum_ += micros;
    }
    void merge(const LatencyBuckets& other) noexcept {
        for (std::size_t i = 0; i < counts_.size(); ++i)
            counts_[i] += other.counts_[i];
        count_ += other.count_;
        sum_ += other.sum_;
    }

    // Samples <= kBoundsMicros[i] (i < kBoundsMicros.size()); the +Inf
    // bucket is count().
    std::uint64_t cumulative(std::size_t i) const noexcept {
        std::uint64_t n = 0;
        for (std::size_t j = 0; j <= i && j < counts_.size(); ++j)
            n += counts_[j];
        return n;
    }
    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t sum_micros() const noexcept { return sum_; }

    bool operator==(const LatencyBuckets&) const = default;

  private:
    std::array<std::uint64_t, kBoundsMicros.size() + 1> counts_{};
    std::uint64_t count_{};
    std::uint64_t sum_{};
};

}  // namespace switchyard

// RetryBudget: caps retries at a share of requests, so that an outage never
// multiplies the load on a pool (`retry_budget_percent`). The
// retry rule (DESIGN.md) says which requests may be sent again; this says
// whether there is budget left to do so.
//
// Per worker and per pool: the worker owns it, so there are no atomics and
// no locks, and each worker keeps the ratio on its own share of the
// traffic (the sum over workers keeps it too).
//
// The rule, over a sliding window (10 buckets of 1 s by default; the window
// is the current bucket and the 9 before it, time injected):
//     a retry is allowed iff retries + 1 <= max(floor(requests × percent / 100),
//                                               min_retries_per_second × window)
// where requests counts record_request() calls (one per client request, not
// per attempt) and retries counts the retries granted, both in the window.
//
// The minimum (3 per second, so 30 per 10 s window) lets low traffic retry
// at all: with 4 requests a minute, 20 % would never allow one. It is the
// idea of Linkerd's minRetriesPerSecond, but taken as a floor (max), not
// added to the ratio as Finagle/Linkerd do, so that under real load retries
// stay within the percentage exactly (upstream attempts ≤ 1.2 × requests
// at 20 %) — at the defaults from 150 requests per window and worker on;
// below that at most 30 retries per window and worker are granted.
// Envoy's equivalent is min_retry_concurrency (3), a bound on concurrent
// retries, which needs retry completion events; a rate needs none.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard {

struct RetryBudgetSettings {
    std::uint32_t percent = 20;  // PoolSettings::retry_budget_percent
    std::uint32_t min_retries_per_second = 3;
    Duration bucket{1000};       // < 1 ms counts as 1 ms
    std::uint32_t buckets = 10;  // 0 counts as 1
};

class RetryBudget {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit RetryBudget(const RetryBudgetSettings& settings = {});
    // The defaults with the pool's percentage.
    explicit RetryBudget(std::uint32_t percent);

    // A client request began (its first attempt).
    void record_request(TimePoint now);

    // May this request be retried? True takes one retry from the budget.
    bool try_acquire_retry(TimePoint now);

    // In the window ending at `now` (for status, metrics and tests).
    std::uint64_t requests(TimePoint now) const;
    std::uint64_t retries(TimePoint now) const;
    // The retries the window allows in all, granted ones included.
    std::uint64_t allowance(TimePoint now) const;

    // min_retries_per_second × the window's length, rounded down.
    std::uint64_t min_retries() const { return min_retries_; }
    Duration window() const { return bucket_ * static_cast<Duration::rep>(buckets_.size()); }

  private:
    static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
    struct Bucket {
        std::int64_t tick = kNone;  // which bucket-long span of time it counts
        std::uint64_t requests = 0;
        std::uint64_t retries = 0;
    };
    struct Totals {
        std::uint64_t requests = 0;
        std::uint64_t retries = 0;
    };

    // The bucket number of `now`; time never goes back (an earlier `now`
    // counts in the latest bucket seen).
    std::int64_t tick(TimePoint now) const;
    Bucket& current(TimePoint now);
    Totals totals(TimePoint now) const;
    std::uint64_t allowance(const Totals& t) const;

    std::uint32_t percent_;
    Duration bucket_;
    std::uint64_t min_retries_;
    std::vector<Bucket> buckets_;
    std::int64_t latest_ = kNone;
};

}  // namespace switchyard

#include "switchyard/core/retry_budget.hpp"

#include <algorithm>

namespace switchyard {

RetryBudget::RetryBudget(const RetryBudgetSettings& settings)
    : percent_(settings.percent),
      bucket_(std::max(settings.bucket, Duration(1))),
      buckets_(std::max<std::uint32_t>(settings.buckets, 1)) {
    const auto window_ms = static_cast<std::uint64_t>(window().count());
    min_retries_ = std::uint64_t{settings.min_retries_per_second} * window_ms / 1000;
}

RetryBudget::RetryBudget(std::uint32_t percent)
    : RetryBudget(RetryBudgetSettings{percent, 3, Duration(1000), 10}) {}

std::int64_t RetryBudget::tick(TimePoint now) const {
    const auto since = std::chrono::floor<Duration>(now.time_since_epoch());
    auto t = since.count() / bucket_.count();
    if (since.count() < 0 && since.count() % bucket_.count() != 0) --t;  // floor
    return std::max<std::int64_t>(t, latest_);
}

RetryBudget::Bucket& RetryBudget::current(TimePoint now) {
    latest_ = tick(now);
    const auto n = static_cast<std::int64_t>(buckets_.size());
    Bucket& b = buckets_[static_cast<std::size_t>(((latest_ % n) + n) % n)];
    if (b.tick != latest_) b = Bucket{latest_, 0, 0};
    return b;
}

RetryBudget::Totals RetryBudget::totals(TimePoint now) const {
    const std::int64_t t = tick(now);
    const auto n = static_cast<std::int64_t>(buckets_.size());
    Totals sum;
    for (const Bucket& b : buckets_) {
        if (b.tick > t || b.tick <= t - n) continue;  // also kNone
        sum.requests += b.requests;
        sum.retries += b.retries;
    }
    return sum;
}

std::uint64_t RetryBudget::allowance(const Totals& t) const {
    return std::max(t.requests * percent_ / 100, min_retries_);
}

void RetryBudget::record_request(TimePoint now) {
    ++current(now).requests;
}

bool RetryBudget::try_acquire_retry(TimePoint now) {
    Bucket& b = current(now);
    const Totals t = totals(now);
    if (t.retries >= allowance(t)) return false;
    ++b.retries;
    return true;
}

std::uint64_t RetryBudget::requests(TimePoint now) const {
    return totals(now).requests;
}

std::uint64_t RetryBudget::retries(TimePoint now) const {
    return totals(now).retries;
}

std::uint64_t RetryBudget::allowance(TimePoint now) const {
    return allowance(totals(now));
}

}  // namespace switchyard

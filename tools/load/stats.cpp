#include "stats.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace switchyard::load {

namespace {

constexpr std::size_t kLinear = 128;
constexpr std::size_t kSubBuckets = 64;
constexpr unsigned kMaxShift = 34;  // values up to 2^41 us
constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 41) - 1;
constexpr std::size_t kSlowLogFlushBytes = 16 * 1024;

}  // namespace

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::ok:
            return "ok";
        case Outcome::refused:
            return "refused";
        case Outcome::reset:
            return "reset";
        case Outcome::closed_before_response:
            return "closed_before_response";
        case Outcome::truncated:
            return "truncated";
        case Outcome::timeout:
            return "timeout";
        case Outcome::non_2xx:
            return "non_2xx";
        case Outcome::wrong_body:
            return "wrong_body";
        case Outcome::other:
            return "other";
    }
    return "?";
}

// --- LatencyHistogram -----------------------------------------------------------

LatencyHistogram::LatencyHistogram() : buckets_(kLinear + kMaxShift * kSubBuckets, 0) {}

std::size_t LatencyHistogram::bucket(std::uint64_t us) {
    if (us < kLinear) return static_cast<std::size_t>(us);
    us = std::min(us, kMaxValue);
    const unsigned shift = static_cast<unsigned>(std::bit_width(us)) - 7;  // us >> shift in 64..127
    return kLinear + (shift - 1) * kSubBuckets + static_cast<std::size_t>((us >> shift) - 64);
}

std::uint64_t LatencyHistogram::bucket_mid(std::size_t index) {
    if (index < kLinear) return index;
    const std::size_t shift = (index - kLinear) / kSubBuckets + 1;
    const std::uint64_t m = (index - kLinear) % kSubBuckets + 64;
    return (m << shift) + (std::uint64_t{1} << shift) / 2;
}

void LatencyHistogram::add(std::uint64_t us) {
    ++buckets_[bucket(us)];
    ++count_;
    max_ = std::max(max_, us);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < buckets_.size(); ++i)
        buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::quantile(double q) const {
    if (count_ == 0) return 0;
    const auto target = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= target) return std::min(bucket_mid(i), max_);
    }
    return max_;
}

// --- SlowLog ----------------------------------------------------------------------

SlowLog::SlowLog(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
    if (file_ == nullptr)
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

SlowLog::~SlowLog() {
    if (file_ != nullptr) std::fclose(file_);
}

void SlowLog::append(std::string_view lines) {
    std::lock_guard lock(mutex_);
    std::fwrite(lines.data(), 1, lines.size(), file_);
    std::fflush(file_);
}

// --- Stats ----------------------------------------------------------------------------

Stats::Stats(SlowLog* slow_log, std::uint64_t slow_threshold_us, Progress& progress)
    : slow_log_(slow_log), slow_threshold_us_(slow_threshold_us), progress_(progress) {}

void Stats::record(const RequestRecord& r, std::string_view detail) {
    ++counts_[static_cast<std::size_t>(r.outcome)];
    const bool failed = r.outcome != Outcome::ok;
    progress_.requests.fetch_add(1, std::memory_order_relaxed);
    if (failed) progress_.failures.fetch_add(1, std::memory_order_relaxed);
    if (r.outcome == Outcome::non_2xx) ++non_2xx_statuses_[r.status];
    if (!detail.empty()) {
        std::string key = std::string(outcome_name(r.outcome)) + ": " + std::string(detail);
        auto it = details_.find(key);
        if (it != details_.end()) {
            ++it->second;
        } else if (details_.size() < kMaxDetails) {
            details_.emplace(std::move(key), 1);
        }
    }
    if (!r.pool.empty()) {
        auto it = pools_.find(r.pool);
        if (it == pools_.end()) it = pools_.emplace(std::string(r.pool), 0).first;
        ++it->second;
    }
    latency_.add(r.duration_us);

    const std::uint64_t asked_us = r.delay_ms * 1000;
    const std::uint64_t excess = r.duration_us > asked_us ? r.duration_us - asked_us : 0;
    keep_if_slowest(
        {r.start_epoch_ms, r.duration_us, excess, r.outcome, r.status, std::string(r.pool), r.cls});

    if (slow_log_ != nullptr && (failed || excess > slow_threshold_us_)) {
        // start_epoch_ms duration_ms kind status pool class
        char duration[32];
        std::snprintf(duration, sizeof duration, "%.1f",
                      static_cast<double>(r.duration_us) / 1000.0);
        slow_lines_.append(std::to_string(r.start_epoch_ms))
            .append(" ")
            .append(duration)
            .append(" ")
            .append(outcome_name(r.outcome))
            .append(" ")
            .append(std::to_string(r.status))
            .append(" ")
            .append(r.pool.empty() ? std::string_view{"-"} : r.pool)
            .append(" ")
            .append(class_name(r.cls))
            .append("\n");
        if (slow_lines_.size() >= kSlowLogFlushBytes) flush();
    }
}

void Stats::keep_if_slowest(const SlowRequest& s) {
    if (slowest_.size() == kSlowest && slowest_.back().excess_us >= s.excess_us) return;
    auto pos = std::upper_bound(
        slowest_.begin(), slowest_.end(), s,
        [](const SlowRequest& a, const SlowRequest& b) { return a.excess_us > b.excess_us; });
    slowest_.insert(pos, s);
    if (slowest_.size() > kSlowest) slowest_.pop_back();
}

void Stats::flush() {
    if (slow_log_ != nullptr && !slow_lines_.empty()) slow_log_->append(slow_lines_);
    slow_lines_.clear();
}

void Stats::merge(const Stats& other) {
    for (std::size_t i = 0; i < kOutcomeCount; ++i)
        counts_[i] += other.counts_[i];
    for (const auto& [status, n] : other.non_2xx_statuses_)
        non_2xx_statuses_[status] += n;
    for (const auto& [key, n] : other.details_) {
        auto it = details_.find(key);
        if (it != details_.end()) {
            it->second += n;
        } else if (details_.size() < kMaxDetails) {
            details_.emplace(key, n);
        }
    }
    for (const auto& [pool, n] : other.pools_)
        pools_[pool] += n;
    latency_.merge(other.latency_);
    for (const auto& s : other.slowest_)
        keep_if_slowest(s);
    connections_ += other.connections_;
    close_reconnects_ += other.close_reconnects_;
    idle_closed_ += other.idle_closed_;
    aborted_ += other.aborted_;
}

std::uint64_t Stats::requests() const {
    std::uint64_t n = 0;
    for (auto c : counts_)
        n += c;
    return n;
}

std::uint64_t Stats::failures() const {
    return requests() - count(Outcome::ok);
}

}  // namespace switchyard::load

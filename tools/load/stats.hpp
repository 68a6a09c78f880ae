// switchyard-load: outcomes, latency histogram, per-thread statistics and the
// slow log. Each worker thread has its own Stats; main merges them at the end.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "request_plan.hpp"

namespace switchyard::load {

// How a request ended. Everything but `ok` is a failure.
enum class Outcome {
    ok,
    refused,                 // connect: ECONNREFUSED
    reset,                   // ECONNRESET / EPIPE while connecting, writing or reading
    closed_before_response,  // EOF before any response byte
    truncated,               // EOF inside a response
    timeout,                 // the per-request deadline passed
    non_2xx,                 // a complete response with another status
    wrong_body,              // the echo check failed
    other,                   // any other error (detail in the summary)
};
inline constexpr std::size_t kOutcomeCount = 9;
std::string_view outcome_name(Outcome o);

// Log-linear latency histogram in microseconds: exact below 128 us, then 64
// buckets per power of two (under 1.6 % error), up to ~2^40 us.
class LatencyHistogram {
  public:
    LatencyHistogram();
    void add(std::uint64_t us);
    void merge(const LatencyHistogram& other);
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    // The value (bucket midpoint, at most max()) under which a share q of samples lie.
    std::uint64_t quantile(double q) const;

  private:
    static std::size_t bucket(std::uint64_t us);
    static std::uint64_t bucket_mid(std::size_t index);

    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

struct RequestRecord {
    std::int64_t start_epoch_ms = 0;
    std::uint64_t duration_us = 0;
    Outcome outcome = Outcome::ok;
    unsigned status = 0;    // 0: no response
    std::string_view pool;  // X-Echo-Name, empty if none
    RequestClass cls = RequestClass::get;
    std::uint64_t delay_ms = 0;  // what the request asked the upstream to wait
};

// The slow log file, shared by the worker threads (appends whole lines).
class SlowLog {
  public:
    explicit SlowLog(const std::string& path);  // throws std::runtime_error
    ~SlowLog();
    SlowLog(const SlowLog&) = delete;
    SlowLog& operator=(const SlowLog&) = delete;
    void append(std::string_view lines);

  private:
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
};

// Counters shared by all threads, for progress lines only.
struct Progress {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> failures{0};
};

struct SlowRequest {
    std::int64_t start_epoch_ms = 0;
    std::uint64_t duration_us = 0;
    std::uint64_t excess_us = 0;  // duration beyond the delay the request asked for
    Outcome outcome = Outcome::ok;
    unsigned status = 0;
    std::string pool;
    RequestClass cls = RequestClass::get;
};

class Stats {
  public:
    Stats(SlowLog* slow_log, std::uint64_t slow_threshold_us, Progress& progress);

    void record(const RequestRecord& r, std::string_view detail);
    void count_connection() { ++connections_; }
    void count_close_reconnect() { ++close_reconnects_; }
    void count_idle_closed() { ++idle_closed_; }
    void count_aborted() { ++aborted_; }
    void flush();  // slow-log lines buffered so far
    void merge(const Stats& other);

    std::uint64_t requests() const;
    std::uint64_t failures() const;
    std::uint64_t count(Outcome o) const { return counts_[static_cast<std::size_t>(o)]; }
    const std::map<unsigned, std::uint64_t>& statuses() const { return non_2xx_statuses_; }
    const std::map<std::string, std::uint64_t, std::less<>>& details() const { return details_; }
    const std::map<std::string, std::uint64_t, std::less<>>& pools() const { return pools_; }
    const LatencyHistogram& latency() const { return latency_; }
    const std::vector<SlowRequest>& slowest() const { return slowest_; }
    std::uint64_t connections() const { return connections_; }
    std::uint64_t close_reconnects() const { return close_reconnects_; }
    std::uint64_t idle_closed() const { return idle_closed_; }
    std::uint64_t aborted() const { return aborted_; }

    static constexpr std::size_t kSlowest = 5;
    static constexpr std::size_t kMaxDetails = 32;

  private:
    void keep_if_slowest(const SlowRequest& s);

    SlowLog* slow_log_;
    std::uint64_t slow_threshold_us_;
    Progress& progress_;
    std::string slow_lines_;
    std::array<std::uint64_t, kOutcomeCount> counts_{};
    std::map<unsigned, std::uint64_t> non_2xx_statuses_;
    std::map<std::string, std::uint64_t, std::less<>>
        details_;  // "kind: what", at most kMaxDetails
    std::map<std::string, std::uint64_t, std::less<>> pools_;
    LatencyHistogram latency_;
    std::vector<SlowRequest> slowest_;  // by excess, longest first
    std::uint64_t connections_ = 0;
    std::uint64_t close_reconnects_ = 0;
    std::uint64_t idle_closed_ = 0;
    std::uint64_t aborted_ = 0;
};

}  // namespace switchyard::load

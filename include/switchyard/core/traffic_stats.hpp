// Traffic counters as workers report them, and their sum.
//
// Each worker owns its counters and histograms and copies them into a
// WorkerStats on its own thread when asked (status, /metrics), so the
// request path writes only the worker's own memory: no lock, no atomic, no
// shared cache line. The control thread adds the copies up with
// TrafficTotals::add; /status, `status` and /metrics read the totals.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/core/canary_analysis.hpp"
#include "switchyard/core/diff_stats.hpp"
#include "switchyard/core/latency_buckets.hpp"
#include "switchyard/core/latency_histogram.hpp"

namespace switchyard {

// One upstream server (pool and address) on one worker, or summed.
struct ServerStats {
    std::string pool;
    std::string address;
    std::int64_t inflight = 0;
    std::int64_t tunnels = 0;
    std::int64_t idle_connections = 0;
    std::uint64_t attempts = 0;  // requests sent to it, retries included
    std::uint64_t failures = 0;  // attempts that ended in one of `errors`
    std::uint64_t limited = 0;   // requests refused or queued at max_connections_per_server
    // Responses it gave, by class: [0] 1xx .. [4] 5xx.
    std::array<std::uint64_t, 5> responses{};
    // Failed attempts by kind ("connect_failed", "upstream_reset", ...).
    std::map<std::string, std::uint64_t> errors{};

    void add(const ServerStats& other);
};

// One pool on one worker, or summed. Every request the router gave to the
// pool counts once, with the status the client got (502/503/504 included).
struct PoolStats {
    std::string pool;
    std::uint64_t retries = 0;                      // attempts on another server
    std::uint64_t budget_exhausted = 0;             // retries refused by the budget
    std::uint64_t canary_failovers = 0;             // canary share served by the active pool
    std::uint64_t fallbacks = 0;                    // served by the previous pool (on_unhealthy)
    std::map<unsigned, std::uint64_t> responses{};  // by status code
    LatencyBuckets duration{};                      // request head start → response end
    LatencyBuckets upstream_connect{};              // new upstream connections (TCP, TLS)
    LatencyBuckets upstream_response{};             // request written → first response head
    WindowSnapshot last_10s{};                      // for /status rates; errors are 5xx
    WindowSnapshot last_60s{};

    void add(const PoolStats& other);
};

// Client-side counts of one worker, or summed.
struct ConnectionStats {
    std::uint64_t accepted = 0;  // client connections
    std::uint64_t tls_handshake_failures = 0;
    std::int64_t upstream_open = 0;     // upstream connections open (busy and idle)
    std::uint64_t upstream_opened = 0;  // upstream connections made
    // Requests answered without a pool (malformed, no pool, ...), by status.
    std::map<unsigned, std::uint64_t> unrouted{};
    // HTTP/2: connections, streams, client resets, and what the defences
    // did, by kind ("rapid_reset", "ping_flood", "stalled_stream", ...).
    std::uint64_t http2_connections = 0;
    std::uint64_t http2_streams = 0;
    std::uint64_t http2_client_resets = 0;
    std::map<std::string, std::uint64_t> http2_defences{};

    void add(const ConnectionStats& other);
};

// Mirrored requests by what became of them (DESIGN.md "Dark launch"),
// indexed by ShadowResult. A mirrored request counts here only, never in
// the pools' stats or a ramp's analysis.
enum class ShadowResult {
    sent,              // a copy went to the shadow pool
    ok,                // its answer arrived (any status) and was discarded
    error,             // connect failure, reset, malformed answer
    timeout,           // no whole answer within shadow.timeout
    dropped_overload,  // sampled, but max_inflight or memory was reached
    skipped_method,    // sampled, but the method is not mirrored
    skipped_body,      // sampled, but the body is over shadow.max_body
};
inline constexpr std::size_t kShadowResults = 7;
const char* to_string(ShadowResult r);
using ShadowCounts = std::array<std::uint64_t, kShadowResults>;

struct WorkerStats {
    std::vector<ServerStats> servers;
    std::vector<PoolStats> pools;
    ConnectionStats connections;
    std::map<std::string, std::uint64_t> flag_requests;   // requests routed with the flag on
    std::map<std::string, ShadowCounts> shadow_requests;  // by shadow pool
    DiffTable diff = DiffTable();  // compared responses of mirrored requests (shadow.diff)
};

// All workers' stats added up, per server (a server whose DNS answer
// changed has several identities, counted as one) and per pool.
struct TrafficTotals {
    std::map<std::pair<std::string, std::string>, ServerStats> servers;  // (pool, address)
    std::map<std::string, PoolStats> pools;
    ConnectionStats connections;
    std::map<std::string, std::uint64_t> flag_requests;
    std::map<std::string, ShadowCounts> shadow_requests;  // by shadow pool
    DiffTable diff = DiffTable();  // the workers' tables merged (the first one's caps)

    void add(const WorkerStats& worker);
    // The totals of one server or pool; empty (all zero) if it has none.
    const ServerStats& server(const std::string& pool, const std::string& address) const;
    const PoolStats& pool(const std::string& name) const;
    std::uint64_t flag(const std::string& name) const;  // 0 if none
};

// The ramp's analysis window (DESIGN.md, "Progressive delivery"): per pool,
// what the canary split placed on it since window `id` began, on one worker
// or summed. Separate from the traffic stats: it is gathered every
// `interval` during a ramp and holds one histogram per pool, not the rate
// windows.
struct StepWindow {
    std::uint64_t id = 0;  // 0: no window is being counted
    std::map<std::string, StepCounts> pools;
    // Adds another worker's counts of the same window (others are ignored:
    // a worker that has not started it yet counted nothing of it).
    void add(const StepWindow& other);
    const StepCounts& pool(const std::string& name) const;  // all zero if none
    bool operator==(const StepWindow&) const = default;
};

}  // namespace switchyard

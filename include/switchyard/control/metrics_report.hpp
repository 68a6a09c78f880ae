// The /metrics page: everything the admin listener exports to
// Prometheus, rendered from snapshots the control thread holds. Pure: the
// caller gathers the inputs (the workers' summed counters, the routing and
// health state, process figures), so tests give exact inputs and compare
// exact text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/control/process_stats.hpp"
#include "switchyard/core/health_view.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/traffic_stats.hpp"

namespace switchyard::control {

// Reloads (SIGHUP or `reload`) since the process started.
struct ReloadStats {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    bool last_ok = true;           // no reload yet counts as a success
    double last_time_seconds = 0;  // since the epoch; 0: none yet
};

// The ramp's series (DESIGN.md, "Metrics").
struct RampMetrics {
    std::string pool;                       // the current or last ramp's; empty: none since start
    std::string state;                      // running, holding, paused, aborted, promoted
    std::uint64_t step = 0;                 // 1-based; 0 without a ramp
    std::uint64_t verdicts[3] = {0, 0, 0};  // pass, fail, inconclusive
    std::uint64_t webhooks_ok = 0, webhooks_failed = 0, webhooks_retried = 0;
    // While a ramp is in progress, what its last judgement used: the
    // canary's and the baseline's step counts.
    struct Side {
        std::string pool;
        std::uint64_t requests = 0;
        double error_ratio = 0;
        std::optional<double> p99_seconds;  // none without timed requests
    };
    std::vector<Side> judged;
};

// A fleet member's series (DESIGN.md "Fleet"); absent for a single instance.
struct ClusterMetrics {
    std::uint64_t applied_generation = 0;  // the routing generation this member serves
    bool degraded = false;                 // the store is unreachable
    std::int64_t store_revision = 0;       // the state key's revision applied (0: none)
};

struct MetricsInput {
    const Settings& settings;
    const RuntimeState& runtime;
    const HealthView& health;
    const TrafficTotals& traffic;
    ProcessStats process{};
    ReloadStats reload{};
    std::string version{};
    std::uint32_t workers = 0;
    std::int64_t client_connections = 0;   // open now
    std::uint64_t access_log_dropped = 0;  // lines dropped because the writer fell behind
    RampMetrics ramp{};
    std::optional<ClusterMetrics> cluster{};
};

// Prometheus text exposition format 0.0.4.
std::string render_metrics(const MetricsInput& in);

}  // namespace switchyard::control

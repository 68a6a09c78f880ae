// DataPlane: what the control plane needs from the running data plane. The
// process object (app/) implements it over its workers; every callback runs
// on the control thread. Typed: the control plane renders the replies.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/traffic_stats.hpp"

namespace switchyard::control {

// How a hot binary upgrade ended.
struct UpgradeResult {
    bool ok = false;
    pid_t pid = 0;      // ok: the successor, which serves now
    pid_t old_pid = 0;  // ok: this process, which drains and exits
    std::string
        error;  // !ok: the whole sentence ("upgrade failed: ...; this process keeps serving")
};

class DataPlane {
  public:
    virtual ~DataPlane() = default;
    // Publishes a snapshot built from `settings` and `runtime`; `applied`
    // runs once every worker has it: requests that start after that see it.
    virtual void publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                         std::function<void()> applied) = 0;
    // The counts of all workers, summed; with `traffic`, the pools'
    // latency histograms and windows too (status, /metrics), else only what
    // wait-drained polls for.
    virtual void collect(bool traffic, std::function<void(TrafficTotals)> done) = 0;
    // Cuts what is still on `pool` from before routing generation
    // `generation` (the change that began its drain); `done` gets the number
    // of connections cut.
    virtual void cut_pool(const std::string& pool, std::uint64_t generation,
                          std::function<void(std::size_t)> done) = 0;
    // The ramp's analysis window: `applied` runs once every worker counts
    // the requests the canary split places under `id` (0: none).
    virtual void set_step_window(std::uint64_t id, std::function<void()> applied) = 0;
    // The workers' counts of window `id`, summed.
    virtual void collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) = 0;
    // Reload, before `next` is published: loads its TLS files, opens the
    // listeners it adds, closes those it drops and updates changed ones,
    // touching no connection. If a file cannot be loaded or a listener
    // opened, returns false with `error` and nothing changed.
    virtual bool prepare_config(const Settings& next, std::string& error) = 0;
    // Forgets every worker's compared answers (`diff reset`); `done` runs
    // once all have.
    virtual void reset_diff(std::function<void()> done) = 0;
    // The current snapshots: routing (as workers see it) and health.
    virtual std::shared_ptr<const RoutingState> routing() const = 0;
    virtual std::shared_ptr<const HealthView> health() const = 0;
    // Hot binary upgrade (DESIGN.md, `upgrade`); `done` runs once the
    // successor serves, or with the failure.
    virtual void upgrade(const std::string& binary, std::function<void(UpgradeResult)> done) = 0;
};

}  // namespace switchyard::control

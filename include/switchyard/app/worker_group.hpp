// WorkerGroup: the data plane's workers as the control thread sees them
// (DESIGN.md "Thread per core"): made and started together, and every
// request to them fanned out and gathered back. A worker answers on its own
// thread; the group posts the gathered answer to the control thread, so
// every callback given here runs, and is destroyed, there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/core/clock.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/traffic_stats.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::app {

class WorkerGroup {
  public:
    explicit WorkerGroup(boost::asio::io_context& control) : control_(control) {}

    // `count` workers, each holding the first snapshots before it accepts
    // anything, and each knowing the others (an accepting worker hands a
    // connection to the least loaded one).
    void create(unsigned count, proxy::WorkerShared& shared,
                const std::shared_ptr<const Settings>& settings,
                const std::shared_ptr<const RoutingState>& routing,
                const std::shared_ptr<const proxy::UpstreamTlsMap>& upstream_tls);
    // Starts every worker's thread; `all_exited` runs once every one of them
    // has ended (after begin_shutdown() and the drain).
    void start(std::function<void()> all_exited);
    // Every worker accepts on `fd` too (each on its own duplicate); throws
    // std::runtime_error if a descriptor cannot be duplicated.
    void add_listener(int fd, const std::shared_ptr<const proxy::ListenerContext>& context);
    // Every worker stops accepting on the listener named `name`.
    void remove_listener(const std::string& name);

    // New snapshots to every worker (`upstream_tls` null: unchanged);
    // `applied` runs once all have them.
    void publish(const std::shared_ptr<const Settings>& settings,
                 const std::shared_ptr<const RoutingState>& routing,
                 const std::shared_ptr<const proxy::UpstreamTlsMap>& upstream_tls,
                 std::function<void()> applied);
    // Every worker's counts, summed (with `traffic`, the histograms too).
    void collect(bool traffic, std::function<void(TrafficTotals)> done);
    // Cuts what is still on `pool` from before `generation` in every
    // worker; `done` gets the number of connections cut.
    void cut_pool(const std::string& pool, std::uint64_t generation,
                  std::function<void(std::size_t)> done);
    // The ramp's analysis window on every worker; `applied` runs (on the
    // control thread) once all count under `id`.
    void set_step_window(std::uint64_t id, std::function<void()> applied);
    // Every worker's counts of window `id`, summed, on the control thread.
    void collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done);
    // Every worker hands its buffered access log lines to the writer.
    void flush_access_logs(std::function<void()> done);
    // Every worker forgets its compared answers; `done` once all have.
    void reset_diff(std::function<void()> done);
    // Every worker stops accepting and drains until `deadline`.
    void begin_shutdown(Clock::time_point deadline);
    // Ends the workers (joining their threads).
    void clear() { workers_.clear(); }

    std::size_t size() const { return workers_.size(); }
    bool empty() const { return workers_.empty(); }

  private:
    // The callback each worker calls once; after the last call, `done` runs
    // on the control thread.
    std::function<void()> when_all(std::function<void()> done);
    // Asks every worker for its part (`ask(worker, reply)`), adds the parts
    // up into `all` and hands the sum to `done` on the control thread.
    template <class Sum, class Part, class Ask>
    void gather(Sum all, Ask ask, std::function<void(Sum)> done);

    boost::asio::io_context& control_;
    std::vector<std::unique_ptr<proxy::Worker>> workers_;
    std::size_t exited_ = 0;
};

}  // namespace switchyard::app

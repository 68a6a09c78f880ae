// Instance: one running switchyard process, where the data plane (the
// workers) and the control plane meet. It wires the pieces together on the
// main (control) thread: the listeners (ListenerSet), the workers and the
// snapshots published to them, upstream names (UpstreamResolver) and TLS,
// health checks, the control socket and the admin listener; it implements
// control::DataPlane over the workers, handles signals (reload, log reopen,
// graceful stop) and systemd notification, and hands over to a successor in
// a hot upgrade (HotUpgrade).
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "switchyard/app/hot_upgrade.hpp"
#include "switchyard/app/listen_socket.hpp"
#include "switchyard/app/listener_set.hpp"
#include "switchyard/app/systemd_notifier.hpp"
#include "switchyard/app/upstream_resolver.hpp"
#include "switchyard/app/worker_group.hpp"
#include "switchyard/control/admin_server.hpp"
#include "switchyard/control/control_plane.hpp"
#include "switchyard/control/control_server.hpp"
#include "switchyard/control/data_plane.hpp"
#include "switchyard/control/health_monitor.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/proxy/access_log.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::app {

// What a process starts with besides its config: sockets from systemd or
// from the process it replaces, and the hand-over channel to answer on.
struct Inheritance {
    std::vector<InheritedSocket> listeners;
    int control_fd = -1;
    int handover_fd = -1;  // ≥ 0: we are the successor in a hot upgrade
    std::uint64_t watchdog_usec = 0;
    std::vector<HealthHandover> health{};  // the replaced process's, to seed ours
    std::string tls_ticket_keys{};         // the replaced process's (hex), so resumption goes on
    std::uint64_t config_generation = 0;   // the replaced process's; 0: none (a fresh start)
    StepWindow step_window{};              // the replaced process's ramp counts
};

class Instance final : public control::DataPlane {
  public:
    // `runtime`: the routing state to start from (state file, hand-over or
    // config); `rollout`: the ramp's, from the same place; `conflicts`:
    // where it differs from the config (status).
    Instance(std::shared_ptr<const Settings> settings, RuntimeState runtime,
             RolloutSnapshot rollout, std::vector<std::string> conflicts,
             std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> audit,
             LaunchInfo launch, Inheritance inherited);
    ~Instance();

    // Runs until SIGTERM/SIGINT (or a hot upgrade) and the drain that
    // follows. Returns the exit code.
    int run();
    // A successor that has not told the old process it serves yet.
    bool awaiting_handover_answer() const { return inherited_.handover_fd >= 0; }

    // DataPlane (control thread)
    void publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                 std::function<void()> applied) override;
    void collect(bool traffic, std::function<void(TrafficTotals)> done) override;
    // The admin listener's /metrics page.
    void metrics(std::function<void(std::string)> reply);
    void set_step_window(std::uint64_t id, std::function<void()> applied) override;
    void collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) override;
    void reset_diff(std::function<void()> done) override { workers_.reset_diff(std::move(done)); }
    void cut_pool(const std::string& pool, std::uint64_t generation,
                  std::function<void(std::size_t)> done) override;
    bool prepare_config(const Settings& next, std::string& error) override;
    void upgrade(const std::string& binary,
                 std::function<void(control::UpgradeResult)> done) override;
    std::shared_ptr<const RoutingState> routing() const override { return routing_; }
    std::shared_ptr<const HealthView> health() const override;

  private:
    // Every pool's upstream TLS context, or nullptr with `error`.
    static std::shared_ptr<const proxy::UpstreamTlsMap> build_upstream_tls_map(const Settings& s,
                                                                               std::string& error);
    void republish();
    // The upgrade once the message is complete (the ramp's counts gathered).
    void start_upgrade(const std::string& binary, HandoverMessage message,
                       std::function<void(control::UpgradeResult)> done);
    std::shared_ptr<RoutingState> build_routing();
    void on_health_changed();
    void on_signal(int signo);
    // [cluster]: reads the store (blocking, bounded) and joins the fleet.
    void join_fleet(const ClusterSettings& cluster);
    void reopen_logs();  // SIGUSR1
    // Stops accepting, drains the workers (up to drain_timeout) and ends the
    // process once they are done.
    void drain();
    void schedule_watchdog();
    void finish_exit();

    std::shared_ptr<const Settings> settings_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<spdlog::logger> audit_;
    std::shared_ptr<spdlog::logger> events_;  // log.event_log; null: the error log
    std::vector<std::string> conflicts_;
    LaunchInfo launch_;
    Inheritance inherited_;
    SystemdNotifier notifier_;
    std::unique_ptr<proxy::AccessLogWriter> access_log_;
    proxy::WorkerShared shared_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer stop_timer_;  // shutdown_delay, then the end of the drain
    boost::asio::steady_timer watchdog_timer_;
    ListenerSet listeners_;
    std::shared_ptr<const proxy::UpstreamTlsMap> upstream_tls_;
    // Built by prepare_config() for the configuration a reload is about to
    // publish, so that a bad CA file refuses the reload before anything changes.
    std::shared_ptr<const proxy::UpstreamTlsMap> prepared_upstream_tls_;
    const Settings* prepared_for_ = nullptr;
    UpstreamResolver resolver_;
    RuntimeState runtime_;
    RolloutSnapshot rollout_;  // until the control plane starts
    std::uint64_t snapshot_ = 0;
    std::shared_ptr<const RoutingState> routing_;
    WorkerGroup workers_;
    std::unique_ptr<control::HealthMonitor> health_;
    std::unique_ptr<control::ControlPlane> control_plane_;
    std::unique_ptr<control::ControlServer> control_server_;
    std::unique_ptr<control::AdminServer> admin_server_;
    std::chrono::microseconds watchdog_period_{0};
    bool stopping_ = false;  // SIGTERM seen (the shutdown delay may still run)
    bool upgraded_ = false;  // a successor serves; this process only drains
    bool draining_ = false;  // listeners closed, workers draining
    bool publishing_ = false;
    HotUpgrade hot_upgrade_;
};

}  // namespace switchyard::app

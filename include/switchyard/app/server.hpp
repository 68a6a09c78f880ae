// Server: the composition root of a running switchyard process. It opens the
// listening sockets (one per listener, shared by every worker), starts the
// workers, publishes routing snapshots, refreshes DNS and handles signals on
// the main (control) thread.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "switchyard/app/control_plane.hpp"
#include "switchyard/app/data_plane.hpp"
#include "switchyard/control/control_server.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/proxy/access_log.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::app {

class Server final : public DataPlane {
  public:
    // `runtime`: the routing state to start from (state file or config);
    // `conflicts`: where it differs from the config (shown by status).
    Server(std::shared_ptr<const Settings> settings, RuntimeState runtime,
           std::vector<std::string> conflicts, std::shared_ptr<spdlog::logger> log,
           std::shared_ptr<spdlog::logger> audit);
    ~Server();

    // Runs until SIGTERM/SIGINT and the drain that follows. Returns the exit code.
    int run();

    // DataPlane (control thread)
    void publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                 std::function<void()> applied) override;
    void collect(std::function<void(proxy::WorkerStats)> done) override;
    void cut_pool(const std::string& pool, std::function<void(std::size_t)> done) override;

  private:
    void open_listeners();
    void resolve_all();
    void schedule_dns_refresh();
    void refresh_dns();
    void republish();
    void on_signal(int signo);

    std::shared_ptr<const Settings> settings_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<spdlog::logger> audit_;
    std::vector<std::string> conflicts_;
    std::unique_ptr<proxy::AccessLogWriter> access_log_;
    proxy::WorkerShared shared_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer dns_timer_;
    boost::asio::ip::tcp::resolver resolver_;
    ResolvedHosts resolved_;
    RuntimeState runtime_;
    std::uint64_t snapshot_ = 0;
    std::shared_ptr<const RoutingState> routing_;
    std::vector<int> listen_fds_;
    std::vector<std::shared_ptr<const proxy::ListenerContext>> listeners_;
    std::vector<std::unique_ptr<proxy::Worker>> workers_;
    std::unique_ptr<ControlPlane> control_plane_;
    std::unique_ptr<control::ControlServer> control_server_;
    bool stopping_ = false;
    std::size_t workers_exited_ = 0;
};

// Opens, binds and listens on `address`; returns the descriptor or throws
// std::runtime_error with the reason.
int open_listen_socket(const Endpoint& address, int backlog);

}  // namespace switchyard::app

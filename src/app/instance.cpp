#include "switchyard/app/instance.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "switchyard/app/handover.hpp"
#include "switchyard/app/logging.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::app {

namespace asio = boost::asio;

Instance::Instance(std::shared_ptr<const Settings> settings, RuntimeState runtime,
                   RolloutSnapshot rollout, std::vector<std::string> conflicts,
                   std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> audit,
                   LaunchInfo launch, Inheritance inherited)
    : settings_(std::move(settings)),
      log_(std::move(log)),
      audit_(std::move(audit)),
      events_(make_event_logger(settings_->log)),
      conflicts_(std::move(conflicts)),
      launch_(std::move(launch)),
      inherited_(std::move(inherited)),
      io_(1),
      signals_(io_),
      stop_timer_(io_),
      watchdog_timer_(io_),
      listeners_(io_, log_),
      resolver_(io_, log_,
                [this] {
                    if (health_) health_->configure(*settings_, resolver_.hosts(), *upstream_tls_);
                    republish();
                }),
      runtime_(std::move(runtime)),
      rollout_(std::move(rollout)),
      workers_(io_),
      hot_upgrade_(io_, log_) {
    access_log_ = std::make_unique<proxy::AccessLogWriter>(settings_->log.access_log);
    shared_.log = log_;
    shared_.access_log = access_log_.get();
    shared_.diff_log = make_diff_logger(settings_->shadow.diff);
}

Instance::~Instance() {
    admin_server_.reset();
    for (const auto& s : inherited_.listeners)
        ::close(s.fd);
}

std::shared_ptr<const proxy::UpstreamTlsMap> Instance::build_upstream_tls_map(const Settings& s,
                                                                              std::string& error) {
    auto map = std::make_shared<proxy::UpstreamTlsMap>();
    for (const auto& pool : s.pools) {
        if (!pool.tls) continue;
        std::string why;
        auto ctx = http::build_upstream_tls(*pool.tls, why);
        if (!ctx) {
            error = "pool " + pool.name + " tls: " + why;
            return nullptr;
        }
        (*map)[pool.name] = std::move(ctx);
    }
    return map;
}

bool Instance::prepare_config(const Settings& next, std::string& error) {
    // TLS files are loaded first: a bad certificate, key or CA keeps the
    // running ones (and the whole running configuration).
    auto upstream_tls = build_upstream_tls_map(next, error);
    if (!upstream_tls) return false;
    if (!listeners_.reconfigure(next, workers_, error)) return false;
    prepared_upstream_tls_ = std::move(upstream_tls);
    prepared_for_ = &next;
    return true;
}

void Instance::republish() {
    publish(settings_, runtime_, nullptr);
}

std::shared_ptr<const HealthView> Instance::health() const {
    return health_ ? health_->view() : std::make_shared<const HealthView>();
}

std::shared_ptr<RoutingState> Instance::build_routing() {
    auto routing = std::make_shared<RoutingState>(
        build_routing_state(*settings_, runtime_, resolver_.hosts(), ++snapshot_));
    if (health_) apply_health(*routing, *health_->view(), std::chrono::steady_clock::now());
    return routing;
}

// A new health view is published to the workers only when it changes which
// servers may take traffic; reasons and counters are for status.
void Instance::on_health_changed() {
    if (draining_ || publishing_ || !routing_ || workers_.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    const HealthView& view = *health_->view();
    for (const auto& pool : routing_->pools)
        for (const auto& server : pool.servers)
            if (server.healthy != view.usable(pool.name, server.address, now)) {
                republish();
                return;
            }
}

void Instance::publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                       std::function<void()> applied) {
    const bool new_config = settings != settings_;
    settings_ = std::move(settings);
    runtime_ = runtime;
    std::shared_ptr<const proxy::UpstreamTlsMap> upstream_tls;  // null: unchanged
    if (new_config && prepared_for_ == settings_.get() && prepared_upstream_tls_) {
        upstream_tls_ = std::move(prepared_upstream_tls_);
        upstream_tls = upstream_tls_;
    }
    prepared_for_ = nullptr;
    // Names the new configuration adds are looked up now, as at start.
    if (new_config) resolver_.configure(settings_);
    if (new_config && health_) {
        // The view this publish applies; no separate republish for it.
        publishing_ = true;
        health_->configure(*settings_, resolver_.hosts(), *upstream_tls_);
        publishing_ = false;
    }
    routing_ = build_routing();
    workers_.publish(settings_, routing_, upstream_tls, std::move(applied));
}

void Instance::collect(bool traffic, std::function<void(TrafficTotals)> done) {
    workers_.collect(traffic, std::move(done));
}

void Instance::metrics(std::function<void(std::string)> reply) {
    collect(true, [this, reply = std::move(reply)](TrafficTotals traffic) {
        control::MetricsInput in{*control_plane_->settings(), control_plane_->runtime(), *health(),
                                 traffic};
        in.process = control::read_process_stats();
        in.reload = control_plane_->reload_stats();
        in.version = SWITCHYARD_VERSION;
        in.workers = static_cast<std::uint32_t>(workers_.size());
        in.client_connections = shared_.open_connections.load(std::memory_order_relaxed);
        in.access_log_dropped = access_log_->dropped_lines();
        in.ramp = control_plane_->ramp_metrics();
        in.cluster = control_plane_->cluster_metrics();
        reply(control::render_metrics(in));
    });
}

void Instance::set_step_window(std::uint64_t id, std::function<void()> applied) {
    workers_.set_step_window(id, std::move(applied));
}

void Instance::collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) {
    workers_.collect_step_window(id, std::move(done));
}

void Instance::cut_pool(const std::string& pool, std::uint64_t generation,
                        std::function<void(std::size_t)> done) {
    workers_.cut_pool(pool, generation, std::move(done));
}

void Instance::on_signal(int signo) {
    if (signo == SIGHUP && !stopping_) {
        log_->info("SIGHUP: reloading {}", settings_->source_path);
        control_plane_->reload("signal SIGHUP", [this](control::ReloadReply result) {
            if (!result.ok) log_->error("reload failed: {}", result.line);
        });
    } else if (signo == SIGINT || signo == SIGTERM) {
        if (draining_) {
            // nothing more to do; the drain runs
        } else if (stopping_) {
            log_->info("signal {} again: skipping the rest of the shutdown delay", signo);
            drain();
        } else {
            stopping_ = true;
            notifier_.stopping();
            hot_upgrade_.abort("the old process is stopping (signal)");
            control_plane_->set_stopping();
            const auto delay = settings_->server.shutdown_delay;
            if (delay > Duration::zero()) {
                // Outer load balancers see /healthz fail and deregister us
                // while we still serve everything.
                log_->info("signal {}: serving {} ms more (server.shutdown_delay), then draining",
                           signo, delay.count());
                stop_timer_.expires_after(delay);
                stop_timer_.async_wait([this](boost::system::error_code ec) {
                    if (!ec) drain();
                });
            } else {
                drain();
            }
        }
    } else if (signo == SIGUSR1) {
        reopen_logs();
    }
    signals_.async_wait([this](boost::system::error_code ec, int s) {
        if (!ec) on_signal(s);
    });
}

// SIGUSR1 (logrotate): every worker first hands its buffered access log
// lines to the writer, so that requests answered before the signal are
// logged in the old (renamed) file; then each log file is opened again at
// its path. A file that cannot be reopened keeps being written to.
void Instance::reopen_logs() {
    auto reopen = [this] {
        std::vector<std::string> errors = reopen_log_files(*log_);
        for (auto& e : reopen_log_files(*audit_))
            errors.push_back(std::move(e));
        for (const auto& logger : {events_, shared_.diff_log})
            if (logger)
                for (auto& e : reopen_log_files(*logger))
                    errors.push_back(std::move(e));
        std::string error;
        if (!access_log_->reopen(error)) errors.push_back(std::move(error));
        if (errors.empty()) log_->info("SIGUSR1: reopened log files");
        for (const auto& e : errors)
            log_->error("SIGUSR1: {}; still writing to the old file", e);
    };
    // Draining workers may have exited: their buffers were flushed then.
    if (draining_ || workers_.empty()) return reopen();
    workers_.flush_access_logs(reopen);
}

void Instance::drain() {
    if (draining_) return;
    draining_ = true;
    stopping_ = true;
    stop_timer_.cancel();
    log_->info("draining (up to {} ms)", settings_->server.drain_timeout.count());
    // A control client waiting for a reply (the one that asked for the
    // upgrade) still gets it; no new connection is accepted.
    if (control_server_) control_server_->stop_accepting();
    resolver_.stop();
    if (health_) health_->stop();
    auto deadline = proxy::Clock::now() + settings_->server.drain_timeout;
    workers_.begin_shutdown(deadline);
    listeners_.close();
    // The workers end on their own once drained and say so (run()).
}

// A watchdog ping proves more than a live main thread: it goes out only
// once every worker has answered, so a stuck worker lets systemd restart us.
void Instance::schedule_watchdog() {
    if (watchdog_period_.count() <= 0) return;
    watchdog_timer_.expires_after(watchdog_period_ / 2);
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        collect(false, [this](TrafficTotals) {
            notifier_.watchdog();
            schedule_watchdog();
        });
    });
}

// A hot upgrade: what this process hands its successor, and, once the
// successor serves, the drain.
void Instance::upgrade(const std::string& binary,
                       std::function<void(control::UpgradeResult)> done) {
    if (stopping_) return done(HotUpgrade::failure("the process is shutting down"));
    HandoverMessage message;
    message.from_pid = static_cast<int>(::getpid());
    message.listeners = listeners_.sockets();
    message.control_fd = control_server_->native_handle();
    message.runtime = runtime_;
    message.rollout = control_plane_->rollout();
    message.watchdog_usec = static_cast<std::uint64_t>(watchdog_period_.count());
    message.config_generation = control_plane_->config_generation();
    message.tls_ticket_keys = listeners_.export_ticket_keys();
    if (health_) message.health = health_->handover();
    // The ramp's counts go along, so its step goes on without counting afresh.
    workers_.collect_step_window(control_plane_->ramp_window(),
                                 [this, binary, message = std::move(message),
                                  done = std::move(done)](StepWindow counted) mutable {
                                     message.step_window = std::move(counted);
                                     start_upgrade(binary, std::move(message), std::move(done));
                                 });
}

void Instance::start_upgrade(const std::string& binary, HandoverMessage message,
                             std::function<void(control::UpgradeResult)> done) {
    hot_upgrade_.start(binary.empty() ? launch_.binary : binary, launch_.args, message,
                       settings_->server.upgrade_timeout,
                       [this, done = std::move(done)](control::UpgradeResult result) {
                           const bool served = result.ok;
                           done(std::move(result));
                           if (!served) return;
                           // The successor answers health checks from now on
                           // (on the same socket).
                           upgraded_ = true;
                           control_plane_->handed_over();
                           if (admin_server_) admin_server_->stop_accepting();
                           drain();
                       });
}

void Instance::join_fleet(const ClusterSettings& cluster) {
    cluster::EtcdClientOptions options;
    std::string error;
    if (!control::etcd_options(cluster, options, error))
        throw std::runtime_error("cluster: " + error);
    std::string member = cluster.member;
    if (member.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        member = host;
    }
    const auto first = control::read_store_now(options, cluster.prefix + "/state");
    runtime_ = control_plane_->join_fleet(std::move(options), first, cluster, std::move(member),
                                          SWITCHYARD_VERSION);
}

int Instance::run() {
    // Each client costs a descriptor, each upstream connection another: use
    // all the descriptors the hard limit allows, as HAProxy does.
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &nofile);
    }
    // Signals first: a SIGTERM that arrives while we start (the port may
    // already answer) must drain, not kill. They wait until io_.run().
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    signals_.add(SIGUSR1);  // reopen the log files (logrotate)
    signals_.async_wait([this](boost::system::error_code ec, int s) {
        if (!ec) on_signal(s);
    });
    const bool successor = inherited_.handover_fd >= 0;
    // The control socket first: a second instance fails here, before it binds
    // a port, and the socket exists once the ports answer. Commands are
    // handled only once io_.run() runs, when the workers exist. A successor
    // takes the socket over only once it serves (below).
    control_plane_ = std::make_unique<control::ControlPlane>(
        io_, *this, log_, audit_,
        control::ReloadNotifications{
            [this] { notifier_.reloading(); },
            [this](const std::string& status) { notifier_.ready(status); }});
    control_plane_->set_event_log(events_);
    // The successor read the config file once more: one generation on from
    // the replaced process's (0 when it sent none, so 1).
    control_plane_->start(settings_, runtime_, conflicts_, inherited_.config_generation + 1,
                          rollout_, std::move(inherited_.step_window));
    rollout_ = {};  // the control plane has it now
    // A fleet member serves the store's state from its first request.
    if (settings_->cluster) join_fleet(*settings_->cluster);
    control_server_ = std::make_unique<control::ControlServer>(io_, *control_plane_, log_);
    if (!successor || inherited_.control_fd < 0)
        control_server_->listen(settings_->control.socket, settings_->control.mode);
    // Resumption keys: the replaced process's, so its clients resume here.
    listeners_.load_ticket_keys(inherited_.tls_ticket_keys);
    {
        std::string error;
        upstream_tls_ = build_upstream_tls_map(*settings_, error);
        if (!upstream_tls_) throw std::runtime_error(error);
    }
    listeners_.open(*settings_, inherited_.listeners);
    resolver_.configure(settings_);
    health_ = std::make_unique<control::HealthMonitor>(io_, log_, [this] { on_health_changed(); });
    // A successor goes on from the old process's view: its gates and
    // ejections hold from the first request, not only after new probes.
    if (!inherited_.health.empty()) health_->seed(std::move(inherited_.health));
    health_->configure(*settings_, resolver_.hosts(), *upstream_tls_);
    // Workers report upstream outcomes for outlier detection (failures, and
    // the first success after one: no traffic to us in the steady state).
    shared_.report_upstream = [this](std::string pool, std::string address, PassiveResult r) {
        asio::post(io_, [this, pool = std::move(pool), address = std::move(address), r] {
            if (health_) health_->report(pool, address, r);
        });
    };
    routing_ = build_routing();
    unsigned n = settings_->server.workers;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    shared_.accepting_workers = static_cast<int>(n);
    workers_.create(n, shared_, settings_, routing_, upstream_tls_);
    listeners_.attach(workers_);
    if (listeners_.admin_fd() >= 0) {
        admin_server_ = std::make_unique<control::AdminServer>(
            io_, log_,
            control::AdminServer::Sources{
                [this](std::function<void(std::string)> reply) {
                    control_plane_->status(std::move(reply));
                },
                // Draining after a hot upgrade is no outage: the successor serves.
                [this] { return !stopping_ || upgraded_; },
                [this](std::function<void(std::string)> reply) { metrics(std::move(reply)); },
                [this](std::function<void(std::string)> reply) {
                    control_plane_->diff(std::move(reply));
                }});
        int dup = ::fcntl(listeners_.admin_fd(), F_DUPFD_CLOEXEC, 0);
        if (dup < 0) throw std::runtime_error(std::string("dup: ") + std::strerror(errno));
        admin_server_->adopt(dup);
    }
    workers_.start([this] { finish_exit(); });
    listeners_.start_ticket_rotation();
    watchdog_period_ = SystemdNotifier::watchdog_period(inherited_.watchdog_usec);
    schedule_watchdog();
    const std::string status = listeners_.serving_status();
    if (successor) {
        // Serving now: tell the old process, then take the control socket
        // over (commands could otherwise reach us before it knows).
        send_reply(inherited_.handover_fd, {true, static_cast<int>(::getpid()), {}});
        ::close(inherited_.handover_fd);
        inherited_.handover_fd = -1;
        if (inherited_.control_fd >= 0) {
            control_server_->adopt(inherited_.control_fd);
            inherited_.control_fd = -1;
        }
    }
    log_->info("switchyard {} with {} workers{}; active pool {}", status, n,
               successor ? " (hot upgrade)" : "",
               routing_->pools.empty()
                   ? "-"
                   : routing_->pools[static_cast<std::size_t>(routing_->active)].name);
    notifier_.ready(status, successor ? static_cast<int>(::getpid()) : 0);
    io_.run();
    workers_.clear();
    access_log_->flush();
    log_->info("stopped");
    return 0;
}

// Every worker has ended. A control client may still be reading its reply
// (`upgrade`): give the open control connections a moment, then stop.
void Instance::finish_exit() {
    watchdog_timer_.cancel();
    listeners_.close();
    if (admin_server_) admin_server_->stop();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto check = std::make_shared<std::function<void()>>();
    *check = [this, deadline, check] {
        if (control_server_->connection_count() == 0 ||
            std::chrono::steady_clock::now() >= deadline) {
            control_server_->stop();
            io_.stop();
            *check = nullptr;
            return;
        }
        stop_timer_.expires_after(std::chrono::milliseconds(10));
        stop_timer_.async_wait([check](boost::system::error_code ec) {
            if (!ec && *check) (*check)();
        });
    };
    (*check)();
}

}  // namespace switchyard::app

// HealthMonitor: the control thread's view of upstream health (DESIGN.md,
// "Health is its own snapshot"). It probes every server of a pool with
// `health` configured (jittered, never on the request path), takes the
// workers' passive reports for pools with `outlier`, decides ejections (it
// has the pool-wide view the cap needs) and publishes an immutable
// HealthView whenever what it says changes.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "switchyard/core/health_tracker.hpp"
#include "switchyard/core/health_view.hpp"
#include "switchyard/core/outlier_policy.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/http/tls_context.hpp"

namespace switchyard::control {

class HealthMonitor {
  public:
    // `changed` runs on the io_context's thread after each new view.
    HealthMonitor(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                  std::function<void()> changed);
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    // Start and every reload or DNS change: servers that stay keep their
    // state; new ones start unknown (checked pools) and are probed soon.
    // Probes to pools with `tls` use that pool's context in `tls`.
    void configure(const Settings& settings, const ResolvedHosts& resolved,
                   const http::UpstreamTlsMap& tls = {});

    // Hot upgrade, old side: every server's health and what the deciders
    // remember, for the successor's seed().
    std::vector<HealthHandover> handover() const;
    // Hot upgrade, new side, before the first configure(), which consumes
    // it: a server named here starts from the old process's rise/fall state
    // if its pool's check settings are the same, and from its ejection and
    // back-off history if the pool has outlier detection. Servers not named
    // start unknown, as without a hand-over.
    void seed(std::vector<HealthHandover> servers);
    // A worker's report on one request to (pool, address); ignored for
    // pools without `outlier`.
    void report(const std::string& pool, const std::string& address, PassiveResult result);
    void stop();

    std::shared_ptr<const HealthView> view() const { return view_; }

  private:
    struct Checked;
    struct Pool {
        std::vector<std::string> addresses;
        std::optional<HealthCheckSettings> health;
        std::shared_ptr<const http::UpstreamTlsContext> tls;  // probes over TLS
        std::unique_ptr<OutlierPolicy> outlier;
        std::map<std::string, std::shared_ptr<Checked>, std::less<>> checked;  // by address
    };

    void schedule(const std::shared_ptr<Checked>& server, HealthTime at);
    void run_probe(const std::shared_ptr<Checked>& server);
    void schedule_release();
    void rebuild();
    void log_events(const std::string& pool, const std::vector<OutlierEvent>& events);

    boost::asio::io_context& io_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void()> changed_;
    std::map<std::string, Pool, std::less<>> pools_;
    // seed(), by pool then address, until configure() takes it.
    std::map<std::string, std::map<std::string, HealthHandover, std::less<>>, std::less<>> seed_;
    std::shared_ptr<const HealthView> view_;
    std::uint64_t version_ = 0;
    boost::asio::steady_timer release_timer_;
    std::mt19937_64 random_;
    bool stopped_ = false;
};

}  // namespace switchyard::control

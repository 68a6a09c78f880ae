#include "switchyard/control/health_monitor.hpp"

#include "switchyard/http/probe_client.hpp"

namespace switchyard::control {

namespace asio = boost::asio;

// One server of a checked pool: its tracker and probe timer. Shared with the
// probe in flight, which finds it gone (alive = false) after a reload.
struct HealthMonitor::Checked {
    Checked(asio::io_context& io, HealthCheckSettings s)
        : settings(std::move(s)), tracker(settings), timer(io) {}
    std::string pool;
    std::string address;
    std::string ip;  // empty while the name does not resolve
    std::uint16_t port = 0;
    HealthCheckSettings settings;
    HealthTracker tracker;
    asio::steady_timer timer;
    bool alive = true;
};

HealthMonitor::HealthMonitor(asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                             std::function<void()> changed)
    : io_(io),
      log_(std::move(log)),
      changed_(std::move(changed)),
      view_(std::make_shared<HealthView>(0)),
      release_timer_(io),
      random_(std::random_device{}()) {}

HealthMonitor::~HealthMonitor() {
    stop();
}

void HealthMonitor::stop() {
    stopped_ = true;
    release_timer_.cancel();
    for (auto& [name, pool] : pools_)
        for (auto& [address, c] : pool.checked) {
            c->alive = false;
            c->timer.cancel();
        }
}

void HealthMonitor::configure(const Settings& settings, const ResolvedHosts& resolved) {
    std::map<std::string, Pool, std::less<>> next;
    const auto now = std::chrono::steady_clock::now();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (const auto& ps : settings.pools) {
        Pool& pool = next[ps.name];
        for (const auto& s : ps.servers)
            pool.addresses.push_back(s.address.to_string());
        pool.health = ps.health;
        auto old = pools_.find(ps.name);
        if (ps.outlier) {
            if (old != pools_.end() && old->second.outlier) {
                pool.outlier = std::move(old->second.outlier);
                pool.outlier->reconfigure(*ps.outlier, pool.addresses);
            } else {
                pool.outlier = std::make_unique<OutlierPolicy>(*ps.outlier, pool.addresses);
            }
        }
        if (!ps.health) continue;
        for (const auto& s : ps.servers) {
            const std::string address = s.address.to_string();
            std::string ip;
            if (is_ip_literal(s.address.host))
                ip = s.address.host;
            else if (auto it = resolved.find(s.address.host);
                     it != resolved.end() && !it->second.empty())
                ip = it->second.front();
            std::shared_ptr<Checked> c;
            if (old != pools_.end() && old->second.health == ps.health)
                if (auto it = old->second.checked.find(address); it != old->second.checked.end())
                    c = it->second;
            if (!c) {
                c = std::make_shared<Checked>(io_, *ps.health);
                c->pool = ps.name;
                c->address = address;
                c->ip = ip;
                c->port = s.address.port;
                schedule(c, first_probe_time(now, ps.health->interval, unit(random_)));
            }
            c->ip = ip;  // a DNS change applies from the next probe
            pool.checked[address] = c;
        }
    }
    // Servers that went away (or whose checks changed) stop probing.
    for (auto& [name, pool] : pools_)
        for (auto& [address, c] : pool.checked) {
            auto p = next.find(name);
            const bool kept = p != next.end() && p->second.checked.count(address) > 0 &&
                              p->second.checked.at(address) == c;
            if (!kept) {
                c->alive = false;
                c->timer.cancel();
            }
        }
    pools_ = std::move(next);
    rebuild();
}

void HealthMonitor::schedule(const std::shared_ptr<Checked>& server, HealthTime at) {
    server->timer.expires_at(at);
    server->timer.async_wait(
        [this, weak = std::weak_ptr<Checked>(server)](boost::system::error_code ec) {
            auto s = weak.lock();
            if (ec || !s || !s->alive || stopped_) return;
            run_probe(s);
        });
}

void HealthMonitor::run_probe(const std::shared_ptr<Checked>& server) {
    auto after_result = [this, weak = std::weak_ptr<Checked>(server)](CheckResult result) {
        auto s = weak.lock();
        if (!s || !s->alive || stopped_) return;
        const HealthState before = s->tracker.state();
        const CheckResult previous = s->tracker.last();
        const bool changed = s->tracker.record(result);
        if (changed) {
            const auto level = s->tracker.state() == HealthState::healthy ? spdlog::level::info
                                                                          : spdlog::level::warn;
            log_->log(level, "health: pool {} server {} is {} ({}; was {})", s->pool, s->address,
                      to_string(s->tracker.state()), describe(result), to_string(before));
        }
        // The view also carries the last result and reason (status): a new
        // one is published when either changes.
        if (changed || previous != result) rebuild();
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        schedule(s, next_probe_time(std::chrono::steady_clock::now(), s->settings.interval,
                                    unit(random_)));
    };
    if (server->ip.empty()) {
        after_result({CheckOutcome::other, 0, "the name does not resolve"});
        return;
    }
    http::ProbeRequest req;
    req.ip = server->ip;
    req.port = server->port;
    req.host = server->settings.host.empty() ? server->address : server->settings.host;
    req.path = server->settings.path;
    req.timeout = server->settings.timeout;
    req.expect_min = server->settings.expect_min;
    req.expect_max = server->settings.expect_max;
    http::probe(io_, req, std::move(after_result));
}

void HealthMonitor::report(const std::string& pool_name, const std::string& address,
                           PassiveResult result) {
    auto it = pools_.find(pool_name);
    if (stopped_ || it == pools_.end() || !it->second.outlier) return;
    auto events = it->second.outlier->record(address, result, std::chrono::steady_clock::now());
    if (events.empty()) return;
    log_events(pool_name, events);
    rebuild();
    schedule_release();
}

void HealthMonitor::schedule_release() {
    std::optional<HealthTime> first;
    for (auto& [name, pool] : pools_)
        if (pool.outlier)
            if (auto at = pool.outlier->next_release(); at && (!first || *at < *first)) first = at;
    if (!first) return;
    release_timer_.expires_at(*first);
    release_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        const auto now = std::chrono::steady_clock::now();
        bool any = false;
        for (auto& [name, pool] : pools_) {
            if (!pool.outlier) continue;
            auto events = pool.outlier->release(now);
            any = any || !events.empty();
            log_events(name, events);
        }
        if (any) rebuild();
        schedule_release();
    });
}

void HealthMonitor::log_events(const std::string& pool, const std::vector<OutlierEvent>& events) {
    for (const auto& e : events) {
        switch (e.kind) {
            case OutlierEvent::Kind::ejected:
                log_->warn("outlier: pool {} server {} ejected ({}; ejection {})", pool, e.address,
                           e.reason, e.ejections);
                break;
            case OutlierEvent::Kind::returned:
                log_->info("outlier: pool {} server {} returns to service", pool, e.address);
                break;
            case OutlierEvent::Kind::cap_reached:
                log_->warn("outlier: pool {} server {} not ejected: {}", pool, e.address, e.reason);
                break;
        }
    }
}

void HealthMonitor::rebuild() {
    auto view = std::make_shared<HealthView>(++version_);
    for (const auto& [name, pool] : pools_) {
        for (const auto& address : pool.addresses) {
            CheckStatus checks = unchecked_status();
            if (auto it = pool.checked.find(address); it != pool.checked.end())
                checks = it->second->tracker.status();
            PassiveStatus passive;
            if (pool.outlier) passive = pool.outlier->status(address);
            view->set(name, address, combine_health(checks, passive));
        }
    }
    view_ = std::move(view);
    if (changed_) changed_();
}

}  // namespace switchyard::control

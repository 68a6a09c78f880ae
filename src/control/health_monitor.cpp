#include "switchyard/control/health_monitor.hpp"

#include <set>
#include <string_view>

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
    std::string host;  // as configured: the name a TLS certificate must match
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

void HealthMonitor::configure(const Settings& settings, const ResolvedHosts& resolved,
                              const http::UpstreamTlsMap& tls) {
    std::map<std::string, Pool, std::less<>> next;
    const auto now = std::chrono::steady_clock::now();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::set<std::pair<std::string_view, std::string_view>> carried;  // servers seeded from seed_
    std::size_t recheck = 0;  // seeded servers whose checks changed: they start unknown
    for (const auto& ps : settings.pools) {
        Pool& pool = next[ps.name];
        for (const auto& s : ps.servers)
            pool.addresses.push_back(s.address.to_string());
        pool.health = ps.health;
        if (auto it = tls.find(ps.name); ps.tls && it != tls.end()) pool.tls = it->second;
        auto old = pools_.find(ps.name);
        const auto seeded = seed_.find(ps.name);
        auto seed_for = [&](const std::string& address) -> const HealthHandover* {
            if (seeded == seed_.end()) return nullptr;
            auto it = seeded->second.find(address);
            return it == seeded->second.end() ? nullptr : &it->second;
        };
        if (ps.outlier) {
            if (old != pools_.end() && old->second.outlier) {
                pool.outlier = std::move(old->second.outlier);
                pool.outlier->reconfigure(*ps.outlier, pool.addresses);
            } else {
                pool.outlier = std::make_unique<OutlierPolicy>(*ps.outlier, pool.addresses);
                for (const auto& address : pool.addresses)
                    if (const HealthHandover* h = seed_for(address)) {
                        pool.outlier->restore(address,
                                              {h->health.state == HealthState::ejected,
                                               h->health.ejected_until, h->ejection_level,
                                               h->health.ejections, h->returned, h->health.reason});
                        carried.insert({h->pool, h->address});
                    }
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
                c->host = s.address.host;
                if (const HealthHandover* h = seed_for(address)) {
                    if (h->checked && h->check_settings == *ps.health) {
                        c->tracker.restore(h->check_state, h->health.last_check, h->successes,
                                           h->failures);
                        carried.insert({h->pool, h->address});
                    } else {
                        ++recheck;
                    }
                }
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
    if (!seed_.empty()) {
        log_->info("health: {} servers start from the replaced process's view{}", carried.size(),
                   recheck > 0
                       ? "; " + std::to_string(recheck) + " start unknown (their checks changed)"
                       : std::string());
        carried.clear();     // it points into seed_
        seed_.clear();       // once: a later reload must not bring old verdicts back
        schedule_release();  // for the ejections taken over
    }
    rebuild();
}

std::vector<HealthHandover> HealthMonitor::handover() const {
    std::vector<HealthHandover> out;
    for (const auto& [name, pool] : pools_) {
        std::set<std::string_view> seen;  // an address listed twice is one server
        for (const auto& address : pool.addresses) {
            if (!seen.insert(address).second) continue;
            HealthHandover h;
            h.pool = name;
            h.address = address;
            CheckStatus checks = unchecked_status();
            if (auto it = pool.checked.find(address); it != pool.checked.end()) {
                const Checked& c = *it->second;
                checks = c.tracker.status();
                h.checked = true;
                h.check_settings = c.settings;
                h.check_state = c.tracker.state();
                h.successes = c.tracker.successes();
                h.failures = c.tracker.failures();
            }
            PassiveStatus passive;
            if (pool.outlier) {
                passive = pool.outlier->status(address);
                const auto memory = pool.outlier->memory(address);
                h.ejection_level = memory.level;
                h.returned = memory.returned;
            }
            h.health = combine_health(checks, passive);
            out.push_back(std::move(h));
        }
    }
    return out;
}

void HealthMonitor::seed(std::vector<HealthHandover> servers) {
    seed_.clear();
    for (auto& h : servers) {
        auto& pool = seed_[h.pool];
        const std::string address = h.address;
        pool.insert_or_assign(address, std::move(h));
    }
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
    if (auto pool = pools_.find(server->pool); pool != pools_.end()) {
        req.tls = pool->second.tls;
        req.tls_host = server->host;
    }
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

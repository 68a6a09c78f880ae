#include "switchyard/app/upstream_resolver.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace switchyard::app {

namespace {

using tcp = boost::asio::ip::tcp;

// No AI_ADDRCONFIG (Asio's default): a host whose only configured address is
// loopback must still resolve "localhost", and every lookup reads the same.
constexpr auto kFlags = tcp::resolver::flags();

// The addresses of an answer, in the resolver's order, each once.
std::vector<std::string> addresses_of(const tcp::resolver::results_type& results) {
    std::vector<std::string> ips;
    for (const auto& r : results) {
        auto ip = r.endpoint().address().to_string();
        if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(std::move(ip));
    }
    return ips;
}

std::set<std::string> names_of(const Settings& settings) {
    std::set<std::string> names;
    for (const auto& pool : settings.pools)
        for (const auto& s : pool.servers)
            if (!is_ip_literal(s.address.host)) names.insert(s.address.host);
    return names;
}

}  // namespace

// One refresh: every name looked up once, the answers gathered.
struct UpstreamResolver::Round {
    ResolvedHosts fresh;
    std::size_t left = 0;
};

UpstreamResolver::UpstreamResolver(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                                   std::function<void()> changed)
    : log_(std::move(log)), changed_(std::move(changed)), resolver_(io), timer_(io) {}

void UpstreamResolver::configure(std::shared_ptr<const Settings> settings) {
    settings_ = std::move(settings);
    const auto names = names_of(*settings_);
    std::erase_if(resolved_, [&](const auto& entry) { return names.count(entry.first) == 0; });
    for (const auto& pool : settings_->pools) {
        for (const auto& s : pool.servers) {
            const std::string& name = s.address.host;
            if (is_ip_literal(name) || resolved_.count(name)) continue;
            boost::system::error_code ec;
            auto results = resolver_.resolve(name, "", kFlags, ec);
            if (ec) {
                log_->warn("pool {}: cannot resolve {}; the server takes no traffic until it does",
                           pool.name, name);
                continue;
            }
            resolved_[name] = addresses_of(results);
        }
    }
    schedule_refresh();
}

void UpstreamResolver::stop() {
    stopped_ = true;
    timer_.cancel();
    resolver_.cancel();
}

void UpstreamResolver::schedule_refresh() {
    Duration shortest = Duration::max();
    for (const auto& pool : settings_->pools)
        for (const auto& s : pool.servers)
            if (!is_ip_literal(s.address.host)) shortest = std::min(shortest, pool.dns_refresh);
    if (shortest == Duration::max() || shortest <= Duration::zero()) {
        timer_.cancel();  // a reload removed the last name, or turned refreshing off
        return;
    }
    timer_.expires_after(shortest);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopped_) refresh();
    });
}

void UpstreamResolver::refresh() {
    const auto names = names_of(*settings_);
    if (names.empty()) return finish({});
    auto round = std::make_shared<Round>();
    round->left = names.size();
    for (const auto& name : names) {
        resolver_.async_resolve(
            name, "", kFlags,
            [this, name, round](boost::system::error_code ec, tcp::resolver::results_type results) {
                if (stopped_) return;
                if (!ec) {
                    round->fresh[name] = addresses_of(results);
                } else if (auto it = resolved_.find(name); it != resolved_.end()) {
                    round->fresh[name] = it->second;  // keep the last good answer
                    log_->warn("dns refresh of {} failed ({}); keeping the last answer", name,
                               ec.message());
                }
                if (--round->left == 0) finish(std::move(round->fresh));
            });
    }
}

void UpstreamResolver::finish(ResolvedHosts fresh) {
    // A reload while the round ran may have added names (looked up then) or
    // removed some: the answers follow the settings in force now.
    const auto names = names_of(*settings_);
    std::erase_if(fresh, [&](const auto& entry) { return names.count(entry.first) == 0; });
    for (const auto& name : names)
        if (auto it = resolved_.find(name); it != resolved_.end() && !fresh.count(name))
            fresh[name] = it->second;
    if (fresh != resolved_) {
        resolved_ = std::move(fresh);
        log_->info("dns answers changed; publishing new upstream addresses");
        changed_();
    }
    schedule_refresh();
}

}  // namespace switchyard::app

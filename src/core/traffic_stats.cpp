#include "switchyard/core/traffic_stats.hpp"

namespace switchyard {

namespace {
template <typename Map>
void add_counts(Map& into, const Map& from) {
    for (const auto& [key, n] : from)
        into[key] += n;
}
}  // namespace

void ServerStats::add(const ServerStats& other) {
    inflight += other.inflight;
    tunnels += other.tunnels;
    idle_connections += other.idle_connections;
    attempts += other.attempts;
    failures += other.failures;
    limited += other.limited;
    for (std::size_t i = 0; i < responses.size(); ++i)
        responses[i] += other.responses[i];
    add_counts(errors, other.errors);
}

void PoolStats::add(const PoolStats& other) {
    retries += other.retries;
    budget_exhausted += other.budget_exhausted;
    canary_failovers += other.canary_failovers;
    fallbacks += other.fallbacks;
    add_counts(responses, other.responses);
    duration.merge(other.duration);
    upstream_connect.merge(other.upstream_connect);
    upstream_response.merge(other.upstream_response);
    last_10s.merge(other.last_10s);
    last_60s.merge(other.last_60s);
}

void ConnectionStats::add(const ConnectionStats& other) {
    accepted += other.accepted;
    tls_handshake_failures += other.tls_handshake_failures;
    upstream_open += other.upstream_open;
    upstream_opened += other.upstream_opened;
    add_counts(unrouted, other.unrouted);
    http2_connections += other.http2_connections;
    http2_streams += other.http2_streams;
    http2_client_resets += other.http2_client_resets;
    add_counts(http2_defences, other.http2_defences);
}

void TrafficTotals::add(const WorkerStats& worker) {
    for (const auto& s : worker.servers) {
        auto [it, fresh] = servers.try_emplace({s.pool, s.address}, s);
        if (!fresh) it->second.add(s);
    }
    for (const auto& p : worker.pools) {
        auto [it, fresh] = pools.try_emplace(p.pool, p);
        if (!fresh) it->second.add(p);
    }
    connections.add(worker.connections);
    for (const auto& [name, n] : worker.flag_requests)
        flag_requests[name] += n;
    if (diff.routes().empty())
        diff = worker.diff;
    else
        diff.merge(worker.diff);
    for (const auto& [pool, counts] : worker.shadow_requests) {
        auto& sum = shadow_requests[pool];
        for (std::size_t i = 0; i < kShadowResults; ++i)
            sum[i] += counts[i];
    }
}

const ServerStats& TrafficTotals::server(const std::string& pool,
                                         const std::string& address) const {
    static const ServerStats kNone{};
    const auto it = servers.find({pool, address});
    return it == servers.end() ? kNone : it->second;
}

const PoolStats& TrafficTotals::pool(const std::string& name) const {
    static const PoolStats kNone{};
    const auto it = pools.find(name);
    return it == pools.end() ? kNone : it->second;
}

const char* to_string(ShadowResult r) {
    switch (r) {
        case ShadowResult::sent:
            return "sent";
        case ShadowResult::ok:
            return "ok";
        case ShadowResult::error:
            return "error";
        case ShadowResult::timeout:
            return "timeout";
        case ShadowResult::dropped_overload:
            return "dropped_overload";
        case ShadowResult::skipped_method:
            return "skipped_method";
        case ShadowResult::skipped_body:
            return "skipped_body";
    }
    return "unknown";
}

std::uint64_t TrafficTotals::flag(const std::string& name) const {
    const auto it = flag_requests.find(name);
    return it == flag_requests.end() ? 0 : it->second;
}

void StepWindow::add(const StepWindow& other) {
    if (other.id != id) return;
    for (const auto& [name, counts] : other.pools)
        pools[name].merge(counts);
}

const StepCounts& StepWindow::pool(const std::string& name) const {
    static const StepCounts kNone{};
    auto it = pools.find(name);
    return it == pools.end() ? kNone : it->second;
}

}  // namespace switchyard

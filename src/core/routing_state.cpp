#include "switchyard/core/routing_state.hpp"

#include <arpa/inet.h>
#include <xxhash.h>

namespace switchyard {

int RoutingState::find_pool(std::string_view name) const {
    for (std::size_t i = 0; i < pools.size(); ++i)
        if (pools[i].name == name) return static_cast<int>(i);
    return -1;
}

bool is_ip_literal(std::string_view host) {
    std::string h(host);
    unsigned char buf[16];
    return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

namespace {
// The upstream TLS settings are part of it: a pooled connection made with
// other ones (or without TLS) is never reused after a reload changed them.
std::uint64_t server_identity(const PoolSettings& pool, const ServerState& s) {
    std::string key = pool.name;
    key += '\0';
    key += s.address;
    for (const auto& ip : s.resolved) {
        key += '\0';
        key += ip;
    }
    if (pool.tls) {
        key += "\0tls\0" + pool.tls->ca + '\0' + pool.tls->sni;
        key += pool.tls->verify ? "\0verify" : "\0no-verify";
    }
    return XXH64(key.data(), key.size(), 0);
}
}  // namespace

namespace {
bool usable(const ServerState& s) {
    return s.admin == AdminState::enabled && s.weight > 0 && !s.resolved.empty() && s.healthy;
}
}  // namespace

bool RoutingState::has_usable_server(int pool) const {
    if (pool < 0 || static_cast<std::size_t>(pool) >= pools.size()) return false;
    for (const auto& s : pools[static_cast<std::size_t>(pool)].servers)
        if (usable(s)) return true;
    return false;
}

int RoutingState::serving_pool() const {
    if (active < 0 || static_cast<std::size_t>(active) >= pools.size()) return active;
    if (pools[static_cast<std::size_t>(active)].on_unhealthy == OnUnhealthy::fallback &&
        previous >= 0 && previous != active && !has_usable_server(active) &&
        has_usable_server(previous))
        return previous;
    return active;
}

bool RoutingState::takes_traffic(int pool, int server) const {
    if (pool < 0 || server < 0 || static_cast<std::size_t>(pool) >= pools.size()) return false;
    if (pool != serving_pool() && !(pool == canary && canary_weight_bp > 0)) return false;
    const auto& servers = pools[static_cast<std::size_t>(pool)].servers;
    if (static_cast<std::size_t>(server) >= servers.size()) return false;
    return usable(servers[static_cast<std::size_t>(server)]);
}

RoutingState build_routing_state(const Settings& settings, const RuntimeState& runtime,
                                 const ResolvedHosts& resolved, std::uint64_t snapshot) {
    RoutingState state;
    state.generation = runtime.generation;
    state.snapshot = snapshot;
    state.seed = settings.routing.seed;
    state.sticky = settings.routing.sticky;
    state.override_header = settings.routing.override_header;
    state.override_token = settings.routing.override_token;
    state.flags_header = settings.routing.flags_header;
    state.context_header = settings.routing.context_header;
    for (const std::string* name :
         {&state.override_header, &state.flags_header, &state.context_header})
        if (!name->empty()) state.private_fields.push_back(*name);
    // Only the proxy marks a mirrored copy.
    state.private_fields.emplace_back(kShadowHeader);
    for (const auto& ps : settings.pools) {
        PoolState pool;
        pool.name = ps.name;
        pool.balance = ps.balance;
        pool.retries = ps.retries;
        pool.retry_budget_percent = ps.retry_budget_percent;
        pool.max_connections_per_server = ps.max_connections_per_server;
        pool.max_pending_per_server = ps.max_pending_per_server;
        pool.on_unhealthy = ps.on_unhealthy;
        const auto admin_pool = runtime.servers.find(ps.name);
        for (const auto& ss : ps.servers) {
            ServerState s;
            s.address = ss.address.to_string();
            s.endpoint = ss.address;
            s.weight = ss.weight;
            if (admin_pool != runtime.servers.end()) {
                if (auto it = admin_pool->second.find(s.address); it != admin_pool->second.end()) {
                    s.admin = it->second.state;
                    if (it->second.weight) s.weight = *it->second.weight;
                }
            }
            if (is_ip_literal(ss.address.host)) {
                s.resolved = {ss.address.host};
            } else if (auto it = resolved.find(ss.address.host); it != resolved.end()) {
                s.resolved = it->second;
            }
            s.id = server_identity(ps, s);
            pool.servers.push_back(std::move(s));
        }
        state.pools.push_back(std::move(pool));
    }
    state.active = std::max(0, state.find_pool(runtime.active));
    state.previous = runtime.previous.empty() ? -1 : state.find_pool(runtime.previous);
    if (!runtime.canary_pool.empty()) {
        state.canary = state.find_pool(runtime.canary_pool);
        state.canary_weight_bp = state.canary >= 0 ? runtime.canary_weight_bp : 0;
    }
    for (const auto& fs : settings.flags) {
        FlagState flag;
        flag.name = fs.name;
        const auto it = runtime.flags.find(fs.name);
        flag.percent_milli = it != runtime.flags.end() ? it->second : fs.percent_milli;
        for (const auto& pool : fs.pools)
            if (const int index = state.find_pool(pool); index >= 0) flag.pools.push_back(index);
        // A flag limited to pools of which none is left is on for nobody.
        if (!fs.pools.empty() && flag.pools.empty()) flag.percent_milli = 0;
        state.flags.push_back(std::move(flag));
    }
    if (!runtime.shadow.pool.empty()) {
        state.shadow.pool = state.find_pool(runtime.shadow.pool);
        state.shadow.percent_milli = state.shadow.pool >= 0 ? runtime.shadow.percent_milli : 0;
        state.shadow.diff = runtime.shadow.diff;
    }
    state.shadow.sample = settings.shadow.sample;
    return state;
}

RuntimeState initial_runtime_state(const Settings& settings) {
    RuntimeState r;
    r.active = settings.routing.active;
    r.canary_pool = settings.routing.canary_pool;
    r.canary_weight_bp =
        static_cast<std::uint32_t>(settings.routing.canary_weight_percent * 100.0 + 0.5);
    for (const auto& f : settings.flags)
        r.flags[f.name] = f.percent_milli;
    if (!settings.shadow.pool.empty())
        r.shadow = {settings.shadow.pool, settings.shadow.percent_milli,
                    settings.shadow.diff.enabled};
    return r;
}

}  // namespace switchyard

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
std::uint64_t server_identity(const std::string& pool, const ServerState& s) {
    std::string key = pool;
    key += '\0';
    key += s.address;
    for (const auto& ip : s.resolved) {
        key += '\0';
        key += ip;
    }
    return XXH64(key.data(), key.size(), 0);
}
}  // namespace

RoutingState build_routing_state(const Settings& settings, const ResolvedHosts& resolved,
                                 std::uint64_t generation) {
    RoutingState state;
    state.generation = generation;
    state.seed = settings.routing.seed;
    for (const auto& ps : settings.pools) {
        PoolState pool;
        pool.name = ps.name;
        pool.balance = ps.balance;
        pool.retries = ps.retries;
        for (const auto& ss : ps.servers) {
            ServerState s;
            s.address = ss.address.to_string();
            s.endpoint = ss.address;
            s.weight = ss.weight;
            if (is_ip_literal(ss.address.host)) {
                s.resolved = {ss.address.host};
            } else if (auto it = resolved.find(ss.address.host); it != resolved.end()) {
                s.resolved = it->second;
            }
            s.id = server_identity(ps.name, s);
            pool.servers.push_back(std::move(s));
        }
        state.pools.push_back(std::move(pool));
    }
    state.active = std::max(0, state.find_pool(settings.routing.active));
    if (!settings.routing.canary_pool.empty()) {
        state.canary = state.find_pool(settings.routing.canary_pool);
        state.canary_weight_bp =
            static_cast<std::uint32_t>(settings.routing.canary_weight_percent * 100.0 + 0.5);
    }
    return state;
}

}  // namespace switchyard

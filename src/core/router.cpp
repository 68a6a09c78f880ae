#include "switchyard/core/router.hpp"

namespace switchyard {

void BalancerState::sync(const RoutingState& state) {
    if (state.snapshot == snapshot_ && credits_.size() == state.pools.size()) return;
    snapshot_ = state.snapshot;
    credits_.assign(state.pools.size(), {});
    for (std::size_t i = 0; i < state.pools.size(); ++i)
        credits_[i].assign(state.pools[i].servers.size(), 0);
}

int Router::pick_round_robin(const PoolState& pool, std::vector<std::int64_t>& credits) {
    std::int64_t total = 0;
    int best = -1;
    for (std::size_t i = 0; i < pool.servers.size(); ++i) {
        const auto& s = pool.servers[i];
        if (s.resolved.empty() || s.weight == 0 || s.admin != AdminState::enabled) continue;
        credits[i] += s.weight;
        total += s.weight;
        if (best < 0 || credits[i] > credits[static_cast<std::size_t>(best)])
            best = static_cast<int>(i);
    }
    if (best >= 0) credits[static_cast<std::size_t>(best)] -= total;
    return best;
}

Decision Router::decide(const RequestView&, const RoutingState& state, BalancerState& balancer) {
    Decision d;
    if (state.active < 0 || static_cast<std::size_t>(state.active) >= state.pools.size()) return d;
    balancer.sync(state);
    d.pool = state.active;
    d.server = pick_round_robin(state.pools[static_cast<std::size_t>(d.pool)], balancer.credits(d.pool));
    return d;
}

}  // namespace switchyard

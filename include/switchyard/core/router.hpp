// Router: the routing policy. A pure function of the request view, the
// routing snapshot, the worker's balancer state (passed in, owned by the
// worker) and injected randomness: no I/O, no clock, no globals.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "switchyard/core/routing_state.hpp"

namespace switchyard {

// What the policy may look at in a request. Views into the request head.
struct RequestView {
    std::string_view method;
    std::string_view target;
    std::string_view host;
};

struct Decision {
    int pool = -1;    // -1: no pool can take the request (503)
    int server = -1;  // -1: the pool has no usable server (503)
};

// Per-worker balancer memory: smooth weighted round-robin credits per server.
// Rebuilt whenever a snapshot with another shape or generation arrives.
class BalancerState {
public:
    void sync(const RoutingState& state);
    std::vector<std::int64_t>& credits(int pool) { return credits_[static_cast<std::size_t>(pool)]; }

private:
    std::uint64_t snapshot_ = ~0ULL;
    std::vector<std::vector<std::int64_t>> credits_;
};

class Router {
public:
    static Decision decide(const RequestView& request, const RoutingState& state,
                           BalancerState& balancer);

    // Smooth weighted round-robin (as NGINX's): every pick adds each
    // server's weight to its credit, takes the largest and subtracts the
    // total. Servers without an address are skipped. -1 if none is usable.
    static int pick_round_robin(const PoolState& pool, std::vector<std::int64_t>& credits);
};

}  // namespace switchyard

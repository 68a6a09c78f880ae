// Health gate: may a cutover send users to a pool? `switch`, `promote`,
// `canary` and `rollback` refuse a target pool with fewer than `min_healthy`
// healthy servers; `force` overrides (the caller audits it), and the
// emergency stops are never gated.
//
// Pure: the control plane passes the pool's servers with what the
// HealthView says of them and gets a verdict with a message for the reply
// and the audit log, e.g.
//   pool green has 0 of 2 servers healthy (needs 1 and 50 %):
//   127.0.0.1:9002 unknown (no check finished yet), 127.0.0.1:9003 unhealthy (status 500)
// (one line). The rules:
//  - healthy means HealthState::healthy and in service. Unknown fails here,
//    although it takes traffic: a cutover must not bet on servers no check
//    has vouched for. Unhealthy and ejected fail.
//  - A server out of service (the admin disabled or drains it, it has no
//    address) cannot serve, so it counts in the total but never as healthy.
//  - pass iff healthy >= count and healthy >= ceil(total × percent / 100):
//    the percentage rounds up, so 50 % of 3 servers needs 2.
//  - The message lists every server that is not healthy, in the given
//    order, also when the gate passes (for the audit log).
// A pool without active checks publishes its servers healthy
// (unchecked_status()), so it passes unless servers are ejected or out of
// service.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/runtime_transitions.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

struct GateServer {
    std::string address;
    HealthState state = HealthState::unknown;
    std::string reason;  // the HealthView's reason: "no check finished yet", "status 500"
    // Empty: in service. Else why not, one word for the message: "disabled",
    // "draining", "unresolved".
    std::string out_of_service;
};

struct GateResult {
    bool pass = false;
    std::uint32_t healthy = 0;
    std::uint32_t total = 0;
    std::uint32_t required = 0;  // max(count, ceil(total × percent / 100))
    std::string message;         // as above; also when pass
};

GateResult evaluate_health_gate(std::string_view pool, std::span<const GateServer> servers,
                                const MinHealthySettings& min);

// The servers of a routing snapshot's pool as the gate sees them: the
// HealthView's state and reason (no entry: unknown, "no check finished
// yet"), out of service when draining, disabled or without an address.
std::vector<GateServer> gate_servers(const PoolState& pool, const HealthView& view);

// evaluate_health_gate(pool.name, gate_servers(pool, view), min).
GateResult evaluate_health_gate(const PoolState& pool, const HealthView& view,
                                const MinHealthySettings& min);

// Which pool, if any, a command must find healthy before it is applied.
// `current` is the state before the command (call it once apply() has
// accepted the command and changed something):
//  - switch POOL: POOL (nothing when POOL is already active);
//  - promote: the canary pool;
//  - canary POOL W: POOL, except W = 0 and a lower weight for the same
//    canary pool, which only take users away from it (an emergency stop
//    and a step back must always work);
//  - rollback: the previous pool when it switches back; nothing when it
//    aborts a canary (weight > 0);
//  - server commands: nothing.
std::optional<std::string> gate_target(const RoutingCommand& command, const RuntimeState& current);

}  // namespace switchyard

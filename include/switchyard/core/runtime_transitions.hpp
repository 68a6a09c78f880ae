// Runtime transitions: what each mutating control command does to the
// RuntimeState (DESIGN.md, "What each command does to the state").
//
// Pure: no I/O, no clock. The control plane parses a command, calls apply(),
// persists `next` when it changed, publishes it and replies. A refused
// command (ok == false) changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

// A mutating command, already parsed (control/command.hpp does the parsing).
struct RoutingCommand {
    enum class Kind { switch_to, canary, promote, rollback, server_admin, flag, shadow };
    Kind kind = Kind::switch_to;
    std::string pool;             // switch/canary/server
    std::uint32_t weight_bp = 0;  // canary: percent*100 (0..10000), 2 decimals max
    std::string server;           // server_admin: the address as configured ("127.0.0.1:9001")
    enum class ServerAction { drain, disable, enable, weight } action = ServerAction::enable;
    std::uint32_t server_weight = 0;       // ServerAction::weight: 1..kMaxServerWeight
    std::string flag;                      // flag: its name
    std::uint32_t flag_percent_milli = 0;  // flag: percent x 1000 (0..100000; off is 0)
    // shadow: `pool` (empty: off), the percent x 1000 and whether to compare.
    std::uint32_t shadow_percent_milli = 0;
    bool shadow_diff = false;
    std::optional<std::uint64_t> if_generation;
    bool force = false;  // carried for the health gates (not evaluated here)
};

// A server weight override lies in 1..kMaxServerWeight; 0 is refused because
// `disable` says that explicitly (and keeps the weight for a later enable).
inline constexpr std::uint32_t kMaxServerWeight = 10000;

struct Transition {
    bool ok = false;
    std::string error;     // when !ok: one clear sentence
    bool changed = false;  // ok && !changed: a no-op (switch to the active pool, ...)
    RuntimeState next;     // == current when !changed; generation + 1 when changed
    std::string
        drain_pool;  // switch/promote/rollback-to-previous: the pool that lost the active role
};

Transition apply(const RuntimeState& current, const RoutingCommand& command,
                 const Settings& settings);

// DESIGN.md "Fleet": a member cut off from the store may stop a canary
// (`canary POOL 0`, or `rollback` while a canary takes traffic), never
// advance or switch.
bool is_emergency_stop(const RoutingCommand& command, const RuntimeState& current);

// A stop made while the store was away: the canary pool it stopped and the
// active pool it was made under.
struct EmergencyStop {
    std::string canary_pool;
    std::string active;
    bool operator==(const EmergencyStop&) const = default;
};

// The stop put on top of the store's state when the store returns: the
// store's canary of that pool goes to 0 %. Refused when the store's active
// pool is no longer the one the stop was made under (the store moved on and
// wins); unchanged when the store's canary already takes nothing.
Transition replay_stop(const RuntimeState& store, const EmergencyStop& stop);

// "5.00" for 500 basis points: the canary weight as replies and the state
// file write it (percent, two decimals).
std::string format_weight_percent(std::uint32_t weight_bp);

}  // namespace switchyard

// RuntimeState: the routing fields that change at run time (DESIGN.md,
// "Routing model" and "State"): who is active, previous and canary, the
// generation, and per-server admin state. It is what the state file holds
// and what control commands change. Pure data and pure functions: the
// control plane persists it and turns it into a RoutingState snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard {

enum class AdminState { enabled, draining, disabled };

struct ServerAdmin {
    AdminState state = AdminState::enabled;
    std::optional<std::uint32_t> weight;  // overrides the config weight
    bool operator==(const ServerAdmin&) const = default;
};

// Mirroring as the shadow command sets it (DESIGN.md "Dark launch").
struct ShadowRuntime {
    std::string pool;                 // empty: off
    std::uint32_t percent_milli = 0;  // percent x 1000, 0..100000
    bool diff = false;                // compare the shadow's answers
    bool operator==(const ShadowRuntime&) const = default;
};

struct RuntimeState {
    std::string active;
    std::string previous;                // empty: none
    std::string canary_pool;             // empty: none
    std::uint32_t canary_weight_bp = 0;  // 0..10000
    std::uint64_t generation = 0;
    // pool name -> server address (as configured) -> admin state; only
    // entries that differ from the default (enabled, config weight) are kept.
    std::map<std::string, std::map<std::string, ServerAdmin>> servers;
    // flag name -> percent x 1000 (0..100000), for every configured flag.
    std::map<std::string, std::uint32_t> flags;
    ShadowRuntime shadow;
    bool operator==(const RuntimeState&) const = default;
};

// The initial state a config describes (routing.active, routing.canary,
// each flag's percent).
RuntimeState initial_runtime_state(const Settings& settings);

// A loaded state checked against the config (DESIGN.md "State"): entries
// naming pools or servers the config no longer has are dropped and reported;
// where state and config disagree, state wins and the difference is reported.
struct ReconciledState {
    RuntimeState state;
    std::vector<std::string> dropped;    // "canary pool orange (not in the config)", ...
    std::vector<std::string> conflicts;  // "active green from state; config says blue", ...
};
ReconciledState reconcile(const RuntimeState& loaded, const Settings& settings);

}  // namespace switchyard

// RoutingState: the immutable routing snapshot that every worker reads.
//
// Built by the control plane from Settings (plus DNS results and, later, the
// durable runtime state) and published to workers as
// std::shared_ptr<const RoutingState>; a request pins the snapshot it started
// with. Nothing here changes after construction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

struct ServerState {
    std::string address;  // as configured: "127.0.0.1:9001", "app:80"
    Endpoint endpoint;
    std::vector<std::string> resolved;  // numeric IPs to connect to, first preferred
    std::uint32_t weight = 1;           // effective: the admin override, else the config's
    AdminState admin = AdminState::enabled;
    // False while active checks fail or it is ejected (the HealthView the
    // snapshot was built with; see apply_health).
    bool healthy = true;
    // Identity of the upstream this entry connects to (pool, address, resolved
    // IPs): pooled connections are reused only for an equal id, so a changed
    // address or DNS answer never reuses an old connection.
    std::uint64_t id = 0;
};

struct PoolState {
    std::string name;
    BalancePolicy balance = BalancePolicy::least_request;
    std::vector<ServerState> servers;
    std::uint32_t retries = 1;                     // attempts on other servers after the first
    std::uint32_t retry_budget_percent = 20;       // retries at most this share of requests
    std::uint32_t max_connections_per_server = 0;  // requests at once per server; 0: no limit
    std::uint32_t max_pending_per_server = 0;      // requests waiting for a slot per server
    OnUnhealthy on_unhealthy = OnUnhealthy::fail;
};

// A feature flag as the router applies it (DESIGN.md "Feature flags at the
// edge").
struct FlagState {
    std::string name;
    std::uint32_t percent_milli = 0;  // percent x 1000: users with flag bucket below are in
    std::vector<int> pools;           // indices into pools; empty: any pool
};

// Mirroring as the router applies it (DESIGN.md "Dark launch"); the rest of
// [shadow] is read from Settings by the proxy.
// Marks a mirrored copy for the application; a client's is removed.
inline constexpr std::string_view kShadowHeader = "X-Switchyard-Shadow";

struct ShadowState {
    int pool = -1;                    // index into pools; -1: off
    std::uint32_t percent_milli = 0;  // percent x 1000
    ShadowSample sample = ShadowSample::user;
    bool diff = false;
};

struct RoutingState {
    std::vector<PoolState> pools;
    int active = 0;                      // index into pools
    int previous = -1;                   // -1: none
    int canary = -1;                     // -1: none
    std::uint32_t canary_weight_bp = 0;  // basis points, 0..10000
    std::uint64_t seed = 0;
    std::uint64_t generation = 0;  // the routing generation (RuntimeState::generation)
    // Increments on every snapshot published (routing change, reload, DNS
    // change): per-worker balancer memory is rebuilt when it changes.
    std::uint64_t snapshot = 0;
    StickySettings sticky;
    std::string override_header;  // empty: overrides off
    std::string override_token;
    std::vector<FlagState> flags;  // in config order; at most kMaxFlags
    std::string flags_header;      // names the flags on for a user, to the upstream
    std::string context_header;    // empty: no routing context to the upstream
    // Fields the proxy never forwards from a client (the override, flags and
    // context headers), in requests and in trailers.
    std::vector<std::string> private_fields;
    ShadowState shadow;

    int find_pool(std::string_view name) const;
    // Has the pool a server that may take requests (whatever its role)?
    bool has_usable_server(int pool) const;
    // The pool that serves the active pool's share: the active pool, or the
    // previous one when the active pool has no usable server and its
    // on_unhealthy is "fallback" (and the previous one has one).
    int serving_pool() const;
    // Does this server take new requests in this snapshot? It must be in the
    // active pool or in a canary pool with weight > 0 (or in the previous
    // pool while it stands in for an active pool without a usable server),
    // enabled, weighted, resolved and healthy.
    bool takes_traffic(int pool, int server) const;
};

// DNS answers by host name: numeric IPs in preference order.
using ResolvedHosts = std::map<std::string, std::vector<std::string>, std::less<>>;

// Builds the snapshot for `settings` and `runtime` (active, canary, admin
// states). Hosts that are IP literals resolve to themselves; names come from
// `resolved` (a name missing there has no address and its server is skipped
// by the balancer until it resolves).
RoutingState build_routing_state(const Settings& settings, const RuntimeState& runtime,
                                 const ResolvedHosts& resolved, std::uint64_t snapshot);

// True if `host` is an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string_view host);

}  // namespace switchyard

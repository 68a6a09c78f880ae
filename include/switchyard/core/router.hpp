// Router: the routing policy. A pure function of the request view, the
// routing snapshot, the worker's balancer state (passed in, owned by the
// worker) and injected randomness: no I/O, no clock, no globals.
//
// Two steps (DESIGN.md, Routing model): choose the pool (override header,
// else the user's sticky bucket against the canary weight), then a server in
// it (weighted least-request by power of two choices, or smooth weighted
// round-robin).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/routing_state.hpp"

namespace switchyard {

// What the policy may look at in a request. Views into the request head;
// every field is optional (empty: absent).
struct RequestView {
    std::span<const std::string_view> cookies{};  // the value of every Cookie field, in order
    std::string_view sticky_header{};   // routing.sticky.name's value when source = header
    std::string_view client_ip{};       // resolved through trusted proxies (client_address)
    std::string_view override_pool{};   // routing.override_header's value
    std::string_view override_token{};  // the credential sent with an override
    bool from_trusted_proxy = false;    // the peer is in the listener's trusted_proxies
};

struct Decision {
    int pool = -1;             // -1: no pool can take the request (503)
    int server = -1;           // -1: the pool has no usable server (503)
    std::uint32_t bucket = 0;  // the user's bucket, 0..9999 (also without a canary)
    bool canary = false;       // in the canary pool because bucket < canary weight
    bool overridden = false;   // the override header chose the pool
    // The canary's share went to the active pool: the canary had no usable server.
    bool canary_failover = false;
    // The previous pool served for an active pool without a usable server
    // (on_unhealthy = "fallback").
    bool fallback = false;
    // The feature flags this user has: bit i for state.flags[i]
    // (feature_flags.hpp). 0 without flags, without a user key or a pool.
    std::uint64_t flags = 0;
    // A copy goes to the shadow pool (shadow_policy.hpp); the proxy still
    // checks the method, the body and its mirror budget.
    bool shadow = false;
    // Non-empty: the user had no key; the proxy must add
    // Set-Cookie: append_assign_cookie(out, state.sticky.assign_cookie, this, ...).
    std::string assign_cookie_value;
};

// Injected randomness (the worker owns a fast generator). Uniform 64 bits.
class Random {
  public:
    virtual ~Random() = default;
    virtual std::uint64_t next() = 0;
};

// SplitMix64 (Steele, Lea, Flood 2014): tiny and fast, good enough for
// balancing draws and assignment ids when seeded from a real entropy source.
class SplitMix64 final : public Random {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() override {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t state_;
};

// Can this server take new requests, whatever its pool's role? Enabled by
// the admin, weighted and resolved (RoutingState::takes_traffic without the
// role check).
inline bool server_usable(const ServerState& s) {
    return s.admin == AdminState::enabled && s.weight > 0 && !s.resolved.empty() && s.healthy;
}

// Per-worker balancer memory, indexed like the snapshot it was synced to:
// smooth weighted round-robin credits and in-flight requests per server.
// Everything resets when a newer snapshot (or another shape) arrives.
//
// In-flight loads: the proxy adds 1 when it sends a request to a server and
// subtracts 1 when that request ends, using the pool/server indices of the
// snapshot the request pinned. After a sync to a newer snapshot those
// indices may name other servers, so a caller must drop changes for an older
// snapshot: compare with snapshot(), or use add_load_if(), which does so.
class BalancerState {
  public:
    // Adopts `state`'s numbering; a newer snapshot (or another shape)
    // resets the memory. False for an older snapshot than the one synced:
    // the memory is kept for the current one and does not apply.
    bool sync(const RoutingState& state);
    std::vector<std::int64_t>& credits(int pool) {
        return credits_[static_cast<std::size_t>(pool)];
    }

    // The snapshot number these indices belong to (~0 before the first sync).
    std::uint64_t snapshot() const { return snapshot_; }

    // In-flight requests per server of `pool` (an index of the synced
    // snapshot), indexed like its servers.
    std::span<const std::uint32_t> loads(int pool) const {
        return loads_[static_cast<std::size_t>(pool)];
    }
    std::uint32_t load(int pool, int server) const;
    // Out-of-range indices are ignored; the load never goes below 0.
    void add_load(int pool, int server, int delta);
    // add_load() only if `snapshot` is the synced one; true if applied.
    bool add_load_if(std::uint64_t snapshot, int pool, int server, int delta);

  private:
    bool same_shape(const RoutingState& state) const;

    static constexpr std::uint64_t kNever = ~0ULL;
    std::uint64_t snapshot_ = kNever;
    std::vector<std::vector<std::int64_t>> credits_;
    std::vector<std::vector<std::uint32_t>> loads_;
};

class Router {
  public:
    // Picks the pool and server for `request` (DESIGN.md, Routing model):
    //  - user key: sticky.source's cookie / header / client IP; else the
    //    assignment cookie; else a new random id, returned in
    //    assign_cookie_value. Source none: a random bucket, no cookie.
    //  - override: routing.override_header naming an existing pool wins when
    //    the request is from a trusted proxy or carries override_token.
    //  - canary iff bucket < canary weight and the canary pool has a usable
    //    server; else the active pool.
    //  - the server: the pool's balance policy.
    //  - flags: those on for the user key and the chosen pool.
    //  - shadow: whether the request is sampled for mirroring.
    // The bucket (and the assignment cookie) are set for overridden
    // requests too, so the user keeps one assignment either way.
    static Decision decide(const RequestView& request, const RoutingState& state,
                           BalancerState& balancer, Random& random);

    // The server for a request to `pool` by the pool's policy, skipping the
    // servers in `exclude` (a retry goes to a server not tried yet); -1 if
    // none is usable. Syncs `balancer` to `state`; for a snapshot older than
    // the balancer's, a weighted random pick without memory.
    static int pick_server(const RoutingState& state, int pool, BalancerState& balancer,
                           Random& random, std::span<const int> exclude = {});

    // Smooth weighted round-robin (as NGINX's): every pick adds each
    // server's weight to its credit, takes the largest and subtracts the
    // total. Servers without an address are skipped. -1 if none is usable.
    static int pick_round_robin(const PoolState& pool, std::vector<std::int64_t>& credits,
                                std::span<const int> exclude = {});

    // Weighted least-request by power of two choices (as Envoy's): draw two
    // distinct usable servers with probability proportional to weight, take
    // the one with fewer in-flight requests per unit weight, ties to the
    // first drawn. One usable server: that one; none: -1.
    // `loads` is indexed like the pool's servers; empty: unknown (all ties).
    static int pick_least_request(const PoolState& pool, std::span<const std::uint32_t> loads,
                                  Random& random, std::span<const int> exclude = {});

  private:
    // The pool and server once the bucket is known (override, canary, active).
    static void choose_pool(const RequestView& request, const RoutingState& state,
                            BalancerState* memory, Random& random, Decision& d);
    static int pick(const RoutingState& state, int pool, BalancerState* balancer, Random& random,
                    std::span<const int> exclude = {});
};

}  // namespace switchyard

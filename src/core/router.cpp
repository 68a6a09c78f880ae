#include "switchyard/core/router.hpp"

#include <algorithm>

#include "switchyard/core/cookie.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/shadow_policy.hpp"
#include "switchyard/core/sticky.hpp"

namespace switchyard {
namespace {

// A uniform integer in [0, n) from 64 random bits (Lemire's multiply-shift:
// no division, and no modulo bias worth the name for n < 2^32).
std::uint64_t below(Random& random, std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(random.next()) * n) >> 64);
}

// Token comparison whose time does not depend on where the first
// difference is, so the token cannot be guessed byte by byte.
bool equal_secret(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool valid_pool(const RoutingState& state, int pool) {
    return pool >= 0 && static_cast<std::size_t>(pool) < state.pools.size();
}

// The user key the configured source gives, empty if none.
std::string_view configured_key(const RequestView& request, const StickySettings& sticky) {
    switch (sticky.source) {
        case StickySource::cookie:
            if (auto v = find_cookie(request.cookies, sticky.name)) return *v;
            return {};
        case StickySource::header:
            return request.sticky_header;
        case StickySource::client_ip:
            return request.client_ip;
        case StickySource::none:
            return {};
    }
    return {};
}

}  // namespace

bool BalancerState::same_shape(const RoutingState& state) const {
    if (credits_.size() != state.pools.size()) return false;
    for (std::size_t i = 0; i < credits_.size(); ++i)
        if (credits_[i].size() != state.pools[i].servers.size()) return false;
    return true;
}

bool BalancerState::sync(const RoutingState& state) {
    if (state.snapshot == snapshot_ && same_shape(state)) return true;
    // Snapshot numbers only grow: an older one is a request that pinned it
    // (a retry, say); rebuilding for it would wipe the current loads.
    if (snapshot_ != kNever && state.snapshot < snapshot_) return false;
    snapshot_ = state.snapshot;
    credits_.assign(state.pools.size(), {});
    loads_.assign(state.pools.size(), {});
    for (std::size_t i = 0; i < state.pools.size(); ++i) {
        credits_[i].assign(state.pools[i].servers.size(), 0);
        loads_[i].assign(state.pools[i].servers.size(), 0);
    }
    return true;
}

std::uint32_t BalancerState::load(int pool, int server) const {
    if (pool < 0 || server < 0 || static_cast<std::size_t>(pool) >= loads_.size()) return 0;
    const auto& loads = loads_[static_cast<std::size_t>(pool)];
    if (static_cast<std::size_t>(server) >= loads.size()) return 0;
    return loads[static_cast<std::size_t>(server)];
}

void BalancerState::add_load(int pool, int server, int delta) {
    if (pool < 0 || server < 0 || static_cast<std::size_t>(pool) >= loads_.size()) return;
    auto& loads = loads_[static_cast<std::size_t>(pool)];
    if (static_cast<std::size_t>(server) >= loads.size()) return;
    auto& load = loads[static_cast<std::size_t>(server)];
    const std::int64_t next = static_cast<std::int64_t>(load) + delta;
    load = next < 0 ? 0 : static_cast<std::uint32_t>(next);
}

bool BalancerState::add_load_if(std::uint64_t snapshot, int pool, int server, int delta) {
    if (snapshot != snapshot_) return false;
    add_load(pool, server, delta);
    return true;
}

namespace {

bool eligible(const PoolState& pool, std::size_t i, std::span<const int> exclude) {
    return server_usable(pool.servers[i]) &&
           std::find(exclude.begin(), exclude.end(), static_cast<int>(i)) == exclude.end();
}

}  // namespace

int Router::pick_round_robin(const PoolState& pool, std::vector<std::int64_t>& credits,
                             std::span<const int> exclude) {
    std::int64_t total = 0;
    int best = -1;
    for (std::size_t i = 0; i < pool.servers.size(); ++i) {
        const auto& s = pool.servers[i];
        if (!eligible(pool, i, exclude)) continue;
        credits[i] += s.weight;
        total += s.weight;
        if (best < 0 || credits[i] > credits[static_cast<std::size_t>(best)])
            best = static_cast<int>(i);
    }
    if (best >= 0) credits[static_cast<std::size_t>(best)] -= total;
    return best;
}

int Router::pick_least_request(const PoolState& pool, std::span<const std::uint32_t> loads,
                               Random& random, std::span<const int> exclude) {
    // A walk over weight intervals (as Envoy's), linear in the pool: pools
    // are small, and this needs no per-snapshot index to keep in step.
    const auto& servers = pool.servers;
    std::uint64_t total = 0;
    int usable = 0, only = -1;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        if (!eligible(pool, i, exclude)) continue;
        total += servers[i].weight;
        ++usable;
        only = static_cast<int>(i);
    }
    if (usable <= 1) return only;

    // The server whose weight interval holds `point`, skipping `skip`.
    auto walk = [&](std::uint64_t point, int skip) {
        int last = -1;
        for (std::size_t i = 0; i < servers.size(); ++i) {
            if (static_cast<int>(i) == skip || !eligible(pool, i, exclude)) continue;
            last = static_cast<int>(i);
            if (point < servers[i].weight) break;
            point -= servers[i].weight;
        }
        return last;
    };
    const auto a = static_cast<std::size_t>(walk(below(random, total), -1));
    const auto b = static_cast<std::size_t>(
        walk(below(random, total - servers[a].weight), static_cast<int>(a)));
    if (loads.size() != servers.size()) return static_cast<int>(a);  // no loads known: a tie

    // load_a / w_a <= load_b / w_b without division; 64 bits cannot overflow.
    const std::uint64_t cost_a = std::uint64_t{loads[a]} * servers[b].weight;
    const std::uint64_t cost_b = std::uint64_t{loads[b]} * servers[a].weight;
    return static_cast<int>(cost_b < cost_a ? b : a);
}

int Router::pick(const RoutingState& state, int pool, BalancerState* balancer, Random& random,
                 std::span<const int> exclude) {
    const auto& p = state.pools[static_cast<std::size_t>(pool)];
    if (!balancer) {
        // Memory of another snapshot: a weighted random pick, which is
        // what least request does without loads.
        return pick_least_request(p, {}, random, exclude);
    }
    switch (p.balance) {
        case BalancePolicy::round_robin:
            return pick_round_robin(p, balancer->credits(pool), exclude);
        case BalancePolicy::least_request:
            return pick_least_request(p, balancer->loads(pool), random, exclude);
    }
    return -1;
}

int Router::pick_server(const RoutingState& state, int pool, BalancerState& balancer,
                        Random& random, std::span<const int> exclude) {
    if (!valid_pool(state, pool)) return -1;
    return pick(state, pool, balancer.sync(state) ? &balancer : nullptr, random, exclude);
}

Decision Router::decide(const RequestView& request, const RoutingState& state,
                        BalancerState& balancer, Random& random) {
    Decision d;
    if (!valid_pool(state, state.active)) return d;
    BalancerState* memory = balancer.sync(state) ? &balancer : nullptr;

    // The user's bucket. It is computed even for overridden requests, so
    // that the user keeps one assignment (and gets the cookie) either way.
    const StickySettings& sticky = state.sticky;
    std::string_view key = configured_key(request, sticky);
    if (sticky.source == StickySource::none || sticky.assign_cookie.empty()) {
        // No stickiness: every request is a fresh draw.
        d.bucket = key.empty() ? static_cast<std::uint32_t>(below(random, kBucketCount))
                               : bucket_of(key, state.seed);
    } else {
        if (key.empty() &&
            !(sticky.source == StickySource::cookie && sticky.name == sticky.assign_cookie)) {
            if (auto v = find_cookie(request.cookies, sticky.assign_cookie)) key = *v;
        }
        if (key.empty()) {
            const std::uint64_t hi = random.next();
            d.assign_cookie_value = new_assignment_id(hi, random.next());
            key = d.assign_cookie_value;  // d is not moved before the flags below
        }
        d.bucket = bucket_of(key, state.seed);
    }
    choose_pool(request, state, memory, random, d);
    if (!state.flags.empty() && d.pool >= 0) d.flags = flags_for(state, key, d.pool);
    if (state.shadow.pool >= 0) d.shadow = shadow_sampled(state, key, d.pool, random);
    return d;
}

void Router::choose_pool(const RequestView& request, const RoutingState& state,
                         BalancerState* memory, Random& random, Decision& d) {
    if (!state.override_header.empty() && !request.override_pool.empty()) {
        const int pool = state.find_pool(request.override_pool);
        const bool allowed = request.from_trusted_proxy ||
                             (!state.override_token.empty() &&
                              equal_secret(request.override_token, state.override_token));
        if (pool >= 0 && allowed) {
            d.pool = pool;
            d.overridden = true;
            d.server = pick(state, pool, memory, random);
            return;
        }
    }

    if (state.canary >= 0 && state.canary != state.active && valid_pool(state, state.canary) &&
        in_canary(d.bucket, state.canary_weight_bp)) {
        // A canary with no usable server sends its share to the active pool
        // rather than failing those users.
        const int server = pick(state, state.canary, memory, random);
        if (server >= 0) {
            d.pool = state.canary;
            d.server = server;
            d.canary = true;
            return;
        }
        d.canary_failover = true;
    }
    // The active pool, or the previous one standing in for it (on_unhealthy
    // = "fallback"); with neither usable the pick fails and the request
    // gets 503.
    d.pool = state.serving_pool();
    d.fallback = d.pool != state.active;
    d.server = pick(state, d.pool, memory, random);
}

}  // namespace switchyard

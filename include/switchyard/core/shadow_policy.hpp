// Dark launch policy (DESIGN.md "Dark launch"): which requests are copied to
// the shadow pool. Pure: standard library + xxhash.
//
// With sample = "user" a request is mirrored iff
// XXH64("shadow/" + key, seed) mod 100000 < percent x 1000: a user's whole
// session is mirrored, raising the percent only adds users, and every
// instance with the same seed mirrors the same users. With sample =
// "request" (or no user key) it is a fresh draw per request.
#pragma once

#include <cstdint>
#include <string_view>

#include "switchyard/core/router.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

// Shadow buckets: one per 0.001 % of users (as flags).
inline constexpr std::uint32_t kShadowBuckets = 100000;

// Part of the contract (instances and versions must agree): never changes.
std::uint32_t shadow_bucket(std::string_view key, std::uint64_t seed);

// Is a request of this user (key, possibly empty), routed to `pool`,
// copied to the shadow pool? Never when mirroring is off or the request
// already goes to the shadow pool.
bool shadow_sampled(const RoutingState& state, std::string_view key, int pool, Random& random);

// GET, HEAD, OPTIONS (and TRACE): the methods the secondary may replay and
// that are mirrored without allow_unsafe.
bool is_safe_method(std::string_view method);

// Is `method` mirrored by these settings (listed, and safe or allowed)?
bool shadow_method_allowed(const ShadowSettings& settings, std::string_view method);

}  // namespace switchyard

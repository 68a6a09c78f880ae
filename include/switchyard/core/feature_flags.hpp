// Feature flags at the edge (DESIGN.md "Feature flags at the edge"): which
// flags a user has, decided once by the load balancer and told to the
// application in a request header.
//
// A user has a flag iff XXH64("flag/" + name + "/" + key, seed) mod 100000
// is below percent x 1000: sticky (the same key, the same answer), monotone
// (raising the percent only adds users) and the same on every instance with
// the same seed. Pure: standard library + xxhash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/routing_state.hpp"

namespace switchyard {

// Flag buckets: one per 0.001 % of users.
inline constexpr std::uint32_t kFlagBuckets = 100000;
// Decision::flags is a 64-bit set, one bit per configured flag.
inline constexpr std::size_t kMaxFlags = 64;

// Part of the contract (instances and versions must agree): never changes.
std::uint32_t flag_bucket(std::string_view flag, std::string_view key, std::uint64_t seed);

// Letters, digits, '.', '_', '-'; 1..64 characters (so that a name is safe
// in a header list, a metric label and a command).
bool valid_flag_name(std::string_view name);

// "5.000" for 5000: a flag's percent as status, replies and the state file
// write it (three decimals).
std::string format_flag_percent(std::uint32_t percent_milli);

// "5", "5.5", "0.001", "100.000" -> percent x 1000; nullopt for anything
// else (more than three decimals, above 100, signs, exponents, spaces).
std::optional<std::uint32_t> parse_flag_percent(std::string_view text);

// The set of flags on for a user with `key` who was routed to `pool`: bit i
// for state.flags[i]. No key (requests without stickiness): none.
std::uint64_t flags_for(const RoutingState& state, std::string_view key, int pool);

// The fields the upstream request gets: the flags header with the names of
// the flags in `flags`, comma separated (none when empty), and the context
// header ("pool=green; bucket=1234") when one is configured. Complete lines,
// appended to `out`.
void append_flag_fields(const RoutingState& state, std::uint64_t flags, int pool,
                        std::uint32_t bucket, std::string& out);

}  // namespace switchyard

// Sticky, monotone user assignment (DESIGN.md, Routing model).
//
// A user key hashes to a bucket in [0, 10000); the user is in the canary iff
// the bucket is below the canary weight in basis points. Raising the weight
// therefore only moves users from active to canary, and every instance with
// the same seed decides the same. Pure: standard library + xxhash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

// Buckets per user space: one per basis point of canary weight.
inline constexpr std::uint32_t kBucketCount = 10000;

// XXH64(key bytes, seed) % 10000. Part of the contract: instances (and
// versions) with the same seed must agree, so this never changes.
std::uint32_t bucket_of(std::string_view key, std::uint64_t seed);

// Is a user in `bucket` in a canary of `weight_bp` basis points?
inline bool in_canary(std::uint32_t bucket, std::uint32_t weight_bp) {
    return bucket < weight_bp;
}

// A fresh user id for the assignment cookie: the 128 injected random bits as
// 32 lowercase hex digits (cookie-safe, no quoting needed).
std::string new_assignment_id(std::uint64_t random_a, std::uint64_t random_b);

}  // namespace switchyard

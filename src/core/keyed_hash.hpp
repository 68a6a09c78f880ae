// XXH64 over the concatenation of a few parts (a prefix, a name, a user
// key), without building the joined string on the heap: the feature-flag
// and shadow sampling buckets are both hashes of such joins.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace switchyard::detail {

std::uint64_t xxh64_joined(std::initializer_list<std::string_view> parts, std::uint64_t seed);

}  // namespace switchyard::detail

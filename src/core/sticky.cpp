#include "switchyard/core/sticky.hpp"

#include <xxhash.h>

namespace switchyard {

std::uint32_t bucket_of(std::string_view key, std::uint64_t seed) {
    return static_cast<std::uint32_t>(XXH64(key.data(), key.size(), seed) % kBucketCount);
}

std::string new_assignment_id(std::uint64_t random_a, std::uint64_t random_b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (int i = 0; i < 16; ++i) {
        id[static_cast<std::size_t>(15 - i)] = kHex[(random_a >> (4 * i)) & 0xf];
        id[static_cast<std::size_t>(31 - i)] = kHex[(random_b >> (4 * i)) & 0xf];
    }
    return id;
}

}  // namespace switchyard

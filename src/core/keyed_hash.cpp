#include "keyed_hash.hpp"

#include <algorithm>

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t on the stack for long keys
#include <xxhash.h>

namespace switchyard::detail {

std::uint64_t xxh64_joined(std::initializer_list<std::string_view> parts, std::uint64_t seed) {
    std::size_t size = 0;
    for (std::string_view p : parts)
        size += p.size();
    if (size <= 256) {
        // One-shot over a copy on the stack: several times faster than the
        // streaming API for keys of this size.
        char joined[256];
        char* out = joined;
        for (std::string_view p : parts)
            out = std::copy(p.begin(), p.end(), out);
        return XXH64(joined, size, seed);
    }
    // The same digest as XXH64 over the joined bytes, without joining.
    XXH64_state_t state;
    XXH64_reset(&state, seed);
    for (std::string_view p : parts)
        XXH64_update(&state, p.data(), p.size());
    return XXH64_digest(&state);
}

}  // namespace switchyard::detail

// The part of a member's config that must match across a fleet (DESIGN.md
// "Fleet": `status` flags a member whose pools or seed differ): the hashing
// seed and every pool's name, servers and weights. Two configs that route
// the same users to the same servers have the same fingerprint, whatever
// their order of servers, timeouts or log settings.
#pragma once

#include <string>

#include "switchyard/core/settings.hpp"

namespace switchyard {

// 16 lower-case hex digits (XXH64 of a canonical text).
std::string config_fingerprint(const Settings& settings);

}  // namespace switchyard

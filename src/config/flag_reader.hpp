// The [[flags]] entries of switchyard.toml and the routing keys that name
// their headers (private to src/config): DESIGN.md "Feature flags at the
// edge".
#pragma once

#include <toml++/toml.h>

#include "switchyard/core/settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// routing.flags_header and routing.context_header (`r` reads [routing]):
// header names (tokens), distinct from each other and from the override
// header, and none of the fields the proxy writes itself (Host, Via,
// X-Forwarded-For, ...). context_header = "" turns the context off.
void read_flag_headers(const TableReader& r, RoutingSettings& out);

// The `flags` array of the top level `top`, read after the pools and
// routing: unique valid names, percent 0..100 in 0.001 steps (default 0),
// pools that exist, at most kMaxFlags entries, and a user key to hash
// (routing.sticky.source other than "none").
void read_flags(Sink& sink, const TableReader& top, Settings& settings);

}  // namespace switchyard::config::detail

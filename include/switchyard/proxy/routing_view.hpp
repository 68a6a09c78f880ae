// The routing policy's inputs from a request head: cookies, the sticky
// header, the override header ("POOL" or "POOL; token=SECRET"). Pure; the
// view points into the head's fields and `cookies`.
#pragma once

#include <span>
#include <string_view>

#include "switchyard/core/router.hpp"
#include "switchyard/http/head_parser.hpp"

namespace switchyard::proxy {

// Fills the head's part of a RequestView; the caller adds the client
// address and whether the peer is trusted. Cookie fields beyond
// `cookies.size()` are not looked at.
RequestView routing_view(std::span<const http::HeaderField> fields, const RoutingState& state,
                         std::span<std::string_view> cookies);

}  // namespace switchyard::proxy

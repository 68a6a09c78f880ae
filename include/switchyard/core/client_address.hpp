// The client address behind trusted proxies, for `sticky.source = "client_ip"`
// (DESIGN.md, Routing model) and logging.
//
// Standard library + POSIX (inet_pton) only, like address.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard {

// The client's address, by the rule of HAProxy's and NGINX's
// real_ip_recursive: RFC 7239 §5.2's "for" chain, applied to X-Forwarded-For
// and read from the nearest hop back, since any node on the path, the client
// included, may have written the rest (§8.1):
//  - if `peer` is in none of `trusted`, it is the client: X-Forwarded-For
//    from an untrusted peer is never believed;
//  - else the X-Forwarded-For list (all `xff_values`, the field lines in
//    order, each a comma-separated list) is walked from the right. A trusted
//    entry is one more proxy hop and the walk goes on; the first untrusted
//    entry is the client. Entries to its left are whatever the client sent
//    and are never looked at, so spoofed ones are ignored.
//  - The walk stops at an invalid entry and answers the last valid address
//    examined (the trusted hop to its right, possibly the peer): a hop we
//    trust wrote garbage, and what lies beyond it cannot be attributed.
//  - If the list runs out (empty, or every entry trusted) the answer is the
//    last address examined: the leftmost entry, or the peer if there is none.
// Entries: optional whitespace (SP / HTAB) around each; empty list elements
// are skipped (RFC 9110 §5.6.1); an address is IPv4, IPv6, "[IPv6]",
// "[IPv6]:port" or "IPv4:port" (RFC 7239 §6 node forms; port 0-65535 is
// dropped); anything else, e.g. "unknown", "_hidden", "[1.2.3.4]" or an IPv6
// zone, is invalid.
// IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports) is
// returned as the 4-byte IPv4 address; otherwise 4 or 16 bytes as parsed.
// A peer of any other size is returned unchanged. Allocates only the result.
std::vector<std::uint8_t> client_address(std::span<const std::uint8_t> peer,
                                         std::span<const std::string_view> xff_values,
                                         std::span<const Cidr> trusted);

}  // namespace switchyard

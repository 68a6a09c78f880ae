// Endpoints ("host:port") and CIDR blocks as written in switchyard.toml.
//
// Standard library + POSIX (inet_pton) only, so that core stays free of Asio.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard {

// "0.0.0.0:8080", "[::1]:80", "app.internal:9000". The port (0-65535; 0 asks
// the kernel for an ephemeral port) is required. An IPv6 literal must be in
// brackets (the host is stored without them) and brackets are only for IPv6.
// A DNS name is letters, digits, '-' and '_' in dot-separated labels of 1-63
// characters; a name whose last label is all digits must be a valid IPv4.
std::optional<Endpoint> parse_endpoint(std::string_view text);

// An IPv4 (4 bytes) or IPv6 (16 bytes) literal, via inet_pton; nullopt else.
std::optional<std::vector<std::uint8_t>> parse_ip(std::string_view text);

// True for a syntactically valid DNS host name (see parse_endpoint).
bool is_valid_hostname(std::string_view host);

// "10.0.0.0/8", "::1/128", or a bare address (= /32 or /128). Host bits set
// in the address are cleared, so "10.1.2.3/8" is the block 10.0.0.0/8.
std::optional<Cidr> parse_cidr(std::string_view text);

// "10.0.0.0/8", "::1/128" (inet_ntop form).
std::string to_string(const Cidr& cidr);

// `addr` is 4 (IPv4) or 16 (IPv6) bytes in network order; any other size is
// contained in nothing. An IPv4 address and its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d, what a dual-stack socket reports) match the same blocks.
bool cidr_contains(const Cidr& cidr, std::span<const std::uint8_t> addr);

}  // namespace switchyard

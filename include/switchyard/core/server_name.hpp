// Server name matching for TLS certificate selection by SNI.
//
// Pure: the TLS layer hands in each certificate's configured host names and
// the name the client sent; this picks the certificate. Names are DNS names,
// compared ASCII case-insensitively (RFC 4343); a trailing dot on either side
// is ignored ("a.test." is "a.test").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// True if `name` is covered by `pattern`. A pattern "*.example.com" is a
// wildcard for exactly one extra left-most label, as in certificates (RFC
// 6125 §6.4.3): it covers "a.example.com", but neither "example.com" nor
// "a.b.example.com". Any other pattern matches only itself. An empty name
// or pattern matches nothing.
bool host_matches(std::string_view pattern, std::string_view name);

// The certificate for `server_name`: the first certificate with an exact
// (non-wildcard) match; else the first with a wildcard match; else 0, the
// default certificate, which is also the answer for an empty name (a client
// without SNI) and for an empty list.
int select_certificate(std::span<const std::vector<std::string>> hosts_per_cert,
                       std::string_view server_name);

}  // namespace switchyard

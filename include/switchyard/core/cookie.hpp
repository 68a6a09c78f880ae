// Cookie header parsing and the assignment cookie (RFC 6265).
//
// Only what the routing policy needs: find one cookie by name in a request,
// and build the Set-Cookie value for Switchyard's own assignment cookie.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace switchyard {

// The value of the first cookie called `name` (exact, case-sensitive) in the
// Cookie field values, taken in order (several Cookie lines are allowed, as
// HTTP/2 splits them). Each value is a list of "name=value" pairs separated
// by ';' (RFC 6265 §4.2.1, §5.4); space and tab around pairs, names and
// values are trimmed, and a value in DQUOTEs loses its quotes. Pairs without
// '=' or with an empty name are skipped rather than failing the whole field,
// as browsers do. Returns a view into the input (empty for "name="),
// nullopt if there is no such cookie. Linear in the input, never allocates.
std::optional<std::string_view> find_cookie(std::span<const std::string_view> cookie_header_values,
                                            std::string_view name);

// Appends the Set-Cookie field value for the assignment cookie to `out`:
// "<name>=<value>; Path=/; Max-Age=<n>; HttpOnly; SameSite=Lax" and
// "; Secure" when `secure` (the request came over TLS). Lax so that a user
// following a link from another site keeps their assignment.
void append_assign_cookie(std::string& out, std::string_view name, std::string_view value,
                          std::int64_t max_age_seconds, bool secure);

}  // namespace switchyard

// The head of a mirrored copy (DESIGN.md "Dark launch"): the head the
// primary upstream got, with the shadow marker field and the host suffix,
// so that the application can tell a copy from the real request and keep
// its side effects apart.
#pragma once

#include <string>
#include <string_view>

namespace switchyard::http {

// `head`: a complete request head as written upstream (request line,
// fields, blank line). Writes it to `out` with "X-Switchyard-Shadow: 1"
// added and `host_suffix` appended to Host's name, before any port
// ("app.example:8080" -> "app.example-shadow:8080"). An IP-literal Host is
// left as it is: a suffix would make it invalid. False (and `out`
// unspecified) if `head` is not a whole head.
bool write_shadow_head(std::string_view head, std::string_view host_suffix, std::string& out);

}  // namespace switchyard::http

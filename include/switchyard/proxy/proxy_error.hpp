// ErrorKind: what went wrong with a request. status_for() is the one place
// that maps an error to the status a client sees; retry_rule.hpp says which
// kinds may be resent and passive_report.hpp what each says about a server.
#pragma once

#include <string_view>

namespace switchyard::proxy {

enum class ErrorKind {
    none,
    client_timeout,    // 408: head or body not received in time
    client_closed,     // the client went away; nothing to answer
    body_too_large,    // 413
    no_server,         // 503: no pool or no usable server
    limit_reached,     // 503: every usable server at max_connections_per_server
    connect_failed,    // 502
    upstream_tls,      // 502: the TLS handshake with the upstream failed (e.g. verification)
    connect_timeout,   // 504
    upstream_closed,   // 502: closed before a complete response
    upstream_reset,    // 502
    upstream_timeout,  // 504: no response (byte) within upstream_response
    bad_response,      // 502: a response the proxy must not relay
    send_timeout,      // a peer that does not read
    drain_cut,         // still on a pool when its drain time ran out
};
inline constexpr std::size_t kErrorKindCount = static_cast<std::size_t>(ErrorKind::drain_cut) + 1;

unsigned status_for(ErrorKind kind);
std::string_view to_string(ErrorKind kind);

}  // namespace switchyard::proxy

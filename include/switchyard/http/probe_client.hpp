// Active health-check probe: one HTTP/1.1 GET to one upstream server, run on
// the control thread's io_context (DESIGN.md, "Health is its own
// snapshot"). The result feeds HealthTracker::record().
//
// A probe never blocks: connect, write and the read of the response head are
// asynchronous, bounded together by one deadline (`timeout`). Only the status
// line matters: the probe stops after the response head (the body, whatever
// its size, is not read) and closes the connection.
//
// Outcomes:
//   ok            status within [expect_min, expect_max] (classify_status)
//   bad_status    any other status (1xx interim responses are skipped)
//   timeout       the deadline passed before a complete head arrived
//   refused       ECONNREFUSED on connect
//   reset         ECONNRESET / EPIPE, or the peer closed before a complete head
//   bad_response  the head does not parse (detail: Beast's reason)
//   other         anything else (detail: the step and the error), e.g. an
//                 address that is not a numeric IP, ENETUNREACH
//
// Cancel safety: `done` runs exactly once, always from a handler on `io`
// (never inside probe() itself), as long as `io` keeps running until the
// probe ends (at the latest at its deadline). If `io` is stopped or destroyed
// first, `done` may never run; the probe's state is then released with the
// io_context's pending handlers, without touching anything else.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/http/tls_context.hpp"

namespace switchyard::http {

struct ProbeRequest {
    std::string ip;  // numeric IPv4/IPv6 to connect to ("::1" or "[::1]")
    std::uint16_t port = 0;
    std::string host;  // Host header value (e.g. "app.local" or "127.0.0.1:9001")
    std::string path = "/healthz";
    Duration timeout{1000};  // whole probe: connect + write + response head
    std::uint16_t expect_min = 200, expect_max = 399;
    // Pools with `tls`: the probe speaks TLS with the pool's settings and
    // checks the certificate against tls_host (the server's configured
    // host) unless the pool names an sni; a failed handshake is `other`.
    std::shared_ptr<const UpstreamTlsContext> tls{};
    std::string tls_host{};
};

// The probe's request bytes:
//   GET <path> HTTP/1.1\r\nHost: <host>\r\nUser-Agent: switchyard-health\r\n
//   Connection: close\r\n\r\n
// An empty path is sent as "/".
std::string probe_request_text(const ProbeRequest& request);

// Starts one probe on `io`; `done` gets its result exactly once, on `io`
// (see the cancel-safety note above). No exception escapes (except
// std::bad_alloc from starting it).
void probe(boost::asio::io_context& io, const ProbeRequest& request,
           std::function<void(CheckResult)> done);

}  // namespace switchyard::http

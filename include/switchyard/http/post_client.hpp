// One HTTP/1.1 POST to a URL, for the ramp's webhooks and its gate
// (DESIGN.md, "Progressive delivery: `ramp`"), run on the control thread's
// io_context like the health probes (probe_client.hpp).
//
// The URL is http:// or https:// (Boost.URL parses it); its host is a
// numeric IP (IPv6 in brackets) or a DNS name, resolved asynchronously
// for every post (webhooks are rare; a changed address is simply followed).
// https verifies the server's chain against the system's trust store (or
// the given context's CA) and its name, and sends the name as SNI.
//
// One deadline (`timeout`) bounds the whole exchange: resolve, connect,
// handshake, write, and the read of the response. Only the status and the
// first kBodyExcerptLimit bytes of the body are read (a gate's refusal
// reason); the connection is then closed (the request says Connection:
// close). Redirects are never followed: a 3xx is just its status. 1xx
// interim responses are skipped.
//
// Cancel safety as for probe(): `done` runs exactly once, from a handler on
// `io` (never inside post() itself), as long as `io` runs until the post ends
// (at the latest at its deadline).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/http/tls_context.hpp"

namespace switchyard::http {

inline constexpr std::size_t kBodyExcerptLimit = 1024;

struct PostRequest {
    std::string url;  // http://host[:port]/path?query or https://…; no user info
    std::string body;
    // Sent after Host, User-Agent, Content-Length and Connection, in this
    // order (e.g. Content-Type). A name or value with CR, LF or NUL fails the
    // post before anything is sent.
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds timeout{3000};  // the whole exchange
    // https: the client context to use; nullptr builds one that verifies
    // against the system's trust store (build_post_tls). Pass one built
    // once to spare loading the trust store per post.
    std::shared_ptr<const UpstreamTlsContext> tls;
};

struct PostResult {
    int status = 0;            // the response's status; 0 when no response head arrived
    std::string body_excerpt;  // the body's first bytes (at most kBodyExcerptLimit)
    // Why there is no status: "timed out after 3s", "connection refused",
    // "connection reset", "resolving hooks.example.com: …", "tls handshake:
    // …", "invalid URL: …". Empty when a status arrived (a body cut short
    // by the deadline or the peer only shortens the excerpt).
    std::string error;
};

// The context https posts use by default: TLS 1.2+, the system's trust
// store, the peer's name verified. nullptr with `error` if it cannot be built.
std::shared_ptr<const UpstreamTlsContext> build_post_tls(std::string& error);

// The URL's host (and port, when given) for log lines: a webhook URL's
// path or query may hold a secret, its host does not. "(invalid URL)" when
// it does not parse.
std::string url_host(std::string_view url);

// "3s", "1500ms": the timeout as errors name it.
std::string format_timeout(std::chrono::milliseconds timeout);

// The request's bytes up to the body (the head), for the URL's host
// (with its port when not the scheme's default) and target.
std::string post_request_head(std::string_view host_header, std::string_view target,
                              const PostRequest& request);

// Starts one POST on `io`; `done` gets its result exactly once, on `io`.
// No exception escapes (except std::bad_alloc from starting it).
void post(boost::asio::io_context& io, PostRequest request, std::function<void(PostResult)> done);

}  // namespace switchyard::http

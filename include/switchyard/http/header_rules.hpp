// Header rules: what an intermediary forwards, removes and adds in each
// direction (RFC 9110 §7.6, RFC 9112 §6-§9). Pure string work over a parsed
// head; the proxy engine calls these at fixed phases of a request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/http/field_rules.hpp"
#include "switchyard/http/framing.hpp"
#include "switchyard/http/head_parser.hpp"

namespace switchyard::http {

// Facts about a request head, gathered in one pass over its fields.
struct RequestFacts {
    ConnectionTokens connection;
    std::string_view host;
    unsigned host_count = 0;
    std::string_view request_id;  // the client's X-Request-Id, if any
    Framing framing;
    bool persistent = true;  // the client lets the connection stay open
    bool expect_continue = false;
    // Max-Forwards of an OPTIONS or TRACE request (RFC 9110 §7.6.2); ignored
    // for other methods.
    std::optional<std::uint64_t> max_forwards;
    // A WebSocket upgrade the proxy will tunnel (HTTP/1.1, Connection:
    // upgrade, Upgrade naming websocket, no body). Any other Upgrade (h2c
    // above all) is removed like every hop-by-hop field.
    bool upgrade_websocket = false;
};

// Fills `facts`; returns 0, or the status to refuse the request with:
// 400 (malformed, bad Host, '_' in a field name), 405 (CONNECT: no forward
// proxying), 501 (unknown transfer coding), 508 (our own Via entry: a loop).
unsigned inspect_request(const RequestHeadParser& head, RequestFacts& facts,
                         std::string_view via_name = "switchyard");

struct UpstreamRequestOptions {
    std::string_view client_ip;       // the peer's IP (IPv6 without brackets)
    std::string_view proto = "http";  // X-Forwarded-Proto, Forwarded proto=
    std::string_view new_request_id;  // set when the client sent none
    std::string_view via = "1.1 switchyard";
    // Never forwarded: the routing override, flags and context headers.
    std::span<const std::string> drop_fields;
    // Complete lines the proxy adds ("X-Switchyard-Flags: a,b\r\n"), after
    // the forwarding fields.
    std::string_view extra_fields;
    // RFC 7239 Forwarded: add this hop's element (for, proto, host) ...
    bool forwarded = true;
    // ... after the client's own Forwarded (the peer is a trusted proxy);
    // otherwise the client's is removed, so an untrusted one cannot spoof it.
    bool keep_client_forwarded = false;
};

// Writes the request head to send upstream: the proxy's own HTTP version,
// hop-by-hop fields and those named by Connection removed, our framing
// fields, X-Forwarded-For appended, X-Forwarded-Proto/-Host set, Forwarded
// replaced or appended to (see UpstreamRequestOptions), Via added.
void write_upstream_request_head(const RequestHeadParser& head, const RequestFacts& facts,
                                 const UpstreamRequestOptions& options, std::string& out);

// RFC 7239 §4: Forwarded = 1#forwarded-element, forwarded-element =
// [ forwarded-pair ] *( ";" [ forwarded-pair ] ), forwarded-pair = token "="
// ( token / quoted-string ). False for anything else, an empty list included.
bool is_valid_forwarded(std::string_view value) noexcept;

// This hop's forwarded-element: "for=192.0.2.7;proto=https;host=example.com"
// ("for=\"[2001:db8::1]\"", RFC 7239 §6; host= quoted unless it is a token;
// no host= when `host` is empty). Appended to `out`.
void append_forwarded_element(std::string& out, std::string_view client_ip, std::string_view proto,
                              std::string_view host);

struct ResponseFacts {
    ConnectionTokens connection;
    Framing framing;
    bool persistent = true;  // the upstream lets the connection stay open
    bool has_date = false;
    std::string_view upgrade;  // the Upgrade field of a 101
};

// Fills `facts`; returns 0, or 502 for a response the proxy must not relay.
unsigned inspect_response(const ResponseHeadParser& head, bool request_was_head,
                          ResponseFacts& facts);

struct ClientResponseOptions {
    bool close = false;  // this response ends the client connection
    bool client_http10 = false;
    bool chunked = false;         // the proxy sends the body chunked
    bool upgrade = false;         // a 101 starting a tunnel: keep Upgrade and Connection
    std::string_view date_field;  // "Date: ...\r\n", added when the upstream sent none
    std::string_view via = "1.1 switchyard";
    std::string_view extra_fields;  // complete lines the proxy adds ("Set-Cookie: ...\r\n")
};

// Whether an upstream response field goes on to the client: not a
// hop-by-hop field, not one the Connection field names, and not
// Content-Length where the proxy writes its own framing (a bodiless
// response, HEAD or 304, keeps the length it describes).
bool is_relayed_response_field(const HeaderField& f, const ResponseFacts& facts);

void write_client_response_head(const ResponseHeadParser& head, const ResponseFacts& facts,
                                const ClientResponseOptions& options, std::string& out);

// A complete response generated by the proxy itself (errors, 408 ...).
void write_local_response(unsigned status, bool close, std::string_view request_id,
                          std::string_view date_field, std::string& out);

// The proxy's answer as final recipient of an OPTIONS or TRACE whose
// Max-Forwards is 0 (RFC 9110 §7.6.2, §9.3.7, §9.3.8). TRACE reflects the
// request head without Cookie, Authorization and Proxy-Authorization.
void write_max_forwards_response(const RequestHeadParser& head, bool close,
                                 std::string_view date_field, std::string& out);

// Hop-by-hop fields (RFC 9110 §7.6.1), by Beast's id: never forwarded,
// and exactly the connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2).
bool is_hop_by_hop_field(bhttp::field id);

// Appends "name: value\r\n".
void append_field(std::string& out, std::string_view name, std::string_view value);

std::string_view reason_phrase(unsigned status);

// "Date: Thu, 26 Nov 2026 10:00:00 GMT\r\n" for a Unix time.
std::string make_date_field(std::int64_t unix_seconds);

}  // namespace switchyard::http

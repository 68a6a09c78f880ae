// Receiver side of the HAProxy PROXY protocol, versions 1 and 2
// (haproxy.org doc/proxy-protocol.txt), for listeners with
// `proxy_protocol = true`: the header that a layer-4 proxy in front of us
// puts before the first byte of the client's data, carrying the client's
// address (DESIGN.md: "with PROXY protocol, the address it carries").
//
// Pure and socket-free: the caller feeds the first bytes read from a
// connection, as many as it has, and calls again with more on need_more. It
// must not guess whether a header is present (spec §2): on such a listener
// anything else is invalid and the connection is closed.
//
// Strict, since the header decides the client address used for stickiness:
//  - v1 (§2.1): "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport
//    CRLF, exactly these fields separated by exactly one space; addresses in
//    the family's text form (IPv4 dotted decimal without leading zeros);
//    ports 0-65535 without leading zeros; CRLF within the first 107 bytes; a
//    lone CR or LF is invalid. "PROXY UNKNOWN" is followed by CRLF or by a
//    space and anything up to the CRLF, which is ignored.
//  - v2 (§2.2): the 12-byte signature, version 2, command LOCAL (0x0) or PROXY
//    (0x1), anything else invalid. For PROXY, the family (0-3) and transport
//    (0-2) nibbles must be assigned values; TCP over IPv4 (0x11) and IPv6
//    (0x21) carry the addresses, every other assigned combination (UDP, UNIX,
//    UNSPEC) is accepted without an address, i.e. as `local` (§2.2: a
//    receiver falls back to UNSPEC for what it does not support). The length
//    must cover the family's address block (12, 36 or 216 bytes); what
//    follows it must be whole TLVs (§2.2, pp2_tlv), which are skipped. LOCAL
//    ignores the family and skips the whole block unread (§2.2). The whole
//    header is at most kProxyV2MaxBytes: larger is refused, not waited for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {

// §2.1: the longest v1 line, CRLF included ("PROXY UNKNOWN" + two full IPv6
// addresses and ports).
inline constexpr std::size_t kProxyV1MaxBytes = 107;
// Our bound on a v2 header (16 + length). The format allows 16 + 65535; real
// senders stay far below (addresses + a few TLVs), and the spec sizes headers
// to fit in one 536-byte segment (§2), so 4 KiB leaves room for TLVs such as
// PP2_TYPE_SSL with a client certificate's CN without letting a peer make us
// buffer 64 KiB before the first request byte.
inline constexpr std::size_t kProxyV2MaxBytes = 4096;
// The most bytes parse_proxy_header can ask for before deciding.
inline constexpr std::size_t kProxyMaxBytes = kProxyV2MaxBytes;

struct ProxyHeader {
    bool local = false;  // v2 LOCAL, v2 without a TCP address, or v1 UNKNOWN: use the real peer
    std::vector<std::uint8_t> source_ip;  // 4 or 16 bytes (network order) when !local, else empty
    std::uint16_t source_port = 0;
    std::vector<std::uint8_t> destination_ip;  // same family as source_ip
    std::uint16_t destination_port = 0;
    std::size_t header_bytes = 0;  // bytes to consume from the stream; the rest is the client's

    bool operator==(const ProxyHeader&) const = default;
};

enum class ProxyParse { need_more, done, invalid };

// Looks at the first bytes of a connection.
//  - need_more: `bytes` is a proper prefix of a header that may still be
//    valid; never returned once `bytes` holds kProxyV1MaxBytes (v1) or the
//    announced v2 length (at most kProxyV2MaxBytes).
//  - done: `out` is overwritten with the header; bytes after
//    `out.header_bytes` are not looked at.
//  - invalid: not a PROXY header, or a malformed one; close the connection.
// `out` is written only on done. Allocates only `out`'s address vectors.
ProxyParse parse_proxy_header(std::string_view bytes, ProxyHeader& out);

// "1.2.3.4" / "2001:db8::1" (inet_ntop) for 4 / 16 bytes; "" for any other size.
std::string ip_to_string(std::span<const std::uint8_t> ip);

}  // namespace switchyard::http

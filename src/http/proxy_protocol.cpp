#include "switchyard/http/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace switchyard::http {

namespace {

// §2.2: "\r\n\r\n\0\r\nQUIT\n"; the NUL at the 5th byte means it is never a
// C string.
constexpr std::array<char, 12> kV2Signature = {'\r', '\n', '\r', '\n', '\0', '\r',
                                               '\n', 'Q',  'U',  'I',  'T',  '\n'};
constexpr std::size_t kV2FixedBytes = 16;  // signature, ver_cmd, fam, len
constexpr std::string_view kV1Prefix = "PROXY ";

// True if `bytes` and `expected` agree on their common length.
bool prefix_matches(std::string_view bytes, std::string_view expected) {
    const auto n = std::min(bytes.size(), expected.size());
    return bytes.substr(0, n) == expected.substr(0, n);
}

std::uint8_t byte_at(std::string_view bytes, std::size_t i) {
    return static_cast<std::uint8_t>(bytes[i]);
}

std::uint16_t be16(std::string_view bytes, std::size_t i) {
    return static_cast<std::uint16_t>((byte_at(bytes, i) << 8) | byte_at(bytes, i + 1));
}

// §2.1: ports are decimal 0-65535, no leading zeros ("0" itself is fine).
bool parse_v1_port(std::string_view text, std::uint16_t& port) {
    if (text.empty() || text.size() > 5) return false;
    if (text.size() > 1 && text.front() == '0') return false;
    std::uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

// §2.1: the address in its family's text form. inet_pton (glibc, musl, BSD)
// refuses leading zeros in IPv4 octets, as the spec requires. The text is
// copied to a NUL-terminated stack buffer: no allocation, and an embedded
// NUL cannot truncate it into something valid.
bool parse_v1_address(std::string_view text, int family, std::vector<std::uint8_t>& out) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (text.empty() || text.size() >= buf.size()) return false;
    if (text.find('\0') != std::string_view::npos) return false;
    std::memcpy(buf.data(), text.data(), text.size());
    std::array<std::uint8_t, 16> addr{};
    if (inet_pton(family, buf.data(), addr.data()) != 1) return false;
    out.assign(addr.begin(), addr.begin() + (family == AF_INET ? 4 : 16));
    return true;
}

// Splits off the text up to the next single space; false if none.
bool next_field(std::string_view& rest, std::string_view& field) {
    const auto sp = rest.find(' ');
    if (sp == std::string_view::npos) return false;
    field = rest.substr(0, sp);
    rest.remove_prefix(sp + 1);
    return true;
}

// Whether the bytes after "PROXY " can still start a known protocol token, so
// that a wrong token is refused at once (§2.1: abort as soon as possible)
// instead of after waiting for a CRLF that may never come.
bool v1_token_possible(std::string_view after_prefix) {
    for (std::string_view token : {"TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r"})
        if (prefix_matches(after_prefix, token)) return true;
    return false;
}

ProxyParse parse_v1(std::string_view bytes, ProxyHeader& out) {
    if (!prefix_matches(bytes, kV1Prefix)) return ProxyParse::invalid;
    if (bytes.size() > kV1Prefix.size() && !v1_token_possible(bytes.substr(kV1Prefix.size())))
        return ProxyParse::invalid;
    // §2.1: wait for the CRLF before decoding, find it within 107 bytes, and
    // never accept a lone CR or LF as the end of the line.
    const auto window = bytes.substr(0, kProxyV1MaxBytes);
    const auto eol = window.find_first_of("\r\n");
    if (eol == std::string_view::npos)
        return window.size() < kProxyV1MaxBytes ? ProxyParse::need_more : ProxyParse::invalid;
    if (window[eol] == '\n') return ProxyParse::invalid;
    if (eol + 1 >= window.size())
        return window.size() < kProxyV1MaxBytes ? ProxyParse::need_more : ProxyParse::invalid;
    if (window[eol + 1] != '\n') return ProxyParse::invalid;

    std::string_view rest = window.substr(kV1Prefix.size(), eol - kV1Prefix.size());
    ProxyHeader header;
    header.header_bytes = eol + 2;

    // §2.1: "UNKNOWN" may be followed by anything, which the receiver ignores.
    constexpr std::string_view kUnknown = "UNKNOWN";
    if (rest.substr(0, kUnknown.size()) == kUnknown &&
        (rest.size() == kUnknown.size() || rest[kUnknown.size()] == ' ')) {
        header.local = true;
        out = std::move(header);
        return ProxyParse::done;
    }

    std::string_view proto, src, dst, sport;
    if (!next_field(rest, proto) || !next_field(rest, src) || !next_field(rest, dst) ||
        !next_field(rest, sport))
        return ProxyParse::invalid;
    const std::string_view dport = rest;  // last field: no space may follow
    if (dport.find(' ') != std::string_view::npos) return ProxyParse::invalid;

    int family = 0;
    if (proto == "TCP4") {
        family = AF_INET;
    } else if (proto == "TCP6") {
        family = AF_INET6;
    } else {
        return ProxyParse::invalid;
    }
    if (!parse_v1_address(src, family, header.source_ip) ||
        !parse_v1_address(dst, family, header.destination_ip) ||
        !parse_v1_port(sport, header.source_port) || !parse_v1_port(dport, header.destination_port))
        return ProxyParse::invalid;
    out = std::move(header);
    return ProxyParse::done;
}

// §2.2 (pp2_tlv): type, 2-byte length, value; the TLVs must tile the rest of
// the header exactly. Their content is not needed, so they are skipped.
bool tlvs_well_formed(std::string_view tlvs) {
    while (!tlvs.empty()) {
        if (tlvs.size() < 3) return false;
        const std::size_t len = be16(tlvs, 1);
        if (tlvs.size() - 3 < len) return false;
        tlvs.remove_prefix(3 + len);
    }
    return true;
}

ProxyParse parse_v2(std::string_view bytes, ProxyHeader& out) {
    const std::string_view signature(kV2Signature.data(), kV2Signature.size());
    if (!prefix_matches(bytes, signature)) return ProxyParse::invalid;
    if (bytes.size() <= 12) return ProxyParse::need_more;

    // §2.2: version 2 only; command LOCAL (0) or PROXY (1), others refused.
    const std::uint8_t ver_cmd = byte_at(bytes, 12);
    if ((ver_cmd >> 4) != 0x2) return ProxyParse::invalid;
    const std::uint8_t command = ver_cmd & 0x0f;
    if (command > 0x1) return ProxyParse::invalid;
    const bool local = command == 0x0;
    if (bytes.size() <= 13) return ProxyParse::need_more;

    // §2.2: family 0-3 (UNSPEC, INET, INET6, UNIX), transport 0-2 (UNSPEC,
    // STREAM, DGRAM); other values must be rejected. LOCAL ignores this byte.
    const std::uint8_t fam = byte_at(bytes, 13);
    if (!local && ((fam >> 4) > 0x3 || (fam & 0x0f) > 0x2)) return ProxyParse::invalid;
    if (bytes.size() < kV2FixedBytes) return ProxyParse::need_more;

    const std::size_t len = be16(bytes, 14);
    const std::size_t total = kV2FixedBytes + len;
    if (total > kProxyV2MaxBytes) return ProxyParse::invalid;

    // The address block's size, when the family and transport fix it (§2.2:
    // 12 for IPv4, 36 for IPv6 with ports, 216 for UNIX); 0 when they do not
    // (UNSPEC on either side, or LOCAL), and then the whole block is skipped.
    std::size_t address_bytes = 0;
    const bool has_transport = (fam & 0x0f) != 0;
    if (!local && has_transport) {
        switch (fam >> 4) {
            case 0x1:
                address_bytes = 12;
                break;
            case 0x2:
                address_bytes = 36;
                break;
            case 0x3:
                address_bytes = 216;
                break;
            default:
                break;
        }
    }
    // §2.2: the length must cover the family's address block; decided as
    // soon as the length is known rather than after waiting for the block.
    if (len < address_bytes) return ProxyParse::invalid;
    if (bytes.size() < total) return ProxyParse::need_more;

    const std::string_view block = bytes.substr(kV2FixedBytes, len);
    if (address_bytes != 0 && !tlvs_well_formed(block.substr(address_bytes)))
        return ProxyParse::invalid;

    ProxyHeader header;
    header.header_bytes = total;
    const auto* raw = reinterpret_cast<const std::uint8_t*>(block.data());
    if (!local && fam == 0x11) {  // TCP over IPv4: src, dst, sport, dport
        header.source_ip.assign(raw, raw + 4);
        header.destination_ip.assign(raw + 4, raw + 8);
        header.source_port = be16(block, 8);
        header.destination_port = be16(block, 10);
    } else if (!local && fam == 0x21) {  // TCP over IPv6
        header.source_ip.assign(raw, raw + 16);
        header.destination_ip.assign(raw + 16, raw + 32);
        header.source_port = be16(block, 32);
        header.destination_port = be16(block, 34);
    } else {
        // LOCAL (§2.2: use the real endpoints), UNSPEC, or a transport an
        // HTTP listener never sees (UDP, UNIX): fall back to the real peer.
        header.local = true;
    }
    out = std::move(header);
    return ProxyParse::done;
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view bytes, ProxyHeader& out) {
    if (bytes.empty()) return ProxyParse::need_more;
    // The first byte tells the versions apart: 'P' (v1) or '\r' (v2).
    if (bytes.front() == kV2Signature[0]) return parse_v2(bytes, out);
    return parse_v1(bytes, out);
}

std::string ip_to_string(std::span<const std::uint8_t> ip) {
    if (ip.size() != 4 && ip.size() != 16) return {};
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (inet_ntop(ip.size() == 4 ? AF_INET : AF_INET6, ip.data(), buf.data(),
                  static_cast<socklen_t>(buf.size())) == nullptr)
        return {};
    return std::string(buf.data());
}

}  // namespace switchyard::http

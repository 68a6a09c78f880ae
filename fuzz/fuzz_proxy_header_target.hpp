// The PROXY protocol fuzz target (fuzz/fuzz_proxy_header.cpp) as a plain
// function of the input bytes, shared with the corpus replay in
// tests/unit/http/fuzz_regression_test.cpp.
//
// The input is the first bytes of a connection on a `proxy_protocol = true`
// listener: a v1 line or a v2 header, usually followed by the client's data.
// parse_proxy_header must never crash or read past the bytes it is given,
// and its answer must only firm up as bytes arrive and agree with what the
// bytes say (haproxy.org doc/proxy-protocol.txt, §2.1 and §2.2).
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "switchyard/http/proxy_protocol.hpp"

namespace switchyard::fuzz {

namespace detail {

inline constexpr std::string_view kProxyV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A header no valid parse can produce: `out` must keep it unless done.
inline http::ProxyHeader proxy_sentinel() {
    http::ProxyHeader h;
    h.local = true;
    h.source_ip = {9, 9, 9};
    h.source_port = 9;
    h.header_bytes = 999999;
    return h;
}

// Parses a copy of `bytes` in a heap block of exactly its size, so that ASan
// reports any read past the end (a std::string would leave slack).
inline http::ProxyParse parse_exact(std::string_view bytes, http::ProxyHeader& out) {
    const auto copy = std::make_unique<char[]>(std::max<std::size_t>(bytes.size(), 1));
    if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
    return http::parse_proxy_header(std::string_view(copy.get(), bytes.size()), out);
}

inline std::uint16_t be16_at(std::string_view s, std::size_t i) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(s[i]) << 8) |
                                      static_cast<unsigned char>(s[i + 1]));
}

inline std::string be16_bytes(std::uint16_t v) {
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

inline bool is_v2(std::string_view in) {
    return !in.empty() && in.front() == '\r';
}

// The input length by which the parser must have decided: v1 looks at most
// at kProxyV1MaxBytes; v2 at the 16 fixed bytes and then the declared length.
inline std::size_t decision_bound(std::string_view in) {
    if (!is_v2(in)) return http::kProxyV1MaxBytes;
    if (in.size() < 16) return 16;
    return 16 + std::size_t{be16_at(in, 14)};
}

inline std::string_view ip_bytes(const std::vector<std::uint8_t>& ip) {
    return {reinterpret_cast<const char*>(ip.data()), ip.size()};
}

// ip_to_string is the text form inet_pton reads back into the same bytes.
inline void check_ip_text(const std::vector<std::uint8_t>& ip) {
    const std::string text = http::ip_to_string(ip);
    SY_FUZZ_CHECK(!text.empty());
    std::array<std::uint8_t, 16> back{};
    SY_FUZZ_CHECK(inet_pton(ip.size() == 4 ? AF_INET : AF_INET6, text.c_str(), back.data()) == 1);
    SY_FUZZ_CHECK(std::equal(ip.begin(), ip.end(), back.begin()));
}

// The v1 line that carries `h`, in canonical form.
inline std::string render_v1(const http::ProxyHeader& h) {
    return std::string("PROXY ") + (h.source_ip.size() == 4 ? "TCP4 " : "TCP6 ") +
           http::ip_to_string(h.source_ip) + " " + http::ip_to_string(h.destination_ip) + " " +
           std::to_string(h.source_port) + " " + std::to_string(h.destination_port) + "\r\n";
}

inline void check_v1_header(std::string_view in, const http::ProxyHeader& h) {
    const std::string_view line = in.substr(0, h.header_bytes);
    // One CRLF-terminated line within 107 bytes, no other CR or LF in it.
    SY_FUZZ_CHECK(h.header_bytes >= 8 && h.header_bytes <= http::kProxyV1MaxBytes);
    SY_FUZZ_CHECK(line.starts_with("PROXY ") && line.ends_with("\r\n"));
    SY_FUZZ_CHECK(line.find_first_of("\r\n") == line.size() - 2);
    if (h.local) {
        SY_FUZZ_CHECK(line.starts_with("PROXY UNKNOWN\r") || line.starts_with("PROXY UNKNOWN "));
        return;
    }
    // TCP4 has one text form (no leading zeros): the line is the canonical
    // one. TCP6 text varies (case, "::"), so its canonical line is re-parsed.
    const std::string canonical = render_v1(h);
    if (h.source_ip.size() == 4) {
        SY_FUZZ_CHECK(line.starts_with("PROXY TCP4 "));
        SY_FUZZ_CHECK(line == canonical);
    } else {
        SY_FUZZ_CHECK(line.starts_with("PROXY TCP6 "));
        // The ports have one text form too.
        const std::string ports =
            " " + std::to_string(h.source_port) + " " + std::to_string(h.destination_port) + "\r\n";
        SY_FUZZ_CHECK(line.ends_with(ports));
        http::ProxyHeader again;
        SY_FUZZ_CHECK(parse_exact(canonical, again) == http::ProxyParse::done);
        SY_FUZZ_CHECK(again.header_bytes == canonical.size());
        again.header_bytes = h.header_bytes;
        SY_FUZZ_CHECK(again == h);
    }
}

// TLVs (type, 2-byte length, value) that tile `block` exactly.
inline bool reference_tlvs_tile(std::string_view block) {
    std::size_t pos = 0;
    while (pos < block.size()) {
        if (block.size() - pos < 3) return false;
        pos += 3 + std::size_t{be16_at(block, pos + 1)};
    }
    return pos == block.size();
}

// What a complete v2 header must give, decided from its bytes by the spec's
// rules alone: `valid` and, when valid, the header.
struct V2Reference {
    bool valid = false;
    http::ProxyHeader header;
};

inline V2Reference reference_v2(std::string_view in) {
    V2Reference ref;
    if (in.size() < 16 || !in.starts_with(kProxyV2Signature)) return ref;
    const auto ver_cmd = static_cast<unsigned char>(in[12]);
    const auto fam = static_cast<unsigned char>(in[13]);
    const std::size_t len = be16_at(in, 14);
    if (ver_cmd != 0x20 && ver_cmd != 0x21) return ref;  // version 2, LOCAL or PROXY
    if (16 + len > http::kProxyV2MaxBytes || in.size() < 16 + len) return ref;
    const std::string_view block = in.substr(16, len);
    ref.header.header_bytes = 16 + len;
    ref.header.local = true;
    if (ver_cmd == 0x21) {
        const unsigned family = fam >> 4, transport = fam & 0x0f;
        if (family > 3 || transport > 2) return ref;  // unassigned values
        const std::size_t address_bytes =
            transport == 0 ? 0 : std::array<std::size_t, 4>{0, 12, 36, 216}[family];
        if (len < address_bytes) return ref;
        if (address_bytes != 0 && !reference_tlvs_tile(block.substr(address_bytes))) return ref;
        if (fam == 0x11 || fam == 0x21) {  // TCP over IPv4 / IPv6
            const std::size_t n = fam == 0x11 ? 4 : 16;
            const auto* raw = reinterpret_cast<const std::uint8_t*>(block.data());
            ref.header.local = false;
            ref.header.source_ip.assign(raw, raw + n);
            ref.header.destination_ip.assign(raw + n, raw + 2 * n);
            ref.header.source_port = be16_at(block, 2 * n);
            ref.header.destination_port = be16_at(block, 2 * n + 2);
        }
    }
    ref.valid = true;
    return ref;
}

inline void check_v2_header(std::string_view in, const http::ProxyHeader& h) {
    // Exactly the declared length, never more, never past the bound.
    SY_FUZZ_CHECK(in.starts_with(kProxyV2Signature));
    SY_FUZZ_CHECK(h.header_bytes == 16 + std::size_t{be16_at(in, 14)});
    SY_FUZZ_CHECK(h.header_bytes <= http::kProxyV2MaxBytes);
    // The same header rendered again (addresses, then the original TLVs)
    // parses to the same result.
    if (!h.local) {
        const std::size_t n = h.source_ip.size();
        std::string again(kProxyV2Signature);
        again += '\x21';
        again += n == 4 ? '\x11' : '\x21';
        again += in.substr(14, 2);
        again += ip_bytes(h.source_ip);
        again += ip_bytes(h.destination_ip);
        again += be16_bytes(h.source_port) + be16_bytes(h.destination_port);
        again += in.substr(16 + 2 * n + 4, h.header_bytes - (16 + 2 * n + 4));  // the TLVs
        http::ProxyHeader reparsed;
        SY_FUZZ_CHECK(parse_exact(again, reparsed) == http::ProxyParse::done);
        SY_FUZZ_CHECK(reparsed == h);
    }
}

}  // namespace detail

inline void check_proxy_header(std::string_view input) {
    using namespace detail;
    http::ProxyHeader whole = proxy_sentinel();
    const http::ProxyParse verdict = parse_exact(input, whole);

    // need_more only below the length by which a decision is due.
    if (verdict == http::ProxyParse::need_more) {
        SY_FUZZ_CHECK(input.size() < decision_bound(input));
        SY_FUZZ_CHECK(input.size() < http::kProxyMaxBytes);
    }
    if (verdict != http::ProxyParse::done) SY_FUZZ_CHECK(whole == proxy_sentinel());
    if (verdict == http::ProxyParse::done) {
        SY_FUZZ_CHECK(whole.header_bytes >= 1 && whole.header_bytes <= input.size());
        SY_FUZZ_CHECK(whole.source_ip.size() == whole.destination_ip.size());
        if (whole.local) {
            SY_FUZZ_CHECK(whole.source_ip.empty() && whole.source_port == 0 &&
                          whole.destination_port == 0);
        } else {
            SY_FUZZ_CHECK(whole.source_ip.size() == 4 || whole.source_ip.size() == 16);
            check_ip_text(whole.source_ip);
            check_ip_text(whole.destination_ip);
        }
        if (is_v2(input)) {
            check_v2_header(input, whole);
        } else {
            check_v1_header(input, whole);
        }
    }
    // v2 against the spec's rules, once the declared length is there (or
    // known to be too long).
    const std::size_t due = decision_bound(input);
    if (is_v2(input) && input.size() >= 16 &&
        (input.size() >= due || due > http::kProxyV2MaxBytes)) {
        const V2Reference ref = reference_v2(input);
        SY_FUZZ_CHECK((verdict == http::ProxyParse::done) == ref.valid);
        if (ref.valid) SY_FUZZ_CHECK(whole == ref.header);
    }

    // The answer firms up as bytes arrive: every shorter prefix is need_more
    // (leaving `out` alone) until the decision, then the same decision and
    // header. Prefixes: all short ones (the v1 line, the v2 fixed part),
    // around the header's end and its declared length, and two from the hash.
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= std::min<std::size_t>(input.size(), 128); ++n)
        lengths.push_back(n);
    for (std::size_t n : {due - 1, due, due + 1, whole.header_bytes - 1, whole.header_bytes})
        if (n <= input.size()) lengths.push_back(n);
    const std::uint64_t h = input_hash(input);
    lengths.push_back(static_cast<std::size_t>(h % (input.size() + 1)));
    lengths.push_back(static_cast<std::size_t>((h >> 32) % (input.size() + 1)));
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    bool decided = false;
    for (std::size_t n : lengths) {
        http::ProxyHeader out = proxy_sentinel();
        const http::ProxyParse r = parse_exact(input.substr(0, n), out);
        if (r == http::ProxyParse::need_more) {
            SY_FUZZ_CHECK(!decided);
            SY_FUZZ_CHECK(out == proxy_sentinel());
            continue;
        }
        decided = true;
        SY_FUZZ_CHECK(r == verdict);
        SY_FUZZ_CHECK(out == whole);
    }

    // Bytes after a header are the client's: other bytes there change nothing.
    if (verdict == http::ProxyParse::done) {
        std::string other(input.substr(0, whole.header_bytes));
        other += "\xff\r\n\r\nGET / HTTP/1.1\r\n";
        http::ProxyHeader out = proxy_sentinel();
        SY_FUZZ_CHECK(parse_exact(other, out) == http::ProxyParse::done);
        SY_FUZZ_CHECK(out == whole);
    }
}

}  // namespace switchyard::fuzz

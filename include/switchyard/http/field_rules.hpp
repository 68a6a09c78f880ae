// Field, token and request-target rules of RFC 9110 / RFC 9112 / RFC 3986.
//
// Pure functions over bytes, standard library only: the data plane calls them
// per request, so none of them allocates. Views returned or stored always point
// into the caller's buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "switchyard/core/text.hpp"

namespace switchyard::http {

namespace detail {

// One table lookup per byte classifies it; the hot loops (tokens, field
// values, chunk extensions) run per byte of every message.
enum CharClass : std::uint8_t {
    kFieldVchar = 1 << 0,  // RFC 9110 §5.5 field-vchar, SP, HTAB, obs-text
    kPchar = 1 << 1,       // RFC 3986 §3.3 pchar minus pct-encoded (unreserved, sub-delims, ":@")
    kHexdig = 1 << 2,      // RFC 5234 HEXDIG (either case)
    kRegName = 1 << 3,     // RFC 3986 §3.2.2 reg-name minus pct-encoded (unreserved, sub-delims)
    kQdtext = 1 << 4,      // RFC 9110 §5.6.4 qdtext
    kQuotedPair = 1 << 5,  // RFC 9110 §5.6.4 quoted-pair second octet: HTAB, SP, VCHAR, obs-text
};

constexpr std::array<std::uint8_t, 256> make_char_table() {
    std::array<std::uint8_t, 256> t{};
    auto is_alpha = [](int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    auto is_digit = [](int c) { return c >= '0' && c <= '9'; };
    constexpr std::string_view sub_delims = "!$&'()*+,;=";
    constexpr std::string_view unreserved_punct = "-._~";
    for (int c = 0; c < 256; ++c) {
        std::uint8_t f = 0;
        const bool alnum = is_alpha(c) || is_digit(c);
        const bool vchar = c >= 0x21 && c <= 0x7e;
        const bool obs_text = c >= 0x80;
        if (vchar || obs_text || c == ' ' || c == '\t') f |= kFieldVchar | kQuotedPair;
        const bool unreserved =
            alnum || unreserved_punct.find(static_cast<char>(c)) != std::string_view::npos;
        const bool sub_delim = sub_delims.find(static_cast<char>(c)) != std::string_view::npos;
        if (unreserved || sub_delim) f |= kRegName;
        if (unreserved || sub_delim || c == ':' || c == '@') f |= kPchar;
        if (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= kHexdig;
        if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
            (c >= 0x5d && c <= 0x7e) || obs_text)
            f |= kQdtext;
        t[static_cast<std::size_t>(c)] = f;
    }
    return t;
}

inline constexpr std::array<std::uint8_t, 256> char_table = make_char_table();

inline bool has_class(char c, std::uint8_t cls) noexcept {
    return (char_table[static_cast<unsigned char>(c)] & cls) != 0;
}

}  // namespace detail

inline bool is_hexdig(char c) noexcept {
    return detail::has_class(c, detail::kHexdig);
}

// The length of s's leading run of field-vchar, SP, HTAB and obs-text
// (RFC 9110 §5.5): where the first CTL or DEL is, else s.size(). Eight
// octets at a time while none of them is below SP or DEL, since values are
// the longest text in a head.
inline std::size_t field_value_run(std::string_view s) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    std::size_t i = 0;
    for (; s.size() - i >= 8; i += 8) {
        std::uint64_t x;
        std::memcpy(&x, s.data() + i, 8);
        // Nonzero iff an octet is below 0x20 / is 0x7f (borrows only ever
        // flag octets above a flagged one, never a word without one).
        const std::uint64_t below_sp = (x - kOnes * 0x20) & ~x & kHighs;
        const std::uint64_t y = x ^ (kOnes * 0x7f);
        const std::uint64_t del = (y - kOnes) & ~y & kHighs;
        if ((below_sp | del) != 0) break;  // HTAB is checked octet by octet
    }
    while (i < s.size() && detail::has_class(s[i], detail::kFieldVchar))
        ++i;
    return i;
}

// field-name = token (RFC 9110 §5.1).
bool is_valid_field_name(std::string_view s) noexcept;
// RFC 9110 §5.5: field-vchar, SP, HTAB and obs-text; CR, LF, NUL and every other
// CTL (incl. DEL) are rejected. Leading/trailing OWS must already be trimmed by
// the caller (it is accepted here, as it is legal inside a value). Empty is valid.
bool is_valid_field_value(std::string_view s) noexcept;

// Splits a comma-separated list (RFC 9110 §5.6.1) and calls f(element) for each
// element with OWS trimmed; empty elements ("a, ,b", ",a") are skipped, as the
// RFC requires recipients to do. Commas inside a quoted-string (with
// backslash escapes) do not split; an unterminated quote runs to the end.
// f may return void (visit all) or bool (false stops the walk). Returns false
// iff f stopped the walk. Never allocates.
template <class F>
bool for_each_token(std::string_view list, F&& f) {
    std::size_t start = 0;
    bool in_quote = false;
    for (std::size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size()) {
            const char c = list[i];
            if (in_quote) {
                if (c == '\\') {
                    if (i + 1 < list.size()) ++i;  // quoted-pair: skip the escaped octet
                } else if (c == '"') {
                    in_quote = false;
                }
                continue;
            }
            if (c == '"') {
                in_quote = true;
                continue;
            }
            if (c != ',') continue;
        }
        const std::string_view element = trim_ows(list.substr(start, i - start));
        start = i + 1;
        if (element.empty()) continue;
        if constexpr (std::is_same_v<std::invoke_result_t<F&, std::string_view>, bool>) {
            if (!f(element)) return false;
        } else {
            f(element);
        }
    }
    return true;
}

// Hop-by-hop fields a proxy never forwards (RFC 9110 §7.6.1, RFC 9112 §7.4,
// §6.1): Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade. Case-insensitive.
bool is_hop_by_hop(std::string_view name) noexcept;

// Fields a proxy drops from a trailer section instead of passing them on
// (case-insensitive). RFC 9110 §6.5.1: a trailer must not carry what is
// needed before the content is processed, "message framing, routing,
// authentication, request modifiers, response controls, or content format";
// §6.5.2 / RFC 9112 §7.1.2: trailer fields are never merged into the header
// section. The list, by that reason:
//  - framing: Content-Length, Transfer-Encoding, Trailer, Content-Range;
//    connection management: Connection, Keep-Alive, TE, Upgrade,
//    HTTP2-Settings, and every Proxy-* field (Proxy-Connection,
//    Proxy-Authorization, Proxy-Authenticate, ...)
//  - routing: Host, Max-Forwards
//  - authentication and state: Authorization, WWW-Authenticate,
//    Authentication-Info, Cookie, Set-Cookie
//  - request modifiers: Expect, Range, If-Match, If-None-Match,
//    If-Modified-Since, If-Unmodified-Since, If-Range
//  - response controls: Cache-Control, Pragma, Expires, Age, Date, Vary,
//    Location, Retry-After
//  - content format: Content-Type, Content-Encoding
//  - fields Switchyard itself sets or removes on the way: Via, Forwarded,
//    X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id (the
//    routing override header, configured, is the caller's to add).
bool is_dropped_trailer_field(std::string_view name) noexcept;

// Is `name` one of `names` (ASCII case-insensitive)? The configured fields a
// client may not send (override, flags and context headers).
inline bool is_one_of(std::span<const std::string> names, std::string_view name) noexcept {
    for (const auto& n : names)
        if (iequals(n, name)) return true;
    return false;
}

// The connection options of a message (RFC 9110 §7.6.1): built from the values
// of all its Connection field lines. Stores views into those values, so the
// buffer holding them must outlive this object. Never allocates: up to
// `capacity` distinct options are kept inline (real messages carry 1-3).
class ConnectionTokens {
  public:
    static constexpr std::size_t capacity = 16;

    ConnectionTokens() = default;
    explicit ConnectionTokens(std::span<const std::string_view> values) noexcept {
        for (std::string_view v : values)
            add(v);
    }

    // Adds one Connection field value ("close", "keep-alive, Upgrade", ...).
    void add(std::string_view value) noexcept;

    // True if the message's Connection options name this field, so a proxy
    // must remove it before forwarding (RFC 9110 §7.6.1). Case-insensitive.
    bool names(std::string_view field_name) const noexcept;
    bool has_close() const noexcept { return close_; }
    bool has_keep_alive() const noexcept { return keep_alive_; }
    bool has_upgrade() const noexcept { return upgrade_; }
    // An element that is not a token (connection-option = token): the message
    // is malformed; answer 400.
    bool malformed() const noexcept { return malformed_; }
    // More than `capacity` distinct options: names() may miss some, so a proxy
    // cannot strip them reliably; answer 400.
    bool overflowed() const noexcept { return overflowed_; }
    std::span<const std::string_view> tokens() const noexcept { return {tokens_.data(), size_}; }

  private:
    std::array<std::string_view, capacity> tokens_{};
    std::size_t size_ = 0;
    bool close_ = false;
    bool keep_alive_ = false;
    bool upgrade_ = false;
    bool malformed_ = false;
    bool overflowed_ = false;
};

// method = token (RFC 9110 §9.1); methods are case-sensitive.
bool is_valid_method(std::string_view method) noexcept;
// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE (case-sensitive).
bool is_idempotent(std::string_view method) noexcept;

// origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1, RFC 3986 §3.3-3.4):
// starts with '/', then pchar, '/', '?' and pct-encoded ('%' HEXDIG HEXDIG)
// only. Rejects CTLs, SP, '#', '\', '"', '<', '>', '[', ']', '{', '}', '|', '^',
// '`' and non-ASCII octets (strict: no lenient raw UTF-8 in targets).
bool is_valid_origin_form(std::string_view target) noexcept;

// An absolute-form target (RFC 9112 §3.2.2) split into its parts; all views
// into the target.
struct AbsoluteForm {
    std::string_view scheme;     // "http" or "https", as written (any case)
    std::string_view authority;  // uri-host [":" port], valid per is_valid_host()
    // path-abempty [ "?" query ]. It may be empty or start with '?': the
    // origin-form to send upstream is then "/" followed by it (RFC 9112 §3.2.1).
    std::string_view path_and_query;
};
// Accepts only http/https URIs (scheme case-insensitive) with a non-empty
// authority, no userinfo (RFC 9110 §4.2.4) and no fragment; nullopt otherwise.
std::optional<AbsoluteForm> split_absolute_form(std::string_view target) noexcept;

// A Host field value (RFC 9110 §7.2): uri-host [ ":" port ] where uri-host is
// a reg-name (unreserved / pct-encoded / sub-delims), IPv4 or "[" IPv6 "]".
// Strict: empty host, empty port, port > 65535, IPvFuture and zone ids are
// rejected; IPv6 must be well-formed (RFC 4291 text form, RFC 3986 §3.2.2).
bool is_valid_host(std::string_view host) noexcept;

}  // namespace switchyard::http

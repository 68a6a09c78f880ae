// Small text helpers shared by every layer: HTTP field handling, the
// core parsers, the control protocol and the logs.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

// Strips optional whitespace (SP / HTAB, RFC 9110 §5.6.3) from both ends.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() {
    std::array<bool, 256> t{};
    constexpr std::string_view punct = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; ++c)
        t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                         (c >= '0' && c <= '9') ||
                                         punct.find(static_cast<char>(c)) != std::string_view::npos;
    return t;
}
inline constexpr std::array<bool, 256> kTcharTable = make_tchar_table();
}  // namespace detail

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. One table lookup: the
// HTTP parsers call it for every byte of a method, field name and coding.
constexpr bool is_tchar(char c) noexcept {
    return detail::kTcharTable[static_cast<unsigned char>(c)];
}

// token = 1*tchar (RFC 9110 §5.6.2): field names, methods, codings, cookie
// names. Empty is not a token.
constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality (field names, codings, host names).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

// Appends the decimal digits of `v` (no allocation beyond `out`).
inline void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// The length of the well-formed UTF-8 sequence (RFC 3629, Unicode Table 3-7)
// at the start of `s`: 1 for ASCII, else 2 to 4; 0 if it is not one (empty,
// a stray continuation byte, an overlong form, a surrogate, above U+10FFFF,
// or a sequence cut short).
std::size_t utf8_sequence_length(std::string_view s) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace switchyard

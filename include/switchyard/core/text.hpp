// Small text helpers shared by the core parsers, the access log and the
// control protocol.
#pragma once

#include <cstddef>
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

// The length of the well-formed UTF-8 sequence (RFC 3629, Unicode Table 3-7)
// at the start of `s`: 1 for ASCII, else 2 to 4; 0 if it is not one (empty,
// a stray continuation byte, an overlong form, a surrogate, above U+10FFFF,
// or a sequence cut short).
std::size_t utf8_sequence_length(std::string_view s) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace switchyard

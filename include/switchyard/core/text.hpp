// Small text helpers shared by the core parsers.
#pragma once

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

}  // namespace switchyard

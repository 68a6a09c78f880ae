#include "switchyard/core/text.hpp"

namespace switchyard {

std::size_t utf8_sequence_length(std::string_view s) noexcept {
    if (s.empty()) return 0;
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto in = [&](std::size_t i, unsigned lo, unsigned hi) {
        return i < s.size() && byte(i) >= lo && byte(i) <= hi;
    };
    const unsigned c = byte(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return in(1, 0x80, 0xbf) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        const unsigned lo = c == 0xe0 ? 0xa0 : 0x80;  // E0 80..9F: overlong
        const unsigned hi = c == 0xed ? 0x9f : 0xbf;  // ED A0..BF: surrogates
        return in(1, lo, hi) && in(2, 0x80, 0xbf) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        const unsigned lo = c == 0xf0 ? 0x90 : 0x80;  // F0 80..8F: overlong
        const unsigned hi = c == 0xf4 ? 0x8f : 0xbf;  // F4 90..: above U+10FFFF
        return in(1, lo, hi) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
    }
    return 0;  // 80..C1 (continuation, overlong lead), F5..FF
}

bool is_valid_utf8(std::string_view s) noexcept {
    while (!s.empty()) {
        const std::size_t n = utf8_sequence_length(s);
        if (n == 0) return false;
        s.remove_prefix(n);
    }
    return true;
}

}  // namespace switchyard

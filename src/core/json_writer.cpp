#include "switchyard/core/json_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "switchyard/core/text.hpp"

namespace switchyard {

namespace {

void append_u_escape(std::string& out, unsigned code) {
    static constexpr char hex[] = "0123456789abcdef";
    const char e[6] = {'\\',
                       'u',
                       hex[(code >> 12) & 0xf],
                       hex[(code >> 8) & 0xf],
                       hex[(code >> 4) & 0xf],
                       hex[code & 0xf]};
    out.append(e, sizeof e);
}

// Printable ASCII other than '"' and '\\': copied as is.
constexpr bool is_plain(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

std::uint64_t load8(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// True when all eight bytes are plain (word-at-a-time tests from "Bit
// Twiddling Hacks": each is exact as a yes/no for the whole word).
constexpr bool all_plain(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    const auto has_zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t special = ((w - ones * 0x20) & ~w & highs)  // a byte below 0x20
                                  | (w & highs)                     // a byte from 0x80
                                  | has_zero_byte(w ^ (ones * '"')) |
                                  has_zero_byte(w ^ (ones * '\\')) |
                                  has_zero_byte(w ^ (ones * 0x7f));
    return special == 0;
}

// True when every byte of `s` is plain: eight at a time, the last few
// padded with spaces (plain) to a word of their own.
bool all_plain(std::string_view s) {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8)
        if (!all_plain(load8(s.data() + i))) return false;
    if (i == s.size()) return true;
    std::uint64_t tail = 0x2020202020202020ull;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    return all_plain(tail);
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
    // Nearly every string is plain (methods, addresses, names, ids, most
    // targets): one check a word at a time and one append. The access log
    // escapes seven strings per request.
    if (all_plain(s)) {
        out.append(s);
        return;
    }
    std::size_t i = 0;
    while (i < s.size()) {
        // Fast path: a run of printable ASCII other than '"' and '\\' is
        // copied as is (nearly every method, target, name and message),
        // eight bytes at a time while they are all plain.
        std::size_t run = i;
        while (run + 8 <= s.size() && all_plain(load8(s.data() + run)))
            run += 8;
        while (run < s.size() && is_plain(static_cast<unsigned char>(s[run])))
            ++run;
        out.append(s.data() + i, run - i);
        i = run;
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c < 0x80) {  // C0 controls and DEL
            append_u_escape(out, c);
            ++i;
        } else if (const std::size_t n = utf8_sequence_length(s.substr(i)); n == 0) {
            // Not UTF-8: each such byte becomes U+FFFD, so no byte is
            // mistaken for a character it is not.
            append_u_escape(out, 0xfffd);
            ++i;
        } else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
            // C1 controls (U+0080..U+009F) are escaped as the code point
            // they are: a terminal would act on them.
            append_u_escape(out, static_cast<unsigned char>(s[i + 1]));
            i += 2;
        } else {
            out.append(s.data() + i, n);  // valid UTF-8: JSON carries it as is
            i += n;
        }
    }
}

JsonWriter& JsonWriter::key(std::string_view name) {
    separate();
    out_.push_back('"');
    append_json_escaped(out_, name);
    out_.append("\":");
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
    separate();
    out_.push_back('"');
    append_json_escaped(out_, s);
    out_.push_back('"');
    after_value_ = true;
    return *this;
}

void append_json_fixed(std::string& out, double value, int decimals) {
    if (!std::isfinite(value)) {
        out.append("null");
        return;
    }
    if (value == 0) value = 0;  // -0.0 would print as "-0.00"
    // The longest finite double in fixed form: 309 integer digits, the
    // sign, the point and the decimals.
    char buf[340];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed,
                                 std::clamp(decimals, 0, 17));
    out.append(buf, r.ptr);
}

void append_json_millis(std::string& out, std::int64_t micros) {
    // The magnitude as unsigned, so that INT64_MIN has one too.
    std::uint64_t magnitude = static_cast<std::uint64_t>(micros);
    if (micros < 0) {
        out.push_back('-');
        magnitude = 0 - magnitude;
    }
    append_json_integer(out, magnitude / 1000);
    const auto frac = static_cast<unsigned>(magnitude % 1000);
    const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                            static_cast<char>('0' + frac / 10 % 10),
                            static_cast<char>('0' + frac % 10)};
    out.append(digits, sizeof digits);
}

JsonWriter& JsonWriter::number_fixed(double value, int decimals) {
    separate();
    append_json_fixed(out_, value, decimals);
    after_value_ = true;
    return *this;
}

}  // namespace switchyard

#include "switchyard/core/json_writer.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        // Fast path: a run of printable ASCII other than '"' and '\\' is
        // copied as is (nearly every method, target, name and message).
        std::size_t run = i;
        while (run < s.size()) {
            const auto c = static_cast<unsigned char>(s[run]);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
            ++run;
        }
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

JsonWriter& JsonWriter::number_fixed(double value, int decimals) {
    if (!std::isfinite(value)) return null();
    if (value == 0) value = 0;  // -0.0 would print as "-0.00"
    // The longest finite double in fixed form: 309 integer digits, the
    // sign, the point and the decimals.
    char buf[340];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed,
                                 std::clamp(decimals, 0, 17));
    return raw(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

}  // namespace switchyard

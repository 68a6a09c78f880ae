#include "switchyard/http/chunked_decoder.hpp"

#include <algorithm>
#include <limits>

#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

namespace {

unsigned hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    return static_cast<unsigned>(ascii_lower(c) - 'a' + 10);
}

}  // namespace

std::size_t ChunkedDecoder::fail(Error e, std::size_t consumed) noexcept {
    error_ = e;
    state_ = State::failed;
    return consumed;
}

std::size_t ChunkedDecoder::decode(std::string_view in, std::vector<std::string_view>& data) {
    using detail::has_class;
    std::size_t i = 0;
    const std::size_t n = in.size();
    while (i < n) {
        if (state_ == State::done || state_ == State::failed) return i;
        if (state_ == State::data) {
            // The bulk of a body: one view per call and chunk, no per-byte work.
            const auto take = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(n - i)));
            data.push_back(in.substr(i, take));
            remaining_ -= take;
            payload_bytes_ += take;
            i += take;
            if (remaining_ == 0) state_ = State::data_cr;
            continue;
        }
        const char c = in[i];
        const bool ext_state = state_ >= State::ext_name_start && state_ <= State::ext_after_quoted;
        if (ext_state && c != '\r' && ++ext_bytes_ > limits_.max_chunk_ext_bytes)
            return fail(Error::chunk_extension_too_long, i);
        const bool trailer_field_state =
            state_ == State::trailer_name || state_ == State::trailer_value ||
            state_ == State::trailer_lf || (state_ == State::trailer_line_start && c != '\r');
        if (trailer_field_state && ++trailer_bytes_ > limits_.max_trailer_bytes)
            return fail(Error::trailer_too_large, i);

        switch (state_) {
            case State::size:
                if (is_hexdig(c)) {
                    if (++size_digits_ > limits_.max_size_hex_digits ||
                        remaining_ > (std::numeric_limits<std::uint64_t>::max() >> 4))
                        return fail(Error::chunk_size_overflow, i);
                    remaining_ = (remaining_ << 4) | hex_value(c);
                } else if (size_digits_ == 0) {
                    return fail(Error::bad_chunk_size, i);  // "", " 5", "+5", "-5"
                } else if (c == ';') {
                    ext_bytes_ = 1;
                    if (ext_bytes_ > limits_.max_chunk_ext_bytes)
                        return fail(Error::chunk_extension_too_long, i);
                    state_ = State::ext_name_start;
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else if (c == '\n') {
                    return fail(Error::bad_line_ending, i);
                } else {
                    return fail(Error::bad_chunk_size, i);  // "5 ", "0x5", "5g"
                }
                break;

            case State::ext_name_start:
                if (!is_tchar(c)) return fail(Error::bad_chunk_extension, i);
                state_ = State::ext_name;
                break;
            case State::ext_name:
                if (is_tchar(c)) break;
                if (c == '=') {
                    state_ = State::ext_value_start;
                } else if (c == ';') {
                    state_ = State::ext_name_start;
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else {
                    return fail(c == '\n' ? Error::bad_line_ending : Error::bad_chunk_extension, i);
                }
                break;
            case State::ext_value_start:
                if (is_tchar(c)) {
                    state_ = State::ext_value_token;
                } else if (c == '"') {
                    state_ = State::ext_quoted;
                } else {
                    return fail(Error::bad_chunk_extension, i);
                }
                break;
            case State::ext_value_token:
            case State::ext_after_quoted:
                if (state_ == State::ext_value_token && is_tchar(c)) break;
                if (c == ';') {
                    state_ = State::ext_name_start;
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else {
                    return fail(c == '\n' ? Error::bad_line_ending : Error::bad_chunk_extension, i);
                }
                break;
            case State::ext_quoted:
                if (c == '"') {
                    state_ = State::ext_after_quoted;
                } else if (c == '\\') {
                    state_ = State::ext_quoted_pair;
                } else if (!has_class(c, detail::kQdtext)) {
                    return fail(Error::bad_chunk_extension, i);  // CTL, CR, LF in quotes
                }
                break;
            case State::ext_quoted_pair:
                if (!has_class(c, detail::kQuotedPair)) return fail(Error::bad_chunk_extension, i);
                state_ = State::ext_quoted;
                break;

            case State::size_lf:
                if (c != '\n') return fail(Error::bad_line_ending, i);
                if (remaining_ == 0) {
                    state_ = State::trailer_line_start;  // last-chunk
                } else {
                    if (remaining_ > std::numeric_limits<std::uint64_t>::max() - payload_bytes_)
                        return fail(Error::chunk_size_overflow, i);
                    state_ = State::data;
                }
                break;

            case State::data_cr:
                if (c != '\r')
                    return fail(Error::bad_line_ending, i);  // chunk longer than declared
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') return fail(Error::bad_line_ending, i);
                state_ = State::size;
                size_digits_ = 0;
                remaining_ = 0;
                break;

            case State::trailer_line_start:
                if (c == '\r') {
                    state_ = State::trailer_end_lf;
                } else if (c == '\n') {
                    return fail(Error::bad_line_ending, i);
                } else if (is_tchar(c)) {
                    keep_trailer_byte(c);
                    state_ = State::trailer_name;
                } else {
                    // SP/HTAB would be obs-fold (RFC 9112 §5.2); ':' an empty name.
                    return fail(Error::bad_trailer_field, i);
                }
                break;
            case State::trailer_name:
                if (is_tchar(c)) {
                    keep_trailer_byte(c);
                } else if (c == ':') {
                    keep_trailer_byte(c);
                    state_ = State::trailer_value;
                } else {
                    // Includes whitespace before ':' (RFC 9112 §5.1) and a line
                    // without a colon.
                    return fail(Error::bad_trailer_field, i);
                }
                break;
            case State::trailer_value:
                if (c == '\r') {
                    state_ = State::trailer_lf;
                } else if (c == '\n') {
                    return fail(Error::bad_line_ending, i);
                } else if (!has_class(c, detail::kFieldVchar)) {
                    return fail(Error::bad_trailer_field, i);  // NUL, other CTLs, DEL
                } else {
                    keep_trailer_byte(c);
                }
                break;
            case State::trailer_lf:
                if (c != '\n') return fail(Error::bad_line_ending, i);
                keep_trailer_byte('\r');
                keep_trailer_byte('\n');
                state_ = State::trailer_line_start;
                break;
            case State::trailer_end_lf:
                if (c != '\n') return fail(Error::bad_line_ending, i);
                state_ = State::done;
                break;

            case State::data:
            case State::done:
            case State::failed:
                break;  // handled above
        }
        ++i;
    }
    return i;
}

std::string_view to_string(ChunkedDecoder::Error error) noexcept {
    using E = ChunkedDecoder::Error;
    switch (error) {
        case E::none:
            return "none";
        case E::bad_chunk_size:
            return "bad_chunk_size";
        case E::chunk_size_overflow:
            return "chunk_size_overflow";
        case E::bad_chunk_extension:
            return "bad_chunk_extension";
        case E::chunk_extension_too_long:
            return "chunk_extension_too_long";
        case E::bad_line_ending:
            return "bad_line_ending";
        case E::trailer_too_large:
            return "trailer_too_large";
        case E::bad_trailer_field:
            return "bad_trailer_field";
    }
    return "unknown";
}

std::size_t write_chunk_header(std::uint64_t size, char* out) noexcept {
    constexpr char digits[] = "0123456789abcdef";
    std::size_t len = 1;
    for (std::uint64_t v = size >> 4; v != 0; v >>= 4)
        ++len;
    for (std::size_t k = len; k-- > 0; size >>= 4)
        out[k] = digits[size & 0xf];
    out[len] = '\r';
    out[len + 1] = '\n';
    return len + 2;
}

}  // namespace switchyard::http

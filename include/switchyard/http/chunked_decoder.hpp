// Streaming decoder for the chunked transfer coding (RFC 9112 §7.1).
//
// It never buffers: payload comes out as views into the input, and the state
// kept between calls is a handful of integers, so input may be split at any
// byte. Strict, to leave no room for request smuggling:
//  - chunk-size is 1*HEXDIG with at most Limits::max_size_hex_digits digits
//    (leading zeros count); no sign, no "0x", no whitespace anywhere in the
//    chunk line. This deliberately refuses the BWS that RFC 9112 §7.1.1 allows
//    around ';' and '=' in extensions: no real client sends it, and parsers
//    disagreeing on it is a known smuggling vector.
//  - every line ends in CRLF; a bare LF or a CR not followed by LF is
//    bad_line_ending, as is any byte other than CRLF after chunk-data.
//  - chunk extensions are parsed (";" token [ "=" ( token / quoted-string ) ])
//    and bounded per chunk line; their meaning is ignored (§7.1.1).
//  - trailer fields are validated (token name directly followed by ':', value
//    octets per RFC 9110 §5.5, no obs-fold) and bounded in total. They are
//    dropped, or copied out with capture_trailers() for a caller that passes
//    them on (BodyPump, which also decides which fields may pass).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {

class ChunkedDecoder {
  public:
    struct Limits {
        std::size_t max_chunk_ext_bytes = 4096;  // per chunk line, from the first ';' to CR
        std::size_t max_trailer_bytes = 16384;   // all trailer field lines incl. their CRLF
        int max_size_hex_digits = 16;            // 16 hex digits = 64 bits
    };

    enum class Error {
        none,
        bad_chunk_size,
        chunk_size_overflow,
        bad_chunk_extension,
        chunk_extension_too_long,
        bad_line_ending,
        trailer_too_large,
        bad_trailer_field,
    };

    // Two constructors instead of `Limits = {}`: GCC 12 rejects a default
    // argument built from a nested struct's member initializers (PR 88165).
    ChunkedDecoder() noexcept : limits_(Limits{}) {}
    explicit ChunkedDecoder(Limits limits) noexcept : limits_(limits) {}

    // Consumes bytes from `in` and appends the payload pieces found (non-empty
    // views into `in`) to `data`; the only allocation is data's growth, so
    // reuse one vector. Returns the bytes consumed: all of `in` unless the body
    // ends inside it (after the trailer section's final CRLF; the rest belongs
    // to the next message) or an error occurs (then the count of bytes before
    // the offending one). Once done() or failed(), it consumes nothing.
    std::size_t decode(std::string_view in, std::vector<std::string_view>& data);

    // From now on, every trailer field line is appended to *out as decoded
    // ("Name: value\r\n", exactly as received; the final empty line is not),
    // a trailer section being bounded by max_trailer_bytes. nullptr: dropped.
    // Copied rather than viewed: a line may be split across decode() calls.
    void capture_trailers(std::string* out) noexcept { trailer_out_ = out; }

    bool done() const noexcept { return state_ == State::done; }
    Error error() const noexcept { return error_; }
    bool failed() const noexcept { return error_ != Error::none; }
    std::uint64_t payload_bytes() const noexcept { return payload_bytes_; }
    // Ready for a new body, with the same limits and no trailer capture.
    void reset() noexcept { *this = ChunkedDecoder(limits_); }

  private:
    enum class State : std::uint8_t {
        size,              // chunk-size digits
        ext_name_start,    // after ';': first tchar of the name
        ext_name,          // name tchars, then '=', ';' or CR
        ext_value_start,   // after '=': tchar or DQUOTE
        ext_value_token,   // token value tchars, then ';' or CR
        ext_quoted,        // inside quoted-string
        ext_quoted_pair,   // after '\' inside quoted-string
        ext_after_quoted,  // after closing DQUOTE: ';' or CR
        size_lf,           // CR seen at end of the chunk line
        data,
        data_cr,
        data_lf,
        trailer_line_start,  // a field line or the final CRLF
        trailer_name,
        trailer_value,
        trailer_lf,      // CR seen at end of a field line
        trailer_end_lf,  // CR of the final empty line seen
        done,
        failed,
    };

    std::size_t fail(Error e, std::size_t consumed) noexcept;
    void keep_trailer_byte(char c) {
        if (trailer_out_ != nullptr) trailer_out_->push_back(c);
    }

    Limits limits_;
    State state_ = State::size;
    Error error_ = Error::none;
    int size_digits_ = 0;
    std::uint64_t remaining_ = 0;  // chunk-size while parsing, then data bytes left
    std::size_t ext_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::uint64_t payload_bytes_ = 0;
    std::string* trailer_out_ = nullptr;
};

std::string_view to_string(ChunkedDecoder::Error error) noexcept;

// Writes "<lowercase hex size>\r\n" to out (at most 18 bytes: 16 digits + CRLF)
// and returns its length; for re-encoding a relayed body.
std::size_t write_chunk_header(std::uint64_t size, char* out) noexcept;

}  // namespace switchyard::http

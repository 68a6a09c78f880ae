// switchyard-echo: what a request asks for through its query string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::echo {

enum class EchoMode { none, head, body };
enum class AbortMode { none, mid, reset, before };

// The combinable query parameters of the echo contract (tools/echo/README in
// the brief): status, delay_ms, echo, bytes, chunked, close, abort, header,
// trailer.
struct EchoOptions {
    unsigned status = 200;
    std::uint64_t delay_ms = 0;
    EchoMode echo = EchoMode::none;
    std::optional<std::uint64_t> bytes;
    bool chunked = false;
    bool close = false;
    AbortMode abort = AbortMode::none;
    bool has_content_type = false;  // a header= parameter set Content-Type
    std::string extra_headers;      // "Name: Value\r\n" for every header= parameter
    std::string trailers;           // "Name: Value\r\n" for every trailer= parameter (chunked)

    void reset();
};

// Parses the query part of a request target into `out` (which is reset first).
// Unknown parameters are ignored. Returns an error message for a malformed
// known parameter, or an empty string.
std::string parse_query(std::string_view target, EchoOptions& out);

// Decodes %XX escapes and '+' (as a space), as in application/x-www-form-urlencoded.
// Returns false for a malformed escape.
bool url_decode(std::string_view in, std::string& out);

}  // namespace switchyard::echo

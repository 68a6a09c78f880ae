// Message body framing decisions (RFC 9112 §6.1-6.3), made by Switchyard
// itself rather than by Beast, whose framing accepts several smuggling shapes.
//
// Pure and allocation-free: inputs are the raw values of every Content-Length
// and Transfer-Encoding field line of one message, in order. The data plane
// calls these once per message; the fuzz target calls them with any bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace switchyard::http {

enum class BodyKind {
    none,            // no body: the message ends with its header section
    content_length,  // exactly `length` bytes (possibly 0)
    chunked,         // chunked coding (ChunkedDecoder) is the final transfer coding
    until_close,     // responses only: the body runs until the upstream closes
};

enum class FramingError {
    none,
    bad_content_length,                     // a value is not 1*DIGIT or overflows uint64
    conflicting_content_length,             // valid values that differ ("3, 4")
    content_length_with_transfer_encoding,  // request carries both
    transfer_encoding_not_chunked,          // request TE whose final coding is not chunked
    unknown_transfer_coding,                // request TE with a coding we do not implement
    transfer_encoding_on_http10,            // TE on an HTTP/1.0 message
    chunked_twice,                          // chunked applied more than once
    bad_transfer_encoding,                  // TE syntax: empty list, non-token, bad parameter
};

struct Framing {
    BodyKind kind = BodyKind::none;
    std::uint64_t length = 0;  // for BodyKind::content_length
    FramingError error = FramingError::none;
    // The connection must not carry another message after this one: set on
    // every error, for until_close, for a 2xx to CONNECT, and for messages
    // that are framed but suspicious (CL together with TE in a response; CL
    // or TE on a 1xx/204 response, whose bytes after the head could otherwise
    // be read as the next response; TE on a bodiless HTTP/1.0 response).
    bool must_close = false;

    bool ok() const noexcept { return error == FramingError::none; }
};

// Request framing, strict (RFC 9112 §6.1, §6.3 rules 3-7). `version` is 10 or
// 11 (any value below 11 is treated as HTTP/1.0, any other as HTTP/1.1).
// Checks, first failure wins:
//  1. TE on HTTP/1.0                                -> transfer_encoding_on_http10 (400)
//  2. TE and CL together                            -> content_length_with_transfer_encoding (400)
//  3. TE syntax (empty list, non-token, parameter)  -> bad_transfer_encoding (400)
//  4. chunked more than once                        -> chunked_twice (400)
//  5. final coding not chunked ("gzip", "chunked, gzip", "chunked;x=1")
//                                                   -> transfer_encoding_not_chunked (400)
//  6. any other coding not in {chunked, gzip, x-gzip, deflate, compress,
//     x-compress} ("identity" was removed from the registry) or a coding with
//     parameters                                    -> unknown_transfer_coding (501)
//  7. CL invalid / differing                        -> bad_ / conflicting_content_length (400)
// Otherwise: TE -> chunked; CL -> content_length (0 included); neither -> none.
// Several TE field lines form one list ("gzip" + "chunked" == "gzip, chunked").
// On any error must_close is set: the request cannot be framed.
Framing request_framing(unsigned version, std::span<const std::string_view> content_length_values,
                        std::span<const std::string_view> transfer_encoding_values) noexcept;

// Response framing (RFC 9112 §6.3), in this order:
//  1. 2xx to CONNECT -> until_close + must_close, CL/TE ignored (§6.3 rule 2: a tunnel).
//  2. CL invalid / differing -> error (502), even where the body is absent:
//     an upstream that sends it is broken and the value must not be relayed.
//  3. TE syntax invalid -> bad_transfer_encoding (502).
//  4. HEAD response, 1xx, 204, 304 -> none (§6.3 rule 1). must_close if a 1xx
//     or 204 carries CL or TE (RFC 9110 §8.6, RFC 9112 §6.1 forbid them), or if
//     an HTTP/1.0 response carries TE (§6.1).
//  5. TE on HTTP/1.0 -> transfer_encoding_on_http10 (502; §6.1: faulty framing).
//  6. chunked twice -> chunked_twice (502).
//  7. TE with final chunked -> chunked (+ must_close if CL is present too: TE
//     wins, §6.3 rule 3; the caller must not forward that Content-Length).
//  8. TE without final chunked -> until_close + must_close (§6.3 rule 4);
//     unknown codings are fine here, the client decodes them.
//  9. valid CL -> content_length.  10. neither -> until_close + must_close.
Framing response_framing(unsigned version, unsigned status, bool request_was_head,
                         bool request_was_connect,
                         std::span<const std::string_view> content_length_values,
                         std::span<const std::string_view> transfer_encoding_values) noexcept;

// The status to answer a request whose framing failed: 501 for
// unknown_transfer_coding (RFC 9112 §6.1), 400 for every other error, 0 for none.
// (A response whose framing fails is answered 502 by the proxy.)
unsigned request_error_status(FramingError error) noexcept;

std::string_view to_string(FramingError error) noexcept;

// Content-Length from all its field values (RFC 9110 §8.6): each value is
// 1*DIGIT, or a comma-separated list of them; OWS around elements is ignored.
// Identical duplicates collapse ("5, 5" or two "5" lines -> 5); elements must
// be byte-identical ("5" and "05" conflict). nullopt for no values, "", "+3",
// "-1", " 3x", empty list elements ("5,"), overflow, or differing values.
std::optional<std::uint64_t> parse_content_length(
    std::span<const std::string_view> values) noexcept;

}  // namespace switchyard::http

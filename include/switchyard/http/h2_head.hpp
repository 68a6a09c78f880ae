// Between an HTTP/2 stream and the HTTP/1.1 heads the Exchange speaks
// (RFC 9113 §8.2-§8.3). Pure: strings in, strings out.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/http/h2_connection.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/http/header_rules.hpp"

namespace switchyard::http {

// The request a stream's fields stand for, as the parts of an HTTP/1.1
// head: the method from :method, the target from :path (:authority for
// CONNECT), then host from :authority (a host field that differs from it
// is malformed), the other fields as sent, the cookie crumbs joined into
// one cookie field (§8.2.3). With `body_follows` and no content-length,
// the body is sent chunked: `chunked` says so, a transfer-encoding field
// is added, and the caller frames the body (append_chunk). nghttp2 has
// checked the pseudo-headers, the field characters, and that no
// connection-specific field is there; the parts are checked again as a
// head's text would be when they are given to the parser
// (RequestHeadParser::assign). Views into `fields`, constants and
// `cookie`. Returns 0, or 400 for a request that names no host or two.
struct RequestParts {
    std::string_view method;
    std::string_view target;
    std::vector<HeaderField> fields;  // ids not set (the parser sets them)
    std::string cookie;               // the crumbs joined
    bool chunked = false;
};
unsigned read_request_fields(std::span<const H2FieldView> fields, bool body_follows,
                             RequestParts& out);

// The same request as HTTP/1.1 text (`chunked` as above): what the parser
// would read, for tests and the fuzz target to hold the parts to.
unsigned write_request_head(std::span<const H2FieldView> fields, bool body_follows,
                            std::string& out, bool& chunked);

// The host the request names (:authority, else host), without its port
// and, for an IPv6 literal, without its brackets; empty if none. A view
// into the field's value.
std::string_view authority_host(std::span<const H2FieldView> fields);

// One chunk of a chunked body (nothing for empty data), and the last chunk
// with the request's trailers.
void append_chunk(std::string& out, std::string_view data);
void append_last_chunk(std::string& out, std::span<const H2FieldView> trailers);

// The final response head write_client_response_head writes, as the
// fields of an HTTP/2 HEADERS frame: the same fields dropped and added,
// without the connection-specific ones (§8.2.2), the length as
// content-length. Names are left as the upstream wrote them (nghttp2
// lower-cases its copy); the views point into `head`, `options` and
// `scratch`. Returns the head's size as HTTP/1.1 text, for the access log.
std::size_t collect_response_fields(const ResponseHeadParser& head, const ResponseFacts& facts,
                                    const ClientResponseOptions& options,
                                    std::vector<H2FieldView>& out, std::string& scratch);

// A response head this proxy wrote for HTTP/1.1 (write_client_response_head,
// the local responses), read back for an HTTP/2 stream. It is ours, so it
// is read without a general parser: "HTTP/1.1 SSS reason", then
// "Name: value" lines, each ending in CRLF, then an empty line.
struct OwnResponseHead {
    unsigned status = 0;
    // The fields without :status: names in lower case (changed in place in
    // the text the views point into), connection-specific fields dropped
    // (§8.2.2).
    std::vector<H2FieldView> fields;
    bool chunked = false;   // Transfer-Encoding: chunked (the body needs decoding)
    std::size_t bytes = 0;  // the head's size, empty line included
};
// false: `text` does not start with a complete head of that form.
bool read_own_response_head(std::string& text, OwnResponseHead& out);

// The trailer section of a chunked body the exchange wrote ("Name: value"
// lines, each ending in CRLF) as HTTP/2 fields, names lower-cased in place;
// a line without a colon is skipped.
std::vector<H2FieldView> read_own_trailers(std::string& text);

}  // namespace switchyard::http

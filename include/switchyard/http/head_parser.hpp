// HeadParser: parses one HTTP/1.x message head and records the request or
// status line and every field as views into the caller's read buffer, in
// order, without copying or allocating per field.
//
// It stops after the head: body framing is decided by framing.hpp and bodies
// are relayed by the proxy. The views stay valid while the buffer passed to
// parse() is neither modified nor moved.
//
// It refuses what Beast 1.81's basic_parser refused when it did this work
// (fuzz/beast_head_parser.hpp keeps that parser as the reference the tests
// and the fuzz target compare with), including Beast's checks of
// Connection, Content-Length and Transfer-Encoding, with one exception:
// every obs-fold is refused (RFC 9112 §5.2 lets a proxy refuse or unfold it),
// where Beast unfolded one that followed an empty value.
#pragma once

#include <ostream>  // before Beast: verb.hpp's operator<< needs it complete (Boost 1.81)

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace switchyard::http {

namespace bhttp = boost::beast::http;

struct HeaderField {
    bhttp::field id;  // field_id(name): unknown for the fields the proxy passes as they are
    std::string_view name;
    std::string_view value;
};

// Beast's id of a field the proxy acts on (framing, hop-by-hop, Host, Via,
// Forwarded, Max-Forwards, Expect, Cookie, credentials, Date,
// HTTP2-Settings), in any case; bhttp::field::unknown for every other name.
// The proxy compares ids only of these, and telling them apart by length
// costs a fraction of Beast's string_to_field, which knows ~350 names.
bhttp::field field_id(std::string_view name) noexcept;

enum class ParseStatus { need_more, done, error };

// Why a head was refused; the status a server answers with it.
enum class HeadError {
    none,
    malformed,         // 400
    bad_field,         // 400: invalid name or value characters
    target_too_long,   // 414
    header_too_large,  // 431: head over max_header_bytes or too many fields
    bad_version,       // 505: a well-formed HTTP-version other than 1.0 and 1.1
    method_too_long,   // 501: longer than any method (RFC 9112 §3)
};

unsigned status_for(HeadError);

// No registered method is longer than 17 octets ("UPDATEREDIRECTREF"); a
// longer one is refused as soon as its first kMaxMethodBytes + 1 octets are
// in, without waiting for the rest of a line that may be huge.
inline constexpr std::size_t kMaxMethodBytes = 32;

// Checks a request line without its CRLF (RFC 9112 §3): method SP
// request-target SP HTTP-version, single spaces, a target without whitespace,
// and a version that is exactly "HTTP/" DIGIT "." DIGIT. A malformed line
// ("HTTP/1.01", "http/1.1", "GET /a b HTTP/1.1", an HTTP/0.9 "GET /") is
// malformed (400); a well-formed version other than 1.0 and 1.1 ("HTTP/2.0")
// is bad_version (505). The target's characters are checked later.
HeadError check_request_line(std::string_view line) noexcept;

template <bool isRequest>
class HeadParser {
  public:
    struct Limits {
        std::size_t max_header_bytes = 64 * 1024;
        std::size_t max_target_bytes = 8 * 1024;  // requests only
        std::size_t max_fields = 256;
    };

    // `fields` is the caller's storage, cleared here and reused across
    // messages so that a connection's parsers allocate only while it warms up.
    HeadParser(const Limits& limits, std::vector<HeaderField>& fields);

    // Parses `buffered`, which holds the message from its first byte on (more
    // of it on every call). Until the head is complete only what can be
    // refused early is checked (the request line, bare LF, the limits); the
    // head is then read in one piece, so every view points into that one
    // buffer and none into an earlier, possibly moved, one.
    ParseStatus parse(std::string_view buffered);

    // A request head given as its parts rather than as text (an HTTP/2
    // stream's, split by its framing layer; RequestParts): checked as
    // parse() checks a head's text, the method and target as a request
    // line's, each field as a field line, and with the same limits on the
    // size the head would have as text. The views must stay valid as
    // parse()'s. Requests only.
    ParseStatus assign(std::string_view method, std::string_view target,
                       std::span<const HeaderField> fields);

    HeadError error() const { return error_; }
    // The head's bytes in the buffer parse() read (0 after assign()).
    std::size_t head_bytes() const { return head_bytes_; }
    // Its size as HTTP/1.1 text, for the access log.
    std::size_t text_bytes() const { return text_bytes_; }

    // Request line (isRequest) or status line.
    bhttp::verb method() const { return method_; }
    std::string_view method_string() const { return method_string_; }
    std::string_view target() const { return target_; }
    unsigned status() const { return status_; }
    std::string_view reason() const { return reason_; }
    unsigned version() const { return version_; }  // 10 or 11

    const std::vector<HeaderField>& fields() const { return fields_; }
    const HeaderField* find(bhttp::field id) const;

  private:
    ParseStatus fail(HeadError e) {
        error_ = e;
        return ParseStatus::error;
    }
    bool target_too_long(std::string_view partial_head) const;
    // The complete head, from its start line to the empty line.
    HeadError read_head(std::string_view head);
    HeadError read_start_line(std::string_view line);

    Limits limits_;
    std::size_t scanned_ = 0;    // bytes already searched for the end of the head
    bool line_checked_ = false;  // requests: check_request_line ran on the complete line
    HeadError error_ = HeadError::none;
    bool head_done_ = false;
    std::size_t head_bytes_ = 0;
    std::size_t text_bytes_ = 0;
    bhttp::verb method_ = bhttp::verb::unknown;
    std::string_view method_string_;
    std::string_view target_;
    unsigned status_ = 0;
    std::string_view reason_;
    unsigned version_ = 11;
    std::vector<HeaderField>& fields_;
};

using RequestHeadParser = HeadParser<true>;
using ResponseHeadParser = HeadParser<false>;

}  // namespace switchyard::http

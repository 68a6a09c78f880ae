// BodyPump: plans how a message body moves from a source to a sink.
//
// Pure: given the source bytes buffered so far, it returns the pieces to write
// to the sink (views into those bytes, or into the pump's own chunk-header
// storage) and how many source bytes they consume, honouring the source's
// framing (a length, chunked, or until the source closes) and the sink's
// (as-is, re-chunked, or de-chunked for an HTTP/1.0 client). The proxy does
// the reads and writes; nothing is ever buffered beyond one read, except a
// chunked body's trailer section (bounded by ChunkedDecoder::Limits), which
// a chunked sink gets after the last chunk without the fields a proxy must
// not pass on (is_dropped_trailer_field); a de-chunked sink gets none.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/http/chunked_decoder.hpp"
#include "switchyard/http/framing.hpp"

namespace switchyard::http {

class BodyPump {
  public:
    // `source`: the body's framing as received. `chunked_sink`: the sink gets
    // chunked coding (only meaningful for a chunked source; a length-framed
    // body is always passed on as is). `drop_trailers`: more fields to drop
    // from trailers (the routing override, flags and context headers); they
    // must outlive the body.
    void reset(const Framing& source, bool chunked_sink, ChunkedDecoder::Limits limits = {},
               std::span<const std::string> drop_trailers = {});

    // Plans the next write from `available` (the buffered source bytes, from
    // the first unconsumed one). Appends the pieces to `out` and returns how
    // many bytes of `available` they consume; call consume()-side effects on
    // your buffer only after the write completed. An empty plan with 0
    // consumed means: read more (or, if done(), nothing left).
    std::size_t plan(std::string_view available, std::vector<std::string_view>& out);

    // The source closed. For a body framed by the close this ends it (and
    // plans the final chunk for a chunked sink); for any other framing the
    // body is truncated: failed() becomes true.
    void on_source_eof(std::vector<std::string_view>& out);

    // The body's own bytes (no chunk framing) among the pieces the last
    // plan() gave: what a copy of the payload takes (a diff of responses).
    std::span<const std::string_view> last_payload() const {
        if (kind_ == BodyKind::chunked) return decoded_;
        return {&single_, single_.empty() ? 0u : 1u};
    }

    bool done() const { return done_; }
    bool failed() const { return failed_; }
    bool until_close() const { return kind_ == BodyKind::until_close; }
    std::uint64_t payload_bytes() const { return payload_; }
    // Source bytes still expected for a length-framed body.
    std::uint64_t remaining() const { return remaining_; }

  private:
    BodyKind kind_ = BodyKind::none;
    bool chunked_sink_ = false;
    bool done_ = true;
    bool failed_ = false;
    std::uint64_t remaining_ = 0;
    std::uint64_t payload_ = 0;
    ChunkedDecoder decoder_;
    std::vector<std::string_view> decoded_;
    std::string_view single_;  // a length- or close-framed plan's one piece
    std::string trailer_;      // a chunked sink's trailer field lines, filtered at the end
    std::span<const std::string> drop_trailers_;
    char chunk_header_[24];
};

}  // namespace switchyard::http

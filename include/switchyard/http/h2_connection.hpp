// H2Connection: the server side of one HTTP/2 connection (RFC 9113) without
// sockets: the client's bytes go in through receive(), the bytes for the
// client come out of pull_output(), and what happened to the streams is
// reported to a Handler. libnghttp2 does the framing, HPACK, the stream
// states and HTTP messaging checks (pseudo-headers, connection-specific
// fields, content-length against DATA); this class adds what a proxy needs
// on top (DESIGN.md "HTTP/2 on listeners"):
//
// - A request's head as one list of fields, its body in a per-stream input
//   buffer, its end, and the stream's close, reported to the Handler only
//   after nghttp2 returned (never from inside its callbacks), so a handler
//   may call anything here.
// - Flow control by hand both ways. Request bodies: a stream's window opens
//   again only as the handler consume()s its input, so a slow upstream slows
//   the client instead of filling memory. Responses: send_data() queues bytes
//   (lend_data() without a copy) on the stream and nghttp2 frames them as
//   the client's windows allow;
//   queued() says how many wait, and on_drained() when the queue emptied.
// - Limits and defences, each counted (H2Counters) and, for a connection
//   that misbehaves, answered with GOAWAY: a header list over
//   max_header_list (the stream gets 431; decoding far past it is an HPACK
//   bomb), rapid reset (CVE-2023-44487: most of its streams reset by the
//   client), CONTINUATION floods (CVE-2024-27316), SETTINGS and PING floods,
//   and streams past max_concurrent_streams (refused; many of them is a
//   flood too).
//
// One thread (the worker's); not copyable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/clock.hpp"
#include "switchyard/core/token_bucket.hpp"

struct nghttp2_session;

namespace switchyard::http {

// A field as HTTP/2 carries it (names in lower case; pseudo-headers start
// with ':'), without storage of its own: a request's fields point into its
// stream, a response's into the head the exchange wrote, so that no field
// costs an allocation.
struct H2FieldView {
    std::string_view name;
    std::string_view value;
    bool operator==(const H2FieldView&) const = default;
};

struct H2Limits {
    std::uint32_t max_concurrent_streams = 128;
    std::uint32_t initial_window = 256 * 1024;  // each stream's receive window
    std::uint32_t max_header_list = 64 * 1024;  // RFC 9113 §6.5.2's size (name + value + 32)
    // The connection's receive window: room for every stream's.
    std::uint32_t connection_window = 16 * 1024 * 1024;
};

// RFC 9113 §7 error codes used here.
enum class H2Error : std::uint32_t {
    no_error = 0x0,
    protocol_error = 0x1,
    internal_error = 0x2,
    flow_control_error = 0x3,
    stream_closed = 0x5,
    refused_stream = 0x7,
    cancel = 0x8,
    enhance_your_calm = 0xb,
};

// What one connection saw; a worker adds them to its metrics.
struct H2Counters {
    std::uint64_t streams = 0;          // requests begun
    std::uint64_t refused_streams = 0;  // past max_concurrent_streams
    std::uint64_t client_resets = 0;    // RST_STREAM from the client
    std::uint64_t header_list_too_large = 0;
    // Why the connection was closed with GOAWAY (one at most per connection).
    std::uint64_t rapid_reset = 0;
    std::uint64_t continuation_flood = 0;
    std::uint64_t hpack_bomb = 0;
    std::uint64_t settings_flood = 0;
    std::uint64_t ping_flood = 0;
    std::uint64_t stream_flood = 0;  // too many refused streams
    std::uint64_t protocol_error = 0;

    // Adds to *this what `current` counted since `seen`, which becomes it:
    // a connection reports into its worker's sums as it goes.
    void add_since(const H2Counters& current, H2Counters& seen);
};

class H2Connection {
  public:
    class Handler {
      public:
        virtual ~Handler() = default;
        // A request head. `too_large`: its field list passed max_header_list
        // (the fields are cut short; answer 431). `end_stream`: no body.
        // The fields are valid during the call.
        virtual void on_request(std::int32_t stream, std::span<const H2FieldView> fields,
                                bool end_stream, bool too_large) = 0;
        // More body bytes in input(stream).
        virtual void on_request_data(std::int32_t stream) = 0;
        // The body ended (END_STREAM), after trailers, if any
        // (request_trailers()).
        virtual void on_request_end(std::int32_t stream) = 0;
        // The stream is gone (its response sent, reset by either side, or
        // the connection ended): nothing of it may be used any more.
        // `error`: 0, or the RST_STREAM / GOAWAY code.
        virtual void on_stream_close(std::int32_t stream, std::uint32_t error) = 0;
        // Everything send_data() queued on the stream went into frames.
        virtual void on_drained(std::int32_t stream) = 0;
    };

    H2Connection(Handler& handler, const H2Limits& limits, Clock::time_point now);
    ~H2Connection();
    H2Connection(const H2Connection&) = delete;
    H2Connection& operator=(const H2Connection&) = delete;

    // Bytes from the client (the connection preface first). false: the
    // connection is to close once pull_output() is written (a GOAWAY may
    // be in it); error() says why.
    bool receive(std::string_view bytes, Clock::time_point now);
    // Appends about `max` bytes to send to `out` (frames of this connection,
    // our SETTINGS first; the last frame may pass `max`); returns how many.
    // 0: nothing to send now.
    std::size_t pull_output(std::string& out, std::size_t max);
    // The connection has nothing more to say or hear: close it.
    bool finished() const;
    const std::string& error() const { return error_; }
    const H2Counters& counters() const { return counters_; }

    // A stream's request body bytes not consumed yet, and its trailers
    // (valid until the next receive()).
    std::string_view input(std::int32_t stream) const;
    std::span<const H2FieldView> request_trailers(std::int32_t stream);
    // `n` bytes of input(stream) were used (removed from it): the client
    // may send as many again.
    void consume(std::int32_t stream, std::size_t n);

    // The response head (`:status` is added first). Without end_stream,
    // the body follows through send_data() and end_stream().
    bool submit_response(std::int32_t stream, unsigned status, std::span<const H2FieldView> fields,
                         bool end_stream);
    // A 1xx response before the final one.
    bool submit_interim(std::int32_t stream, unsigned status, std::span<const H2FieldView> fields);
    // Queues response body bytes, copied.
    void send_data(std::int32_t stream, std::string_view bytes);
    // Queues them without a copy: the caller keeps them valid and unchanged
    // until they are framed (queued() is 0, on_drained()), the stream is
    // reset, or own_queued() copied them.
    void lend_data(std::int32_t stream, std::string_view bytes);
    void own_queued(std::int32_t stream);
    std::size_t queued(std::int32_t stream) const;
    // The body is complete; `trailers` (none: the last DATA frame ends the
    // stream) follow it.
    void end_stream(std::int32_t stream, std::span<const H2FieldView> trailers = {});
    // The rest of the request body is not wanted (the response came first):
    // what arrives is dropped (its window given back), and once the
    // response's END_STREAM is out, RST_STREAM(NO_ERROR) tells the client
    // to stop sending (RFC 9113 §8.1).
    void stop_reading(std::int32_t stream);
    // Ends the stream with RST_STREAM.
    void reset(std::int32_t stream, H2Error error);

    // Draining, in two steps (RFC 9113 §6.8): first a GOAWAY that announces
    // it without refusing any stream, then, a round trip later, the real
    // one naming the last stream that will be served.
    void announce_shutdown();
    void goaway(H2Error error = H2Error::no_error);
    // Ends the connection at once with GOAWAY `error`.
    void terminate(H2Error error, std::string why);

    // Streams with a request in progress (begun, not closed).
    std::size_t active_streams() const { return streams_.size(); }
    // Objects of closed streams kept for the next ones (up to 16, with the
    // field buffers a burst of requests grew), and dropping them: a
    // connection that has gone quiet should not hold them.
    std::size_t spare_streams() const { return spare_streams_.size(); }
    void release_spare_streams();
    // The client's send window for the stream's response (0: stalled).
    std::int32_t send_window(std::int32_t stream) const;

  private:
    class FieldList;
    struct Stream;
    struct Event;
    struct Callbacks;
    friend struct Callbacks;

    Stream* find(std::int32_t id);
    const Stream* find(std::int32_t id) const;
    void dispatch();
    bool submit_headers(std::int32_t stream, unsigned status, std::span<const H2FieldView> fields,
                        bool with_body, bool final);
    // A closed stream's object, kept (emptied) for the next one.
    void recycle(std::unique_ptr<Stream> stream);
    // Whether this response field is worth HPACK's dynamic table: it went
    // out on the connection recently, or its name did with another value
    // and has no entry yet (both remembered now).
    bool worth_indexing(std::string_view name, std::string_view value);

    Handler& handler_;
    H2Limits limits_;
    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, std::unique_ptr<Stream>> streams_;
    // The stream find() found last: nghttp2 calls back for one stream many
    // times in a row (once per field of a head), each a walk of the map.
    mutable std::int32_t last_found_id_ = 0;  // 0: none (no stream has id 0)
    mutable Stream* last_found_ = nullptr;
    std::vector<std::unique_ptr<Stream>> spare_streams_;
    std::vector<Event> events_;
    std::vector<Event> batch_;  // the events being dispatched (events_ takes new ones)
    bool dispatching_ = false;
    H2Counters counters_;
    std::string error_;
    bool terminated_ = false;
    std::uint64_t premature_resets_ = 0;  // client resets of streams still in progress
    std::string* pull_out_ = nullptr;     // what pull_output() appends to, while it runs
    std::size_t pull_limit_ = 0;          // ... and the size it stops at
    TokenBucket settings_bucket_;
    TokenBucket ping_bucket_;
    Clock::time_point now_;
    // worth_indexing's filters: hash tags by slot, of fields and of names.
    std::array<std::uint32_t, 64> sent_fields_{};
    std::array<std::uint32_t, 32> sent_names_{};
    std::uint32_t heads_since_names_forgotten_ = 0;
};

}  // namespace switchyard::http

// UpstreamExchange: one try of a request on one upstream connection.
//
// It takes a pooled keep-alive connection or connects (TCP, then TLS for
// pools with `tls`), sends the request's bytes, reads the response head(s)
// and plans the body's pieces through a BodyPump, within the upstream
// deadlines; at the end it gives the connection back to the worker's pool
// or closes it. A retry is a new UpstreamExchange.
//
// It knows nothing of the client: it reports to a Listener (the HTTP/1.1
// client's Exchange today), so that a mirrored copy or an HTTP/2 stream can
// drive one too. Each pending operation keeps it and its listener's owner
// (`owner`, held weakly otherwise) alive, as a Beast session's handlers keep
// the session; release() detaches it: from then on nothing is reported.
#pragma once

#include <boost/asio/buffer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/http/body_pump.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/proxy/deadline.hpp"
#include "switchyard/proxy/exchange_buffers.hpp"
#include "switchyard/proxy/upstream_connection_pool.hpp"

namespace switchyard::proxy {

class Worker;
struct PoolCounters;

class UpstreamExchange final : public std::enable_shared_from_this<UpstreamExchange> {
  public:
    // Called on the worker's thread, only while attached.
    class Listener {
      public:
        virtual ~Listener() = default;
        // Connected, or a pooled connection taken: send the request.
        virtual void on_upstream_ready() = 0;
        // A send completed: its `n` bytes reached the upstream's socket.
        virtual void on_upstream_sent(std::size_t n) = 0;
        // A response head, interim ones included. Its views are valid until
        // consume_head(), start_body() or release().
        virtual void on_response_head(const http::ResponseHeadParser& head) = 0;
        // Body bytes are planned (body_buffers()); call body_delivered()
        // once they were written on.
        virtual void on_response_body() = 0;
        // The whole response was relayed.
        virtual void on_response_end() = 0;
        // The try failed (or the deadline of a phase ran out).
        virtual void on_upstream_failed(ErrorKind kind) = 0;
    };

    struct Target {
        const ServerState* server = nullptr;  // in a snapshot the listener pins
        std::string_view pool;                // its pool's name (TLS settings, logs)
        PoolCounters* counters = nullptr;     // connect and response times, when metrics are on
        // The listener resends the request on a fresh connection if a
        // pooled one turns out closed: reuse needs no peek at the socket.
        bool resendable = false;
    };

    UpstreamExchange(Worker& worker, std::shared_ptr<const Settings> settings, Target target,
                     Listener& listener, std::weak_ptr<void> owner, TryBuffers buffers = {});
    ~UpstreamExchange();
    UpstreamExchange(const UpstreamExchange&) = delete;
    UpstreamExchange& operator=(const UpstreamExchange&) = delete;

    // Takes a pooled connection (unless `fresh`) or connects; reports
    // on_upstream_ready or on_upstream_failed, possibly before returning.
    void start(bool fresh);
    // The request's first bytes: counts the request on the connection and
    // reads the response. While more of the request is to come, the read
    // starts at once (a server may answer early, and interim responses must
    // reach the client); when `whole` (these bytes are the whole request,
    // and few), once they are written, so that the first read more often
    // finds the response than an empty socket (a system call saved).
    void send_request(std::span<const boost::asio::const_buffer> buffers, bool whole);
    // More request bytes (the body), once the previous send completed.
    void send(std::span<const boost::asio::const_buffer> buffers);

    // The head reported by on_response_head was handled: drop its bytes.
    void consume_head();
    // Reads the next response head (after an interim response).
    void read_response_head();
    // The final head was handled: its body follows with `framing`, re-chunked
    // for the sink when `chunked_sink`. Plans the first pieces after
    // `prefix` (the head as relayed, so both go out in one write) into
    // body_buffers(); false if the body is malformed already.
    bool start_body(const http::Framing& framing, bool chunked_sink, std::string_view prefix);
    std::span<const boost::asio::const_buffer> body_buffers() const { return buf_.body; }
    // The payload among body_buffers() (no chunk framing), valid as long.
    std::span<const std::string_view> body_payload() const { return pump_.last_payload(); }
    // body_buffers() were written on: plan the next ones, or read more.
    void body_delivered();
    bool response_complete() const { return pump_.done(); }

    // Ends the try: the connection goes back to the pool when `reusable`
    // (and nothing unread is on it and its server still takes traffic),
    // else it is closed. Detaches from the listener. Pooled, nothing of the
    // try is in flight: its buffers are returned (emptied) for the next one.
    std::optional<TryBuffers> release(bool reusable);

    // Checks the deadline of the current phase (the worker's tick).
    void on_tick(Clock::time_point now);
    // The tunnel after a 101 keeps its own idle deadline on this side.
    void arm_deadline(Clock::time_point now, Clock::duration d, ErrorKind kind) {
        deadline_.arm(now, d, kind);
    }
    void clear_deadline() { deadline_.clear(); }

    UpstreamConnection& connection() { return *conn_; }
    bool reused() const { return reused_; }
    bool sending() const { return sending_; }
    // The first send completed: body bytes may follow.
    bool ready() const { return ready_; }
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    bool response_byte_received() const { return response_byte_received_; }
    // Set by the listener from the final response's framing; an upstream
    // that closed is never reusable.
    void set_reusable(bool r) { reusable_ = r; }
    bool reusable() const { return reusable_ && !ended_; }
    // Set-up of this try's new connection (TCP and TLS); -1 when reused.
    std::int64_t connect_us() const { return connect_us_; }
    // Request sent → first response head; -1 before it.
    std::int64_t response_us() const { return response_us_; }

  private:
    using error_code = boost::system::error_code;

    void connect();
    void on_connected(error_code ec);
    void handshake(std::shared_ptr<const http::UpstreamTlsContext> tls);
    void on_sent(error_code ec, std::size_t n);
    void on_head_read(error_code ec, std::size_t n);
    void gather();
    bool try_parse_head();
    void relay_body();
    void on_body_read(error_code ec, std::size_t n);
    void fail(ErrorKind kind);
    std::string_view buffered() const;
    bool attached() const { return listener_ != nullptr; }

    Worker& worker_;
    std::shared_ptr<const Settings> settings_;
    Target target_;
    Listener* listener_;
    std::weak_ptr<void> owner_;

    std::unique_ptr<UpstreamConnection> conn_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
    bool reused_ = false;
    bool sending_ = false;
    bool ready_ = false;
    bool response_read_started_ = false;
    bool reusable_ = false;
    bool ended_ = false;  // gather() met the upstream's end or an error
    bool response_byte_received_ = false;
    bool head_seen_ = false;
    std::uint64_t bytes_sent_ = 0;
    Clock::time_point connect_started_{};
    Clock::time_point sent_at_{};  // the request's first send began
    std::int64_t connect_us_ = -1;
    std::int64_t response_us_ = -1;

    Deadline deadline_;
    bool timed_out_ = false;
    ErrorKind timeout_kind_ = ErrorKind::none;

    TryBuffers buf_;  // the response head's fields, the body's pieces, the write lists
    std::optional<http::ResponseHeadParser> parser_;
    http::BodyPump pump_;
    std::size_t consumed_ = 0;  // upstream bytes the planned pieces use
};

}  // namespace switchyard::proxy

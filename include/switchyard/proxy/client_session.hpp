// ClientSession: one downstream HTTP/1.1 connection.
//
// It owns the client connection and nothing of a request: the PROXY
// header, the TLS handshake, reading and parsing request heads, keep-alive,
// the client side's deadlines, and closing (gracefully, so a client never
// loses a response to a reset, or at once). Each request head becomes an
// Exchange, which drives the request and uses the primitives below for the
// client side. Every completion handler carries the session's sequence
// number, bumped whenever a request ends or the connection closes: a
// completion from an earlier request is ignored.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "switchyard/core/body_rate.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/http/stream.hpp"
#include "switchyard/proxy/client_side.hpp"
#include "switchyard/proxy/deadline.hpp"
#include "switchyard/proxy/exchange_buffers.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class Exchange;
class H2Session;

class ClientSession final : public std::enable_shared_from_this<ClientSession>,
                            public TimedSession,
                            public ClientSide,
                            private http::ReadSpace {
  public:
    using error_code = boost::system::error_code;

    ClientSession(Worker& worker, boost::asio::ip::tcp::socket socket,
                  std::shared_ptr<const ListenerContext> listener);
    ~ClientSession() override;

    void start();
    void on_tick(Clock::time_point now) override;
    void on_shutdown() override;
    void on_force_close() override;
    bool cut_if_on_pool(std::string_view pool, std::uint64_t generation) override;
    bool retry_slot(Clock::time_point now) override;

    // --- ClientSide, for the current request's Exchange -------------------------
    const ClientPeer& peer() const override { return peer_; }
    const ListenerContext& listener() const override { return *listener_; }
    std::string_view received() const override;
    void consume(std::size_t n) override { in_.consume(n); }
    void reset_body_rate(bool started, std::size_t buffered) override {
        body_rate_.reset(started, buffered);
    }
    void read_body(Step then) override;
    bool reading_body() const override { return reading_body_; }
    void write(std::span<const boost::asio::const_buffer> buffers, Step then) override;
    void write_final(std::string_view bytes, Step then) override;
    bool timed_out() const override { return client_timed_out_; }
    void end_request(bool close) override;
    void close_now() override;
    std::shared_ptr<TimedSession> keepalive() override { return shared_from_this(); }
    ClientSession* connection() override { return this; }

    // --- For HTTP/2 (H2Session) -------------------------------------------------------
    bool closing() const { return closing_; }
    // Reads up to `size` more bytes into input() (the wait for a keep-alive
    // client's next request, and every HTTP/2 read). Where the stream can
    // lend (plain connections with epoll), an empty input's buffer goes
    // back to the worker, which lends one only when bytes are there: an
    // idle connection holds none. Elsewhere (TLS, io_uring) the read uses
    // input()'s own buffer.
    template <class Handler>
    void read_input(std::size_t size, Handler&& handler) {
        if (client_.can_lend()) {
            idle_read_ = static_cast<std::uint32_t>(size);
            if (in_.size() == 0) worker_.give_read_buffer(std::move(in_));
            client_.async_read_lent(static_cast<http::ReadSpace&>(*this), size,
                                    std::forward<Handler>(handler));
            return;
        }
        client_.async_read_some(in_.prepare(size), std::forward<Handler>(handler));
    }
    // Closes after the last response: our side shut, then the client's
    // bytes read until it closes (bounded), so it never gets a reset that
    // could discard a response it has not read yet.
    void close_gracefully();

    // --- For a tunnel --------------------------------------------------------------
    http::Stream& stream() { return client_; }
    // Bytes received from the client and not consumed yet.
    boost::beast::flat_buffer& input() { return in_; }
    void arm_client_deadline(Clock::time_point now, Clock::duration d, ErrorKind kind) {
        client_deadline_.arm(now, d, kind);
    }
    // A completion handler that calls `f(exchange, ec, n)` unless the
    // request it was issued for is over. If the request ended in there and
    // the connection stays open, its exchange is destroyed once `f`
    // returned (nothing of it is on the stack any more, nothing in flight
    // refers to it), so that an idle connection does not hold it.
    template <class F>
    auto guard(F f) {
        return [self = shared_from_this(), seq = seq_, f = std::move(f)](error_code ec,
                                                                         std::size_t n) mutable {
            if (seq != self->seq_ || self->closing_) return;
            f(*self->exchange_, ec, n);
            if (!self->closing_) self->retired_.reset();
        };
    }

  private:
    // PROXY protocol header (listeners with proxy_protocol = true)
    void read_proxy_header();
    // TLS listeners: the handshake (bytes already read are its first).
    void start_tls();
    // After the PROXY header and the TLS handshake, if any.
    void begin_http();
    void set_peer(std::span<const std::uint8_t> ip, std::uint16_t port);
    // The connection speaks HTTP/2 from here on.
    void start_h2();

    void read_request();
    // http::ReadSpace: the idle read's buffer, taken from the worker when
    // the next request's first bytes are there, and given back if none were.
    boost::asio::mutable_buffer lend() override;
    void unlend() override;
    void on_head_read(error_code ec, std::size_t n);
    void read_ahead();
    bool try_parse_head();
    // A request that is answered without a complete head (malformed, timed out).
    void answer_without_head(unsigned status, ErrorKind error);
    Exchange& new_exchange();

    Worker& worker_;
    http::Stream client_;
    std::shared_ptr<const ListenerContext> listener_;
    ClientPeer peer_;
    std::shared_ptr<const Settings> settings_;  // refreshed for each request
    boost::beast::flat_buffer in_;
    // The current request's parser, heads, request id and write lists: the
    // worker's, lent from the first byte of a head to the end of the
    // request (on a close, kept until the session goes).
    std::unique_ptr<RequestSpace> space_;

    // The current request, and the one that ended last: an exchange ends
    // from within its own calls, so it is destroyed only once they returned
    // (at the end of the guarded completion handler that ended it, or when
    // the next one ends), never while on the stack.
    std::unique_ptr<Exchange> exchange_;
    std::unique_ptr<Exchange> retired_;
    // HTTP/2 (h2 by ALPN, or h2c): the streams and their exchanges.
    std::unique_ptr<H2Session> h2_;

    std::uint64_t seq_ = 0;
    Clock::time_point head_started_at_{};
    Deadline client_deadline_;
    BodyRateMeter body_rate_;  // timeouts.client_body_min_rate, checked on the tick
    ErrorKind client_timeout_kind_ = ErrorKind::none;
    std::uint32_t idle_read_ = 0;  // what lend() prepares
    // The small members last, so that the layout has no holes (an idle
    // connection holds all of this).
    bool closing_ = false;
    bool head_started_ = false;  // a byte of the next head arrived
    // The idle read in flight is the small one (kIdleRead), and the last
    // request took a full one (see read_request).
    bool small_idle_read_ = false;
    bool large_requests_ = false;
    bool reading_body_ = false;
    bool client_timed_out_ = false;
};

}  // namespace switchyard::proxy

#include "switchyard/proxy/upstream_exchange.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kHeadRead = 16 * 1024;  // a response's first read

std::int64_t micros_between(Clock::time_point from, Clock::time_point to) {
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

}  // namespace

UpstreamExchange::UpstreamExchange(Worker& worker, std::shared_ptr<const Settings> settings,
                                   Target target, Listener& listener, std::weak_ptr<void> owner,
                                   TryBuffers buffers)
    : worker_(worker),
      settings_(std::move(settings)),
      target_(std::move(target)),
      listener_(&listener),
      owner_(std::move(owner)),
      buf_(std::move(buffers)) {
    buf_.clear();
}

UpstreamExchange::~UpstreamExchange() = default;

std::string_view UpstreamExchange::buffered() const {
    auto d = conn_->buffer.data();
    return {static_cast<const char*>(d.data()), d.size()};
}

void UpstreamExchange::fail(ErrorKind kind) {
    if (attached()) listener_->on_upstream_failed(kind);
}

void UpstreamExchange::start(bool fresh) {
    const ServerState& server = *target_.server;
    if (!fresh) {
        conn_ = worker_.upstreams().take(server.id, Clock::now(), settings_->timeouts.upstream_idle,
                                         !target_.resendable);
        if (conn_) {
            reused_ = true;
            listener_->on_upstream_ready();
            return;
        }
    }
    connect();
}

void UpstreamExchange::connect() {
    const ServerState& server = *target_.server;
    reused_ = false;
    conn_ = std::make_unique<UpstreamConnection>(worker_.io().get_executor(),
                                                 worker_.counters().upstream_open);
    ++worker_.counters().upstream_opened;
    conn_->server_id = server.id;
    for (const auto& ip : server.resolved) {
        error_code ec;
        auto addr = asio::ip::make_address(ip, ec);
        if (!ec) endpoints_.emplace_back(addr, server.endpoint.port);
    }
    connect_started_ = Clock::now();
    deadline_.arm(connect_started_, settings_->timeouts.upstream_connect,
                  ErrorKind::connect_timeout);
    asio::async_connect(
        conn_->stream.socket(), endpoints_,
        [self = shared_from_this(), owner = owner_.lock()](error_code ec, const tcp::endpoint&) {
            if (!self->attached()) return;
            self->on_connected(ec);
        });
}

void UpstreamExchange::on_connected(error_code ec) {
    deadline_.clear();
    if (ec) {
        fail(timed_out_ ? ErrorKind::connect_timeout : ErrorKind::connect_failed);
        return;
    }
    error_code ignored;
    conn_->stream.socket().set_option(tcp::no_delay(true), ignored);
    if (auto tls = worker_.upstream_tls(target_.pool)) {
        handshake(std::move(tls));
        return;
    }
    listener_->on_upstream_ready();
}

// Pools with `tls`: the handshake runs within timeouts.upstream_connect; a
// certificate that does not verify (or any other TLS failure) is a 502,
// never retried (it would fail the same way on the next server).
void UpstreamExchange::handshake(std::shared_ptr<const http::UpstreamTlsContext> tls) {
    const ServerState& server = *target_.server;
    conn_->stream.use_tls(tls->context());
    std::string error;
    const bool prepared = tls->prepare(conn_->stream.native_tls(), server.endpoint.host, error);
    conn_->tls = std::move(tls);
    if (!prepared) {
        worker_.log().warn("pool {} server {}: {}", target_.pool, server.address, error);
        fail(ErrorKind::upstream_tls);
        return;
    }
    deadline_.arm(Clock::now(), settings_->timeouts.upstream_connect, ErrorKind::connect_timeout);
    conn_->stream.async_handshake(
        asio::ssl::stream_base::client,
        [self = shared_from_this(), owner = owner_.lock()](error_code ec) {
            if (!self->attached()) return;
            self->deadline_.clear();
            if (ec) {
                self->worker_.log().debug("TLS handshake with {} failed: {}",
                                          self->target_.server->address, ec.message());
                self->fail(self->timed_out_ ? ErrorKind::connect_timeout : ErrorKind::upstream_tls);
                return;
            }
            self->listener_->on_upstream_ready();
        });
}

void UpstreamExchange::send_request(std::span<const asio::const_buffer> buffers, bool whole) {
    ++conn_->requests;
    timed_out_ = false;
    sent_at_ = Clock::now();
    if (!reused_) {
        connect_us_ = micros_between(connect_started_, sent_at_);
        if (target_.counters && settings_->server.metrics)
            target_.counters->upstream_connect.record(static_cast<std::uint64_t>(connect_us_));
    }
    // A larger request might not fit the socket's buffer at once: a server
    // that answers without reading it all must still be heard.
    constexpr std::size_t kSmallRequest = 16 * 1024;
    const bool read_now = !whole || asio::buffer_size(buffers) > kSmallRequest;
    send(buffers);
    if (read_now) read_response_head();
}

void UpstreamExchange::send(std::span<const asio::const_buffer> buffers) {
    sending_ = true;
    deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    // Held here (the caller's may go first); Asio copies the sequence it is
    // given: a span of the list, not the list.
    buf_.send.assign(buffers.begin(), buffers.end());
    auto on_written = [self = shared_from_this(), owner = owner_.lock()](error_code ec,
                                                                         std::size_t n) {
        if (!self->attached()) return;
        self->on_sent(ec, n);
    };
    // One buffer (a request without a body) goes out with send(), which
    // costs the kernel less than sendmsg() with a one-entry vector.
    if (buf_.send.size() == 1)
        asio::async_write(conn_->stream, buf_.send.front(), std::move(on_written));
    else
        asio::async_write(conn_->stream, std::span<const asio::const_buffer>(buf_.send),
                          std::move(on_written));
}

void UpstreamExchange::on_sent(error_code ec, std::size_t n) {
    sending_ = false;
    bytes_sent_ += n;
    if (ec) {
        // The response side sees the same failure (or a response the
        // upstream sent before closing) and decides; only a send that sent
        // nothing on a reused connection is settled here, as the retry rule
        // allows.
        if (reused_ && bytes_sent_ == 0 && !response_byte_received_)
            fail(ErrorKind::upstream_reset);
        else if (!response_read_started_)
            read_response_head();
        return;
    }
    ready_ = true;
    if (!response_byte_received_)
        deadline_.arm(Clock::now(), settings_->timeouts.upstream_response,
                      ErrorKind::upstream_timeout);
    if (!response_read_started_) read_response_head();
    if (attached()) listener_->on_upstream_sent(n);
}

void UpstreamExchange::read_response_head() {
    response_read_started_ = true;
    parser_.reset();
    if (conn_->buffer.size() > 0 && try_parse_head()) return;
    auto done = [self = shared_from_this(), owner = owner_.lock()](error_code ec, std::size_t n) {
        if (!self->attached()) return;
        self->on_head_read(ec, n);
    };
    if (sending_) {
        conn_->stream.async_read_some(conn_->buffer.prepare(kHeadRead), std::move(done));
        return;
    }
    deadline_.arm(Clock::now(), settings_->timeouts.upstream_response, ErrorKind::upstream_timeout);
    // The whole request is written: nothing can be there before the
    // reactor says so, not even the end of a connection the server closed
    // with its last response (the hang-up watch retires those, and one it
    // has not seen yet answers the request with a reset): no recv() that
    // would find nothing.
    conn_->stream.async_read_next(conn_->buffer.prepare(kHeadRead), std::move(done));
}

void UpstreamExchange::on_head_read(error_code ec, std::size_t n) {
    if (ec) {
        if (timed_out_)
            fail(timeout_kind_);
        else if (ec == asio::error::eof)
            fail(ErrorKind::upstream_closed);
        else
            fail(ErrorKind::upstream_reset);
        return;
    }
    response_byte_received_ = true;
    conn_->buffer.commit(n);
    if (n == kHeadRead && conn_->buffer.size() == n) gather();
    if (try_parse_head()) return;
    conn_->stream.async_read_some(
        conn_->buffer.prepare(kHeadRead),
        [self = shared_from_this(), owner = owner_.lock()](error_code ec, std::size_t n) {
            if (!self->attached()) return;
            self->on_head_read(ec, n);
        });
}

// The first read of a response filled its buffer: the rest of the response
// is most often in the socket already. Taking it now (without waiting: one
// recv) lets the client get the head and the body in one write, as HAProxy
// does, instead of the first read's bytes and their remainder in two, each
// a wake-up of the client. Nothing refers to the buffer yet, so it may grow.
// An end or error met here is met again by the next read, if one is needed;
// the connection is not reused.
void UpstreamExchange::gather() {
    if (conn_->stream.tls()) return;  // a TLS record is read whole by the TLS layer
    const auto room = conn_->buffer.prepare(kReadChunk);
    const auto got =
        ::recv(conn_->stream.socket().native_handle(), room.data(), room.size(), MSG_DONTWAIT);
    if (got > 0)
        conn_->buffer.commit(static_cast<std::size_t>(got));
    else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        ended_ = true;
}

// True when the head is complete or refused, i.e. this call reported it.
bool UpstreamExchange::try_parse_head() {
    if (!parser_)
        parser_.emplace(
            http::ResponseHeadParser::Limits{settings_->limits.max_header_bytes, 0, 256},
            buf_.fields);
    switch (parser_->parse(buffered())) {
        case http::ParseStatus::need_more:
            return false;
        case http::ParseStatus::error:
            fail(ErrorKind::bad_response);
            return true;
        case http::ParseStatus::done:
            deadline_.clear();
            if (!head_seen_) {
                // The first response head (an interim one included): the
                // upstream's time to answer.
                head_seen_ = true;
                response_us_ = micros_between(sent_at_, Clock::now());
                if (target_.counters && settings_->server.metrics)
                    target_.counters->upstream_response.record(
                        static_cast<std::uint64_t>(response_us_));
            }
            listener_->on_response_head(*parser_);
            return true;
    }
    return true;
}

void UpstreamExchange::consume_head() {
    if (!parser_) return;
    conn_->buffer.consume(parser_->head_bytes());
    parser_.reset();
}

bool UpstreamExchange::start_body(const http::Framing& framing, bool chunked_sink,
                                  std::string_view prefix) {
    consume_head();
    pump_.reset(framing, chunked_sink);
    buf_.pieces.assign(1, prefix);
    consumed_ = pump_.plan(buffered(), buf_.pieces);
    if (pump_.failed()) return false;
    to_buffers(buf_.pieces, buf_.body);
    return true;
}

void UpstreamExchange::body_delivered() {
    conn_->buffer.consume(consumed_);
    consumed_ = 0;
    if (pump_.done()) {
        listener_->on_response_end();
        return;
    }
    relay_body();
}

// Plans what is buffered; reads more when nothing of it can go out yet.
void UpstreamExchange::relay_body() {
    buf_.pieces.clear();
    while (conn_->buffer.size() > 0) {
        consumed_ = pump_.plan(buffered(), buf_.pieces);
        if (pump_.failed()) {
            fail(ErrorKind::bad_response);
            return;
        }
        if (!buf_.pieces.empty() || consumed_ == 0) break;
        conn_->buffer.consume(consumed_);
    }
    if (!buf_.pieces.empty()) {
        to_buffers(buf_.pieces, buf_.body);
        listener_->on_response_body();
        return;
    }
    deadline_.arm(Clock::now(), settings_->timeouts.upstream_response, ErrorKind::upstream_timeout);
    conn_->stream.async_read_some(
        conn_->buffer.prepare(kReadChunk),
        [self = shared_from_this(), owner = owner_.lock()](error_code ec, std::size_t n) {
            if (!self->attached()) return;
            self->on_body_read(ec, n);
        });
}

void UpstreamExchange::on_body_read(error_code ec, std::size_t n) {
    deadline_.clear();
    if (ec) {
        // A TLS upstream that closes without close_notify ends a
        // close-delimited body as a plain one would (as NGINX and HAProxy
        // accept); framed bodies are checked by the pump either way.
        if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) && !timed_out_) {
            reusable_ = false;
            buf_.pieces.clear();
            pump_.on_source_eof(buf_.pieces);
            if (pump_.failed()) {
                fail(ErrorKind::upstream_closed);
                return;
            }
            if (buf_.pieces.empty()) {
                listener_->on_response_end();
                return;
            }
            consumed_ = 0;
            to_buffers(buf_.pieces, buf_.body);
            listener_->on_response_body();
            return;
        }
        fail(timed_out_ ? timeout_kind_ : ErrorKind::upstream_reset);
        return;
    }
    conn_->buffer.commit(n);
    relay_body();
}

std::optional<TryBuffers> UpstreamExchange::release(bool reusable) {
    listener_ = nullptr;
    deadline_.clear();
    if (!conn_) return std::nullopt;
    // A server that lost traffic (switch, drain, disable) gets no pooled
    // connections back: they would keep its pool from counting as drained.
    if (reusable && !ended_ && conn_->buffer.size() == 0 &&
        worker_.server_is_live(conn_->server_id)) {
        worker_.upstreams().put(std::move(conn_), Clock::now());
        // Nothing is in flight on a reusable connection: the buffers can go.
        parser_.reset();
        TryBuffers out = std::move(buf_);
        out.clear();
        return out;
    }
    // Closed, but not destroyed here: a connect, read or write still pending
    // on it completes (cancelled) later and touches its socket. The pending
    // handlers hold this exchange, and so the connection, until they ran.
    conn_->close();
    return std::nullopt;
}

void UpstreamExchange::on_tick(Clock::time_point now) {
    if (deadline_.at > now || !conn_) return;
    timed_out_ = true;
    timeout_kind_ = deadline_.kind;
    deadline_.clear();
    error_code ignored;
    conn_->stream.socket().cancel(ignored);
}

}  // namespace switchyard::proxy

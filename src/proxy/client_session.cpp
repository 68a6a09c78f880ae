#include "switchyard/proxy/client_session.hpp"

#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "switchyard/core/address.hpp"
#include "switchyard/http/proxy_protocol.hpp"
#include "switchyard/proxy/exchange.hpp"
#include "switchyard/proxy/h2_session.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Reads of a request head that has started.
constexpr std::size_t kHeadRead = 16 * 1024;
// The read that waits for the next request on an idle plain connection
// whose last request was smaller: what such a connection holds while idle
// (RSS per connection, as NGINX's client_header_buffer_size). When it comes
// back full, what else is there is taken at once (read_ahead), and the
// connection waits with kHeadRead until a request is small again.
constexpr std::size_t kIdleRead = 1024;

// What an HTTP/2 client sends first (RFC 9113 §3.4).
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

http::HeadParser<true>::Limits request_limits(const Settings& s) {
    return {s.limits.max_header_bytes, s.limits.max_target_bytes, 256};
}

}  // namespace

ClientSession::ClientSession(Worker& worker, tcp::socket socket,
                             std::shared_ptr<const ListenerContext> listener)
    : worker_(worker), client_(std::move(socket)), listener_(std::move(listener)) {
    // Counted open (and assigned) by Worker::place; uncounted here at the end.
    worker_.link(this);
    error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (!ec) {
        auto addr = remote.address();
        if (addr.is_v6() && addr.to_v6().is_v4_mapped())
            addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        if (addr.is_v4()) {
            auto b = addr.to_v4().to_bytes();
            set_peer(b, remote.port());
        } else {
            auto b = addr.to_v6().to_bytes();
            set_peer(b, remote.port());
        }
    }
}

void ClientSession::set_peer(std::span<const std::uint8_t> ip, std::uint16_t port) {
    if (ip.size() == 16 &&
        std::all_of(ip.begin(), ip.begin() + 10, [](auto b) { return b == 0; }) && ip[10] == 0xff &&
        ip[11] == 0xff)
        ip = ip.subspan(12);  // IPv4-mapped: the client is an IPv4 client
    peer_.ip_size = static_cast<std::uint8_t>(std::min(ip.size(), peer_.ip_bytes.size()));
    std::copy_n(ip.begin(), peer_.ip_size, peer_.ip_bytes.begin());
    peer_.ip_text = http::ip_to_string(peer_.ip());
    peer_.address = ip.size() == 16 ? "[" + peer_.ip_text + "]" : peer_.ip_text;
    peer_.address += ':';
    peer_.address += std::to_string(port);
    peer_.trusted = false;
    for (const auto& cidr : listener_->trusted_proxies)
        if (cidr_contains(cidr, peer_.ip())) peer_.trusted = true;
}

ClientSession::~ClientSession() {
    worker_.assigned_connections().fetch_sub(1, std::memory_order_relaxed);
    worker_.unlink(this);
    worker_.shared().open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void ClientSession::start() {
    ++worker_.counters().accepted;
    if (listener_->proxy_protocol)
        read_proxy_header();
    else
        begin_http();
}

void ClientSession::begin_http() {
    if (listener_->tls_context && !client_.tls()) {
        start_tls();
        return;
    }
    if (client_.tls()) {
        const unsigned char* alpn = nullptr;
        unsigned int len = 0;
        SSL_get0_alpn_selected(client_.native_tls(), &alpn, &len);
        if (std::string_view(reinterpret_cast<const char*>(alpn), len) == "h2") {
            start_h2();
            return;
        }
    } else if (listener_->h2 && !listener_->http1) {
        start_h2();  // h2c only: prior knowledge
        return;
    }
    read_request();
}

void ClientSession::start_h2() {
    client_deadline_.clear();
    h2_ = std::make_unique<H2Session>(*this, worker_);
    h2_->start();
}

// A client that stalls in the handshake is cut like a slow request head
// (timeouts.client_header); plain HTTP on a TLS port, or a client with no
// version or suite in common, fails the handshake: logged and closed.
void ClientSession::start_tls() {
    settings_ = worker_.settings();
    client_.use_tls(listener_->tls_context->context());
    client_deadline_.arm(Clock::now(), settings_->timeouts.client_header,
                         ErrorKind::client_timeout);
    auto done = [self = shared_from_this()](error_code ec, std::size_t used) {
        if (self->closing_) return;
        self->client_deadline_.clear();
        if (ec) {
            ++self->worker_.counters().tls_handshake_failures;
            self->worker_.log().debug("{}: TLS handshake failed: {}", self->peer_.address,
                                      self->client_timed_out_ ? "timed out" : ec.message());
            self->close_now();
            return;
        }
        self->in_.consume(used);
        self->begin_http();
    };
    using base = asio::ssl::stream_base;
    if (in_.size() > 0)  // read with a PROXY header: the start of the handshake
        client_.async_handshake(base::server, in_.data(), std::move(done));
    else
        client_.async_handshake(base::server,
                                [done = std::move(done)](error_code ec) mutable { done(ec, 0); });
}

// The PROXY header (v1 or v2) comes before any HTTP byte; the address it
// carries replaces the peer's. Anything else, or nothing in time, closes.
void ClientSession::read_proxy_header() {
    settings_ = worker_.settings();
    client_deadline_.arm(Clock::now(), settings_->timeouts.client_header,
                         ErrorKind::client_timeout);
    client_.async_read_some(
        in_.prepare(1024), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (self->closing_) return;
            if (ec) {
                self->close_now();
                return;
            }
            self->in_.commit(n);
            http::ProxyHeader header;
            switch (http::parse_proxy_header(self->received(), header)) {
                case http::ProxyParse::need_more:
                    self->read_proxy_header();
                    return;
                case http::ProxyParse::invalid:
                    self->worker_.log().debug("{}: invalid PROXY protocol header; closing",
                                              self->peer_.address);
                    self->close_now();
                    return;
                case http::ProxyParse::done:
                    if (!header.local) self->set_peer(header.source_ip, header.source_port);
                    self->in_.consume(header.header_bytes);
                    self->client_deadline_.clear();
                    self->begin_http();
                    return;
            }
        });
}

std::string_view ClientSession::received() const {
    auto d = in_.data();
    return {static_cast<const char*>(d.data()), d.size()};
}

// --- Request heads ----------------------------------------------------------------

void ClientSession::read_request() {
    head_started_ = false;
    client_timed_out_ = false;
    settings_ = worker_.settings();
    if (space_) space_->parser.reset();
    if (in_.size() > 0) {
        // Pipelined bytes: the next request has started already.
        head_started_ = true;
        head_started_at_ = Clock::now();
        if (try_parse_head()) return;
    }
    const auto now = Clock::now();
    if (in_.size() == 0) {
        client_deadline_.arm(now, settings_->timeouts.client_idle, ErrorKind::client_closed);
        // Shutting down: a connection accepted just before the listeners
        // closed, or one whose keep-alive response ended just after the
        // shutdown began. A request may be on its way: it gets a grace to
        // arrive (and is answered with Connection: close), then a lingering
        // close.
        if (worker_.shutting_down())
            client_deadline_.arm(now,
                                 std::min<Clock::duration>(settings_->timeouts.client_idle,
                                                           Worker::kShutdownIdleGrace),
                                 ErrorKind::client_closed);
        // An idle keep-alive connection keeps no larger buffer than its
        // idle read: one that a large head or a body grew is given back
        // (empty, it is freed and the idle read's allocated). A connection
        // serving requests of one size keeps its own. One whose last
        // request was larger than kIdleRead waits with kHeadRead, as every
        // connection did, so that its requests still take one read each;
        // so do TLS connections (a record's plaintext is not read ahead,
        // and they hold far more in the TLS layer).
        const bool small = !client_.tls() && !large_requests_;
        const std::size_t idle_read = small ? kIdleRead : kHeadRead;
        if (in_.capacity() > idle_read) in_.shrink_to_fit();
        small_idle_read_ = small;
        // The next request on a keep-alive connection: wait for it (no read
        // tried on the socket the last request emptied), holding no buffer
        // where the reactor lets the read borrow one when bytes arrive.
        auto next = [self = shared_from_this()](error_code ec, std::size_t n) {
            self->on_head_read(ec, n);
        };
        read_input(idle_read, std::move(next));
        return;
    }
    client_deadline_.arm(now, settings_->timeouts.client_header, ErrorKind::client_timeout);
    client_.async_read_some(
        in_.prepare(kHeadRead),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_head_read(ec, n); });
}

boost::asio::mutable_buffer ClientSession::lend() {
    if (in_.capacity() == 0) in_ = worker_.take_read_buffer();
    return in_.prepare(idle_read_);
}

void ClientSession::unlend() {
    if (in_.size() == 0) worker_.give_read_buffer(std::move(in_));
}

void ClientSession::on_head_read(error_code ec, std::size_t n) {
    if (closing_) return;
    if (ec) {
        if (client_timed_out_ && client_timeout_kind_ == ErrorKind::client_timeout &&
            in_.size() > 0) {
            answer_without_head(408, ErrorKind::client_timeout);
            return;
        }
        // Closed by the idle grace of a shutdown: a request may be on its
        // way, so close without a reset (see close_gracefully).
        if (client_timed_out_ && worker_.shutting_down() && in_.size() == 0) {
            close_gracefully();
            return;
        }
        close_now();  // EOF between requests, reset, or idle timeout: nothing to answer
        return;
    }
    in_.commit(n);
    if (!head_started_) {  // the idle read
        large_requests_ = n >= kIdleRead;
        if (small_idle_read_ && n == kIdleRead) read_ahead();
        head_started_ = true;
        head_started_at_ = Clock::now();
        client_deadline_.arm(head_started_at_, settings_->timeouts.client_header,
                             ErrorKind::client_timeout);
    }
    if (try_parse_head()) return;
    client_.async_read_some(
        in_.prepare(kHeadRead),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_head_read(ec, n); });
}

// The small idle read came back full: the request may be larger, and more
// of it here already. Takes what is there (up to kHeadRead more) without
// waiting, as one read of kHeadRead would have, so that a head and a small
// body still arrive in one piece (parsed, forwarded or refused at once).
// The socket has no other read in flight; an EOF or error is left to the
// next read. It costs a recv, and the next read of the socket tries once
// more before waiting (Asio and Stream do not know that this one emptied
// it): on the first large request of a connection only (large_requests_).
void ClientSession::read_ahead() {
    const auto room = in_.prepare(kHeadRead);
    const auto got =
        ::recv(client_.socket().native_handle(), room.data(), room.size(), MSG_DONTWAIT);
    if (got > 0) in_.commit(static_cast<std::size_t>(got));
}

// True when the head is complete or refused, i.e. an exchange took over.
bool ClientSession::try_parse_head() {
    if (listener_->h2 && !client_.tls() && seq_ == 0) {
        // h2c next to HTTP/1.1: the first request of the connection tells.
        const std::string_view in = received();
        const std::size_t n = std::min(in.size(), kH2Preface.size());
        if (in.substr(0, n) == kH2Preface.substr(0, n)) {
            if (n < kH2Preface.size()) return false;
            start_h2();
            return true;
        }
    }
    if (!space_) space_ = worker_.take_request_space();
    auto& parser = space_->parser;
    if (!parser) parser.emplace(request_limits(*settings_), space_->head_fields);
    switch (parser->parse(received())) {
        case http::ParseStatus::need_more:
            return false;
        case http::ParseStatus::error:
            // What follows a malformed head cannot be framed: answer and close.
            answer_without_head(http::status_for(parser->error()), ErrorKind::none);
            return true;
        case http::ParseStatus::done:
            client_deadline_.clear();
            new_exchange().begin(*parser);
            return true;
    }
    return true;
}

Exchange& ClientSession::new_exchange() {
    ++seq_;
    if (!space_) space_ = worker_.take_request_space();
    exchange_ =
        std::make_unique<Exchange>(*this, worker_, settings_, head_started_at_, space_->exchange);
    return *exchange_;
}

void ClientSession::answer_without_head(unsigned status, ErrorKind error) {
    Exchange& ex = new_exchange();
    ex.close_after_response();
    ex.respond_local(status, error);
}

// --- Primitives for the exchange ------------------------------------------------------

void ClientSession::read_body(Step then) {
    const auto now = Clock::now();
    client_deadline_.arm(now, settings_->timeouts.client_body, ErrorKind::client_timeout);
    body_rate_.read_started(now);
    reading_body_ = true;
    client_.async_read_some(in_.prepare(kReadChunk),
                            // `this` lives as long as the guard's own reference.
                            guard([this, then](Exchange& ex, error_code ec, std::size_t n) {
                                reading_body_ = false;
                                client_deadline_.clear();
                                body_rate_.read_done(Clock::now(), ec ? 0 : n);
                                if (!ec) in_.commit(n);
                                (ex.*then)(ec, n);
                            }));
}

void ClientSession::write(std::span<const asio::const_buffer> buffers, Step then) {
    client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    // Held here, not by the caller: the write may outlive an upstream try.
    // Asio copies the sequence it is given: a span of the list, not the list.
    auto& list = space_->client_write;
    list.assign(buffers.begin(), buffers.end());
    asio::async_write(client_, std::span<const asio::const_buffer>(list),
                      guard([this, then](Exchange& ex, error_code ec, std::size_t n) {
                          client_deadline_.clear();
                          (ex.*then)(ec, n);
                      }));
}

void ClientSession::write_final(std::string_view bytes, Step then) {
    client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    ++seq_;
    asio::async_write(client_, asio::buffer(bytes),
                      guard([this, then](Exchange& ex, error_code ec, std::size_t n) {
                          client_deadline_.clear();
                          (ex.*then)(ec, n);
                      }));
}

// --- Ending -------------------------------------------------------------------------

// Shutting down, a response whose head promised keep-alive (it was written
// before the shutdown) does not end the connection: the client may be
// sending its next request already; read_request gives it the shutdown
// grace.
void ClientSession::end_request(bool close) {
    ++seq_;
    client_deadline_.clear();
    reading_body_ = false;
    retired_ = std::move(exchange_);
    // Nothing in flight refers to the space any more (the exchange wrote
    // its last bytes; an upstream send still in flight was closed).
    worker_.give_back(std::move(space_));
    if (close) {
        close_gracefully();
        return;
    }
    read_request();
}

// Closes after a response that ended the connection: shut down our side and
// read until the client closes (bounded), so the client never gets a reset
// that could discard the response it has not read yet.
void ClientSession::close_gracefully() {
    if (closing_) return;
    closing_ = true;
    ++seq_;
    if (h2_) h2_->abandon();
    if (exchange_) {
        exchange_->abandon();
        retired_ = std::move(exchange_);
    }
    error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_deadline_.arm(Clock::now(), std::chrono::seconds(2), ErrorKind::client_closed);
    struct Drain {
        std::shared_ptr<ClientSession> self;
        void operator()(error_code ec, std::size_t) {
            if (ec) {
                self->close_now();
                return;
            }
            auto& s = *self;
            s.client_.async_read_some(s.worker_.discard_buffer(), std::move(*this));
        }
    };
    client_.async_read_some(worker_.discard_buffer(), Drain{shared_from_this()});
}

void ClientSession::close_now() {
    closing_ = true;
    ++seq_;
    if (h2_) h2_->abandon();
    if (exchange_) {
        exchange_->abandon();
        retired_ = std::move(exchange_);
    }
    client_deadline_.clear();
    error_code ignored;
    client_.socket().close(ignored);
}

// --- The worker's hooks --------------------------------------------------------------

void ClientSession::on_tick(Clock::time_point now) {
    if (h2_ && !closing_) {
        h2_->on_tick(now);
        if (closing_) return;
    }
    if (reading_body_ && body_rate_.too_slow(now, settings_->timeouts.client_body_min_rate,
                                             settings_->timeouts.client_body_grace)) {
        // Cut like a body that stopped: the exchange answers 408 (or
        // closes) and aborts the upstream side, which never sees the
        // incomplete request as complete.
        worker_.log().debug("{}: request body below timeouts.client_body_min_rate ({} bytes)",
                            peer_.address, body_rate_.received());
        client_deadline_.at = now;
        client_deadline_.kind = ErrorKind::client_timeout;
    }
    if (client_deadline_.at <= now) {
        client_timed_out_ = true;
        client_timeout_kind_ = client_deadline_.kind;
        client_deadline_.clear();
        error_code ignored;
        client_.socket().cancel(ignored);
    }
    if (exchange_) exchange_->on_tick(now);
}

void ClientSession::on_shutdown() {
    if (h2_ && !closing_) {
        h2_->on_shutdown();
        return;
    }
    if (closing_ || (exchange_ && exchange_->in_tunnel()))
        return;  // tunnels run until the drain deadline
    if (!exchange_) {
        // Idle between requests. Closing now would race with a request the
        // client may be sending (the classic reload error): give it a grace
        // to send one, answered with Connection: close, then close it. A
        // head being read closes after its answer (Exchange::begin).
        if (in_.size() == 0 && !head_started_)
            client_deadline_.at = std::min(client_deadline_.at, worker_.idle_close_at());
        return;
    }
    // Only a response not started yet can still say Connection: close.
    if (!exchange_->response_started()) exchange_->close_after_response();
}

bool ClientSession::retry_slot(Clock::time_point now) {
    if (h2_ && !closing_) return h2_->retry_slot(now);
    if (closing_ || !exchange_) return true;
    return exchange_->retry_slot(now);
}

bool ClientSession::cut_if_on_pool(std::string_view pool, std::uint64_t generation) {
    if (h2_ && !closing_) return h2_->cut_if_on_pool(pool, generation);
    if (closing_ || !exchange_ || !exchange_->started_on_pool_before(pool, generation))
        return false;
    exchange_->cut(ErrorKind::drain_cut);
    return true;
}

void ClientSession::on_force_close() {
    if (h2_ && !closing_) {
        h2_->on_force_close();
        return;
    }
    if (exchange_) {
        exchange_->cut(ErrorKind::client_closed);
        return;
    }
    close_now();
}

}  // namespace switchyard::proxy

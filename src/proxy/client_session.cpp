#include "switchyard/proxy/client_session.hpp"

#include "switchyard/core/address.hpp"
#include "switchyard/core/client_address.hpp"
#include "switchyard/core/cookie.hpp"
#include "switchyard/http/proxy_protocol.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <charconv>

namespace switchyard::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

void to_buffers(const std::vector<std::string_view>& pieces, std::vector<asio::const_buffer>& out) {
    out.clear();
    for (auto p : pieces)
        out.emplace_back(p.data(), p.size());
}

http::HeadParser<true>::Limits request_limits(const Settings& s) {
    return {s.limits.max_header_bytes, s.limits.max_target_bytes, 256};
}

void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::int64_t micros_between(Clock::time_point from, Clock::time_point to) {
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

// `key` then milliseconds with three decimals (the access log's durations).
void append_millis(std::string& out, std::string_view key, double ms) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
    out.append(key);
    out.append(buf, r.ptr);
}

}  // namespace

ClientSession::ClientSession(Worker& worker, tcp::socket socket,
                             std::shared_ptr<const ListenerContext> listener)
    : worker_(worker), client_(std::move(socket)), listener_(std::move(listener)) {
    worker_.shared().open_connections.fetch_add(1, std::memory_order_relaxed);
    worker_.link(this);
    boost::system::error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (!ec) {
        auto addr = remote.address();
        if (addr.is_v6() && addr.to_v6().is_v4_mapped())
            addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        if (addr.is_v4()) {
            auto b = addr.to_v4().to_bytes();
            set_client(b, remote.port());
        } else {
            auto b = addr.to_v6().to_bytes();
            set_client(b, remote.port());
        }
    }
}

void ClientSession::set_client(std::span<const std::uint8_t> ip, std::uint16_t port) {
    if (ip.size() == 16 &&
        std::all_of(ip.begin(), ip.begin() + 10, [](auto b) { return b == 0; }) && ip[10] == 0xff &&
        ip[11] == 0xff)
        ip = ip.subspan(12);  // IPv4-mapped: the client is an IPv4 client
    peer_ip_.assign(ip.begin(), ip.end());
    client_ip_ = http::ip_to_string(peer_ip_);
    client_addr_ = ip.size() == 16 ? "[" + client_ip_ + "]" : client_ip_;
    client_addr_ += ':';
    append_number(client_addr_, port);
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
    read_request();
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
            self->worker_.log().debug("{}: TLS handshake failed: {}", self->client_addr_,
                                      self->client_timed_out_ ? "timed out" : ec.message());
            self->close_now();
            return;
        }
        self->in_.consume(used);
        self->begin_http();
    };
    using base = asio::ssl::stream_base;
    if (in_.size() > 0)  // read with a PROXY header: the start of the handshake
        client_.tls_layer()->async_handshake(base::server, in_.data(), std::move(done));
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
            switch (http::parse_proxy_header(self->in_view(), header)) {
                case http::ProxyParse::need_more:
                    self->read_proxy_header();
                    return;
                case http::ProxyParse::invalid:
                    self->worker_.log().debug("{}: invalid PROXY protocol header; closing",
                                              self->client_addr_);
                    self->close_now();
                    return;
                case http::ProxyParse::done:
                    if (!header.local) self->set_client(header.source_ip, header.source_port);
                    self->in_.consume(header.header_bytes);
                    self->client_deadline_.clear();
                    self->begin_http();
                    return;
            }
        });
}

std::string_view ClientSession::in_view() const {
    auto d = in_.data();
    return {static_cast<const char*>(d.data()), d.size()};
}

std::string_view ClientSession::up_view() const {
    auto d = up_->buffer.data();
    return {static_cast<const char*>(d.data()), d.size()};
}

// --- Request head -------------------------------------------------------------

void ClientSession::read_request() {
    in_request_ = false;
    request_client_.clear();
    head_started_ = false;
    status_ = 0;
    error_ = ErrorKind::none;
    bytes_in_ = bytes_out_ = 0;
    response_started_ = response_done_ = false;
    client_timed_out_ = false;
    upstream_deadline_.clear();
    settings_ = worker_.settings();
    req_parser_.reset();
    if (in_.size() > 0) {
        // Pipelined bytes: the next request has started already.
        head_started_ = true;
        started_ = Clock::now();
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
        // An idle keep-alive connection keeps no large buffer.
        if (in_.capacity() > 2 * kReadChunk) in_.shrink_to_fit();
    } else {
        client_deadline_.arm(now, settings_->timeouts.client_header, ErrorKind::client_timeout);
    }
    client_.async_read_some(
        in_.prepare(16 * 1024),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_head_read(ec, n); });
}

void ClientSession::on_head_read(error_code ec, std::size_t n) {
    if (closing_) return;
    if (ec) {
        if (client_timed_out_ && client_timeout_kind_ == ErrorKind::client_timeout &&
            in_.size() > 0) {
            close_after_response_ = true;
            respond_local(408, ErrorKind::client_timeout);
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
    if (!head_started_) {
        head_started_ = true;
        started_ = Clock::now();
        client_deadline_.arm(started_, settings_->timeouts.client_header,
                             ErrorKind::client_timeout);
    }
    if (try_parse_head()) return;
    client_.async_read_some(
        in_.prepare(16 * 1024),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_head_read(ec, n); });
}

// True when the head is complete or refused, i.e. this call took over.
bool ClientSession::try_parse_head() {
    if (!req_parser_) req_parser_.emplace(request_limits(*settings_), req_fields_);
    switch (req_parser_->parse(in_view())) {
        case http::ParseStatus::need_more:
            return false;
        case http::ParseStatus::error:
            // What follows a malformed head cannot be framed: answer and close.
            in_request_ = true;
            close_after_response_ = true;
            log_method_.clear();
            log_target_.clear();
            respond_local(http::status_for(req_parser_->error()), ErrorKind::none);
            return true;
        case http::ParseStatus::done:
            on_request_head();
            return true;
    }
    return true;
}

void ClientSession::on_request_head() {
    ++seq_;
    in_request_ = true;
    client_deadline_.clear();
    const auto& head = *req_parser_;
    log_method_.assign(head.method_string());
    log_target_.assign(head.target());
    request_was_head_ = head.method() == http::bhttp::verb::head;
    client_http10_ = head.version() == 10;
    upstream_failure_handled_ = false;
    server_ = nullptr;
    pool_index_ = server_index_ = -1;
    pool_counters_ = nullptr;
    bucket_ = -1;
    connect_us_ = response_us_ = -1;
    tried_.clear();
    retries_ = resends_ = 0;
    stale_retried_ = false;
    upstream_bytes_written_ = 0;  // what the retry rule looks at, also before a connect
    response_byte_received_ = false;

    http::RequestFacts facts;
    unsigned refuse = http::inspect_request(head, facts, settings_->server.via_name);
    if (facts.request_id.empty() || facts.request_id.size() > 200) {
        worker_.next_request_id(request_id_);
        new_request_id_ = true;
    } else {
        request_id_.assign(facts.request_id);
        new_request_id_ = false;
    }
    client_keep_alive_ = facts.persistent;
    request_client_ = client_addr_;
    request_client_ip_ = client_ip_;
    peer_trusted_ = false;
    if (!listener_->trusted_proxies.empty()) {
        for (const auto& cidr : listener_->trusted_proxies)
            if (cidr_contains(cidr, peer_ip_)) peer_trusted_ = true;
        // X-Forwarded-For is believed only from trusted proxies (DESIGN.md).
        std::string_view xff[16];
        std::size_t n = 0;
        for (const auto& f : head.fields())
            if (n < 16 && f.id == http::bhttp::field::unknown &&
                http::iequals(f.name, "x-forwarded-for"))
                xff[n++] = f.value;
        auto client = client_address(peer_ip_, {xff, n}, listener_->trusted_proxies);
        if (client != peer_ip_) request_client_ = request_client_ip_ = http::ip_to_string(client);
    }
    close_after_response_ = !client_keep_alive_ || worker_.shutting_down();
    const std::size_t head_bytes = head.head_bytes();
    bytes_in_ += head_bytes;
    // A request answered here must leave the read buffer like a forwarded one,
    // or a keep-alive connection would parse the same head again. A body it
    // carries is not read, so the connection closes after the answer.
    auto drop_head = [&] {
        if (facts.framing.kind != http::BodyKind::none) close_after_response_ = true;
        in_.consume(head_bytes);
    };
    if (refuse != 0) {
        close_after_response_ = true;
        drop_head();
        respond_local(refuse, ErrorKind::none);
        return;
    }
    const auto max_body = settings_->limits.max_body_bytes;
    if (max_body > 0 && facts.framing.kind == http::BodyKind::content_length &&
        facts.framing.length > max_body) {
        drop_head();
        respond_local(413, ErrorKind::body_too_large);
        return;
    }
    if (facts.max_forwards && *facts.max_forwards == 0) {
        // OPTIONS/TRACE with Max-Forwards: 0: this proxy is the final recipient.
        if (facts.framing.kind != http::BodyKind::none) close_after_response_ = true;
        http::write_max_forwards_response(head, close_after_response_, worker_.date_field(),
                                          resp_head_);
        drop_head();
        send_response_head(200);
        return;
    }
    upgrade_requested_ = facts.upgrade_websocket;

    routing_ = worker_.routing();
    Decision d = decide(head, facts.host);
    bucket_ = static_cast<std::int32_t>(d.bucket);
    if (d.pool >= 0) {
        pool_index_ = d.pool;
        pool_counters_ = &worker_.pool_counters(*routing_, d.pool);
        pool_counters_->budget.record_request(started_);
        // Counted against the pool that could not serve its share.
        if (d.canary_failover)
            ++worker_.pool_counters(*routing_, routing_->canary).canary_failovers;
        if (d.fallback) ++worker_.pool_counters(*routing_, routing_->active).fallbacks;
    }
    if (d.pool < 0 || d.server < 0) {
        drop_head();
        respond_local(503, ErrorKind::no_server);
        return;
    }
    set_cookie_.clear();
    if (!d.assign_cookie_value.empty()) {
        // A new user: the assignment cookie keeps them on their side of the
        // canary split on every later request (and every instance).
        const auto max_age =
            std::chrono::duration_cast<std::chrono::seconds>(routing_->sticky.assign_max_age)
                .count();
        set_cookie_ = "Set-Cookie: " +
                      make_assign_cookie(routing_->sticky.assign_cookie, d.assign_cookie_value,
                                         max_age, listener_->tls) +
                      "\r\n";
    }

    http::UpstreamRequestOptions options;
    options.client_ip = client_ip_;
    options.proto = listener_->tls ? "https" : "http";
    options.via = worker_.via(head.version());
    options.drop_field = routing_->override_header;
    options.forwarded = listener_->forwarded != ForwardedHeader::off;
    options.keep_client_forwarded =
        listener_->forwarded == ForwardedHeader::append && peer_trusted_;
    if (new_request_id_) options.new_request_id = request_id_;
    http::write_upstream_request_head(head, facts, options, up_head_);

    // The head's views end here: everything needed was copied.
    in_.consume(head_bytes);
    req_parser_.reset();
    upload_pump_.reset(facts.framing, /*chunked_sink=*/true, {}, routing_->override_header);
    body_rate_.reset(!facts.expect_continue, upload_done() ? 0 : in_.size());
    replay_.clear();
    replayable_ = true;
    if (claim_server(d.server)) {
        acquire_upstream();
        return;
    }
    // Every usable server of the pool is at max_connections_per_server:
    // wait for a slot of the chosen one (max_pending_per_server), or 503.
    const PoolState& p = pool();
    ServerLoad& load = worker_.load_for(p.servers[static_cast<std::size_t>(d.server)], p.name);
    ++load.limited;
    if (p.max_pending_per_server > 0 &&
        ServerSlots::try_wait(*load.slot, p.max_pending_per_server)) {
        waiting_slot_ = true;
        wait_server_ = d.server;
        // As HAProxy's `timeout queue`, which defaults to `timeout connect`.
        wait_until_ = Clock::now() + settings_->timeouts.upstream_connect;
        worker_.wait_for_slot(shared_from_this());
        return;
    }
    if (!upload_done()) close_after_response_ = true;  // the body is not read
    respond_local(503, ErrorKind::limit_reached);
}

// --- Server choice --------------------------------------------------------------

// Takes `server` for this request, or, when it is at its pool's
// max_connections_per_server, another usable one with room (not one already
// tried). False if none has room.
bool ClientSession::claim_server(int server) {
    const PoolState& p = pool();
    const std::uint32_t limit = p.max_connections_per_server;
    if (limit == 0) {
        use_server(server, false);
        return true;
    }
    skip_ = tried_;
    while (server >= 0) {
        ServerLoad& load = worker_.load_for(p.servers[static_cast<std::size_t>(server)], p.name);
        if (ServerSlots::try_acquire(*load.slot, limit)) {
            use_server(server, true);
            return true;
        }
        skip_.push_back(server);
        server = Router::pick_server(*routing_, pool_index_, worker_.balancer(), worker_.random(),
                                     skip_);
    }
    return false;
}

void ClientSession::use_server(int server, bool holds_slot) {
    const PoolState& p = pool();
    server_index_ = server;
    server_ = &p.servers[static_cast<std::size_t>(server)];
    inflight_.start(worker_, worker_.load_for(*server_, p.name), routing_->snapshot, pool_index_,
                    server, holds_slot);
}

// Queued for a slot: called on every tick of the worker and when a slot is
// given back on it.
bool ClientSession::retry_slot(Clock::time_point now) {
    if (!waiting_slot_) return true;
    if (closing_) {
        leave_slot_queue();
        return true;
    }
    if (claim_server(wait_server_)) {
        leave_slot_queue();
        acquire_upstream();
        return true;
    }
    if (now < wait_until_) return false;
    leave_slot_queue();
    if (!upload_done()) close_after_response_ = true;
    respond_local(503, ErrorKind::limit_reached);
    return true;
}

void ClientSession::leave_slot_queue() {
    if (!waiting_slot_) return;
    waiting_slot_ = false;
    const PoolState& p = pool();
    ServerSlots::stop_waiting(
        *worker_.load_for(p.servers[static_cast<std::size_t>(wait_server_)], p.name).slot);
}

// The policy's inputs from the head: cookies, the sticky header, the client
// address and the override header ("POOL" or "POOL; token=SECRET").
Decision ClientSession::decide(const http::RequestHeadParser& head, std::string_view host) {
    const RoutingState& state = *routing_;
    std::array<std::string_view, 16> cookies{};
    std::size_t n_cookies = 0;
    RequestView view{head.method_string(), head.target(), host};
    for (const auto& f : head.fields()) {
        if (f.id == http::bhttp::field::cookie) {
            if (n_cookies < cookies.size()) cookies[n_cookies++] = f.value;
        } else if (state.sticky.source == StickySource::header &&
                   http::iequals(f.name, state.sticky.name)) {
            view.sticky_header = f.value;
        } else if (!state.override_header.empty() && http::iequals(f.name, state.override_header)) {
            std::string_view v = f.value;
            auto semi = v.find(';');
            view.override_pool = http::trim_ows(v.substr(0, semi));
            if (semi != std::string_view::npos) {
                std::string_view param = http::trim_ows(v.substr(semi + 1));
                if (param.rfind("token=", 0) == 0) view.override_token = param.substr(6);
            }
        }
    }
    view.cookies = {cookies.data(), n_cookies};
    view.client_ip = request_client_ip_;
    view.from_trusted_proxy = peer_trusted_;
    return Router::decide(view, state, worker_.balancer(), worker_.random());
}

// --- Upstream -----------------------------------------------------------------

void ClientSession::acquire_upstream() {
    up_ = worker_.upstreams().take(server_->id, Clock::now(), settings_->timeouts.upstream_idle);
    if (up_) {
        up_reused_ = true;
        start_exchange();
        return;
    }
    connect_upstream();
}

void ClientSession::connect_upstream() {
    up_reused_ = false;
    up_ = std::make_unique<UpstreamConnection>(client_.get_executor(),
                                               worker_.counters().upstream_open);
    ++worker_.counters().upstream_opened;
    up_->server_id = server_->id;
    endpoints_.clear();
    for (const auto& ip : server_->resolved) {
        error_code ec;
        auto addr = asio::ip::make_address(ip, ec);
        if (!ec) endpoints_.emplace_back(addr, server_->endpoint.port);
    }
    upstream_timed_out_ = false;
    connect_started_ = Clock::now();
    upstream_deadline_.arm(connect_started_, settings_->timeouts.upstream_connect,
                           ErrorKind::connect_timeout);
    asio::async_connect(
        up_->stream.socket(), endpoints_,
        [self = shared_from_this(), ex = exchange_](error_code ec, const tcp::endpoint&) {
            if (ex != self->exchange_ || self->closing_) return;
            self->on_connected(ec);
        });
}

void ClientSession::on_connected(error_code ec) {
    upstream_deadline_.clear();
    if (ec) {
        upstream_failed(upstream_timed_out_ ? ErrorKind::connect_timeout
                                            : ErrorKind::connect_failed);
        return;
    }
    error_code ignored;
    up_->stream.socket().set_option(tcp::no_delay(true), ignored);
    if (auto tls = worker_.upstream_tls(pool().name)) {
        upstream_handshake(std::move(tls));
        return;
    }
    start_exchange();
}

// Pools with `tls`: the handshake runs within timeouts.upstream_connect; a
// certificate that does not verify (or any other TLS failure) is a 502,
// never retried (it would fail the same way on the next server).
void ClientSession::upstream_handshake(std::shared_ptr<const http::UpstreamTlsContext> tls) {
    up_->stream.use_tls(tls->context());
    std::string error;
    const bool ready = tls->prepare(up_->stream.native_tls(), server_->endpoint.host, error);
    up_->tls = std::move(tls);
    if (!ready) {
        worker_.log().warn("pool {} server {}: {}", pool().name, server_->address, error);
        upstream_failed(ErrorKind::upstream_tls);
        return;
    }
    upstream_deadline_.arm(Clock::now(), settings_->timeouts.upstream_connect,
                           ErrorKind::connect_timeout);
    up_->stream.async_handshake(
        asio::ssl::stream_base::client, [self = shared_from_this(), ex = exchange_](error_code ec) {
            if (ex != self->exchange_ || self->closing_) return;
            self->upstream_deadline_.clear();
            if (ec) {
                self->worker_.log().debug("TLS handshake with {} failed: {}",
                                          self->server_->address, ec.message());
                self->upstream_failed(self->upstream_timed_out_ ? ErrorKind::connect_timeout
                                                                : ErrorKind::upstream_tls);
                return;
            }
            self->start_exchange();
        });
}

// Sends the head and whatever body is at hand in one write, and starts
// reading the response at the same time (a server may answer early, and
// interim responses such as 100 Continue must reach the client).
void ClientSession::start_exchange() {
    ++up_->requests;
    upstream_bytes_written_ = 0;
    response_byte_received_ = false;
    upstream_reusable_ = false;
    upstream_timed_out_ = false;
    upstream_ready_ = false;
    upload_pieces_.clear();
    upload_pieces_.push_back(up_head_);
    if (resends_ > 0) {
        // A replay: the body so far is in replay_; the rest is still to come.
        if (!replay_.empty()) upload_pieces_.push_back(replay_);
        upload_consumed_ = 0;
    } else {
        upload_consumed_ = upload_pump_.plan(in_view(), upload_pieces_);
        if (upload_pump_.failed() || body_over_limit()) {
            refuse_body();
            return;
        }
        for (std::size_t i = 1; i < upload_pieces_.size() && replayable_; ++i) {
            if (replay_.size() + upload_pieces_[i].size() > settings_->server.retry_buffer)
                replayable_ = false;
            else
                replay_.append(upload_pieces_[i]);
        }
    }
    to_buffers(upload_pieces_, upload_buffers_);
    upload_writing_ = true;
    exchange_started_ = Clock::now();
    response_head_seen_ = false;
    if (!up_reused_) {
        // A new connection (TCP and TLS) is ready: its set-up time.
        connect_us_ = micros_between(connect_started_, exchange_started_);
        if (settings_->server.metrics)
            pool_counters_->upstream_connect.record(static_cast<std::uint64_t>(connect_us_));
    }
    upstream_deadline_.arm(exchange_started_, settings_->timeouts.send, ErrorKind::send_timeout);
    asio::async_write(up_->stream, upload_buffers_,
                      [self = shared_from_this(), ex = exchange_](error_code ec, std::size_t n) {
                          self->on_upload_written(ex, ec, n);
                      });
    download_read_head();
}

// The retry rule (DESIGN.md): resend only if no byte reached the upstream,
// or the method is idempotent, no response byte arrived and everything sent
// is still in the replay buffer. Only failures to reach the server count: a
// server that answered too slowly or wrongly is not asked twice (a retry
// would double the wait, or the damage).
bool ClientSession::may_resend(ErrorKind kind) const {
    if (response_started_ || !replayable_) return false;
    const bool nothing_sent = upstream_bytes_written_ == 0;
    const bool replay_ok = !response_byte_received_ && http::is_idempotent(log_method_);
    if (!nothing_sent && !replay_ok) return false;
    switch (kind) {
        case ErrorKind::connect_failed:
        case ErrorKind::connect_timeout:
        case ErrorKind::upstream_closed:
        case ErrorKind::upstream_reset:
            return true;
        default:
            return false;
    }
}

// Forgets the failed exchange; what it carried goes out again from replay_.
void ClientSession::resend() {
    ++resends_;
    ++exchange_;  // completions of the failed exchange are ignored from here on
    if (upload_writing_) {
        in_.consume(upload_consumed_);
        bytes_in_ += upload_consumed_;
        upload_consumed_ = 0;
        upload_writing_ = false;
    }
    release_upstream(false);
}

// Another server of the same pool, within the pool's `retries` and its
// retry budget, so that an outage never multiplies the load.
bool ClientSession::retry_elsewhere(ErrorKind kind) {
    const PoolState& p = pool();
    if (retries_ >= p.retries) return false;
    tried_.push_back(server_index_);
    const int next =
        Router::pick_server(*routing_, pool_index_, worker_.balancer(), worker_.random(), tried_);
    if (next < 0) return false;
    PoolCounters& counters = *pool_counters_;
    if (!counters.budget.try_acquire_retry(Clock::now())) {
        ++counters.budget_exhausted;
        return false;
    }
    report_attempt(kind, 0);  // the failed server's share of outlier detection
    if (!claim_server(next)) return false;
    ++retries_;
    ++counters.retries;
    resend();
    acquire_upstream();
    return true;
}

void ClientSession::upstream_failed(ErrorKind kind) {
    if (upstream_failure_handled_) return;
    if (may_resend(kind)) {
        // A pooled connection the server closed meanwhile: the same server
        // on a fresh connection, free of the retry count and budget.
        if (up_reused_ && !stale_retried_) {
            stale_retried_ = true;
            resend();
            connect_upstream();
            return;
        }
        if (retry_elsewhere(kind)) return;
    }
    upstream_failure_handled_ = true;
    release_upstream(false);
    if (response_started_) {
        // Part of the response went out: the client must see a broken
        // connection, never a truncated body that looks complete.
        error_ = kind;
        write_access_log();
        close_now();
        return;
    }
    if (!upload_done()) close_after_response_ = true;
    respond_local(status_for(kind), kind);
}

// --- Upload leg -----------------------------------------------------------------

bool ClientSession::body_over_limit() const {
    const auto max_body = settings_->limits.max_body_bytes;
    return max_body > 0 && upload_pump_.payload_bytes() > max_body;
}

// A body that cannot be relayed (malformed chunked coding, over
// limits.max_body_bytes) ends the exchange before the offending bytes are
// written: 400/413 if the response has not started, else a closed connection.
void ClientSession::refuse_body() {
    const bool too_large = !upload_pump_.failed();
    upstream_failure_handled_ = true;
    release_upstream(false);
    close_after_response_ = true;
    if (response_started_) {
        close_now();
        return;
    }
    if (too_large)
        respond_local(413, ErrorKind::body_too_large);
    else
        respond_local(400, ErrorKind::none);
}

void ClientSession::upload_continue() {
    if (upload_done() || upstream_failure_handled_ || response_done_ || !upstream_ready_ ||
        upload_reading_ || upload_writing_)
        return;
    upload_pieces_.clear();
    while (in_.size() > 0) {
        upload_consumed_ = upload_pump_.plan(in_view(), upload_pieces_);
        if (upload_pump_.failed() || body_over_limit()) {
            refuse_body();
            return;
        }
        if (!upload_pieces_.empty()) break;
        if (upload_consumed_ == 0) break;
        in_.consume(upload_consumed_);  // only framing bytes (a partial chunk line)
        bytes_in_ += upload_consumed_;
    }
    if (!upload_pieces_.empty()) {
        if (replayable_) {
            for (auto p : upload_pieces_) {
                if (replay_.size() + p.size() > settings_->server.retry_buffer) {
                    replayable_ = false;
                    break;
                }
                replay_.append(p);
            }
        }
        to_buffers(upload_pieces_, upload_buffers_);
        upload_writing_ = true;
        upstream_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
        asio::async_write(
            up_->stream, upload_buffers_,
            [self = shared_from_this(), ex = exchange_](error_code ec, std::size_t n) {
                self->on_upload_written(ex, ec, n);
            });
        return;
    }
    const auto now = Clock::now();
    client_deadline_.arm(now, settings_->timeouts.client_body, ErrorKind::client_timeout);
    body_rate_.read_started(now);
    upload_reading_ = true;
    client_.async_read_some(in_.prepare(kReadChunk),
                            [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                                self->on_upload_read(seq, ec, n);
                            });
}

void ClientSession::on_upload_read(std::uint64_t seq, error_code ec, std::size_t n) {
    if (seq != seq_ || closing_) return;
    upload_reading_ = false;
    client_deadline_.clear();
    body_rate_.read_done(Clock::now(), ec ? 0 : n);
    if (ec) {
        if (response_done_) return;
        upstream_failure_handled_ = true;
        release_upstream(false);
        close_after_response_ = true;
        if (client_timed_out_ && !response_started_) {
            respond_local(408, ErrorKind::client_timeout);
            return;
        }
        // The client went away mid-body: nobody to answer.
        error_ = ErrorKind::client_closed;
        write_access_log();
        close_now();
        return;
    }
    in_.commit(n);
    upload_continue();  // waits for upstream_ready_ during a retry's reconnect
}

void ClientSession::on_upload_written(std::uint64_t ex, error_code ec, std::size_t n) {
    if (ex != exchange_ || closing_) return;
    upload_writing_ = false;
    upstream_bytes_written_ += n;
    if (ec) {
        // The download leg sees the same failure (or a response the upstream
        // sent before closing) and decides; only a write that sent nothing on
        // a reused connection is settled here, as the retry rule allows.
        if (up_reused_ && upstream_bytes_written_ == 0 && !response_byte_received_)
            upstream_failed(ErrorKind::upstream_reset);
        return;
    }
    upstream_ready_ = true;
    if (!response_byte_received_)
        upstream_deadline_.arm(Clock::now(), settings_->timeouts.upstream_response,
                               ErrorKind::upstream_timeout);
    in_.consume(upload_consumed_);
    bytes_in_ += upload_consumed_;
    upload_consumed_ = 0;
    if (upload_done()) {
        maybe_finish();
        return;
    }
    upload_continue();
}

// --- Download leg ---------------------------------------------------------------

void ClientSession::download_read_head() {
    resp_parser_.reset();
    if (up_->buffer.size() > 0 && try_parse_response_head()) return;
    if (!upload_writing_)
        upstream_deadline_.arm(Clock::now(), settings_->timeouts.upstream_response,
                               ErrorKind::upstream_timeout);
    up_->stream.async_read_some(
        up_->buffer.prepare(16 * 1024),
        [self = shared_from_this(), ex = exchange_](error_code ec, std::size_t n) {
            self->on_download_head_read(ex, ec, n);
        });
}

void ClientSession::on_download_head_read(std::uint64_t ex, error_code ec, std::size_t n) {
    if (ex != exchange_ || closing_) return;
    if (ec) {
        if (upstream_timed_out_)
            upstream_failed(upstream_timeout_kind_);
        else if (ec == asio::error::eof)
            upstream_failed(ErrorKind::upstream_closed);
        else
            upstream_failed(ErrorKind::upstream_reset);
        return;
    }
    response_byte_received_ = true;
    up_->buffer.commit(n);
    if (try_parse_response_head()) return;
    up_->stream.async_read_some(
        up_->buffer.prepare(16 * 1024),
        [self = shared_from_this(), ex = exchange_](error_code ec, std::size_t n) {
            self->on_download_head_read(ex, ec, n);
        });
}

bool ClientSession::try_parse_response_head() {
    if (!resp_parser_)
        resp_parser_.emplace(
            http::ResponseHeadParser::Limits{settings_->limits.max_header_bytes, 0, 256},
            resp_fields_);
    switch (resp_parser_->parse(up_view())) {
        case http::ParseStatus::need_more:
            return false;
        case http::ParseStatus::error:
            upstream_failed(ErrorKind::bad_response);
            return true;
        case http::ParseStatus::done:
            on_response_head();
            return true;
    }
    return true;
}

void ClientSession::on_response_head() {
    upstream_deadline_.clear();
    if (!response_head_seen_) {
        // The upstream's first response head (an interim one included):
        // its time to answer.
        response_head_seen_ = true;
        response_us_ = micros_between(exchange_started_, Clock::now());
        if (settings_->server.metrics)
            pool_counters_->upstream_response.record(static_cast<std::uint64_t>(response_us_));
    }
    const auto& head = *resp_parser_;
    http::ResponseFacts facts;
    if (http::inspect_response(head, request_was_head_, facts) != 0) {
        upstream_failed(ErrorKind::bad_response);
        return;
    }
    const unsigned status = head.status();
    if (status / 100 == 1) {
        if (status == 101) {
            if (!upgrade_requested_ || facts.upgrade.empty()) {
                upstream_failed(ErrorKind::bad_response);  // a 101 nobody asked for
                return;
            }
            status_ = 101;
            http::ClientResponseOptions opt;
            opt.upgrade = true;
            opt.date_field = worker_.date_field();
            opt.via = worker_.via(head.version());
            http::write_client_response_head(head, facts, opt, resp_head_);
            up_->buffer.consume(head.head_bytes());
            resp_parser_.reset();
            start_tunnel();
            return;
        }
        // Interim response: relayed to HTTP/1.1 clients only (RFC 9110 §15.2).
        const std::size_t used = head.head_bytes();
        if (client_http10_) {
            up_->buffer.consume(used);
            download_read_head();
            return;
        }
        http::ClientResponseOptions opt;
        opt.via = worker_.via(head.version());
        http::write_client_response_head(head, facts, opt, resp_head_);
        up_->buffer.consume(used);
        resp_parser_.reset();
        download_pieces_.assign(1, resp_head_);
        to_buffers(download_pieces_, download_buffers_);
        client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
        asio::async_write(client_, download_buffers_,
                          [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                              if (seq != self->seq_ || self->closing_) return;
                              self->client_deadline_.clear();
                              if (ec) {
                                  self->upstream_failure_handled_ = true;
                                  self->release_upstream(false);
                                  self->close_now();
                                  return;
                              }
                              self->bytes_out_ += n;
                              self->download_read_head();
                          });
        return;
    }

    status_ = status;
    const bool chunked_out = facts.framing.kind == http::BodyKind::chunked && !client_http10_;
    if (facts.framing.kind == http::BodyKind::until_close ||
        (facts.framing.kind == http::BodyKind::chunked && client_http10_) || !upload_done())
        close_after_response_ = true;
    if (worker_.shutting_down()) close_after_response_ = true;
    upstream_reusable_ = facts.persistent;

    http::ClientResponseOptions opt;
    opt.close = close_after_response_;
    opt.client_http10 = client_http10_;
    opt.chunked = chunked_out;
    opt.date_field = worker_.date_field();
    opt.via = worker_.via(head.version());
    opt.extra_fields = set_cookie_;
    http::write_client_response_head(head, facts, opt, resp_head_);
    up_->buffer.consume(head.head_bytes());
    resp_parser_.reset();
    download_pump_.reset(facts.framing, chunked_out);
    response_started_ = true;

    download_pieces_.assign(1, resp_head_);
    download_consumed_ = download_pump_.plan(up_view(), download_pieces_);
    if (download_pump_.failed()) {
        upstream_failed(ErrorKind::bad_response);
        return;
    }
    to_buffers(download_pieces_, download_buffers_);
    client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    asio::async_write(client_, download_buffers_,
                      [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                          self->on_download_written(seq, ec, n);
                      });
}

void ClientSession::download_continue() {
    download_pieces_.clear();
    while (up_->buffer.size() > 0) {
        download_consumed_ = download_pump_.plan(up_view(), download_pieces_);
        if (download_pump_.failed()) {
            upstream_failed(ErrorKind::bad_response);
            return;
        }
        if (!download_pieces_.empty() || download_consumed_ == 0) break;
        up_->buffer.consume(download_consumed_);
    }
    if (!download_pieces_.empty()) {
        to_buffers(download_pieces_, download_buffers_);
        client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
        asio::async_write(client_, download_buffers_,
                          [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                              self->on_download_written(seq, ec, n);
                          });
        return;
    }
    upstream_deadline_.arm(Clock::now(), settings_->timeouts.upstream_response,
                           ErrorKind::upstream_timeout);
    up_->stream.async_read_some(
        up_->buffer.prepare(kReadChunk),
        [self = shared_from_this(), ex = exchange_](error_code ec, std::size_t n) {
            self->on_download_read(ex, ec, n);
        });
}

void ClientSession::on_download_read(std::uint64_t ex, error_code ec, std::size_t n) {
    if (ex != exchange_ || closing_) return;
    upstream_deadline_.clear();
    if (ec) {
        // A TLS upstream that closes without close_notify ends a
        // close-delimited body as a plain one would (as NGINX and HAProxy
        // accept); framed bodies are checked by the pump either way.
        if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) &&
            !upstream_timed_out_) {
            upstream_reusable_ = false;
            download_pieces_.clear();
            download_pump_.on_source_eof(download_pieces_);
            if (!download_pump_.failed()) {
                if (download_pieces_.empty()) {
                    response_done_ = true;
                    maybe_finish();
                    return;
                }
                download_consumed_ = 0;
                to_buffers(download_pieces_, download_buffers_);
                asio::async_write(
                    client_, download_buffers_,
                    [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                        self->on_download_written(seq, ec, n);
                    });
                return;
            }
            upstream_failed(ErrorKind::upstream_closed);
            return;
        }
        upstream_failed(upstream_timed_out_ ? upstream_timeout_kind_ : ErrorKind::upstream_reset);
        return;
    }
    up_->buffer.commit(n);
    download_continue();
}

void ClientSession::on_download_written(std::uint64_t seq, error_code ec, std::size_t n) {
    if (seq != seq_ || closing_) return;
    client_deadline_.clear();
    bytes_out_ += n;
    if (ec) {
        // The client is gone or does not read: nothing more can be sent.
        upstream_failure_handled_ = true;
        release_upstream(false);
        error_ = client_timed_out_ ? ErrorKind::send_timeout : ErrorKind::client_closed;
        write_access_log();
        close_now();
        return;
    }
    if (up_) up_->buffer.consume(download_consumed_);
    download_consumed_ = 0;
    if (download_pump_.done()) {
        response_done_ = true;
        maybe_finish();
        return;
    }
    download_continue();
}

// --- Ending ----------------------------------------------------------------------

void ClientSession::respond_local(unsigned status, ErrorKind error) {
    error_ = error;
    if (request_id_.empty()) worker_.next_request_id(request_id_);
    http::write_local_response(status, close_after_response_, request_id_, worker_.date_field(),
                               resp_head_);
    send_response_head(status);
}

// Sends resp_head_, a complete response made by the proxy, and ends the request.
void ClientSession::send_response_head(unsigned status) {
    status_ = status;
    response_started_ = true;
    in_request_ = true;
    client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    ++seq_;  // nothing of the exchange it replaces may act from here on
    asio::async_write(client_, asio::buffer(resp_head_),
                      [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                          if (seq != self->seq_ || self->closing_) return;
                          self->client_deadline_.clear();
                          self->bytes_out_ += n;
                          if (ec) self->close_after_response_ = true;
                          self->response_done_ = true;
                          self->finish_request();
                      });
}

// --- Tunnel ------------------------------------------------------------------------

// After a 101 the connection belongs to the application protocol: bytes go
// both ways unchanged until both sides have closed, or either fails, or
// nothing moves for timeouts.tunnel_idle. Whatever either side sent early is
// in the buffers.
void ClientSession::start_tunnel() {
    in_tunnel_ = true;
    tunnel_eof_[0] = tunnel_eof_[1] = false;
    inflight_.to_tunnel();
    response_started_ = true;
    upstream_deadline_.clear();
    download_pieces_.assign(1, resp_head_);
    if (up_->buffer.size() > 0) download_pieces_.push_back(up_view());
    to_buffers(download_pieces_, download_buffers_);
    client_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    asio::async_write(client_, download_buffers_,
                      [self = shared_from_this(), seq = seq_](error_code ec, std::size_t n) {
                          if (seq != self->seq_ || self->closing_) return;
                          if (ec) {
                              self->end_tunnel();
                              return;
                          }
                          self->bytes_out_ += n;
                          self->up_->buffer.consume(self->up_->buffer.size());
                          self->tunnel_step(true);
                          self->tunnel_step(false);
                      });
}

void ClientSession::tunnel_step(bool to_upstream) {
    auto& source_buffer = to_upstream ? in_ : up_->buffer;
    auto& source = to_upstream ? client_ : up_->stream;
    auto& sink = to_upstream ? up_->stream : client_;
    auto self = shared_from_this();
    if (source_buffer.size() > 0) {
        asio::async_write(sink, source_buffer.data(),
                          [self, to_upstream, seq = seq_](error_code ec, std::size_t n) {
                              if (seq != self->seq_ || self->closing_) return;
                              if (ec) {
                                  self->end_tunnel();
                                  return;
                              }
                              (to_upstream ? self->in_ : self->up_->buffer).consume(n);
                              (to_upstream ? self->bytes_in_ : self->bytes_out_) += n;
                              self->tunnel_step(to_upstream);
                          });
        return;
    }
    const auto now = Clock::now();
    client_deadline_.arm(now, settings_->timeouts.tunnel_idle, ErrorKind::none);
    upstream_deadline_.arm(now, settings_->timeouts.tunnel_idle, ErrorKind::none);
    source.async_read_some(source_buffer.prepare(16 * 1024),
                           [self, to_upstream, seq = seq_](error_code ec, std::size_t n) {
                               if (seq != self->seq_ || self->closing_) return;
                               self->on_tunnel_read(to_upstream, ec, n);
                           });
}

void ClientSession::on_tunnel_read(bool to_upstream, error_code ec, std::size_t n) {
    // A TLS peer that closes without close_notify ends its side as a plain
    // one does.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        tunnel_half_close(to_upstream);
        return;
    }
    if (ec) {  // a reset, or cancelled at tunnel_idle
        end_tunnel();
        return;
    }
    (to_upstream ? in_ : up_->buffer).commit(n);
    tunnel_step(to_upstream);
}

// One side finished sending (EOF; everything it sent before was relayed):
// pass the half-close on and keep relaying the other way until that side
// ends too. On a plain TCP sink that is shutdown(send). A TLS sink would
// need a close_notify, which Asio can only send together with a read of
// the peer's, and that read is the other direction's: there the half-close
// is not passed on, and the connection closes when the other side ends.
void ClientSession::tunnel_half_close(bool to_upstream) {
    tunnel_eof_[to_upstream ? 0 : 1] = true;
    if (tunnel_eof_[0] && tunnel_eof_[1]) {
        end_tunnel();
        return;
    }
    auto& sink = to_upstream ? up_->stream : client_;
    if (!sink.tls()) {
        error_code ec;
        sink.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) end_tunnel();
    }
}

void ClientSession::end_tunnel() {
    if (!in_tunnel_) return;
    in_tunnel_ = false;
    write_access_log();
    close_now();
}

void ClientSession::maybe_finish() {
    if (!response_done_) return;
    if (!upload_done()) {
        // Answered before the request body was complete: the upstream
        // connection cannot be reused and the client's is closed.
        upstream_reusable_ = false;
        close_after_response_ = true;
    } else if (upload_writing_) {
        return;  // the last body write is still in flight; its handler finishes
    }
    finish_request();
}

void ClientSession::finish_request() {
    ++seq_;
    ++exchange_;
    client_deadline_.clear();
    upstream_deadline_.clear();
    if (up_) {
        const bool reusable = upstream_reusable_ && upload_done() && !upload_writing_ &&
                              response_done_ && download_pump_.done() &&
                              !upstream_failure_handled_ && !worker_.shutting_down();
        release_upstream(reusable);
    }
    upload_reading_ = upload_writing_ = false;
    write_access_log();
    inflight_.reset();
    routing_.reset();
    server_ = nullptr;
    // Shutting down, a response whose head promised keep-alive (it was
    // written before the shutdown) does not end the connection: the client
    // may be sending its next request already; read_request gives it the
    // shutdown grace.
    if (close_after_response_) {
        close_gracefully();
        return;
    }
    read_request();
}

// What an attempt says about its upstream server, for outlier detection
// and the server's failure count.
void ClientSession::report_attempt(ErrorKind error, unsigned status) {
    if (server_ == nullptr || !routing_ || pool_index_ < 0) return;
    PassiveResult r;
    switch (error) {
        case ErrorKind::connect_failed:
        case ErrorKind::connect_timeout:
        case ErrorKind::upstream_tls:
            r.outcome = PassiveOutcome::connect_failure;
            break;
        case ErrorKind::upstream_closed:
        case ErrorKind::upstream_reset:
            r.outcome = PassiveOutcome::reset;
            break;
        case ErrorKind::upstream_timeout:
            r.outcome = PassiveOutcome::timeout;
            break;
        case ErrorKind::bad_response:
            r = {PassiveOutcome::server_error, 502};
            break;
        case ErrorKind::none:
            if (status == 0) return;
            r = passive_result_for_status(static_cast<std::uint16_t>(status));
            break;
        default:
            return;  // the client's doing or ours: nothing about the server
    }
    ServerLoad& load = worker_.load_for(*server_, pool().name);
    if (error != ErrorKind::none) {
        ++load.failures;
        ++load.errors[static_cast<std::size_t>(error)];
    } else if (status >= 100 && status < 600) {
        ++load.responses[status / 100 - 1];
    }
    worker_.report_outcome(*server_, pool().name, r);
}

void ClientSession::write_access_log() {
    if (!in_request_) return;
    in_request_ = false;
    report_attempt(error_, status_);
    const auto now = Clock::now();
    worker_.record_request(pool_counters_, status_, now - started_, now, in_tunnel_);
    auto& log = worker_.access_log();
    if (!log.enabled()) return;
    // Sampling keeps every failure: those are the lines someone looks for.
    const double sample = settings_->log.access_log_sample;
    if (sample < 1.0 && status_ < 500 && error_ == ErrorKind::none &&
        static_cast<double>(worker_.random().next() >> 11) * 0x1.0p-53 >= sample)
        return;
    const double ms = std::chrono::duration<double, std::milli>(now - started_).count();
    std::string& out = log.line_buffer();
    out.append("{\"time\":\"");
    out.append(worker_.log_time());
    out.append("\",\"worker\":");
    append_number(out, worker_.id());
    out.append(",\"client\":\"");
    out.append(request_client_.empty() ? client_addr_ : request_client_);
    if (!request_client_.empty() && request_client_ != client_addr_) {
        out.append("\",\"peer\":\"");
        out.append(client_addr_);
    }
    out.append("\",\"method\":\"");
    append_json_escaped(out, log_method_);
    out.append("\",\"target\":\"");
    append_json_escaped(out, log_target_);
    out.append("\",\"status\":");
    append_number(out, status_);
    out.append(",\"bytes_in\":");
    append_number(out, bytes_in_);
    out.append(",\"bytes_out\":");
    append_number(out, bytes_out_);
    append_millis(out, ",\"duration_ms\":", ms);
    out.append(",\"upstream\":\"");
    if (server_ != nullptr) out.append(server_->address);
    out.append("\",\"pool\":\"");
    if (routing_ && pool_index_ >= 0)
        out.append(routing_->pools[static_cast<std::size_t>(pool_index_)].name);
    out.append("\",\"request_id\":\"");
    append_json_escaped(out, request_id_);
    out.push_back('"');
    if (error_ != ErrorKind::none) {
        out.append(",\"error\":\"");
        out.append(to_string(error_));
        out.push_back('"');
    }
    if (resends_ > 0) {
        out.append(",\"retries\":");
        append_number(out, resends_);
    }
    if (bucket_ >= 0) {
        out.append(",\"bucket\":");
        append_number(out, static_cast<unsigned>(bucket_));
    }
    if (connect_us_ >= 0)
        append_millis(out, ",\"upstream_connect_ms\":", static_cast<double>(connect_us_) / 1000);
    if (response_us_ >= 0)
        append_millis(out, ",\"upstream_response_ms\":", static_cast<double>(response_us_) / 1000);
    out.append("}\n");
    log.line_done();
}

void ClientSession::release_upstream(bool reusable) {
    if (!up_) return;
    upstream_deadline_.clear();
    // A server that lost traffic (switch, drain, disable) gets no pooled
    // connections back: they would keep its pool from counting as drained.
    if (reusable && up_->buffer.size() == 0 && worker_.server_is_live(up_->server_id)) {
        worker_.upstreams().put(std::move(up_), Clock::now());
        return;
    }
    error_code ignored;
    up_->stream.socket().close(ignored);
    up_.reset();
}

// Closes after a response that ended the connection: shut down our side and
// read until the client closes (bounded), so the client never gets a reset
// that could discard the response it has not read yet.
void ClientSession::close_gracefully() {
    if (closing_) return;
    closing_ = true;
    ++seq_;
    ++exchange_;
    release_upstream(false);
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
            s.client_.async_read_some(asio::buffer(s.linger_buf_), std::move(*this));
        }
    };
    client_.async_read_some(asio::buffer(linger_buf_), Drain{shared_from_this()});
}

void ClientSession::close_now() {
    closing_ = true;
    leave_slot_queue();
    ++seq_;
    ++exchange_;
    inflight_.reset();
    client_deadline_.clear();
    upstream_deadline_.clear();
    release_upstream(false);
    error_code ignored;
    client_.socket().close(ignored);
}

void ClientSession::on_tick(Clock::time_point now) {
    if (upload_reading_ && body_rate_.too_slow(now, settings_->timeouts.client_body_min_rate,
                                               settings_->timeouts.client_body_grace)) {
        // Cut like a body that stopped: on_upload_read answers 408 (or
        // closes) and aborts the upstream leg, which never sees the
        // incomplete request as complete.
        worker_.log().debug("{}: request body below timeouts.client_body_min_rate ({} bytes)",
                            client_addr_, body_rate_.received());
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
    if (upstream_deadline_.at <= now && up_) {
        upstream_timed_out_ = true;
        upstream_timeout_kind_ = upstream_deadline_.kind;
        upstream_deadline_.clear();
        error_code ignored;
        up_->stream.socket().cancel(ignored);
    }
}

void ClientSession::on_shutdown() {
    if (closing_ || in_tunnel_) return;  // tunnels run until the drain deadline
    if (!in_request_ && in_.size() == 0 && !head_started_) {
        // Idle between requests. Closing now would race with a request the
        // client may be sending (the classic reload error): give it a grace
        // to send one, answered with Connection: close, then close it.
        client_deadline_.at = std::min(client_deadline_.at, worker_.idle_close_at());
        return;
    }
    // Only a response not started yet can still say Connection: close.
    if (!response_started_) close_after_response_ = true;
}

bool ClientSession::cut_if_on_pool(std::string_view pool, std::uint64_t generation) {
    if (closing_ || inflight_.load() == nullptr || inflight_.load()->pool != pool) return false;
    if (routing_ && routing_->generation >= generation) return false;  // not that drain's
    error_ = ErrorKind::drain_cut;
    if (in_tunnel_) {
        end_tunnel();
        return true;
    }
    write_access_log();
    close_now();
    return true;
}

void ClientSession::on_force_close() {
    if (in_tunnel_) {
        end_tunnel();
        return;
    }
    if (in_request_) {
        error_ = ErrorKind::client_closed;
        write_access_log();
    }
    close_now();
}

}  // namespace switchyard::proxy

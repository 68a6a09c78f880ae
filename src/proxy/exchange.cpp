#include "switchyard/proxy/exchange.hpp"

#include "switchyard/core/client_address.hpp"
#include "switchyard/core/cookie.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/http/h2_head.hpp"
#include "switchyard/http/header_rules.hpp"
#include "switchyard/http/proxy_protocol.hpp"
#include "switchyard/proxy/access_record.hpp"
#include "switchyard/proxy/client_session.hpp"
#include "switchyard/proxy/passive_report.hpp"
#include "switchyard/proxy/retry_rule.hpp"
#include "switchyard/proxy/routing_view.hpp"
#include "switchyard/proxy/tunnel.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;

Exchange::Exchange(ClientSide& downstream, Worker& worker, std::shared_ptr<const Settings> settings,
                   Clock::time_point started, RequestBuffers& buffers)
    : downstream_(downstream),
      worker_(worker),
      settings_(std::move(settings)),
      buf_(buffers),
      started_(started) {
    buf_.clear();
}

Exchange::~Exchange() {
    if (mirror_) mirror_->abandon();                  // its body will not be complete
    if (diff_) diff_->fail(DiffPair::Side::primary);  // ended without its whole answer
    leave_slot_queue();
    if (up_) up_->release(false);
}

// --- The head --------------------------------------------------------------------

void Exchange::begin(const http::RequestHeadParser& head) {
    method_.assign(head.method_string());
    target_.assign(head.target());
    head_request_ = head.method() == http::bhttp::verb::head;
    http10_ = head.version() == 10;

    http::RequestFacts facts;
    const unsigned refuse = http::inspect_request(head, facts, settings_->server.via_name);
    if (facts.request_id.empty() || facts.request_id.size() > 200) {
        worker_.next_request_id(buf_.request_id);
        new_request_id_ = true;
    } else {
        buf_.request_id.assign(facts.request_id);
    }
    resolve_client(head);
    close_after_ = !facts.persistent || worker_.shutting_down();
    const std::size_t head_bytes = head.head_bytes();
    bytes_in_ += head.text_bytes();
    // A request answered here must leave the read buffer like a forwarded one,
    // or a keep-alive connection would parse the same head again. A body it
    // carries is not read, so the connection closes after the answer.
    auto drop_head = [&] {
        if (facts.framing.kind != http::BodyKind::none) close_after_ = true;
        downstream_.consume(head_bytes);
    };
    if (refuse != 0) {
        close_after_ = true;
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
        if (facts.framing.kind != http::BodyKind::none) close_after_ = true;
        http::write_max_forwards_response(head, close_after_, worker_.date_field(), buf_.resp_head);
        drop_head();
        send_local(200);
        return;
    }
    upgrade_requested_ = facts.upgrade_websocket;
    routing_ = worker_.routing();
    std::array<std::string_view, 16> cookies{};
    RequestView view = routing_view(head.fields(), *routing_, cookies);
    view.client_ip = client_ip_;
    view.from_trusted_proxy = downstream_.peer().trusted;
    const Decision d = Router::decide(view, *routing_, worker_.balancer(), worker_.random());
    bucket_ = static_cast<std::int32_t>(d.bucket);
    if (d.pool >= 0) {
        pool_index_ = d.pool;
        counters_ = &worker_.pool_counters(*routing_, d.pool);
        counters_->budget.record_request(started_);
        // Counted against the pool that could not serve its share.
        if (d.canary_failover)
            ++worker_.pool_counters(*routing_, routing_->canary).canary_failovers;
        if (d.fallback) ++worker_.pool_counters(*routing_, routing_->active).fallbacks;
        if (!d.overridden && !d.canary_failover && !d.fallback)
            step_window_ = worker_.step_window();
    }
    if (d.pool < 0 || d.server < 0) {
        drop_head();
        respond_local(503, ErrorKind::no_server);
        return;
    }
    if (!d.assign_cookie_value.empty()) {
        // A new user: the assignment cookie keeps them on their side of the
        // canary split on every later request (and every instance).
        const auto max_age =
            std::chrono::duration_cast<std::chrono::seconds>(routing_->sticky.assign_max_age)
                .count();
        set_cookie_.assign("Set-Cookie: ");
        append_assign_cookie(set_cookie_, routing_->sticky.assign_cookie, d.assign_cookie_value,
                             max_age, downstream_.listener().tls);
        set_cookie_.append("\r\n");
    }

    const ListenerContext& listener = downstream_.listener();
    http::UpstreamRequestOptions options;
    options.client_ip = downstream_.peer().ip_text;
    options.proto = listener.tls ? "https" : "http";
    options.via = worker_.via(downstream_.http2() ? 20 : head.version());
    options.drop_fields = routing_->private_fields;
    if (d.flags != 0 || !routing_->context_header.empty()) {
        if (d.flags != 0) worker_.count_flags(*routing_, d.flags);
        append_flag_fields(*routing_, d.flags, d.pool, d.bucket, buf_.flag_fields);
        options.extra_fields = buf_.flag_fields;
    }
    options.forwarded = listener.forwarded != ForwardedHeader::off;
    options.keep_client_forwarded =
        listener.forwarded == ForwardedHeader::append && downstream_.peer().trusted;
    if (new_request_id_) options.new_request_id = buf_.request_id;
    http::write_upstream_request_head(head, facts, options, buf_.up_head);
    if (d.shadow && !worker_.shutting_down()) start_mirror(facts.framing, d);

    // The head's views end here: everything needed was copied.
    downstream_.consume(head_bytes);
    upload_pump_.reset(facts.framing, /*chunked_sink=*/true, {}, routing_->private_fields);
    downstream_.reset_body_rate(!facts.expect_continue,
                                upload_done() ? 0 : downstream_.received().size());
    if (claim_server(d.server)) {
        try_upstream(false);
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
        worker_.wait_for_slot(downstream_.keepalive());
        return;
    }
    if (!upload_done()) close_after_ = true;  // the body is not read
    respond_local(503, ErrorKind::limit_reached);
}

// The client of the request: the peer, or from a trusted proxy the last
// untrusted X-Forwarded-For entry (DESIGN.md).
void Exchange::resolve_client(const http::RequestHeadParser& head) {
    const ClientPeer& peer = downstream_.peer();
    client_ = peer.address;
    client_ip_ = peer.ip_text;
    const ListenerContext& listener = downstream_.listener();
    if (listener.trusted_proxies.empty()) return;
    std::string_view xff[16];
    std::size_t n = 0;
    for (const auto& f : head.fields())
        if (n < 16 && f.id == http::bhttp::field::unknown && iequals(f.name, "x-forwarded-for"))
            xff[n++] = f.value;
    auto client = client_address(peer.ip(), {xff, n}, listener.trusted_proxies);
    if (!std::ranges::equal(client, peer.ip())) client_ = client_ip_ = http::ip_to_string(client);
}

// --- Server choice ---------------------------------------------------------------

// Takes `server` for this request, or, when it is at its pool's
// max_connections_per_server, another usable one with room (not one already
// tried). False if none has room.
bool Exchange::claim_server(int server) {
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

void Exchange::use_server(int server, bool holds_slot) {
    const PoolState& p = pool();
    server_index_ = server;
    server_ = &p.servers[static_cast<std::size_t>(server)];
    inflight_.start(worker_, worker_.load_for(*server_, p.name), routing_->snapshot, pool_index_,
                    server, holds_slot);
}

// Queued for a slot: called on every tick of the worker and when a slot is
// given back on it.
bool Exchange::retry_slot(Clock::time_point now) {
    if (!waiting_slot_) return true;
    if (claim_server(wait_server_)) {
        leave_slot_queue();
        try_upstream(false);
        return true;
    }
    if (now < wait_until_) return false;
    leave_slot_queue();
    if (!upload_done()) close_after_ = true;
    respond_local(503, ErrorKind::limit_reached);
    return true;
}

void Exchange::leave_slot_queue() {
    if (!waiting_slot_) return;
    waiting_slot_ = false;
    const PoolState& p = pool();
    ServerSlots::stop_waiting(
        *worker_.load_for(p.servers[static_cast<std::size_t>(wait_server_)], p.name).slot);
}

// --- Tries ---------------------------------------------------------------------------

void Exchange::try_upstream(bool fresh) {
    // Idempotent and without a body: a stale pooled connection is resent
    // on a fresh one (on_upstream_failed), so reuse needs no check first.
    const bool resendable = http::is_idempotent(method_) && upload_done();
    up_ = std::make_shared<UpstreamExchange>(
        worker_, settings_, UpstreamExchange::Target{server_, pool().name, counters_, resendable},
        *this, downstream_.keepalive(), std::move(buf_.try_spare));
    const auto keep = up_;  // it may end (and be released) before start() returns
    keep->start(fresh);
}

// Sends the head and whatever body is at hand in one write.
void Exchange::on_upstream_ready() {
    buf_.pieces.clear();
    buf_.pieces.push_back(buf_.up_head);
    if (resends_ > 0) {
        // A replay: the body so far is in replay_; the rest is still to come.
        if (!replay_.empty()) buf_.pieces.push_back(replay_);
        upload_consumed_ = 0;
    } else {
        upload_consumed_ = upload_pump_.plan(downstream_.received(), buf_.pieces);
        if (upload_pump_.failed() || body_over_limit()) {
            refuse_body();
            return;
        }
        keep_for_replay(1);
        feed_mirror(1);
    }
    to_buffers(buf_.pieces, buf_.buffers);
    up_->send_request(buf_.buffers, upload_done());
    if (!up_->reused()) connect_us_ = up_->connect_us();
}

void Exchange::on_upstream_failed(ErrorKind kind) {
    const AttemptFacts attempt{.response_started = response_started_,
                               .replayable = replayable_,
                               .bytes_written = up_->bytes_sent(),
                               .response_byte_received = up_->response_byte_received(),
                               .idempotent = http::is_idempotent(method_)};
    if (may_resend(attempt, kind)) {
        // A pooled connection the server closed meanwhile: the same server
        // on a fresh connection, free of the retry count and budget.
        if (up_->reused() && !stale_retried_) {
            stale_retried_ = true;
            resend();
            try_upstream(true);
            return;
        }
        if (retry_elsewhere(kind)) return;
    }
    release_upstream(false);
    if (response_started_) {
        // Part of the response went out: the client must see a broken
        // connection, never a truncated body that looks complete.
        error_ = kind;
        log();
        downstream_.close_now();
        return;
    }
    if (!upload_done()) close_after_ = true;
    respond_local(status_for(kind), kind);
}

// Another server of the same pool, within the pool's `retries` and its
// retry budget, so that an outage never multiplies the load.
bool Exchange::retry_elsewhere(ErrorKind kind) {
    const PoolState& p = pool();
    if (retries_ >= p.retries) return false;
    tried_.push_back(server_index_);
    const int next =
        Router::pick_server(*routing_, pool_index_, worker_.balancer(), worker_.random(), tried_);
    if (next < 0) return false;
    if (!counters_->budget.try_acquire_retry(Clock::now())) {
        ++counters_->budget_exhausted;
        return false;
    }
    report_attempt(kind, 0);  // the failed server's share of outlier detection
    if (!claim_server(next)) return false;
    ++retries_;
    ++counters_->retries;
    resend();
    try_upstream(false);
    return true;
}

// Forgets the failed try; what it carried goes out again from replay_.
void Exchange::resend() {
    ++resends_;
    if (up_->sending()) {
        downstream_.consume(upload_consumed_);
        bytes_in_ += upload_consumed_;
        upload_consumed_ = 0;
    }
    release_upstream(false);
}

void Exchange::release_upstream(bool reusable) {
    if (!up_) return;
    if (auto spare = up_->release(reusable)) buf_.try_spare = std::move(*spare);
    up_.reset();
}

void Exchange::on_tick(Clock::time_point now) {
    if (up_) up_->on_tick(now);
}

// --- Request body --------------------------------------------------------------------

bool Exchange::body_over_limit() const {
    const auto max_body = settings_->limits.max_body_bytes;
    return max_body > 0 && upload_pump_.payload_bytes() > max_body;
}

// Body bytes from buf_.pieces[first_piece] on are kept for a replay while
// everything sent fits timeouts.retry_buffer.
void Exchange::keep_for_replay(std::size_t first_piece) {
    for (std::size_t i = first_piece; i < buf_.pieces.size() && replayable_; ++i) {
        if (replay_.size() + buf_.pieces[i].size() > settings_->server.retry_buffer)
            replayable_ = false;
        else
            replay_.append(buf_.pieces[i]);
    }
}

// A body that cannot be relayed (malformed chunked coding, over
// limits.max_body_bytes) ends the request before the offending bytes are
// written: 400/413 if the response has not started, else a closed connection.
void Exchange::refuse_body() {
    const bool too_large = !upload_pump_.failed();
    release_upstream(false);
    close_after_ = true;
    if (response_started_) {
        downstream_.close_now();
        return;
    }
    if (too_large)
        respond_local(413, ErrorKind::body_too_large);
    else
        respond_local(400, ErrorKind::none);
}

void Exchange::upload_continue() {
    if (upload_done() || !up_ || response_done_ || !up_->ready() || up_->sending() ||
        downstream_.reading_body())
        return;
    buf_.pieces.clear();
    while (!downstream_.received().empty()) {
        upload_consumed_ = upload_pump_.plan(downstream_.received(), buf_.pieces);
        if (upload_pump_.failed() || body_over_limit()) {
            refuse_body();
            return;
        }
        if (!buf_.pieces.empty()) break;
        if (upload_consumed_ == 0) break;
        downstream_.consume(upload_consumed_);  // only framing bytes (a partial chunk line)
        bytes_in_ += upload_consumed_;
    }
    if (!buf_.pieces.empty()) {
        keep_for_replay(0);
        feed_mirror(0);
        to_buffers(buf_.pieces, buf_.buffers);
        up_->send(buf_.buffers);
        return;
    }
    downstream_.read_body(&Exchange::on_body_read);
}

void Exchange::on_body_read(error_code ec, std::size_t) {
    if (ec) {
        if (response_done_) return;
        release_upstream(false);
        close_after_ = true;
        if (downstream_.timed_out() && !response_started_) {
            respond_local(408, ErrorKind::client_timeout);
            return;
        }
        // The client went away mid-body: nobody to answer.
        error_ = ErrorKind::client_closed;
        log();
        downstream_.close_now();
        return;
    }
    upload_continue();  // a retry's new try sends once it is ready
}

void Exchange::on_upstream_sent(std::size_t) {
    downstream_.consume(upload_consumed_);
    bytes_in_ += upload_consumed_;
    upload_consumed_ = 0;
    if (upload_done()) {
        maybe_finish();
        return;
    }
    upload_continue();
}

// --- Response --------------------------------------------------------------------------

void Exchange::on_response_head(const http::ResponseHeadParser& head) {
    response_us_ = up_->response_us();
    http::ResponseFacts facts;
    if (http::inspect_response(head, head_request_, facts) != 0) {
        on_upstream_failed(ErrorKind::bad_response);
        return;
    }
    const unsigned status = head.status();
    if (status / 100 == 1) {
        if (status == 101) {
            if (!upgrade_requested_ || facts.upgrade.empty()) {
                on_upstream_failed(ErrorKind::bad_response);  // a 101 nobody asked for
                return;
            }
            status_ = 101;
            http::ClientResponseOptions opt;
            opt.upgrade = true;
            opt.date_field = worker_.date_field();
            opt.via = worker_.via(head.version());
            http::write_client_response_head(head, facts, opt, buf_.resp_head);
            up_->consume_head();
            start_tunnel();
            return;
        }
        // Interim response: relayed to HTTP/1.1 clients only (RFC 9110 §15.2).
        if (http10_) {
            const auto keep = up_;  // the next head may end the try at once
            keep->consume_head();
            keep->read_response_head();
            return;
        }
        http::ClientResponseOptions opt;
        opt.via = worker_.via(head.version());
        http::write_client_response_head(head, facts, opt, buf_.resp_head);
        up_->consume_head();
        head_buffer_[0] = asio::buffer(buf_.resp_head);
        downstream_.write(head_buffer_, &Exchange::on_interim_written);
        return;
    }

    status_ = status;
    // (An HTTP/2 stream decodes it again: its trailers become HTTP/2 trailers.)
    const bool chunked_out = facts.framing.kind == http::BodyKind::chunked && !http10_;
    if (facts.framing.kind == http::BodyKind::until_close ||
        (facts.framing.kind == http::BodyKind::chunked && http10_) || !upload_done())
        close_after_ = true;
    if (worker_.shutting_down()) close_after_ = true;
    up_->set_reusable(facts.persistent);

    http::ClientResponseOptions opt;
    opt.close = close_after_;
    opt.client_http10 = http10_;
    opt.chunked = chunked_out;
    opt.date_field = worker_.date_field();
    opt.via = worker_.via(head.version());
    opt.extra_fields = set_cookie_;
    std::string_view head_text;  // written before the body (HTTP/1.1)
    if (downstream_.http2()) {
        bytes_out_ +=
            http::collect_response_fields(head, facts, opt, buf_.h2_fields, buf_.resp_head);
        downstream_.send_response_head(status, buf_.h2_fields, chunked_out);
    } else {
        http::write_client_response_head(head, facts, opt, buf_.resp_head);
        head_text = buf_.resp_head;
    }
    response_started_ = true;
    if (diff_) diff_->head(DiffPair::Side::primary, head);
    if (!up_->start_body(facts.framing, chunked_out, head_text)) {
        on_upstream_failed(ErrorKind::bad_response);
        return;
    }
    if (diff_) diff_->body(DiffPair::Side::primary, up_->body_payload());
    downstream_.write(up_->body_buffers(), &Exchange::on_body_written);
}

void Exchange::on_interim_written(error_code ec, std::size_t n) {
    if (ec) {
        release_upstream(false);
        downstream_.close_now();
        return;
    }
    bytes_out_ += n;
    const auto keep = up_;  // the next head may end the try at once
    keep->read_response_head();
}

void Exchange::on_response_body() {
    if (diff_) diff_->body(DiffPair::Side::primary, up_->body_payload());
    downstream_.write(up_->body_buffers(), &Exchange::on_body_written);
}

void Exchange::on_body_written(error_code ec, std::size_t n) {
    bytes_out_ += n;
    if (ec) {
        // The client is gone or does not read: nothing more can be sent.
        release_upstream(false);
        error_ = downstream_.timed_out() ? ErrorKind::send_timeout : ErrorKind::client_closed;
        log();
        downstream_.close_now();
        return;
    }
    const auto keep = up_;  // the response may end, and the try with it
    keep->body_delivered();
}

void Exchange::on_response_end() {
    if (diff_) {
        diff_->end(DiffPair::Side::primary);
        diff_.reset();  // the last holder compares
    }
    response_done_ = true;
    maybe_finish();
}

// --- Tunnel ------------------------------------------------------------------------------

// The 101 and whatever the upstream sent after it go out first; then the
// Tunnel relays both ways.
void Exchange::start_tunnel() {
    in_tunnel_ = was_tunnel_ = true;
    inflight_.to_tunnel();
    response_started_ = true;
    up_->clear_deadline();
    buf_.buffers.clear();
    buf_.buffers.emplace_back(asio::buffer(buf_.resp_head));
    auto& early = up_->connection().buffer;
    if (early.size() > 0) buf_.buffers.emplace_back(early.data());
    downstream_.write(buf_.buffers, &Exchange::on_tunnel_opened);
}

void Exchange::on_tunnel_opened(error_code ec, std::size_t n) {
    if (ec) {
        end_tunnel();
        return;
    }
    bytes_out_ += n;
    auto& early = up_->connection().buffer;
    early.consume(early.size());
    // Only an HTTP/1.1 request asks for an upgrade (HTTP/2 has no Upgrade).
    tunnel_ = std::make_unique<Tunnel>(*this, *downstream_.connection(), *up_,
                                       settings_->timeouts.tunnel_idle, bytes_in_, bytes_out_);
    tunnel_->start();
}

void Exchange::end_tunnel() {
    if (!in_tunnel_) return;
    in_tunnel_ = false;
    log();
    downstream_.close_now();
}

// --- Ending ---------------------------------------------------------------------------------

void Exchange::respond_local(unsigned status, ErrorKind error) {
    error_ = error;
    if (buf_.request_id.empty()) worker_.next_request_id(buf_.request_id);
    http::write_local_response(status, close_after_, buf_.request_id, worker_.date_field(),
                               buf_.resp_head);
    send_local(status);
}

// Sends buf_.resp_head, a complete response made by the proxy, and ends the request.
void Exchange::send_local(unsigned status) {
    status_ = status;
    response_started_ = true;
    downstream_.write_final(buf_.resp_head, &Exchange::on_local_written);
}

void Exchange::on_local_written(error_code ec, std::size_t n) {
    bytes_out_ += n;
    if (ec) close_after_ = true;
    response_done_ = true;
    finish();
}

void Exchange::maybe_finish() {
    if (!response_done_) return;
    if (!upload_done()) {
        // Answered before the request body was complete: the upstream
        // connection cannot be reused and the client's is closed.
        if (up_) up_->set_reusable(false);
        close_after_ = true;
    } else if (up_ && up_->sending()) {
        return;  // the last body write is still in flight; its completion finishes
    }
    finish();
}

void Exchange::finish() {
    if (up_) {
        const bool reusable = up_->reusable() && upload_done() && !up_->sending() &&
                              response_done_ && up_->response_complete() &&
                              !worker_.shutting_down();
        release_upstream(reusable);
    }
    log();
    inflight_.reset();
    downstream_.end_request(close_after_);
}

void Exchange::cut(ErrorKind error) {
    if (in_tunnel_) {
        // A forced close ends a tunnel as it is; a drain deadline says so.
        if (error == ErrorKind::drain_cut) error_ = error;
        end_tunnel();
        return;
    }
    if (!logged_) {
        error_ = error;
        log();
    }
    downstream_.close_now();
}

bool Exchange::started_on_pool_before(std::string_view pool, std::uint64_t generation) const {
    const ServerLoad* load = inflight_.load();
    if (load == nullptr || load->pool != pool) return false;
    return !routing_ || routing_->generation < generation;  // a later one belongs to no such drain
}

void Exchange::abandon() {
    leave_slot_queue();
    inflight_.reset();
    release_upstream(false);
}

// What an attempt says about its upstream server, for outlier detection
// and the server's failure count.
void Exchange::report_attempt(ErrorKind error, unsigned status) {
    if (server_ == nullptr || !routing_ || pool_index_ < 0) return;
    const auto report = passive_report(error, status);
    if (!report) return;
    ServerLoad& load = worker_.load_for(*server_, pool().name);
    if (error != ErrorKind::none) {
        ++load.failures;
        ++load.errors[static_cast<std::size_t>(error)];
    } else if (status >= 100 && status < 600) {
        ++load.responses[status / 100 - 1];
    }
    worker_.report_outcome(*server_, pool().name, *report);
}

// The request's one record: the pool's counters, outlier detection, and
// the access log (sampled, but never a failure: those are the lines
// someone looks for).
void Exchange::log() {
    if (logged_) return;
    logged_ = true;
    report_attempt(error_, status_);
    const auto now = Clock::now();
    worker_.record_request(counters_, status_, now - started_, now, was_tunnel_);
    if (step_window_ != 0 && counters_ != nullptr)
        worker_.record_step(*counters_, step_window_, status_, was_tunnel_ ? -1 : response_us_);
    auto& log = worker_.access_log();
    if (!log.enabled()) return;
    const double sample = settings_->log.access_log_sample;
    if (sample < 1.0 && status_ < 500 && error_ == ErrorKind::none &&
        static_cast<double>(worker_.random().next() >> 11) * 0x1.0p-53 >= sample)
        return;
    AccessRecord r;
    r.time = worker_.log_time();
    r.worker = worker_.id();
    r.client = client_.empty() ? downstream_.peer().address : client_;
    r.peer = downstream_.peer().address;
    r.method = method_;
    r.target = target_;
    r.http2 = downstream_.http2();
    r.status = status_;
    r.bytes_in = bytes_in_;
    r.bytes_out = bytes_out_;
    r.duration_us = std::chrono::round<std::chrono::microseconds>(now - started_).count();
    if (server_ != nullptr) r.upstream = server_->address;
    if (routing_ && pool_index_ >= 0) r.pool = pool().name;
    r.request_id = buf_.request_id;
    r.error = error_;
    r.retries = resends_;
    r.bucket = bucket_;
    r.connect_us = connect_us_;
    r.response_us = response_us_;
    append_access_line(log.line_buffer(), r);
    log.line_done();
}

}  // namespace switchyard::proxy

#include "switchyard/proxy/shadow_exchange.hpp"

#include "switchyard/core/shadow_policy.hpp"
#include "switchyard/http/header_rules.hpp"
#include "switchyard/http/shadow_head.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;

std::shared_ptr<ShadowExchange> ShadowExchange::start(Worker& worker,
                                                      std::shared_ptr<const Settings> settings,
                                                      std::shared_ptr<const RoutingState> routing,
                                                      const Request& request,
                                                      std::shared_ptr<DiffPair> diff) {
    const int pool = routing->shadow.pool;
    if (pool < 0 || static_cast<std::size_t>(pool) >= routing->pools.size()) return nullptr;
    const ShadowSettings& config = settings->shadow;
    ShadowLoad& load = worker.shadow();
    const std::string& name = routing->pools[static_cast<std::size_t>(pool)].name;
    if (request.upgrade || !shadow_method_allowed(config, request.method)) {
        load.count(name, ShadowResult::skipped_method);
        return nullptr;
    }
    if (request.content_length && *request.content_length > config.max_body) {
        load.count(name, ShadowResult::skipped_body);
        return nullptr;
    }
    if (load.backoff_pool != name) {
        load.backoff.reset();
        load.backoff_pool = name;
    }
    if (load.inflight >= config.max_inflight ||
        load.bytes + request.upstream_head.size() > config.memory ||
        (load.backoff.paused() && !load.backoff.allows(Clock::now()))) {
        load.count(name, ShadowResult::dropped_overload);
        return nullptr;
    }
    const int server = Router::pick_server(*routing, pool, worker.balancer(), worker.random());
    if (server < 0) {
        load.count(name, ShadowResult::error);  // no usable server: health never gates the primary
        return nullptr;
    }
    auto m = std::make_shared<ShadowExchange>(worker, std::move(settings), std::move(routing), pool,
                                              server);
    m->diff_ = std::move(diff);
    load.count(name, ShadowResult::sent);
    return launch(std::move(m), request, config.host_suffix);
}

std::shared_ptr<ShadowExchange> ShadowExchange::start_secondary(
    Worker& worker, std::shared_ptr<const Settings> settings,
    std::shared_ptr<const RoutingState> routing, const Request& request, int pool,
    int primary_server, std::shared_ptr<DiffPair> diff) {
    const ShadowSettings& config = settings->shadow;
    ShadowLoad& load = worker.shadow();
    if (load.inflight >= config.max_inflight ||
        load.bytes + request.upstream_head.size() > config.memory)
        return nullptr;
    const int avoid[] = {primary_server};
    int server = Router::pick_server(*routing, pool, worker.balancer(), worker.random(), avoid);
    if (server < 0)
        server = Router::pick_server(*routing, pool, worker.balancer(), worker.random());
    if (server < 0) return nullptr;
    auto m = std::make_shared<ShadowExchange>(worker, std::move(settings), std::move(routing), pool,
                                              server);
    m->secondary_ = true;
    m->diff_ = std::move(diff);
    return launch(std::move(m), request, {});
}

// The copy's head, its budget and deadline, and its upstream try.
std::shared_ptr<ShadowExchange> ShadowExchange::launch(std::shared_ptr<ShadowExchange> m,
                                                       const Request& request,
                                                       std::string_view host_suffix) {
    Worker& worker = m->worker_;
    if (!http::write_shadow_head(request.upstream_head, host_suffix, m->pending_)) {
        m->ended_ = true;  // never started: nothing to count but this
        if (!m->secondary_) worker.shadow().count(m->pool_name(), ShadowResult::error);
        return nullptr;
    }
    ++worker.shadow().inflight;
    m->head_request_ = request.method == "HEAD";
    m->body_done_ = !request.has_body;
    m->deadline_ = Clock::now() + m->settings_->shadow.timeout;
    m->charge();
    worker.link(m.get());
    m->linked_ = true;
    // Not resendable: a pooled connection is checked before reuse, since a
    // copy is never sent twice.
    m->up_ = std::make_shared<UpstreamExchange>(
        worker, m->settings_,
        UpstreamExchange::Target{m->server_, m->pool_name(), nullptr, /*resendable=*/false}, *m,
        std::weak_ptr<void>(m));
    const auto up = m->up_;  // it may fail (and be released) before start() returns
    up->start(false);
    return m;
}

ShadowExchange::ShadowExchange(Worker& worker, std::shared_ptr<const Settings> settings,
                               std::shared_ptr<const RoutingState> routing, int pool, int server)
    : worker_(worker), settings_(std::move(settings)), routing_(std::move(routing)), pool_(pool) {
    const PoolState& p = routing_->pools[static_cast<std::size_t>(pool)];
    server_ = &p.servers[static_cast<std::size_t>(server)];
}

ShadowExchange::~ShadowExchange() {
    // Nothing holds a copy that has not ended but its primary; if that let
    // go without saying, the copy is lost.
    end(ShadowResult::error);
}

const std::string& ShadowExchange::pool_name() const {
    return routing_->pools[static_cast<std::size_t>(pool_)].name;
}

// The worker's count of buffered mirror bytes follows pending_ + sending_.
void ShadowExchange::charge() {
    const std::uint64_t now = ended_ ? 0 : pending_.size() + sending_.size();
    ShadowLoad& load = worker_.shadow();
    load.bytes = load.bytes - charged_ + now;
    charged_ = now;
}

void ShadowExchange::add_body(std::span<const std::string_view> pieces, std::uint64_t payload) {
    if (ended_) return;
    if (payload > settings_->shadow.max_body) {
        end(ShadowResult::skipped_body);
        return;
    }
    std::size_t size = 0;
    for (auto p : pieces)
        size += p.size();
    if (worker_.shadow().bytes + size > settings_->shadow.memory) {
        end(ShadowResult::dropped_overload);  // the shadow does not keep up
        return;
    }
    for (auto p : pieces)
        pending_.append(p);
    charge();
    send_more();
}

void ShadowExchange::body_done() {
    if (ended_) return;
    body_done_ = true;
    send_more();
}

void ShadowExchange::abandon() {
    end(ShadowResult::error);
}

void ShadowExchange::send_more() {
    if (ended_ || !connected_ || up_->sending() || pending_.empty()) return;
    sending_.swap(pending_);
    pending_.clear();
    send_buffers_.assign(1, asio::buffer(sending_));
    const auto up = up_;  // a failure may end the copy before the call returns
    if (!head_sent_) {
        head_sent_ = true;
        up->send_request(send_buffers_, body_done_);
    } else {
        up->send(send_buffers_);
    }
}

void ShadowExchange::on_upstream_ready() {
    connected_ = true;
    send_more();
}

void ShadowExchange::on_upstream_sent(std::size_t) {
    sending_.clear();
    charge();
    send_more();
}

void ShadowExchange::on_response_head(const http::ResponseHeadParser& head) {
    http::ResponseFacts facts;
    if (http::inspect_response(head, head_request_, facts) != 0 || head.status() == 101) {
        end(ShadowResult::error);
        return;
    }
    const auto up = up_;  // the next step may end the copy
    if (head.status() / 100 == 1) {
        up->consume_head();
        up->read_response_head();
        return;
    }
    up->set_reusable(facts.persistent);
    if (diff_) diff_->head(side(), head);
    if (!up->start_body(facts.framing, /*chunked_sink=*/false, {})) {
        end(ShadowResult::error);
        return;
    }
    on_response_body();
}

// Discarded, after a copy for the diff.
void ShadowExchange::on_response_body() {
    const auto up = up_;
    if (diff_) diff_->body(side(), up->body_payload());
    up->body_delivered();
}

void ShadowExchange::on_response_end() {
    // An answer before the whole request was written leaves the connection
    // in an unknown state: not reused.
    const bool reusable = body_done_ && pending_.empty() && !up_->sending() && up_->reusable() &&
                          !worker_.shutting_down();
    end(ShadowResult::ok, reusable);
}

void ShadowExchange::on_upstream_failed(ErrorKind kind) {
    const bool timeout = kind == ErrorKind::connect_timeout ||
                         kind == ErrorKind::upstream_timeout || kind == ErrorKind::send_timeout;
    end(timeout ? ShadowResult::timeout : ShadowResult::error);
}

void ShadowExchange::on_tick(Clock::time_point now) {
    if (ended_) return;
    const auto keep = shared_from_this();
    if (now >= deadline_) {
        end(ShadowResult::timeout);
        return;
    }
    if (up_) up_->on_tick(now);
}

void ShadowExchange::on_shutdown() {
    const auto keep = shared_from_this();
    end(ShadowResult::error);
}

void ShadowExchange::on_force_close() {
    on_shutdown();
}

// Counts the result once, gives the connection back (or closes it) and
// leaves the worker's lists. A write in flight keeps the copy alive (its
// handler holds it), so sending_ is not freed here.
void ShadowExchange::end(ShadowResult result, bool reusable) {
    if (ended_) return;
    ended_ = true;
    ShadowLoad& load = worker_.shadow();
    if (!secondary_) {
        load.count(pool_name(), result);
        const bool answered = result == ShadowResult::ok;
        if ((answered || result == ShadowResult::error || result == ShadowResult::timeout) &&
            load.backoff_pool == pool_name())
            load.backoff.record(answered, Clock::now());
    }
    --load.inflight;
    if (diff_) {
        if (result == ShadowResult::ok)
            diff_->end(side());
        else
            diff_->fail(side());
        diff_.reset();  // the last holder compares
    }
    pending_.clear();
    charge();
    if (up_) {
        up_->release(reusable);
        up_.reset();
    }
    if (linked_) {
        linked_ = false;
        worker_.unlink(this);
    }
}

}  // namespace switchyard::proxy

#include "switchyard/proxy/worker.hpp"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <ctime>

#include "switchyard/http/header_rules.hpp"
#include "switchyard/proxy/acceptor.hpp"
#include "switchyard/proxy/client_session.hpp"
#include "switchyard/proxy/exchange_buffers.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTick = std::chrono::milliseconds(100);
}

Worker::Worker(unsigned id, WorkerShared& shared, std::shared_ptr<const Settings> settings,
               std::shared_ptr<const RoutingState> routing)
    : id_(id),
      shared_(shared),
      tick_(io_),
      settings_(std::move(settings)),
      routing_(std::move(routing)),
      random_((static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()),
      access_log_buffer_(shared.access_log),
      diff_(settings_->shadow.diff.max_routes) {
    std::random_device rd;
    request_id_prefix_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    update_clock_strings();
    via_ = "1.1 " + settings_->server.via_name;
    via10_ = "1.0 " + settings_->server.via_name;
    via20_ = "2 " + settings_->server.via_name;
    apply_snapshot();
}

Worker::~Worker() {
    join();
    slot_waiters_.clear();  // sessions unlink themselves from this worker
}

void Worker::start(std::function<void()> on_exit) {
    work_.emplace(io_.get_executor());
    run_tick();
    hangups_.start();
    thread_ = std::thread([this, on_exit = std::move(on_exit)] {
        io_.run();
        access_log_buffer_.flush();
        if (on_exit) on_exit();
    });
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::add_listener(int fd, std::shared_ptr<const ListenerContext> listener) {
    asio::post(io_, [this, fd, listener = std::move(listener)]() mutable {
        if (shutting_down_) {
            ::close(fd);
            return;
        }
        auto acceptor = std::make_shared<Acceptor>(*this, fd, std::move(listener));
        acceptors_.push_back(acceptor);
        acceptor->start();
    });
}

void Worker::remove_listener(std::string name) {
    asio::post(io_, [this, name = std::move(name)] {
        std::erase_if(acceptors_, [&](const std::shared_ptr<Acceptor>& a) {
            if (a->name() != name) return false;
            a->stop();
            return true;
        });
    });
}

void Worker::place(tcp::socket socket, tcp::socket::protocol_type protocol,
                   std::shared_ptr<const ListenerContext> listener) {
    // Whichever worker wakes first accepts; the connection goes to the
    // least loaded one, or a burst would land on a single worker.
    // Shutting down, a peer may have finished already: keep it here.
    // Already counted open by the acceptor (before it accepted).
    Worker* target = this;
    if (!shutting_down_)
        for (Worker* peer : peers_)
            if (peer->assigned_.load(std::memory_order_relaxed) <
                target->assigned_.load(std::memory_order_relaxed))
                target = peer;
    target->assigned_.fetch_add(1, std::memory_order_relaxed);
    if (target == this) {
        std::make_shared<ClientSession>(*this, std::move(socket), std::move(listener))->start();
        return;
    }
    boost::system::error_code ignored;
    int fd = socket.release(ignored);
    if (fd >= 0) {
        target->adopt(protocol, fd, std::move(listener));
    } else {
        target->assigned_.fetch_sub(1, std::memory_order_relaxed);
        shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    }
}

void Worker::adopt(tcp::socket::protocol_type protocol, int fd,
                   std::shared_ptr<const ListenerContext> listener) {
    asio::post(io_, [this, protocol, fd, listener = std::move(listener)]() mutable {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        socket.assign(protocol, fd, ec);
        if (ec) {
            ::close(fd);
            assigned_.fetch_sub(1, std::memory_order_relaxed);
            shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        // Even when shutting down: the connection was accepted and is answered.
        std::make_shared<ClientSession>(*this, std::move(socket), std::move(listener))->start();
    });
}

void Worker::publish(std::shared_ptr<const Settings> settings,
                     std::shared_ptr<const RoutingState> routing,
                     std::shared_ptr<const UpstreamTlsMap> upstream_tls,
                     std::function<void()> applied) {
    asio::post(io_,
               [this, settings = std::move(settings), routing = std::move(routing),
                upstream_tls = std::move(upstream_tls), applied = std::move(applied)]() mutable {
                   settings_ = std::move(settings);
                   routing_ = std::move(routing);
                   if (upstream_tls) upstream_tls_ = std::move(upstream_tls);
                   via_ = "1.1 " + settings_->server.via_name;
                   via10_ = "1.0 " + settings_->server.via_name;
                   via20_ = "2 " + settings_->server.via_name;
                   apply_snapshot();
                   // A new cap on routes starts the counts afresh.
                   if (diff_.max_routes() != settings_->shadow.diff.max_routes)
                       diff_ = DiffTable(settings_->shadow.diff.max_routes);
                   if (applied) applied();
               });
}

// A snapshot that takes traffic away from a server closes its idle pooled
// connections now; busy ones are not returned to the pool when they finish.
void Worker::apply_snapshot() {
    balancer_.sync(*routing_);
    pool_index_.clear();
    for (std::size_t p = 0; p < routing_->pools.size(); ++p)
        pool_index_.push_back(&pool_counters(*routing_, static_cast<int>(p)));
    live_servers_.clear();
    for (std::size_t p = 0; p < routing_->pools.size(); ++p)
        for (std::size_t i = 0; i < routing_->pools[p].servers.size(); ++i)
            if (routing_->takes_traffic(static_cast<int>(p), static_cast<int>(i)))
                live_servers_.insert(routing_->pools[p].servers[i].id);
    // The shadow pool's servers take mirrored copies: their connections are pooled too.
    if (const ShadowState& shadow = routing_->shadow; shadow.pool >= 0 && shadow.percent_milli > 0)
        for (const auto& s : routing_->pools[static_cast<std::size_t>(shadow.pool)].servers)
            if (server_usable(s)) live_servers_.insert(s.id);
    upstreams_.retain_only(live_servers_);
}

std::shared_ptr<const http::UpstreamTlsContext> Worker::upstream_tls(std::string_view pool) const {
    auto it = upstream_tls_->find(pool);
    return it == upstream_tls_->end() ? nullptr : it->second;
}

ServerLoad& Worker::load_for(const ServerState& server, const std::string& pool) {
    auto [it, inserted] = loads_.try_emplace(server.id);
    if (inserted) {
        it->second.pool = pool;
        it->second.address = server.address;
        it->second.slot = &shared_.slots.slot(server.id);
    }
    return it->second;
}

PoolCounters& Worker::pool_counters(const RoutingState& state, int pool) {
    const auto index = static_cast<std::size_t>(pool);
    if (&state == routing_.get() && index < pool_index_.size()) return *pool_index_[index];
    const PoolState& p = state.pools[index];
    auto [it, inserted] = pool_counters_.try_emplace(p.name, p.retry_budget_percent, started_at_);
    if (!inserted && it->second.budget_percent != p.retry_budget_percent)
        it->second.budget = RetryBudget(p.retry_budget_percent);  // a reload changed it
    it->second.budget_percent = p.retry_budget_percent;
    return it->second;
}

void Worker::count_flags(const RoutingState& state, std::uint64_t flags) {
    for (std::size_t i = 0; flags != 0 && i < state.flags.size(); ++i, flags >>= 1) {
        if ((flags & 1) == 0) continue;
        const std::string& name = state.flags[i].name;
        // Found after the first request with the flag: no allocation.
        if (auto it = flag_requests_.find(name); it != flag_requests_.end())
            ++it->second;
        else
            flag_requests_.emplace(name, 1);
    }
}

void Worker::reset_diff(std::function<void()> done) {
    asio::post(io_, [this, done = std::move(done)] {
        diff_.reset();
        if (done) done();
    });
}

bool Worker::take_diff_log_slot() {
    const std::int64_t minute =
        std::chrono::duration_cast<std::chrono::minutes>(Clock::now().time_since_epoch()).count();
    std::int64_t seen = shared_.diff_log_minute.load(std::memory_order_relaxed);
    if (seen != minute &&
        shared_.diff_log_minute.compare_exchange_strong(seen, minute, std::memory_order_relaxed))
        shared_.diff_log_written.store(0, std::memory_order_relaxed);
    return shared_.diff_log_written.fetch_add(1, std::memory_order_relaxed) <
           settings_->shadow.diff.log_per_minute;
}

void Worker::log_diff(std::string_view line) {
    if (shared_.diff_log)
        shared_.diff_log->info(line);
    else
        log().info("diff {}", line);
}

void ShadowLoad::count(std::string_view pool, ShadowResult result) {
    auto it = counts.find(pool);
    if (it == counts.end()) it = counts.emplace(std::string(pool), ShadowCounts{}).first;
    ++it->second[static_cast<std::size_t>(result)];
}

void InflightCount::start(Worker& worker, ServerLoad& load, std::uint64_t snapshot, int pool,
                          int server, bool holds_slot) {
    reset();
    worker_ = &worker;
    load_ = &load;
    ++load_->inflight;
    ++load_->attempts;
    snapshot_ = snapshot;
    pool_ = pool;
    server_ = server;
    holds_slot_ = holds_slot;
    worker_->balancer().add_load_if(snapshot_, pool_, server_, 1);
}

void InflightCount::reset() {
    if (load_ == nullptr) return;
    --(tunnel_ ? load_->tunnels : load_->inflight);
    worker_->balancer().add_load_if(snapshot_, pool_, server_, -1);
    if (holds_slot_) {
        ServerSlots::release(*load_->slot);
        worker_->slot_released();
    }
    load_ = nullptr;
    tunnel_ = false;
    holds_slot_ = false;
}

void Worker::wait_for_slot(std::shared_ptr<TimedSession> session) {
    slot_waiters_.push_back(std::move(session));
}

// A slot given back here goes to the oldest waiter that can use it; slots
// given back on other workers are found by the tick.
void Worker::slot_released() {
    if (slot_waiters_.empty() || wake_posted_) return;
    wake_posted_ = true;  // posted: the session giving it back may be mid-handler
    asio::post(io_, [this] {
        wake_posted_ = false;
        wake_slot_waiters(Clock::now());
    });
}

void Worker::wake_slot_waiters(Clock::time_point now) {
    // retry_slot() may answer a request and so release a slot again; it
    // never adds a waiter, so iterating over a moved-out list is safe.
    auto waiters = std::move(slot_waiters_);
    slot_waiters_.clear();
    for (auto& w : waiters)
        if (!w->retry_slot(now)) slot_waiters_.push_back(std::move(w));
}

void Worker::record_request(PoolCounters* pool, unsigned status, Clock::duration duration,
                            Clock::time_point now, bool tunnel) {
    if (!settings_->server.metrics) return;
    const std::size_t code = status < kStatusCodes ? status : 0;
    if (pool == nullptr) {
        ++counters_.unrouted[code];
        return;
    }
    PoolCounters& c = *pool;
    ++c.responses[code];
    if (tunnel) return;  // its duration is the tunnel's life, not a latency
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration);
    const auto us =
        micros.count() < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(micros.count());
    const auto outcome = status >= 500 ? RequestOutcome::error : RequestOutcome::ok;
    c.duration.record(us);
    c.last_10s.record(now, us, outcome);
    c.last_60s.record(now, us, outcome);
}

void Worker::record_step(PoolCounters& pool, std::uint64_t window, unsigned status,
                         std::int64_t response_us) {
    // A request placed under an earlier window (the step moved while it
    // ran) or that got no status (the client left first) says nothing about
    // the current step.
    if (window != step_window_ || status < 100) return;
    if (pool.step_window != window) {
        pool.step = StepCounts{};
        pool.step_window = window;
    }
    const auto outcome = status >= 500 ? RequestOutcome::error : RequestOutcome::ok;
    std::optional<std::uint64_t> latency;
    if (response_us >= 0) latency = static_cast<std::uint64_t>(response_us);
    pool.step.record(outcome, latency);
}

void Worker::set_step_window(std::uint64_t id, std::function<void()> applied) {
    asio::post(io_, [this, id, applied = std::move(applied)] {
        step_window_ = id;
        if (applied) applied();
    });
}

void Worker::collect_step_window(std::function<void(StepWindow)> done) {
    asio::post(io_, [this, done = std::move(done)] {
        StepWindow window;
        window.id = step_window_;
        if (step_window_ != 0)
            for (const auto& [name, c] : pool_counters_)
                if (c.step_window == step_window_) window.pools.emplace(name, c.step);
        done(std::move(window));
    });
}

namespace {
template <typename Counts, typename Map>
void copy_nonzero(const Counts& counts, Map& out) {
    for (std::size_t i = 0; i < counts.size(); ++i)
        if (counts[i] != 0) out[static_cast<unsigned>(i)] += counts[i];
}
}  // namespace

void Worker::collect(bool traffic, std::function<void(WorkerStats)> done) {
    asio::post(io_, [this, traffic, done = std::move(done)] {
        WorkerStats stats;
        for (const auto& [id, load] : loads_) {
            ServerStats& s = stats.servers.emplace_back();
            s.pool = load.pool;
            s.address = load.address;
            s.inflight = load.inflight;
            s.tunnels = load.tunnels;
            s.idle_connections = static_cast<std::int64_t>(upstreams_.idle_count(id));
            s.attempts = load.attempts;
            s.failures = load.failures;
            s.limited = load.limited;
            s.responses = load.responses;
            for (std::size_t k = 0; k < load.errors.size(); ++k)
                if (load.errors[k] != 0)
                    s.errors[std::string(to_string(static_cast<ErrorKind>(k)))] = load.errors[k];
        }
        const auto now = Clock::now();
        for (const auto& [name, c] : pool_counters_) {
            PoolStats& p = stats.pools.emplace_back();
            p.pool = name;
            p.retries = c.retries;
            p.budget_exhausted = c.budget_exhausted;
            p.canary_failovers = c.canary_failovers;
            p.fallbacks = c.fallbacks;
            if (!traffic) continue;
            copy_nonzero(c.responses, p.responses);
            p.duration = c.duration;
            p.upstream_connect = c.upstream_connect;
            p.upstream_response = c.upstream_response;
            p.last_10s = c.last_10s.snapshot(now, std::chrono::seconds(10));
            p.last_60s = c.last_60s.snapshot(now, std::chrono::seconds(60));
        }
        ConnectionStats& k = stats.connections;
        k.accepted = counters_.accepted;
        k.tls_handshake_failures = counters_.tls_handshake_failures;
        k.upstream_open = counters_.upstream_open;
        k.upstream_opened = counters_.upstream_opened;
        copy_nonzero(counters_.unrouted, k.unrouted);
        const http::H2Counters& h2 = counters_.h2;
        k.http2_connections = counters_.h2_connections;
        k.http2_streams = h2.streams;
        k.http2_client_resets = h2.client_resets;
        for (const auto& [kind, n] :
             {std::pair<const char*, std::uint64_t>{"refused_stream", h2.refused_streams},
              {"header_list_too_large", h2.header_list_too_large},
              {"rapid_reset", h2.rapid_reset},
              {"continuation_flood", h2.continuation_flood},
              {"hpack_bomb", h2.hpack_bomb},
              {"settings_flood", h2.settings_flood},
              {"ping_flood", h2.ping_flood},
              {"stream_flood", h2.stream_flood},
              {"protocol_error", h2.protocol_error},
              {"stalled_stream", counters_.h2_stalled_streams}})
            if (n > 0) k.http2_defences[kind] = n;
        stats.flag_requests.insert(flag_requests_.begin(), flag_requests_.end());
        stats.shadow_requests.insert(shadow_.counts.begin(), shadow_.counts.end());
        stats.diff = diff_;
        done(std::move(stats));
    });
}

void Worker::cut_pool(std::string pool, std::uint64_t generation,
                      std::function<void(std::size_t)> done) {
    asio::post(io_, [this, pool = std::move(pool), generation, done = std::move(done)] {
        std::size_t cut = 0;
        for (TimedSession* s = sessions_; s != nullptr;) {
            TimedSession* next = s->next_;  // cutting may unlink it
            if (s->cut_if_on_pool(pool, generation)) ++cut;
            s = next;
        }
        if (done) done(cut);
    });
}

void Worker::begin_shutdown(Clock::time_point deadline) {
    asio::post(io_, [this, deadline] {
        if (shutting_down_) return;
        shutting_down_ = true;
        shutdown_deadline_ = deadline;
        idle_close_at_ = std::min(deadline, Clock::now() + kShutdownIdleGrace);
        for (auto& a : acceptors_)
            a->stop_after_backlog();
        acceptors_.clear();
        // No more hand-offs from here (release: they were posted before).
        shared_.accepting_workers.fetch_sub(1, std::memory_order_acq_rel);
        upstreams_.clear();
        // on_shutdown() may unlink the session it is called on.
        for (TimedSession* s = sessions_; s != nullptr;) {
            TimedSession* next = s->next_;
            s->on_shutdown();
            s = next;
        }
        maybe_finish_shutdown();
    });
}

void Worker::maybe_finish_shutdown() {
    if (!shutting_down_) return;
    // A peer still accepting may hand us a connection: wait for it (the
    // tick checks again).
    if (session_count_ == 0 && shared_.accepting_workers.load(std::memory_order_acquire) <= 0) {
        tick_.cancel();
        tick_running_ = false;
        hangups_.stop();
        finished_ = true;
        work_.reset();
        return;
    }
    if (Clock::now() >= shutdown_deadline_) {
        // Drain time is over: what is still open is cut; the sessions end
        // through their own handlers, and the last one ends the thread.
        for (TimedSession* s = sessions_; s != nullptr;) {
            TimedSession* next = s->next_;
            s->on_force_close();
            s = next;
        }
    }
}

void Worker::run_tick() {
    tick_running_ = true;
    tick_.expires_after(kTick);
    tick_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        auto now = Clock::now();
        update_clock_strings();
        for (TimedSession* s = sessions_; s != nullptr;) {
            TimedSession* next = s->next_;
            s->on_tick(now);
            s = next;
        }
        if (!slot_waiters_.empty()) wake_slot_waiters(now);
        upstreams_.sweep(now, settings_->timeouts.upstream_idle);
        access_log_buffer_.flush();
        maybe_finish_shutdown();
        if (!finished_) run_tick();
    });
}

void Worker::update_clock_strings() {
    auto now = std::chrono::system_clock::now();
    std::int64_t sec =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (sec == clock_second_) return;
    clock_second_ = sec;
    date_field_ = http::make_date_field(sec);
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    log_time_.assign(buf, n);
}

std::unique_ptr<RequestSpace> Worker::take_request_space() {
    if (spare_request_spaces_.empty()) return std::make_unique<RequestSpace>();
    auto space = std::move(spare_request_spaces_.back());
    spare_request_spaces_.pop_back();
    return space;
}

void Worker::give_back(std::unique_ptr<RequestSpace> space) {
    if (!space || spare_request_spaces_.size() >= kSpareRequestSpaces) return;
    space->parser.reset();
    space->h2.clear();
    spare_request_spaces_.push_back(std::move(space));
}

boost::beast::flat_buffer Worker::take_read_buffer() {
    if (spare_read_buffers_.empty()) return {};
    boost::beast::flat_buffer buffer = std::move(spare_read_buffers_.back());
    spare_read_buffers_.pop_back();
    return buffer;
}

void Worker::give_read_buffer(boost::beast::flat_buffer&& buffer) {
    boost::beast::flat_buffer taken = std::move(buffer);  // the caller's is empty either way
    constexpr std::size_t kLargest = 16 * 1024;
    if (taken.capacity() == 0 || taken.capacity() > kLargest ||
        spare_read_buffers_.size() >= kSpareReadBuffers)
        return;
    taken.clear();
    spare_read_buffers_.push_back(std::move(taken));
}

void Worker::next_request_id(std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t a = request_id_prefix_ ^ (static_cast<std::uint64_t>(id_) << 56);
    std::uint64_t b = ++request_counter_;
    out.resize(32);
    for (int i = 15; i >= 0; --i, a >>= 4)
        out[static_cast<std::size_t>(i)] = hex[a & 0xf];
    for (int i = 31; i >= 16; --i, b >>= 4)
        out[static_cast<std::size_t>(i)] = hex[b & 0xf];
}

void Worker::report_outcome(const ServerState& server, const std::string& pool,
                            PassiveResult result) {
    if (!shared_.report_upstream) return;
    if (result.outcome == PassiveOutcome::success) {
        if (last_failed_.erase(server.id) == 0) return;  // nothing to reset
    } else {
        last_failed_.insert(server.id);
    }
    shared_.report_upstream(pool, server.address, result);
}

void Worker::link(TimedSession* s) {
    s->prev_ = nullptr;
    s->next_ = sessions_;
    if (sessions_ != nullptr) sessions_->prev_ = s;
    sessions_ = s;
    ++session_count_;
    // A connection handed over after this worker drained its own (shutting
    // down) needs the tick again for its deadlines.
    finished_ = false;
    if (!tick_running_) run_tick();
}

void Worker::unlink(TimedSession* s) {
    if (s->prev_ != nullptr)
        s->prev_->next_ = s->next_;
    else if (sessions_ == s)
        sessions_ = s->next_;
    if (s->next_ != nullptr) s->next_->prev_ = s->prev_;
    s->prev_ = s->next_ = nullptr;
    --session_count_;
    if (shutting_down_ && session_count_ == 0) asio::post(io_, [this] { maybe_finish_shutdown(); });
}

}  // namespace switchyard::proxy

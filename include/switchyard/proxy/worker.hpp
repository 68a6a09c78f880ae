// Worker: one thread running one io_context (thread per core).
//
// A worker owns everything its sessions touch on the request path: its
// routing snapshot, balancer state, upstream connection pool, access log
// buffer, request-id generator and the coarse deadline tick. Nothing here is
// shared with other workers, so the request path takes no lock. The control
// thread talks to a worker only by posting to its io_context.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchyard/core/latency_buckets.hpp"
#include "switchyard/core/latency_histogram.hpp"
#include "switchyard/core/outlier_policy.hpp"
#include "switchyard/core/retry_budget.hpp"
#include "switchyard/core/router.hpp"
#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/shadow_backoff.hpp"
#include "switchyard/core/traffic_stats.hpp"
#include "switchyard/http/h2_connection.hpp"
#include "switchyard/http/tls_context.hpp"
#include "switchyard/proxy/access_log.hpp"
#include "switchyard/proxy/proxy_error.hpp"
#include "switchyard/proxy/server_slots.hpp"
#include "switchyard/proxy/upstream_connection_pool.hpp"

namespace switchyard::proxy {

class Acceptor;

// What a listener tells its sessions. Immutable; shared by all workers.
struct ListenerContext {
    std::string name;  // the configured address
    std::vector<Cidr> trusted_proxies;
    ForwardedHeader forwarded = ForwardedHeader::append;
    bool proxy_protocol = false;  // every connection starts with a PROXY header
    bool tls = false;
    // The listener's certificates (tls = true); a reload builds new ones, and
    // a connection keeps the context it was accepted with.
    std::shared_ptr<const http::ServerTlsContext> tls_context{};
    // The protocols it speaks (listeners.protocols): HTTP/2 (h2 by ALPN on
    // TLS, h2c by prior knowledge on plain) and HTTP/1.1; and HTTP/2's limits.
    bool h2 = false;
    bool http1 = true;
    http::H2Limits h2_limits{};
};

using http::UpstreamTlsMap;

// Things that outlive the workers and are safe to use from any thread.
struct WorkerShared {
    std::shared_ptr<spdlog::logger> log;
    AccessLogWriter* access_log = nullptr;
    std::atomic<std::int64_t> open_connections{0};  // client connections, all workers
    // Workers that may still hand accepted connections to peers; a worker
    // that drained ends only once this is 0. Set to the worker count.
    std::atomic<int> accepting_workers{0};
    // Passive health reports (any worker thread; posts to the control
    // thread). Empty: not reported.
    std::function<void(std::string pool, std::string address, PassiveResult result)>
        report_upstream;
    // Per-server request limits, shared by all workers.
    ServerSlots slots;
    // Records of differing mirrored answers (shadow.diff.log), JSON lines;
    // nullptr: the error log. The minute they are counted in and how many
    // were written in it, against shadow.diff.log_per_minute.
    std::shared_ptr<spdlog::logger> diff_log;
    std::atomic<std::int64_t> diff_log_minute{-1};
    std::atomic<std::uint32_t> diff_log_written{0};
};

// Requests in flight and tunnels open to one upstream server (by identity),
// on one worker, and what happened to them. Exact: sessions hold an
// InflightCount, whose destructor gives the count back however the request
// ended. The counters are the worker's own (no atomics); status sums them.
struct ServerLoad {
    std::string pool;
    std::string address;
    ServerSlots::Slot* slot = nullptr;  // the server's shared limit count
    std::int64_t inflight = 0;
    std::int64_t tunnels = 0;
    std::uint64_t attempts = 0;  // requests sent to it, retries included
    std::uint64_t failures = 0;  // connect failures, resets, timeouts, bad responses
    std::uint64_t limited = 0;   // requests refused or queued at max_connections_per_server
    std::array<std::uint64_t, 5> responses{};             // by class, 1xx .. 5xx
    std::array<std::uint64_t, kErrorKindCount> errors{};  // failed attempts by kind
};

// Status codes have three digits: counters indexed by code, no lookup.
inline constexpr std::size_t kStatusCodes = 1000;
using StatusCounts = std::array<std::uint64_t, kStatusCodes>;

// Per pool, on one worker: the retry budget, what routing did, and the
// pool's traffic (statuses, latency), all owned by the worker.
struct PoolCounters {
    PoolCounters(std::uint32_t percent, Clock::time_point start)
        : budget(percent),
          last_10s(std::chrono::seconds(1), 10, start),
          last_60s(std::chrono::seconds(10), 6, start) {}
    RetryBudget budget;
    std::uint32_t budget_percent = 20;
    std::uint64_t retries = 0;           // attempts on another server
    std::uint64_t budget_exhausted = 0;  // retries refused by the budget
    std::uint64_t canary_failovers = 0;  // canary share served by the active pool
    std::uint64_t fallbacks = 0;         // served by the previous pool (on_unhealthy)
    StatusCounts responses{};
    LatencyBuckets duration;
    LatencyBuckets upstream_connect;
    LatencyBuckets upstream_response;
    // Two rings (see WindowedHistogram): 10 × 1 s and 6 × 10 s.
    WindowedHistogram last_10s;
    WindowedHistogram last_60s;
    // The ramp's analysis window this pool counted in `step`; a new window
    // starts it afresh on its first request (no pass over the pools).
    std::uint64_t step_window = 0;
    StepCounts step;
};

// Counters of one worker that belong to no pool.
struct WorkerCounters {
    std::uint64_t accepted = 0;  // client connections this worker served
    std::uint64_t tls_handshake_failures = 0;
    std::int64_t upstream_open = 0;  // UpstreamConnections alive
    std::uint64_t upstream_opened = 0;
    StatusCounts unrouted{};               // requests answered before a pool was chosen
    std::uint64_t h2_connections = 0;      // client connections that chose HTTP/2
    std::uint64_t h2_stalled_streams = 0;  // reset after timeouts.send on a zero window
    http::H2Counters h2{};                 // HTTP/2 streams and defences, summed
};

// Mirrored requests of one worker (DESIGN.md "Dark launch"): what is in
// flight and buffered now, against shadow.max_inflight and shadow.memory,
// and what became of every sampled request, by shadow pool.
struct ShadowLoad {
    std::uint32_t inflight = 0;
    std::uint64_t bytes = 0;  // request bytes copied and not yet written to the shadow
    std::map<std::string, ShadowCounts, std::less<>> counts;
    // Copies to `backoff_pool` pause while it keeps failing.
    ShadowBackoff backoff;
    std::string backoff_pool;
    void count(std::string_view pool, ShadowResult result);
};

class Worker;
struct RequestSpace;

class InflightCount {
  public:
    InflightCount() = default;
    InflightCount(const InflightCount&) = delete;
    InflightCount& operator=(const InflightCount&) = delete;
    ~InflightCount() { reset(); }
    // Counts a request to (pool, server) of the snapshot `snapshot`, both in
    // the server's exact drain count and in the balancer's load (which only
    // takes the decrement back while that snapshot is current). With
    // `holds_slot`, the request holds one of the server's limited slots,
    // given back (and waiters woken) when it ends.
    void start(Worker& worker, ServerLoad& load, std::uint64_t snapshot, int pool, int server,
               bool holds_slot);
    // The request became a tunnel: it now counts as one.
    void to_tunnel() {
        if (load_ == nullptr || tunnel_) return;
        --load_->inflight;
        ++load_->tunnels;
        tunnel_ = true;
    }
    void reset();
    const ServerLoad* load() const { return load_; }

  private:
    Worker* worker_ = nullptr;
    ServerLoad* load_ = nullptr;
    std::uint64_t snapshot_ = 0;
    int pool_ = -1;
    int server_ = -1;
    bool tunnel_ = false;
    bool holds_slot_ = false;
};

// A session with deadlines, linked into its worker's tick list.
class TimedSession {
  public:
    virtual ~TimedSession() = default;
    // Called by the worker's tick (every ~100 ms) with the current time.
    virtual void on_tick(Clock::time_point now) = 0;
    // Graceful stop: close if idle, else finish the current response with
    // Connection: close.
    virtual void on_shutdown() = 0;
    // Drain time is over: close everything now.
    virtual void on_force_close() = 0;
    // The drain that routing generation `generation` began on `pool` ran out
    // (`switch drain=D`): close if a request or tunnel is on `pool` and
    // started under an older generation. One that started later (the pool
    // was made active again meanwhile) belongs to no drain of that change.
    virtual bool cut_if_on_pool(std::string_view pool, std::uint64_t generation) = 0;
    // Waiting for a server slot (max_pending_per_server): try again. True
    // once it no longer waits (it got a slot, or was answered or closed).
    virtual bool retry_slot(Clock::time_point /*now*/) { return true; }

  private:
    friend class Worker;
    TimedSession* prev_ = nullptr;
    TimedSession* next_ = nullptr;
};

class Worker {
  public:
    Worker(unsigned id, WorkerShared& shared, std::shared_ptr<const Settings> settings,
           std::shared_ptr<const RoutingState> routing);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // --- Control thread (thread-safe) ---------------------------------------
    // All workers of the process, this one included; set before start(). A
    // worker that accepts a connection hands it to the least loaded of them.
    void set_peers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
    // `on_exit` runs on the worker's thread when it has finished (after a
    // shutdown), so the control thread can learn it without blocking.
    void start(std::function<void()> on_exit = nullptr);
    // Takes ownership of `fd` (a listening socket, already a duplicate).
    void add_listener(int fd, std::shared_ptr<const ListenerContext> listener);
    // Stops accepting on the listener named `name` (closing this worker's
    // duplicate); connections already accepted are not touched.
    void remove_listener(std::string name);
    // Publishes new snapshots; `applied` runs on this worker's thread once
    // every request that starts from now on sees them.
    void publish(std::shared_ptr<const Settings> settings,
                 std::shared_ptr<const RoutingState> routing,
                 std::shared_ptr<const UpstreamTlsMap> upstream_tls, std::function<void()> applied);
    // Stops accepting, lets in-flight requests finish (until `deadline`, then
    // cuts them), and ends the thread.
    void begin_shutdown(Clock::time_point deadline);
    // Counts per server and pool, delivered on this worker's thread to
    // `done`; the pools' histograms only with `traffic`.
    void collect(bool traffic, std::function<void(WorkerStats)> done);
    // Closes what is still on `pool` (requests and tunnels) from before
    // routing generation `generation`; `done` gets the count.
    void cut_pool(std::string pool, std::uint64_t generation,
                  std::function<void(std::size_t)> done);
    // The ramp's analysis window: from when `applied` runs, requests the
    // canary split places are counted under `id` (0: not counted).
    void set_step_window(std::uint64_t id, std::function<void()> applied);
    // This worker's counts of the current window, on its thread.
    void collect_step_window(std::function<void(StepWindow)> done);
    void join();

    // --- Worker thread --------------------------------------------------------
    boost::asio::io_context& io() { return io_; }
    unsigned id() const { return id_; }
    const std::shared_ptr<const Settings>& settings() const { return settings_; }
    const std::shared_ptr<const RoutingState>& routing() const { return routing_; }
    // The upstream TLS context of `pool`, or nullptr (plain TCP).
    std::shared_ptr<const http::UpstreamTlsContext> upstream_tls(std::string_view pool) const;
    BalancerState& balancer() { return balancer_; }
    Random& random() { return random_; }
    UpstreamConnectionPool& upstreams() { return upstreams_; }
    AccessLogBuffer& access_log() { return access_log_buffer_; }
    spdlog::logger& log() { return *shared_.log; }
    WorkerShared& shared() { return shared_; }
    bool shutting_down() const { return shutting_down_; }
    // Shutting down, connections without a request in progress are closed
    // at this time: a grace for a request already on its way.
    Clock::time_point idle_close_at() const { return idle_close_at_; }
    static constexpr std::chrono::milliseconds kShutdownIdleGrace{1000};

    // Cached per second: "Date: ...\r\n" and the access log's time stamp.
    std::string_view date_field() const { return date_field_; }
    std::string_view log_time() const { return log_time_; }
    // The Via entry this proxy adds to a message it received as HTTP/1.x:
    // "1.1 <server.via_name>", or "1.0 <…>" for HTTP/1.0 (RFC 9110 §7.6.3:
    // the protocol of the message as received).
    // Our Via entry for a message received as HTTP/`version` (10, 11, 20).
    std::string_view via(unsigned version) const {
        return version == 10 ? via10_ : version == 20 ? via20_ : via_;
    }
    // 32 hex digits, unique per process run (worker id, random prefix, counter).
    void next_request_id(std::string& out);

    // The load entry of a server (created on first use; never erased, so
    // references stay valid).
    ServerLoad& load_for(const ServerState& server, const std::string& pool);
    // Does this server still take new requests in the current snapshot? A
    // connection to one that does not is never returned to the idle pool.
    bool server_is_live(std::uint64_t server_id) const {
        return live_servers_.count(server_id) > 0;
    }

    // The outcome of one request to `server` of `pool`, for outlier
    // detection: failures are reported, and a success only after a failure.
    void report_outcome(const ServerState& server, const std::string& pool, PassiveResult result);

    // The retry budget and counters of `pool` (an index into `state`, the
    // snapshot a request pinned). Kept by pool name across snapshots.
    PoolCounters& pool_counters(const RoutingState& state, int pool);
    // A request the router gave `flags` (Decision::flags of `state`, the
    // snapshot it pinned): counted per flag name.
    void count_flags(const RoutingState& state, std::uint64_t flags);
    ShadowLoad& shadow() { return shadow_; }
    // Compared answers of mirrored requests (shadow.diff), by route.
    DiffTable& diff_table() { return diff_; }
    // Forgets the compared answers (`diff reset`); `done` runs on this thread.
    void reset_diff(std::function<void()> done);
    // May one more differing pair be logged this minute (all workers)?
    bool take_diff_log_slot();
    void log_diff(std::string_view line);
    // A finished request (the access log's moment): its status, counted
    // for its pool (`pool`, from pool_counters()), or as unrouted when
    // nullptr; its duration goes into the pool's histograms unless it was a
    // tunnel.
    void record_request(PoolCounters* pool, unsigned status, Clock::duration duration,
                        Clock::time_point now, bool tunnel);
    // The window a request the canary split places now counts in (0: none).
    std::uint64_t step_window() const { return step_window_; }
    // A finished request placed by the canary split under `window`: counted
    // for the ramp's analysis if that window is still the current one.
    // `response_us` < 0: not timed (a tunnel, no response head).
    void record_step(PoolCounters& pool, std::uint64_t window, unsigned status,
                     std::int64_t response_us);
    WorkerCounters& counters() { return counters_; }

    // Space for one request of a client connection (see RequestSpace),
    // and back when the request ended: kept for the next one (up to
    // kSpareRequestSpaces), emptied of the parser.
    std::unique_ptr<RequestSpace> take_request_space();
    void give_back(std::unique_ptr<RequestSpace> space);
    static constexpr std::size_t kSpareRequestSpaces = 1024;
    // The read buffer of a keep-alive connection, lent from the first byte
    // of a request to its end (an idle one holds none; see
    // http::LentBuffer). Kept for the next: up to kSpareReadBuffers, of at
    // most 16 KiB each; an empty one is not worth keeping.
    boost::beast::flat_buffer take_read_buffer();
    void give_read_buffer(boost::beast::flat_buffer&& buffer);
    static constexpr std::size_t kSpareReadBuffers = 1024;
    // Where connections read what they discard (a lingering close): shared,
    // as nobody reads it back.
    boost::asio::mutable_buffer discard_buffer() { return boost::asio::buffer(discard_); }

    // A request waits for a slot of a server at its limit; retried on every
    // tick and whenever a slot is given back on this worker.
    void wait_for_slot(std::shared_ptr<TimedSession> session);
    void slot_released();

    void link(TimedSession* s);
    void unlink(TimedSession* s);

    // Client connections assigned to this worker (counted when handed over,
    // so a burst of accepts spreads evenly). Read by other workers.
    std::atomic<std::int64_t>& assigned_connections() { return assigned_; }
    // Serves a connection one of this worker's acceptors took (and counted
    // in Shared::open_connections): here, or on the least loaded peer.
    void place(boost::asio::ip::tcp::socket socket,
               boost::asio::ip::tcp::socket::protocol_type protocol,
               std::shared_ptr<const ListenerContext> listener);
    // Adopts a connection another worker accepted.
    void adopt(boost::asio::ip::tcp::socket::protocol_type protocol, int fd,
               std::shared_ptr<const ListenerContext> listener);

  private:
    void run_tick();
    void wake_slot_waiters(Clock::time_point now);
    void apply_snapshot();
    void update_clock_strings();
    void maybe_finish_shutdown();

    unsigned id_;
    WorkerShared& shared_;
    // Before io_: sessions destroyed with io_'s handlers still count down.
    WorkerCounters counters_;
    // Only this worker's thread runs handlers and touches its sockets; other
    // threads only post. So the reactor's per-descriptor locking can go
    // (posting keeps its lock).
    boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    boost::asio::steady_timer tick_;
    bool tick_running_ = false;
    bool finished_ = false;  // drained after a shutdown: the thread may end

    std::shared_ptr<const Settings> settings_;
    std::shared_ptr<const RoutingState> routing_;
    std::shared_ptr<const UpstreamTlsMap> upstream_tls_ = std::make_shared<const UpstreamTlsMap>();
    BalancerState balancer_;
    SplitMix64 random_;
    HangupWatch hangups_{io_};
    UpstreamConnectionPool upstreams_{&hangups_};
    AccessLogBuffer access_log_buffer_;
    std::vector<std::shared_ptr<Acceptor>> acceptors_;
    std::vector<Worker*> peers_;
    std::unordered_map<std::uint64_t, ServerLoad> loads_;
    // Rate windows count from here: a pool that had no request yet had none
    // since the worker started, so its first rates are not inflated.
    Clock::time_point started_at_ = Clock::now();
    std::unordered_map<std::string, PoolCounters> pool_counters_;
    std::vector<PoolCounters*> pool_index_;  // pool_counters_ by the current snapshot's index
    std::map<std::string, std::uint64_t, std::less<>> flag_requests_;  // by flag name
    ShadowLoad shadow_;
    DiffTable diff_;
    std::uint64_t step_window_ = 0;
    std::vector<std::shared_ptr<TimedSession>> slot_waiters_;  // oldest first
    bool wake_posted_ = false;
    std::unordered_set<std::uint64_t> live_servers_;
    std::unordered_set<std::uint64_t> last_failed_;  // servers whose last report was a failure
    std::atomic<std::int64_t> assigned_{0};

    std::vector<std::unique_ptr<RequestSpace>> spare_request_spaces_;
    std::array<char, 4096> discard_;
    std::vector<boost::beast::flat_buffer> spare_read_buffers_;

    TimedSession* sessions_ = nullptr;
    std::size_t session_count_ = 0;

    std::int64_t clock_second_ = -1;
    std::string date_field_;
    std::string log_time_;
    std::string via_;
    std::string via10_;
    std::string via20_;
    std::uint64_t request_id_prefix_;
    std::uint64_t request_counter_ = 0;

    bool shutting_down_ = false;
    Clock::time_point shutdown_deadline_{};
    Clock::time_point idle_close_at_ = Clock::time_point::max();
};

}  // namespace switchyard::proxy

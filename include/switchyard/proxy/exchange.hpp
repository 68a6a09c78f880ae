// Exchange: one request of a client connection, from its head to its
// access-log line.
//
// The session creates one when a request head has been read (or must be
// answered without one: a malformed head, a head that timed out) and drops
// it when the request ends, so nothing of a request outlives it and nothing
// is reset by hand. It pins the routing snapshot and settings, holds the
// decision, the server choice, the retries, the timings and the outcome,
// and drives the request through its phases: answer it here or route it
// (Router::decide on routing_view()), choose a server within the pool's
// limits, try it (an UpstreamExchange per try, retried by the one retry
// rule), relay the body both ways (the client side through its session),
// tunnel after a 101, and write the access record once.
#pragma once

#include <boost/asio/buffer.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/router.hpp"
#include "switchyard/http/body_pump.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/proxy/client_side.hpp"
#include "switchyard/proxy/exchange_buffers.hpp"
#include "switchyard/proxy/shadow_exchange.hpp"
#include "switchyard/proxy/tunnel.hpp"
#include "switchyard/proxy/upstream_exchange.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class Exchange final : public UpstreamExchange::Listener {
  public:
    using error_code = boost::system::error_code;

    // `buffers`: the connection's, emptied for this request (only their
    // capacity is kept from the previous one).
    Exchange(ClientSide& downstream, Worker& worker, std::shared_ptr<const Settings> settings,
             Clock::time_point started, RequestBuffers& buffers);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // A complete request head: answered here, or routed and forwarded. Its
    // views are not used after this returns.
    void begin(const http::RequestHeadParser& head);
    // Answers with a response made by the proxy and ends the request;
    // `error` is what the log says went wrong (none for a refusal).
    void respond_local(unsigned status, ErrorKind error);
    // The connection closes after this response.
    void close_after_response() { close_after_ = true; }

    bool response_started() const { return response_started_; }
    bool in_tunnel() const { return in_tunnel_; }
    Tunnel* tunnel() { return tunnel_.get(); }
    // The tunnel ended (both sides closed, a failure, tunnel_idle): logged
    // and closed.
    void end_tunnel();
    // The session's tick: the upstream side's deadline.
    void on_tick(Clock::time_point now);
    // Queued for a server slot: see TimedSession::retry_slot.
    bool retry_slot(Clock::time_point now);
    // On `pool` (a request or tunnel) and started before routing generation
    // `generation`: the drain that generation began may cut it.
    bool started_on_pool_before(std::string_view pool, std::uint64_t generation) const;
    // Ends it now (drain deadline, forced close): logged with `error` unless
    // it was logged already; the session closes.
    void cut(ErrorKind error);
    // The connection is closing: leave the slot queue, give back the counts,
    // close the upstream side. Nothing is logged.
    void abandon();

    // UpstreamExchange::Listener
    void on_upstream_ready() override;
    void on_upstream_sent(std::size_t n) override;
    void on_response_head(const http::ResponseHeadParser& head) override;
    void on_response_body() override;
    void on_response_end() override;
    void on_upstream_failed(ErrorKind kind) override;

  private:
    const PoolState& pool() const { return routing_->pools[static_cast<std::size_t>(pool_index_)]; }
    bool upload_done() const { return upload_pump_.done(); }

    // Routing and the server choice
    void resolve_client(const http::RequestHeadParser& head);
    bool claim_server(int server);
    void use_server(int server, bool holds_slot);
    void leave_slot_queue();

    // Tries and the retry rule
    void try_upstream(bool fresh);
    bool retry_elsewhere(ErrorKind kind);
    void resend();
    void release_upstream(bool reusable);

    // Request body: client → upstream
    void upload_continue();
    bool body_over_limit() const;
    void refuse_body();
    void keep_for_replay(std::size_t first_piece);
    // Dark launch: the copy for the shadow pool, and its body as it streams.
    // (exchange_mirror.cpp)
    void start_mirror(const http::Framing& framing, const Decision& d);
    void feed_mirror(std::size_t first_piece);
    void on_body_read(error_code ec, std::size_t n);

    // Response: upstream → client
    void on_interim_written(error_code ec, std::size_t n);
    void on_body_written(error_code ec, std::size_t n);

    // WebSocket tunnel after a 101
    void start_tunnel();
    void on_tunnel_opened(error_code ec, std::size_t n);

    // Ending
    void send_local(unsigned status);
    void on_local_written(error_code ec, std::size_t n);
    void maybe_finish();
    void finish();
    void log();
    void report_attempt(ErrorKind error, unsigned status);

    ClientSide& downstream_;  // the client side: an HTTP/1.1 connection or an HTTP/2 stream
    Worker& worker_;
    std::shared_ptr<const Settings> settings_;
    // The heads, request id and write lists: the connection's buffers, this
    // request's contents.
    RequestBuffers& buf_;

    // The request
    std::string method_;
    std::string target_;
    bool new_request_id_ = false;
    bool head_request_ = false;
    bool http10_ = false;
    bool upgrade_requested_ = false;
    bool close_after_ = false;  // the connection closes after this response
    // The client: the peer, or from a trusted proxy the last untrusted
    // X-Forwarded-For entry. Logged; client_ip_ is the sticky client_ip key.
    std::string client_;
    std::string client_ip_;
    std::string set_cookie_;  // "Set-Cookie: ...\r\n" for a newly assigned user

    // The snapshot and decision the request pins for its whole life
    std::shared_ptr<const RoutingState> routing_;
    int pool_index_ = -1;
    PoolCounters* counters_ = nullptr;  // pool_index_'s (the worker keeps them)
    // Placed by the canary split (not an override, failover or fallback)
    // while the ramp counted this analysis window: counted for it (0: not).
    std::uint64_t step_window_ = 0;
    int server_index_ = -1;
    const ServerState* server_ = nullptr;
    std::int32_t bucket_ = -1;   // the user's bucket; -1: no routing decision
    std::vector<int> tried_;     // servers of the pool this request failed on
    std::vector<int> skip_;      // tried_ plus servers at their limit (claim_server)
    std::uint32_t retries_ = 0;  // attempts on another server
    unsigned resends_ = 0;       // every resend (stale connection or another server)
    bool stale_retried_ = false;
    bool waiting_slot_ = false;  // queued for a slot of server wait_server_
    int wait_server_ = -1;
    Clock::time_point wait_until_{};
    InflightCount inflight_;  // the server's count while the request or tunnel lasts

    // The current try, and what it sends
    std::shared_ptr<UpstreamExchange> up_;
    std::string up_head_;     // request head sent upstream (kept for a replay)
    std::string replay_;      // request body bytes sent so far, while they fit retry_buffer
    bool replayable_ = true;  // everything sent upstream is in up_head_ + replay_
    http::BodyPump upload_pump_;
    std::size_t upload_consumed_ = 0;  // client bytes the pieces being sent use
    // The mirrored copy while it still takes body bytes from this request.
    std::shared_ptr<ShadowExchange> mirror_;
    // The answers being compared (shadow diff), while the primary's streams.
    std::shared_ptr<DiffPair> diff_;

    // The response
    boost::asio::const_buffer head_buffer_[1];
    bool response_started_ = false;  // a response byte went to the client
    bool response_done_ = false;
    bool was_tunnel_ = false;  // it became a tunnel (not timed as a request)
    bool in_tunnel_ = false;   // the tunnel is open
    std::unique_ptr<Tunnel> tunnel_;

    // The outcome
    Clock::time_point started_;
    std::int64_t connect_us_ = -1;   // set-up of a new upstream connection; -1: reused
    std::int64_t response_us_ = -1;  // request written → first response head
    unsigned status_ = 0;
    ErrorKind error_ = ErrorKind::none;
    std::uint64_t bytes_in_ = 0;
    std::uint64_t bytes_out_ = 0;
    bool logged_ = false;
};

}  // namespace switchyard::proxy

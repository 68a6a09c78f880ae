// ClientSession: one downstream HTTP/1.1 connection and the requests on it.
//
// A request goes through fixed phases: read the head, ask the Router for a
// pool and server, take a pooled upstream connection or connect, then run two
// legs at once: upload (client body → upstream) and download (response →
// client). Each leg streams through a BodyPump, so memory per connection is
// one read buffer per side whatever the body size. Client-side handlers carry
// the request number (seq_), upstream-side handlers the exchange number
// (exchange_, bumped by a retry): a completion from an earlier request or a
// failed exchange is ignored.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "switchyard/core/body_rate.hpp"
#include "switchyard/core/router.hpp"
#include "switchyard/http/body_pump.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/http/header_rules.hpp"
#include "switchyard/http/stream.hpp"
#include "switchyard/proxy/proxy_error.hpp"
#include "switchyard/proxy/upstream_pool.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class ClientSession final : public std::enable_shared_from_this<ClientSession>,
                            public TimedSession {
  public:
    ClientSession(Worker& worker, boost::asio::ip::tcp::socket socket,
                  std::shared_ptr<const ListenerContext> listener);
    ~ClientSession() override;

    void start();
    void on_tick(Clock::time_point now) override;
    void on_shutdown() override;
    void on_force_close() override;
    bool cut_if_on_pool(std::string_view pool, std::uint64_t generation) override;
    bool retry_slot(Clock::time_point now) override;

  private:
    using error_code = boost::system::error_code;

    struct Deadline {
        Clock::time_point at = Clock::time_point::max();
        ErrorKind kind = ErrorKind::none;  // what expiry means
        void arm(Clock::time_point now, Clock::duration d, ErrorKind k) {
            at = now + d;
            kind = k;
        }
        void clear() { at = Clock::time_point::max(); }
    };

    // PROXY protocol header (listeners with proxy_protocol = true)
    void read_proxy_header();
    // TLS listeners: the handshake (bytes already read are its first).
    void start_tls();
    // After the PROXY header and the TLS handshake, if any.
    void begin_http();
    void set_client(std::span<const std::uint8_t> ip, std::uint16_t port);

    // Request head
    void read_request();
    void on_head_read(error_code ec, std::size_t n);
    bool try_parse_head();
    void on_request_head();
    Decision decide(const http::RequestHeadParser& head, std::string_view host);

    // Server choice within the pool: limits, waiting, retries elsewhere
    bool claim_server(int server);
    void use_server(int server, bool holds_slot);
    void leave_slot_queue();
    bool may_resend(ErrorKind kind) const;
    bool retry_elsewhere(ErrorKind kind);
    void resend();
    const PoolState& pool() const { return routing_->pools[static_cast<std::size_t>(pool_index_)]; }

    // Upstream
    void acquire_upstream();
    void connect_upstream();
    void on_connected(error_code ec);
    void upstream_handshake(std::shared_ptr<const http::UpstreamTlsContext> tls);
    void start_exchange();
    void upstream_failed(ErrorKind kind);
    void maybe_finish();

    // Upload leg: client body → upstream
    void upload_continue();
    bool body_over_limit() const;
    void refuse_body();
    void on_upload_read(std::uint64_t seq, error_code ec, std::size_t n);
    void on_upload_written(std::uint64_t seq, error_code ec, std::size_t n);

    // Download leg: upstream response → client
    void download_read_head();
    void on_download_head_read(std::uint64_t seq, error_code ec, std::size_t n);
    bool try_parse_response_head();
    void on_response_head();
    void download_continue();
    void on_download_read(std::uint64_t seq, error_code ec, std::size_t n);
    void on_download_written(std::uint64_t seq, error_code ec, std::size_t n);

    // WebSocket tunnel after a 101: bytes both ways until both sides close
    void start_tunnel();
    void tunnel_step(bool to_upstream);
    void on_tunnel_read(bool to_upstream, error_code ec, std::size_t n);
    void tunnel_half_close(bool to_upstream);
    void end_tunnel();

    // Ending
    void respond_local(unsigned status, ErrorKind error);
    void send_response_head(unsigned status);
    void finish_request();
    void write_access_log();
    void report_attempt(ErrorKind error, unsigned status);
    void release_upstream(bool reusable);
    void close_gracefully();
    void close_now();

    bool upload_done() const { return upload_pump_.done(); }
    std::string_view in_view() const;
    std::string_view up_view() const;

    Worker& worker_;
    http::Stream client_;
    std::shared_ptr<const ListenerContext> listener_;
    // The peer as the connection shows it, or as a PROXY header states it.
    std::vector<std::uint8_t> peer_ip_;
    std::string client_ip_;    // peer_ip_ as text: appended to X-Forwarded-For
    std::string client_addr_;  // peer ip:port
    // The client of the current request: the peer, or from a trusted proxy
    // the last untrusted X-Forwarded-For entry. Logged; routes by client_ip.
    std::string request_client_;
    std::string request_client_ip_;  // the same without the port: sticky client_ip key
    bool peer_trusted_ = false;      // the peer is in the listener's trusted_proxies
    std::string set_cookie_;         // "Set-Cookie: ...\r\n" for a newly assigned user
    boost::beast::flat_buffer in_;
    std::vector<http::HeaderField> req_fields_;
    std::vector<http::HeaderField> resp_fields_;
    std::optional<http::RequestHeadParser> req_parser_;
    std::optional<http::ResponseHeadParser> resp_parser_;

    // The snapshot and decision a request pins for its whole life.
    std::shared_ptr<const RoutingState> routing_;
    std::shared_ptr<const Settings> settings_;
    const ServerState* server_ = nullptr;
    int pool_index_ = -1;
    PoolCounters* pool_counters_ = nullptr;  // pool_index_'s (the worker keeps them)
    int server_index_ = -1;
    std::vector<int> tried_;     // servers of the pool this request failed on
    std::vector<int> skip_;      // tried_ plus servers at their limit (claim_server)
    std::uint32_t retries_ = 0;  // attempts on another server
    unsigned resends_ = 0;       // every resend (stale connection or another server)
    bool stale_retried_ = false;
    bool waiting_slot_ = false;  // queued for a slot of server wait_server_
    int wait_server_ = -1;
    Clock::time_point wait_until_{};

    InflightCount inflight_;  // the pinned server's count while the request or tunnel lasts
    std::unique_ptr<UpstreamConnection> up_;
    bool up_reused_ = false;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;

    // Per request
    std::uint64_t seq_ = 0;
    std::uint64_t exchange_ = 0;
    bool in_request_ = false;
    bool head_started_ = false;
    bool request_was_head_ = false;
    bool client_http10_ = false;
    bool client_keep_alive_ = true;
    bool close_after_response_ = false;
    bool response_started_ = false;  // a response byte went to the client
    bool response_done_ = false;
    bool upstream_reusable_ = false;
    bool response_byte_received_ = false;
    bool upstream_failure_handled_ = false;
    bool replayable_ = true;  // everything sent upstream is in up_head_ + replay_
    bool upload_writing_ = false;
    bool upload_reading_ = false;
    bool upstream_ready_ = false;  // the exchange's first write completed
    bool closing_ = false;
    bool upgrade_requested_ = false;
    bool in_tunnel_ = false;
    bool tunnel_eof_[2] = {false, false};  // EOF read from the client, from the upstream
    std::uint64_t upstream_bytes_written_ = 0;
    std::size_t upload_consumed_ = 0;
    std::size_t download_consumed_ = 0;
    http::BodyPump upload_pump_;
    http::BodyPump download_pump_;
    std::vector<std::string_view> upload_pieces_;
    std::vector<std::string_view> download_pieces_;
    std::vector<boost::asio::const_buffer> upload_buffers_;
    std::vector<boost::asio::const_buffer> download_buffers_;
    std::string up_head_;    // request head sent upstream (kept for a replay)
    std::string replay_;     // request body bytes sent so far, while they fit retry_buffer
    std::string resp_head_;  // response head (or local response) sent to the client
    std::string request_id_;
    bool new_request_id_ = false;
    std::string log_method_;
    std::string log_target_;

    // Access log and metrics
    Clock::time_point started_{};
    Clock::time_point connect_started_{};   // the current upstream connection's
    Clock::time_point exchange_started_{};  // the request's write upstream began
    bool response_head_seen_ = false;       // this exchange's first response head arrived
    std::int32_t bucket_ = -1;              // the user's bucket; -1: no routing decision
    std::int64_t connect_us_ = -1;          // set-up of a new upstream connection; -1: reused
    std::int64_t response_us_ = -1;         // request written → first response head
    unsigned status_ = 0;
    ErrorKind error_ = ErrorKind::none;
    std::uint64_t bytes_in_ = 0;
    std::uint64_t bytes_out_ = 0;

    Deadline client_deadline_;
    Deadline upstream_deadline_;
    BodyRateMeter body_rate_;  // timeouts.client_body_min_rate, checked on the tick
    bool client_timed_out_ = false;
    bool upstream_timed_out_ = false;
    ErrorKind client_timeout_kind_ = ErrorKind::none;
    ErrorKind upstream_timeout_kind_ = ErrorKind::none;
    char linger_buf_[512];
};

}  // namespace switchyard::proxy

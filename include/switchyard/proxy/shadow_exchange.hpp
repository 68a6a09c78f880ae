// ShadowExchange: the mirrored copy of one request (DESIGN.md "Dark
// launch"), sent to a server of the shadow pool over that pool's own
// upstream connections, its answer read and discarded.
//
// The primary request never waits for it: the Exchange hands it the bytes
// it sends upstream (the head, then each piece of the body as the client's
// body streams) and goes on; the copy buffers what its server has not
// taken yet, within the worker's shadow.memory, and is dropped when it
// would exceed it, when the body passes shadow.max_body, or when
// shadow.timeout runs out. It counts in the worker's ShadowLoad only, never
// in a pool's counters or the ramp's analysis. It is linked into the
// worker's tick list for its deadlines and ends at once on a shutdown, so
// that a mirror never delays a drain or an upgrade.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/traffic_stats.hpp"
#include "switchyard/proxy/diff_pair.hpp"
#include "switchyard/proxy/upstream_exchange.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class ShadowExchange final : public UpstreamExchange::Listener,
                             public TimedSession,
                             public std::enable_shared_from_this<ShadowExchange> {
  public:
    // What the Exchange knows of the request when it decides to mirror it.
    struct Request {
        std::string_view method;
        std::string_view upstream_head;  // as written to the primary upstream
        bool has_body = false;
        // The body's length when Content-Length gave it; else unknown.
        std::optional<std::uint64_t> content_length;
        bool upgrade = false;  // a WebSocket upgrade: never mirrored
    };

    // Mirrors `request` to a server of routing.shadow.pool, or counts why
    // not (skipped_method, skipped_body, dropped_overload, error when the
    // pool has no usable server) and returns nullptr. With `diff`, its
    // answer is captured as the candidate side.
    static std::shared_ptr<ShadowExchange> start(Worker& worker,
                                                 std::shared_ptr<const Settings> settings,
                                                 std::shared_ptr<const RoutingState> routing,
                                                 const Request& request,
                                                 std::shared_ptr<DiffPair> diff = nullptr);
    // The secondary of a compared request (shadow.diff.secondary): the same
    // copy, without the host suffix, to another server of `pool` than
    // `primary_server` (the same one if it is the only one), its answer
    // captured as the secondary side. Within the same mirror budget; not
    // counted as a shadow result. nullptr if it cannot go.
    static std::shared_ptr<ShadowExchange> start_secondary(
        Worker& worker, std::shared_ptr<const Settings> settings,
        std::shared_ptr<const RoutingState> routing, const Request& request, int pool,
        int primary_server, std::shared_ptr<DiffPair> diff);

    ShadowExchange(Worker& worker, std::shared_ptr<const Settings> settings,
                   std::shared_ptr<const RoutingState> routing, int pool, int server);
    ~ShadowExchange() override;
    ShadowExchange(const ShadowExchange&) = delete;
    ShadowExchange& operator=(const ShadowExchange&) = delete;

    // Body bytes as sent to the primary (framing included); `payload` is
    // the body's size so far, against shadow.max_body.
    void add_body(std::span<const std::string_view> pieces, std::uint64_t payload);
    // The whole request was copied.
    void body_done();
    // The primary's request ended without its whole body: the copy cannot
    // be completed and is dropped (counted as an error).
    void abandon();
    bool ended() const { return ended_; }

    // UpstreamExchange::Listener
    void on_upstream_ready() override;
    void on_upstream_sent(std::size_t n) override;
    void on_response_head(const http::ResponseHeadParser& head) override;
    void on_response_body() override;
    void on_response_end() override;
    void on_upstream_failed(ErrorKind kind) override;

    // TimedSession
    void on_tick(Clock::time_point now) override;
    void on_shutdown() override;
    void on_force_close() override;
    bool cut_if_on_pool(std::string_view, std::uint64_t) override { return false; }

  private:
    static std::shared_ptr<ShadowExchange> launch(std::shared_ptr<ShadowExchange> m,
                                                  const Request& request,
                                                  std::string_view host_suffix);
    void charge();
    void send_more();
    void end(ShadowResult result, bool reusable = false);
    const std::string& pool_name() const;
    DiffPair::Side side() const {
        return secondary_ ? DiffPair::Side::secondary : DiffPair::Side::candidate;
    }

    Worker& worker_;
    std::shared_ptr<const Settings> settings_;
    std::shared_ptr<const RoutingState> routing_;  // pinned: the server's entry lives in it
    int pool_ = -1;
    const ServerState* server_ = nullptr;
    bool secondary_ = false;  // the noise side of a diff, not a shadow copy
    std::shared_ptr<DiffPair> diff_;
    std::shared_ptr<UpstreamExchange> up_;
    Clock::time_point deadline_;  // shadow.timeout, for the whole copy
    bool head_request_ = false;

    std::string pending_;  // copied, not yet handed to the upstream
    std::string sending_;  // handed to the upstream, its write in flight
    std::vector<boost::asio::const_buffer> send_buffers_;
    std::uint64_t charged_ = 0;  // bytes counted in the worker's ShadowLoad::bytes
    bool connected_ = false;     // the upstream connection is ready for bytes
    bool head_sent_ = false;
    bool body_done_ = false;
    bool linked_ = false;  // in the worker's tick list
    bool ended_ = false;
};

}  // namespace switchyard::proxy

// UpstreamConnectionPool: a worker's idle keep-alive connections to upstream servers.
//
// Per worker, so no locks. Connections are keyed by the server's identity
// (ServerState::id), so a server whose address or DNS answer changed never
// gets an old connection. Reuse is LIFO (warmest first). A connection the
// server closed is never handed out: the worker's HangupWatch marks it, and
// before a request that could not be resent on a fresh connection the pool
// also peeks (a FIN or bytes nobody asked for). Idle ones are closed after
// timeouts.upstream_idle, which is kept below the upstreams' own.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchyard/http/stream.hpp"
#include "switchyard/http/tls_context.hpp"
#include "switchyard/proxy/hangup_watch.hpp"

namespace switchyard::proxy {

using Clock = std::chrono::steady_clock;

struct UpstreamConnection {
    // `open` counts the connections alive (the worker's gauge, which
    // outlives them).
    UpstreamConnection(const http::Stream::executor_type& ex, std::int64_t& open)
        : stream(ex), open_(&open) {
        ++*open_;
    }
    ~UpstreamConnection() {
        unwatch();
        --*open_;
    }
    UpstreamConnection(const UpstreamConnection&) = delete;
    UpstreamConnection& operator=(const UpstreamConnection&) = delete;
    http::Stream stream;  // TLS on it for pools with `tls`
    // Kept with the connection: its SSL uses the context's settings.
    std::shared_ptr<const http::UpstreamTlsContext> tls;
    boost::beast::flat_buffer buffer;  // bytes read from the upstream, not yet relayed
    std::uint64_t server_id = 0;
    Clock::time_point idle_since{};
    std::uint64_t requests = 0;  // requests sent on this connection
    // The server closed or reset it (set by the worker's HangupWatch).
    bool hung_up = false;
    // The hang-up set it is registered in, if any.
    std::shared_ptr<HangupSet> watch;

    // Closes the socket, unregistered first: a registration must never
    // outlive the connection it points to.
    void close() {
        unwatch();
        boost::system::error_code ignored;
        stream.socket().close(ignored);
    }

  private:
    void unwatch() {
        if (watch) watch->remove(stream.socket().native_handle());
        watch.reset();
    }
    std::int64_t* open_;
};

class UpstreamConnectionPool {
  public:
    // `watch` (may be null: then every reuse peeks) registers pooled
    // connections for hang-ups.
    explicit UpstreamConnectionPool(HangupWatch* watch = nullptr) : watch_(watch) {}

    // An idle connection to `server_id` the server has not closed, or
    // nullptr. `peek`: also check the socket itself (a system call), for a
    // request that could not be resent if the connection turned out stale.
    std::unique_ptr<UpstreamConnection> take(std::uint64_t server_id, Clock::time_point now,
                                             Clock::duration max_idle, bool peek);
    void put(std::unique_ptr<UpstreamConnection> conn, Clock::time_point now);
    // Closes connections idle for longer than `max_idle`.
    void sweep(Clock::time_point now, Clock::duration max_idle);
    // Closes idle connections whose server id is not in `keep` (a new snapshot
    // took traffic away from them).
    void retain_only(const std::unordered_set<std::uint64_t>& keep);
    void clear() { idle_.clear(); }
    std::size_t idle_count() const;
    std::size_t idle_count(std::uint64_t server_id) const;

  private:
    HangupWatch* watch_;
    std::unordered_map<std::uint64_t, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

// True if the peer has closed or sent unsolicited bytes: an idle keep-alive
// connection in either state must not carry another request.
bool is_stale(boost::asio::ip::tcp::socket& socket);

}  // namespace switchyard::proxy

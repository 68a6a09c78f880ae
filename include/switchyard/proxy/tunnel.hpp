// Tunnel: after a 101 the connection belongs to the application protocol
// (WebSocket): bytes go both ways unchanged until both sides have closed,
// or either fails, or nothing moves for timeouts.tunnel_idle. A side that
// closes its sending half has the half-close passed on (plain TCP sinks).
// It belongs to the request's Exchange, which logs and closes at the end.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>

#include "switchyard/core/clock.hpp"

namespace switchyard::proxy {

class ClientSession;
class Exchange;
class UpstreamExchange;

class Tunnel {
  public:
    using error_code = boost::system::error_code;

    // Counts the bytes relayed each way into `bytes_in` (client → upstream)
    // and `bytes_out`; both must outlive the tunnel, as must the rest.
    Tunnel(Exchange& exchange, ClientSession& client, UpstreamExchange& upstream,
           Clock::duration idle, std::uint64_t& bytes_in, std::uint64_t& bytes_out);

    // Relays both ways; whatever either side sent early is in its buffer.
    void start();

  private:
    void step(bool to_upstream);
    void on_written(bool to_upstream, error_code ec, std::size_t n);
    void on_read(bool to_upstream, error_code ec, std::size_t n);
    void half_close(bool to_upstream);

    Exchange& exchange_;
    ClientSession& client_;
    UpstreamExchange& upstream_;
    Clock::duration idle_;
    std::uint64_t& bytes_in_;
    std::uint64_t& bytes_out_;
    bool eof_[2] = {false, false};  // EOF read from the client, from the upstream
};

}  // namespace switchyard::proxy

// UpstreamResolver: the addresses of upstream servers given by host name.
// Names are looked up at start, on every reload that adds one, and every
// pool's dns_refresh, never on the request path. Every lookup goes through
// one resolver with the same hints and the same reading of the answer; only
// when differs: at start and reload a new name is looked up at once (so its
// server serves from the first request), a refresh runs in the background.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::app {

class UpstreamResolver {
  public:
    // `changed` runs on the control thread when a refresh finds different
    // answers (not after configure(): its caller publishes anyway).
    UpstreamResolver(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                     std::function<void()> changed);

    // Start and reload: from now on the names of `settings` are resolved.
    // Names without an answer are looked up now (blocking); a name that does
    // not resolve takes no traffic until a refresh resolves it. Answers for
    // names the settings no longer have are dropped, and the refresh is
    // armed for the shortest dns_refresh of a pool with a name.
    void configure(std::shared_ptr<const Settings> settings);

    const ResolvedHosts& hosts() const { return resolved_; }

    // Shutting down: no further lookups, no `changed`.
    void stop();

  private:
    struct Round;
    void schedule_refresh();
    void refresh();
    void finish(ResolvedHosts fresh);

    std::shared_ptr<spdlog::logger> log_;
    std::function<void()> changed_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<const Settings> settings_;
    ResolvedHosts resolved_;
    bool stopped_ = false;
};

}  // namespace switchyard::app

// Acceptor: accepts on one listening socket shared by all workers (each
// worker holds a duplicate of the descriptor) and hands each connection to
// its worker (Worker::place). Above server.max_connections it pauses
// instead of accepting and failing; on EMFILE/ENFILE it backs off.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class Acceptor : public std::enable_shared_from_this<Acceptor> {
  public:
    // Takes `fd`, a socket already bound and listening.
    Acceptor(Worker& worker, int fd, std::shared_ptr<const ListenerContext> listener);

    void start() { do_accept(); }
    const std::string& name() const { return listener_->name; }
    void stop();
    // Shutting down: connections already in the kernel's accept queue would
    // be reset when the last descriptor of the socket closes, so take them
    // first (they are answered with Connection: close), then stop.
    void stop_after_backlog();

  private:
    using tcp = boost::asio::ip::tcp;

    // server.max_connections reached: accepting waits.
    bool at_limit() const;
    void do_accept();
    void on_accept(boost::system::error_code ec, tcp::socket socket, bool accept_more = true);
    void wait(std::chrono::milliseconds d);

    Worker& worker_;
    tcp::acceptor acceptor_;
    tcp::acceptor::protocol_type protocol_ = tcp::v4();
    boost::asio::steady_timer backoff_;
    std::shared_ptr<const ListenerContext> listener_;
    bool stopped_ = false;
    bool warned_ = false;
};

}  // namespace switchyard::proxy

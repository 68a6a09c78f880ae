// Acceptor: accepts on one listening socket shared by all workers (each
// worker holds a duplicate of the descriptor) and hands each connection to
// its worker (Worker::place). Each wake-up takes up to a batch of what is
// queued, every connection counted open before it is taken, so that the
// workers together stop at server.max_connections: above it, connections
// wait in the kernel's backlog instead of failing. On EMFILE/ENFILE it
// backs off.
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

    void start() { accept_batch(); }
    const std::string& name() const { return listener_->name; }
    void stop();
    // Shutting down: connections already in the kernel's accept queue would
    // be reset when the last descriptor of the socket closes, so take them
    // first (they are answered with Connection: close), then stop.
    void stop_after_backlog();

  private:
    using tcp = boost::asio::ip::tcp;

    // Takes what is queued, up to a batch, then waits for more.
    void accept_batch();
    // Accepts one connection, already counted open, and places it; false
    // (the count given back, the error in last_error_) if none was taken.
    bool take_one();
    void wait_readable();
    // Tries again after `d` (at server.max_connections, out of descriptors).
    void wait(std::chrono::milliseconds d);

    Worker& worker_;
    tcp::acceptor acceptor_;
    tcp::acceptor::protocol_type protocol_ = tcp::v4();
    boost::asio::steady_timer backoff_;
    std::shared_ptr<const ListenerContext> listener_;
    boost::system::error_code last_error_;
    bool stopped_ = false;
    bool warned_ = false;
};

}  // namespace switchyard::proxy

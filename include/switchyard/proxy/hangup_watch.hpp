// HangupWatch: which of a worker's pooled upstream connections the server
// closed or reset, learned from readiness instead of a system call per reuse.
//
// A connection is registered once (when it is first pooled) in an epoll
// instance of its own, for hang-ups only (EPOLLRDHUP, edge-triggered; errors
// and hang-ups are always reported): response bytes never wake it, so a busy
// connection costs nothing. The worker's reactor waits on that instance like
// on a socket; when it is readable the watch collects its events and marks
// the connections (UpstreamConnection::hung_up), which the pool then never
// hands out again.
//
// What it cannot see is bytes an idle connection receives without a FIN (a
// server that breaks HTTP/1.1): the pool still peeks before a request that
// could not be resent on a fresh connection (see UpstreamConnectionPool).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>

namespace switchyard::proxy {

struct UpstreamConnection;

// The epoll instance. Shared by the watch and every registered connection:
// a connection unregisters itself when it closes, and may outlive the watch
// (sessions end with the io_context's handlers, after the worker's members).
class HangupSet {
  public:
    HangupSet();
    ~HangupSet();
    HangupSet(const HangupSet&) = delete;
    HangupSet& operator=(const HangupSet&) = delete;

    bool valid() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // False if the socket cannot be registered (then nothing watches it).
    bool add(int socket, UpstreamConnection* conn);
    void remove(int socket);
    // Marks the connections whose events are pending.
    void collect();

  private:
    int fd_ = -1;
};

class HangupWatch {
  public:
    explicit HangupWatch(boost::asio::io_context& io);
    HangupWatch(const HangupWatch&) = delete;
    HangupWatch& operator=(const HangupWatch&) = delete;

    // Registers `conn` unless it is already (or the instance could not be
    // made); true if it is watched.
    bool watch(UpstreamConnection& conn);
    // Waits for hang-ups until stop(); the worker's io_context does not run
    // out of work while it waits.
    void start();
    void stop();

  private:
    void wait();

    std::shared_ptr<HangupSet> set_;
    boost::asio::posix::stream_descriptor ready_;  // a duplicate of set_'s fd
    bool running_ = false;
};

}  // namespace switchyard::proxy

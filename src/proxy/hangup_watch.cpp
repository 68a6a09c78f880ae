#include "switchyard/proxy/hangup_watch.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "switchyard/proxy/upstream_connection_pool.hpp"

namespace switchyard::proxy {

HangupSet::HangupSet() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {}

HangupSet::~HangupSet() {
    if (fd_ >= 0) ::close(fd_);
}

bool HangupSet::add(int socket, UpstreamConnection* conn) {
    if (fd_ < 0 || socket < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLRDHUP | EPOLLET;
    ev.data.ptr = conn;
    return ::epoll_ctl(fd_, EPOLL_CTL_ADD, socket, &ev) == 0;
}

void HangupSet::remove(int socket) {
    if (fd_ >= 0 && socket >= 0) ::epoll_ctl(fd_, EPOLL_CTL_DEL, socket, nullptr);
}

void HangupSet::collect() {
    constexpr int kBatch = 64;
    epoll_event events[kBatch];
    for (;;) {
        const int n = ::epoll_wait(fd_, events, kBatch, 0);
        // Each pointer is alive: a connection unregisters before it closes,
        // and nothing else runs on this thread between the wait and here.
        for (int i = 0; i < n; ++i)
            static_cast<UpstreamConnection*>(events[i].data.ptr)->hung_up = true;
        if (n < kBatch) return;
    }
}

HangupWatch::HangupWatch(boost::asio::io_context& io)
    : set_(std::make_shared<HangupSet>()), ready_(io) {
    // Asio owns (and closes) what it waits on: a duplicate, so that the
    // instance lives on with the connections still registered in it.
    // Without one, nothing is watched and the pool peeks before each reuse.
    if (!set_->valid()) return;
    const int dup = ::fcntl(set_->fd(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return;
    boost::system::error_code ec;
    ready_.assign(dup, ec);
    if (ec) ::close(dup);
}

bool HangupWatch::watch(UpstreamConnection& conn) {
    if (conn.watch) return true;
    if (!ready_.is_open() || !set_->add(conn.stream.socket().native_handle(), &conn)) return false;
    conn.watch = set_;
    return true;
}

void HangupWatch::start() {
    if (running_ || !ready_.is_open()) return;
    running_ = true;
    wait();
}

void HangupWatch::stop() {
    running_ = false;
    boost::system::error_code ignored;
    ready_.cancel(ignored);
}

void HangupWatch::wait() {
    ready_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](boost::system::error_code ec) {
                          if (ec || !running_) return;
                          set_->collect();
                          wait();
                      });
}

}  // namespace switchyard::proxy

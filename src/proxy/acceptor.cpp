#include "switchyard/proxy/acceptor.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace switchyard::proxy {

namespace asio = boost::asio;

namespace {
// Connections taken from the kernel's queue per wake-up (HAProxy's
// tune.maxaccept is 64 as well). One per wake-up puts each new client behind
// every busy connection's handlers: a burst of 128 clients arriving at a
// worker that is already serving 128 waited up to half a second to be
// accepted, which wrk saw as a p99 of 100-300 ms. Worker::place still
// spreads a batch over the workers.
constexpr int kAcceptBatch = 64;
}  // namespace

Acceptor::Acceptor(Worker& worker, int fd, std::shared_ptr<const ListenerContext> listener)
    : worker_(worker),
      acceptor_(worker.io()),
      backoff_(worker.io()),
      listener_(std::move(listener)) {
    boost::system::error_code ec;
    // The protocol follows the address family the socket was opened with.
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    protocol_ = ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
    acceptor_.assign(protocol_, fd, ec);
    if (ec) worker_.log().error("listener {}: {}", listener_->name, ec.message());
    // For the batch in on_accept: a synchronous accept that finds the queue
    // empty says so (would_block) instead of blocking the worker.
    if (!ec) acceptor_.non_blocking(true, ec);
}

void Acceptor::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
}

void Acceptor::stop_after_backlog() {
    boost::system::error_code ec;
    acceptor_.non_blocking(true, ec);
    while (!ec && acceptor_.is_open()) {
        tcp::socket socket(worker_.io());
        acceptor_.accept(socket, ec);
        if (!ec) on_accept(ec, std::move(socket), false);
    }
    stop();
}

bool Acceptor::at_limit() const {
    return worker_.shared().open_connections.load(std::memory_order_relaxed) >=
           static_cast<std::int64_t>(worker_.settings()->server.max_connections);
}

void Acceptor::do_accept() {
    if (stopped_) return;
    if (at_limit()) {
        // Leave the connection in the kernel's backlog until one closes.
        wait(std::chrono::milliseconds(10));
        return;
    }
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket));
        });
}

void Acceptor::on_accept(boost::system::error_code ec, tcp::socket socket, bool accept_more) {
    if (ec) {
        if (stopped_ || ec == asio::error::operation_aborted) return;
        if (ec.value() == EMFILE || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
            ec == asio::error::no_memory) {
            if (!warned_)
                worker_.log().warn("accept on {}: {}; backing off", listener_->name, ec.message());
            warned_ = true;
            wait(std::chrono::milliseconds(100));
            return;
        }
        do_accept();  // ECONNABORTED and the like concern one connection only
        return;
    }
    // Accepted, even if stop() came in between: the client is ours now and
    // gets an answer (with Connection: close when shutting down).
    warned_ = false;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    worker_.place(std::move(socket), protocol_, listener_);
    if (stopped_ || !accept_more) return;
    // Whatever else is queued now, up to a batch. An error (the queue is
    // empty, or EMFILE and the like) ends the batch; the asynchronous accept
    // then waits, or meets the error again and handles it.
    for (int i = 1; i < kAcceptBatch && !at_limit(); ++i) {
        tcp::socket next(worker_.io());
        acceptor_.accept(next, ec);
        if (ec) break;
        next.set_option(tcp::no_delay(true), ignored);
        worker_.place(std::move(next), protocol_, listener_);
    }
    do_accept();
}

void Acceptor::wait(std::chrono::milliseconds d) {
    backoff_.expires_after(d);
    backoff_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->do_accept();
    });
}

}  // namespace switchyard::proxy

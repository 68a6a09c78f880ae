#include "switchyard/proxy/acceptor.hpp"

#include <sys/socket.h>

#include <boost/asio/post.hpp>

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
    // Accepts are tried without waiting: an empty queue says would_block.
    if (!ec) acceptor_.non_blocking(true, ec);
}

void Acceptor::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
}

void Acceptor::stop_after_backlog() {
    while (!stopped_ && acceptor_.is_open()) {
        worker_.shared().open_connections.fetch_add(1, std::memory_order_relaxed);
        if (!take_one()) break;
    }
    stop();
}

bool Acceptor::take_one() {
    tcp::socket socket(worker_.io());
    acceptor_.accept(socket, last_error_);
    if (last_error_) {
        worker_.shared().open_connections.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    // Accepted, even if stop() came in between: the client is ours now and
    // gets an answer (with Connection: close when shutting down).
    warned_ = false;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    worker_.place(std::move(socket), protocol_, listener_);
    return true;
}

void Acceptor::accept_batch() {
    if (stopped_) return;
    auto& open = worker_.shared().open_connections;
    const auto limit = static_cast<std::int64_t>(worker_.settings()->server.max_connections);
    for (int i = 0; i < kAcceptBatch; ++i) {
        // Counted open before it is taken: workers taking from the queue at
        // the same time stop at server.max_connections together.
        if (open.fetch_add(1, std::memory_order_relaxed) >= limit) {
            open.fetch_sub(1, std::memory_order_relaxed);
            // Leave the connection in the kernel's backlog until one closes.
            wait(std::chrono::milliseconds(10));
            return;
        }
        if (take_one()) continue;
        const auto ec = last_error_;
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            wait_readable();  // the queue is empty
            return;
        }
        if (ec.value() == EMFILE || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
            ec == asio::error::no_memory) {
            if (!warned_)
                worker_.log().warn("accept on {}: {}; backing off", listener_->name, ec.message());
            warned_ = true;
            wait(std::chrono::milliseconds(100));
            return;
        }
        // ECONNABORTED and the like concern one connection only.
    }
    // A whole batch: more may be queued. The next batch is taken after the
    // handlers ready now, without depending on how the reactor reports a
    // socket that was readable all along.
    asio::post(worker_.io(), [self = shared_from_this()] { self->accept_batch(); });
}

void Acceptor::wait_readable() {
    if (stopped_) return;
    // The queue was emptied in this handler: the next connection is a new
    // readiness edge, which this wait sees.
    acceptor_.async_wait(tcp::acceptor::wait_read,
                         [self = shared_from_this()](boost::system::error_code ec) {
                             if (!ec) self->accept_batch();
                         });
}

void Acceptor::wait(std::chrono::milliseconds d) {
    backoff_.expires_after(d);
    backoff_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->accept_batch();
    });
}

}  // namespace switchyard::proxy

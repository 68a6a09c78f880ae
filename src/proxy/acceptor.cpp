#include "switchyard/proxy/acceptor.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace switchyard::proxy {

namespace asio = boost::asio;

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

void Acceptor::do_accept() {
    if (stopped_) return;
    const auto& settings = *worker_.settings();
    if (worker_.shared().open_connections.load(std::memory_order_relaxed) >=
        static_cast<std::int64_t>(settings.server.max_connections)) {
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
    if (!stopped_ && accept_more) do_accept();
}

void Acceptor::wait(std::chrono::milliseconds d) {
    backoff_.expires_after(d);
    backoff_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->do_accept();
    });
}

}  // namespace switchyard::proxy

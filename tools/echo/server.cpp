#include "server.hpp"

#include <unistd.h>

#include <chrono>

#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/system/system_error.hpp>

namespace switchyard::echo {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, tcp::acceptor acceptor, const EchoIdentity& identity,
                   std::atomic<std::uint64_t>& connections)
    : ioc_(ioc),
      acceptor_(std::move(acceptor)),
      backoff_(ioc),
      identity_(identity),
      connections_(connections) {}

void Listener::run() {
    do_accept();
}

void Listener::do_accept() {
    acceptor_.async_accept(ioc_,
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
        // EMFILE and the like: try again shortly instead of spinning.
        backoff_.expires_after(std::chrono::milliseconds(10));
        backoff_.async_wait(beast::bind_front_handler(&Listener::on_backoff, shared_from_this()));
        return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const std::uint64_t id = connections_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::make_shared<Session>(std::move(socket), identity_, id)->run();
    do_accept();
}

void Listener::on_backoff(beast::error_code ec) {
    if (ec) return;
    do_accept();
}

Server::Server(EchoIdentity identity, const tcp::endpoint& endpoint, unsigned threads)
    : identity_(std::move(identity)) {
    for (unsigned i = 0; i < threads; ++i)
        contexts_.push_back(std::make_unique<net::io_context>(1));

    tcp::acceptor first(*contexts_[0]);
    first.open(endpoint.protocol());
    first.set_option(net::socket_base::reuse_address(true));
    first.bind(endpoint);
    first.listen(4096);
    local_ = first.local_endpoint();

    for (unsigned i = 1; i < threads; ++i) {
        int fd = ::dup(first.native_handle());
        if (fd < 0)
            throw boost::system::system_error(errno, boost::system::system_category(), "dup");
        tcp::acceptor acceptor(*contexts_[i]);
        acceptor.assign(endpoint.protocol(), fd);
        listeners_.push_back(std::make_shared<Listener>(*contexts_[i], std::move(acceptor),
                                                        identity_, connections_));
    }
    listeners_.insert(
        listeners_.begin(),
        std::make_shared<Listener>(*contexts_[0], std::move(first), identity_, connections_));
}

Server::~Server() {
    stop();
}

tcp::endpoint Server::local_endpoint() const {
    return local_;
}

void Server::start() {
    for (auto& l : listeners_)
        l->run();
    listeners_.clear();  // the pending accepts keep them alive
    for (auto& ctx : contexts_)
        threads_.emplace_back([c = ctx.get()] { c->run(); });
}

void Server::stop() {
    for (auto& ctx : contexts_)
        ctx->stop();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

}  // namespace switchyard::echo

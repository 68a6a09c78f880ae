// switchyard-echo: the listening socket and the worker threads. One io_context
// per thread (Asio's server2 model); every worker accepts on the same
// listening socket (a dup of its descriptor), as Switchyard's workers do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include "session.hpp"

namespace switchyard::echo {

// Accepts connections on one worker's io_context and starts a Session for each.
class Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::acceptor acceptor,
             const EchoIdentity& identity, std::atomic<std::uint64_t>& connections);

    void run();

  private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
    void on_backoff(boost::beast::error_code ec);

    boost::asio::io_context& ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_;
    const EchoIdentity& identity_;
    std::atomic<std::uint64_t>& connections_;
};

class Server {
  public:
    // Binds and listens; throws boost::system::system_error when it cannot.
    Server(EchoIdentity identity, const boost::asio::ip::tcp::endpoint& endpoint, unsigned threads);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const;
    void start();
    void stop();

  private:
    // Declared before the io_contexts: sessions destroyed with them refer to these.
    EchoIdentity identity_;
    std::atomic<std::uint64_t> connections_{0};
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    boost::asio::ip::tcp::endpoint local_;
    std::vector<std::thread> threads_;
};

}  // namespace switchyard::echo

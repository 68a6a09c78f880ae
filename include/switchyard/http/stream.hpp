// Stream: one TCP connection, plain or with TLS on it, as a single Asio
// AsyncReadStream/AsyncWriteStream, so that sessions, the upstream pool and
// the health probes are written once for both.
//
// TLS is chosen per connection at run time (a listener or pool has it or
// not), so this is a small run-time switch rather than a template parameter:
// one copy of the session code, and the branch costs nothing next to a
// system call. The TLS stream refers to the socket owned here.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <utility>

namespace switchyard::http {

class Stream {
  public:
    using tcp = boost::asio::ip::tcp;
    using executor_type = tcp::socket::executor_type;
    using tls_stream = boost::asio::ssl::stream<tcp::socket&>;

    explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
    explicit Stream(const executor_type& ex) : socket_(ex) {}
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    executor_type get_executor() { return socket_.get_executor(); }
    tcp::socket& socket() { return socket_; }
    const tcp::socket& socket() const { return socket_; }

    // Puts TLS on the connection (before any byte of it is read or
    // written); `context` must outlive the stream.
    void use_tls(boost::asio::ssl::context& context) {
        tls_ = std::make_unique<tls_stream>(socket_, context);
    }
    bool tls() const { return tls_ != nullptr; }
    SSL* native_tls() { return tls_ ? tls_->native_handle() : nullptr; }
    tls_stream* tls_layer() { return tls_.get(); }

    template <class Handler>
    void async_handshake(boost::asio::ssl::stream_base::handshake_type type, Handler&& handler) {
        tls_->async_handshake(type, std::forward<Handler>(handler));
    }

    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        if (tls_)
            tls_->async_read_some(buffers, std::forward<Handler>(handler));
        else
            socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }

    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        if (tls_)
            tls_->async_write_some(buffers, std::forward<Handler>(handler));
        else
            socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }

  private:
    tcp::socket socket_;
    std::unique_ptr<tls_stream> tls_;
};

}  // namespace switchyard::http

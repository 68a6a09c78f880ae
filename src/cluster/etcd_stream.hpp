// EtcdStream (private to src/cluster): one connection to an etcd endpoint,
// plain or with TLS (https endpoints, cluster.tls), as one Asio stream for
// Beast's http::async_read and async_write, so that EtcdCall and EtcdWatch
// are written once for both.
//
// Deadlines are the tcp_stream's (expires_after): the TLS layer reads and
// writes through it, so one deadline also bounds the handshake.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <string>
#include <utility>

#include "switchyard/http/tls_context.hpp"

namespace switchyard::cluster {

class EtcdStream {
  public:
    using executor_type = boost::beast::tcp_stream::executor_type;
    using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream&>;

    // `tls`: the context of https endpoints; nullptr: plain connections.
    EtcdStream(boost::asio::io_context& io, std::shared_ptr<const http::UpstreamTlsContext> tls)
        : tcp_(io), context_(std::move(tls)) {}
    EtcdStream(const EtcdStream&) = delete;
    EtcdStream& operator=(const EtcdStream&) = delete;

    executor_type get_executor() { return tcp_.get_executor(); }
    boost::beast::tcp_stream& tcp() { return tcp_; }

    // Once connected: with TLS, a handshake naming `host` (SNI, and the name
    // the certificate must match); plain, done at once. `handler(ec)` runs
    // on the executor, never inside this call. A new connection (the next
    // endpoint) calls it again and gets a new TLS session.
    template <class Handler>
    void async_secure(const std::string& host, Handler&& handler) {
        tls_.reset();
        if (!context_) {
            boost::asio::post(tcp_.get_executor(), [h = std::forward<Handler>(handler)]() mutable {
                std::move(h)(boost::system::error_code{});
            });
            return;
        }
        tls_ = std::make_unique<tls_stream>(tcp_, context_->context());
        std::string error;
        if (!context_->prepare(tls_->native_handle(), host, error)) {
            boost::asio::post(tcp_.get_executor(), [h = std::forward<Handler>(handler)]() mutable {
                std::move(h)(boost::system::error_code(boost::asio::error::invalid_argument));
            });
            return;
        }
        tls_->async_handshake(tls_stream::client, std::forward<Handler>(handler));
    }

    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        if (tls_)
            tls_->async_read_some(buffers, std::forward<Handler>(handler));
        else
            tcp_.async_read_some(buffers, std::forward<Handler>(handler));
    }

    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        if (tls_)
            tls_->async_write_some(buffers, std::forward<Handler>(handler));
        else
            tcp_.async_write_some(buffers, std::forward<Handler>(handler));
    }

    // Closes the connection at once (no TLS close_notify: the exchange is
    // over or abandoned, and etcd needs none).
    void close() {
        boost::system::error_code ignored;
        tcp_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        tcp_.socket().close(ignored);
    }

  private:
    boost::beast::tcp_stream tcp_;
    std::shared_ptr<const http::UpstreamTlsContext> context_;
    std::unique_ptr<tls_stream> tls_;
};

}  // namespace switchyard::cluster

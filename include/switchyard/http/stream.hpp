// Stream: one TCP connection, plain or with TLS on it, as a single Asio
// AsyncReadStream/AsyncWriteStream, so that sessions, the upstream pool and
// the health probes are written once for both.
//
// TLS is chosen per connection at run time (a listener or pool has it or
// not), so this is a small run-time switch rather than a template parameter:
// one copy of the session code, and the branch costs nothing next to a
// system call. The TLS stream refers to the socket owned here.
#pragma once

#include <sys/socket.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <memory>
#include <type_traits>
#include <utility>

#include "switchyard/http/drain_aware_buffer.hpp"
#include "switchyard/http/exact_allocator.hpp"
#include "switchyard/http/tls_stream.hpp"

namespace switchyard::http {

class Stream {
  public:
    using tcp = boost::asio::ip::tcp;
    using executor_type = tcp::socket::executor_type;
    using mutable_buffer = boost::asio::mutable_buffer;

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
        tls_ = std::make_unique<TlsStream>(socket_, context);
    }
    bool tls() const { return tls_ != nullptr; }
    SSL* native_tls() { return tls_ ? tls_->native_handle() : nullptr; }

    // handler(error_code)
    template <class Handler>
    void async_handshake(TlsStream::handshake_type type, Handler&& handler) {
        tls_->async_handshake(type, std::forward<Handler>(handler));
    }
    // The handshake's first bytes were read already; handler(error_code,
    // std::size_t used) (TlsStream).
    template <class Handler>
    void async_handshake(TlsStream::handshake_type type, boost::asio::const_buffer received,
                         Handler&& handler) {
        tls_->async_handshake(type, received, std::forward<Handler>(handler));
    }

    // Reads some bytes. On a plain connection whose last read emptied the
    // socket (see DrainAwareBuffer), one recv() first finds what arrived
    // since (bytes or an end the reactor will not report again), as Asio's
    // own first try would; the read then waits for readiness.
    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        if constexpr (kDrainAware && std::is_convertible_v<MutableBuffers, mutable_buffer>) {
            if (!tls_) {
                if (drained_ && *drained_ && finish_now(buffers, handler)) return;
                read_drain_aware(buffers, std::forward<Handler>(handler));
                return;
            }
        }
        if (tls_)
            tls_->async_read_some(buffers, std::forward<Handler>(handler));
        else
            socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }

    // The wait for the peer's next message (a keep-alive client's next
    // request): when the last read emptied the socket, nothing is tried
    // before the reactor reports it readable, so an idle wait costs no
    // system call. What this cannot see: a FIN that arrived together with
    // the last bytes read (a client that half-closed after its request);
    // such a connection ends at its idle timeout instead of at once.
    template <class Handler>
    void async_read_next(mutable_buffer buffer, Handler&& handler) {
        if constexpr (kDrainAware) {
            if (!tls_) {
                read_drain_aware(buffer, std::forward<Handler>(handler));
                return;
            }
        }
        async_read_some(buffer, std::forward<Handler>(handler));
    }

    // async_read_next whose buffer `space` lends only when bytes are there
    // (an idle connection holds none). Plain connections with the epoll
    // reactor only: can_lend() says so; `size` is what the space lends.
    bool can_lend() const { return kDrainAware && !tls_; }
    template <class Handler>
    void async_read_lent(ReadSpace& space, std::size_t size, Handler&& handler) {
        if (!drained_) drained_ = std::make_shared<bool>(false);
        static char nominal;  // what Asio sees before the read; never written
        // The read may wait for as long as the connection is idle: its
        // operation gets memory of its own size (ExactAllocator).
        socket_.async_read_some(LentBuffer{&space, boost::asio::mutable_buffer(&nominal, 1)},
                                boost::asio::bind_allocator(
                                    ExactAllocator<void>{},
                                    [drained = drained_, size, h = std::forward<Handler>(handler)](
                                        boost::system::error_code ec, std::size_t n) mutable {
                                        *drained = ec ? ec == boost::asio::error::eof : n < size;
                                        std::move(h)(ec, n);
                                    }));
    }

    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        if (tls_)
            tls_->async_write_some(buffers, std::forward<Handler>(handler));
        else
            socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }

  private:
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    static constexpr bool kDrainAware = false;  // io_uring never reads before readiness
#else
    static constexpr bool kDrainAware = true;
#endif

    // The completion may run after the stream is gone (its owner closed
    // it with the read pending): the flag it sets is shared, not a member.
    template <class Handler>
    void read_drain_aware(mutable_buffer buffer, Handler&& handler) {
        if (!drained_) drained_ = std::make_shared<bool>(false);
        socket_.async_read_some(
            DrainAwareBuffer{buffer},
            [drained = drained_, size = buffer.size(), h = std::forward<Handler>(handler)](
                boost::system::error_code ec, std::size_t n) mutable {
                *drained = ec ? ec == boost::asio::error::eof : n < size;
                std::move(h)(ec, n);
            });
    }

    // One non-blocking recv(); if it settled the read, the handler is
    // posted (never called inline) and true returned.
    template <class Handler>
    bool finish_now(mutable_buffer buffer, Handler& handler) {
        boost::system::error_code ec;
        const ssize_t n =
            ::recv(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        std::size_t bytes = 0;
        if (n > 0) {
            bytes = static_cast<std::size_t>(n);
            *drained_ = bytes < buffer.size();
        } else if (n == 0) {
            ec = boost::asio::error::eof;
        } else {
            ec.assign(errno, boost::system::system_category());
        }
        boost::asio::post(socket_.get_executor(), [h = std::move(handler), ec, bytes]() mutable {
            std::move(h)(ec, bytes);
        });
        return true;
    }

    tcp::socket socket_;
    std::unique_ptr<TlsStream> tls_;
    // The last plain read emptied the socket (made with the first read).
    std::shared_ptr<bool> drained_;
};

}  // namespace switchyard::http

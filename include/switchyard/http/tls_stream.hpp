// TlsStream: TLS on a TCP socket owned by the caller, with OpenSSL sending
// and receiving on the socket itself through a small BIO of ours.
//
// Asio's ssl::stream puts a BIO pair between OpenSSL and the socket: every
// record is copied into the pair and out of it again, two copies of every
// byte sent and received on top of the encryption (bench/README.md, stop 34).
// Here a record goes from OpenSSL's buffer to send(), and recv() fills
// OpenSSL's buffer directly.
//
// The contract is ssl::stream's: one read and one write may be pending at
// once (and a handshake alone); the stream and the socket outlive them;
// handlers run on the socket's executor, never inside the call that starts
// them; errors as ssl::stream reports them (the ssl category for OpenSSL's,
// the system's for the socket's, eof after the peer's close_notify,
// ssl::error::stream_truncated for an end without one). A read fills the
// first non-empty buffer of a sequence; a write of several small buffers (a
// head and its body) is gathered into one record of up to 16 KiB, as
// ssl::stream gathers up to 8 KiB: one record, one send().
//
// The socket's io_context must be run by one thread: a read that found the
// socket empty and the wait for its next readiness then see every edge the
// reactor reports (Asio's waits are not speculative).
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace switchyard::http {

class TlsStream {
  public:
    using tcp = boost::asio::ip::tcp;
    using error_code = boost::system::error_code;
    using handshake_type = boost::asio::ssl::stream_base::handshake_type;

    TlsStream(tcp::socket& socket, boost::asio::ssl::context& context);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    SSL* native_handle() { return ssl_; }

    // handler(error_code)
    template <class Handler>
    void async_handshake(handshake_type type, Handler&& handler) {
        set_role(type);
        start(Op::handshake, nullptr, 0, {},
              [h = std::forward<Handler>(handler)](error_code ec, std::size_t) mutable {
                  std::move(h)(ec);
              });
    }

    // The handshake's first bytes were read from the socket already (the
    // bytes after a PROXY header): `received` stays valid until the handler
    // runs, and it gets how many of them the handshake used; the rest are
    // left to the caller. handler(error_code, std::size_t used)
    template <class Handler>
    void async_handshake(handshake_type type, boost::asio::const_buffer received,
                         Handler&& handler) {
        set_role(type);
        bio_.received = static_cast<const char*>(received.data());
        bio_.received_size = received.size();
        bio_.received_used = 0;
        start(Op::handshake, nullptr, 0, {}, std::forward<Handler>(handler));
    }

    // handler(error_code, std::size_t)
    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        const auto b = first_buffer(buffers);
        start(Op::read, b.data(), b.size(), {}, std::forward<Handler>(handler));
    }

    // handler(error_code, std::size_t)
    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        Gather out;
        std::size_t total = 0;
        const auto end = boost::asio::buffer_sequence_end(buffers);
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != end && out.count < out.list.size() && total < kRecordBytes; ++it) {
            const boost::asio::const_buffer b(*it);
            if (b.size() == 0) continue;
            out.list[out.count++] = b;
            total += b.size();
        }
        start(Op::write, nullptr, total, out, std::forward<Handler>(handler));
    }

  private:
    enum class Op { handshake, read, write };
    enum class Want { nothing, read, write };

    // The most one TLS record carries, and what a write gathers.
    static constexpr std::size_t kRecordBytes = 16 * 1024;
    // A write's buffers (the caller's memory, valid until its handler runs).
    struct Gather {
        std::array<boost::asio::const_buffer, 8> list{};
        std::size_t count = 0;
    };

    // What the BIO works with: the socket, bytes read before the handshake,
    // and what the last receive or send saw.
    struct BioState {
        tcp::socket* socket = nullptr;
        const char* received = nullptr;
        std::size_t received_size = 0;
        std::size_t received_used = 0;
        bool eof = false;    // recv() returned 0
        int last_errno = 0;  // of a failed recv() or send(), else 0
    };
    static int bio_read(BIO* bio, char* out, int size);
    static int bio_write(BIO* bio, const char* in, int size);
    static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
    static BIO_METHOD* bio_method();

    void set_role(handshake_type type);
    // One SSL call: a handshake, a read into `data`, or a write of `out`.
    // Nothing to wait for: done, with `ec` and `bytes` set (for a handshake,
    // `bytes` is how much of `received` it used). Otherwise the readiness to
    // wait for before calling again.
    Want perform(Op op, void* data, std::size_t size, const Gather& out, error_code& ec,
                 std::size_t& bytes);
    // SSL_write_ex of `out`'s first buffer, or of its buffers copied into
    // one record when the first is shorter than that.
    int write_gathered(const Gather& out, std::size_t& written);

    template <class Buffers>
    static boost::asio::mutable_buffer first_buffer(const Buffers& buffers) {
        const auto end = boost::asio::buffer_sequence_end(buffers);
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it) {
            const boost::asio::mutable_buffer b(*it);
            if (b.size() != 0) return b;
        }
        return {};
    }

    // An operation waiting for readiness; calls the SSL function again when
    // the socket is ready.
    template <class Handler>
    struct Pending {
        TlsStream* stream;
        Op op;
        void* data;
        std::size_t size;
        Gather out;
        Handler handler;

        void operator()(error_code ec) {
            std::size_t bytes = 0;
            Want want = Want::nothing;
            if (!ec) want = stream->perform(op, data, size, out, ec, bytes);
            if (want != Want::nothing) {
                stream->wait(want, std::move(*this));
                return;
            }
            std::move(handler)(ec, bytes);
        }
    };

    template <class Handler>
    void start(Op op, void* data, std::size_t size, const Gather& out, Handler&& handler) {
        error_code ec;
        std::size_t bytes = 0;
        // An empty read or write completes at once, as with ssl::stream.
        const Want want = op != Op::handshake && size == 0
                              ? Want::nothing
                              : perform(op, data, size, out, ec, bytes);
        if (want == Want::nothing) {
            boost::asio::post(socket_.get_executor(),
                              boost::asio::append(std::forward<Handler>(handler), ec, bytes));
            return;
        }
        wait(want, Pending<std::decay_t<Handler>>{this, op, data, size, out,
                                                  std::forward<Handler>(handler)});
    }

    template <class Handler>
    void wait(Want want, Handler&& handler) {
        socket_.async_wait(want == Want::read ? tcp::socket::wait_read : tcp::socket::wait_write,
                           std::forward<Handler>(handler));
    }

    tcp::socket& socket_;
    SSL* ssl_ = nullptr;
    BioState bio_;
};

}  // namespace switchyard::http

#include "switchyard/http/tls_stream.hpp"

#include <openssl/err.h>

#include <sys/socket.h>
#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstring>

namespace switchyard::http {

namespace {

bool would_block(int e) {
    return e == EAGAIN || e == EWOULDBLOCK;
}

}  // namespace

BIO_METHOD* TlsStream::bio_method() {
    // One method for the process; OpenSSL keeps it until exit.
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m =
            BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "switchyard-socket");
        BIO_meth_set_read(m, &TlsStream::bio_read);
        BIO_meth_set_write(m, &TlsStream::bio_write);
        BIO_meth_set_ctrl(m, &TlsStream::bio_ctrl);
        BIO_meth_set_create(m, [](BIO* b) {
            BIO_set_init(b, 1);
            return 1;
        });
        return m;
    }();
    return method;
}

int TlsStream::bio_read(BIO* bio, char* out, int size) {
    auto& s = *static_cast<BioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (size <= 0) return 0;
    if (s.received_used < s.received_size) {
        const std::size_t n =
            std::min(s.received_size - s.received_used, static_cast<std::size_t>(size));
        std::memcpy(out, s.received + s.received_used, n);
        s.received_used += n;
        return static_cast<int>(n);
    }
    ssize_t n = 0;
    do {
        n = ::recv(s.socket->native_handle(), out, static_cast<std::size_t>(size), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
        s.eof = true;
        return 0;
    }
    if (would_block(errno)) {
        BIO_set_retry_read(bio);
    } else {
        s.last_errno = errno;
    }
    return -1;
}

int TlsStream::bio_write(BIO* bio, const char* in, int size) {
    auto& s = *static_cast<BioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (size <= 0) return 0;
    ssize_t n = 0;
    do {
        n = ::send(s.socket->native_handle(), in, static_cast<std::size_t>(size),
                   MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) return static_cast<int>(n);
    if (would_block(errno)) {
        BIO_set_retry_write(bio);
    } else {
        s.last_errno = errno;
    }
    return -1;
}

long TlsStream::bio_ctrl(BIO* bio, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;  // nothing is buffered here
        case BIO_CTRL_EOF:
            return static_cast<BioState*>(BIO_get_data(bio))->eof ? 1 : 0;
        default:
            return 0;
    }
}

TlsStream::TlsStream(tcp::socket& socket, boost::asio::ssl::context& context)
    : socket_(socket), ssl_(SSL_new(context.native_handle())) {
    if (ssl_ == nullptr) {
        throw boost::system::system_error(
            error_code(static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category()),
            "SSL_new");
    }
    // As ssl::stream: a write may end after some records, a retried write
    // may come from another address, and an idle connection holds no
    // record buffers.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                           SSL_MODE_RELEASE_BUFFERS);
    // Read as much as OpenSSL's buffer takes in one recv(), not a record's
    // header and then its body (ssl::stream's BIO pair did the same).
    SSL_set_read_ahead(ssl_, 1);
    bio_.socket = &socket_;
    BIO* bio = BIO_new(bio_method());
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw boost::system::system_error(
            error_code(static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category()),
            "BIO_new");
    }
    BIO_set_data(bio, &bio_);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns it
}

TlsStream::~TlsStream() {
    SSL_free(ssl_);
}

void TlsStream::set_role(handshake_type type) {
    if (type == boost::asio::ssl::stream_base::client)
        SSL_set_connect_state(ssl_);
    else
        SSL_set_accept_state(ssl_);
}

int TlsStream::write_gathered(const Gather& out, std::size_t& written) {
    const boost::asio::const_buffer first = out.list[0];
    if (out.count == 1 || first.size() >= kRecordBytes)
        return SSL_write_ex(ssl_, first.data(), first.size(), &written);
    // A retried write copies the same bytes again: the caller's buffers do
    // not change until its handler runs (OpenSSL accepts the moved buffer).
    char record[kRecordBytes];
    std::size_t size = 0;
    for (std::size_t i = 0; i < out.count && size < sizeof record; ++i) {
        const std::size_t n = std::min(out.list[i].size(), sizeof record - size);
        std::memcpy(record + size, out.list[i].data(), n);
        size += n;
    }
    return SSL_write_ex(ssl_, record, size, &written);
}

TlsStream::Want TlsStream::perform(Op op, void* data, std::size_t size, const Gather& out,
                                   error_code& ec, std::size_t& bytes) {
    ERR_clear_error();
    bio_.last_errno = 0;
    int result = 0;
    std::size_t done = 0;
    switch (op) {
        case Op::handshake:
            result = SSL_do_handshake(ssl_);
            break;
        case Op::read:
            result = SSL_read_ex(ssl_, data, size, &done);
            break;
        case Op::write:
            result = write_gathered(out, done);
            break;
    }
    if (result > 0) {
        ec = {};
        bytes = done;
        if (op == Op::handshake) {
            // What the handshake did not use stays the caller's.
            bytes = bio_.received_used;
            bio_.received = nullptr;
            bio_.received_size = bio_.received_used = 0;
        }
        return Want::nothing;
    }
    const int error = SSL_get_error(ssl_, result);
    switch (error) {
        case SSL_ERROR_WANT_READ:
            return Want::read;
        case SSL_ERROR_WANT_WRITE:
            return Want::write;
        case SSL_ERROR_ZERO_RETURN:
            ec = boost::asio::error::eof;  // the peer's close_notify
            return Want::nothing;
        default:
            break;
    }
    const unsigned long ssl_error = ERR_get_error();
    if (bio_.last_errno != 0) {
        ec.assign(bio_.last_errno, boost::system::system_category());  // the socket's error
    } else if (bio_.eof && (ssl_error == 0 ||
                            ERR_GET_REASON(ssl_error) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        // The connection ended without close_notify: ssl::stream calls that
        // a truncated stream.
        ec = boost::asio::ssl::error::stream_truncated;
    } else if (ssl_error != 0) {
        ec.assign(static_cast<int>(ssl_error), boost::asio::error::get_ssl_category());
    } else {
        ec = error == SSL_ERROR_SYSCALL ? boost::asio::ssl::error::unspecified_system_error
                                        : boost::asio::ssl::error::unexpected_result;
    }
    return Want::nothing;
}

}  // namespace switchyard::http

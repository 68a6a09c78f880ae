#include "session.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include "switchyard/core/text.hpp"

namespace switchyard::echo {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 1024 * 1024;
constexpr std::size_t kPatternPiece = 64 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr int kResetPollLimit = 2000;  // 1 ms each
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";

// byte[i] = 'a' + (i % 26); a piece starting at offset o is read from
// pattern() + o % 26.
const char* pattern() {
    static const std::array<char, kPatternPiece + 26> data = [] {
        std::array<char, kPatternPiece + 26> a{};
        for (std::size_t i = 0; i < a.size(); ++i)
            a[i] = static_cast<char>('a' + i % 26);
        return a;
    }();
    return data.data();
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void append_hex16(std::string& out, std::uint64_t v) {
    char buf[16];
    for (int i = 15; i >= 0; --i) {
        buf[i] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    }
    out.append(buf, sizeof buf);
}

std::string_view reason(unsigned status) {
    auto s = http::int_to_status(status);
    if (s == http::status::unknown) return "Unknown";
    auto r = http::obsolete_reason(s);
    return {r.data(), r.size()};
}

bool status_has_no_body(unsigned status) {
    return status == 204 || status == 304;
}

net::const_buffer to_buffer(std::string_view s) {
    return net::const_buffer(s.data(), s.size());
}

}  // namespace

// --- RequestState / RequestParser ---------------------------------------------

void RequestState::reset() {
    is_head = false;
    expect_continue = false;
    version = 11;
    target.clear();
    body_bytes = 0;
    body_hash = kFnvOffset;
    keep_body = false;
    body.clear();
}

void RequestParser::on_request_impl(http::verb method, beast::string_view,
                                    beast::string_view target, int version, beast::error_code&) {
    state_.is_head = method == http::verb::head;
    state_.version = version;
    state_.target.assign(target.data(), target.size());
}

void RequestParser::on_response_impl(int, beast::string_view, int, beast::error_code&) {}

void RequestParser::on_field_impl(http::field name, beast::string_view, beast::string_view value,
                                  beast::error_code&) {
    if (name == http::field::expect && iequals(value, "100-continue"))
        state_.expect_continue = true;
}

void RequestParser::on_header_impl(beast::error_code&) {}

void RequestParser::on_body_init_impl(boost::optional<std::uint64_t> const&, beast::error_code&) {}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code&) {
    return take_body(body);
}

void RequestParser::on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) {}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                              beast::error_code&) {
    return take_body(body);
}

void RequestParser::on_finish_impl(beast::error_code&) {}

std::size_t RequestParser::take_body(beast::string_view body) {
    std::uint64_t h = state_.body_hash;
    for (unsigned char c : body) {
        h ^= c;
        h *= kFnvPrime;
    }
    state_.body_hash = h;
    state_.body_bytes += body.size();
    if (state_.keep_body) state_.body.append(body.data(), body.size());
    return body.size();
}

// --- Session: reading a request -----------------------------------------------

Session::Session(tcp::socket socket, const EchoIdentity& identity, std::uint64_t conn_id)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), identity_(identity) {
    identity_fields_.append("X-Echo-Name: ").append(identity_.name).append("\r\nX-Echo-Conn: ");
    append_uint(identity_fields_, conn_id);
    identity_fields_.append("\r\n");
}

void Session::run() {
    start_request();
}

void Session::start_request() {
    request_.reset();
    parser_.emplace(request_);
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(boost::none);
    header_done_ = false;
    options_.reset();
    request_head_.clear();
    error_status_ = 0;
    error_body_.clear();
    process();
}

// Feeds what is buffered to the parser; reads more only when it needs more.
// Bytes of a pipelined next request stay in the buffer for the next round.
void Session::process() {
    beast::error_code ec;
    while (!parser_->is_done() && buffer_.size() > 0) {
        std::size_t used = parser_->put(buffer_.data(), ec);
        if (ec == http::error::header_limit) return fail_request(431, "request header too large");
        if (ec && ec != http::error::need_more) return fail_request(400, ec.message());
        // need_more may come after some body bytes were consumed: drop those.
        const bool header_now = !header_done_ && parser_->is_header_done();
        if (header_now) on_header_done(used);
        buffer_.consume(used);
        if (ec) break;
        if (header_now && request_.expect_continue && request_.version >= 11 &&
            !parser_->is_done() && buffer_.size() == 0)
            return do_write_continue();
    }
    if (parser_->is_done()) return on_request();
    do_read();
}

void Session::on_header_done(std::size_t head_bytes) {
    header_done_ = true;
    if (auto err = parse_query(request_.target, options_); !err.empty()) {
        options_.reset();
        error_status_ = 400;
        error_body_ = err + "\n";
    } else {
        apply_behaviour();
    }
    if (options_.echo == EchoMode::head)
        request_head_.assign(static_cast<const char*>(buffer_.data().data()), head_bytes);
    request_.keep_body = options_.echo == EchoMode::body;
    parser_->eager(true);
}

void Session::apply_behaviour() {
    // Request n is picked when the running count of picks steps up: exactly
    // bp in 10 000 of any run of requests, evenly spread.
    const std::uint64_t n = identity_.served->fetch_add(1, std::memory_order_relaxed);
    const auto picked = [n](std::uint64_t bp) { return (n + 1) * bp / 10000 > n * bp / 10000; };
    if (options_.delay_ms == 0) {
        options_.delay_ms = identity_.delay_ms;
        if (identity_.slow_bp != 0 && picked(identity_.slow_bp)) {
            const std::uint64_t span = identity_.slow_max_ms - identity_.slow_min_ms + 1;
            options_.delay_ms = identity_.slow_min_ms + (n * 7919) % span;
        }
    }
    if (identity_.fail_bp != 0 && options_.status == 200 && picked(identity_.fail_bp))
        options_.status = 500;
}

void Session::do_read() {
    socket_.async_read_some(buffer_.prepare(kReadSize),
                            beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t bytes) {
    // EOF (between requests or inside one) or any error: the connection ends.
    if (ec) return;
    buffer_.commit(bytes);
    process();
}

void Session::do_write_continue() {
    net::async_write(socket_, to_buffer(kContinue),
                     beast::bind_front_handler(&Session::on_write_continue, shared_from_this()));
}

void Session::on_write_continue(beast::error_code ec, std::size_t) {
    if (ec) return;
    process();
}

void Session::fail_request(unsigned status, std::string_view message) {
    options_.reset();
    error_status_ = status;
    error_body_.assign(message).append("\n");
    keep_alive_ = false;
    respond();
}

// --- Session: responding ------------------------------------------------------

void Session::on_request() {
    keep_alive_ = parser_->keep_alive() && !options_.close;
    if (options_.delay_ms > 0) {
        timer_.expires_after(std::chrono::milliseconds(options_.delay_ms));
        timer_.async_wait(beast::bind_front_handler(&Session::on_delay, shared_from_this()));
        return;
    }
    respond();
}

void Session::on_delay(beast::error_code ec) {
    if (ec) return;
    respond();
}

void Session::respond() {
    if (options_.abort == AbortMode::before) return do_shutdown();

    const unsigned status = error_status_ != 0 ? error_status_ : options_.status;
    body_source_ = BodySource::string;
    if (error_status_ != 0) {
        body_string_ = error_body_;
    } else if (options_.echo == EchoMode::head) {
        body_string_ = request_head_;
    } else if (options_.echo == EchoMode::body) {
        body_string_ = request_.body;
    } else if (options_.bytes) {
        body_source_ = BodySource::pattern;
    } else {
        body_string_ = identity_.name_body;
    }
    body_length_ = body_source_ == BodySource::pattern ? *options_.bytes : body_string_.size();

    const bool no_body = request_.is_head || status_has_no_body(status);
    chunked_ = options_.chunked && request_.version >= 11 && !status_has_no_body(status);
    const bool aborting = options_.abort == AbortMode::mid || options_.abort == AbortMode::reset;
    body_limit_ = no_body ? 0 : aborting ? body_length_ / 2 : body_length_;
    body_sent_ = 0;
    head_written_ = false;
    build_head();
    do_write();
}

void Session::build_head() {
    const unsigned status = error_status_ != 0 ? error_status_ : options_.status;
    auto& h = response_head_;
    h.clear();
    h.append("HTTP/1.1 ");
    append_uint(h, status);
    h.append(" ").append(reason(status)).append("\r\n");
    if (!options_.has_content_type && !status_has_no_body(status))
        h.append("Content-Type: text/plain\r\n");
    h.append(identity_fields_);
    h.append("X-Echo-Body-Bytes: ");
    append_uint(h, request_.body_bytes);
    h.append("\r\nX-Echo-Body-Sum: ");
    append_hex16(h, request_.body_hash);
    h.append("\r\n");
    h.append(options_.extra_headers);
    if (!status_has_no_body(status)) {
        if (chunked_) {
            h.append("Transfer-Encoding: chunked\r\n");
        } else {
            h.append("Content-Length: ");
            append_uint(h, body_length_);
            h.append("\r\n");
        }
    }
    if (!keep_alive_) {
        h.append("Connection: close\r\n");
    } else if (request_.version < 11) {
        h.append("Connection: keep-alive\r\n");
    }
    h.append("\r\n");
}

// Writes the head (once) and the next piece of the body in one gathered
// write: a small response is one writev.
void Session::do_write() {
    std::array<net::const_buffer, 5> bufs{};
    std::size_t n = 0;
    if (!head_written_) bufs[n++] = to_buffer(response_head_);

    const std::uint64_t remaining = body_limit_ - body_sent_;
    piece_ = 0;
    if (remaining > 0) {
        const char* data = nullptr;
        if (body_source_ == BodySource::pattern) {
            piece_ = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kPatternPiece));
            data = pattern() + body_sent_ % 26;
        } else {
            piece_ = static_cast<std::size_t>(remaining);
            data = body_string_.data() + body_sent_;
        }
        if (chunked_) {
            auto [end, ec] = std::to_chars(chunk_line_.data(), chunk_line_.data() + 20, piece_, 16);
            *end++ = '\r';
            *end++ = '\n';
            bufs[n++] = net::const_buffer(chunk_line_.data(), end - chunk_line_.data());
            bufs[n++] = net::const_buffer(data, piece_);
            bufs[n++] = to_buffer(kCrlf);
        } else {
            bufs[n++] = net::const_buffer(data, piece_);
        }
    }
    const bool last = body_sent_ + piece_ == body_limit_;
    const bool complete = body_limit_ == body_length_;
    if (last && complete && chunked_ && !request_.is_head) {
        if (options_.trailers.empty()) {
            bufs[n++] = to_buffer(kLastChunk);
        } else {
            last_chunk_ = "0\r\n" + options_.trailers + "\r\n";
            bufs[n++] = net::const_buffer(last_chunk_.data(), last_chunk_.size());
        }
    }
    head_written_ = true;
    net::async_write(socket_, bufs,
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    body_sent_ += piece_;
    if (body_sent_ < body_limit_) return do_write();
    if (options_.abort == AbortMode::reset) return do_reset();
    if (options_.abort == AbortMode::mid || !keep_alive_) return do_shutdown();
    start_request();
}

// --- Session: closing ---------------------------------------------------------

// Graceful close: FIN, then read and discard until the client closes too (or
// a short deadline), so unread client bytes do not turn the FIN into a reset.
void Session::do_shutdown() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    timer_.expires_after(kLingerTime);
    timer_.async_wait(beast::bind_front_handler(&Session::on_linger_timeout, shared_from_this()));
    buffer_.clear();
    do_linger_read();
}

void Session::do_linger_read() {
    socket_.async_read_some(
        buffer_.prepare(kReadSize),
        beast::bind_front_handler(&Session::on_linger_read, shared_from_this()));
}

void Session::on_linger_read(beast::error_code ec, std::size_t) {
    if (ec) {
        timer_.cancel();
        socket_.close(ec);
        return;
    }
    do_linger_read();
}

void Session::on_linger_timeout(beast::error_code ec) {
    if (ec == net::error::operation_aborted) return;
    socket_.close(ec);
}

// Abortive close: wait (briefly) until the peer has acknowledged what was
// written, so the reset does not discard it, then close with SO_LINGER 0.
void Session::do_reset() {
    int unsent = 0;
    if (reset_polls_ < kResetPollLimit &&
        ::ioctl(socket_.native_handle(), SIOCOUTQ, &unsent) == 0 && unsent > 0) {
        ++reset_polls_;
        timer_.expires_after(std::chrono::milliseconds(1));
        timer_.async_wait(beast::bind_front_handler(&Session::on_reset_wait, shared_from_this()));
        return;
    }
    beast::error_code ec;
    socket_.set_option(net::socket_base::linger(true, 0), ec);
    socket_.close(ec);
}

void Session::on_reset_wait(beast::error_code ec) {
    if (ec) return;
    do_reset();
}

}  // namespace switchyard::echo

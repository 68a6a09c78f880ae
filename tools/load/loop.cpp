#include "loop.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace switchyard::load {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t kBodyLimit = 16 * 1024 * 1024;
constexpr auto kConnectBackoff = std::chrono::milliseconds(10);

std::int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string_view header(const http::response<http::string_body>& res, std::string_view name) {
    auto it = res.find(beast::string_view(name.data(), name.size()));
    if (it == res.end()) return {};
    return {it->value().data(), it->value().size()};
}

}  // namespace

// --- RunControl -------------------------------------------------------------------

bool RunControl::take_ticket() {
    if (stopped()) return false;
    if (max_requests_ == 0) return true;
    if (issued_.fetch_add(1, std::memory_order_relaxed) < max_requests_) return true;
    stop(StopReason::max_requests);
    return false;
}

void RunControl::stop(StopReason why) {
    StopReason none = StopReason::none;
    reason_.compare_exchange_strong(none, why);
    stopped_.store(true, std::memory_order_relaxed);
}

// --- Loop ---------------------------------------------------------------------------

Loop::Loop(net::io_context& ioc, LoopKind kind, const LoadOptions& options,
           const PlanOptions& plan_options, RunControl& control, Stats& stats, std::uint64_t seed)
    : kind_(kind),
      options_(options),
      control_(control),
      stats_(stats),
      factory_(plan_options, seed),
      stream_(ioc),
      backoff_(ioc) {}

void Loop::run() {
    next();
}

void Loop::abort() {
    aborted_ = true;
    backoff_.cancel();
    close();
}

void Loop::next() {
    if (aborted_ || !control_.take_ticket()) return close();
    start_request();
}

void Loop::start_request() {
    plan_ = factory_.next(kind_ == LoopKind::slow);
    build_request(plan_, options_.host_header, kind_ != LoopKind::per_request, request_);
    parser_.reset();
    start_ = std::chrono::steady_clock::now();
    start_epoch_ms_ = epoch_ms();
    stream_.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    if (connected_ && options_.reuse_check && !idle_connection_usable()) {
        // The server ended the idle connection after a complete response and
        // before this request was sent: reconnecting is what any client does.
        stats_.count_idle_closed();
        close();
    }
    if (!connected_) return do_connect();
    do_write();
}

// A kept-alive connection is usable when nothing at all is waiting on it: no
// FIN, no reset, no stray bytes. Checked without blocking, before each reuse.
bool Loop::idle_connection_usable() {
    if (buffer_.size() > 0) return false;
    char byte = 0;
    const auto n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Loop::do_connect() {
    stream_.async_connect(options_.target,
                          beast::bind_front_handler(&Loop::on_connect, shared_from_this()));
}

void Loop::on_connect(beast::error_code ec) {
    if (ec) return fail(ec, "connect");
    connected_ = true;
    stats_.count_connection();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    do_write();
}

void Loop::do_write() {
    http::async_write(stream_, request_,
                      beast::bind_front_handler(&Loop::on_write, shared_from_this()));
}

void Loop::on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    do_read();
}

void Loop::do_read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Loop::on_read, shared_from_this()));
}

void Loop::on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "read");
    on_response();
}

void Loop::on_response() {
    stream_.expires_never();
    const auto& res = parser_->get();
    const unsigned status = res.result_int();
    const std::string_view pool = header(res, "X-Echo-Name");
    if (!parser_->keep_alive() || kind_ == LoopKind::per_request) {
        // Connection: close (or HTTP/1.0): the next request opens a new one.
        if (kind_ != LoopKind::per_request) stats_.count_close_reconnect();
        close();
    }
    if (status < 200 || status > 299) return finish(Outcome::non_2xx, status, pool, {});
    const std::string wrong = verify(plan_, res);
    if (!wrong.empty()) return finish(Outcome::wrong_body, status, pool, wrong);
    finish(Outcome::ok, status, pool, {});
}

void Loop::fail(beast::error_code ec, std::string_view phase) {
    if (aborted_) {
        stats_.count_aborted();
        return close();
    }
    Outcome outcome = Outcome::other;
    std::string detail;
    if (ec == beast::error::timeout) {
        outcome = Outcome::timeout;
    } else if (ec == net::error::connection_refused) {
        outcome = Outcome::refused;
    } else if (ec == net::error::connection_reset || ec == net::error::broken_pipe) {
        outcome = Outcome::reset;
    } else if (ec == http::error::end_of_stream) {
        outcome = Outcome::closed_before_response;
    } else if (ec == http::error::partial_message) {
        outcome = Outcome::truncated;
    } else {
        detail = std::string(phase) + ": " + ec.message();
    }
    // A response that failed after its head still says who answered it.
    unsigned status = 0;
    std::string pool;
    if (parser_ && parser_->is_header_done()) {
        status = parser_->get().result_int();
        pool = header(parser_->get(), "X-Echo-Name");
    }
    close();
    finish(outcome, status, pool, detail, phase == "connect");
}

void Loop::finish(Outcome outcome, unsigned status, std::string_view pool, std::string_view detail,
                  bool back_off) {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    RequestRecord r;
    r.start_epoch_ms = start_epoch_ms_;
    r.duration_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    r.outcome = outcome;
    r.status = status;
    r.pool = pool;
    r.cls = plan_.cls;
    r.delay_ms = plan_.delay_ms;
    stats_.record(r, detail);
    // A refused or failed connect would otherwise spin: wait a little first.
    if (back_off) return do_backoff();
    next();
}

void Loop::do_backoff() {
    backoff_.expires_after(kConnectBackoff);
    backoff_.async_wait(beast::bind_front_handler(&Loop::on_backoff, shared_from_this()));
}

void Loop::on_backoff(beast::error_code ec) {
    if (ec) return close();
    next();
}

void Loop::close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
    connected_ = false;
}

}  // namespace switchyard::load

#include "switchyard/http/probe_client.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "switchyard/core/health_tracker.hpp"
#include "switchyard/http/stream.hpp"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// Largest response head accepted; a larger one is a bad response.
constexpr std::uint32_t kHeadLimit = 16 * 1024;
// Interim (1xx) responses skipped before a final one.
constexpr int kMaxInterim = 8;

CheckResult make_result(CheckOutcome outcome, std::string detail = {}) {
    CheckResult r;
    r.outcome = outcome;
    r.detail = std::move(detail);
    return r;
}

bool has_control_chars(std::string_view s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return true;
    return false;
}

bool is_reset(const error_code& ec) {
    return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
           ec == bhttp::error::partial_message;
}

class ProbeSession : public std::enable_shared_from_this<ProbeSession> {
  public:
    ProbeSession(asio::io_context& io, const ProbeRequest& request,
                 std::function<void(CheckResult)> done)
        : stream_(io.get_executor()),
          tls_(request.tls),
          tls_host_(request.tls_host),
          timer_(io),
          request_(probe_request_text(request)),
          timeout_(request.timeout),
          done_(std::move(done)) {
        settings_.expect_min = request.expect_min;
        settings_.expect_max = request.expect_max;
    }

    void start(const ProbeRequest& request) {
        if (has_control_chars(request.path) || has_control_chars(request.host))
            return fail_soon(make_result(CheckOutcome::other, "invalid probe path or host"));
        std::string_view ip = request.ip;
        if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']')
            ip = ip.substr(1, ip.size() - 2);
        error_code ec;
        auto address = asio::ip::make_address(ip, ec);
        if (ec)
            return fail_soon(
                make_result(CheckOutcome::other, "invalid address '" + request.ip + "'"));

        timer_.expires_after(timeout_);
        timer_.async_wait([self = shared_from_this()](error_code e) { self->on_deadline(e); });
        stream_.socket().async_connect(
            tcp::endpoint(address, request.port),
            [self = shared_from_this()](error_code e) { self->on_connect(e); });
    }

  private:
    // A result known before any I/O: still delivered from a handler on io.
    void fail_soon(CheckResult result) {
        asio::post(stream_.get_executor(),
                   [self = shared_from_this(), r = std::move(result)]() mutable {
                       self->finish(std::move(r));
                   });
    }

    void on_deadline(error_code ec) {
        if (ec || finished_) return;  // cancelled: the probe ended first
        timed_out_ = true;
        error_code ignored;
        stream_.socket().cancel(ignored);  // the pending step completes with operation_aborted
        // Report now: the cancelled step's handler then finds the probe finished.
        finish(make_result(CheckOutcome::timeout));
    }

    // True if the step's handler has nothing more to do.
    bool ended() const { return finished_ || timed_out_; }

    void on_connect(error_code ec) {
        if (ended()) return;
        if (ec) {
            if (ec == asio::error::connection_refused)
                return finish(make_result(CheckOutcome::refused));
            if (is_reset(ec)) return finish(make_result(CheckOutcome::reset));
            return finish(make_result(CheckOutcome::other, "connect: " + ec.message()));
        }
        error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        if (tls_) return handshake();
        write_request();
    }

    void handshake() {
        stream_.use_tls(tls_->context());
        std::string error;
        if (!tls_->prepare(stream_.native_tls(), tls_host_, error))
            return finish(make_result(CheckOutcome::other, "tls: " + error));
        stream_.async_handshake(
            asio::ssl::stream_base::client, [self = shared_from_this()](error_code e) {
                if (self->ended()) return;
                if (e)
                    return self->finish(
                        make_result(CheckOutcome::other, "tls handshake: " + e.message()));
                self->write_request();
            });
    }

    void write_request() {
        asio::async_write(
            stream_, asio::buffer(request_),
            [self = shared_from_this()](error_code e, std::size_t) { self->on_write(e); });
    }

    void on_write(error_code ec) {
        if (ended()) return;
        if (ec) {
            if (is_reset(ec)) return finish(make_result(CheckOutcome::reset));
            return finish(make_result(CheckOutcome::other, "write: " + ec.message()));
        }
        read_head();
    }

    void read_head() {
        parser_.emplace();
        parser_->header_limit(kHeadLimit);
        parser_->skip(true);  // the head only: no body is expected or read
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](error_code e, std::size_t) { self->on_head(e); });
    }

    void on_head(error_code ec) {
        if (ended()) return;
        if (ec) {
            if (is_reset(ec)) return finish(make_result(CheckOutcome::reset));
            if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
                return finish(make_result(CheckOutcome::bad_response, ec.message()));
            return finish(make_result(CheckOutcome::other, "read: " + ec.message()));
        }
        unsigned status = parser_->get().result_int();
        if (status >= 100 && status < 200 && status != 101 && interim_ < kMaxInterim) {
            ++interim_;  // 100 Continue, 103 Early Hints: the final response follows
            return read_head();
        }
        finish(classify_status(static_cast<std::uint16_t>(status), settings_));
    }

    void finish(CheckResult result) {
        if (finished_) return;
        finished_ = true;
        error_code ignored;
        timer_.cancel();
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        auto done = std::move(done_);
        done_ = nullptr;
        if (done) done(std::move(result));
    }

    Stream stream_;
    std::shared_ptr<const UpstreamTlsContext> tls_;
    std::string tls_host_;
    asio::steady_timer timer_;
    std::string request_;
    Duration timeout_;
    HealthCheckSettings settings_;
    std::function<void(CheckResult)> done_;
    boost::beast::flat_buffer buffer_;
    std::optional<bhttp::response_parser<bhttp::empty_body>> parser_;
    int interim_ = 0;
    bool finished_ = false;
    bool timed_out_ = false;
};

}  // namespace

std::string probe_request_text(const ProbeRequest& request) {
    std::string out;
    out.reserve(96 + request.path.size() + request.host.size());
    out += "GET ";
    out += request.path.empty() ? std::string_view("/") : std::string_view(request.path);
    out += " HTTP/1.1\r\nHost: ";
    out += request.host;
    out += "\r\nUser-Agent: switchyard-health\r\nConnection: close\r\n\r\n";
    return out;
}

void probe(asio::io_context& io, const ProbeRequest& request,
           std::function<void(CheckResult)> done) {
    auto session = std::make_shared<ProbeSession>(io, request, std::move(done));
    session->start(request);
}

}  // namespace switchyard::http

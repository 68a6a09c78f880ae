#include "switchyard/control/admin_server.hpp"

#include <spdlog/logger.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <list>
#include <optional>
#include <stdexcept>

#include "switchyard/control/dashboard.hpp"

namespace switchyard::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTimeout = std::chrono::seconds(10);  // per read or write
constexpr std::size_t kMaxConnections = 64;          // more are closed at once
constexpr std::size_t kMaxHead = 8 * 1024;
}  // namespace

struct AdminServer::State : std::enable_shared_from_this<State> {
    State(asio::io_context& io, std::shared_ptr<spdlog::logger> l, Sources s)
        : acceptor(io), log(std::move(l)), sources(std::move(s)) {}
    void accept_next();
    tcp::acceptor acceptor;
    std::shared_ptr<spdlog::logger> log;
    Sources sources;
    std::list<std::weak_ptr<Session>> sessions;
    bool accepting = true;
    bool stopped = false;
};

class AdminServer::Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<State> state)
        : stream_(std::move(socket)), state_(std::move(state)) {}

    void start() { read(); }
    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

  private:
    void read() {
        parser_.emplace();
        parser_->header_limit(kMaxHead);
        parser_->body_limit(0);  // GET and HEAD carry no body
        stream_.expires_after(kTimeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec || state_->stopped) return close();  // EOF, timeout, malformed: just close
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        head_ = req.method() == http::verb::head;
        if (req.method() != http::verb::get && !head_)
            return respond(http::status::method_not_allowed, "text/plain",
                           "read only: use the control socket to change anything\n");
        const std::string_view target = req.target();
        const std::string_view path = target.substr(0, target.find('?'));
        if (path == "/healthz") {
            const bool serving = state_->sources.serving && state_->sources.serving();
            return respond(serving ? http::status::ok : http::status::service_unavailable,
                           "text/plain", serving ? "ok\n" : "draining\n");
        }
        if (path == "/metrics" && state_->sources.metrics) {
            state_->sources.metrics([self = shared_from_this()](std::string text) {
                self->respond(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                              std::move(text));
            });
            return;
        }
        if (path == "/status" && state_->sources.status) {
            state_->sources.status([self = shared_from_this()](std::string json) {
                self->respond(http::status::ok, "application/json", std::move(json) + "\n");
            });
            return;
        }
        if (path == "/diff" && state_->sources.diff) {
            state_->sources.diff([self = shared_from_this()](std::string json) {
                self->respond(http::status::ok, "application/json", std::move(json) + "\n");
            });
            return;
        }
        if (const auto* asset = find_dashboard_asset(path))  // "/", "/dashboard.js", ...
            return respond(http::status::ok, asset->content_type, std::string(asset->body));
        respond(http::status::not_found, "text/plain", "not found\n");
    }

    void respond(http::status status, std::string_view type, std::string body) {
        response_ = {};
        response_.result(status);
        response_.version(11);
        response_.set(http::field::server, "switchyard");
        response_.set(http::field::content_type, type);
        response_.set(http::field::cache_control, "no-store");
        // The dashboard loads only its own files (no inline script or style,
        // no other origin); harmless on the other answers.
        response_.set("Content-Security-Policy", "default-src 'self'");
        response_.set("X-Content-Type-Options", "nosniff");
        keep_alive_ = keep_alive_ && state_->accepting;
        response_.keep_alive(keep_alive_);
        response_.body() = std::move(body);
        response_.prepare_payload();
        if (head_) response_.body().clear();  // Content-Length stays the GET's
        stream_.expires_after(kTimeout);
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || !self->keep_alive_ || self->state_->stopped)
                                  return self->close();
                              self->read();
                          });
    }

    beast::tcp_stream stream_;
    std::shared_ptr<State> state_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
    bool keep_alive_ = true;
    bool head_ = false;
};

void AdminServer::State::accept_next() {
    if (stopped || !accepting) return;
    acceptor.async_accept([weak = weak_from_this()](beast::error_code ec, tcp::socket socket) {
        auto s = weak.lock();
        if (!s || s->stopped || !s->accepting || ec == asio::error::operation_aborted) return;
        if (!ec) {
            s->sessions.remove_if([](const auto& w) { return w.expired(); });
            if (s->sessions.size() >= kMaxConnections) {
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                auto session = std::make_shared<Session>(std::move(socket), s);
                s->sessions.push_back(session);
                session->start();
            }
        }
        s->accept_next();
    });
}

AdminServer::AdminServer(asio::io_context& io, std::shared_ptr<spdlog::logger> log, Sources sources)
    : state_(std::make_shared<State>(io, std::move(log), std::move(sources))) {}

AdminServer::~AdminServer() {
    stop();
}

void AdminServer::adopt(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    beast::error_code ec;
    state_->acceptor.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) throw std::runtime_error("admin listener: " + ec.message());
    state_->accept_next();
}

void AdminServer::stop_accepting() {
    state_->accepting = false;
    beast::error_code ignored;
    state_->acceptor.close(ignored);
}

void AdminServer::stop() {
    if (state_->stopped) return;
    state_->stopped = true;
    beast::error_code ignored;
    // The descriptor is a duplicate the caller gave us: closing it leaves the
    // caller's (kept for a hot upgrade) open.
    state_->acceptor.close(ignored);
    for (auto& w : state_->sessions)
        if (auto s = w.lock()) s->close();
    state_->sessions.clear();
}

std::size_t AdminServer::connection_count() const {
    std::size_t n = 0;
    for (const auto& w : state_->sessions)
        if (!w.expired()) ++n;
    return n;
}

}  // namespace switchyard::control

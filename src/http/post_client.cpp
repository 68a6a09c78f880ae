#include "switchyard/http/post_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "switchyard/http/stream.hpp"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

constexpr std::uint32_t kHeadLimit = 16 * 1024;
constexpr int kMaxInterim = 8;

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

// Where a URL points, or why it cannot be posted to.
struct Target {
    bool tls = false;
    std::string host;         // DNS name or IP, IPv6 without brackets: resolve, SNI, name check
    std::string port;         // numeric
    std::string host_header;  // as in the URL, with the port when one was given
    std::string target;       // path and query, at least "/"
    std::string error;
};

Target parse_target(std::string_view url) {
    Target t;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        t.error = "invalid URL: " + parsed.error().message();
        return t;
    }
    const boost::urls::url_view& u = *parsed;
    if (u.scheme_id() == boost::urls::scheme::https)
        t.tls = true;
    else if (u.scheme_id() != boost::urls::scheme::http) {
        t.error = "invalid URL: the scheme must be http or https";
        return t;
    }
    if (u.has_userinfo()) {
        t.error = "invalid URL: user info is not supported";
        return t;
    }
    t.host = u.host_address();
    if (t.host.empty() || has_control_chars(t.host)) {
        t.error = "invalid URL: no host";
        return t;
    }
    t.port = u.has_port() ? std::string(u.port()) : std::string(t.tls ? "443" : "80");
    if (u.has_port() && u.port_number() == 0) {
        t.error = "invalid URL: bad port";
        return t;
    }
    t.host_header = u.encoded_host_and_port();
    t.target = u.encoded_target();
    if (t.target.empty() || t.target.front() != '/') t.target.insert(0, "/");
    return t;
}

class PostSession : public std::enable_shared_from_this<PostSession> {
  public:
    PostSession(asio::io_context& io, PostRequest request, std::function<void(PostResult)> done)
        : stream_(io.get_executor()),
          resolver_(io),
          timer_(io),
          request_(std::move(request)),
          done_(std::move(done)) {}

    void start() {
        target_ = parse_target(request_.url);
        if (!target_.error.empty()) return fail_soon(target_.error);
        for (const auto& [name, value] : request_.headers)
            if (name.empty() || has_control_chars(name) || has_control_chars(value))
                return fail_soon("invalid header " + name);
        if (target_.tls && !request_.tls) {
            std::string error;
            request_.tls = build_post_tls(error);
            if (!request_.tls) return fail_soon("tls: " + error);
        }
        head_ = post_request_head(target_.host_header, target_.target, request_);
        timer_.expires_after(request_.timeout);
        timer_.async_wait([self = shared_from_this()](error_code e) { self->on_deadline(e); });
        resolver_.async_resolve(
            target_.host, target_.port,
            [self = shared_from_this()](error_code e, tcp::resolver::results_type r) {
                self->on_resolve(e, std::move(r));
            });
    }

  private:
    void fail_soon(std::string error) {
        asio::post(stream_.get_executor(),
                   [self = shared_from_this(), e = std::move(error)]() { self->fail(e); });
    }

    void on_deadline(error_code ec) {
        if (ec || finished_) return;
        error_code ignored;
        resolver_.cancel();
        stream_.socket().cancel(ignored);
        // With a status, a body cut short only shortens the excerpt.
        if (status_ != 0) return finish();
        fail("timed out after " + format_timeout(request_.timeout));
    }

    void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
        if (finished_) return;
        if (ec) return fail("resolving " + target_.host + ": " + ec.message());
        asio::async_connect(stream_.socket(), results,
                            [self = shared_from_this()](error_code e, const tcp::endpoint&) {
                                self->on_connect(e);
                            });
    }

    void on_connect(error_code ec) {
        if (finished_) return;
        if (ec) {
            if (ec == asio::error::connection_refused) return fail("connection refused");
            return fail("connecting to " + target_.host + ": " + ec.message());
        }
        error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        if (!target_.tls) return write_request();
        stream_.use_tls(request_.tls->context());
        std::string error;
        if (!request_.tls->prepare(stream_.native_tls(), target_.host, error))
            return fail("tls: " + error);
        stream_.async_handshake(asio::ssl::stream_base::client,
                                [self = shared_from_this()](error_code e) {
                                    if (self->finished_) return;
                                    if (e) return self->fail("tls handshake: " + e.message());
                                    self->write_request();
                                });
    }

    void write_request() {
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                        asio::buffer(request_.body)};
        asio::async_write(stream_, buffers, [self = shared_from_this()](error_code e, std::size_t) {
            self->on_write(e);
        });
    }

    void on_write(error_code ec) {
        if (finished_) return;
        // A server may answer (413, 401) and close before reading the whole
        // body: its answer is still worth reading.
        if (ec && !is_reset(ec)) return fail("sending: " + ec.message());
        read_head();
    }

    void read_head() {
        parser_.emplace();
        parser_->header_limit(kHeadLimit);
        parser_->body_limit(boost::none);  // only the excerpt is kept; the rest is left unread
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](error_code e, std::size_t) { self->on_head(e); });
    }

    void on_head(error_code ec) {
        if (finished_) return;
        if (ec) {
            if (is_reset(ec)) return fail("connection closed before a response");
            return fail("reading the response: " + ec.message());
        }
        const unsigned status = parser_->get().result_int();
        if (status >= 100 && status < 200 && interim_ < kMaxInterim) {
            ++interim_;
            return read_head();
        }
        status_ = static_cast<int>(status);
        if (parser_->is_done()) return finish();
        excerpt_.resize(kBodyExcerptLimit);
        auto& body = parser_->get().body();
        body.data = excerpt_.data();
        body.size = excerpt_.size();
        body.more = true;
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](error_code, std::size_t) {
                              // need_buffer: the excerpt is full; an error: it is cut short.
                              if (self->finished_) return;
                              self->finish();
                          });
    }

    void fail(std::string error) {
        PostResult r;
        r.error = std::move(error);
        report(std::move(r));
    }

    void finish() {
        PostResult r;
        r.status = status_;
        if (!excerpt_.empty()) {
            excerpt_.resize(excerpt_.size() - parser_->get().body().size);
            r.body_excerpt = std::move(excerpt_);
        }
        report(std::move(r));
    }

    void report(PostResult result) {
        if (finished_) return;
        finished_ = true;
        error_code ignored;
        timer_.cancel();
        resolver_.cancel();
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        auto done = std::move(done_);
        done_ = nullptr;
        if (done) done(std::move(result));
    }

    Stream stream_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    PostRequest request_;
    std::function<void(PostResult)> done_;
    Target target_;
    std::string head_;
    boost::beast::flat_buffer buffer_;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
    std::string excerpt_;
    int interim_ = 0;
    int status_ = 0;
    bool finished_ = false;
};

}  // namespace

std::shared_ptr<const UpstreamTlsContext> build_post_tls(std::string& error) {
    return build_upstream_tls(UpstreamTlsSettings{}, error);
}

std::string url_host(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->encoded_host().empty()) return "(invalid URL)";
    return std::string(parsed->encoded_host_and_port());
}

std::string format_timeout(std::chrono::milliseconds timeout) {
    const auto ms = timeout.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string post_request_head(std::string_view host_header, std::string_view target,
                              const PostRequest& request) {
    std::string out;
    out.reserve(128 + host_header.size() + target.size());
    out += "POST ";
    out += target;
    out += " HTTP/1.1\r\nHost: ";
    out += host_header;
    out += "\r\nUser-Agent: switchyard\r\nContent-Length: ";
    out += std::to_string(request.body.size());
    out += "\r\nConnection: close\r\n";
    for (const auto& [name, value] : request.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

void post(asio::io_context& io, PostRequest request, std::function<void(PostResult)> done) {
    auto session = std::make_shared<PostSession>(io, std::move(request), std::move(done));
    session->start();
}

}  // namespace switchyard::http

#include "switchyard/cluster/etcd_transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "etcd_stream.hpp"

namespace switchyard::cluster {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// One post: its tries, one endpoint after the other, until one answers.
class EtcdCall : public std::enable_shared_from_this<EtcdCall> {
  public:
    EtcdCall(EtcdTransport& transport, std::string path, std::string body,
             std::function<void(EtcdReply)> done)
        : transport_(transport),
          resolver_(transport.io_),
          stream_(transport.io_, transport.tls_),
          done_(std::move(done)) {
        request_.method(bhttp::verb::post);
        request_.target(path);
        request_.version(11);
        request_.set(bhttp::field::content_type, "application/json");
        request_.set(bhttp::field::connection, "close");
        if (!transport.token_.empty()) request_.set(bhttp::field::authorization, transport.token_);
        request_.body() = std::move(body);
        request_.prepare_payload();
        endpoint_ = transport.preferred_;
    }

    void start() { try_endpoint(); }

  private:
    const HttpUrl& url() const { return transport_.endpoints_[endpoint_]; }

    void try_endpoint() {
        ++tries_;
        reply_.endpoint = url().host + ":" + std::to_string(url().port);
        request_.set(bhttp::field::host, reply_.endpoint);
        parser_.emplace();
        parser_->body_limit(kEtcdBodyLimit);
        buffer_.clear();
        stream_.tcp().expires_after(transport_.timeout_);
        resolver_.async_resolve(url().host, std::to_string(url().port),
                                [self = shared_from_this()](error_code ec, auto results) {
                                    if (ec) return self->failed("resolving", ec);
                                    self->connect(results);
                                });
    }

    void connect(const tcp::resolver::results_type& results) {
        stream_.tcp().async_connect(results, [self = shared_from_this()](error_code ec, auto) {
            if (ec) return self->failed("connecting", ec);
            self->stream_.tcp().socket().set_option(tcp::no_delay(true), ec);
            self->stream_.async_secure(self->url().host, [self](error_code ec) {
                if (ec) return self->failed("tls handshake with", ec);
                self->write();
            });
        });
    }

    void write() {
        bhttp::async_write(stream_, request_,
                           [self = shared_from_this()](error_code ec, std::size_t) {
                               if (ec) return self->failed("writing", ec);
                               self->read();
                           });
    }

    void read() {
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->failed("reading", ec);
                              self->answered();
                          });
    }

    void answered() {
        auto response = parser_->release();
        reply_.status = static_cast<int>(response.result_int());
        reply_.body = std::move(response.body());
        reply_.error.clear();
        transport_.preferred_ = endpoint_;
        finish();
    }

    // Below HTTP: the next endpoint, until each was tried once.
    void failed(const char* step, const error_code& ec) {
        reply_.error = std::string(step) + " " + reply_.endpoint + ": " +
                       (ec == beast::error::timeout ? std::string("timed out") : ec.message());
        stream_.close();
        if (tries_ < transport_.endpoints_.size()) {
            endpoint_ = (endpoint_ + 1) % transport_.endpoints_.size();
            try_endpoint();
            return;
        }
        finish();
    }

    void finish() {
        stream_.close();
        done_(std::move(reply_));
    }

    EtcdTransport& transport_;
    tcp::resolver resolver_;
    EtcdStream stream_;
    bhttp::request<bhttp::string_body> request_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
    std::function<void(EtcdReply)> done_;
    EtcdReply reply_;
    std::size_t endpoint_ = 0;
    std::size_t tries_ = 0;
};

EtcdTransport::EtcdTransport(asio::io_context& io, std::vector<HttpUrl> endpoints,
                             std::chrono::milliseconds timeout,
                             std::shared_ptr<const http::UpstreamTlsContext> tls)
    : io_(io), endpoints_(std::move(endpoints)), timeout_(timeout), tls_(std::move(tls)) {}

void EtcdTransport::post(std::string path, std::string body, std::function<void(EtcdReply)> done) {
    if (endpoints_.empty()) {
        asio::post(io_, [done = std::move(done)] {
            EtcdReply r;
            r.error = "no etcd endpoint configured";
            done(std::move(r));
        });
        return;
    }
    auto call =
        std::make_shared<EtcdCall>(*this, std::move(path), std::move(body), std::move(done));
    // Started from the io_context, so that `done` never runs inside post().
    asio::post(io_, [call] { call->start(); });
}

}  // namespace switchyard::cluster

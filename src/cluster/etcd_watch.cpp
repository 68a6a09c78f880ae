#include "switchyard/cluster/etcd_watch.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "etcd_stream.hpp"
#include "switchyard/cluster/ndjson_splitter.hpp"

namespace switchyard::cluster {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// Everything a pending handler touches, kept alive by it; the EtcdWatch
// object only owns it and cuts the callbacks off on stop().
struct EtcdWatch::State : std::enable_shared_from_this<EtcdWatch::State> {
    State(asio::io_context& io, HttpUrl endpoint, std::chrono::milliseconds timeout,
          std::shared_ptr<const http::UpstreamTlsContext> tls)
        : resolver(io),
          stream(io, std::move(tls)),
          endpoint(std::move(endpoint)),
          timeout(timeout) {}

    tcp::resolver resolver;
    EtcdStream stream;
    HttpUrl endpoint;
    std::chrono::milliseconds timeout;
    bhttp::request<bhttp::string_body> request;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    NdjsonSplitter lines;
    OnMessage on_message;
    OnEnd on_end;
    bool ended = false;

    void begin() {
        stream.tcp().expires_after(timeout);
        resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                               [self = shared_from_this()](error_code ec, auto results) {
                                   if (ec) return self->end("resolving: " + ec.message());
                                   self->connect(results);
                               });
    }

    void connect(const tcp::resolver::results_type& results) {
        stream.tcp().async_connect(results, [self = shared_from_this()](error_code ec, auto) {
            if (ec) return self->end("connecting: " + self->describe(ec));
            self->stream.async_secure(self->endpoint.host, [self](error_code ec) {
                if (ec) return self->end("tls handshake: " + self->describe(ec));
                self->write();
            });
        });
    }

    void write() {
        bhttp::async_write(stream, request,
                           [self = shared_from_this()](error_code ec, std::size_t) {
                               if (ec) return self->end("writing: " + self->describe(ec));
                               self->read_head();
                           });
    }

    void read_head() {
        // The stream has no end: its body is taken piece by piece.
        parser.body_limit(boost::none);
        bhttp::async_read_header(stream, buffer, parser,
                                 [self = shared_from_this()](error_code ec, std::size_t) {
                                     if (ec) return self->end("reading: " + self->describe(ec));
                                     if (self->parser.get().result_int() != 200)
                                         return self->read_error_body();
                                     self->stream.tcp().expires_never();
                                     self->take_body();
                                     self->read_more();
                                 });
    }

    // A refusal (401, 400, ...) is a short body: read it for the reason.
    void read_error_body() {
        bhttp::async_read(stream, buffer, parser,
                          [self = shared_from_this()](error_code, std::size_t) {
                              auto error = parse_error(self->parser.get().body());
                              self->end("HTTP " + std::to_string(self->parser.get().result_int()) +
                                        (error ? ": " + error->message : std::string()));
                          });
    }

    void read_more() {
        if (ended) return;
        if (parser.is_done()) return end("the stream ended");
        bhttp::async_read_some(stream, buffer, parser,
                               [self = shared_from_this()](error_code ec, std::size_t) {
                                   if (self->ended) return;
                                   self->take_body();
                                   if (ec) return self->end("reading: " + self->describe(ec));
                                   self->read_more();
                               });
    }

    // What the body holds so far goes to the splitter, then out as messages.
    void take_body() {
        std::string& body = parser.get().body();
        if (!body.empty()) {
            lines.feed(body);
            body.clear();
        }
        if (lines.failed()) return end("a watch message passed the line limit");
        while (!ended) {
            auto line = lines.next_line();
            if (!line) break;
            auto message = parse_watch_message(*line);
            if (!message) return end("a watch message did not parse: " + message.error());
            if (on_message) on_message(*message);
        }
    }

    std::string describe(const error_code& ec) const {
        return ec == beast::error::timeout ? std::string("timed out") : ec.message();
    }

    void end(std::string why) {
        if (ended) return;
        ended = true;
        stream.close();
        auto done = std::move(on_end);
        on_message = nullptr;
        if (done) done(std::move(why));
    }

    void stop() {
        on_end = nullptr;
        end({});
    }
};

EtcdWatch::EtcdWatch(asio::io_context& io, HttpUrl endpoint, std::string token,
                     std::chrono::milliseconds connect_timeout,
                     std::shared_ptr<const http::UpstreamTlsContext> tls)
    : state_(std::make_shared<State>(io, std::move(endpoint), connect_timeout, std::move(tls))) {
    auto& r = state_->request;
    r.method(bhttp::verb::post);
    r.target("/v3/watch");
    r.version(11);
    r.set(bhttp::field::host, state_->endpoint.host + ":" + std::to_string(state_->endpoint.port));
    r.set(bhttp::field::content_type, "application/json");
    if (!token.empty()) r.set(bhttp::field::authorization, token);
}

EtcdWatch::~EtcdWatch() {
    stop();
}

void EtcdWatch::start(std::string create_body, OnMessage on_message, OnEnd on_end) {
    state_->request.body() = std::move(create_body);
    state_->request.prepare_payload();
    state_->on_message = std::move(on_message);
    state_->on_end = std::move(on_end);
    state_->begin();
}

void EtcdWatch::stop() {
    state_->stop();
}

}  // namespace switchyard::cluster

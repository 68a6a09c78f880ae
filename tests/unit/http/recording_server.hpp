// A loopback HTTP server for client tests (post_client, event_delivery): it
// accepts every connection on 127.0.0.1 (ephemeral port), reads each request
// (head and Content-Length body), records it, and answers with what the
// test's script says for that request's index: a reply's bytes (then it
// closes), or nullopt to stay silent. Runs on the test's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::test {

struct RecordedRequest {
    std::string head;  // up to and including the blank line
    std::string body;

    // The first value of a header (case-insensitive name), or "".
    std::string header(std::string_view name) const {
        std::size_t pos = head.find("\r\n");
        while (pos != std::string::npos && pos + 2 < head.size()) {
            const std::size_t start = pos + 2;
            const std::size_t end = head.find("\r\n", start);
            if (end == std::string::npos || end == start) break;
            const std::string_view line(head.data() + start, end - start);
            const std::size_t colon = line.find(':');
            if (colon == name.size()) {
                bool same = true;
                for (std::size_t i = 0; i < colon; ++i)
                    if (std::tolower(static_cast<unsigned char>(line[i])) !=
                        std::tolower(static_cast<unsigned char>(name[i])))
                        same = false;
                if (same) {
                    std::string_view v = line.substr(colon + 1);
                    while (!v.empty() && v.front() == ' ')
                        v.remove_prefix(1);
                    return std::string(v);
                }
            }
            pos = end;
        }
        return {};
    }
};

inline std::string http_reply(std::string_view status_line, std::string_view body = {},
                              std::string_view extra_headers = {}) {
    std::string r(status_line);
    r += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    r += extra_headers;
    r += "\r\n";
    r += body;
    return r;
}

class RecordingServer {
  public:
    using Script =
        std::function<std::optional<std::string>(std::size_t index, const RecordedRequest&)>;

    RecordingServer(boost::asio::io_context& io, Script script)
        : acceptor_(io, {boost::asio::ip::address_v4::loopback(), 0}), script_(std::move(script)) {
        accept();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string_view path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
    }
    const std::vector<RecordedRequest>& requests() const { return requests_; }
    std::size_t connections() const { return connections_; }

  private:
    struct Connection {
        explicit Connection(boost::asio::io_context& io) : socket(io) {}
        boost::asio::ip::tcp::socket socket;
        std::string data;
        char buf[4096];
        std::string reply;
    };

    void accept() {
        auto c = std::make_shared<Connection>(
            static_cast<boost::asio::io_context&>(acceptor_.get_executor().context()));
        acceptor_.async_accept(c->socket, [this, c](boost::system::error_code ec) {
            if (ec) return;
            ++connections_;
            read(c);
            accept();
        });
    }

    void read(const std::shared_ptr<Connection>& c) {
        c->socket.async_read_some(boost::asio::buffer(c->buf),
                                  [this, c](boost::system::error_code ec, std::size_t n) {
                                      if (ec) return;
                                      c->data.append(c->buf, n);
                                      if (!complete(c)) read(c);
                                  });
    }

    // True once the whole request is in (and answered or left silent).
    bool complete(const std::shared_ptr<Connection>& c) {
        const std::size_t end = c->data.find("\r\n\r\n");
        if (end == std::string::npos) return false;
        RecordedRequest r;
        r.head = c->data.substr(0, end + 4);
        const std::string length = r.header("Content-Length");
        const std::size_t want = length.empty() ? 0 : std::stoul(length);
        if (c->data.size() - r.head.size() < want) return false;
        r.body = c->data.substr(r.head.size(), want);
        const std::size_t index = requests_.size();
        requests_.push_back(r);
        auto reply = script_(index, requests_.back());
        if (!reply) {
            silent_.push_back(c);  // kept open, never answered
            return true;
        }
        c->reply = std::move(*reply);
        boost::asio::async_write(
            c->socket, boost::asio::buffer(c->reply), [c](boost::system::error_code, std::size_t) {
                boost::system::error_code ignored;
                c->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
            });
        return true;
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    Script script_;
    std::vector<RecordedRequest> requests_;
    std::vector<std::shared_ptr<Connection>> silent_;
    std::size_t connections_ = 0;
};

}  // namespace switchyard::test

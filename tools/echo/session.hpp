// switchyard-echo: one client connection, in the style of Beast's
// example/http/server/async: kept alive by shared_from_this, one do_x/on_x
// pair per asynchronous step, an error_code on each of them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include "echo_options.hpp"

namespace switchyard::echo {

// What the process serves, shared read-only by every session.
struct EchoIdentity {
    std::string name;       // --name
    std::string name_body;  // the default body: name + "\n"
    // A build that misbehaves (scripts/ramp-check.sh, the ramp's tests): a
    // share of the requests that ask for no status get a 500 (--fail-percent,
    // in basis points, spread evenly), and every request that asks for no
    // delay gets this one (--delay-ms).
    std::uint32_t fail_bp = 0;
    std::uint64_t delay_ms = 0;
    // A share of the requests that ask for no delay (--slow-percent, basis
    // points, spread evenly) take slow_min_ms..slow_max_ms instead
    // (--slow-ms MIN-MAX), spread evenly over that range.
    std::uint32_t slow_bp = 0;
    std::uint64_t slow_min_ms = 0, slow_max_ms = 0;
    std::shared_ptr<std::atomic<std::uint64_t>> served =
        std::make_shared<std::atomic<std::uint64_t>>(0);
};

// What the parser learns about the request in progress.
struct RequestState {
    bool is_head = false;
    bool expect_continue = false;
    int version = 11;
    std::string target;
    std::uint64_t body_bytes = 0;
    std::uint64_t body_hash = 0;
    bool keep_body = false;  // echo=body: keep the body bytes
    std::string body;

    void reset();
};

// A request parser that keeps no message: it records the few things the echo
// needs and hashes body bytes straight out of the read buffer, so a body of any
// size streams through a fixed-size buffer.
class RequestParser : public boost::beast::http::basic_parser<true> {
  public:
    explicit RequestParser(RequestState& state) : state_(state) {}

  private:
    void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                         boost::beast::string_view target, int version,
                         boost::beast::error_code& ec) override;
    void on_response_impl(int code, boost::beast::string_view reason, int version,
                          boost::beast::error_code& ec) override;
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                       boost::beast::string_view value, boost::beast::error_code& ec) override;
    void on_header_impl(boost::beast::error_code& ec) override;
    void on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                           boost::beast::error_code& ec) override;
    std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                              boost::beast::error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                   boost::beast::error_code& ec) override;
    void on_finish_impl(boost::beast::error_code& ec) override;

    std::size_t take_body(boost::beast::string_view body);

    RequestState& state_;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(boost::asio::ip::tcp::socket socket, const EchoIdentity& identity,
            std::uint64_t conn_id);

    void run();

  private:
    enum class BodySource { string, pattern };

    void start_request();
    void process();
    void apply_behaviour();
    void on_header_done(std::size_t head_bytes);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void do_write_continue();
    void on_write_continue(boost::beast::error_code ec, std::size_t bytes);
    void on_request();
    void on_delay(boost::beast::error_code ec);
    void respond();
    void build_head();
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_shutdown();
    void do_linger_read();
    void on_linger_read(boost::beast::error_code ec, std::size_t bytes);
    void on_linger_timeout(boost::beast::error_code ec);
    void do_reset();
    void on_reset_wait(boost::beast::error_code ec);
    void fail_request(unsigned status, std::string_view message);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    const EchoIdentity& identity_;
    std::string identity_fields_;  // "X-Echo-Name: …\r\nX-Echo-Conn: …\r\n"

    // The request in progress.
    RequestState request_;
    std::optional<RequestParser> parser_;
    bool header_done_ = false;
    EchoOptions options_;
    std::string request_head_;  // echo=head: the raw head as received
    unsigned error_status_ = 0;
    std::string error_body_;

    // The response in progress.
    std::string response_head_;
    bool keep_alive_ = true;
    bool chunked_ = false;
    bool head_written_ = false;
    BodySource body_source_ = BodySource::string;
    std::string_view body_string_;
    std::uint64_t body_length_ = 0;
    std::uint64_t body_limit_ = 0;  // bytes of the body actually sent (less on abort)
    std::uint64_t body_sent_ = 0;
    std::size_t piece_ = 0;
    std::array<char, 24> chunk_line_{};
    std::string last_chunk_;  // the last chunk with the trailer= fields
    int reset_polls_ = 0;
};

}  // namespace switchyard::echo

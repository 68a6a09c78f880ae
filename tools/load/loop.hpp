// switchyard-load: one request loop, in the style of Beast's
// example/http/client/async: kept alive by shared_from_this, one do_x/on_x
// pair per asynchronous step, an error_code on each of them. A loop sends one
// request at a time, back to back, until the run stops it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "load_options.hpp"
#include "request_plan.hpp"
#include "stats.hpp"

namespace switchyard::load {

enum class LoopKind {
    keepalive,    // one long-lived connection, reopened only when the server ends it
    per_request,  // a new connection for every request (Connection: close)
    slow,         // keep-alive, GET /?delay_ms=M
};

enum class StopReason { none, duration, max_requests, signal };

// What every loop of every thread reads to know whether to start a request.
class RunControl {
  public:
    explicit RunControl(std::uint64_t max_requests) : max_requests_(max_requests) {}

    // Takes the right to start one more request; false once the run is over.
    bool take_ticket();
    void stop(StopReason why);
    bool stopped() const { return stopped_.load(std::memory_order_relaxed); }
    StopReason reason() const { return reason_.load(); }

  private:
    const std::uint64_t max_requests_;  // 0: no limit
    std::atomic<std::uint64_t> issued_{0};
    std::atomic<bool> stopped_{false};
    std::atomic<StopReason> reason_{StopReason::none};
};

class Loop : public std::enable_shared_from_this<Loop> {
  public:
    Loop(boost::asio::io_context& ioc, LoopKind kind, const LoadOptions& options,
         const PlanOptions& plan_options, RunControl& control, Stats& stats, std::uint64_t seed);

    void run();
    // Cuts what is in flight (second signal, or the run's last-resort deadline).
    void abort();

  private:
    void next();
    void start_request();
    void do_connect();
    void on_connect(boost::beast::error_code ec);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void on_response();
    void fail(boost::beast::error_code ec, std::string_view phase);
    // Records the request and starts the next one (after a pause if back_off).
    void finish(Outcome outcome, unsigned status, std::string_view pool, std::string_view detail,
                bool back_off = false);
    void do_backoff();
    void on_backoff(boost::beast::error_code ec);
    bool idle_connection_usable();
    void close();

    const LoopKind kind_;
    const LoadOptions& options_;
    RunControl& control_;
    Stats& stats_;
    RequestFactory factory_;
    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer backoff_;
    boost::beast::flat_buffer buffer_;
    bool connected_ = false;
    bool aborted_ = false;

    // The request in progress.
    Plan plan_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    std::chrono::steady_clock::time_point start_;
    std::int64_t start_epoch_ms_ = 0;
};

}  // namespace switchyard::load

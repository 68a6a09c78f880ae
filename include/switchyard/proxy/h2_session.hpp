// H2Session: a client connection that speaks HTTP/2 (h2 chosen by ALPN on a
// TLS listener, or h2c by prior knowledge on a plain one), DESIGN.md
// "HTTP/2 on listeners".
//
// The ClientSession keeps the connection (socket, TLS, PROXY header, the
// worker's bookkeeping) and hands it to an H2Session once HTTP/2 is chosen.
// The session reads the client's bytes into its H2Connection (framing,
// HPACK, flow control, defences) and writes what the connection has to say;
// each request stream is an H2Stream, which drives an Exchange like an
// HTTP/1.1 request. Handlers hold the ClientSession, as its own do.
//
// Deadlines: timeouts.client_idle while no stream is open (then GOAWAY),
// timeouts.send for each socket write, and per stream those of H2Stream.
// Draining sends GOAWAY in two steps and lets the streams in flight finish.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/http/h2_connection.hpp"
#include "switchyard/proxy/deadline.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class ClientSession;
class H2Stream;

class H2Session final : private http::H2Connection::Handler {
  public:
    H2Session(ClientSession& connection, Worker& worker);
    ~H2Session() override;
    H2Session(const H2Session&) = delete;
    H2Session& operator=(const H2Session&) = delete;

    // Our SETTINGS, then the client's bytes (those the connection read
    // already first).
    void start();

    // The ClientSession's TimedSession hooks.
    void on_tick(Clock::time_point now);
    void on_shutdown();
    void on_force_close();
    bool cut_if_on_pool(std::string_view pool, std::uint64_t generation);
    bool retry_slot(Clock::time_point now);
    // The connection closes: every stream's exchange gives back what it holds.
    void abandon();

    // --- For the streams ------------------------------------------------------
    ClientSession& connection() { return connection_; }
    Worker& worker() { return worker_; }
    http::H2Connection& h2() { return h2_; }
    H2Stream* find(std::int32_t id);
    std::vector<std::int32_t> stream_ids() const;
    // The connection's certificate (TLS) covers `host`, or there is none
    // (h2c, or no host: a 400 follows). The answer for the last host is
    // kept: a connection's streams mostly name one, and checking costs.
    bool certificate_covers(std::string_view host);
    // Writes what the HTTP/2 connection has to say, unless a write is in flight.
    void flush();
    // The stream's request is over: it is destroyed once off the stack.
    void retire(std::int32_t id);

  private:
    void read();
    void on_read(boost::system::error_code ec, std::size_t n);
    void on_written(boost::system::error_code ec, std::size_t n);
    // Ends the connection once what is queued is written.
    void finish();
    // Adds what the connection counted since the last report to the worker's sums.
    void report();

    // http::H2Connection::Handler
    void on_request(std::int32_t stream, std::span<const http::H2FieldView> fields, bool end_stream,
                    bool too_large) override;
    void on_request_data(std::int32_t stream) override;
    void on_request_end(std::int32_t stream) override;
    void on_stream_close(std::int32_t stream, std::uint32_t error) override;
    void on_drained(std::int32_t stream) override;

    ClientSession& connection_;
    Worker& worker_;
    http::H2Connection h2_;
    std::map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
    std::vector<std::unique_ptr<H2Stream>> retired_;
    bool cleanup_posted_ = false;
    std::string out_;  // the write in flight
    bool writing_ = false;
    bool flushing_ = false;
    bool flush_again_ = false;
    bool write_posted_ = false;       // out_'s write starts from a handler of its own
    bool ending_ = false;             // no more reads; close once written
    bool reading_ = false;            // a read is in flight
    bool opened_since_tick_ = false;  // see on_tick
    Deadline idle_deadline_;          // no stream open
    Deadline write_deadline_;         // the write in flight
    Clock::time_point shutdown_at_ = Clock::time_point::max();  // the GOAWAY notice went out
    bool final_goaway_ = false;
    std::string checked_host_;  // the last host certificate_covers() checked
    bool covers_checked_ = false;
    http::H2Counters reported_{};  // what the worker's sums have of this connection
};

}  // namespace switchyard::proxy

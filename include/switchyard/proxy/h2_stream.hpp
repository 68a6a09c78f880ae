// H2Stream: one request stream of an H2Session, the client side of its
// Exchange (ClientSide).
//
// The request reaches the Exchange as a head made from the stream's fields
// (http/h2_head.hpp, checked by the parser as text would be), then its body
// as HTTP/1.1 bytes, chunked when its length is unknown. The stream takes body bytes from the
// connection only while its own buffer has room, so the client's window opens as fast as the
// upstream takes the body. The Exchange's HTTP/1.1 response is turned back into HEADERS (1xx first,
// if any), DATA and the end of the stream; a write completes once its bytes went into frames, which
// happens only as fast as the client's windows and the socket allow.
//
// Deadlines: timeouts.client_body while waiting for body bytes, and
// timeouts.send while response bytes wait on the client's window (a
// stream stalled on a zero window is reset).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/http/chunked_decoder.hpp"
#include "switchyard/http/h2_connection.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/proxy/client_side.hpp"
#include "switchyard/proxy/deadline.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

class H2Session;

class H2Stream final : public ClientSide {
  public:
    H2Stream(H2Session& session, std::int32_t id, std::shared_ptr<const Settings> settings);
    ~H2Stream();
    H2Stream(const H2Stream&) = delete;
    H2Stream& operator=(const H2Stream&) = delete;

    // --- From the session -------------------------------------------------------
    void begin(std::span<const http::H2FieldView> fields, bool end_stream, bool too_large);
    void on_data();
    void on_end();
    void on_drained();
    // The stream is gone on the connection (its response sent, or reset).
    void on_closed(std::uint32_t error);
    void on_tick(Clock::time_point now);
    Exchange* exchange() { return exchange_.get(); }
    std::int32_t id() const { return id_; }

    // --- ClientSide ---------------------------------------------------------------
    const ClientPeer& peer() const override;
    const ListenerContext& listener() const override;
    std::string_view received() const override;
    void consume(std::size_t n) override;
    void reset_body_rate(bool, std::size_t) override {}
    void read_body(Step then) override;
    bool reading_body() const override { return read_step_ != nullptr; }
    void write(std::span<const boost::asio::const_buffer> buffers, Step then) override;
    void write_final(std::string_view bytes, Step then) override;
    bool timed_out() const override { return timed_out_; }
    void end_request(bool close) override;
    void close_now() override;
    std::shared_ptr<TimedSession> keepalive() override;
    bool http2() const override { return true; }
    void send_response_head(unsigned status, std::span<const http::H2FieldView> fields,
                            bool chunked) override;

  private:
    // Moves body bytes from the connection into the request while there is room.
    void pull_body();
    // Response bytes (HTTP/1.1) into HEADERS and DATA; body bytes are lent
    // (send_body) when `lend`.
    bool take_response(std::string_view bytes, bool lend);
    bool send_body(std::string_view bytes, bool lend);
    // Calls `step` on the exchange from a handler of its own (never from
    // inside the exchange's call), unless the stream ended meanwhile.
    void complete_later(Step step, boost::system::error_code ec, std::size_t n);
    void complete_read(boost::system::error_code ec);
    void complete_write(boost::system::error_code ec);
    // The client is gone: a pending step fails, or the exchange is cut.
    void fail_client();

    H2Session& session_;
    std::int32_t id_;
    std::shared_ptr<const Settings> settings_;
    // The exchange's buffers and the stream's (space_->h2), lent by the worker.
    std::unique_ptr<RequestSpace> space_;
    std::unique_ptr<Exchange> exchange_;
    std::uint64_t seq_ = 0;  // bumped when the request ends: later completions are dropped

    // The request body as HTTP/1.1 bytes (space_->h2.request): from
    // in_offset_ on is unconsumed.
    std::size_t in_offset_ = 0;
    bool chunked_body_ = false;
    bool request_ended_ = false;  // END_STREAM received
    bool body_complete_ = false;  // ... and everything of it is in in_
    Step read_step_ = nullptr;
    Deadline read_deadline_;

    // The response: a head being read back (space_->h2.head), then DATA.
    bool head_sent_ = false;  // the final HEADERS was submitted
    // A chunked body (the exchange re-chunks what the upstream chunked):
    // decoded here, its trailers kept (space_->h2.trailers) for the end of
    // the stream.
    std::optional<http::ChunkedDecoder> decoder_;
    bool response_ended_ = false;  // END_STREAM submitted
    Step write_step_ = nullptr;
    std::size_t write_bytes_ = 0;
    Deadline write_deadline_;
    bool timed_out_ = false;
    bool closed_ = false;  // gone on the connection
    bool ended_ = false;   // the exchange's request is over
};

}  // namespace switchyard::proxy

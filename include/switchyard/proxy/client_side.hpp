// ClientSide: what an Exchange needs of the client side of its request, so
// that one Exchange serves an HTTP/1.1 connection (ClientSession) and an
// HTTP/2 stream (H2Stream) alike (Envoy's split of the codec from the
// router: the request's life is written once).
//
// The request is seen as HTTP/1.1: a parsed head, then received() holds
// its body as HTTP/1.1 frames it; the response is written as HTTP/1.1
// bytes (head, then the body). An HTTP/2 stream translates both ways
// without text where it can: its request head is given to the parser as
// parts, and a forwarded response's final head reaches it as fields
// (send_response_head). Completions call back into the
// Exchange (Step) only while its request is current.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/http/h2_connection.hpp"

namespace switchyard::proxy {

class Exchange;
class ClientSession;
class TimedSession;
struct ListenerContext;

// Who is at the other end of the connection: the peer as the connection
// shows it, or as a PROXY header states it. Every connection holds one for
// its whole life, so the address is kept in place, not in a heap block.
struct ClientPeer {
    std::array<std::uint8_t, 16> ip_bytes{};
    std::uint8_t ip_size = 0;  // 4 or 16
    bool trusted = false;      // in the listener's trusted_proxies
    std::string ip_text;       // appended to X-Forwarded-For
    std::string address;       // ip:port, [ip]:port for IPv6

    std::span<const std::uint8_t> ip() const { return {ip_bytes.data(), ip_size}; }
};

class ClientSide {
  public:
    using error_code = boost::system::error_code;
    using Step = void (Exchange::*)(error_code, std::size_t);

    virtual const ClientPeer& peer() const = 0;
    virtual const ListenerContext& listener() const = 0;
    // The request's bytes not consumed yet.
    virtual std::string_view received() const = 0;
    virtual void consume(std::size_t n) = 0;
    // A body's minimum rate starts over (timeouts.client_body_min_rate).
    virtual void reset_body_rate(bool started, std::size_t buffered) = 0;
    // More of the request body within timeouts.client_body; then `then`.
    virtual void read_body(Step then) = 0;
    virtual bool reading_body() const = 0;
    // Writes response bytes within timeouts.send; then `then`.
    virtual void write(std::span<const boost::asio::const_buffer> buffers, Step then) = 0;
    // Writes a response that ends the request: nothing issued for the
    // request before may act from here on.
    virtual void write_final(std::string_view bytes, Step then) = 0;
    // The client side's deadline ran out (the last read or write failed by it).
    virtual bool timed_out() const = 0;
    // The request is over: the next one, or close (HTTP/1.1); the stream
    // ends (HTTP/2).
    virtual void end_request(bool close) = 0;
    // Ends the request's client side at once: the connection (HTTP/1.1),
    // the stream with RST_STREAM (HTTP/2).
    virtual void close_now() = 0;
    // What pending upstream handlers keep alive, and what retries a slot.
    virtual std::shared_ptr<TimedSession> keepalive() = 0;

    // "HTTP/1.1" or "HTTP/2.0": in the access log, and how the response is
    // framed.
    virtual bool http2() const { return false; }
    // HTTP/2 only (http2()): the final head of a forwarded response, sent
    // as it is; the body written next (write) carries the payload alone,
    // chunked when `chunked` (the stream decodes it, trailers included).
    virtual void send_response_head(unsigned /*status*/, std::span<const http::H2FieldView>,
                                    bool /*chunked*/) {}
    // The HTTP/1.1 connection, for a tunnel after a 101 (none on HTTP/2).
    virtual ClientSession* connection() { return nullptr; }

  protected:
    ~ClientSide() = default;
};

}  // namespace switchyard::proxy

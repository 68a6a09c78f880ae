#include "switchyard/proxy/tunnel.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "switchyard/proxy/client_session.hpp"
#include "switchyard/proxy/exchange.hpp"
#include "switchyard/proxy/upstream_exchange.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Tunnel::Tunnel(Exchange& exchange, ClientSession& client, UpstreamExchange& upstream,
               Clock::duration idle, std::uint64_t& bytes_in, std::uint64_t& bytes_out)
    : exchange_(exchange),
      client_(client),
      upstream_(upstream),
      idle_(idle),
      bytes_in_(bytes_in),
      bytes_out_(bytes_out) {}

void Tunnel::start() {
    step(true);
    step(false);
}

void Tunnel::step(bool to_upstream) {
    UpstreamConnection& up = upstream_.connection();
    auto& source_buffer = to_upstream ? client_.input() : up.buffer;
    auto& source = to_upstream ? client_.stream() : up.stream;
    auto& sink = to_upstream ? up.stream : client_.stream();
    if (source_buffer.size() > 0) {
        asio::async_write(sink, source_buffer.data(),
                          client_.guard([to_upstream](Exchange& ex, error_code ec, std::size_t n) {
                              ex.tunnel()->on_written(to_upstream, ec, n);
                          }));
        return;
    }
    const auto now = Clock::now();
    client_.arm_client_deadline(now, idle_, ErrorKind::none);
    upstream_.arm_deadline(now, idle_, ErrorKind::none);
    source.async_read_some(source_buffer.prepare(16 * 1024),
                           client_.guard([to_upstream](Exchange& ex, error_code ec, std::size_t n) {
                               ex.tunnel()->on_read(to_upstream, ec, n);
                           }));
}

void Tunnel::on_written(bool to_upstream, error_code ec, std::size_t n) {
    if (ec) {
        exchange_.end_tunnel();
        return;
    }
    (to_upstream ? client_.input() : upstream_.connection().buffer).consume(n);
    (to_upstream ? bytes_in_ : bytes_out_) += n;
    step(to_upstream);
}

void Tunnel::on_read(bool to_upstream, error_code ec, std::size_t n) {
    // A TLS peer that closes without close_notify ends its side as a plain
    // one does.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        half_close(to_upstream);
        return;
    }
    if (ec) {  // a reset, or cancelled at tunnel_idle
        exchange_.end_tunnel();
        return;
    }
    (to_upstream ? client_.input() : upstream_.connection().buffer).commit(n);
    step(to_upstream);
}

// One side finished sending (EOF; everything it sent before was relayed):
// pass the half-close on and keep relaying the other way until that side
// ends too. On a plain TCP sink that is shutdown(send). A TLS sink would
// need a close_notify, which Asio can only send together with a read of
// the peer's, and that read is the other direction's: there the half-close
// is not passed on, and the connection closes when the other side ends.
void Tunnel::half_close(bool to_upstream) {
    eof_[to_upstream ? 0 : 1] = true;
    if (eof_[0] && eof_[1]) {
        exchange_.end_tunnel();
        return;
    }
    auto& sink = to_upstream ? upstream_.connection().stream : client_.stream();
    if (!sink.tls()) {
        error_code ec;
        sink.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) exchange_.end_tunnel();
    }
}

}  // namespace switchyard::proxy

#include "switchyard/proxy/h2_session.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "switchyard/proxy/client_session.hpp"
#include "switchyard/proxy/exchange.hpp"
#include "switchyard/proxy/h2_stream.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// What one socket write carries at most; framing more waits for it. Each
// write's completion waits its turn behind every other connection's
// handlers, so a cap that splits what is ready into several writes makes
// the streams framed last wait several turns: at 64 KiB, ten 16 KiB
// responses on one connection took three, which spread h2load's latencies
// from 12 ms (p10) to 45 ms (p99) around a median of 25 ms (HAProxy:
// 22-36 ms). 256 KiB takes what ten such streams have ready at once.
constexpr std::size_t kWriteChunk = 256 * 1024;
// Between the GOAWAY notice and the real GOAWAY: a round trip, generously.
constexpr std::chrono::milliseconds kGoawayGrace{1000};

}  // namespace

H2Session::H2Session(ClientSession& connection, Worker& worker)
    : connection_(connection),
      worker_(worker),
      h2_(*this, connection.listener().h2_limits, Clock::now()) {}

H2Session::~H2Session() {
    report();
}

void H2Session::report() {
    worker_.counters().h2.add_since(h2_.counters(), reported_);
}

void H2Session::start() {
    ++worker_.counters().h2_connections;
    auto& in = connection_.input();
    if (in.size() > 0) {
        const auto d = in.data();
        const bool ok = h2_.receive({static_cast<const char*>(d.data()), d.size()}, Clock::now());
        in.consume(in.size());
        if (!ok) {
            finish();
            return;
        }
    }
    idle_deadline_.arm(Clock::now(), worker_.settings()->timeouts.client_idle,
                       ErrorKind::client_closed);
    flush();
    read();
}

// A copy: what is done to a stream may end it (or others).
std::vector<std::int32_t> H2Session::stream_ids() const {
    std::vector<std::int32_t> ids;
    ids.reserve(streams_.size());
    for (const auto& [id, stream] : streams_)
        ids.push_back(id);
    return ids;
}

H2Stream* H2Session::find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

bool H2Session::certificate_covers(std::string_view host) {
    SSL* ssl = connection_.stream().native_tls();
    if (ssl == nullptr || host.empty()) return true;
    if (host == checked_host_) return covers_checked_;
    X509* cert = SSL_get_certificate(ssl);  // the one SNI chose
    checked_host_.assign(host);             // NUL-terminated for X509_check_ip_asc
    covers_checked_ =
        cert == nullptr ||
        X509_check_host(cert, checked_host_.data(), checked_host_.size(), 0, nullptr) == 1 ||
        X509_check_ip_asc(cert, checked_host_.c_str(), 0) == 1;
    return covers_checked_;
}

// --- I/O ----------------------------------------------------------------------------

void H2Session::read() {
    if (ending_ || reading_) return;
    reading_ = true;
    // Everything read was handed to the HTTP/2 connection (on_read): the
    // input is empty, and an idle connection holds no read buffer.
    connection_.read_input(kReadChunk,
                           [self = connection_.keepalive(), this](error_code ec, std::size_t n) {
                               reading_ = false;
                               if (connection_.closing()) return;
                               on_read(ec, n);
                           });
}

void H2Session::on_read(error_code ec, std::size_t n) {
    if (ec) {
        // The client closed or reset the connection: nobody to answer.
        worker_.log().debug("{}: HTTP/2 read: {}", connection_.peer().address, ec.message());
        connection_.close_now();
        return;
    }
    auto& in = connection_.input();
    in.commit(n);
    const auto d = in.data();
    const bool ok = h2_.receive({static_cast<const char*>(d.data()), d.size()}, Clock::now());
    in.consume(in.size());
    if (!ok) {
        worker_.log().debug("{}: HTTP/2: {}", connection_.peer().address, h2_.error());
        finish();
        return;
    }
    flush();
    read();
}

void H2Session::flush() {
    if (writing_ || flushing_) {
        flush_again_ = true;
        return;
    }
    flushing_ = true;
    do {
        flush_again_ = false;
        if (out_.size() < kWriteChunk) h2_.pull_output(out_, kWriteChunk - out_.size());
    } while (flush_again_ && out_.size() < kWriteChunk);
    flushing_ = false;
    if (connection_.closing()) return;
    if (out_.empty()) {
        if (ending_ || h2_.finished()) connection_.close_gracefully();
        return;
    }
    if (write_posted_) return;
    // The write goes out after the handlers ready now ran: responses that
    // complete in the same turn share one write (one TLS record, one send).
    write_posted_ = true;
    asio::post(worker_.io(), [self = connection_.keepalive(), this] {
        write_posted_ = false;
        if (connection_.closing() || writing_ || out_.empty()) return;
        writing_ = true;
        write_deadline_.arm(Clock::now(), worker_.settings()->timeouts.send,
                            ErrorKind::send_timeout);
        asio::async_write(connection_.stream(), asio::buffer(out_),
                          [self, this](error_code ec, std::size_t n) {
                              if (connection_.closing()) return;
                              on_written(ec, n);
                          });
    });
}

void H2Session::on_written(error_code ec, std::size_t) {
    writing_ = false;
    write_deadline_.clear();
    // A connection with no stream open may stay idle for long: it keeps no
    // output buffer (a busy one keeps its own, about kWriteChunk at most).
    if (streams_.empty())
        std::string().swap(out_);
    else
        out_.clear();
    if (ec) {
        worker_.log().debug("{}: HTTP/2 write: {}", connection_.peer().address, ec.message());
        connection_.close_now();
        return;
    }
    flush();
}

void H2Session::finish() {
    ending_ = true;
    flush();
}

// --- Streams ---------------------------------------------------------------------------

void H2Session::on_request(std::int32_t id, std::span<const http::H2FieldView> fields,
                           bool end_stream, bool too_large) {
    idle_deadline_.clear();
    opened_since_tick_ = true;
    auto stream = std::make_unique<H2Stream>(*this, id, worker_.settings());
    H2Stream& s = *stream;
    streams_.emplace(id, std::move(stream));
    s.begin(fields, end_stream, too_large);
}

void H2Session::on_request_data(std::int32_t id) {
    if (H2Stream* s = find(id)) s->on_data();
}

void H2Session::on_request_end(std::int32_t id) {
    if (H2Stream* s = find(id)) s->on_end();
}

void H2Session::on_stream_close(std::int32_t id, std::uint32_t error) {
    if (H2Stream* s = find(id)) s->on_closed(error);
}

void H2Session::on_drained(std::int32_t id) {
    if (H2Stream* s = find(id)) s->on_drained();
}

void H2Session::retire(std::int32_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    retired_.push_back(std::move(it->second));
    streams_.erase(it);
    if (streams_.empty()) {
        idle_deadline_.arm(Clock::now(), worker_.settings()->timeouts.client_idle,
                           ErrorKind::client_closed);
        if (final_goaway_) finish();
    }
    if (cleanup_posted_) return;
    cleanup_posted_ = true;
    // Destroyed from a handler of its own: the stream's exchange may be on
    // the stack now.
    asio::post(worker_.io(), [self = connection_.keepalive(), this] {
        cleanup_posted_ = false;
        retired_.clear();
    });
}

void H2Session::abandon() {
    for (auto& [id, stream] : streams_) {
        h2_.own_queued(id);  // what they lent goes with their exchanges
        retired_.push_back(std::move(stream));
    }
    streams_.clear();
    for (auto& stream : retired_)
        if (stream->exchange() != nullptr) stream->exchange()->abandon();
}

// --- The connection's hooks ----------------------------------------------------------

void H2Session::on_tick(Clock::time_point now) {
    report();
    if (write_deadline_.at <= now) {
        // The client does not read at all.
        connection_.close_now();
        return;
    }
    if (streams_.empty() && idle_deadline_.at <= now && !ending_) {
        h2_.goaway();
        finish();
        return;
    }
    if (!final_goaway_ && shutdown_at_ != Clock::time_point::max() &&
        now - shutdown_at_ >= kGoawayGrace) {
        final_goaway_ = true;
        h2_.goaway();
        if (streams_.empty())
            finish();
        else
            flush();
    }
    // No stream open, and none opened since the last tick: the connection
    // has gone quiet and gives back the stream objects it kept.
    if (streams_.empty() && !opened_since_tick_) h2_.release_spare_streams();
    opened_since_tick_ = false;
    for (auto id : stream_ids())
        if (H2Stream* s = find(id)) s->on_tick(now);
}

void H2Session::on_shutdown() {
    if (shutdown_at_ != Clock::time_point::max()) return;
    shutdown_at_ = Clock::now();
    h2_.announce_shutdown();
    flush();
}

void H2Session::on_force_close() {
    for (auto id : stream_ids())
        if (H2Stream* s = find(id); s != nullptr && s->exchange() != nullptr)
            s->exchange()->cut(ErrorKind::client_closed);
    connection_.close_now();
}

bool H2Session::cut_if_on_pool(std::string_view pool, std::uint64_t generation) {
    std::vector<std::int32_t> ids;
    for (const auto& [id, stream] : streams_)
        if (stream->exchange() != nullptr &&
            stream->exchange()->started_on_pool_before(pool, generation))
            ids.push_back(id);
    for (auto id : ids)
        if (H2Stream* s = find(id); s != nullptr && s->exchange() != nullptr)
            s->exchange()->cut(ErrorKind::drain_cut);
    return !ids.empty();
}

bool H2Session::retry_slot(Clock::time_point now) {
    bool done = true;
    for (auto id : stream_ids())
        if (H2Stream* s = find(id); s != nullptr && s->exchange() != nullptr)
            done = s->exchange()->retry_slot(now) && done;
    return done;
}

}  // namespace switchyard::proxy

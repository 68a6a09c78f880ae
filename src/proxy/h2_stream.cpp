#include "switchyard/proxy/h2_stream.hpp"

#include <boost/asio/error.hpp>

#include <boost/asio/post.hpp>

#include "switchyard/http/h2_head.hpp"
#include "switchyard/proxy/client_session.hpp"
#include "switchyard/proxy/exchange.hpp"
#include "switchyard/proxy/h2_session.hpp"

namespace switchyard::proxy {

namespace asio = boost::asio;
using boost::system::error_code;
using http::H2Error;

namespace {

// Request body bytes a stream holds for its exchange; the rest waits in the
// connection, under the client's window.
constexpr std::size_t kBodyBuffer = 64 * 1024;

http::HeadParser<true>::Limits request_limits(const Settings& s) {
    return {s.limits.max_header_bytes, s.limits.max_target_bytes, 256};
}

}  // namespace

H2Stream::H2Stream(H2Session& session, std::int32_t id, std::shared_ptr<const Settings> settings)
    : session_(session), id_(id), settings_(std::move(settings)) {}

H2Stream::~H2Stream() {
    if (exchange_) exchange_->abandon();
    exchange_.reset();
    if (space_) session_.worker().give_back(std::move(space_));
}

const ClientPeer& H2Stream::peer() const {
    return session_.connection().peer();
}

const ListenerContext& H2Stream::listener() const {
    return session_.connection().listener();
}

std::shared_ptr<TimedSession> H2Stream::keepalive() {
    return session_.connection().keepalive();
}

// --- The request ------------------------------------------------------------------

void H2Stream::begin(std::span<const http::H2FieldView> fields, bool end_stream, bool too_large) {
    Worker& worker = session_.worker();
    space_ = worker.take_request_space();
    exchange_ =
        std::make_unique<Exchange>(*this, worker, settings_, Clock::now(), space_->exchange);
    request_ended_ = body_complete_ = end_stream;
    if (too_large) {
        exchange_->respond_local(431, ErrorKind::none);
        return;
    }
    if (!session_.certificate_covers(http::authority_host(fields))) {
        // Another origin on this connection (connection coalescing) that
        // its certificate does not cover (RFC 9110 §15.5.20).
        exchange_->respond_local(421, ErrorKind::none);
        return;
    }
    http::RequestParts& parts = space_->h2.parts;
    const unsigned refuse = http::read_request_fields(fields, !end_stream, parts);
    if (refuse != 0) {
        exchange_->respond_local(refuse, ErrorKind::none);
        return;
    }
    chunked_body_ = parts.chunked;
    auto& parser = space_->parser;
    parser.emplace(request_limits(*settings_), space_->head_fields);
    if (parser->assign(parts.method, parts.target, parts.fields) != http::ParseStatus::done) {
        exchange_->respond_local(http::status_for(parser->error()), ErrorKind::none);
        return;
    }
    // The head's views point into the stream's fields and `parts`; the
    // exchange copies what it keeps. The body arrives in space_->h2.request,
    // and so do the pieces of an upstream send in flight: it changes only
    // in pull_body, which runs only while the exchange waits for body bytes
    // (read_body), never while it sends.
    exchange_->begin(*parser);
}

std::string_view H2Stream::received() const {
    return std::string_view(space_->h2.request).substr(in_offset_);
}

void H2Stream::consume(std::size_t n) {
    std::string& in = space_->h2.request;
    in_offset_ += n;
    if (in_offset_ >= in.size()) {
        in.clear();
        in_offset_ = 0;
    }
}

void H2Stream::pull_body() {
    if (body_complete_ || closed_) return;
    auto& h2 = session_.h2();
    std::string& in = space_->h2.request;
    // Room for more: compact what was consumed first.
    if (in_offset_ > 0) {
        in.erase(0, in_offset_);
        in_offset_ = 0;
    }
    const auto available = h2.input(id_);
    const std::size_t room = in.size() < kBodyBuffer ? kBodyBuffer - in.size() : 0;
    const std::size_t n = std::min(room, available.size());
    if (n > 0) {
        if (chunked_body_)
            http::append_chunk(in, available.substr(0, n));
        else
            in.append(available.substr(0, n));
        h2.consume(id_, n);
        session_.flush();  // the WINDOW_UPDATE
    }
    if (request_ended_ && h2.input(id_).empty()) {
        if (chunked_body_) http::append_last_chunk(in, h2.request_trailers(id_));
        body_complete_ = true;
    }
}

void H2Stream::read_body(Step then) {
    pull_body();
    if (!received().empty() || body_complete_) {
        complete_later(then, {}, received().size());
        return;
    }
    read_step_ = then;
    read_deadline_.arm(Clock::now(), settings_->timeouts.client_body, ErrorKind::client_timeout);
}

void H2Stream::on_data() {
    if (read_step_ == nullptr) return;  // taken when the exchange asks (read_body)
    pull_body();
    if (!received().empty() || body_complete_) complete_read({});
}

void H2Stream::on_end() {
    request_ended_ = true;
    on_data();
}

void H2Stream::complete_read(error_code ec) {
    const Step step = read_step_;
    read_step_ = nullptr;
    read_deadline_.clear();
    if (step != nullptr && exchange_ && !ended_) (exchange_.get()->*step)(ec, received().size());
}

// --- The response -----------------------------------------------------------------

// Body bytes as the exchange wrote them: chunked ones are decoded (their
// trailers kept for the end of the stream), DATA carry the payload alone.
// `lend`: the bytes are the write's, valid until it completes, which is
// when they are framed (or the stream is reset): they are not copied.
bool H2Stream::send_body(std::string_view bytes, bool lend) {
    auto& h2 = session_.h2();
    auto queue = [&](std::string_view piece) {
        if (lend)
            h2.lend_data(id_, piece);
        else
            h2.send_data(id_, piece);
    };
    if (!decoder_) {
        queue(bytes);
        return true;
    }
    auto& pieces = space_->h2.pieces;
    pieces.clear();
    decoder_->decode(bytes, pieces);
    for (auto piece : pieces)
        queue(piece);
    return !decoder_->failed();
}

bool H2Stream::take_response(std::string_view bytes, bool lend) {
    if (head_sent_) return send_body(bytes, lend);
    auto& h2 = session_.h2();
    auto& buffers = space_->h2;
    // Heads (1xx ones, then the final one) are ours, each written whole by
    // the exchange, the final one possibly with body bytes after it.
    buffers.head.append(bytes);
    while (!head_sent_ && !buffers.head.empty()) {
        http::OwnResponseHead& head = buffers.response;
        if (!http::read_own_response_head(buffers.head, head)) return false;
        if (head.status / 100 == 1) {
            h2.submit_interim(id_, head.status, head.fields);
        } else {
            send_response_head(head.status, head.fields, head.chunked);
        }
        buffers.head.erase(0, head.bytes);  // the fields were copied when submitted
    }
    bool ok = true;
    if (head_sent_ && !buffers.head.empty()) ok = send_body(buffers.head, false);
    buffers.head.clear();
    return ok;
}

void H2Stream::send_response_head(unsigned status, std::span<const http::H2FieldView> fields,
                                  bool chunked) {
    session_.h2().submit_response(id_, status, fields, false);
    head_sent_ = true;
    // The exchange re-chunks a chunked upstream body, trailers included:
    // they end the stream as HTTP/2 trailers.
    if (chunked) {
        decoder_.emplace();
        decoder_->capture_trailers(&space_->h2.trailers);
    }
}

void H2Stream::write(std::span<const asio::const_buffer> buffers, Step then) {
    std::size_t n = 0;
    for (const auto& b : buffers) {
        n += b.size();
        if (!take_response({static_cast<const char*>(b.data()), b.size()}, true)) {
            // Our own head did not parse: a bug, not the client's fault.
            session_.h2().reset(id_, H2Error::internal_error);
            session_.flush();
            complete_later(then, asio::error::invalid_argument, 0);
            return;
        }
    }
    write_bytes_ = n;
    if (session_.h2().queued(id_) == 0) {
        session_.flush();
        complete_later(then, {}, n);
        return;
    }
    write_step_ = then;
    write_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    session_.flush();
}

void H2Stream::write_final(std::string_view bytes, Step then) {
    ++seq_;  // nothing issued before acts any more
    read_step_ = nullptr;
    if (!take_response(bytes, false)) {  // copied: a final write is rare
        session_.h2().reset(id_, H2Error::internal_error);
        session_.flush();
        complete_later(then, asio::error::invalid_argument, 0);
        return;
    }
    if (!request_ended_) session_.h2().stop_reading(id_);
    session_.h2().end_stream(id_);
    response_ended_ = true;
    write_bytes_ = bytes.size();
    if (session_.h2().queued(id_) == 0) {
        session_.flush();
        complete_later(then, {}, bytes.size());
        return;
    }
    write_step_ = then;
    write_deadline_.arm(Clock::now(), settings_->timeouts.send, ErrorKind::send_timeout);
    session_.flush();
}

void H2Stream::on_drained() {
    if (write_step_ != nullptr) complete_write({});
}

void H2Stream::complete_write(error_code ec) {
    const Step step = write_step_;
    write_step_ = nullptr;
    write_deadline_.clear();
    if (step != nullptr && exchange_ && !ended_) (exchange_.get()->*step)(ec, write_bytes_);
}

void H2Stream::complete_later(Step step, error_code ec, std::size_t n) {
    auto keep = session_.connection().keepalive();
    asio::post(session_.worker().io(),
               [keep, &session = session_, id = id_, seq = seq_, step, ec, n] {
                   H2Stream* self = session.find(id);
                   if (self == nullptr || self->seq_ != seq || self->ended_ || !self->exchange_)
                       return;
                   (self->exchange_.get()->*step)(ec, n);
               });
}

// --- Ending -------------------------------------------------------------------------

void H2Stream::end_request(bool) {
    if (ended_) return;
    ended_ = true;
    ++seq_;
    read_step_ = write_step_ = nullptr;
    read_deadline_.clear();
    write_deadline_.clear();
    if (!response_ended_ && !closed_) {
        if (!request_ended_) session_.h2().stop_reading(id_);
        session_.h2().end_stream(id_, http::read_own_trailers(space_->h2.trailers));
        response_ended_ = true;
    }
    session_.flush();
    session_.retire(id_);
}

void H2Stream::close_now() {
    if (ended_) return;
    ended_ = true;
    ++seq_;
    read_step_ = write_step_ = nullptr;
    if (!closed_) session_.h2().reset(id_, H2Error::internal_error);
    session_.flush();
    session_.retire(id_);
}

void H2Stream::on_closed(std::uint32_t error) {
    closed_ = true;
    if (ended_) return;
    if (error == 0 && response_ended_) {
        // Everything was sent: a write waiting on it is complete.
        if (write_step_ != nullptr) complete_write({});
        return;
    }
    fail_client();
}

// The client reset the stream (or the connection ended): whatever the
// exchange waits for fails as a closed client connection does.
void H2Stream::fail_client() {
    if (ended_ || !exchange_) return;
    if (read_step_ != nullptr) {
        complete_read(asio::error::connection_reset);
        return;
    }
    if (write_step_ != nullptr) {
        complete_write(asio::error::connection_reset);
        return;
    }
    exchange_->cut(ErrorKind::client_closed);
}

void H2Stream::on_tick(Clock::time_point now) {
    if (read_step_ != nullptr && read_deadline_.at <= now) {
        timed_out_ = true;
        session_.h2().reset(id_, H2Error::cancel);
        complete_read(asio::error::timed_out);
    } else if (write_step_ != nullptr && write_deadline_.at <= now) {
        // Stalled on the client's window (or a socket that does not drain).
        ++session_.worker().counters().h2_stalled_streams;
        timed_out_ = true;
        session_.h2().reset(id_, H2Error::cancel);
        complete_write(asio::error::timed_out);
    }
    if (exchange_ && !ended_) exchange_->on_tick(now);
}

}  // namespace switchyard::proxy

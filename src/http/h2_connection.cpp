#include "switchyard/http/h2_connection.hpp"

#include <nghttp2/nghttp2.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace switchyard::http {
namespace {

// A client that resets more than half of at least this many streams is
// attacking (rapid reset): legitimate clients cancel some, never most.
constexpr std::uint64_t kRapidResetMinStreams = 100;
// SETTINGS and PING frames a client may send: a burst, then a few per second.
constexpr std::uint32_t kControlBurst = 50;
constexpr std::uint32_t kControlRate = 10;
// Refusals past max_concurrent_streams before the connection is a flood.
constexpr std::uint64_t kMaxRefusedStreams = 100;
// A header list decoded this far past max_header_list is an HPACK bomb: the
// stream is refused (431) anyway, and decoding more only costs.
constexpr std::size_t kHpackBombFactor = 4;

// `index`: the field may enter HPACK's dynamic table (nghttp2 still keeps
// out the ones it knows change, as content-length and set-cookie); else it
// is a literal that is never indexed.
nghttp2_nv make_nv(std::string_view name, std::string_view value, bool index) {
    nghttp2_nv nv;
    nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
    nv.namelen = name.size();
    nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
    nv.valuelen = value.size();
    nv.flags = index ? NGHTTP2_NV_FLAG_NONE : NGHTTP2_NV_FLAG_NO_INDEX;
    return nv;
}

// A head's fields as nghttp2 takes them (it copies them when submitted):
// on the stack for any usual head.
class NvList {
  public:
    explicit NvList(std::size_t n) : data_(n <= inline_.size() ? inline_.data() : nullptr) {
        if (data_ == nullptr) {
            heap_.resize(n);
            data_ = heap_.data();
        }
    }
    void add(std::string_view name, std::string_view value, bool index) {
        data_[size_++] = make_nv(name, value, index);
    }
    nghttp2_nv* data() { return data_; }
    std::size_t size() const { return size_; }

  private:
    std::array<nghttp2_nv, 48> inline_;
    std::vector<nghttp2_nv> heap_;
    nghttp2_nv* data_;
    std::size_t size_ = 0;
};

// Buffers bigger than this are not kept for the next stream.
constexpr std::size_t kKeptBuffer = 64 * 1024;
// Heads after which worth_indexing() forgets which names have an entry.
constexpr std::uint32_t kNamesKeptFor = 1024;
// Closed streams' objects a connection keeps for its next ones.
constexpr std::size_t kSpareStreams = 16;

void release_if_large(std::string& s) {
    if (s.capacity() > kKeptBuffer) std::string().swap(s);
    s.clear();
}

}  // namespace

// A list of fields in one buffer: no allocation per field once the
// stream's object is reused.
class H2Connection::FieldList {
  public:
    void add(std::string_view name, std::string_view value) {
        spans_.push_back({bytes_.size(), name.size(), value.size()});
        bytes_.append(name);
        bytes_.append(value);
    }
    // Views into the buffer, valid until the next add() or clear().
    std::span<const H2FieldView> views() {
        views_.clear();
        for (const auto& s : spans_) {
            const std::string_view at = std::string_view(bytes_).substr(s.offset);
            views_.push_back({at.substr(0, s.name), at.substr(s.name, s.value)});
        }
        return views_;
    }
    void assign(std::span<const H2FieldView> fields) {
        clear();
        for (const auto& f : fields)
            add(f.name, f.value);
    }
    bool empty() const { return spans_.empty(); }
    void clear() {
        release_if_large(bytes_);
        spans_.clear();
        views_.clear();
    }

  private:
    struct Span {
        std::size_t offset, name, value;
    };
    std::string bytes_;
    std::vector<Span> spans_;
    std::vector<H2FieldView> views_;
};

struct H2Connection::Stream {
    FieldList fields;
    FieldList trailers_in;
    std::size_t header_bytes = 0;
    bool too_large = false;
    bool reported = false;         // the handler got on_request
    bool discard = false;          // stop_reading(): body bytes are dropped as they come
    bool reset_after_end = false;  // stop_reading(): RST_STREAM once our END_STREAM is out
    bool data_event_pending = false;
    std::string in;  // request body bytes not consumed yet
    // The response body: queued bytes, what nghttp2 took of them, the end.
    // Bytes are either copied (out) or lent (views the handler keeps valid
    // until they are framed); never both at once, so order is kept.
    std::string out;
    std::size_t out_offset = 0;
    std::vector<std::string_view> lent;  // from lent_first on, the first one from lent_offset on
    std::size_t lent_first = 0;
    std::size_t lent_offset = 0;
    std::size_t lent_left = 0;  // their bytes not framed yet
    bool eof = false;
    bool deferred = false;  // the data source said "nothing yet"
    FieldList trailers_out;

    std::size_t queued() const { return out.size() - out_offset + lent_left; }
    void drop_lent() {
        lent.clear();
        lent_first = lent_offset = lent_left = 0;
    }
    // The lent bytes not framed yet, copied: they may go away now.
    void own_lent() {
        for (std::size_t i = lent_first; i < lent.size(); ++i)
            out.append(lent[i].substr(i == lent_first ? lent_offset : 0));
        drop_lent();
    }
    // Appends the next `n` queued bytes to `to`.
    void take(std::string& to, std::size_t n) {
        if (out_offset < out.size()) {
            to.append(out, out_offset, n);
            out_offset += n;
            if (out_offset == out.size()) {
                out.clear();
                out_offset = 0;
            }
            return;
        }
        lent_left -= n;
        while (n > 0) {
            const std::string_view piece = lent[lent_first].substr(lent_offset);
            const std::size_t k = std::min(n, piece.size());
            to.append(piece.substr(0, k));
            n -= k;
            lent_offset += k;
            if (lent_offset == lent[lent_first].size()) {
                ++lent_first;
                lent_offset = 0;
            }
        }
        if (lent_left == 0) drop_lent();
    }

    // Empty, as new, keeping the buffers' room (unless large).
    void clear() {
        fields.clear();
        trailers_in.clear();
        header_bytes = 0;
        too_large = reported = discard = reset_after_end = data_event_pending = false;
        release_if_large(in);
        release_if_large(out);
        out_offset = 0;
        drop_lent();
        eof = deferred = false;
        trailers_out.clear();
    }
};

struct H2Connection::Event {
    enum Kind { request, data, end, close, drained } kind;
    std::int32_t stream;
    std::uint32_t error = 0;
    bool end_stream = false;
};

// nghttp2's callbacks, as static functions with the connection as user data.
struct H2Connection::Callbacks {
    static H2Connection& self(void* user) { return *static_cast<H2Connection*>(user); }

    static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        auto& c = self(user);
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST ||
            c.terminated_)
            return 0;
        // nghttp2 refuses streams past our max_concurrent_streams itself,
        // from the first flight on; this only guards against a stream it
        // lets through while the handler still holds as many.
        if (c.streams_.size() >= c.limits_.max_concurrent_streams) return 0;
        (void)session;
        std::unique_ptr<Stream> s;
        if (c.spare_streams_.empty()) {
            s = std::make_unique<Stream>();
        } else {
            s = std::move(c.spare_streams_.back());
            c.spare_streams_.pop_back();
        }
        c.streams_.emplace(frame->hd.stream_id, std::move(s));
        return 0;
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                         void* user) {
        auto& c = self(user);
        if (c.terminated_) return 0;
        Stream* s = c.find(frame->hd.stream_id);
        if (s == nullptr) return 0;
        s->header_bytes += namelen + valuelen + 32;
        if (s->header_bytes > std::size_t{c.limits_.max_header_list} * kHpackBombFactor) {
            ++c.counters_.hpack_bomb;
            c.terminate(H2Error::enhance_your_calm, "header list far past max_header_list");
            return 0;
        }
        if (s->header_bytes > c.limits_.max_header_list) {
            s->too_large = true;
            return 0;
        }
        auto& list = frame->headers.cat == NGHTTP2_HCAT_REQUEST ? s->fields : s->trailers_in;
        list.add({reinterpret_cast<const char*>(name), namelen},
                 {reinterpret_cast<const char*>(value), valuelen});
        return 0;
    }

    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        auto& c = self(user);
        if (c.terminated_) return 0;
        const std::int32_t id = frame->hd.stream_id;
        const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        switch (frame->hd.type) {
            case NGHTTP2_HEADERS: {
                Stream* s = c.find(id);
                if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                    if (s == nullptr) {
                        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id,
                                                  NGHTTP2_REFUSED_STREAM);
                        return 0;
                    }
                    ++c.counters_.streams;
                    s->reported = true;
                    if (s->too_large) ++c.counters_.header_list_too_large;
                    c.events_.push_back({Event::request, id, 0, end});
                } else if (s != nullptr && end) {
                    c.events_.push_back({Event::end, id});
                }
                break;
            }
            case NGHTTP2_DATA:
                if (end && c.find(id) != nullptr) c.events_.push_back({Event::end, id});
                break;
            case NGHTTP2_RST_STREAM:
                ++c.counters_.client_resets;
                if (c.find(id) != nullptr) ++c.premature_resets_;
                if (c.counters_.streams >= kRapidResetMinStreams &&
                    c.premature_resets_ * 2 > c.counters_.streams) {
                    ++c.counters_.rapid_reset;
                    c.terminate(H2Error::enhance_your_calm, "most streams reset by the client");
                }
                break;
            case NGHTTP2_SETTINGS:
                if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 && !c.settings_bucket_.take(c.now_)) {
                    ++c.counters_.settings_flood;
                    c.terminate(H2Error::enhance_your_calm, "SETTINGS flood");
                }
                break;
            case NGHTTP2_PING:
                if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 && !c.ping_bucket_.take(c.now_)) {
                    ++c.counters_.ping_flood;
                    c.terminate(H2Error::enhance_your_calm, "PING flood");
                }
                break;
            default:
                break;
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                             size_t len, void* user) {
        auto& c = self(user);
        Stream* s = c.find(id);
        if (s == nullptr || c.terminated_) {
            // Nobody reads it: give the connection's window back at once.
            nghttp2_session_consume_connection(session, len);
            return 0;
        }
        if (s->discard) {
            nghttp2_session_consume(session, id, len);
            return 0;
        }
        s->in.append(reinterpret_cast<const char*>(data), len);
        if (!s->data_event_pending) {
            s->data_event_pending = true;
            c.events_.push_back({Event::data, id});
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session* session, int32_t id, uint32_t error, void* user) {
        auto& c = self(user);
        Stream* s = c.find(id);
        if (s == nullptr) return 0;
        // Bytes the handler will never consume still count against the
        // connection's window.
        if (!s->in.empty()) nghttp2_session_consume_connection(session, s->in.size());
        s->in.clear();
        c.events_.push_back({Event::close, id, error});
        return 0;
    }

    // Streams refused (by nghttp2 or on_frame_recv), and a GOAWAY with an
    // error that this side did not decide on: nghttp2 found a protocol
    // error in the client's frames.
    static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        auto& c = self(user);
        if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
            (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
            const Stream* s = c.find(frame->hd.stream_id);
            if (s != nullptr && s->reset_after_end &&
                nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0)
                nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                          NGHTTP2_NO_ERROR);
        }
        if (frame->hd.type == NGHTTP2_RST_STREAM &&
            frame->rst_stream.error_code == NGHTTP2_REFUSED_STREAM &&
            ++c.counters_.refused_streams > kMaxRefusedStreams && !c.terminated_) {
            ++c.counters_.stream_flood;
            c.terminate(H2Error::enhance_your_calm, "too many streams refused");
        }
        if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR &&
            !c.terminated_) {
            ++c.counters_.protocol_error;
            c.terminated_ = true;
            c.error_ =
                std::string("protocol error: ") + nghttp2_http2_strerror(frame->goaway.error_code);
        }
        return 0;
    }

    // How much of a stream's queued response goes into its next DATA frame,
    // and whether it ends the stream. The bytes themselves go straight
    // from the stream's queue into the output in send_data (NO_COPY), not
    // through nghttp2's frame buffer.
    static ssize_t read_data(nghttp2_session* session, int32_t id, uint8_t*, size_t length,
                             uint32_t* flags, nghttp2_data_source*, void* user) {
        auto& c = self(user);
        Stream* s = c.find(id);
        if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        // One source per frame: the copied bytes, else the lent ones.
        const std::size_t left =
            s->out_offset < s->out.size() ? s->out.size() - s->out_offset : s->lent_left;
        const std::size_t n = std::min(left, length);
        if (n == left) {
            if (!s->eof) {
                if (n == 0) {
                    s->deferred = true;
                    return NGHTTP2_ERR_DEFERRED;
                }
            } else {
                *flags |= NGHTTP2_DATA_FLAG_EOF;
                if (!s->trailers_out.empty()) {
                    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                    const auto trailers = s->trailers_out.views();
                    NvList nvs(trailers.size());
                    for (const auto& f : trailers)
                        nvs.add(f.name, f.value, false);
                    nghttp2_submit_trailer(session, id, nvs.data(), nvs.size());
                }
            }
        }
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
        return static_cast<ssize_t>(n);
    }

    static int send_data(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                         size_t length, nghttp2_data_source*, void* user) {
        auto& c = self(user);
        Stream* s = c.find(frame->hd.stream_id);
        if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        // The output is full: nghttp2 asks again on the next pull.
        if (c.pull_out_ == nullptr || c.pull_out_->size() >= c.pull_limit_)
            return NGHTTP2_ERR_WOULDBLOCK;
        std::string& out = *c.pull_out_;
        out.append(reinterpret_cast<const char*>(framehd), 9);
        const std::size_t pad = frame->data.padlen;  // never asked for; written as told
        if (pad > 0) out.push_back(static_cast<char>(pad - 1));
        s->take(out, length);
        if (pad > 1) out.append(pad - 1, '\0');
        if (s->queued() == 0 && !s->eof) c.events_.push_back({Event::drained, frame->hd.stream_id});
        return 0;
    }
};

void H2Counters::add_since(const H2Counters& current, H2Counters& seen) {
    auto add = [](std::uint64_t& total, std::uint64_t now, std::uint64_t& before) {
        total += now - before;
        before = now;
    };
    add(streams, current.streams, seen.streams);
    add(refused_streams, current.refused_streams, seen.refused_streams);
    add(client_resets, current.client_resets, seen.client_resets);
    add(header_list_too_large, current.header_list_too_large, seen.header_list_too_large);
    add(rapid_reset, current.rapid_reset, seen.rapid_reset);
    add(continuation_flood, current.continuation_flood, seen.continuation_flood);
    add(hpack_bomb, current.hpack_bomb, seen.hpack_bomb);
    add(settings_flood, current.settings_flood, seen.settings_flood);
    add(ping_flood, current.ping_flood, seen.ping_flood);
    add(stream_flood, current.stream_flood, seen.stream_flood);
    add(protocol_error, current.protocol_error, seen.protocol_error);
}

H2Connection::H2Connection(Handler& handler, const H2Limits& limits, Clock::time_point now)
    : handler_(handler),
      limits_(limits),
      settings_bucket_(kControlBurst, kControlRate, now),
      ping_bucket_(kControlBurst, kControlRate, now),
      now_(now) {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, Callbacks::on_frame_send);
    nghttp2_session_callbacks_set_send_data_callback(cbs, Callbacks::send_data);
    nghttp2_option* options = nullptr;
    if (nghttp2_option_new(&options) != 0) {
        nghttp2_session_callbacks_del(cbs);
        throw std::bad_alloc();
    }
    // Windows open as the handler consumes, not as bytes arrive.
    nghttp2_option_set_no_auto_window_update(options, 1);
    // Responses index only the fields that repeat (worth_indexing), in a
    // dynamic table of HPACK's default size.
    nghttp2_option_set_max_deflate_dynamic_table_size(options, 4096);
    const int rv = nghttp2_session_server_new2(&session_, cbs, this, options);
    nghttp2_option_del(options);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) throw std::bad_alloc();

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_list},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(limits_.connection_window));
}

H2Connection::~H2Connection() {
    nghttp2_session_del(session_);
}

H2Connection::Stream* H2Connection::find(std::int32_t id) {
    return const_cast<Stream*>(std::as_const(*this).find(id));
}

const H2Connection::Stream* H2Connection::find(std::int32_t id) const {
    if (id == last_found_id_) return last_found_;
    auto it = streams_.find(id);
    if (it == streams_.end()) return nullptr;  // not remembered: it may open next
    last_found_id_ = id;
    last_found_ = it->second.get();
    return last_found_;
}

bool H2Connection::receive(std::string_view bytes, Clock::time_point now) {
    now_ = now;
    if (terminated_) return false;
    const auto rv = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (rv < 0 && !terminated_) {
        if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
            ++counters_.continuation_flood;
            terminate(H2Error::enhance_your_calm, "CONTINUATION flood");
        } else if (rv == NGHTTP2_ERR_FLOODED) {
            ++counters_.settings_flood;
            terminate(H2Error::enhance_your_calm, "control frames faster than they are read");
        } else if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
            ++counters_.protocol_error;
            terminate(H2Error::protocol_error, "not an HTTP/2 connection preface");
        } else {
            ++counters_.protocol_error;
            terminate(H2Error::protocol_error, nghttp2_strerror(static_cast<int>(rv)));
        }
    }
    dispatch();
    return !terminated_;
}

std::size_t H2Connection::pull_output(std::string& out, std::size_t max) {
    const std::size_t start = out.size();
    // DATA frames are appended by Callbacks::send_data, up to the limit.
    pull_out_ = &out;
    pull_limit_ = start + max;
    while (out.size() < pull_limit_) {
        const uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_, &data);
        if (n <= 0) {
            if (n < 0 && !terminated_) {
                terminated_ = true;
                error_ = nghttp2_strerror(static_cast<int>(n));
            }
            break;
        }
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    pull_out_ = nullptr;
    dispatch();
    return out.size() - start;
}

bool H2Connection::finished() const {
    return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void H2Connection::dispatch() {
    if (dispatching_) return;
    dispatching_ = true;
    while (!events_.empty()) {
        batch_.clear();
        batch_.swap(events_);  // both keep their room
        for (const Event& e : batch_) {
            Stream* s = find(e.stream);
            if (s == nullptr) continue;
            if (e.kind == Event::close) {
                // A stream never reported (malformed, refused) closes quietly.
                const bool reported = s->reported;
                auto it = streams_.find(e.stream);
                recycle(std::move(it->second));
                streams_.erase(it);
                if (last_found_id_ == e.stream) {
                    last_found_id_ = 0;
                    last_found_ = nullptr;
                }
                if (reported) handler_.on_stream_close(e.stream, e.error);
                continue;
            }
            if (!s->reported && e.kind != Event::request) continue;
            switch (e.kind) {
                case Event::request:
                    handler_.on_request(e.stream, s->fields.views(), e.end_stream, s->too_large);
                    break;
                case Event::data:
                    s->data_event_pending = false;
                    handler_.on_request_data(e.stream);
                    break;
                case Event::end:
                    handler_.on_request_end(e.stream);
                    break;
                case Event::drained:
                    handler_.on_drained(e.stream);
                    break;
                case Event::close:
                    break;
            }
        }
    }
    dispatching_ = false;
}

std::string_view H2Connection::input(std::int32_t stream) const {
    const Stream* s = find(stream);
    return s == nullptr ? std::string_view{} : std::string_view(s->in);
}

std::span<const H2FieldView> H2Connection::request_trailers(std::int32_t stream) {
    Stream* s = find(stream);
    if (s == nullptr) return {};
    return s->trailers_in.views();
}

void H2Connection::release_spare_streams() {
    spare_streams_.clear();
    spare_streams_.shrink_to_fit();
}

void H2Connection::recycle(std::unique_ptr<Stream> stream) {
    if (spare_streams_.size() >= kSpareStreams) return;
    stream->clear();
    spare_streams_.push_back(std::move(stream));
}

void H2Connection::consume(std::int32_t stream, std::size_t n) {
    Stream* s = find(stream);
    if (s == nullptr) return;
    n = std::min(n, s->in.size());
    s->in.erase(0, n);
    nghttp2_session_consume(session_, stream, n);
}

// A response field enters HPACK's dynamic table only once it repeats on
// the connection: the second time the same name and value are sent (a
// filter of recent ones' hashes remembers them). Fields whose values stay
// the same (date within its second, via, server, content-type, an
// application's constant fields) then cost one octet; values that change
// per response (ids, lengths, cookies, an upstream's connection number) are
// never-indexed literals that do not churn the table. Churn is what made
// indexing cost more than it saved: nghttp2 keeps the entries of one name
// in one bucket, and every lookup walks them.
//
// A name whose values change enters the table once, with the value it has
// when it first comes back with another: its later values are still
// never-indexed literals, but they name the field by its index instead of
// spelling (and Huffman-coding) the name each time. The name filter is
// forgotten every kNamesKeptFor heads, in case such an entry has left the
// table since; two names in one slot are simply never indexed by name.
bool H2Connection::worth_indexing(std::string_view name, std::string_view value) {
    const XXH64_hash_t name_hash = XXH3_64bits(name.data(), name.size());
    const XXH64_hash_t hash = XXH3_64bits_withSeed(value.data(), value.size(), name_hash);
    auto& slot = sent_fields_[hash % sent_fields_.size()];
    const auto tag = static_cast<std::uint32_t>(hash >> 32) | 1u;  // 0 is an empty slot
    const bool seen = slot == tag;
    slot = tag;
    if (seen) return true;
    auto& name_slot = sent_names_[name_hash % sent_names_.size()];
    const auto sent_once = static_cast<std::uint32_t>(name_hash >> 32) | 1u;
    const auto has_entry = sent_once ^ 2u;
    if (name_slot == sent_once) {
        name_slot = has_entry;
        return true;
    }
    if (name_slot != has_entry) name_slot = sent_once;
    return false;
}

bool H2Connection::submit_headers(std::int32_t stream, unsigned status,
                                  std::span<const H2FieldView> fields, bool with_body, bool final) {
    if (find(stream) == nullptr) return false;
    char code[3] = {static_cast<char>('0' + status / 100 % 10),
                    static_cast<char>('0' + status / 10 % 10),
                    static_cast<char>('0' + status % 10)};
    if (++heads_since_names_forgotten_ == kNamesKeptFor) {
        sent_names_.fill(0);
        heads_since_names_forgotten_ = 0;
    }
    NvList nvs(fields.size() + 1);
    nvs.add(":status", {code, sizeof code}, true);  // the static table has the usual ones
    for (const auto& f : fields)
        nvs.add(f.name, f.value, worth_indexing(f.name, f.value));
    if (!final)
        return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream, nullptr, nvs.data(),
                                      nvs.size(), nullptr) == 0;
    nghttp2_data_provider provider{};
    provider.read_callback = Callbacks::read_data;
    return nghttp2_submit_response(session_, stream, nvs.data(), nvs.size(),
                                   with_body ? &provider : nullptr) == 0;
}

bool H2Connection::submit_response(std::int32_t stream, unsigned status,
                                   std::span<const H2FieldView> fields, bool end_stream) {
    return submit_headers(stream, status, fields, !end_stream, true);
}

bool H2Connection::submit_interim(std::int32_t stream, unsigned status,
                                  std::span<const H2FieldView> fields) {
    return submit_headers(stream, status, fields, false, false);
}

void H2Connection::send_data(std::int32_t stream, std::string_view bytes) {
    Stream* s = find(stream);
    if (s == nullptr || bytes.empty()) return;
    s->own_lent();  // after what was lent before
    s->out.append(bytes);
    if (s->deferred) {
        s->deferred = false;
        nghttp2_session_resume_data(session_, stream);
    }
}

void H2Connection::lend_data(std::int32_t stream, std::string_view bytes) {
    Stream* s = find(stream);
    if (s == nullptr || bytes.empty()) return;
    if (s->out_offset < s->out.size()) {  // after what was copied before
        s->out.append(bytes);
    } else {
        s->lent.push_back(bytes);
        s->lent_left += bytes.size();
    }
    if (s->deferred) {
        s->deferred = false;
        nghttp2_session_resume_data(session_, stream);
    }
}

void H2Connection::own_queued(std::int32_t stream) {
    if (Stream* s = find(stream)) s->own_lent();
}

std::size_t H2Connection::queued(std::int32_t stream) const {
    const Stream* s = find(stream);
    return s == nullptr ? 0 : s->queued();
}

void H2Connection::end_stream(std::int32_t stream, std::span<const H2FieldView> trailers) {
    Stream* s = find(stream);
    if (s == nullptr) return;
    s->eof = true;
    s->trailers_out.assign(trailers);
    if (s->deferred) {
        s->deferred = false;
        nghttp2_session_resume_data(session_, stream);
    }
}

void H2Connection::stop_reading(std::int32_t stream) {
    Stream* s = find(stream);
    if (s == nullptr) return;
    s->discard = true;
    if (!s->in.empty()) {
        nghttp2_session_consume(session_, stream, s->in.size());
        s->in.clear();
    }
    s->reset_after_end = nghttp2_session_get_stream_remote_close(session_, stream) == 0;
}

void H2Connection::reset(std::int32_t stream, H2Error error) {
    Stream* s = find(stream);
    if (s == nullptr) return;
    // Nothing more is framed for it (RST_STREAM goes out before any DATA):
    // lent bytes may go away at once.
    s->drop_lent();
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream,
                              static_cast<std::uint32_t>(error));
}

void H2Connection::announce_shutdown() {
    nghttp2_submit_shutdown_notice(session_);
}

void H2Connection::goaway(H2Error error) {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_),
                          static_cast<std::uint32_t>(error), nullptr, 0);
}

void H2Connection::terminate(H2Error error, std::string why) {
    if (terminated_) return;
    terminated_ = true;
    error_ = std::move(why);
    nghttp2_session_terminate_session(session_, static_cast<std::uint32_t>(error));
}

std::int32_t H2Connection::send_window(std::int32_t stream) const {
    const auto s = nghttp2_session_get_stream_remote_window_size(session_, stream);
    const auto c = nghttp2_session_get_remote_window_size(session_);
    return std::max<std::int32_t>(0, std::min(s, c));
}

}  // namespace switchyard::http

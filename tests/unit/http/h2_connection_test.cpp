// H2Connection against a real HTTP/2 client (an nghttp2 client session) and
// against hand-made frames, without sockets: bytes are passed between the
// two in memory until neither has anything to say.
#include "switchyard/http/h2_connection.hpp"

#include <nghttp2/nghttp2.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace switchyard::http {
namespace {

using std::chrono::milliseconds;

// A field with its own storage, as the tests keep what they saw.
struct H2Field {
    std::string name;
    std::string value;
    bool operator==(const H2Field&) const = default;
};

// What the server side's handler saw, and its answers.
struct Recorder : H2Connection::Handler {
    struct Request {
        bool requested = false;  // on_request came
        std::vector<H2Field> fields;
        bool end_stream = false;
        bool too_large = false;
        bool ended = false;
        std::string body;
        bool closed = false;
        std::uint32_t close_error = 0;
        int drained = 0;
    };
    H2Connection* conn = nullptr;
    std::map<std::int32_t, Request> requests;
    bool auto_consume = true;  // take body bytes as they come

    void on_request(std::int32_t s, std::span<const H2FieldView> fields, bool end_stream,
                    bool too_large) override {
        auto& r = requests[s];
        r.requested = true;
        for (const auto& f : fields)  // the views are valid during the call only
            r.fields.push_back({std::string(f.name), std::string(f.value)});
        r.end_stream = end_stream;
        r.too_large = too_large;
    }
    void on_request_data(std::int32_t s) override {
        if (!auto_consume) return;
        take(s);
    }
    void take(std::int32_t s) {
        const auto in = conn->input(s);
        requests[s].body.append(in);
        conn->consume(s, in.size());
    }
    void on_request_end(std::int32_t s) override { requests[s].ended = true; }
    void on_stream_close(std::int32_t s, std::uint32_t error) override {
        requests[s].closed = true;
        requests[s].close_error = error;
    }
    void on_drained(std::int32_t s) override { ++requests[s].drained; }
};

// An HTTP/2 client: nghttp2's client session, recording what it gets.
class Client {
  public:
    struct Response {
        std::vector<H2Field> headers;   // the final head (and 1xx heads before it)
        std::vector<H2Field> trailers;  // after the body
        bool final_seen = false;        // a non-1xx :status came
        bool in_trailers = false;       // the HEADERS frame being read is the trailers
        std::string body;
        bool closed = false;
        std::uint32_t reset = 0;  // RST_STREAM's code, when reset
    };

    explicit Client(bool auto_window = true) {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
        nghttp2_option* opt = nullptr;
        nghttp2_option_new(&opt);
        if (!auto_window) nghttp2_option_set_no_auto_window_update(opt, 1);
        // The tests send floods on purpose.
        nghttp2_option_set_max_outbound_ack(opt, 100000);
        nghttp2_option_set_max_send_header_block_length(opt, 1 << 20);
        nghttp2_session_client_new2(&session_, cbs, this, opt);
        nghttp2_option_del(opt);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    ~Client() { nghttp2_session_del(session_); }

    nghttp2_session* session() { return session_; }

    // A request; `body` (if any) is sent as DATA after the head.
    std::int32_t request(const std::vector<H2Field>& extra = {}, const std::string* body = nullptr,
                         std::string method = "GET") {
        std::vector<H2Field> fields = {{":method", method},
                                       {":scheme", "https"},
                                       {":authority", "a.test"},
                                       {":path", "/p?q=1"}};
        fields.insert(fields.end(), extra.begin(), extra.end());
        std::vector<nghttp2_nv> nvs;
        for (const auto& f : fields)
            nvs.push_back(nv(f.name, f.value));
        nghttp2_data_provider provider{};
        provider.source.ptr = const_cast<std::string*>(body);
        provider.read_callback = read_body;
        const auto id = nghttp2_submit_request(session_, nullptr, nvs.data(), nvs.size(),
                                               body != nullptr ? &provider : nullptr, this);
        if (body != nullptr) offsets_[id] = 0;
        return id;
    }

    std::string take_output() {
        std::string out;
        for (;;) {
            const uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_, &data);
            if (n <= 0) break;
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        return out;
    }
    void feed(const std::string& bytes) {
        raw += bytes;
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size());
    }

    std::map<std::int32_t, Response> responses;
    std::vector<std::pair<std::int32_t, std::uint32_t>> goaways;  // last stream id, code
    std::string raw;                                              // every byte the server sent
    // The first octet of the first HEADERS frame's block in raw[from...].
    int first_header_octet(std::size_t from) const {
        while (from + 9 <= raw.size()) {
            const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + from);
            const std::size_t length = (std::size_t{p[0]} << 16) | (p[1] << 8) | p[2];
            if (p[3] == NGHTTP2_HEADERS && length > 0 && from + 9 < raw.size()) return p[9];
            from += 9 + length;
        }
        return -1;
    }

  private:
    static nghttp2_nv nv(const std::string& name, const std::string& value) {
        return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                value.size(), NGHTTP2_NV_FLAG_NONE};
    }
    static Client& self(void* u) { return *static_cast<Client*>(u); }
    static int on_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name, size_t nl,
                         const uint8_t* value, size_t vl, uint8_t, void* u) {
        auto& r = self(u).responses[f->hd.stream_id];
        H2Field field{std::string(reinterpret_cast<const char*>(name), nl),
                      std::string(reinterpret_cast<const char*>(value), vl)};
        if (field.name == ":status" && field.value[0] != '1') r.final_seen = true;
        (r.in_trailers ? r.trailers : r.headers).push_back(std::move(field));
        return 0;
    }
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* u) {
        auto& r = self(u).responses[f->hd.stream_id];
        r.in_trailers = r.final_seen;
        return 0;
    }
    static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                       void* u) {
        self(u).responses[id].body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }
    static int on_frame(nghttp2_session*, const nghttp2_frame* f, void* u) {
        if (f->hd.type == NGHTTP2_GOAWAY)
            self(u).goaways.emplace_back(f->goaway.last_stream_id, f->goaway.error_code);
        if (f->hd.type == NGHTTP2_RST_STREAM)
            self(u).responses[f->hd.stream_id].reset = f->rst_stream.error_code;
        return 0;
    }
    static int on_close(nghttp2_session*, int32_t id, uint32_t, void* u) {
        self(u).responses[id].closed = true;
        return 0;
    }
    static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t len,
                             uint32_t* flags, nghttp2_data_source* src, void* u) {
        const auto* body = static_cast<const std::string*>(src->ptr);
        auto& offset = self(u).offsets_[id];
        const std::size_t n = std::min(len, body->size() - offset);
        std::memcpy(buf, body->data() + offset, n);
        offset += n;
        if (offset == body->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, std::size_t> offsets_;
};

class H2ConnectionTest : public ::testing::Test {
  protected:
    void make(H2Limits limits = {}) {
        server_ = std::make_unique<H2Connection>(recorder_, limits, now_);
        recorder_.conn = server_.get();
    }
    // Bytes both ways until neither side has any; false if the server
    // wants the connection closed.
    bool pump(Client& client) {
        bool open = true;
        for (int round = 0; round < 1000; ++round) {
            const std::string up = client.take_output();
            if (!up.empty() && open) open = server_->receive(up, now_);
            std::string down;
            server_->pull_output(down, 1 << 20);
            if (!down.empty()) client.feed(down);
            if (up.empty() && down.empty()) break;
        }
        return open;
    }
    // A request from `client`, answered with a head whose body follows.
    std::int32_t answering(Client& client) {
        const auto id = client.request();
        EXPECT_TRUE(pump(client));
        EXPECT_TRUE(server_->submit_response(id, 200, {}, false));
        return id;
    }
    // Raw bytes (hand-made frames) into the server; what it answers.
    bool send_raw(const std::string& bytes, Client& client) {
        const bool open = server_->receive(bytes, now_);
        std::string down;
        server_->pull_output(down, 1 << 20);
        client.feed(down);
        return open;
    }

    Recorder recorder_;
    Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
    std::unique_ptr<H2Connection> server_;
};

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  const std::string& payload = {}) {
    std::string f;
    const auto len = payload.size();
    f.push_back(static_cast<char>((len >> 16) & 0xff));
    f.push_back(static_cast<char>((len >> 8) & 0xff));
    f.push_back(static_cast<char>(len & 0xff));
    f.push_back(static_cast<char>(type));
    f.push_back(static_cast<char>(flags));
    f.push_back(static_cast<char>((stream >> 24) & 0x7f));
    f.push_back(static_cast<char>((stream >> 16) & 0xff));
    f.push_back(static_cast<char>((stream >> 8) & 0xff));
    f.push_back(static_cast<char>(stream & 0xff));
    return f + payload;
}
const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string field(const std::vector<H2Field>& fields, std::string_view name) {
    for (const auto& f : fields)
        if (f.name == name) return f.value;
    return "(absent)";
}

TEST_F(H2ConnectionTest, TheServersSettingsCarryItsLimits) {
    H2Limits limits;
    limits.max_concurrent_streams = 7;
    limits.initial_window = 12345;
    limits.max_header_list = 9999;
    make(limits);
    Client client;
    ASSERT_TRUE(pump(client));
    auto* s = client.session();
    EXPECT_EQ(nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 7u);
    EXPECT_EQ(nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 12345u);
    EXPECT_EQ(nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 9999u);
}

TEST_F(H2ConnectionTest, ARequestAndItsResponse) {
    make();
    Client client;
    const auto id = client.request({{"user-agent", "t"}, {"cookie", "a=1"}, {"cookie", "b=2"}});
    ASSERT_TRUE(pump(client));
    ASSERT_EQ(recorder_.requests.count(id), 1u);
    const auto& r = recorder_.requests[id];
    EXPECT_TRUE(r.end_stream);
    EXPECT_FALSE(r.too_large);
    EXPECT_EQ(r.fields, (std::vector<H2Field>{{":method", "GET"},
                                              {":scheme", "https"},
                                              {":authority", "a.test"},
                                              {":path", "/p?q=1"},
                                              {"user-agent", "t"},
                                              {"cookie", "a=1"},
                                              {"cookie", "b=2"}}));
    EXPECT_EQ(server_->active_streams(), 1u);

    ASSERT_TRUE(server_->submit_response(id, 200, std::vector<H2FieldView>{{"x-a", "1"}}, false));
    server_->send_data(id, "hello ");
    server_->send_data(id, "world");
    server_->end_stream(id);
    ASSERT_TRUE(pump(client));
    const auto& resp = client.responses[id];
    EXPECT_EQ(field(resp.headers, ":status"), "200");
    EXPECT_EQ(field(resp.headers, "x-a"), "1");
    EXPECT_EQ(resp.body, "hello world");
    EXPECT_TRUE(resp.closed);
    EXPECT_TRUE(recorder_.requests[id].closed);
    EXPECT_EQ(recorder_.requests[id].close_error, 0u);
    EXPECT_EQ(server_->active_streams(), 0u);
    EXPECT_EQ(server_->counters().streams, 1u);
    // The stream looked up last is remembered; once closed, it is gone.
    EXPECT_FALSE(server_->submit_response(id, 200, std::vector<H2FieldView>{}, true));
    EXPECT_EQ(server_->queued(id), 0u);
}

// A closed stream's object is kept for the next stream; a connection that
// went quiet can drop those, and its next stream is served as before.
TEST_F(H2ConnectionTest, ClosedStreamsAreKeptForTheNextUntilReleased) {
    make();
    Client client;
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(client.request({{"user-agent", "t"}}));
    ASSERT_TRUE(pump(client));
    for (auto id : ids)
        ASSERT_TRUE(server_->submit_response(id, 204, std::vector<H2FieldView>{}, false));
    for (auto id : ids)
        server_->end_stream(id);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(server_->active_streams(), 0u);
    EXPECT_EQ(server_->spare_streams(), 3u);

    server_->release_spare_streams();
    EXPECT_EQ(server_->spare_streams(), 0u);
    const auto id = client.request({{"user-agent", "t"}});
    ASSERT_TRUE(pump(client));
    ASSERT_EQ(recorder_.requests.count(id), 1u);
    ASSERT_TRUE(server_->submit_response(id, 200, std::vector<H2FieldView>{}, true));
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(field(client.responses[id].headers, ":status"), "200");
}

// A response field enters HPACK's dynamic table once the same name and
// value are sent again on the connection; a field whose value changes (an
// id) enters it once, when its name comes back, and its later values refer
// to that entry's name; nghttp2 keeps set-cookie and content-length out.
TEST_F(H2ConnectionTest, OnlyFieldsThatRepeatEnterTheClientsDynamicTable) {
    make();
    Client client;
    std::size_t third_block = 0, fourth_block = 0;
    for (int i = 0; i < 4; ++i) {
        const auto id = client.request();
        ASSERT_TRUE(pump(client));
        ASSERT_TRUE(server_->submit_response(id, 200,
                                             std::vector<H2FieldView>{{"x-id", std::to_string(i)},
                                                                      {"Server", "s"},
                                                                      {"set-cookie", "a=1"},
                                                                      {"content-length", "0"}},
                                             true));
        const std::size_t sent = client.raw.size();
        ASSERT_TRUE(pump(client));
        EXPECT_EQ(field(client.responses[id].headers, "x-id"), std::to_string(i));
        EXPECT_EQ(field(client.responses[id].headers, "server"), "s");
        // ":status: 200" is the static table's entry 8: one octet, 0x88,
        // first in the header block.
        EXPECT_EQ(client.first_header_octet(sent), 0x88);
        // From the second response on, two entries and no more: "server: s"
        // and "x-id: 1" (32 octets of overhead each, RFC 7541 §4.1).
        EXPECT_EQ(nghttp2_session_get_hd_inflate_dynamic_table_size(client.session()),
                  i == 0 ? 0u : (32u + 6u + 1u) + (32u + 4u + 1u));
        if (i == 2) third_block = client.raw.size() - sent;
        if (i == 3) fourth_block = client.raw.size() - sent;
    }
    // The third and fourth heads differ only in x-id's value (one digit),
    // with its name from the table both times: the same size.
    EXPECT_EQ(third_block, fourth_block);
}

TEST_F(H2ConnectionTest, StreamsAreMultiplexedAndAnsweredInAnyOrder) {
    make();
    Client client;
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(client.request({{"x-i", std::to_string(i)}}));
    ASSERT_TRUE(pump(client));
    ASSERT_EQ(server_->active_streams(), 5u);
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        const std::string body = "body of " + field(recorder_.requests[*it].fields, "x-i");
        server_->submit_response(*it, 200, {}, false);
        server_->send_data(*it, body);
        server_->end_stream(*it);
    }
    ASSERT_TRUE(pump(client));
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(client.responses[ids[static_cast<std::size_t>(i)]].body,
                  "body of " + std::to_string(i));
}

// The client can send no more than the window until the handler consumes.
TEST_F(H2ConnectionTest, ARequestBodyWaitsForTheHandlerToConsume) {
    H2Limits limits;
    limits.initial_window = 16 * 1024;
    make(limits);
    recorder_.auto_consume = false;
    Client client;
    const std::string body(100 * 1024, 'b');
    const auto id = client.request({}, &body, "POST");
    ASSERT_TRUE(pump(client));
    EXPECT_FALSE(recorder_.requests[id].end_stream);
    // The first flight: the default window, before the client has our SETTINGS.
    EXPECT_EQ(server_->input(id).size(), 65535u);
    std::string got;
    for (int i = 0; i < 20 && !recorder_.requests[id].ended; ++i) {
        got.append(server_->input(id));
        server_->consume(id, server_->input(id).size());
        ASSERT_TRUE(pump(client));
        EXPECT_LE(server_->input(id).size(), 16u * 1024);
    }
    got.append(server_->input(id));
    EXPECT_TRUE(recorder_.requests[id].ended);
    EXPECT_EQ(got, body);
}

// A client that does not open its window stalls the response: bytes stay
// queued, the send window is 0, and on_drained comes once it reads.
TEST_F(H2ConnectionTest, AResponseWaitsForTheClientsWindow) {
    make();
    Client client(/*auto_window=*/false);
    const auto id = answering(client);
    server_->send_data(id, std::string(100 * 1024, 'r'));
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(client.responses[id].body.size(), 65535u) << "the default window";
    EXPECT_EQ(server_->send_window(id), 0);
    EXPECT_EQ(server_->queued(id), 100u * 1024 - 65535);
    EXPECT_EQ(recorder_.requests[id].drained, 0);
    // The client reads it all.
    nghttp2_session_consume(client.session(), id, 65535);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(server_->queued(id), 0u);
    EXPECT_EQ(recorder_.requests[id].drained, 1);
    server_->end_stream(id);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(client.responses[id].body.size(), 100u * 1024);
    EXPECT_TRUE(client.responses[id].closed);
}

// Lent bytes are framed where they are, in order with copied ones, and
// own_queued() copies what is still queued so that the lender may reuse its
// buffer; a reset drops them.
TEST_F(H2ConnectionTest, LentBytesAreFramedInOrderAndCanBeOwned) {
    make();
    Client client(/*auto_window=*/false);
    const auto id = answering(client);
    std::string lent_a(40 * 1024, 'a');
    std::string lent_c(40 * 1024, 'c');
    server_->lend_data(id, lent_a);
    server_->send_data(id, std::string(10, 'b'));  // after the lent bytes
    server_->lend_data(id, lent_c);                // ... and this after the copy
    EXPECT_EQ(server_->queued(id), 80u * 1024 + 10);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(client.responses[id].body.size(), 65535u) << "the default window";
    // The rest may go away once owned.
    server_->own_queued(id);
    std::fill(lent_a.begin(), lent_a.end(), 'x');
    std::fill(lent_c.begin(), lent_c.end(), 'x');
    nghttp2_session_consume(client.session(), id, 65535);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(server_->queued(id), 0u);
    EXPECT_EQ(recorder_.requests[id].drained, 1);
    server_->end_stream(id);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(client.responses[id].body,
              std::string(40 * 1024, 'a') + std::string(10, 'b') + std::string(40 * 1024, 'c'));

    // Lent bytes alone, drained without a copy; then a reset drops the rest.
    const auto second = answering(client);
    std::string lent(100 * 1024, 'd');
    server_->lend_data(second, lent);
    ASSERT_TRUE(pump(client));
    EXPECT_GT(server_->queued(second), 0u);
    server_->reset(second, H2Error::cancel);
    EXPECT_EQ(server_->queued(second), 0u);
    lent.clear();
    lent.shrink_to_fit();  // nothing may read it any more
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(client.responses[second].closed);
}

// A response that comes before the request body ends: the rest of the
// body is dropped without stalling the connection, and the client is told
// to stop after the response.
// DATA frames go from the stream's queue into the output directly
// (NO_COPY); a small output takes them a frame at a time, in order, with
// the frames of other streams between them.
TEST_F(H2ConnectionTest, ResponsesComeOutWholeThroughASmallOutput) {
    make();
    Client client;
    const auto a = client.request();
    const auto b = client.request();
    ASSERT_TRUE(pump(client));
    std::string body_a, body_b;
    for (int i = 0; i < 40000; ++i) {
        body_a.push_back(static_cast<char>('a' + i % 26));
        body_b.push_back(static_cast<char>('A' + i % 7));
    }
    server_->submit_response(a, 200, {}, false);
    server_->submit_response(b, 200, {}, false);
    server_->send_data(a, body_a);
    server_->send_data(b, body_b);
    server_->end_stream(a, std::vector<H2FieldView>{{"x-t", "1"}});
    server_->end_stream(b);
    std::size_t pulls = 0;
    for (; pulls < 1000; ++pulls) {
        std::string down;
        const std::size_t n = server_->pull_output(down, 100);
        EXPECT_EQ(n, down.size());
        EXPECT_LE(n, 100u + 9 + 16384) << "at most one frame past the limit";
        if (n == 0) break;
        client.feed(down);
        server_->receive(client.take_output(), now_);  // the client's WINDOW_UPDATEs
    }
    EXPECT_GT(pulls, 5u);
    EXPECT_EQ(client.responses[a].body, body_a);
    EXPECT_EQ(client.responses[b].body, body_b);
    EXPECT_EQ(client.responses[a].trailers, (std::vector<H2Field>{{"x-t", "1"}}));
    EXPECT_TRUE(client.responses[a].closed);
    EXPECT_TRUE(client.responses[b].closed);
    EXPECT_EQ(recorder_.requests[a].drained, 0) << "the stream ended with its queue";
}

TEST_F(H2ConnectionTest, StopReadingDropsTheRestAndResetsAfterTheResponse) {
    H2Limits limits;
    limits.initial_window = 16 * 1024;
    limits.connection_window = 64 * 1024;
    make(limits);
    recorder_.auto_consume = false;
    Client client;
    const std::string body(1024 * 1024, 'b');
    const auto id = client.request({}, &body, "POST");
    ASSERT_TRUE(pump(client));
    server_->stop_reading(id);
    EXPECT_TRUE(server_->input(id).empty());
    server_->submit_response(id, 413, {}, true);
    ASSERT_TRUE(pump(client));
    EXPECT_EQ(field(client.responses[id].headers, ":status"), "413");
    EXPECT_EQ(client.responses[id].reset, static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
    EXPECT_TRUE(recorder_.requests[id].closed);
    // The connection's window came back: another request's body flows.
    recorder_.auto_consume = true;
    const std::string small(200 * 1024, 's');
    const auto next = client.request({}, &small, "POST");
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(recorder_.requests[next].ended);
    EXPECT_EQ(recorder_.requests[next].body.size(), small.size());
}

TEST_F(H2ConnectionTest, InterimResponseAndTrailers) {
    make();
    Client client;
    const auto id = client.request({{"te", "trailers"}});
    ASSERT_TRUE(pump(client));
    ASSERT_TRUE(server_->submit_interim(id, 103, std::vector<H2FieldView>{{"link", "</s.css>"}}));
    server_->submit_response(id, 200, {}, false);
    server_->send_data(id, "data");
    server_->end_stream(id, std::vector<H2FieldView>{{"grpc-status", "0"}});
    ASSERT_TRUE(pump(client));
    const auto& resp = client.responses[id];
    EXPECT_EQ(resp.headers.front(), (H2Field{":status", "103"}));
    EXPECT_EQ(field(resp.headers, "link"), "</s.css>");
    EXPECT_EQ(resp.body, "data");
    EXPECT_EQ(resp.trailers, (std::vector<H2Field>{{"grpc-status", "0"}}));
    EXPECT_TRUE(resp.closed);
}

TEST_F(H2ConnectionTest, AClientResetClosesTheStream) {
    make();
    Client client;
    const auto id = client.request();
    ASSERT_TRUE(pump(client));
    nghttp2_submit_rst_stream(client.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(recorder_.requests[id].closed);
    EXPECT_EQ(recorder_.requests[id].close_error, static_cast<std::uint32_t>(NGHTTP2_CANCEL));
    EXPECT_EQ(server_->counters().client_resets, 1u);
    EXPECT_EQ(server_->active_streams(), 0u);
}

TEST_F(H2ConnectionTest, AHeaderListOverTheLimitIsFlaggedForA431) {
    H2Limits limits;
    limits.max_header_list = 1024;
    make(limits);
    Client client;
    const auto id = client.request({{"x-big", std::string(2000, 'v')}});
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(recorder_.requests[id].too_large);
    EXPECT_EQ(server_->counters().header_list_too_large, 1u);
    EXPECT_TRUE(server_->error().empty()) << "the connection goes on";
}

// Many references to one big dynamic-table entry: small on the wire, huge
// decoded.
TEST_F(H2ConnectionTest, AnHpackBombEndsTheConnection) {
    make();
    Client client;
    std::vector<H2Field> fields;
    for (int i = 0; i < 100; ++i)
        fields.push_back({"x-bomb", std::string(3000, 'x')});
    client.request(fields);
    EXPECT_FALSE(pump(client));
    EXPECT_EQ(server_->counters().hpack_bomb, 1u);
    ASSERT_FALSE(client.goaways.empty());
    EXPECT_EQ(client.goaways.back().second, static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
}

TEST_F(H2ConnectionTest, RapidResetEndsTheConnection) {
    make();
    Client client;
    bool open = true;
    for (int round = 0; round < 20 && open; ++round) {
        std::vector<std::int32_t> ids;
        for (int i = 0; i < 10; ++i)
            ids.push_back(client.request());
        ASSERT_TRUE(pump(client));
        for (auto id : ids)
            nghttp2_submit_rst_stream(client.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        open = pump(client);
    }
    EXPECT_FALSE(open);
    EXPECT_EQ(server_->counters().rapid_reset, 1u);
    EXPECT_GE(server_->counters().streams, 100u);
    ASSERT_FALSE(client.goaways.empty());
    EXPECT_EQ(client.goaways.back().second, static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
}

// A client that cancels a few of many streams is not an attacker.
TEST_F(H2ConnectionTest, SomeResetsAreNormal) {
    make();
    Client client;
    for (int round = 0; round < 30; ++round) {
        std::vector<std::int32_t> ids;
        for (int i = 0; i < 10; ++i)
            ids.push_back(client.request());
        ASSERT_TRUE(pump(client));
        nghttp2_submit_rst_stream(client.session(), NGHTTP2_FLAG_NONE, ids[0], NGHTTP2_CANCEL);
        ASSERT_TRUE(pump(client));
        for (auto id : ids)
            if (!recorder_.requests[id].closed) {
                server_->submit_response(id, 204, {}, true);
            }
        ASSERT_TRUE(pump(client));
    }
    EXPECT_EQ(server_->counters().rapid_reset, 0u);
    EXPECT_EQ(server_->counters().client_resets, 30u);
}

TEST_F(H2ConnectionTest, PingAndSettingsFloodsEndTheConnection) {
    {
        make();
        Client client;
        std::string flood = kPreface + frame(4, 0, 0);
        for (int i = 0; i < 200; ++i)
            flood += frame(6, 0, 0, std::string(8, 'p'));
        EXPECT_FALSE(send_raw(flood, client));
        EXPECT_EQ(server_->counters().ping_flood, 1u);
        ASSERT_FALSE(client.goaways.empty());
        EXPECT_EQ(client.goaways.back().second,
                  static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
    }
    {
        make();
        Client client;
        std::string flood = kPreface;
        for (int i = 0; i < 200; ++i)
            flood += frame(4, 0, 0);
        EXPECT_FALSE(send_raw(flood, client));
        EXPECT_EQ(server_->counters().settings_flood, 1u);
    }
    {
        // The same pace spread over time is fine.
        make();
        Client client;
        ASSERT_TRUE(send_raw(kPreface + frame(4, 0, 0), client));
        for (int i = 0; i < 100; ++i) {
            now_ += milliseconds(200);
            ASSERT_TRUE(send_raw(frame(6, 0, 0, std::string(8, 'p')), client)) << i;
        }
        EXPECT_EQ(server_->counters().ping_flood, 0u);
    }
}

TEST_F(H2ConnectionTest, AContinuationFloodEndsTheConnection) {
    make();
    Client client;
    // HEADERS without END_HEADERS (":method GET" indexed), then empty
    // CONTINUATIONs that never end it.
    std::string flood = kPreface + frame(4, 0, 0) + frame(1, 0x1, 1, std::string(1, '\x82'));
    for (int i = 0; i < 50; ++i)
        flood += frame(9, 0, 1);
    EXPECT_FALSE(send_raw(flood, client));
    EXPECT_EQ(server_->counters().continuation_flood, 1u);
    ASSERT_FALSE(client.goaways.empty());
}

TEST_F(H2ConnectionTest, StreamsPastTheLimitAreRefused) {
    H2Limits limits;
    limits.max_concurrent_streams = 2;
    make(limits);
    Client client;
    // All in the first flight, before the client knows the limit.
    const auto a = client.request(), b = client.request(), c = client.request();
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(recorder_.requests[a].requested);
    EXPECT_TRUE(recorder_.requests[b].requested);
    EXPECT_FALSE(recorder_.requests[c].requested);
    EXPECT_FALSE(recorder_.requests[c].closed) << "never reported, never closed";
    EXPECT_EQ(client.responses[c].reset, static_cast<std::uint32_t>(NGHTTP2_REFUSED_STREAM));
    EXPECT_EQ(server_->counters().refused_streams, 1u);
}

TEST_F(H2ConnectionTest, NotHttp2IsAProtocolError) {
    make();
    Client client;
    EXPECT_FALSE(server_->receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n", now_));
    EXPECT_EQ(server_->error(), "not an HTTP/2 connection preface");
    EXPECT_EQ(server_->counters().protocol_error, 1u);
}

// nghttp2's own checks (RFC 9113 §8): a request with a connection-specific
// field is reset, and the connection goes on.
TEST_F(H2ConnectionTest, AMalformedRequestIsResetNotPassedOn) {
    make();
    Client client;
    const auto bad = client.request({{"connection", "keep-alive"}});
    const auto good = client.request();
    ASSERT_TRUE(pump(client));
    EXPECT_FALSE(recorder_.requests[bad].requested);
    EXPECT_FALSE(recorder_.requests[bad].closed);
    EXPECT_EQ(client.responses[bad].reset, static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    EXPECT_TRUE(recorder_.requests[good].requested);
}

// Draining: the first GOAWAY refuses nothing, the second names the last
// stream served; streams in progress finish.
TEST_F(H2ConnectionTest, ShutdownInTwoSteps) {
    make();
    Client client;
    const auto first = client.request();
    ASSERT_TRUE(pump(client));
    server_->announce_shutdown();
    ASSERT_TRUE(pump(client));
    ASSERT_EQ(client.goaways.size(), 1u);
    EXPECT_EQ(client.goaways[0].first, 0x7fffffff);
    EXPECT_EQ(client.goaways[0].second, 0u);
    server_->goaway();
    ASSERT_TRUE(pump(client));
    ASSERT_EQ(client.goaways.size(), 2u);
    EXPECT_EQ(client.goaways[1].first, first);
    EXPECT_FALSE(server_->finished()) << "a stream is still in progress";
    server_->submit_response(first, 204, {}, true);
    ASSERT_TRUE(pump(client));
    EXPECT_TRUE(client.responses[first].closed);
    EXPECT_TRUE(server_->finished());
}

}  // namespace
}  // namespace switchyard::http

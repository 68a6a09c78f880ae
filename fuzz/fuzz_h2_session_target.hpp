// The HTTP/2 session fuzz target (fuzz/fuzz_h2_session.cpp, replayed by
// tests/unit/http/fuzz_regression_test.cpp): a client's bytes into an
// H2Connection, without sockets, with a handler that answers every request
// (a body, sometimes trailers or a 1xx first) and consumes every body.
//
// Byte 0 chooses: bit 0 set, the input follows the connection preface
// (frames are what the fuzzer explores); else the input is the whole
// stream. Bits 1-3 give the size of the pieces the input arrives in. The
// session must never crash, report events in order (a stream's data, end
// and close only after its request; close once), keep a stream's
// unconsumed input within the windows, and, once receive() said the
// connection is over, stay over. Every request's head must be judged the
// same given to the parser as parts or as text (check_request_parts).
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "switchyard/http/h2_connection.hpp"
#include "switchyard/http/h2_head.hpp"
#include "switchyard/http/head_parser.hpp"

namespace switchyard::fuzz {

namespace detail {

// The head a stream gives the parser as parts (H2Stream::begin) is judged
// as its HTTP/1.1 text would be: the same status, or the same head.
inline void check_request_parts(std::span<const http::H2FieldView> fields, bool end_stream) {
    http::RequestParts parts;
    std::string text;
    bool chunked = false;
    const unsigned refused = http::read_request_fields(fields, !end_stream, parts);
    SY_FUZZ_CHECK(refused == http::write_request_head(fields, !end_stream, text, chunked));
    if (refused != 0) return;
    SY_FUZZ_CHECK(parts.chunked == chunked);
    const http::RequestHeadParser::Limits limits{2048, 512, 16};
    std::vector<http::HeaderField> from_parts, from_text;
    http::RequestHeadParser a(limits, from_parts), b(limits, from_text);
    const auto status = a.assign(parts.method, parts.target, parts.fields);
    SY_FUZZ_CHECK(status == b.parse(text));
    SY_FUZZ_CHECK(a.text_bytes() == text.size());
    if (status != http::ParseStatus::done) {
        SY_FUZZ_CHECK(http::status_for(a.error()) == http::status_for(b.error()));
        return;
    }
    SY_FUZZ_CHECK(a.method() == b.method() && a.method_string() == b.method_string());
    SY_FUZZ_CHECK(a.target() == b.target() && a.version() == b.version());
    SY_FUZZ_CHECK(from_parts.size() == from_text.size());
    for (std::size_t i = 0; i < from_parts.size(); ++i)
        SY_FUZZ_CHECK(from_parts[i].id == from_text[i].id &&
                      from_parts[i].name == from_text[i].name &&
                      from_parts[i].value == from_text[i].value);
}

struct H2Recorder : http::H2Connection::Handler {
    http::H2Connection* conn = nullptr;
    struct Seen {
        bool requested = false;
        bool ended = false;
        bool closed = false;
    };
    std::map<std::int32_t, Seen> streams;
    std::size_t max_input = 0;

    void on_request(std::int32_t s, std::span<const http::H2FieldView> fields, bool end_stream,
                    bool) override {
        auto& seen = streams[s];
        SY_FUZZ_CHECK(!seen.requested && !seen.closed);
        seen.requested = true;
        seen.ended = end_stream;
        for (const auto& f : fields)
            SY_FUZZ_CHECK(!f.name.empty());
        check_request_parts(fields, end_stream);
        // Answer at once: sometimes a 103 first, sometimes trailers.
        if (s % 3 == 0) conn->submit_interim(s, 103, {});
        conn->submit_response(s, 200, std::vector<http::H2FieldView>{{"x-a", "1"}}, false);
        conn->send_data(s, std::string(static_cast<std::size_t>(s % 5) * 1000, 'r'));
        if (s % 2 == 0)
            conn->end_stream(s, std::vector<http::H2FieldView>{{"x-t", "2"}});
        else
            conn->end_stream(s);
    }
    void on_request_data(std::int32_t s) override {
        auto& seen = streams[s];
        SY_FUZZ_CHECK(seen.requested && !seen.ended && !seen.closed);
        max_input = std::max(max_input, conn->input(s).size());
        conn->consume(s, conn->input(s).size());
    }
    void on_request_end(std::int32_t s) override {
        auto& seen = streams[s];
        SY_FUZZ_CHECK(seen.requested && !seen.ended && !seen.closed);
        seen.ended = true;
    }
    void on_stream_close(std::int32_t s, std::uint32_t) override {
        auto& seen = streams[s];
        SY_FUZZ_CHECK(seen.requested && !seen.closed);
        seen.closed = true;
    }
    void on_drained(std::int32_t s) override { SY_FUZZ_CHECK(streams[s].requested); }
};

}  // namespace detail

inline void check_h2_session(std::string_view input) {
    if (input.empty()) return;
    const auto control = static_cast<unsigned char>(input[0]);
    input.remove_prefix(1);
    std::string bytes;
    if ((control & 1) != 0) bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    bytes.append(input);
    const std::size_t piece = std::size_t{1} << ((control >> 1) & 7);  // 1 .. 128

    http::H2Limits limits;
    limits.max_concurrent_streams = 8;
    limits.initial_window = 1024;
    limits.max_header_list = 2048;
    detail::H2Recorder recorder;
    const Clock::time_point now{};
    http::H2Connection conn(recorder, limits, now);
    recorder.conn = &conn;
    std::string out;
    bool open = true;
    for (std::size_t pos = 0; pos < bytes.size(); pos += piece) {
        const bool ok = conn.receive(std::string_view(bytes).substr(pos, piece), now);
        if (!open) SY_FUZZ_CHECK(!ok);
        open = ok;
        if (!ok) SY_FUZZ_CHECK(!conn.error().empty());
        out.clear();
        conn.pull_output(out, 1 << 16);
    }
    // The default window before our SETTINGS are acknowledged, at most.
    SY_FUZZ_CHECK(recorder.max_input <= 65535);
    std::size_t reported = 0;
    for (const auto& [id, seen] : recorder.streams)
        reported += seen.requested ? 1 : 0;
    SY_FUZZ_CHECK(reported == conn.counters().streams);
    SY_FUZZ_CHECK(conn.active_streams() <= limits.max_concurrent_streams);
}

}  // namespace switchyard::fuzz

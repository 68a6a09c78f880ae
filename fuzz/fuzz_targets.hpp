// The HTTP fuzz targets as plain functions of the input bytes: the libFuzzer
// entry points (fuzz/fuzz_*.cpp) call them, and so does the unit test that
// replays fuzz/corpus and fuzz/regressions (tests/unit/http/fuzz_regression_test.cpp),
// so every input the fuzzers keep is re-checked by the normal test suite.
//
// Each function must never crash on any input, and checks invariants with
// SY_FUZZ_CHECK (fuzz_check.hpp), which throws CheckFailure when one fails.
#pragma once

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "beast_head_parser.hpp"
#include "fuzz_check.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/http/body_pump.hpp"
#include "switchyard/http/chunked_decoder.hpp"
#include "switchyard/http/field_rules.hpp"
#include "switchyard/http/framing.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/http/header_rules.hpp"

namespace switchyard::fuzz {

namespace detail {

using http::bhttp::field;

// ---------------------------------------------------------------------------
// Bodies: decoding and pumping in pieces, as reads deliver them
// ---------------------------------------------------------------------------

inline bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

inline http::ChunkedDecoder::Limits chunk_limits() {
    http::ChunkedDecoder::Limits l;
    l.max_chunk_ext_bytes = 64;
    l.max_trailer_bytes = 256;
    return l;
}

struct DecodeRun {
    std::string payload;
    std::size_t consumed = 0;
    bool done = false;
    http::ChunkedDecoder::Error error = http::ChunkedDecoder::Error::none;
    bool operator==(const DecodeRun&) const = default;
};

// Decodes `in` in consecutive pieces of next_len() bytes, as reads deliver it.
template <class NextLen>
DecodeRun decode_in_pieces(std::string_view in, const http::ChunkedDecoder::Limits& limits,
                           NextLen&& next_len) {
    http::ChunkedDecoder decoder(limits);
    std::vector<std::string_view> data;
    DecodeRun run;
    SY_FUZZ_CHECK(decoder.decode({}, data) == 0 && data.empty());
    std::size_t pos = 0;
    while (pos < in.size() && !decoder.done() && !decoder.failed()) {
        const std::size_t n = std::min<std::size_t>(next_len(), in.size() - pos);
        const std::string_view piece = in.substr(pos, n);
        data.clear();
        const std::size_t used = decoder.decode(piece, data);
        SY_FUZZ_CHECK(used <= n);
        for (auto d : data) {
            SY_FUZZ_CHECK(!d.empty());
            SY_FUZZ_CHECK(inside(d, piece.substr(0, used)));
            run.payload.append(d);
        }
        run.consumed += used;
        // A piece is consumed whole unless the body ends or fails inside it;
        // an error is reported at an offending byte, which is then in the piece.
        if (used < n) SY_FUZZ_CHECK(decoder.done() || decoder.failed());
        if (decoder.failed()) SY_FUZZ_CHECK(used < n);
        pos += n;
    }
    SY_FUZZ_CHECK(!(decoder.done() && decoder.failed()));
    SY_FUZZ_CHECK(decoder.failed() == (decoder.error() != http::ChunkedDecoder::Error::none));
    SY_FUZZ_CHECK(decoder.payload_bytes() == run.payload.size());
    if (decoder.done() || decoder.failed()) {
        data.clear();
        SY_FUZZ_CHECK(decoder.decode("0\r\n\r\n", data) == 0 && data.empty());
    }
    run.done = decoder.done();
    run.error = decoder.error();
    SY_FUZZ_CHECK(http::to_string(run.error) != "unknown");
    return run;
}

// What a sink receives from a BodyPump fed `in` in reads of next_len() bytes,
// then end of file.
struct PumpRun {
    std::string sink;
    std::size_t consumed = 0;  // source bytes
    bool done = false;
    bool failed = false;
    std::uint64_t payload_bytes = 0;
};

template <class NextLen>
PumpRun pump_in_reads(std::string_view in, const http::Framing& source, bool chunked_sink,
                      const http::ChunkedDecoder::Limits& limits, NextLen&& next_len) {
    http::BodyPump pump;
    pump.reset(source, chunked_sink, limits);
    std::vector<std::string_view> out;
    PumpRun run;
    std::size_t pos = 0, end = 0;  // [pos, end) is buffered and not consumed yet
    for (std::size_t rounds = 0;; ++rounds) {
        SY_FUZZ_CHECK(rounds <= 4 * in.size() + 8);  // no livelock
        if (pump.done() || pump.failed()) break;
        out.clear();
        const std::size_t used = pump.plan(in.substr(pos, end - pos), out);
        SY_FUZZ_CHECK(used <= end - pos);
        for (auto piece : out)
            run.sink.append(piece);
        pos += used;
        if (used == 0) {
            SY_FUZZ_CHECK(out.empty() || pump.done());
            if (pump.done() || pump.failed()) break;
            if (end == in.size()) {
                out.clear();
                pump.on_source_eof(out);
                for (auto piece : out)
                    run.sink.append(piece);
                break;
            }
            end = std::min(in.size(), end + next_len());
        }
    }
    SY_FUZZ_CHECK(pump.done() || pump.failed());
    run.done = pump.done();
    run.failed = pump.failed();
    run.payload_bytes = pump.payload_bytes();
    run.consumed = pos;
    return run;
}

// ---------------------------------------------------------------------------
// Message heads
// ---------------------------------------------------------------------------

// Small limits so that the fuzzer reaches them with short inputs.
inline http::RequestHeadParser::Limits request_limits() {
    http::RequestHeadParser::Limits l;
    l.max_header_bytes = 1024;
    l.max_target_bytes = 256;
    l.max_fields = 16;
    return l;
}
inline http::ResponseHeadParser::Limits response_limits() {
    http::ResponseHeadParser::Limits l;
    l.max_header_bytes = 1024;
    l.max_fields = 16;
    return l;
}

struct FieldCopy {
    field id;
    std::string name;
    std::string value;
    bool operator==(const FieldCopy&) const = default;
};

// What a parser reported, copied out so that runs over different buffers
// compare by content.
struct HeadCopy {
    // Only whether a head is refused must not depend on how reads split it,
    // not which status refuses it: a bare LF found by the end-of-head scan of
    // a partial head is 400, while Beast, given the whole head, may report
    // the same line as a bad version (505) first.
    http::ParseStatus status = http::ParseStatus::need_more;
    std::size_t head_bytes = 0;
    http::bhttp::verb method = http::bhttp::verb::unknown;
    std::string method_string, target, reason;
    unsigned status_code = 0, version = 0;
    std::vector<FieldCopy> fields;
    bool operator==(const HeadCopy&) const = default;
};

template <bool isRequest, template <bool> class Parser>
HeadCopy copy_head(const Parser<isRequest>& p, http::ParseStatus st, std::string_view buffer) {
    HeadCopy c;
    c.status = st;
    SY_FUZZ_CHECK((st == http::ParseStatus::error) == (p.error() != http::HeadError::none));
    if (st == http::ParseStatus::error) {
        const unsigned status = http::status_for(p.error());
        SY_FUZZ_CHECK(status == 400 || status == 414 || status == 431 || status == 501 ||
                      status == 505);
    }
    if (st != http::ParseStatus::done) return c;
    // The head is a prefix of the buffer and every view points into it.
    SY_FUZZ_CHECK(p.head_bytes() >= 4 && p.head_bytes() <= buffer.size());
    const std::string_view head = buffer.substr(0, p.head_bytes());
    SY_FUZZ_CHECK(head.ends_with("\r\n\r\n"));
    SY_FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
    SY_FUZZ_CHECK(p.version() == 10 || p.version() == 11);
    c.head_bytes = p.head_bytes();
    c.version = p.version();
    if constexpr (isRequest) {
        SY_FUZZ_CHECK(inside(p.method_string(), head) && inside(p.target(), head));
        SY_FUZZ_CHECK(!p.method_string().empty() && !p.target().empty());
        c.method = p.method();
        c.method_string = p.method_string();
        c.target = p.target();
    } else {
        SY_FUZZ_CHECK(inside(p.reason(), head));
        c.status_code = p.status();
        c.reason = p.reason();
    }
    for (const auto& f : p.fields()) {
        SY_FUZZ_CHECK(inside(f.name, head) && inside(f.value, head));
        // What the parser accepted is what the proxy may forward.
        SY_FUZZ_CHECK(http::is_valid_field_name(f.name));
        SY_FUZZ_CHECK(http::is_valid_field_value(f.value));
        SY_FUZZ_CHECK(trim_ows(f.value) == f.value);
        c.fields.push_back({f.id, std::string(f.name), std::string(f.value)});
    }
    return c;
}

// Parses `buffer` the way a connection reads it: the growing prefixes ending
// at `splits` first, each in its own buffer that is freed before the next
// call (the parser must keep no view into an earlier buffer), then all of it.
template <bool isRequest>
HeadCopy parse_in_steps(std::string_view buffer, std::vector<std::size_t> splits,
                        const typename http::HeadParser<isRequest>::Limits& limits) {
    std::vector<http::HeaderField> fields;
    http::HeadParser<isRequest> parser(limits, fields);
    std::sort(splits.begin(), splits.end());
    for (std::size_t split : splits) {
        const std::string prefix(buffer.substr(0, std::min(split, buffer.size())));
        const auto st = parser.parse(prefix);
        if (st != http::ParseStatus::need_more) return copy_head(parser, st, prefix);
    }
    return copy_head(parser, parser.parse(buffer), buffer);
}

// Split points: two from the hash, and one inside the first CRLFCRLF, where
// the end-of-head search resumes across calls.
inline std::vector<std::vector<std::size_t>> split_plans(std::string_view buffer, std::uint64_t h) {
    const std::size_t n = buffer.size() + 1;
    const std::size_t a = static_cast<std::size_t>(h % n);
    const std::size_t b = static_cast<std::size_t>((h >> 24) % n);
    std::vector<std::vector<std::size_t>> plans = {{a}, {a, b}};
    if (auto end = buffer.find("\r\n\r\n"); end != std::string_view::npos)
        plans.push_back({end + 1 + static_cast<std::size_t>((h >> 48) % 3)});
    return plans;
}

// A complete head within the limit reads as Beast's parser read it
// (beast_head_parser.hpp): the same verdict (its status), line and fields.
// The one deliberate difference: every obs-fold is refused (bad_field, and
// only for a line that starts with whitespace), where Beast unfolded one
// after an empty value and read on. Partial and oversized heads are decided
// before the head is read, by code the two share.
template <bool isRequest>
void check_against_beast(std::string_view buffer, const http::HeadParser<isRequest>& ours,
                         const HeadCopy& ours_copy,
                         const typename http::HeadParser<isRequest>::Limits& limits) {
    const std::size_t end = buffer.find("\r\n\r\n");
    if (end == std::string_view::npos || end + 4 > limits.max_header_bytes) return;
    if (ours.error() == http::HeadError::bad_field) {
        const std::string_view head = buffer.substr(0, end + 4);
        SY_FUZZ_CHECK(head.find("\r\n ") != std::string_view::npos ||
                      head.find("\r\n\t") != std::string_view::npos);
        return;
    }
    std::vector<http::HeaderField> fields;
    BeastHeadParser<isRequest> beast(limits, fields);
    const auto st = beast.parse(buffer);
    SY_FUZZ_CHECK(ours_copy == copy_head(beast, st, buffer));
    if (st == http::ParseStatus::error)
        SY_FUZZ_CHECK(http::status_for(ours.error()) == http::status_for(beast.error()));
}

inline bool added_by_proxy_upstream(std::string_view name) {
    return iequals(name, "host") || iequals(name, "x-forwarded-for") ||
           iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host") ||
           iequals(name, "x-request-id") || iequals(name, "via") || iequals(name, "forwarded") ||
           iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

// A name no Via entry can carry (DEL is not allowed in a field value): the
// re-inspection of our own output must not see its Via as a loop.
inline constexpr std::string_view kNoVia = "\x7f";

// A head the proxy writes itself: exactly one well-formed HTTP/1.1 response.
inline void check_own_response(std::string_view out) {
    std::vector<http::HeaderField> fields;
    http::ResponseHeadParser::Limits limits;
    limits.max_header_bytes = 64 * 1024;
    limits.max_fields = 1024;
    http::ResponseHeadParser again(limits, fields);
    SY_FUZZ_CHECK(again.parse(out) == http::ParseStatus::done);
    SY_FUZZ_CHECK(again.version() == 11);
    http::ResponseFacts facts;
    SY_FUZZ_CHECK(http::inspect_response(again, false, facts) == 0);
    SY_FUZZ_CHECK(facts.framing.kind == http::BodyKind::content_length);
    SY_FUZZ_CHECK(again.head_bytes() + facts.framing.length == out.size());
}

// The body after a head as the proxy relays it, and as the next hop, reading
// the head the proxy wrote, takes it back: the same payload, ending exactly
// where the relayed bytes end. The request-smuggling property: what the
// proxy forwards is one message, framed as the proxy understood it. Checked
// when the input holds the whole body.
inline void check_relayed_body(std::string_view body, const http::Framing& source,
                               bool chunked_sink, const http::Framing& next_hop) {
    const http::ChunkedDecoder::Limits limits;  // the proxy's defaults
    const auto whole = [&] { return body.size(); };
    const PumpRun relayed = pump_in_reads(body, source, chunked_sink, limits, whole);
    if (!relayed.done) return;  // truncated or malformed: the proxy aborts
    const PumpRun payload = pump_in_reads(body, source, false, limits, whole);
    SY_FUZZ_CHECK(payload.done && payload.consumed == relayed.consumed);
    const PumpRun received =
        pump_in_reads(relayed.sink, next_hop, false, limits, [&] { return relayed.sink.size(); });
    SY_FUZZ_CHECK(received.done);
    SY_FUZZ_CHECK(received.consumed == relayed.sink.size());
    SY_FUZZ_CHECK(received.sink == payload.sink);
}

inline void check_upstream_request(const http::RequestHeadParser& head,
                                   const http::RequestFacts& facts, std::string_view body,
                                   std::uint64_t h) {
    const bool options_or_trace =
        head.method_string() == "OPTIONS" || head.method_string() == "TRACE";
    if (options_or_trace && facts.max_forwards && *facts.max_forwards == 0) {
        // The proxy answers itself (RFC 9110 §7.6.2).
        std::string out;
        http::write_max_forwards_response(head, (h >> 4) & 1,
                                          "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n", out);
        check_own_response(out);
        return;
    }
    http::UpstreamRequestOptions options;
    options.client_ip = "192.0.2.7";
    options.proto = (h & 1) ? "https" : "http";
    if (facts.request_id.empty()) options.new_request_id = "fuzz-request-id";
    std::string out;
    http::write_upstream_request_head(head, facts, options, out);

    // What goes upstream is exactly one well-formed HTTP/1.1 head.
    std::vector<http::HeaderField> fields;
    http::RequestHeadParser::Limits limits;
    limits.max_header_bytes = 64 * 1024;
    limits.max_target_bytes = 0;
    limits.max_fields = 1024;
    http::RequestHeadParser again(limits, fields);
    SY_FUZZ_CHECK(again.parse(out) == http::ParseStatus::done);
    SY_FUZZ_CHECK(again.head_bytes() == out.size());
    SY_FUZZ_CHECK(again.version() == 11);
    SY_FUZZ_CHECK(again.method_string() == head.method_string());
    SY_FUZZ_CHECK(!again.target().empty());
    if (head.target().front() == '/') SY_FUZZ_CHECK(again.target() == head.target());

    // No hop-by-hop field and no field the client's Connection names is
    // forwarded (the fields the proxy writes itself aside).
    unsigned cl = 0, te = 0, host = 0, via = 0;
    for (const auto& f : again.fields()) {
        cl += f.id == field::content_length;
        te += f.id == field::transfer_encoding;
        host += f.id == field::host;
        via += f.id == field::via;
        if (added_by_proxy_upstream(f.name)) continue;
        if (facts.upgrade_websocket && (f.id == field::upgrade || f.id == field::connection))
            continue;
        SY_FUZZ_CHECK(!http::is_hop_by_hop(f.name));
        SY_FUZZ_CHECK(!facts.connection.names(f.name));
        SY_FUZZ_CHECK(f.id != field::http2_settings);
    }
    SY_FUZZ_CHECK(cl == (facts.framing.kind == http::BodyKind::content_length ? 1u : 0u));
    SY_FUZZ_CHECK(te == (facts.framing.kind == http::BodyKind::chunked ? 1u : 0u));
    SY_FUZZ_CHECK(host <= 1 && via >= 1);

    // The upstream sees the same body framing as the proxy does. An HTTP/1.0
    // request without Host goes out without one (then only that is refused).
    http::RequestFacts facts2;
    const unsigned verdict = http::inspect_request(again, facts2, kNoVia);
    SY_FUZZ_CHECK(verdict == 0 || (host == 0 && verdict == 400));
    SY_FUZZ_CHECK(facts2.framing.ok());
    SY_FUZZ_CHECK(facts2.framing.kind == facts.framing.kind);
    SY_FUZZ_CHECK(facts2.framing.length == facts.framing.length);
    if (verdict == 0) SY_FUZZ_CHECK(facts2.upgrade_websocket == facts.upgrade_websocket);
    if (options_or_trace && facts.max_forwards)
        SY_FUZZ_CHECK(facts2.max_forwards && *facts2.max_forwards + 1 == *facts.max_forwards);
    // The upload, re-chunked when chunked (as ClientSession relays it).
    check_relayed_body(body, facts.framing, true, facts2.framing);

    // RFC 9112 §3.2: the proxy sends origin-form (a valid http(s) absolute-form
    // becomes one), or "*" for OPTIONS; any other target is a malformed request
    // line (400) that never reaches an upstream (DESIGN.md). Regressions:
    // fuzz/regressions/request_head/target_* (absolute-form with userinfo was
    // routed by Host and forwarded as is: host confusion).
    SY_FUZZ_CHECK(http::is_valid_origin_form(again.target()) ||
                  (again.target() == "*" && again.method_string() == "OPTIONS"));
}

inline void check_client_response(const http::ResponseHeadParser& head, bool request_was_head,
                                  const http::ResponseFacts& facts, std::string_view body,
                                  std::uint64_t h) {
    // Beast takes any three digits; the proxy relays 100..599 only (RFC 9110
    // §15). Regression: response_status_002_relayed_as_2 ("HTTP/1.1 2 OK").
    SY_FUZZ_CHECK(head.status() >= 100 && head.status() <= 599);

    // The options an Exchange chooses (Exchange::on_response_head): a
    // 101 starts a tunnel, other 1xx are relayed as they are, a final
    // response is re-chunked for HTTP/1.1 clients only, and a body that runs
    // until the upstream closes, or one an HTTP/1.0 client cannot frame,
    // closes the client connection.
    const unsigned status = head.status();
    const bool interim = status >= 100 && status < 200;
    http::ClientResponseOptions options;
    const bool client_http10 = (h >> 2) & 1;
    const bool chunked_out = facts.framing.kind == http::BodyKind::chunked && !client_http10;
    if (status == 101) {
        if (facts.upgrade.empty()) return;  // refused: a 101 without Upgrade
        options.upgrade = true;
        options.date_field = "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n";
    } else if (!interim) {
        options.close = facts.framing.kind == http::BodyKind::until_close ||
                        (facts.framing.kind == http::BodyKind::chunked && client_http10) ||
                        ((h >> 1) & 1);
        options.client_http10 = client_http10;
        options.chunked = chunked_out;
        options.date_field = "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n";
    }
    std::string out;
    http::write_client_response_head(head, facts, options, out);

    std::vector<http::HeaderField> fields;
    http::ResponseHeadParser::Limits limits;
    limits.max_header_bytes = 64 * 1024;
    limits.max_fields = 1024;
    http::ResponseHeadParser again(limits, fields);
    SY_FUZZ_CHECK(again.parse(out) == http::ParseStatus::done);
    SY_FUZZ_CHECK(again.head_bytes() == out.size());
    SY_FUZZ_CHECK(again.version() == 11);
    SY_FUZZ_CHECK(again.status() == status);
    unsigned te = 0, connection = 0, upgrade = 0;
    for (const auto& f : again.fields()) {
        // Connection, Transfer-Encoding and a 101's Upgrade: the proxy's own.
        te += f.id == field::transfer_encoding;
        connection += f.id == field::connection;
        upgrade += f.id == field::upgrade;
        if (f.id == field::transfer_encoding || f.id == field::connection) continue;
        if (options.upgrade && f.id == field::upgrade) continue;
        SY_FUZZ_CHECK(!http::is_hop_by_hop(f.name));
        if (f.id != field::via && f.id != field::content_length && f.id != field::date)
            SY_FUZZ_CHECK(!facts.connection.names(f.name));
    }
    SY_FUZZ_CHECK(te == (options.chunked ? 1u : 0u));
    SY_FUZZ_CHECK(connection <= 1 && upgrade == (options.upgrade ? 1u : 0u));

    http::ResponseFacts facts2;
    SY_FUZZ_CHECK(http::inspect_response(again, request_was_head, facts2) == 0);
    if (!interim) {
        // The client frames the body as the proxy relays it.
        http::BodyKind expected = facts.framing.kind;
        if (expected == http::BodyKind::chunked && !chunked_out)
            expected = http::BodyKind::until_close;
        SY_FUZZ_CHECK(facts2.framing.kind == expected);
        SY_FUZZ_CHECK(facts2.framing.length == facts.framing.length);
        if (options.close) SY_FUZZ_CHECK(!facts2.persistent);
        check_relayed_body(body, facts.framing, chunked_out, facts2.framing);
    }
    if (!options.date_field.empty()) {
        // RFC 9110 §6.6.1: a response forwarded without Date gets one, also
        // when the upstream's Connection named its Date (regression:
        // response_date_named_by_connection).
        SY_FUZZ_CHECK(facts2.has_date);
    }
}

}  // namespace detail

// RequestHeadParser and ResponseHeadParser over the input, whole and split;
// for a parsed request, inspect_request and write_upstream_request_head; for a
// parsed response, inspect_response and write_client_response_head.
inline void check_request_head(std::string_view input) {
    using namespace detail;
    const std::string buffer(input);  // the views must point into our copy
    const std::uint64_t h = input_hash(input);

    std::vector<http::HeaderField> fields;
    http::RequestHeadParser request(request_limits(), fields);
    const auto req_status = request.parse(buffer);
    const HeadCopy req_whole = copy_head(request, req_status, buffer);
    check_against_beast(buffer, request, req_whole, request_limits());
    for (const auto& plan : split_plans(buffer, h))
        SY_FUZZ_CHECK(parse_in_steps<true>(buffer, plan, request_limits()) == req_whole);
    if (req_status == http::ParseStatus::done) {
        http::RequestFacts facts;
        const unsigned verdict = http::inspect_request(request, facts);
        SY_FUZZ_CHECK(verdict == 0 || verdict == 400 || verdict == 405 || verdict == 501 ||
                      verdict == 508);
        if (verdict != 0) {
            // The refusal the proxy writes itself, echoing the client's X-Request-Id.
            std::string out;
            http::write_local_response(verdict, true, facts.request_id,
                                       "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n", out);
            detail::check_own_response(out);
        } else {
            SY_FUZZ_CHECK(facts.framing.ok() && !facts.framing.must_close);
            SY_FUZZ_CHECK(facts.framing.kind != http::BodyKind::until_close);
            detail::check_upstream_request(
                request, facts, std::string_view(buffer).substr(request.head_bytes()), h);
        }
    }

    std::vector<http::HeaderField> rfields;
    http::ResponseHeadParser response(response_limits(), rfields);
    const auto resp_status = response.parse(buffer);
    const HeadCopy resp_whole = copy_head(response, resp_status, buffer);
    check_against_beast(buffer, response, resp_whole, response_limits());
    for (const auto& plan : split_plans(buffer, h))
        SY_FUZZ_CHECK(parse_in_steps<false>(buffer, plan, response_limits()) == resp_whole);
    if (resp_status == http::ParseStatus::done) {
        const bool request_was_head = (h >> 32) & 1;
        http::ResponseFacts facts;
        const unsigned verdict = http::inspect_response(response, request_was_head, facts);
        SY_FUZZ_CHECK(verdict == 0 || verdict == 502);
        if (verdict == 0) {
            SY_FUZZ_CHECK(facts.framing.ok());
            if (facts.framing.must_close) SY_FUZZ_CHECK(!facts.persistent);
            detail::check_client_response(response, request_was_head, facts,
                                          std::string_view(buffer).substr(response.head_bytes()),
                                          h);
        }
    }
}

// ---------------------------------------------------------------------------
// Chunked bodies
// ---------------------------------------------------------------------------

namespace detail {

// A complete chunked body per RFC 9112 §7.1 and the decoder's documented
// strictness and limits, written independently of chunked_decoder.cpp as a
// plain whole-input parser. True iff `s` is exactly one valid body; its
// payload is appended to `payload`.
inline bool reference_chunked_body(std::string_view s, const http::ChunkedDecoder::Limits& lim,
                                   std::string& payload) {
    const auto byte = [](char c) { return static_cast<unsigned char>(c); };
    const auto vchar_or_obs = [&](char c) { return (byte(c) >= 0x21 && byte(c) != 0x7f); };
    const auto qdtext = [&](char c) {
        return c == '\t' || c == ' ' || (vchar_or_obs(c) && c != '"' && c != '\\');
    };
    const auto pair_ok = [&](char c) { return c == '\t' || c == ' ' || vchar_or_obs(c); };
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    constexpr std::string_view tchar_punct = "!#$%&'*+-.^_`|~";
    const auto tchar = [&](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c != 0 && tchar_punct.find(c) != std::string_view::npos);
    };
    std::size_t i = 0;
    const std::size_t n = s.size();
    const auto crlf = [&] {
        if (n - i >= 2 && s[i] == '\r' && s[i + 1] == '\n') {
            i += 2;
            return true;
        }
        return false;
    };
    const auto token = [&] {
        const std::size_t b = i;
        while (i < n && tchar(s[i]))
            ++i;
        return i > b;
    };
    while (true) {
        const std::size_t digits_begin = i;
        std::uint64_t size = 0;
        while (i < n && hex(s[i]) >= 0 && i - digits_begin < 17)
            size = size * 16 + static_cast<std::uint64_t>(hex(s[i++]));
        const std::size_t digits = i - digits_begin;
        if (digits == 0 || digits > static_cast<std::size_t>(lim.max_size_hex_digits)) return false;
        const std::size_t ext_begin = i;
        while (i < n && s[i] == ';') {
            ++i;
            if (!token()) return false;
            if (i < n && s[i] == '=') {
                ++i;
                if (i < n && s[i] == '"') {
                    for (++i;; ++i) {
                        if (i >= n) return false;
                        if (s[i] == '"') break;
                        if (s[i] == '\\') {
                            if (i + 1 >= n || !pair_ok(s[i + 1])) return false;
                            ++i;
                        } else if (!qdtext(s[i])) {
                            return false;
                        }
                    }
                    ++i;
                } else if (!token()) {
                    return false;
                }
            }
        }
        if (i - ext_begin > lim.max_chunk_ext_bytes) return false;
        if (!crlf()) return false;
        if (size == 0) break;
        if (n - i < size) return false;
        payload.append(s.substr(i, static_cast<std::size_t>(size)));
        i += static_cast<std::size_t>(size);
        if (!crlf()) return false;
    }
    // Any field name is valid in a trailer: which ones pass on is BodyPump's
    // decision (is_dropped_trailer_field), checked in check_chunked.
    std::size_t trailer = 0;
    while (!crlf()) {
        const std::size_t line_begin = i;
        if (!token()) return false;
        if (i >= n || s[i] != ':') return false;
        ++i;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || vchar_or_obs(s[i])))
            ++i;
        if (!crlf()) return false;
        trailer += i - line_begin;
    }
    return trailer <= lim.max_trailer_bytes && i == n;
}

// Every chunked body ends with CRLF CRLF: each prefix of the input that ends
// so is a valid body iff the decoder ended exactly there.
inline void check_against_reference(std::string_view input, const DecodeRun& whole,
                                    const http::ChunkedDecoder::Limits& limits) {
    std::size_t checked = 0;
    for (std::size_t at = input.find("\r\n\r\n"); at != std::string_view::npos && checked < 32;
         at = input.find("\r\n\r\n", at + 1), ++checked) {
        const std::size_t end = at + 4;
        std::string payload;
        const bool valid = reference_chunked_body(input.substr(0, end), limits, payload);
        SY_FUZZ_CHECK(valid == (whole.done && end == whole.consumed));
        if (valid) SY_FUZZ_CHECK(payload == whole.payload);
    }
}

inline std::string chunk_encode(std::string_view payload, SplitMix& rng) {
    std::string out;
    char header[24];
    for (std::size_t pos = 0; pos < payload.size();) {
        const std::size_t n = rng.piece(payload.size() - pos);
        out.append(header, http::write_chunk_header(n, header));
        out.append(payload.substr(pos, n));
        out.append("\r\n");
        pos += n;
    }
    out.append("0\r\n\r\n");
    return out;
}

inline void check_chunk_header(std::uint64_t size) {
    char header[24];
    const std::size_t len = http::write_chunk_header(size, header);
    SY_FUZZ_CHECK(len >= 3 && len <= 18);
    const std::string_view text(header, len);
    SY_FUZZ_CHECK(text.ends_with("\r\n"));
    const std::string_view digits = text.substr(0, len - 2);
    SY_FUZZ_CHECK(digits.size() == 1 || digits.front() != '0');
    for (char c : digits)
        SY_FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    std::uint64_t back = 0;
    SY_FUZZ_CHECK(std::from_chars(digits.data(), digits.data() + digits.size(), back, 16).ec ==
                  std::errc());
    SY_FUZZ_CHECK(back == size);
}

}  // namespace detail

// ChunkedDecoder over the input in one piece, byte by byte and in pieces
// derived from the input: the same payload, end and error whatever the
// split. Then the payload re-chunked decodes back to itself, and BodyPump
// (chunked to chunked, chunked to plain, length-framed) passes on exactly it.
inline void check_chunked(std::string_view input) {
    using namespace detail;
    const std::uint64_t h = input_hash(input);
    const auto limits = chunk_limits();

    const DecodeRun whole = decode_in_pieces(input, limits, [&] { return input.size(); });
    SY_FUZZ_CHECK(decode_in_pieces(input, limits, [] { return std::size_t{1}; }) == whole);
    SplitMix rng(h);
    SY_FUZZ_CHECK(decode_in_pieces(input, limits, [&] { return rng.piece(input.size()); }) ==
                  whole);
    const bool failed = whole.error != http::ChunkedDecoder::Error::none;
    if (failed) SY_FUZZ_CHECK(whole.consumed < input.size());
    if (!whole.done && !failed) SY_FUZZ_CHECK(whole.consumed == input.size());
    if (whole.done) {
        SY_FUZZ_CHECK(whole.consumed >= 5 && whole.consumed <= input.size());
        SY_FUZZ_CHECK(input.substr(0, whole.consumed).ends_with("\r\n\r\n"));
        // Re-encoded in other chunk sizes, the payload decodes to itself.
        const std::string encoded = chunk_encode(whole.payload, rng);
        const DecodeRun again = decode_in_pieces(encoded, http::ChunkedDecoder::Limits{},
                                                 [&] { return encoded.size(); });
        SY_FUZZ_CHECK(again.done && again.consumed == encoded.size());
        SY_FUZZ_CHECK(again.payload == whole.payload);
    }

    http::Framing chunked;
    chunked.kind = http::BodyKind::chunked;
    for (bool chunked_sink : {true, false}) {
        const PumpRun run = pump_in_reads(input, chunked, chunked_sink, limits,
                                          [&] { return rng.piece(input.size()); });
        // A truncated body fails at end of file; a bad one fails at once.
        SY_FUZZ_CHECK(run.done == whole.done);
        SY_FUZZ_CHECK(run.failed == !whole.done);
        std::string payload = run.sink;
        if (chunked_sink) {
            // The sink got a valid chunked stream (complete iff the body was):
            // a fresh decoder gets the payload back.
            const DecodeRun sunk = decode_in_pieces(run.sink, http::ChunkedDecoder::Limits{},
                                                    [&] { return run.sink.size(); });
            SY_FUZZ_CHECK(sunk.error == http::ChunkedDecoder::Error::none);
            SY_FUZZ_CHECK(sunk.done == whole.done);
            SY_FUZZ_CHECK(sunk.consumed == run.sink.size());
            payload = sunk.payload;
            // Its trailer holds no field a proxy must drop (RFC 9110 §6.5).
            http::ChunkedDecoder trailer_reader;
            std::string trailer;
            trailer_reader.capture_trailers(&trailer);
            std::vector<std::string_view> ignored;
            trailer_reader.decode(run.sink, ignored);
            for (std::size_t pos = 0; pos < trailer.size();) {
                const std::size_t end = trailer.find("\r\n", pos);
                SY_FUZZ_CHECK(end != std::string::npos);
                const std::string_view line(trailer.data() + pos, end - pos);
                SY_FUZZ_CHECK(!http::is_dropped_trailer_field(line.substr(0, line.find(':'))));
                pos = end + 2;
            }
        }
        SY_FUZZ_CHECK(run.payload_bytes == payload.size());
        if (whole.done)
            SY_FUZZ_CHECK(payload == whole.payload);
        else  // passed on up to the read that failed, never more
            SY_FUZZ_CHECK(whole.payload.starts_with(payload));
    }

    // A length-framed body passes through as is, and only up to its length.
    http::Framing length;
    length.kind = http::BodyKind::content_length;
    length.length = (h >> 40) % (input.size() + 2);
    const PumpRun run =
        pump_in_reads(input, length, true, limits, [&] { return rng.piece(input.size()); });
    SY_FUZZ_CHECK(run.done == (length.length <= input.size()));
    SY_FUZZ_CHECK(run.failed == !run.done);
    SY_FUZZ_CHECK(run.sink == input.substr(0, static_cast<std::size_t>(length.length)));
    SY_FUZZ_CHECK(run.payload_bytes == run.sink.size());

    check_against_reference(input, whole, limits);
    check_chunk_header(h);
    check_chunk_header(h >> (h % 64));
    check_chunk_header(whole.payload.size());
}

// ---------------------------------------------------------------------------
// Framing decisions
// ---------------------------------------------------------------------------

namespace detail {

enum class ClRef { absent, ok, bad, conflicting };

// Content-Length per RFC 9110 §8.6, written independently of framing.cpp.
inline ClRef reference_content_length(std::span<const std::string_view> values,
                                      std::uint64_t& out) {
    if (values.empty()) return ClRef::absent;
    std::optional<std::string_view> first;
    bool conflict = false;
    for (std::string_view v : values) {
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = v.find(',', start);
            std::string_view el =
                v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
            while (!el.empty() && (el.front() == ' ' || el.front() == '\t'))
                el.remove_prefix(1);
            while (!el.empty() && (el.back() == ' ' || el.back() == '\t'))
                el.remove_suffix(1);
            if (el.empty() ||
                !std::all_of(el.begin(), el.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return ClRef::bad;
            std::uint64_t n = 0;
            if (std::from_chars(el.data(), el.data() + el.size(), n).ec != std::errc())
                return ClRef::bad;  // overflow
            if (!first) {
                first = el;
                out = n;
            } else if (el != *first) {
                conflict = true;
            }
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    return conflict ? ClRef::conflicting : ClRef::ok;
}

inline std::string join(std::span<const std::string_view> values, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out.append(sep);
        out.append(values[i]);
    }
    return out;
}

inline bool same(const http::Framing& a, const http::Framing& b) {
    return a.kind == b.kind && a.length == b.length && a.error == b.error &&
           a.must_close == b.must_close;
}

inline void check_error_names(const http::Framing& f) {
    SY_FUZZ_CHECK(f.ok() == (f.error == http::FramingError::none));
    const auto name = http::to_string(f.error);
    SY_FUZZ_CHECK(!name.empty() && name != "unknown");
    if (!f.ok()) SY_FUZZ_CHECK(f.kind == http::BodyKind::none && f.length == 0 && f.must_close);
    if (f.kind != http::BodyKind::content_length) SY_FUZZ_CHECK(f.length == 0);
}

inline void check_request_framing(unsigned version, std::span<const std::string_view> cl,
                                  std::span<const std::string_view> te) {
    const http::Framing f = http::request_framing(version, cl, te);
    check_error_names(f);
    SY_FUZZ_CHECK(f.ok() == !f.must_close);
    SY_FUZZ_CHECK(f.kind != http::BodyKind::until_close);
    const unsigned status = http::request_error_status(f.error);
    SY_FUZZ_CHECK(status == (f.ok()                                                   ? 0u
                             : f.error == http::FramingError::unknown_transfer_coding ? 501u
                                                                                      : 400u));
    std::uint64_t ref_length = 0;
    const ClRef ref = reference_content_length(cl, ref_length);
    if (!te.empty()) {
        // Any Transfer-Encoding: chunked or refused, never a length.
        SY_FUZZ_CHECK(f.kind == http::BodyKind::chunked || !f.ok());
        if (version < 11) SY_FUZZ_CHECK(f.error == http::FramingError::transfer_encoding_on_http10);
        if (!cl.empty()) SY_FUZZ_CHECK(!f.ok());
    } else {
        switch (ref) {
            case ClRef::absent:
                SY_FUZZ_CHECK(f.ok() && f.kind == http::BodyKind::none);
                break;
            case ClRef::ok:
                SY_FUZZ_CHECK(f.ok() && f.kind == http::BodyKind::content_length);
                SY_FUZZ_CHECK(f.length == ref_length);
                break;
            case ClRef::bad:
                SY_FUZZ_CHECK(f.error == http::FramingError::bad_content_length);
                break;
            case ClRef::conflicting:
                SY_FUZZ_CHECK(f.error == http::FramingError::conflicting_content_length);
                break;
        }
    }
    if (f.kind == http::BodyKind::chunked) SY_FUZZ_CHECK(version >= 11 && cl.empty());
    if (f.kind == http::BodyKind::content_length) {
        const auto parsed = http::parse_content_length(cl);
        SY_FUZZ_CHECK(parsed && *parsed == f.length && te.empty());
        // The same length frames a response.
        const http::Framing r = http::response_framing(version, 200, false, false, cl, {});
        SY_FUZZ_CHECK(r.kind == http::BodyKind::content_length && r.length == f.length);
    }
    // Several Transfer-Encoding lines are one list (quotes aside: a quoted
    // string does not run across field lines).
    const bool quotes =
        std::any_of(te.begin(), te.end(), [](std::string_view v) { return v.find('"') != v.npos; });
    if (te.size() > 1 && !quotes) {
        const std::string joined = join(te, ", ");
        const std::string_view one[] = {joined};
        SY_FUZZ_CHECK(same(http::request_framing(version, cl, one), f));
    }
}

inline void check_response_framing(unsigned version, unsigned status, bool head, bool connect,
                                   std::span<const std::string_view> cl,
                                   std::span<const std::string_view> te) {
    const http::Framing f = http::response_framing(version, status, head, connect, cl, te);
    check_error_names(f);
    if (f.kind == http::BodyKind::until_close) SY_FUZZ_CHECK(f.must_close);
    if (connect && status >= 200 && status < 300) {
        SY_FUZZ_CHECK(f.ok() && f.kind == http::BodyKind::until_close);
        return;
    }
    std::uint64_t ref_length = 0;
    const ClRef ref = reference_content_length(cl, ref_length);
    if (ref == ClRef::bad) SY_FUZZ_CHECK(f.error == http::FramingError::bad_content_length);
    if (ref == ClRef::conflicting)
        SY_FUZZ_CHECK(f.error == http::FramingError::conflicting_content_length);
    const bool bodiless = head || (status >= 100 && status < 200) || status == 204 || status == 304;
    if (bodiless) SY_FUZZ_CHECK(f.kind == http::BodyKind::none);
    if (!bodiless && f.ok()) SY_FUZZ_CHECK(f.kind != http::BodyKind::none);
    if (f.kind == http::BodyKind::content_length) {
        const auto parsed = http::parse_content_length(cl);
        SY_FUZZ_CHECK(ref == ClRef::ok && parsed && *parsed == f.length && f.length == ref_length);
        SY_FUZZ_CHECK(te.empty());
    }
    if (f.kind == http::BodyKind::chunked) {
        SY_FUZZ_CHECK(version >= 11 && !te.empty());
        SY_FUZZ_CHECK(f.must_close == !cl.empty());
    }
    if (!te.empty() && f.ok() && !bodiless) SY_FUZZ_CHECK(f.kind != http::BodyKind::content_length);
    const bool quotes =
        std::any_of(te.begin(), te.end(), [](std::string_view v) { return v.find('"') != v.npos; });
    if (te.size() > 1 && !quotes) {
        const std::string joined = join(te, ", ");
        const std::string_view one[] = {joined};
        SY_FUZZ_CHECK(same(http::response_framing(version, status, head, connect, cl, one), f));
    }
}

}  // namespace detail

// The input is a control line then one value per line:
//   line 1: [version: odd byte = HTTP/1.1, even = 1.0] [flags: bit 0 HEAD
//           request, bit 1 CONNECT request] [three status digits]
//   then:   a line whose first byte is odd ('C') is a Content-Length value,
//           even ('T') a Transfer-Encoding value; the rest of the line is it.
// e.g. "10200\nC5\nTchunked". request_framing, response_framing and
// parse_content_length must never crash and must agree with each other and
// with a reference Content-Length parser.
inline void check_framing(std::string_view input) {
    using namespace detail;
    const std::size_t nl = input.find('\n');
    const std::string_view control = input.substr(0, nl);
    const auto byte = [&](std::size_t i) {
        return i < control.size() ? static_cast<unsigned char>(control[i]) : 0u;
    };
    const unsigned version = (byte(0) & 1) ? 11 : 10;
    const bool head = byte(1) & 1;
    const bool connect = byte(1) & 2;
    unsigned status = 200;
    if (control.size() >= 5) {
        status = 0;
        for (std::size_t i = 2; i < 5; ++i) {
            const unsigned c = byte(i);
            status = status * 10 + (c >= '0' && c <= '9' ? c - '0' : c % 10);
        }
    }
    std::vector<std::string_view> cl, te;
    if (nl != std::string_view::npos) {
        std::string_view rest = input.substr(nl + 1);
        while (!rest.empty()) {
            const std::size_t end = rest.find('\n');
            const std::string_view line = rest.substr(0, end);
            if (!line.empty())
                ((static_cast<unsigned char>(line[0]) & 1) ? cl : te).push_back(line.substr(1));
            if (end == std::string_view::npos) break;
            rest.remove_prefix(end + 1);
        }
    }

    // parse_content_length agrees with the reference, and with itself when
    // its lines are joined into one list.
    std::uint64_t ref_length = 0;
    const ClRef ref = reference_content_length(cl, ref_length);
    const auto parsed = http::parse_content_length(cl);
    SY_FUZZ_CHECK(parsed.has_value() == (ref == ClRef::ok));
    if (parsed) SY_FUZZ_CHECK(*parsed == ref_length);
    if (!cl.empty()) {
        const std::string joined = join(cl, ",");
        const std::string_view one[] = {joined};
        SY_FUZZ_CHECK(http::parse_content_length(one) == parsed);
    }

    check_request_framing(version, cl, te);
    check_request_framing(version == 11 ? 10 : 11, cl, te);
    check_response_framing(version, status, head, connect, cl, te);
    check_response_framing(version, 200, false, false, cl, te);
    check_response_framing(version, 204, false, false, cl, te);
}

}  // namespace switchyard::fuzz

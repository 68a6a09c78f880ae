#include "switchyard/http/body_pump.hpp"

#include <gtest/gtest.h>

#include "switchyard/http/field_rules.hpp"

#include <string>

namespace switchyard::http {
namespace {

// Feeds `input` in pieces of `step` bytes, as a relay would, and returns what
// the sink receives.
std::string pump_all(BodyPump& pump, std::string_view input, std::size_t step, bool eof = false) {
    std::string sink;
    std::string buffered;
    std::size_t fed = 0;
    std::vector<std::string_view> out;
    while (!pump.done() && !pump.failed()) {
        if (fed < input.size()) {
            std::size_t n = std::min(step, input.size() - fed);
            buffered.append(input.substr(fed, n));
            fed += n;
        } else if (eof) {
            out.clear();
            pump.on_source_eof(out);
            for (auto p : out)
                sink.append(p);
            break;
        } else {
            break;
        }
        for (;;) {
            out.clear();
            std::size_t used = pump.plan(buffered, out);
            for (auto p : out)
                sink.append(p);
            buffered.erase(0, used);
            if (used == 0 || pump.done() || pump.failed()) break;
        }
    }
    return sink;
}

TEST(BodyPump, LengthBodyStopsAtItsEnd) {
    BodyPump pump;
    pump.reset({BodyKind::content_length, 5}, false);
    std::vector<std::string_view> out;
    EXPECT_EQ(pump.plan("hello NEXT", out), 5u);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], "hello");
    EXPECT_TRUE(pump.done());
    EXPECT_EQ(pump.payload_bytes(), 5u);
}

TEST(BodyPump, NoBodyIsDoneAtOnce) {
    BodyPump pump;
    pump.reset({}, false);
    EXPECT_TRUE(pump.done());
    pump.reset({BodyKind::content_length, 0}, false);
    EXPECT_TRUE(pump.done());
}

TEST(BodyPump, TruncatedLengthBodyFails) {
    BodyPump pump;
    pump.reset({BodyKind::content_length, 10}, false);
    EXPECT_EQ(pump_all(pump, "abc", 2, /*eof=*/true), "abc");
    EXPECT_TRUE(pump.failed());
}

TEST(BodyPump, ChunkedIsReChunkedWhateverTheSplit) {
    const std::string in = "3;ext=1\r\nabc\r\n5\r\nde\r\nf\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    for (std::size_t step = 1; step <= in.size(); ++step) {
        BodyPump pump;
        pump.reset({BodyKind::chunked, 0}, /*chunked_sink=*/true);
        std::string sink = pump_all(pump, in.substr(0, in.size() - 4), step);
        ASSERT_TRUE(pump.done()) << step;
        EXPECT_EQ(pump.payload_bytes(), 8u);
        // Decode what the sink got: it must be valid chunked with the same payload.
        BodyPump check;
        check.reset({BodyKind::chunked, 0}, false);
        EXPECT_EQ(pump_all(check, sink, sink.size()), "abcde\r\nf") << step;
        EXPECT_TRUE(check.done());
        EXPECT_EQ(sink.find("ext"), std::string::npos);
        EXPECT_TRUE(sink.ends_with("0\r\nX-Trailer: t\r\n\r\n")) << sink;
    }
}

// Trailer fields pass on to a chunked sink, except those a proxy must not
// pass (framing, routing, authentication, ..., our own) and the configured
// extra ones (override, flags, context); never any to a de-chunked (HTTP/1.0) sink.
TEST(BodyPump, TrailerFieldsPassOnWithoutTheDroppedOnes) {
    const std::string in =
        "1\r\na\r\n0\r\nContent-Length: 9\r\nX-Checksum: abc\r\nHost: evil\r\n"
        "transfer-encoding: chunked\r\nProxy-Authorization: x\r\nX-Forwarded-For: 6.6.6.6\r\n"
        "Forwarded: for=6.6.6.6\r\nVia: 1.1 switchyard\r\nX-Switchyard-Pool: green\r\n"
        "Grpc-Status: 0\r\nX-Switchyard-Flags: all\r\nConnection: close\r\n"
        "x-switchyard-context: pool=green\r\nSet-Cookie: a=b\r\n\r\n";
    const std::vector<std::string> extra = {"x-switchyard-pool", "X-Switchyard-Flags",
                                            "X-Switchyard-Context"};
    for (std::size_t step = 1; step <= in.size(); step += 7) {
        BodyPump pump;
        pump.reset({BodyKind::chunked, 0}, /*chunked_sink=*/true, {}, extra);
        EXPECT_EQ(pump_all(pump, in, step),
                  "1\r\na\r\n0\r\nX-Checksum: abc\r\nGrpc-Status: 0\r\n\r\n")
            << step;
        EXPECT_TRUE(pump.done());
    }
    BodyPump all_dropped;
    all_dropped.reset({BodyKind::chunked, 0}, true);
    EXPECT_EQ(pump_all(all_dropped, "0\r\nHost: a\r\nTE: trailers\r\n\r\n", 5), "0\r\n\r\n");
    BodyPump http10;
    http10.reset({BodyKind::chunked, 0}, false);
    EXPECT_EQ(pump_all(http10, in, 16), "a");
    EXPECT_TRUE(http10.done());
}

TEST(TrailerFields, DroppedOnes) {
    for (std::string_view name : {"Content-Length",
                                  "TRANSFER-ENCODING",
                                  "Trailer",
                                  "Host",
                                  "Connection",
                                  "Keep-Alive",
                                  "TE",
                                  "Upgrade",
                                  "Proxy-Connection",
                                  "proxy-authenticate",
                                  "Proxy-Whatever",
                                  "Authorization",
                                  "Cookie",
                                  "Set-Cookie",
                                  "Cache-Control",
                                  "Content-Type",
                                  "Content-Encoding",
                                  "Expect",
                                  "Range",
                                  "If-None-Match",
                                  "Max-Forwards",
                                  "Via",
                                  "Forwarded",
                                  "X-Forwarded-For",
                                  "X-Forwarded-Proto",
                                  "X-Forwarded-Host",
                                  "X-Request-Id"})
        EXPECT_TRUE(is_dropped_trailer_field(name)) << name;
    for (std::string_view name : {"X-Checksum", "Grpc-Status", "Grpc-Message", "Server-Timing",
                                  "Digest", "Content-MD5", "Proxy", "Hosts", "ETag"})
        EXPECT_FALSE(is_dropped_trailer_field(name)) << name;
}

TEST(BodyPump, ChunkedIsDeChunkedForHttp10) {
    BodyPump pump;
    pump.reset({BodyKind::chunked, 0}, /*chunked_sink=*/false);
    EXPECT_EQ(pump_all(pump, "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n", 4), "abc");
    EXPECT_TRUE(pump.done());
}

TEST(BodyPump, MalformedChunkedFails) {
    BodyPump pump;
    pump.reset({BodyKind::chunked, 0}, true);
    pump_all(pump, "zz\r\nab\r\n", 3);
    EXPECT_TRUE(pump.failed());
}

TEST(BodyPump, UntilCloseEndsAtEof) {
    BodyPump pump;
    pump.reset({BodyKind::until_close, 0}, false);
    EXPECT_EQ(pump_all(pump, "all of it", 4, /*eof=*/true), "all of it");
    EXPECT_TRUE(pump.done());
    EXPECT_FALSE(pump.failed());
}

TEST(BodyPump, ChunkedSourceEndingEarlyFails) {
    BodyPump pump;
    pump.reset({BodyKind::chunked, 0}, true);
    pump_all(pump, "5\r\nab", 10, /*eof=*/true);
    EXPECT_TRUE(pump.failed());
}

// last_payload() is the body without framing, whatever the source's and
// the sink's coding: what a response diff copies.
TEST(BodyPump, LastPayloadIsTheBodyWithoutFraming) {
    const auto payload_of = [](BodyPump& pump, std::string_view input, std::size_t step) {
        std::string payload, buffered;
        std::vector<std::string_view> out;
        for (std::size_t fed = 0; fed < input.size() && !pump.done();) {
            const std::size_t n = std::min(step, input.size() - fed);
            buffered.append(input.substr(fed, n));
            fed += n;
            for (;;) {
                out.clear();
                const std::size_t used = pump.plan(buffered, out);
                for (auto p : pump.last_payload())
                    payload.append(p);
                buffered.erase(0, used);
                if (used == 0 || pump.done()) break;
            }
        }
        return payload;
    };
    const std::string chunked = "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nT: 1\r\n\r\n";
    for (std::size_t step : {1u, 3u, 7u, 100u}) {
        for (bool sink : {true, false}) {
            BodyPump pump;
            pump.reset({BodyKind::chunked, 0}, sink);
            EXPECT_EQ(payload_of(pump, chunked, step), "hello world") << step << sink;
        }
        BodyPump length;
        length.reset({BodyKind::content_length, 11}, false);
        EXPECT_EQ(payload_of(length, "hello worldNEXT", step), "hello world") << step;
    }
    // A plan with nothing to give has no payload either.
    BodyPump done;
    done.reset({BodyKind::content_length, 1}, false);
    std::vector<std::string_view> out;
    done.plan("x", out);
    EXPECT_EQ(done.last_payload().size(), 1u);
    EXPECT_EQ(done.plan("y", out), 0u);
    EXPECT_TRUE(done.last_payload().empty());
}

}  // namespace
}  // namespace switchyard::http

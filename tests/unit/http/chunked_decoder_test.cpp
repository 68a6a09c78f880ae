#include "switchyard/http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {
namespace {

using namespace std::string_literals;
using Error = ChunkedDecoder::Error;
using Limits = ChunkedDecoder::Limits;

struct Outcome {
    std::string payload;
    bool done = false;
    Error error = Error::none;
    std::size_t consumed = 0;
    std::uint64_t payload_bytes = 0;

    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    return os << "{payload=\"" << o.payload << "\" done=" << o.done
              << " error=" << to_string(o.error) << " consumed=" << o.consumed
              << " payload_bytes=" << o.payload_bytes << "}";
}

// Feeds `input` cut at the given offsets, as a socket would deliver it, and
// checks the decoder's contract on the way: it consumes every byte of a piece
// unless it finishes or fails inside it, and every payload piece is a
// non-empty view into the piece being decoded.
Outcome run(std::string_view input, const std::vector<std::size_t>& cuts, Limits limits = {}) {
    ChunkedDecoder d(limits);
    Outcome o;
    std::vector<std::string_view> data;
    std::size_t begin = 0;
    for (std::size_t k = 0; k <= cuts.size(); ++k) {
        const std::size_t end = k < cuts.size() ? cuts[k] : input.size();
        const std::string_view piece = input.substr(begin, end - begin);
        data.clear();
        const std::size_t used = d.decode(piece, data);
        for (std::string_view v : data) {
            EXPECT_FALSE(v.empty());
            EXPECT_GE(v.data(), piece.data());
            EXPECT_LE(v.data() + v.size(), piece.data() + piece.size());
            o.payload.append(v);
        }
        o.consumed += used;
        if (d.done() || d.failed()) break;
        EXPECT_EQ(used, piece.size());
        begin = end;
    }
    o.done = d.done();
    o.error = d.error();
    o.payload_bytes = d.payload_bytes();
    EXPECT_EQ(o.payload_bytes, o.payload.size());
    return o;
}

struct Vector {
    const char* name;
    std::string input;
    std::string payload;
    bool done;
    Error error;
    std::size_t consumed;  // the whole body on success, the offending byte's offset on error
    Limits limits{};
};

// Every vector must decode identically whole, byte by byte, split in two at
// every offset and (when short) in three at every pair of offsets. Reports
// only the first differing split of a vector.
void expect_split_invariant(const Vector& v) {
    SCOPED_TRACE(v.name);
    const Outcome want{v.payload, v.done, v.error, v.consumed, v.payload.size()};
    std::vector<std::vector<std::size_t>> splits = {{}};
    std::vector<std::size_t> bytes;
    for (std::size_t i = 1; i < v.input.size(); ++i)
        bytes.push_back(i);
    splits.push_back(bytes);
    for (std::size_t i = 0; i <= v.input.size(); ++i)
        splits.push_back({i});
    if (v.input.size() <= 48) {
        for (std::size_t i = 0; i <= v.input.size(); ++i)
            for (std::size_t j = i; j <= v.input.size(); ++j)
                splits.push_back({i, j});
    }
    for (const auto& cuts : splits) {
        const Outcome got = run(v.input, cuts, v.limits);
        if (got == want) continue;
        std::string where;
        for (std::size_t c : cuts)
            where += std::to_string(c) + " ";
        ADD_FAILURE() << "got " << got << "\nwant " << want << "\ncuts: " << where;
        return;
    }
}

const Limits kSmallExt{
    .max_chunk_ext_bytes = 8, .max_trailer_bytes = 16384, .max_size_hex_digits = 16};
const Limits kSmallTrailer{
    .max_chunk_ext_bytes = 4096, .max_trailer_bytes = 16, .max_size_hex_digits = 16};
const Limits kFourDigits{
    .max_chunk_ext_bytes = 4096, .max_trailer_bytes = 16384, .max_size_hex_digits = 4};
const Limits kTwentyDigits{
    .max_chunk_ext_bytes = 4096, .max_trailer_bytes = 16384, .max_size_hex_digits = 20};

std::vector<Vector> valid_vectors() {
    return {
        {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", true, Error::none, 15},
        {"two chunks", "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", "abcdefg", true, Error::none, 22},
        {"empty body", "0\r\n\r\n", "", true, Error::none, 5},
        {"hex both cases", "A\r\n0123456789\r\na\r\nABCDEFGHIJ\r\n0\r\n\r\n",
         "0123456789ABCDEFGHIJ", true, Error::none, 35},
        {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", true, Error::none, 20},
        {"extensions", "5;a=b;c;d=\"x\\\"y\"\r\nhello\r\n0;last\r\n\r\n", "hello", true,
         Error::none, 35},
        {"quoted ext with ; = \\ obs-text htab", "1;a=\"x;y=z\\\\\x80\t\"\r\nq\r\n0\r\n\r\n", "q",
         true, Error::none, 25},
        {"payload holding CRLFs", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", true, Error::none, 14},
        {"payload holding NUL", "3\r\na\0b\r\n0\r\n\r\n"s, "a\0b"s, true, Error::none, 13},
        {"trailers dropped", "1\r\nz\r\n0\r\nX-Checksum: abc\r\nGrpc-Status: 0\r\n\r\n", "z", true,
         Error::none, 44},
        {"trailer value forms", "0\r\nX-Empty:\r\nX: \t v \t\r\nY:\x80\xff\r\n\r\n", "", true,
         Error::none, 31},
        // Which trailer fields may pass on is the pump's decision, not the decoder's.
        {"framing fields in trailer",
         "1\r\na\r\n0\r\nContent-Length: 5\r\nHOST: x\r\nte: y\r\n\r\n", "a", true, Error::none,
         46},
        {"trailer names near forbidden ones",
         "0\r\nContent-Lengthx: 1\r\nHosts: a\r\nTee: x\r\nT: x\r\nX-Host: a\r\nXe: 1\r\n"
         "Gost: 2\r\n\r\n",
         "", true, Error::none, 76},
        {"next message untouched", "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "a", true,
         Error::none, 11},
        {"smuggled request after last chunk", "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", "",
         true, Error::none, 5},
        {"incomplete: size line", "5", "", false, Error::none, 1},
        {"incomplete: mid data", "5\r\nhel", "hel", false, Error::none, 6},
        {"incomplete: before trailer end", "0\r\nA: b\r\n", "", false, Error::none, 9},
        {"16 hex digits", "ffffffffffffffff\r\nabc", "abc", false, Error::none, 21},
        {"extension at the limit", "1;abcdefg\r\nx\r\n1;abc=efg\r\ny\r\n0;abcdefg\r\n\r\n", "xy",
         true, Error::none, 41, kSmallExt},
        {"trailer at the limit", "0\r\nA: 01234567890\r\n\r\n", "", true, Error::none, 21,
         kSmallTrailer},
        {"four digits allowed", "ffff\r\nab", "ab", false, Error::none, 8, kFourDigits},
    };
}

std::vector<Vector> invalid_vectors() {
    return {
        // chunk-size
        {"0x prefix", "0x10\r\n", "", false, Error::bad_chunk_size, 1},
        {"minus", "-1\r\n", "", false, Error::bad_chunk_size, 0},
        {"plus", "+3\r\nabc\r\n0\r\n\r\n", "", false, Error::bad_chunk_size, 0},
        {"leading space", " 5\r\nhello\r\n", "", false, Error::bad_chunk_size, 0},
        {"trailing space", "5 \r\nhello\r\n", "", false, Error::bad_chunk_size, 1},
        {"tab", "5\t\r\nhello\r\n", "", false, Error::bad_chunk_size, 1},
        {"space before ;", "5 ;a\r\nhello\r\n", "", false, Error::bad_chunk_size, 1},
        {"empty size line", "\r\n", "", false, Error::bad_chunk_size, 0},
        {"not hex", "5g\r\n", "", false, Error::bad_chunk_size, 1},
        {"size 17 digits", "10000000000000000\r\n", "", false, Error::chunk_size_overflow, 16},
        {"leading zeros count", "00000000000000001\r\nx", "", false, Error::chunk_size_overflow,
         16},
        {"20-digit size", "99999999999999999999\r\n", "", false, Error::chunk_size_overflow, 16},
        {"custom digit limit", "10000\r\n", "", false, Error::chunk_size_overflow, 4, kFourDigits},
        {"value overflow with a lax digit limit", "10000000000000000\r\n", "", false,
         Error::chunk_size_overflow, 16, kTwentyDigits},
        // line endings
        {"bare LF after size", "5\nhello\r\n0\r\n\r\n", "", false, Error::bad_line_ending, 1},
        {"bare CR after size", "5\rhello\r\n", "", false, Error::bad_line_ending, 2},
        {"bare LF after data", "5\r\nhello\n0\r\n\r\n", "hello", false, Error::bad_line_ending, 8},
        {"data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", "hello", false,
         Error::bad_line_ending, 8},
        {"CR then junk after data", "5\r\nhello\rX", "hello", false, Error::bad_line_ending, 9},
        {"bare LF after last chunk", "5\r\nhello\r\n0\n\n", "hello", false, Error::bad_line_ending,
         11},
        {"bare LF ends trailer section", "0\r\n\n", "", false, Error::bad_line_ending, 3},
        {"CR CR at end", "0\r\n\r\r", "", false, Error::bad_line_ending, 4},
        {"bare LF after trailer field", "0\r\nA: b\n\r\n", "", false, Error::bad_line_ending, 7},
        {"CR CR after trailer field", "0\r\nA: b\r\r\n", "", false, Error::bad_line_ending, 8},
        {"bare LF after extension name", "5;a\nhello", "", false, Error::bad_line_ending, 3},
        {"bare LF after extension value", "5;a=b\nhello", "", false, Error::bad_line_ending, 5},
        {"bare LF after quoted value", "5;a=\"b\"\nhello", "", false, Error::bad_line_ending, 7},
        // chunk extensions
        {"empty extension", "5;\r\nhello", "", false, Error::bad_chunk_extension, 2},
        {"extension without name", "5;=a\r\n", "", false, Error::bad_chunk_extension, 2},
        {"space after ;", "5; a\r\n", "", false, Error::bad_chunk_extension, 2},
        {"space before =", "5;a =b\r\n", "", false, Error::bad_chunk_extension, 3},
        {"space after =", "5;a= b\r\n", "", false, Error::bad_chunk_extension, 4},
        {"empty value", "5;a=\r\n", "", false, Error::bad_chunk_extension, 4},
        {"CR inside quotes", "5;a=\"x\r\nhello", "", false, Error::bad_chunk_extension, 6},
        {"junk after quoted value", "5;a=\"x\"y\r\n", "", false, Error::bad_chunk_extension, 7},
        {"CTL inside quotes", "5;a=\"\x01\"\r\n", "", false, Error::bad_chunk_extension, 5},
        {"CTL in quoted-pair", "5;a=\"\\\x01\"\r\n", "", false, Error::bad_chunk_extension, 6},
        {"space inside token value", "5;a=b c\r\n", "", false, Error::bad_chunk_extension, 5},
        {"non-ASCII name", "5;a\x80\r\n", "", false, Error::bad_chunk_extension, 3},
        {"extension over the limit", "1;abcdefgh\r\nx\r\n0\r\n\r\n", "", false,
         Error::chunk_extension_too_long, 9, kSmallExt},
        {"quoted extension over the limit", "1;a=\"bcdef\"\r\nx\r\n0\r\n\r\n", "", false,
         Error::chunk_extension_too_long, 9, kSmallExt},
        {"last-chunk extension over the limit", "0;abcdefgh\r\n\r\n", "", false,
         Error::chunk_extension_too_long, 9, kSmallExt},
        // trailers
        {"NUL in trailer value", "0\r\nA: b\0c\r\n\r\n"s, "", false, Error::bad_trailer_field, 7},
        {"DEL in trailer value", "0\r\nA: \x7f\r\n\r\n", "", false, Error::bad_trailer_field, 6},
        {"obs-fold in trailer", "0\r\nA: b\r\n c\r\n\r\n", "", false, Error::bad_trailer_field, 9},
        {"space before colon", "0\r\nA : b\r\n\r\n", "", false, Error::bad_trailer_field, 4},
        {"trailer line without colon", "0\r\nAb\r\n\r\n", "", false, Error::bad_trailer_field, 5},
        {"empty trailer name", "0\r\n: b\r\n\r\n", "", false, Error::bad_trailer_field, 3},
        {"non-token trailer name", "0\r\nA(b): c\r\n\r\n", "", false, Error::bad_trailer_field, 4},
        {"trailer one byte over", "0\r\nA: 012345678901\r\n\r\n", "", false,
         Error::trailer_too_large, 19, kSmallTrailer},
        {"trailer lines add up", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", "", false,
         Error::trailer_too_large, 19, kSmallTrailer},
    };
}

TEST(ChunkedDecoder, ValidVectorsSurviveEverySplit) {
    for (const Vector& v : valid_vectors())
        expect_split_invariant(v);
}

TEST(ChunkedDecoder, InvalidVectorsFailAtTheSameByteWhateverTheSplit) {
    for (const Vector& v : invalid_vectors())
        expect_split_invariant(v);
}

// capture_trailers() gets the field lines exactly, however reads split them.
TEST(ChunkedDecoder, TrailerFieldsAreCapturedWhateverTheSplit) {
    const std::string body =
        "1\r\na\r\n0\r\nX-Sum: 1\r\nContent-Length: 5\r\nY:\t\"q\"\r\n\r\nNEXT";
    for (std::size_t step = 1; step <= body.size(); ++step) {
        ChunkedDecoder d;
        std::string trailer;
        d.capture_trailers(&trailer);
        std::vector<std::string_view> data;
        std::size_t used = 0;
        for (std::size_t at = 0; at < body.size() && !d.done(); at += step)
            used += d.decode(std::string_view(body).substr(at, step), data);
        ASSERT_TRUE(d.done()) << step;
        EXPECT_EQ(used, body.size() - 4) << step;
        EXPECT_EQ(trailer, "X-Sum: 1\r\nContent-Length: 5\r\nY:\t\"q\"\r\n") << step;
    }
    ChunkedDecoder plain;  // no capture: dropped
    std::vector<std::string_view> data;
    plain.decode("0\r\nX: 1\r\n\r\n", data);
    EXPECT_TRUE(plain.done());
}

TEST(ChunkedDecoder, HugeChunkExtensionWithDefaultLimit) {
    std::string body = "1;" + std::string(4095, 'e') + "\r\nx\r\n0\r\n\r\n";
    Outcome o = run(body, {});
    EXPECT_TRUE(o.done);
    EXPECT_EQ(o.payload, "x");
    body = "1;" + std::string(100000, 'e') + "\r\nx\r\n0\r\n\r\n";
    o = run(body, {});
    EXPECT_EQ(o.error, Error::chunk_extension_too_long);
    EXPECT_EQ(o.consumed, 4097u);  // ';' + 4095 bytes fit, the 4097th extension byte fails
    // Fed in small pieces, as a slow attacker would: the count survives calls.
    std::vector<std::size_t> cuts;
    for (std::size_t i = 7; i < body.size(); i += 7)
        cuts.push_back(i);
    o = run(body, cuts);
    EXPECT_EQ(o.error, Error::chunk_extension_too_long);
    EXPECT_EQ(o.consumed, 4097u);
}

TEST(ChunkedDecoder, OversizedTrailerWithDefaultLimit) {
    const std::string body = "0\r\nX: " + std::string(20000, 'v') + "\r\n\r\n";
    const Outcome o = run(body, {});
    EXPECT_EQ(o.error, Error::trailer_too_large);
    EXPECT_EQ(o.consumed, 3u + 16384u);
    // Many small fields add up too.
    std::string many = "0\r\n";
    for (int i = 0; i < 3000; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    EXPECT_EQ(run(many, {}).error, Error::trailer_too_large);
}

TEST(ChunkedDecoder, LargeChunkStreamsWithoutBuffering) {
    const std::size_t size = 1 << 20;
    std::string body = "100000\r\n";
    for (std::size_t i = 0; i < size; ++i)
        body.push_back(static_cast<char>('a' + i % 26));
    body += "\r\n0\r\n\r\n";
    ChunkedDecoder d;
    std::vector<std::string_view> data;
    std::size_t pieces = 0;
    std::string payload;
    for (std::size_t off = 0; off < body.size(); off += 4096) {
        const std::string_view piece = std::string_view(body).substr(off, 4096);
        data.clear();
        EXPECT_EQ(d.decode(piece, data), piece.size());
        pieces += data.size();
        for (auto v : data)
            payload.append(v);
    }
    EXPECT_TRUE(d.done());
    EXPECT_EQ(d.payload_bytes(), size);
    EXPECT_EQ(payload, body.substr(8, size));
    EXPECT_EQ(pieces, 257u);  // one view per input piece holding data, no copies
}

TEST(ChunkedDecoder, DoneConsumesNothingMore) {
    ChunkedDecoder d;
    std::vector<std::string_view> data;
    EXPECT_EQ(d.decode("2\r\nab\r\n0\r\n\r\nnext", data), 12u);
    EXPECT_TRUE(d.done());
    EXPECT_FALSE(d.failed());
    ASSERT_EQ(data.size(), 1u);
    EXPECT_EQ(data[0], "ab");
    EXPECT_EQ(d.decode("1\r\nx\r\n", data), 0u);
    EXPECT_EQ(data.size(), 1u);
    EXPECT_EQ(d.payload_bytes(), 2u);
}

TEST(ChunkedDecoder, FailedConsumesNothingMore) {
    ChunkedDecoder d;
    std::vector<std::string_view> data;
    EXPECT_EQ(d.decode("5 \r\n", data), 1u);
    EXPECT_TRUE(d.failed());
    EXPECT_FALSE(d.done());
    EXPECT_EQ(d.error(), Error::bad_chunk_size);
    EXPECT_EQ(d.decode("0\r\n\r\n", data), 0u);
    EXPECT_EQ(d.error(), Error::bad_chunk_size);
    EXPECT_TRUE(data.empty());
}

TEST(ChunkedDecoder, EmptyInputIsANoOp) {
    ChunkedDecoder d;
    std::vector<std::string_view> data;
    EXPECT_EQ(d.decode("", data), 0u);
    EXPECT_FALSE(d.done());
    EXPECT_FALSE(d.failed());
    EXPECT_EQ(d.error(), Error::none);
    EXPECT_EQ(d.payload_bytes(), 0u);
}

TEST(ChunkedDecoder, AppendsToExistingData) {
    ChunkedDecoder d;
    std::vector<std::string_view> data = {"keep"};
    d.decode("1\r\nx\r\n", data);
    ASSERT_EQ(data.size(), 2u);
    EXPECT_EQ(data[0], "keep");
    EXPECT_EQ(data[1], "x");
}

TEST(ChunkedDecoder, ResetStartsANewBodyWithTheSameLimits) {
    ChunkedDecoder d(kSmallExt);
    std::vector<std::string_view> data;
    d.decode("5\r\nhel", data);
    d.reset();
    EXPECT_EQ(d.payload_bytes(), 0u);
    EXPECT_FALSE(d.done());
    data.clear();
    EXPECT_EQ(d.decode("2\r\nok\r\n0\r\n\r\n", data), 12u);
    EXPECT_TRUE(d.done());
    ASSERT_EQ(data.size(), 1u);
    EXPECT_EQ(data[0], "ok");
    d.reset();
    d.decode("1;abcdefgh\r\n", data);
    EXPECT_EQ(d.error(), Error::chunk_extension_too_long);  // limits kept
    d.reset();
    EXPECT_FALSE(d.failed());
    EXPECT_EQ(d.error(), Error::none);
}

TEST(ChunkedDecoder, ErrorNames) {
    EXPECT_EQ(to_string(Error::none), "none");
    EXPECT_EQ(to_string(Error::bad_chunk_size), "bad_chunk_size");
    EXPECT_EQ(to_string(Error::chunk_size_overflow), "chunk_size_overflow");
    EXPECT_EQ(to_string(Error::bad_chunk_extension), "bad_chunk_extension");
    EXPECT_EQ(to_string(Error::chunk_extension_too_long), "chunk_extension_too_long");
    EXPECT_EQ(to_string(Error::bad_line_ending), "bad_line_ending");
    EXPECT_EQ(to_string(Error::trailer_too_large), "trailer_too_large");
    EXPECT_EQ(to_string(Error::bad_trailer_field), "bad_trailer_field");
}

TEST(ChunkHeader, Writes) {
    char buf[18];
    auto w = [&](std::uint64_t n) { return std::string(buf, write_chunk_header(n, buf)); };
    EXPECT_EQ(w(0), "0\r\n");
    EXPECT_EQ(w(1), "1\r\n");
    EXPECT_EQ(w(15), "f\r\n");
    EXPECT_EQ(w(16), "10\r\n");
    EXPECT_EQ(w(4096), "1000\r\n");
    EXPECT_EQ(w(0xabcdef), "abcdef\r\n");
    EXPECT_EQ(w(UINT64_MAX), "ffffffffffffffff\r\n");
    EXPECT_EQ(write_chunk_header(UINT64_MAX, buf), 18u);
}

TEST(ChunkHeader, RoundTripsThroughTheDecoder) {
    for (std::uint64_t n : {1ull, 9ull, 10ull, 255ull, 256ull, 4097ull}) {
        char buf[18];
        std::string body(buf, write_chunk_header(n, buf));
        body += std::string(n, 'p') + "\r\n0\r\n\r\n";
        const Outcome o = run(body, {});
        EXPECT_TRUE(o.done) << n;
        EXPECT_EQ(o.payload_bytes, n);
    }
}

}  // namespace
}  // namespace switchyard::http

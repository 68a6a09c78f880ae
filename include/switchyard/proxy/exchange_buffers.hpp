// Buffers whose capacity one request leaves to the next on a worker (and
// one upstream try to the next), so that a request allocates nothing for
// its heads, request id and write lists. Only the capacity is kept: each
// user receives them empty.
#pragma once

#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/http/h2_head.hpp"
#include "switchyard/http/head_parser.hpp"

namespace switchyard::proxy {

// The write list of `pieces` (views that must outlive the write).
inline void to_buffers(const std::vector<std::string_view>& pieces,
                       std::vector<boost::asio::const_buffer>& out) {
    out.clear();
    for (auto p : pieces)
        out.emplace_back(p.data(), p.size());
}

// An UpstreamExchange's: the response head's fields, the body's pieces and
// the write lists.
struct TryBuffers {
    std::vector<http::HeaderField> fields;
    std::vector<std::string_view> pieces;
    std::vector<boost::asio::const_buffer> body;
    std::vector<boost::asio::const_buffer> send;
    void clear() {
        fields.clear();
        pieces.clear();
        body.clear();
        send.clear();
    }
};

// An Exchange's: the heads it writes, its request id and its write lists.
struct RequestBuffers {
    std::string request_id;
    std::string up_head;      // request head sent upstream (kept for a replay)
    std::string resp_head;    // response head (or local response) sent to the client
    std::string flag_fields;  // the flags and context lines for up_head
    std::vector<http::H2FieldView> h2_fields;  // the response head for an HTTP/2 stream
    std::vector<std::string_view> pieces;
    std::vector<boost::asio::const_buffer> buffers;
    TryBuffers try_spare;  // for the next try
    void clear() {
        request_id.clear();
        up_head.clear();
        resp_head.clear();
        flag_fields.clear();
        h2_fields.clear();
        pieces.clear();
        buffers.clear();
        try_spare.clear();
    }
};

// An HTTP/2 stream's (H2Stream): its request's head as parts and its body
// as HTTP/1.1 bytes, and the response heads the exchange writes as text
// (interim and local ones), read back into HTTP/2.
struct H2StreamBuffers {
    http::RequestParts parts;
    std::string request;
    std::string head;  // a response head being read back
    http::OwnResponseHead response;
    std::vector<std::string_view> pieces;  // of a chunked body, decoded
    std::string trailers;                  // of a chunked body
    // Empty for the next stream; a body buffer past this is not kept.
    static constexpr std::size_t kKeptRequest = 64 * 1024;
    void clear() {
        if (request.capacity() > kKeptRequest) std::string().swap(request);
        request.clear();
        parts.fields.clear();
        parts.cookie.clear();
        head.clear();
        response.fields.clear();
        pieces.clear();
        trailers.clear();
    }
};

// What a client connection uses only while it has a request, from the
// first byte of its head to its end: lent by the worker
// (Worker::take_request_space) and given back when the request ends, so
// that an idle keep-alive connection holds none of it, and a request
// allocates nothing once the worker lent as many as it runs at once.
struct RequestSpace {
    std::vector<http::HeaderField> head_fields;           // the parser's storage
    std::optional<http::RequestHeadParser> parser;        // of the request head being read
    std::vector<boost::asio::const_buffer> client_write;  // of the client write in flight
    RequestBuffers exchange;                              // the Exchange's
    H2StreamBuffers h2;                                   // an HTTP/2 stream's
};

}  // namespace switchyard::proxy

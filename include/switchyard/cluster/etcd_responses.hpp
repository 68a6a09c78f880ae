// Response parsers for etcd 3.4's HTTP/JSON gateway, into plain structs.
//
// What the gateway writes (protobuf's JSON mapping, proto field names):
// - keys and values are base64; a value that does not decode is an error;
// - 64-bit numbers (revisions, version, lease ID, TTL, count, cluster and
//   member IDs) are decimal strings; plain JSON numbers are accepted too;
// - fields at their default (0, false, "", empty list) are left out: a
//   missing number reads 0 and a missing boolean false (a failed txn has no
//   "succeeded"; a range of a missing key has no "kvs"; a watch's first
//   watch_id, 0, is absent; a put event has no "type");
// - streaming endpoints (/v3/watch, /v3/lease/keepalive) wrap each message
//   as {"result":{...}};
// - an error is {"error":"...","message":"...","code":N} with N a gRPC code
//   (parse_error); every parser below refuses such a body with its message.
//
// Nothing here throws on bad input: each parser returns Parsed<T>, a value
// or a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::cluster {

template <typename T>
class Parsed {
  public:
    Parsed(T value) : value_(std::move(value)) {}  // NOLINT: implicit, as a return value
    static Parsed failure(std::string reason) {
        Parsed parsed;
        parsed.error_ = std::move(reason);
        return parsed;
    }

    bool ok() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const T& operator*() const& { return *value_; }
    T& operator*() & { return *value_; }
    T&& operator*() && { return std::move(*value_); }
    const T* operator->() const { return &*value_; }
    T* operator->() { return &*value_; }
    const std::string& error() const noexcept { return error_; }  // empty when ok()

  private:
    Parsed() = default;
    std::optional<T> value_;
    std::string error_;
};

// gRPC status codes etcd answers with (google.golang.org/grpc/codes).
namespace grpc_code {
inline constexpr int invalid_argument = 3;     // bad request; wrong user/password
inline constexpr int not_found = 5;            // "etcdserver: requested lease not found"
inline constexpr int permission_denied = 7;    // authenticated, but no role allows it
inline constexpr int resource_exhausted = 8;   // "etcdserver: mvcc: database space exceeded"
inline constexpr int failed_precondition = 9;  // e.g. "etcdserver: authentication is not enabled"
inline constexpr int out_of_range = 11;        // revision compacted or in the future
inline constexpr int unavailable = 14;  // "etcdserver: no leader", "etcdserver: request timed out"
inline constexpr int unauthenticated = 16;  // "etcdserver: invalid auth token" (also expired)
}  // namespace grpc_code

// etcd's message for a token it does not know, also once it expired: the
// client authenticates again and retries. It arrives as an error body (code
// 16) on unary calls and inside a watch's cancel_reason.
inline constexpr std::string_view kInvalidAuthTokenMessage = "etcdserver: invalid auth token";

struct GatewayError {
    int code = 0;         // gRPC code (grpc_code)
    std::string message;  // e.g. "etcdserver: invalid auth token"
    bool operator==(const GatewayError&) const = default;
};

struct ResponseHeader {
    std::uint64_t cluster_id = 0;
    std::uint64_t member_id = 0;  // the member that answered
    std::int64_t revision = 0;    // the store's revision when it answered
    std::uint64_t raft_term = 0;
    bool operator==(const ResponseHeader&) const = default;
};

struct KeyValue {
    std::string key;
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
    std::int64_t version = 0;  // 1 at creation, +1 at each put; 0 in a delete event
    std::int64_t lease = 0;    // 0: not under a lease
    bool operator==(const KeyValue&) const = default;
};

struct RangeResult {
    ResponseHeader header;
    std::vector<KeyValue> kvs;
    bool more = false;       // limit left some out
    std::int64_t count = 0;  // keys in the range, limit or not
};

struct PutResult {
    ResponseHeader header;  // header.revision is the put's revision
    std::optional<KeyValue> prev_kv;
};

struct DeleteRangeResult {
    ResponseHeader header;
    std::int64_t deleted = 0;
};

struct TxnResult {
    ResponseHeader header;
    bool succeeded = false;
    // The keys read by the branch that ran (responses[].response_range.kvs):
    // after a failed compare-and-swap, the value that won.
    std::vector<KeyValue> kvs;
};

struct LeaseGrantResult {
    ResponseHeader header;
    std::int64_t id = 0;
    std::int64_t ttl = 0;  // seconds, as granted (etcd may raise a small TTL)
};

struct LeaseKeepAliveResult {
    ResponseHeader header;
    std::int64_t id = 0;
    std::int64_t ttl = 0;  // 0: the lease is gone (expired or revoked), not an error
};

struct WatchEvent {
    enum class Type { put, del };
    Type type = Type::put;
    KeyValue kv;                      // for a delete: the key and the deletion's mod_revision only
    std::optional<KeyValue> prev_kv;  // with watch_create_body(..., prev_kv = true)
};

// One line of /v3/watch. Either error is set (an {"error":...} line: the
// stream failed) or the rest describes a WatchResponse.
struct WatchMessage {
    ResponseHeader header;  // absent (0) revision in a compaction cancel
    std::int64_t watch_id = 0;
    bool created = false;   // the first message of a watch
    bool canceled = false;  // the watch ended: compacted, or refused (cancel_reason)
    // > 0 with canceled: the start revision was compacted; read again and
    // watch from the read revision + 1.
    std::int64_t compact_revision = 0;
    // e.g. "rpc error: code = Unauthenticated desc = etcdserver: invalid auth
    // token" (created and canceled at once, watch_id -1).
    std::string cancel_reason;
    bool fragment = false;  // more of the same revision's events follow
    std::vector<WatchEvent> events;
    std::optional<GatewayError> error;
};

// An error body, or nullopt if text is not one. Also reads the form a
// stream error may take, {"error":{"grpc_code":N,"message":"..."}}.
std::optional<GatewayError> parse_error(std::string_view text);

Parsed<RangeResult> parse_range(std::string_view text);
Parsed<PutResult> parse_put(std::string_view text);
Parsed<DeleteRangeResult> parse_delete_range(std::string_view text);
Parsed<TxnResult> parse_txn(std::string_view text);
Parsed<LeaseGrantResult> parse_lease_grant(std::string_view text);
// POST /v3/lease/keepalive is a stream endpoint: one {"result":{...}} per
// request body (the bare object is accepted as well).
Parsed<LeaseKeepAliveResult> parse_lease_keepalive(std::string_view text);
Parsed<ResponseHeader> parse_lease_revoke(std::string_view text);
// The token, to send as the Authorization header (no "Bearer").
Parsed<std::string> parse_authenticate(std::string_view text);
// One line of the watch stream (NdjsonSplitter), {"result":{...}} or
// {"error":...}.
Parsed<WatchMessage> parse_watch_message(std::string_view line);

}  // namespace switchyard::cluster

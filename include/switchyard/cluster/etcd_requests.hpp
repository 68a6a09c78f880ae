// Request bodies for etcd 3.4's HTTP/JSON gateway (POST /v3/kv/range,
// /v3/kv/put, /v3/kv/deleterange, /v3/kv/txn, /v3/lease/grant,
// /v3/lease/keepalive, /v3/lease/revoke, /v3/watch, /v3/auth/authenticate).
// Pure text in, text out, so the client that sends them stays a transport.
//
// The gateway reads the protobuf JSON mapping with the proto field names:
// keys and values are base64 (bytes fields), 64-bit numbers are written as
// decimal strings (what the gateway itself writes; it also reads plain
// numbers), enums by name. A field at its default (0, empty) is left out,
// which etcd reads the same as the default.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::cluster {

// The range end that makes [prefix, end) every key starting with prefix, as
// clientv3's WithPrefix computes it: the prefix with its last byte below 0xff
// incremented and what follows dropped. A prefix of only 0xff bytes (or an
// empty one) has no such end: "\0", which etcd reads as "every key >= key".
std::string prefix_range_end(std::string_view prefix);

// range_end empty: the key alone. limit 0: no limit (the response's count
// still counts every key in the range, and "more" says some were left out).
std::string range_body(std::string_view key, std::string_view range_end = {},
                       std::int64_t limit = 0);

// lease_id 0: the key outlives every lease.
std::string put_body(std::string_view key, std::string_view value, std::int64_t lease_id = 0);

std::string delete_range_body(std::string_view key, std::string_view range_end = {});

// A put that happens only if the key is unchanged since the caller read it
// (compare-and-swap on the key's revision): compare mod_revision ==
// expected_mod_revision → put; else → range of the key, so that the reply
// carries the value that won (TxnResult::kvs). expected_mod_revision 0 means
// "the key does not exist": that is written as create_revision == 0, the
// idiom of etcd's own clients (clientv3 concurrency). etcd would also accept
// mod_revision == 0 for a missing key (it compares against an empty KeyValue),
// but create_revision says what is meant.
std::string txn_put_if_mod_revision_body(std::string_view key, std::string_view value,
                                         std::int64_t expected_mod_revision,
                                         std::int64_t lease_id = 0);

// Create the key only if it does not exist (create_revision == 0), under a
// lease: leadership. The failure branch reads the key, so a loser learns the
// holder (its value) and the holder's lease.
std::string txn_create_if_absent_body(std::string_view key, std::string_view value,
                                      std::int64_t lease_id);

// ID left to etcd (0 in the request means "choose one").
std::string lease_grant_body(std::int64_t ttl_seconds);
std::string lease_keepalive_body(std::int64_t lease_id);
std::string lease_revoke_body(std::int64_t lease_id);

// start_revision 0: from now on. Otherwise every change from that revision
// (the caller passes the revision it read + 1 to miss nothing); one that is
// already compacted cancels the watch with compact_revision. prev_kv: events
// carry the value before each change.
std::string watch_create_body(std::string_view key, std::int64_t start_revision,
                              std::string_view range_end = {}, bool prev_kv = false);

std::string authenticate_body(std::string_view user, std::string_view password);

}  // namespace switchyard::cluster

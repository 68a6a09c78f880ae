#include "switchyard/cluster/etcd_responses.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::cluster {
namespace {

// Every R"(...)" body below is what etcd 3.4.23's gateway answered to curl
// (loopback, a scratch data dir), unless a comment says otherwise.

const ResponseHeader kHeader8{18237982011441613290u, 7482250729588294575u, 8, 2};

TEST(EtcdRange, OneKey) {
    const auto range = parse_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"3","raft_term":"2"},"kvs":[{"key":"L3N5L3N0YXRl","create_revision":"2",)"
        R"("mod_revision":"3","version":"2","value":"eyJhY3RpdmUiOiJncmVlbiJ9"}],"count":"1"})");
    ASSERT_TRUE(range.ok()) << range.error();
    EXPECT_EQ(range->header, (ResponseHeader{18237982011441613290u, 7482250729588294575u, 3, 2}));
    ASSERT_EQ(range->kvs.size(), 1u);
    EXPECT_EQ(range->kvs[0], (KeyValue{"/sy/state", R"({"active":"green"})", 2, 3, 2, 0}));
    EXPECT_FALSE(range->more);
    EXPECT_EQ(range->count, 1);
}

TEST(EtcdRange, AMissingKeyHasNoKvsAndNoCount) {
    const auto range = parse_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"3","raft_term":"2"}})");
    ASSERT_TRUE(range.ok()) << range.error();
    EXPECT_EQ(range->header.revision, 3);
    EXPECT_TRUE(range->kvs.empty());
    EXPECT_EQ(range->count, 0);
}

TEST(EtcdRange, APrefixWithALimitSaysMore) {
    const auto range = parse_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"4","raft_term":"2"},"kvs":[{"key":"L3N5L21lbWJlcnMvYQ==",)"
        R"("create_revision":"4","mod_revision":"4","version":"1","value":"eA==",)"
        R"("lease":"265609351741820937"}],"more":true,"count":"2"})");
    ASSERT_TRUE(range.ok()) << range.error();
    ASSERT_EQ(range->kvs.size(), 1u);
    EXPECT_EQ(range->kvs[0], (KeyValue{"/sy/members/a", "x", 4, 4, 1, 265609351741820937}));
    EXPECT_TRUE(range->more);
    EXPECT_EQ(range->count, 2);
}

TEST(EtcdRange, TwoKeysInKeyOrder) {
    const auto range = parse_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"4","raft_term":"2"},"kvs":[{"key":"L3N5L21lbWJlcnMvYQ==",)"
        R"("create_revision":"4","mod_revision":"4","version":"1","value":"eA==",)"
        R"("lease":"265609351741820937"},{"key":"L3N5L3N0YXRl","create_revision":"2",)"
        R"("mod_revision":"3","version":"2","value":"eyJhY3RpdmUiOiJncmVlbiJ9"}],"count":"2"})");
    ASSERT_TRUE(range.ok()) << range.error();
    ASSERT_EQ(range->kvs.size(), 2u);
    EXPECT_EQ(range->kvs[0].key, "/sy/members/a");
    EXPECT_EQ(range->kvs[1].key, "/sy/state");
    EXPECT_EQ(range->kvs[1].lease, 0);
}

// Not what the gateway writes, but what the protobuf JSON mapping allows.
TEST(EtcdRange, NumbersMayBeJsonNumbersAndAKeyWithoutValueIsEmpty) {
    const auto range =
        parse_range(R"({"header":{"cluster_id":18237982011441613290,"revision":7},)"
                    R"("kvs":[{"key":"aw==","mod_revision":5,"version":-0}],"count":1})");
    ASSERT_TRUE(range.ok()) << range.error();
    EXPECT_EQ(range->header.cluster_id, 18237982011441613290u);
    EXPECT_EQ(range->header.revision, 7);
    ASSERT_EQ(range->kvs.size(), 1u);
    EXPECT_EQ(range->kvs[0], (KeyValue{"k", "", 0, 5, 0, 0}));
}

TEST(EtcdRange, NullReadsAsTheDefault) {
    const auto range = parse_range(R"({"header":null,"kvs":null,"count":null,"more":null})");
    ASSERT_TRUE(range.ok()) << range.error();
    EXPECT_EQ(range->header, ResponseHeader{});
    EXPECT_EQ(range->count, 0);
}

TEST(EtcdRange, RefusesMalformedNumbers) {
    const auto expect_refused = [](const std::string& text, const std::string& why) {
        const auto range = parse_range(text);
        EXPECT_FALSE(range.ok()) << text;
        EXPECT_EQ(range.error(), why) << text;
    };
    expect_refused(R"({"count":"1x"})", "count: not a 64-bit integer");
    expect_refused(R"({"count":""})", "count: not a 64-bit integer");
    expect_refused(R"({"count":" 1"})", "count: not a 64-bit integer");
    expect_refused(R"({"count":"+1"})", "count: not a 64-bit integer");
    expect_refused(R"({"count":1.5})", "count: not a 64-bit integer");
    expect_refused(R"({"count":true})", "count: not a 64-bit integer");
    expect_refused(R"({"count":"9223372036854775808"})", "count: not a 64-bit integer");
    expect_refused(R"({"count":9223372036854775808})", "count: not a 64-bit integer");
    expect_refused(R"({"header":{"cluster_id":"-1"}})",
                   "header.cluster_id: not an unsigned 64-bit integer");
    expect_refused(R"({"header":{"member_id":-1}})",
                   "header.member_id: not an unsigned 64-bit integer");
    expect_refused(R"({"header":{"cluster_id":"18446744073709551616"}})",
                   "header.cluster_id: not an unsigned 64-bit integer");
    expect_refused(R"({"kvs":[{"key":"aw==","mod_revision":"x"}]})",
                   "kvs[0].mod_revision: not a 64-bit integer");
    expect_refused(R"({"more":"true"})", "more: not a boolean");
}

TEST(EtcdRange, RefusesBadBase64AndWrongShapes) {
    EXPECT_EQ(parse_range(R"({"kvs":[{"key":"aw==","value":"!!"}]})").error(),
              "kvs[0].value: not base64");
    EXPECT_EQ(parse_range(R"({"kvs":[{"key":"a"}]})").error(), "kvs[0].key: not base64");
    EXPECT_EQ(parse_range(R"({"kvs":[{"key":7}]})").error(), "kvs[0].key: not a string");
    EXPECT_EQ(parse_range(R"({"kvs":[{"key":"aw=="},3]})").error(), "kvs[1]: not an object");
    EXPECT_EQ(parse_range(R"({"kvs":{}})").error(), "kvs: not an array");
    EXPECT_EQ(parse_range(R"({"header":[]})").error(), "header: not an object");
    EXPECT_EQ(parse_range(R"([])").error(), "not a JSON object");
    EXPECT_EQ(parse_range(R"("ok")").error(), "not a JSON object");
}

TEST(EtcdRange, RefusesWhatIsNotJson) {
    for (const char* text : {"", "{", R"({"count":"1"} x)", "<html>502 Bad Gateway</html>"}) {
        const auto range = parse_range(text);
        EXPECT_FALSE(range.ok()) << text;
        EXPECT_EQ(range.error().rfind("invalid JSON: ", 0), 0u) << range.error();
    }
}

TEST(EtcdRange, AnErrorBodyIsRefusedWithItsMessage) {
    const auto range = parse_range(
        R"({"error":"etcdserver: mvcc: required revision has been compacted","message":)"
        R"("etcdserver: mvcc: required revision has been compacted","code":11})");
    EXPECT_FALSE(range.ok());
    EXPECT_EQ(range.error(),
              "etcd error 11: etcdserver: mvcc: required revision has been compacted");
}

TEST(EtcdPut, HeaderAndPreviousValue) {
    const auto plain = parse_put(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"2","raft_term":"2"}})");
    ASSERT_TRUE(plain.ok()) << plain.error();
    EXPECT_EQ(plain->header.revision, 2);
    EXPECT_EQ(plain->prev_kv, std::nullopt);

    const auto with_prev = parse_put(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"3","raft_term":"2"},"prev_kv":{"key":"L3N5L3N0YXRl",)"
        R"("create_revision":"2","mod_revision":"2","version":"1",)"
        R"("value":"eyJhY3RpdmUiOiJibHVlIn0="}})");
    ASSERT_TRUE(with_prev.ok()) << with_prev.error();
    EXPECT_EQ(with_prev->header.revision, 3);
    EXPECT_EQ(with_prev->prev_kv, (KeyValue{"/sy/state", R"({"active":"blue"})", 2, 2, 1, 0}));
}

TEST(EtcdPut, KeyNotProvided) {
    const auto put = parse_put(R"({"error":"etcdserver: key is not provided","message":)"
                               R"("etcdserver: key is not provided","code":3})");
    EXPECT_EQ(put.error(), "etcd error 3: etcdserver: key is not provided");
}

TEST(EtcdDeleteRange, DeletedCountMissingWhenNothingWasDeleted) {
    const auto deleted = parse_delete_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"7","raft_term":"2"},"deleted":"1"})");
    ASSERT_TRUE(deleted.ok()) << deleted.error();
    EXPECT_EQ(deleted->header.revision, 7);
    EXPECT_EQ(deleted->deleted, 1);

    const auto none = parse_delete_range(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"7","raft_term":"2"}})");
    ASSERT_TRUE(none.ok()) << none.error();
    EXPECT_EQ(none->deleted, 0);
}

TEST(EtcdTxn, Succeeded) {
    const auto txn = parse_txn(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"5","raft_term":"2"},"succeeded":true,)"
        R"("responses":[{"response_put":{"header":{"revision":"5"}}}]})");
    ASSERT_TRUE(txn.ok()) << txn.error();
    EXPECT_TRUE(txn->succeeded);
    EXPECT_EQ(txn->header.revision, 5);
    EXPECT_TRUE(txn->kvs.empty());
}

TEST(EtcdTxn, FailedCompareCarriesTheCurrentValue) {
    // No "succeeded": false is the default, left out.
    const auto txn = parse_txn(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"5","raft_term":"2"},"responses":[{"response_range":{"header":)"
        R"({"revision":"5"},"kvs":[{"key":"L3N5L3N0YXRl","create_revision":"2",)"
        R"("mod_revision":"5","version":"3","value":"djM="}],"count":"1"}}]})");
    ASSERT_TRUE(txn.ok()) << txn.error();
    EXPECT_FALSE(txn->succeeded);
    EXPECT_EQ(txn->header.revision, 5);
    ASSERT_EQ(txn->kvs.size(), 1u);
    EXPECT_EQ(txn->kvs[0], (KeyValue{"/sy/state", "v3", 2, 5, 3, 0}));
}

TEST(EtcdTxn, LostLeadershipNamesTheHolderAndItsLease) {
    const auto txn = parse_txn(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"6","raft_term":"2"},"responses":[{"response_range":{"header":)"
        R"({"revision":"6"},"kvs":[{"key":"L3N5L2xlYWRlcg==","create_revision":"6",)"
        R"("mod_revision":"6","version":"1","value":"bWU=","lease":"265609351741820937"}],)"
        R"("count":"1"}}]})");
    ASSERT_TRUE(txn.ok()) << txn.error();
    EXPECT_FALSE(txn->succeeded);
    ASSERT_EQ(txn->kvs.size(), 1u);
    EXPECT_EQ(txn->kvs[0], (KeyValue{"/sy/leader", "me", 6, 6, 1, 265609351741820937}));
}

// The failure branch read a key that a concurrent delete removed: an empty
// range. (Shape as the gateway writes it; not captured.)
TEST(EtcdTxn, FailedCompareOnADeletedKeyHasNoKvs) {
    const auto txn = parse_txn(
        R"({"header":{"revision":"9"},"responses":[{"response_range":{"header":{"revision":"9"}}}]})");
    ASSERT_TRUE(txn.ok()) << txn.error();
    EXPECT_FALSE(txn->succeeded);
    EXPECT_TRUE(txn->kvs.empty());
}

TEST(EtcdTxn, RefusesMalformedResponses) {
    EXPECT_EQ(parse_txn(R"({"responses":[1]})").error(), "responses[0]: not an object");
    EXPECT_EQ(parse_txn(R"({"responses":[{"response_range":{"kvs":[{"key":"*"}]}}]})").error(),
              "responses[0].response_range.kvs[0].key: not base64");
    EXPECT_EQ(parse_txn(R"({"succeeded":1})").error(), "succeeded: not a boolean");
}

TEST(EtcdLease, Grant) {
    const auto grant = parse_lease_grant(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"3","raft_term":"2"},"ID":"265609351741820937","TTL":"10"})");
    ASSERT_TRUE(grant.ok()) << grant.error();
    EXPECT_EQ(grant->id, 265609351741820937);
    EXPECT_EQ(grant->ttl, 10);
    EXPECT_EQ(grant->header.revision, 3);
}

TEST(EtcdLease, GrantWithoutAnIdIsRefused) {
    EXPECT_EQ(parse_lease_grant(R"({"header":{"revision":"3"},"TTL":"10"})").error(),
              "ID: missing");
    // LeaseGrantResponse's own error field.
    EXPECT_EQ(
        parse_lease_grant(R"({"header":{"revision":"3"},"error":"lease already exists"})").error(),
        "etcd error 0: lease already exists");
}

TEST(EtcdLease, KeepAliveInsideTheStreamWrapper) {
    const auto alive = parse_lease_keepalive(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"4","raft_term":"2"},"ID":"265609351741820937",)"
        R"("TTL":"10"}})");
    ASSERT_TRUE(alive.ok()) << alive.error();
    EXPECT_EQ(alive->id, 265609351741820937);
    EXPECT_EQ(alive->ttl, 10);
    EXPECT_EQ(alive->header.revision, 4);
}

TEST(EtcdLease, KeepAliveOfALostLeaseHasNoTtl) {
    // etcd answers 200 with TTL 0 (left out), not an error.
    const auto gone = parse_lease_keepalive(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"4","raft_term":"2"},"ID":"12345"}})");
    ASSERT_TRUE(gone.ok()) << gone.error();
    EXPECT_EQ(gone->id, 12345);
    EXPECT_EQ(gone->ttl, 0);
}

TEST(EtcdLease, KeepAliveWithoutTheWrapperAndWithAStreamError) {
    const auto bare = parse_lease_keepalive(R"({"ID":"7","TTL":"5"})");
    ASSERT_TRUE(bare.ok()) << bare.error();
    EXPECT_EQ(bare->ttl, 5);
    EXPECT_EQ(parse_lease_keepalive(R"({"result":"x"})").error(), "result: not an object");
    EXPECT_EQ(
        parse_lease_keepalive(R"({"error":"unexpected EOF","message":"unexpected EOF","code":2})")
            .error(),
        "etcd error 2: unexpected EOF");
}

TEST(EtcdLease, Revoke) {
    const auto revoked = parse_lease_revoke(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"8","raft_term":"2"}})");
    ASSERT_TRUE(revoked.ok()) << revoked.error();
    EXPECT_EQ(revoked->revision, 8);
    EXPECT_EQ(parse_lease_revoke(R"({"error":"etcdserver: requested lease not found","message":)"
                                 R"("etcdserver: requested lease not found","code":5})")
                  .error(),
              "etcd error 5: etcdserver: requested lease not found");
}

TEST(EtcdAuthenticate, Token) {
    const auto token = parse_authenticate(
        R"({"header":{"cluster_id":"18237982011441613290","member_id":"7482250729588294575",)"
        R"("revision":"10","raft_term":"2"},"token":"KPEgcAndDDmbrlhT.25"})");
    ASSERT_TRUE(token.ok()) << token.error();
    EXPECT_EQ(*token, "KPEgcAndDDmbrlhT.25");
}

TEST(EtcdAuthenticate, WrongPasswordAndMissingToken) {
    EXPECT_EQ(parse_authenticate(
                  R"({"error":"etcdserver: authentication failed, invalid user ID or password",)"
                  R"("message":"etcdserver: authentication failed, invalid user ID or password",)"
                  R"("code":3})")
                  .error(),
              "etcd error 3: etcdserver: authentication failed, invalid user ID or password");
    EXPECT_EQ(parse_authenticate(R"({"header":{"revision":"10"}})").error(), "token: missing");
}

TEST(EtcdError, GatewayErrorBodies) {
    EXPECT_EQ(parse_error(R"({"error":"etcdserver: invalid auth token","message":)"
                          R"("etcdserver: invalid auth token","code":16})"),
              (GatewayError{grpc_code::unauthenticated, std::string(kInvalidAuthTokenMessage)}));
    EXPECT_EQ(parse_error(R"({"error":"etcdserver: authentication is not enabled","message":)"
                          R"("etcdserver: authentication is not enabled","code":9})"),
              (GatewayError{grpc_code::failed_precondition,
                            "etcdserver: authentication is not enabled"}));
    EXPECT_EQ(parse_error(R"({"error":"etcdserver: user name is empty","message":)"
                          R"("etcdserver: user name is empty","code":3})"),
              (GatewayError{grpc_code::invalid_argument, "etcdserver: user name is empty"}));
    EXPECT_EQ(parse_error(R"({"error":"etcdserver: mvcc: required revision is a future )"
                          R"(revision","message":"etcdserver: mvcc: required revision is a )"
                          R"(future revision","code":11})"),
              (GatewayError{grpc_code::out_of_range,
                            "etcdserver: mvcc: required revision is a future revision"}));
}

TEST(EtcdError, OtherShapes) {
    // grpc-gateway's stream error form (not captured from 3.4).
    EXPECT_EQ(parse_error(R"({"error":{"grpc_code":14,"http_code":503,"message":)"
                          R"("etcdserver: no leader","http_status":"Service Unavailable"}})"),
              (GatewayError{grpc_code::unavailable, "etcdserver: no leader"}));
    EXPECT_EQ(parse_error(R"({"error":"only this"})"), (GatewayError{0, "only this"}));
}

TEST(EtcdError, NotAnErrorBody) {
    EXPECT_EQ(parse_error(R"({"header":{"revision":"3"}})"), std::nullopt);
    EXPECT_EQ(parse_error(R"({"error":3})"), std::nullopt);
    EXPECT_EQ(parse_error(R"(["error"])"), std::nullopt);
    EXPECT_EQ(parse_error("upstream connect error"), std::nullopt);
    EXPECT_EQ(parse_error(""), std::nullopt);
}

TEST(EtcdWatch, Created) {
    const auto message = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"8","raft_term":"2"},"created":true}})");
    ASSERT_TRUE(message.ok()) << message.error();
    EXPECT_TRUE(message->created);
    EXPECT_FALSE(message->canceled);
    EXPECT_EQ(message->watch_id, 0);  // the first watch's ID, left out
    EXPECT_EQ(message->header, kHeader8);
    EXPECT_TRUE(message->events.empty());
    EXPECT_EQ(message->error, std::nullopt);
}

TEST(EtcdWatch, PutThenDelete) {
    const auto put = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"9","raft_term":"2"},"events":[{"kv":{"key":)"
        R"("L3N5L3N0YXRl","create_revision":"2","mod_revision":"9","version":"4","value":)"
        R"("eyJhY3RpdmUiOiJibHVlIn0="}}]}})");
    ASSERT_TRUE(put.ok()) << put.error();
    EXPECT_EQ(put->header.revision, 9);
    ASSERT_EQ(put->events.size(), 1u);
    EXPECT_EQ(put->events[0].type, WatchEvent::Type::put);
    EXPECT_EQ(put->events[0].kv, (KeyValue{"/sy/state", R"({"active":"blue"})", 2, 9, 4, 0}));
    EXPECT_EQ(put->events[0].prev_kv, std::nullopt);

    const auto deleted = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"10","raft_term":"2"},"events":[{"type":"DELETE",)"
        R"("kv":{"key":"L3N5L3N0YXRl","mod_revision":"10"}}]}})");
    ASSERT_TRUE(deleted.ok()) << deleted.error();
    ASSERT_EQ(deleted->events.size(), 1u);
    EXPECT_EQ(deleted->events[0].type, WatchEvent::Type::del);
    EXPECT_EQ(deleted->events[0].kv, (KeyValue{"/sy/state", "", 0, 10, 0, 0}));
}

TEST(EtcdWatch, SeveralEventsWithPreviousValues) {
    const auto message = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"8","raft_term":"2"},"events":[{"kv":{"key":)"
        R"("L3N5L3N0YXRl","create_revision":"2","mod_revision":"3","version":"2","value":)"
        R"("eyJhY3RpdmUiOiJncmVlbiJ9"},"prev_kv":{"key":"L3N5L3N0YXRl","create_revision":"2",)"
        R"("mod_revision":"2","version":"1","value":"eyJhY3RpdmUiOiJibHVlIn0="}},{"type":)"
        R"("DELETE","kv":{"key":"L3N5L2xlYWRlcg==","mod_revision":"7"},"prev_kv":{"key":)"
        R"("L3N5L2xlYWRlcg==","create_revision":"6","mod_revision":"6","version":"1","value":)"
        R"("bWU=","lease":"265609351741820937"}}]}})");
    ASSERT_TRUE(message.ok()) << message.error();
    ASSERT_EQ(message->events.size(), 2u);
    EXPECT_EQ(message->events[0].type, WatchEvent::Type::put);
    EXPECT_EQ(message->events[0].kv.value, R"({"active":"green"})");
    EXPECT_EQ(message->events[0].prev_kv,
              (KeyValue{"/sy/state", R"({"active":"blue"})", 2, 2, 1, 0}));
    EXPECT_EQ(message->events[1].type, WatchEvent::Type::del);
    EXPECT_EQ(message->events[1].kv, (KeyValue{"/sy/leader", "", 0, 7, 0, 0}));
    EXPECT_EQ(message->events[1].prev_kv,
              (KeyValue{"/sy/leader", "me", 6, 6, 1, 265609351741820937}));
}

TEST(EtcdWatch, CanceledByCompaction) {
    // The header has no revision here.
    const auto message = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","raft_term":"2"},"canceled":true,"compact_revision":"9"}})");
    ASSERT_TRUE(message.ok()) << message.error();
    EXPECT_TRUE(message->canceled);
    EXPECT_FALSE(message->created);
    EXPECT_EQ(message->compact_revision, 9);
    EXPECT_EQ(message->header.revision, 0);
    EXPECT_EQ(message->cancel_reason, "");
}

TEST(EtcdWatch, RefusedForAnInvalidToken) {
    // With auth enabled, a bad token is no HTTP error: the watch is created
    // and canceled at once.
    const auto message = parse_watch_message(
        R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
        R"("7482250729588294575","revision":"10","raft_term":"2"},"watch_id":"-1",)"
        R"("created":true,"canceled":true,"cancel_reason":"rpc error: code = Unauthenticated )"
        R"(desc = etcdserver: invalid auth token"}})");
    ASSERT_TRUE(message.ok()) << message.error();
    EXPECT_EQ(message->watch_id, -1);
    EXPECT_TRUE(message->created);
    EXPECT_TRUE(message->canceled);
    EXPECT_EQ(message->compact_revision, 0);
    EXPECT_EQ(message->cancel_reason,
              "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token");
    EXPECT_NE(message->cancel_reason.find(kInvalidAuthTokenMessage), std::string::npos);
}

TEST(EtcdWatch, AnErrorLineIsAMessageNotAParseFailure) {
    const auto request_error =
        parse_watch_message(R"({"error":"illegal base64 data at input byte 0","message":)"
                            R"("illegal base64 data at input byte 0","code":2})");
    ASSERT_TRUE(request_error.ok()) << request_error.error();
    EXPECT_EQ(request_error->error, (GatewayError{2, "illegal base64 data at input byte 0"}));
    EXPECT_TRUE(request_error->events.empty());

    const auto stream_error = parse_watch_message(
        R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}})");
    ASSERT_TRUE(stream_error.ok()) << stream_error.error();
    EXPECT_EQ(stream_error->error, (GatewayError{14, "etcdserver: no leader"}));
}

TEST(EtcdWatch, FragmentAndNumericEnum) {
    const auto message = parse_watch_message(
        R"({"result":{"watch_id":"3","fragment":true,"events":[{"type":1,"kv":{"key":"aw=="}},)"
        R"({"type":"PUT","kv":{"key":"aw==","value":"eA=="}},{"type":0,"kv":{"key":"aw=="}}]}})");
    ASSERT_TRUE(message.ok()) << message.error();
    EXPECT_EQ(message->watch_id, 3);
    EXPECT_TRUE(message->fragment);
    ASSERT_EQ(message->events.size(), 3u);
    EXPECT_EQ(message->events[0].type, WatchEvent::Type::del);
    EXPECT_EQ(message->events[1].type, WatchEvent::Type::put);
    EXPECT_EQ(message->events[1].kv.value, "x");
    EXPECT_EQ(message->events[2].type, WatchEvent::Type::put);
}

TEST(EtcdWatch, RefusesMalformedMessages) {
    EXPECT_EQ(parse_watch_message(R"({"result":{"events":[{"type":"EXPIRE","kv":{}}]}})").error(),
              "events[0].type: neither PUT nor DELETE");
    EXPECT_EQ(parse_watch_message(R"({"result":{"events":[{"type":2,"kv":{}}]}})").error(),
              "events[0].type: neither PUT nor DELETE");
    EXPECT_EQ(parse_watch_message(R"({"result":{"events":[{"type":"DELETE"}]}})").error(),
              "events[0].kv: missing");
    EXPECT_EQ(parse_watch_message(R"({"result":{"events":[{"kv":{"key":"%"}}]}})").error(),
              "events[0].kv.key: not base64");
    EXPECT_EQ(parse_watch_message(
                  R"({"result":{"events":[{"kv":{"key":"aw=="},"prev_kv":{"value":"="}}]}})")
                  .error(),
              "events[0].prev_kv.value: not base64");
    EXPECT_EQ(parse_watch_message(R"({"result":{"compact_revision":"nine"}})").error(),
              "compact_revision: not a 64-bit integer");
    EXPECT_EQ(parse_watch_message(R"({"result":{"canceled":"true"}})").error(),
              "canceled: not a boolean");
    EXPECT_EQ(parse_watch_message(R"({"result":[]})").error(), "result: not an object");
    EXPECT_EQ(parse_watch_message(R"({"result":{"events":[]}})"
                                  "\n{}")
                  .error()
                  .rfind("invalid JSON: ", 0),
              0u);
}

}  // namespace
}  // namespace switchyard::cluster

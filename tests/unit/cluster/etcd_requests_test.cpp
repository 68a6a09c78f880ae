#include "switchyard/cluster/etcd_requests.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::cluster {
namespace {

using namespace std::string_literals;

// Base64 of the keys below: "/sy/state" L3N5L3N0YXRl, "/sy/" L3N5Lw==,
// "/sy0" L3N5MA==, "x" eA==, "/sy/leader" L3N5L2xlYWRlcg==, "me" bWU=.

TEST(EtcdPrefixRangeEnd, IncrementsTheLastByte) {
    EXPECT_EQ(prefix_range_end("/sy/"), "/sy0");
    EXPECT_EQ(prefix_range_end("a"), "b");
    EXPECT_EQ(prefix_range_end("/switchyard/default/members/"), "/switchyard/default/members0");
}

TEST(EtcdPrefixRangeEnd, DropsTrailingFfBytesAndIncrementsTheOneBefore) {
    EXPECT_EQ(prefix_range_end("a\xff"), "b");
    EXPECT_EQ(prefix_range_end("a\xfe"), "a\xff");
    EXPECT_EQ(prefix_range_end("ab\xff\xff"), "ac");
    EXPECT_EQ(prefix_range_end("\x01\xff"), "\x02");
}

TEST(EtcdPrefixRangeEnd, NoEndMeansEveryKeyFromTheStart) {
    EXPECT_EQ(prefix_range_end(""), "\0"s);
    EXPECT_EQ(prefix_range_end("\xff"), "\0"s);
    EXPECT_EQ(prefix_range_end("\xff\xff\xff"), "\0"s);
}

TEST(EtcdRequests, RangeOfOneKey) {
    EXPECT_EQ(range_body("/sy/state"), R"({"key":"L3N5L3N0YXRl"})");
}

TEST(EtcdRequests, RangeOfAPrefixWithLimit) {
    EXPECT_EQ(range_body("/sy/", prefix_range_end("/sy/")),
              R"({"key":"L3N5Lw==","range_end":"L3N5MA=="})");
    EXPECT_EQ(range_body("/sy/", prefix_range_end("/sy/"), 1),
              R"({"key":"L3N5Lw==","range_end":"L3N5MA==","limit":"1"})");
    EXPECT_EQ(range_body("", "\0"s), R"({"key":"","range_end":"AA=="})");
}

TEST(EtcdRequests, Put) {
    EXPECT_EQ(put_body("/sy/state", R"({"active":"blue"})"),
              R"({"key":"L3N5L3N0YXRl","value":"eyJhY3RpdmUiOiJibHVlIn0="})");
    EXPECT_EQ(put_body("/sy/members/a", "x", 265609351741820937),
              R"({"key":"L3N5L21lbWJlcnMvYQ==","value":"eA==","lease":"265609351741820937"})");
    EXPECT_EQ(put_body("k", ""), R"({"key":"aw==","value":""})");
}

TEST(EtcdRequests, BinaryKeysAndValuesAreBase64NotEscapes) {
    EXPECT_EQ(put_body("\0\xff"s, "\n\"\\"), R"({"key":"AP8=","value":"CiJc"})");
}

TEST(EtcdRequests, DeleteRange) {
    EXPECT_EQ(delete_range_body("/sy/leader"), R"({"key":"L3N5L2xlYWRlcg=="})");
    EXPECT_EQ(delete_range_body("/sy/", "/sy0"), R"({"key":"L3N5Lw==","range_end":"L3N5MA=="})");
}

TEST(EtcdRequests, TxnComparesTheModRevisionAndReadsTheKeyOnFailure) {
    EXPECT_EQ(txn_put_if_mod_revision_body("/sy/state", "v3", 3),
              R"({"compare":[{"target":"MOD","key":"L3N5L3N0YXRl","mod_revision":"3",)"
              R"("result":"EQUAL"}],)"
              R"("success":[{"request_put":{"key":"L3N5L3N0YXRl","value":"djM="}}],)"
              R"("failure":[{"request_range":{"key":"L3N5L3N0YXRl"}}]})");
}

TEST(EtcdRequests, TxnWithLeaseOnThePut) {
    EXPECT_EQ(txn_put_if_mod_revision_body("/sy/state", "v3", 9007199254740993, 42),
              R"({"compare":[{"target":"MOD","key":"L3N5L3N0YXRl",)"
              R"("mod_revision":"9007199254740993","result":"EQUAL"}],)"
              R"("success":[{"request_put":{"key":"L3N5L3N0YXRl","value":"djM=","lease":"42"}}],)"
              R"("failure":[{"request_range":{"key":"L3N5L3N0YXRl"}}]})");
}

TEST(EtcdRequests, TxnExpectingNoKeyComparesTheCreateRevision) {
    const std::string expected =
        R"({"compare":[{"target":"CREATE","key":"L3N5L3N0YXRl","create_revision":"0",)"
        R"("result":"EQUAL"}],)"
        R"("success":[{"request_put":{"key":"L3N5L3N0YXRl","value":"djM="}}],)"
        R"("failure":[{"request_range":{"key":"L3N5L3N0YXRl"}}]})";
    EXPECT_EQ(txn_put_if_mod_revision_body("/sy/state", "v3", 0), expected);
}

TEST(EtcdRequests, TxnCreateIfAbsentForLeadership) {
    EXPECT_EQ(txn_create_if_absent_body("/sy/leader", "me", 265609351741820937),
              R"({"compare":[{"target":"CREATE","key":"L3N5L2xlYWRlcg==","create_revision":"0",)"
              R"("result":"EQUAL"}],)"
              R"("success":[{"request_put":{"key":"L3N5L2xlYWRlcg==","value":"bWU=",)"
              R"("lease":"265609351741820937"}}],)"
              R"("failure":[{"request_range":{"key":"L3N5L2xlYWRlcg=="}}]})");
}

TEST(EtcdRequests, Leases) {
    EXPECT_EQ(lease_grant_body(10), R"({"TTL":"10"})");
    EXPECT_EQ(lease_keepalive_body(265609351741820937), R"({"ID":"265609351741820937"})");
    EXPECT_EQ(lease_revoke_body(265609351741820937), R"({"ID":"265609351741820937"})");
    EXPECT_EQ(lease_revoke_body(-1), R"({"ID":"-1"})");  // as int64, not reinterpreted
}

TEST(EtcdRequests, WatchFromNowOrFromARevision) {
    EXPECT_EQ(watch_create_body("/sy/state", 0), R"({"create_request":{"key":"L3N5L3N0YXRl"}})");
    EXPECT_EQ(watch_create_body("/sy/state", 11),
              R"({"create_request":{"key":"L3N5L3N0YXRl","start_revision":"11"}})");
    EXPECT_EQ(watch_create_body("/sy/", 2, "/sy0", true),
              R"({"create_request":{"key":"L3N5Lw==","range_end":"L3N5MA==",)"
              R"("start_revision":"2","prev_kv":true}})");
}

TEST(EtcdRequests, AuthenticateEscapesTheCredentials) {
    EXPECT_EQ(authenticate_body("root", "s3cret"), R"({"name":"root","password":"s3cret"})");
    EXPECT_EQ(authenticate_body("ops", "a\"b\\c\n"), R"({"name":"ops","password":"a\"b\\c\n"})");
}

}  // namespace
}  // namespace switchyard::cluster

#include "switchyard/proxy/access_record.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

AccessRecord plain() {
    AccessRecord r;
    r.time = "2026-12-06T03:00:00.000Z";
    r.worker = 1;
    r.client = "127.0.0.1:5000";
    r.peer = "127.0.0.1:5000";
    r.method = "GET";
    r.target = "/a";
    r.status = 200;
    r.bytes_in = 80;
    r.bytes_out = 120;
    r.duration_us = 1235;
    r.upstream = "127.0.0.1:8001";
    r.pool = "blue";
    r.request_id = "abc";
    return r;
}

std::string line(const AccessRecord& r) {
    std::string out;
    append_access_line(out, r);
    return out;
}

TEST(AccessRecord, TheLineHasItsMembersInTheDocumentedOrder) {
    EXPECT_EQ(line(plain()),
              R"({"time":"2026-12-06T03:00:00.000Z","worker":1,"client":"127.0.0.1:5000",)"
              R"("method":"GET","target":"/a","status":200,"bytes_in":80,"bytes_out":120,)"
              R"("duration_ms":1.235,"upstream":"127.0.0.1:8001","pool":"blue",)"
              R"("request_id":"abc"})"
              "\n");
}

TEST(AccessRecord, OptionalMembersAppearWhenTheyHaveSomethingToSay) {
    AccessRecord r = plain();
    r.client = "203.0.113.7";  // from a trusted proxy's X-Forwarded-For
    r.error = ErrorKind::upstream_reset;
    r.status = 502;
    r.retries = 2;
    r.bucket = 42;
    r.connect_us = 1500;
    r.response_us = 250;
    r.http2 = true;
    const std::string s = line(r);
    EXPECT_NE(s.find(R"("target":"/a","protocol":"HTTP/2","status":502,)"), std::string::npos) << s;
    EXPECT_NE(s.find(R"("client":"203.0.113.7","peer":"127.0.0.1:5000",)"), std::string::npos) << s;
    EXPECT_NE(s.find(R"("request_id":"abc","error":"upstream_reset","retries":2,"bucket":42,)"
                     R"("upstream_connect_ms":1.500,"upstream_response_ms":0.250})"),
              std::string::npos)
        << s;
}

TEST(AccessRecord, ClientTextIsEscaped) {
    AccessRecord r = plain();
    r.method = "G\"T";
    r.target = "/caf\xc3\xa9\x01\xff";
    r.request_id = "a\\b";
    const std::string s = line(r);
    EXPECT_NE(s.find(R"("method":"G\"T","target":"/café\u0001\ufffd")"), std::string::npos) << s;
    EXPECT_NE(s.find(R"("request_id":"a\\b")"), std::string::npos) << s;
}

TEST(AccessRecord, ARequestAnsweredBeforeRoutingHasEmptyUpstreamAndPool) {
    AccessRecord r = plain();
    r.upstream = {};
    r.pool = {};
    r.status = 400;
    const std::string s = line(r);
    EXPECT_NE(s.find(R"("upstream":"","pool":"")"), std::string::npos) << s;
    EXPECT_EQ(s.find("bucket"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::proxy

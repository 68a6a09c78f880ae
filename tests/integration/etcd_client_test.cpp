// EtcdTransport, EtcdWatch and EtcdClient against a real etcd 3.4
// (DESIGN.md "Fleet"): JSON posts to its gateway, failover to the next
// endpoint below HTTP, the gateway's own errors passed through as HTTP
// answers, watch streams (events as they happen, a compacted start
// revision), compare-and-set, leases and authentication.
#include "switchyard/cluster/etcd_transport.hpp"

#include "switchyard/cluster/etcd_client.hpp"
#include "switchyard/cluster/member_lease.hpp"

#include "switchyard/cluster/etcd_requests.hpp"
#include "switchyard/cluster/etcd_responses.hpp"
#include "switchyard/cluster/etcd_watch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <functional>
#include <optional>

#include "etcd_server.hpp"
#include "harness.hpp"
#include "switchyard/http/tls_context.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;
using switchyard::cluster::EtcdReply;
using switchyard::cluster::EtcdTransport;

switchyard::HttpUrl url_of(std::uint16_t port) {
    return switchyard::parse_http_url("http://127.0.0.1:" + std::to_string(port)).url;
}

// Runs one post to its end (bounded by the transport's deadline per try).
EtcdReply call(EtcdTransport& t, boost::asio::io_context& io, std::string path, std::string body) {
    EtcdReply out;
    bool done = false;
    t.post(std::move(path), std::move(body), [&](EtcdReply r) {
        out = std::move(r);
        done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return out;
}

class Etcd : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!EtcdServer::binary()) GTEST_SKIP() << "etcd not installed (scripts/install-deps.sh)";
        etcd_ = std::make_unique<EtcdServer>(dir_);
    }
    TempDir dir_;
    std::unique_ptr<EtcdServer> etcd_;
    boost::asio::io_context io_;
};

TEST_F(Etcd, PutThenRangeThroughTheGateway) {
    EtcdTransport t(io_, {url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    // "foo" = "bar", base64 as the gateway wants it.
    auto put = call(t, io_, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
    ASSERT_EQ(put.status, 200) << put.error << put.body;
    auto range = call(t, io_, "/v3/kv/range", R"({"key":"Zm9v"})");
    ASSERT_EQ(range.status, 200) << range.error;
    const auto kvs = json::parse(range.body).at("kvs").as_array();
    ASSERT_EQ(kvs.size(), 1u);
    EXPECT_EQ(kvs[0].at("value").as_string(), "YmFy");
    EXPECT_EQ(range.endpoint, "127.0.0.1:" + std::to_string(etcd_->port()));
    // The gateway's refusal is an answer, not a failover: 400 and its error.
    auto bad = call(t, io_, "/v3/kv/range", "{not json");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_TRUE(bad.error.empty());
}

TEST_F(Etcd, ADeadEndpointFailsOverToTheNextAndIsNotTriedFirstAgain) {
    const std::uint16_t dead = free_port();  // nothing listens
    EtcdTransport t(io_, {url_of(dead), url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    auto r = call(t, io_, "/v3/kv/range", R"({"key":"Zm9v"})");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.endpoint, "127.0.0.1:" + std::to_string(etcd_->port()));
    // All dead: no status, the last failure named.
    EtcdTransport none(io_, {url_of(dead), url_of(free_port())}, std::chrono::milliseconds(1000));
    auto failed = call(none, io_, "/v3/kv/range", R"({"key":"Zm9v"})");
    EXPECT_EQ(failed.status, 0);
    EXPECT_NE(failed.error.find("connecting 127.0.0.1:"), std::string::npos) << failed.error;
}

using switchyard::cluster::EtcdWatch;
using switchyard::cluster::WatchMessage;
namespace etcd = switchyard::cluster;

TEST_F(Etcd, AWatchSeesEachChangeOfItsKey) {
    EtcdTransport t(io_, {url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    std::vector<WatchMessage> seen;
    std::string ended;
    auto watch = std::make_shared<EtcdWatch>(io_, url_of(etcd_->port()), "",
                                             std::chrono::milliseconds(3000));
    watch->start(
        etcd::watch_create_body("/sy/state", 0), [&](const WatchMessage& m) { seen.push_back(m); },
        [&](std::string why) { ended = why.empty() ? "(empty)" : why; });
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !seen.empty(); })) << ended;
    EXPECT_TRUE(seen[0].created);
    for (const char* value : {"one", "two"})
        ASSERT_EQ(call(t, io_, "/v3/kv/put", etcd::put_body("/sy/state", value)).status, 200);
    // Another key is not seen.
    ASSERT_EQ(call(t, io_, "/v3/kv/put", etcd::put_body("/sy/other", "x")).status, 200);
    std::vector<std::string> values;
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] {
        values.clear();
        for (const auto& m : seen)
            for (const auto& e : m.events)
                values.push_back(e.kv.value);
        return values.size() >= 2;
    })) << ended;
    EXPECT_EQ(values, (std::vector<std::string>{"one", "two"}));
    EXPECT_TRUE(ended.empty()) << ended;
    watch->stop();
    io_.restart();
    io_.poll();
    EXPECT_TRUE(ended.empty()) << "stop() calls nobody back";
}

TEST_F(Etcd, AWatchFromACompactedRevisionIsCanceledWithTheCompactRevision) {
    EtcdTransport t(io_, {url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    std::int64_t last = 0;
    for (const char* value : {"a", "b", "c"}) {
        auto put = call(t, io_, "/v3/kv/put", etcd::put_body("/sy/state", value));
        ASSERT_EQ(put.status, 200);
        last = etcd::parse_put(put.body)->header.revision;
    }
    ASSERT_EQ(call(t, io_, "/v3/kv/compaction",
                   R"({"revision":")" + std::to_string(last) + R"(","physical":true})")
                  .status,
              200);
    std::vector<WatchMessage> seen;
    auto watch = std::make_shared<EtcdWatch>(io_, url_of(etcd_->port()), "",
                                             std::chrono::milliseconds(3000));
    watch->start(
        etcd::watch_create_body("/sy/state", 1), [&](const WatchMessage& m) { seen.push_back(m); },
        [](std::string) {});
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] {
        for (const auto& m : seen)
            if (m.canceled) return true;
        return false;
    }));
    const auto canceled =
        std::find_if(seen.begin(), seen.end(), [](auto& m) { return m.canceled; });
    EXPECT_EQ(canceled->compact_revision, last);
}

TEST_F(Etcd, AWatchToNothingEndsWithWhy) {
    std::string ended;
    auto watch =
        std::make_shared<EtcdWatch>(io_, url_of(free_port()), "", std::chrono::milliseconds(1000));
    watch->start(
        etcd::watch_create_body("/sy/state", 0), [](const WatchMessage&) {},
        [&](std::string why) { ended = why; });
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !ended.empty(); }));
    EXPECT_EQ(ended.rfind("connecting: ", 0), 0u) << ended;
}

// Runs one client call to its end; returns what it gave.
template <typename T, typename Start>
etcd::Parsed<T> await(boost::asio::io_context& io, Start start) {
    std::optional<etcd::Parsed<T>> out;
    start([&](etcd::Parsed<T> r) { out.emplace(std::move(r)); });
    run_until(io, after(seconds(10)), [&] { return out.has_value(); });
    if (!out) return etcd::Parsed<T>::failure("no answer within 10 s");
    return std::move(*out);
}

// The compare-and-set a mutating command is: of two writers that read the
// same revision, exactly one wins, and the loser learns the winner's value.
TEST_F(Etcd, ClientCompareAndSetLetsExactlyOneWriterWin) {
    etcd::EtcdClient c(io_, {{url_of(etcd_->port())}, std::chrono::milliseconds(3000), {}, {}});
    using etcd::TxnResult;
    // Absent: created once, the second create fails and sees the first.
    auto first = await<TxnResult>(io_, [&](auto done) { c.put_if("/sy/state", "g1", 0, 0, done); });
    ASSERT_TRUE(first) << first.error();
    EXPECT_TRUE(first->succeeded);
    auto again = await<TxnResult>(io_, [&](auto done) { c.put_if("/sy/state", "x", 0, 0, done); });
    ASSERT_TRUE(again) << again.error();
    EXPECT_FALSE(again->succeeded);
    ASSERT_EQ(again->kvs.size(), 1u);
    EXPECT_EQ(again->kvs[0].value, "g1");
    const std::int64_t rev = again->kvs[0].mod_revision;
    auto a = await<TxnResult>(io_, [&](auto done) { c.put_if("/sy/state", "a", rev, 0, done); });
    auto b = await<TxnResult>(io_, [&](auto done) { c.put_if("/sy/state", "b", rev, 0, done); });
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->succeeded);
    EXPECT_FALSE(b->succeeded);
    EXPECT_EQ(b->kvs.at(0).value, "a");
    auto read = await<etcd::RangeResult>(io_, [&](auto done) { c.range("/sy/state", done); });
    ASSERT_TRUE(read);
    EXPECT_EQ(read->kvs.at(0).value, "a");
}

// A member's key lives with its lease: kept alive, it stays; revoked, it
// goes, as a dead member's does when its TTL runs out.
TEST_F(Etcd, ClientLeasesKeepAndDropTheirKeys) {
    etcd::EtcdClient c(io_, {{url_of(etcd_->port())}, std::chrono::milliseconds(3000), {}, {}});
    auto lease = await<etcd::LeaseGrantResult>(io_, [&](auto done) { c.grant(10, done); });
    ASSERT_TRUE(lease) << lease.error();
    EXPECT_EQ(lease->ttl, 10);
    auto put = await<etcd::PutResult>(
        io_, [&](auto done) { c.put("/sy/members/m1", "{}", lease->id, done); });
    ASSERT_TRUE(put) << put.error();
    auto kept = await<etcd::LeaseKeepAliveResult>(io_, [&](auto d) { c.keepalive(lease->id, d); });
    ASSERT_TRUE(kept) << kept.error();
    EXPECT_EQ(kept->ttl, 10);
    auto read = await<etcd::RangeResult>(io_, [&](auto d) { c.range("/sy/members/m1", d); });
    ASSERT_TRUE(read);
    EXPECT_EQ(read->kvs.at(0).lease, lease->id);
    ASSERT_TRUE(await<etcd::ResponseHeader>(io_, [&](auto d) { c.revoke(lease->id, d); }));
    read = await<etcd::RangeResult>(io_, [&](auto d) { c.range("/sy/members/m1", d); });
    ASSERT_TRUE(read);
    EXPECT_TRUE(read->kvs.empty());
    auto gone = await<etcd::LeaseKeepAliveResult>(io_, [&](auto d) { c.keepalive(lease->id, d); });
    ASSERT_TRUE(gone) << gone.error();
    EXPECT_EQ(gone->ttl, 0);
    // No store at all: one sentence, no status.
    etcd::EtcdClient dead(io_, {{url_of(free_port())}, std::chrono::milliseconds(1000), {}, {}});
    auto failed = await<etcd::RangeResult>(io_, [&](auto d) { dead.range("/sy/state", d); });
    EXPECT_FALSE(failed);
    EXPECT_NE(failed.error().find("connecting"), std::string::npos) << failed.error();
}

// With etcd's authentication on, the client signs in with its user and
// password before its first call; without them, or with a wrong password,
// calls fail with etcd's reason.
TEST_F(Etcd, ClientAuthenticatesWhenTheStoreRequiresIt) {
    EtcdTransport admin(io_, {url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
             {"/v3/auth/user/add", R"({"name":"root","password":"pw"})"},
             {"/v3/auth/role/add", R"({"name":"root"})"},
             {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
             {"/v3/auth/enable", "{}"}})
        ASSERT_EQ(call(admin, io_, path, body).status, 200) << path;
    etcd::EtcdClient root(io_,
                          {{url_of(etcd_->port())}, std::chrono::milliseconds(3000), "root", "pw"});
    auto put = await<etcd::PutResult>(io_, [&](auto d) { root.put("/sy/state", "s", 0, d); });
    ASSERT_TRUE(put) << put.error();
    auto read = await<etcd::RangeResult>(io_, [&](auto d) { root.range("/sy/state", d); });
    ASSERT_TRUE(read) << read.error();
    EXPECT_EQ(read->kvs.at(0).value, "s");
    etcd::EtcdClient anonymous(io_,
                               {{url_of(etcd_->port())}, std::chrono::milliseconds(3000), {}, {}});
    auto refused = await<etcd::RangeResult>(io_, [&](auto d) { anonymous.range("/sy/state", d); });
    EXPECT_FALSE(refused);
    EXPECT_NE(refused.error().find("user name is empty"), std::string::npos) << refused.error();
    etcd::EtcdClient wrong(
        io_, {{url_of(etcd_->port())}, std::chrono::milliseconds(3000), "root", "no"});
    auto denied = await<etcd::RangeResult>(io_, [&](auto d) { wrong.range("/sy/state", d); });
    EXPECT_FALSE(denied);
    EXPECT_NE(denied.error().find("authentication failed"), std::string::npos) << denied.error();
}

// A member's key is kept under its lease; a lease taken away is granted
// again with the key; a store that dies is reported unreachable, and
// reachable again (the key back) when it returns.
TEST_F(Etcd, AMemberKeepsItsKeyThroughALostLeaseAndAStoreRestart) {
    etcd::EtcdClient c(io_, {{url_of(etcd_->port())}, std::chrono::milliseconds(1000), {}, {}});
    etcd::MemberLease member(io_, c, "/sy/members/m1", std::chrono::seconds(3));
    std::vector<bool> reach;
    member.on_reachable = [&](bool r, const std::string&) { reach.push_back(r); };
    member.start(R"({"generation":1})");
    const auto key_lease = [&] {
        auto read = await<etcd::RangeResult>(io_, [&](auto d) { c.range("/sy/members/m1", d); });
        return read && !read->kvs.empty() ? read->kvs[0].lease : std::int64_t{0};
    };
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !reach.empty(); }));
    EXPECT_EQ(reach, std::vector<bool>{true});
    const std::int64_t first = member.lease();
    EXPECT_EQ(key_lease(), first);

    // Someone revokes it (as a TTL running out in a partition would).
    ASSERT_TRUE(await<etcd::ResponseHeader>(io_, [&](auto d) { c.revoke(first, d); }));
    EXPECT_EQ(key_lease(), 0);
    ASSERT_TRUE(run_until(io_, after(seconds(10)),
                          [&] { return member.lease() != 0 && member.lease() != first; }));
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return key_lease() == member.lease(); }));

    // The store dies: unreachable within a keep-alive period and a timeout.
    etcd_->kill();
    ASSERT_TRUE(run_until(io_, after(seconds(10)), [&] { return reach.size() == 2; }));
    EXPECT_FALSE(reach[1]);
    // It returns (its data kept): reachable again, and the key is there.
    etcd_->restart();
    ASSERT_TRUE(run_until(io_, after(seconds(15)), [&] { return reach.size() == 3; }));
    EXPECT_TRUE(reach[2]);
    ASSERT_TRUE(run_until(io_, after(seconds(10)), [&] {
        const auto lease = key_lease();
        return lease != 0 && lease == member.lease();
    }));
    member.update(R"({"generation":2})");
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] {
        auto read = await<etcd::RangeResult>(io_, [&](auto d) { c.range("/sy/members/m1", d); });
        return read && !read->kvs.empty() && read->kvs[0].value == R"({"generation":2})";
    }));
    member.stop();
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return key_lease() == 0; }));
}

// A put does not renew a lease: updates more frequent than the keep-alives
// (a fleet member reports every ramp interval) must not hold them back, or
// the lease runs out under a member that writes all the time.
TEST_F(Etcd, FrequentUpdatesDoNotLetTheLeaseRunOut) {
    etcd::EtcdClient c(io_, {{url_of(etcd_->port())}, std::chrono::milliseconds(1000), {}, {}});
    etcd::MemberLease member(io_, c, "/sy/members/m1", std::chrono::seconds(2));
    std::vector<bool> reach;
    member.on_reachable = [&](bool r, const std::string&) { reach.push_back(r); };
    member.start("0");
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return member.lease() != 0; }));
    const std::int64_t lease = member.lease();
    // Three TTLs of updates every 100 ms.
    for (int i = 1; i <= 60; ++i) {
        member.update(std::to_string(i));
        run_until(io_, after(milliseconds(100)), [] { return false; });
    }
    EXPECT_EQ(member.lease(), lease) << "the first lease lives on";
    EXPECT_EQ(reach, std::vector<bool>{true}) << "never unreachable";
    auto read = await<etcd::RangeResult>(io_, [&](auto d) { c.range("/sy/members/m1", d); });
    ASSERT_TRUE(read && !read->kvs.empty());
    EXPECT_EQ(read->kvs[0].lease, lease);
    EXPECT_EQ(read->kvs[0].value, "60");
    member.stop();
}

// cluster.tls: an etcd that serves https and requires client certificates
// signed by its CA.
class EtcdTls : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!EtcdServer::binary()) GTEST_SKIP() << "etcd not installed (scripts/install-deps.sh)";
        files_ = make_etcd_tls_files(dir_.path());
        etcd_ = std::make_unique<EtcdServer>(dir_, "etcd", files_.server());
    }

    // A client of etcd_ whose TLS is `settings`.
    etcd::EtcdClient client(const switchyard::UpstreamTlsSettings& settings) {
        std::string error;
        auto tls = switchyard::http::build_upstream_tls(settings, error);
        EXPECT_NE(tls, nullptr) << error;
        return etcd::EtcdClient(io_, {{switchyard::parse_http_url(etcd_->url()).url},
                                      std::chrono::milliseconds(3000),
                                      {},
                                      {},
                                      tls});
    }
    switchyard::UpstreamTlsSettings with_client_cert() const {
        switchyard::UpstreamTlsSettings s;
        s.ca = files_.ca;
        s.cert = files_.client_cert;
        s.key = files_.client_key;
        return s;
    }

    TempDir dir_;
    EtcdTlsFiles files_;
    std::unique_ptr<EtcdServer> etcd_;
    boost::asio::io_context io_;
};

TEST_F(EtcdTls, CallsAndAWatchGoOverTlsWithAClientCertificate) {
    auto c = client(with_client_cert());
    auto before = await<etcd::RangeResult>(io_, [&](auto done) { c.range("/sy/state", done); });
    ASSERT_TRUE(before) << before.error();
    // From the next revision: the put below is seen however late the
    // watch's connection is up.
    std::vector<std::string> values;
    std::string ended;
    auto watch = c.watch(
        "/sy/state", before->header.revision + 1,
        [&](const WatchMessage& m) {
            for (const auto& e : m.events)
                values.push_back(e.kv.value);
        },
        [&](std::string why) { ended = why.empty() ? "(empty)" : why; });
    auto put = await<etcd::PutResult>(io_, [&](auto done) { c.put("/sy/state", "g1", 0, done); });
    ASSERT_TRUE(put) << put.error();
    auto read = await<etcd::RangeResult>(io_, [&](auto done) { c.range("/sy/state", done); });
    ASSERT_TRUE(read) << read.error();
    EXPECT_EQ(read->kvs.at(0).value, "g1");
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !values.empty(); })) << ended;
    EXPECT_EQ(values, std::vector<std::string>{"g1"});
    EXPECT_TRUE(ended.empty()) << ended;
    watch->stop();
}

// What a misconfigured member meets: each refusal is an error that says
// why, never a plain-text fallback.
TEST_F(EtcdTls, TheWrongCaNoClientCertificateOrPlainHttpAreRefused) {
    auto wrong_ca = with_client_cert();
    wrong_ca.ca = files_.other_ca;
    auto c1 = client(wrong_ca);
    auto r1 = await<etcd::RangeResult>(io_, [&](auto done) { c1.range("/sy/state", done); });
    ASSERT_FALSE(r1);
    EXPECT_NE(r1.error().find("certificate verify failed"), std::string::npos) << r1.error();

    switchyard::UpstreamTlsSettings no_cert;
    no_cert.ca = files_.ca;
    auto c2 = client(no_cert);
    auto r2 = await<etcd::RangeResult>(io_, [&](auto done) { c2.range("/sy/state", done); });
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().find("certificate"), std::string::npos) << r2.error();

    // A watch refused the same way ends, saying why.
    std::string ended;
    auto watch = c2.watch(
        "/sy/state", 0, [](const WatchMessage&) {}, [&](std::string why) { ended = why; });
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !ended.empty(); }));
    EXPECT_NE(ended.find("certificate"), std::string::npos) << ended;

    // http:// to the https port: etcd closes the connection.
    EtcdTransport plain(io_, {url_of(etcd_->port())}, std::chrono::milliseconds(3000));
    const auto refused = call(plain, io_, "/v3/kv/range", R"({"key":"Zm9v"})");
    EXPECT_EQ(refused.status, 0);
    EXPECT_FALSE(refused.error.empty());
}

}  // namespace
}  // namespace sy_it

// FleetSync against a real etcd 3.4 (DESIGN.md "Fleet"): the state key's
// changes reach the host as they happen; a watch that starts from a
// revision the store compacted is replaced by a re-read and a new watch,
// so no change is missed; the member's key lives under its lease and goes
// with stop().
#include "switchyard/control/fleet_sync.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <boost/asio/io_context.hpp>
#include <functional>

#include "etcd_server.hpp"
#include "harness.hpp"
#include "switchyard/cluster/etcd_requests.hpp"
#include "switchyard/cluster/etcd_responses.hpp"

namespace sy_it {
namespace {

namespace cluster = switchyard::cluster;
using switchyard::ClusterSettings;
using switchyard::control::FleetHost;
using switchyard::control::FleetSync;
using switchyard::control::MemberReport;
using switchyard::control::StoreRead;

struct Seen {
    std::string value;
    std::int64_t revision = 0;
    bool reread = false;
};

class RecordingHost final : public FleetHost {
  public:
    void store_state(const std::string& value, std::int64_t revision, bool reread) override {
        seen.push_back({value, revision, reread});
    }
    void store_reachable(bool reachable, const std::string&) override {
        reachability.push_back(reachable);
    }
    void member_report(std::function<void(MemberReport)> done) override {
        MemberReport r;
        r.member = "m1";
        r.generation = 3;
        done(r);
    }
    void leadership(bool ours, const std::string& holder) override {
        leaders.push_back(ours ? "*" + holder : holder);
    }
    std::vector<Seen> seen;
    std::vector<bool> reachability;
    std::vector<std::string> leaders;  // "*m1": this member leads
};

class FleetSyncTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!EtcdServer::binary()) GTEST_SKIP() << "etcd not installed (scripts/install-deps.sh)";
        etcd_ = std::make_unique<EtcdServer>(dir_);
        options_.endpoints = {switchyard::parse_http_url(etcd_->url()).url};
        settings_.etcd = options_.endpoints;
        settings_.prefix = "/sy";
        settings_.lease_ttl = std::chrono::seconds(4);
    }

    // A put straight to the store; its revision.
    std::int64_t put(const std::string& key, const std::string& value) {
        cluster::EtcdClient client(io_, options_);
        std::int64_t revision = 0;
        client.put(key, value, 0, [&](cluster::Parsed<cluster::PutResult> r) {
            if (r) revision = r->header.revision;
        });
        run_until(io_, after(seconds(5)), [&] { return revision != 0; });
        return revision;
    }

    std::shared_ptr<spdlog::logger> log_ =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    TempDir dir_;
    std::unique_ptr<EtcdServer> etcd_;
    boost::asio::io_context io_;
    cluster::EtcdClientOptions options_;
    ClusterSettings settings_;
    RecordingHost host_;
};

TEST_F(FleetSyncTest, ChangesArriveByWatchAndTheMemberKeyLivesUnderItsLease) {
    put("/sy/state", "one");
    const StoreRead first = switchyard::control::read_store_now(options_, "/sy/state");
    ASSERT_TRUE(first.reachable) << first.error;
    EXPECT_TRUE(first.found);
    EXPECT_EQ(first.value, "one");
    FleetSync sync(io_, options_, settings_, "m1", host_, log_);
    sync.start(first);
    const std::int64_t revision = put("/sy/state", "two");
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !host_.seen.empty(); }));
    EXPECT_EQ(host_.seen.back().value, "two");
    EXPECT_EQ(host_.seen.back().revision, revision);
    EXPECT_FALSE(host_.seen.back().reread);
    // The member's report is under <prefix>/members/m1.
    bool listed = false;
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] {
        sync.members([&](bool ok, std::vector<MemberReport> members, std::string) {
            listed = ok && members.size() == 1 && members[0].member == "m1";
        });
        io_.run_for(std::chrono::milliseconds(50));
        return listed;
    }));
    sync.stop();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(500));  // the revoke goes out
    FleetSync reader(io_, options_, settings_, "m2", host_, log_);
    std::optional<std::size_t> left;
    reader.members([&](bool ok, std::vector<MemberReport> members, std::string) {
        if (ok) left = members.size();
    });
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return left.has_value(); }));
    EXPECT_EQ(*left, 0u) << "stop() revokes the lease: the key goes at once";
}

TEST_F(FleetSyncTest, AWatchFromACompactedRevisionIsReplacedByAReread) {
    const std::int64_t early = put("/sy/state", "a");
    put("/sy/state", "b");
    const std::int64_t last = put("/sy/state", "c");
    // Compact past the revision the member would watch from.
    cluster::EtcdTransport t(io_, options_.endpoints, std::chrono::milliseconds(3000));
    int status = 0;
    t.post("/v3/kv/compaction", R"({"revision":")" + std::to_string(last) + R"(","physical":true})",
           [&](cluster::EtcdReply r) { status = r.status; });
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return status != 0; }));
    ASSERT_EQ(status, 200);

    StoreRead first;
    first.reachable = true;
    first.found = true;
    first.value = "a";
    first.mod_revision = early;
    first.store_revision = early;  // as if read long ago
    FleetSync sync(io_, options_, settings_, "m1", host_, log_);
    sync.start(first);
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return !host_.seen.empty(); }));
    EXPECT_EQ(host_.seen.front().value, "c");
    EXPECT_EQ(host_.seen.front().revision, last);
    EXPECT_TRUE(host_.seen.front().reread);
    // And it watches again: the next change arrives.
    const std::int64_t next = put("/sy/state", "d");
    ASSERT_TRUE(run_until(io_, after(seconds(5)), [&] { return host_.seen.back().value == "d"; }));
    EXPECT_EQ(host_.seen.back().revision, next);
    EXPECT_TRUE(sync.reachable());
}

TEST_F(FleetSyncTest, TheStoreGoneAndBackIsReportedAndReread) {
    put("/sy/state", "one");
    const StoreRead first = switchyard::control::read_store_now(options_, "/sy/state");
    FleetSync sync(io_, options_, settings_, "m1", host_, log_);
    sync.start(first);
    io_.restart();
    io_.run_for(std::chrono::milliseconds(200));
    etcd_->kill();
    ASSERT_TRUE(run_until(io_, after(seconds(10)), [&] { return !sync.reachable(); }));
    EXPECT_FALSE(sync.unreachable_why().empty());
    etcd_->restart();
    ASSERT_TRUE(run_until(io_, after(seconds(15)), [&] { return sync.reachable(); }));
    EXPECT_EQ(host_.reachability, (std::vector<bool>{false, true}));
    ASSERT_FALSE(host_.seen.empty());
    EXPECT_EQ(host_.seen.back().value, "one");
    EXPECT_TRUE(host_.seen.back().reread);
}

}  // namespace
}  // namespace sy_it

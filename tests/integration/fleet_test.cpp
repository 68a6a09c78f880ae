// A fleet of Switchyards sharing one routing state through a real etcd
// (DESIGN.md "Fleet"): a change through one member reaches all, racing
// pipelines, etcd killed under load with the emergency stop, a member that
// starts with a stale state file, an empty store, config drift and bad
// values in the store.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <poll.h>
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "etcd_server.hpp"
#include "fixture.hpp"
#include "switchyard/cluster/etcd_client.hpp"
#include "switchyard/cluster/etcd_transport.hpp"
#include "switchyard/http/tls_context.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;
using switchyard::cluster::EtcdClient;

constexpr std::string_view kPrefix = "/sy-test";

class Fleet : public ProxyTest {
  protected:
    void SetUp() override {
        if (!EtcdServer::binary()) GTEST_SKIP() << "etcd not installed (scripts/install-deps.sh)";
        etcd_ = std::make_unique<EtcdServer>(dir_);
        start_upstreams();
    }

    void TearDown() override {
        if (HasFailure())
            for (std::size_t i = 0; i < members_.size(); ++i)
                if (members_[i]) {
                    std::string err = members_[i]->stderr_text();
                    if (err.size() > 3000) err = "..." + err.substr(err.size() - 3000);
                    std::cerr << "--- member m" << i + 1 << " stderr ---\n" << err << "\n";
                }
        members_.clear();
    }

    // Member i (0-based) is "m<i+1>", in a temp dir of its own (state file,
    // control socket).
    ProxyConfig member_config(std::size_t i, std::vector<std::string> endpoints = {}) {
        ProxyConfig cfg = base_config();
        cfg.workers = 1;
        if (endpoints.empty()) endpoints = {etcd_->url()};
        std::string list;
        for (const auto& e : endpoints)
            list += (list.empty() ? "\"" : ", \"") + e + "\"";
        cfg.extra = "[cluster]\netcd = [" + list + "]\nprefix = \"" + std::string(kPrefix) +
                    "\"\nmember = \"m" + std::to_string(i + 1) + "\"\nlease_ttl = \"4s\"\n";
        return cfg;
    }

    Switchyard& start_member(std::size_t i, const ProxyConfig& cfg) {
        while (dirs_.size() <= i)
            dirs_.push_back(std::make_unique<TempDir>());
        while (members_.size() <= i)
            members_.emplace_back();
        members_[i] = std::make_unique<Switchyard>(*dirs_[i], cfg);
        return *members_[i];
    }
    Switchyard& start_member(std::size_t i) { return start_member(i, member_config(i)); }

    std::filesystem::path socket(std::size_t i) const { return dirs_[i]->path() / "control.sock"; }
    json::object control(std::size_t i, const std::string& line) {
        return json::parse(control_command(socket(i), line, seconds(20))).as_object();
    }

    // The pool that serves a new user on member i.
    std::string served_by(std::size_t i) {
        HttpConn c(members_[i]->port());
        Response r = c.roundtrip(get_request("/"));
        EXPECT_EQ(r.status(), 200u);
        return r.header("X-Echo-Name");
    }

    // The store, read and written directly (as etcdctl would).
    template <typename T, typename Start>
    std::optional<switchyard::cluster::Parsed<T>> store_call(Start start) {
        boost::asio::io_context io;
        EtcdClient client(io, {{switchyard::parse_http_url(etcd_->url()).url},
                               std::chrono::milliseconds(3000),
                               store_user_,
                               store_password_,
                               store_tls_});
        std::optional<switchyard::cluster::Parsed<T>> out;
        start(client, [&](switchyard::cluster::Parsed<T> r) { out.emplace(std::move(r)); });
        io.run();
        return out;
    }
    std::optional<std::string> store_get(const std::string& key) {
        auto r = store_call<switchyard::cluster::RangeResult>(
            [&](EtcdClient& c, auto done) { c.range(key, std::move(done)); });
        if (!r || !*r || (*r)->kvs.empty()) return std::nullopt;
        return (*r)->kvs.front().value;
    }
    void store_put(const std::string& key, const std::string& value) {
        auto r = store_call<switchyard::cluster::PutResult>(
            [&](EtcdClient& c, auto done) { c.put(key, value, 0, std::move(done)); });
        ASSERT_TRUE(r && *r) << (r ? r->error() : "no answer");
    }
    std::string state_key() const { return std::string(kPrefix) + "/state"; }

    // Members 0..n-1 with a fast ramp analysis: judged every 200 ms, 30
    // requests a side at least.
    void start_ramping_members(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            auto cfg = member_config(i);
            cfg.extra = "[rollout]\ninterval = \"200ms\"\nmin_requests = 30\n" + cfg.extra;
            start_member(i, cfg);
        }
    }

    // The ramp's leader as member i knows it ("" while none).
    std::string leader_seen_by(std::size_t i) {
        const auto status = control(i, "status");  // named: `l` refers into it
        const auto& l = status.at("cluster").at("leader");
        return l.is_string() ? std::string(l.as_string()) : "";
    }

    // Three members, the store initialised through the first: blue active.
    void start_three() {
        for (std::size_t i = 0; i < 3; ++i)
            start_member(i);
        auto init = control(0, "cluster init");
        ASSERT_TRUE(init["ok"].as_bool()) << json::serialize(init);
        for (std::size_t i = 0; i < 3; ++i)
            ASSERT_TRUE(wait_synced(i)) << "m" << i + 1;
    }

    // Until member i has the store's state (after cluster init, the watch
    // brings it within milliseconds).
    bool wait_synced(std::size_t i) {
        return poll_until(after(seconds(5)), [&] {
            return control(i, "status")["cluster"].at("store").as_string() == "synced";
        });
    }

    // Bounded load on every member: `threads` clients per member, until
    // stop() or 60 s; every answer must be 200 from blue or green.
    struct Load {
        std::atomic<bool> stop{false};
        std::atomic<int> total{0}, failures{0};
        std::vector<std::thread> threads;
        std::string first_failure;
        std::mutex mutex;
        void start(const std::vector<std::uint16_t>& ports) {
            for (auto port : ports)
                threads.emplace_back([this, port] {
                    const auto deadline = after(seconds(60));
                    HttpConn c(port);
                    while (!stop && Clock::now() < deadline) {
                        try {
                            Response r = c.roundtrip(get_request("/"));
                            const std::string who = r.header("X-Echo-Name");
                            if (r.status() != 200 || (who != "blue" && who != "green"))
                                fail("status " + std::to_string(r.status()) + " from " + who);
                        } catch (const std::exception& e) {
                            fail(e.what());
                            c = HttpConn(port);
                        }
                        ++total;
                    }
                });
        }
        void fail(const std::string& why) {
            std::lock_guard lock(mutex);
            if (failures++ == 0) first_failure = why;
        }
        void finish() {
            stop = true;
            for (auto& t : threads)
                t.join();
            threads.clear();
        }
        ~Load() {
            if (!threads.empty()) finish();
        }
    };
    std::vector<std::uint16_t> ports() const {
        std::vector<std::uint16_t> out;
        for (const auto& m : members_)
            if (m) out.push_back(m->port());
        return out;
    }

    std::unique_ptr<EtcdServer> etcd_;
    std::string store_user_, store_password_;  // the test's own calls to the store
    std::shared_ptr<const switchyard::http::UpstreamTlsContext> store_tls_;
    std::vector<std::unique_ptr<TempDir>> dirs_;
    std::vector<std::unique_ptr<Switchyard>> members_;
};

TEST_F(Fleet, ASwitchThroughOneMemberIsServedByAllWithinOneSecondUnderLoad) {
    start_three();
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(served_by(i), "blue");
    Load load;
    load.start(ports());
    poll_until(after(seconds(5)), [&] { return load.total.load() > 300; });

    const auto sent = Clock::now();
    auto reply = control(1, "switch green wait=all");
    const long long replied_ms = ms_since(sent);
    ASSERT_TRUE(reply["ok"].as_bool()) << json::serialize(reply);
    EXPECT_EQ(reply["applied"].as_string(), "3/3");
    EXPECT_EQ(reply["active"].as_string(), "green");
    // Every member serves green to a new connection.
    std::vector<long long> served_ms(3, -1);
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        for (std::size_t i = 0; i < 3; ++i)
            if (served_ms[i] < 0 && served_by(i) == "green") served_ms[i] = ms_since(sent);
        return served_ms[0] >= 0 && served_ms[1] >= 0 && served_ms[2] >= 0;
    }));
    const long long last = std::max({served_ms[0], served_ms[1], served_ms[2]});
    EXPECT_LT(last, 1000) << "propagation to the last member";
    const int at_switch = load.total.load();
    poll_until(after(seconds(5)), [&] { return load.total.load() > at_switch + 300; });
    load.finish();
    EXPECT_EQ(load.failures.load(), 0) << load.first_failure;
    std::cout << "[ fleet ] switch via m2: reply (wait=all) after " << replied_ms
              << " ms, last member serving green after " << last << " ms; " << load.total.load()
              << " requests, " << load.failures.load() << " failed\n";

    // The store holds it, and status fleet lists every member at that generation.
    const auto stored = store_get(state_key());
    ASSERT_TRUE(stored);
    EXPECT_EQ(json::parse(*stored).at("active").as_string(), "green");
    auto status = control(2, "status fleet");
    EXPECT_EQ(status["active"].as_string(), "green");
    EXPECT_EQ(status["cluster"].at("store").as_string(), "synced");
    ASSERT_EQ(status["members"].as_array().size(), 3u);
    for (const auto& m : status["members"].as_array()) {
        EXPECT_EQ(m.at("generation").as_int64(), reply["generation"].as_int64());
        EXPECT_FALSE(m.at("config_differs").as_bool());
    }
}

TEST_F(Fleet, TwoPipelinesRacingWithIfGenerationExactlyOneWins) {
    start_three();
    const auto generation = control(0, "status")["generation"].as_int64();
    const std::string g = std::to_string(generation);
    json::object a, b;
    std::thread ta([&] { a = control(0, "switch green if-generation=" + g); });
    std::thread tb([&] { b = control(2, "canary green 10 if-generation=" + g); });
    ta.join();
    tb.join();
    EXPECT_NE(a["ok"].as_bool(), b["ok"].as_bool())
        << json::serialize(a) << " " << json::serialize(b);
    const json::object& loser = a["ok"].as_bool() ? b : a;
    EXPECT_EQ(loser.at("error").as_string(),
              "generation is " + std::to_string(generation + 1) + ", not " + g);
    // The winner's state is everyone's, and the loser changed nothing.
    const std::string expected = a["ok"].as_bool() ? "green" : "blue";
    for (std::size_t i = 0; i < 3; ++i)
        ASSERT_TRUE(poll_until(after(seconds(5)),
                               [&] {
                                   auto s = control(i, "status");
                                   return s["generation"].as_int64() == generation + 1 &&
                                          s["active"].as_string() == expected;
                               }))
            << "m" << i + 1;
}

TEST_F(Fleet, EtcdKilledUnderLoadOnlyAnEmergencyStopAppliesAndIsWrittenBackLater) {
    start_three();
    ASSERT_TRUE(control(0, "canary green 30 wait=all")["ok"].as_bool());
    Load load;
    load.start(ports());
    poll_until(after(seconds(5)), [&] { return load.total.load() > 300; });

    etcd_->kill();
    // A change needs the store: refused, nothing changed.
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        auto r = control(1, "switch green");
        return !r["ok"].as_bool() &&
               r["error"].as_string().find("cluster store unreachable") != std::string::npos;
    }));
    auto advance = control(1, "canary green 50");
    EXPECT_FALSE(advance["ok"].as_bool()) << "cut off, a member never advances a canary";
    EXPECT_EQ(control(1, "status")["canary"].at("weight").as_double(), 30.0);
    // The emergency stop applies at once on the member it is sent to.
    auto stop = control(1, "canary green 0");
    ASSERT_TRUE(stop["ok"].as_bool()) << json::serialize(stop);
    EXPECT_EQ(stop["store"].as_string(), "pending") << "the reply says it is not in the store yet";
    auto status = control(1, "status");
    EXPECT_EQ(status["canary"].at("weight").as_double(), 0.0);
    EXPECT_EQ(status["cluster"].at("store").as_string(), "degraded");
    EXPECT_TRUE(status["cluster"].as_object().contains("degraded_since"));
    EXPECT_EQ(status["cluster"].at("pending_stop").as_string(), "green");
    EXPECT_EQ(control(0, "status")["canary"].at("weight").as_double(), 30.0)
        << "the other members keep the last state they applied";

    etcd_->restart();
    // The stop is written to the store, and every member converges on it.
    for (std::size_t i = 0; i < 3; ++i)
        ASSERT_TRUE(poll_until(after(seconds(15)),
                               [&] {
                                   auto s = control(i, "status");
                                   return s["cluster"].at("store").as_string() == "synced" &&
                                          s["canary"].at("weight").as_double() == 0.0;
                               }))
            << "m" << i + 1;
    const auto stored = store_get(state_key());
    ASSERT_TRUE(stored);
    EXPECT_EQ(json::parse(*stored).at("canary").at("weight").as_double(), 0.0);
    load.finish();
    EXPECT_EQ(load.failures.load(), 0) << load.first_failure;
    std::cout << "[ fleet ] etcd killed and restarted: " << load.total.load() << " requests, "
              << load.failures.load() << " failed\n";
}

// Unreachable endpoints at start: the member starts, serves its state file
// and says it is degraded (a load balancer that refused to start without
// its store would turn an etcd outage into an outage of the site).
TEST_F(Fleet, AMemberThatCannotReachTheStoreStartsDegradedOnItsStateFile) {
    start_three();
    ASSERT_TRUE(control(0, "switch green wait=all")["ok"].as_bool());
    members_[1].reset();
    // The state file m2 kept says green; its only endpoint is now a dead port.
    start_member(1, member_config(1, {"http://127.0.0.1:" + std::to_string(free_port())}));
    auto status = control(1, "status");
    EXPECT_EQ(status["cluster"].at("store").as_string(), "degraded");
    EXPECT_EQ(served_by(1), "green");
    auto refused = control(1, "switch blue");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_NE(refused["error"].as_string().find("cluster store unreachable since "),
              std::string::npos)
        << json::serialize(refused);
}

TEST_F(Fleet, AStaleMemberServesTheStoresStateFromItsFirstRequest) {
    start_member(0);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(control(0, "switch green")["ok"].as_bool());
    // m2's state file says blue (as if it had been down during the switch).
    dirs_.push_back(std::make_unique<TempDir>());
    write_file(dirs_[1]->path() / "state.json",
               R"({"version":1,"active":"blue","previous":null,)"
               R"("canary":{"pool":null,"weight":0.00},"generation":1})");
    start_member(1);
    EXPECT_EQ(served_by(1), "green");
    EXPECT_NE(read_file(dirs_[1]->path() / "state.json").find("\"active\":\"green\""),
              std::string::npos)
        << "the state file follows the store";
}

TEST_F(Fleet, AnEmptyStoreIsFilledOnlyByClusterInit) {
    start_member(0);
    start_member(1);
    EXPECT_FALSE(store_get(state_key())) << "no member fills the store by starting";
    auto refused = control(0, "switch green");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_EQ(refused["error"].as_string(),
              "cluster store is empty; run cluster init on one member; nothing changed");
    EXPECT_EQ(control(0, "status")["cluster"].at("store").as_string(), "empty");
    EXPECT_EQ(served_by(0), "blue");

    auto init = control(1, "cluster init");
    ASSERT_TRUE(init["ok"].as_bool()) << json::serialize(init);
    EXPECT_TRUE(store_get(state_key()));
    auto again = control(0, "cluster init");
    EXPECT_FALSE(again["ok"].as_bool());
    EXPECT_EQ(again["error"].as_string(),
              "the cluster store already holds a state; nothing changed");
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return control(0, "status")["cluster"].at("store").as_string() == "synced";
    }));
    ASSERT_TRUE(control(0, "switch green wait=all")["ok"].as_bool());
    EXPECT_EQ(served_by(1), "green");
}

TEST_F(Fleet, AMemberWhoseConfigDiffersIsFlagged) {
    start_member(0);
    start_member(1);
    auto drifted = member_config(2);
    drifted.routing["seed"] = "99";
    start_member(2, drifted);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    json::object status;
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        status = control(0, "status fleet");
        return status["members"].as_array().size() == 3;
    }));
    for (const auto& m : status["members"].as_array())
        EXPECT_EQ(m.at("config_differs").as_bool(), m.at("member").as_string() == "m3")
            << json::serialize(m);
}

TEST_F(Fleet, ABadValueInTheStoreIsRefusedAndUnrelatedKeysAreIgnored) {
    start_member(0);
    start_member(1);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(control(0, "switch green wait=all")["ok"].as_bool());
    // Keys of others under the prefix, and a member key that is not ours.
    store_put(std::string(kPrefix) + "/other", "hello");
    store_put(std::string(kPrefix) + "/members/junk", "not json");
    store_put(state_key(), R"({"version":1,"active":42})");
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return control(1, "status")["cluster"].as_object().contains("refused_value");
    }));
    EXPECT_EQ(served_by(1), "green") << "the last good state is kept";
    EXPECT_EQ(control(1, "status fleet")["members"].as_array().size(), 2u);
    // The next change replaces the bad value.
    ASSERT_TRUE(control(1, "switch blue wait=all")["ok"].as_bool());
    EXPECT_EQ(json::parse(*store_get(state_key())).at("active").as_string(), "blue");
    EXPECT_EQ(served_by(0), "blue");
}

// The fleet's ramp (DESIGN.md "Fleet"): started through any member, run by
// the leader on the fleet's sums (here the leader serves no traffic at all,
// so it can only advance on the others' counts), and continued at the same
// step by another member when the leader is killed.
TEST_F(Fleet, TheRampRunsOnTheLeaderAndAnotherContinuesItAtTheSameStepWhenItDies) {
    start_ramping_members(3);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    std::string leader;
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        leader = leader_seen_by(0);
        return !leader.empty();
    }));
    const std::size_t lead = static_cast<std::size_t>(leader.back() - '1');
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < 3; ++i)
        if (i != lead) others.push_back(i);
    Load load;
    load.start({members_[others[0]]->port(), members_[others[1]]->port()});

    // Started through a member that does not lead.
    auto started = control(others[0], "ramp green steps=10,50 bake=8s promote=manual");
    ASSERT_TRUE(started["ok"].as_bool()) << json::serialize(started);
    const auto ramp_of = [&](std::size_t i) {
        auto s = control(i, "status");
        const auto* r = s.if_contains("ramp");
        return r != nullptr && r->is_object() ? r->as_object() : json::object{};
    };
    for (std::size_t i = 0; i < 3; ++i)
        ASSERT_TRUE(poll_until(after(seconds(5)),
                               [&] {
                                   auto r = ramp_of(i);
                                   return r.contains("step") && r["step"].as_int64() == 1;
                               }))
            << "m" << i + 1 << " shows the ramp";

    // The leader dies (no lease revoke: its lease runs out).
    members_[lead]->process().signal(SIGKILL);
    members_[lead]->process().wait_exit(after(seconds(5)));
    std::string next;
    ASSERT_TRUE(poll_until(after(seconds(15)), [&] {
        next = leader_seen_by(others[0]);
        return !next.empty() && next != leader;
    }));
    auto r = ramp_of(others[0]);
    EXPECT_EQ(r["step"].as_int64(), 1) << "the new leader goes on at the same step";
    EXPECT_EQ(r["state"].as_string(), "running");
    // ... and advances it once the bake is over, judged on the members' counts.
    for (std::size_t i : others)
        ASSERT_TRUE(poll_until(after(seconds(20)),
                               [&] {
                                   auto s = control(i, "status");
                                   return s["canary"].at("weight").as_double() == 50.0;
                               }))
            << "m" << i + 1 << ": " << json::serialize(ramp_of(i));
    EXPECT_EQ(ramp_of(others[1])["step"].as_int64(), 2);
    // Promoted through the member that does not lead now.
    const std::size_t follower =
        next == "m" + std::to_string(others[0] + 1) ? others[1] : others[0];
    ASSERT_TRUE(poll_until(after(seconds(10)),
                           [&] { return control(follower, "ramp promote")["ok"].as_bool(); }));
    for (std::size_t i : others)
        ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return served_by(i) == "green"; }));
    load.finish();
    EXPECT_EQ(load.failures.load(), 0) << load.first_failure;
    std::cout << "[ fleet ] ramp: leader " << leader << " killed at step 1, " << next
              << " continued; " << load.total.load() << " requests, " << load.failures.load()
              << " failed\n";
}

// A TCP relay from 127.0.0.1:port() to etcd that the test can cut, as a
// partition of one member from the store (the others keep reaching it).
class StoreRelay {
  public:
    explicit StoreRelay(std::uint16_t target)
        : upstream_([this, target](ScriptedUpstream::Conn& c, int) { pump(c, target); }) {}
    ~StoreRelay() { stop_ = true; }
    std::uint16_t port() const { return upstream_.port(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    void cut() { cut_ = true; }
    void restore() { cut_ = false; }

  private:
    void pump(ScriptedUpstream::Conn& c, std::uint16_t target) {
        if (cut_) return;  // closed at once: the store is out of reach
        Socket up = Socket::connect(target, after(seconds(2)));
        if (!up.valid()) return;
        char buf[16384];
        while (!stop_ && !cut_) {
            pollfd p[2] = {{c.sock.fd(), POLLIN, 0}, {up.fd(), POLLIN, 0}};
            if (::poll(p, 2, 20) <= 0) continue;
            for (int i = 0; i < 2; ++i) {
                if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                Socket& from = i == 0 ? c.sock : up;
                Socket& to = i == 0 ? up : c.sock;
                const long n = from.recv_some(buf, sizeof buf, after(milliseconds(100)));
                if (n == -2) continue;
                if (n <= 0 || !to.send_all({buf, static_cast<std::size_t>(n)}, after(seconds(2))))
                    return;
            }
        }
    }

    std::atomic<bool> cut_{false};
    std::atomic<bool> stop_{false};  // before upstream_: its threads read it
    ScriptedUpstream upstream_;
};

// One member cut off from the store stops a canary; meanwhile the others
// switch: when it reaches the store again, the store's state wins and the
// stop is dropped (and said so), since the active pool changed.
TEST_F(Fleet, AStopMadeWhileCutOffIsDroppedWhenTheStoreSwitchedMeanwhile) {
    StoreRelay relay(etcd_->port());
    start_member(0);
    start_member(1, member_config(1, {relay.url()}));
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(wait_synced(1));
    ASSERT_TRUE(control(0, "canary green 30 wait=all")["ok"].as_bool());
    relay.cut();
    ASSERT_TRUE(poll_until(after(seconds(15)), [&] {
        return control(1, "status")["cluster"].at("store").as_string() == "degraded";
    }));
    auto stop = control(1, "canary green 0");
    ASSERT_TRUE(stop["ok"].as_bool()) << json::serialize(stop);
    EXPECT_EQ(stop["store"].as_string(), "pending");
    // The rest of the fleet moves on: green becomes active.
    auto moved = control(0, "switch green");
    ASSERT_TRUE(moved["ok"].as_bool()) << json::serialize(moved);
    relay.restore();
    ASSERT_TRUE(poll_until(after(seconds(15)), [&] {
        auto s = control(1, "status");
        return s["cluster"].at("store").as_string() == "synced" &&
               s["active"].as_string() == "green";
    })) << json::serialize(control(1, "status")["cluster"]);
    EXPECT_EQ(served_by(1), "green");
    EXPECT_EQ(json::parse(*store_get(state_key())).at("active").as_string(), "green");
    EXPECT_EQ(control(0, "status")["generation"].as_int64(),
              control(1, "status")["generation"].as_int64());
    EXPECT_NE(members_[1]->stderr_text().find("command=\"emergency stop\" dropped: the store's "
                                              "active pool is green, not blue"),
              std::string::npos)
        << members_[1]->stderr_text();
}

// etcd down during the fleet's ramp: the ramp holds, a member's `canary
// green 0` stops it there at once, and when etcd is back the store's ramp
// is aborted, so its leader does not raise the weight again.
TEST_F(Fleet, AnEmergencyStopDuringTheFleetsRampAbortsItInTheStoreWhenItReturns) {
    start_ramping_members(2);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(wait_synced(1));
    Load load;
    load.start(ports());
    ASSERT_TRUE(control(0, "ramp green steps=20,50 bake=1h")["ok"].as_bool());
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return control(1, "status")["canary"].at("weight").as_double() == 20.0;
    }));
    etcd_->kill();
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        return control(1, "status")["cluster"].at("store").as_string() == "degraded";
    }));
    EXPECT_FALSE(control(1, "ramp promote")["ok"].as_bool()) << "never advanced while cut off";
    auto stop = control(1, "canary green 0");
    ASSERT_TRUE(stop["ok"].as_bool()) << json::serialize(stop);
    EXPECT_EQ(control(1, "status")["canary"].at("weight").as_double(), 0.0);

    etcd_->restart();
    for (std::size_t i = 0; i < 2; ++i)
        ASSERT_TRUE(poll_until(after(seconds(15)),
                               [&] {
                                   // const: operator[] may grow the object and
                                   // move what `ramp` points to.
                                   const auto s = control(i, "status");
                                   const auto* ramp = s.if_contains("ramp");
                                   return s.at("cluster").at("store").as_string() == "synced" &&
                                          s.at("canary").at("weight").as_double() == 0.0 &&
                                          ramp != nullptr && ramp->is_object() &&
                                          ramp->as_object().at("state").as_string() == "aborted";
                               }))
            << "m" << i + 1 << ": " << json::serialize(control(i, "status")["ramp"]);
    const auto stored = json::parse(*store_get(state_key())).as_object();
    EXPECT_EQ(stored.at("canary").at("weight").as_double(), 0.0);
    EXPECT_EQ(stored.at("rollout").at("ramp").at("state").as_string(), "aborted");
    load.finish();
    EXPECT_EQ(load.failures.load(), 0) << load.first_failure;
}

// The leader serves nothing: without the follower's counts every verdict
// would be "no data" and the ramp would hold at its first step.
TEST_F(Fleet, TheLeaderJudgesOnTheCountsOfTheMembersThatServe) {
    start_ramping_members(2);
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    std::string leader;
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        leader = leader_seen_by(0);
        return !leader.empty();
    }));
    const std::size_t follower = leader == "m1" ? 1 : 0;
    Load load;
    load.start({members_[follower]->port()});
    ASSERT_TRUE(control(follower, "ramp green steps=10,100 bake=1s")["ok"].as_bool());
    ASSERT_TRUE(poll_until(after(seconds(20)), [&] {
        return control(1 - follower, "status")["active"].as_string() == "green";
    })) << json::serialize(control(1 - follower, "status")["ramp"]);
    // The member that started the ramp learns the outcome from the store,
    // which it may read a moment after the leader wrote it.
    std::string state;
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] {
        const auto s = control(follower, "status");
        const auto* ramp = s.if_contains("ramp");
        state = ramp != nullptr && ramp->is_object() ? json::serialize(*ramp) : "";
        return ramp != nullptr && ramp->is_object() &&
               ramp->as_object().at("state").as_string() == "promoted";
    })) << state;
    load.finish();
    EXPECT_EQ(load.failures.load(), 0) << load.first_failure;
}

// etcd with authentication on: members sign in with cluster.username and
// the password in cluster.password_file, and sign in again when a restarted
// etcd no longer knows their token (simple tokens live in its memory).
TEST_F(Fleet, MembersSignInAndSignInAgainAfterTheStoreForgotTheirToken) {
    boost::asio::io_context io;
    switchyard::cluster::EtcdTransport admin(io, {switchyard::parse_http_url(etcd_->url()).url},
                                             std::chrono::milliseconds(3000));
    for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
             {"/v3/auth/user/add", R"({"name":"root","password":"s3cret"})"},
             {"/v3/auth/role/add", R"({"name":"root"})"},
             {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
             {"/v3/auth/enable", "{}"}}) {
        int status = 0;
        admin.post(path, body, [&](switchyard::cluster::EtcdReply r) { status = r.status; });
        io.restart();
        io.run();
        ASSERT_EQ(status, 200) << path;
    }
    store_user_ = "root";
    store_password_ = "s3cret";
    write_file(dir_ / "etcd-password", "s3cret\n");
    for (std::size_t i = 0; i < 2; ++i) {
        auto cfg = member_config(i);
        cfg.extra +=
            "username = \"root\"\npassword_file = \"" + (dir_ / "etcd-password").string() + "\"\n";
        start_member(i, cfg);
    }
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(wait_synced(1));
    ASSERT_TRUE(control(1, "switch green wait=all")["ok"].as_bool());
    EXPECT_EQ(json::parse(*store_get(state_key())).at("active").as_string(), "green");

    etcd_->restart();
    for (std::size_t i = 0; i < 2; ++i)
        ASSERT_TRUE(wait_synced(i)) << "m" << i + 1;
    json::object reply;
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        reply = control(0, "switch blue wait=all");
        return reply["ok"].as_bool();
    })) << json::serialize(reply);
    EXPECT_EQ(reply["applied"].as_string(), "2/2");
    EXPECT_EQ(served_by(1), "blue");
}

// cluster.tls: an etcd on https that requires client certificates. The
// members verify it against cluster.tls.ca and show it theirs; one whose
// CA is another starts degraded, saying why.
TEST_F(Fleet, MembersTalkToAnEtcdThatRequiresClientCertificates) {
    const auto files = make_etcd_tls_files(dir_.path());
    etcd_ = std::make_unique<EtcdServer>(dir_, "etcd-tls", files.server());
    switchyard::UpstreamTlsSettings mine;
    mine.ca = files.ca;
    mine.cert = files.client_cert;
    mine.key = files.client_key;
    std::string error;
    store_tls_ = switchyard::http::build_upstream_tls(mine, error);
    ASSERT_NE(store_tls_, nullptr) << error;
    auto tls_config = [&](std::size_t i, const std::string& ca) {
        auto cfg = member_config(i);
        cfg.extra += "tls = { ca = \"" + ca + "\", cert = \"" + files.client_cert + "\", key = \"" +
                     files.client_key + "\" }\n";
        return cfg;
    };
    for (std::size_t i = 0; i < 2; ++i)
        start_member(i, tls_config(i, files.ca));
    ASSERT_TRUE(control(0, "cluster init")["ok"].as_bool());
    ASSERT_TRUE(wait_synced(1));
    auto reply = control(1, "switch green wait=all");
    ASSERT_TRUE(reply["ok"].as_bool()) << json::serialize(reply);
    EXPECT_EQ(reply["applied"].as_string(), "2/2");
    EXPECT_EQ(served_by(0), "green");
    EXPECT_EQ(json::parse(*store_get(state_key())).at("active").as_string(), "green");

    start_member(2, tls_config(2, files.other_ca));
    const auto status = control(2, "status");
    const auto& cluster = status.at("cluster").as_object();
    EXPECT_EQ(cluster.at("store").as_string(), "degraded");
    EXPECT_NE(std::string(cluster.at("reason").as_string()).find("certificate verify failed"),
              std::string::npos)
        << json::serialize(cluster);
}

}  // namespace
}  // namespace sy_it

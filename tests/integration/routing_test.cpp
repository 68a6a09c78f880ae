// Blue/green and sticky canary routing, atomic cutover over the control
// socket, draining and durable state (DESIGN.md: Routing model, State,
// Control protocol), with two switchyard-echo upstreams.
#include <boost/json.hpp>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "fixture.hpp"
#include "switchyard/core/sticky.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

class Routing : public ProxyTest {
  protected:
    std::filesystem::path socket() const { return dir_.path() / "control.sock"; }

    // The reply exactly as sent (golden comparisons), and parsed.
    std::string control_raw(const std::string& line) {
        return control_command(socket(), line, seconds(10));
    }
    json::object control(const std::string& line) {
        return json::parse(control_raw(line)).as_object();
    }

    // The pool a user (by assignment cookie) reaches.
    std::string pool_of(HttpConn& c, const std::string& user) {
        Response r = c.roundtrip(get_request("/", "Cookie: sy_uid=" + user + "\r\n"));
        EXPECT_EQ(r.status(), 200u);
        return r.header("X-Echo-Name");
    }
};

TEST_F(Routing, StickyCanaryIsExactAndMonotone) {
    auto cfg = base_config();
    cfg.routing = {{"seed", "7"}};
    cfg.workers = 2;
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    auto green_users = [&] {
        std::set<int> green;
        for (int i = 0; i < 2000; ++i)
            if (pool_of(c, "u" + std::to_string(i)) == "green") green.insert(i);
        return green;
    };
    EXPECT_TRUE(green_users().empty());  // no canary yet

    ASSERT_TRUE(control("canary green 10")["ok"].as_bool());
    auto at10 = green_users();
    EXPECT_EQ(at10.size(), 195u);  // DESIGN.md: seed 7, u0..u1999, 10 %
    // Every user sees one pool on every request.
    EXPECT_EQ(green_users(), at10);

    ASSERT_TRUE(control("canary green 20")["ok"].as_bool());
    auto at20 = green_users();
    EXPECT_EQ(at20.size(), 385u);
    for (int u : at10)
        EXPECT_TRUE(at20.count(u)) << "user u" << u << " left the canary";
}

TEST_F(Routing, NewUsersGetAnAssignmentCookieThatKeepsThemInPlace) {
    auto cfg = base_config();
    start_proxy(cfg);
    ASSERT_TRUE(control("canary green 50")["ok"].as_bool());
    HttpConn c(proxy_->port());
    for (int i = 0; i < 20; ++i) {
        Response first = c.roundtrip(get_request("/"));
        std::string cookie = first.header("Set-Cookie");
        ASSERT_EQ(cookie.rfind("sy_uid=", 0), 0u) << cookie;
        EXPECT_NE(cookie.find("; HttpOnly; SameSite=Lax"), std::string::npos) << cookie;
        std::string id = cookie.substr(7, cookie.find(';') - 7);
        for (int k = 0; k < 5; ++k) {
            Response again = c.roundtrip(get_request("/", "Cookie: sy_uid=" + id + "\r\n"));
            EXPECT_EQ(again.header("X-Echo-Name"), first.header("X-Echo-Name"));
            EXPECT_FALSE(again.has("Set-Cookie"));
        }
    }
}

TEST_F(Routing, CutoverUnderLoadLosesNothingAndIsAtomic) {
    auto cfg = base_config();
    cfg.workers = 2;
    start_proxy(cfg);
    std::atomic<bool> stop{false};
    std::atomic<long> switched_at_ns{0};  // steady clock, set once the reply arrived
    std::atomic<int> failures{0}, total{0}, blue_after{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t) {
        clients.emplace_back([&] {
            HttpConn c(proxy_->port());
            const auto deadline = after(seconds(20));
            while (!stop && Clock::now() < deadline) {
                const long started = Clock::now().time_since_epoch().count();
                Response r;
                try {
                    r = c.roundtrip(get_request("/"));
                } catch (const std::exception&) {
                    ++failures;
                    return;
                }
                ++total;
                if (r.status() != 200 || (r.body() != "blue\n" && r.body() != "green\n"))
                    ++failures;
                const long sw = switched_at_ns.load();
                if (sw != 0 && started > sw && r.body() != "green\n") ++blue_after;
            }
        });
    }
    poll_until(after(seconds(5)), [&] { return total.load() > 500; });
    auto reply = control("switch green");
    switched_at_ns = Clock::now().time_since_epoch().count();
    ASSERT_TRUE(reply["ok"].as_bool());
    EXPECT_EQ(reply["draining"].as_string(), "blue");
    const int at_switch = total.load();
    poll_until(after(seconds(5)), [&] { return total.load() > at_switch + 500; });
    stop = true;
    for (auto& t : clients)
        t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(blue_after.load(), 0) << "requests that started after the reply reached blue";
    std::cout << "[ cutover ] " << total.load() << " requests, 0 failures expected, got "
              << failures.load() << "\n";
}

TEST_F(Routing, StateTableRowsAndReplies) {
    auto cfg = base_config();
    start_proxy(cfg);
    // No-op switch.
    EXPECT_EQ(
        control_raw("switch blue"),
        R"({"ok":true,"changed":false,"active":"blue","previous":null,"canary":{"pool":null,"weight":0.00},"generation":0})");
    // Canary, then promote.
    EXPECT_EQ(
        control_raw("canary green 5"),
        R"({"ok":true,"changed":true,"active":"blue","previous":null,"canary":{"pool":"green","weight":5.00},"generation":1})");
    // Canary on the active pool is refused and changes nothing.
    auto refused = control("canary blue 5");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_EQ(control("status")["generation"].as_int64(), 1);
    // if-generation conflict.
    auto conflict = control("canary green 7 if-generation=0");
    EXPECT_FALSE(conflict["ok"].as_bool());
    EXPECT_NE(std::string(conflict["error"].as_string()).find("generation"), std::string::npos);
    EXPECT_EQ(
        control_raw("promote"),
        R"({"ok":true,"changed":true,"active":"green","previous":"blue","canary":{"pool":"blue","weight":0.00},"generation":2,"draining":"blue"})");
    // Rollback of a switch, then of a canary.
    EXPECT_EQ(control("rollback")["active"].as_string(), "blue");
    ASSERT_TRUE(control("canary green 30")["ok"].as_bool());
    EXPECT_EQ(
        control_raw("rollback"),
        R"({"ok":true,"changed":true,"active":"blue","previous":"green","canary":{"pool":"green","weight":0.00},"generation":5})");
    // Malformed commands change nothing.
    const auto generation = control("status")["generation"].as_int64();
    for (std::string bad : {"switch", "switch purple", "canary green 101", "canary green x",
                            "server blue 1.2.3.4:5 drain", "promote extra", "frobnicate",
                            "switch green drain=soon"}) {
        auto r = control(bad);
        EXPECT_FALSE(r["ok"].as_bool()) << bad;
        EXPECT_FALSE(r["error"].as_string().empty()) << bad;
    }
    EXPECT_EQ(control("status")["generation"].as_int64(), generation);
    // Mirroring is a routing change too; diff reads what it compared.
    EXPECT_EQ(
        control_raw("shadow green 10"),
        R"({"ok":true,"changed":true,"active":"blue","previous":"green","canary":{"pool":"green","weight":0.00},"generation":6,"shadow":{"pool":"green","percent":10.000,"diff":false}})");
    EXPECT_EQ(control("diff")["pool"].as_string(), "green");
}

TEST_F(Routing, WaitDrainedWaitsForInFlightRequestsAndTimesOutWithCounts) {
    auto cfg = base_config();
    start_proxy(cfg);
    // A slow request holds blue.
    std::thread slow([&] {
        HttpConn c(proxy_->port());
        EXPECT_EQ(c.roundtrip(get_request("/?delay_ms=1200"), seconds(5)).status(), 200u);
    });
    poll_until(after(seconds(3)), [&] {
        return control("status")["pools"].as_array()[0].as_object()["inflight"].as_int64() == 1;
    });
    ASSERT_TRUE(control("switch green drain=10s")["ok"].as_bool());
    auto early = control("wait-drained blue timeout=200ms");
    EXPECT_FALSE(early["ok"].as_bool());
    EXPECT_FALSE(early["drained"].as_bool());
    EXPECT_EQ(early["inflight"].as_int64(), 1);
    const auto t0 = Clock::now();
    auto done = control("wait-drained blue timeout=5s");
    EXPECT_TRUE(done["ok"].as_bool()) << json::serialize(done);
    EXPECT_TRUE(done["drained"].as_bool());
    EXPECT_EQ(done["idle_connections"].as_int64(), 0);  // blue's pooled connections were closed
    EXPECT_LT(ms_since(t0), 3000);
    slow.join();
}

TEST_F(Routing, SwitchCutsWhatIsLeftAfterTheDrainTime) {
    auto cfg = base_config();
    start_proxy(cfg);
    std::atomic<bool> cut{false};
    std::thread slow([&] {
        HttpConn c(proxy_->port());
        c.send(get_request("/?delay_ms=5000"));
        Response r;
        cut = bool(c.try_read_response(r, seconds(4)));  // an error: the connection was cut
    });
    poll_until(after(seconds(3)), [&] {
        return control("status")["pools"].as_array()[0].as_object()["inflight"].as_int64() == 1;
    });
    const auto t0 = Clock::now();
    ASSERT_TRUE(control("switch green drain=300ms")["ok"].as_bool());
    auto drained = control("wait-drained blue timeout=3s");
    EXPECT_TRUE(drained["drained"].as_bool());
    EXPECT_LT(ms_since(t0), 1500);
    slow.join();
    EXPECT_TRUE(cut);
}

// Overlapping drains: the drain that `switch green` began may cut
// only what started on blue before it, never a request that started on blue
// after a later `switch blue` made it active again.
TEST_F(Routing, DrainDeadlineSparesRequestsThatStartedAfterItsChange) {
    auto cfg = base_config();
    start_proxy(cfg);
    ASSERT_TRUE(control("switch green drain=800ms")["ok"].as_bool());  // blue drains, cut at +0.8 s
    const auto first_drain = Clock::now();
    ASSERT_TRUE(control("switch blue drain=30s")["ok"].as_bool());  // blue active again
    std::atomic<unsigned> status{0};
    std::thread slow([&] {
        HttpConn c(proxy_->port());
        c.send(get_request("/?delay_ms=2000"));
        Response r;
        if (!c.try_read_response(r, seconds(6))) status = r.status();  // no error
    });
    ASSERT_TRUE(poll_until(after(seconds(3)), [&] {
        return control("status")["pools"].as_array()[0].as_object()["inflight"].as_int64() == 1;
    }));
    ASSERT_TRUE(control("switch green drain=30s")["ok"].as_bool());  // blue drains again
    ASSERT_LT(ms_since(first_drain), 800) << "the slow request must be in flight at the first cut";
    slow.join();
    EXPECT_EQ(status.load(), 200u) << "the first drain's deadline cut a request it did not drain";
}

TEST_F(Routing, KeepAliveClientsFollowTheCutoverOnTheirNextRequest) {
    auto cfg = base_config();
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "blue\n");
    ASSERT_TRUE(control("switch green")["ok"].as_bool());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "green\n");  // same connection
}

TEST_F(Routing, ServerAdminStates) {
    start_upstreams();
    EchoServer blue2(dir_, "blue2");
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address(), blue2.address()}}, {"green", {green_->address()}}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    auto names = [&] {
        std::set<std::string> seen;
        for (int i = 0; i < 20; ++i)
            seen.insert(c.roundtrip(get_request("/")).header("X-Echo-Name"));
        return seen;
    };
    EXPECT_EQ(names(), (std::set<std::string>{"blue", "blue2"}));
    ASSERT_TRUE(control("server blue " + blue2.address() + " drain")["ok"].as_bool());
    EXPECT_EQ(names(), std::set<std::string>{"blue"});
    ASSERT_TRUE(control("server blue " + blue2.address() + " enable")["ok"].as_bool());
    ASSERT_TRUE(control("server blue " + blue_->address() + " disable")["ok"].as_bool());
    EXPECT_EQ(names(), std::set<std::string>{"blue2"});
    auto status = control("status");
    auto servers = status["pools"].as_array()[0].as_object()["servers"].as_array();
    EXPECT_EQ(servers[0].as_object().at("admin").as_string(), "disabled");
}

TEST_F(Routing, StateSurvivesARestart) {
    auto cfg = base_config();
    start_proxy(cfg);
    ASSERT_TRUE(control("switch green")["ok"].as_bool());
    ASSERT_TRUE(control("canary blue 12.5")["ok"].as_bool());
    proxy_.reset();  // killed
    start_proxy(cfg);
    auto status = control("status");
    EXPECT_EQ(status["active"].as_string(), "green");
    EXPECT_EQ(status["canary"].as_object()["pool"].as_string(), "blue");
    EXPECT_EQ(status["canary"].as_object()["weight"].as_double(), 12.5);
    EXPECT_NE(control_raw("status").find(R"("canary":{"pool":"blue","weight":12.50})"),
              std::string::npos);
    EXPECT_EQ(status["generation"].as_int64(), 2);
    HttpConn c(proxy_->port());
    for (int i = 0; i < 50; ++i) {
        const std::string user = "u" + std::to_string(i);
        const bool canary = switchyard::bucket_of(user, 0) < 1250;
        EXPECT_EQ(pool_of(c, user), canary ? "blue" : "green") << user;
    }
    // --check shows where state and config disagree.
    auto check = run_check(dir_, proxy_->config_path());
    EXPECT_NE(check.out.find("active green from state; config says blue"), std::string::npos)
        << check.out;
}

TEST_F(Routing, UnwritableStateFileRefusesTheChange) {
    auto cfg = base_config();
    const auto state_dir = dir_.path() / "state";
    std::filesystem::create_directory(state_dir);
    cfg.state_file = (state_dir / "state.json").string();
    start_proxy(cfg);
    // Root ignores permissions: make the directory a regular file instead.
    std::filesystem::remove_all(state_dir);
    write_file(state_dir, "x");
    auto r = control("switch green");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_NE(std::string(r["error"].as_string()).find("state file"), std::string::npos);
    EXPECT_EQ(control("status")["active"].as_string(), "blue");
    HttpConn c(proxy_->port());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "blue\n");
}

TEST_F(Routing, CorruptStateFileStopsTheStartUnlessReset) {
    auto cfg = base_config();
    write_file(dir_.path() / "state.json", "{not json");
    EXPECT_THROW(start_proxy(cfg), std::runtime_error);
    auto check = run_check(dir_, dir_.path() / "switchyard.toml");
    EXPECT_TRUE(exited_with(check.status, 1));
    EXPECT_NE(check.err.find("is corrupt"), std::string::npos) << check.err;
    EXPECT_NE(check.err.find("--reset-state"), std::string::npos);
}

TEST_F(Routing, ReloadWithABrokenFileKeepsServing) {
    auto cfg = base_config();
    start_proxy(cfg);
    std::string good = read_file(proxy_->config_path());
    write_file(proxy_->config_path(), good + "\n[bogus]\nx = 1\n");
    auto r = control("reload");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_FALSE(r["errors"].as_array().empty());
    HttpConn c(proxy_->port());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "blue\n");
    // A reload that would drop the active pool is refused too.
    ASSERT_TRUE(control("switch green")["ok"].as_bool());
    std::string without_green = good.substr(0, good.find("[pools.green]"));
    write_file(proxy_->config_path(), without_green);
    auto refused = control("reload");
    EXPECT_FALSE(refused["ok"].as_bool());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "green\n");
    write_file(proxy_->config_path(), good);
    EXPECT_TRUE(control("reload")["ok"].as_bool());
}

TEST_F(Routing, ReloadAppliesANewServerAndKeepsTheRuntimeState) {
    start_upstreams();
    EchoServer blue2(dir_, "blue2");
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address()}}, {"green", {green_->address()}}};
    start_proxy(cfg);
    ASSERT_TRUE(control("canary green 1")["ok"].as_bool());
    cfg.pools[0].servers.push_back(blue2.address());
    write_file(proxy_->config_path(), render_config(cfg, dir_, proxy_->port()));
    auto r = control("reload");
    ASSERT_TRUE(r["ok"].as_bool()) << json::serialize(r);
    HttpConn c(proxy_->port());
    std::string user = "u0";  // a user outside the 1 % canary
    for (int i = 1; switchyard::bucket_of(user, 0) < 100; ++i)
        user = "u" + std::to_string(i);
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i)
        seen.insert(
            c.roundtrip(get_request("/", "Cookie: sy_uid=" + user + "\r\n")).header("X-Echo-Name"));
    EXPECT_TRUE(seen.count("blue2")) << "the new server takes traffic";
    auto status = control("status");
    EXPECT_EQ(status["canary"].as_object()["pool"].as_string(), "green");  // runtime state kept
    EXPECT_EQ(status["generation"].as_int64(), 1);
}

// A server given by name that a reload adds is looked up by the reload (as
// at start), so it takes traffic from the reply on, not only after a DNS
// refresh (which a configuration without names before never arms).
TEST_F(Routing, ReloadResolvesAServerGivenByName) {
    start_upstreams();
    EchoServer blue2(dir_, "blue2");
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address()}}, {"green", {green_->address()}}};
    start_proxy(cfg);
    cfg.pools[0].servers = {"localhost:" + std::to_string(blue2.port())};
    write_file(proxy_->config_path(), render_config(cfg, dir_, proxy_->port()));
    auto r = control("reload");
    ASSERT_TRUE(r["ok"].as_bool()) << json::serialize(r);
    HttpConn c(proxy_->port());
    auto answer = c.roundtrip(get_request("/"));
    EXPECT_EQ(answer.status(), 200u);
    EXPECT_EQ(answer.header("X-Echo-Name"), "blue2");
}

TEST_F(Routing, TunnelsAreCountedAndCutAfterTheDrainTime) {
    // blue is a WebSocket upstream that keeps the tunnel open until told.
    ScriptedUpstream ws([](ScriptedUpstream::Conn& conn, int) {
        if (!conn.read_request(seconds(5))) return;
        conn.send(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
            "Upgrade\r\n\r\n");
        while (conn.wait_readable(seconds(10)) == ScriptedUpstream::Conn::Wait::data) {
            char tmp[256];
            if (conn.sock.recv_some(tmp, sizeof tmp, after(seconds(1))) <= 0) return;
        }
    });
    start_upstreams();
    ProxyConfig cfg;
    cfg.pools = {{"blue", {ws.address()}}, {"green", {green_->address()}}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    c.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    ASSERT_EQ(c.read_response().status(), 101u);
    auto blue = [&] { return control("status")["pools"].as_array()[0].as_object(); };
    EXPECT_TRUE(poll_until(after(seconds(3)), [&] { return blue()["tunnels"].as_int64() == 1; }));
    EXPECT_EQ(blue()["inflight"].as_int64(), 0);
    ASSERT_TRUE(control("switch green drain=400ms")["ok"].as_bool());
    // The open tunnel holds the drain until the drain time cuts it.
    auto early = control("wait-drained blue timeout=100ms");
    EXPECT_FALSE(early["drained"].as_bool());
    EXPECT_EQ(early["tunnels"].as_int64(), 1);
    auto done = control("wait-drained blue timeout=3s");
    EXPECT_TRUE(done["drained"].as_bool()) << json::serialize(done);
    EXPECT_TRUE(c.wait_closed(seconds(2)));
}

// routing.override_header: honoured with the token, and removed before the
// upstream whatever it says, so the token never reaches an upstream (nor the
// access log, which has no request fields).
TEST_F(Routing, OverrideHeaderAndItsTokenNeverReachTheUpstream) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    cfg.routing = {{"override_header", "\"X-Switchyard-Pool\""},
                   {"override_token", "\"s3cret-token\""}};
    auto& sy = start_proxy(cfg);
    HttpConn c(sy.port());
    struct Case {
        std::string fields;
        std::string pool;  // where it must go
    };
    const std::vector<Case> cases = {
        {"X-Switchyard-Pool: green; token=s3cret-token\r\n", "green"},
        {"x-switchyard-pool:green;token=s3cret-token\r\n", "green"},
        {"X-Switchyard-Pool: green; token=wrong-s3cret-token\r\n", "blue"},  // not honoured
        {"X-Switchyard-Pool: green\r\n", "blue"},  // no token, not a trusted peer
        {"X-Switchyard-Pool: green; token=s3cret-token\r\nX-Switchyard-Pool: green; "
         "token=s3cret-token\r\n",
         "green"},  // every copy is removed
    };
    for (const auto& k : cases) {
        Response r = c.roundtrip(get_request("/?echo=head", k.fields));
        ASSERT_EQ(r.status(), 200u) << k.fields;
        EXPECT_EQ(r.header("X-Echo-Name"), k.pool) << k.fields;
        const SeenHead seen = SeenHead::parse(r.body());
        EXPECT_TRUE(seen.values("X-Switchyard-Pool").empty()) << k.fields << r.body();
        EXPECT_EQ(r.body().find("s3cret"), std::string::npos) << k.fields << r.body();
        EXPECT_EQ(r.body().find("token="), std::string::npos) << k.fields << r.body();
    }
    const auto lines = sy.wait_access_lines(cases.size());
    for (const auto& line : lines)
        EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
}

// The override is a header only (README, Routing): a cookie of that name is
// the application's cookie, forwarded as is, and overrides nothing.
TEST_F(Routing, ACookieNamedLikeTheOverrideHeaderDoesNotOverride) {
    auto cfg = base_config();
    cfg.routing = {{"override_header", "\"X-Switchyard-Pool\""},
                   {"override_token", "\"s3cret-token\""}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    for (const char* cookie :
         {"Cookie: X-Switchyard-Pool=green\r\n",
          "Cookie: a=1; X-Switchyard-Pool=\"green; token=s3cret-token\"\r\n"}) {
        Response r = c.roundtrip(get_request("/?echo=head", cookie));
        ASSERT_EQ(r.status(), 200u);
        EXPECT_EQ(r.header("X-Echo-Name"), "blue") << cookie;
        const SeenHead seen = SeenHead::parse(r.body());
        ASSERT_EQ(seen.values("Cookie").size(), 1u) << r.body();
        EXPECT_NE(seen.values("Cookie")[0].find("X-Switchyard-Pool="), std::string::npos);
    }
}

// DESIGN.md "State": a reload must not move users between pools. Refused
// reloads keep the running configuration and the routing state: every user
// stays on the pool they were on.
TEST_F(Routing, ReloadsThatWouldMoveCanaryUsersAreRefused) {
    auto cfg = base_config();
    cfg.routing = {{"seed", "7"}};
    start_proxy(cfg);
    ASSERT_TRUE(control("canary green 10")["ok"].as_bool());
    HttpConn c(proxy_->port());
    auto assignment = [&] {
        std::string pools;
        for (int i = 0; i < 200; ++i)
            pools += pool_of(c, "u" + std::to_string(i)) == "green" ? 'g' : 'b';
        return pools;
    };
    const std::string before = assignment();
    ASSERT_NE(before.find('g'), std::string::npos);
    // The routing state and the config generation (not the counters).
    auto state = [&] {
        auto st = control("status");
        return json::serialize(json::object{{"active", st["active"]},
                                            {"previous", st["previous"]},
                                            {"canary", st["canary"]},
                                            {"generation", st["generation"]},
                                            {"config_generation", st["config_generation"]}});
    };
    const std::string state_before = state();
    const std::string good = read_file(proxy_->config_path());

    cfg.routing = {{"seed", "8"}};
    write_file(proxy_->config_path(), render_config(cfg, dir_, proxy_->port()));
    auto seed = control("reload");
    EXPECT_FALSE(seed["ok"].as_bool());
    EXPECT_EQ(seed["error"].as_string(),
              "routing.seed cannot change while a canary holds 0 < weight < 100%; the running "
              "configuration is kept");
    EXPECT_EQ(assignment(), before);

    write_file(proxy_->config_path(), good.substr(0, good.find("[pools.green]")));
    auto removed = control("reload");
    EXPECT_FALSE(removed["ok"].as_bool());
    EXPECT_EQ(removed["error"].as_string(),
              "the new configuration has no pool green, a canary pool with a weight above 0; the "
              "running configuration is kept");
    EXPECT_EQ(assignment(), before);
    // Same state, same config generation: nothing changed.
    EXPECT_EQ(state(), state_before);
}

TEST_F(Routing, AuditLogNamesThePeer) {
    auto cfg = base_config();
    cfg.level = "info";
    start_proxy(cfg);
    ASSERT_TRUE(control("canary green 1")["ok"].as_bool());
    bool found = poll_until(after(seconds(3)), [&] {
        std::string err = proxy_->stderr_text();
        return err.find("audit control uid=" + std::to_string(::getuid()) +
                        " pid=" + std::to_string(::getpid()) + " command=\"canary green 1\"") !=
               std::string::npos;
    });
    EXPECT_TRUE(found) << proxy_->stderr_text();
}

// README, Operation: every control line that may change something is
// audited, accepted or refused, and so is every line that is not a command;
// read-only commands are not.
TEST_F(Routing, AuditLogRecordsChangesRefusalsAndBadLinesButNotReads) {
    auto cfg = base_config();
    cfg.audit_log_file = true;
    start_proxy(cfg);
    ASSERT_TRUE(control("status")["ok"].as_bool());
    ASSERT_TRUE(control("canary green 5")["ok"].as_bool());
    const std::string refusal(control("canary blue 5")["error"].as_string());
    EXPECT_FALSE(control("swtich green")["ok"].as_bool());
    ASSERT_TRUE(control("wait-drained blue timeout=1s")["ok"].as_bool());
    ASSERT_TRUE(control("reload")["ok"].as_bool());
    std::vector<std::string> lines;
    const bool complete = poll_until(after(seconds(3)), [&] {
        lines.clear();
        std::istringstream in(read_file(proxy_->audit_log_path()));
        for (std::string l; std::getline(in, l);)
            lines.push_back(l.substr(l.find("] audit ") + 8));
        return lines.size() >= 4;
    });
    ASSERT_TRUE(complete) << read_file(proxy_->audit_log_path());
    const std::string who =
        "control uid=" + std::to_string(::getuid()) + " pid=" + std::to_string(::getpid()) + " ";
    EXPECT_EQ(lines,
              (std::vector<std::string>{
                  who + "command=\"canary green 5\" active=blue generation=0 -> "
                        "active=blue canary=green:5.00% generation=1",
                  who + "command=\"canary blue 5\" refused: " + refusal,
                  who + "command=\"swtich green\" unparseable: unknown command swtich "
                        "(commands: status, switch, canary, promote, rollback, "
                        "wait-drained, server, reload, upgrade, ramp, flag, shadow, diff, cluster)",
                  who + "command=\"reload\" ok: config generation 1 -> 2"}));
}

}  // namespace
}  // namespace sy_it

#include "switchyard/core/health_gate.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using std::chrono::seconds;

GateServer server(std::string address, HealthState state, std::string reason = {},
                  std::string out_of_service = {}) {
    return {std::move(address), state, std::move(reason), std::move(out_of_service)};
}

GateServer healthy(std::string address) {
    return server(std::move(address), HealthState::healthy, "ok");
}

const MinHealthySettings kDefault{};  // 1 and 50 %

MinHealthySettings min_healthy(std::uint32_t count, std::uint32_t percent) {
    return {count, percent};
}

TEST(HealthGate, TheIssueExample) {
    std::vector<GateServer> servers{
        server("127.0.0.1:9002", HealthState::unknown, "no check finished yet"),
        server("127.0.0.1:9003", HealthState::unhealthy, "status 500"),
    };
    GateResult r = evaluate_health_gate("green", servers, kDefault);
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.healthy, 0u);
    EXPECT_EQ(r.total, 2u);
    EXPECT_EQ(r.required, 1u);
    EXPECT_EQ(r.message,
              "pool green has 0 of 2 servers healthy (needs 1 and 50 %): 127.0.0.1:9002 unknown "
              "(no check finished yet), 127.0.0.1:9003 unhealthy (status 500)");
}

TEST(HealthGate, AllHealthyPassesWithAShortMessage) {
    std::vector<GateServer> servers{healthy("127.0.0.1:9002"), healthy("127.0.0.1:9003")};
    GateResult r = evaluate_health_gate("green", servers, kDefault);
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.healthy, 2u);
    EXPECT_EQ(r.message, "pool green has 2 of 2 servers healthy (needs 1 and 50 %)");
}

TEST(HealthGate, APassingGateStillNamesTheServersThatAreNotHealthy) {
    std::vector<GateServer> servers{
        healthy("a:1"),
        server("b:1", HealthState::ejected, "5 consecutive failures, last: status 503"),
    };
    GateResult r = evaluate_health_gate("blue", servers, kDefault);
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.message,
              "pool blue has 1 of 2 servers healthy (needs 1 and 50 %): b:1 ejected (5 "
              "consecutive failures, last: status 503)");
}

TEST(HealthGate, ZeroServers) {
    GateResult r = evaluate_health_gate("green", {}, kDefault);
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.total, 0u);
    EXPECT_EQ(r.required, 1u);
    EXPECT_EQ(r.message, "pool green has 0 of 0 servers healthy (needs 1 and 50 %)");
    // Nothing required: even an empty pool passes.
    GateResult none = evaluate_health_gate("green", {}, min_healthy(0, 0));
    EXPECT_TRUE(none.pass);
    EXPECT_EQ(none.required, 0u);
    EXPECT_EQ(none.message, "pool green has 0 of 0 servers healthy (needs 0 and 0 %)");
}

TEST(HealthGate, OneServer) {
    std::vector<GateServer> up{healthy("a:1")};
    GateResult r = evaluate_health_gate("green", up, kDefault);
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.message, "pool green has 1 of 1 server healthy (needs 1 and 50 %)");
    std::vector<GateServer> down{server("a:1", HealthState::unhealthy, "timeout")};
    r = evaluate_health_gate("green", down, kDefault);
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.message,
              "pool green has 0 of 1 server healthy (needs 1 and 50 %): a:1 unhealthy (timeout)");
}

TEST(HealthGate, UnknownCountsAsFailing) {
    std::vector<GateServer> servers{server("a:1", HealthState::unknown, "ok (1 of 2 to rise)")};
    GateResult r = evaluate_health_gate("green", servers, min_healthy(0, 0));
    EXPECT_TRUE(r.pass);  // nothing required
    EXPECT_EQ(r.healthy, 0u);
    r = evaluate_health_gate("green", servers, min_healthy(1, 0));
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.message,
              "pool green has 0 of 1 server healthy (needs 1 and 0 %): a:1 unknown (ok (1 of 2 to "
              "rise))");
}

TEST(HealthGate, ThePercentageRoundsUp) {
    // 50 % of 3 is 1.5: two are needed.
    std::vector<GateServer> one_of_three{healthy("a:1"), server("b:1", HealthState::unhealthy),
                                         server("c:1", HealthState::unhealthy)};
    GateResult r = evaluate_health_gate("p", one_of_three, kDefault);
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.required, 2u);
    EXPECT_EQ(r.message,
              "pool p has 1 of 3 servers healthy (needs 1 and 50 %): b:1 unhealthy, c:1 unhealthy");
    one_of_three[1] = healthy("b:1");
    EXPECT_TRUE(evaluate_health_gate("p", one_of_three, kDefault).pass);

    // 50 % of 4 is exactly 2.
    std::vector<GateServer> four{healthy("a:1"), healthy("b:1"),
                                 server("c:1", HealthState::unknown),
                                 server("d:1", HealthState::unknown)};
    r = evaluate_health_gate("p", four, kDefault);
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.required, 2u);

    // 1 % of 3 rounds up to 1; 34 % of 3 (1.02) to 2; 100 % needs all.
    EXPECT_EQ(evaluate_health_gate("p", one_of_three, min_healthy(0, 1)).required, 1u);
    EXPECT_EQ(evaluate_health_gate("p", one_of_three, min_healthy(0, 34)).required, 2u);
    EXPECT_EQ(evaluate_health_gate("p", one_of_three, min_healthy(0, 100)).required, 3u);
    EXPECT_EQ(evaluate_health_gate("p", one_of_three, min_healthy(0, 33)).required, 1u);
}

TEST(HealthGate, TheCountCanBeTheStricterRule) {
    std::vector<GateServer> servers{healthy("a:1"), healthy("b:1"),
                                    server("c:1", HealthState::unhealthy, "connection refused")};
    GateResult r = evaluate_health_gate("p", servers, min_healthy(3, 10));
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.required, 3u);
    EXPECT_EQ(r.message,
              "pool p has 2 of 3 servers healthy (needs 3 and 10 %): c:1 unhealthy (connection "
              "refused)");
    // More than the pool has can never pass.
    EXPECT_FALSE(evaluate_health_gate("p", servers, min_healthy(4, 0)).pass);
}

TEST(HealthGate, OutOfServiceServersCountButNeverAsHealthy) {
    std::vector<GateServer> servers{
        server("a:1", HealthState::healthy, "ok", "disabled"),
        server("b:1", HealthState::unhealthy, "timeout", "draining"),
        healthy("c:1"),
    };
    GateResult r = evaluate_health_gate("p", servers, kDefault);
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.healthy, 1u);
    EXPECT_EQ(r.total, 3u);
    EXPECT_EQ(r.message,
              "pool p has 1 of 3 servers healthy (needs 1 and 50 %): a:1 disabled, b:1 draining");
}

PoolState pool_state() {
    PoolState p;
    p.name = "green";
    for (const char* address : {"127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.1:9004",
                                "127.0.0.1:9005", "app.internal:80", "127.0.0.1:9006"}) {
        ServerState s;
        s.address = address;
        s.resolved = {"127.0.0.1"};
        p.servers.push_back(s);
    }
    p.servers[3].admin = AdminState::draining;
    p.servers[4].resolved.clear();
    p.servers[5].admin = AdminState::disabled;
    return p;
}

TEST(HealthGate, ServersFromTheSnapshots) {
    HealthView view;
    ServerHealth ok;
    ok.state = HealthState::healthy;
    ok.reason = "ok";
    view.set("green", "127.0.0.1:9002", ok);
    ServerHealth bad;
    bad.state = HealthState::unhealthy;
    bad.reason = "status 500";
    view.set("green", "127.0.0.1:9003", bad);
    // 9004 has no entry yet; 9005 drains, app.internal has no address.
    view.set("green", "127.0.0.1:9005", ok);
    view.set("green", "app.internal:80", ok);
    view.set("blue", "127.0.0.1:9004", ok);  // another pool's server

    auto servers = gate_servers(pool_state(), view);
    ASSERT_EQ(servers.size(), 6u);
    EXPECT_EQ(servers[0].state, HealthState::healthy);
    EXPECT_EQ(servers[0].out_of_service, "");
    EXPECT_EQ(servers[2].state, HealthState::unknown);
    EXPECT_EQ(servers[2].reason, "no check finished yet");
    EXPECT_EQ(servers[3].out_of_service, "draining");
    EXPECT_EQ(servers[4].out_of_service, "unresolved");
    EXPECT_EQ(servers[5].out_of_service, "disabled");

    GateResult r = evaluate_health_gate(pool_state(), view, min_healthy(1, 0));
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.message,
              "pool green has 1 of 6 servers healthy (needs 1 and 0 %): 127.0.0.1:9003 unhealthy "
              "(status 500), 127.0.0.1:9004 unknown (no check finished yet), 127.0.0.1:9005 "
              "draining, app.internal:80 unresolved, 127.0.0.1:9006 disabled");
    EXPECT_FALSE(evaluate_health_gate(pool_state(), view, kDefault).pass);
}

TEST(HealthGate, AnUncheckedPoolPasses) {
    PoolState p;
    p.name = "blue";
    p.servers.resize(2);
    p.servers[0].address = "a:1";
    p.servers[0].resolved = {"10.0.0.1"};
    p.servers[1].address = "b:1";
    p.servers[1].resolved = {"10.0.0.2"};
    HealthView view;
    view.set("blue", "a:1", combine_health(unchecked_status(), {}));
    view.set("blue", "b:1", combine_health(unchecked_status(), {}));
    GateResult r = evaluate_health_gate(p, view, kDefault);
    EXPECT_TRUE(r.pass);
    EXPECT_EQ(r.message, "pool blue has 2 of 2 servers healthy (needs 1 and 50 %)");
    // An ejection still counts against it.
    PassiveStatus ejected{true, HealthTime{seconds(60)}, 1, "5 consecutive failures, last: reset"};
    view.set("blue", "b:1", combine_health(unchecked_status(), ejected));
    r = evaluate_health_gate(p, view, min_healthy(2, 0));
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.message,
              "pool blue has 1 of 2 servers healthy (needs 2 and 0 %): b:1 ejected (5 consecutive "
              "failures, last: reset)");
}

RoutingCommand command(RoutingCommand::Kind kind, std::string pool = {},
                       std::uint32_t weight_bp = 0) {
    RoutingCommand c;
    c.kind = kind;
    c.pool = std::move(pool);
    c.weight_bp = weight_bp;
    return c;
}

RuntimeState runtime(std::string active, std::string previous, std::string canary,
                     std::uint32_t weight_bp) {
    RuntimeState r;
    r.active = std::move(active);
    r.previous = std::move(previous);
    r.canary_pool = std::move(canary);
    r.canary_weight_bp = weight_bp;
    return r;
}

using Kind = RoutingCommand::Kind;

TEST(GateTarget, Switch) {
    const RuntimeState s = runtime("blue", "", "green", 0);
    EXPECT_EQ(gate_target(command(Kind::switch_to, "green"), s), "green");
    EXPECT_EQ(gate_target(command(Kind::switch_to, "red"), s), "red");
    EXPECT_EQ(gate_target(command(Kind::switch_to, "blue"), s), std::nullopt);
}

TEST(GateTarget, Promote) {
    EXPECT_EQ(gate_target(command(Kind::promote), runtime("blue", "", "green", 500)), "green");
    EXPECT_EQ(gate_target(command(Kind::promote), runtime("blue", "", "", 0)), std::nullopt);
}

TEST(GateTarget, CanaryRaisesAreGatedStopsAndStepsBackAreNot) {
    const RuntimeState s = runtime("blue", "", "green", 1000);
    EXPECT_EQ(gate_target(command(Kind::canary, "green", 0), s), std::nullopt);
    EXPECT_EQ(gate_target(command(Kind::canary, "green", 500), s), std::nullopt);
    EXPECT_EQ(gate_target(command(Kind::canary, "green", 1000), s), std::nullopt);
    EXPECT_EQ(gate_target(command(Kind::canary, "green", 1001), s), "green");
    EXPECT_EQ(gate_target(command(Kind::canary, "red", 100), s), "red");
    EXPECT_EQ(gate_target(command(Kind::canary, "red", 0), s), std::nullopt);
    EXPECT_EQ(gate_target(command(Kind::canary, "green", 500), runtime("blue", "", "", 0)),
              "green");
}

TEST(GateTarget, Rollback) {
    // Aborting a canary is the emergency stop: never gated.
    EXPECT_EQ(gate_target(command(Kind::rollback), runtime("green", "blue", "red", 100)),
              std::nullopt);
    // Switching back to the previous pool is a cutover like any other.
    EXPECT_EQ(gate_target(command(Kind::rollback), runtime("green", "blue", "blue", 0)), "blue");
    EXPECT_EQ(gate_target(command(Kind::rollback), runtime("green", "", "", 0)), std::nullopt);
}

TEST(GateTarget, ServerCommandsAreNotGated) {
    EXPECT_EQ(gate_target(command(Kind::server_admin, "green"), runtime("blue", "", "", 0)),
              std::nullopt);
}

}  // namespace
}  // namespace switchyard

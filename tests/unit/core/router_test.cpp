#include "switchyard/core/router.hpp"

#include <gtest/gtest.h>

#include <map>

namespace switchyard {
namespace {

Settings two_pools(std::vector<std::uint32_t> blue_weights) {
    Settings s;
    s.routing.active = "blue";
    PoolSettings blue;
    blue.name = "blue";
    for (std::size_t i = 0; i < blue_weights.size(); ++i)
        blue.servers.push_back({{"127.0.0.1", static_cast<std::uint16_t>(9000 + i)}, blue_weights[i]});
    PoolSettings green;
    green.name = "green";
    green.servers.push_back({{"127.0.0.1", 9100}, 1});
    s.pools = {blue, green};
    return s;
}

TEST(RoutingState, BuildsPoolsAndActive) {
    auto s = two_pools({1, 1});
    s.routing.active = "green";
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 7);
    EXPECT_EQ(state.snapshot, 7u);
    ASSERT_EQ(state.pools.size(), 2u);
    EXPECT_EQ(state.find_pool("green"), 1);
    EXPECT_EQ(state.find_pool("nope"), -1);
    EXPECT_EQ(state.active, 1);
    EXPECT_EQ(state.pools[0].servers[1].address, "127.0.0.1:9001");
    EXPECT_EQ(state.pools[0].servers[1].resolved, std::vector<std::string>{"127.0.0.1"});
}

TEST(RoutingState, HostNamesTakeTheirResolvedAddresses) {
    auto s = two_pools({1});
    s.pools[0].servers.push_back({{"app.internal", 80}, 1});
    auto unresolved = build_routing_state(s, initial_runtime_state(s), {}, 1);
    EXPECT_TRUE(unresolved.pools[0].servers[1].resolved.empty());
    ResolvedHosts dns{{"app.internal", {"10.0.0.1", "10.0.0.2"}}};
    auto resolved = build_routing_state(s, initial_runtime_state(s), dns, 1);
    EXPECT_EQ(resolved.pools[0].servers[1].resolved.size(), 2u);
    // A changed DNS answer changes the server's identity (no stale pooled connections).
    EXPECT_NE(unresolved.pools[0].servers[1].id, resolved.pools[0].servers[1].id);
    EXPECT_EQ(unresolved.pools[0].servers[0].id, resolved.pools[0].servers[0].id);
}

TEST(RoutingState, ServerIdentityDependsOnPoolAndAddress) {
    auto s = two_pools({1, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    EXPECT_NE(state.pools[0].servers[0].id, state.pools[0].servers[1].id);
    EXPECT_NE(state.pools[0].servers[0].id, state.pools[1].servers[0].id);
}

TEST(RoutingState, IpLiterals) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("[::1]"));
}

TEST(Router, RoundRobinFollowsWeightsSmoothly) {
    auto s = two_pools({5, 1, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    std::string order;
    for (int i = 0; i < 7; ++i) {
        auto d = Router::decide({}, state, balancer);
        ASSERT_EQ(d.pool, 0);
        order += static_cast<char>('a' + d.server);
    }
    // NGINX's smooth weighted round-robin sequence for weights 5,1,1.
    EXPECT_EQ(order, "aabacaa");
}

TEST(Router, RoundRobinSharesMatchWeights) {
    auto s = two_pools({3, 2, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    std::map<int, int> counts;
    for (int i = 0; i < 6000; ++i) ++counts[Router::decide({}, state, balancer).server];
    EXPECT_EQ(counts[0], 3000);
    EXPECT_EQ(counts[1], 2000);
    EXPECT_EQ(counts[2], 1000);
}

TEST(Router, ServersWithoutAddressAreSkipped) {
    auto s = two_pools({1});
    s.pools[0].servers.insert(s.pools[0].servers.begin(), ServerSettings{{"nowhere.invalid", 80}, 1});
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(Router::decide({}, state, balancer).server, 1);
}

TEST(Router, PoolWithNoUsableServerGivesNoServer) {
    auto s = two_pools({1});
    s.pools[0].servers = {ServerSettings{{"nowhere.invalid", 80}, 1}};
    auto state = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    auto d = Router::decide({}, state, balancer);
    EXPECT_EQ(d.pool, 0);
    EXPECT_EQ(d.server, -1);
}

TEST(RoutingState, RuntimeStateDecidesRolesAndAdminStates) {
    auto s = two_pools({1, 1});
    RuntimeState rt = initial_runtime_state(s);
    rt.active = "green";
    rt.previous = "blue";
    rt.canary_pool = "blue";
    rt.canary_weight_bp = 500;
    rt.generation = 9;
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::draining, std::nullopt};
    rt.servers["blue"]["127.0.0.1:9001"] = {AdminState::enabled, 7u};
    auto state = build_routing_state(s, rt, {}, 3);
    EXPECT_EQ(state.active, 1);
    EXPECT_EQ(state.previous, 0);
    EXPECT_EQ(state.canary, 0);
    EXPECT_EQ(state.canary_weight_bp, 500u);
    EXPECT_EQ(state.generation, 9u);
    EXPECT_EQ(state.pools[0].servers[0].admin, AdminState::draining);
    EXPECT_EQ(state.pools[0].servers[1].weight, 7u);
    EXPECT_FALSE(state.takes_traffic(0, 0));  // draining
    EXPECT_TRUE(state.takes_traffic(0, 1));   // canary with weight > 0
    EXPECT_TRUE(state.takes_traffic(1, 0));   // active
    rt.canary_weight_bp = 0;
    auto no_canary = build_routing_state(s, rt, {}, 4);
    EXPECT_FALSE(no_canary.takes_traffic(0, 1));
}

TEST(Router, DrainedAndDisabledServersAreSkipped) {
    auto s = two_pools({1, 1});
    RuntimeState rt = initial_runtime_state(s);
    rt.servers["blue"]["127.0.0.1:9000"] = {AdminState::disabled, std::nullopt};
    auto state = build_routing_state(s, rt, {}, 1);
    BalancerState balancer;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(Router::decide({}, state, balancer).server, 1);
}

TEST(Router, BalancerResetsOnANewGeneration) {
    auto s = two_pools({1, 1});
    auto first = build_routing_state(s, initial_runtime_state(s), {}, 1);
    BalancerState balancer;
    EXPECT_EQ(Router::decide({}, first, balancer).server, 0);
    auto second = build_routing_state(s, initial_runtime_state(s), {}, 2);
    EXPECT_EQ(Router::decide({}, second, balancer).server, 0);  // fresh credits
}

}  // namespace
}  // namespace switchyard

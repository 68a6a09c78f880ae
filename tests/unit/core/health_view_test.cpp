#include "switchyard/core/health_view.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const HealthTime t0{seconds(1000)};

ServerHealth with_state(HealthState state, std::string reason = {}) {
    ServerHealth h;
    h.state = state;
    h.reason = std::move(reason);
    return h;
}

ServerHealth ejected_until(HealthTime until) {
    ServerHealth h = with_state(HealthState::ejected, "5 consecutive failures, last: reset");
    h.ejected_until = until;
    h.ejections = 1;
    return h;
}

TEST(HealthState, Names) {
    EXPECT_EQ(to_string(HealthState::unknown), "unknown");
    EXPECT_EQ(to_string(HealthState::healthy), "healthy");
    EXPECT_EQ(to_string(HealthState::unhealthy), "unhealthy");
    EXPECT_EQ(to_string(HealthState::ejected), "ejected");
}

TEST(CheckOutcome, Tokens) {
    EXPECT_EQ(to_string(CheckOutcome::none), "none");
    EXPECT_EQ(to_string(CheckOutcome::ok), "ok");
    EXPECT_EQ(to_string(CheckOutcome::timeout), "timeout");
    EXPECT_EQ(to_string(CheckOutcome::refused), "refused");
    EXPECT_EQ(to_string(CheckOutcome::reset), "reset");
    EXPECT_EQ(to_string(CheckOutcome::bad_status), "bad_status");
    EXPECT_EQ(to_string(CheckOutcome::bad_response), "bad_response");
    EXPECT_EQ(to_string(CheckOutcome::other), "other");
}

TEST(CheckResult, Describe) {
    EXPECT_EQ(describe({}), "no check finished yet");
    EXPECT_EQ(describe({CheckOutcome::ok, 204, ""}), "ok");
    EXPECT_EQ(describe({CheckOutcome::timeout, 0, ""}), "timeout");
    EXPECT_EQ(describe({CheckOutcome::refused, 0, ""}), "connection refused");
    EXPECT_EQ(describe({CheckOutcome::reset, 0, ""}), "connection reset");
    EXPECT_EQ(describe({CheckOutcome::bad_status, 500, ""}), "status 500");
    EXPECT_EQ(describe({CheckOutcome::bad_status, 404, "ignored"}), "status 404");
    EXPECT_EQ(describe({CheckOutcome::bad_response, 0, ""}), "bad response");
    EXPECT_EQ(describe({CheckOutcome::bad_response, 0, "no status line"}),
              "bad response: no status line");
    EXPECT_EQ(describe({CheckOutcome::other, 0, ""}), "error");
    EXPECT_EQ(describe({CheckOutcome::other, 0, "TLS handshake failed"}),
              "error: TLS handshake failed");
}

TEST(CombineHealth, ChecksAloneGiveStateAndReason) {
    CheckStatus checks{HealthState::unhealthy, CheckResult{CheckOutcome::bad_status, 500, ""},
                       "status 500"};
    ServerHealth h = combine_health(checks, PassiveStatus{});
    EXPECT_EQ(h.state, HealthState::unhealthy);
    EXPECT_EQ(h.reason, "status 500");
    EXPECT_EQ(h.last_check, checks.last);
    EXPECT_EQ(h.ejections, 0u);
    EXPECT_EQ(h.ejected_until, HealthTime{});
}

TEST(CombineHealth, AnEjectionWinsOverHealthyChecks) {
    CheckStatus checks{HealthState::healthy, CheckResult{CheckOutcome::ok, 200, ""}, "ok"};
    PassiveStatus passive{true, t0 + seconds(30), 2, "5 consecutive failures, last: status 503"};
    ServerHealth h = combine_health(checks, passive);
    EXPECT_EQ(h.state, HealthState::ejected);
    EXPECT_EQ(h.ejected_until, t0 + seconds(30));
    EXPECT_EQ(h.ejections, 2u);
    EXPECT_EQ(h.reason, "5 consecutive failures, last: status 503");
    EXPECT_EQ(h.last_check, checks.last);  // kept for status
}

TEST(CombineHealth, AnEndedEjectionKeepsItsCountOnly) {
    CheckStatus checks{HealthState::unknown, CheckResult{}, "no check finished yet"};
    PassiveStatus passive{false, {}, 3, ""};
    ServerHealth h = combine_health(checks, passive);
    EXPECT_EQ(h.state, HealthState::unknown);
    EXPECT_EQ(h.reason, "no check finished yet");
    EXPECT_EQ(h.ejections, 3u);
}

TEST(CombineHealth, UncheckedPoolsCountHealthy) {
    EXPECT_EQ(unchecked_status(),
              (CheckStatus{HealthState::healthy, CheckResult{}, "no active checks"}));
    EXPECT_EQ(combine_health(unchecked_status(), {}).state, HealthState::healthy);
}

TEST(HealthView, EmptyViewFindsNothingAndEverythingIsUsable) {
    HealthView view;
    EXPECT_EQ(view.version(), 0u);
    EXPECT_TRUE(view.pools().empty());
    EXPECT_EQ(view.find("blue", "127.0.0.1:9001"), nullptr);
    EXPECT_TRUE(view.usable("blue", "127.0.0.1:9001"));
    EXPECT_TRUE(view.usable("blue", "127.0.0.1:9001", t0));
}

TEST(HealthView, SetFindAndReplace) {
    HealthView view(7);
    EXPECT_EQ(view.version(), 7u);
    view.set("blue", "127.0.0.1:9001", with_state(HealthState::healthy, "ok"));
    view.set("green", "127.0.0.1:9001", with_state(HealthState::unhealthy, "timeout"));
    ASSERT_NE(view.find("blue", "127.0.0.1:9001"), nullptr);
    EXPECT_EQ(view.find("blue", "127.0.0.1:9001")->reason, "ok");
    // The same address in another pool is another server.
    EXPECT_EQ(view.find("green", "127.0.0.1:9001")->state, HealthState::unhealthy);
    EXPECT_EQ(view.find("blue", "127.0.0.1:9002"), nullptr);
    EXPECT_EQ(view.find("red", "127.0.0.1:9001"), nullptr);

    view.set("blue", "127.0.0.1:9001", with_state(HealthState::unhealthy, "status 500"));
    EXPECT_EQ(view.find("blue", "127.0.0.1:9001")->reason, "status 500");
    EXPECT_EQ(view.pools().size(), 2u);
    EXPECT_EQ(view.pools().at("blue").size(), 1u);
}

TEST(HealthView, UsableByState) {
    HealthView view;
    view.set("p", "unknown", with_state(HealthState::unknown));
    view.set("p", "healthy", with_state(HealthState::healthy));
    view.set("p", "unhealthy", with_state(HealthState::unhealthy));
    view.set("p", "ejected", ejected_until(t0 + seconds(30)));
    EXPECT_TRUE(view.usable("p", "unknown"));
    EXPECT_TRUE(view.usable("p", "healthy"));
    EXPECT_FALSE(view.usable("p", "unhealthy"));
    EXPECT_FALSE(view.usable("p", "ejected"));
    EXPECT_TRUE(view.usable("p", "missing"));
}

TEST(HealthView, AnEjectionPastItsEndIsUsableOnlyWithTheTime) {
    HealthView view;
    view.set("p", "a", ejected_until(t0));
    EXPECT_FALSE(view.usable("p", "a", t0 - milliseconds(1)));
    EXPECT_TRUE(view.usable("p", "a", t0));  // the end is inclusive
    EXPECT_TRUE(view.usable("p", "a", t0 + seconds(1)));
    EXPECT_FALSE(view.usable("p", "a"));  // without a time: the state decides
    // Time does not make other states usable.
    view.set("p", "b", with_state(HealthState::unhealthy));
    EXPECT_FALSE(view.usable("p", "b", t0 + seconds(3600)));
    view.set("p", "c", with_state(HealthState::unknown));
    EXPECT_TRUE(view.usable("p", "c", t0));
}

TEST(HealthView, UsableMaskFollowsTheRoutingIndices) {
    RoutingState routing;
    PoolState blue;
    blue.name = "blue";
    blue.servers.resize(3);
    blue.servers[0].address = "127.0.0.1:9001";
    blue.servers[1].address = "127.0.0.1:9002";
    blue.servers[2].address = "127.0.0.1:9003";
    PoolState green;
    green.name = "green";
    green.servers.resize(1);
    green.servers[0].address = "127.0.0.1:9101";
    PoolState empty;
    empty.name = "empty";
    routing.pools = {blue, green, empty};

    HealthView view;
    view.set("blue", "127.0.0.1:9001", with_state(HealthState::healthy));
    view.set("blue", "127.0.0.1:9002", with_state(HealthState::unhealthy));
    view.set("blue", "127.0.0.1:9003", ejected_until(t0 + seconds(1)));
    view.set("green", "127.0.0.1:9101", ejected_until(t0));

    auto mask = view.usable_mask(routing, t0);
    ASSERT_EQ(mask.size(), 3u);
    EXPECT_EQ(mask[0], (std::vector<bool>{true, false, false}));
    EXPECT_EQ(mask[1], (std::vector<bool>{true}));
    EXPECT_TRUE(mask[2].empty());
    EXPECT_EQ(view.usable_mask(routing, t0 + seconds(1))[0],
              (std::vector<bool>{true, false, true}));
    EXPECT_TRUE(view.usable_mask(RoutingState{}, t0).empty());
}

}  // namespace
}  // namespace switchyard

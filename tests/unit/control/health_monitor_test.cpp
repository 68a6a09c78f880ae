// HealthMonitor's hand-over in a hot upgrade: what the old process exports
// and how the successor's monitor starts from it. The io_context is never
// run, so no probe goes out: the view is exactly what the seed made it.
#include "switchyard/control/health_monitor.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <chrono>

namespace switchyard::control {
namespace {

using std::chrono::seconds;

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

HealthCheckSettings fast_checks() {
    HealthCheckSettings h;
    h.path = "/";
    h.interval = Duration(100);
    h.rise = 1;
    h.fall = 2;
    return h;
}

ServerSettings server(std::uint16_t port) {
    ServerSettings s;
    s.address = {"127.0.0.1", port};
    return s;
}

// green: actively checked (three servers); blue: outlier detection only.
Settings settings(const HealthCheckSettings& checks = fast_checks()) {
    Settings s;
    PoolSettings green;
    green.name = "green";
    green.servers = {server(1), server(2), server(3)};
    green.health = checks;
    PoolSettings blue;
    blue.name = "blue";
    blue.servers = {server(11), server(12)};
    OutlierSettings outlier;
    outlier.consecutive_failures = 1;
    outlier.base_ejection = Duration(30000);
    blue.outlier = outlier;
    s.pools = {green, blue};
    return s;
}

HealthHandover checked(std::string address, HealthState state, CheckResult last,
                       std::uint32_t successes, std::uint32_t failures) {
    HealthHandover h;
    h.pool = "green";
    h.address = std::move(address);
    h.health.state = state;
    h.health.last_check = last;
    h.checked = true;
    h.check_settings = fast_checks();
    h.check_state = state;
    h.successes = successes;
    h.failures = failures;
    return h;
}

HealthHandover ejected(std::string address, HealthTime until) {
    HealthHandover h;
    h.pool = "blue";
    h.address = std::move(address);
    h.health.state = HealthState::ejected;
    h.health.ejected_until = until;
    h.health.ejections = 2;
    h.health.reason = "1 consecutive failures, last: status 503";
    h.ejection_level = 2;
    return h;
}

class HealthMonitorSeed : public ::testing::Test {
  protected:
    boost::asio::io_context io_;
    HealthMonitor monitor_{io_, quiet(), nullptr};
    const CheckResult refused_{CheckOutcome::refused, 0, ""};
    const CheckResult ok_{CheckOutcome::ok, 200, ""};
};

// The successor's first view already says what the old process knew: the
// gates see healthy and unhealthy servers, and an ejection stays in force.
TEST_F(HealthMonitorSeed, TheFirstViewGoesOnFromTheSeed) {
    const auto until = std::chrono::steady_clock::now() + seconds(30);
    monitor_.seed({checked("127.0.0.1:1", HealthState::unhealthy, refused_, 0, 4),
                   checked("127.0.0.1:2", HealthState::healthy, ok_, 9, 0),
                   ejected("127.0.0.1:11", until),
                   checked("127.0.0.1:99", HealthState::healthy, ok_, 9, 0)});  // gone
    monitor_.configure(settings(), {});
    const auto view = monitor_.view();

    const ServerHealth* down = view->find("green", "127.0.0.1:1");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->state, HealthState::unhealthy);
    EXPECT_EQ(down->reason, "connection refused");
    EXPECT_EQ(down->last_check, refused_);
    const ServerHealth* up = view->find("green", "127.0.0.1:2");
    ASSERT_NE(up, nullptr);
    EXPECT_EQ(up->state, HealthState::healthy);
    EXPECT_EQ(up->reason, "ok");
    // Not in the seed: unknown, as without a hand-over.
    EXPECT_EQ(view->find("green", "127.0.0.1:3")->state, HealthState::unknown);
    EXPECT_EQ(view->find("green", "127.0.0.1:99"), nullptr);

    const ServerHealth* out = view->find("blue", "127.0.0.1:11");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->state, HealthState::ejected);
    EXPECT_EQ(out->ejected_until, until);
    EXPECT_EQ(out->ejections, 2u);
    EXPECT_EQ(out->reason, "1 consecutive failures, last: status 503");
    EXPECT_FALSE(view->usable("blue", "127.0.0.1:11", std::chrono::steady_clock::now()));
    EXPECT_EQ(view->find("blue", "127.0.0.1:12")->state, HealthState::healthy);  // unchecked
}

// Verdicts reached under other check settings are not kept (as on a
// reload that changes them).
TEST_F(HealthMonitorSeed, ChangedChecksStartUnknown) {
    auto other = fast_checks();
    other.path = "/ready";
    monitor_.seed({checked("127.0.0.1:1", HealthState::unhealthy, refused_, 0, 4)});
    monitor_.configure(settings(other), {});
    EXPECT_EQ(monitor_.view()->find("green", "127.0.0.1:1")->state, HealthState::unknown);
}

// The seed is for the first configure() only: a later reload that adds a
// pool back must not bring old verdicts with it.
TEST_F(HealthMonitorSeed, TheSeedIsTakenOnce) {
    monitor_.seed({checked("127.0.0.1:1", HealthState::unhealthy, refused_, 0, 4)});
    Settings without = settings();
    without.pools.erase(without.pools.begin());
    monitor_.configure(without, {});
    monitor_.configure(settings(), {});
    EXPECT_EQ(monitor_.view()->find("green", "127.0.0.1:1")->state, HealthState::unknown);
}

// The old side: handover() says what the view says plus the deciders'
// memory, and a successor seeded with it publishes the same view.
TEST_F(HealthMonitorSeed, HandoverSeedsAnEqualView) {
    monitor_.configure(settings(), {});
    monitor_.report("blue", "127.0.0.1:11", {PassiveOutcome::server_error, 503});
    const auto handed = monitor_.handover();
    ASSERT_EQ(handed.size(), 5u);  // every server of every pool
    const HealthHandover* out = nullptr;
    for (const auto& h : handed)
        if (h.pool == "blue" && h.address == "127.0.0.1:11") out = &h;
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->health.state, HealthState::ejected);
    EXPECT_EQ(out->health.ejections, 1u);
    EXPECT_EQ(out->ejection_level, 1u);
    EXPECT_FALSE(out->checked);
    for (const auto& h : handed)
        if (h.pool == "green") {
            EXPECT_TRUE(h.checked);
            EXPECT_EQ(h.check_settings, fast_checks());
            EXPECT_EQ(h.check_state, HealthState::unknown);
        }

    boost::asio::io_context io;
    HealthMonitor successor(io, quiet(), nullptr);
    successor.seed(handed);
    successor.configure(settings(), {});
    EXPECT_EQ(successor.view()->pools(), monitor_.view()->pools());
    EXPECT_EQ(successor.handover(), handed);
}

}  // namespace
}  // namespace switchyard::control

#include "switchyard/core/traffic_stats.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

ServerStats server(std::string pool, std::string address, std::uint64_t attempts) {
    ServerStats s;
    s.pool = std::move(pool);
    s.address = std::move(address);
    s.attempts = attempts;
    s.inflight = 1;
    s.responses[1] = attempts;
    s.errors["connect_failed"] = 1;
    return s;
}

TEST(TrafficTotals, AddsWorkersPerServerAndPool) {
    WorkerStats w1, w2;
    w1.servers.push_back(server("blue", "127.0.0.1:1", 5));
    w2.servers.push_back(server("blue", "127.0.0.1:1", 7));
    w2.servers.push_back(server("green", "127.0.0.1:2", 1));
    PoolStats p;
    p.pool = "blue";
    p.retries = 2;
    p.responses[200] = 3;
    p.responses[502] = 1;
    p.duration.record(1000);
    w1.pools.push_back(p);
    p.responses.erase(502);
    w2.pools.push_back(p);
    w1.connections.accepted = 4;
    w1.connections.unrouted[400] = 1;
    w2.connections.accepted = 6;
    w2.connections.unrouted[400] = 2;

    TrafficTotals t;
    t.add(w1);
    t.add(w2);
    const auto& blue = t.server("blue", "127.0.0.1:1");
    EXPECT_EQ(blue.attempts, 12u);
    EXPECT_EQ(blue.inflight, 2);
    EXPECT_EQ(blue.responses[1], 12u);
    EXPECT_EQ(blue.errors.at("connect_failed"), 2u);
    EXPECT_EQ(t.server("green", "127.0.0.1:2").attempts, 1u);
    EXPECT_EQ(t.server("green", "127.0.0.1:9").attempts, 0u);  // unknown: zeros
    EXPECT_EQ(t.pool("blue").retries, 4u);
    EXPECT_EQ(t.pool("blue").responses.at(200), 6u);
    EXPECT_EQ(t.pool("blue").responses.at(502), 1u);
    EXPECT_EQ(t.pool("blue").duration.count(), 2u);
    EXPECT_EQ(t.pool("green").duration.count(), 0u);
    EXPECT_EQ(t.connections.accepted, 10u);
    EXPECT_EQ(t.connections.unrouted.at(400), 3u);
}

TEST(TrafficTotals, WindowsMergeAcrossWorkers) {
    using namespace std::chrono;
    const steady_clock::time_point start{};
    WindowedHistogram a(seconds(1), 10, start), b(seconds(1), 10, start);
    a.record(start + seconds(5), 100);
    b.record(start + seconds(5), 300, RequestOutcome::error);
    PoolStats pa, pb;
    pa.pool = pb.pool = "blue";
    pa.last_10s = a.snapshot(start + seconds(10), seconds(10));
    pb.last_10s = b.snapshot(start + seconds(10), seconds(10));
    WorkerStats w1, w2;
    w1.pools.push_back(pa);
    w2.pools.push_back(pb);
    TrafficTotals t;
    t.add(w1);
    t.add(w2);
    const auto& w = t.pool("blue").last_10s;
    EXPECT_EQ(w.requests(), 2u);
    EXPECT_EQ(w.errors, 1u);
    EXPECT_DOUBLE_EQ(w.error_ratio(), 0.5);
    EXPECT_EQ(w.latency.quantile(1.0), 300u);
}

// The ramp's window: workers' counts of the same window add up; a worker
// still on another window (it had not started this one) adds nothing.
TEST(StepWindow, AddsOnlyTheSameWindow) {
    StepWindow all;
    all.id = 7;
    StepWindow w1, w2, stale;
    w1.id = w2.id = 7;
    stale.id = 6;
    w1.pools["blue"].record(RequestOutcome::ok, 1000);
    w2.pools["blue"].record(RequestOutcome::error, 3000);
    w2.pools["green"].record(RequestOutcome::ok, std::nullopt);
    stale.pools["blue"].record(RequestOutcome::error, 1000);
    all.add(w1);
    all.add(w2);
    all.add(stale);
    EXPECT_EQ(all.pool("blue").requests, 2u);
    EXPECT_EQ(all.pool("blue").errors, 1u);
    EXPECT_EQ(all.pool("blue").latency.count(), 2u);
    EXPECT_EQ(all.pool("green").requests, 1u);
    EXPECT_EQ(all.pool("green").latency.count(), 0u);  // untimed (a tunnel)
    EXPECT_EQ(all.pool("orange").requests, 0u);
}

}  // namespace
}  // namespace switchyard

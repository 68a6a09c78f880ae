#include "switchyard/control/metrics_report.hpp"

#include "switchyard/core/address.hpp"

#include <gtest/gtest.h>

#include <set>

namespace switchyard::control {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

struct Fixture {
    Settings settings;
    RuntimeState runtime;
    HealthView health;
    TrafficTotals traffic;

    Fixture() {
        for (auto [name, address] :
             {std::pair{"blue", "127.0.0.1:9001"}, std::pair{"green", "127.0.0.1:9002"}}) {
            PoolSettings p;
            p.name = name;
            p.servers.push_back({*parse_endpoint(address), 1});
            settings.pools.push_back(p);
        }
        runtime.active = "blue";
        runtime.canary_pool = "green";
        runtime.canary_weight_bp = 1050;
        runtime.generation = 7;
        ServerHealth ejected;
        ejected.state = HealthState::ejected;
        ejected.ejections = 2;
        health.set("green", "127.0.0.1:9002", ejected);

        WorkerStats w;
        ServerStats s;
        s.pool = "blue";
        s.address = "127.0.0.1:9001";
        s.attempts = 5;
        s.inflight = 1;
        s.responses = {0, 4, 0, 0, 1};
        s.errors["connect_failed"] = 1;
        w.servers.push_back(s);
        PoolStats p;
        p.pool = "blue";
        p.responses[200] = 4;
        p.responses[502] = 1;
        p.retries = 1;
        for (std::uint64_t us : {300, 800, 1200, 2'000'000, 1500})
            p.duration.record(us);
        w.pools.push_back(p);
        w.connections.accepted = 3;
        w.connections.unrouted[400] = 2;
        traffic.add(w);
    }
};

TEST(MetricsReport, DesignSeriesCarryTheRoutingStateAndTraffic) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    in.version = "1.2.3";
    in.workers = 2;
    in.client_connections = 4;
    in.reload = {3, 1, false, 1700000000.5};
    const std::string m = render_metrics(in);
    EXPECT_TRUE(has_line(m, "switchyard_build_info{version=\"1.2.3\"} 1")) << m;
    EXPECT_TRUE(has_line(m, "switchyard_generation 7"));
    EXPECT_TRUE(has_line(m, "switchyard_active_pool{pool=\"blue\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_active_pool{pool=\"green\"} 0"));
    EXPECT_TRUE(has_line(m, "switchyard_canary_weight_percent{pool=\"green\"} 10.5"));
    EXPECT_TRUE(has_line(m, "switchyard_canary_weight_percent{pool=\"blue\"} 0"));
    EXPECT_TRUE(has_line(m, "switchyard_requests_total{pool=\"blue\",code=\"200\"} 4"));
    EXPECT_TRUE(has_line(m, "switchyard_requests_total{pool=\"blue\",code=\"502\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_unrouted_requests_total{code=\"400\"} 2"));
    EXPECT_TRUE(
        has_line(m, "switchyard_request_duration_seconds_bucket{pool=\"blue\",le=\"0.001\"} 2"));
    EXPECT_TRUE(
        has_line(m, "switchyard_request_duration_seconds_bucket{pool=\"blue\",le=\"0.0025\"} 4"));
    EXPECT_TRUE(has_line(m, "switchyard_request_duration_seconds_count{pool=\"blue\"} 5"));
    EXPECT_TRUE(has_line(m, "switchyard_request_duration_seconds_sum{pool=\"blue\"} 2.0038"));
    EXPECT_TRUE(has_line(m, "switchyard_request_duration_seconds_count{pool=\"green\"} 0"));
    EXPECT_TRUE(has_line(m, "switchyard_inflight_requests{pool=\"blue\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_retries_total{pool=\"blue\"} 1"));
    EXPECT_TRUE(
        has_line(m, "switchyard_server_requests_total{pool=\"blue\",server=\"127.0.0.1:9001\"} 5"));
    EXPECT_TRUE(
        has_line(m,
                 "switchyard_server_responses_total{pool=\"blue\",server=\"127.0.0.1:9001\","
                 "class=\"5xx\"} 1"));
    EXPECT_TRUE(has_line(m,
                         "switchyard_upstream_errors_total{pool=\"blue\",server=\"127.0.0.1:9001\","
                         "kind=\"connect_failed\"} 1"));
    EXPECT_TRUE(
        has_line(m, "switchyard_server_healthy{pool=\"blue\",server=\"127.0.0.1:9001\"} 1"));
    EXPECT_TRUE(
        has_line(m, "switchyard_server_healthy{pool=\"green\",server=\"127.0.0.1:9002\"} 0"));
    EXPECT_TRUE(
        has_line(m, "switchyard_server_ejected{pool=\"green\",server=\"127.0.0.1:9002\"} 1"));
    EXPECT_TRUE(has_line(
        m, "switchyard_server_ejections_total{pool=\"green\",server=\"127.0.0.1:9002\"} 2"));
    EXPECT_TRUE(has_line(m, "switchyard_client_connections 4"));
    EXPECT_TRUE(has_line(m, "switchyard_client_connections_accepted_total 3"));
    EXPECT_TRUE(has_line(m, "switchyard_reloads_total{result=\"ok\"} 3"));
    EXPECT_TRUE(has_line(m, "switchyard_reloads_total{result=\"failed\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_last_reload_success 0"));
    EXPECT_TRUE(has_line(m, "switchyard_last_reload_timestamp_seconds 1700000000.5"));
    EXPECT_TRUE(has_line(m, "switchyard_workers 2"));
}

TEST(MetricsReport, TheRampsSeries) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    std::string m = render_metrics(in);
    // Before any ramp: no state series, step 0, counters at 0.
    EXPECT_EQ(m.find("switchyard_rollout_state{"), std::string::npos) << m;
    EXPECT_TRUE(has_line(m, "switchyard_rollout_step 0"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_verdicts_total{result=\"fail\"} 0"));

    in.ramp.pool = "green";
    in.ramp.state = "holding";
    in.ramp.step = 2;
    in.ramp.verdicts[0] = 7;
    in.ramp.verdicts[1] = 1;
    in.ramp.verdicts[2] = 4;
    in.ramp.webhooks_ok = 5;
    in.ramp.webhooks_failed = 1;
    in.ramp.webhooks_retried = 2;
    in.ramp.judged = {{"green", 250, 0.004, 0.0121}, {"blue", 2750, 0.001, std::nullopt}};
    m = render_metrics(in);
    EXPECT_TRUE(has_line(m, "switchyard_rollout_state{pool=\"green\",state=\"holding\"} 1")) << m;
    EXPECT_TRUE(has_line(m, "switchyard_rollout_state{pool=\"green\",state=\"running\"} 0"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_step 2"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_verdicts_total{result=\"pass\"} 7"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_verdicts_total{result=\"fail\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_verdicts_total{result=\"inconclusive\"} 4"));
    EXPECT_TRUE(has_line(m, "switchyard_webhook_deliveries_total{result=\"ok\"} 5"));
    EXPECT_TRUE(has_line(m, "switchyard_webhook_deliveries_total{result=\"failed\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_webhook_deliveries_total{result=\"retried\"} 2"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_step_requests{pool=\"green\"} 250"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_step_error_ratio{pool=\"blue\"} 0.001"));
    EXPECT_TRUE(has_line(m, "switchyard_rollout_step_p99_seconds{pool=\"green\"} 0.0121"));
    EXPECT_EQ(m.find("switchyard_rollout_step_p99_seconds{pool=\"blue\"}"), std::string::npos);
}

// Mirroring: the share on every pool; the copies by result, every result
// present (zeros included), for the shadow pool and any pool with counts.
TEST(MetricsReport, TheDiffSeriesPerRoute) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    EXPECT_EQ(render_metrics(in).find("switchyard_shadow_diff_total{"), std::string::npos);
    const std::vector<std::string> price = {"$.price"};
    f.traffic.diff.record_candidate("/api/items", {});
    f.traffic.diff.record_candidate("/api/items", price);
    f.traffic.diff.record_candidate("/api/items", price);
    f.traffic.diff.record_skipped("/api/items");
    const std::string m = render_metrics(in);
    EXPECT_NE(m.find("# TYPE switchyard_shadow_diff_total counter"), std::string::npos);
    EXPECT_TRUE(has_line(m, R"(switchyard_shadow_diff_total{route="/api/items",result="equal"} 1)"))
        << m;
    EXPECT_TRUE(
        has_line(m, R"(switchyard_shadow_diff_total{route="/api/items",result="differing"} 2)"));
    EXPECT_TRUE(
        has_line(m, R"(switchyard_shadow_diff_total{route="/api/items",result="skipped"} 1)"));
}

TEST(MetricsReport, TheShadowSeries) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    std::string m = render_metrics(in);
    // Off, nothing configured, nothing counted: the share at 0, no counter series.
    EXPECT_TRUE(has_line(m, "switchyard_shadow_percent{pool=\"blue\"} 0")) << m;
    EXPECT_TRUE(has_line(m, "switchyard_shadow_percent{pool=\"green\"} 0"));
    EXPECT_NE(m.find("# TYPE switchyard_shadow_requests_total counter"), std::string::npos);
    EXPECT_EQ(m.find("switchyard_shadow_requests_total{"), std::string::npos);

    // The config names the pool: its series are there before any mirror.
    f.settings.shadow.pool = "green";
    m = render_metrics(in);
    for (const char* result :
         {"sent", "ok", "error", "timeout", "dropped_overload", "skipped_method", "skipped_body"})
        EXPECT_TRUE(has_line(m, "switchyard_shadow_requests_total{pool=\"green\",result=\"" +
                                    std::string(result) + "\"} 0"))
            << result << "\n"
            << m;
    EXPECT_EQ(m.find("switchyard_shadow_requests_total{pool=\"blue\""), std::string::npos);

    // On at 12.345 %, with counts; blue keeps its counts from earlier.
    f.settings.shadow.pool.clear();
    f.runtime.shadow = {"green", 12345, true};
    WorkerStats w;
    ShadowCounts green{};
    green[static_cast<std::size_t>(ShadowResult::sent)] = 9;
    green[static_cast<std::size_t>(ShadowResult::ok)] = 7;
    green[static_cast<std::size_t>(ShadowResult::skipped_body)] = 2;
    w.shadow_requests["green"] = green;
    ShadowCounts blue{};
    blue[static_cast<std::size_t>(ShadowResult::timeout)] = 1;
    w.shadow_requests["blue"] = blue;
    f.traffic.add(w);
    m = render_metrics(in);
    EXPECT_TRUE(has_line(m, "switchyard_shadow_percent{pool=\"green\"} 12.345")) << m;
    EXPECT_TRUE(has_line(m, "switchyard_shadow_percent{pool=\"blue\"} 0"));
    EXPECT_TRUE(has_line(m, "switchyard_shadow_requests_total{pool=\"green\",result=\"sent\"} 9"));
    EXPECT_TRUE(has_line(m, "switchyard_shadow_requests_total{pool=\"green\",result=\"ok\"} 7"));
    EXPECT_TRUE(
        has_line(m, "switchyard_shadow_requests_total{pool=\"green\",result=\"skipped_body\"} 2"));
    EXPECT_TRUE(has_line(m, "switchyard_shadow_requests_total{pool=\"green\",result=\"error\"} 0"));
    EXPECT_TRUE(
        has_line(m, "switchyard_shadow_requests_total{pool=\"blue\",result=\"timeout\"} 1"));
    EXPECT_TRUE(has_line(m, "switchyard_shadow_requests_total{pool=\"blue\",result=\"sent\"} 0"));
    // Mirrored requests never count as the pools' requests.
    EXPECT_EQ(m.find("switchyard_requests_total{pool=\"green\""), std::string::npos);
}

TEST(MetricsReport, TheFleetSeriesOnlyInAFleet) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    EXPECT_EQ(render_metrics(in).find("switchyard_cluster_"), std::string::npos);
    in.cluster = ClusterMetrics{7, true, 42};
    const std::string m = render_metrics(in);
    EXPECT_TRUE(has_line(m, "switchyard_cluster_applied_generation 7")) << m;
    EXPECT_TRUE(has_line(m, "switchyard_cluster_degraded 1"));
    EXPECT_TRUE(has_line(m, "switchyard_cluster_store_revision 42"));
}

TEST(MetricsReport, EveryFamilyIsDeclaredOnceAndEverySampleBelongsToTheFamilyBeforeIt) {
    Fixture f;
    MetricsInput in{f.settings, f.runtime, f.health, f.traffic};
    in.cluster = ClusterMetrics{};  // every family there is
    const std::string m = render_metrics(in);
    std::set<std::string> seen;
    std::string current;
    std::size_t pos = 0, samples = 0;
    while (pos < m.size()) {
        const auto end = m.find('\n', pos);
        ASSERT_NE(end, std::string::npos) << "the text ends with a line feed";
        const std::string line = m.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind("# HELP ", 0) == 0) {
            current = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(seen.insert(current).second) << "declared twice: " << current;
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            EXPECT_EQ(line.substr(7, current.size()), current) << line;
            continue;
        }
        ++samples;
        const std::string name = line.substr(0, line.find_first_of("{ "));
        EXPECT_TRUE(name == current || name == current + "_bucket" || name == current + "_sum" ||
                    name == current + "_count")
            << line << " after family " << current;
    }
    EXPECT_GT(samples, 50u);
    EXPECT_EQ(m.back(), '\n');
}

}  // namespace
}  // namespace switchyard::control

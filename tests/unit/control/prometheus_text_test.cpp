#include "switchyard/control/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace switchyard::control {
namespace {

TEST(PrometheusText, FamiliesHaveHelpAndTypeAndCountersEndInTotal) {
    PrometheusText t;
    t.family("x_requests", PrometheusText::Type::counter, "Requests.");
    t.sample({{"pool", "blue"}, {"code", "200"}}, std::uint64_t{3});
    t.family("x_up", PrometheusText::Type::gauge, "Up.");
    t.sample({}, std::int64_t{-1});
    EXPECT_EQ(t.text(),
              "# HELP x_requests_total Requests.\n"
              "# TYPE x_requests_total counter\n"
              "x_requests_total{pool=\"blue\",code=\"200\"} 3\n"
              "# HELP x_up Up.\n"
              "# TYPE x_up gauge\n"
              "x_up -1\n");
}

TEST(PrometheusText, LabelValuesAndHelpAreEscaped) {
    PrometheusText t;
    t.family("x", PrometheusText::Type::gauge, "a \\ b\nc \"q\"");
    t.sample({{"v", "a\"b\\c\nd"}}, 1.5);
    EXPECT_EQ(t.text(),
              "# HELP x a \\\\ b\\nc \"q\"\n"
              "# TYPE x gauge\n"
              "x{v=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(PrometheusText, DoublesAreShortestRoundTripWithInfAndNaN) {
    EXPECT_EQ(format_prometheus_double(0.0005), "0.0005");
    EXPECT_EQ(format_prometheus_double(60), "60");
    EXPECT_EQ(format_prometheus_double(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(format_prometheus_double(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_prometheus_double(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_prometheus_double(std::nan("")), "NaN");
}

TEST(PrometheusText, HistogramsAreCumulativeWithInfSumAndCount) {
    LatencyBuckets h;
    h.record(400);         // <= 0.0005
    h.record(1000);        // <= 0.001
    h.record(70'000'000);  // beyond 60 s: only +Inf
    PrometheusText t;
    t.family("x_seconds", PrometheusText::Type::histogram, "Latency.");
    t.histogram({{"pool", "blue"}}, h);
    const std::string& s = t.text();
    EXPECT_NE(s.find("# TYPE x_seconds histogram\n"), std::string::npos);
    EXPECT_NE(s.find("x_seconds_bucket{pool=\"blue\",le=\"0.0005\"} 1\n"), std::string::npos) << s;
    EXPECT_NE(s.find("x_seconds_bucket{pool=\"blue\",le=\"0.001\"} 2\n"), std::string::npos);
    EXPECT_NE(s.find("x_seconds_bucket{pool=\"blue\",le=\"60\"} 2\n"), std::string::npos);
    EXPECT_NE(s.find("x_seconds_bucket{pool=\"blue\",le=\"+Inf\"} 3\n"), std::string::npos);
    EXPECT_NE(s.find("x_seconds_sum{pool=\"blue\"} 70.0014\n"), std::string::npos);
    EXPECT_NE(s.find("x_seconds_count{pool=\"blue\"} 3\n"), std::string::npos);
    // 16 bounds + Inf, sum, count.
    EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2 + 17 + 2);
}

}  // namespace
}  // namespace switchyard::control

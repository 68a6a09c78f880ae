#include "switchyard/core/diff_stats.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

using Fields = std::vector<std::string>;

const DiffRouteCounts& at(const DiffTable& t, const std::string& route) {
    static const DiffRouteCounts none;
    auto it = t.routes().find(route);
    return it == t.routes().end() ? none : it->second;
}

DiffFieldCounts field(const DiffTable& t, const std::string& route, const std::string& name) {
    const auto& fields = at(t, route).fields;
    auto it = fields.find(name);
    return it == fields.end() ? DiffFieldCounts{} : it->second;
}

std::vector<std::string> route_names(const DiffTable& t) {
    std::vector<std::string> names;
    for (const auto& [name, counts] : t.routes())
        names.push_back(name);
    return names;
}

TEST(DiffTable, CountsComparedEqualAndFieldsPerPair) {
    DiffTable t;
    t.record_candidate("/api/users", Fields{});
    t.record_candidate("/api/users", Fields{"$.price", "status"});
    t.record_candidate("/api/users", Fields{"$.price"});
    t.record_skipped("/api/users");
    t.record_skipped("/api/orders");

    const DiffRouteCounts& users = at(t, "/api/users");
    EXPECT_EQ(users.compared, 3u);
    EXPECT_EQ(users.equal, 1u);
    EXPECT_EQ(users.skipped, 1u);
    EXPECT_EQ(users.secondary_compared, 0u);
    ASSERT_EQ(users.fields.size(), 2u);
    EXPECT_EQ(field(t, "/api/users", "$.price"), (DiffFieldCounts{2, 0}));
    EXPECT_EQ(field(t, "/api/users", "status"), (DiffFieldCounts{1, 0}));

    const DiffRouteCounts& orders = at(t, "/api/orders");
    EXPECT_EQ(orders.compared, 0u);
    EXPECT_EQ(orders.skipped, 1u);
    EXPECT_TRUE(orders.fields.empty());
}

TEST(DiffTable, SecondaryPairsCountSeparately) {
    DiffTable t;
    t.record_candidate("/a", Fields{"header:date"});
    t.record_secondary("/a", Fields{"header:date"});
    t.record_secondary("/a", Fields{});
    t.record_secondary("/a", Fields{"$.ts"});
    const DiffRouteCounts& a = at(t, "/a");
    EXPECT_EQ(a.compared, 1u);
    EXPECT_EQ(a.equal, 0u);
    EXPECT_EQ(a.secondary_compared, 3u);
    EXPECT_EQ(field(t, "/a", "header:date"), (DiffFieldCounts{1, 1}));
    EXPECT_EQ(field(t, "/a", "$.ts"), (DiffFieldCounts{0, 1}));
}

TEST(DiffTable, ARepeatedFieldCountsOncePerPair) {
    DiffTable t;
    t.record_candidate("/a", Fields{"body", "body", "status", "body"});
    t.record_secondary("/a", Fields{"body", "body"});
    EXPECT_EQ(field(t, "/a", "body"), (DiffFieldCounts{1, 1}));
    EXPECT_EQ(field(t, "/a", "status"), (DiffFieldCounts{1, 0}));
}

TEST(DiffTable, RoutesBeyondTheCapCountAsOther) {
    DiffTable t(2);
    t.record_candidate("/a", Fields{});
    t.record_candidate("/b", Fields{"status"});
    t.record_candidate("/c", Fields{"status"});
    t.record_skipped("/d");
    t.record_secondary("/e", Fields{"body"});
    t.record_candidate("/a", Fields{"body"});  // a known route stays itself
    EXPECT_EQ(route_names(t), (std::vector<std::string>{"/a", "/b", "other"}));
    EXPECT_EQ(at(t, "/a").compared, 2u);
    const DiffRouteCounts& other = at(t, "other");
    EXPECT_EQ(other.compared, 1u);
    EXPECT_EQ(other.skipped, 1u);
    EXPECT_EQ(other.secondary_compared, 1u);
    EXPECT_EQ(field(t, "other", "status"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(field(t, "other", "body"), (DiffFieldCounts{0, 1}));
}

TEST(DiffTable, ZeroRoutesCountsEverythingAsOther) {
    DiffTable t(0);
    t.record_candidate("/a", Fields{});
    t.record_candidate("/b", Fields{});
    EXPECT_EQ(route_names(t), (std::vector<std::string>{"other"}));
    EXPECT_EQ(at(t, "other").compared, 2u);
    EXPECT_EQ(at(t, "other").equal, 2u);
}

TEST(DiffTable, FieldsBeyondTheCapCountOncePerPairAsOther) {
    DiffTable t(10, 2);
    t.record_candidate("/a", Fields{"f1", "f2"});
    t.record_candidate("/a", Fields{"f1", "f3", "f4"});  // f3 and f4: one "other"
    t.record_secondary("/a", Fields{"f5"});
    const auto& fields = at(t, "/a").fields;
    ASSERT_EQ(fields.size(), 3u);
    EXPECT_EQ(field(t, "/a", "f1"), (DiffFieldCounts{2, 0}));
    EXPECT_EQ(field(t, "/a", "f2"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(field(t, "/a", "other"), (DiffFieldCounts{1, 1}));
    EXPECT_EQ(fields.count("f3"), 0u);
    // The cap is per route.
    t.record_candidate("/b", Fields{"f3", "f4"});
    EXPECT_EQ(field(t, "/b", "f3"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(field(t, "/b", "f4"), (DiffFieldCounts{1, 0}));
}

TEST(DiffTable, TheDefaultFieldCapIs64) {
    DiffTable t;
    Fields many;
    for (int i = 0; i < 100; ++i)
        many.push_back("$.f" + std::to_string(i));
    t.record_candidate("/a", many);
    EXPECT_EQ(at(t, "/a").fields.size(), 65u);
    EXPECT_EQ(field(t, "/a", "other"), (DiffFieldCounts{1, 0}));
}

TEST(DiffTable, MergeAddsUp) {
    DiffTable total, w1, w2;
    w1.record_candidate("/a", Fields{"status"});
    w1.record_candidate("/a", Fields{});
    w1.record_secondary("/a", Fields{"status"});
    w2.record_candidate("/a", Fields{"status", "body"});
    w2.record_skipped("/a");
    w2.record_candidate("/b", Fields{});
    total.merge(w1);
    total.merge(w2);
    const DiffRouteCounts& a = at(total, "/a");
    EXPECT_EQ(a.compared, 3u);
    EXPECT_EQ(a.equal, 1u);
    EXPECT_EQ(a.skipped, 1u);
    EXPECT_EQ(a.secondary_compared, 1u);
    EXPECT_EQ(field(total, "/a", "status"), (DiffFieldCounts{2, 1}));
    EXPECT_EQ(field(total, "/a", "body"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(at(total, "/b").equal, 1u);
    // Merging leaves the sources alone.
    EXPECT_EQ(at(w1, "/a").compared, 2u);
}

TEST(DiffTable, MergeAppliesTheTargetsCaps) {
    DiffTable total(1, 1), worker;
    worker.record_candidate("/a", Fields{"f1", "f2"});
    worker.record_candidate("/b", Fields{"f1"});
    worker.record_candidate("other", Fields{"f9"});  // another table's overflow
    total.merge(worker);
    EXPECT_EQ(route_names(total), (std::vector<std::string>{"/a", "other"}));
    EXPECT_EQ(field(total, "/a", "f1"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(field(total, "/a", "other"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(at(total, "other").compared, 2u);
    EXPECT_EQ(field(total, "other", "f1"), (DiffFieldCounts{1, 0}));
    EXPECT_EQ(field(total, "other", "other"), (DiffFieldCounts{1, 0}));
}

TEST(DiffTable, ResetForgetsCountsButKeepsCaps) {
    DiffTable t(1, 3);
    t.record_candidate("/a", Fields{"status"});
    t.reset();
    EXPECT_TRUE(t.routes().empty());
    EXPECT_EQ(t.max_routes(), 1u);
    EXPECT_EQ(t.max_fields(), 3u);
    t.record_candidate("/b", Fields{});
    t.record_candidate("/c", Fields{});
    EXPECT_EQ(route_names(t), (std::vector<std::string>{"/b", "other"}));
}

TEST(DiffNoise, NothingIsNoiseWithoutSecondaryDifferences) {
    EXPECT_FALSE(is_noise(5, 100, 0, 0));
    EXPECT_FALSE(is_noise(5, 100, 0, 100));  // the secondary never differs there
    EXPECT_FALSE(is_noise(0, 100, 0, 100));
    EXPECT_FALSE(is_noise(1, 1000000, 0, 1000000));
}

TEST(DiffNoise, AtOrBelowTheNoiseRateIsNoise) {
    EXPECT_TRUE(is_noise(10, 100, 10, 100));
    EXPECT_TRUE(is_noise(5, 100, 10, 100));
    EXPECT_TRUE(is_noise(0, 100, 10, 100));
    EXPECT_TRUE(is_noise(0, 0, 1, 10));  // nothing compared yet: rc = 0
    EXPECT_TRUE(is_noise(100, 100, 100, 100));
}

TEST(DiffNoise, RelativeThresholdBorder) {
    // rs = 50 %: the relative margin (20 % of rs = 10 points) is the wider.
    EXPECT_TRUE(is_noise(60, 100, 50, 100));   // excess 10 points = 20 % of rs
    EXPECT_FALSE(is_noise(61, 100, 50, 100));  // 11 points: over both
    EXPECT_TRUE(is_noise(600, 1000, 25, 50));
    EXPECT_FALSE(is_noise(601, 1000, 25, 50));
}

TEST(DiffNoise, AbsoluteThresholdBorder) {
    // rs = 5 %: the absolute margin (3 points) is the wider.
    EXPECT_TRUE(is_noise(8, 100, 5, 100));   // excess exactly 3 points
    EXPECT_FALSE(is_noise(9, 100, 5, 100));  // 4 points: over both
    // Different sample sizes: rs = 20/200 = 10 %, rc = 13.0 % vs 13.1 %.
    EXPECT_TRUE(is_noise(130, 1000, 20, 200));
    EXPECT_FALSE(is_noise(131, 1000, 20, 200));
}

TEST(DiffNoise, BothThresholdsMustBeExceeded) {
    // 4 points over 50 %: beyond 3 points but within 20 % of rs.
    EXPECT_TRUE(is_noise(54, 100, 50, 100));
    // 2 points over 1 %: 200 % relative but within 3 points.
    EXPECT_TRUE(is_noise(3, 100, 1, 100));
    EXPECT_FALSE(is_noise(5, 100, 1, 100));
}

TEST(DiffNoise, CustomThresholds) {
    const NoiseThresholds strict{0, 0};
    EXPECT_TRUE(is_noise(10, 100, 10, 100, strict));
    EXPECT_FALSE(is_noise(11, 100, 10, 100, strict));
    const NoiseThresholds loose{10000, 5000};  // 100 %, 50 points
    EXPECT_TRUE(is_noise(20, 100, 10, 100, loose));
    EXPECT_TRUE(is_noise(51, 100, 1, 100, loose));
    EXPECT_FALSE(is_noise(52, 100, 1, 100, loose));
}

TEST(DiffNoise, LargeCountsAreExact) {
    const std::uint64_t n = std::uint64_t{1} << 40;
    EXPECT_TRUE(is_noise(n / 2, n, n / 4, n / 2));
    // rs = 50 %, rc = 60 % exactly: the relative border.
    EXPECT_TRUE(is_noise(6 * n, 10 * n, n / 2, n));
    EXPECT_FALSE(is_noise(6 * n + 1, 10 * n, n / 2, n));
}

TEST(DiffReport, RoutesAndFieldsByNameWithRatesAndVerdict) {
    DiffTable t;
    for (int i = 0; i < 10; ++i)
        t.record_candidate("/b", i < 3 ? Fields{"$.price", "header:x-a"} : Fields{});
    for (int i = 0; i < 20; ++i)
        t.record_secondary("/b", i < 5 ? Fields{"header:x-a", "$.ts"} : Fields{});
    t.record_skipped("/b");
    t.record_candidate("/a", Fields{"status"});

    const std::vector<DiffRouteReport> report = diff_report(t);
    ASSERT_EQ(report.size(), 2u);
    EXPECT_EQ(report[0].route, "/a");
    EXPECT_EQ(report[0].compared, 1u);
    EXPECT_EQ(report[0].equal, 0u);
    EXPECT_EQ(report[0].differing_fields, 1u);
    ASSERT_EQ(report[0].fields.size(), 1u);
    EXPECT_EQ(report[0].fields[0], (DiffFieldReport{"status", 1, 0, 1.0, 0.0, false}));

    const DiffRouteReport& b = report[1];
    EXPECT_EQ(b.route, "/b");
    EXPECT_EQ(b.compared, 10u);
    EXPECT_EQ(b.equal, 7u);
    EXPECT_EQ(b.skipped, 1u);
    EXPECT_EQ(b.secondary_compared, 20u);
    ASSERT_EQ(b.fields.size(), 3u);
    // $.price: 30 % against no noise. $.ts: only the secondary differs.
    // header:x-a: 30 % against 25 %: 5 points, exactly 20 % of 25 %: noise.
    EXPECT_EQ(b.fields[0], (DiffFieldReport{"$.price", 3, 0, 0.3, 0.0, false}));
    EXPECT_EQ(b.fields[1], (DiffFieldReport{"$.ts", 0, 5, 0.0, 0.25, true}));
    EXPECT_EQ(b.fields[2], (DiffFieldReport{"header:x-a", 3, 5, 0.3, 0.25, true}));
    EXPECT_EQ(b.differing_fields, 1u);

    EXPECT_EQ(diff_report(t, NoiseThresholds{0, 0})[1].differing_fields, 2u);
}

TEST(DiffReport, EmptyTable) {
    EXPECT_TRUE(diff_report(DiffTable{}).empty());
}

}  // namespace
}  // namespace switchyard

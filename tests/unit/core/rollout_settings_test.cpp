#include "switchyard/core/rollout_settings.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(RolloutSettingsTest, DefaultsAreTheDocumentedOnes) {
    const RampSettings s;
    EXPECT_EQ(s.steps_bp, (std::vector<std::uint32_t>{100, 500, 2500, 5000, 10000}));
    EXPECT_EQ(s.bake, std::chrono::seconds(60));
    EXPECT_EQ(s.promote, PromoteMode::automatic);
    EXPECT_EQ(s.interval, std::chrono::seconds(1));
    EXPECT_EQ(s.failure_limit, 2u);
    EXPECT_EQ(s.max_hold, std::chrono::minutes(10));
    EXPECT_EQ(s.on_no_data, OnNoData::pause);
    EXPECT_FALSE(s.gate);
    EXPECT_EQ(s.analysis, CanaryAnalysisSettings{});
}

TEST(RolloutSettingsTest, NamesRoundTrip) {
    for (PromoteMode m : {PromoteMode::automatic, PromoteMode::manual})
        EXPECT_EQ(parse_promote_mode(to_string(m)), m);
    for (OnNoData a : {OnNoData::pause, OnNoData::abort, OnNoData::advance})
        EXPECT_EQ(parse_on_no_data(to_string(a)), a);
    EXPECT_EQ(to_string(PromoteMode::automatic), "auto");
    EXPECT_EQ(parse_promote_mode("automatic"), std::nullopt);
    EXPECT_EQ(parse_promote_mode("Auto"), std::nullopt);
    EXPECT_EQ(parse_on_no_data(""), std::nullopt);
    EXPECT_EQ(parse_on_no_data("skip"), std::nullopt);
}

}  // namespace
}  // namespace switchyard

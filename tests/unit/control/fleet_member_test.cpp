// The member report of a fleet: its JSON both ways, the applied count and
// the fleet's config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "switchyard/control/fleet_member.hpp"

namespace switchyard::control {
namespace {

using ::testing::ElementsAre;

MemberReport sample() {
    MemberReport r;
    r.member = "lb-1";
    r.generation = 7;
    r.version = "0.9.0";
    r.pid = 4242;
    r.config = "9c1d0e5a3b7f2e41";
    r.cluster = "synced";
    r.updated_ms = 1700000000000;
    r.pools = {{"blue", 3, 2, 2}, {"green", 0, 1, 2}};
    return r;
}

TEST(FleetMember, JsonIsExactAndReadsBack) {
    const std::string text = to_json(sample());
    EXPECT_EQ(text, R"({"member":"lb-1","generation":7,"version":"0.9.0","pid":4242,)"
                    R"("config":"9c1d0e5a3b7f2e41","cluster":"synced","updated_ms":1700000000000,)"
                    R"("pools":[{"name":"blue","inflight":3,"healthy":2,"servers":2},)"
                    R"({"name":"green","inflight":0,"healthy":1,"servers":2}]})");
    std::string error;
    const auto back = parse_member_report(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, sample());
}

TEST(FleetMember, TheRampCountsGoAlong) {
    MemberReport r = sample();
    MemberRampReport ramp;
    ramp.pool = "green";
    ramp.step = 2;
    ramp.step_start_ms = 1700000000123;
    ramp.counts.pools["green"].record(RequestOutcome::ok, 1500);
    ramp.counts.pools["green"].record(RequestOutcome::error, 90000);
    ramp.counts.pools["blue"].record(RequestOutcome::ok, 700);
    r.ramp = ramp;
    const std::string text = to_json(r);
    EXPECT_NE(text.find(R"("ramp":{"pool":"green","step":2,"step_start_ms":1700000000123,)"
                        R"("counts":{"pools":{"blue":{"requests":1,"errors":0,)"),
              std::string::npos)
        << text;
    std::string error;
    const auto back = parse_member_report(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, r);
    EXPECT_FALSE(parse_member_report(R"({"member":"a","ramp":[]})", error));
    EXPECT_EQ(error, "\"ramp\" must be an object");
}

TEST(FleetMember, UnknownKeysAreIgnoredWrongTypesAreNot) {
    std::string error;
    EXPECT_TRUE(parse_member_report(R"({"member":"a","later":1})", error));
    const std::pair<std::string_view, std::string_view> bad[] = {
        {"[]", "not a JSON object"},
        {"{", "not a JSON object"},
        {R"({"generation":1})", "\"member\" is missing"},
        {R"({"member":"a","generation":-1})", "\"generation\" must be a non-negative integer"},
        {R"({"member":"a","generation":"1"})", "\"generation\" must be a non-negative integer"},
        {R"({"member":5})", "\"member\" must be a string"},
        {R"({"member":"a","pools":{}})", "\"pools\" must be an array"},
        {R"({"member":"a","pools":[1]})", "\"pools\" must hold objects"},
        {R"({"member":"a","pools":[{"inflight":true}]})",
         "\"inflight\" must be a non-negative integer"},
    };
    for (const auto& [text, why] : bad) {
        error.clear();
        EXPECT_FALSE(parse_member_report(text, error)) << text;
        EXPECT_EQ(error, why) << text;
    }
}

TEST(FleetMember, CountAppliedNamesTheMembersBehind) {
    std::vector<MemberReport> members(3, sample());
    members[1].member = "lb-2";
    members[1].generation = 6;
    members[2].member = "lb-3";
    members[2].generation = 8;
    const FleetCount c = count_applied(members, 7);
    EXPECT_EQ(c.applied, 2u);
    EXPECT_EQ(c.members, 3u);
    EXPECT_THAT(c.behind, ElementsAre("lb-2"));
    EXPECT_EQ(count_applied({}, 1).members, 0u);
}

TEST(FleetMember, TheFleetConfigIsTheMajorityAndTiesPickTheSmallest) {
    std::vector<MemberReport> members(3, sample());
    members[1].config = "0000000000000001";
    EXPECT_EQ(fleet_config(members), "9c1d0e5a3b7f2e41");
    members.pop_back();
    EXPECT_EQ(fleet_config(members), "0000000000000001");
    EXPECT_EQ(fleet_config({}), "");
}

}  // namespace
}  // namespace switchyard::control

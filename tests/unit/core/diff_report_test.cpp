#include "switchyard/core/diff_report.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

using Fields = std::vector<std::string>;

TEST(DiffReportJson, EmptyTable) {
    EXPECT_EQ(diff_report_json(DiffTable(100)),
              R"({"relative_threshold":0.2000,"absolute_threshold":0.0300,"max_routes":100,)"
              R"("other_routes":false,"routes":[]})");
}

TEST(DiffReportJson, RoutesFieldsRatesAndNoise) {
    DiffTable t(100);
    for (int i = 0; i < 8; ++i)
        t.record_candidate("/api/users", i < 2 ? Fields{"$.price", "header:date"} : Fields{});
    for (int i = 0; i < 4; ++i)
        t.record_secondary("/api/users", i < 1 ? Fields{"header:date"} : Fields{});
    t.record_skipped("/api/users");
    t.record_candidate("/", Fields{"body"});

    EXPECT_EQ(diff_report_json(t),
              R"({"relative_threshold":0.2000,"absolute_threshold":0.0300,"max_routes":100,)"
              R"("other_routes":false,"routes":[)"
              R"({"route":"/","compared":1,"equal":0,"skipped":0,"secondary_compared":0,)"
              R"("differing_fields":1,"fields":[)"
              R"({"field":"body","differing":1,"rate":1.000000,"noise_differing":0,)"
              R"("noise_rate":0.000000,"noise":false}]},)"
              R"({"route":"/api/users","compared":8,"equal":6,"skipped":1,)"
              R"("secondary_compared":4,"differing_fields":1,"fields":[)"
              R"({"field":"$.price","differing":2,"rate":0.250000,"noise_differing":0,)"
              R"("noise_rate":0.000000,"noise":false},)"
              R"({"field":"header:date","differing":2,"rate":0.250000,"noise_differing":1,)"
              R"("noise_rate":0.250000,"noise":true}]}]})");
}

TEST(DiffReportJson, OtherRoutesAndCustomThresholds) {
    DiffTable t(1);
    t.record_candidate("/a", Fields{});
    t.record_candidate("/b\"", Fields{"$[\"k\"]"});
    EXPECT_EQ(diff_report_json(t, NoiseThresholds{1250, 5}),
              R"({"relative_threshold":0.1250,"absolute_threshold":0.0005,"max_routes":1,)"
              R"("other_routes":true,"routes":[)"
              R"({"route":"/a","compared":1,"equal":1,"skipped":0,"secondary_compared":0,)"
              R"("differing_fields":0,"fields":[]},)"
              R"({"route":"other","compared":1,"equal":0,"skipped":0,"secondary_compared":0,)"
              R"("differing_fields":1,"fields":[)"
              R"({"field":"$[\"k\"]","differing":1,"rate":1.000000,"noise_differing":0,)"
              R"("noise_rate":0.000000,"noise":false}]}]})");
}

TEST(DiffReportJson, MembersGoIntoTheCallersObject) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("enabled").boolean(true);
    write_diff_report_members(w, DiffTable(3), NoiseThresholds{0, 0});
    w.end_object();
    EXPECT_EQ(out, R"({"enabled":true,"relative_threshold":0.0000,"absolute_threshold":0.0000,)"
                   R"("max_routes":3,"other_routes":false,"routes":[]})");
}

}  // namespace
}  // namespace switchyard

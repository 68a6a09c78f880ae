#include "switchyard/core/diff_report.hpp"

#include <vector>

namespace switchyard {
namespace {

constexpr int kRateDecimals = 6;

void write_field(JsonWriter& w, const DiffFieldReport& f) {
    w.begin_object();
    w.key("field").string(f.field);
    w.key("differing").number(f.differing);
    w.key("rate").number_fixed(f.rate, kRateDecimals);
    w.key("noise_differing").number(f.noise_differing);
    w.key("noise_rate").number_fixed(f.noise_rate, kRateDecimals);
    w.key("noise").boolean(f.noise);
    w.end_object();
}

void write_route(JsonWriter& w, const DiffRouteReport& r) {
    w.begin_object();
    w.key("route").string(r.route);
    w.key("compared").number(r.compared);
    w.key("equal").number(r.equal);
    w.key("skipped").number(r.skipped);
    w.key("secondary_compared").number(r.secondary_compared);
    w.key("differing_fields").number(r.differing_fields);
    w.key("fields").begin_array();
    for (const DiffFieldReport& f : r.fields)
        write_field(w, f);
    w.end_array();
    w.end_object();
}

}  // namespace

void write_diff_report_members(JsonWriter& w, const DiffTable& table,
                               const NoiseThresholds& thresholds) {
    w.key("relative_threshold").number_fixed(thresholds.relative_bp / 10000.0, 4);
    w.key("absolute_threshold").number_fixed(thresholds.absolute_bp / 10000.0, 4);
    w.key("max_routes").number(table.max_routes());
    w.key("other_routes").boolean(table.routes().contains(kDiffOther));
    w.key("routes").begin_array();
    for (const DiffRouteReport& r : diff_report(table, thresholds))
        write_route(w, r);
    w.end_array();
}

std::string diff_report_json(const DiffTable& table, const NoiseThresholds& thresholds) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    write_diff_report_members(w, table, thresholds);
    w.end_object();
    return out;
}

}  // namespace switchyard

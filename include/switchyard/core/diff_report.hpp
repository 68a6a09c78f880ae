// The JSON of admin GET /diff (and of `switchyardctl diff`, which prints it
// as a table): the per-route comparison counts with the noise rule applied
// (diff_stats.hpp). Pure: standard library only.
//
//   {"relative_threshold":0.2000,"absolute_threshold":0.0300,
//    "max_routes":100,"other_routes":false,
//    "routes":[{"route":"/api/users","compared":10,"equal":7,"skipped":1,
//               "secondary_compared":20,"differing_fields":1,
//               "fields":[{"field":"$.price","differing":3,"rate":0.300000,
//                          "noise_differing":0,"noise_rate":0.000000,
//                          "noise":false}, ...]}, ...]}
//
// Routes and fields by name; "other" is a route like any (other_routes
// says it is there: max_routes was reached) and a field like any. Rates are
// fractions with 6 decimals; differing_fields counts the fields the
// candidate differs on that are not noise (the route's verdict).
#pragma once

#include <string>

#include "switchyard/core/diff_stats.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {

// Writes the members above into an object the caller has opened, so that
// it can add its own (enabled, secondary, ...).
void write_diff_report_members(JsonWriter& w, const DiffTable& table,
                               const NoiseThresholds& thresholds = {});

// The whole object.
std::string diff_report_json(const DiffTable& table, const NoiseThresholds& thresholds = {});

}  // namespace switchyard

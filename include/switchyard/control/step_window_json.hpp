// A ramp step's counts (StepWindow) as JSON: what a hot upgrade hands its
// successor, and what a fleet member reports to the ramp's leader (DESIGN.md
// "Fleet": the leader judges on the fleet's sums).
//
//   {"pools":{"blue":{"requests":N,"errors":N,"latency":{"buckets":[[i,n],...],
//    "sum":N,"min":N,"max":N,"clamped":N}}}}
//
// Only the non-empty buckets are written. The window's id is not: it is
// local to a process.
#pragma once

#include <boost/json/object.hpp>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/traffic_stats.hpp"

namespace switchyard::control {

void write_step_window(JsonWriter& w, const StepWindow& window);

// A pool whose counts do not read is left out (its step counts afresh):
// the counts are worth less than what carries them.
StepWindow step_window_from_json(const boost::json::object& o);

}  // namespace switchyard::control

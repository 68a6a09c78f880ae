// switchyard-load: the summary printed at the end of a run, as text or JSON.
#pragma once

#include <ostream>
#include <string>

#include "load_options.hpp"
#include "loop.hpp"
#include "stats.hpp"

namespace switchyard::load {

struct RunInfo {
    const LoadOptions& options;
    double elapsed_s = 0;
    StopReason stopped_by = StopReason::none;
};

void print_text(const Stats& stats, const RunInfo& run, std::ostream& out);
void print_json(const Stats& stats, const RunInfo& run, std::ostream& out);

}  // namespace switchyard::load

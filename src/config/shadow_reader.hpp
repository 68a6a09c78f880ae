// [shadow] and [shadow.diff] of switchyard.toml (private to src/config):
// DESIGN.md "Dark launch".
#pragma once

#include <toml++/toml.h>

#include "switchyard/core/settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// The `shadow` table of the top level `top`, read after the pools and
// routing (the pool must be configured and must not be routing.active).
// percent 0..100 in 0.001 steps, methods are upper-cased tokens without
// duplicates and safe unless allow_unsafe = true, memory >= max_body,
// diff.ignore_headers are stored lower case, diff.routes are paths whose
// segments may be "*".
void read_shadow(Sink& sink, const TableReader& top, Settings& settings);

}  // namespace switchyard::config::detail

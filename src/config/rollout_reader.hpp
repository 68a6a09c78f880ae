// The [rollout] table and its [[rollout.webhooks]] of switchyard.toml
// (private to src/config): the defaults a `ramp` starts with, its canary
// analysis, gate_url and event webhooks (DESIGN.md, "Progressive delivery").
#pragma once

#include <toml++/toml.h>

#include "switchyard/core/rollout_settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// Limits beyond DESIGN.md's, chosen here (conf/switchyard.toml documents them):
// judging more often than every 100 ms only costs CPU (the counts cannot
// change much in less), and a confidence above 0.9999 asks for samples no
// step gets, so the ramp would only ever hold.
inline constexpr Duration kMinRolloutInterval{100};
inline constexpr double kMaxConfidence = 0.9999;
inline constexpr double kMaxP99Ratio = 1000;
inline constexpr std::int64_t kMaxFailureLimit = 1000;
inline constexpr std::int64_t kMaxMinRequests = 1'000'000'000;

void read_rollout(Sink& sink, const toml::table& t, RolloutSettings& out);

}  // namespace switchyard::config::detail

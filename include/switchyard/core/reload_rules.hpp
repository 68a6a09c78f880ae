// Reload rules: whether a new configuration may replace the running one
// (DESIGN.md "State"), and what of it takes effect only at the next restart.
//
// Pure: no I/O. The control plane calls them after the new file parsed and
// validated, before anything is opened or published; a refusal keeps the
// running configuration whole.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

// Why `next` may not replace `current` while the routing state is `runtime`,
// or nullopt if it may. Refused: a configuration without the active pool, or
// without a canary pool whose weight is above 0 (both take traffic), and a
// changed routing.seed while 0 < canary weight < 100 % (users would move
// between pools), or while a flag or a user-sampled shadow is strictly
// between 0 and 100 % (users would gain or lose it). At 0 or 100 % no
// user's pool, flag or mirroring depends on the seed.
std::optional<std::string> reload_refusal(const Settings& current, const Settings& next,
                                          const RuntimeState& runtime);

// The changes a reload accepts but cannot apply (the log targets and the
// admin listener are opened at start): one sentence each, in a fixed order.
std::vector<std::string> reload_warnings(const Settings& current, const Settings& next);

}  // namespace switchyard

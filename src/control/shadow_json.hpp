// Mirroring (DESIGN.md "Dark launch") as the control plane reports it:
// the audit log's words and the `status` object (private to src/control).
#pragma once

#include <string>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::control::detail {

// "shadow=green:10.000%:diff", "shadow=green:0.500%", "shadow=off".
std::string describe_shadow(const ShadowRuntime& shadow);

}  // namespace switchyard::control::detail

// The routing state in one line, as the audit log writes it (private to
// src/control): "active=green previous=blue canary=blue:0.00% generation=4".
#pragma once

#include <string>

#include "switchyard/core/runtime_state.hpp"

namespace switchyard::control::detail {

// Mirroring is named when it is on, or (with_shadow) also when it is off.
std::string describe(const RuntimeState& s, bool with_shadow = false);

}  // namespace switchyard::control::detail

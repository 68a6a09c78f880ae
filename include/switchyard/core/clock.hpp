// The clock of deadlines, timeouts and durations measured in the process:
// monotonic, so a wall-clock step moves no deadline.
#pragma once

#include <chrono>

namespace switchyard {

using Clock = std::chrono::steady_clock;

}  // namespace switchyard

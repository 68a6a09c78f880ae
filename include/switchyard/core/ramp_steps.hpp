// A ramp's steps: canary weights in basis points (0.01 % resolution),
// parsed from the command and the config, validated and written as a
// person writes them. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// "25.5" for 2550, "1" for 100.
std::string format_step_percent(std::uint64_t bp);

// Weights in basis points: ascending, each in 1..10000, and at least one
// below 10000 (a lone 100 % leaves nothing to judge: that is `switch`).
// nullopt when valid, else the reason ("steps must be ascending: 5 after 25").
std::optional<std::string> validate_ramp_steps(std::span<const std::uint32_t> steps_bp);

struct RampStepsParse {
    std::vector<std::uint32_t> steps_bp;
    std::string error;  // empty on success
};
// The command's "1,5,25.5,100": percentages with at most two decimals
// (0.01 % resolution), then validate_ramp_steps.
RampStepsParse parse_ramp_steps(std::string_view text);
// The config's `steps = [1, 5, 25, 50, 100]`: the same rules for numbers.
RampStepsParse ramp_steps_from_percent(std::span<const double> percent);
// "1, 5, 25.50, 100" (percent) for reasons and status.
std::string format_ramp_steps(std::span<const std::uint32_t> steps_bp);

}  // namespace switchyard

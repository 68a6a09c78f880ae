#include "switchyard/core/ramp_steps.hpp"

#include <charconv>
#include <cmath>

namespace switchyard {
namespace {

constexpr std::uint32_t kFullWeight = 10000;

// "25.5" → 2550: a percentage with at most two decimals, as basis points
// (no upper bound here: the range check says "out of range").
std::optional<std::uint64_t> parse_step_bp(std::string_view text) {
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 6) return std::nullopt;
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
    auto digits = [](std::string_view s) -> std::optional<std::uint64_t> {
        std::uint64_t v = 0;
        for (char ch : s)
            if (ch < '0' || ch > '9') return std::nullopt;
        if (s.empty()) return 0;
        std::from_chars(s.data(), s.data() + s.size(), v);
        return v;
    };
    const auto w = digits(whole);
    const auto f = digits(frac);
    if (!w || !f) return std::nullopt;
    return *w * 100 + (frac.size() == 1 ? *f * 10 : *f);
}

std::string out_of_range(std::string_view step) {
    return "step " + std::string(step) + " is out of range (0, 100]";
}

RampStepsParse steps_error(std::string error) {
    RampStepsParse p;
    p.error = std::move(error);
    return p;
}

RampStepsParse validated(std::vector<std::uint32_t> steps) {
    if (auto error = validate_ramp_steps(steps)) return steps_error(*error);
    RampStepsParse p;
    p.steps_bp = std::move(steps);
    return p;
}

}  // namespace

std::string format_step_percent(std::uint64_t bp) {
    std::string out = std::to_string(bp / 100);
    const std::uint64_t cents = bp % 100;
    if (cents == 0) return out;
    out += '.';
    out += static_cast<char>('0' + cents / 10);
    if (cents % 10 != 0) out += static_cast<char>('0' + cents % 10);
    return out;
}

std::optional<std::string> validate_ramp_steps(std::span<const std::uint32_t> steps_bp) {
    if (steps_bp.empty()) return "steps must not be empty";
    for (std::size_t i = 0; i < steps_bp.size(); ++i) {
        if (steps_bp[i] == 0 || steps_bp[i] > kFullWeight)
            return out_of_range(format_step_percent(steps_bp[i]));
        if (i > 0 && steps_bp[i] <= steps_bp[i - 1])
            return "steps must be ascending: " + format_step_percent(steps_bp[i]) + " after " +
                   format_step_percent(steps_bp[i - 1]);
    }
    if (steps_bp.front() == kFullWeight)
        return std::string(
            "steps need one below 100 (a step of 100 is the promotion; to promote at once, use "
            "switch)");
    return std::nullopt;
}

RampStepsParse parse_ramp_steps(std::string_view text) {
    std::vector<std::uint32_t> steps;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string_view token = text.substr(start, comma - start);
        if (token.empty())
            return steps_error("steps: an empty step in '" + std::string(text) + "'");
        const auto bp = parse_step_bp(token);
        if (!bp)
            return steps_error("step '" + std::string(token) +
                               "' is not a percentage with at most two decimals (0.01 % "
                               "resolution)");
        if (*bp == 0 || *bp > kFullWeight) return steps_error(out_of_range(token));
        steps.push_back(static_cast<std::uint32_t>(*bp));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return validated(std::move(steps));
}

RampStepsParse ramp_steps_from_percent(std::span<const double> percent) {
    std::vector<std::uint32_t> steps;
    for (double p : percent) {
        if (!(p > 0 && p <= 100)) return steps_error(out_of_range(std::to_string(p)));
        const double bp = std::round(p * 100);
        if (std::abs(p * 100 - bp) > 1e-6)
            return steps_error("step " + std::to_string(p) +
                               " has more than two decimals (0.01 % resolution)");
        steps.push_back(static_cast<std::uint32_t>(bp));
    }
    return validated(std::move(steps));
}

std::string format_ramp_steps(std::span<const std::uint32_t> steps_bp) {
    std::string out;
    for (std::uint32_t bp : steps_bp) {
        if (!out.empty()) out += ", ";
        out += format_step_percent(bp);
    }
    return out + " %";
}

}  // namespace switchyard

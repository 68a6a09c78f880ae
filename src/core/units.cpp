#include "switchyard/core/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace switchyard {
namespace {

// Splits "123abc" into 123 and "abc". nullopt without leading digits or when
// the number overflows uint64 (from_chars rejects signs and spaces for us).
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc{} || end != text.data() + digits) return std::nullopt;
    return std::pair{value, text.substr(digits)};
}

struct Unit {
    std::string_view suffix;
    std::uint64_t factor;
};

// Largest first, so that formatting picks the coarsest exact unit.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::array<Unit, 5> kSizeUnits{{
    {"TiB", 1ULL << 40},
    {"GiB", 1ULL << 30},
    {"MiB", 1ULL << 20},
    {"KiB", 1ULL << 10},
    {"B", 1},
}};

template <std::size_t N>
std::optional<std::uint64_t> scale(std::uint64_t value, std::string_view suffix,
                                   const std::array<Unit, N>& units, std::uint64_t max) {
    for (const auto& unit : units) {
        if (unit.suffix != suffix) continue;
        if (value > max / unit.factor) return std::nullopt;
        return value * unit.factor;
    }
    return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    auto parsed = split_number(text);
    if (!parsed) return std::nullopt;
    auto [value, suffix] = *parsed;
    // A unitless number is ambiguous (seconds? milliseconds?) except zero.
    if (suffix.empty()) return value == 0 ? std::optional<Duration>{Duration{0}} : std::nullopt;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
    auto ms = scale(value, suffix, kDurationUnits, max);
    if (!ms) return std::nullopt;
    return Duration{static_cast<Duration::rep>(*ms)};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    auto parsed = split_number(text);
    if (!parsed) return std::nullopt;
    auto [value, suffix] = *parsed;
    if (suffix.empty()) return value;
    return scale(value, suffix, kSizeUnits, std::numeric_limits<std::uint64_t>::max());
}

std::optional<std::uint64_t> parse_rate(std::string_view text) {
    if (text == "0") return 0;
    if (!text.ends_with("/s")) return std::nullopt;
    return parse_size(text.substr(0, text.size() - 2));
}

std::string format_duration(Duration d) {
    auto ms = d.count();
    if (ms == 0) return "0s";
    std::string sign;
    // Magnitude as unsigned so that the minimum value does not overflow.
    std::uint64_t magnitude = static_cast<std::uint64_t>(ms);
    if (ms < 0) {
        sign = "-";
        magnitude = 0 - magnitude;
    }
    for (const auto& unit : kDurationUnits) {
        if (magnitude % unit.factor == 0)
            return sign + std::to_string(magnitude / unit.factor) + std::string(unit.suffix);
    }
    return sign + std::to_string(magnitude) + "ms";  // unreachable: ms divides everything
}

std::string format_size(std::uint64_t bytes) {
    if (bytes == 0) return "0";
    for (const auto& unit : kSizeUnits) {
        if (bytes % unit.factor == 0)
            return std::to_string(bytes / unit.factor) + std::string(unit.suffix);
    }
    return std::to_string(bytes) + "B";  // unreachable: B divides everything
}

}  // namespace switchyard

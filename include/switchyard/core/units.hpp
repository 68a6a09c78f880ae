// Durations and sizes as written in switchyard.toml ("30s", "64KiB").
//
// Pure parsers with no locale and no exceptions: strict, so that a typo in a
// config never silently becomes a different value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/settings.hpp"

namespace switchyard {

// "<integer><unit>" with unit ms, s, m, h or d ("250ms", "30s", "5m", "1h",
// "30d"); a bare "0" is zero. No sign, spaces, fractions or compound forms
// ("1h30m"); nullopt also when the value does not fit in Duration.
std::optional<Duration> parse_duration(std::string_view text);

// "<integer>[unit]" with unit B, KiB, MiB, GiB or TiB (powers of 1024); a bare
// integer is bytes. No sign, spaces or fractions; nullopt on overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);

// A data rate: "<size>/s" ("1KiB/s", "500B/s", "1024/s") in bytes per
// second; a bare "0" is zero (off). nullopt for anything else.
std::optional<std::uint64_t> parse_rate(std::string_view text);

// The largest unit that divides the value exactly: 30000ms -> "30s",
// 90000ms -> "90s", 250ms -> "250ms", 0 -> "0s". parse_duration reads it back.
std::string format_duration(Duration d);

// The largest binary unit that divides the value exactly: 65536 -> "64KiB",
// 1536 -> "1536B", 0 -> "0". parse_size reads it back.
std::string format_size(std::uint64_t bytes);

}  // namespace switchyard

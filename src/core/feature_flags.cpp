#include "switchyard/core/feature_flags.hpp"

#include <algorithm>

#include "keyed_hash.hpp"

namespace switchyard {

std::uint32_t flag_bucket(std::string_view flag, std::string_view key, std::uint64_t seed) {
    return static_cast<std::uint32_t>(detail::xxh64_joined({"flag/", flag, "/", key}, seed) %
                                      kFlagBuckets);
}

bool valid_flag_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

std::string format_flag_percent(std::uint32_t percent_milli) {
    std::string out = std::to_string(percent_milli / 1000) + ".";
    const std::string frac = std::to_string(percent_milli % 1000);
    out.append(3 - frac.size(), '0');
    out += frac;
    return out;
}

std::optional<std::uint32_t> parse_flag_percent(std::string_view text) {
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    const auto digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || whole.size() > 3 || !digits(whole)) return std::nullopt;
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 3 || !digits(frac)))
        return std::nullopt;
    std::uint32_t milli = 0;
    for (char c : whole)
        milli = milli * 10 + static_cast<std::uint32_t>(c - '0');
    milli *= 1000;
    std::uint32_t scale = 100;
    for (char c : frac) {
        milli += static_cast<std::uint32_t>(c - '0') * scale;
        scale /= 10;
    }
    if (milli > kFlagBuckets) return std::nullopt;
    return milli;
}

std::uint64_t flags_for(const RoutingState& state, std::string_view key, int pool) {
    if (key.empty()) return 0;
    std::uint64_t on = 0;
    const std::size_t n = std::min(state.flags.size(), kMaxFlags);
    for (std::size_t i = 0; i < n; ++i) {
        const FlagState& f = state.flags[i];
        if (f.percent_milli == 0) continue;
        if (!f.pools.empty() && std::find(f.pools.begin(), f.pools.end(), pool) == f.pools.end())
            continue;
        if (f.percent_milli >= kFlagBuckets ||
            flag_bucket(f.name, key, state.seed) < f.percent_milli)
            on |= std::uint64_t{1} << i;
    }
    return on;
}

void append_flag_fields(const RoutingState& state, std::uint64_t flags, int pool,
                        std::uint32_t bucket, std::string& out) {
    if (flags != 0 && !state.flags_header.empty()) {
        out += state.flags_header;
        out += ": ";
        bool first = true;
        for (std::size_t i = 0; i < state.flags.size() && i < kMaxFlags; ++i) {
            if ((flags >> i & 1) == 0) continue;
            if (!first) out += ',';
            out += state.flags[i].name;
            first = false;
        }
        out += "\r\n";
    }
    if (!state.context_header.empty() && pool >= 0 &&
        static_cast<std::size_t>(pool) < state.pools.size()) {
        out += state.context_header;
        out += ": pool=";
        out += state.pools[static_cast<std::size_t>(pool)].name;
        out += "; bucket=";
        out += std::to_string(bucket);
        out += "\r\n";
    }
}

}  // namespace switchyard

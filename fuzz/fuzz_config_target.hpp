// The config fuzz target as a plain function of the input bytes, shared by
// fuzz/fuzz_config.cpp and tests/unit/config/fuzz_regression_test.cpp (kept
// apart from fuzz_targets.hpp because it needs the sy_config library).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "switchyard/config/config_loader.hpp"

namespace switchyard::fuzz {

// config::load_string on the input as TOML: never crashes, is deterministic,
// and either yields Settings that keep the config's promises with no error
// diagnostic, or no Settings and at least one error, each placed inside the
// text or unplaced.
inline void check_config(std::string_view input) {
    constexpr std::string_view name = "fuzz.toml";
    const config::LoadResult result = config::load_string(input, name);
    SY_FUZZ_CHECK(result.ok() == result.settings.has_value());
    SY_FUZZ_CHECK(result.error_count() + result.warning_count() == result.diagnostics.size());
    const auto lines = static_cast<int>(std::count(input.begin(), input.end(), '\n')) + 1;
    for (const auto& d : result.diagnostics) {
        SY_FUZZ_CHECK(d.file == name);
        SY_FUZZ_CHECK(!d.message.empty());
        SY_FUZZ_CHECK(d.line >= 0 && d.line <= lines);
        SY_FUZZ_CHECK(d.column >= 0);
        if (d.line == 0) SY_FUZZ_CHECK(d.column == 0);
        SY_FUZZ_CHECK(d.to_string().starts_with(name));
    }
    if (result.ok()) {
        SY_FUZZ_CHECK(result.error_count() == 0);
        const Settings& s = *result.settings;
        SY_FUZZ_CHECK(s.source_path == name);
        SY_FUZZ_CHECK(!s.listeners.empty());
        SY_FUZZ_CHECK(!s.pools.empty());
        for (const auto& p : s.pools) {
            SY_FUZZ_CHECK(!p.servers.empty());
            SY_FUZZ_CHECK(s.find_pool(p.name) == &p);  // names are unique
        }
        SY_FUZZ_CHECK(s.find_pool(s.routing.active) != nullptr);
        SY_FUZZ_CHECK(s.routing.canary_weight_percent >= 0 &&
                      s.routing.canary_weight_percent <= 100);
        if (!s.routing.canary_pool.empty()) {
            SY_FUZZ_CHECK(s.find_pool(s.routing.canary_pool) != nullptr);
            SY_FUZZ_CHECK(s.routing.canary_pool != s.routing.active);
        }
        if (s.routing.canary_weight_percent > 0) SY_FUZZ_CHECK(!s.routing.canary_pool.empty());
        // [shadow]: a pool that exists and is not the active one, a percent
        // in range, methods that are safe unless allowed, a body that fits.
        const ShadowSettings& shadow = s.shadow;
        if (!shadow.pool.empty()) {
            SY_FUZZ_CHECK(s.find_pool(shadow.pool) != nullptr);
            SY_FUZZ_CHECK(shadow.pool != s.routing.active);
        }
        SY_FUZZ_CHECK(shadow.percent_milli <= 100000);
        if (shadow.percent_milli > 0) SY_FUZZ_CHECK(!shadow.pool.empty());
        SY_FUZZ_CHECK(!shadow.methods.empty());
        for (const auto& m : shadow.methods)
            SY_FUZZ_CHECK(shadow.allow_unsafe || m == "GET" || m == "HEAD" || m == "OPTIONS" ||
                          m == "TRACE");
        SY_FUZZ_CHECK(shadow.memory >= shadow.max_body);
        SY_FUZZ_CHECK(shadow.timeout > Duration{0} && shadow.max_inflight >= 1);
        SY_FUZZ_CHECK(shadow.diff.max_routes >= 1 && shadow.diff.max_routes <= 10000);
        SY_FUZZ_CHECK(shadow.diff.routes.size() <= shadow.diff.max_routes);
        for (const auto& route : shadow.diff.routes)
            SY_FUZZ_CHECK(route.starts_with("/"));
        SY_FUZZ_CHECK(config::summary(s).starts_with("config ok: "));
    } else {
        SY_FUZZ_CHECK(result.error_count() > 0);
    }
    // Same text, same answer.
    const config::LoadResult again = config::load_string(input, name);
    SY_FUZZ_CHECK(again.ok() == result.ok());
    SY_FUZZ_CHECK(again.diagnostics == result.diagnostics);
}

}  // namespace switchyard::fuzz

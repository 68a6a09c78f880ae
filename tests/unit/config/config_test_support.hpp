// What the config tests share: the smallest valid file, loading it with
// more lines appended, and diagnostics in their one-line form.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/config/config_loader.hpp"

namespace switchyard::config::test {

// The smallest valid file (four lines: what a test appends starts on line
// 5): everything else takes its default.
inline constexpr std::string_view kMinimal = R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "127.0.0.1:9001" }]
)toml";

inline LoadResult load(std::string_view text) {
    return load_string(text, "t.toml");
}

// kMinimal plus `extra` appended (after [pools.blue], so pool keys go there).
inline LoadResult load_with(std::string_view extra) {
    return load(std::string(kMinimal) + std::string(extra));
}

// Diagnostics as their one-line form, which carries position, severity,
// key path and message: comparing those checks all of them at once.
inline std::vector<std::string> lines(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics)
        out.push_back(d.to_string());
    return out;
}

}  // namespace switchyard::config::test

// Loads switchyard.toml into validated Settings.
//
// The config layer is the only place that sees toml++; callers get plain
// Settings or a list of diagnostics with file:line:column, never exceptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard::config {

struct Diagnostic {
    enum class Severity { error, warning };

    Severity severity = Severity::error;
    std::string file;
    int line = 0;  // 1-based; 0 when the problem has no single place (e.g. a missing section)
    int column = 0;
    std::string key_path;  // e.g. "pools.blue.servers[0].address"; empty for syntax errors
    std::string message;

    // "file:line:column: error: key_path: message"; without ":line:column"
    // when line is 0 and without "key_path: " when the path is empty.
    std::string to_string() const;
    bool operator==(const Diagnostic&) const = default;
};

struct LoadResult {
    std::optional<Settings> settings;     // set only when there is no error
    std::vector<Diagnostic> diagnostics;  // errors and warnings in file order; unplaced ones last

    bool ok() const { return settings.has_value(); }
    std::size_t error_count() const;
    std::size_t warning_count() const;
};

// Reads and validates the file; Settings::source_path is `path`.
LoadResult load_file(const std::string& path);

// cluster.password_file's password: the file's text without trailing line
// ends. Empty, with `error` set, when it cannot be read or holds nothing.
std::string read_password_file(const std::string& path, std::string& error);

// Validates TOML text; `source_name` names it in diagnostics and becomes
// Settings::source_path.
LoadResult load_string(std::string_view toml_text, std::string_view source_name);

// One line for --check and the start-up log: "config ok: 2 listeners, 2 pools
// (blue: 1 server, green: 1 server), active blue, 2 workers".
std::string summary(const Settings& settings);

}  // namespace switchyard::config

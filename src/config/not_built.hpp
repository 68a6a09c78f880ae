// Keys that DESIGN.md specifies but whose feature is not built yet (private
// to src/config). --check accepts them, checks their types, and warns that
// the feature is not built yet; a key that is neither built nor listed here
// is an unknown-key error.
#pragma once

#include <toml++/toml.h>

#include <string_view>
#include <vector>

#include "toml_reader.hpp"

namespace switchyard::config::detail {

// True when `path` ("listeners[1].tls") matches `pattern` ("listeners[*].tls");
// '*' stands for one pool name or array index.
bool path_matches(std::string_view pattern, std::string_view path);

// True when the key at `path` ("rollout", "listeners[0].protocols") is a
// not-built key or section: the reader of its table leaves it to
// warn_not_built.
bool is_not_built(std::string_view path);

// The not-built keys of the table at `table_path`, for "did you mean" hints.
std::vector<std::string_view> not_built_keys_of(std::string_view table_path);

// Checks every not-built key or section in the file (unknown keys inside a
// section are errors, values must have the documented type) and warns
// "accepted, but <feature> is not built yet" once per key or section,
// unless an error was reported at or under it.
void warn_not_built(Sink& sink, const toml::table& root);

}  // namespace switchyard::config::detail

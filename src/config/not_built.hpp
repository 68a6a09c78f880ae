// Keys that are valid but whose feature is not built yet (private to src/config).
#pragma once

#include <toml++/toml.h>

#include <string_view>

#include "toml_reader.hpp"

namespace switchyard::config::detail {

// True when `path` ("listeners[1].tls") matches `pattern` ("listeners[*].tls");
// '*' stands for one pool name or array index.
bool path_matches(std::string_view pattern, std::string_view path);

// Adds "accepted, but <feature> is not built yet" for every such key in use,
// except where an error was already reported at or under the key.
void warn_not_built(Sink& sink, const toml::table& root);

}  // namespace switchyard::config::detail

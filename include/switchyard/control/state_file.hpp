// The state file (DESIGN.md, "State"): the RuntimeState as JSON, written
// atomically before a change is published and read back at start.
//
//   {"version":1,"active":"green","previous":"blue",
//    "canary":{"pool":"blue","weight":0.00},"generation":4,
//    "servers":{"blue":{"127.0.0.1:9001":{"state":"draining"}}}}
//
// The canary weight is a percentage with two decimals, as in replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/runtime_state.hpp"

namespace switchyard::control {

// Compact JSON, keys in the order above; "weight" of a server only when it
// overrides the config's.
std::string to_json(const RuntimeState& state);

// Strict: wrong types, unknown keys, unknown admin states, a version other
// than 1, a weight outside 0..100 or with more than two decimals → nullopt and
// `error` says which field.
std::optional<RuntimeState> from_json(std::string_view text, std::string& error);

// Atomic: writes `path.tmp.<pid>` in the same directory, fsyncs it, renames
// it over `path` and fsyncs the directory. The parent directory is created
// (mode 0755) when missing. On failure returns false, sets `error` and leaves
// the old file as it was.
bool save_state_file(const std::string& path, const RuntimeState& state, std::string& error);

enum class LoadStatus { ok, missing, corrupt };

// missing: the file does not exist (the config gives the initial state).
// corrupt: unreadable or invalid; `error` names the file and the reason.
LoadStatus load_state_file(const std::string& path, RuntimeState& out, std::string& error);

// The routing fields that the state file and every mutating reply carry,
// written as members of the object `w` is in:
// "active":"green","previous":null,"canary":{"pool":null,"weight":0.00},"generation":4
void write_routing_fields(JsonWriter& w, const RuntimeState& state);

std::string_view admin_state_name(AdminState state);  // "enabled", "draining", "disabled"

// mkdir -p with mode 0755 (an existing directory is fine): the state file's
// and the control socket's parent directories.
bool make_directories(const std::string& dir, std::string& error);

}  // namespace switchyard::control

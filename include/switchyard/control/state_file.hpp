// The state file (DESIGN.md, "State"): the RuntimeState and the ramp's
// durable part (RolloutSnapshot) as JSON, written atomically before a change
// is published and read back at start.
//
//   {"version":1,"active":"green","previous":"blue",
//    "canary":{"pool":"blue","weight":0.00},"generation":4,
//    "servers":{"blue":{"127.0.0.1:9001":{"state":"draining"}}},
//    "flags":{"new-checkout":5.000},
//    "shadow":{"pool":"green","percent":10.000,"diff":false},
//    "rollout":{"ramp":{"pool":"green",
//                       "settings":{"steps":[1.00,5.00,25.00,50.00,100.00],"bake_ms":60000,
//                                   "promote":"auto","interval_ms":1000,"failure_limit":2,
//                                   "max_hold_ms":600000,"on_no_data":"pause","gate":false,
//                                   "gate_retry_ms":10000,
//                                   "analysis":{"min_requests":50,"max_error_increase":1,
//                                               "max_error_rate":5,"confidence":0.99,
//                                               "max_p99_ratio":1.5,"min_p99_delta_ms":5}},
//                       "step":2,"step_start_ms":1700000000000,"state":"running",
//                       "reason":"","abort_cause":"none"},
//               "unacknowledged_aborts":[{"pool":"orange","reason":"...","at_ms":1700000000000}]}}
//
// The canary weight and the steps are percentages with two decimals, as in
// replies; times are milliseconds (step_start_ms and at_ms since the Unix
// epoch). Flags are percentages with three decimals, written only when the
// config has flags. "shadow" is written when mirroring is on, or off
// ({"pool":null,"percent":0.000,"diff":false}) when the writer says so
// (record_shadow_off: the config names a shadow pool, which a file without
// "shadow" would bring back at the next start; see load_state_file).
// "rollout" is written only when the snapshot holds something, and
// within it "ramp" only when there is one and "unacknowledged_aborts" only
// when there are any, so a state without a ramp is the same file as before
// ramps existed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp.hpp"
#include "switchyard/core/runtime_state.hpp"

namespace switchyard::control {

// Compact JSON, keys in the order above; "weight" of a server only when it
// overrides the config's.
std::string to_json(const RuntimeState& state, const RolloutSnapshot& rollout = {},
                    bool record_shadow_off = false);

// Strict: wrong types, unknown keys, unknown admin states, ramp states,
// abort causes, promote modes or on_no_data actions, a version other than 1,
// a weight or step outside 0..100 or with more than two decimals → nullopt
// and `error` says which field ("rollout.ramp.settings: \"bake_ms\" must be
// ..."). Whether a ramp still fits the config is restore_rollout()'s to say,
// not the parser's. `rollout` is set only on success (empty without
// "rollout"). Without "shadow", mirroring is off.
std::optional<RuntimeState> from_json(std::string_view text, RolloutSnapshot& rollout,
                                      std::string& error);
// The same, for a caller that has no use for the ramp (it is still checked).
std::optional<RuntimeState> from_json(std::string_view text, std::string& error);

// Atomic: writes `path.tmp.<pid>` in the same directory, fsyncs it, renames
// it over `path` and fsyncs the directory. The parent directory is created
// (mode 0755) when missing. On failure returns false, sets `error` and leaves
// the old file as it was.
bool save_state_file(const std::string& path, const RuntimeState& state,
                     const RolloutSnapshot& rollout, std::string& error,
                     bool record_shadow_off = false);

enum class LoadStatus { ok, missing, corrupt };

// missing: the file does not exist (the config gives the initial state).
// corrupt: unreadable or invalid; `error` names the file and the reason.
// `out` and `rollout` are set only when ok. A file without "shadow" (written
// before mirroring existed) keeps out.shadow as it was: the caller passes
// the config's initial state, so the config's [shadow] applies.
LoadStatus load_state_file(const std::string& path, RuntimeState& out, RolloutSnapshot& rollout,
                           std::string& error);

// The routing fields that the state file and every mutating reply carry,
// written as members of the object `w` is in:
// "active":"green","previous":null,"canary":{"pool":null,"weight":0.00},"generation":4
void write_routing_fields(JsonWriter& w, const RuntimeState& state);

// Mirroring as a JSON object value (state file, replies, status):
// {"pool":"green","percent":10.000,"diff":true}, {"pool":null,"percent":0.000,"diff":false}
// when off.
void write_shadow(JsonWriter& w, const ShadowRuntime& shadow);

std::string_view admin_state_name(AdminState state);  // "enabled", "draining", "disabled"

// mkdir -p with mode 0755 (an existing directory is fine): the state file's
// and the control socket's parent directories.
bool make_directories(const std::string& dir, std::string& error);

}  // namespace switchyard::control

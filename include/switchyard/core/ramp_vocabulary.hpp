// The ramp's vocabulary: its states, why it was aborted, the events it
// emits, and their names in the state file, status, events and webhooks.
#pragma once

#include <optional>
#include <string_view>

namespace switchyard {

// running: judging the current step. holding: the bake is over but the step
// cannot advance (no verdict yet, the gate or health gate refused, the
// state file cannot be written). paused: by `ramp pause`, after max_hold
// with on_no_data = pause, or waiting for `ramp promote`; a paused ramp
// keeps its weight and is still judged (failing judgements abort it), but
// never advances. aborted and promoted are final.
enum class RampState { running, holding, paused, aborted, promoted };
std::string_view to_string(RampState state);  // "running", ...
std::optional<RampState> parse_ramp_state(std::string_view text);

// Why a ramp was aborted. analysis and no_data are automatic: they leave
// an unacknowledged abort on the pool. command (ramp abort, canary POOL 0,
// rollback) does not: a human chose it.
enum class AbortCause { none, analysis, no_data, command };
std::string_view to_string(AbortCause cause);  // "none", "analysis", "no_data", "command"
std::optional<AbortCause> parse_abort_cause(std::string_view text);

enum class RampEventType { started, step, holding, paused, aborted, promoted };
std::string_view to_string(RampEventType type);  // as in [[rollout.webhooks]] events

}  // namespace switchyard

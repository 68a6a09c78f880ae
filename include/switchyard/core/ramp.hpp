// The ramp: a canary pool moved through weight steps on its own, each step
// judged by the canary analysis, ending promoted or aborted (DESIGN.md,
// "Progressive delivery: `ramp`").
//
// Pure: no clock, no I/O. The control plane owns one RolloutState and
// drives it with
//  - apply_ramp_command() for `ramp POOL …`, `ramp pause|resume|promote|
//    abort|ack` (and the emergency stops that check_routing_command() turns
//    into a ramp abort),
//  - tick_ramp() every `interval` with the judgement of the step's counts,
//  - answer_gate() when gate_url has answered,
// each returning a RampResult: accepted or refused with a reason, the next
// state, and the effects the caller carries out. check_routing_command()
// says which other routing commands a ramp refuses.
//
// Carrying out a result, in this order:
//   1. effects.persist == before_publish: write the state file with
//      snapshot(r.next) and the routing state the effects lead to; if the
//      write fails, r = persist_failed(r, error) (a command is then refused,
//      a tick holds the step, nothing is published) and stop here.
//   2. Publish: canary weight (a `canary POOL W` on the RuntimeState) or
//      switch (the promotion: `switch POOL`, the old pool drains); start a
//      new analysis window (effects.new_window) and send ask_gate to
//      gate_url; emit the events (event log, webhooks).
//   3. effects.persist == after_publish (weight 0: an abort or emergency
//      stop is published even when the disk fails): write; if it fails,
//      r = persist_failed(r, error), which marks the write pending.
//   4. Keep r.next. After any successful state file write, call
//      mark_persisted(). Tick every interval while ramp_in_progress() or
//      persist_pending: a pending write is asked for again (after_publish).
//
// Time is wall-clock (RampTime, milliseconds since the Unix epoch): the
// step's start is in the state file and must mean the same after a
// restart. A clock that steps back counts as no time passing; one that
// steps forward shortens the bake (the analysis must still pass).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/canary_analysis.hpp"
#include "switchyard/core/health_gate.hpp"
#include "switchyard/core/ramp_steps.hpp"
#include "switchyard/core/ramp_vocabulary.hpp"
#include "switchyard/core/rollout_settings.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/runtime_transitions.hpp"

namespace switchyard {

using RampTime = std::chrono::sys_time<std::chrono::milliseconds>;

// ---- State ------------------------------------------------------------------

// What the state file holds of a ramp (restored by restore_rollout()).
struct RampRecord {
    std::string pool;
    // In force: the config's [rollout] when the ramp started, with the
    // command's steps, bake and promote. A reload does not change them.
    RampSettings settings;
    std::size_t step = 0;  // index into settings.steps_bp
    RampTime step_start{};
    RampState state = RampState::running;
    std::string reason;
    AbortCause abort_cause = AbortCause::none;
    bool operator==(const RampRecord&) const = default;
};

// The canary weight the ramp holds its pool at: the step's while running,
// holding or paused, 0 once aborted, 10000 once promoted (it is active).
std::uint32_t ramp_weight_bp(const RampRecord& record);

inline constexpr std::size_t kRecentVerdicts = 10;

struct Ramp {
    RampRecord record;
    // In memory only: a restart begins the step's counting afresh, so what
    // was counted of the old window does not carry over.
    std::uint32_t consecutive_failures = 0;
    std::optional<RampTime> holding_since;      // in state holding since
    std::optional<RampTime> no_verdict_since;   // bake over, still inconclusive (max_hold)
    std::optional<std::size_t> gate_asked_for;  // the step index the gate was asked for
    std::optional<RampTime> gate_retry_at;      // after a refusal: not asked again before
    std::deque<CanaryJudgement> recent;         // newest last, at most kRecentVerdicts
};

// A pool whose ramp was aborted automatically, until `ramp ack`: it cannot
// gain weight or become active without force.
struct UnacknowledgedAbort {
    std::string pool;
    std::string reason;  // the abort's
    RampTime at{};
    bool operator==(const UnacknowledgedAbort&) const = default;
};

struct RolloutState {
    std::optional<Ramp> ramp;  // the current ramp, or the last one (aborted, promoted)
    std::vector<UnacknowledgedAbort> unacknowledged_aborts;  // in abort order
    // Memory is ahead of the state file: a weight-0 change was published
    // but its write failed (persist_error says why); retried until a write
    // succeeds. status shows it.
    bool persist_pending = false;
    std::string persist_error;
    // Identifies the analysis window the control plane is counting: a new
    // one on every start, advance and restore. A judgement of another
    // window (counts still in flight when the step moved) is ignored.
    std::uint64_t window = 0;
};

// running, holding or paused.
bool ramp_in_progress(const RolloutState& state);
const UnacknowledgedAbort* find_unacknowledged_abort(const RolloutState& state,
                                                     std::string_view pool);
// After a successful state file write: nothing is pending any more.
void mark_persisted(RolloutState& state);

// Status: what is left of the current step's bake, and how long it has
// been holding (0 when not holding). Both 0 for a ramp not in progress.
std::chrono::milliseconds bake_left(const Ramp& ramp, RampTime now);
std::chrono::milliseconds hold_time(const Ramp& ramp, RampTime now);

// ---- Effects ----------------------------------------------------------------

// One transition for the event log and webhooks; the caller adds time and
// generation. `step` is the index in `steps_bp` the ramp is at after the
// transition (for the gate: the one it would go to).
struct RampEvent {
    RampEventType type = RampEventType::started;
    std::string pool;
    std::size_t step = 0;
    std::size_t steps = 0;
    std::uint32_t weight_bp = 0;
    std::string reason;
    std::optional<CanaryJudgement> judgement;  // the verdict behind it, if any
};

enum class PersistOrder { none, before_publish, after_publish };

struct RampEffects {
    // Set the canary to {the ramp's pool, this weight}.
    std::optional<std::uint32_t> canary_weight_bp;
    // The promotion: switch to this pool (the old active pool drains).
    std::string switch_to;
    PersistOrder persist = PersistOrder::none;
    // Start counting the step afresh under this window id (RolloutState::window).
    std::optional<std::uint64_t> new_window;
    // POST this event to gate_url; its answer goes to answer_gate().
    std::optional<RampEvent> ask_gate;
    std::vector<RampEvent> events;
};

struct RampResult {
    bool ok = true;
    std::string error;     // when !ok: one sentence; nothing changed
    bool changed = false;  // the durable record changed (what `changed` replies say)
    RolloutState next;
    RampEffects effects;
    std::string forced;  // what `force` overrode, for the audit log; empty if nothing

    // For persist_failed(), set with every before_publish write.
    struct WriteFailure {
        RolloutState keep;    // instead of `next`
        bool refuse = false;  // a command: refused, nothing changed
        std::string what;     // a tick's: what did not happen ("step 3 of 5 (25.00 %) not taken")
        RampTime now{};
    };
    std::optional<WriteFailure> on_write_failure;
};

// The write of `attempted.next` failed with `error` (see the order above).
// before_publish: a command is refused ("cannot write the state file: …;
// nothing changed"); a tick keeps the step and holds with that reason
// (retried on the next tick). after_publish: `attempted` stands, with
// persist_pending.
RampResult persist_failed(const RampResult& attempted, std::string_view error);

// ---- Commands ----------------------------------------------------------------

struct RampCommand {
    enum class Kind { start, pause, resume, promote, abort, ack };
    Kind kind = Kind::start;
    // start: the pool and the overrides of [rollout]; ack: the pool to
    // acknowledge (empty: every unacknowledged abort).
    std::string pool;
    std::optional<std::vector<std::uint32_t>> steps_bp;  // already parse_ramp_steps'd
    std::optional<std::chrono::milliseconds> bake;
    std::optional<PromoteMode> promote;
    // start, promote: past a failing health gate (audited); start: past an
    // unacknowledged abort of the pool.
    bool force = false;
    // abort: what asked for it, for the reason ("ramp abort", "canary green
    // 0", "rollback").
    std::string origin = "ramp abort";
};

struct RampContext {
    RampTime now{};
    RampSettings defaults;           // the config's [rollout]
    std::vector<std::string> pools;  // the config's pool names
    std::string active;              // the active pool
    // The health gate of the command's pool (start) or the ramp's pool
    // (promote); pass when the pool has no gate to fail.
    GateResult health = passing_health();

    static GateResult passing_health() {
        GateResult g;
        g.pass = true;
        return g;
    }
};

RampResult apply_ramp_command(const RolloutState& state, const RampCommand& command,
                              const RampContext& context);

// ---- Ticks ----------------------------------------------------------------

struct RampTick {
    RampTime now{};
    std::uint64_t window = 0;  // the window the judgement counted
    CanaryJudgement judgement;
    // The ramp pool's health gate, if the caller evaluated it: a failing
    // one holds every increase (as it would refuse a `switch`).
    std::optional<GateResult> health;
};

// One judgement of the current step (see the header comment and
// DESIGN.md): failure_limit failing judgements in a row abort (weight 0
// at once, never gated); inconclusive ones neither count nor reset that;
// after the bake, a pass advances (asking the gate first, if any) and an
// inconclusive one holds, until max_hold decides by on_no_data. The last
// step passing is the promotion (promote = auto: switch; manual: paused,
// "waiting for ramp promote").
RampResult tick_ramp(const RolloutState& state, const RampTick& tick);

struct GateAnswer {
    bool allowed = false;  // 2xx
    std::string text;      // the answer (or the failure: "timed out after 3s") for the reason
};

// gate_url's answer to effects.ask_gate. Allowed: the increase is made
// (unless a failing judgement came since, or the ramp paused, moved or
// ended). Refused: the step holds with the answer as the reason, and the
// gate is asked again after settings.gate_retry. Never counts as no data.
RampResult answer_gate(const RolloutState& state, RampTime now, const GateAnswer& answer);

// ---- Other routing commands --------------------------------------------------

struct RoutingCheck {
    enum class Action {
        allow,       // apply it as usual
        refuse,      // reply with `reason`, nothing changes
        abort_ramp,  // the emergency stop: apply RampCommand abort with origin `reason`
    };
    Action action = Action::allow;
    std::string reason;
    std::string forced;  // allowed past an unacknowledged abort by force (audit)
};

// What a ramp does to `switch`, `promote`, `canary` and `rollback`:
//  - while one is in progress, `canary POOL 0` and `rollback` are the
//    emergency stop (abort_ramp; never refused or gated), and `switch`,
//    `promote` and `canary POOL W` with W > 0 are refused;
//  - a pool with an unacknowledged abort cannot gain weight or become
//    active: `canary POOL W>0`, `switch POOL`, `promote` of it and a
//    `rollback` that would switch back to it are refused without force.
// Server commands are always allowed.
RoutingCheck check_routing_command(const RolloutState& state, const RuntimeState& runtime,
                                   const RoutingCommand& command);

// ---- Persistence --------------------------------------------------------------

struct RolloutSnapshot {
    std::optional<RampRecord> ramp;
    std::vector<UnacknowledgedAbort> unacknowledged_aborts;
    bool operator==(const RolloutSnapshot&) const = default;
};

RolloutSnapshot snapshot(const RolloutState& state);

struct RolloutRestore {
    RolloutState state;
    // What did not survive the check against the config and routing state,
    // one phrase each ("ramp of pool orange (not in the config)").
    std::vector<std::string> dropped;
    // A ramp in progress: start counting its step afresh under this window.
    std::optional<std::uint64_t> new_window;
};

// The state after a restart, reload or upgrade: the ramp continues at its
// step (its start kept, so the bake is not restarted; its analysis window
// is new, so min_requests must be met again; a hold's time counts from
// now). Dropped: a ramp or unacknowledged abort naming a pool the config
// no longer has, a ramp whose steps or step are invalid, and a ramp in
// progress whose pool is no longer the canary pool (or is active).
RolloutRestore restore_rollout(const RolloutSnapshot& snapshot, std::span<const std::string> pools,
                               const RuntimeState& runtime, RampTime now);

}  // namespace switchyard

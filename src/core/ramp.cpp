#include "switchyard/core/ramp.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "switchyard/core/units.hpp"

namespace switchyard {
namespace {

using Ms = std::chrono::milliseconds;
constexpr std::uint32_t kFullWeight = 10000;

Ms elapsed(RampTime now, RampTime since) {
    return now > since ? now - since : Ms{0};
}

std::string weight_text(std::uint32_t bp) {
    return format_weight_percent(bp) + " %";
}

const std::vector<std::uint32_t>& steps_of(const RampRecord& r) {
    return r.settings.steps_bp;
}

// The step index `i` as reasons name it: "step 2 of 5 (5.00 %)".
std::string step_text(const RampRecord& r, std::size_t i) {
    const auto& steps = steps_of(r);
    const std::uint32_t bp = i < steps.size() ? steps[i] : kFullWeight;
    return "step " + std::to_string(i + 1) + " of " + std::to_string(steps.size()) + " (" +
           weight_text(bp) + ")";
}

// Is going to step index `target` the promotion? A step of 100 is (the
// active pool would have nothing left to compare with), and so is the end
// of steps that stop below 100.
bool is_promotion(const RampRecord& r, std::size_t target) {
    const auto& steps = steps_of(r);
    return target >= steps.size() || steps[target] >= kFullWeight;
}

std::uint32_t failure_limit(const RampRecord& r) {
    return std::max<std::uint32_t>(r.settings.failure_limit, 1);
}

RampEvent make_event(const RampRecord& r, RampEventType type, std::string reason,
                     std::optional<CanaryJudgement> judgement) {
    RampEvent e;
    e.type = type;
    e.pool = r.pool;
    e.step = r.step;
    e.steps = steps_of(r).size();
    e.weight_bp = ramp_weight_bp(r);
    e.reason = std::move(reason);
    e.judgement = std::move(judgement);
    return e;
}

RampResult refuse(const RolloutState& state, std::string error) {
    RampResult r;
    r.ok = false;
    r.error = std::move(error);
    r.next = state;
    return r;
}

RampResult unchanged(RolloutState state) {
    RampResult r;
    r.next = std::move(state);
    return r;
}

// A command's durable change: written before anything is published, and
// refused (nothing changed) if the write fails.
RampResult written_command(const RolloutState& before, RolloutState next, RampTime now) {
    RampResult r;
    r.changed = true;
    r.effects.persist = PersistOrder::before_publish;
    r.on_write_failure = RampResult::WriteFailure{before, true, {}, now};
    r.next = std::move(next);
    return r;
}

void enter_holding(Ramp& ramp, RampTime now, std::string reason, RampEffects& effects,
                   std::optional<CanaryJudgement> judgement = std::nullopt) {
    ramp.record.reason = std::move(reason);
    if (ramp.record.state == RampState::holding) return;
    ramp.record.state = RampState::holding;
    ramp.holding_since = now;
    effects.events.push_back(
        make_event(ramp.record, RampEventType::holding, ramp.record.reason, std::move(judgement)));
}

// Running/holding flips are not persisted and send no event: they follow
// the counts, and a state file write per judgement would be all noise.
void enter_running(Ramp& ramp, std::string reason) {
    ramp.record.state = RampState::running;
    ramp.record.reason = std::move(reason);
    ramp.holding_since.reset();
}

void forget_step_progress(Ramp& ramp) {
    ramp.consecutive_failures = 0;
    ramp.holding_since.reset();
    ramp.no_verdict_since.reset();
    ramp.gate_asked_for.reset();
    ramp.gate_retry_at.reset();
}

void remember(Ramp& ramp, const CanaryJudgement& judgement) {
    ramp.recent.push_back(judgement);
    while (ramp.recent.size() > kRecentVerdicts)
        ramp.recent.pop_front();
}

std::string blocked_message(const UnacknowledgedAbort& a) {
    return "pool " + a.pool + " was aborted automatically and the abort is not acknowledged (" +
           a.reason + "); ramp ack first, or add force";
}

std::string no_ramp_message(const RolloutState& state) {
    if (!state.ramp) return "no ramp in progress";
    const RampRecord& r = state.ramp->record;
    std::string out =
        "no ramp in progress (the ramp of " + r.pool + " was " + std::string(to_string(r.state));
    if (r.state == RampState::aborted) out += ": " + r.reason;  // what a retry runs into
    return out + ")";
}

// Weight 0 at once, never gated, published even if the write fails.
RampResult abort_ramp(RolloutState next, RampTime now, AbortCause cause, std::string reason,
                      std::optional<CanaryJudgement> judgement = std::nullopt) {
    Ramp& ramp = *next.ramp;
    ramp.record.state = RampState::aborted;
    ramp.record.abort_cause = cause;
    ramp.record.reason = std::move(reason);
    forget_step_progress(ramp);
    if (cause == AbortCause::analysis || cause == AbortCause::no_data) {
        auto& list = next.unacknowledged_aborts;
        std::erase_if(list, [&](const auto& a) { return a.pool == ramp.record.pool; });
        list.push_back({ramp.record.pool, ramp.record.reason, now});
    }
    RampResult r;
    r.changed = true;
    r.effects.canary_weight_bp = 0;
    r.effects.persist = PersistOrder::after_publish;
    r.effects.events.push_back(
        make_event(ramp.record, RampEventType::aborted, ramp.record.reason, std::move(judgement)));
    r.next = std::move(next);
    return r;
}

// `keep` is what stays if the write fails: the state before a command (then
// refused), or the judged state of a tick (then holding).
RampResult pause_ramp(RolloutState next, RolloutState keep, RampTime now, std::string reason,
                      bool command, std::string event_reason,
                      std::optional<CanaryJudgement> judgement = std::nullopt) {
    Ramp& ramp = *next.ramp;
    ramp.record.state = RampState::paused;
    ramp.record.reason = std::move(reason);
    ramp.holding_since.reset();
    ramp.gate_asked_for.reset();
    RampResult r;
    r.changed = true;
    r.effects.persist = PersistOrder::before_publish;
    r.effects.events.push_back(make_event(ramp.record, RampEventType::paused,
                                          std::move(event_reason), std::move(judgement)));
    r.on_write_failure =
        RampResult::WriteFailure{std::move(keep), command, "pause not written", now};
    r.next = std::move(next);
    return r;
}

// The next step, or the promotion: persisted before it is published.
RampResult increase(RolloutState next, RampTime now, const std::string& why,
                    std::optional<CanaryJudgement> judgement) {
    Ramp& ramp = *next.ramp;
    const std::size_t target = ramp.record.step + 1;
    RampResult r;
    r.changed = true;
    r.effects.persist = PersistOrder::before_publish;
    r.on_write_failure = RampResult::WriteFailure{
        next, false,
        is_promotion(ramp.record, target) ? std::string("promotion not done")
                                          : step_text(ramp.record, target) + " not taken",
        now};
    forget_step_progress(ramp);
    if (is_promotion(ramp.record, target)) {
        ramp.record.state = RampState::promoted;
        ramp.record.reason = "promoted: " + why;
        r.effects.switch_to = ramp.record.pool;
        r.effects.events.push_back(make_event(ramp.record, RampEventType::promoted,
                                              ramp.record.reason, std::move(judgement)));
    } else {
        ramp.record.step = target;
        ramp.record.step_start = now;
        enter_running(ramp, step_text(ramp.record, target));
        ++next.window;
        r.effects.canary_weight_bp = steps_of(ramp.record)[target];
        r.effects.new_window = next.window;
        r.effects.events.push_back(make_event(ramp.record, RampEventType::step,
                                              step_text(ramp.record, target) + ": " + why,
                                              std::move(judgement)));
    }
    r.next = std::move(next);
    return r;
}

// The gate's view of the increase it is asked about.
RampEvent gate_event(const RampRecord& r, std::size_t target, const std::string& why,
                     const std::optional<CanaryJudgement>& judgement) {
    const bool promotion = is_promotion(r, target);
    RampEvent e =
        make_event(r, promotion ? RampEventType::promoted : RampEventType::step,
                   "asking to go to " +
                       (promotion ? std::string("promotion") : step_text(r, target)) + ": " + why,
                   judgement);
    e.step = target;
    e.weight_bp = promotion ? kFullWeight : steps_of(r)[target];
    return e;
}

// The step is ready to move on (passed after its bake, or on_no_data =
// advance): the manual promotion waits for a human; the health gate and
// gate_url may hold it.
RampResult try_increase(RolloutState next, RampTime now, const std::string& why,
                        const std::optional<CanaryJudgement>& judgement,
                        const std::optional<GateResult>& health) {
    Ramp& ramp = *next.ramp;
    const std::size_t target = ramp.record.step + 1;
    if (is_promotion(ramp.record, target) && ramp.record.settings.promote == PromoteMode::manual) {
        RolloutState keep = next;
        return pause_ramp(std::move(next), std::move(keep), now, "waiting for ramp promote", false,
                          "waiting for ramp promote: " + why, judgement);
    }
    RampResult r;
    if (health && !health->pass) {
        enter_holding(ramp, now, "health gate: " + health->message, r.effects, judgement);
        r.next = std::move(next);
        return r;
    }
    if (ramp.record.settings.gate) {
        if (ramp.gate_asked_for) {
            // Still waiting for the answer: the reason already says so.
        } else if (ramp.gate_retry_at && now < *ramp.gate_retry_at) {
            // Refused a moment ago: the step holds with the gate's answer.
        } else {
            ramp.gate_asked_for = target;
            r.effects.ask_gate = gate_event(ramp.record, target, why, judgement);
            enter_running(ramp, "asking the gate for " + (is_promotion(ramp.record, target)
                                                              ? std::string("the promotion")
                                                              : step_text(ramp.record, target)));
        }
        r.next = std::move(next);
        return r;
    }
    return increase(std::move(next), now, why, judgement);
}

// The bake is over and the step still has no verdict.
RampResult no_verdict(RolloutState next, RampTime now, const CanaryJudgement& judgement,
                      const std::optional<GateResult>& health) {
    Ramp& ramp = *next.ramp;
    if (!ramp.no_verdict_since) ramp.no_verdict_since = now;
    const RampSettings& s = ramp.record.settings;
    if (elapsed(now, *ramp.no_verdict_since) < s.max_hold) {
        RampResult r;
        enter_holding(ramp, now, describe(judgement), r.effects, judgement);
        r.next = std::move(next);
        return r;
    }
    const std::string why =
        "no verdict for " + format_duration(s.max_hold) + " (" + describe(judgement) + ")";
    switch (s.on_no_data) {
        case OnNoData::pause: {
            RolloutState keep = next;
            return pause_ramp(std::move(next), std::move(keep), now, why, false, why, judgement);
        }
        case OnNoData::abort:
            return abort_ramp(std::move(next), now, AbortCause::no_data, why, judgement);
        case OnNoData::advance:
            return try_increase(std::move(next), now, why + "; advancing on bake time alone",
                                judgement, health);
    }
    return unchanged(std::move(next));
}

// ---- Commands ----

bool has_pool(std::span<const std::string> pools, std::string_view pool) {
    return std::find(pools.begin(), pools.end(), pool) != pools.end();
}

RampResult start(const RolloutState& state, const RampCommand& c, const RampContext& ctx) {
    if (ramp_in_progress(state)) {
        const RampRecord& r = state.ramp->record;
        return refuse(state, "a ramp of " + r.pool + " is already in progress (" +
                                 std::string(to_string(r.state)) + "); ramp abort first");
    }
    if (!has_pool(ctx.pools, c.pool)) return refuse(state, "pool " + c.pool + " does not exist");
    if (c.pool == ctx.active) return refuse(state, "pool " + c.pool + " is the active pool");
    RampSettings settings = ctx.defaults;
    if (c.steps_bp) settings.steps_bp = *c.steps_bp;
    if (c.bake) settings.bake = *c.bake;
    if (c.promote) settings.promote = *c.promote;
    if (auto error = validate_ramp_steps(settings.steps_bp)) return refuse(state, *error);
    std::string forced;
    if (const UnacknowledgedAbort* a = find_unacknowledged_abort(state, c.pool)) {
        if (!c.force) return refuse(state, blocked_message(*a));
        forced = "past the unacknowledged abort of " + c.pool + " (" + a->reason + ")";
    }
    if (!ctx.health.pass) {
        if (!c.force)
            return refuse(state, ctx.health.message + "; nothing changed (add force to override)");
        forced += (forced.empty() ? "" : "; ") + std::string("past the health gate: ") +
                  ctx.health.message;
    }
    RolloutState next = state;
    Ramp ramp;
    ramp.record.pool = c.pool;
    ramp.record.settings = settings;
    ramp.record.step_start = ctx.now;
    ramp.record.reason = step_text(ramp.record, 0);
    next.ramp = std::move(ramp);
    ++next.window;
    RampResult result = written_command(state, std::move(next), ctx.now);
    result.forced = forced;
    result.effects.canary_weight_bp = settings.steps_bp.front();
    result.effects.new_window = result.next.window;
    std::string reason = "started: steps " + format_ramp_steps(settings.steps_bp) + ", bake " +
                         format_duration(settings.bake) + ", promote " +
                         std::string(to_string(settings.promote));
    if (!forced.empty()) reason += "; forced " + forced;
    result.effects.events.push_back(
        make_event(result.next.ramp->record, RampEventType::started, reason, std::nullopt));
    return result;
}

RampResult pause(const RolloutState& state, const RampContext& ctx) {
    if (!ramp_in_progress(state)) return refuse(state, no_ramp_message(state));
    if (state.ramp->record.state == RampState::paused) return unchanged(state);
    return pause_ramp(state, state, ctx.now, "paused by ramp pause", true, "paused by ramp pause");
}

RampResult resume(const RolloutState& state, const RampContext& ctx) {
    if (!ramp_in_progress(state)) return refuse(state, no_ramp_message(state));
    if (state.ramp->record.state != RampState::paused) return unchanged(state);
    RolloutState next = state;
    Ramp& ramp = *next.ramp;
    // A new hold, and a fresh question to the gate; failing judgements
    // still count (they were judged while paused too).
    ramp.no_verdict_since.reset();
    ramp.gate_asked_for.reset();
    ramp.gate_retry_at.reset();
    enter_running(ramp, "resumed by ramp resume at " + step_text(ramp.record, ramp.record.step));
    // There is no "resumed" event type: the ramp is back at its step.
    const RampEvent event =
        make_event(ramp.record, RampEventType::step, ramp.record.reason, std::nullopt);
    RampResult r = written_command(state, std::move(next), ctx.now);
    r.effects.events.push_back(event);
    return r;
}

RampResult promote(const RolloutState& state, const RampCommand& c, const RampContext& ctx) {
    if (!ramp_in_progress(state)) return refuse(state, no_ramp_message(state));
    std::string forced;
    if (!ctx.health.pass) {
        if (!c.force)
            return refuse(state, ctx.health.message + "; nothing changed (add force to override)");
        forced = "past the health gate: " + ctx.health.message;
    }
    RolloutState next = state;
    Ramp& ramp = *next.ramp;
    const std::string at = step_text(ramp.record, ramp.record.step);
    forget_step_progress(ramp);
    ramp.record.state = RampState::promoted;
    ramp.record.reason = "promoted by ramp promote at " + at;
    const RampEvent event =
        make_event(ramp.record, RampEventType::promoted, ramp.record.reason, std::nullopt);
    RampResult r = written_command(state, std::move(next), ctx.now);
    r.forced = forced;
    r.effects.switch_to = event.pool;
    r.effects.events.push_back(event);
    return r;
}

RampResult abort_command(const RolloutState& state, const RampCommand& c, const RampContext& ctx) {
    if (!ramp_in_progress(state)) return refuse(state, no_ramp_message(state));
    return abort_ramp(state, ctx.now, AbortCause::command, "aborted by " + c.origin);
}

RampResult acknowledge(const RolloutState& state, const RampCommand& c, const RampContext& ctx) {
    RolloutState next = state;
    const auto removed = std::erase_if(next.unacknowledged_aborts, [&](const auto& a) {
        return c.pool.empty() || a.pool == c.pool;
    });
    if (removed == 0) return unchanged(state);
    return written_command(state, std::move(next), ctx.now);
}

}  // namespace

std::uint32_t ramp_weight_bp(const RampRecord& record) {
    switch (record.state) {
        case RampState::aborted:
            return 0;
        case RampState::promoted:
            return kFullWeight;
        default:
            return record.step < steps_of(record).size() ? steps_of(record)[record.step] : 0;
    }
}

bool ramp_in_progress(const RolloutState& state) {
    if (!state.ramp) return false;
    const RampState s = state.ramp->record.state;
    return s == RampState::running || s == RampState::holding || s == RampState::paused;
}

const UnacknowledgedAbort* find_unacknowledged_abort(const RolloutState& state,
                                                     std::string_view pool) {
    for (const auto& a : state.unacknowledged_aborts)
        if (a.pool == pool) return &a;
    return nullptr;
}

void mark_persisted(RolloutState& state) {
    state.persist_pending = false;
    state.persist_error.clear();
}

std::chrono::milliseconds bake_left(const Ramp& ramp, RampTime now) {
    const RampState s = ramp.record.state;
    if (s != RampState::running && s != RampState::holding && s != RampState::paused) return Ms{0};
    const Ms done = elapsed(now, ramp.record.step_start);
    return done >= ramp.record.settings.bake ? Ms{0} : ramp.record.settings.bake - done;
}

std::chrono::milliseconds hold_time(const Ramp& ramp, RampTime now) {
    if (ramp.record.state != RampState::holding || !ramp.holding_since) return Ms{0};
    return elapsed(now, *ramp.holding_since);
}

RampResult persist_failed(const RampResult& attempted, std::string_view error) {
    const std::string cannot = "cannot write the state file: " + std::string(error);
    if (attempted.effects.persist == PersistOrder::after_publish) {
        // Already published (weight 0 must not wait for a disk): only the
        // write is pending.
        RampResult r = attempted;
        r.effects = {};
        r.next.persist_pending = true;
        r.next.persist_error = std::string(error);
        return r;
    }
    if (attempted.effects.persist != PersistOrder::before_publish || !attempted.on_write_failure)
        return attempted;
    const RampResult::WriteFailure& w = *attempted.on_write_failure;
    if (w.refuse) return refuse(w.keep, cannot + "; nothing changed");
    RampResult r = unchanged(w.keep);
    if (ramp_in_progress(r.next))
        enter_holding(*r.next.ramp, w.now, cannot + "; " + w.what, r.effects);
    return r;
}

RampResult apply_ramp_command(const RolloutState& state, const RampCommand& command,
                              const RampContext& context) {
    switch (command.kind) {
        case RampCommand::Kind::start:
            return start(state, command, context);
        case RampCommand::Kind::pause:
            return pause(state, context);
        case RampCommand::Kind::resume:
            return resume(state, context);
        case RampCommand::Kind::promote:
            return promote(state, command, context);
        case RampCommand::Kind::abort:
            return abort_command(state, command, context);
        case RampCommand::Kind::ack:
            return acknowledge(state, command, context);
    }
    return refuse(state, "unknown ramp command");
}

RampResult tick_ramp(const RolloutState& state, const RampTick& tick) {
    RampResult r = unchanged(state);
    if (state.persist_pending) r.effects.persist = PersistOrder::after_publish;
    // A judgement of another window counted (partly) another step.
    if (!ramp_in_progress(state) || tick.window != state.window) return r;
    Ramp& ramp = *r.next.ramp;
    const CanaryJudgement& j = tick.judgement;
    remember(ramp, j);
    switch (j.verdict) {
        case Verdict::fail:
            ramp.no_verdict_since.reset();
            if (++ramp.consecutive_failures >= failure_limit(ramp.record))
                return abort_ramp(std::move(r.next), tick.now, AbortCause::analysis,
                                  std::to_string(ramp.consecutive_failures) +
                                      " failing judgements in a row: " + describe(j),
                                  j);
            break;
        case Verdict::pass:
            ramp.consecutive_failures = 0;
            ramp.no_verdict_since.reset();
            break;
        case Verdict::inconclusive:
            break;  // neither counts toward failure_limit nor resets it
    }
    if (ramp.record.state == RampState::paused) return r;
    const bool bake_over = elapsed(tick.now, ramp.record.step_start) >= ramp.record.settings.bake;
    if (bake_over && j.verdict == Verdict::pass)
        return try_increase(
            std::move(r.next), tick.now,
            weight_text(ramp_weight_bp(ramp.record)) + " passed: " + describe_sides(j), j,
            tick.health);
    if (bake_over && j.verdict == Verdict::inconclusive)
        return no_verdict(std::move(r.next), tick.now, j, tick.health);
    if (j.verdict == Verdict::fail)
        enter_running(ramp, std::to_string(ramp.consecutive_failures) + " of " +
                                std::to_string(failure_limit(ramp.record)) +
                                " failing judgements: " + describe(j));
    else
        enter_running(ramp, describe(j));
    return r;
}

RampResult answer_gate(const RolloutState& state, RampTime now, const GateAnswer& answer) {
    RampResult r = unchanged(state);
    if (!ramp_in_progress(state) || !state.ramp->gate_asked_for) return r;
    Ramp& ramp = *r.next.ramp;
    const std::size_t target = *ramp.gate_asked_for;
    ramp.gate_asked_for.reset();
    // Paused or moved on while the gate thought about it: the question is moot.
    if (ramp.record.state == RampState::paused || target != ramp.record.step + 1) return r;
    const std::string what =
        is_promotion(ramp.record, target) ? "the promotion" : step_text(ramp.record, target);
    if (!answer.allowed) {
        ramp.gate_retry_at = now + ramp.record.settings.gate_retry;
        enter_holding(ramp, now, "gate refused " + what + ": " + answer.text, r.effects);
        return r;
    }
    // A failing judgement since the question: no increase; asked again once
    // the step passes again.
    if (ramp.consecutive_failures > 0) return r;
    std::optional<CanaryJudgement> last;
    if (!ramp.recent.empty()) last = ramp.recent.back();
    const std::string why =
        "gate allowed " + what + (answer.text.empty() ? "" : ": " + answer.text);
    return increase(std::move(r.next), now, why, last);
}

RoutingCheck check_routing_command(const RolloutState& state, const RuntimeState& runtime,
                                   const RoutingCommand& command) {
    using Kind = RoutingCommand::Kind;
    RoutingCheck check;
    // Server admin states, flags and mirroring do not move users between pools.
    if (command.kind == Kind::server_admin || command.kind == Kind::flag ||
        command.kind == Kind::shadow)
        return check;
    if (ramp_in_progress(state)) {
        const RampRecord& r = state.ramp->record;
        if (command.kind == Kind::canary && command.weight_bp == 0) {
            check.action = RoutingCheck::Action::abort_ramp;
            check.reason = "canary " + command.pool + " 0";
            return check;
        }
        if (command.kind == Kind::rollback) {
            check.action = RoutingCheck::Action::abort_ramp;
            check.reason = "rollback";
            return check;
        }
        const bool promotes_ramp_pool = command.kind == Kind::promote ||
                                        (command.kind == Kind::switch_to && command.pool == r.pool);
        check.action = RoutingCheck::Action::refuse;
        check.reason =
            "ramp in progress (" + r.pool + ", " + std::string(to_string(r.state)) + " at " +
            step_text(r, r.step) + "); " +
            (promotes_ramp_pool ? "ramp promote or ramp abort first" : "ramp abort first");
        return check;
    }
    // Which pool would gain weight or become active.
    std::string target;
    switch (command.kind) {
        case Kind::canary:
            if (command.weight_bp > 0) target = command.pool;
            break;
        case Kind::switch_to:
            if (command.pool != runtime.active) target = command.pool;
            break;
        case Kind::promote:
            if (runtime.canary_weight_bp > 0) target = runtime.canary_pool;
            break;
        case Kind::rollback:
            if (runtime.canary_weight_bp == 0) target = runtime.previous;
            break;
        case Kind::server_admin:
        case Kind::flag:
        case Kind::shadow:
            break;
    }
    if (target.empty()) return check;
    if (const UnacknowledgedAbort* a = find_unacknowledged_abort(state, target)) {
        if (command.force) {
            check.forced = "past the unacknowledged abort of " + target + " (" + a->reason + ")";
            return check;
        }
        check.action = RoutingCheck::Action::refuse;
        check.reason = blocked_message(*a);
    }
    return check;
}

RolloutSnapshot snapshot(const RolloutState& state) {
    RolloutSnapshot s;
    if (state.ramp) s.ramp = state.ramp->record;
    s.unacknowledged_aborts = state.unacknowledged_aborts;
    return s;
}

RolloutRestore restore_rollout(const RolloutSnapshot& snapshot, std::span<const std::string> pools,
                               const RuntimeState& runtime, RampTime now) {
    RolloutRestore out;
    for (const auto& a : snapshot.unacknowledged_aborts) {
        if (has_pool(pools, a.pool))
            out.state.unacknowledged_aborts.push_back(a);
        else
            out.dropped.push_back("unacknowledged abort of pool " + a.pool +
                                  " (not in the config)");
    }
    if (!snapshot.ramp) return out;
    const RampRecord& r = *snapshot.ramp;
    const auto& steps = steps_of(r);
    const bool in_progress = r.state == RampState::running || r.state == RampState::holding ||
                             r.state == RampState::paused;
    const std::string name = "ramp of pool " + r.pool;
    if (!has_pool(pools, r.pool)) {
        out.dropped.push_back(name + " (not in the config)");
        return out;
    }
    if (validate_ramp_steps(steps) || r.step >= steps.size() ||
        (in_progress && steps[r.step] >= kFullWeight)) {
        out.dropped.push_back(name + " (invalid steps)");
        return out;
    }
    if (in_progress && (runtime.canary_pool != r.pool || runtime.active == r.pool)) {
        out.dropped.push_back(name + " (no longer the canary pool)");
        return out;
    }
    Ramp ramp;
    ramp.record = r;
    if (r.state == RampState::holding) ramp.holding_since = now;
    out.state.ramp = std::move(ramp);
    if (in_progress) {
        out.state.window = 1;
        out.new_window = out.state.window;
    }
    return out;
}

}  // namespace switchyard

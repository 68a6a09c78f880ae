#include "switchyard/control/ramp_driver.hpp"

#include <algorithm>
#include <chrono>

#include "switchyard/core/runtime_transitions.hpp"

namespace switchyard::control {

namespace {

std::size_t verdict_index(Verdict v) {
    switch (v) {
        case Verdict::pass:
            return 0;
        case Verdict::fail:
            return 1;
        case Verdict::inconclusive:
            break;
    }
    return 2;
}

double ms(std::chrono::milliseconds d) {
    return static_cast<double>(d.count());
}

void write_side(JsonWriter& w, const SideNumbers& s) {
    w.begin_object();
    w.key("requests").number(s.requests);
    w.key("errors").number(s.errors);
    w.key("error_rate").number_fixed(s.error_ratio * 100.0, 3);
    w.key("p99_ms");
    if (s.timed == 0)
        w.null();
    else
        w.number_fixed(static_cast<double>(s.p99_micros) / 1000.0, 3);
    w.end_object();
}

void write_percents(JsonWriter& w, const std::vector<std::uint32_t>& steps_bp) {
    w.begin_array();
    for (auto bp : steps_bp)
        w.number_fixed(static_cast<double>(bp) / 100.0, 2);
    w.end_array();
}

}  // namespace

RampDriver::RampDriver(boost::asio::io_context& io, RampHost& host, DataPlane& data_plane,
                       RampEvents& events, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      host_(host),
      data_plane_(data_plane),
      events_(events),
      log_(std::move(log)),
      timer_(io) {}

RampTime RampDriver::now() {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::vector<std::string> RampDriver::restore(const RolloutSnapshot& snapshot, StepWindow counted) {
    std::vector<std::string> pools;
    for (const auto& p : host_.config().pools)
        pools.push_back(p.name);
    auto restored = restore_rollout(snapshot, pools, host_.routing_state(), now());
    state_ = std::move(restored.state);
    if (restored.new_window) {
        // A window this process never counted under: a fleet member
        // restores each step the store holds, and must count it afresh.
        state_.window = std::max(*restored.new_window, last_window_ + 1);
        count_window(state_.window);
        inherited_ = std::move(counted);
        inherited_.id = state_.window;
    }
    if (ramp_in_progress(state_)) {
        const auto& r = state_.ramp->record;
        log_->info("ramp of pool {} continues at step {} of {} ({} %)", r.pool, r.step + 1,
                   r.settings.steps_bp.size(), format_step_percent(r.settings.steps_bp[r.step]));
        schedule_tick();
    }
    return std::move(restored.dropped);
}

RoutingCheck RampDriver::check(const RoutingCommand& command) const {
    return check_routing_command(state_, host_.routing_state(), command);
}

void RampDriver::command(const RampCommand& command, std::function<void(RampReply)> done) {
    RampContext context;
    context.now = now();
    context.defaults = host_.config().rollout.ramp;
    for (const auto& p : host_.config().pools)
        context.pools.push_back(p.name);
    context.active = host_.routing_state().active;
    using Kind = RampCommand::Kind;
    if (command.kind == Kind::start && !command.pool.empty())
        context.health = host_.health_gate(command.pool);
    else if (command.kind == Kind::promote && state_.ramp)
        context.health = host_.health_gate(state_.ramp->record.pool);
    carry_out(apply_ramp_command(state_, command, context), std::move(done));
}

void RampDriver::carry_out(RampResult r, std::function<void(RampReply)> done) {
    const RampTime t = now();
    const auto reply = [&done](const RampResult& result) {
        if (done) done({result.ok, result.error, result.changed, result.forced});
    };
    if (!r.ok) {
        reply(r);
        return;
    }
    // The routing state the effects lead to.
    const RuntimeState& current = host_.routing_state();
    RuntimeState routing = current;
    std::string drain;
    std::string what;
    const std::string pool = r.next.ramp ? r.next.ramp->record.pool : std::string();
    if (!r.effects.switch_to.empty() || r.effects.canary_weight_bp) {
        RoutingCommand c;
        if (!r.effects.switch_to.empty()) {
            c.kind = RoutingCommand::Kind::switch_to;
            c.pool = r.effects.switch_to;
            what = "ramp: switch " + c.pool;
        } else {
            c.kind = RoutingCommand::Kind::canary;
            c.pool = pool;
            c.weight_bp = *r.effects.canary_weight_bp;
            what = "ramp: canary " + pool + " " + format_weight_percent(c.weight_bp);
        }
        const Transition tr = apply(current, c, host_.config());
        if (!tr.ok) {
            // The ramp checked its pool against the config; only a reload in
            // between could make this fail.
            log_->error("ramp: {} refused: {}", what, tr.error);
            if (done) done({false, tr.error, false, {}});
            return;
        }
        if (tr.changed) {
            routing = tr.next;
            drain = tr.drain_pool;
        }
    }
    if (host_.shared() && (routing != current || snapshot(r.next) != snapshot(state_))) {
        // A fleet: the store first; what it refuses changes nothing here.
        host_.commit(
            routing, snapshot(r.next),
            [this, r, t, routing, drain, what, done = std::move(done)](std::string error) mutable {
                if (stopped_) return;
                if (!error.empty()) {
                    log_->warn("ramp: not written to the fleet's store: {}", error);
                    if (done) done({false, error, false, {}});
                    schedule_tick();
                    return;
                }
                mark_persisted(r.next);
                finish(std::move(r), t, routing, drain, what, true, std::move(done));
            });
        return;
    }
    if (r.effects.persist == PersistOrder::before_publish) {
        std::string error;
        if (!host_.save(routing, snapshot(r.next), error)) {
            log_->error("ramp: cannot write the state file: {}", error);
            RampResult failed = persist_failed(r, error);
            if (failed.ok) {
                state_ = failed.next;
                after_publish(failed, t, current.generation);
            }
            reply(failed);
            schedule_tick();
            return;
        }
        mark_persisted(r.next);
    }
    finish(std::move(r), t, routing, drain, what, false, std::move(done));
}

void RampDriver::finish(RampResult r, RampTime t, const RuntimeState& routing,
                        const std::string& drain, const std::string& what, bool persisted,
                        std::function<void(RampReply)> done) {
    state_ = r.next;
    const bool publish = routing != host_.routing_state();
    const std::uint64_t published = routing.generation;
    std::function<void()> applied = [this, r, done = std::move(done)] {
        if (r.effects.new_window) count_window(*r.effects.new_window);
        if (done) done({r.ok, r.error, r.changed, r.forced});
    };
    if (publish) host_.publish(routing, drain, what, std::move(applied));
    if (r.effects.persist == PersistOrder::after_publish && !persisted) {
        // Weight 0 is published whatever the disk says; the write follows.
        std::string error;
        if (host_.save(host_.routing_state(), snapshot(state_), error)) {
            mark_persisted(state_);
        } else {
            log_->error("ramp: cannot write the state file (retried every interval): {}", error);
            state_ = persist_failed(r, error).next;
        }
    }
    after_publish(r, t, published);
    if (!ramp_in_progress(state_) && counting_ != 0) count_window(0);
    schedule_tick();
    if (!publish) applied();
}

void RampDriver::after_publish(const RampResult& r, RampTime now, std::uint64_t generation) {
    for (const auto& e : r.effects.events)
        events_.emit(e, now, generation);
    if (r.effects.ask_gate) {
        events_.ask_gate(*r.effects.ask_gate, now, generation, [this](GateAnswer answer) {
            if (stopped_) return;
            // During an upgrade nothing may change: a yes waits for the next ask.
            if (!host_.accepting_changes()) answer = {false, "the answer came during an upgrade"};
            carry_out(answer_gate(state_, RampDriver::now(), answer), nullptr);
        });
    }
}

void RampDriver::count_window(std::uint64_t window) {
    counting_ = window;
    last_window_ = std::max(last_window_, window);
    data_plane_.set_step_window(window, nullptr);
}

void RampDriver::schedule_tick() {
    if (stopped_ || tick_scheduled_ || ticking_ || !host_.runs_ramp()) return;
    if (!ramp_in_progress(state_) && !state_.persist_pending) return;
    const auto interval =
        state_.ramp ? state_.ramp->record.settings.interval : std::chrono::milliseconds(1000);
    tick_scheduled_ = true;
    timer_.expires_after(std::max(interval, std::chrono::milliseconds(10)));
    timer_.async_wait([this](boost::system::error_code ec) {
        tick_scheduled_ = false;
        if (ec || stopped_) return;
        tick();
    });
}

void RampDriver::tick() {
    if (!host_.accepting_changes()) {
        schedule_tick();
        return;
    }
    ticking_ = true;
    const std::uint64_t window = state_.window;
    data_plane_.collect_step_window(window, [this, window](StepWindow counted) {
        counted.add(inherited_);  // only while it is still the inherited window
        if (stopped_) {
            ticking_ = false;
            return;
        }
        if (!state_.ramp || !ramp_in_progress(state_)) return judge(window, counted, {});
        // A fleet's leader judges the fleet's sums.
        host_.others_step_counts(state_.ramp->record, [this, window, counted](StepWindow others) {
            judge(window, counted, std::move(others));
        });
    });
}

void RampDriver::judge(std::uint64_t window, StepWindow counted, StepWindow others) {
    others.id = counted.id;
    counted.add(others);
    ticking_ = false;
    if (stopped_) return;
    if (!host_.accepting_changes() || !host_.runs_ramp() || state_.window != window) {
        schedule_tick();
        return;
    }
    RampTick t;
    t.now = now();
    t.window = window;
    if (state_.ramp && ramp_in_progress(state_)) {
        const auto& record = state_.ramp->record;
        t.judgement = judge_canary(counted.pool(host_.routing_state().active),
                                   counted.pool(record.pool), record.settings.analysis);
        ++verdicts_[verdict_index(t.judgement.verdict)];
        t.health = host_.health_gate(record.pool);
    }
    carry_out(tick_ramp(state_, t), nullptr);
}

void RampDriver::stop() {
    stopped_ = true;
    timer_.cancel();
}

void RampDriver::write_status(JsonWriter& w) const {
    w.key("ramp");
    if (!state_.ramp) {
        w.null();
    } else {
        const Ramp& ramp = *state_.ramp;
        const RampRecord& r = ramp.record;
        const RampTime t = now();
        w.begin_object();
        w.key("pool").string(r.pool);
        w.key("state").string(to_string(r.state));
        w.key("reason").string(r.reason);
        w.key("step").number(r.step + 1);
        w.key("steps");
        write_percents(w, r.settings.steps_bp);
        w.key("weight").number_fixed(static_cast<double>(ramp_weight_bp(r)) / 100.0, 2);
        w.key("bake_left_s").number_fixed(ms(bake_left(ramp, t)) / 1000.0, 3);
        w.key("hold_s").number_fixed(ms(hold_time(ramp, t)) / 1000.0, 3);
        w.key("step_started").number(r.step_start.time_since_epoch().count());
        w.key("bake_s").number_fixed(ms(r.settings.bake) / 1000.0, 3);
        w.key("interval_s").number_fixed(ms(r.settings.interval) / 1000.0, 3);
        w.key("promote").string(to_string(r.settings.promote));
        if (r.state == RampState::aborted) w.key("abort_cause").string(to_string(r.abort_cause));
        w.key("consecutive_failures").number(ramp.consecutive_failures);
        w.key("verdicts").begin_array();
        for (auto it = ramp.recent.rbegin(); it != ramp.recent.rend(); ++it) {
            w.begin_object();
            w.key("verdict").string(to_string(it->verdict));
            w.key("rule").string(to_string(it->rule));
            w.key("canary");
            write_side(w, it->canary);
            w.key("baseline");
            write_side(w, it->baseline);
            w.key("text").string(describe(*it));
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.key("unacknowledged_aborts").begin_array();
    for (const auto& a : state_.unacknowledged_aborts) {
        w.begin_object();
        w.key("pool").string(a.pool);
        w.key("reason").string(a.reason);
        w.key("at").number(a.at.time_since_epoch().count());
        w.end_object();
    }
    w.end_array();
    if (state_.persist_pending) w.key("state_file_pending").string(state_.persist_error);
}

}  // namespace switchyard::control

// RampDriver: runs the ramp (core/ramp.hpp) on the control thread. It takes
// the `ramp` commands, judges the step's counts every `interval` (gathered
// from the workers' analysis windows), asks the gate, emits the events, and
// carries out every RampResult in the order ramp.hpp gives: persist, publish,
// count a new window, emit.
//
// The routing state and the state file stay the control plane's: the driver
// reaches them through RampHost, so a ramp's weight change goes through the
// same persist → publish → audit path as a `canary` command.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "switchyard/control/data_plane.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::control {

// What the driver needs of the control plane.
class RampHost {
  public:
    virtual ~RampHost() = default;
    virtual const RuntimeState& routing_state() const = 0;
    virtual const Settings& config() const = 0;
    // False during an upgrade or shutdown: the ramp waits (no tick changes
    // anything), as commands are refused.
    virtual bool accepting_changes() const = 0;
    // Writes the state file (atomic); false with `error` if it could not.
    virtual bool save(const RuntimeState& routing, const RolloutSnapshot& rollout,
                      std::string& error) = 0;
    // Makes `next` the routing state and publishes it (the audit line says
    // `what` changed it); `applied` runs once every worker has it. A
    // non-empty `drain_pool` lost the active role: its drain is cut after
    // the drain timeout.
    virtual void publish(const RuntimeState& next, const std::string& drain_pool,
                         const std::string& what, std::function<void()> applied) = 0;
    // The pool's health gate (passing when it has none to fail).
    virtual GateResult health_gate(const std::string& pool) const = 0;

    // A fleet (DESIGN.md "Fleet"): every change of the ramp is written to
    // the shared store first, any member may command the ramp, only the
    // leader ticks, and it judges the fleet's sums. A single instance keeps
    // these defaults.
    virtual bool shared() const { return false; }
    // Writes `routing` and `rollout` to the store (and the state file);
    // `done` gets "" once written, else why not (nothing changed here, or
    // the store's newer state was applied instead).
    virtual void commit(const RuntimeState& routing, const RolloutSnapshot& rollout,
                        std::function<void(std::string error)> done) {
        std::string error;
        save(routing, rollout, error);
        done(error);
    }
    // Whether this process ticks the ramp (the fleet's leader does).
    virtual bool runs_ramp() const { return true; }
    // The other members' counts of the ramp's current step.
    virtual void others_step_counts(const RampRecord&, std::function<void(StepWindow)> done) {
        done({});
    }
};

// Where the ramp's transitions go: the event log and webhooks, and the gate.
class RampEvents {
  public:
    virtual ~RampEvents() = default;
    virtual void emit(const RampEvent& event, RampTime time, std::uint64_t generation) = 0;
    // POSTs the event to gate_url; `done` gets the answer, on the control thread.
    virtual void ask_gate(const RampEvent& event, RampTime time, std::uint64_t generation,
                          std::function<void(GateAnswer)> done) = 0;
};

// A ramp command's outcome, for the reply and the audit log.
struct RampReply {
    bool ok = false;
    std::string error;
    bool changed = false;
    std::string forced;  // what force overrode
};

class RampDriver {
  public:
    RampDriver(boost::asio::io_context& io, RampHost& host, DataPlane& data_plane,
               RampEvents& events, std::shared_ptr<spdlog::logger> log);

    // At start (state file) and after a hot upgrade: the ramp continues at
    // its step; `counted` is what the replaced process had counted of it
    // (a hot upgrade's hand-over; empty after a restart). Returns what did
    // not survive the check against the config.
    std::vector<std::string> restore(const RolloutSnapshot& snapshot, StepWindow counted = {});

    // `ramp …` (and the emergency stop: an abort with origin "canary green
    // 0" or "rollback"); `done` runs once it is carried out.
    void command(const RampCommand& command, std::function<void(RampReply)> done);

    // What the ramp says about switch, canary, promote and rollback.
    RoutingCheck check(const RoutingCommand& command) const;

    const RolloutState& state() const { return state_; }
    RolloutSnapshot durable() const { return snapshot(state_); }
    std::uint64_t counting_window() const { return counting_; }
    // The state file was written with durable(): a pending write is done.
    void persisted() { mark_persisted(state_); }

    // status's "ramp" object (null without a ramp) and
    // "unacknowledged_aborts", as members of the object `w` is in.
    void write_status(JsonWriter& w) const;

    // switchyard_rollout_verdicts_total{result}: pass, fail, inconclusive.
    const std::array<std::uint64_t, 3>& verdicts() const { return verdicts_; }

    // Shutting down: no more ticks.
    void stop();
    // The host may run the ramp now (it became the fleet's leader): tick.
    void resume() { schedule_tick(); }

    static RampTime now();

  private:
    void carry_out(RampResult r, std::function<void(RampReply)> done);
    // carry_out's second half: the state is durable (or, for a weight-0
    // abort, goes to disk after the publish unless `persisted`).
    void finish(RampResult r, RampTime t, const RuntimeState& routing, const std::string& drain,
                const std::string& what, bool persisted, std::function<void(RampReply)> done);
    void after_publish(const RampResult& r, RampTime now, std::uint64_t generation);
    void schedule_tick();
    void tick();
    void judge(std::uint64_t window, StepWindow counted, StepWindow others);
    void count_window(std::uint64_t window);

    boost::asio::io_context& io_;
    RampHost& host_;
    DataPlane& data_plane_;
    RampEvents& events_;
    std::shared_ptr<spdlog::logger> log_;
    RolloutState state_;
    boost::asio::steady_timer timer_;
    bool tick_scheduled_ = false;
    bool ticking_ = false;           // a tick's collection is under way
    std::uint64_t counting_ = 0;     // the window the workers count (0: none)
    std::uint64_t last_window_ = 0;  // the highest window counted so far
    StepWindow inherited_;           // a hot upgrade's counts of the current window
    std::array<std::uint64_t, 3> verdicts_{};
    bool stopped_ = false;
};

}  // namespace switchyard::control

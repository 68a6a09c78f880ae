// ControlPlane: carries out control commands on the control thread.
//
// A routing change is: apply the command to the RuntimeState (pure) →
// persist the state file → publish the new snapshot to every worker → wait
// for every worker's ack → reply. If persisting fails the reply is ok:false
// and nothing is published. Every command that may change something
// (accepted, refused or failed) and every line that is not a command is
// audited with the peer's uid and pid, and changes with old → new state;
// read-only commands (status, wait-drained) are not.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/control/command.hpp"
#include "switchyard/control/control_server.hpp"
#include "switchyard/control/data_plane.hpp"
#include "switchyard/control/event_delivery.hpp"
#include "switchyard/control/fleet_sync.hpp"
#include "switchyard/control/metrics_report.hpp"
#include "switchyard/control/ramp_driver.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::control {

// What the service manager hears of a reload (app/ wires systemd's notify):
// `reloading` before the file is read, `ready` after, whatever the outcome.
// Either may be empty.
struct ReloadNotifications {
    std::function<void()> reloading;
    std::function<void(const std::string& status)> ready;
};

// What a reload answered: whether the new configuration runs, and the reply
// line: {"ok":true,"summary":"...","config_generation":2} (with "warnings"
// when there are any) or {"ok":false,"error":"..."} (with "errors", the
// configuration's, when it has them).
struct ReloadReply {
    bool ok = false;
    std::string line;
};

class ControlPlane final : public CommandHandler,
                           private RampHost,
                           private RampEvents,
                           private FleetHost {
  public:
    ControlPlane(boost::asio::io_context& io, DataPlane& data_plane,
                 std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> audit,
                 ReloadNotifications notifications = {});

    // The state the process starts from (state file or config), the config
    // it runs, and that config's generation (kFirstConfigGeneration, or what
    // a hot upgrade handed over plus one).
    // A ramp in the state file continues at its step.
    void start(std::shared_ptr<const Settings> settings, RuntimeState runtime,
               std::vector<std::string> conflicts,
               std::uint64_t config_generation = kFirstConfigGeneration,
               const RolloutSnapshot& rollout = {}, StepWindow counted = {});

    // [cluster] (DESIGN.md "Fleet"): from now on the routing state is the
    // store's (control_plane_fleet.cpp). `first` is what the store held at
    // start; when it holds a state, that state replaces the one start() was
    // given (reconciled with this member's config, written to the state
    // file) and is returned, for the workers' first snapshot.
    const RuntimeState& join_fleet(cluster::EtcdClientOptions options, const StoreRead& first,
                                   const ClusterSettings& cluster, std::string member,
                                   std::string version);

    // Where the ramp's event lines go (log.event_log); null: the error log.
    void set_event_log(std::shared_ptr<spdlog::logger> events) { events_ = std::move(events); }

    // The config generation counts the loads of the config file: 1 for the
    // one the process started with, +1 for each successful reload (a refused
    // one changes nothing) and +1 for a hot upgrade, whose successor reads
    // the file again. `status` shows it.
    static constexpr std::uint64_t kFirstConfigGeneration = 1;
    std::uint64_t config_generation() const { return config_generation_; }

    const RuntimeState& runtime() const { return runtime_; }
    const std::shared_ptr<const Settings>& settings() const { return settings_; }

    void handle(const ControlCommand& command, const PeerCredentials& peer, Reply reply) override;
    void rejected(const PeerCredentials& peer, std::string_view line,
                  std::string_view error) override;

    // Re-reads the config file (SIGHUP and `reload`); the reply says what
    // happened. The outcome is audited under `who` ("signal SIGHUP",
    // "control uid=0 pid=42").
    void reload(const std::string& who, std::function<void(ReloadReply)> done);

    // Shutting down: commands that change something are refused from now on.
    // The member leaves the fleet (its key goes at once).
    void set_stopping() {
        refusal_ = "shutting down";
        ramp_.stop();
        if (fleet_) fleet_->stop(true);
    }
    // A successor serves now and holds this member's key: stop watching
    // and reporting, without taking the key away.
    void handed_over() {
        if (fleet_) fleet_->stop(false);
    }

    // The `status` reply (also the admin listener's /status); `fleet`
    // (status fleet) adds every member of the fleet.
    void status(Reply reply, bool fleet = false);
    // The `diff` reply (also the admin listener's /diff): the compared
    // answers of mirrored requests per route (control_plane_diff.cpp).
    void diff(Reply reply);
    const ReloadStats& reload_stats() const { return reload_stats_; }
    RampMetrics ramp_metrics() const;
    // Without [cluster]: none.
    std::optional<ClusterMetrics> cluster_metrics() const {
        if (!fleet_) return std::nullopt;
        return ClusterMetrics{runtime_.generation, !fleet_->reachable(), store_revision_};
    }
    // The ramp's durable part (the state file's "rollout"), for a hot upgrade.
    RolloutSnapshot rollout() const { return ramp_.durable(); }
    // The analysis window the workers count (0: none), for a hot upgrade.
    std::uint64_t ramp_window() const { return ramp_.counting_window(); }

    // How long gate_url may take to answer (then: "gate unreachable",
    // a hold, asked again after the gate retry).
    static constexpr std::chrono::milliseconds kGateTimeout{10000};

  private:
    struct StoreEntry {
        std::string value;
        std::int64_t revision = 0;
    };
    void reset_diff(const ControlCommand& command, const PeerCredentials& peer, Reply reply);

    // RampHost
    const RuntimeState& routing_state() const override { return runtime_; }
    const Settings& config() const override { return *settings_; }
    // A fleet member cut off from its store changes nothing on its own
    // (the ramp holds; an emergency stop still applies).
    bool accepting_changes() const override {
        return refusal_.empty() && (!fleet_ || fleet_->reachable());
    }
    bool save(const RuntimeState& routing, const RolloutSnapshot& rollout,
              std::string& error) override;
    void publish(const RuntimeState& next, const std::string& drain_pool, const std::string& what,
                 std::function<void()> applied) override;
    GateResult health_gate(const std::string& pool) const override;
    bool shared() const override { return fleet_ != nullptr; }
    void commit(const RuntimeState& routing, const RolloutSnapshot& rollout,
                std::function<void(std::string error)> done) override;
    bool runs_ramp() const override { return !fleet_ || fleet_->leading(); }
    void others_step_counts(const RampRecord& ramp, std::function<void(StepWindow)> done) override;
    // RampEvents
    void emit(const RampEvent& event, RampTime time, std::uint64_t generation) override;
    void ask_gate(const RampEvent& event, RampTime time, std::uint64_t generation,
                  std::function<void(GateAnswer)> done) override;

    void ramp(const ControlCommand& command, const PeerCredentials& peer, Reply reply);
    std::string ramp_reply(bool changed) const;
    void upgrade(const ControlCommand& command, const PeerCredentials& peer, Reply reply);
    void mutate(const ControlCommand& command, const PeerCredentials& peer, Reply reply,
                int attempt = 0);
    // Durable before visible: the state file, then the workers; `applied`
    // runs once every worker has the change. False (and `error`) when the
    // state file cannot be written: nothing changed.
    bool apply_change(const PeerCredentials& peer, const std::string& text, const Transition& t,
                      Duration drain, const std::string& forced, bool shadow,
                      std::function<void()> applied, std::string& error);

    // The fleet (control_plane_fleet.cpp).
    void store_state(const std::string& value, std::int64_t mod_revision, bool reread) override;
    void store_reachable(bool reachable, const std::string& why) override;
    void member_report(std::function<void(MemberReport)> done) override;
    void member_traffic_report(std::function<void(MemberReport)> done);
    void leadership(bool ours, const std::string& holder) override;
    std::chrono::milliseconds report_period(std::chrono::milliseconds normal) const override;
    std::optional<RuntimeState> read_store_value(const std::string& value, std::int64_t revision);
    std::string fleet_refusal(const ControlCommand& command) const;
    void commit_to_store(const ControlCommand& command, const PeerCredentials& peer, Transition t,
                         std::string forced, Reply reply, int attempt);
    void replay_pending_stop(const RuntimeState& store, std::int64_t revision);
    void end_write();
    void adopt(const RuntimeState& store, const RolloutSnapshot& rollout, const std::string& why);
    void cluster_init(const ControlCommand& command, const PeerCredentials& peer, Reply reply);
    // The reply to a change written to the store: `line` with "applied":
    // "k/n", once every live member applied `generation` with wait=all.
    void reply_applied(std::string line, std::uint64_t generation, bool wait_all, Reply reply);
    void write_cluster_status(JsonWriter& w) const;
    void fleet_status(std::string line, Reply reply);
    std::string store_mode() const;  // "synced", "degraded", "empty"
    void wait_drained(const std::string& pool, Duration timeout, Reply reply);
    void schedule_drain_cut(const std::string& pool, Duration after, std::uint64_t generation);
    static std::string actor(const PeerCredentials& peer);  // "control uid=0 pid=42"
    void audit(const PeerCredentials& peer, std::string_view command, std::string_view result);
    void audit(std::string_view who, std::string_view command, std::string_view result);

    boost::asio::io_context& io_;
    DataPlane& data_plane_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<spdlog::logger> audit_;
    std::shared_ptr<spdlog::logger> events_;
    std::shared_ptr<const Settings> settings_;
    RuntimeState runtime_;
    std::vector<std::string> conflicts_;
    ReloadNotifications notifications_;
    // Why commands that change something are refused ("upgrade in
    // progress", "shutting down"); empty when they are not.
    std::string refusal_;
    ReloadStats reload_stats_;
    std::uint64_t config_generation_ = kFirstConfigGeneration;
    EventDelivery delivery_;  // webhooks and the gate
    // The fleet: null for a single instance.
    std::unique_ptr<FleetSync> fleet_;
    std::string version_;
    Duration lease_ttl_{10000};
    RuntimeState store_state_;         // the store's state as last read (before reconciling)
    RolloutSnapshot store_rollout_;    // and its ramp
    std::int64_t store_revision_ = 0;  // its mod revision; 0: the store holds none
    bool store_empty_ = false;
    std::string store_corrupt_;                  // why the store's latest value was refused
    std::optional<EmergencyStop> pending_stop_;  // made while the store was unreachable
    int writing_ = 0;                            // writes to the store under way
    std::optional<StoreEntry> deferred_;         // a watched value that came meanwhile
    RampDriver ramp_;                            // last: it calls back into the members above
};

}  // namespace switchyard::control

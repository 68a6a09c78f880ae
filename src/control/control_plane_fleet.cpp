// ControlPlane in a fleet (DESIGN.md "Fleet"): the store's state applied
// here, changes written to the store as compare-and-swap, the degraded mode
// and its emergency stop, `cluster init`, and the fleet's part of `status`.
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <ctime>

#include "routing_text.hpp"
#include "switchyard/control/control_plane.hpp"
#include "switchyard/control/state_file.hpp"
#include "switchyard/core/config_fingerprint.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::control {

using Verb = ControlCommand::Verb;
using detail::append_members;
using detail::describe;

namespace {

// How many times a change is computed again on a state another member
// wrote meanwhile before the command gives up.
constexpr int kMaxAttempts = 4;

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string utc_text(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

// The pools that take users (active, a canary above 0 %).
bool serving(const RuntimeState& s, const std::string& pool) {
    return pool == s.active || (pool == s.canary_pool && s.canary_weight_bp > 0);
}

// The value the store holds: the state file's JSON (the routing state and
// the ramp), with mirroring written also when off (a member whose config
// names a shadow pool must not bring it back).
std::string store_value(const RuntimeState& state, const RolloutSnapshot& rollout) {
    return to_json(state, rollout, true);
}

}  // namespace

const RuntimeState& ControlPlane::join_fleet(cluster::EtcdClientOptions options,
                                             const StoreRead& first, const ClusterSettings& cluster,
                                             std::string member, std::string version) {
    version_ = std::move(version);
    lease_ttl_ = cluster.lease_ttl;
    fleet_ = std::make_unique<FleetSync>(io_, std::move(options), cluster, std::move(member),
                                         static_cast<FleetHost&>(*this), log_);
    const std::string& key = fleet_->state_key();
    if (!first.reachable) {
        log_->error(
            "cluster: store unreachable at start ({}); serving this member's state "
            "(generation {}) in degraded mode",
            first.error, runtime_.generation);
    } else if (!first.found) {
        store_empty_ = true;
        log_->warn(
            "cluster: the store holds no state at {}; serving this member's own state "
            "and refusing changes until `cluster init`",
            key);
    } else if (auto state = read_store_value(first.value, first.mod_revision)) {
        const auto reconciled = reconcile(*state, *settings_);
        for (const auto& d : reconciled.dropped)
            log_->warn(
                "cluster: dropped from the store's state: {} (this member's config "
                "differs)",
                d);
        std::string error;
        if (!save(reconciled.state, ramp_.durable(), error))
            log_->error("cluster: cannot write the state file: {}", error);
        if (reconciled.state != runtime_)
            audit("cluster", "start", describe(runtime_) + " -> " + describe(reconciled.state));
        runtime_ = reconciled.state;
        for (const auto& d : ramp_.restore(store_rollout_))
            log_->warn("cluster: dropped from the store's ramp: {}", d);
        log_->info("cluster: serving the store's state (revision {}): {}", first.mod_revision,
                   describe(runtime_));
    }
    fleet_->start(first);
    return runtime_;
}

std::optional<RuntimeState> ControlPlane::read_store_value(const std::string& value,
                                                           std::int64_t revision) {
    RolloutSnapshot rollout;
    std::string error;
    auto state = from_json(value, rollout, error);
    store_empty_ = false;
    store_revision_ = revision;  // a later change replaces even a bad value
    if (!state) {
        store_corrupt_ = error;
        log_->error(
            "cluster: {} at revision {} is not a routing state ({}); keeping generation "
            "{}",
            fleet_->state_key(), revision, error, runtime_.generation);
        return std::nullopt;
    }
    store_corrupt_.clear();
    store_state_ = *state;
    store_rollout_ = std::move(rollout);
    return state;
}

void ControlPlane::store_state(const std::string& value, std::int64_t revision, bool reread) {
    if (writing_ > 0) {
        // This member's own write is under way: its answer comes first.
        deferred_ = StoreEntry{value, revision};
        return;
    }
    if (value.empty()) {
        if (!store_empty_)
            log_->warn(
                "cluster: the store holds no state at {}; serving generation {} and "
                "refusing changes until `cluster init`",
                fleet_->state_key(), runtime_.generation);
        store_empty_ = true;
        store_revision_ = 0;
        return;
    }
    const bool known = revision == store_revision_ && !store_empty_;
    if ((known && !pending_stop_ && !reread) || revision < store_revision_) return;
    auto state = read_store_value(value, revision);
    if (!state) return;
    if (pending_stop_) return replay_pending_stop(*state, revision);
    adopt(*state, store_rollout_, "store revision " + std::to_string(revision));
}

void ControlPlane::replay_pending_stop(const RuntimeState& store, std::int64_t revision) {
    const EmergencyStop stop = *pending_stop_;
    pending_stop_.reset();
    const std::string why = "store revision " + std::to_string(revision);
    const auto& ramp = store_rollout_.ramp;
    if (ramp && ramp->pool == stop.canary_pool &&
        (ramp->state == RampState::running || ramp->state == RampState::holding ||
         ramp->state == RampState::paused)) {
        // The fleet's ramp of that pool still runs in the store: keep the
        // stop here, take the store's ramp, and abort it there (its leader
        // would raise the weight again otherwise).
        const Transition kept = replay_stop(store, stop);
        if (kept.ok) {
            adopt(kept.next, store_rollout_, why + " with the emergency stop kept");
            RampCommand abort;
            abort.kind = RampCommand::Kind::abort;
            abort.origin = "canary " + stop.canary_pool + " 0 while the store was unreachable";
            ramp_.command(abort, [this](RampReply r) {
                audit("cluster", "emergency stop",
                      r.ok ? "the fleet's ramp aborted in the store" : "not written: " + r.error);
            });
            return;
        }
    }
    const Transition t = replay_stop(store, stop);
    if (!t.ok) {
        log_->warn(
            "cluster: the emergency stop of canary {} is not written: {}; the store's "
            "state wins",
            stop.canary_pool, t.error);
        audit("cluster", "emergency stop", "dropped: " + t.error);
        return adopt(store, store_rollout_, why);
    }
    if (!t.changed) return adopt(store, store_rollout_, why);
    ++writing_;
    fleet_->write(store_value(t.next, store_rollout_), revision, [this, stop, t](StoreWrite w) {
        --writing_;
        if (w.result == StoreWrite::Result::written) {
            store_revision_ = w.revision;
            store_state_ = t.next;
            audit("cluster", "emergency stop",
                  "written to the store at revision " + std::to_string(w.revision));
            adopt(t.next, store_rollout_, "store revision " + std::to_string(w.revision));
        } else if (w.result == StoreWrite::Result::conflict) {
            audit("cluster", "emergency stop", "dropped: the store changed meanwhile");
            if (!w.current.empty()) deferred_ = StoreEntry{w.current, w.current_revision};
        } else {
            pending_stop_ = stop;  // written at the next re-read
        }
        end_write();
    });
}

void ControlPlane::end_write() {
    if (writing_ > 0 || !deferred_) return;
    const StoreEntry entry = std::move(*deferred_);
    deferred_.reset();
    store_state(entry.value, entry.revision, false);
}

void ControlPlane::adopt(const RuntimeState& store, const RolloutSnapshot& rollout,
                         const std::string& why) {
    const auto reconciled = reconcile(store, *settings_);
    for (const auto& d : reconciled.dropped)
        log_->warn("cluster: dropped from the store's state: {} (this member's config differs)", d);
    const RuntimeState next = reconciled.state;
    // The fleet's ramp, as the store holds it (ticked by the leader only).
    const auto restore_ramp = [this, rollout] {
        if (rollout == ramp_.durable()) return;
        for (const auto& d : ramp_.restore(rollout))
            log_->warn("cluster: dropped from the store's ramp: {}", d);
    };
    if (next == runtime_) return restore_ramp();
    std::string error;
    if (!save(next, rollout, error))
        log_->error("cluster: cannot write the state file: {}; applying the store's state anyway",
                    error);
    const RuntimeState before = runtime_;
    runtime_ = next;
    restore_ramp();
    data_plane_.publish(settings_, runtime_, [this, before, next, why] {
        audit("cluster", why, describe(before) + " -> " + describe(next));
        for (const std::string& pool : {before.active, before.canary_pool})
            if (!pool.empty() && serving(before, pool) && !serving(next, pool))
                schedule_drain_cut(pool, settings_->server.drain_timeout, next.generation);
        if (fleet_) fleet_->report();
    });
}

void ControlPlane::store_reachable(bool reachable, const std::string&) {
    if (reachable && fleet_) fleet_->report();
}

void ControlPlane::member_report(std::function<void(MemberReport)> done) {
    // While a ramp runs, its step's counts go along for the leader.
    if (ramp_in_progress(ramp_.state()) && ramp_.counting_window() != 0) {
        const RampRecord record = ramp_.state().ramp->record;
        data_plane_.collect_step_window(
            ramp_.counting_window(),
            [this, record, done = std::move(done)](StepWindow counted) mutable {
                MemberRampReport ramp;
                ramp.pool = record.pool;
                ramp.step = static_cast<std::uint32_t>(record.step);
                ramp.step_start_ms = record.step_start.time_since_epoch().count();
                ramp.counts = std::move(counted);
                member_traffic_report(
                    [ramp = std::move(ramp), done = std::move(done)](MemberReport r) mutable {
                        r.ramp = std::move(ramp);
                        done(std::move(r));
                    });
            });
        return;
    }
    member_traffic_report(std::move(done));
}

void ControlPlane::member_traffic_report(std::function<void(MemberReport)> done) {
    data_plane_.collect(false, [this, done = std::move(done)](TrafficTotals stats) {
        MemberReport r;
        r.member = fleet_->member();
        r.generation = runtime_.generation;
        r.version = version_;
        r.pid = ::getpid();
        r.config = config_fingerprint(*settings_);
        r.cluster = store_mode();
        r.updated_ms = unix_ms(std::chrono::system_clock::now());
        const auto routing = data_plane_.routing();
        for (const auto& pool : settings_->pools) {
            MemberPoolReport p;
            p.name = pool.name;
            for (const auto& s : pool.servers)
                p.inflight += stats.server(pool.name, s.address.to_string()).inflight;
            const int index = routing ? routing->find_pool(pool.name) : -1;
            if (index >= 0)
                for (const auto& s : routing->pools[static_cast<std::size_t>(index)].servers) {
                    ++p.servers;
                    if (s.healthy && s.admin == AdminState::enabled) ++p.healthy;
                }
            r.pools.push_back(std::move(p));
        }
        done(std::move(r));
    });
}

void ControlPlane::leadership(bool ours, const std::string& holder) {
    audit("cluster", "leadership",
          ours ? "this member leads the fleet's ramp" : "led by " + holder);
    if (ours) ramp_.resume();
}

std::chrono::milliseconds ControlPlane::report_period(std::chrono::milliseconds normal) const {
    // The leader judges on what the members reported: every interval.
    if (!ramp_in_progress(ramp_.state())) return normal;
    return std::min(normal, ramp_.state().ramp->record.settings.interval);
}

void ControlPlane::others_step_counts(const RampRecord& ramp,
                                      std::function<void(StepWindow)> done) {
    if (!fleet_) return done({});
    fleet_->members([this, ramp, done = std::move(done)](bool ok, std::vector<MemberReport> members,
                                                         std::string error) {
        StepWindow sum;
        if (!ok)
            log_->warn("cluster: the members' counts are unreadable ({}); judging on ours", error);
        const std::int64_t start = ramp.step_start.time_since_epoch().count();
        for (auto& m : members) {
            if (!fleet_ || m.member == fleet_->member() || !m.ramp) continue;
            // Only counts of the step being judged.
            if (m.ramp->pool != ramp.pool || m.ramp->step != ramp.step ||
                m.ramp->step_start_ms != start)
                continue;
            m.ramp->counts.id = sum.id;
            sum.add(m.ramp->counts);
        }
        done(std::move(sum));
    });
}

void ControlPlane::commit(const RuntimeState& routing, const RolloutSnapshot& rollout,
                          std::function<void(std::string error)> done) {
    std::string error;
    if (!fleet_->reachable()) {
        // Cut off from the store, the ramp may only stop its canary, here.
        const bool stop = routing.active == runtime_.active &&
                          routing.canary_pool == runtime_.canary_pool &&
                          routing.canary_weight_bp == 0 && runtime_.canary_weight_bp > 0;
        if (!stop)
            return done("cluster store unreachable (" + fleet_->unreachable_why() +
                        "); nothing changed");
        if (!save(routing, rollout, error))
            log_->error("cluster: cannot write the state file: {}", error);
        pending_stop_ = EmergencyStop{routing.canary_pool, routing.active};
        return done({});
    }
    if (store_empty_)
        return done("cluster store is empty; run cluster init on one member; nothing changed");
    ++writing_;
    fleet_->write(store_value(routing, rollout), store_revision_,
                  [this, routing, rollout, done = std::move(done)](StoreWrite w) {
                      --writing_;
                      if (w.result == StoreWrite::Result::written) {
                          store_empty_ = false;
                          store_corrupt_.clear();
                          store_revision_ = w.revision;
                          store_state_ = routing;
                          store_rollout_ = rollout;
                          std::string error;
                          if (!save(reconcile(routing, *settings_).state, rollout, error))
                              log_->error("cluster: cannot write the state file: {}", error);
                          done({});
                      } else if (w.result == StoreWrite::Result::conflict) {
                          done("the fleet's state changed meanwhile; the store's state applies");
                          deferred_.reset();
                          store_state(w.current, w.current_revision, false);
                      } else {
                          done("cluster store unreachable (" + w.error + "); nothing changed");
                      }
                      end_write();
                  });
}

std::string ControlPlane::store_mode() const {
    if (!fleet_->reachable()) return "degraded";
    return store_empty_ ? "empty" : "synced";
}

std::string ControlPlane::fleet_refusal(const ControlCommand& command) const {
    if (!fleet_->reachable()) {
        if (changes_routing(command.verb) && is_emergency_stop(command.routing, runtime_))
            return {};
        if (command.verb == Verb::ramp && command.ramp &&
            command.ramp->kind == RampCommand::Kind::abort)
            return {};
        return "cluster store unreachable since " + utc_text(fleet_->unreachable_since()) + " (" +
               fleet_->unreachable_why() +
               "); only an emergency stop (canary POOL 0, rollback of a canary, ramp abort) "
               "applies while degraded; nothing changed";
    }
    if (store_empty_)
        return "cluster store is empty; run cluster init on one member; nothing changed";
    return {};
}

void ControlPlane::commit_to_store(const ControlCommand& command, const PeerCredentials& peer,
                                   Transition t, std::string forced, Reply reply, int attempt) {
    ++writing_;
    fleet_->write(
        store_value(t.next, store_rollout_), store_revision_,
        [this, command, peer, t, forced, attempt, reply = std::move(reply)](StoreWrite w) mutable {
            --writing_;
            if (w.result == StoreWrite::Result::failed) {
                const std::string error =
                    "cluster store unreachable (" + w.error + "); nothing changed";
                audit(peer, command.text, "refused: " + error);
                reply(error_reply(error));
                return end_write();
            }
            if (w.result == StoreWrite::Result::conflict) {
                // Another member changed the state first: take its
                // state, then compute the command again on it
                // (if-generation refuses it there).
                deferred_.reset();
                store_state(w.current, w.current_revision, false);
                if (attempt + 1 >= kMaxAttempts) {
                    const std::string error =
                        "the fleet's state kept changing while this command was tried; "
                        "nothing changed";
                    audit(peer, command.text, "refused: " + error);
                    reply(error_reply(error));
                    return end_write();
                }
                mutate(command, peer, std::move(reply), attempt + 1);
                return end_write();
            }
            store_empty_ = false;
            store_corrupt_.clear();
            store_revision_ = w.revision;
            store_state_ = t.next;
            Transition local = t;
            local.next = reconcile(t.next, *settings_).state;
            const Duration drain = command.drain.value_or(settings_->server.drain_timeout);
            const bool shadow = command.verb == Verb::shadow;
            std::string line = state_reply(t.next, true, t.drain_pool, shadow);
            append_members(line, "\"revision\":" + std::to_string(w.revision));
            auto applied = [this, line, generation = t.next.generation, wait = command.wait_all,
                            reply]() mutable {
                reply_applied(std::move(line), generation, wait, std::move(reply));
            };
            std::string error;
            if (!apply_change(peer, command.text, local, drain, forced, shadow, std::move(applied),
                              error))
                log_->error(
                    "cluster: change written to the store (revision {}) but "
                    "not to the state file: {}",
                    w.revision, error);
            end_write();
        });
}

void ControlPlane::reply_applied(std::string line, std::uint64_t generation, bool wait_all,
                                 Reply reply) {
    struct Wait {
        std::string line;
        std::uint64_t generation;
        bool all;
        Reply reply;
        std::chrono::steady_clock::time_point deadline;
        boost::asio::steady_timer timer;
    };
    // A dead member's key outlives it by up to one lease TTL.
    auto wait = std::make_shared<Wait>(
        Wait{std::move(line), generation, wait_all, std::move(reply),
             std::chrono::steady_clock::now() + lease_ttl_ + std::chrono::seconds(5),
             boost::asio::steady_timer(io_)});
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, wait, poll] {
        fleet_->members([this, wait, poll](bool ok, std::vector<MemberReport> members,
                                           std::string error) {
            // This member applied it (its own report may still be on its way).
            for (auto& m : members)
                if (fleet_ && m.member == fleet_->member())
                    m.generation = std::max(m.generation, runtime_.generation);
            const FleetCount count = count_applied(members, wait->generation);
            const bool all = ok && count.applied == count.members;
            const bool late = std::chrono::steady_clock::now() >= wait->deadline;
            if (wait->all && !all && !late) {
                // Each poll reads every member's key: a large fleet is
                // polled less often (20 ms up to 50 members, then longer).
                wait->timer.expires_after(
                    std::chrono::milliseconds(20 * std::max<std::size_t>(1, count.members / 50)));
                wait->timer.async_wait([poll](boost::system::error_code ec) {
                    if (!ec && *poll) (*poll)();
                });
                return;
            }
            std::string members_json;
            JsonWriter w(members_json);
            w.key("applied").string(ok ? std::to_string(count.applied) + "/" +
                                             std::to_string(count.members)
                                       : "unknown");
            if (!ok) w.key("applied_error").string(error);
            if (!count.behind.empty()) {
                w.key("behind").begin_array();
                for (const auto& b : count.behind)
                    w.string(b);
                w.end_array();
            }
            std::string line = std::move(wait->line);
            append_members(line, members_json);
            if (wait->all && !all) {
                // The change is in the store; the pipeline learns that not
                // every member serves it yet.
                line.replace(line.find("\"ok\":true"), 9, "\"ok\":false");
                append_members(line, "\"error\":\"not every live member applied generation " +
                                         std::to_string(wait->generation) + " in time\"");
            }
            wait->reply(std::move(line));
            *poll = nullptr;
        });
    };
    (*poll)();
}

void ControlPlane::cluster_init(const ControlCommand& command, const PeerCredentials& peer,
                                Reply reply) {
    const auto refuse = [&](const std::string& error) {
        audit(peer, command.text, "refused: " + error);
        reply(error_reply(error));
    };
    if (!fleet_) return refuse("no [cluster] in the config: this is a single instance");
    if (!fleet_->reachable())
        return refuse("cluster store unreachable (" + fleet_->unreachable_why() +
                      "); nothing changed");
    const RuntimeState init = runtime_;
    ++writing_;
    fleet_->write(store_value(init, ramp_.durable()), 0,
                  [this, init, peer, text = command.text, reply = std::move(reply)](StoreWrite w) {
                      --writing_;
                      if (w.result == StoreWrite::Result::written) {
                          store_empty_ = false;
                          store_corrupt_.clear();
                          store_revision_ = w.revision;
                          store_state_ = init;
                          store_rollout_ = ramp_.durable();
                          audit(peer, text,
                                "ok: store initialised at revision " + std::to_string(w.revision) +
                                    " with " + describe(init));
                          std::string line = state_reply(init, true);
                          append_members(line, "\"revision\":" + std::to_string(w.revision));
                          reply_applied(std::move(line), init.generation, false, reply);
                      } else {
                          const std::string error =
                              w.result == StoreWrite::Result::conflict
                                  ? "the cluster store already holds a state; nothing changed"
                                  : "cluster store unreachable (" + w.error + "); nothing changed";
                          audit(peer, text, "refused: " + error);
                          reply(error_reply(error));
                          if (w.result == StoreWrite::Result::conflict && !w.current.empty())
                              deferred_ = StoreEntry{w.current, w.current_revision};
                      }
                      end_write();
                  });
}

void ControlPlane::write_cluster_status(JsonWriter& w) const {
    w.begin_object();
    w.key("member").string(fleet_->member());
    w.key("key").string(fleet_->state_key());
    w.key("store").string(store_mode());
    if (!fleet_->reachable()) {
        w.key("degraded_since").string(utc_text(fleet_->unreachable_since()));
        w.key("reason").string(fleet_->unreachable_why());
    }
    w.key("revision").number(store_revision_);
    if (!store_corrupt_.empty()) w.key("refused_value").string(store_corrupt_);
    if (pending_stop_) w.key("pending_stop").string(pending_stop_->canary_pool);
    w.key("config").string(config_fingerprint(*settings_));
    w.key("leader").string_or_null(fleet_->leader());
    w.end_object();
}

void ControlPlane::fleet_status(std::string line, Reply reply) {
    fleet_->members([this, line = std::move(line), reply = std::move(reply)](
                        bool ok, std::vector<MemberReport> members, std::string error) mutable {
        std::string members_json;
        JsonWriter w(members_json);
        if (!ok) w.key("members_error").string(error);
        const std::string fleet_config_print = fleet_config(members);
        const auto now = unix_ms(std::chrono::system_clock::now());
        w.key("members").begin_array();
        for (const auto& m : members) {
            w.begin_object().key("member").string(m.member);
            w.key("generation").number(m.generation);
            w.key("age_ms").number(std::max<std::int64_t>(0, now - m.updated_ms));
            w.key("store").string(m.cluster);
            w.key("config").string(m.config);
            w.key("config_differs").boolean(m.config != fleet_config_print);
            w.key("version").string(m.version);
            w.key("pid").number(m.pid);
            w.key("pools").begin_array();
            for (const auto& p : m.pools)
                w.begin_object()
                    .key("name")
                    .string(p.name)
                    .key("inflight")
                    .number(p.inflight)
                    .key("healthy")
                    .number(p.healthy)
                    .key("servers")
                    .number(p.servers)
                    .end_object();
            w.end_array().end_object();
        }
        w.end_array();
        append_members(line, members_json);
        reply(std::move(line));
    });
}

}  // namespace switchyard::control

#include "switchyard/control/control_plane.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>

#include "routing_text.hpp"
#include "shadow_json.hpp"
#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/state_file.hpp"
#include "switchyard/core/clock.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/health_gate.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp_event_text.hpp"
#include "switchyard/core/reload_rules.hpp"
#include "switchyard/core/runtime_transitions.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::control {

using Verb = ControlCommand::Verb;

namespace {

std::string error_line(std::string_view message) {
    return error_reply(message);
}

struct PoolTotals {
    std::int64_t inflight = 0, tunnels = 0, idle = 0;
};

// One window of a pool: rates per second, the 5xx share and quantiles in
// milliseconds (null without requests). Fixed decimals (1.500, never
// 1.5E0): millisecond and per-second figures to the thousandth, the share
// to the millionth.
void write_window(JsonWriter& w, const WindowSnapshot& s) {
    w.begin_object();
    w.key("requests").number(s.requests());
    w.key("requests_per_second").number_fixed(s.requests_per_second(), 3);
    w.key("errors_per_second").number_fixed(s.errors_per_second(), 3);
    w.key("error_ratio").number_fixed(s.error_ratio(), 6);
    const auto ms = [&](std::string_view name, double q) {
        w.key(name);
        if (s.requests() == 0)
            w.null();
        else
            w.number_fixed(static_cast<double>(s.latency.quantile(q)) / 1000.0, 3);
    };
    ms("p50_ms", 0.5);
    ms("p90_ms", 0.9);
    ms("p99_ms", 0.99);
    w.key("span_s").number_fixed(std::chrono::duration<double>(s.span).count(), 3);
    w.end_object();
}

void write_rates(JsonWriter& w, const PoolStats& p) {
    w.begin_object();
    w.key("10s");
    write_window(w, p.last_10s);
    w.key("60s");
    write_window(w, p.last_60s);
    w.end_object();
}

// The audit log quotes what a peer sent as a JSON string, and escapes the
// result the same way (it may repeat a peer's words): a quote, a control
// character or a byte that is not UTF-8 cannot forge or break a line. At
// most the first 256 bytes of a command are kept.
std::string quoted(std::string_view text) {
    constexpr std::size_t kMax = 256;
    std::string out = "\"";
    append_json_escaped(out, text.substr(0, kMax));
    out += '"';
    if (text.size() > kMax) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

std::string escaped(std::string_view text) {
    std::string out;
    append_json_escaped(out, text);
    return out;
}

}  // namespace

namespace detail {

// Mirroring is named when it is on, or (with_shadow) for the shadow
// command, whose "off" is worth saying.
std::string describe(const RuntimeState& s, bool with_shadow) {
    std::string out = "active=" + s.active;
    if (!s.previous.empty()) out += " previous=" + s.previous;
    if (!s.canary_pool.empty()) {
        out += " canary=" + s.canary_pool + ":" + format_weight_percent(s.canary_weight_bp) + "%";
    }
    out += " generation=" + std::to_string(s.generation);
    // Server admin state: only the entries that differ from the config.
    for (const auto& [pool, servers] : s.servers)
        for (const auto& [address, admin] : servers) {
            out += " server=" + pool + "/" + address + ":";
            out += admin_state_name(admin.state);
            if (admin.weight) out += ",weight=" + std::to_string(*admin.weight);
        }
    for (const auto& [name, percent] : s.flags)
        out += " flag=" + name + ":" + format_flag_percent(percent) + "%";
    if (with_shadow || !s.shadow.pool.empty()) out += " " + detail::describe_shadow(s.shadow);
    return out;
}

void write_strings(JsonWriter& w, const std::vector<std::string>& list) {
    w.begin_array();
    for (const auto& s : list)
        w.string(s);
    w.end_array();
}

}  // namespace detail

using detail::describe;
using detail::write_strings;

ControlPlane::ControlPlane(boost::asio::io_context& io, DataPlane& data_plane,
                           std::shared_ptr<spdlog::logger> log,
                           std::shared_ptr<spdlog::logger> audit, ReloadNotifications notifications)
    : io_(io),
      data_plane_(data_plane),
      log_(std::move(log)),
      audit_(std::move(audit)),
      notifications_(std::move(notifications)),
      delivery_(io, log_),
      ramp_(io, *this, data_plane, *this, log_) {}

void ControlPlane::start(std::shared_ptr<const Settings> settings, RuntimeState runtime,
                         std::vector<std::string> conflicts, std::uint64_t config_generation,
                         const RolloutSnapshot& rollout, StepWindow counted) {
    settings_ = std::move(settings);
    runtime_ = std::move(runtime);
    conflicts_ = std::move(conflicts);
    config_generation_ = config_generation;
    delivery_.configure(settings_->rollout);
    for (const auto& d : ramp_.restore(rollout, std::move(counted)))
        log_->warn("state file: dropped {}", d);
}

std::string ControlPlane::actor(const PeerCredentials& peer) {
    return "control uid=" + std::to_string(peer.uid) + " pid=" + std::to_string(peer.pid);
}

void ControlPlane::audit(const PeerCredentials& peer, std::string_view command,
                         std::string_view result) {
    audit(actor(peer), command, result);
}

void ControlPlane::audit(std::string_view who, std::string_view command, std::string_view result) {
    audit_->info("{} command={} {}", who, quoted(command), escaped(result));
}

void ControlPlane::rejected(const PeerCredentials& peer, std::string_view line,
                            std::string_view error) {
    audit(peer, line, "unparseable: " + std::string(error));
}

void ControlPlane::handle(const ControlCommand& command, const PeerCredentials& peer, Reply reply) {
    const bool read_only = command.verb == Verb::status || command.verb == Verb::wait_drained ||
                           (command.verb == Verb::diff && !command.reset);
    if (!read_only && !refusal_.empty()) {
        // From the start of an upgrade until it ends, no change may fall
        // between the two processes.
        audit(peer, command.text, "refused: " + refusal_);
        reply(error_line(refusal_));
        return;
    }
    switch (command.verb) {
        case Verb::status:
            status(std::move(reply), command.fleet);
            return;
        case Verb::switch_:
        case Verb::canary:
        case Verb::promote:
        case Verb::rollback:
        case Verb::server:
        case Verb::flag:
        case Verb::shadow:
            mutate(command, peer, std::move(reply));
            return;
        case Verb::wait_drained:
            wait_drained(command.pool, command.timeout.value_or(Duration(60000)), std::move(reply));
            return;
        case Verb::reload:
            reload(actor(peer), [reply = std::move(reply)](ReloadReply result) {
                reply(std::move(result.line));
            });
            return;
        case Verb::upgrade:
            upgrade(command, peer, std::move(reply));
            return;
        case Verb::ramp:
            ramp(command, peer, std::move(reply));
            return;
        case Verb::diff:
            if (command.reset)
                reset_diff(command, peer, std::move(reply));
            else
                diff(std::move(reply));
            return;
        case Verb::cluster:
            cluster_init(command, peer, std::move(reply));
            return;
    }
    reply(error_line("not implemented"));
}

void ControlPlane::upgrade(const ControlCommand& command, const PeerCredentials& peer,
                           Reply reply) {
    refusal_ = "upgrade in progress";
    audit(peer, command.text, "started");
    data_plane_.upgrade(command.binary, [this, peer, text = command.text,
                                         reply = std::move(reply)](UpgradeResult result) {
        // After a successful upgrade this process only drains: it stays
        // refusing; the successor takes the commands.
        if (!result.ok && refusal_ == "upgrade in progress") refusal_.clear();
        audit(peer, text,
              result.ok ? "ok, new pid " + std::to_string(result.pid) : "failed: " + result.error);
        std::string line;
        JsonWriter w(line);
        w.begin_object().key("ok").boolean(result.ok);
        if (result.ok)
            w.key("pid").number(result.pid).key("old_pid").number(result.old_pid);
        else
            w.key("error").string(result.error);
        w.end_object();
        reply(std::move(line));
    });
}

void ControlPlane::status(Reply reply, bool fleet) {
    data_plane_.collect(true, [this, fleet, reply = std::move(reply)](TrafficTotals stats) {
        const auto health = data_plane_.health();
        std::string line;
        JsonWriter w(line);
        w.begin_object().key("ok").boolean(true);
        write_routing_fields(w, runtime_);
        w.key("config_generation").number(config_generation_);
        w.key("pools").begin_array();
        for (const auto& p : settings_->pools) {
            const bool canary = p.name == runtime_.canary_pool && runtime_.canary_weight_bp > 0;
            w.begin_object().key("name").string(p.name);
            w.key("role").string(p.name == runtime_.active     ? "active"
                                 : canary                      ? "canary"
                                 : p.name == runtime_.previous ? "previous"
                                                               : "standby");
            // The pool's sums come before its servers.
            PoolTotals totals;
            for (const auto& s : p.servers) {
                const ServerStats& counts = stats.server(p.name, s.address.to_string());
                totals.inflight += counts.inflight;
                totals.tunnels += counts.tunnels;
                totals.idle += counts.idle_connections;
            }
            w.key("inflight").number(totals.inflight);
            w.key("tunnels").number(totals.tunnels);
            w.key("idle_connections").number(totals.idle);
            const PoolStats& counters = stats.pool(p.name);
            w.key("retries").number(counters.retries);
            w.key("retry_budget_exhausted").number(counters.budget_exhausted);
            w.key("canary_failovers").number(counters.canary_failovers);
            w.key("fallbacks").number(counters.fallbacks);
            if (settings_->server.metrics) {
                w.key("rates");
                write_rates(w, counters);
            }
            w.key("servers").begin_array();
            const auto admin_pool = runtime_.servers.find(p.name);
            for (const auto& s : p.servers) {
                const std::string address = s.address.to_string();
                ServerAdmin admin;
                if (admin_pool != runtime_.servers.end())
                    if (auto it = admin_pool->second.find(address); it != admin_pool->second.end())
                        admin = it->second;
                const ServerStats& counts = stats.server(p.name, address);
                w.begin_object().key("address").string(address);
                w.key("admin").string(admin_state_name(admin.state));
                w.key("weight").number(admin.weight.value_or(s.weight));
                w.key("inflight").number(counts.inflight);
                w.key("tunnels").number(counts.tunnels);
                w.key("idle_connections").number(counts.idle_connections);
                w.key("requests").number(counts.attempts);
                w.key("failures").number(counts.failures);
                w.key("limit_reached").number(counts.limited);
                w.key("responses_5xx").number(counts.responses[4]);
                if (const ServerHealth* h = health->find(p.name, address)) {
                    w.key("health").string(to_string(h->state));
                    if (h->last_check.outcome != CheckOutcome::none)
                        w.key("last_check").string(describe(h->last_check));
                    w.key("reason").string(h->reason);
                    w.key("ejections").number(h->ejections);
                }
                w.end_object();
            }
            w.end_array().end_object();
        }
        w.end_array();
        w.key("flags").begin_array();
        for (const auto& f : settings_->flags) {
            const auto it = runtime_.flags.find(f.name);
            const std::uint32_t percent = it != runtime_.flags.end() ? it->second : f.percent_milli;
            w.begin_object().key("name").string(f.name);
            w.key("percent").number_fixed(percent / 1000.0, 3);
            w.key("pools");
            write_strings(w, f.pools);
            w.key("requests").number(stats.flag(f.name));
            if (!f.description.empty()) w.key("description").string(f.description);
            w.end_object();
        }
        w.end_array();
        w.key("shadow");
        detail::write_shadow_status(w, *settings_, runtime_.shadow, *health, stats);
        w.key("conflicts");
        write_strings(w, conflicts_);
        ramp_.write_status(w);
        if (fleet_) {
            w.key("cluster");
            write_cluster_status(w);
        }
        w.end_object();
        if (fleet && fleet_) return fleet_status(std::move(line), std::move(reply));
        reply(std::move(line));
    });
}

void ControlPlane::mutate(const ControlCommand& command, const PeerCredentials& peer, Reply reply,
                          int attempt) {
    const std::string text = command.text;
    const bool shadow = command.verb == Verb::shadow;
    // A fleet member changes the store's state, or (cut off from the store)
    // stops a canary on its own.
    if (fleet_) {
        if (const std::string refusal = fleet_refusal(command); !refusal.empty()) {
            audit(peer, text, "refused: " + refusal);
            reply(error_line(refusal));
            return;
        }
    }
    const bool via_store = fleet_ && fleet_->reachable();
    // A ramp refuses what would fight it, and turns `canary POOL 0` and
    // `rollback` into its abort (the emergency stop, never refused).
    const RoutingCheck check = ramp_.check(command.routing);
    if (check.action == RoutingCheck::Action::refuse) {
        audit(peer, text, "refused: " + check.reason);
        reply(error_line(check.reason));
        return;
    }
    if (check.action == RoutingCheck::Action::abort_ramp) {
        RampCommand abort;
        abort.kind = RampCommand::Kind::abort;
        abort.origin = check.reason;
        const RuntimeState before = runtime_;
        ramp_.command(abort, [this, peer, text, before, reply = std::move(reply)](RampReply r) {
            if (!r.ok) {
                audit(peer, text, "refused: " + r.error);
                reply(error_line(r.error));
                return;
            }
            audit(peer, text, "ramp aborted: " + describe(before) + " -> " + describe(runtime_));
            reply(ramp_reply(true));
        });
        return;
    }
    Transition t = apply(via_store ? store_state_ : runtime_, command.routing, *settings_);
    if (!t.ok) {
        audit(peer, text, "refused: " + t.error);
        reply(error_line(t.error));
        return;
    }
    if (!t.changed) {
        audit(peer, text, "ok, no change");
        reply(state_reply(t.next, false, {}, shadow));
        return;
    }
    // Health gate: no users are sent to a pool that cannot serve them,
    // unless `force` says so (audited). Stopping a canary is never gated.
    std::string forced;
    if (!check.forced.empty()) forced = " (forced: " + check.forced + ")";
    if (auto target = gate_target(command.routing, runtime_)) {
        const auto gate = health_gate(*target);
        if (!gate.pass && !command.routing.force) {
            audit(peer, text, "refused: " + gate.message);
            reply(error_line(gate.message + "; nothing changed (add force to override)"));
            return;
        }
        if (!gate.pass) forced += " (forced past the health gate: " + gate.message + ")";
    }
    if (via_store) {
        commit_to_store(command, peer, std::move(t), std::move(forced), std::move(reply), attempt);
        return;
    }
    const Duration drain = command.drain.value_or(settings_->server.drain_timeout);
    std::string error;
    // An emergency stop of a fleet member cut off from its store says so.
    const bool local_stop = fleet_ != nullptr;
    auto done = [t, shadow, local_stop, reply] {
        std::string line = state_reply(t.next, true, t.drain_pool, shadow);
        if (local_stop) detail::append_members(line, "\"store\":\"pending\"");
        reply(std::move(line));
    };
    if (!apply_change(peer, text, t, drain, forced, shadow, std::move(done), error)) {
        reply(error_line("cannot write the state file: " + error + "; nothing changed"));
        return;
    }
    // Cut off from the store: the stop goes on top of its state when it returns.
    if (fleet_) pending_stop_ = EmergencyStop{t.next.canary_pool, t.next.active};
}

bool ControlPlane::apply_change(const PeerCredentials& peer, const std::string& text,
                                const Transition& t, Duration drain, const std::string& forced,
                                bool shadow, std::function<void()> applied, std::string& error) {
    // Durable before visible: a change the state file does not hold would
    // be undone by a restart.
    if (!save(t.next, ramp_.durable(), error)) {
        audit(peer, text, "failed: " + error);
        return false;
    }
    ramp_.persisted();
    const RuntimeState before = runtime_;
    runtime_ = t.next;
    data_plane_.publish(
        settings_, runtime_,
        [this, peer, text, before, t, drain, forced, shadow, applied = std::move(applied)] {
            audit(peer, text,
                  describe(before, shadow) + " -> " + describe(t.next, shadow) + forced);
            if (!t.drain_pool.empty()) schedule_drain_cut(t.drain_pool, drain, t.next.generation);
            if (fleet_) fleet_->report();
            applied();
        });
    return true;
}

GateResult ControlPlane::health_gate(const std::string& pool) const {
    const auto routing = data_plane_.routing();
    const PoolSettings* settings = settings_->find_pool(pool);
    const int index = routing ? routing->find_pool(pool) : -1;
    if (settings == nullptr || index < 0) return RampContext::passing_health();
    return evaluate_health_gate(routing->pools[static_cast<std::size_t>(index)],
                                *data_plane_.health(), settings->min_healthy);
}

bool ControlPlane::save(const RuntimeState& routing, const RolloutSnapshot& rollout,
                        std::string& error) {
    // Off is recorded where the config would otherwise bring its shadow back.
    return save_state_file(settings_->server.state_file, routing, rollout, error,
                           !settings_->shadow.pool.empty());
}

void ControlPlane::publish(const RuntimeState& next, const std::string& drain_pool,
                           const std::string& what, std::function<void()> applied) {
    const RuntimeState before = runtime_;
    runtime_ = next;
    data_plane_.publish(
        settings_, runtime_, [this, before, next, drain_pool, what, applied = std::move(applied)] {
            audit("ramp", what, describe(before) + " -> " + describe(next));
            if (!drain_pool.empty())
                schedule_drain_cut(drain_pool, settings_->server.drain_timeout, next.generation);
            if (applied) applied();
        });
}

void ControlPlane::emit(const RampEvent& event, RampTime time, std::uint64_t generation) {
    const std::string line = ramp_event_json(event, time, generation);
    if (events_)
        events_->info("{}", line);
    else
        log_->info("ramp event {}", line);
    delivery_.deliver(event, time, generation);
}

void ControlPlane::ask_gate(const RampEvent& event, RampTime time, std::uint64_t generation,
                            std::function<void(GateAnswer)> done) {
    delivery_.ask_gate(settings_->rollout.gate_url, event, time, generation, kGateTimeout,
                       std::move(done));
}

void ControlPlane::ramp(const ControlCommand& command, const PeerCredentials& peer, Reply reply) {
    const std::string text = command.text;
    if (!command.ramp) {
        reply(error_line("usage: ramp POOL | ramp pause|resume|promote|abort|ack"));
        return;
    }
    if (fleet_) {
        if (const std::string refusal = fleet_refusal(command); !refusal.empty()) {
            audit(peer, text, "refused: " + refusal);
            reply(error_line(refusal));
            return;
        }
    }
    if (command.routing.if_generation && *command.routing.if_generation != runtime_.generation) {
        const std::string error = "generation is " + std::to_string(runtime_.generation) +
                                  ", not " + std::to_string(*command.routing.if_generation);
        audit(peer, text, "refused: " + error);
        reply(error_line(error));
        return;
    }
    const RuntimeState before = runtime_;
    ramp_.command(*command.ramp, [this, peer, text, before, reply = std::move(reply)](RampReply r) {
        if (!r.ok) {
            audit(peer, text, "refused: " + r.error);
            reply(error_line(r.error));
            return;
        }
        std::string outcome = r.changed ? "ok" : "ok, no change";
        if (const auto& ramp = ramp_.state().ramp)
            outcome += ": ramp of " + ramp->record.pool + " " +
                       std::string(to_string(ramp->record.state)) + " at step " +
                       std::to_string(ramp->record.step + 1);
        if (before != runtime_) outcome += "; " + describe(before) + " -> " + describe(runtime_);
        if (!r.forced.empty()) outcome += " (forced: " + r.forced + ")";
        audit(peer, text, outcome);
        reply(ramp_reply(r.changed));
    });
}

RampMetrics ControlPlane::ramp_metrics() const {
    RampMetrics m;
    if (const auto& ramp = ramp_.state().ramp) {
        m.pool = ramp->record.pool;
        m.state = std::string(to_string(ramp->record.state));
        m.step = ramp->record.step + 1;
        if (ramp_in_progress(ramp_.state()) && !ramp->recent.empty()) {
            const CanaryJudgement& j = ramp->recent.back();
            const auto side = [](const std::string& pool, const SideNumbers& n) {
                RampMetrics::Side s{pool, n.requests, n.error_ratio, std::nullopt};
                if (n.timed > 0) s.p99_seconds = static_cast<double>(n.p99_micros) / 1e6;
                return s;
            };
            m.judged = {side(ramp->record.pool, j.canary), side(runtime_.active, j.baseline)};
        }
    }
    for (std::size_t i = 0; i < 3; ++i)
        m.verdicts[i] = ramp_.verdicts()[i];
    const WebhookCounts webhooks = delivery_.counts();
    m.webhooks_ok = webhooks.ok;
    m.webhooks_failed = webhooks.failed;
    m.webhooks_retried = webhooks.retried;
    return m;
}

// A ramp command's reply: the routing fields, the ramp as status shows it.
std::string ControlPlane::ramp_reply(bool changed) const {
    std::string line;
    JsonWriter w(line);
    w.begin_object().key("ok").boolean(true).key("changed").boolean(changed);
    write_routing_fields(w, runtime_);
    ramp_.write_status(w);
    w.end_object();
    return line;
}

// After `switch POOL drain=D`, what is still on the old pool after D is cut,
// unless a later change made it take traffic again. Only requests that
// started before `generation` (the switch) are cut: with overlapping drains
// (switch, switch back, switch again within D), a request that started on the
// pool while it was active again is drained by the later switch's own timer.
void ControlPlane::schedule_drain_cut(const std::string& pool, Duration after,
                                      std::uint64_t generation) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, after);
    timer->async_wait([this, timer, pool, generation](boost::system::error_code ec) {
        if (ec) return;
        const bool serving = pool == runtime_.active ||
                             (pool == runtime_.canary_pool && runtime_.canary_weight_bp > 0);
        if (serving) return;
        data_plane_.cut_pool(pool, generation, [this, pool, generation](std::size_t cut) {
            if (cut > 0)
                log_->warn("drain of pool {} (generation {}) timed out: {} connections cut", pool,
                           generation, cut);
        });
    });
}

void ControlPlane::wait_drained(const std::string& pool, Duration timeout, Reply reply) {
    if (settings_->find_pool(pool) == nullptr) {
        reply(error_line("pool " + pool + " does not exist"));
        return;
    }
    struct Wait {
        ControlPlane* self;
        std::string pool;
        Reply reply;
        Clock::time_point start = Clock::now();
        Clock::time_point deadline;
        boost::asio::steady_timer timer;
        Wait(ControlPlane* s, std::string p, Reply r, Duration timeout)
            : self(s),
              pool(std::move(p)),
              reply(std::move(r)),
              deadline(start + timeout),
              timer(s->io_) {}
    };
    auto w = std::make_shared<Wait>(this, pool, std::move(reply), timeout);
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [w, poll] {
        w->self->data_plane_.collect(false, [w, poll](TrafficTotals stats) {
            PoolTotals t;
            for (const auto& [key, s] : stats.servers) {
                if (key.first != w->pool) continue;
                t.inflight += s.inflight;
                t.tunnels += s.tunnels;
                t.idle += s.idle_connections;
            }
            const bool drained = t.inflight == 0 && t.tunnels == 0 && t.idle == 0;
            const auto now = Clock::now();
            if (drained || now >= w->deadline) {
                std::string line;
                JsonWriter j(line);
                j.begin_object().key("ok").boolean(drained);
                if (!drained)
                    j.key("error").string("timeout: pool " + w->pool + " still has " +
                                          std::to_string(t.inflight) + " requests in flight, " +
                                          std::to_string(t.tunnels) + " tunnels and " +
                                          std::to_string(t.idle) + " idle upstream connections");
                j.key("pool").string(w->pool);
                j.key("drained").boolean(drained);
                j.key("inflight").number(t.inflight);
                j.key("tunnels").number(t.tunnels);
                j.key("idle_connections").number(t.idle);
                j.key("waited_ms")
                    .number(std::chrono::duration_cast<std::chrono::milliseconds>(now - w->start)
                                .count());
                j.end_object();
                w->reply(std::move(line));
                *poll = nullptr;  // break the cycle
                return;
            }
            w->timer.expires_after(std::chrono::milliseconds(20));
            w->timer.async_wait([poll](boost::system::error_code ec) {
                if (!ec && *poll) (*poll)();
            });
        });
    };
    (*poll)();
}

}  // namespace switchyard::control

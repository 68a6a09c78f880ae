// ControlPlane: `reload` and SIGHUP (DESIGN.md "Configuration"): the file
// read again, checked against the running state, and published, or refused
// with the running configuration kept.
#include "routing_text.hpp"
#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/control_plane.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/reload_rules.hpp"
#include "switchyard/core/runtime_transitions.hpp"

namespace switchyard::control {

using detail::describe;
using detail::write_strings;

void ControlPlane::reload(const std::string& who, std::function<void(ReloadReply)> done) {
    // Every outcome is audited: a refusal with its reason (and the first of
    // the config's errors, if it has them).
    const auto refuse = [&](const std::string& error,
                            const std::vector<std::string>* errors = nullptr) {
        std::string outcome = "refused: " + error;
        if (errors != nullptr && !errors->empty()) {
            outcome += ": " + errors->front();
            if (errors->size() > 1)
                outcome += " (and " + std::to_string(errors->size() - 1) + " more)";
        }
        audit(who, "reload", outcome);
        std::string line;
        JsonWriter w(line);
        w.begin_object().key("ok").boolean(false).key("error").string(error);
        if (errors != nullptr) {
            w.key("errors");
            write_strings(w, *errors);
        }
        w.end_object();
        done({false, std::move(line)});
    };
    if (!refusal_.empty()) {
        refuse(refusal_);
        return;
    }
    // Every outcome from here on counts (switchyard_reloads_total).
    done = [this, done = std::move(done)](ReloadReply r) {
        ++(r.ok ? reload_stats_.succeeded : reload_stats_.failed);
        reload_stats_.last_ok = r.ok;
        reload_stats_.last_time_seconds =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        done(std::move(r));
    };
    if (notifications_.reloading) notifications_.reloading();
    // Whatever the outcome, the service is ready again afterwards.
    done = [this, done = std::move(done)](ReloadReply r) {
        if (notifications_.ready) notifications_.ready("reloaded " + settings_->source_path);
        done(std::move(r));
    };
    auto result = config::load_file(settings_->source_path);
    if (!result.ok()) {
        std::vector<std::string> errors;
        for (const auto& d : result.diagnostics)
            if (d.severity == config::Diagnostic::Severity::error) errors.push_back(d.to_string());
        log_->error("reload refused: {} has errors", settings_->source_path);
        refuse("the configuration has errors; the running one is kept", &errors);
        return;
    }
    auto next = std::make_shared<const Settings>(std::move(*result.settings));
    // DESIGN.md "State": a reload must not remove the pools that take traffic,
    // nor move users between pools by changing the seed mid-canary.
    if (auto refusal = reload_refusal(*settings_, *next, runtime_)) {
        log_->error("reload refused: {}", *refusal);
        refuse(*refusal + "; the running configuration is kept");
        return;
    }
    std::string listener_error;
    if (!data_plane_.prepare_config(*next, listener_error)) {
        log_->error("reload refused: {}", listener_error);
        refuse(listener_error + "; the running configuration is kept");
        return;
    }
    // Log targets are opened at start; say so instead of ignoring a change.
    const std::vector<std::string> warnings = reload_warnings(*settings_, *next);
    for (const auto& w : warnings)
        log_->warn("reload: {}", w);
    auto reconciled = reconcile(runtime_, *next);
    // The audit text is made now: another command may run before the
    // workers have acknowledged.
    std::string outcome = "ok: config generation " + std::to_string(config_generation_) + " -> " +
                          std::to_string(config_generation_ + 1);
    if (reconciled.state != runtime_)
        outcome += "; " + describe(runtime_) + " -> " + describe(reconciled.state);
    ++config_generation_;
    settings_ = next;
    delivery_.configure(settings_->rollout);
    runtime_ = reconciled.state;
    conflicts_ = reconciled.conflicts;
    for (const auto& d : reconciled.dropped)
        log_->warn("reload: dropped state entry: {}", d);
    std::string line;
    JsonWriter w(line);
    w.begin_object().key("ok").boolean(true);
    w.key("summary").string(config::summary(*next));
    w.key("config_generation").number(config_generation_);
    if (!warnings.empty()) {
        w.key("warnings");
        write_strings(w, warnings);
    }
    w.end_object();
    data_plane_.publish(settings_, runtime_,
                        [this, who, outcome, line = std::move(line), path = next->source_path,
                         done = std::move(done)]() mutable {
                            log_->info("reloaded {}", path);
                            audit(who, "reload", outcome);
                            done({true, std::move(line)});
                        });
}

}  // namespace switchyard::control

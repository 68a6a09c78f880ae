#include "switchyard/core/runtime_transitions.hpp"

#include <algorithm>

#include "switchyard/core/feature_flags.hpp"

namespace switchyard {

namespace {

const ServerSettings* find_server(const PoolSettings& pool, std::string_view address) {
    for (const auto& s : pool.servers)
        if (s.address.to_string() == address) return &s;
    return nullptr;
}

std::string describe_canary(const std::string& pool, std::uint32_t weight_bp) {
    if (pool.empty()) return "none";
    return pool + " " + format_weight_percent(weight_bp) + "%";
}

std::string describe_shadow(const ShadowRuntime& shadow) {
    if (shadow.pool.empty()) return "off";
    return shadow.pool + " " + format_flag_percent(shadow.percent_milli) + "%" +
           (shadow.diff ? " diff" : "");
}

Transition refuse(const RuntimeState& current, std::string error) {
    Transition t;
    t.error = std::move(error);
    t.next = current;
    return t;
}

Transition unchanged(const RuntimeState& current) {
    Transition t;
    t.ok = true;
    t.next = current;
    return t;
}

Transition changed_to(RuntimeState next, std::string drain_pool = {}) {
    Transition t;
    t.ok = true;
    t.changed = true;
    ++next.generation;
    t.next = std::move(next);
    t.drain_pool = std::move(drain_pool);
    return t;
}

// The one definition of a cutover, shared by switch, promote and rollback to
// the previous pool: the old active pool keeps the canary slot at 0 % so a
// later `canary` or `rollback` can name it without surprises.
Transition switch_to(const RuntimeState& current, const std::string& pool,
                     const Settings& settings) {
    if (settings.find_pool(pool) == nullptr)
        return refuse(current, "pool " + pool + " does not exist");
    if (pool == current.active) return unchanged(current);
    RuntimeState next = current;
    next.previous = current.active;
    next.active = pool;
    next.canary_pool = current.active;
    next.canary_weight_bp = 0;
    // The dark build went live: nothing is left to mirror to it.
    if (next.shadow.pool == pool) next.shadow = {};
    return changed_to(std::move(next), current.active);
}

Transition set_canary(const RuntimeState& current, const RoutingCommand& c,
                      const Settings& settings) {
    if (settings.find_pool(c.pool) == nullptr)
        return refuse(current, "pool " + c.pool + " does not exist");
    if (c.pool == current.active)
        return refuse(current, c.pool + " is the active pool; a canary must be another pool");
    if (c.weight_bp > 10000)
        return refuse(current, "canary weight must be between 0 and 100 percent");
    if (current.canary_pool == c.pool && current.canary_weight_bp == c.weight_bp)
        return unchanged(current);
    RuntimeState next = current;
    next.canary_pool = c.pool;
    next.canary_weight_bp = c.weight_bp;
    return changed_to(std::move(next));
}

Transition server_admin(const RuntimeState& current, const RoutingCommand& c,
                        const Settings& settings) {
    const PoolSettings* pool = settings.find_pool(c.pool);
    if (pool == nullptr) return refuse(current, "pool " + c.pool + " does not exist");
    const ServerSettings* server = find_server(*pool, c.server);
    if (server == nullptr)
        return refuse(current, "server " + c.server + " is not in pool " + c.pool);
    ServerAdmin admin;
    if (auto p = current.servers.find(c.pool); p != current.servers.end())
        if (auto s = p->second.find(c.server); s != p->second.end()) admin = s->second;
    switch (c.action) {
        case RoutingCommand::ServerAction::drain:
            admin.state = AdminState::draining;
            break;
        case RoutingCommand::ServerAction::disable:
            admin.state = AdminState::disabled;
            break;
        case RoutingCommand::ServerAction::enable:
            admin.state = AdminState::enabled;
            break;
        case RoutingCommand::ServerAction::weight:
            if (c.server_weight < 1 || c.server_weight > kMaxServerWeight)
                return refuse(current, "server weight must be between 1 and " +
                                           std::to_string(kMaxServerWeight) +
                                           " (use disable to take a server out)");
            // An override equal to the config weight is no override: the
            // state keeps only what differs from the config.
            if (c.server_weight == server->weight)
                admin.weight.reset();
            else
                admin.weight = c.server_weight;
            break;
    }
    RuntimeState next = current;
    auto& pool_admin = next.servers[c.pool];
    if (admin == ServerAdmin{})
        pool_admin.erase(c.server);
    else
        pool_admin[c.server] = admin;
    if (pool_admin.empty()) next.servers.erase(c.pool);
    if (next.servers == current.servers) return unchanged(current);
    return changed_to(std::move(next));
}

Transition set_flag(const RuntimeState& current, const RoutingCommand& c,
                    const Settings& settings) {
    if (settings.find_flag(c.flag) == nullptr)
        return refuse(current, "flag " + c.flag + " does not exist (flags come from [[flags]])");
    if (c.flag_percent_milli > 100000)
        return refuse(current, "flag percent must be between 0 and 100");
    const auto it = current.flags.find(c.flag);
    if (it != current.flags.end() && it->second == c.flag_percent_milli) return unchanged(current);
    RuntimeState next = current;
    next.flags[c.flag] = c.flag_percent_milli;
    return changed_to(std::move(next));
}

Transition set_shadow(const RuntimeState& current, const RoutingCommand& c,
                      const Settings& settings) {
    ShadowRuntime shadow;
    if (!c.pool.empty()) {
        if (settings.find_pool(c.pool) == nullptr)
            return refuse(current, "pool " + c.pool + " does not exist");
        if (c.pool == current.active)
            return refuse(current,
                          c.pool + " is the active pool; a shadow pool must be another pool");
        if (c.shadow_percent_milli > 100000)
            return refuse(current, "shadow percent must be between 0 and 100");
        shadow = {c.pool, c.shadow_percent_milli, c.shadow_diff};
    }
    if (shadow == current.shadow) return unchanged(current);
    RuntimeState next = current;
    next.shadow = std::move(shadow);
    return changed_to(std::move(next));
}

}  // namespace

std::string format_weight_percent(std::uint32_t weight_bp) {
    std::string out = std::to_string(weight_bp / 100) + ".";
    const std::uint32_t cents = weight_bp % 100;
    if (cents < 10) out += '0';
    out += std::to_string(cents);
    return out;
}

Transition apply(const RuntimeState& current, const RoutingCommand& command,
                 const Settings& settings) {
    if (command.if_generation && *command.if_generation != current.generation)
        return refuse(current, "generation is " + std::to_string(current.generation) + ", not " +
                                   std::to_string(*command.if_generation));
    switch (command.kind) {
        case RoutingCommand::Kind::switch_to:
            return switch_to(current, command.pool, settings);
        case RoutingCommand::Kind::canary:
            return set_canary(current, command, settings);
        case RoutingCommand::Kind::promote:
            if (current.canary_pool.empty() || current.canary_weight_bp == 0)
                return refuse(current, "nothing to promote: no canary has a weight above 0");
            return switch_to(current, current.canary_pool, settings);
        case RoutingCommand::Kind::rollback:
            if (!current.canary_pool.empty() && current.canary_weight_bp > 0) {
                // Aborting a canary is the emergency stop: it never switches.
                RuntimeState next = current;
                next.canary_weight_bp = 0;
                return changed_to(std::move(next));
            }
            if (current.previous.empty())
                return refuse(current, "nothing to roll back: no canary and no previous pool");
            if (settings.find_pool(current.previous) == nullptr)
                return refuse(current, "previous pool " + current.previous + " does not exist");
            return switch_to(current, current.previous, settings);
        case RoutingCommand::Kind::server_admin:
            return server_admin(current, command, settings);
        case RoutingCommand::Kind::flag:
            return set_flag(current, command, settings);
        case RoutingCommand::Kind::shadow:
            return set_shadow(current, command, settings);
    }
    return refuse(current, "unknown command");
}

bool is_emergency_stop(const RoutingCommand& command, const RuntimeState& current) {
    switch (command.kind) {
        case RoutingCommand::Kind::canary:
            return command.weight_bp == 0;
        case RoutingCommand::Kind::rollback:
            return !current.canary_pool.empty() && current.canary_weight_bp > 0;
        default:
            return false;
    }
}

Transition replay_stop(const RuntimeState& store, const EmergencyStop& stop) {
    if (store.active != stop.active)
        return refuse(store, "the store's active pool is " + store.active + ", not " + stop.active +
                                 " as when the canary was stopped");
    if (store.canary_pool != stop.canary_pool || store.canary_weight_bp == 0)
        return unchanged(store);
    RuntimeState next = store;
    next.canary_weight_bp = 0;
    return changed_to(std::move(next));
}

ReconciledState reconcile(const RuntimeState& loaded, const Settings& settings) {
    ReconciledState r;
    RuntimeState& s = r.state;
    s = loaded;
    const RuntimeState config = initial_runtime_state(settings);

    if (settings.find_pool(s.active) == nullptr) {
        r.dropped.push_back("active pool " + s.active + " (not in the config; using " +
                            config.active + ")");
        s.active = config.active;
    } else if (s.active != config.active) {
        r.conflicts.push_back("active " + s.active + " from state; config says " + config.active);
    }

    if (!s.previous.empty()) {
        if (settings.find_pool(s.previous) == nullptr) {
            r.dropped.push_back("previous pool " + s.previous + " (not in the config)");
            s.previous.clear();
        } else if (s.previous == s.active) {
            r.dropped.push_back("previous pool " + s.previous + " (it is the active pool)");
            s.previous.clear();
        }
    }

    if (s.canary_pool.empty()) {
        s.canary_weight_bp = 0;
    } else if (settings.find_pool(s.canary_pool) == nullptr) {
        r.dropped.push_back("canary pool " + s.canary_pool + " (not in the config)");
        s.canary_pool.clear();
        s.canary_weight_bp = 0;
    } else if (s.canary_pool == s.active) {
        r.dropped.push_back("canary pool " + s.canary_pool + " (it is the active pool)");
        s.canary_pool.clear();
        s.canary_weight_bp = 0;
    }
    s.canary_weight_bp = std::min<std::uint32_t>(s.canary_weight_bp, 10000);
    // A canary at 0 % takes no traffic wherever it points: only a canary
    // that carries users on either side is worth reporting.
    if ((s.canary_weight_bp > 0 || config.canary_weight_bp > 0) &&
        (s.canary_pool != config.canary_pool || s.canary_weight_bp != config.canary_weight_bp)) {
        r.conflicts.push_back("canary " + describe_canary(s.canary_pool, s.canary_weight_bp) +
                              " from state; config says " +
                              describe_canary(config.canary_pool, config.canary_weight_bp));
    }

    for (auto pool_it = s.servers.begin(); pool_it != s.servers.end();) {
        const PoolSettings* pool = settings.find_pool(pool_it->first);
        if (pool == nullptr) {
            r.dropped.push_back("server admin states of pool " + pool_it->first +
                                " (not in the config)");
            pool_it = s.servers.erase(pool_it);
            continue;
        }
        auto& admins = pool_it->second;
        for (auto it = admins.begin(); it != admins.end();) {
            const ServerSettings* server = find_server(*pool, it->first);
            if (server == nullptr) {
                r.dropped.push_back("server " + it->first + " of pool " + pool_it->first +
                                    " (not in the config)");
                it = admins.erase(it);
                continue;
            }
            if (it->second.weight && *it->second.weight == server->weight)
                it->second.weight.reset();
            if (it->second == ServerAdmin{})
                it = admins.erase(it);
            else
                ++it;
        }
        if (admins.empty())
            pool_it = s.servers.erase(pool_it);
        else
            ++pool_it;
    }

    // Flags: the state's percent wins; a flag new in the config starts at
    // the config's; one the config no longer has is dropped.
    for (auto it = s.flags.begin(); it != s.flags.end();) {
        const auto in_config = config.flags.find(it->first);
        if (in_config == config.flags.end()) {
            r.dropped.push_back("flag " + it->first + " (not in the config)");
            it = s.flags.erase(it);
            continue;
        }
        it->second = std::min<std::uint32_t>(it->second, 100000);
        if (it->second != in_config->second)
            r.conflicts.push_back("flag " + it->first + " " + format_flag_percent(it->second) +
                                  "% from state; config says " +
                                  format_flag_percent(in_config->second) + "%");
        ++it;
    }
    for (const auto& [name, percent] : config.flags)
        s.flags.try_emplace(name, percent);

    // Mirroring: the state's wins; a pool the config no longer has ends it.
    if (!s.shadow.pool.empty() && settings.find_pool(s.shadow.pool) == nullptr) {
        r.dropped.push_back("shadow pool " + s.shadow.pool + " (not in the config)");
        s.shadow = {};
    } else if (!s.shadow.pool.empty() && s.shadow.pool == s.active) {
        r.dropped.push_back("shadow pool " + s.shadow.pool + " (it is the active pool)");
        s.shadow = {};
    }
    if (s.shadow.pool.empty()) s.shadow = {};
    s.shadow.percent_milli = std::min<std::uint32_t>(s.shadow.percent_milli, 100000);
    if (s.shadow != config.shadow)
        r.conflicts.push_back("shadow " + describe_shadow(s.shadow) + " from state; config says " +
                              describe_shadow(config.shadow));
    return r;
}

}  // namespace switchyard

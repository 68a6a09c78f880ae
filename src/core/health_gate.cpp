#include "switchyard/core/health_gate.hpp"

#include <algorithm>

namespace switchyard {

namespace {

std::string describe_server(const GateServer& s) {
    std::string text = s.address;
    text += ' ';
    if (!s.out_of_service.empty()) return text + s.out_of_service;
    text += to_string(s.state);
    if (!s.reason.empty()) text += " (" + s.reason + ")";
    return text;
}

std::string_view admin_word(AdminState admin) {
    switch (admin) {
        case AdminState::enabled:
            return "";
        case AdminState::draining:
            return "draining";
        case AdminState::disabled:
            return "disabled";
    }
    return "";
}

}  // namespace

GateResult evaluate_health_gate(std::string_view pool, std::span<const GateServer> servers,
                                const MinHealthySettings& min) {
    GateResult r;
    r.total = static_cast<std::uint32_t>(servers.size());
    std::string failing;
    for (const GateServer& s : servers) {
        if (s.out_of_service.empty() && s.state == HealthState::healthy) {
            ++r.healthy;
            continue;
        }
        failing += failing.empty() ? ": " : ", ";
        failing += describe_server(s);
    }
    const std::uint64_t by_percent =
        (std::uint64_t{r.total} * min.percent + 99) / 100;  // rounded up
    r.required = static_cast<std::uint32_t>(std::max<std::uint64_t>(min.count, by_percent));
    r.pass = r.healthy >= r.required;
    r.message = "pool " + std::string(pool) + " has " + std::to_string(r.healthy) + " of " +
                std::to_string(r.total) + (r.total == 1 ? " server" : " servers") +
                " healthy (needs " + std::to_string(min.count) + " and " +
                std::to_string(min.percent) + " %)" + failing;
    return r;
}

std::vector<GateServer> gate_servers(const PoolState& pool, const HealthView& view) {
    std::vector<GateServer> out;
    out.reserve(pool.servers.size());
    for (const ServerState& server : pool.servers) {
        GateServer g;
        g.address = server.address;
        if (const ServerHealth* h = view.find(pool.name, server.address)) {
            g.state = h->state;
            g.reason = h->reason;
        } else {
            g.reason = describe(CheckResult{});
        }
        g.out_of_service = std::string(admin_word(server.admin));
        if (g.out_of_service.empty() && server.resolved.empty()) g.out_of_service = "unresolved";
        out.push_back(std::move(g));
    }
    return out;
}

GateResult evaluate_health_gate(const PoolState& pool, const HealthView& view,
                                const MinHealthySettings& min) {
    const std::vector<GateServer> servers = gate_servers(pool, view);
    return evaluate_health_gate(pool.name, servers, min);
}

std::optional<std::string> gate_target(const RoutingCommand& command, const RuntimeState& current) {
    using Kind = RoutingCommand::Kind;
    switch (command.kind) {
        case Kind::switch_to:
            if (command.pool == current.active) return std::nullopt;
            return command.pool;
        case Kind::promote:
            if (current.canary_pool.empty()) return std::nullopt;
            return current.canary_pool;
        case Kind::canary:
            if (command.weight_bp == 0) return std::nullopt;
            if (command.pool == current.canary_pool &&
                command.weight_bp <= current.canary_weight_bp)
                return std::nullopt;
            return command.pool;
        case Kind::rollback:
            if (!current.canary_pool.empty() && current.canary_weight_bp > 0) return std::nullopt;
            if (current.previous.empty()) return std::nullopt;
            return current.previous;
        case Kind::server_admin:
        case Kind::flag:
        case Kind::shadow:  // the shadow pool's health never gates the primary
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace switchyard

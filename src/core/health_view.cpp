#include "switchyard/core/health_view.hpp"

#include <utility>

namespace switchyard {

std::string_view to_string(HealthState state) {
    switch (state) {
        case HealthState::unknown:
            return "unknown";
        case HealthState::healthy:
            return "healthy";
        case HealthState::unhealthy:
            return "unhealthy";
        case HealthState::ejected:
            return "ejected";
    }
    return "unknown";
}

std::string_view to_string(CheckOutcome outcome) {
    switch (outcome) {
        case CheckOutcome::none:
            return "none";
        case CheckOutcome::ok:
            return "ok";
        case CheckOutcome::timeout:
            return "timeout";
        case CheckOutcome::refused:
            return "refused";
        case CheckOutcome::reset:
            return "reset";
        case CheckOutcome::bad_status:
            return "bad_status";
        case CheckOutcome::bad_response:
            return "bad_response";
        case CheckOutcome::other:
            return "other";
    }
    return "other";
}

std::optional<HealthState> health_state_from_string(std::string_view text) {
    for (auto s :
         {HealthState::unknown, HealthState::healthy, HealthState::unhealthy, HealthState::ejected})
        if (to_string(s) == text) return s;
    return std::nullopt;
}

std::optional<CheckOutcome> check_outcome_from_string(std::string_view text) {
    for (auto o : {CheckOutcome::none, CheckOutcome::ok, CheckOutcome::timeout,
                   CheckOutcome::refused, CheckOutcome::reset, CheckOutcome::bad_status,
                   CheckOutcome::bad_response, CheckOutcome::other})
        if (to_string(o) == text) return o;
    return std::nullopt;
}

namespace {

std::string with_detail(std::string text, const std::string& detail) {
    if (!detail.empty()) {
        text += ": ";
        text += detail;
    }
    return text;
}

}  // namespace

std::string describe(const CheckResult& result) {
    switch (result.outcome) {
        case CheckOutcome::none:
            return "no check finished yet";
        case CheckOutcome::ok:
            return "ok";
        case CheckOutcome::timeout:
            return "timeout";
        case CheckOutcome::refused:
            return "connection refused";
        case CheckOutcome::reset:
            return "connection reset";
        case CheckOutcome::bad_status:
            return "status " + std::to_string(result.status);
        case CheckOutcome::bad_response:
            return with_detail("bad response", result.detail);
        case CheckOutcome::other:
            return with_detail("error", result.detail);
    }
    return "error";
}

CheckStatus unchecked_status() {
    return CheckStatus{HealthState::healthy, CheckResult{}, "no active checks"};
}

ServerHealth combine_health(const CheckStatus& checks, const PassiveStatus& passive) {
    ServerHealth h;
    h.ejections = passive.ejections;
    h.last_check = checks.last;
    if (passive.ejected) {
        h.state = HealthState::ejected;
        h.ejected_until = passive.until;
        h.reason = passive.reason;
    } else {
        h.state = checks.state;
        h.reason = checks.reason;
    }
    return h;
}

void HealthView::set(std::string_view pool, std::string_view address, ServerHealth health) {
    auto it = pools_.find(pool);
    if (it == pools_.end()) it = pools_.emplace(std::string(pool), Servers{}).first;
    auto s = it->second.find(address);
    if (s == it->second.end())
        it->second.emplace(std::string(address), std::move(health));
    else
        s->second = std::move(health);
}

const ServerHealth* HealthView::find(std::string_view pool, std::string_view address) const {
    auto it = pools_.find(pool);
    if (it == pools_.end()) return nullptr;
    auto s = it->second.find(address);
    return s == it->second.end() ? nullptr : &s->second;
}

bool HealthView::usable(std::string_view pool, std::string_view address) const {
    const ServerHealth* h = find(pool, address);
    if (h == nullptr) return true;
    return h->state == HealthState::unknown || h->state == HealthState::healthy;
}

bool HealthView::usable(std::string_view pool, std::string_view address, HealthTime now) const {
    const ServerHealth* h = find(pool, address);
    if (h == nullptr) return true;
    if (h->state == HealthState::ejected) return now >= h->ejected_until;
    return h->state == HealthState::unknown || h->state == HealthState::healthy;
}

std::vector<std::vector<bool>> HealthView::usable_mask(const RoutingState& routing,
                                                       HealthTime now) const {
    std::vector<std::vector<bool>> mask;
    mask.reserve(routing.pools.size());
    for (const PoolState& pool : routing.pools) {
        std::vector<bool> row;
        row.reserve(pool.servers.size());
        for (const ServerState& server : pool.servers)
            row.push_back(usable(pool.name, server.address, now));
        mask.push_back(std::move(row));
    }
    return mask;
}

void apply_health(RoutingState& routing, const HealthView& view, HealthTime now) {
    for (auto& pool : routing.pools)
        for (auto& server : pool.servers)
            server.healthy = view.usable(pool.name, server.address, now);
}

}  // namespace switchyard

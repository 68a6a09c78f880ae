#include "switchyard/core/outlier_policy.hpp"

#include <algorithm>
#include <limits>

namespace switchyard {

PassiveResult passive_result_for_status(std::uint16_t status) {
    if (status >= 500 && status <= 599) return {PassiveOutcome::server_error, status};
    return {PassiveOutcome::success, status};
}

std::string describe(const PassiveResult& result) {
    switch (result.outcome) {
        case PassiveOutcome::success:
            return "ok";
        case PassiveOutcome::connect_failure:
            return "connect failure";
        case PassiveOutcome::reset:
            return "connection reset";
        case PassiveOutcome::timeout:
            return "timeout";
        case PassiveOutcome::server_error:
            return "status " + std::to_string(result.status);
    }
    return "error";
}

std::size_t max_ejected_servers(std::size_t servers, std::uint32_t percent) {
    if (servers == 0 || percent == 0) return 0;
    const std::size_t by_percent = servers * percent / 100;
    return std::min(servers, std::max<std::size_t>(by_percent, 1));
}

OutlierPolicy::OutlierPolicy(const OutlierSettings& settings,
                             const std::vector<std::string>& servers) {
    reconfigure(settings, servers);
}

void OutlierPolicy::reconfigure(const OutlierSettings& settings,
                                const std::vector<std::string>& servers) {
    settings_ = settings;
    std::map<std::string, Server, std::less<>> next;
    for (const std::string& address : servers) {
        auto old = servers_.find(address);
        next.emplace(address, old == servers_.end() ? Server{} : old->second);
    }
    servers_ = std::move(next);
}

Duration OutlierPolicy::ejection_time(std::uint32_t level) const {
    const Duration base = std::max(settings_.base_ejection, Duration(0));
    const Duration cap = std::max(base, kMaxEjection);
    const auto multiplier = static_cast<Duration::rep>(std::clamp(level, 1u, kMaxLevel));
    // base × 10 cannot overflow unless the base is beyond 29 million years.
    if (base.count() > std::numeric_limits<Duration::rep>::max() / multiplier) return cap;
    return std::min(base * multiplier, cap);
}

std::string OutlierPolicy::failure_reason(const Server& s) const {
    return std::to_string(s.failures) + " consecutive failures, last: " + describe(s.last);
}

std::vector<OutlierEvent> OutlierPolicy::record(std::string_view address,
                                                const PassiveResult& result, HealthTime now) {
    std::vector<OutlierEvent> events = release(now);
    auto it = servers_.find(address);
    if (it == servers_.end()) return events;
    Server& s = it->second;
    if (result.outcome == PassiveOutcome::success) {
        s.failures = 0;
        s.cap_reported = false;
        return events;
    }
    if (s.ejected) return events;  // from an attempt that started before the ejection

    if (s.failures < std::numeric_limits<std::uint32_t>::max()) ++s.failures;
    s.last = result;
    const std::uint32_t threshold = std::max<std::uint32_t>(settings_.consecutive_failures, 1);
    if (s.failures < threshold) return events;

    const std::size_t ejected = ejected_count();
    const std::size_t cap = max_ejected();
    if (ejected >= cap) {
        if (!s.cap_reported) {
            s.cap_reported = true;
            OutlierEvent e;
            e.kind = OutlierEvent::Kind::cap_reached;
            e.address = it->first;
            e.ejections = s.ejections;
            e.reason = failure_reason(s) + "; not ejected: " + std::to_string(ejected) + " of " +
                       std::to_string(servers_.size()) + " servers already ejected (max " +
                       std::to_string(settings_.max_ejected_percent) + " %)";
            events.push_back(std::move(e));
        }
        return events;
    }

    // Decay: one level forgiven per full cap time back in service.
    if (s.level > 0 && s.ejections > 0) {
        const Duration period = ejection_time(kMaxLevel);
        if (period.count() > 0) {
            const auto served = std::chrono::duration_cast<Duration>(now - s.returned);
            const auto forgiven = served.count() > 0 ? served / period : 0;
            s.level = forgiven >= static_cast<Duration::rep>(s.level)
                          ? 0
                          : s.level - static_cast<std::uint32_t>(forgiven);
        }
    }
    s.level = std::min(s.level + 1, kMaxLevel);
    if (s.ejections < std::numeric_limits<std::uint32_t>::max()) ++s.ejections;
    s.ejected = true;
    s.until = now + ejection_time(s.level);
    s.reason = failure_reason(s);
    s.failures = 0;
    s.cap_reported = false;

    OutlierEvent e;
    e.kind = OutlierEvent::Kind::ejected;
    e.address = it->first;
    e.until = s.until;
    e.ejections = s.ejections;
    e.reason = s.reason;
    events.push_back(std::move(e));
    return events;
}

std::vector<OutlierEvent> OutlierPolicy::release(HealthTime now) {
    std::vector<OutlierEvent> events;
    for (auto& [address, s] : servers_) {
        if (!s.ejected || s.until > now) continue;
        s.ejected = false;
        s.returned = s.until;
        s.reason.clear();
        OutlierEvent e;
        e.kind = OutlierEvent::Kind::returned;
        e.address = address;
        e.until = s.until;
        e.ejections = s.ejections;
        events.push_back(std::move(e));
    }
    return events;
}

std::optional<HealthTime> OutlierPolicy::next_release() const {
    std::optional<HealthTime> next;
    for (const auto& [address, s] : servers_)
        if (s.ejected && (!next || s.until < *next)) next = s.until;
    return next;
}

PassiveStatus OutlierPolicy::status(std::string_view address) const {
    auto it = servers_.find(address);
    if (it == servers_.end()) return {};
    const Server& s = it->second;
    PassiveStatus st;
    st.ejected = s.ejected;
    st.until = s.ejected ? s.until : HealthTime{};
    st.ejections = s.ejections;
    st.reason = s.ejected ? s.reason : std::string();
    return st;
}

OutlierPolicy::Memory OutlierPolicy::memory(std::string_view address) const {
    auto it = servers_.find(address);
    if (it == servers_.end()) return {};
    const Server& s = it->second;
    return Memory{s.ejected,  s.ejected ? s.until : HealthTime{},  s.level, s.ejections,
                  s.returned, s.ejected ? s.reason : std::string()};
}

void OutlierPolicy::restore(std::string_view address, const Memory& memory) {
    auto it = servers_.find(address);
    if (it == servers_.end()) return;
    Server& s = it->second;
    s = Server{};
    s.ejected = memory.ejected;
    s.until = memory.ejected ? memory.until : HealthTime{};
    s.level = std::min(memory.level, kMaxLevel);
    s.ejections = memory.ejections;
    s.returned = memory.returned;
    s.reason = memory.ejected ? memory.reason : std::string();
}

std::uint32_t OutlierPolicy::failures(std::string_view address) const {
    auto it = servers_.find(address);
    return it == servers_.end() ? 0 : it->second.failures;
}

std::size_t OutlierPolicy::ejected_count() const {
    return static_cast<std::size_t>(std::count_if(
        servers_.begin(), servers_.end(), [](const auto& entry) { return entry.second.ejected; }));
}

std::size_t OutlierPolicy::max_ejected() const {
    return max_ejected_servers(servers_.size(), settings_.max_ejected_percent);
}

}  // namespace switchyard

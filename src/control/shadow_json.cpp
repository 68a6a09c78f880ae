#include "shadow_json.hpp"

#include "switchyard/core/feature_flags.hpp"

namespace switchyard::control::detail {

std::string describe_shadow(const ShadowRuntime& shadow) {
    if (shadow.pool.empty()) return "shadow=off";
    return "shadow=" + shadow.pool + ":" + format_flag_percent(shadow.percent_milli) + "%" +
           (shadow.diff ? ":diff" : "");
}

void write_shadow_status(JsonWriter& w, const Settings& settings, const ShadowRuntime& shadow,
                         const HealthView& health, const TrafficTotals& traffic) {
    w.begin_object();
    w.key("pool").string_or_null(shadow.pool);
    w.key("percent").number_fixed(shadow.pool.empty() ? 0.0 : shadow.percent_milli / 1000.0, 3);
    w.key("diff").boolean(!shadow.pool.empty() && shadow.diff);
    w.key("sample").string(settings.shadow.sample == ShadowSample::user ? "user" : "request");
    w.key("methods").begin_array();
    for (const auto& m : settings.shadow.methods)
        w.string(m);
    w.end_array();
    w.key("allow_unsafe").boolean(settings.shadow.allow_unsafe);
    w.key("health");
    const PoolSettings* pool = shadow.pool.empty() ? nullptr : settings.find_pool(shadow.pool);
    if (pool == nullptr) {
        w.null();
    } else {
        // Unknown health takes traffic (DESIGN.md), so it counts as healthy.
        std::uint64_t healthy = 0;
        for (const auto& s : pool->servers) {
            const ServerHealth* h = health.find(pool->name, s.address.to_string());
            if (h == nullptr || h->state == HealthState::healthy ||
                h->state == HealthState::unknown)
                ++healthy;
        }
        w.begin_object().key("healthy").number(healthy);
        w.key("servers").number(static_cast<std::uint64_t>(pool->servers.size()));
        w.end_object();
    }
    ShadowCounts counts{};
    if (const auto it = traffic.shadow_requests.find(shadow.pool);
        !shadow.pool.empty() && it != traffic.shadow_requests.end())
        counts = it->second;
    w.key("requests").begin_object();
    for (std::size_t i = 0; i < kShadowResults; ++i)
        w.key(to_string(static_cast<ShadowResult>(i))).number(counts[i]);
    w.end_object();
    w.end_object();
}

}  // namespace switchyard::control::detail

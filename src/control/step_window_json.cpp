#include "switchyard/control/step_window_json.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace switchyard::control {

namespace json = boost::json;

void write_step_window(JsonWriter& w, const StepWindow& window) {
    w.begin_object().key("pools").begin_object();
    for (const auto& [pool, counts] : window.pools) {
        const LatencyHistogram& h = counts.latency;
        w.key(pool).begin_object();
        w.key("requests").number(counts.requests).key("errors").number(counts.errors);
        w.key("latency").begin_object().key("buckets").begin_array();
        for (std::size_t i = 0; i < LatencyHistogram::bucket_count(); ++i)
            if (h.count_in_bucket(i) != 0)
                w.begin_array().number(i).number(h.count_in_bucket(i)).end_array();
        w.end_array();
        w.key("sum").number(h.sum()).key("min").number(h.min()).key("max").number(h.max());
        w.key("clamped").number(h.clamped()).end_object();
        w.end_object();
    }
    w.end_object().end_object();
}

StepWindow step_window_from_json(const json::object& o) {
    StepWindow window;
    const json::value* pools = o.if_contains("pools");
    if (pools == nullptr || !pools->is_object()) return window;
    const auto u64 = [](const json::value* v) -> std::optional<std::uint64_t> {
        if (v != nullptr && v->is_uint64()) return v->get_uint64();
        if (v != nullptr && v->is_int64() && v->get_int64() >= 0)
            return static_cast<std::uint64_t>(v->get_int64());
        return std::nullopt;
    };
    for (const auto& [name, value] : pools->get_object()) {
        if (!value.is_object()) continue;
        const auto& p = value.get_object();
        const json::value* latency = p.if_contains("latency");
        if (latency == nullptr || !latency->is_object()) continue;
        const auto& l = latency->get_object();
        const json::value* buckets = l.if_contains("buckets");
        if (buckets == nullptr || !buckets->is_array()) continue;
        std::vector<std::pair<std::size_t, std::uint64_t>> parts;
        bool ok = true;
        for (const auto& b : buckets->get_array()) {
            const auto* pair = b.is_array() ? &b.get_array() : nullptr;
            auto i = pair != nullptr && pair->size() == 2 ? u64(&(*pair)[0]) : std::nullopt;
            auto n = pair != nullptr && pair->size() == 2 ? u64(&(*pair)[1]) : std::nullopt;
            if (!i || !n) {
                ok = false;
                break;
            }
            parts.emplace_back(static_cast<std::size_t>(*i), *n);
        }
        const auto requests = u64(p.if_contains("requests"));
        const auto errors = u64(p.if_contains("errors"));
        const auto sum = u64(l.if_contains("sum")), min = u64(l.if_contains("min"));
        const auto max = u64(l.if_contains("max")), clamped = u64(l.if_contains("clamped"));
        if (!ok || !requests || !errors || !sum || !min || !max || !clamped || *errors > *requests)
            continue;
        auto h = LatencyHistogram::from_parts(parts, *sum, *min, *max, *clamped);
        if (!h || h->count() > *requests) continue;
        StepCounts& counts = window.pools[std::string(name)];
        counts.requests = *requests;
        counts.errors = *errors;
        counts.latency = std::move(*h);
    }
    return window;
}

}  // namespace switchyard::control

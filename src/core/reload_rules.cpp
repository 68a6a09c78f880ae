#include "switchyard/core/reload_rules.hpp"

namespace switchyard {

std::optional<std::string> reload_refusal(const Settings& current, const Settings& next,
                                          const RuntimeState& runtime) {
    if (next.find_pool(runtime.active) == nullptr)
        return "the new configuration has no pool " + runtime.active + ", the active pool";
    const bool canary_takes_traffic = runtime.canary_weight_bp > 0;
    if (canary_takes_traffic && next.find_pool(runtime.canary_pool) == nullptr)
        return "the new configuration has no pool " + runtime.canary_pool +
               ", a canary pool with a weight above 0";
    if (canary_takes_traffic && runtime.canary_weight_bp < 10000 &&
        next.routing.seed != current.routing.seed)
        return std::string("routing.seed cannot change while a canary holds 0 < weight < 100%");
    if (next.routing.seed != current.routing.seed)
        for (const auto& [name, percent] : runtime.flags)
            if (percent > 0 && percent < 100000)
                return "routing.seed cannot change while flag " + name +
                       " is on for 0 < percent < 100% (its users would change)";
    if (next.routing.seed != current.routing.seed && !runtime.shadow.pool.empty() &&
        next.shadow.sample == ShadowSample::user && runtime.shadow.percent_milli > 0 &&
        runtime.shadow.percent_milli < 100000)
        return std::string(
            "routing.seed cannot change while 0 < shadow percent < 100% samples users "
            "(the mirrored users would change)");
    return std::nullopt;
}

std::vector<std::string> reload_warnings(const Settings& current, const Settings& next) {
    std::vector<std::string> warnings;
    if (next.log != current.log)
        warnings.emplace_back("log target changes take effect at the next restart");
    if (next.admin != current.admin)
        warnings.emplace_back("admin listener changes take effect at the next restart");
    if (next.cluster != current.cluster)
        warnings.emplace_back("cluster changes take effect at the next restart");
    return warnings;
}

}  // namespace switchyard

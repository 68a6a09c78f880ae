#include "switchyard/core/shadow_policy.hpp"

#include <algorithm>

#include "keyed_hash.hpp"

namespace switchyard {

std::uint32_t shadow_bucket(std::string_view key, std::uint64_t seed) {
    return static_cast<std::uint32_t>(detail::xxh64_joined({"shadow/", key}, seed) %
                                      kShadowBuckets);
}

bool shadow_sampled(const RoutingState& state, std::string_view key, int pool, Random& random) {
    const ShadowState& shadow = state.shadow;
    if (shadow.pool < 0 || shadow.percent_milli == 0 || pool < 0 || pool == shadow.pool)
        return false;
    if (shadow.percent_milli >= kShadowBuckets) return true;
    if (shadow.sample == ShadowSample::user && !key.empty())
        return shadow_bucket(key, state.seed) < shadow.percent_milli;
    return random.next() % kShadowBuckets < shadow.percent_milli;
}

bool is_safe_method(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

bool shadow_method_allowed(const ShadowSettings& settings, std::string_view method) {
    if (std::find(settings.methods.begin(), settings.methods.end(), method) ==
        settings.methods.end())
        return false;
    return settings.allow_unsafe || is_safe_method(method);
}

}  // namespace switchyard

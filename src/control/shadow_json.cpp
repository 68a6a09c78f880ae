#include "shadow_json.hpp"

#include "switchyard/core/feature_flags.hpp"

namespace switchyard::control::detail {

std::string describe_shadow(const ShadowRuntime& shadow) {
    if (shadow.pool.empty()) return "shadow=off";
    return "shadow=" + shadow.pool + ":" + format_flag_percent(shadow.percent_milli) + "%" +
           (shadow.diff ? ":diff" : "");
}

}  // namespace switchyard::control::detail

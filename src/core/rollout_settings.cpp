#include "switchyard/core/rollout_settings.hpp"

namespace switchyard {

std::string_view to_string(PromoteMode mode) {
    return mode == PromoteMode::automatic ? "auto" : "manual";
}

std::string_view to_string(OnNoData action) {
    switch (action) {
        case OnNoData::pause:
            return "pause";
        case OnNoData::abort:
            return "abort";
        case OnNoData::advance:
            return "advance";
    }
    return "?";
}

std::optional<PromoteMode> parse_promote_mode(std::string_view text) {
    if (text == "auto") return PromoteMode::automatic;
    if (text == "manual") return PromoteMode::manual;
    return std::nullopt;
}

std::optional<OnNoData> parse_on_no_data(std::string_view text) {
    if (text == "pause") return OnNoData::pause;
    if (text == "abort") return OnNoData::abort;
    if (text == "advance") return OnNoData::advance;
    return std::nullopt;
}

}  // namespace switchyard

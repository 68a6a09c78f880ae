#include "switchyard/core/ramp_vocabulary.hpp"

namespace switchyard {

std::string_view to_string(RampState state) {
    switch (state) {
        case RampState::running:
            return "running";
        case RampState::holding:
            return "holding";
        case RampState::paused:
            return "paused";
        case RampState::aborted:
            return "aborted";
        case RampState::promoted:
            return "promoted";
    }
    return "?";
}

std::optional<RampState> parse_ramp_state(std::string_view text) {
    for (RampState s : {RampState::running, RampState::holding, RampState::paused,
                        RampState::aborted, RampState::promoted})
        if (to_string(s) == text) return s;
    return std::nullopt;
}

std::string_view to_string(AbortCause cause) {
    switch (cause) {
        case AbortCause::none:
            return "none";
        case AbortCause::analysis:
            return "analysis";
        case AbortCause::no_data:
            return "no_data";
        case AbortCause::command:
            return "command";
    }
    return "?";
}

std::optional<AbortCause> parse_abort_cause(std::string_view text) {
    for (AbortCause c :
         {AbortCause::none, AbortCause::analysis, AbortCause::no_data, AbortCause::command})
        if (to_string(c) == text) return c;
    return std::nullopt;
}

std::string_view to_string(RampEventType type) {
    switch (type) {
        case RampEventType::started:
            return "started";
        case RampEventType::step:
            return "step";
        case RampEventType::holding:
            return "holding";
        case RampEventType::paused:
            return "paused";
        case RampEventType::aborted:
            return "aborted";
        case RampEventType::promoted:
            return "promoted";
    }
    return "?";
}

}  // namespace switchyard

// The [rollout] keys (DESIGN.md, "Progressive delivery: `ramp`"): what the
// canary analysis judges with and how a ramp moves. Plain data with the
// documented defaults and no other dependency, so that Settings can hold a
// RampSettings and the state file can store the settings a ramp started
// with (a running ramp keeps them; a reload changes only later ramps).
//
// Validation (ranges, steps) is the config layer's; the ramp and the
// analysis only assume what their headers say.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/ramp_vocabulary.hpp"

namespace switchyard {

// What one step's judgement applies (canary_analysis.hpp).
struct CanaryAnalysisSettings {
    // Per side, since the step started; fewer is inconclusive. 0 counts as 1.
    std::uint64_t min_requests = 50;
    // Percentage points the canary's error rate may exceed the baseline's.
    double max_error_increase = 1.0;
    // The canary's error rate ceiling, percent (100: no ceiling).
    double max_error_rate = 5.0;
    // Of each one-sided test: a rule fails when its p-value < 1 - confidence.
    double confidence = 0.99;
    // The latency threshold T = max(max_p99_ratio × baseline p99,
    // baseline p99 + min_p99_delta).
    double max_p99_ratio = 1.5;
    std::chrono::milliseconds min_p99_delta{5};
    bool operator==(const CanaryAnalysisSettings&) const = default;
};

enum class PromoteMode { automatic, manual };  // promote = "auto" | "manual"
enum class OnNoData { pause, abort, advance };

// "auto"/"manual" and "pause"/"abort"/"advance", as in the config and the
// state file, and back (nullopt for anything else).
std::string_view to_string(PromoteMode mode);
std::string_view to_string(OnNoData action);
std::optional<PromoteMode> parse_promote_mode(std::string_view text);
std::optional<OnNoData> parse_on_no_data(std::string_view text);

// Weights in basis points (hundredths of a percent), as the routing state's.
struct RampSettings {
    // Ascending, each in 1..10000 (validate_ramp_steps in ramp.hpp).
    std::vector<std::uint32_t> steps_bp = {100, 500, 2500, 5000, 10000};
    std::chrono::milliseconds bake{60000};
    PromoteMode promote = PromoteMode::automatic;
    // How often the control plane judges the step's cumulative counts; the
    // ramp itself only reacts to the ticks it is given.
    std::chrono::milliseconds interval{1000};
    std::uint32_t failure_limit = 2;  // 0 counts as 1
    std::chrono::milliseconds max_hold{600000};
    OnNoData on_no_data = OnNoData::pause;
    // gate_url is set: ask it before each automatic weight increase. The URL
    // stays in the config (the ramp only needs to know there is one).
    bool gate = false;
    // After a gate refuses, ask again no sooner than this (not a config key:
    // asking every interval would flood a human-approval endpoint).
    std::chrono::milliseconds gate_retry{10000};
    CanaryAnalysisSettings analysis;
    bool operator==(const RampSettings&) const = default;
};

enum class WebhookFormat { json, slack };  // format = "json" | "slack"

// One [[rollout.webhooks]] entry: where the ramp's events are POSTed.
struct WebhookSettings {
    std::string url;     // http:// or https://, from the config only (a secret)
    std::string secret;  // non-empty: X-Switchyard-Signature: sha256=<HMAC-SHA256 of the body>
    // The event types delivered; the config's default is all of them.
    std::vector<RampEventType> events = {RampEventType::started, RampEventType::step,
                                         RampEventType::holding, RampEventType::paused,
                                         RampEventType::aborted, RampEventType::promoted};
    WebhookFormat format = WebhookFormat::json;
    std::chrono::milliseconds timeout{3000};  // per try
    bool operator==(const WebhookSettings&) const = default;
};

// The config's [rollout] section: the defaults a `ramp` starts with, and
// where its gate and events go (URLs only from the config: they may hold
// secrets, so no control command can set them).
struct RolloutSettings {
    RampSettings ramp;     // ramp.gate is true exactly when gate_url is set
    std::string gate_url;  // empty: no gate
    std::vector<WebhookSettings> webhooks;
    bool operator==(const RolloutSettings&) const = default;
};

}  // namespace switchyard

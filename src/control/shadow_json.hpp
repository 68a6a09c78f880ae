// Mirroring (DESIGN.md "Dark launch") as the control plane reports it:
// the audit log's words and the `status` object (private to src/control).
#pragma once

#include <string>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/core/traffic_stats.hpp"

namespace switchyard::control::detail {

// "shadow=green:10.000%:diff", "shadow=green:0.500%", "shadow=off".
std::string describe_shadow(const ShadowRuntime& shadow);

// status' "shadow" object (the caller writes its key):
// {"pool":"green","percent":10.000,"diff":true,"sample":"user",
//  "methods":["GET","HEAD","OPTIONS"],"allow_unsafe":false,
//  "health":{"healthy":1,"servers":2},
//  "requests":{"sent":5,"ok":4,"error":0,"timeout":1,"dropped_overload":0,
//              "skipped_method":2,"skipped_body":0}}
// The shadow pool's health is shown, never a gate ("health" is null when
// off); "requests" are the shadow pool's counts by ShadowResult, every
// result present (zeros when off).
void write_shadow_status(JsonWriter& w, const Settings& settings, const ShadowRuntime& shadow,
                         const HealthView& health, const TrafficTotals& traffic);

}  // namespace switchyard::control::detail

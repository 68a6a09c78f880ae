// A ramp event as text: the one JSON line that goes to `log.event_log`, to
// the webhooks with format = "json" and to gate_url, and the one-sentence
// Slack/Mattermost body for format = "slack" (DESIGN.md, "Progressive
// delivery: `ramp`", Events). Pure.
#pragma once

#include <cstdint>
#include <string>

#include "switchyard/core/ramp.hpp"

namespace switchyard {

// "2026-12-06T07:00:00.123Z": UTC, milliseconds, as every event's time.
std::string format_event_time(RampTime time);

// One JSON object, no newline, members in this order:
//   {"time":"…","generation":N,"type":"step","pool":"green","step":3,
//    "steps":5,"weight":25.00,"reason":"…"}
// `step` is the event's step, 1-based as in status (a promotion past the
// last step counts as the last), `weight` the canary weight in percent
// with two decimals. With a
// judgement, after "reason":
//   "verdict":"fail","rule":"error_increase","analysis":"<describe()>",
//   "canary":{SIDE},"baseline":{SIDE}
// SIDE = "requests":N,"errors":N,"error_ratio":0.052000 (a fraction, six
// decimals, like status' rates),"timed":N,"p99_ms":12.300 (null without
// timed requests); and "latency_threshold_ms" (three decimals) when the
// latency rule was judged.
std::string ramp_event_json(const RampEvent& event, RampTime time, std::uint64_t generation);

// {"text":"…"}: one sentence with the key numbers, e.g.
//   Switchyard ramp of green: step 3/5 at 25.00 % — step: step 3 of 5
//   (25.00 %): pass: canary 0.40 % (1 of 250), p99 12.1 ms; baseline …
// (the step 1-based, for people; past the last step, as a promotion can
// be, only the weight). The judgement's description is added when the
// reason does not already hold it. Time and generation are not in the
// sentence (the chat stamps its messages); the parameters keep the two
// formats interchangeable for the caller.
std::string ramp_event_slack(const RampEvent& event, RampTime time, std::uint64_t generation);

}  // namespace switchyard

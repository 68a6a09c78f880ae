#include "switchyard/core/ramp_event_text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>

#include "switchyard/core/canary_analysis.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp_vocabulary.hpp"
#include "switchyard/core/runtime_transitions.hpp"

namespace switchyard {
namespace {

double micros_to_ms(std::uint64_t micros) {
    return static_cast<double>(micros) / 1000.0;
}

void write_side(JsonWriter& w, const SideNumbers& side) {
    w.begin_object();
    w.key("requests").number(side.requests);
    w.key("errors").number(side.errors);
    w.key("error_ratio").number_fixed(side.error_ratio, 6);
    w.key("timed").number(side.timed);
    w.key("p99_ms");
    if (side.timed == 0)
        w.null();
    else
        w.number_fixed(micros_to_ms(side.p99_micros), 3);
    w.end_object();
}

void write_judgement(JsonWriter& w, const CanaryJudgement& j) {
    w.key("verdict").string(to_string(j.verdict));
    w.key("rule").string(to_string(j.rule));
    w.key("analysis").string(describe(j));
    w.key("canary");
    write_side(w, j.canary);
    w.key("baseline");
    write_side(w, j.baseline);
    if (j.latency.judged)
        w.key("latency_threshold_ms").number_fixed(micros_to_ms(j.latency_threshold_micros), 3);
}

}  // namespace

std::string format_event_time(RampTime time) {
    using namespace std::chrono;
    const auto day = floor<days>(time);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> clock{time - day};
    char buf[40];
    const int n = std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
        static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string ramp_event_json(const RampEvent& event, RampTime time, std::uint64_t generation) {
    std::string out;
    out.reserve(event.judgement ? 640 : 192);
    JsonWriter w(out);
    w.begin_object();
    w.key("time").string(format_event_time(time));
    w.key("generation").number(generation);
    w.key("type").string(to_string(event.type));
    w.key("pool").string(event.pool);
    // 1-based as in status; a promotion past the last step counts as the last.
    w.key("step").number(std::min(event.step + 1, std::max<std::size_t>(event.steps, 1)));
    w.key("steps").number(event.steps);
    w.key("weight").raw(format_weight_percent(event.weight_bp));
    w.key("reason").string(event.reason);
    if (event.judgement) write_judgement(w, *event.judgement);
    w.end_object();
    return out;
}

std::string ramp_event_slack(const RampEvent& event, RampTime, std::uint64_t) {
    std::string text = "Switchyard ramp of " + event.pool + ": ";
    if (event.step < event.steps)
        text += "step " + std::to_string(event.step + 1) + "/" + std::to_string(event.steps) + " ";
    text += "at " + format_weight_percent(event.weight_bp) + " % \u2014 ";
    text += to_string(event.type);
    if (!event.reason.empty()) text += ": " + event.reason;
    if (event.judgement) {
        // Reasons built from a judgement usually quote it already.
        const std::string full = describe(*event.judgement);
        if (event.reason.find(full) == std::string::npos &&
            event.reason.find(describe_sides(*event.judgement)) == std::string::npos)
            text += " (" + full + ")";
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("text").string(text).end_object();
    return out;
}

}  // namespace switchyard

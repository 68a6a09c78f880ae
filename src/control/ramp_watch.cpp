#include "switchyard/control/ramp_watch.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

#include "switchyard/control/ctl_client.hpp"

namespace switchyard::control {

namespace json = boost::json;

namespace {

std::string text_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    if (v->is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f", v->get_double());
        return buf;
    }
    return {};
}

double number_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return 0;
}

}  // namespace

std::string format_ramp(const json::object& ramp) {
    const std::string state = text_of(ramp, "state");
    std::size_t steps = 0;
    if (const json::value* s = ramp.if_contains("steps"); s != nullptr && s->is_array())
        steps = s->get_array().size();
    char weight[32];
    std::snprintf(weight, sizeof weight, "%.2f", number_of(ramp, "weight"));
    std::string out = text_of(ramp, "pool") + " " + state + ", step " + text_of(ramp, "step") +
                      " of " + std::to_string(steps) + " (" + weight + " %)";
    if (state == "running" || state == "holding") {
        char bake[48];
        std::snprintf(bake, sizeof bake, ", bake left %.1f s", number_of(ramp, "bake_left_s"));
        out += bake;
    }
    const std::string reason = text_of(ramp, "reason");
    if (!reason.empty()) out += ": " + reason;
    return out;
}

std::string format_last_verdict(const json::object& ramp) {
    const json::value* v = ramp.if_contains("verdicts");
    if (v == nullptr || !v->is_array() || v->get_array().empty()) return {};
    const json::value& last = v->get_array().front();  // newest first
    if (!last.is_object()) return {};
    return "last verdict " + text_of(last.get_object(), "text");
}

RampWatch::Step RampWatch::observe(const json::object& status, bool json_out) {
    Step step;
    const json::value* r = status.if_contains("ramp");
    if (r == nullptr || !r->is_object()) {
        step.lines = json_out ? "" : "no ramp\n";
        step.exit_code = kExitFailed;
        return step;
    }
    const json::object& ramp = r->get_object();
    const std::string state = text_of(ramp, "state");
    const std::string key = state + "|" + text_of(ramp, "step") + "|" + text_of(ramp, "reason");
    if (key != last_key_) {
        last_key_ = key;
        if (json_out) {
            step.lines = json::serialize(ramp) + "\n";
        } else {
            step.lines = format_ramp(ramp) + "\n";
            if (auto verdict = format_last_verdict(ramp); !verdict.empty())
                step.lines += "  " + verdict + "\n";
        }
    }
    if (state == "promoted") step.exit_code = kExitOk;
    if (state == "aborted") step.exit_code = kExitRampAborted;
    return step;
}

}  // namespace switchyard::control

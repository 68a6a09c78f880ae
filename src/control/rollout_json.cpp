#include "rollout_json.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>

namespace switchyard::control::detail {
namespace {

namespace json = boost::json;
using Ms = std::chrono::milliseconds;

// Shortest text that reads back as the same double, so the analysis
// settings survive a restart exactly. Config validation keeps them finite;
// a non-finite value would make the file unreadable, so it cannot be written.
void write_double(JsonWriter& w, double value) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::isfinite(value) ? value : 0.0);
    w.raw(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

void write_settings(JsonWriter& w, const RampSettings& s) {
    w.begin_object();
    w.key("steps").begin_array();
    for (std::uint32_t bp : s.steps_bp)
        w.number_fixed(bp / 100.0, 2);
    w.end_array();
    w.key("bake_ms").number(s.bake.count());
    w.key("promote").string(to_string(s.promote));
    w.key("interval_ms").number(s.interval.count());
    w.key("failure_limit").number(s.failure_limit);
    w.key("max_hold_ms").number(s.max_hold.count());
    w.key("on_no_data").string(to_string(s.on_no_data));
    w.key("gate").boolean(s.gate);
    w.key("gate_retry_ms").number(s.gate_retry.count());
    const CanaryAnalysisSettings& a = s.analysis;
    w.key("analysis").begin_object();
    w.key("min_requests").number(a.min_requests);
    w.key("max_error_increase");
    write_double(w, a.max_error_increase);
    w.key("max_error_rate");
    write_double(w, a.max_error_rate);
    w.key("confidence");
    write_double(w, a.confidence);
    w.key("max_p99_ratio");
    write_double(w, a.max_p99_ratio);
    w.key("min_p99_delta_ms").number(a.min_p99_delta.count());
    w.end_object();
    w.end_object();
}

void write_ramp(JsonWriter& w, const RampRecord& r) {
    w.begin_object();
    w.key("pool").string(r.pool);
    w.key("settings");
    write_settings(w, r.settings);
    w.key("step").number(r.step);
    w.key("step_start_ms").number(r.step_start.time_since_epoch().count());
    w.key("state").string(to_string(r.state));
    w.key("reason").string(r.reason);
    w.key("abort_cause").string(to_string(r.abort_cause));
    w.end_object();
}

std::optional<std::uint64_t> as_u64(const json::value& v) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
}

bool fail(std::string& error, std::string message) {
    error = std::move(message);
    return false;
}

// One JSON object's members, each error naming `where` and the key.
class Fields {
  public:
    Fields(const json::object& obj, std::string where, std::string& error)
        : obj_(obj), where_(std::move(where)), error_(error) {}

    const std::string& where() const { return where_; }

    bool only(std::initializer_list<std::string_view> allowed) const {
        for (const auto& kv : obj_) {
            bool known = false;
            for (auto a : allowed)
                known = known || kv.key() == a;
            if (!known) return bad("unknown key \"" + std::string(kv.key()) + "\"");
        }
        return true;
    }

    const json::value* get(std::string_view key) const {
        const json::value* v = obj_.if_contains(key);
        if (v == nullptr) bad(quoted(key) + " is missing");
        return v;
    }

    bool string(std::string_view key, std::string& out, bool allow_empty) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        if (!v->is_string() || (!allow_empty && v->get_string().empty()))
            return bad(quoted(key) + (allow_empty ? " must be a string" : " must be a pool name"));
        out = std::string(v->get_string());
        return true;
    }

    bool boolean(std::string_view key, bool& out) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        if (!v->is_bool()) return bad(quoted(key) + " must be true or false");
        out = v->get_bool();
        return true;
    }

    bool unsigned_integer(std::string_view key, std::uint64_t& out,
                          std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        const auto n = as_u64(*v);
        if (!n || *n > max)
            return bad(quoted(key) +
                       (max == std::numeric_limits<std::uint64_t>::max()
                            ? std::string(" must be a non-negative integer")
                            : " must be an integer from 0 to " + std::to_string(max)));
        out = *n;
        return true;
    }

    bool milliseconds(std::string_view key, Ms& out) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        const auto n = as_u64(*v);
        if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<Ms::rep>::max()))
            return bad(quoted(key) + " must be a non-negative integer (milliseconds)");
        out = Ms(static_cast<Ms::rep>(*n));
        return true;
    }

    // Milliseconds since the Unix epoch (before it too: a clock set wrong).
    bool time(std::string_view key, RampTime& out) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        if (!v->is_int64()) return bad(quoted(key) + " must be an integer (ms since the epoch)");
        out = RampTime(Ms(v->get_int64()));
        return true;
    }

    bool number(std::string_view key, double& out) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        double d = -1;
        if (v->is_double()) d = v->get_double();
        if (v->is_int64()) d = static_cast<double>(v->get_int64());
        if (v->is_uint64()) d = static_cast<double>(v->get_uint64());
        if (!(d >= 0) || !std::isfinite(d))
            return bad(quoted(key) + " must be a non-negative number");
        out = d;
        return true;
    }

    template <typename E>
    bool name(std::string_view key, E& out, std::optional<E> (*parse)(std::string_view),
              std::string_view expected) const {
        const json::value* v = get(key);
        if (v == nullptr) return false;
        std::optional<E> e;
        if (v->is_string()) e = parse(v->get_string());
        if (!e) return bad(quoted(key) + " must be " + std::string(expected));
        out = *e;
        return true;
    }

    const json::object* object(std::string_view key) const {
        const json::value* v = get(key);
        if (v == nullptr) return nullptr;
        if (!v->is_object()) {
            bad(quoted(key) + " must be an object");
            return nullptr;
        }
        return &v->get_object();
    }

    std::string path(std::string_view key) const { return where_ + "." + std::string(key); }

  private:
    static std::string quoted(std::string_view key) { return "\"" + std::string(key) + "\""; }
    bool bad(std::string message) const { return fail(error_, where_ + ": " + message); }

    const json::object& obj_;
    std::string where_;
    std::string& error_;
};

bool read_analysis(const Fields& parent, CanaryAnalysisSettings& a, std::string& error) {
    const json::object* obj = parent.object("analysis");
    if (obj == nullptr) return false;
    Fields f(*obj, parent.path("analysis"), error);
    return f.only({"min_requests", "max_error_increase", "max_error_rate", "confidence",
                   "max_p99_ratio", "min_p99_delta_ms"}) &&
           f.unsigned_integer("min_requests", a.min_requests) &&
           f.number("max_error_increase", a.max_error_increase) &&
           f.number("max_error_rate", a.max_error_rate) && f.number("confidence", a.confidence) &&
           f.number("max_p99_ratio", a.max_p99_ratio) &&
           f.milliseconds("min_p99_delta_ms", a.min_p99_delta);
}

bool read_steps(const Fields& f, std::vector<std::uint32_t>& out, std::string& error) {
    const json::value* v = f.get("steps");
    if (v == nullptr) return false;
    if (!v->is_array()) return fail(error, f.where() + ": \"steps\" must be an array");
    out.clear();
    const auto& array = v->get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        std::uint32_t bp = 0;
        if (!read_percent_bp(array[i], f.path("steps") + "[" + std::to_string(i) + "]", bp, error))
            return false;
        out.push_back(bp);
    }
    return true;
}

bool read_settings(const Fields& parent, RampSettings& s, std::string& error) {
    const json::object* obj = parent.object("settings");
    if (obj == nullptr) return false;
    Fields f(*obj, parent.path("settings"), error);
    std::uint64_t failure_limit = 0;
    if (!f.only({"steps", "bake_ms", "promote", "interval_ms", "failure_limit", "max_hold_ms",
                 "on_no_data", "gate", "gate_retry_ms", "analysis"}) ||
        !read_steps(f, s.steps_bp, error) || !f.milliseconds("bake_ms", s.bake) ||
        !f.name("promote", s.promote, parse_promote_mode, "\"auto\" or \"manual\"") ||
        !f.milliseconds("interval_ms", s.interval) ||
        !f.unsigned_integer("failure_limit", failure_limit,
                            std::numeric_limits<std::uint32_t>::max()) ||
        !f.milliseconds("max_hold_ms", s.max_hold) ||
        !f.name("on_no_data", s.on_no_data, parse_on_no_data,
                "\"pause\", \"abort\" or \"advance\"") ||
        !f.boolean("gate", s.gate) || !f.milliseconds("gate_retry_ms", s.gate_retry))
        return false;
    s.failure_limit = static_cast<std::uint32_t>(failure_limit);
    return read_analysis(f, s.analysis, error);
}

bool read_ramp(const json::value& v, RampRecord& r, std::string& error) {
    if (!v.is_object()) return fail(error, "rollout: \"ramp\" must be an object");
    Fields f(v.get_object(), "rollout.ramp", error);
    std::uint64_t step = 0;
    if (!f.only({"pool", "settings", "step", "step_start_ms", "state", "reason", "abort_cause"}) ||
        !f.string("pool", r.pool, false) || !read_settings(f, r.settings, error) ||
        !f.unsigned_integer("step", step) || !f.time("step_start_ms", r.step_start) ||
        !f.name("state", r.state, parse_ramp_state,
                "\"running\", \"holding\", \"paused\", \"aborted\" or \"promoted\"") ||
        !f.string("reason", r.reason, true) ||
        !f.name("abort_cause", r.abort_cause, parse_abort_cause,
                "\"none\", \"analysis\", \"no_data\" or \"command\""))
        return false;
    r.step = static_cast<std::size_t>(step);
    return true;
}

bool read_aborts(const json::value& v, std::vector<UnacknowledgedAbort>& out, std::string& error) {
    if (!v.is_array()) return fail(error, "rollout: \"unacknowledged_aborts\" must be an array");
    const auto& array = v.get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string where = "rollout.unacknowledged_aborts[" + std::to_string(i) + "]";
        if (!array[i].is_object()) return fail(error, where + " must be an object");
        Fields f(array[i].get_object(), where, error);
        UnacknowledgedAbort a;
        if (!f.only({"pool", "reason", "at_ms"}) || !f.string("pool", a.pool, false) ||
            !f.string("reason", a.reason, true) || !f.time("at_ms", a.at))
            return false;
        out.push_back(std::move(a));
    }
    return true;
}

}  // namespace

bool has_rollout(const RolloutSnapshot& rollout) {
    return rollout.ramp.has_value() || !rollout.unacknowledged_aborts.empty();
}

void write_rollout(JsonWriter& w, const RolloutSnapshot& rollout) {
    w.begin_object();
    if (rollout.ramp) {
        w.key("ramp");
        write_ramp(w, *rollout.ramp);
    }
    if (!rollout.unacknowledged_aborts.empty()) {
        w.key("unacknowledged_aborts").begin_array();
        for (const auto& a : rollout.unacknowledged_aborts) {
            w.begin_object();
            w.key("pool").string(a.pool);
            w.key("reason").string(a.reason);
            w.key("at_ms").number(a.at.time_since_epoch().count());
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
}

bool read_rollout(const json::value& v, RolloutSnapshot& out, std::string& error) {
    if (!v.is_object()) return fail(error, "\"rollout\" must be an object");
    const auto& obj = v.get_object();
    for (const auto& kv : obj)
        if (kv.key() != "ramp" && kv.key() != "unacknowledged_aborts")
            return fail(error, "rollout: unknown key \"" + std::string(kv.key()) + "\"");
    RolloutSnapshot snapshot;
    if (const json::value* ramp = obj.if_contains("ramp")) {
        if (!read_ramp(*ramp, snapshot.ramp.emplace(), error)) return false;
    }
    if (const json::value* aborts = obj.if_contains("unacknowledged_aborts"))
        if (!read_aborts(*aborts, snapshot.unacknowledged_aborts, error)) return false;
    out = std::move(snapshot);
    return true;
}

namespace {

// 0..100 with at most `decimals` decimals, times 10^decimals.
bool read_scaled_percent(const json::value& v, std::string_view what, int decimals,
                         std::uint32_t& out, std::string& error) {
    const std::uint32_t scale = decimals == 2 ? 100 : 1000;
    const std::string range = std::string(what) + " must be between 0 and 100";
    if (v.is_uint64() || (v.is_int64() && v.get_int64() >= 0)) {
        const std::uint64_t u =
            v.is_uint64() ? v.get_uint64() : static_cast<std::uint64_t>(v.get_int64());
        if (u > 100) return fail(error, range);
        out = static_cast<std::uint32_t>(u * scale);
        return true;
    }
    if (v.is_int64()) return fail(error, range);  // negative
    if (!v.is_double()) return fail(error, std::string(what) + " must be a number");
    const double scaled = v.get_double() * scale;
    const double rounded = std::round(scaled);
    if (!(rounded >= 0 && rounded <= 100.0 * scale)) return fail(error, range);
    if (std::fabs(scaled - rounded) > 1e-6)
        return fail(error, std::string(what) + " must have at most " +
                               (decimals == 2 ? "two" : "three") + " decimals");
    out = static_cast<std::uint32_t>(rounded);
    return true;
}

}  // namespace

bool read_percent_bp(const json::value& v, std::string_view what, std::uint32_t& out,
                     std::string& error) {
    return read_scaled_percent(v, what, 2, out, error);
}

bool read_percent_milli(const json::value& v, std::string_view what, std::uint32_t& out,
                        std::string& error) {
    return read_scaled_percent(v, what, 3, out, error);
}

}  // namespace switchyard::control::detail

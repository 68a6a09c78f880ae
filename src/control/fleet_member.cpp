#include "switchyard/control/fleet_member.hpp"

#include <boost/json.hpp>
#include <map>

#include "switchyard/control/step_window_json.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::control {

namespace json = boost::json;

std::string to_json(const MemberReport& r) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("member").string(r.member);
    w.key("generation").number(r.generation);
    w.key("version").string(r.version);
    w.key("pid").number(r.pid);
    w.key("config").string(r.config);
    w.key("cluster").string(r.cluster);
    w.key("updated_ms").number(r.updated_ms);
    w.key("pools").begin_array();
    for (const auto& p : r.pools) {
        w.begin_object().key("name").string(p.name);
        w.key("inflight").number(p.inflight);
        w.key("healthy").number(p.healthy);
        w.key("servers").number(p.servers);
        w.end_object();
    }
    w.end_array();
    if (r.ramp) {
        w.key("ramp").begin_object().key("pool").string(r.ramp->pool);
        w.key("step").number(r.ramp->step);
        w.key("step_start_ms").number(r.ramp->step_start_ms);
        w.key("counts");
        write_step_window(w, r.ramp->counts);
        w.end_object();
    }
    w.end_object();
    return out;
}

namespace {

bool get_string(const json::object& o, std::string_view key, std::string& out, std::string& error) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return true;
    if (!v->is_string()) {
        error = "\"" + std::string(key) + "\" must be a string";
        return false;
    }
    out = std::string(v->as_string());
    return true;
}

template <typename T>
bool get_integer(const json::object& o, std::string_view key, T& out, std::string& error) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return true;
    if (v->is_int64() && v->as_int64() >= 0) {
        out = static_cast<T>(v->as_int64());
        return true;
    }
    if (v->is_uint64()) {
        out = static_cast<T>(v->as_uint64());
        return true;
    }
    error = "\"" + std::string(key) + "\" must be a non-negative integer";
    return false;
}

}  // namespace

std::optional<MemberReport> parse_member_report(std::string_view text, std::string& error) {
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        error = "not a JSON object";
        return std::nullopt;
    }
    const json::object& o = v.as_object();
    MemberReport r;
    if (!get_string(o, "member", r.member, error) ||
        !get_integer(o, "generation", r.generation, error) ||
        !get_string(o, "version", r.version, error) || !get_integer(o, "pid", r.pid, error) ||
        !get_string(o, "config", r.config, error) || !get_string(o, "cluster", r.cluster, error) ||
        !get_integer(o, "updated_ms", r.updated_ms, error))
        return std::nullopt;
    if (r.member.empty()) {
        error = "\"member\" is missing";
        return std::nullopt;
    }
    if (const auto* pools = o.if_contains("pools")) {
        if (!pools->is_array()) {
            error = "\"pools\" must be an array";
            return std::nullopt;
        }
        for (const auto& item : pools->as_array()) {
            if (!item.is_object()) {
                error = "\"pools\" must hold objects";
                return std::nullopt;
            }
            MemberPoolReport p;
            const json::object& po = item.as_object();
            if (!get_string(po, "name", p.name, error) ||
                !get_integer(po, "inflight", p.inflight, error) ||
                !get_integer(po, "healthy", p.healthy, error) ||
                !get_integer(po, "servers", p.servers, error))
                return std::nullopt;
            r.pools.push_back(std::move(p));
        }
    }
    if (const auto* ramp = o.if_contains("ramp")) {
        MemberRampReport rr;
        if (!ramp->is_object()) {
            error = "\"ramp\" must be an object";
            return std::nullopt;
        }
        const json::object& ro = ramp->as_object();
        if (!get_string(ro, "pool", rr.pool, error) || !get_integer(ro, "step", rr.step, error) ||
            !get_integer(ro, "step_start_ms", rr.step_start_ms, error))
            return std::nullopt;
        if (const auto* counts = ro.if_contains("counts"); counts && counts->is_object())
            rr.counts = step_window_from_json(counts->as_object());
        r.ramp = std::move(rr);
    }
    return r;
}

FleetCount count_applied(const std::vector<MemberReport>& members, std::uint64_t generation) {
    FleetCount count;
    count.members = members.size();
    for (const auto& m : members) {
        if (m.generation >= generation)
            ++count.applied;
        else
            count.behind.push_back(m.member);
    }
    return count;
}

std::string fleet_config(const std::vector<MemberReport>& members) {
    std::map<std::string, std::size_t> votes;
    for (const auto& m : members)
        ++votes[m.config];
    std::string best;
    std::size_t most = 0;
    for (const auto& [config, n] : votes)  // in order: the first of a tie wins
        if (n > most) {
            best = config;
            most = n;
        }
    return best;
}

}  // namespace switchyard::control

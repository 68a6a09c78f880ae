// switchyardctl's human output: control replies as tables and sentences
// (--json prints them unchanged). Declared in ctl_client.hpp.
#include <boost/json.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/control/ctl_client.hpp"
#include "switchyard/control/ramp_watch.hpp"

namespace switchyard::control {

namespace json = boost::json;

namespace {

std::string two_decimals(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// A flag's percent as the server writes it (three decimals), "?" if absent.
std::string flag_percent(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) return "?";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v->to_number<double>());
    return buf;
}

// A scalar as people read it; "" for what is not a scalar.
std::string scalar_text(const json::value& v) {
    switch (v.kind()) {
        case json::kind::string:
            return std::string(v.get_string());
        case json::kind::int64:
            return std::to_string(v.get_int64());
        case json::kind::uint64:
            return std::to_string(v.get_uint64());
        case json::kind::double_:
            return two_decimals(v.get_double());
        case json::kind::bool_:
            return v.get_bool() ? "yes" : "no";
        case json::kind::null:
            return "-";
        default:
            return "";
    }
}

bool is_scalar(const json::value& v) {
    return !v.is_object() && !v.is_array();
}

std::string field(const json::object& o, std::string_view key, std::string fallback = "-") {
    return reply_field(o, key, std::move(fallback));
}

std::optional<double> number(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double()) return v->get_double();
    return std::nullopt;
}

// "green 5.00%", or "none".
std::string canary_text(const json::object& o) {
    const json::value* c = o.if_contains("canary");
    if (c == nullptr || !c->is_object()) return "none";
    const auto& co = c->get_object();
    const json::value* pool = co.if_contains("pool");
    if (pool == nullptr || !pool->is_string()) return "none";
    std::string out(pool->get_string());
    if (auto w = number(co.if_contains("weight"))) out += " " + two_decimals(*w) + "%";
    return out;
}

std::string generation_suffix(const json::object& o) {
    const json::value* g = o.if_contains("generation");
    if (g == nullptr || !is_scalar(*g)) return "";
    return " (generation " + scalar_text(*g) + ")";
}

std::string upper(std::string s) {
    for (auto& ch : s)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

using Row = std::vector<std::string>;

std::string render_table(const std::vector<Row>& rows) {
    std::vector<std::size_t> width;
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

// Columns: the known ones in a fixed order, then any other scalar field the
// reply has, so new fields show up without a client change.
std::vector<std::string> columns_of(const std::vector<const json::object*>& objects,
                                    std::vector<std::string> known, std::string_view skip) {
    std::vector<std::string> present;
    auto has = [&](const std::string& key) {
        for (const auto* o : objects)
            if (const json::value* v = o->if_contains(key); v != nullptr && is_scalar(*v))
                return true;
        return false;
    };
    for (const auto& k : known)
        if (has(k)) present.push_back(k);
    for (const auto* o : objects)
        for (const auto& kv : *o) {
            std::string key(kv.key());
            if (key == skip || !is_scalar(kv.value())) continue;
            if (std::find(present.begin(), present.end(), key) == present.end())
                present.push_back(key);
        }
    return present;
}

// The pools' live rates (status' "rates"): what a pipeline watches while a
// canary ramps. Empty if no pool has them (server.metrics = false).
std::string traffic_table(const std::vector<const json::object*>& pools) {
    std::vector<Row> rows = {
        {"POOL", "REQ/S 10s", "5XX 10s", "P50 ms", "P90 ms", "P99 ms", "REQ/S 60s", "5XX 60s"}};
    auto window = [](const json::object& rates, std::string_view name) -> const json::object* {
        const json::value* w = rates.if_contains(name);
        return w != nullptr && w->is_object() ? &w->get_object() : nullptr;
    };
    auto percent = [](const json::object* w) -> std::string {
        const auto ratio = w == nullptr ? std::nullopt : number(w->if_contains("error_ratio"));
        return ratio ? two_decimals(*ratio * 100) + "%" : "-";
    };
    for (const auto* p : pools) {
        const json::value* r = p->if_contains("rates");
        if (r == nullptr || !r->is_object()) continue;
        const json::object* w10 = window(r->get_object(), "10s");
        const json::object* w60 = window(r->get_object(), "60s");
        auto of = [](const json::object* w, std::string_view key) {
            return w == nullptr ? std::string("-") : field(*w, key);
        };
        rows.push_back({field(*p, "name"), of(w10, "requests_per_second"), percent(w10),
                        of(w10, "p50_ms"), of(w10, "p90_ms"), of(w10, "p99_ms"),
                        of(w60, "requests_per_second"), percent(w60)});
    }
    return rows.size() > 1 ? "\n" + render_table(rows) : "";
}

// "green 10.000% diff", "off": a reply's or status' "shadow" object.
std::string shadow_text(const json::object& shadow) {
    const json::value* pool = shadow.if_contains("pool");
    if (pool == nullptr || !pool->is_string()) return "off";
    std::string out = std::string(pool->get_string()) + " " + flag_percent(shadow, "percent") + "%";
    if (const json::value* d = shadow.if_contains("diff");
        d != nullptr && d->is_bool() && d->get_bool())
        out += " diff";
    return out;
}

// status' "shadow": one row when mirroring is on (the pool, its share, how
// it samples, the pool's health, the copies by result); nothing when off.
std::string shadow_table(const json::object& shadow) {
    const json::value* pool = shadow.if_contains("pool");
    if (pool == nullptr || !pool->is_string()) return "";
    Row header = {"SHADOW", "PERCENT", "SAMPLE", "DIFF", "METHODS", "HEALTHY"};
    Row row = {std::string(pool->get_string()), flag_percent(shadow, "percent") + "%",
               field(shadow, "sample"), field(shadow, "diff")};
    std::string methods;
    if (const json::value* m = shadow.if_contains("methods"); m != nullptr && m->is_array())
        for (const auto& name : m->get_array())
            methods += (methods.empty() ? "" : ",") + scalar_text(name);
    row.push_back(methods.empty() ? "-" : methods);
    std::string healthy = "-";
    if (const json::value* h = shadow.if_contains("health"); h != nullptr && h->is_object())
        healthy =
            field(h->get_object(), "healthy", "?") + "/" + field(h->get_object(), "servers", "?");
    row.push_back(healthy);
    // The results as the server names them, in its order.
    if (const json::value* r = shadow.if_contains("requests"); r != nullptr && r->is_object())
        for (const auto& kv : r->get_object()) {
            header.push_back(upper(std::string(kv.key())));
            row.push_back(is_scalar(kv.value()) ? scalar_text(kv.value()) : "?");
        }
    return "\n" + render_table({header, row});
}

// `diff`: a line per route, then its fields: what differs, how often,
// how often the good build differs from itself, and the verdict.
std::string format_diff(const json::object& reply) {
    const std::string pool = field(reply, "pool", "");
    const json::value* enabled = reply.if_contains("enabled");
    std::string out =
        pool.empty()
            ? std::string("mirroring is off")
            : "shadow " + pool + ", diff " +
                  (enabled != nullptr && enabled->is_bool() && enabled->get_bool() ? "on" : "off");
    out += "\n";
    const json::value* routes = reply.if_contains("routes");
    if (routes == nullptr || !routes->is_array() || routes->get_array().empty())
        return out + "no answers compared yet\n";
    std::vector<Row> rows = {{"ROUTE", "COMPARED", "EQUAL", "SKIPPED", "SECONDARY", "DIFFERING"}};
    std::vector<Row> fields = {{"ROUTE", "FIELD", "RATE", "NOISE-RATE", "VERDICT"}};
    for (const auto& r : routes->get_array()) {
        if (!r.is_object()) continue;
        const auto& o = r.get_object();
        const std::string route = field(o, "route");
        rows.push_back({route, field(o, "compared"), field(o, "equal"), field(o, "skipped"),
                        field(o, "secondary_compared"), field(o, "differing_fields")});
        const json::value* fs = o.if_contains("fields");
        if (fs == nullptr || !fs->is_array()) continue;
        for (const auto& f : fs->get_array()) {
            if (!f.is_object()) continue;
            const auto& fo = f.get_object();
            const auto percent = [&](std::string_view key) {
                const json::value* v = fo.if_contains(key);
                return v != nullptr && v->is_number()
                           ? two_decimals(v->to_number<double>() * 100) + "%"
                           : std::string("-");
            };
            const json::value* noise = fo.if_contains("noise");
            const bool is_noise = noise != nullptr && noise->is_bool() && noise->get_bool();
            fields.push_back({route, field(fo, "field"), percent("rate"), percent("noise_rate"),
                              is_noise ? "noise" : "DIFFERS"});
        }
    }
    out += render_table(rows);
    if (fields.size() > 1) out += "\n" + render_table(fields);
    return out;
}

std::string header_of(const std::string& key) {
    if (key == "idle_connections") return "IDLE";
    if (key == "address") return "SERVER";
    return upper(key);
}

}  // namespace

std::string reply_field(const json::object& reply, std::string_view key, std::string fallback) {
    const json::value* v = reply.if_contains(key);
    if (v == nullptr || v->is_null() || !is_scalar(*v)) return fallback;
    return scalar_text(*v);
}

std::optional<json::object> parse_reply(const std::string& line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const json::value* ok = v.get_object().if_contains("ok");
    if (ok == nullptr || !ok->is_bool()) return std::nullopt;
    return std::move(v.get_object());
}

namespace {

// A fleet's status: the store as this member sees it, then every member.
std::string cluster_text(const json::object& reply) {
    const json::value* c = reply.if_contains("cluster");
    if (c == nullptr || !c->is_object()) return {};
    const json::object& co = c->get_object();
    std::string out = "\ncluster: " + field(co, "store") + ", member " + field(co, "member") +
                      ", " + field(co, "key") + " at revision " + field(co, "revision") +
                      ", ramp leader " + field(co, "leader");
    if (co.contains("degraded_since"))
        out += "\n  degraded since " + field(co, "degraded_since") + ": " + field(co, "reason");
    if (co.contains("pending_stop"))
        out += "\n  emergency stop of canary " + field(co, "pending_stop") +
               " to be written to the store";
    if (co.contains("refused_value"))
        out += "\n  the store's latest value was refused: " + field(co, "refused_value");
    out += "\n";
    const json::value* m = reply.if_contains("members");
    if (m == nullptr || !m->is_array()) return out;
    std::vector<Row> rows = {{"MEMBER", "GENERATION", "AGE", "STORE", "CONFIG", "VERSION", "PID"}};
    for (const auto& mv : m->get_array()) {
        if (!mv.is_object()) continue;
        const auto& mo = mv.get_object();
        std::string config = field(mo, "config");
        if (const json::value* d = mo.if_contains("config_differs");
            d != nullptr && d->is_bool() && d->get_bool())
            config += " (differs)";
        const auto age = number(mo.if_contains("age_ms"));
        rows.push_back({field(mo, "member"), field(mo, "generation"),
                        age ? two_decimals(*age / 1000.0) + "s" : "-", field(mo, "store"), config,
                        field(mo, "version"), field(mo, "pid")});
    }
    return out + render_table(rows);
}

// What a change written to a fleet's store adds: how many members serve it.
std::string applied_text(const json::object& reply) {
    if (!reply.contains("applied")) return {};
    std::string out = " (applied by " + field(reply, "applied") + " members";
    if (const json::value* b = reply.if_contains("behind");
        b != nullptr && b->is_array() && !b->get_array().empty()) {
        out += "; behind:";
        for (const auto& name : b->get_array())
            out += " " + scalar_text(name);
    }
    return out + ")";
}

}  // namespace

std::string format_status(const json::object& reply) {
    std::vector<Row> head = {{"active", field(reply, "active")},
                             {"previous", field(reply, "previous")},
                             {"canary", canary_text(reply)},
                             {"generation", field(reply, "generation")}};
    if (reply.contains("config_generation"))
        head.push_back({"config generation", field(reply, "config_generation")});
    for (const auto& kv : reply) {
        const std::string key(kv.key());
        if (key == "ok" || key == "active" || key == "previous" || key == "generation" ||
            key == "config_generation" || !is_scalar(kv.value()))
            continue;
        head.push_back({key, scalar_text(kv.value())});
    }
    std::string out = render_table(head);

    std::vector<const json::object*> pools;
    std::vector<std::pair<std::string, const json::object*>> servers;
    if (const json::value* p = reply.if_contains("pools"); p != nullptr && p->is_array()) {
        for (const auto& pv : p->get_array()) {
            if (!pv.is_object()) continue;
            const auto& po = pv.get_object();
            pools.push_back(&po);
            if (const json::value* s = po.if_contains("servers"); s != nullptr && s->is_array())
                for (const auto& sv : s->get_array())
                    if (sv.is_object()) servers.emplace_back(field(po, "name"), &sv.get_object());
        }
    }
    if (!pools.empty()) {
        const auto cols =
            columns_of(pools, {"role", "inflight", "tunnels", "idle_connections"}, "name");
        std::vector<Row> rows;
        Row header = {"POOL"};
        for (const auto& c : cols)
            header.push_back(header_of(c));
        rows.push_back(header);
        for (const auto* p : pools) {
            Row r = {field(*p, "name")};
            for (const auto& c : cols)
                r.push_back(field(*p, c));
            rows.push_back(r);
        }
        out += "\n" + render_table(rows);
        out += traffic_table(pools);
    }
    if (!servers.empty()) {
        std::vector<const json::object*> objs;
        for (const auto& s : servers)
            objs.push_back(s.second);
        const auto cols =
            columns_of(objs, {"address", "admin", "health", "weight", "inflight"}, "");
        std::vector<Row> rows;
        Row header = {"POOL"};
        for (const auto& c : cols)
            header.push_back(header_of(c));
        rows.push_back(header);
        for (const auto& [pool, s] : servers) {
            Row r = {pool};
            for (const auto& c : cols)
                r.push_back(field(*s, c));
            rows.push_back(r);
        }
        out += "\n" + render_table(rows);
    }
    if (const json::value* f = reply.if_contains("flags");
        f != nullptr && f->is_array() && !f->get_array().empty()) {
        std::vector<Row> rows = {{"FLAG", "PERCENT", "POOLS", "REQUESTS"}};
        for (const auto& fv : f->get_array()) {
            if (!fv.is_object()) continue;
            const auto& fo = fv.get_object();
            std::string pools;
            if (const json::value* p = fo.if_contains("pools"); p != nullptr && p->is_array())
                for (const auto& name : p->get_array())
                    pools += (pools.empty() ? "" : ",") + scalar_text(name);
            rows.push_back({field(fo, "name"), flag_percent(fo, "percent") + "%",
                            pools.empty() ? "any" : pools, field(fo, "requests")});
        }
        out += "\n" + render_table(rows);
    }
    if (const json::value* sh = reply.if_contains("shadow"); sh != nullptr && sh->is_object())
        out += shadow_table(sh->get_object());
    if (const json::value* ramp = reply.if_contains("ramp"); ramp != nullptr && ramp->is_object()) {
        out += "\nramp: " + format_ramp(ramp->get_object()) + "\n";
        if (auto verdict = format_last_verdict(ramp->get_object()); !verdict.empty())
            out += "  " + verdict + "\n";
    }
    out += cluster_text(reply);
    // Lists of sentences (conflicts, dropped state entries, ...).
    for (const auto& kv : reply) {
        if (!kv.value().is_array() || kv.key() == "pools" || kv.key() == "flags" ||
            kv.key() == "members" || kv.value().get_array().empty())
            continue;
        out += "\n" + std::string(kv.key()) + ":\n";
        for (const auto& item : kv.value().get_array())
            out += "  " + (is_scalar(item) ? scalar_text(item) : json::serialize(item)) + "\n";
    }
    return out;
}

std::string format_wait(const json::object& reply) {
    const std::string pool = field(reply, "pool", "the pool");
    const json::value* drained = reply.if_contains("drained");
    const std::string waited = reply.contains("waited_ms") ? field(reply, "waited_ms") + " ms" : "";
    if (drained != nullptr && drained->is_bool() && drained->get_bool())
        return pool + " drained" + (waited.empty() ? "" : " in " + waited) + "\n";
    std::string out = pool + " not drained" + (waited.empty() ? "" : " after " + waited);
    out += ": " + field(reply, "inflight", "?") + " in flight, " + field(reply, "tunnels", "?") +
           " tunnels, " + field(reply, "idle_connections", "?") + " idle connections";
    if (reply.contains("error")) out += " (" + field(reply, "error") + ")";
    return out + "\n";
}

namespace {

std::string summary_line(const std::vector<std::string>& command, const json::object& reply);

}  // namespace

std::string format_summary(const std::vector<std::string>& command, const json::object& reply) {
    std::string out = summary_line(command, reply);
    const std::string applied = applied_text(reply);
    if (!applied.empty() && !out.empty() && out.back() == '\n') out.insert(out.size() - 1, applied);
    return out;
}

namespace {

std::string summary_line(const std::vector<std::string>& command, const json::object& reply) {
    const std::string verb = command.empty() ? "" : command[0];
    const std::string gen = generation_suffix(reply);
    const json::value* changed_v = reply.if_contains("changed");
    const bool unchanged = changed_v != nullptr && changed_v->is_bool() && !changed_v->get_bool();
    const std::string active = field(reply, "active");
    std::string draining = field(reply, "draining", "");
    if (draining.empty() && !unchanged && (verb == "switch" || verb == "promote"))
        draining = field(reply, "previous", "");
    const std::string drain_note = draining.empty() ? "" : "; " + draining + " draining";

    if (verb == "status") return format_status(reply);
    if (verb == "wait-drained") return format_wait(reply);
    if (verb == "switch") {
        if (unchanged) return active + " is already active" + gen + "; nothing changed\n";
        return "switched to " + active + gen + drain_note + "\n";
    }
    if (verb == "promote") return "promoted " + active + " to active" + gen + drain_note + "\n";
    if (verb == "rollback") {
        if (!draining.empty()) return "rolled back to " + active + gen + drain_note + "\n";
        return "rolled back: active " + active + ", canary " + canary_text(reply) + gen + "\n";
    }
    if (verb == "canary")
        return "canary " + canary_text(reply) + gen + (unchanged ? "; nothing changed" : "") + "\n";
    if (verb == "server" && command.size() >= 4) {
        std::string action = command[3];
        if (command.size() >= 5 && action == "weight") action += " " + command[4];
        return "server " + command[2] + " in pool " + command[1] + ": " + action + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "reload") return "configuration reloaded" + gen + "\n";
    if (verb == "flag" && command.size() >= 2) {
        std::string percent = "?";
        if (const json::value* f = reply.if_contains("flags"); f != nullptr && f->is_object())
            percent = flag_percent(f->get_object(), command[1]);
        return "flag " + command[1] + " " + percent + "%" + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "shadow") {
        const json::value* sh = reply.if_contains("shadow");
        return "shadow " +
               (sh != nullptr && sh->is_object() ? shadow_text(sh->get_object()) : "?") + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "diff") {
        if (command.size() >= 2 && command[1] == "reset") return "diff counts reset\n";
        return format_diff(reply);
    }
    if (verb == "ramp") {
        const json::value* ramp = reply.if_contains("ramp");
        if (ramp == nullptr || !ramp->is_object()) return "no ramp" + gen + "\n";
        return "ramp of " + format_ramp(ramp->get_object()) + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "cluster")
        return "cluster store initialised at revision " + field(reply, "revision") + ": active " +
               active + gen + "\n";
    if (verb == "upgrade" && reply.contains("pid"))
        return "upgrading: new process " + field(reply, "pid") + "\n";
    // Anything else: the scalar fields as key=value.
    std::string out = (verb.empty() ? std::string("ok") : verb + ": ok");
    for (const auto& kv : reply)
        if (kv.key() != "ok" && is_scalar(kv.value()))
            out += " " + std::string(kv.key()) + "=" + scalar_text(kv.value());
    return out + "\n";
}

}  // namespace

int reply_exit_code(const json::object& reply) {
    const json::value* drained = reply.if_contains("drained");
    if (drained != nullptr && drained->is_bool() && !drained->get_bool()) return kExitNotDrained;
    const json::value* ok = reply.if_contains("ok");
    return ok != nullptr && ok->is_bool() && ok->get_bool() ? kExitOk : kExitFailed;
}

}  // namespace switchyard::control

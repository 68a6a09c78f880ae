#include "switchyard/control/command.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "switchyard/control/state_file.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp_steps.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::control {

namespace {

using Verb = ControlCommand::Verb;

struct VerbSpec {
    Verb verb;
    std::string_view name;
    std::string_view usage;  // the whole syntax, shown with argument errors
    std::size_t min_positional;
    std::size_t max_positional;
    std::array<std::string_view, 5> keys;  // accepted key= names (and "force")
};

constexpr std::array<VerbSpec, 14> kVerbs = {{
    {Verb::status, "status", "status [fleet]", 0, 1, {}},
    {Verb::switch_,
     "switch",
     "switch POOL [drain=DURATION] [if-generation=N] [wait=all] [force]",
     1,
     1,
     {"drain", "if-generation", "wait", "force"}},
    {Verb::canary,
     "canary",
     "canary POOL PERCENT [if-generation=N] [wait=all] [force]",
     2,
     2,
     {"if-generation", "wait", "force"}},
    {Verb::promote,
     "promote",
     "promote [drain=DURATION] [if-generation=N] [wait=all] [force]",
     0,
     0,
     {"drain", "if-generation", "wait", "force"}},
    {Verb::rollback,
     "rollback",
     "rollback [drain=DURATION] [if-generation=N] [wait=all] [force]",
     0,
     0,
     {"drain", "if-generation", "wait", "force"}},
    {Verb::wait_drained, "wait-drained", "wait-drained POOL [timeout=DURATION]", 1, 1, {"timeout"}},
    {Verb::server,
     "server",
     "server POOL ADDRESS drain|disable|enable|weight N [if-generation=N] [wait=all] [force]",
     3,
     4,
     {"if-generation", "wait", "force"}},
    {Verb::reload, "reload", "reload", 0, 0, {}},
    {Verb::upgrade, "upgrade", "upgrade [binary=PATH]", 0, 0, {"binary"}},
    {Verb::ramp,
     "ramp",
     "ramp POOL [steps=P,P,...] [bake=DURATION] [promote=auto|manual] [if-generation=N] [force]"
     " | ramp pause|resume|abort | ramp promote [force] | ramp ack [POOL]",
     1,
     2,
     {"steps", "bake", "promote", "if-generation", "force"}},
    {Verb::shadow,
     "shadow",
     "shadow POOL PERCENT [diff] [if-generation=N] [wait=all] | shadow off [if-generation=N] "
     "[wait=all]",
     1,
     3,
     {"if-generation", "wait"}},
    {Verb::flag,
     "flag",
     "flag NAME PERCENT|off [if-generation=N] [wait=all]",
     2,
     2,
     {"if-generation", "wait"}},
    {Verb::diff, "diff", "diff [reset]", 0, 1, {}},
    {Verb::cluster, "cluster", "cluster init", 1, 1, {}},
}};

const VerbSpec* find_verb(std::string_view name) {
    for (const auto& v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

const VerbSpec& spec_of(Verb verb) {
    for (const auto& v : kVerbs)
        if (v.verb == verb) return v;
    return kVerbs[0];
}

bool accepts(const VerbSpec& spec, std::string_view key) {
    for (auto k : spec.keys)
        if (!k.empty() && k == key) return true;
    return false;
}

ParsedCommand fail(std::string error) {
    return {std::nullopt, std::move(error)};
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    if (text.empty()) return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "5", "5.5", "5.55", "100", "100.00": percent with at most two decimals.
std::optional<std::uint32_t> parse_percent_bp(std::string_view text) {
    const auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
    auto w = parse_u64(whole);
    if (!w || *w > 100) return std::nullopt;
    std::uint64_t bp = *w * 100;
    if (!frac.empty()) {
        auto f = parse_u64(frac);
        if (!f) return std::nullopt;
        bp += frac.size() == 1 ? *f * 10 : *f;
    }
    if (bp > 10000) return std::nullopt;
    return static_cast<std::uint32_t>(bp);
}

std::vector<std::string_view> split_tokens(std::string_view line) {
    std::vector<std::string_view> tokens;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start) tokens.push_back(line.substr(start, i - start));
    }
    return tokens;
}

struct RampParse {
    std::optional<RampCommand> command;
    std::string error;
};

// `ramp pause|resume|abort`, `ramp promote [force]`, `ramp ack [POOL]`,
// `ramp POOL ...`: a subcommand's name is never taken for a pool.
RampParse ramp_command(const std::vector<std::string_view>& positional,
                       const RoutingCommand& routing, const std::string& usage) {
    using Kind = RampCommand::Kind;
    RampCommand c;
    c.force = routing.force;
    const std::string_view first = positional[0];
    static constexpr std::pair<std::string_view, Kind> kSub[] = {{"pause", Kind::pause},
                                                                 {"resume", Kind::resume},
                                                                 {"promote", Kind::promote},
                                                                 {"abort", Kind::abort},
                                                                 {"ack", Kind::ack}};
    const auto sub = std::find_if(std::begin(kSub), std::end(kSub),
                                  [&](const auto& s) { return s.first == first; });
    if (sub == std::end(kSub)) {
        if (positional.size() > 1) return {std::nullopt, "too many arguments; " + usage};
        c.kind = Kind::start;
        c.pool = std::string(first);
        return {std::move(c), {}};
    }
    c.kind = sub->second;
    if (positional.size() > 1 && c.kind != Kind::ack)
        return {std::nullopt, "too many arguments; " + usage};
    if (c.force && c.kind != Kind::promote)
        return {std::nullopt, "force is for ramp POOL and ramp promote; " + usage};
    if (positional.size() > 1) c.pool = std::string(positional[1]);
    return {std::move(c), {}};
}

}  // namespace

std::string_view verb_name(Verb verb) {
    return spec_of(verb).name;
}

bool changes_routing(Verb verb) {
    return verb == Verb::switch_ || verb == Verb::canary || verb == Verb::promote ||
           verb == Verb::rollback || verb == Verb::server || verb == Verb::flag ||
           verb == Verb::shadow;
}

ParsedCommand parse_command(std::string_view line) {
    // The server strips the terminator; a caller that did not is forgiven.
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) return fail("line too long");
    for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        // Control characters would forge lines in the audit log.
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return fail("command contains a control character");
    }
    // Replies and the audit log quote the line (JSON): it must be UTF-8.
    if (!is_valid_utf8(line)) return fail("command is not valid UTF-8");
    const auto tokens = split_tokens(line);
    if (tokens.empty()) return fail("empty command");

    const VerbSpec* spec = find_verb(tokens[0]);
    if (spec == nullptr)
        return fail("unknown command " + std::string(tokens[0]) +
                    " (commands: status, switch, canary, promote, rollback, wait-drained, server, "
                    "reload, upgrade, ramp, flag, shadow, diff, cluster)");

    ControlCommand cmd;
    cmd.verb = spec->verb;
    cmd.text = std::string(trim_ows(line));
    const std::string usage = "usage: " + std::string(spec->usage);

    std::vector<std::string_view> positional;
    std::optional<std::vector<std::uint32_t>> ramp_steps;
    std::optional<Duration> ramp_bake;
    std::optional<PromoteMode> ramp_promote;
    bool seen_named = false;
    bool seen_generation = false;
    for (std::size_t i = 1; i < tokens.size(); ++i) {
        const std::string_view tok = tokens[i];
        const auto eq = tok.find('=');
        if (eq == std::string_view::npos && tok != "force") {
            if (seen_named)
                return fail("argument " + std::string(tok) +
                            " after key=value arguments; positional arguments come first; " +
                            usage);
            positional.push_back(tok);
            continue;
        }
        seen_named = true;
        const std::string_view key = eq == std::string_view::npos ? tok : tok.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? "" : tok.substr(eq + 1);
        if (!accepts(*spec, key) || (key == "force") != (eq == std::string_view::npos))
            return fail("unknown argument " + std::string(tok) + " for " + std::string(spec->name) +
                        "; " + usage);
        const auto twice = [&] { return fail(std::string(key) + " given twice"); };
        if (key == "force") {
            if (cmd.routing.force) return twice();
            cmd.routing.force = true;
        } else if (key == "drain" || key == "timeout") {
            auto& slot = key == "drain" ? cmd.drain : cmd.timeout;
            if (slot) return twice();
            slot = parse_duration(value);
            if (!slot)
                return fail("bad " + std::string(key) + " value " + std::string(value) +
                            ": a duration with a unit (250ms, 30s, 5m, 1h)");
        } else if (key == "if-generation") {
            if (seen_generation) return twice();
            seen_generation = true;
            cmd.routing.if_generation = parse_u64(value);
            if (!cmd.routing.if_generation)
                return fail("bad if-generation value " + std::string(value) +
                            ": a non-negative integer");
        } else if (key == "steps") {
            if (ramp_steps) return twice();
            auto steps = parse_ramp_steps(value);
            if (!steps.error.empty())
                return fail("bad steps value " + std::string(value) + ": " + steps.error);
            ramp_steps = std::move(steps.steps_bp);
        } else if (key == "bake") {
            if (ramp_bake) return twice();
            ramp_bake = parse_duration(value);
            if (!ramp_bake)
                return fail("bad bake value " + std::string(value) +
                            ": a duration with a unit (250ms, 30s, 5m, 1h)");
        } else if (key == "promote") {
            if (ramp_promote) return twice();
            ramp_promote = parse_promote_mode(value);
            if (!ramp_promote)
                return fail("bad promote value " + std::string(value) + ": auto or manual");
        } else if (key == "wait") {
            if (cmd.wait_all) return twice();
            if (value != "all")
                return fail("bad wait value " + std::string(value) +
                            ": all (reply once every live fleet member applied the change)");
            cmd.wait_all = true;
        } else if (key == "binary") {
            if (!cmd.binary.empty()) return twice();
            // The server's working directory is not the caller's.
            if (value.empty() || value.front() != '/')
                return fail("bad binary value " + std::string(value) + ": an absolute path");
            cmd.binary = std::string(value);
        }
    }
    if (positional.size() < spec->min_positional) return fail("missing argument; " + usage);
    if (positional.size() > spec->max_positional) return fail("too many arguments; " + usage);

    auto& r = cmd.routing;
    switch (spec->verb) {
        case Verb::switch_:
            r.kind = RoutingCommand::Kind::switch_to;
            r.pool = std::string(positional[0]);
            break;
        case Verb::canary: {
            r.kind = RoutingCommand::Kind::canary;
            r.pool = std::string(positional[0]);
            auto bp = parse_percent_bp(positional[1]);
            if (!bp)
                return fail("bad canary weight " + std::string(positional[1]) +
                            ": a percentage from 0 to 100 with at most two decimals");
            r.weight_bp = *bp;
            break;
        }
        case Verb::promote:
            r.kind = RoutingCommand::Kind::promote;
            break;
        case Verb::rollback:
            r.kind = RoutingCommand::Kind::rollback;
            break;
        case Verb::wait_drained:
            cmd.pool = std::string(positional[0]);
            break;
        case Verb::server: {
            r.kind = RoutingCommand::Kind::server_admin;
            r.pool = std::string(positional[0]);
            r.server = std::string(positional[1]);
            const std::string_view action = positional[2];
            const bool has_weight = positional.size() == 4;
            using Action = RoutingCommand::ServerAction;
            if (action == "drain") {
                r.action = Action::drain;
            } else if (action == "disable") {
                r.action = Action::disable;
            } else if (action == "enable") {
                r.action = Action::enable;
            } else if (action == "weight") {
                r.action = Action::weight;
                if (!has_weight) return fail("missing server weight; " + usage);
                auto w = parse_u64(positional[3]);
                if (!w || *w < 1 || *w > kMaxServerWeight)
                    return fail("bad server weight " + std::string(positional[3]) +
                                ": an integer from 1 to " + std::to_string(kMaxServerWeight) +
                                " (use disable to take a server out)");
                r.server_weight = static_cast<std::uint32_t>(*w);
            } else {
                return fail("unknown server action " + std::string(action) +
                            " (drain, disable, enable, weight N)");
            }
            if (has_weight && r.action != Action::weight)
                return fail("too many arguments; " + usage);
            break;
        }
        case Verb::flag: {
            r.kind = RoutingCommand::Kind::flag;
            if (!valid_flag_name(positional[0]))
                return fail("bad flag name " + std::string(positional[0]) +
                            ": letters, digits, '.', '_' and '-' (at most 64)");
            r.flag = std::string(positional[0]);
            if (positional[1] == "off") {
                r.flag_percent_milli = 0;
            } else if (auto milli = parse_flag_percent(positional[1])) {
                r.flag_percent_milli = *milli;
            } else {
                return fail("bad flag percent " + std::string(positional[1]) +
                            ": a percentage from 0 to 100 with at most three decimals, or off");
            }
            break;
        }
        case Verb::shadow: {
            // `shadow off`: a pool named "off" cannot be mirrored to (as a
            // ramp subcommand's name is never a pool).
            r.kind = RoutingCommand::Kind::shadow;
            if (positional[0] == "off") {
                if (positional.size() > 1) return fail("too many arguments; " + usage);
                break;
            }
            if (positional.size() < 2) return fail("missing argument; " + usage);
            r.pool = std::string(positional[0]);
            auto milli = parse_flag_percent(positional[1]);
            if (!milli)
                return fail("bad shadow percent " + std::string(positional[1]) +
                            ": a percentage from 0 to 100 with at most three decimals");
            r.shadow_percent_milli = *milli;
            if (positional.size() == 3) {
                if (positional[2] != "diff")
                    return fail("unknown argument " + std::string(positional[2]) +
                                " for shadow (only diff may follow the percent); " + usage);
                r.shadow_diff = true;
            }
            break;
        }
        case Verb::diff:
            if (!positional.empty()) {
                if (positional[0] != "reset")
                    return fail("unknown argument " + std::string(positional[0]) + " for diff; " +
                                usage);
                cmd.reset = true;
            }
            break;
        case Verb::status:
            if (!positional.empty()) {
                if (positional[0] != "fleet")
                    return fail("unknown argument " + std::string(positional[0]) + " for status; " +
                                usage);
                cmd.fleet = true;
            }
            break;
        case Verb::cluster:
            if (positional[0] != "init")
                return fail("unknown argument " + std::string(positional[0]) + " for cluster; " +
                            usage);
            break;
        case Verb::ramp: {
            auto parsed = ramp_command(positional, cmd.routing, usage);
            if (!parsed.command) return fail(std::move(parsed.error));
            parsed.command->steps_bp = std::move(ramp_steps);
            parsed.command->bake = ramp_bake;
            parsed.command->promote = ramp_promote;
            const bool start = parsed.command->kind == RampCommand::Kind::start;
            if (!start && (ramp_steps || ramp_bake || ramp_promote || r.if_generation))
                return fail("steps, bake, promote and if-generation are for ramp POOL; " + usage);
            cmd.ramp = std::move(parsed.command);
            break;
        }
        default:
            break;
    }
    return {std::move(cmd), {}};
}

std::string error_reply(std::string_view error) {
    std::string out;
    JsonWriter(out).begin_object().key("ok").boolean(false).key("error").string(error).end_object();
    return out;
}

std::string state_reply(const RuntimeState& state, bool changed, std::string_view draining,
                        bool with_shadow) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("ok").boolean(true).key("changed").boolean(changed);
    write_routing_fields(w, state);
    if (!state.flags.empty()) {
        w.key("flags").begin_object();
        for (const auto& [name, percent] : state.flags)
            w.key(name).number_fixed(percent / 1000.0, 3);
        w.end_object();
    }
    if (with_shadow || !state.shadow.pool.empty()) {
        w.key("shadow");
        write_shadow(w, state.shadow);
    }
    if (!draining.empty()) w.key("draining").string(draining);
    w.end_object();
    return out;
}

}  // namespace switchyard::control

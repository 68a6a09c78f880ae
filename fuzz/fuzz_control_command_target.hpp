// The control-command fuzz target (fuzz/fuzz_control_command.cpp) as a plain
// function of the input bytes, shared with the corpus replay in
// tests/unit/control/fuzz_regression_test.cpp.
//
// The input is one line as a control-socket client sends it. parse_command
// must never crash, must give either a command or one clear error, and a
// command it accepts must mean exactly what its canonical text means: the
// command rendered back to a line parses to the same command (so a typo can
// never run a different one), whatever the spacing and line terminator.
#pragma once

#include <boost/json/parse.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "switchyard/control/command.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/ramp_steps.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::fuzz {

namespace detail {

using control::ControlCommand;

inline std::string_view server_action_name(RoutingCommand::ServerAction a) {
    switch (a) {
        case RoutingCommand::ServerAction::drain:
            return "drain";
        case RoutingCommand::ServerAction::disable:
            return "disable";
        case RoutingCommand::ServerAction::enable:
            return "enable";
        case RoutingCommand::ServerAction::weight:
            return "weight";
    }
    return "?";
}

inline std::string_view ramp_kind_name(RampCommand::Kind k) {
    switch (k) {
        case RampCommand::Kind::start:
            return "";
        case RampCommand::Kind::pause:
            return "pause";
        case RampCommand::Kind::resume:
            return "resume";
        case RampCommand::Kind::promote:
            return "promote";
        case RampCommand::Kind::abort:
            return "abort";
        case RampCommand::Kind::ack:
            return "ack";
    }
    return "?";
}

// The command as one canonical line: verb, positional arguments, then the
// key=value arguments and force (DESIGN.md, "Control protocol").
inline std::string render_command(const ControlCommand& c) {
    using Verb = ControlCommand::Verb;
    std::string out(control::verb_name(c.verb));
    const auto add = [&](std::string_view token) {
        out += ' ';
        out += token;
    };
    const RoutingCommand& r = c.routing;
    switch (c.verb) {
        case Verb::switch_:
            add(r.pool);
            break;
        case Verb::canary:
            add(r.pool);
            add(format_weight_percent(r.weight_bp));
            break;
        case Verb::wait_drained:
            add(c.pool);
            break;
        case Verb::server:
            add(r.pool);
            add(r.server);
            add(server_action_name(r.action));
            if (r.action == RoutingCommand::ServerAction::weight)
                add(std::to_string(r.server_weight));
            break;
        case Verb::ramp:
            if (c.ramp) {
                if (c.ramp->kind != RampCommand::Kind::start) add(ramp_kind_name(c.ramp->kind));
                if (!c.ramp->pool.empty()) add(c.ramp->pool);
                if (c.ramp->steps_bp) {
                    std::string steps;
                    for (auto bp : *c.ramp->steps_bp)
                        steps += (steps.empty() ? "" : ",") + format_step_percent(bp);
                    add("steps=" + steps);
                }
                if (c.ramp->bake) add("bake=" + format_duration(*c.ramp->bake));
                if (c.ramp->promote) add("promote=" + std::string(to_string(*c.ramp->promote)));
            }
            break;
        case Verb::flag:
            add(r.flag);
            add(format_flag_percent(r.flag_percent_milli));
            break;
        case Verb::shadow:
            if (r.pool.empty()) {
                add("off");
                break;
            }
            add(r.pool);
            add(format_flag_percent(r.shadow_percent_milli));
            if (r.shadow_diff) add("diff");
            break;
        case Verb::diff:
            if (c.reset) add("reset");
            break;
        default:
            break;
    }
    if (c.drain) add("drain=" + format_duration(*c.drain));
    if (c.timeout) add("timeout=" + format_duration(*c.timeout));
    if (r.if_generation) add("if-generation=" + std::to_string(*r.if_generation));
    if (!c.binary.empty()) add("binary=" + c.binary);
    if (r.force) add("force");
    return out;
}

// Equal in meaning; `text` (the line as received) is not compared.
inline bool same_ramp(const ControlCommand& a, const ControlCommand& b) {
    if (a.ramp.has_value() != b.ramp.has_value()) return false;
    if (!a.ramp) return true;
    const RampCommand &x = *a.ramp, &y = *b.ramp;
    return x.kind == y.kind && x.pool == y.pool && x.steps_bp == y.steps_bp && x.bake == y.bake &&
           x.promote == y.promote && x.force == y.force && x.origin == y.origin;
}

inline bool same_command(const ControlCommand& a, const ControlCommand& b) {
    const RoutingCommand &x = a.routing, &y = b.routing;
    return a.verb == b.verb && x.kind == y.kind && x.pool == y.pool && x.weight_bp == y.weight_bp &&
           x.server == y.server && x.action == y.action && x.server_weight == y.server_weight &&
           x.if_generation == y.if_generation && x.force == y.force && x.flag == y.flag &&
           x.flag_percent_milli == y.flag_percent_milli &&
           x.shadow_percent_milli == y.shadow_percent_milli && x.shadow_diff == y.shadow_diff &&
           a.pool == b.pool && a.drain == b.drain && a.timeout == b.timeout &&
           a.binary == b.binary && a.wait == b.wait && a.reset == b.reset && same_ramp(a, b);
}

inline bool same_result(const control::ParsedCommand& a, const control::ParsedCommand& b) {
    if (a.command.has_value() != b.command.has_value()) return false;
    return a.command ? same_command(*a.command, *b.command) : a.error == b.error;
}

inline bool has_control_char(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return true;
    }
    return false;
}

// Spaces and tabs between tokens as one space, none around them.
inline std::string single_spaced(std::string_view line) {
    std::string out;
    bool gap = false;
    for (char c : line) {
        if (c == ' ' || c == '\t') {
            gap = !out.empty();
            continue;
        }
        if (gap) out += ' ';
        gap = false;
        out += c;
    }
    return out;
}

// The reply to a refused line is one JSON object that says what was wrong:
// a client (switchyardctl) must be able to read it.
inline void check_error_reply(const std::string& error) {
    SY_FUZZ_CHECK(!error.empty());
    SY_FUZZ_CHECK(!has_control_char(error));
    const std::string reply = control::error_reply(error);
    SY_FUZZ_CHECK(reply.find('\n') == std::string::npos);
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(reply, ec);
    SY_FUZZ_CHECK(!ec && v.is_object());
    const auto& o = v.as_object();
    SY_FUZZ_CHECK(o.size() == 2 && o.contains("ok") && o.at("ok") == false);
    SY_FUZZ_CHECK(o.contains("error") && o.at("error").is_string() &&
                  o.at("error").as_string() == error);
}

inline void check_accepted(std::string_view line, const ControlCommand& c) {
    using Verb = ControlCommand::Verb;
    // What the audit log records: the line without its terminator, trimmed.
    SY_FUZZ_CHECK(!c.text.empty() && c.text.size() <= control::kMaxLineBytes);
    SY_FUZZ_CHECK(line.find(c.text) != std::string_view::npos);
    // Tabs are the only control characters left: nothing forges a log line.
    SY_FUZZ_CHECK(!has_control_char(single_spaced(c.text)));
    SY_FUZZ_CHECK(c.text.front() != ' ' && c.text.front() != '\t');
    SY_FUZZ_CHECK(c.text.back() != ' ' && c.text.back() != '\t');
    SY_FUZZ_CHECK(c.text.starts_with(control::verb_name(c.verb)));
    SY_FUZZ_CHECK(!c.wait);  // client side only
    // Replies quote the pool, server and line: they must stay valid JSON.
    boost::system::error_code ec;
    boost::json::parse(control::error_reply(c.text), ec);
    SY_FUZZ_CHECK(!ec);

    const RoutingCommand& r = c.routing;
    using Kind = RoutingCommand::Kind;
    if (control::changes_routing(c.verb)) {
        const Kind want = c.verb == Verb::switch_    ? Kind::switch_to
                          : c.verb == Verb::canary   ? Kind::canary
                          : c.verb == Verb::promote  ? Kind::promote
                          : c.verb == Verb::rollback ? Kind::rollback
                          : c.verb == Verb::flag     ? Kind::flag
                          : c.verb == Verb::shadow   ? Kind::shadow
                                                     : Kind::server_admin;
        SY_FUZZ_CHECK(r.kind == want);
        if (c.verb == Verb::flag) SY_FUZZ_CHECK(valid_flag_name(r.flag));
        // Off is no pool; a pool named "off" cannot be given.
        if (c.verb == Verb::shadow && r.pool.empty())
            SY_FUZZ_CHECK(r.shadow_percent_milli == 0 && !r.shadow_diff);
        SY_FUZZ_CHECK(r.pool != "off" || c.verb != Verb::shadow);
    } else if (c.verb == Verb::ramp) {
        // Every ramp line is one subcommand; force and if-generation only where they mean
        // something.
        SY_FUZZ_CHECK(c.ramp.has_value());
        SY_FUZZ_CHECK(c.ramp->force == r.force);
        if (c.ramp->kind != RampCommand::Kind::start)
            SY_FUZZ_CHECK(!r.if_generation && !c.ramp->steps_bp && !c.ramp->bake);
        if (c.ramp->steps_bp) SY_FUZZ_CHECK(!validate_ramp_steps(*c.ramp->steps_bp));
    } else {
        SY_FUZZ_CHECK(!r.if_generation && !r.force && !c.ramp);
    }
    SY_FUZZ_CHECK(r.weight_bp <= 10000);
    SY_FUZZ_CHECK(r.flag_percent_milli <= 100000 && r.shadow_percent_milli <= 100000);
    SY_FUZZ_CHECK(c.verb == Verb::diff || !c.reset);
    SY_FUZZ_CHECK((r.action == RoutingCommand::ServerAction::weight) == (r.server_weight != 0));
    SY_FUZZ_CHECK(r.server_weight <= kMaxServerWeight);
    SY_FUZZ_CHECK(c.binary.empty() || c.binary.front() == '/');
    SY_FUZZ_CHECK(!c.drain || *c.drain >= Duration{0});
    SY_FUZZ_CHECK(!c.timeout || *c.timeout >= Duration{0});

    // The canonical line means the same and is its own canonical line.
    const std::string canonical = render_command(c);
    const control::ParsedCommand again = control::parse_command(canonical);
    SY_FUZZ_CHECK(again.command.has_value());
    SY_FUZZ_CHECK(same_command(*again.command, c));
    SY_FUZZ_CHECK(again.command->text == canonical);
    SY_FUZZ_CHECK(render_command(*again.command) == canonical);
}

}  // namespace detail

inline void check_control_command(std::string_view line) {
    using namespace detail;
    const control::ParsedCommand parsed = control::parse_command(line);
    SY_FUZZ_CHECK(parsed.command.has_value() == parsed.error.empty());
    if (parsed.command) {
        check_accepted(line, *parsed.command);
    } else {
        check_error_reply(parsed.error);
    }
    SY_FUZZ_CHECK(same_result(control::parse_command(line), parsed));  // deterministic

    // The line terminator and the spacing between tokens change nothing.
    if (!has_control_char(single_spaced(line)) && line.size() <= control::kMaxLineBytes) {
        SY_FUZZ_CHECK(same_result(control::parse_command(std::string(line) + "\n"), parsed));
        SY_FUZZ_CHECK(same_result(control::parse_command(std::string(line) + "\r\n"), parsed));
        SY_FUZZ_CHECK(same_result(control::parse_command(single_spaced(line)), parsed));
    }
}

}  // namespace switchyard::fuzz

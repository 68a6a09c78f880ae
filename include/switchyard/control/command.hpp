// Control commands: one line of the control protocol (DESIGN.md, "Control
// protocol") parsed into a ControlCommand, and the reply lines that go back.
//
// Pure: no I/O. A line is `VERB [POSITIONAL...] [key=value...] [force]`,
// tokens separated by spaces or tabs. Anything unexpected is an error with a
// clear message, so a typo never runs a different command.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/ramp.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/runtime_transitions.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::control {

// The longest command line, without its "\n" or "\r\n".
inline constexpr std::size_t kMaxLineBytes = 4096;

struct ControlCommand {
    enum class Verb {
        status,
        switch_,
        canary,
        promote,
        rollback,
        wait_drained,
        server,
        reload,
        upgrade,
        ramp,
        shadow,
        flag,
        diff,
        cluster
    };
    Verb verb = Verb::status;
    RoutingCommand routing;           // switch_, canary, promote, rollback, server, flag, shadow
    std::string pool;                 // wait_drained: the pool to wait for
    std::optional<Duration> drain;    // switch_, promote, rollback: drain=D
    std::optional<Duration> timeout;  // wait_drained: timeout=D
    std::string binary;               // upgrade: binary=PATH (absolute)
    // Client side only (switchyardctl --wait sends wait-drained itself);
    // parse_command never sets it.
    bool wait = false;
    // ramp: the subcommand; `routing` carries ramp POOL's if-generation=N.
    std::optional<RampCommand> ramp;
    bool reset = false;  // diff: `diff reset` (else the comparison results are read)
    // Fleet (DESIGN.md "Fleet"): `status fleet` adds every member;
    // wait=all on a change replies once every live member applied it.
    bool fleet = false;
    bool wait_all = false;
    std::string text;  // the line, trimmed: what the audit log records
};

struct ParsedCommand {
    std::optional<ControlCommand> command;
    std::string error;  // when !command
};

ParsedCommand parse_command(std::string_view line);

// "switch", "wait-drained", ...: the verb as written on the wire.
std::string_view verb_name(ControlCommand::Verb verb);

// switch, canary, promote, rollback, server, flag and shadow change the
// routing state (they take if-generation=N and wait=all, and are refused
// during an upgrade). `cluster init` is the fleet's only other verb.
bool changes_routing(ControlCommand::Verb verb);

// Reply lines (one JSON object, no newline).
// {"ok":false,"error":"..."}
std::string error_reply(std::string_view error);
// {"ok":true,"changed":true,"active":"green","previous":"blue",
//  "canary":{"pool":"blue","weight":0.00},"generation":4,"draining":"blue"}
// ("flags":{"new-checkout":5.000} when the config has flags,
// "shadow":{"pool":"green","percent":10.000,"diff":true} when mirroring is
// on or `with_shadow` (the shadow command's reply, off included), "draining"
// only when `draining` is not empty): what every reply to a mutating
// command carries (DESIGN.md).
std::string state_reply(const RuntimeState& state, bool changed, std::string_view draining = {},
                        bool with_shadow = false);

}  // namespace switchyard::control

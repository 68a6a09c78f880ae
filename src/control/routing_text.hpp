// Text shared by the ControlPlane's files (private to src/control): the
// routing state in one line, as the audit log writes it ("active=green
// previous=blue canary=blue:0.00% generation=4"), and lists.
#pragma once

#include <string>
#include <vector>

#include "switchyard/core/json_writer.hpp"

#include "switchyard/core/runtime_state.hpp"

namespace switchyard::control::detail {

// Mirroring is named when it is on, or (with_shadow) also when it is off.
std::string describe(const RuntimeState& s, bool with_shadow = false);

// `line` is one JSON object: `members` ("\"a\":1,\"b\":2") are added
// before its closing brace.
inline void append_members(std::string& line, const std::string& members) {
    line.pop_back();
    line += "," + members + "}";
}

// A JSON array of strings (warnings, errors, conflicts).
void write_strings(JsonWriter& w, const std::vector<std::string>& list);

}  // namespace switchyard::control::detail

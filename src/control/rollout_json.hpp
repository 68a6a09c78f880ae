// The state file's "rollout" object (private to src/control; the layout is
// in state_file.hpp).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/ramp.hpp"

namespace switchyard::control::detail {

// True when there is something to write: a ramp or an unacknowledged abort.
bool has_rollout(const RolloutSnapshot& rollout);

// Writes the object (the caller writes its key).
void write_rollout(JsonWriter& w, const RolloutSnapshot& rollout);

// Strict, as from_json(); `error` names the field.
bool read_rollout(const boost::json::value& v, RolloutSnapshot& out, std::string& error);

// A percentage with at most two decimals, 0..100, as basis points; `what`
// begins the error ("canary weight must be a number").
bool read_percent_bp(const boost::json::value& v, std::string_view what, std::uint32_t& out,
                     std::string& error);
// The same with at most three decimals, as percent x 1000 (flags).
bool read_percent_milli(const boost::json::value& v, std::string_view what, std::uint32_t& out,
                        std::string& error);

}  // namespace switchyard::control::detail

// switchyardctl's view of a ramp: the one-line summaries of status's "ramp"
// object, and `ramp … --wait`, which polls status and prints one line per
// transition until the ramp ends (DESIGN.md, "Progressive delivery").
//
// Pure: the caller polls and prints.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

namespace switchyard::control {

// `ramp … --wait`: 0 promoted, 4 aborted, 3 timed out (the ramp goes on).
inline constexpr int kExitRampAborted = 4;

// "green running, step 2 of 5 (5.00 %), bake left 42.0 s: step 2 of 5 ..."
// from status's "ramp" object.
std::string format_ramp(const boost::json::object& ramp);

// The last verdict as one line, or "" when there is none:
// "verdict pass: canary 0.40 % (1 of 250), p99 12.1 ms; baseline ..."
std::string format_last_verdict(const boost::json::object& ramp);

class RampWatch {
  public:
    struct Step {
        std::string lines;             // to print (each ends in "\n"); may be empty
        std::optional<int> exit_code;  // set: the ramp ended (or was never there)
    };
    // One status reply. A line is printed when the ramp's state, step or
    // reason changed since the last one (the first is always printed);
    // with `json`, the ramp object itself.
    Step observe(const boost::json::object& status, bool json);

  private:
    std::string last_key_;
};

}  // namespace switchyard::control

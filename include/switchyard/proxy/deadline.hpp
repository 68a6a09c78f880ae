// Deadline: when one side of a request phase must have progressed, and what
// its expiry means. Checked by the worker's coarse tick instead of a timer
// per read or write (DESIGN.md, performance notes).
#pragma once

#include "switchyard/core/clock.hpp"
#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {

struct Deadline {
    Clock::time_point at = Clock::time_point::max();
    ErrorKind kind = ErrorKind::none;  // what expiry means
    void arm(Clock::time_point now, Clock::duration d, ErrorKind k) {
        at = now + d;
        kind = k;
    }
    void clear() { at = Clock::time_point::max(); }
};

}  // namespace switchyard::proxy

// The one retry rule (DESIGN.md) for every resend: a stale pooled
// connection, or another server of the pool. Pure: the engine passes what
// it knows about the attempt.
#pragma once

#include <cstdint>

#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {

// What the engine knows about the attempt that failed.
struct AttemptFacts {
    bool response_started = false;        // a response byte went to the client
    bool replayable = true;               // everything sent upstream is in the replay buffer
    std::uint64_t bytes_written = 0;      // request bytes the upstream accepted
    bool response_byte_received = false;  // the upstream sent something back
    bool idempotent = false;              // the request's method is idempotent
};

// Resend only if no byte reached the upstream, or the method is idempotent,
// no response byte arrived and everything sent is still in the replay
// buffer. Only failures to reach the server count: a server that answered
// too slowly or wrongly is not asked twice (a retry would double the wait,
// or the damage).
bool may_resend(const AttemptFacts& attempt, ErrorKind kind);

}  // namespace switchyard::proxy

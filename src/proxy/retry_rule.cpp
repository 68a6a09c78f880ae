#include "switchyard/proxy/retry_rule.hpp"

namespace switchyard::proxy {

bool may_resend(const AttemptFacts& a, ErrorKind kind) {
    if (a.response_started || !a.replayable) return false;
    const bool nothing_sent = a.bytes_written == 0;
    const bool replay_ok = !a.response_byte_received && a.idempotent;
    if (!nothing_sent && !replay_ok) return false;
    switch (kind) {
        case ErrorKind::connect_failed:
        case ErrorKind::connect_timeout:
        case ErrorKind::upstream_closed:
        case ErrorKind::upstream_reset:
            return true;
        default:
            return false;
    }
}

}  // namespace switchyard::proxy

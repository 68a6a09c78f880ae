#include "switchyard/proxy/passive_report.hpp"

namespace switchyard::proxy {

std::optional<PassiveResult> passive_report(ErrorKind error, unsigned status) {
    switch (error) {
        case ErrorKind::connect_failed:
        case ErrorKind::connect_timeout:
        case ErrorKind::upstream_tls:
            return PassiveResult{PassiveOutcome::connect_failure, 0};
        case ErrorKind::upstream_closed:
        case ErrorKind::upstream_reset:
            return PassiveResult{PassiveOutcome::reset, 0};
        case ErrorKind::upstream_timeout:
            return PassiveResult{PassiveOutcome::timeout, 0};
        case ErrorKind::bad_response:
            return PassiveResult{PassiveOutcome::server_error, 502};
        case ErrorKind::none:
            if (status == 0) return std::nullopt;
            return passive_result_for_status(static_cast<std::uint16_t>(status));
        default:
            return std::nullopt;
    }
}

}  // namespace switchyard::proxy

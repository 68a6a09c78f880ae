#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {

unsigned status_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::none:
            return 200;
        case ErrorKind::client_timeout:
            return 408;
        case ErrorKind::client_closed:
            return 499;  // logged only, never sent
        case ErrorKind::body_too_large:
            return 413;
        case ErrorKind::no_server:
        case ErrorKind::limit_reached:
            return 503;
        case ErrorKind::connect_timeout:
        case ErrorKind::upstream_timeout:
            return 504;
        case ErrorKind::send_timeout:
            return 504;
        case ErrorKind::drain_cut:
            return 503;
        case ErrorKind::connect_failed:
        case ErrorKind::upstream_tls:
        case ErrorKind::upstream_closed:
        case ErrorKind::upstream_reset:
        case ErrorKind::bad_response:
            return 502;
    }
    return 502;
}

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::none:
            return "";
        case ErrorKind::client_timeout:
            return "client_timeout";
        case ErrorKind::client_closed:
            return "client_closed";
        case ErrorKind::body_too_large:
            return "body_too_large";
        case ErrorKind::no_server:
            return "no_server";
        case ErrorKind::limit_reached:
            return "limit_reached";
        case ErrorKind::connect_failed:
            return "connect_failed";
        case ErrorKind::upstream_tls:
            return "upstream_tls";
        case ErrorKind::connect_timeout:
            return "connect_timeout";
        case ErrorKind::upstream_closed:
            return "upstream_closed";
        case ErrorKind::upstream_reset:
            return "upstream_reset";
        case ErrorKind::upstream_timeout:
            return "upstream_timeout";
        case ErrorKind::bad_response:
            return "bad_response";
        case ErrorKind::send_timeout:
            return "send_timeout";
        case ErrorKind::drain_cut:
            return "drain_cut";
    }
    return "unknown";
}

}  // namespace switchyard::proxy

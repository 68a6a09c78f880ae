// The access log's record of one request, and its JSON line. Pure: the
// request's context fills the record when it ends; the line's members and
// their order are a contract (README, "Access log").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {

struct AccessRecord {
    std::string_view time;  // the worker's cached time stamp
    unsigned worker = 0;
    std::string_view client;  // the request's client (through trusted proxies)
    std::string_view peer;    // the connection's peer; logged when it differs from client
    std::string_view method;
    std::string_view target;
    bool http2 = false;  // came over HTTP/2: logged as "protocol":"HTTP/2" (HTTP/1.x: absent)
    unsigned status = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::int64_t duration_us = 0;  // logged as duration_ms with three decimals
    std::string_view upstream;     // the server's address; empty: none chosen
    std::string_view pool;         // empty: none chosen
    std::string_view request_id;
    ErrorKind error = ErrorKind::none;
    unsigned retries = 0;           // resends; logged when > 0
    std::int32_t bucket = -1;       // the user's bucket; -1: no routing decision
    std::int64_t connect_us = -1;   // set-up of a new upstream connection; -1: reused
    std::int64_t response_us = -1;  // request written → first response head; -1: none
};

// Appends the record as one JSON line (with its newline) to `out`.
void append_access_line(std::string& out, const AccessRecord& r);

}  // namespace switchyard::proxy

// switchyard-load: the command line (CLI11, like the other programs); the
// contract is in tools/load/README.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace switchyard::load {

struct LoadOptions {
    boost::asio::ip::tcp::endpoint target;  // 127.0.0.1 or ::1 only
    std::string host_header;                // "127.0.0.1:PORT" or "[::1]:PORT"
    double duration_s = 10;                 // hard stop for starting requests
    std::uint64_t max_requests = 0;         // 0: no limit
    unsigned keepalive = 4;                 // keep-alive loops
    unsigned per_request = 0;               // new-connection-per-request loops
    unsigned slow = 0;                      // slow-request loops
    unsigned slow_ms = 1500;                // delay_ms of a slow request
    unsigned post_percent = 0;              // share of (non-slow) requests that are POSTs
    unsigned bytes_percent = 25;            // share of GETs that ask for bytes=N
    unsigned timeout_ms = 10'000;           // per-request deadline (connect to last byte)
    std::string slow_log;                   // empty: none
    unsigned slow_threshold_ms = 200;
    double progress_s = 0;  // 0: no progress lines on stderr
    unsigned threads = 1;
    bool json = false;
    bool reuse_check = true;  // peek for a FIN/RST on an idle connection before reusing it
    std::string path_suffix;  // hidden: a query parameter added to every request
};

struct ParsedArgs {
    std::optional<LoadOptions> options;  // set when the arguments are valid
    std::string error;                   // else why not (empty with help)
    bool help = false;
};

ParsedArgs parse_load_args(const std::vector<std::string>& args);
std::string load_usage();

}  // namespace switchyard::load

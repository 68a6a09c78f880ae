#include "load_options.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace switchyard::load {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

bool parse_uint(std::string_view s, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) return false;
    out = v;
    return true;
}

bool parse_seconds(std::string_view s, double min, double max, double& out) {
    if (s.empty()) return false;
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < min || v > max)
        return false;
    out = v;
    return true;
}

// HOST:PORT where HOST is 127.0.0.1, localhost, ::1 or [::1]: the load client
// sends traffic to this machine's loopback and nowhere else.
std::string parse_target(std::string_view s, LoadOptions& o) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return "--target expects HOST:PORT";
    auto host = s.substr(0, colon);
    std::uint64_t port = 0;
    if (!parse_uint(s.substr(colon + 1), 1, 65535, port)) return "--target: port must be 1..65535";
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    auto address = net::ip::make_address(std::string(host), ec);
    if (ec ||
        !(address == net::ip::make_address("127.0.0.1") || address == net::ip::make_address("::1")))
        return "--target: only 127.0.0.1 and [::1] are allowed, got '" + std::string(host) + "'";
    o.target = tcp::endpoint(address, static_cast<unsigned short>(port));
    o.host_header =
        (address.is_v6() ? "[::1]" : "127.0.0.1") + std::string(":") + std::to_string(port);
    return {};
}

bool is_query_param(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') ||
                        std::string_view{"-._~=&%+:"}.find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

}  // namespace

const char* load_usage() {
    return "usage: switchyard-load --target HOST:PORT [options]\n"
           "  --target HOST:PORT      127.0.0.1 or [::1] only\n"
           "  --duration SECONDS      stop starting requests after this (default 10)\n"
           "  --max-requests N        stop after N requests in total (default: no limit)\n"
           "  --keepalive N           keep-alive connections, requests back to back (default 4)\n"
           "  --per-request N         loops opening a new connection per request (default 0)\n"
           "  --slow N                loops sending GET /?delay_ms=M (default 0)\n"
           "  --slow-ms M             delay of a slow request (default 1500)\n"
           "  --post-percent P        share of requests that are POSTs with a 1..64 KiB body\n"
           "                          (default 0)\n"
           "  --bytes-percent P       share of GETs asking for bytes=N (default 25)\n"
           "  --timeout-ms MS         per-request deadline (default 10000)\n"
           "  --slow-log FILE         append a line per slow or failed request\n"
           "  --slow-threshold-ms MS  what counts as slow (default 200)\n"
           "  --progress SECONDS      a progress line on stderr every SECONDS\n"
           "  --threads N             io_context threads (default 1)\n"
           "  --json                  print the summary as one JSON object\n"
           "  --no-reuse-check        reuse a keep-alive connection without first checking\n"
           "                          that the server has not closed it (a naive client)\n"
           "exit status: 0 no failed request, 1 a failed request, 2 bad arguments\n";
}

ParsedArgs parse_load_args(const std::vector<std::string>& args) {
    ParsedArgs r;
    LoadOptions o;
    bool have_target = false;
    bool have_loops = false;
    auto fail = [&r](std::string message) {
        r.error = std::move(message);
        return r;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "-h" || arg == "--help") {
            r.help = true;
            return r;
        }
        if (arg == "--json") {
            o.json = true;
            continue;
        }
        if (arg == "--no-reuse-check") {
            o.reuse_check = false;
            continue;
        }
        std::string_view key = arg;
        std::optional<std::string_view> value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            key = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        static constexpr std::string_view kKeys[] = {
            "--target",        "--duration",   "--max-requests", "--keepalive",
            "--per-request",   "--slow",       "--slow-ms",      "--post-percent",
            "--bytes-percent", "--timeout-ms", "--slow-log",     "--slow-threshold-ms",
            "--progress",      "--threads",    "--path-suffix"};
        bool known = false;
        for (auto k : kKeys)
            known = known || k == key;
        if (!known) return fail("unknown argument '" + std::string(arg) + "'");
        if (!value) {
            if (i + 1 >= args.size()) return fail(std::string(key) + " needs a value");
            value = args[++i];
        }
        const std::string_view v = *value;
        std::uint64_t n = 0;
        auto number = [&](std::uint64_t min, std::uint64_t max) {
            if (parse_uint(v, min, max, n)) return true;
            r.error = std::string(key) + " expects " + std::to_string(min) + ".." +
                      std::to_string(max) + ", got '" + std::string(v) + "'";
            return false;
        };
        if (key == "--target") {
            if (auto err = parse_target(v, o); !err.empty()) return fail(err);
            have_target = true;
        } else if (key == "--duration") {
            if (!parse_seconds(v, 0.001, 86400, o.duration_s))
                return fail("--duration expects seconds, 0.001..86400");
        } else if (key == "--progress") {
            if (!parse_seconds(v, 0.1, 3600, o.progress_s))
                return fail("--progress expects seconds, 0.1..3600");
        } else if (key == "--max-requests") {
            if (!number(1, 1'000'000'000'000ULL)) return r;
            o.max_requests = n;
        } else if (key == "--keepalive" || key == "--per-request" || key == "--slow") {
            if (!number(0, 10'000)) return r;
            unsigned& field = key == "--keepalive"     ? o.keepalive
                              : key == "--per-request" ? o.per_request
                                                       : o.slow;
            if (!have_loops) o.keepalive = 0;  // the default applies only when none is given
            have_loops = true;
            field = static_cast<unsigned>(n);
        } else if (key == "--slow-ms") {
            if (!number(0, 600'000)) return r;
            o.slow_ms = static_cast<unsigned>(n);
        } else if (key == "--post-percent" || key == "--bytes-percent") {
            if (!number(0, 100)) return r;
            (key == "--post-percent" ? o.post_percent : o.bytes_percent) = static_cast<unsigned>(n);
        } else if (key == "--timeout-ms") {
            if (!number(1, 3'600'000)) return r;
            o.timeout_ms = static_cast<unsigned>(n);
        } else if (key == "--slow-threshold-ms") {
            if (!number(0, 3'600'000)) return r;
            o.slow_threshold_ms = static_cast<unsigned>(n);
        } else if (key == "--threads") {
            if (!number(1, 256)) return r;
            o.threads = static_cast<unsigned>(n);
        } else if (key == "--slow-log") {
            if (v.empty()) return fail("--slow-log needs a file name");
            o.slow_log = v;
        } else {  // --path-suffix
            if (!is_query_param(v))
                return fail("--path-suffix expects query parameters such as abort=mid");
            o.path_suffix = v;
        }
    }
    if (!have_target) return fail("--target is required");
    if (o.keepalive + o.per_request + o.slow == 0)
        return fail("no loops: give --keepalive, --per-request or --slow a count above 0");
    r.options = std::move(o);
    return r;
}

}  // namespace switchyard::load

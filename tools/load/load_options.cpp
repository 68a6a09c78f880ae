#include "load_options.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "switchyard/cli/command_line.hpp"

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

// The declarations, shared by the parser and the help text.
struct CommandLine {
    CLI::App app{"", "switchyard-load"};
    LoadOptions options;
    std::string target;
    std::string path_suffix;

    CommandLine() {
        auto& o = options;
        cli::configure(app, "usage: switchyard-load --target HOST:PORT [options]\n");
        app.add_option("--target", target, "127.0.0.1 or [::1] only")->type_name("HOST:PORT");
        app.add_option("--duration", o.duration_s, "stop starting requests after this (default 10)")
            ->type_name("SECONDS")
            ->check(cli::in_range(0.001, 86400.0));
        app.add_option("--max-requests", o.max_requests,
                       "stop after N requests in total (default: no limit)")
            ->type_name("N")
            ->check(cli::in_range(std::uint64_t{1}, std::uint64_t{1'000'000'000'000ULL}));
        app.add_option("--keepalive", o.keepalive,
                       "keep-alive connections, requests back to back (default 4)")
            ->type_name("N")
            ->check(cli::in_range(0u, 10'000u));
        app.add_option("--per-request", o.per_request,
                       "loops opening a new connection per request (default 0)")
            ->type_name("N")
            ->check(cli::in_range(0u, 10'000u));
        app.add_option("--slow", o.slow, "loops sending GET /?delay_ms=M (default 0)")
            ->type_name("N")
            ->check(cli::in_range(0u, 10'000u));
        app.add_option("--slow-ms", o.slow_ms, "delay of a slow request (default 1500)")
            ->type_name("M")
            ->check(cli::in_range(0u, 600'000u));
        app.add_option("--post-percent", o.post_percent,
                       "share of requests that are POSTs with a 1..64 KiB body\n(default 0)")
            ->type_name("P")
            ->check(cli::in_range(0u, 100u));
        app.add_option("--bytes-percent", o.bytes_percent,
                       "share of GETs asking for bytes=N (default 25)")
            ->type_name("P")
            ->check(cli::in_range(0u, 100u));
        app.add_option("--timeout-ms", o.timeout_ms, "per-request deadline (default 10000)")
            ->type_name("MS")
            ->check(cli::in_range(1u, 3'600'000u));
        app.add_option("--slow-log", o.slow_log, "append a line per slow or failed request")
            ->type_name("FILE");
        app.add_option("--slow-threshold-ms", o.slow_threshold_ms,
                       "what counts as slow (default 200)")
            ->type_name("MS")
            ->check(cli::in_range(0u, 3'600'000u));
        app.add_option("--progress", o.progress_s, "a progress line on stderr every SECONDS")
            ->type_name("SECONDS")
            ->check(cli::in_range(0.1, 3600.0));
        app.add_option("--threads", o.threads, "io_context threads (default 1)")
            ->type_name("N")
            ->check(cli::in_range(1u, 256u));
        app.add_flag("--json", o.json, "print the summary as one JSON object");
        app.add_flag_callback(
            "--no-reuse-check", [&o] { o.reuse_check = false; },
            "reuse a keep-alive connection without first checking\n"
            "that the server has not closed it (a naive client)");
        // Hidden: a query parameter added to every request (tests).
        app.add_option("--path-suffix", path_suffix)->group("");
        cli::add_help_flag(app);
        app.footer("exit status: 0 no failed request, 1 a failed request, 2 bad arguments");
    }
};

}  // namespace

std::string load_usage() {
    return CommandLine().app.help();
}

ParsedArgs parse_load_args(const std::vector<std::string>& args) {
    ParsedArgs r;
    CommandLine cl;
    const auto parsed = cli::parse(cl.app, args);
    if (!parsed.ok) {
        r.error = parsed.error;
        return r;
    }
    if (parsed.help) {
        r.help = true;
        return r;
    }
    LoadOptions& o = cl.options;
    if (cl.app.count("--target") == 0) {
        r.error = "--target is required";
        return r;
    }
    if (auto err = parse_target(cl.target, o); !err.empty()) {
        r.error = err;
        return r;
    }
    // The default of 4 keep-alive loops applies only when no loop count is given.
    if (cl.app.count("--keepalive") == 0 &&
        (cl.app.count("--per-request") > 0 || cl.app.count("--slow") > 0))
        o.keepalive = 0;
    if (!std::isfinite(o.duration_s) || !std::isfinite(o.progress_s)) {
        r.error = "--duration and --progress expect seconds";
        return r;
    }
    if (cl.app.count("--slow-log") > 0 && o.slow_log.empty()) {
        r.error = "--slow-log needs a file name";
        return r;
    }
    if (cl.app.count("--path-suffix") > 0) {
        if (!is_query_param(cl.path_suffix)) {
            r.error = "--path-suffix expects query parameters such as abort=mid";
            return r;
        }
        o.path_suffix = cl.path_suffix;
    }
    if (o.keepalive + o.per_request + o.slow == 0) {
        r.error = "no loops: give --keepalive, --per-request or --slow a count above 0";
        return r;
    }
    r.options = std::move(o);
    return r;
}

}  // namespace switchyard::load

// switchyard-echo: the test upstream of Switchyard's integration tests,
// quick-start and benchmarks.
//
//   switchyard-echo --name NAME [--listen HOST:PORT] [--threads N]
//
// Prints "listening ADDR:PORT" once bound; exits 0 on SIGTERM/SIGINT, 2 on bad
// arguments. What it answers is decided per request by the query string; see
// echo_options.hpp and the contract in tools/echo/README.md.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include "server.hpp"
#include "switchyard/cli/command_line.hpp"

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Args {
    std::string name;
    tcp::endpoint endpoint{net::ip::make_address_v4("127.0.0.1"), 0};
    unsigned threads = 1;
    double fail_percent = 0;
    std::uint64_t delay_ms = 0;
    double slow_percent = 0;
    std::uint64_t slow_min_ms = 20, slow_max_ms = 40;
};

std::optional<tcp::endpoint> parse_endpoint(std::string_view s) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = s.substr(0, colon);
    auto port_text = s.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535)
        return std::nullopt;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code aec;
    auto address = net::ip::make_address(std::string(host), aec);
    if (aec) return std::nullopt;
    return tcp::endpoint(address, static_cast<unsigned short>(port));
}

Args parse_args(int argc, char** argv) {
    CLI::App app{"", "switchyard-echo"};
    switchyard::cli::configure(
        app,
        "usage: switchyard-echo --name NAME [--listen HOST:PORT] [--threads N]\n"
        "                       [--fail-percent P] [--delay-ms N]\n"
        "                       [--slow-percent P] [--slow-ms MIN-MAX]\n");
    Args args;
    std::string listen;
    app.add_option("--name", args.name, "sent back in X-Echo-Name and as the default body")
        ->type_name("NAME");
    app.add_option("--listen", listen, "default 127.0.0.1:0 (an ephemeral port)")
        ->type_name("HOST:PORT");
    app.add_option("--threads", args.threads,
                   "io_context threads accepting on the one socket (default 1)")
        ->type_name("N")
        ->check(switchyard::cli::in_range(1u, 256u));
    app.add_option("--fail-percent", args.fail_percent,
                   "answer this share of requests (that ask for no status) with 500")
        ->type_name("P")
        ->check(CLI::Range(0.0, 100.0));
    app.add_option("--delay-ms", args.delay_ms, "delay every request that asks for no delay")
        ->type_name("N")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{3'600'000}));
    app.add_option("--slow-percent", args.slow_percent,
                   "delay this share of requests (that ask for no delay) by --slow-ms")
        ->type_name("P")
        ->check(CLI::Range(0.0, 100.0));
    std::string slow_ms;
    app.add_option("--slow-ms", slow_ms, "MIN-MAX milliseconds of a slow request (default 20-40)")
        ->type_name("MIN-MAX");
    switchyard::cli::add_help_flag(app);
    const auto usage_error = [&](const std::string& message) {
        std::cerr << "switchyard-echo: " << message << "\n" << app.help();
        std::exit(2);
    };
    const auto parsed =
        switchyard::cli::parse(app, std::vector<std::string>(argv + 1, argv + argc));
    if (!parsed.ok) usage_error(parsed.error);
    if (parsed.help) {
        std::cout << app.help();
        std::exit(0);
    }
    if (app.count("--name") == 0) usage_error("--name is required");
    if (!slow_ms.empty()) {
        const auto dash = slow_ms.find('-');
        try {
            if (dash == std::string::npos) throw std::invalid_argument("no dash");
            args.slow_min_ms = std::stoull(slow_ms.substr(0, dash));
            args.slow_max_ms = std::stoull(slow_ms.substr(dash + 1));
        } catch (const std::exception&) {
            usage_error("--slow-ms expects MIN-MAX milliseconds, got '" + slow_ms + "'");
        }
        if (args.slow_min_ms > args.slow_max_ms || args.slow_max_ms > 3'600'000)
            usage_error("--slow-ms expects MIN <= MAX <= 3600000");
    }
    if (args.name.empty() || args.name.find_first_of("\r\n") != std::string::npos)
        usage_error("--name must be non-empty and on one line");
    if (app.count("--listen") > 0) {
        auto ep = parse_endpoint(listen);
        if (!ep) usage_error("--listen expects HOST:PORT, got '" + listen + "'");
        args.endpoint = *ep;
    }
    return args;
}

std::string format_endpoint(const tcp::endpoint& ep) {
    auto address = ep.address().to_string();
    if (ep.address().is_v6()) address = "[" + address + "]";
    return address + ":" + std::to_string(ep.port());
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);

    // Signals are taken synchronously by the main thread; the workers inherit
    // the blocked mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    try {
        switchyard::echo::EchoIdentity identity{args.name, args.name + "\n"};
        identity.fail_bp = static_cast<std::uint32_t>(args.fail_percent * 100.0 + 0.5);
        identity.delay_ms = args.delay_ms;
        identity.slow_bp = static_cast<std::uint32_t>(args.slow_percent * 100.0 + 0.5);
        identity.slow_min_ms = args.slow_min_ms;
        identity.slow_max_ms = args.slow_max_ms;
        switchyard::echo::Server server(std::move(identity), args.endpoint, args.threads);
        server.start();
        std::printf("listening %s\n", format_endpoint(server.local_endpoint()).c_str());
        std::fflush(stdout);

        int sig = 0;
        sigwait(&signals, &sig);
        server.stop();
    } catch (const boost::system::system_error& e) {
        std::cerr << "switchyard-echo: cannot serve on " << format_endpoint(args.endpoint) << ": "
                  << e.code().message() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "switchyard-echo: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

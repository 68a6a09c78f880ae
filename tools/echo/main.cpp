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

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include "server.hpp"

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kUsage =
    "usage: switchyard-echo --name NAME [--listen HOST:PORT] [--threads N]\n"
    "  --name NAME         sent back in X-Echo-Name and as the default body\n"
    "  --listen HOST:PORT  default 127.0.0.1:0 (an ephemeral port)\n"
    "  --threads N         io_context threads accepting on the one socket (default 1)\n";

struct Args {
    std::string name;
    tcp::endpoint endpoint{net::ip::make_address_v4("127.0.0.1"), 0};
    unsigned threads = 1;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "switchyard-echo: " << message << "\n" << kUsage;
    std::exit(2);
}

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
    Args args;
    bool have_name = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            std::exit(0);
        }
        std::string_view key = arg;
        std::optional<std::string_view> value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            key = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        if (key != "--name" && key != "--listen" && key != "--threads")
            usage_error("unknown argument '" + std::string(arg) + "'");
        if (!value) {
            if (i + 1 >= argc) usage_error(std::string(key) + " needs a value");
            value = argv[++i];
        }
        if (key == "--name") {
            if (value->empty() || value->find_first_of("\r\n") != std::string_view::npos)
                usage_error("--name must be non-empty and on one line");
            args.name = *value;
            have_name = true;
        } else if (key == "--listen") {
            auto ep = parse_endpoint(*value);
            if (!ep) usage_error("--listen expects HOST:PORT, got '" + std::string(*value) + "'");
            args.endpoint = *ep;
        } else {
            unsigned n = 0;
            auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
            if (value->empty() || ec != std::errc{} || end != value->data() + value->size() ||
                n < 1 || n > 256)
                usage_error("--threads expects 1..256, got '" + std::string(*value) + "'");
            args.threads = n;
        }
    }
    if (!have_name) usage_error("--name is required");
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
        switchyard::echo::Server server({args.name, args.name + "\n"}, args.endpoint, args.threads);
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

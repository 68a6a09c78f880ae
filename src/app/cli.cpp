#include "switchyard/app/cli.hpp"

#include <signal.h>

#include <exception>
#include <iostream>

#include "switchyard/app/logging.hpp"
#include "switchyard/app/options.hpp"
#include "switchyard/app/server.hpp"
#include "switchyard/config/config_loader.hpp"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.1.0"
#endif

namespace switchyard::app {

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = parse_options(args);
    if (!parsed.options) {
        std::cerr << "switchyard: " << parsed.error << "\n" << usage();
        return 2;
    }
    const Options& opt = *parsed.options;
    if (opt.show_help) {
        std::cout << usage();
        return 0;
    }
    if (opt.show_version) {
        std::cout << "switchyard " << SWITCHYARD_VERSION << "\n";
        return 0;
    }

    auto result = config::load_file(opt.config_path);
    for (const auto& d : result.diagnostics) std::cerr << d.to_string() << "\n";
    if (!result.ok()) {
        std::cerr << "switchyard: " << opt.config_path << ": configuration has errors\n";
        return 1;
    }
    auto settings = std::make_shared<const Settings>(std::move(*result.settings));
    if (opt.check) {
        std::cout << config::summary(*settings) << "\n";
        return 0;
    }

    // A client that goes away must not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        auto log = make_error_logger(settings->log);
        Server server(settings, log);
        return server.run();
    } catch (const std::exception& e) {
        std::cerr << "switchyard: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace switchyard::app

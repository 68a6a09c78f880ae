#include "switchyard/app/cli.hpp"

#include <signal.h>

#include <exception>
#include <iostream>

#include "switchyard/app/logging.hpp"
#include "switchyard/app/options.hpp"
#include "switchyard/app/server.hpp"
#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/state_file.hpp"
#include "switchyard/core/runtime_state.hpp"

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
    for (const auto& d : result.diagnostics)
        std::cerr << d.to_string() << "\n";
    if (!result.ok()) {
        std::cerr << "switchyard: " << opt.config_path << ": configuration has errors\n";
        return 1;
    }
    auto settings = std::make_shared<const Settings>(std::move(*result.settings));

    // The state file wins over the config's routing (DESIGN.md, State): a
    // restart must never revert a cutover.
    RuntimeState runtime = initial_runtime_state(*settings);
    std::vector<std::string> conflicts;
    std::string state_error;
    switch (control::load_state_file(settings->server.state_file, runtime, state_error)) {
        case control::LoadStatus::missing:
            runtime = initial_runtime_state(*settings);
            break;
        case control::LoadStatus::corrupt:
            if (!opt.reset_state) {
                std::cerr << "switchyard: state file " << settings->server.state_file
                          << " is corrupt: " << state_error
                          << "\n  fix or remove it, or start with --reset-state to begin from the "
                             "config's routing\n";
                return 1;
            }
            std::cerr << "switchyard: state file " << settings->server.state_file << " is corrupt ("
                      << state_error << "); --reset-state: starting from the config\n";
            runtime = initial_runtime_state(*settings);
            break;
        case control::LoadStatus::ok: {
            auto reconciled = reconcile(runtime, *settings);
            runtime = reconciled.state;
            conflicts = reconciled.conflicts;
            for (const auto& d : reconciled.dropped)
                std::cerr << "switchyard: state file: dropped " << d << "\n";
            break;
        }
    }
    if (opt.check) {
        std::cout << config::summary(*settings) << "\n";
        for (const auto& c : conflicts)
            std::cout << "state: " << c << "\n";
        return 0;
    }

    // A client that goes away must not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        auto log = make_error_logger(settings->log);
        auto audit = make_audit_logger(settings->log);
        for (const auto& c : conflicts)
            log->warn("state: {}", c);
        Server server(settings, std::move(runtime), std::move(conflicts), log, audit);
        return server.run();
    } catch (const std::exception& e) {
        std::cerr << "switchyard: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace switchyard::app

// switchyardctl: the control socket's command-line client. All logic lives
// in control/ctl_client; this file only wires in the config layer (to find
// control.socket) and the process's environment.
#include <cstdlib>
#include <iostream>

#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/ctl_client.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto read_config = [](const std::string& path,
                          std::string& error) -> std::optional<std::string> {
        auto result = switchyard::config::load_file(path);
        if (!result.ok()) {
            for (const auto& d : result.diagnostics) {
                if (d.severity != switchyard::config::Diagnostic::Severity::error) continue;
                error = d.to_string();
                break;
            }
            return std::nullopt;
        }
        return result.settings->control.socket;
    };
    return switchyard::control::run_ctl(args, std::getenv("SWITCHYARD_CONTROL"), read_config,
                                        std::cout, std::cerr);
}

#include "switchyard/app/options.hpp"

namespace switchyard::app {

ParsedOptions parse_options(const std::vector<std::string>& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
                out = a.substr(eq + 1);
                return !out.empty();
            }
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        if (a == "-c" || a == "--config" || a.rfind("--config=", 0) == 0) {
            if (!value(o.config_path)) return {std::nullopt, a + " needs a file"};
        } else if (a == "-t" || a == "--check") {
            o.check = true;
        } else if (a == "--reset-state") {
            o.reset_state = true;
        } else if (a == "--upgrade") {
            o.upgrade = true;
        } else if (a == "--binary" || a.rfind("--binary=", 0) == 0) {
            if (!value(o.upgrade_binary) || o.upgrade_binary[0] != '/')
                return {std::nullopt, "--binary needs an absolute path"};
        } else if (a == "--handover-fd" || a.rfind("--handover-fd=", 0) == 0) {
            std::string fd;
            if (!value(fd) || fd.empty() ||
                fd.find_first_not_of("0123456789") != std::string::npos || fd.size() > 6)
                return {std::nullopt, "--handover-fd needs a descriptor number"};
            o.handover_fd = std::stoi(fd);
        } else if (a == "-v" || a == "--version") {
            o.show_version = true;
        } else if (a == "-h" || a == "--help") {
            o.show_help = true;
        } else {
            return {std::nullopt, "unknown argument: " + a};
        }
    }
    if (!o.upgrade_binary.empty() && !o.upgrade)
        return {std::nullopt, "--binary goes with --upgrade"};
    if (o.upgrade && (o.check || o.handover_fd >= 0))
        return {std::nullopt, "--upgrade cannot be combined with --check"};
    return {o, {}};
}

std::string usage() {
    return "usage: switchyard [-c FILE] [--check | --upgrade [--binary PATH]]\n"
           "  -c, --config FILE   configuration (default /etc/switchyard/switchyard.toml)\n"
           "  -t, --check         validate the configuration and the state file, and exit\n"
           "      --reset-state   start from the config's routing if the state file is corrupt\n"
           "      --upgrade       hot binary upgrade of the running instance (its control\n"
           "                      socket from the config), then exit; 0 when it succeeded\n"
           "      --binary PATH   with --upgrade: the new binary (default: the running one's\n"
           "                      start path)\n"
           "  -v, --version       print the version\n"
           "  -h, --help          this text\n";
}

}  // namespace switchyard::app

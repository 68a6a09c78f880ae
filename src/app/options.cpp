#include "switchyard/app/options.hpp"

#include "switchyard/cli/command_line.hpp"

namespace switchyard::app {

namespace {

// The declarations, shared by the parser and the help text.
struct CommandLine {
    CLI::App app{"", "switchyard"};
    Options options;
    std::string handover_fd;

    CommandLine() {
        cli::configure(app, "usage: switchyard [-c FILE] [--check | --upgrade [--binary PATH]]\n");
        app.add_option("-c,--config", options.config_path,
                       "configuration (default /etc/switchyard/switchyard.toml)")
            ->type_name("FILE");
        app.add_flag("-t,--check", options.check,
                     "validate the configuration and the state file, and exit");
        app.add_flag("--reset-state", options.reset_state,
                     "start from the config's routing if the state file is corrupt");
        app.add_flag("--upgrade", options.upgrade,
                     "hot binary upgrade of the running instance (its control\n"
                     "socket from the config), then exit; 0 when it succeeded");
        app.add_option("--binary", options.upgrade_binary,
                       "with --upgrade: the new binary (default: the running one's\n"
                       "start path)")
            ->type_name("PATH");
        // Internal (a hot upgrade starts the successor with it): not in the help.
        app.add_option("--handover-fd", handover_fd)->group("");
        app.add_flag("-v,--version", options.show_version, "print the version");
        cli::add_help_flag(app);
    }
};

}  // namespace

ParsedOptions parse_options(const std::vector<std::string>& args) {
    CommandLine cl;
    const auto parsed = cli::parse(cl.app, args);
    if (!parsed.ok) return {std::nullopt, parsed.error};
    Options& o = cl.options;
    o.show_help = parsed.help;
    if (o.show_help) return {o, {}};
    if (o.config_path.empty()) return {std::nullopt, "--config needs a file"};
    if (cl.app.count("--binary") > 0 && (o.upgrade_binary.empty() || o.upgrade_binary[0] != '/'))
        return {std::nullopt, "--binary needs an absolute path"};
    if (cl.app.count("--handover-fd") > 0) {
        const std::string& fd = cl.handover_fd;
        if (fd.empty() || fd.find_first_not_of("0123456789") != std::string::npos || fd.size() > 6)
            return {std::nullopt, "--handover-fd needs a descriptor number"};
        o.handover_fd = std::stoi(fd);
    }
    if (!o.upgrade_binary.empty() && !o.upgrade)
        return {std::nullopt, "--binary goes with --upgrade"};
    if (o.upgrade && (o.check || o.handover_fd >= 0))
        return {std::nullopt, "--upgrade cannot be combined with --check"};
    return {o, {}};
}

std::string usage() {
    return CommandLine().app.help();
}

}  // namespace switchyard::app

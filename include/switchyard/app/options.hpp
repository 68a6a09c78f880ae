// Command-line options of the switchyard binary.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace switchyard::app {

struct Options {
    std::string config_path = "/etc/switchyard/switchyard.toml";
    bool check = false;  // --check / -t: validate and exit
    bool show_version = false;
    bool show_help = false;
    bool reset_state = false;  // start from the config when the state file is corrupt
    // --upgrade: ask the running instance (control.socket of the config) for
    // a hot binary upgrade, print the answer, exit; --binary: the new binary.
    bool upgrade = false;
    std::string upgrade_binary;
    // Internal: started by a running instance's hot upgrade; the hand-over
    // arrives on this descriptor.
    int handover_fd = -1;
};

struct ParsedOptions {
    std::optional<Options> options;  // empty on a usage error
    std::string error;
};

ParsedOptions parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace switchyard::app

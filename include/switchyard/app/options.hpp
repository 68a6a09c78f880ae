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
};

struct ParsedOptions {
    std::optional<Options> options;  // empty on a usage error
    std::string error;
};

ParsedOptions parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace switchyard::app

// The switchyard command: options, --check, and running the server.
#pragma once

namespace switchyard::app {

int run_cli(int argc, char** argv);

}  // namespace switchyard::app

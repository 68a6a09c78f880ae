#include "switchyard/app/cli.hpp"

int main(int argc, char** argv) {
    return switchyard::app::run_cli(argc, argv);
}

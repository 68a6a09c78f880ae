// libFuzzer entry point; the checks live in fuzz_control_command_target.hpp (see README.md).
#include <cstddef>
#include <cstdint>

#include "fuzz_control_command_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_control_command, data, size);
}

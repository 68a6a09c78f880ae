// libFuzzer entry point; the checks live in fuzz_config_target.hpp (see README.md).
#include <cstddef>
#include <cstdint>

#include "fuzz_config_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_config, data, size);
}

// libFuzzer entry point; the checks live in fuzz_targets.hpp (see README.md).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_request_head, data, size);
}

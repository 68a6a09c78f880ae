// libFuzzer entry point; the checks live in fuzz_proxy_header_target.hpp (see README.md).
#include <cstddef>
#include <cstdint>

#include "fuzz_proxy_header_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_proxy_header, data, size);
}

// libFuzzer entry point; the checks live in fuzz_etcd_response_target.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_etcd_response_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_etcd_response, data, size);
}

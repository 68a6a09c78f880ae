// libFuzzer entry point; the checks live in fuzz_h2_session_target.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_h2_session_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return switchyard::fuzz::run_fuzz_target(switchyard::fuzz::check_h2_session, data, size);
}

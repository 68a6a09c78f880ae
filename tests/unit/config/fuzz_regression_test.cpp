// Replays fuzz/corpus/config/ and fuzz/regressions/config/ through the config
// fuzz target's checks (fuzz/fuzz_config_target.hpp).
#include "../../../fuzz/fuzz_config_target.hpp"
#include "../../../fuzz/replay.hpp"

namespace switchyard::fuzz {
namespace {

TEST(FuzzCorpus, Config) {
    replay_corpus("config", check_config);
}

}  // namespace
}  // namespace switchyard::fuzz

// Replays fuzz/corpus/control_command/ and fuzz/regressions/control_command/
// through the control-command fuzz target's checks
// (fuzz/fuzz_control_command_target.hpp).
#include "../../../fuzz/fuzz_control_command_target.hpp"
#include "../../../fuzz/replay.hpp"

namespace switchyard::fuzz {
namespace {

TEST(FuzzCorpus, ControlCommand) {
    replay_corpus("control_command", check_control_command);
}

}  // namespace
}  // namespace switchyard::fuzz

// Replays fuzz/corpus/etcd_response/ (and fuzz/regressions/ when it has
// one) through the fuzz target's checks, so that the normal test run
// re-checks every input the fuzzer kept.
#include "../../../fuzz/fuzz_etcd_response_target.hpp"
#include "../../../fuzz/replay.hpp"

namespace switchyard::fuzz {
namespace {

TEST(FuzzCorpus, EtcdResponse) {
    replay_corpus("etcd_response", check_etcd_response);
}

}  // namespace
}  // namespace switchyard::fuzz

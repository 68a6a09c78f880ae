// Replays fuzz/corpus/<target>/ and fuzz/regressions/<target>/ through the
// fuzz targets' checks (fuzz/fuzz_targets.hpp), so that the normal test run
// re-checks every input the fuzzers found interesting, deterministically.
#include "../../../fuzz/fuzz_h2_session_target.hpp"
#include "../../../fuzz/fuzz_proxy_header_target.hpp"
#include "../../../fuzz/fuzz_targets.hpp"
#include "../../../fuzz/replay.hpp"

namespace switchyard::fuzz {
namespace {

TEST(FuzzCorpus, RequestHead) {
    replay_corpus("request_head", check_request_head);
}
TEST(FuzzCorpus, Chunked) {
    replay_corpus("chunked", check_chunked);
}
TEST(FuzzCorpus, Framing) {
    replay_corpus("framing", check_framing);
}
TEST(FuzzCorpus, ProxyHeader) {
    replay_corpus("proxy_header", check_proxy_header);
}
TEST(FuzzCorpus, H2Session) {
    replay_corpus("h2_session", check_h2_session);
}

}  // namespace
}  // namespace switchyard::fuzz

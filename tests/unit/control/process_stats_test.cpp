#include "switchyard/control/process_stats.hpp"

#include <gtest/gtest.h>

namespace switchyard::control {
namespace {

// A /proc/<pid>/stat line (fields from proc(5)); the command has a space
// and a ')' of its own.
constexpr std::string_view kStat =
    "4242 (sw itch)yard) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 3 0 "
    "123400 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessStats, ParsesCpuMemoryAndStartTime) {
    ProcessStats s;
    ASSERT_TRUE(parse_proc_stat(kStat, 100, 4096, 1'700'000'000.0, s));
    EXPECT_DOUBLE_EQ(s.cpu_seconds, 4.0);  // (250 + 150) / 100
    EXPECT_DOUBLE_EQ(s.start_time_seconds, 1'700'001'234.0);
    EXPECT_EQ(s.virtual_bytes, 104857600u);
    EXPECT_EQ(s.resident_bytes, 2560u * 4096u);
}

TEST(ProcessStats, RejectsTruncatedText) {
    ProcessStats s;
    EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3", 100, 4096, 0, s));
    EXPECT_FALSE(parse_proc_stat("garbage", 100, 4096, 0, s));
}

TEST(ProcessStats, ReadsThisProcess) {
    const ProcessStats s = read_process_stats();
    EXPECT_GT(s.resident_bytes, 0u);
    EXPECT_GE(s.open_fds, 3u);  // stdin, stdout, stderr at least
    EXPECT_GT(s.start_time_seconds, 1.6e9);
}

}  // namespace
}  // namespace switchyard::control

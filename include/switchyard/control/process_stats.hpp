// ProcessStats: the process_* series every Prometheus exporter has (memory,
// descriptors, CPU, start time), read from /proc on each scrape.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchyard::control {

struct ProcessStats {
    std::uint64_t resident_bytes = 0;
    std::uint64_t virtual_bytes = 0;
    std::uint64_t open_fds = 0;
    std::uint64_t max_fds = 0;
    double cpu_seconds = 0;         // user + system
    double start_time_seconds = 0;  // since the Unix epoch
};

// This process's figures; a field that cannot be read stays 0.
ProcessStats read_process_stats();

// Parses the text of /proc/<pid>/stat (`stat`) with the clock ticks per
// second, the page size and the boot time (btime of /proc/stat, seconds
// since the epoch). Pure, for tests. False if the text is malformed.
bool parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                     double boot_time_seconds, ProcessStats& out);

}  // namespace switchyard::control

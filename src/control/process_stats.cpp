#include "switchyard/control/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace switchyard::control {

namespace {

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

double boot_time() {
    const std::string stat = read_file("/proc/stat");
    const auto at = stat.find("\nbtime ");
    if (at == std::string::npos) return 0;
    double v = 0;
    const char* begin = stat.data() + at + 7;
    std::from_chars(begin, stat.data() + stat.size(), v);
    return v;
}

}  // namespace

bool parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                     double boot_time_seconds, ProcessStats& out) {
    // The command (field 2) is in parentheses and may hold spaces and ')':
    // the fields after it start after the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos || ticks_per_second <= 0) return false;
    std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
    std::string_view rest = stat.substr(close + 1);
    while (!rest.empty()) {
        const auto start = rest.find_first_not_of(" \n");
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        const auto end = rest.find_first_of(" \n");
        fields.push_back(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end);
    }
    if (fields.size() < 22) return false;
    auto number = [&](std::size_t field, std::uint64_t& v) {
        const auto f = fields[field - 3];
        return std::from_chars(f.data(), f.data() + f.size(), v).ec == std::errc{};
    };
    std::uint64_t utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    if (!number(14, utime) || !number(15, stime) || !number(22, start) || !number(23, vsize) ||
        !number(24, rss))
        return false;
    const auto ticks = static_cast<double>(ticks_per_second);
    out.cpu_seconds = static_cast<double>(utime + stime) / ticks;
    out.start_time_seconds = boot_time_seconds + static_cast<double>(start) / ticks;
    out.virtual_bytes = vsize;
    out.resident_bytes = rss * static_cast<std::uint64_t>(page_size);
    return true;
}

ProcessStats read_process_stats() {
    ProcessStats s;
    parse_proc_stat(read_file("/proc/self/stat"), ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE),
                    boot_time(), s);
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++s.open_fds;
    if (s.open_fds > 0) --s.open_fds;  // the iterator's own descriptor
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        s.max_fds = limit.rlim_cur;
    return s;
}

}  // namespace switchyard::control

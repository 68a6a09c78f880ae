// Test helpers of the log tests: a fresh directory per test, removed at the
// end, and a whole file read back.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace switchyard::app::test {

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class LogDir {
  public:
    LogDir() {
        std::string tmpl = ::testing::TempDir() + "sy_logs_XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error(std::strerror(errno));
        path_ = tmpl;
    }
    ~LogDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    LogDir(const LogDir&) = delete;
    LogDir& operator=(const LogDir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace switchyard::app::test

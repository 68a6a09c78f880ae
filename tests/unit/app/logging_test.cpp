#include "switchyard/app/logging.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "log_dir.hpp"

namespace switchyard::app {
namespace {

namespace fs = std::filesystem;

using test::LogDir;
using test::read_file;

TEST(ReopenLogFiles, ReopensFileSinksAndLeavesStandardStreamsAlone) {
    LogDir dir;
    LogSettings settings;
    settings.level = "info";
    settings.error_log = (dir / "error.log").string();
    settings.audit_log = "stderr";
    auto error_log = make_error_logger(settings);
    auto audit_log = make_audit_logger(settings);
    error_log->info("first");
    fs::rename(dir / "error.log", dir / "error.log.1");
    EXPECT_TRUE(reopen_log_files(*error_log).empty());
    EXPECT_TRUE(reopen_log_files(*audit_log).empty());  // stderr: nothing to do
    error_log->info("second");
    EXPECT_NE(read_file(dir / "error.log.1").find(" info first\n"), std::string::npos);
    EXPECT_EQ(read_file(dir / "error.log.1").find("second"), std::string::npos);
    EXPECT_NE(read_file(dir / "error.log").find(" info second\n"), std::string::npos);

    fs::rename(dir / "error.log", dir / "error.log.2");
    fs::create_directory(dir / "error.log");
    const auto errors = reopen_log_files(*error_log);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0],
              "cannot reopen " + (dir / "error.log").string() + ": " + std::strerror(EISDIR));
    error_log->info("third");
    EXPECT_NE(read_file(dir / "error.log.2").find(" info third\n"), std::string::npos);
}

// "off" writes nothing anywhere, and above all creates no file named "off"
// (it used to, in the working directory).
TEST(Loggers, OffWritesNothingAndCreatesNoFile) {
    LogDir dir;
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path());
    LogSettings settings;
    settings.error_log = "off";
    settings.audit_log = "off";
    auto error_log = make_error_logger(settings);
    auto audit_log = make_audit_logger(settings);
    error_log->error("an error");
    audit_log->info("a command");
    error_log->flush();
    audit_log->flush();
    EXPECT_TRUE(reopen_log_files(*error_log).empty());
    EXPECT_TRUE(reopen_log_files(*audit_log).empty());
    fs::current_path(cwd);
    EXPECT_TRUE(fs::is_empty(dir.path())) << fs::directory_iterator(dir.path())->path();
}

}  // namespace
}  // namespace switchyard::app

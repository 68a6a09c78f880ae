#include "switchyard/app/reopenable_file_sink.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "log_dir.hpp"

namespace switchyard::app {
namespace {

namespace fs = std::filesystem;

using test::LogDir;
using test::read_file;

std::shared_ptr<spdlog::logger> plain_logger(std::shared_ptr<ReopenableFileSink> sink) {
    auto logger = std::make_shared<spdlog::logger>("test", std::move(sink));
    logger->set_pattern("%v");
    return logger;
}

TEST(ReopenableFileSink, AppendsToAnExistingFileAndCreatesWithMode0640) {
    LogDir dir;
    const auto path = dir / "error.log";
    { std::ofstream(path) << "before\n"; }
    {
        auto logger = plain_logger(std::make_shared<ReopenableFileSink>(path.string()));
        logger->info("one");
        logger->info("two");
    }
    EXPECT_EQ(read_file(path), "before\none\ntwo\n");

    const mode_t old_mask = ::umask(022);
    const auto fresh = dir / "fresh.log";
    { ReopenableFileSink sink(fresh.string()); }
    ::umask(old_mask);
    struct stat st {};
    ASSERT_EQ(::stat(fresh.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(ReopenableFileSink, CreatesTheParentDirectoryAtStart) {
    LogDir dir;
    const auto path = dir / "sub" / "dir" / "error.log";
    auto logger = plain_logger(std::make_shared<ReopenableFileSink>(path.string()));
    logger->info("hello");
    EXPECT_EQ(read_file(path), "hello\n");
}

TEST(ReopenableFileSink, UnopenablePathThrowsNamingTheFile) {
    LogDir dir;
    fs::create_directory(dir / "a-directory");
    try {
        ReopenableFileSink sink((dir / "a-directory").string());
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "a-directory").string()), std::string::npos);
        EXPECT_NE(std::string(e.what()).find(std::strerror(EISDIR)), std::string::npos);
    }
}

TEST(ReopenableFileSink, AfterARenameReopenSendsLaterLinesToANewFile) {
    LogDir dir;
    const auto path = dir / "error.log";
    const auto rotated = dir / "error.log.1";
    auto sink = std::make_shared<ReopenableFileSink>(path.string());
    auto logger = plain_logger(sink);
    logger->info("a1");
    logger->info("a2");
    fs::rename(path, rotated);
    logger->info("a3");  // still the old (renamed) file, as with logrotate before the signal
    std::string error;
    ASSERT_TRUE(sink->reopen(error)) << error;
    EXPECT_TRUE(error.empty());
    logger->info("b1");
    logger->info("b2");
    EXPECT_EQ(read_file(rotated), "a1\na2\na3\n");
    EXPECT_EQ(read_file(path), "b1\nb2\n");
}

TEST(ReopenableFileSink, FailedReopenKeepsTheOldFile) {
    LogDir dir;
    const auto path = dir / "error.log";
    const auto rotated = dir / "error.log.1";
    auto sink = std::make_shared<ReopenableFileSink>(path.string());
    auto logger = plain_logger(sink);
    logger->info("a1");
    fs::rename(path, rotated);
    fs::create_directory(path);  // open() fails with EISDIR, also as root
    std::string error;
    EXPECT_FALSE(sink->reopen(error));
    EXPECT_EQ(error, "cannot reopen " + path.string() + ": " + std::strerror(EISDIR));
    logger->info("a2");
    EXPECT_EQ(read_file(rotated), "a1\na2\n");
    EXPECT_TRUE(fs::is_directory(path));

    // Once the path is usable again, the next reopen succeeds.
    fs::remove(path);
    ASSERT_TRUE(sink->reopen(error)) << error;
    logger->info("b1");
    EXPECT_EQ(read_file(rotated), "a1\na2\n");
    EXPECT_EQ(read_file(path), "b1\n");
}

TEST(ReopenableFileSink, NoLineIsLostOrSplitWhileLoggingThreadsRun) {
    LogDir dir;
    const auto path = dir / "error.log";
    const auto rotated = dir / "error.log.1";
    auto sink = std::make_shared<ReopenableFileSink>(path.string());
    auto logger = plain_logger(sink);
    constexpr int kThreads = 4;
    constexpr int kLines = 2000;
    const std::string filler(100, 'x');
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kLines; ++i)
                logger->info("{} {} {}", t, i, filler);
        });
    fs::rename(path, rotated);
    std::string error;
    EXPECT_TRUE(sink->reopen(error)) << error;
    for (auto& th : threads)
        th.join();

    // Every line exactly once, whole, in each thread's order across the two files.
    std::vector<int> next(kThreads, 0);
    for (const auto& file : {rotated, path}) {
        std::istringstream in(read_file(file));
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            int t = -1, i = -1;
            std::string rest;
            fields >> t >> i >> rest;
            ASSERT_TRUE(t >= 0 && t < kThreads) << line;
            EXPECT_EQ(i, next[t]) << line;
            EXPECT_EQ(rest, filler) << line;
            next[t] = i + 1;
        }
    }
    for (int t = 0; t < kThreads; ++t)
        EXPECT_EQ(next[t], kLines);
}

}  // namespace
}  // namespace switchyard::app

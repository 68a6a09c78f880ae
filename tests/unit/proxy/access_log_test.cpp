#include "switchyard/proxy/access_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace switchyard::proxy {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(AccessLog, BatchesReachTheFileInOrder) {
    std::string path = ::testing::TempDir() + "access_" + std::to_string(::getpid()) + ".log";
    ::unlink(path.c_str());
    {
        AccessLogWriter writer(path);
        AccessLogBuffer buffer(&writer);
        ASSERT_TRUE(buffer.enabled());
        for (int i = 0; i < 1000; ++i) {
            buffer.line_buffer() += "{\"n\":" + std::to_string(i) + "}\n";
            buffer.line_done();
        }
        buffer.flush();
        writer.flush();
        EXPECT_EQ(writer.dropped_lines(), 0u);
    }
    std::string text = read_file(path);
    std::istringstream lines(text);
    std::string line;
    int n = 0;
    while (std::getline(lines, line))
        EXPECT_EQ(line, "{\"n\":" + std::to_string(n++) + "}");
    EXPECT_EQ(n, 1000);
    ::unlink(path.c_str());
}

TEST(AccessLog, OverflowDropsAndCountsInsteadOfBlocking) {
    std::string path = ::testing::TempDir() + "access_drop_" + std::to_string(::getpid()) + ".log";
    // A pending limit smaller than one batch: every batch is dropped.
    AccessLogWriter writer(path, 5);
    std::string batch = "{}\n{}\n{}\n";
    writer.submit(batch);
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(writer.dropped_lines(), 3u);
    ::unlink(path.c_str());
}

TEST(AccessLog, OffMeansDisabled) {
    AccessLogWriter writer("off");
    EXPECT_FALSE(writer.enabled());
    AccessLogBuffer buffer(&writer);
    EXPECT_FALSE(buffer.enabled());
    EXPECT_FALSE(AccessLogBuffer(nullptr).enabled());
}

TEST(AccessLog, UnopenableFileThrows) {
    EXPECT_THROW(AccessLogWriter("/nonexistent-dir/x.log"), std::runtime_error);
}

// Lines "{\"n\":i}" for i in [from, to), one batch of `per_batch` lines at a time.
void submit_lines(AccessLogWriter& writer, int from, int to, int per_batch) {
    std::string batch;
    for (int i = from; i < to; ++i) {
        batch += "{\"n\":" + std::to_string(i) + "}\n";
        if ((i - from + 1) % per_batch == 0 || i + 1 == to) writer.submit(batch);
    }
}

std::string expected_lines(int from, int to) {
    std::string out;
    for (int i = from; i < to; ++i)
        out += "{\"n\":" + std::to_string(i) + "}\n";
    return out;
}

TEST(AccessLog, ReopenSendsBatchesSubmittedAfterItToTheNewFile) {
    const std::string path =
        ::testing::TempDir() + "access_reopen_" + std::to_string(::getpid()) + ".log";
    const std::string rotated = path + ".1";
    ::unlink(path.c_str());
    ::unlink(rotated.c_str());
    {
        AccessLogWriter writer(path);
        // Batches still queued when the file is renamed and reopened go to
        // the old file: the writer switches only after them.
        submit_lines(writer, 0, 5000, 7);
        ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
        std::string error;
        ASSERT_TRUE(writer.reopen(error)) << error;
        submit_lines(writer, 5000, 8000, 7);
        writer.flush();
        EXPECT_EQ(writer.dropped_lines(), 0u);
        EXPECT_EQ(read_file(rotated), expected_lines(0, 5000));
        EXPECT_EQ(read_file(path), expected_lines(5000, 8000));

        // Two reopens in a row (the first file is gone again): the last one wins.
        const std::string rotated2 = path + ".2";
        ASSERT_EQ(::rename(path.c_str(), rotated2.c_str()), 0);
        ASSERT_TRUE(writer.reopen(error)) << error;
        ASSERT_EQ(::unlink(path.c_str()), 0);
        ASSERT_TRUE(writer.reopen(error)) << error;
        submit_lines(writer, 8000, 8010, 3);
        writer.flush();
        EXPECT_EQ(read_file(rotated2), expected_lines(5000, 8000));
        EXPECT_EQ(read_file(path), expected_lines(8000, 8010));
        ::unlink(rotated2.c_str());
    }
    ::unlink(path.c_str());
    ::unlink(rotated.c_str());
}

TEST(AccessLog, FailedReopenKeepsWritingToTheOldFile) {
    const std::string path =
        ::testing::TempDir() + "access_reopen_fail_" + std::to_string(::getpid()) + ".log";
    const std::string rotated = path + ".1";
    ::unlink(path.c_str());
    ::unlink(rotated.c_str());
    {
        AccessLogWriter writer(path);
        submit_lines(writer, 0, 10, 4);
        ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
        ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);  // open() fails with EISDIR, also as root
        std::string error;
        EXPECT_FALSE(writer.reopen(error));
        EXPECT_EQ(error, "cannot reopen access log " + path + ": " + std::strerror(EISDIR));
        submit_lines(writer, 10, 20, 4);
        writer.flush();
        EXPECT_EQ(read_file(rotated), expected_lines(0, 20));
    }
    ::rmdir(path.c_str());
    ::unlink(rotated.c_str());
}

TEST(AccessLog, ReopenOfStandardStreamsAndOffDoesNothing) {
    std::string error;
    AccessLogWriter off("off");
    EXPECT_TRUE(off.reopen(error));
    AccessLogWriter out("stdout");
    EXPECT_TRUE(out.reopen(error));
    EXPECT_TRUE(out.enabled());
    EXPECT_TRUE(error.empty());
}

}  // namespace
}  // namespace switchyard::proxy

#include "switchyard/proxy/access_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(AccessLog, JsonEscaping) {
    std::string out;
    append_json_escaped(out, "a\"b\\c\n\x01\x7f\xc3\xa9");
    EXPECT_EQ(out, "a\\\"b\\\\c\\u000a\\u0001\\u007f\\u00c3\\u00a9");
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

TEST(ProxyError, OnePlaceMapsErrorsToStatuses) {
    EXPECT_EQ(status_for(ErrorKind::client_timeout), 408u);
    EXPECT_EQ(status_for(ErrorKind::body_too_large), 413u);
    EXPECT_EQ(status_for(ErrorKind::no_server), 503u);
    EXPECT_EQ(status_for(ErrorKind::connect_failed), 502u);
    EXPECT_EQ(status_for(ErrorKind::connect_timeout), 504u);
    EXPECT_EQ(status_for(ErrorKind::upstream_timeout), 504u);
    EXPECT_EQ(status_for(ErrorKind::upstream_reset), 502u);
    EXPECT_EQ(status_for(ErrorKind::bad_response), 502u);
    EXPECT_EQ(to_string(ErrorKind::upstream_closed), "upstream_closed");
}

}  // namespace
}  // namespace switchyard::proxy

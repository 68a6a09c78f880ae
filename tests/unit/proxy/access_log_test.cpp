#include "switchyard/proxy/access_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

std::string escaped(std::string_view s) {
    std::string out;
    append_json_escaped(out, s);
    return out;
}

TEST(AccessLog, JsonEscapingOfAscii) {
    EXPECT_EQ(escaped("GET /a/b?c=d&e=f"), "GET /a/b?c=d&e=f");
    EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
    // Control characters (C0 and DEL) never appear raw in a log line.
    EXPECT_EQ(escaped(std::string_view("\n\r\t\x01\x1f\x7f\0", 7)),
              "\\u000a\\u000d\\u0009\\u0001\\u001f\\u007f\\u0000");
    EXPECT_EQ(escaped(""), "");
}

TEST(AccessLog, ValidUtf8IsLoggedAsIs) {
    EXPECT_EQ(escaped("/caf\xc3\xa9"), "/caf\xc3\xa9");                          // 2 bytes: é
    EXPECT_EQ(escaped("/\xe2\x82\xac"), "/\xe2\x82\xac");                        // 3 bytes: €
    EXPECT_EQ(escaped("/\xf0\x9f\x98\x80/"), "/\xf0\x9f\x98\x80/");              // 4 bytes: U+1F600
    EXPECT_EQ(escaped("\xc2\xa0\xdf\xbf"), "\xc2\xa0\xdf\xbf");                  // U+00A0, U+07FF
    EXPECT_EQ(escaped("\xe0\xa0\x80\xef\xbf\xbf"), "\xe0\xa0\x80\xef\xbf\xbf");  // U+0800, U+FFFF
    EXPECT_EQ(escaped("\xed\x9f\xbf\xee\x80\x80"),
              "\xed\x9f\xbf\xee\x80\x80");  // around surrogates
    EXPECT_EQ(escaped("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
              "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");  // U+10000, U+10FFFF
    EXPECT_EQ(escaped("\"\xc3\xa9\""), "\\\"\xc3\xa9\\\"");
}

TEST(AccessLog, C1ControlsAreEscapedAsTheirCodePoint) {
    EXPECT_EQ(escaped("a\xc2\x80\xc2\x9b"
                      "b\xc2\x9f"),
              "a\\u0080\\u009bb\\u009f");
}

// Every byte that is not part of a well-formed UTF-8 sequence becomes one
// U+FFFD (written \ufffd); the bytes after it are read afresh.
TEST(AccessLog, InvalidUtf8BytesBecomeOneReplacementCharacterEach) {
    const std::string r = "\\ufffd";
    EXPECT_EQ(escaped("\x80"), r);  // stray continuation byte
    EXPECT_EQ(escaped("a\xbf"
                      "b"),
              "a" + r + "b");
    EXPECT_EQ(escaped("\xff\xfe"), r + r);  // never in UTF-8
    // Truncated sequences: at the end, and followed by ASCII.
    EXPECT_EQ(escaped("/caf\xc3"), "/caf" + r);
    EXPECT_EQ(escaped("\xe2\x82"), r + r);
    EXPECT_EQ(escaped("\xe2\x82"
                      "A"),
              r + r + "A");
    EXPECT_EQ(escaped("\xf0\x9f\x98"), r + r + r);
    EXPECT_EQ(escaped("\xc3\xc3\xa9"), r + "\xc3\xa9");  // a lead byte then a valid é
    // Overlong forms.
    EXPECT_EQ(escaped("\xc0\xaf"), r + r);  // '/' in 2 bytes
    EXPECT_EQ(escaped("\xc1\xbf"), r + r);
    EXPECT_EQ(escaped("\xe0\x80\xaf"), r + r + r);
    EXPECT_EQ(escaped("\xe0\x9f\xbf"), r + r + r);
    EXPECT_EQ(escaped("\xf0\x80\x80\xaf"), r + r + r + r);
    EXPECT_EQ(escaped("\xf0\x8f\xbf\xbf"), r + r + r + r);
    // UTF-16 surrogates (U+D800..U+DFFF) are not characters.
    EXPECT_EQ(escaped("\xed\xa0\x80"), r + r + r);
    EXPECT_EQ(escaped("\xed\xbf\xbf"), r + r + r);
    // Above U+10FFFF.
    EXPECT_EQ(escaped("\xf4\x90\x80\x80"), r + r + r + r);
    EXPECT_EQ(escaped("\xf5\x80\x80\x80"), r + r + r + r);
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

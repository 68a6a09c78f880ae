#include "switchyard/cluster/ndjson_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::cluster {
namespace {

std::vector<std::string> drain(NdjsonSplitter& splitter) {
    std::vector<std::string> lines;
    while (auto line = splitter.next_line())
        lines.push_back(std::move(*line));
    return lines;
}

// Two messages as etcd 3.4's /v3/watch wrote them.
const std::string kCreated =
    R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
    R"("7482250729588294575","revision":"8","raft_term":"2"},"created":true}})";
const std::string kEvent =
    R"({"result":{"header":{"cluster_id":"18237982011441613290","member_id":)"
    R"("7482250729588294575","revision":"10","raft_term":"2"},"events":[{"type":"DELETE",)"
    R"("kv":{"key":"L3N5L3N0YXRl","mod_revision":"10"}}]}})";

TEST(NdjsonSplitter, SplitsWholeLines) {
    NdjsonSplitter splitter;
    splitter.feed(kCreated + "\n" + kEvent + "\n");
    EXPECT_EQ(drain(splitter), (std::vector<std::string>{kCreated, kEvent}));
    EXPECT_EQ(splitter.buffered(), 0u);
    EXPECT_FALSE(splitter.failed());
}

TEST(NdjsonSplitter, HoldsAPartialLineUntilItsNewline) {
    NdjsonSplitter splitter;
    splitter.feed(kCreated.substr(0, 10));
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    EXPECT_EQ(splitter.buffered(), 10u);
    splitter.feed(kCreated.substr(10));
    EXPECT_EQ(splitter.next_line(), std::nullopt);  // no newline yet
    splitter.feed("\n" + kEvent.substr(0, 5));
    EXPECT_EQ(splitter.next_line(), kCreated);
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    EXPECT_EQ(splitter.buffered(), 5u);
    splitter.feed(kEvent.substr(5) + "\n");
    EXPECT_EQ(splitter.next_line(), kEvent);
    EXPECT_EQ(splitter.buffered(), 0u);
}

TEST(NdjsonSplitter, AnyChunkingGivesTheSameLines) {
    const std::string stream = kCreated + "\n" + kEvent + "\r\n\n" + kCreated + "\n";
    const std::vector<std::string> expected{kCreated, kEvent, kCreated};
    for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        NdjsonSplitter splitter;
        std::vector<std::string> lines;
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            splitter.feed(std::string_view(stream).substr(at, chunk));
            for (auto& line : drain(splitter))
                lines.push_back(std::move(line));
        }
        ASSERT_EQ(lines, expected) << "chunk " << chunk;
        ASSERT_EQ(splitter.buffered(), 0u) << "chunk " << chunk;
    }
}

TEST(NdjsonSplitter, StripsCarriageReturnsAndSkipsEmptyLines) {
    NdjsonSplitter splitter;
    splitter.feed("\n\r\n{}\r\n\n[1]\n");
    EXPECT_EQ(drain(splitter), (std::vector<std::string>{"{}", "[1]"}));
}

TEST(NdjsonSplitter, BufferedCountsLinesNotYetTaken) {
    NdjsonSplitter splitter;
    splitter.feed("ab\ncd\nef");
    EXPECT_EQ(splitter.buffered(), 8u);
    EXPECT_EQ(splitter.next_line(), "ab");
    EXPECT_EQ(splitter.buffered(), 5u);
    EXPECT_EQ(splitter.next_line(), "cd");
    EXPECT_EQ(splitter.buffered(), 2u);
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    EXPECT_EQ(splitter.buffered(), 2u);
}

TEST(NdjsonSplitter, ALineOfExactlyTheMaximumIsAccepted) {
    NdjsonSplitter splitter(8);
    splitter.feed("12345678\r\n");
    EXPECT_EQ(splitter.next_line(), "12345678");
    splitter.feed("1234");
    splitter.feed("5678\n");
    EXPECT_EQ(splitter.next_line(), "12345678");
    EXPECT_FALSE(splitter.failed());
}

TEST(NdjsonSplitter, AWholeLineOverTheMaximumFails) {
    NdjsonSplitter splitter(8);
    splitter.feed("123456789\nok\n");
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    EXPECT_TRUE(splitter.failed());
    EXPECT_EQ(splitter.buffered(), 0u);  // freed
}

TEST(NdjsonSplitter, AnUnterminatedTailOverTheMaximumFailsWhenFed) {
    NdjsonSplitter splitter(8);
    splitter.feed("ok\n12345");
    splitter.feed("6789");  // the tail is 9 bytes and may still take a '\r': allowed
    EXPECT_FALSE(splitter.failed());
    splitter.feed("0");  // 10: no line of 8 can begin like this
    EXPECT_TRUE(splitter.failed());
    EXPECT_EQ(splitter.buffered(), 0u);
    EXPECT_EQ(splitter.next_line(), std::nullopt);  // the good line before is dropped too
}

TEST(NdjsonSplitter, StaysFailed) {
    NdjsonSplitter splitter(4);
    splitter.feed("123456\n");
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    ASSERT_TRUE(splitter.failed());
    splitter.feed("ok\n");
    EXPECT_EQ(splitter.next_line(), std::nullopt);
    EXPECT_EQ(splitter.buffered(), 0u);
}

TEST(NdjsonSplitter, ManyMessagesLeaveNothingBehind) {
    NdjsonSplitter splitter(64);
    const std::string line(40, 'x');
    for (int i = 0; i < 10000; ++i) {
        splitter.feed(line + "\n" + line.substr(0, i % 40));
        ASSERT_EQ(splitter.next_line(), line) << i;
        splitter.feed(line.substr(i % 40) + "\n");
        ASSERT_EQ(splitter.next_line(), line) << i;
        ASSERT_EQ(splitter.buffered(), 0u) << i;
    }
    EXPECT_FALSE(splitter.failed());
}

}  // namespace
}  // namespace switchyard::cluster

#include "switchyard/core/latency_buckets.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(LatencyBuckets, ASampleAtABoundCountsInThatBoundsBucket) {
    LatencyBuckets b;
    b.record(500);  // le="0.0005" is inclusive
    b.record(501);
    b.record(0);
    EXPECT_EQ(b.cumulative(0), 2u);
    EXPECT_EQ(b.cumulative(1), 3u);
    EXPECT_EQ(b.count(), 3u);
    EXPECT_EQ(b.sum_micros(), 1001u);
}

TEST(LatencyBuckets, CumulativeCountsMatchACountOfSamplesAtOrBelowEachBound) {
    LatencyBuckets b;
    std::vector<std::uint64_t> samples;
    std::uint64_t x = 12345;
    for (int i = 0; i < 5000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        samples.push_back((x >> 33) % 70'000'000);  // up to 70 s: some beyond the last bound
    }
    for (auto s : samples)
        b.record(s);
    for (std::size_t i = 0; i < LatencyBuckets::kBoundsMicros.size(); ++i) {
        std::uint64_t expected = 0;
        for (auto s : samples)
            expected += s <= LatencyBuckets::kBoundsMicros[i] ? 1 : 0;
        EXPECT_EQ(b.cumulative(i), expected) << "le " << LatencyBuckets::kBoundsMicros[i];
    }
    EXPECT_EQ(b.count(), samples.size());
    EXPECT_LT(b.cumulative(LatencyBuckets::kBoundsMicros.size() - 1), b.count());
}

TEST(LatencyBuckets, MergeIsTheSameAsRecordingBoth) {
    LatencyBuckets a, b, both;
    for (std::uint64_t v : {10, 900, 4000, 70'000'000}) {
        a.record(v);
        both.record(v);
    }
    for (std::uint64_t v : {1, 1000, 1001, 2'000'000}) {
        b.record(v);
        both.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a, both);
}

}  // namespace
}  // namespace switchyard

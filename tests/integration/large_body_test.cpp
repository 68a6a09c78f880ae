// 1 GiB down and up through the proxy: bodies are streamed, so the proxy's
// peak RSS (VmHWM) stays small whatever the body size.
#include <iostream>

#include "fixture.hpp"

namespace sy_it {
namespace {

using LargeBody = ProxyTest;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;
// Streaming keeps the proxy's peak RSS flat: far below the 1 GiB a buffered
// body would cost. Sanitizer builds add shadow memory and a quarantine.
#ifdef SWITCHYARD_SANITIZED
constexpr long kMaxHwmKib = 256 * 1024;
#else
constexpr long kMaxHwmKib = 64 * 1024;
#endif
// FNV-1a 64 of the first 1 GiB of the echo pattern ('a' + i % 26), computed
// once offline (hashing it here would cost ~1.5 s of CPU on the shared cores
// the proxy and the upstream need). PatternFnv.GoldenValueMethod checks the
// piecewise method on 1 MiB.
constexpr std::uint64_t kGiBPatternFnv = 0xb7d51255ffe96c09ULL;

void report(const char* what, long long ms, long hwm_kib) {
    const double mib_s = ms > 0 ? (kGiB / (1024.0 * 1024.0)) / (ms / 1000.0) : 0;
    std::cout << "[ measure  ] " << what << ": 1 GiB in " << ms << " ms ("
              << static_cast<long>(mib_s) << " MiB/s), proxy VmHWM " << hwm_kib << " KiB"
              << std::endl;
    ::testing::Test::RecordProperty(std::string(what) + "_ms", std::to_string(ms));
    ::testing::Test::RecordProperty(std::string(what) + "_vmhwm_kib", std::to_string(hwm_kib));
}

TEST(PatternFnv, GoldenValueMethod) {
    // The same computation as the 1 GiB golden value, on 1 MiB, piecewise
    // versus in one go.
    const std::string piece = pattern(0, 26 * 10083);
    std::uint64_t h = kFnvOffset, sent = 0;
    while (sent < (1u << 20)) {
        const std::size_t n = std::min<std::uint64_t>(piece.size(), (1u << 20) - sent);
        h = fnv1a(h, std::string_view(piece.data(), n));
        sent += n;
    }
    EXPECT_EQ(h, fnv1a(pattern(0, 1u << 20)));
}

TEST_F(LargeBody, Download1GiBStreamedWithFlatRss) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    const auto t0 = Clock::now();
    c.send(get_request("/?bytes=" + std::to_string(kGiB)));
    StreamedResponse r;
    r.msg.body().want_fnv = false;  // the pattern check covers every byte
    auto ec = c.try_read_streamed(r, seconds(120));
    const auto ms = ms_since(t0);
    ASSERT_FALSE(ec) << ec.message() << " after " << r.msg.body().bytes << " bytes";
    EXPECT_EQ(r.msg.result_int(), 200u);
    EXPECT_EQ(r.msg[bhttp::field::content_length], std::to_string(kGiB));
    EXPECT_EQ(r.msg.body().bytes, kGiB);
    EXPECT_EQ(r.msg.body().first_mismatch, UINT64_MAX);
    const long hwm = vm_hwm_kib(sy.pid());
    report("download", ms, hwm);
    ASSERT_GT(hwm, 0);
    EXPECT_LT(hwm, kMaxHwmKib);
    // The connection is still good afterwards.
    auto next = c.roundtrip(get_request("/"));
    EXPECT_EQ(next.body(), "blue\n");
}

TEST_F(LargeBody, Upload1GiBStreamedWithFlatRss) {
    auto& sy = start_proxy();
    auto c = sy.connect();
    // A piece whose size is a multiple of 26 repeats the pattern exactly.
    const std::string piece = pattern(0, 26 * 10083);
    const auto t0 = Clock::now();
    c.send(
        "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: " +
        std::to_string(kGiB) + "\r\n\r\n");
    std::uint64_t sent = 0;
    const auto deadline = after(seconds(120));
    while (sent < kGiB) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), kGiB - sent));
        std::string_view part(piece.data(), n);
        ASSERT_TRUE(c.socket().send_all(part, deadline))
            << "send failed after " << sent << " bytes";
        sent += n;
    }
    auto r = c.read_response(seconds(60));
    const auto ms = ms_since(t0);
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.header("X-Echo-Body-Bytes"), std::to_string(kGiB));
    EXPECT_EQ(r.header("X-Echo-Body-Sum"), hex16(kGiBPatternFnv));
    const long hwm = vm_hwm_kib(sy.pid());
    report("upload", ms, hwm);
    ASSERT_GT(hwm, 0);
    EXPECT_LT(hwm, kMaxHwmKib);
}

}  // namespace
}  // namespace sy_it

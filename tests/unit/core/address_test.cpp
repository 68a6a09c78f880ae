#include "switchyard/core/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes ip(std::string_view text) {
    auto bytes = parse_ip(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

TEST(ParseEndpoint, Ipv4) {
    EXPECT_EQ(parse_endpoint("0.0.0.0:8080"), (Endpoint{"0.0.0.0", 8080}));
    EXPECT_EQ(parse_endpoint("127.0.0.1:1"), (Endpoint{"127.0.0.1", 1}));
    EXPECT_EQ(parse_endpoint("10.1.2.3:65535"), (Endpoint{"10.1.2.3", 65535}));
}

TEST(ParseEndpoint, Ipv6InBracketsStoredWithout) {
    EXPECT_EQ(parse_endpoint("[::1]:80"), (Endpoint{"::1", 80}));
    EXPECT_EQ(parse_endpoint("[::]:443"), (Endpoint{"::", 443}));
    EXPECT_EQ(parse_endpoint("[2001:db8::7]:9000"), (Endpoint{"2001:db8::7", 9000}));
    EXPECT_EQ(parse_endpoint("[::ffff:10.0.0.1]:80"), (Endpoint{"::ffff:10.0.0.1", 80}));
}

TEST(ParseEndpoint, HostNames) {
    EXPECT_EQ(parse_endpoint("app.internal:9000"), (Endpoint{"app.internal", 9000}));
    EXPECT_EQ(parse_endpoint("localhost:80"), (Endpoint{"localhost", 80}));
    EXPECT_EQ(parse_endpoint("my_service-2:80"), (Endpoint{"my_service-2", 80}));
    EXPECT_EQ(parse_endpoint("a1.example.com:8443"), (Endpoint{"a1.example.com", 8443}));
    EXPECT_EQ(parse_endpoint("10.example:80"), (Endpoint{"10.example", 80}));
}

TEST(ParseEndpoint, PortZeroMeansEphemeral) {
    EXPECT_EQ(parse_endpoint("127.0.0.1:0"), (Endpoint{"127.0.0.1", 0}));
    EXPECT_EQ(parse_endpoint("[::1]:0"), (Endpoint{"::1", 0}));
}

TEST(ParseEndpoint, RoundTripsThroughToString) {
    for (const char* text : {"0.0.0.0:8080", "[::1]:80", "app.internal:9000"}) {
        auto ep = parse_endpoint(text);
        ASSERT_TRUE(ep) << text;
        EXPECT_EQ(ep->to_string(), text);
    }
}

TEST(ParseEndpoint, RejectsBadPorts) {
    for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                            "127.0.0.1:+80", "127.0.0.1:80a", "127.0.0.1: 80", "127.0.0.1:000080",
                            "127.0.0.1:99999999999", "app:http", "[::1]", "[::1]:", "[::1]80"}) {
        EXPECT_EQ(parse_endpoint(bad), std::nullopt) << bad;
    }
}

TEST(ParseEndpoint, RejectsBadHosts) {
    for (const char* bad : {":80",
                            "[]:80",
                            "::1:80",
                            "[::1:80",
                            "::1]:80",
                            "[1.2.3.4]:80",
                            "[app.internal]:80",
                            "[::1]x:80",
                            "[[::1]]:80",
                            "-app:80",
                            "app-:80",
                            "a..b:80",
                            ".app:80",
                            "app.:80",
                            "app internal:80",
                            "app/x:80",
                            "app@x:80",
                            "1.2.3:80",
                            "256.0.0.1:80",
                            "1.2.3.4.5:80",
                            "10.0.0.1 :80",
                            " 10.0.0.1:80",
                            "[fe80::1%eth0]:80"}) {
        EXPECT_EQ(parse_endpoint(bad), std::nullopt) << bad;
    }
}

TEST(ParseEndpoint, RejectsLongLabelsAndNames) {
    std::string label63(63, 'a');
    EXPECT_TRUE(parse_endpoint(label63 + ":80"));
    EXPECT_FALSE(parse_endpoint(label63 + "a:80"));
    std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    ASSERT_EQ(name253.size(), 253u);
    EXPECT_TRUE(parse_endpoint(name253 + ":80"));
    EXPECT_FALSE(parse_endpoint(name253 + "b:80"));
}

TEST(ParseEndpoint, RejectsEmbeddedNul) {
    EXPECT_FALSE(parse_endpoint(std::string_view("10.0.0.1\0x:80", 13)));
}

TEST(ParseCidr, WithPrefix) {
    EXPECT_EQ(parse_cidr("10.0.0.0/8"), (Cidr{{10, 0, 0, 0}, 8}));
    EXPECT_EQ(parse_cidr("192.168.1.0/24"), (Cidr{{192, 168, 1, 0}, 24}));
    EXPECT_EQ(parse_cidr("0.0.0.0/0"), (Cidr{{0, 0, 0, 0}, 0}));
    EXPECT_EQ(parse_cidr("::1/128"), (Cidr{ip("::1"), 128}));
    EXPECT_EQ(parse_cidr("fd00::/8"), (Cidr{ip("fd00::"), 8}));
}

TEST(ParseCidr, BareAddressIsAHostBlock) {
    EXPECT_EQ(parse_cidr("127.0.0.1"), (Cidr{{127, 0, 0, 1}, 32}));
    EXPECT_EQ(parse_cidr("::1"), (Cidr{ip("::1"), 128}));
}

TEST(ParseCidr, ClearsHostBits) {
    EXPECT_EQ(parse_cidr("10.1.2.3/8"), (Cidr{{10, 0, 0, 0}, 8}));
    EXPECT_EQ(parse_cidr("192.168.1.255/23"), (Cidr{{192, 168, 0, 0}, 23}));
    EXPECT_EQ(parse_cidr("10.1.2.3/0"), (Cidr{{0, 0, 0, 0}, 0}));
    EXPECT_EQ(parse_cidr("2001:db8:ffff::1/33"), (Cidr{ip("2001:db8:8000::"), 33}));
}

TEST(ParseCidr, RejectsMalformed) {
    for (const char* bad :
         {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/+8",
          "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0/8", "10.0.0.0/0008", "host.example/8",
          "10.0.0.0 /8", "[::1]/128", "10.0.0.0/8 "}) {
        EXPECT_EQ(parse_cidr(bad), std::nullopt) << bad;
    }
}

TEST(CidrToString, FormatsNetworkAndPrefix) {
    EXPECT_EQ(to_string(*parse_cidr("10.1.2.3/8")), "10.0.0.0/8");
    EXPECT_EQ(to_string(*parse_cidr("::1")), "::1/128");
    EXPECT_EQ(to_string(Cidr{{1, 2, 3}, 8}), "invalid");
}

TEST(CidrContains, Ipv4) {
    auto block = *parse_cidr("10.0.0.0/8");
    EXPECT_TRUE(cidr_contains(block, ip("10.0.0.0")));
    EXPECT_TRUE(cidr_contains(block, ip("10.255.255.255")));
    EXPECT_FALSE(cidr_contains(block, ip("11.0.0.0")));
    EXPECT_FALSE(cidr_contains(block, ip("9.255.255.255")));
}

TEST(CidrContains, NonByteAlignedPrefix) {
    auto block = *parse_cidr("192.168.0.0/23");
    EXPECT_TRUE(cidr_contains(block, ip("192.168.1.77")));
    EXPECT_FALSE(cidr_contains(block, ip("192.168.2.0")));
    auto host = *parse_cidr("192.168.0.9/31");
    EXPECT_TRUE(cidr_contains(host, ip("192.168.0.8")));
    EXPECT_TRUE(cidr_contains(host, ip("192.168.0.9")));
    EXPECT_FALSE(cidr_contains(host, ip("192.168.0.10")));
}

TEST(CidrContains, HostAndEverything) {
    auto host = *parse_cidr("127.0.0.1");
    EXPECT_TRUE(cidr_contains(host, ip("127.0.0.1")));
    EXPECT_FALSE(cidr_contains(host, ip("127.0.0.2")));
    auto all = *parse_cidr("0.0.0.0/0");
    EXPECT_TRUE(cidr_contains(all, ip("203.0.113.9")));
    EXPECT_FALSE(cidr_contains(all, ip("2001:db8::1")));
}

TEST(CidrContains, Ipv6) {
    auto block = *parse_cidr("2001:db8::/32");
    EXPECT_TRUE(cidr_contains(block, ip("2001:db8:1::5")));
    EXPECT_FALSE(cidr_contains(block, ip("2001:db9::5")));
    EXPECT_FALSE(cidr_contains(block, ip("10.0.0.1")));
    auto loop = *parse_cidr("::1/128");
    EXPECT_TRUE(cidr_contains(loop, ip("::1")));
    EXPECT_FALSE(cidr_contains(loop, ip("::2")));
    EXPECT_FALSE(cidr_contains(loop, ip("127.0.0.1")));
}

TEST(CidrContains, MappedIpv6MatchesIpv4Block) {
    auto block = *parse_cidr("10.0.0.0/8");
    EXPECT_TRUE(cidr_contains(block, ip("::ffff:10.1.2.3")));
    EXPECT_FALSE(cidr_contains(block, ip("::ffff:11.1.2.3")));
    // Same low bytes without the ::ffff: prefix are not IPv4.
    EXPECT_FALSE(cidr_contains(block, ip("::10.1.2.3")));
    EXPECT_FALSE(cidr_contains(block, ip("64:ff9b::10.1.2.3")));
}

TEST(CidrContains, Ipv4MatchesMappedIpv6Block) {
    auto mapped = *parse_cidr("::ffff:10.0.0.0/104");
    EXPECT_TRUE(cidr_contains(mapped, ip("10.9.9.9")));
    EXPECT_FALSE(cidr_contains(mapped, ip("11.0.0.0")));
    EXPECT_TRUE(cidr_contains(*parse_cidr("::/0"), ip("1.2.3.4")));
    EXPECT_FALSE(cidr_contains(*parse_cidr("2001:db8::/32"), ip("1.2.3.4")));
}

TEST(CidrContains, RejectsBadSizes) {
    auto block = *parse_cidr("0.0.0.0/0");
    EXPECT_FALSE(cidr_contains(block, Bytes{}));
    EXPECT_FALSE(cidr_contains(block, Bytes{1, 2, 3}));
    EXPECT_FALSE(cidr_contains(block, Bytes(5, 0)));
    EXPECT_FALSE(cidr_contains(Cidr{{1, 2, 3}, 0}, ip("1.2.3.4")));
}

}  // namespace
}  // namespace switchyard

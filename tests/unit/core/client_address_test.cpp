#include "switchyard/core/client_address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/address.hpp"

namespace switchyard {
namespace {

using namespace std::string_literals;
using Bytes = std::vector<std::uint8_t>;

Bytes ip(std::string_view text) {
    auto bytes = parse_ip(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

std::vector<Cidr> cidrs(std::initializer_list<std::string_view> texts) {
    std::vector<Cidr> out;
    for (auto t : texts) {
        auto c = parse_cidr(t);
        EXPECT_TRUE(c.has_value()) << t;
        if (c) out.push_back(*c);
    }
    return out;
}

const std::vector<Cidr> kTrusted = cidrs({"10.0.0.0/8", "fd00::/8"});
const Bytes kPeer = ip("10.0.0.1");  // a trusted proxy

Bytes client(const Bytes& peer, std::vector<std::string_view> xff,
             const std::vector<Cidr>& trusted = kTrusted) {
    return client_address(peer, xff, trusted);
}

TEST(ClientAddress, SpoofedLeftEntriesBehindTrustedProxiesAreIgnored) {
    EXPECT_EQ(client(kPeer, {"6.6.6.6, 1.2.3.4, 10.0.0.2"}), ip("1.2.3.4"));
}

TEST(ClientAddress, UntrustedPeerIsTheClientWhateverItSends) {
    EXPECT_EQ(client(ip("1.2.3.4"), {"5.6.7.8"}), ip("1.2.3.4"));
    EXPECT_EQ(client(ip("1.2.3.4"), {"10.0.0.2"}), ip("1.2.3.4"));
    EXPECT_EQ(client(ip("1.2.3.4"), {"garbage"}), ip("1.2.3.4"));
    EXPECT_EQ(client(ip("2001:db8::1"), {"5.6.7.8"}), ip("2001:db8::1"));
}

TEST(ClientAddress, NoTrustedProxiesMeansThePeer) {
    EXPECT_EQ(client(kPeer, {"5.6.7.8"}, {}), kPeer);
}

TEST(ClientAddress, TrustedPeerWithoutForwardedForIsThePeer) {
    EXPECT_EQ(client(kPeer, {}), kPeer);
    EXPECT_EQ(client(kPeer, {""}), kPeer);
    EXPECT_EQ(client(kPeer, {" , ,\t"}), kPeer);
}

TEST(ClientAddress, RightmostUntrustedEntry) {
    EXPECT_EQ(client(kPeer, {"1.2.3.4"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4, 5.6.7.8"}), ip("5.6.7.8"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4, 5.6.7.8, 10.9.9.9, 10.0.0.2"}), ip("5.6.7.8"));
}

TEST(ClientAddress, AllFieldLinesInOrder) {
    EXPECT_EQ(client(kPeer, {"6.6.6.6, 1.2.3.4", "10.0.0.2"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"6.6.6.6", "1.2.3.4, 10.0.0.2", "10.0.0.3"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4", "10.0.0.2, 10.0.0.3"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4", "5.6.7.8"}), ip("5.6.7.8"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4", "", "10.0.0.2"}), ip("1.2.3.4"));
}

TEST(ClientAddress, AllTrustedChainYieldsItsLeftmostEntry) {
    EXPECT_EQ(client(kPeer, {"10.0.0.5, 10.0.0.2"}), ip("10.0.0.5"));
    EXPECT_EQ(client(kPeer, {"10.0.0.5", "10.0.0.2"}), ip("10.0.0.5"));
    EXPECT_EQ(client(kPeer, {"fd00::5, 10.0.0.2"}), ip("fd00::5"));
}

TEST(ClientAddress, InvalidEntryStopsTheWalkAtTheHopToItsRight) {
    EXPECT_EQ(client(kPeer, {"1.2.3.4, unknown, 10.0.0.2"}), ip("10.0.0.2"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4, unknown"}), kPeer);
    EXPECT_EQ(client(kPeer, {"1.2.3.4", "_hidden", "10.0.0.2"}), ip("10.0.0.2"));
}

TEST(ClientAddress, InvalidEntriesLeftOfTheClientAreNeverLookedAt) {
    EXPECT_EQ(client(kPeer, {"garbage, 1.2.3.4, 10.0.0.2"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"[[[", "1.2.3.4"}), ip("1.2.3.4"));
}

TEST(ClientAddress, EmptyElementsAndWhitespaceAreSkipped) {
    EXPECT_EQ(client(kPeer, {"1.2.3.4,,10.0.0.2,"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {" \t1.2.3.4 \t, \t10.0.0.2\t "}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {",1.2.3.4"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {",,,"}), kPeer);
}

TEST(ClientAddress, PortsAndBracketsAreStripped) {
    EXPECT_EQ(client(kPeer, {"1.2.3.4:5678"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4:0"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"1.2.3.4:65535"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"[2001:db8::1]:443"}), ip("2001:db8::1"));
    EXPECT_EQ(client(kPeer, {"[2001:db8::1]"}), ip("2001:db8::1"));
    EXPECT_EQ(client(kPeer, {"2001:db8::1"}), ip("2001:db8::1"));
    // A trusted hop written with a port is still a trusted hop.
    EXPECT_EQ(client(kPeer, {"1.2.3.4, 10.0.0.2:8080, [fd00::2]:80"}), ip("1.2.3.4"));
}

TEST(ClientAddress, UnbracketedIpv6IsNeverSplitAtAColon) {
    // "::1:80" is the IPv6 address ::1:80, not ::1 port 80.
    EXPECT_EQ(client(kPeer, {"::1:80"}), ip("::1:80"));
}

class InvalidEntry : public testing::TestWithParam<std::string> {};

TEST_P(InvalidEntry, StopsTheWalk) {
    const std::string value = "5.5.5.5, " + GetParam();
    EXPECT_EQ(client(kPeer, {value}), kPeer) << value;
    const std::string behind_hop = "5.5.5.5, " + GetParam() + ", 10.0.0.2";
    EXPECT_EQ(client(kPeer, {behind_hop}), ip("10.0.0.2")) << behind_hop;
}

INSTANTIATE_TEST_SUITE_P(ClientAddress, InvalidEntry,
                         testing::Values("unknown", "_hidden", "localhost", "example.com",
                                         "[1.2.3.4]", "[1.2.3.4]:80", "[2001:db8::1",
                                         "2001:db8::1]", "[2001:db8::1]:", "[2001:db8::1]:99999",
                                         "[2001:db8::1]:-1", "[2001:db8::1]x", "[2001:db8::1]:443x",
                                         "[[2001:db8::1]]", "[]", "[]:80", "1.2.3.4:", "1.2.3.4:x",
                                         "1.2.3.4:65536", "1.2.3.4:123456", "1.2.3.4:80:90",
                                         "1.2.3.4:+80", ":80", "01.2.3.4", "1.2.3.256", "1.2.3",
                                         "1.2.3.4.5", "1.2.3.4 5.6.7.8", "fe80::1%eth0", "1::2::3",
                                         "2001:db8::1:443x", "1.2.3.4\0"s, "1.2\0.3.4"s,
                                         "\"1.2.3.4\"", "for=1.2.3.4", std::string(100, '1')));

TEST(ClientAddress, MappedPeerIsIpv4) {
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    EXPECT_EQ(client(ip("::ffff:10.0.0.1"), {"1.2.3.4"}), ip("1.2.3.4"));
    EXPECT_EQ(client(ip("::ffff:1.2.3.4"), {"5.6.7.8"}), (Bytes{1, 2, 3, 4}));
    EXPECT_EQ(client(ip("::ffff:10.0.0.1"), {}), (Bytes{10, 0, 0, 1}));
    EXPECT_EQ(client(ip("::ffff:10.0.0.1"), {"1.2.3.4, unknown"}), (Bytes{10, 0, 0, 1}));
    EXPECT_EQ(client(ip("::ffff:10.0.0.1"), {"unknown, 10.0.0.2"}), (Bytes{10, 0, 0, 2}));
    // Matched against an IPv6 block of mapped addresses as well.
    EXPECT_EQ(client(ip("::ffff:10.0.0.1"), {"1.2.3.4"}, cidrs({"::ffff:10.0.0.0/104"})),
              ip("1.2.3.4"));
    EXPECT_EQ(client(ip("10.0.0.1"), {"1.2.3.4"}, cidrs({"::ffff:10.0.0.0/104"})), ip("1.2.3.4"));
}

TEST(ClientAddress, MappedEntriesAreIpv4) {
    EXPECT_EQ(client(kPeer, {"::ffff:1.2.3.4"}), (Bytes{1, 2, 3, 4}));
    EXPECT_EQ(client(kPeer, {"[::ffff:1.2.3.4]:80"}), (Bytes{1, 2, 3, 4}));
    EXPECT_EQ(client(kPeer, {"1.2.3.4, ::ffff:10.0.0.2"}), ip("1.2.3.4"));
    EXPECT_EQ(client(kPeer, {"::ffff:10.0.0.9, [::ffff:10.0.0.2]"}), (Bytes{10, 0, 0, 9}));
    // Only ::ffff:0:0/96 is mapped; ::1.2.3.4 (compatible) stays IPv6.
    EXPECT_EQ(client(kPeer, {"::1.2.3.4"}).size(), 16u);
}

TEST(ClientAddress, Ipv6Proxies) {
    const Bytes peer = ip("fd00::1");
    EXPECT_EQ(client(peer, {"2001:db8::7, fd00::2"}), ip("2001:db8::7"));
    EXPECT_EQ(client(peer, {"1.2.3.4, fd00::2"}), ip("1.2.3.4"));
    EXPECT_EQ(client(peer, {"fd00::3"}), ip("fd00::3"));
    EXPECT_EQ(client(ip("fe00::1"), {"1.2.3.4"}), ip("fe00::1"));  // outside fd00::/8
}

TEST(ClientAddress, PrefixBoundaries) {
    const auto trusted = cidrs({"192.168.1.0/24"});
    EXPECT_EQ(client(ip("192.168.1.255"), {"1.2.3.4"}, trusted), ip("1.2.3.4"));
    EXPECT_EQ(client(ip("192.168.2.0"), {"1.2.3.4"}, trusted), ip("192.168.2.0"));
    EXPECT_EQ(client(ip("192.168.1.7"), {"1.2.3.4, 192.168.0.255"}, trusted), ip("192.168.0.255"));
}

TEST(ClientAddress, PeerOfAnotherSizeIsReturnedUnchanged) {
    EXPECT_EQ(client(Bytes{}, {"1.2.3.4"}), Bytes{});
    EXPECT_EQ(client(Bytes{10, 0, 0}, {"1.2.3.4"}), (Bytes{10, 0, 0}));
    EXPECT_EQ(client(Bytes(5, 10), {"1.2.3.4"}), Bytes(5, 10));
}

TEST(ClientAddress, LongChainOfTrustedHops) {
    std::string chain = "1.2.3.4";
    for (int i = 0; i < 200; ++i)
        chain += ", 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    EXPECT_EQ(client(kPeer, {chain}), ip("1.2.3.4"));
}

}  // namespace
}  // namespace switchyard

#include "switchyard/http/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {

std::ostream& operator<<(std::ostream& os, ProxyParse p) {
    switch (p) {
        case ProxyParse::need_more:
            return os << "need_more";
        case ProxyParse::done:
            return os << "done";
        case ProxyParse::invalid:
            return os << "invalid";
    }
    return os << "?";
}

std::ostream& operator<<(std::ostream& os, const ProxyHeader& h) {
    return os << "{local=" << h.local << " src=" << ip_to_string(h.source_ip) << ":"
              << h.source_port << " dst=" << ip_to_string(h.destination_ip) << ":"
              << h.destination_port << " header_bytes=" << h.header_bytes << "}";
}

namespace {

using namespace std::string_literals;
using Bytes = std::vector<std::uint8_t>;

const std::string kSig = "\r\n\r\n\0\r\nQUIT\n"s;
const std::string kRequest = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

std::string be16(std::size_t v) {
    return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

// A v2 header: signature, ver_cmd, fam, and `body` with its length.
std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& body) {
    return kSig + static_cast<char>(ver_cmd) + static_cast<char>(fam) + be16(body.size()) + body;
}

// Same, with a length field that need not match the body.
std::string v2_len(std::uint8_t ver_cmd, std::uint8_t fam, std::size_t len,
                   const std::string& body) {
    return kSig + static_cast<char>(ver_cmd) + static_cast<char>(fam) + be16(len) + body;
}

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list)
        s += static_cast<char>(b);
    return s;
}

std::string tlv(std::uint8_t type, const std::string& value) {
    return static_cast<char>(type) + be16(value.size()) + value;
}

const std::string kV4Block = bytes({1, 2, 3, 4, 5, 6, 7, 8, 0x04, 0x57, 0x08, 0xae});  // 1111, 2222
const std::string kV6Block =
    bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // 2001:db8::1
           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,  // 2001:db8::2
           0x01, 0xbb, 0x20, 0xfb});                                       // 443, 8443

ProxyHeader sentinel() {
    ProxyHeader h;
    h.local = true;
    h.source_ip = {9, 9, 9, 9};
    h.source_port = 9;
    h.header_bytes = 999;
    return h;
}

ProxyHeader tcp(Bytes src, std::uint16_t sport, Bytes dst, std::uint16_t dport,
                std::size_t header_bytes) {
    ProxyHeader h;
    h.source_ip = std::move(src);
    h.source_port = sport;
    h.destination_ip = std::move(dst);
    h.destination_port = dport;
    h.header_bytes = header_bytes;
    return h;
}

ProxyHeader local(std::size_t header_bytes) {
    ProxyHeader h;
    h.local = true;
    h.header_bytes = header_bytes;
    return h;
}

ProxyParse parse(std::string_view in, ProxyHeader& out) {
    return parse_proxy_header(in, out);
}

// Every proper prefix of `header` is need_more and leaves `out` alone; the
// whole header, alone or followed by a request, is `expected`.
void expect_header(const std::string& header, const ProxyHeader& expected) {
    SCOPED_TRACE(testing::Message() << "header of " << header.size() << " bytes");
    ASSERT_EQ(expected.header_bytes, header.size());
    for (std::size_t n = 0; n < header.size(); ++n) {
        ProxyHeader out = sentinel();
        ASSERT_EQ(parse(std::string_view(header).substr(0, n), out), ProxyParse::need_more)
            << "prefix of " << n << " bytes";
        ASSERT_EQ(out, sentinel()) << "prefix of " << n << " bytes";
    }
    ProxyHeader out = sentinel();
    ASSERT_EQ(parse(header, out), ProxyParse::done);
    EXPECT_EQ(out, expected);
    ProxyHeader with_data = sentinel();
    ASSERT_EQ(parse(header + kRequest, with_data), ProxyParse::done);
    EXPECT_EQ(with_data, expected);
}

// `input` is invalid, decided at exactly `decided_at` bytes: shorter prefixes
// are need_more, that one and every longer one invalid; `out` never changes.
void expect_invalid_at(const std::string& input, std::size_t decided_at) {
    SCOPED_TRACE(testing::Message() << "input of " << input.size() << " bytes");
    ASSERT_LE(decided_at, input.size());
    for (std::size_t n = 0; n <= input.size(); ++n) {
        ProxyHeader out = sentinel();
        const auto want = n < decided_at ? ProxyParse::need_more : ProxyParse::invalid;
        ASSERT_EQ(parse(std::string_view(input).substr(0, n), out), want)
            << "prefix of " << n << " bytes";
        ASSERT_EQ(out, sentinel());
    }
}

// Invalid once complete (decided at the end of the input).
void expect_invalid(const std::string& input) {
    expect_invalid_at(input, input.size());
}

// ---------------------------------------------------------------- v1 (§2.1)

TEST(ProxyV1, Tcp4) {
    expect_header("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n",
                  tcp({1, 2, 3, 4}, 1111, {5, 6, 7, 8}, 2222, 38));
}

TEST(ProxyV1, Tcp4SpecExample) {
    expect_header("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
                  tcp({192, 168, 0, 1}, 56324, {192, 168, 0, 11}, 443, 47));
}

TEST(ProxyV1, Tcp4LongestLineIs56Bytes) {
    expect_header("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
                  tcp({255, 255, 255, 255}, 65535, {255, 255, 255, 255}, 65535, 56));
}

TEST(ProxyV1, ZeroAddressesAndPorts) {
    expect_header("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", tcp({0, 0, 0, 0}, 0, {0, 0, 0, 0}, 0, 32));
}

TEST(ProxyV1, Tcp6) {
    expect_header("PROXY TCP6 2001:db8::1 2001:db8::2 443 8443\r\n",
                  tcp({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443,
                      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 8443, 45));
}

TEST(ProxyV1, Tcp6LongestLineIs104BytesAndUpperCaseHex) {
    const std::string all_f = "FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const Bytes ones(16, 0xff);
    expect_header("PROXY TCP6 " + all_f + " " + all_f + " 65535 65535\r\n",
                  tcp(ones, 65535, ones, 65535, 104));
}

TEST(ProxyV1, Tcp6MappedAddressStaysSixteenBytes) {
    expect_header(
        "PROXY TCP6 ::ffff:1.2.3.4 :: 1 2\r\n",
        tcp({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, 1, Bytes(16, 0), 2, 34));
}

TEST(ProxyV1, UnknownShortForm) {
    expect_header("PROXY UNKNOWN\r\n", local(15));
}

TEST(ProxyV1, UnknownIgnoresTheRestOfTheLine) {
    expect_header("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1111 2222\r\n", local(41));
    expect_header("PROXY UNKNOWN anything  at all, even\tthis\r\n", local(43));
    expect_header("PROXY UNKNOWN \r\n", local(16));
}

TEST(ProxyV1, UnknownWorstCaseIs107Bytes) {
    const std::string all_f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    expect_header("PROXY UNKNOWN " + all_f + " " + all_f + " 65535 65535\r\n", local(107));
}

TEST(ProxyV1, NotAProxyHeaderIsRefusedAtTheFirstWrongByte) {
    expect_invalid_at(kRequest, 1);
    expect_invalid_at("\x16\x03\x01\x02\x00"s, 1);  // a TLS ClientHello
    expect_invalid_at("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1);
    expect_invalid_at("PROXI TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 5);
    expect_invalid_at("PROXY\r\n", 6);
    expect_invalid_at("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6);
}

TEST(ProxyV1, UnknownProtocolTokenIsRefusedEarly) {
    expect_invalid_at("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 7);
    expect_invalid_at("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 10);
    expect_invalid_at("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 7);
    expect_invalid_at("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 8);  // "U" may start UNKNOWN
    expect_invalid_at("PROXY TCP4\r\n", 11);
    expect_invalid_at("PROXY TCP41.2.3.4 5.6.7.8 1 2\r\n", 11);
    expect_invalid_at("PROXY UNKNOWNX\r\n", 14);
    expect_invalid_at("PROXY UNKNOWN\n", 14);
}

TEST(ProxyV1, WrongFieldCounts) {
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4\r\n");
    expect_invalid("PROXY TCP4 \r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 3333\r\n");
    expect_invalid("PROXY TCP6 ::1 ::2 1 2 3\r\n");
}

TEST(ProxyV1, SeparatorsAreExactlyOneSpace) {
    expect_invalid("PROXY TCP4 1.2.3.4  5.6.7.8 1111 2222\r\n");
    expect_invalid("PROXY TCP4  1.2.3.4 5.6.7.8 1111 2222\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 \r\n");
    expect_invalid("PROXY TCP4 1.2.3.4\t5.6.7.8 1111 2222\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1111  2222\r\n");
}

TEST(ProxyV1, PortsAreDecimal0To65535WithoutLeadingZeros) {
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 100000 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 01 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 -1 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 +1 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 0x10 1\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 5.6.7.8 1a 1\r\n");
}

TEST(ProxyV1, AddressesMustMatchTheFamily) {
    expect_invalid("PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4 ::1 1 2\r\n");
    expect_invalid("PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP6 1.2.3.4 ::1 1 2\r\n");
    expect_invalid("PROXY TCP6 ::1 5.6.7.8 1 2\r\n");
}

TEST(ProxyV1, AddressesAreCanonical) {
    expect_invalid("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n");  // octal-looking
    expect_invalid("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 localhost 5.6.7.8 1 2\r\n");
    expect_invalid("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"s);
    expect_invalid("PROXY TCP6 [::1] ::2 1 2\r\n");
    expect_invalid("PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n");
    expect_invalid("PROXY TCP6 1::2::3 ::2 1 2\r\n");
}

TEST(ProxyV1, LineEndsInCrlfOnly) {
    // Decided at the byte that breaks the CRLF, not at the end of the line.
    expect_invalid_at("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\n", 37);
    expect_invalid_at("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\rX", 38);
    expect_invalid_at("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\r\n", 38);
    expect_invalid_at("PROXY UNKNOWN a\rb\r\n", 17);
    expect_invalid_at("PROXY UNKNOWN a\nb\r\n", 16);
}

TEST(ProxyV1, NoCrlfWithin107BytesIsInvalid) {
    const std::string filler = "PROXY UNKNOWN " + std::string(200, 'a');
    expect_invalid_at(filler, 107);
    // The CR as the 107th byte leaves no room for the LF.
    expect_invalid_at("PROXY UNKNOWN " + std::string(92, 'a') + "\r\n", 107);
    // The longest possible IPv6 text makes a 116-byte TCP6 line: too long.
    const std::string v6 = "0000:0000:0000:0000:0000:0000:255.255.255.255";
    expect_invalid_at("PROXY TCP6 " + v6 + " " + v6 + " 65535 65535\r\n", 107);
}

TEST(ProxyV1, NeverWaitsBeyond107Bytes) {
    ProxyHeader out;
    const std::string line = "PROXY UNKNOWN " + std::string(93, 'a');
    ASSERT_EQ(line.size(), 107u);
    EXPECT_EQ(parse(std::string_view(line).substr(0, 106), out), ProxyParse::need_more);
    EXPECT_EQ(parse(line, out), ProxyParse::invalid);
}

// ---------------------------------------------------------------- v2 (§2.2)

TEST(ProxyV2, Tcp4) {
    expect_header(v2(0x21, 0x11, kV4Block), tcp({1, 2, 3, 4}, 1111, {5, 6, 7, 8}, 2222, 28));
}

TEST(ProxyV2, Tcp6) {
    expect_header(v2(0x21, 0x21, kV6Block),
                  tcp({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443,
                      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 8443, 52));
}

TEST(ProxyV2, TlvsAreSkipped) {
    const std::string tlvs =
        tlv(0x01, "h2") + tlv(0x04, "") + tlv(0x20, std::string(40, 'x')) + tlv(0xe0, "custom");
    ASSERT_EQ(tlvs.size(), 5u + 3u + 43u + 9u);
    expect_header(v2(0x21, 0x11, kV4Block + tlvs),
                  tcp({1, 2, 3, 4}, 1111, {5, 6, 7, 8}, 2222, 16 + 12 + 60));
    expect_header(
        v2(0x21, 0x21, kV6Block + tlv(0x02, "example.com")),
        tcp({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443,
            {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 8443, 16 + 36 + 14));
}

TEST(ProxyV2, PortsAreBigEndian) {
    const std::string block = bytes({10, 0, 0, 1, 10, 0, 0, 2, 0xff, 0xfe, 0x00, 0x00});
    expect_header(v2(0x21, 0x11, block), tcp({10, 0, 0, 1}, 65534, {10, 0, 0, 2}, 0, 28));
}

TEST(ProxyV2, LocalUsesTheRealPeer) {
    expect_header(v2(0x20, 0x00, ""), local(16));
    // §2.2: the block is skipped even if a LOCAL sender fills it in, and the
    // family byte is ignored.
    expect_header(v2(0x20, 0x11, kV4Block), local(28));
    expect_header(v2(0x20, 0x21, kV6Block + tlv(0x04, "")), local(55));
    expect_header(v2(0x20, 0xff, "xyz"), local(19));
    expect_header(v2(0x20, 0x11, ""), local(16));
}

TEST(ProxyV2, UnspecAndUnsupportedFamiliesFallBackToThePeer) {
    expect_header(v2(0x21, 0x00, ""), local(16));
    expect_header(v2(0x21, 0x00, "anything"), local(24));
    expect_header(v2(0x21, 0x12, kV4Block), local(28));                             // UDP4
    expect_header(v2(0x21, 0x22, kV6Block), local(52));                             // UDP6
    expect_header(v2(0x21, 0x31, std::string(216, '\0')), local(232));              // UNIX stream
    expect_header(v2(0x21, 0x32, std::string(216, '/') + tlv(4, "")), local(235));  // dgram
    expect_header(v2(0x21, 0x10, ""), local(16));    // AF_INET, transport UNSPEC
    expect_header(v2(0x21, 0x01, "ab"), local(18));  // AF_UNSPEC, STREAM
}

TEST(ProxyV2, LargestAcceptedHeaderIs4096Bytes) {
    const std::string noop = tlv(0x04, std::string(4096 - 16 - 12 - 3, 'n'));
    const std::string header = v2(0x21, 0x11, kV4Block + noop);
    ASSERT_EQ(header.size(), kProxyV2MaxBytes);
    expect_header(header, tcp({1, 2, 3, 4}, 1111, {5, 6, 7, 8}, 2222, 4096));
}

TEST(ProxyV2, OversizedIsRefusedAsSoonAsTheLengthIsKnown) {
    const std::string noop = tlv(0x04, std::string(4096 - 16 - 12 - 3 + 1, 'n'));
    expect_invalid_at(v2(0x21, 0x11, kV4Block + noop), 16);
    expect_invalid_at(v2_len(0x21, 0x11, 0xffff, kV4Block), 16);
    expect_invalid_at(v2_len(0x20, 0x00, 4081, ""), 16);  // LOCAL too
}

TEST(ProxyV2, WrongSignatureIsRefusedAtTheWrongByte) {
    const std::string good = v2(0x21, 0x11, kV4Block);
    for (std::size_t i = 1; i < 12; ++i) {  // byte 0 differs: then it is no v2 at all
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x20);
        SCOPED_TRACE(i);
        expect_invalid_at(bad, i + 1);
    }
    expect_invalid_at("\r\nGET / HTTP/1.1\r\n", 3);
    expect_invalid_at("\r\n\r\n"s + kRequest, 5);
}

TEST(ProxyV2, OnlyVersion2) {
    expect_invalid_at(v2(0x11, 0x11, kV4Block), 13);
    expect_invalid_at(v2(0x31, 0x11, kV4Block), 13);
    expect_invalid_at(v2(0x01, 0x11, kV4Block), 13);
    expect_invalid_at(v2(0xf1, 0x11, kV4Block), 13);
}

TEST(ProxyV2, OnlyLocalAndProxyCommands) {
    expect_invalid_at(v2(0x22, 0x11, kV4Block), 13);
    expect_invalid_at(v2(0x2f, 0x11, kV4Block), 13);
}

TEST(ProxyV2, UnassignedFamilyOrTransportIsRefused) {
    expect_invalid_at(v2(0x21, 0x41, kV4Block), 14);  // family 4
    expect_invalid_at(v2(0x21, 0xf1, kV4Block), 14);
    expect_invalid_at(v2(0x21, 0x13, kV4Block), 14);  // transport 3
    expect_invalid_at(v2(0x21, 0x1f, kV4Block), 14);
    expect_invalid_at(v2(0x21, 0x03, ""), 14);
}

TEST(ProxyV2, LengthMustCoverTheAddressBlock) {
    expect_invalid_at(v2_len(0x21, 0x11, 11, kV4Block), 16);
    expect_invalid_at(v2(0x21, 0x11, ""), 16);
    expect_invalid_at(v2(0x21, 0x11, kV4Block.substr(0, 11)), 16);
    expect_invalid_at(v2_len(0x21, 0x21, 35, kV6Block), 16);
    expect_invalid_at(v2(0x21, 0x21, kV4Block), 16);  // an IPv4 block under TCP6
    expect_invalid_at(v2(0x21, 0x12, kV4Block.substr(0, 4)), 16);
    expect_invalid_at(v2(0x21, 0x22, kV4Block), 16);
    expect_invalid_at(v2(0x21, 0x31, std::string(215, '\0')), 16);
}

TEST(ProxyV2, TlvsMustTileTheRestExactly) {
    expect_invalid(v2(0x21, 0x11, kV4Block + "\x04"));
    expect_invalid(v2(0x21, 0x11, kV4Block + "\x04\x00"s));
    expect_invalid(v2(0x21, 0x11, kV4Block + tlv(0x01, "h2").substr(0, 4)));
    expect_invalid(v2(0x21, 0x11, kV4Block + bytes({0x01, 0x00, 0x03}) + "h2"));
    expect_invalid(v2(0x21, 0x11, kV4Block + tlv(0x01, "h2") + "\x04\x00"s));
    expect_invalid(v2(0x21, 0x21, kV6Block + bytes({0x04, 0xff, 0xff})));
    expect_invalid(v2(0x21, 0x12, kV4Block + "x"));  // also with a fallback family
}

TEST(ProxyV2, NeverWaitsBeyondTheAnnouncedLength) {
    // A complete v2 header is decided on its own bytes, whatever follows.
    ProxyHeader out;
    const std::string header = v2(0x21, 0x11, kV4Block);
    EXPECT_EQ(parse(header + std::string(5000, 'z'), out), ProxyParse::done);
    EXPECT_EQ(out.header_bytes, 28u);
    // The largest announced length keeps asking for more up to its last byte.
    const std::string big = v2_len(0x21, 0x11, 4080, kV4Block + std::string(4068, 'q'));
    EXPECT_EQ(parse(std::string_view(big).substr(0, 4095), out), ProxyParse::need_more);
    EXPECT_EQ(parse(big, out), ProxyParse::invalid);  // 'q' TLVs do not tile
}

// Whatever the bytes, the answer only firms up as bytes arrive: need_more
// until a decision, then that same decision (and the same header) for every
// longer input, and done never claims more bytes than it was given.
TEST(ProxyParser, MutatedHeadersAreDecidedOnceAndForAll) {
    const std::vector<std::string> corpus = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY TCP6 2001:db8::1 2001:db8::2 443 8443\r\n",
        "PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
        v2(0x21, 0x11, kV4Block),
        v2(0x21, 0x21, kV6Block + tlv(0x01, "h2")),
        v2(0x20, 0x00, ""),
        v2(0x21, 0x12, kV4Block),
    };
    std::mt19937 rng(20240601);
    for (const auto& seed : corpus) {
        for (int round = 0; round < 300; ++round) {
            std::string input = seed + kRequest;
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits; ++e) {
                const auto pos = rng() % seed.size();
                const auto value = static_cast<char>(rng() % 256);
                switch (rng() % 3) {
                    case 0:
                        input[pos] = value;
                        break;
                    case 1:
                        input.insert(input.begin() + static_cast<long>(pos), value);
                        break;
                    default:
                        input.erase(pos, 1);
                        break;
                }
            }
            SCOPED_TRACE(testing::PrintToString(input));
            ProxyParse first = ProxyParse::need_more;
            ProxyHeader first_header;
            for (std::size_t n = 0; n <= input.size(); ++n) {
                ProxyHeader out = sentinel();
                const auto r = parse(std::string_view(input).substr(0, n), out);
                if (r == ProxyParse::need_more) {
                    ASSERT_EQ(first, ProxyParse::need_more) << "prefix of " << n << " bytes";
                    ASSERT_EQ(out, sentinel());
                    continue;
                }
                if (first == ProxyParse::need_more) {
                    first = r;
                    first_header = out;
                }
                ASSERT_EQ(r, first) << "prefix of " << n << " bytes";
                ASSERT_EQ(out, r == ProxyParse::done ? first_header : sentinel());
                if (r == ProxyParse::done) {
                    ASSERT_LE(out.header_bytes, n);
                }
            }
        }
    }
}

TEST(ProxyParser, EmptyInputNeedsMore) {
    ProxyHeader out = sentinel();
    EXPECT_EQ(parse("", out), ProxyParse::need_more);
    EXPECT_EQ(out, sentinel());
}

TEST(ProxyParser, MaxConstants) {
    EXPECT_EQ(kProxyV1MaxBytes, 107u);
    EXPECT_EQ(kProxyV2MaxBytes, 4096u);
    EXPECT_EQ(kProxyMaxBytes, 4096u);
}

TEST(ProxyParser, DoneOverwritesEveryField) {
    ProxyHeader out = sentinel();
    out.destination_ip = {1, 1, 1, 1};
    out.destination_port = 7;
    ASSERT_EQ(parse("PROXY UNKNOWN\r\n", out), ProxyParse::done);
    EXPECT_EQ(out, local(15));
}

// ---------------------------------------------------------------- ip_to_string

TEST(IpToString, Ipv4AndIpv6) {
    EXPECT_EQ(ip_to_string(Bytes{1, 2, 3, 4}), "1.2.3.4");
    EXPECT_EQ(ip_to_string(Bytes{255, 255, 255, 255}), "255.255.255.255");
    EXPECT_EQ(ip_to_string(Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
              "2001:db8::1");
    EXPECT_EQ(ip_to_string(Bytes(16, 0)), "::");
    EXPECT_EQ(ip_to_string(Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}),
              "::ffff:1.2.3.4");
}

TEST(IpToString, OtherSizesAreEmpty) {
    EXPECT_EQ(ip_to_string(Bytes{}), "");
    EXPECT_EQ(ip_to_string(Bytes{1, 2, 3}), "");
    EXPECT_EQ(ip_to_string(Bytes(5, 1)), "");
    EXPECT_EQ(ip_to_string(Bytes(17, 1)), "");
}

}  // namespace
}  // namespace switchyard::http

#include "switchyard/core/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace switchyard {
namespace {

using namespace std::string_literals;

// RFC 4648 §10.
TEST(Base64, EncodesTheRfcTestVectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesTheRfcTestVectors) {
    EXPECT_EQ(base64_decode(""), ""s);
    EXPECT_EQ(base64_decode("Zg=="), "f"s);
    EXPECT_EQ(base64_decode("Zm8="), "fo"s);
    EXPECT_EQ(base64_decode("Zm9v"), "foo"s);
    EXPECT_EQ(base64_decode("Zm9vYg=="), "foob"s);
    EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba"s);
    EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar"s);
}

// Keys and values as etcd 3.4's gateway wrote them.
TEST(Base64, EtcdKeysAndValues) {
    EXPECT_EQ(base64_encode("/sy/state"), "L3N5L3N0YXRl");
    EXPECT_EQ(base64_decode("L3N5L21lbWJlcnMvYQ=="), "/sy/members/a"s);
    EXPECT_EQ(base64_decode("eyJhY3RpdmUiOiJncmVlbiJ9"), R"({"active":"green"})"s);
    EXPECT_EQ(base64_encode("\0"s), "AA==");  // the range end "from this key on"
}

TEST(Base64, UsesTheWholeAlphabetIncludingPlusAndSlash) {
    EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
    EXPECT_EQ(base64_decode("+/+/"), "\xfb\xff\xbf"s);
    EXPECT_EQ(base64_encode("\x00\x10\x83\x10\x51\x87"s), "ABCDEFGH");
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
    std::string bytes;
    for (int i = 0; i < 256; ++i)
        bytes += static_cast<char>(i);
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        const std::string input = bytes.substr(bytes.size() - length);
        const std::string encoded = base64_encode(input);
        ASSERT_EQ(encoded.size(), (length + 2) / 3 * 4) << length;
        ASSERT_EQ(base64_decode(encoded), input) << length;
    }
}

TEST(Base64, RejectsLengthsThatAreNotMultiplesOfFour) {
    EXPECT_EQ(base64_decode("Z"), std::nullopt);
    EXPECT_EQ(base64_decode("Zg"), std::nullopt);  // padding is required
    EXPECT_EQ(base64_decode("Zm8"), std::nullopt);
    EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
    EXPECT_EQ(base64_decode("Zg==="), std::nullopt);
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
    EXPECT_EQ(base64_decode("!!!!"), std::nullopt);
    EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);
    EXPECT_EQ(base64_decode("Zm9v\nYmFy"), std::nullopt);
    EXPECT_EQ(base64_decode("-_-_"), std::nullopt);  // base64url is another alphabet
    EXPECT_EQ(base64_decode("Zm9\0"s), std::nullopt);
    EXPECT_EQ(base64_decode("Zm9\xc3"), std::nullopt);
}

TEST(Base64, RejectsMisplacedPadding) {
    EXPECT_EQ(base64_decode("===="), std::nullopt);
    EXPECT_EQ(base64_decode("Z==="), std::nullopt);
    EXPECT_EQ(base64_decode("Zg==Zm8="), std::nullopt);  // padding before the end
    EXPECT_EQ(base64_decode("Z=g="), std::nullopt);
    EXPECT_EQ(base64_decode("=Zm8"), std::nullopt);
}

TEST(Base64, RejectsNonZeroUnusedBits) {
    EXPECT_EQ(base64_decode("Zh=="), std::nullopt);  // "Zg==" with a stray bit
    EXPECT_EQ(base64_decode("Zm9="), std::nullopt);  // "Zm8=" with a stray bit
}

}  // namespace
}  // namespace switchyard

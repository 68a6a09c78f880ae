// Keys that DESIGN.md specifies for features not built yet: accepted with a
// warning that says so, checked like any other key (an unknown key inside
// such a section is an error, and so is a value of the wrong type).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "switchyard/config/config_loader.hpp"

namespace switchyard::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using namespace test;

// DESIGN.md's block for the feature not built yet, verbatim.
// A second listener with HTTP/2 (the [[listeners]] of kMinimal comes first).
constexpr std::string_view kHttp2 = R"toml(
[[listeners]]
address = "127.0.0.1:0"
protocols = ["h2", "http/1.1"] # ALPN order on a TLS listener; ["h2c"] on a plain one: prior-knowledge HTTP/2
[listeners.http2]
max_concurrent_streams = 128
initial_window = "256KiB"
max_header_list = "64KiB"
)toml";

TEST(ConfigNotBuilt, ListenerProtocolsAndHttp2AreAcceptedWithWarnings) {
    auto r = load_with(kHttp2);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:8:1: warning: listeners[1].protocols: accepted, but HTTP/2 "
                            "on listeners is not built yet",
                            "t.toml:9:12: warning: listeners[1].http2: accepted, but HTTP/2 on "
                            "listeners is not built yet"));
}

TEST(ConfigNotBuilt, AMisspelledKeyInsideIsStillAnError) {
    const std::pair<std::string, std::string> cases[] = {
        {"[listeners.http2]\nmax_streams = 5\n",
         "t.toml:6:1: error: listeners[0].http2.max_streams: unknown key \"max_streams\""},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(extra);
        EXPECT_FALSE(r.ok()) << extra;
        EXPECT_THAT(lines(r), ElementsAre(expected)) << extra;
    }
}

// Next to them, a misspelled section or key name is an unknown key, with
// the not-built names among the hints.
TEST(ConfigNotBuilt, AMisspelledSectionIsAnUnknownKey) {
    auto r = load_with("[clustr]\nprefix = \"/x\"\n");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(lines(r), ElementsAre("t.toml:5:2: error: clustr: unknown key \"clustr\" (did "
                                      "you mean \"cluster\"?)"));
}

TEST(ConfigNotBuilt, ValuesAreTypeChecked) {
    const std::pair<std::string, std::string> cases[] = {
        {"[listeners.http2]\nmax_concurrent_streams = -1\n",
         "listeners[0].http2.max_concurrent_streams:"},
        {"[[listeners]]\naddress = \"127.0.0.1:0\"\nprotocols = [\"h3\"]\n",
         "listeners[1].protocols[0]: invalid value \"h3\""},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(extra);
        EXPECT_FALSE(r.ok()) << extra;
        ASSERT_EQ(r.error_count(), 1u) << extra << ::testing::PrintToString(lines(r));
        EXPECT_EQ(r.warning_count(), 0u) << extra << ": no warning where there is an error";
        EXPECT_THAT(lines(r)[0], HasSubstr(expected)) << extra;
    }
}

// The design's example itself has none of them: no warning there.
TEST(ConfigNotBuilt, AConfigWithoutThemHasNoWarning) {
    auto r = load_with("");
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(lines(r), IsEmpty());
}

}  // namespace
}  // namespace switchyard::config

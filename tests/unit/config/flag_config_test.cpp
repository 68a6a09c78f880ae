// [[flags]], routing.flags_header and routing.context_header (DESIGN.md,
// "Feature flags at the edge"): every rule's diagnostic with its place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "switchyard/config/config_loader.hpp"

namespace switchyard::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using namespace test;

// kMinimal has only blue: a second pool for the pools restriction.
constexpr std::string_view kGreen = "[pools.green]\nservers = [{ address = \"127.0.0.1:9002\" }]\n";

TEST(ConfigFlags, TheDesignKeysLoadWithoutADiagnostic) {
    auto r = load_with(std::string(kGreen) + R"toml(
[routing]
flags_header = "X-Switchyard-Flags"
context_header = "X-Switchyard-Context"

[[flags]]
name = "new-checkout"
percent = 5.0
pools = ["green"]
description = "the one-page checkout"

[[flags]]
name = "dark.mode_2"
percent = 0.001
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.routing.flags_header, "X-Switchyard-Flags");
    EXPECT_EQ(s.routing.context_header, "X-Switchyard-Context");
    ASSERT_EQ(s.flags.size(), 2u);
    EXPECT_EQ(s.flags[0], (FlagSettings{"new-checkout", 5000, {"green"}, "the one-page checkout"}));
    EXPECT_EQ(s.flags[1], (FlagSettings{"dark.mode_2", 1, {}, ""}));
    EXPECT_NE(summary(s).find(", 2 flags"), std::string::npos) << summary(s);
}

TEST(ConfigFlags, DefaultsAreAFlagsHeaderAndNoContext) {
    auto r = load_with("[[flags]]\nname = \"a\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->routing.flags_header, "X-Switchyard-Flags");
    EXPECT_EQ(r.settings->routing.context_header, "");
    EXPECT_EQ(r.settings->flags[0].percent_milli, 0u);  // a flag starts off
    r = load_with("[routing]\ncontext_header = \"\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->routing.context_header, "");
}

TEST(ConfigFlags, BadEntriesAreErrorsAtTheirPlace) {
    const std::pair<std::string, std::string> cases[] = {
        {"[[flags]]\npercent = 5\n", "t.toml:5:1: error: flags[0].name: required key is missing"},
        {"[[flags]]\nname = \"a b\"\n",
         "t.toml:6:8: error: flags[0].name: invalid flag name \"a b\" (1 to 64 letters, digits, "
         "'.', '_' or '-')"},
        {"[[flags]]\nname = \"a\"\npercent = 100.5\n",
         "t.toml:7:11: error: flags[0].percent: 100.5 is out of range (expected 0 to 100)"},
        {"[[flags]]\nname = \"a\"\npercent = -1\n",
         "t.toml:7:11: error: flags[0].percent: -1 is out of range (expected 0 to 100)"},
        {"[[flags]]\nname = \"a\"\npercent = 0.0001\n",
         "t.toml:7:11: error: flags[0].percent: at most three decimals (flags move in steps of "
         "0.001 %)"},
        {"[[flags]]\nname = \"a\"\npools = [\"gren\"]\n",
         "t.toml:7:10: error: flags[0].pools[0]: no pool named \"gren\" (pools: blue)"},
        {"[[flags]]\nname = \"a\"\npools = [\"blue\", \"blue\"]\n",
         "t.toml:7:18: error: flags[0].pools[1]: pool \"blue\" twice"},
        {"[[flags]]\nname = \"a\"\n[[flags]]\nname = \"a\"\n",
         "t.toml:8:8: error: flags[1].name: flag \"a\" is defined twice"},
        {"[[flags]]\nname = \"a\"\npercents = 5\n",
         "t.toml:7:1: error: flags[0].percents: unknown key \"percents\" (did you mean "
         "\"percent\"?)"},
        {"[routing.sticky]\nsource = \"none\"\n[[flags]]\nname = \"a\"\n",
         "t.toml:7:1: error: flags: flags need a user key to hash, and routing.sticky.source = "
         "\"none\" gives none (use cookie, header or client_ip)"},
        {"[routing]\nflags_header = \"X:F\"\n",
         "t.toml:6:16: error: routing.flags_header: invalid header name \"X:F\" (letters, digits "
         "and !#$%&'*+-.^_`|~ only)"},
        {"[routing]\nflags_header = \"\"\n",
         "t.toml:6:16: error: routing.flags_header: must not be empty"},
        {"[routing]\ncontext_header = \"X-Forwarded-For\"\n",
         "t.toml:6:18: error: routing.context_header: \"X-Forwarded-For\" is a field the proxy "
         "writes itself; choose another name"},
        {"[routing]\ncontext_header = \"x-switchyard-flags\"\n",
         "t.toml:6:18: error: routing.context_header: the same header as routing.flags_header"},
        {"[routing]\noverride_header = \"X-Switchyard-Flags\"\n",
         "t.toml:5:1: error: routing.flags_header: the same header as routing.override_header"},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(extra);
        EXPECT_FALSE(r.ok()) << extra;
        EXPECT_THAT(lines(r), ElementsAre(expected)) << extra;
    }
}

TEST(ConfigFlags, FlagsMustBeAnArrayOfTables) {
    auto r = load("flags = 5\n" + std::string(kMinimal));
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:1:9: error: flags: expected an array, got an integer"));
}

TEST(ConfigFlags, AtMostSixtyFourFlags) {
    std::string text;
    for (int i = 0; i < 64; ++i)
        text += "[[flags]]\nname = \"f" + std::to_string(i) + "\"\n";
    auto r = load_with(text);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->flags.size(), 64u);
    r = load_with(text + "[[flags]]\nname = \"one-more\"\n");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(lines(r), ElementsAre("t.toml:133:1: error: flags[64]: at most 64 flags (this "
                                      "is one more)"));
}

}  // namespace
}  // namespace switchyard::config

#include "switchyard/app/options.hpp"

#include <gtest/gtest.h>

namespace switchyard::app {
namespace {

TEST(Options, Defaults) {
    auto p = parse_options({});
    ASSERT_TRUE(p.options);
    EXPECT_EQ(p.options->config_path, "/etc/switchyard/switchyard.toml");
    EXPECT_FALSE(p.options->check);
}

TEST(Options, ConfigAndCheck) {
    auto p = parse_options({"-c", "/x.toml", "--check"});
    ASSERT_TRUE(p.options);
    EXPECT_EQ(p.options->config_path, "/x.toml");
    EXPECT_TRUE(p.options->check);
    auto q = parse_options({"--config=/y.toml", "-t"});
    ASSERT_TRUE(q.options);
    EXPECT_EQ(q.options->config_path, "/y.toml");
    EXPECT_TRUE(q.options->check);
}

TEST(Options, Errors) {
    // Usage errors name the option (CLI11's words); run_cli prints them with
    // the usage and exits 2.
    EXPECT_FALSE(parse_options({"-c"}).options);
    EXPECT_EQ(parse_options({"-c"}).error, "--config: 1 required FILE missing");
    EXPECT_FALSE(parse_options({"--bogus"}).options);
    EXPECT_EQ(parse_options({"--bogus"}).error, "The following argument was not expected: --bogus");
    EXPECT_FALSE(parse_options({"--config="}).options);
    EXPECT_EQ(parse_options({"stray"}).error, "The following argument was not expected: stray");
    EXPECT_FALSE(parse_options({"--check=yes"}).options);  // a flag takes no value
    EXPECT_EQ(parse_options({"-c", ""}).error, "--config needs a file");
}

TEST(Options, TheLastOfARepeatedOptionWins) {
    auto p = parse_options({"-c", "/a.toml", "--config", "/b.toml"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->config_path, "/b.toml");
}

TEST(Options, HelpAndVersion) {
    EXPECT_TRUE(parse_options({"--help"}).options->show_help);
    EXPECT_TRUE(parse_options({"-h", "--bogus"}).options->show_help);
    EXPECT_TRUE(parse_options({"-v"}).options->show_version);
    EXPECT_TRUE(parse_options({"--version"}).options->show_version);
    const std::string help = usage();
    EXPECT_EQ(help.rfind("usage: switchyard [-c FILE] [--check | --upgrade [--binary PATH]]\n", 0),
              0u)
        << help;
    for (const char* option : {"-c,--config FILE", "-t,--check", "--reset-state", "--upgrade",
                               "--binary PATH", "-v,--version", "-h,--help"})
        EXPECT_NE(help.find(option), std::string::npos) << option << "\n" << help;
    EXPECT_EQ(help.find("--handover-fd"), std::string::npos) << "internal, not in the help";
    EXPECT_EQ(help.back(), '\n');
    EXPECT_NE(help.substr(help.size() - 2), "\n\n");
}

TEST(Options, UpgradeAndBinary) {
    auto p = parse_options({"--upgrade", "-c", "/x.toml", "--binary", "/opt/sy/switchyard"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_TRUE(p.options->upgrade);
    EXPECT_EQ(p.options->upgrade_binary, "/opt/sy/switchyard");
    EXPECT_EQ(p.options->handover_fd, -1);
    EXPECT_EQ(parse_options({"--binary=/b"}).error, "--binary goes with --upgrade");
    EXPECT_EQ(parse_options({"--upgrade", "--binary", "relative"}).error,
              "--binary needs an absolute path");
    EXPECT_FALSE(parse_options({"--upgrade", "--check"}).options);
}

TEST(Options, HandoverFd) {
    auto p = parse_options({"-c", "/x.toml", "--handover-fd", "7"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->handover_fd, 7);
    EXPECT_EQ(parse_options({"--handover-fd=12"}).options->handover_fd, 12);
    for (const char* bad : {"-1", "x", "", "99999999"})
        EXPECT_EQ(parse_options({"--handover-fd", bad}).error,
                  "--handover-fd needs a descriptor number")
            << bad;
}

}  // namespace
}  // namespace switchyard::app

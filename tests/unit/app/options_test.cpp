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
    EXPECT_FALSE(parse_options({"-c"}).options);
    EXPECT_EQ(parse_options({"-c"}).error, "-c needs a file");
    EXPECT_FALSE(parse_options({"--bogus"}).options);
    EXPECT_EQ(parse_options({"--bogus"}).error, "unknown argument: --bogus");
    EXPECT_FALSE(parse_options({"--config="}).options);
}

}  // namespace
}  // namespace switchyard::app

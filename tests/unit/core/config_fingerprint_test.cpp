// config_fingerprint: equal for configs that route alike, different for a
// different seed, pool, server or weight.
#include <gtest/gtest.h>

#include "switchyard/core/config_fingerprint.hpp"

namespace switchyard {
namespace {

Settings two_pools() {
    Settings s;
    s.routing.seed = 7;
    PoolSettings blue;
    blue.name = "blue";
    blue.servers = {{{"127.0.0.1", 9001}, 1}, {{"127.0.0.1", 9002}, 1}};
    PoolSettings green;
    green.name = "green";
    green.servers = {{{"127.0.0.1", 9003}, 1}};
    s.pools = {blue, green};
    return s;
}

TEST(ConfigFingerprint, SixteenHexDigitsAndStable) {
    const std::string f = config_fingerprint(two_pools());
    ASSERT_EQ(f.size(), 16u);
    EXPECT_EQ(f.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(f, config_fingerprint(two_pools()));
}

TEST(ConfigFingerprint, OrderAndUnrelatedSettingsDoNotMatter) {
    Settings reordered = two_pools();
    std::swap(reordered.pools[0], reordered.pools[1]);
    std::swap(reordered.pools[1].servers[0], reordered.pools[1].servers[1]);
    reordered.timeouts.upstream_connect = Duration{1234};
    reordered.log.level = "debug";
    EXPECT_EQ(config_fingerprint(reordered), config_fingerprint(two_pools()));
}

TEST(ConfigFingerprint, SeedPoolsServersAndWeightsMatter) {
    const std::string base = config_fingerprint(two_pools());
    Settings seed = two_pools();
    seed.routing.seed = 8;
    Settings pool = two_pools();
    pool.pools[1].name = "orange";
    Settings server = two_pools();
    server.pools[0].servers[1].address.port = 9009;
    Settings weight = two_pools();
    weight.pools[0].servers[0].weight = 2;
    Settings fewer = two_pools();
    fewer.pools.pop_back();
    for (const Settings* s : {&seed, &pool, &server, &weight, &fewer})
        EXPECT_NE(config_fingerprint(*s), base);
}

}  // namespace
}  // namespace switchyard

// switchyard --check: exit status, the one-line summary, and diagnostics
// with file:line:column and the key path.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace sy_it {
namespace {

std::string config_text(const TempDir& dir, std::string_view timeouts_key,
                        std::string_view green_servers) {
    std::string t;
    t += "[server]\n";                                                // 1
    t += "workers = 2\n";                                             // 2
    t += "state_file = \"" + (dir / "state.json").string() + "\"\n";  // 3
    t += "\n";                                                        // 4
    t += "[timeouts]\n";                                              // 5
    t += std::string(timeouts_key) + " = \"1s\"\n";                   // 6
    t += "\n";                                                        // 7
    t += "[log]\n";                                                   // 8
    t += "access_log = \"off\"\n";                                    // 9
    t += "\n";                                                        // 10
    t += "[[listeners]]\n";                                           // 11
    t += "address = \"127.0.0.1:18080\"\n";                           // 12
    t += "\n";                                                        // 13
    t += "[routing]\n";                                               // 14
    t += "active = \"blue\"\n";                                       // 15
    t += "\n";                                                        // 16
    t += "[pools.blue]\n";                                            // 17
    t += "servers = [{ address = \"127.0.0.1:9001\" }]\n";            // 18
    t += "\n";                                                        // 19
    t += "[pools.green]\n";                                           // 20
    t += "servers = " + std::string(green_servers) + "\n";            // 21
    return t;
}

TEST(Check, GoodConfigExitsZeroWithOneLineSummary) {
    TempDir dir;
    const auto path = dir / "good.toml";
    write_file(path, config_text(dir, "client_header", "[{ address = \"127.0.0.1:9002\" }]"));
    auto r = run_check(dir, path);
    ASSERT_TRUE(r.status.has_value()) << "--check did not exit";
    EXPECT_TRUE(exited_with(r.status, 0)) << describe_status(*r.status) << "\n" << r.err;
    EXPECT_EQ(r.out,
              "config ok: 1 listener, 2 pools (blue: 1 server, green: 1 server), active blue, "
              "2 workers\n");
    EXPECT_EQ(r.err, "");
}

TEST(Check, RenderedHarnessConfigIsValid) {
    TempDir dir;
    ProxyConfig cfg;
    cfg.workers = 3;
    cfg.control_socket = false;
    cfg.access_log_file = true;
    cfg.timeouts = {{"client_idle", "\"300ms\""}};
    cfg.pools = {{"blue", {"127.0.0.1:9001", "localhost:9003"}}, {"green", {"127.0.0.1:9002"}}};
    const auto path = dir / "rendered.toml";
    write_file(path, render_config(cfg, dir, 18081));
    auto r = run_check(dir, path);
    EXPECT_TRUE(exited_with(r.status, 0)) << r.err;
    EXPECT_EQ(r.out,
              "config ok: 1 listener, 2 pools (blue: 2 servers, green: 1 server), active blue, "
              "3 workers\n");
    EXPECT_EQ(r.err, "");
}

TEST(Check, UnknownKeyExitsOneWithPlaceAndKeyPath) {
    TempDir dir;
    const auto path = dir / "unknown.toml";
    write_file(path, config_text(dir, "client_headr", "[{ address = \"127.0.0.1:9002\" }]"));
    auto r = run_check(dir, path);
    ASSERT_TRUE(r.status.has_value());
    EXPECT_TRUE(exited_with(r.status, 1)) << describe_status(*r.status);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(path.string() + ":6:1: error: timeouts.client_headr: "), std::string::npos)
        << r.err;
}

TEST(Check, PoolWithoutServersExitsOneWithPlaceAndKeyPath) {
    TempDir dir;
    const auto path = dir / "empty-pool.toml";
    write_file(path, config_text(dir, "client_header", "[]"));
    auto r = run_check(dir, path);
    ASSERT_TRUE(r.status.has_value());
    EXPECT_TRUE(exited_with(r.status, 1)) << describe_status(*r.status);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(path.string() + ":21:11: error: pools.green.servers: "), std::string::npos)
        << r.err;
}

TEST(Check, EveryErrorIsReportedInFileOrder) {
    TempDir dir;
    const auto path = dir / "two-errors.toml";
    write_file(path, config_text(dir, "client_headr", "[]"));
    auto r = run_check(dir, path);
    EXPECT_TRUE(exited_with(r.status, 1));
    const auto first = r.err.find(path.string() + ":6:1: error: timeouts.client_headr: ");
    const auto second = r.err.find(path.string() + ":21:11: error: pools.green.servers: ");
    ASSERT_NE(first, std::string::npos) << r.err;
    ASSERT_NE(second, std::string::npos) << r.err;
    EXPECT_LT(first, second);
}

}  // namespace
}  // namespace sy_it

// switchyardctl against a running switchyard: what a deploy pipeline runs
// (README, "Deploy pipeline"), its output and exit codes.
#include <boost/json.hpp>

#include <thread>

#include "fixture.hpp"

namespace sy_it {
namespace {

class Ctl : public ProxyTest {
  protected:
    CtlRun ctl(const std::vector<std::string>& args) {
        return run_switchyardctl(dir_.path(), dir_.path() / "control.sock", args);
    }
};

TEST_F(Ctl, PipelineCommandsAndExitCodes) {
    start_proxy(base_config());
    auto status = ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("active             blue\n"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("config generation  1\n"), std::string::npos) << status.out;

    auto canary = ctl({"--json", "canary", "green", "5"});
    EXPECT_EQ(canary.exit_code, 0);
    EXPECT_EQ(canary.out,
              "{\"ok\":true,\"changed\":true,\"active\":\"blue\",\"previous\":null,"
              "\"canary\":{\"pool\":\"green\",\"weight\":5.00},\"generation\":1}\n");

    auto refused = ctl({"canary", "blue", "5"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("active pool"), std::string::npos) << refused.err;

    auto cutover = ctl({"switch", "green", "--wait", "--timeout", "5s"});
    EXPECT_EQ(cutover.exit_code, 0) << cutover.out << cutover.err;
    HttpConn c(proxy_->port());
    EXPECT_EQ(c.roundtrip(get_request("/")).body(), "green\n");

    auto rollback = ctl({"--json", "rollback"});
    EXPECT_EQ(rollback.exit_code, 0);
    EXPECT_NE(rollback.out.find("\"active\":\"blue\""), std::string::npos) << rollback.out;
}

TEST_F(Ctl, SwitchWaitTimesOutWithTheRemainingCounts) {
    start_proxy(base_config());
    std::thread slow([&] {
        HttpConn c(proxy_->port());
        c.roundtrip(get_request("/?delay_ms=2500"), seconds(5));
    });
    poll_until(after(seconds(3)), [&] {
        return control_command(dir_.path() / "control.sock", "status").find("\"inflight\":1") !=
               std::string::npos;
    });
    auto r = ctl({"switch", "green", "--wait", "--timeout", "300ms"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("blue not drained after "), std::string::npos) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(": 1 in flight, 0 tunnels, 0 idle connections"),
              std::string::npos)
        << r.out << r.err;
    slow.join();
}

TEST_F(Ctl, UnreachableSocketExitsTwo) {
    auto r = ctl({"status"});  // nothing is listening in this temp dir
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("control.sock"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sy_it

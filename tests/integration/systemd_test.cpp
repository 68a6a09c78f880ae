// systemd integration: the notify messages a Type=notify unit relies on,
// against a fake NOTIFY_SOCKET; and the unit file passes systemd-analyze.
#include <cstdlib>
#include <sstream>

#include "fixture.hpp"

namespace sy_it {
namespace {

class Systemd : public ProxyTest {};

TEST_F(Systemd, NotifiesReadyWhenServingAndStoppingOnSigterm) {
    NotifySocket notify(dir_.path() / "notify.sock");
    ::setenv("NOTIFY_SOCKET", (dir_.path() / "notify.sock").c_str(), 1);
    auto cfg = base_config();
    start_proxy(cfg);
    ::unsetenv("NOTIFY_SOCKET");
    std::string ready = notify.wait_for("READY=1", seconds(5));
    EXPECT_NE(ready.find("READY=1"), std::string::npos);
    EXPECT_NE(ready.find("STATUS=serving on 127.0.0.1:" + std::to_string(proxy_->port())),
              std::string::npos)
        << ready;
    proxy_->process().signal(SIGTERM);
    EXPECT_NE(notify.wait_for("STOPPING=1", seconds(5)), "");
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
}

// Copies systemd/switchyard.service (ExecStart pointing at the built binary,
// since verify checks that it exists) and switchyard.socket into the test
// directory, runs `systemd-analyze verify` on `unit` there, and returns its
// messages about our units ("" when it has none).
std::string verify_unit(const std::filesystem::path& dir, const std::string& unit_name) {
    const std::filesystem::path source(SWITCHYARD_SOURCE_DIR);
    std::string service = read_file(source / "systemd/switchyard.service");
    const std::string installed = "/usr/bin/switchyard", built = SWITCHYARD_BIN;
    for (auto pos = service.find(installed); pos != std::string::npos;
         pos = service.find(installed, pos + built.size()))
        service.replace(pos, installed.size(), built);
    write_file(dir / "switchyard.service", service);
    // The socket unit names the service by its name: verify loads it from the same directory.
    write_file(dir / "switchyard.socket", read_file(source / "systemd/switchyard.socket"));
    Process::Options o;
    o.argv = {"/usr/bin/systemd-analyze", "verify", (dir / unit_name).string()};
    o.stdout_path = dir / (unit_name + ".verify.out");
    o.stderr_path = dir / (unit_name + ".verify.err");
    Process p(o);
    if (!p.wait_exit(after(seconds(30)))) return "systemd-analyze verify did not finish";
    std::string err = read_file(o.stderr_path);
    // verify exits non-zero when PID 1 is not systemd (containers); judge by its messages
    // about our units only.
    std::string ours;
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);)
        if ((line.find("switchyard.service") != std::string::npos ||
             line.find("switchyard.socket") != std::string::npos) &&
            line.find("User=") == std::string::npos)
            ours += line + "\n";
    return ours;
}

TEST_F(Systemd, UnitFileVerifies) {
    if (!std::filesystem::exists("/usr/bin/systemd-analyze"))
        GTEST_SKIP() << "systemd-analyze is not installed";
    EXPECT_EQ(verify_unit(dir_.path(), "switchyard.service"), "");
}

TEST_F(Systemd, SocketUnitVerifies) {
    if (!std::filesystem::exists("/usr/bin/systemd-analyze"))
        GTEST_SKIP() << "systemd-analyze is not installed";
    EXPECT_EQ(verify_unit(dir_.path(), "switchyard.socket"), "");
    // The socket's example listener is the reference config's listener: Switchyard matches
    // passed sockets to [[listeners]] by address.
    const std::string socket =
        read_file(std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "systemd/switchyard.socket");
    const std::string config =
        read_file(std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "conf/switchyard.toml");
    EXPECT_NE(socket.find("\nListenStream=0.0.0.0:8080\n"), std::string::npos) << socket;
    EXPECT_NE(config.find("\naddress = \"0.0.0.0:8080\""), std::string::npos);
}

}  // namespace
}  // namespace sy_it

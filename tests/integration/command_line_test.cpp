// The four programs' command lines: a usage error prints the reason and the
// usage on stderr and exits 2; --help prints the usage on stdout and exits 0.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace sy_it {
namespace {

struct Run {
    std::optional<int> status;
    std::string out, err;
};

Run run(std::vector<std::string> argv) {
    TempDir dir;
    Process::Options o;
    o.argv = std::move(argv);
    o.stdout_path = dir / "out";
    o.stderr_path = dir / "err";
    Process p(o);
    Run r;
    r.status = p.wait_exit(after(seconds(20)));
    r.out = read_file(o.stdout_path);
    r.err = read_file(o.stderr_path);
    return r;
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

struct Program {
    const char* binary;
    std::string usage_line;
    std::vector<std::string> bad_args;
    std::string error;  // the first line on stderr
};

std::vector<Program> programs() {
    std::vector<Program> all = {
        {SWITCHYARD_BIN,
         "usage: switchyard [-c FILE] [--check | --upgrade [--binary PATH]]\n",
         {"--bogus"},
         "switchyard: The following argument was not expected: --bogus\n"},
        {SWITCHYARDCTL_BIN,
         "usage: switchyardctl [-s SOCKET] [--json] [-c CONFIG] COMMAND [ARGS...]\n",
         {"status", "--timeout"},
         "switchyardctl: --timeout: 1 required D missing\n"},
        {SWITCHYARD_ECHO_BIN,
         "usage: switchyard-echo --name NAME [--listen HOST:PORT] [--threads N]\n",
         {"--name", "x", "--threads", "0"},
         "switchyard-echo: --threads: Value 0 not in range 1 to 256\n"},
    };
#ifdef SWITCHYARD_LOAD_BIN
    all.push_back({SWITCHYARD_LOAD_BIN,
                   "usage: switchyard-load --target HOST:PORT [options]\n",
                   {"--target", "127.0.0.1:1", "--keepalive", "x"},
                   "switchyard-load: --keepalive: Value x not in range 0 to 10000\n"});
#endif
    return all;
}

TEST(CommandLine, UsageErrorsExitTwoWithTheReasonAndTheUsage) {
    for (const auto& p : programs()) {
        std::vector<std::string> argv = {p.binary};
        argv.insert(argv.end(), p.bad_args.begin(), p.bad_args.end());
        auto r = run(argv);
        EXPECT_TRUE(exited_with(r.status, 2)) << p.binary << "\n" << r.err;
        EXPECT_TRUE(starts_with(r.err, p.error + p.usage_line)) << p.binary << "\n" << r.err;
        EXPECT_EQ(r.out, "") << p.binary;
    }
}

TEST(CommandLine, HelpExitsZeroWithTheUsage) {
    for (const auto& p : programs()) {
        auto r = run({p.binary, "--help"});
        EXPECT_TRUE(exited_with(r.status, 0)) << p.binary << "\n" << r.err;
        EXPECT_TRUE(starts_with(r.out, p.usage_line)) << p.binary << "\n" << r.out;
        EXPECT_NE(r.out.find("  -h,--help"), std::string::npos) << p.binary << "\n" << r.out;
        EXPECT_EQ(r.err, "") << p.binary;
    }
}

TEST(CommandLine, SwitchyardctlUsageErrorExitsTwoBeforeTouchingTheSocket) {
    // An unknown option is a usage error (2), not a command sent to the server.
    auto r = run({SWITCHYARDCTL_BIN, "-s", "/nonexistent/ctl-test.sock", "--jsn", "status"});
    EXPECT_TRUE(exited_with(r.status, 2)) << r.err;
    EXPECT_TRUE(
        starts_with(r.err, "switchyardctl: The following argument was not expected: --jsn\n"))
        << r.err;
    EXPECT_EQ(r.err.find("ctl-test.sock"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sy_it

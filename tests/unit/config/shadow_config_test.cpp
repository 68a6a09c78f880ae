// [shadow] and [shadow.diff] (DESIGN.md, "Dark launch"): every key read,
// every rule's diagnostic with its place.
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

// kMinimal has only blue (the active pool): a second pool to mirror to.
constexpr std::string_view kGreen = "[pools.green]\nservers = [{ address = \"127.0.0.1:9002\" }]\n";

// DESIGN.md's block, verbatim.
constexpr std::string_view kDesignShadow = R"toml(
[shadow]
pool = ""                      # empty: off
percent = 0.0
sample = "user"                # user | request
methods = ["GET", "HEAD", "OPTIONS"]
max_body = "1MiB"
timeout = "5s"
max_inflight = 256             # per worker
memory = "16MiB"               # per worker, buffered mirror bodies
host_suffix = "-shadow"
allow_unsafe = false

[shadow.diff]
enabled = false
secondary = true
ignore_headers = ["date", "x-request-id", "set-cookie", "etag", "age"]
max_body = "256KiB"
routes = []                    # e.g. ["/api/users/*"]; else the first two path segments
max_routes = 100
log = ""                       # differing records, JSON lines (default: the error log)
log_per_minute = 60
log_bodies = false
)toml";

TEST(ConfigShadow, TheDesignBlockLoadsAsTheDefaults) {
    auto r = load_with(kDesignShadow);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    EXPECT_EQ(r.settings->shadow, ShadowSettings{});
    EXPECT_EQ(summary(*r.settings).find("shadow"), std::string::npos);
}

TEST(ConfigShadow, AbsentIsOff) {
    auto r = load_with("");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->shadow, ShadowSettings{});
    EXPECT_TRUE(r.settings->shadow.pool.empty());
}

TEST(ConfigShadow, EveryKeySetToANonDefaultValue) {
    auto r = load_with(std::string(kGreen) + R"toml(
[shadow]
pool = "green"
percent = 12.345
sample = "request"
methods = ["get", "HEAD", "POST", "PROPFIND"]
max_body = "64KiB"
timeout = "750ms"
max_inflight = 8
memory = "1MiB"
host_suffix = ".shadow-1"
allow_unsafe = true

[shadow.diff]
enabled = true
secondary = false
ignore_headers = ["Date", "X-Trace"]
max_body = "1MiB"
routes = ["/api/users/*", "/*/health", "/"]
max_routes = 3
log = "/var/log/switchyard/diff.log"
log_per_minute = 0
log_bodies = true
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    const ShadowSettings& s = r.settings->shadow;
    EXPECT_EQ(s.pool, "green");
    EXPECT_EQ(s.percent_milli, 12345u);
    EXPECT_EQ(s.sample, ShadowSample::request);
    EXPECT_EQ(s.methods, (std::vector<std::string>{"GET", "HEAD", "POST", "PROPFIND"}));
    EXPECT_EQ(s.max_body, 64u * 1024);
    EXPECT_EQ(s.timeout, Duration(750));
    EXPECT_EQ(s.max_inflight, 8u);
    EXPECT_EQ(s.memory, 1024u * 1024);
    EXPECT_EQ(s.host_suffix, ".shadow-1");
    EXPECT_TRUE(s.allow_unsafe);
    EXPECT_TRUE(s.diff.enabled);
    EXPECT_FALSE(s.diff.secondary);
    EXPECT_EQ(s.diff.ignore_headers, (std::vector<std::string>{"date", "x-trace"}));
    EXPECT_EQ(s.diff.max_body, 1024u * 1024);
    EXPECT_EQ(s.diff.routes, (std::vector<std::string>{"/api/users/*", "/*/health", "/"}));
    EXPECT_EQ(s.diff.max_routes, 3u);
    EXPECT_EQ(s.diff.log, "/var/log/switchyard/diff.log");
    EXPECT_EQ(s.diff.log_per_minute, 0u);
    EXPECT_TRUE(s.diff.log_bodies);
    EXPECT_NE(summary(*r.settings).find(", shadow green 12.345%"), std::string::npos)
        << summary(*r.settings);
}

// The initial runtime state may name the pool before mirroring starts.
TEST(ConfigShadow, APoolAtZeroPercentAndEmptyValuesAreFine) {
    auto r = load_with(std::string(kGreen) +
                       "[shadow]\npool = \"green\"\nhost_suffix = \"\"\n"
                       "[shadow.diff]\nignore_headers = []\nlog = \"stderr\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->shadow.pool, "green");
    EXPECT_EQ(r.settings->shadow.percent_milli, 0u);
    EXPECT_EQ(r.settings->shadow.host_suffix, "");
    EXPECT_THAT(r.settings->shadow.diff.ignore_headers, IsEmpty());
    EXPECT_EQ(r.settings->shadow.diff.log, "stderr");
    // 100 % and a body limit of 0 (only requests without a body) too.
    r = load_with(std::string(kGreen) +
                  "[shadow]\npool = \"green\"\npercent = 100\nmax_body = 0\nmemory = 0\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->shadow.percent_milli, 100000u);
}

TEST(ConfigShadow, BadValuesAreErrorsAtTheirPlace) {
    const std::pair<std::string, std::string> cases[] = {
        {"[shadow]\npool = \"gren\"\n",
         "t.toml:8:8: error: shadow.pool: no pool named \"gren\" (pools: blue, green); did you "
         "mean \"green\"?"},
        {"[shadow]\npool = \"blue\"\n",
         "t.toml:8:8: error: shadow.pool: \"blue\" is the active pool; a shadow pool must be "
         "another pool"},
        {"[shadow]\npercent = 5\n", "t.toml:7:1: error: shadow.pool: required when percent > 0"},
        {"[shadow]\npool = \"green\"\npercent = 100.5\n",
         "t.toml:9:11: error: shadow.percent: 100.5 is out of range (expected 0 to 100)"},
        {"[shadow]\npool = \"green\"\npercent = -1\n",
         "t.toml:9:11: error: shadow.percent: -1 is out of range (expected 0 to 100)"},
        {"[shadow]\npool = \"green\"\npercent = 0.0005\n",
         "t.toml:9:11: error: shadow.percent: at most three decimals (the shadow percent moves in "
         "steps of 0.001 %)"},
        {"[shadow]\npercent = \"5\"\n",
         "t.toml:8:11: error: shadow.percent: expected a number, got a string"},
        {"[shadow]\nsample = \"users\"\n",
         "t.toml:8:10: error: shadow.sample: invalid value \"users\" (expected \"user\" or "
         "\"request\"); did you mean \"user\"?"},
        {"[shadow]\nmethods = [\"GET\", \"G T\"]\n",
         "t.toml:8:19: error: shadow.methods[1]: invalid method \"G T\" (letters, digits and "
         "!#$%&'*+-.^_`|~ only)"},
        {"[shadow]\nmethods = [\"GET\", \"get\"]\n",
         "t.toml:8:19: error: shadow.methods[1]: duplicate method \"GET\" (also "
         "shadow.methods[0])"},
        {"[shadow]\nmethods = [\"GET\", \"post\"]\n",
         "t.toml:8:19: error: shadow.methods[1]: \"POST\" is not a safe method: a mirrored copy "
         "may write to data the pools share (set allow_unsafe = true to mirror it)"},
        {"[shadow]\nmethods = []\n",
         "t.toml:8:11: error: shadow.methods: must not be empty (percent = 0 or pool = \"\" "
         "mirrors nothing)"},
        {"[shadow]\nmethods = [\"\"]\n",
         "t.toml:8:12: error: shadow.methods[0]: must not be empty"},
        {"[shadow]\nmax_body = \"lots\"\n",
         "t.toml:8:12: error: shadow.max_body: invalid size \"lots\" (expected an integer with an "
         "optional unit B, KiB, MiB, GiB or TiB, like \"64KiB\")"},
        {"[shadow]\nmax_body = \"32MiB\"\n",
         "t.toml:8:12: error: shadow.max_body: shadow.memory (16MiB) is below shadow.max_body "
         "(32MiB): a mirrored body is buffered whole within memory"},
        {"[shadow]\nmemory = \"512KiB\"\n",
         "t.toml:8:10: error: shadow.memory: shadow.memory (512KiB) is below shadow.max_body "
         "(1MiB): a mirrored body is buffered whole within memory"},
        {"[shadow]\nmemory = \"2GiB\"\n",
         "t.toml:8:10: error: shadow.memory: must be at most 1GiB"},
        {"[shadow]\ntimeout = \"0\"\n",
         "t.toml:8:11: error: shadow.timeout: must be greater than 0"},
        {"[shadow]\nmax_inflight = 0\n",
         "t.toml:8:16: error: shadow.max_inflight: 0 is out of range (expected 1 to 4294967295)"},
        {"[shadow]\nhost_suffix = \"-shadow:81\"\n",
         "t.toml:8:15: error: shadow.host_suffix: invalid host suffix \"-shadow:81\" (letters, "
         "digits, '.' and '-' only)"},
        {"[shadow]\nallow_unsafe = \"yes\"\n",
         "t.toml:8:16: error: shadow.allow_unsafe: expected a boolean (true or false), got a "
         "string"},
        {"[shadow]\npercnt = 5\n",
         "t.toml:8:1: error: shadow.percnt: unknown key \"percnt\" (did you mean \"percent\"?)"},
        {"[shadow.diff]\nsecundary = true\n",
         "t.toml:8:1: error: shadow.diff.secundary: unknown key \"secundary\" (did you mean "
         "\"secondary\"?)"},
        {"[shadow.diff]\nenabled = \"yes\"\n",
         "t.toml:8:11: error: shadow.diff.enabled: expected a boolean (true or false), got a "
         "string"},
        {"[shadow.diff]\nignore_headers = [\"x-a\", \"X:B\"]\n",
         "t.toml:8:26: error: shadow.diff.ignore_headers[1]: invalid header name \"X:B\" "
         "(letters, digits and !#$%&'*+-.^_`|~ only)"},
        {"[shadow.diff]\nignore_headers = [\"Date\", \"date\"]\n",
         "t.toml:8:27: error: shadow.diff.ignore_headers[1]: duplicate header \"date\" (also "
         "shadow.diff.ignore_headers[0])"},
        {"[shadow.diff]\nmax_body = \"2GiB\"\n",
         "t.toml:8:12: error: shadow.diff.max_body: must be at most 1GiB"},
        {"[shadow.diff]\nroutes = [\"api/*\"]\n",
         "t.toml:8:11: error: shadow.diff.routes[0]: invalid route \"api/*\" (a path beginning "
         "with '/', like \"/api/users/*\")"},
        {"[shadow.diff]\nroutes = [\"/api/us*\"]\n",
         "t.toml:8:11: error: shadow.diff.routes[0]: invalid route \"/api/us*\" ('*' stands for "
         "a whole segment, like \"/api/users/*\")"},
        {"[shadow.diff]\nroutes = [\"/api?x=1\"]\n",
         "t.toml:8:11: error: shadow.diff.routes[0]: invalid route \"/api?x=1\" (a path without "
         "spaces, controls, '?' or '#', like \"/api/users/*\")"},
        {"[shadow.diff]\nroutes = [\"/a\", \"/a\"]\n",
         "t.toml:8:17: error: shadow.diff.routes[1]: duplicate route \"/a\" (also "
         "shadow.diff.routes[0])"},
        {"[shadow.diff]\nroutes = [\"/a\", \"/b\"]\nmax_routes = 1\n",
         "t.toml:8:10: error: shadow.diff.routes: 2 routes, more than max_routes (1)"},
        {"[shadow.diff]\nmax_routes = 0\n",
         "t.toml:8:14: error: shadow.diff.max_routes: 0 is out of range (expected 1 to 10000)"},
        {"[shadow.diff]\nmax_routes = 10001\n",
         "t.toml:8:14: error: shadow.diff.max_routes: 10001 is out of range (expected 1 to "
         "10000)"},
        {"[shadow.diff]\nlog = \"off\"\n",
         "t.toml:8:7: error: shadow.diff.log: not a log target (log_per_minute = 0 logs no "
         "record; \"\" writes them to the error log)"},
        {"[shadow.diff]\nlog_per_minute = -1\n",
         "t.toml:8:18: error: shadow.diff.log_per_minute: -1 is out of range (expected 0 to "
         "4294967295)"},
        {"[shadow.diff]\nlog_bodies = 1\n",
         "t.toml:8:14: error: shadow.diff.log_bodies: expected a boolean (true or false), got an "
         "integer"},
    };
    for (const auto& [extra, expected] : cases) {
        auto r = load_with(std::string(kGreen) + extra);
        EXPECT_FALSE(r.ok()) << extra;
        EXPECT_THAT(lines(r), ElementsAre(expected)) << extra;
    }
}

// allow_unsafe decides, wherever it is in the table.
TEST(ConfigShadow, UnsafeMethodsNeedAllowUnsafeWhereverItIs) {
    auto r = load_with(std::string(kGreen) +
                       "[shadow]\nmethods = [\"GET\", \"PUT\", \"DELETE\"]\nallow_unsafe = true\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->shadow.methods, (std::vector<std::string>{"GET", "PUT", "DELETE"}));
    // Every safe method is fine without it, TRACE included.
    r = load_with(std::string(kGreen) +
                  "[shadow]\nmethods = [\"GET\", \"HEAD\", \"OPTIONS\", \"TRACE\"]\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    // Each unsafe method is named at its place.
    r = load_with(std::string(kGreen) + "[shadow]\nmethods = [\"PATCH\", \"GET\", \"DELETE\"]\n");
    EXPECT_THAT(lines(r), ElementsAre(HasSubstr("shadow.methods[0]: \"PATCH\" is not a safe"),
                                      HasSubstr("shadow.methods[2]: \"DELETE\" is not a safe")));
}

TEST(ConfigShadow, ShadowMustBeATable) {
    auto r = load("shadow = 5\n" + std::string(kMinimal));
    EXPECT_THAT(lines(r), ElementsAre("t.toml:1:10: error: shadow: expected a table, got an "
                                      "integer"));
    r = load_with("[shadow]\ndiff = []\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:8: error: shadow.diff: expected a table, got an "
                                      "array"));
}

// A misspelled section is an unknown key with the right hint.
TEST(ConfigShadow, AMisspelledSectionIsAnUnknownKey) {
    auto r = load_with("[shadw]\npercent = 5\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:5:2: error: shadw: unknown key \"shadw\" (did you "
                                      "mean \"shadow\"?)"));
}

// The active pool's own errors are not repeated at shadow.pool.
TEST(ConfigShadow, NoSecondErrorWhenRoutingActiveIsWrong) {
    auto r = load_with(std::string(kGreen) +
                       "[routing]\nactive = \"purple\"\n[shadow]\npool = \"green\"\n");
    EXPECT_THAT(lines(r), ElementsAre(HasSubstr("routing.active: no pool named \"purple\"")));
}

}  // namespace
}  // namespace switchyard::config

#include "switchyard/control/ctl_client.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "switchyard/control/control_server.hpp"

namespace switchyard::control {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

json::object obj(std::string_view text) {
    return json::parse(text).as_object();
}

// --- arguments ---------------------------------------------------------------

CtlOptions args_ok(std::vector<std::string> args) {
    auto p = parse_ctl_args(args);
    EXPECT_TRUE(p.options) << p.error;
    return p.options.value_or(CtlOptions{});
}

std::string args_err(std::vector<std::string> args) {
    auto p = parse_ctl_args(args);
    EXPECT_FALSE(p.options);
    return p.error;
}

TEST(CtlArgs, OptionsBeforeAndAfterTheCommand) {
    auto o = args_ok({"-s", "/tmp/x.sock", "--json", "switch", "green", "--wait", "--timeout",
                      "90s", "drain=10s"});
    EXPECT_EQ(o.socket, "/tmp/x.sock");
    EXPECT_TRUE(o.json);
    EXPECT_TRUE(o.wait);
    EXPECT_EQ(o.wait_timeout, milliseconds(90000));
    EXPECT_EQ(o.command, (std::vector<std::string>{"switch", "green", "drain=10s"}));

    o = args_ok({"--socket=/a", "--config=/b.toml", "status"});
    EXPECT_EQ(o.socket, "/a");
    EXPECT_EQ(o.config, "/b.toml");
    o = args_ok({"-c", "/b.toml", "status"});
    EXPECT_EQ(o.config, "/b.toml");
    o = args_ok({"promote", "--wait", "--timeout=1m"});
    EXPECT_EQ(o.wait_timeout, milliseconds(60000));
}

TEST(CtlArgs, NegativeNumbersAndDoubleDashAreArguments) {
    EXPECT_EQ(args_ok({"canary", "green", "-1"}).command,
              (std::vector<std::string>{"canary", "green", "-1"}));
    EXPECT_EQ(args_ok({"--", "status", "--json"}).command,
              (std::vector<std::string>{"status", "--json"}));
    EXPECT_FALSE(args_ok({"--", "status", "--json"}).json);
}

TEST(CtlArgs, Errors) {
    EXPECT_EQ(args_err({}), "no command given");
    EXPECT_EQ(args_err({"--json"}), "no command given");
    // Usage errors name the option (CLI11's words); run_ctl exits 2.
    EXPECT_EQ(args_err({"-x", "status"}), "The following argument was not expected: -x");
    EXPECT_EQ(args_err({"status", "--bogus"}), "The following argument was not expected: --bogus");
    EXPECT_EQ(args_err({"status", "-s"}), "--socket: 1 required PATH missing");
    EXPECT_EQ(args_err({"-s", "", "status"}), "--socket needs a value");
    EXPECT_EQ(args_err({"status", "--timeout"}), "--timeout: 1 required D missing");
    EXPECT_EQ(args_err({"switch", "g", "--wait", "--timeout", "90"}),
              "bad --timeout value 90: a duration with a unit (30s, 5m, 1h)");
    EXPECT_EQ(args_err({"switch", "g", "--timeout", "90s"}), "--timeout goes with --wait");
    EXPECT_EQ(args_err({"canary", "g", "5", "--wait"}),
              "--wait goes with switch, promote, rollback or ramp");
    EXPECT_EQ(args_err({"--json=yes", "status"}), "json was given a disallowed flag override");
}

// A fleet (DESIGN.md "Fleet"): --fleet asks for every member, --wait-fleet
// waits until every live member applied a change.
TEST(CtlArgs, FleetAndWaitFleet) {
    EXPECT_EQ(args_ok({"status", "--fleet"}).command,
              (std::vector<std::string>{"status", "fleet"}));
    EXPECT_EQ(args_ok({"--wait-fleet", "switch", "green", "drain=5s"}).command,
              (std::vector<std::string>{"switch", "green", "drain=5s", "wait=all"}));
    EXPECT_EQ(args_ok({"canary", "green", "5", "--wait-fleet"}).command,
              (std::vector<std::string>{"canary", "green", "5", "wait=all"}));
    EXPECT_EQ(args_err({"switch", "green", "--fleet"}), "--fleet goes with status");
    EXPECT_EQ(args_err({"status", "--wait-fleet"}),
              "--wait-fleet goes with switch, canary, promote, rollback, server, flag or shadow");
}

TEST(CtlArgs, TheLastOfARepeatedOptionWins) {
    EXPECT_EQ(args_ok({"-s", "/a", "status", "--socket", "/b"}).socket, "/b");
}

TEST(CtlArgs, KeyValueTokensAndForceGoThroughUnchanged) {
    EXPECT_EQ(
        args_ok({"server", "blue", "127.0.0.1:9001", "weight", "3", "if-generation=7", "force"})
            .command,
        (std::vector<std::string>{"server", "blue", "127.0.0.1:9001", "weight", "3",
                                  "if-generation=7", "force"}));
}

TEST(CtlArgs, RunCtlPrintsTheHelp) {
    std::ostringstream out, err;
    EXPECT_EQ(run_ctl({"--help"}, nullptr, {}, out, err), kExitOk);
    EXPECT_EQ(out.str(), ctl_usage());
    EXPECT_EQ(err.str(), "");
}

TEST(CtlArgs, Help) {
    EXPECT_TRUE(args_ok({"--help"}).help);
    EXPECT_TRUE(args_ok({"-h", "status"}).help);
    const std::string help = ctl_usage();
    EXPECT_EQ(
        help.rfind("usage: switchyardctl [-s SOCKET] [--json] [-c CONFIG] COMMAND [ARGS...]\n", 0),
        0u)
        << help;
    for (const char* text : {"  switch POOL [drain=D] [--wait [--timeout D]]", "-s,--socket PATH",
                             "-c,--config PATH", "--json", "--wait", "--timeout D", "-h,--help",
                             "exit status: 0 ok, 1 the command failed, 2 socket unreachable"})
        EXPECT_NE(help.find(text), std::string::npos) << text << "\n" << help;
}

// --- socket resolution -------------------------------------------------------

TEST(ResolveSocket, Precedence) {
    int reads = 0;
    ConfigSocketReader reader = [&](const std::string& path, std::string&) {
        ++reads;
        return std::optional<std::string>("/from/" + path);
    };
    CtlOptions o;
    o.socket = "/flag.sock";
    o.config = "/c.toml";
    EXPECT_EQ(resolve_socket(o, "/env.sock", reader).path, "/flag.sock");
    o.socket.clear();
    EXPECT_EQ(resolve_socket(o, "/env.sock", reader).path, "/env.sock");
    EXPECT_EQ(reads, 0);
    EXPECT_EQ(resolve_socket(o, "", reader).path, "/from//c.toml");
    EXPECT_EQ(resolve_socket(o, nullptr, reader).path, "/from//c.toml");
    EXPECT_EQ(reads, 2);
}

TEST(ResolveSocket, AnExplicitConfigThatDoesNotLoadIsAnError) {
    ConfigSocketReader reader = [](const std::string&, std::string& error) {
        error = "/c.toml: cannot open: No such file or directory";
        return std::optional<std::string>();
    };
    CtlOptions o;
    o.config = "/c.toml";
    auto c = resolve_socket(o, nullptr, reader);
    EXPECT_EQ(c.error,
              "cannot read the control socket from /c.toml: /c.toml: cannot open: No such file or "
              "directory");
}

TEST(ResolveSocket, WithoutAnythingTheDefault) {
    if (fs::exists(kDefaultConfigPath)) GTEST_SKIP() << kDefaultConfigPath << " exists here";
    auto c = resolve_socket(CtlOptions{}, nullptr, {});
    EXPECT_EQ(c.path, "/run/switchyard/control.sock");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.warning, "");
}

// --- replies -----------------------------------------------------------------

TEST(CtlReply, ParseReply) {
    EXPECT_TRUE(parse_reply(R"({"ok":true})"));
    EXPECT_TRUE(parse_reply(R"({"ok":false,"error":"x"})"));
    EXPECT_FALSE(parse_reply("garbage"));
    EXPECT_FALSE(parse_reply("[1]"));
    EXPECT_FALSE(parse_reply(R"({"error":"x"})"));
    EXPECT_FALSE(parse_reply(R"({"ok":"yes"})"));
    EXPECT_FALSE(parse_reply(""));
}

TEST(CtlReply, ExitCodes) {
    EXPECT_EQ(reply_exit_code(obj(R"({"ok":true})")), 0);
    EXPECT_EQ(reply_exit_code(obj(R"({"ok":false,"error":"x"})")), 1);
    EXPECT_EQ(reply_exit_code(obj(R"({"ok":true,"pool":"blue","drained":true})")), 0);
    EXPECT_EQ(reply_exit_code(obj(R"({"ok":false,"pool":"blue","drained":false})")), 3);
    EXPECT_EQ(reply_exit_code(obj(R"({"ok":true,"pool":"blue","drained":false})")), 3);
}

const char* const kStatus =
    R"({"ok":true,"active":"blue","previous":null,"canary":{"pool":"green","weight":5.00},)"
    R"("generation":3,"config_generation":2,"pools":[)"
    R"({"name":"blue","role":"active","inflight":2,"tunnels":0,"idle_connections":1,)"
    R"("servers":[{"address":"127.0.0.1:9001","admin":"enabled","weight":1,"inflight":2},)"
    R"({"address":"127.0.0.1:9002","admin":"draining","weight":3,"inflight":0}]},)"
    R"({"name":"green","role":"canary","inflight":0,"tunnels":1,"idle_connections":0,)"
    R"("servers":[{"address":"127.0.0.1:9101","admin":"enabled","health":"healthy","weight":1,"inflight":0}]}],)"
    R"("conflicts":["active blue from state; config says green"]})";

TEST(CtlFormat, StatusTable) {
    EXPECT_EQ(format_status(obj(kStatus)),
              "active             blue\n"
              "previous           -\n"
              "canary             green 5.00%\n"
              "generation         3\n"
              "config generation  2\n"
              "\n"
              "POOL   ROLE    INFLIGHT  TUNNELS  IDLE\n"
              "blue   active  2         0        1\n"
              "green  canary  0         1        0\n"
              "\n"
              "POOL   SERVER          ADMIN     HEALTH   WEIGHT  INFLIGHT\n"
              "blue   127.0.0.1:9001  enabled   -        1       2\n"
              "blue   127.0.0.1:9002  draining  -        3       0\n"
              "green  127.0.0.1:9101  enabled   healthy  1       0\n"
              "\n"
              "conflicts:\n"
              "  active blue from state; config says green\n");
}

TEST(CtlFormat, StatusShowsThePoolsLiveRates) {
    auto text = format_status(obj(
        R"({"ok":true,"active":"blue","canary":{"pool":"green","weight":5},"generation":1,)"
        R"("pools":[{"name":"blue","role":"active","rates":{)"
        R"("10s":{"requests_per_second":120.3,"error_ratio":0.0025,"p50_ms":1.1,"p90_ms":3.9,"p99_ms":12.6},)"
        R"("60s":{"requests_per_second":118.0,"error_ratio":0,"p50_ms":1.0,"p90_ms":3.0,"p99_ms":11.0}},)"
        R"("servers":[]},)"
        R"({"name":"green","role":"canary","rates":{)"
        R"("10s":{"requests_per_second":0,"error_ratio":0,"p50_ms":null,"p90_ms":null,"p99_ms":null},)"
        R"("60s":{"requests_per_second":0.5,"error_ratio":0.5,"p50_ms":2,"p90_ms":2,"p99_ms":2}},)"
        R"("servers":[]}]})"));
    EXPECT_NE(text.find("POOL   REQ/S 10s  5XX 10s  P50 ms  P90 ms  P99 ms  REQ/S 60s  5XX 60s\n"
                        "blue   120.30     0.25%    1.10    3.90    12.60   118.00     0.00%\n"
                        "green  0          0.00%    -       -       -       0.50       50.00%\n"),
              std::string::npos)
        << text;
}

TEST(CtlFormat, StatusShowsFieldsItDoesNotKnow) {
    auto text = format_status(
        obj(R"({"ok":true,"active":"blue","canary":{"pool":null,"weight":0},"generation":0,)"
            R"("upgrade_in_progress":false,"pools":[{"name":"blue","ejected":1,"servers":[]}]})"));
    EXPECT_EQ(text,
              "active               blue\n"
              "previous             -\n"
              "canary               none\n"
              "generation           0\n"
              "upgrade_in_progress  no\n"
              "\n"
              "POOL  EJECTED\n"
              "blue  1\n");
}

TEST(CtlFormat, StatusListsTheFlagsAndAFlagCommandSaysItsPercent) {
    auto text = format_status(
        obj(R"({"ok":true,"active":"blue","canary":{"pool":null,"weight":0},"generation":2,)"
            R"("pools":[],"flags":[{"name":"new-checkout","percent":5.000,"pools":[],)"
            R"("requests":12,"description":"one page"},{"name":"dark-mode","percent":100.000,)"
            R"("pools":["green","blue"],"requests":0}],"conflicts":[]})"));
    EXPECT_EQ(text,
              "active      blue\n"
              "previous    -\n"
              "canary      none\n"
              "generation  2\n"
              "\n"
              "FLAG          PERCENT   POOLS       REQUESTS\n"
              "new-checkout  5.000%    any         12\n"
              "dark-mode     100.000%  green,blue  0\n");
    auto r = obj(R"({"ok":true,"changed":true,"active":"blue","previous":null,)"
                 R"("canary":{"pool":null,"weight":0.00},"generation":3,)"
                 R"("flags":{"dark-mode":0.000,"new-checkout":12.500}})");
    EXPECT_EQ(format_summary({"flag", "new-checkout", "12.5"}, r),
              "flag new-checkout 12.500% (generation 3)\n");
    r["changed"] = false;
    EXPECT_EQ(format_summary({"flag", "dark-mode", "off"}, r),
              "flag dark-mode 0.000% (generation 3); nothing changed\n");
}

TEST(CtlFormat, DiffIsATableOfRoutesThenOfFields) {
    auto r = obj(R"({"ok":true,"pool":"green","enabled":true,"secondary":true,)"
                 R"("relative_threshold":0.2000,"absolute_threshold":0.0300,"max_routes":100,)"
                 R"("other_routes":false,"routes":[{"route":"/api/items","compared":40,)"
                 R"("equal":0,"skipped":1,"secondary_compared":40,"differing_fields":1,)"
                 R"("fields":[{"field":"$.price","differing":40,"rate":1.000000,)"
                 R"("noise_differing":0,"noise_rate":0.000000,"noise":false},)"
                 R"({"field":"$.ts","differing":40,"rate":1.000000,"noise_differing":40,)"
                 R"("noise_rate":1.000000,"noise":true}]}]})");
    EXPECT_EQ(format_summary({"diff"}, r),
              "shadow green, diff on\n"
              "ROUTE       COMPARED  EQUAL  SKIPPED  SECONDARY  DIFFERING\n"
              "/api/items  40        0      1        40         1\n"
              "\n"
              "ROUTE       FIELD    RATE     NOISE-RATE  VERDICT\n"
              "/api/items  $.price  100.00%  0.00%       DIFFERS\n"
              "/api/items  $.ts     100.00%  100.00%     noise\n");
    EXPECT_EQ(
        format_summary({"diff"}, obj(R"({"ok":true,"pool":null,"enabled":false,"routes":[]})")),
        "mirroring is off\nno answers compared yet\n");
    EXPECT_EQ(format_summary({"diff", "reset"}, obj(R"({"ok":true,"reset":true})")),
              "diff counts reset\n");
}

TEST(CtlFormat, StatusShowsTheShadowAndAShadowCommandSaysIt) {
    const std::string head =
        R"({"ok":true,"active":"blue","canary":{"pool":null,"weight":0},"generation":2,)"
        R"("pools":[],"flags":[],)";
    auto text = format_status(
        obj(head + R"("shadow":{"pool":"green","percent":10.000,"diff":true,"sample":"user",)"
                   R"("methods":["GET","HEAD"],"allow_unsafe":false,)"
                   R"("health":{"healthy":1,"servers":2},"requests":{"sent":9,"ok":7,"error":0,)"
                   R"("timeout":1,"dropped_overload":0,"skipped_method":3,"skipped_body":0}},)"
                   R"("conflicts":[]})"));
    EXPECT_EQ(text,
              "active      blue\n"
              "previous    -\n"
              "canary      none\n"
              "generation  2\n"
              "\n"
              "SHADOW  PERCENT  SAMPLE  DIFF  METHODS   HEALTHY  SENT  OK  ERROR  TIMEOUT  "
              "DROPPED_OVERLOAD  SKIPPED_METHOD  SKIPPED_BODY\n"
              "green   10.000%  user    yes   GET,HEAD  1/2      9     7   0      1        0      "
              "           3               0\n");
    // Off: no table.
    text = format_status(
        obj(head + R"("shadow":{"pool":null,"percent":0.000,"diff":false,"sample":"user",)"
                   R"("methods":["GET"],"allow_unsafe":false,"health":null,"requests":{}}})"));
    EXPECT_EQ(text.find("SHADOW"), std::string::npos) << text;

    auto r = obj(R"({"ok":true,"changed":true,"active":"blue","previous":null,)"
                 R"("canary":{"pool":null,"weight":0.00},"generation":3,)"
                 R"("shadow":{"pool":"green","percent":0.500,"diff":true}})");
    EXPECT_EQ(format_summary({"shadow", "green", "0.5", "diff"}, r),
              "shadow green 0.500% diff (generation 3)\n");
    r["shadow"] = obj(R"({"pool":null,"percent":0.000,"diff":false})");
    r["changed"] = false;
    EXPECT_EQ(format_summary({"shadow", "off"}, r), "shadow off (generation 3); nothing changed\n");
}

TEST(CtlFormat, Summaries) {
    auto r = obj(R"({"ok":true,"changed":true,"active":"green","previous":"blue",)"
                 R"("canary":{"pool":"blue","weight":0.00},"generation":4,"draining":"blue"})");
    EXPECT_EQ(format_summary({"switch", "green"}, r),
              "switched to green (generation 4); blue draining\n");
    EXPECT_EQ(format_summary({"promote"}, r),
              "promoted green to active (generation 4); blue draining\n");
    EXPECT_EQ(format_summary({"rollback"}, r),
              "rolled back to green (generation 4); blue draining\n");
    // Without "draining", switch names the previous pool.
    r.erase("draining");
    EXPECT_EQ(format_summary({"switch", "green"}, r),
              "switched to green (generation 4); blue draining\n");
    EXPECT_EQ(format_summary({"rollback"}, r),
              "rolled back: active green, canary blue 0.00% (generation 4)\n");

    auto same = obj(R"({"ok":true,"changed":false,"active":"green","previous":"blue",)"
                    R"("canary":{"pool":"blue","weight":0},"generation":4})");
    EXPECT_EQ(format_summary({"switch", "green"}, same),
              "green is already active (generation 4); nothing changed\n");

    auto canary = obj(R"({"ok":true,"changed":true,"active":"blue","previous":null,)"
                      R"("canary":{"pool":"green","weight":5.5},"generation":2})");
    EXPECT_EQ(format_summary({"canary", "green", "5.5"}, canary),
              "canary green 5.50% (generation 2)\n");
    EXPECT_EQ(format_summary({"server", "blue", "127.0.0.1:9001", "weight", "5"}, canary),
              "server 127.0.0.1:9001 in pool blue: weight 5 (generation 2)\n");
    EXPECT_EQ(format_summary({"server", "blue", "127.0.0.1:9001", "drain"}, canary),
              "server 127.0.0.1:9001 in pool blue: drain (generation 2)\n");
    EXPECT_EQ(format_summary({"reload"}, obj(R"({"ok":true,"generation":2})")),
              "configuration reloaded (generation 2)\n");
    EXPECT_EQ(format_summary({"upgrade"}, obj(R"({"ok":true,"pid":4242})")),
              "upgrading: new process 4242\n");
    EXPECT_EQ(format_summary({"frob"}, obj(R"({"ok":true,"a":1,"b":"x"})")), "frob: ok a=1 b=x\n");
}

TEST(CtlFormat, AFleetChangeSaysHowManyMembersApplyIt) {
    auto r = obj(R"({"ok":true,"changed":true,"active":"green","previous":"blue",)"
                 R"("canary":{"pool":"blue","weight":0.00},"generation":4,"draining":"blue",)"
                 R"("revision":17,"applied":"2/3","behind":["lb-3"]})");
    EXPECT_EQ(format_summary({"switch", "green"}, r),
              "switched to green (generation 4); blue draining (applied by 2/3 members; "
              "behind: lb-3)\n");
    auto init = obj(R"({"ok":true,"changed":true,"active":"blue","previous":null,)"
                    R"("canary":{"pool":null,"weight":0.00},"generation":0,"revision":5,)"
                    R"("applied":"3/3"})");
    EXPECT_EQ(format_summary({"cluster", "init"}, init),
              "cluster store initialised at revision 5: active blue (generation 0) (applied by "
              "3/3 members)\n");
}

TEST(CtlFormat, StatusOfAFleetListsItsMembers) {
    auto r =
        obj(R"({"ok":true,"active":"green","previous":null,)"
            R"("canary":{"pool":null,"weight":0.00},"generation":4,"pools":[],)"
            R"("cluster":{"member":"lb-1","key":"/sy/state","store":"degraded",)"
            R"("degraded_since":"2026-12-06T10:00:00Z","reason":"connection refused",)"
            R"("revision":17,"pending_stop":"blue","config":"00000000000000aa","leader":null},)"
            R"("members":[{"member":"lb-1","generation":4,"age_ms":1500,"store":"synced",)"
            R"("config":"00000000000000aa","config_differs":false,"version":"0.9.0",)"
            R"("pid":42,"pools":[]},)"
            R"({"member":"lb-2","generation":3,"age_ms":250,"store":"synced",)"
            R"("config":"00000000000000bb","config_differs":true,"version":"0.9.0",)"
            R"("pid":43,"pools":[]}]})");
    const std::string text = format_status(r);
    EXPECT_NE(text.find("cluster: degraded, member lb-1, /sy/state at revision 17, ramp leader "
                        "-\n"
                        "  degraded since 2026-12-06T10:00:00Z: connection refused\n"
                        "  emergency stop of canary blue to be written to the store\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("MEMBER  GENERATION  AGE    STORE   CONFIG                      VERSION  "
                        "PID"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("lb-2    3           0.25s  synced  00000000000000bb (differs)"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("members:"), std::string::npos) << "not also as a raw list";
}

TEST(CtlFormat, Wait) {
    EXPECT_EQ(format_wait(obj(R"({"ok":true,"pool":"blue","drained":true,"inflight":0,)"
                              R"("tunnels":0,"idle_connections":0,"waited_ms":1234})")),
              "blue drained in 1234 ms\n");
    EXPECT_EQ(format_wait(obj(R"({"ok":false,"pool":"blue","drained":false,"inflight":2,)"
                              R"("tunnels":1,"idle_connections":3,"waited_ms":60000})")),
              "blue not drained after 60000 ms: 2 in flight, 1 tunnels, 3 idle connections\n");
}

// --- the program against a real socket ----------------------------------------

// Replies from a script: command text -> reply line.
class ScriptedHandler : public CommandHandler {
  public:
    void handle(const ControlCommand& command, const PeerCredentials&, Reply reply) override {
        std::lock_guard lock(mutex_);
        seen_.push_back(command.text);
        auto it = script_.find(command.text);
        reply(it != script_.end() ? it->second : R"({"ok":false,"error":"unexpected"})");
    }
    void set(std::string command, std::string reply) {
        std::lock_guard lock(mutex_);
        script_[std::move(command)] = std::move(reply);
    }
    std::vector<std::string> seen() {
        std::lock_guard lock(mutex_);
        return seen_;
    }

  private:
    std::mutex mutex_;
    std::map<std::string, std::string> script_;
    std::vector<std::string> seen_;
};

class RunCtl : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sy-ctl-run-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = (dir_ / "control.sock").string();
        auto log = std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::null_sink_mt>());
        server_ = std::make_unique<ControlServer>(io_, handler_, log);
        server_->listen(path_, 0600);
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        std::promise<void> done;
        asio::post(io_, [&] {
            server_->stop();
            done.set_value();
        });
        done.get_future().wait();
        work_.reset();
        io_.stop();
        thread_.join();
        server_.reset();
        fs::remove_all(dir_);
    }

    int run(std::vector<std::string> args) {
        out_.str("");
        err_.str("");
        args.insert(args.begin(), {"-s", path_});
        return run_ctl(args, nullptr, {}, out_, err_);
    }

    fs::path dir_;
    std::string path_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    ScriptedHandler handler_;
    std::unique_ptr<ControlServer> server_;
    std::thread thread_;
    std::ostringstream out_;
    std::ostringstream err_;
};

TEST_F(RunCtl, StatusHumanAndJson) {
    handler_.set("status", kStatus);
    EXPECT_EQ(run({"status"}), 0);
    EXPECT_EQ(out_.str(), format_status(obj(kStatus)));
    EXPECT_EQ(err_.str(), "");
    EXPECT_EQ(run({"--json", "status"}), 0);
    EXPECT_EQ(out_.str(), std::string(kStatus) + "\n");
}

TEST_F(RunCtl, ArgumentsAreJoinedWithSpaces) {
    handler_.set("canary green 5 if-generation=3", R"({"ok":true,"changed":true,"active":"blue",)"
                                                   R"("canary":{"pool":"green","weight":5.00},)"
                                                   R"("generation":4})");
    EXPECT_EQ(run({"canary", "green", "5", "if-generation=3"}), 0);
    EXPECT_EQ(out_.str(), "canary green 5.00% (generation 4)\n");
}

TEST_F(RunCtl, FailureGoesToStderrWithExitOne) {
    handler_.set("switch purple", R"({"ok":false,"error":"pool purple does not exist"})");
    EXPECT_EQ(run({"switch", "purple"}), 1);
    EXPECT_EQ(out_.str(), "");
    EXPECT_EQ(err_.str(), "switchyardctl: pool purple does not exist\n");
    EXPECT_EQ(run({"--json", "switch", "purple"}), 1);
    EXPECT_EQ(out_.str(), R"({"ok":false,"error":"pool purple does not exist"})"
                          "\n");
}

TEST_F(RunCtl, ParseErrorsFromTheServerAreFailures) {
    EXPECT_EQ(run({"canary", "green", "-1"}), 1);
    EXPECT_EQ(err_.str(),
              "switchyardctl: bad canary weight -1: a percentage from 0 to 100 with at most two "
              "decimals\n");
}

TEST_F(RunCtl, ReplyThatIsNotJsonExitsTwo) {
    handler_.set("status", "garbage");
    EXPECT_EQ(run({"status"}), 2);
    EXPECT_EQ(err_.str(), "switchyardctl: control socket " + path_ +
                              ": the reply is not a JSON object with \"ok\": garbage\n");
}

TEST_F(RunCtl, UnreachableSocketExitsTwoNamingThePath) {
    std::ostringstream out, err;
    const std::string missing = (dir_ / "nope.sock").string();
    EXPECT_EQ(run_ctl({"-s", missing, "status"}, nullptr, {}, out, err), 2);
    EXPECT_EQ(err.str(), "switchyardctl: cannot connect to control socket " + missing +
                             ": No such file or directory (is switchyard running?)\n");
}

TEST_F(RunCtl, EnvironmentSocket) {
    handler_.set("status", R"({"ok":true,"active":"blue"})");
    std::ostringstream out, err;
    EXPECT_EQ(run_ctl({"status"}, path_.c_str(), {}, out, err), 0) << err.str();
}

TEST_F(RunCtl, UsageErrorExitsTwo) {
    EXPECT_EQ(run({"--bogus"}), 2);
    EXPECT_EQ(err_.str().rfind(
                  "switchyardctl: The following argument was not expected: --bogus\nusage:", 0),
              0u)
        << err_.str();
}

TEST_F(RunCtl, SwitchWaitDrained) {
    handler_.set("switch green", R"({"ok":true,"changed":true,"active":"green","previous":"blue",)"
                                 R"("canary":{"pool":"blue","weight":0.00},"generation":4,)"
                                 R"("draining":"blue"})");
    handler_.set("wait-drained blue timeout=90s",
                 R"({"ok":true,"pool":"blue","drained":true,"inflight":0,"tunnels":0,)"
                 R"("idle_connections":0,"waited_ms":15})");
    EXPECT_EQ(run({"switch", "green", "--wait", "--timeout", "90s"}), 0) << err_.str();
    EXPECT_EQ(out_.str(),
              "switched to green (generation 4); blue draining\nblue drained in 15 ms\n");
    EXPECT_EQ(handler_.seen(),
              (std::vector<std::string>{"switch green", "wait-drained blue timeout=90s"}));
}

TEST_F(RunCtl, SwitchWaitTimesOut) {
    handler_.set("switch green", R"({"ok":true,"changed":true,"active":"green","previous":"blue",)"
                                 R"("canary":{"pool":"blue","weight":0.00},"generation":4})");
    const char* timeout_reply =
        R"({"ok":false,"pool":"blue","drained":false,"inflight":2,"tunnels":0,)"
        R"("idle_connections":1,"waited_ms":60000})";
    handler_.set("wait-drained blue", timeout_reply);
    EXPECT_EQ(run({"switch", "green", "--wait"}), 3);
    EXPECT_EQ(out_.str(), "switched to green (generation 4); blue draining\n");
    EXPECT_EQ(err_.str(),
              "switchyardctl: blue not drained after 60000 ms: 2 in flight, 0 tunnels, 1 idle "
              "connections\n");
    EXPECT_EQ(run({"--json", "switch", "green", "--wait"}), 3);
    EXPECT_NE(out_.str().find(std::string(timeout_reply) + "\n"), std::string::npos);
}

TEST_F(RunCtl, SwitchWaitWithNothingToDrain) {
    handler_.set("switch green", R"({"ok":true,"changed":false,"active":"green","previous":"blue",)"
                                 R"("canary":{"pool":"blue","weight":0},"generation":4})");
    EXPECT_EQ(run({"switch", "green", "--wait"}), 0);
    EXPECT_EQ(out_.str(),
              "green is already active (generation 4); nothing changed\nnothing to drain\n");
    EXPECT_EQ(handler_.seen(), std::vector<std::string>{"switch green"});
}

TEST_F(RunCtl, FailedSwitchDoesNotWait) {
    handler_.set("switch green if-generation=4",
                 R"({"ok":false,"error":"generation is 5, not 4"})");
    EXPECT_EQ(run({"switch", "green", "if-generation=4", "--wait"}), 1);
    EXPECT_EQ(handler_.seen(), std::vector<std::string>{"switch green if-generation=4"});
}

TEST_F(RunCtl, RampWaitExitsZeroWhenPromoted) {
    handler_.set("ramp green bake=1s",
                 R"x({"ok":true,"changed":true,"active":"blue","previous":null,)x"
                 R"x("canary":{"pool":"green","weight":1.00},"generation":2,)x"
                 R"x("ramp":{"pool":"green","state":"running","reason":"step 1 of 2 (1.00 %)",)x"
                 R"x("step":1,"steps":[1.00,100.00],"weight":1.00,"bake_left_s":1.000,)x"
                 R"x("verdicts":[]},"unacknowledged_aborts":[]})x");
    handler_.set("status",
                 R"x({"ok":true,"active":"green","generation":3,)x"
                 R"x("ramp":{"pool":"green","state":"promoted","reason":"promoted: pass",)x"
                 R"x("step":1,"steps":[1.00,100.00],"weight":100.00,"verdicts":[]}})x");
    EXPECT_EQ(run({"ramp", "green", "bake=1s", "--wait"}), 0) << err_.str();
    EXPECT_EQ(out_.str(),
              "ramp of green running, step 1 of 2 (1.00 %), bake left 1.0 s: step 1 of 2 (1.00 %) "
              "(generation 2)\ngreen promoted, step 1 of 2 (100.00 %): promoted: pass\n");
}

TEST_F(RunCtl, RampWaitExitsFourWhenAborted) {
    handler_.set("ramp green",
                 R"x({"ok":true,"changed":true,"generation":2,)x"
                 R"x("ramp":{"pool":"green","state":"running","step":1,"steps":[1.00]}})x");
    handler_.set("status",
                 R"x({"ok":true,"ramp":{"pool":"green","state":"aborted","reason":"error rate",)x"
                 R"x("step":1,"steps":[1.00,100.00],"weight":0.00,)x"
                 R"x("verdicts":[{"verdict":"fail","text":"error rate: canary 50.00 %"}]}})x");
    EXPECT_EQ(run({"ramp", "green", "--wait"}), 4);
    EXPECT_NE(out_.str().find("green aborted, step 1 of 2 (0.00 %): error rate\n"
                              "  last verdict error rate: canary 50.00 %\n"),
              std::string::npos)
        << out_.str();
    EXPECT_EQ(run({"--json", "ramp", "green", "--wait"}), 4);
    EXPECT_NE(out_.str().find(R"x({"pool":"green","state":"aborted")x"), std::string::npos);
}

TEST_F(RunCtl, RampWaitTimesOutWithThree) {
    handler_.set("ramp green",
                 R"x({"ok":true,"changed":true,"generation":2,)x"
                 R"x("ramp":{"pool":"green","state":"running","step":1,"steps":[1.00]}})x");
    handler_.set("status", R"x({"ok":true,"ramp":{"pool":"green","state":"paused",)x"
                           R"x("reason":"ramp pause","step":1,"steps":[1.00],"weight":1.00}})x");
    EXPECT_EQ(run({"ramp", "green", "--wait", "--timeout", "300ms"}), 3);
    EXPECT_NE(out_.str().find("green paused, step 1 of 1 (1.00 %): ramp pause\n"
                              "timed out waiting; the ramp goes on\n"),
              std::string::npos)
        << out_.str();
}

TEST_F(RunCtl, RefusedRampDoesNotWait) {
    handler_.set("ramp green",
                 R"x({"ok":false,"error":"pool green has an unacknowledged abort"})x");
    EXPECT_EQ(run({"ramp", "green", "--wait"}), 1);
    EXPECT_EQ(handler_.seen(), std::vector<std::string>{"ramp green"});
}

}  // namespace

}  // namespace switchyard::control

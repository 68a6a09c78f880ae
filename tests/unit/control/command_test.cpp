#include "switchyard/control/command.hpp"

#include <gtest/gtest.h>

namespace switchyard::control {
namespace {

using Verb = ControlCommand::Verb;
using Kind = RoutingCommand::Kind;
using Action = RoutingCommand::ServerAction;
using std::chrono::milliseconds;

ControlCommand ok(std::string_view line) {
    auto p = parse_command(line);
    EXPECT_TRUE(p.command.has_value()) << line << ": " << p.error;
    EXPECT_EQ(p.error, "");
    return p.command.value_or(ControlCommand{});
}

std::string err(std::string_view line) {
    auto p = parse_command(line);
    EXPECT_FALSE(p.command.has_value()) << line;
    EXPECT_NE(p.error, "") << line;
    return p.error;
}

TEST(ParseCommand, Status) {
    auto c = ok("status");
    EXPECT_EQ(c.verb, Verb::status);
    EXPECT_EQ(c.text, "status");
    EXPECT_FALSE(c.fleet);
    EXPECT_TRUE(ok("status fleet").fleet);
    EXPECT_EQ(err("status blue"), "unknown argument blue for status; usage: status [fleet]");
    EXPECT_EQ(err("status fleet x"), "too many arguments; usage: status [fleet]");
    EXPECT_EQ(err("status force"), "unknown argument force for status; usage: status [fleet]");
}

// DESIGN.md "Fleet": cluster init fills an empty store; wait=all waits
// for every live member.
TEST(ParseCommand, ClusterInitAndWaitAll) {
    EXPECT_EQ(ok("cluster init").verb, Verb::cluster);
    EXPECT_EQ(err("cluster"), "missing argument; usage: cluster init");
    EXPECT_EQ(err("cluster join"), "unknown argument join for cluster; usage: cluster init");
    EXPECT_EQ(err("cluster init now"), "too many arguments; usage: cluster init");
    for (const char* line : {"switch green wait=all", "canary green 5 wait=all", "promote wait=all",
                             "rollback wait=all", "server blue 127.0.0.1:1 drain wait=all",
                             "flag x 5 wait=all", "shadow green 5 wait=all"})
        EXPECT_TRUE(ok(line).wait_all) << line;
    EXPECT_FALSE(ok("switch green").wait_all);
    EXPECT_EQ(err("switch green wait=some"),
              "bad wait value some: all (reply once every live fleet member applied the change)");
    EXPECT_EQ(err("switch green wait=all wait=all"), "wait given twice");
    EXPECT_EQ(err("reload wait=all"), "unknown argument wait=all for reload; usage: reload");
}

TEST(ParseCommand, Switch) {
    auto c = ok("switch green");
    EXPECT_EQ(c.verb, Verb::switch_);
    EXPECT_EQ(c.routing.kind, Kind::switch_to);
    EXPECT_EQ(c.routing.pool, "green");
    EXPECT_FALSE(c.drain);
    EXPECT_FALSE(c.routing.if_generation);
    EXPECT_FALSE(c.routing.force);
    EXPECT_FALSE(c.wait);

    c = ok("switch green drain=30s if-generation=7 force");
    EXPECT_EQ(c.drain, milliseconds(30000));
    EXPECT_EQ(c.routing.if_generation, 7u);
    EXPECT_TRUE(c.routing.force);

    c = ok("switch green force drain=250ms");
    EXPECT_EQ(c.drain, milliseconds(250));
    EXPECT_TRUE(c.routing.force);
}

TEST(ParseCommand, SwitchErrors) {
    const std::string usage =
        "usage: switch POOL [drain=DURATION] [if-generation=N] [wait=all] [force]";
    EXPECT_EQ(err("switch"), "missing argument; " + usage);
    EXPECT_EQ(err("switch green blue"), "too many arguments; " + usage);
    EXPECT_EQ(
        err("switch drain=30s green"),
        "argument green after key=value arguments; positional arguments come first; " + usage);
    EXPECT_EQ(err("switch green drain=30"),
              "bad drain value 30: a duration with a unit (250ms, 30s, 5m, 1h)");
    EXPECT_EQ(err("switch green drain="),
              "bad drain value : a duration with a unit (250ms, 30s, 5m, 1h)");
    EXPECT_EQ(err("switch green drain=-1s"),
              "bad drain value -1s: a duration with a unit (250ms, 30s, 5m, 1h)");
    EXPECT_EQ(err("switch green timeout=5s"), "unknown argument timeout=5s for switch; " + usage);
    EXPECT_EQ(err("switch green wait"), "too many arguments; " + usage);
    EXPECT_EQ(err("switch green force=yes"), "unknown argument force=yes for switch; " + usage);
    EXPECT_EQ(err("switch green force force"), "force given twice");
    EXPECT_EQ(err("switch green drain=1s drain=2s"), "drain given twice");
    EXPECT_EQ(err("switch green if-generation=1 if-generation=1"), "if-generation given twice");
}

TEST(ParseCommand, IfGeneration) {
    EXPECT_EQ(ok("switch g if-generation=0").routing.if_generation, 0u);
    EXPECT_EQ(ok("switch g if-generation=18446744073709551615").routing.if_generation,
              18446744073709551615ull);
    for (const char* bad : {"-1", "abc", "", "1.0", "+1", "18446744073709551616", "0x10"})
        EXPECT_EQ(err(std::string("switch g if-generation=") + bad),
                  std::string("bad if-generation value ") + bad + ": a non-negative integer");
}

TEST(ParseCommand, Canary) {
    auto c = ok("canary green 5");
    EXPECT_EQ(c.verb, Verb::canary);
    EXPECT_EQ(c.routing.kind, Kind::canary);
    EXPECT_EQ(c.routing.pool, "green");
    EXPECT_EQ(c.routing.weight_bp, 500u);
    EXPECT_EQ(ok("canary green 5.5").routing.weight_bp, 550u);
    EXPECT_EQ(ok("canary green 5.55").routing.weight_bp, 555u);
    EXPECT_EQ(ok("canary green 0.05").routing.weight_bp, 5u);
    EXPECT_EQ(ok("canary green 0").routing.weight_bp, 0u);
    EXPECT_EQ(ok("canary green 100").routing.weight_bp, 10000u);
    EXPECT_EQ(ok("canary green 100.00").routing.weight_bp, 10000u);
    EXPECT_EQ(ok("canary green 007").routing.weight_bp, 700u);
    c = ok("canary green 1 if-generation=3 force");
    EXPECT_EQ(c.routing.if_generation, 3u);
    EXPECT_TRUE(c.routing.force);
}

TEST(ParseCommand, CanaryErrors) {
    for (const char* bad : {"5.555", "-1", "101", "100.01", "abc", "5.", ".5", "5,5", "1e1", "+5",
                            "5%", "nan", "99999999999999999999999"})
        EXPECT_EQ(err(std::string("canary green ") + bad),
                  std::string("bad canary weight ") + bad +
                      ": a percentage from 0 to 100 with at most two decimals");
    const std::string usage = "usage: canary POOL PERCENT [if-generation=N] [wait=all] [force]";
    EXPECT_EQ(err("canary green"), "missing argument; " + usage);
    EXPECT_EQ(err("canary"), "missing argument; " + usage);
    EXPECT_EQ(err("canary green 5 6"), "too many arguments; " + usage);
    EXPECT_EQ(err("canary green 5 drain=1s"), "unknown argument drain=1s for canary; " + usage);
}

TEST(ParseCommand, PromoteAndRollback) {
    auto c = ok("promote");
    EXPECT_EQ(c.verb, Verb::promote);
    EXPECT_EQ(c.routing.kind, Kind::promote);
    c = ok("promote drain=1m if-generation=2 force");
    EXPECT_EQ(c.drain, milliseconds(60000));
    EXPECT_EQ(c.routing.if_generation, 2u);
    EXPECT_TRUE(c.routing.force);
    c = ok("rollback");
    EXPECT_EQ(c.verb, Verb::rollback);
    EXPECT_EQ(c.routing.kind, Kind::rollback);
    EXPECT_EQ(ok("rollback drain=0").drain, milliseconds(0));
    EXPECT_EQ(
        err("promote green"),
        "too many arguments; usage: promote [drain=DURATION] [if-generation=N] [wait=all] [force]");
    EXPECT_EQ(err("rollback blue"),
              "too many arguments; usage: rollback [drain=DURATION] [if-generation=N] [wait=all] "
              "[force]");
}

TEST(ParseCommand, WaitDrained) {
    auto c = ok("wait-drained blue");
    EXPECT_EQ(c.verb, Verb::wait_drained);
    EXPECT_EQ(c.pool, "blue");
    EXPECT_FALSE(c.timeout);
    EXPECT_EQ(ok("wait-drained blue timeout=60s").timeout, milliseconds(60000));
    const std::string usage = "usage: wait-drained POOL [timeout=DURATION]";
    EXPECT_EQ(err("wait-drained"), "missing argument; " + usage);
    EXPECT_EQ(err("wait-drained blue timeout=1x"),
              "bad timeout value 1x: a duration with a unit (250ms, 30s, 5m, 1h)");
    EXPECT_EQ(err("wait-drained blue force"), "unknown argument force for wait-drained; " + usage);
    EXPECT_EQ(err("wait-drained blue if-generation=1"),
              "unknown argument if-generation=1 for wait-drained; " + usage);
}

TEST(ParseCommand, Server) {
    auto c = ok("server blue 127.0.0.1:9001 drain");
    EXPECT_EQ(c.verb, Verb::server);
    EXPECT_EQ(c.routing.kind, Kind::server_admin);
    EXPECT_EQ(c.routing.pool, "blue");
    EXPECT_EQ(c.routing.server, "127.0.0.1:9001");
    EXPECT_EQ(c.routing.action, Action::drain);
    EXPECT_EQ(ok("server blue [::1]:80 disable").routing.action, Action::disable);
    EXPECT_EQ(ok("server blue a:1 enable").routing.action, Action::enable);
    c = ok("server blue a:1 weight 10 if-generation=4");
    EXPECT_EQ(c.routing.action, Action::weight);
    EXPECT_EQ(c.routing.server_weight, 10u);
    EXPECT_EQ(c.routing.if_generation, 4u);
    EXPECT_EQ(ok("server blue a:1 weight 10000").routing.server_weight, 10000u);
}

TEST(ParseCommand, ServerErrors) {
    const std::string usage =
        "usage: server POOL ADDRESS drain|disable|enable|weight N [if-generation=N] [wait=all] "
        "[force]";
    EXPECT_EQ(err("server blue a:1"), "missing argument; " + usage);
    EXPECT_EQ(err("server blue a:1 stop"),
              "unknown server action stop (drain, disable, enable, weight N)");
    EXPECT_EQ(err("server blue a:1 weight"), "missing server weight; " + usage);
    EXPECT_EQ(err("server blue a:1 drain 5"), "too many arguments; " + usage);
    EXPECT_EQ(err("server blue a:1 weight 5 6"), "too many arguments; " + usage);
    for (const char* bad : {"0", "-1", "10001", "abc", "1.5"})
        EXPECT_EQ(err(std::string("server blue a:1 weight ") + bad),
                  std::string("bad server weight ") + bad +
                      ": an integer from 1 to 10000 (use disable to take a server out)");
}

TEST(ParseCommand, ReloadAndUpgrade) {
    EXPECT_EQ(ok("reload").verb, Verb::reload);
    EXPECT_EQ(err("reload now"), "too many arguments; usage: reload");
    auto c = ok("upgrade");
    EXPECT_EQ(c.verb, Verb::upgrade);
    EXPECT_EQ(c.binary, "");
    EXPECT_EQ(ok("upgrade binary=/usr/local/bin/switchyard").binary, "/usr/local/bin/switchyard");
    EXPECT_EQ(err("upgrade binary=switchyard"), "bad binary value switchyard: an absolute path");
    EXPECT_EQ(err("upgrade binary="), "bad binary value : an absolute path");
    EXPECT_EQ(err("upgrade /bin/x"), "too many arguments; usage: upgrade [binary=PATH]");
}

TEST(ParseCommand, Shadow) {
    auto c = ok("shadow green 10");
    EXPECT_EQ(c.verb, Verb::shadow);
    EXPECT_TRUE(changes_routing(c.verb));
    EXPECT_EQ(c.routing.kind, Kind::shadow);
    EXPECT_EQ(c.routing.pool, "green");
    EXPECT_EQ(c.routing.shadow_percent_milli, 10000u);
    EXPECT_FALSE(c.routing.shadow_diff);
    EXPECT_FALSE(c.routing.if_generation);
    auto d = ok("shadow green 0.001 diff if-generation=7");
    EXPECT_EQ(d.routing.shadow_percent_milli, 1u);
    EXPECT_TRUE(d.routing.shadow_diff);
    EXPECT_EQ(d.routing.if_generation, std::optional<std::uint64_t>(7));
    EXPECT_EQ(ok("shadow green 100.000").routing.shadow_percent_milli, 100000u);
    // A pool at 0 % is allowed: named, mirroring nothing yet.
    EXPECT_EQ(ok("shadow green 0").routing.pool, "green");

    // Off is no pool.
    auto off = ok("shadow off if-generation=3");
    EXPECT_EQ(off.routing.kind, Kind::shadow);
    EXPECT_EQ(off.routing.pool, "");
    EXPECT_EQ(off.routing.shadow_percent_milli, 0u);
    EXPECT_FALSE(off.routing.shadow_diff);
    EXPECT_EQ(off.routing.if_generation, std::optional<std::uint64_t>(3));

    const std::string usage =
        "usage: shadow POOL PERCENT [diff] [if-generation=N] [wait=all] | shadow off "
        "[if-generation=N] [wait=all]";
    EXPECT_EQ(err("shadow"), "missing argument; " + usage);
    EXPECT_EQ(err("shadow green"), "missing argument; " + usage);
    EXPECT_EQ(err("shadow off 5"), "too many arguments; " + usage);
    EXPECT_EQ(err("shadow green 5 diff x"), "too many arguments; " + usage);
    EXPECT_EQ(err("shadow green 5 dif"),
              "unknown argument dif for shadow (only diff may follow the percent); " + usage);
    for (const char* bad : {"101", "100.001", "5.0001", "-1", "5%", "1e2", ".5", "5.", "off"})
        EXPECT_EQ(err(std::string("shadow green ") + bad),
                  "bad shadow percent " + std::string(bad) +
                      ": a percentage from 0 to 100 with at most three decimals")
            << bad;
    EXPECT_EQ(err("shadow green 5 force"), "unknown argument force for shadow; " + usage);
    EXPECT_EQ(err("shadow green 5 if-generation=1 diff"),
              "argument diff after key=value arguments; positional arguments come first; " + usage);
}

// `diff` reads the comparison, `diff reset` clears it: neither is a routing change.
TEST(ParseCommand, Diff) {
    auto c = ok("diff");
    EXPECT_EQ(c.verb, Verb::diff);
    EXPECT_FALSE(c.reset);
    EXPECT_FALSE(changes_routing(c.verb));
    EXPECT_TRUE(ok("diff reset").reset);
    EXPECT_EQ(ok("  diff\treset ").text, "diff\treset");
    EXPECT_EQ(err("diff all"), "unknown argument all for diff; usage: diff [reset]");
    EXPECT_EQ(err("diff reset now"), "too many arguments; usage: diff [reset]");
    EXPECT_EQ(err("diff if-generation=1"),
              "unknown argument if-generation=1 for diff; usage: diff [reset]");
    EXPECT_EQ(err("diff force"), "unknown argument force for diff; usage: diff [reset]");
}

TEST(ParseCommand, Flag) {
    auto c = ok("flag new-checkout 5");
    EXPECT_EQ(c.verb, Verb::flag);
    EXPECT_TRUE(changes_routing(c.verb));
    EXPECT_EQ(c.routing.kind, RoutingCommand::Kind::flag);
    EXPECT_EQ(c.routing.flag, "new-checkout");
    EXPECT_EQ(c.routing.flag_percent_milli, 5000u);
    EXPECT_FALSE(c.routing.if_generation);
    EXPECT_EQ(ok("flag a.b_c 0.001").routing.flag_percent_milli, 1u);
    EXPECT_EQ(ok("flag a 12.5").routing.flag_percent_milli, 12500u);
    EXPECT_EQ(ok("flag a 100.000").routing.flag_percent_milli, 100000u);
    auto off = ok("flag a off if-generation=7");
    EXPECT_EQ(off.routing.flag_percent_milli, 0u);
    EXPECT_EQ(off.routing.if_generation, std::optional<std::uint64_t>(7));

    const std::string usage = "usage: flag NAME PERCENT|off [if-generation=N] [wait=all]";
    EXPECT_EQ(err("flag"), "missing argument; " + usage);
    EXPECT_EQ(err("flag a"), "missing argument; " + usage);
    EXPECT_EQ(err("flag a 5 6"), "too many arguments; " + usage);
    for (const char* bad : {"101", "100.001", "5.0001", "-1", "5%", "1e2", ".5", "5.", "on", "OFF"})
        EXPECT_EQ(err(std::string("flag a ") + bad),
                  "bad flag percent " + std::string(bad) +
                      ": a percentage from 0 to 100 with at most three decimals, or off")
            << bad;
    EXPECT_EQ(err("flag a/b 5"),
              "bad flag name a/b: letters, digits, '.', '_' and '-' (at most 64)");
    EXPECT_EQ(err("flag " + std::string(65, 'a') + " 5"),
              "bad flag name " + std::string(65, 'a') +
                  ": letters, digits, '.', '_' and '-' (at most 64)");
    EXPECT_EQ(err("flag a 5 force"), "unknown argument force for flag; " + usage);
}

TEST(ParseCommand, RampStart) {
    using Kind = RampCommand::Kind;
    auto c = ok("ramp green");
    EXPECT_EQ(c.verb, Verb::ramp);
    ASSERT_TRUE(c.ramp);
    EXPECT_EQ(c.ramp->kind, Kind::start);
    EXPECT_EQ(c.ramp->pool, "green");
    EXPECT_FALSE(c.ramp->steps_bp);
    EXPECT_FALSE(c.ramp->bake);
    EXPECT_FALSE(c.ramp->promote);
    EXPECT_FALSE(c.ramp->force);

    c = ok("ramp green steps=1,5.5,100 bake=30s promote=manual if-generation=4 force");
    ASSERT_TRUE(c.ramp);
    EXPECT_EQ(c.ramp->steps_bp, (std::vector<std::uint32_t>{100, 550, 10000}));
    EXPECT_EQ(c.ramp->bake, Duration(30000));
    EXPECT_EQ(c.ramp->promote, PromoteMode::manual);
    EXPECT_TRUE(c.ramp->force);
    EXPECT_EQ(c.routing.if_generation, 4u);
}

TEST(ParseCommand, RampSubcommands) {
    using Kind = RampCommand::Kind;
    EXPECT_EQ(ok("ramp pause").ramp->kind, Kind::pause);
    EXPECT_EQ(ok("ramp resume").ramp->kind, Kind::resume);
    EXPECT_EQ(ok("ramp abort").ramp->kind, Kind::abort);
    auto c = ok("ramp promote force");
    EXPECT_EQ(c.ramp->kind, Kind::promote);
    EXPECT_TRUE(c.ramp->force);
    c = ok("ramp ack");
    EXPECT_EQ(c.ramp->kind, Kind::ack);
    EXPECT_EQ(c.ramp->pool, "");
    EXPECT_EQ(ok("ramp ack green").ramp->pool, "green");
}

TEST(ParseCommand, RampErrors) {
    EXPECT_EQ(err("ramp").substr(0, 16), "missing argument");
    EXPECT_EQ(err("ramp green blue").substr(0, 18), "too many arguments");
    EXPECT_EQ(err("ramp pause green").substr(0, 18), "too many arguments");
    EXPECT_EQ(err("ramp pause force").substr(0, 40), "force is for ramp POOL and ramp promote;");
    EXPECT_EQ(err("ramp abort bake=5s").substr(0, 55),
              "steps, bake, promote and if-generation are for ramp POO");
    EXPECT_EQ(err("ramp green bake=5").substr(0, 20), "bad bake value 5: a ");
    EXPECT_EQ(err("ramp green promote=later"), "bad promote value later: auto or manual");
    EXPECT_EQ(err("ramp green steps=5,1").substr(0, 21), "bad steps value 5,1: ");
    EXPECT_EQ(err("ramp green bake=1s bake=2s"), "bake given twice");
    EXPECT_EQ(err("ramp green every=5m").substr(0, 28), "unknown argument every=5m fo");
}

TEST(ParseCommand, WhitespaceAndTerminators) {
    auto c = ok("  switch\t\tgreen   drain=1s  ");
    EXPECT_EQ(c.routing.pool, "green");
    EXPECT_EQ(c.drain, milliseconds(1000));
    EXPECT_EQ(c.text, "switch\t\tgreen   drain=1s");
    EXPECT_EQ(ok("status\r\n").verb, Verb::status);
    EXPECT_EQ(ok("status\n").verb, Verb::status);
}

TEST(ParseCommand, GeneralErrors) {
    EXPECT_EQ(err(""), "empty command");
    EXPECT_EQ(err("   \t "), "empty command");
    EXPECT_EQ(err("swtich green"),
              "unknown command swtich (commands: status, switch, canary, promote, rollback, "
              "wait-drained, server, reload, upgrade, ramp, flag, shadow, diff, cluster)");
    EXPECT_EQ(err("STATUS").rfind("unknown command STATUS (", 0), 0u);
    EXPECT_EQ(err("switch gr\x01"
                  "een"),
              "command contains a control character");
    EXPECT_EQ(err(std::string("switch g\0x", 10)), "command contains a control character");
    EXPECT_EQ(err("switch green\x7f"), "command contains a control character");
    EXPECT_EQ(err("switch green\rdrain=1s"), "command contains a control character");
}

// Replies and the audit log quote the line: bytes that are not UTF-8 would
// make a reply invalid JSON that switchyardctl cannot read (found by
// fuzz_control_command).
TEST(ParseCommand, InvalidUtf8IsRefused) {
    const std::string not_utf8 = "command is not valid UTF-8";
    EXPECT_EQ(err("sw\xff"
                  "itch green"),
              not_utf8);
    EXPECT_EQ(err("switch gr\xc3\x28"
                  "en"),
              not_utf8);
    EXPECT_EQ(err("switch \xc0\xaf"), not_utf8);          // overlong "/"
    EXPECT_EQ(err("switch \xed\xa0\x80"), not_utf8);      // a surrogate
    EXPECT_EQ(err("switch \xf4\x90\x80\x80"), not_utf8);  // above U+10FFFF
    EXPECT_EQ(err("switch \xe2\x82"), not_utf8);          // cut short
    EXPECT_EQ(err("switch \xe2\x82 green"), not_utf8);
    EXPECT_EQ(ok("switch gr\xc3\xbcn").routing.pool, "gr\xc3\xbcn");
    EXPECT_EQ(ok("switch \xf0\x9f\x9a\x80").routing.pool, "\xf0\x9f\x9a\x80");
    EXPECT_EQ(ok("switch \xef\xbf\xbf").routing.pool, "\xef\xbf\xbf");  // U+FFFF
}

TEST(ParseCommand, LineLengthLimit) {
    std::string line = "switch " + std::string(kMaxLineBytes - 7, 'g');
    ASSERT_EQ(line.size(), kMaxLineBytes);
    EXPECT_EQ(ok(line).routing.pool.size(), kMaxLineBytes - 7);
    EXPECT_EQ(ok(line + "\r\n").verb, Verb::switch_);
    EXPECT_EQ(err(line + "g"), "line too long");
}

TEST(VerbNames, RoundTrip) {
    for (auto v : {Verb::status, Verb::switch_, Verb::canary, Verb::promote, Verb::rollback,
                   Verb::wait_drained, Verb::server, Verb::reload, Verb::upgrade, Verb::ramp,
                   Verb::shadow, Verb::flag, Verb::diff}) {
        std::string line(verb_name(v));
        auto p = parse_command(line);
        // Verbs with required arguments fail, but never as an unknown command.
        EXPECT_EQ(p.error.find("unknown command"), std::string::npos) << line;
    }
    EXPECT_EQ(verb_name(Verb::switch_), "switch");
    EXPECT_EQ(verb_name(Verb::wait_drained), "wait-drained");
}

TEST(VerbNames, ChangesRouting) {
    EXPECT_TRUE(changes_routing(Verb::switch_));
    EXPECT_TRUE(changes_routing(Verb::canary));
    EXPECT_TRUE(changes_routing(Verb::promote));
    EXPECT_TRUE(changes_routing(Verb::rollback));
    EXPECT_TRUE(changes_routing(Verb::server));
    EXPECT_TRUE(changes_routing(Verb::flag));
    EXPECT_TRUE(changes_routing(Verb::shadow));
    EXPECT_FALSE(changes_routing(Verb::status));
    EXPECT_FALSE(changes_routing(Verb::diff));
    EXPECT_FALSE(changes_routing(Verb::wait_drained));
    EXPECT_FALSE(changes_routing(Verb::reload));
    EXPECT_FALSE(changes_routing(Verb::upgrade));
}

TEST(Replies, Error) {
    EXPECT_EQ(error_reply("pool purple does not exist"),
              R"({"ok":false,"error":"pool purple does not exist"})");
    // Controls as \u00XX, like every JSON text Switchyard writes.
    EXPECT_EQ(error_reply("a \"quoted\"\nline\\"),
              R"({"ok":false,"error":"a \"quoted\"\u000aline\\"})");
}

TEST(Replies, State) {
    RuntimeState s;
    s.active = "green";
    s.previous = "blue";
    s.canary_pool = "blue";
    s.canary_weight_bp = 0;
    s.generation = 4;
    EXPECT_EQ(state_reply(s, true, "blue"),
              R"({"ok":true,"changed":true,"active":"green","previous":"blue",)"
              R"("canary":{"pool":"blue","weight":0.00},"generation":4,"draining":"blue"})");
    RuntimeState fresh;
    fresh.active = "blue";
    fresh.canary_pool = "green";
    fresh.canary_weight_bp = 550;
    EXPECT_EQ(state_reply(fresh, false),
              R"({"ok":true,"changed":false,"active":"blue","previous":null,)"
              R"("canary":{"pool":"green","weight":5.50},"generation":0})");
}

// The shadow object: whenever mirroring is on, and in the shadow command's
// own reply (off included).
TEST(Replies, StateWithShadow) {
    RuntimeState s;
    s.active = "blue";
    s.generation = 2;
    const std::string head = R"({"ok":true,"changed":true,"active":"blue","previous":null,)"
                             R"("canary":{"pool":null,"weight":0.00},"generation":2)";
    EXPECT_EQ(state_reply(s, true), head + "}");
    EXPECT_EQ(state_reply(s, true, {}, true),
              head + R"(,"shadow":{"pool":null,"percent":0.000,"diff":false}})");
    s.shadow = {"green", 10000, true};
    EXPECT_EQ(state_reply(s, true),
              head + R"(,"shadow":{"pool":"green","percent":10.000,"diff":true}})");
    s.shadow = {"green", 1, false};
    EXPECT_EQ(state_reply(s, true, "green"),
              head + R"(,"shadow":{"pool":"green","percent":0.001,"diff":false},)"
                     R"("draining":"green"})");
}

}  // namespace
}  // namespace switchyard::control

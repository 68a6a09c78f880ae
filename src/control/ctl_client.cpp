#include "switchyard/control/ctl_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <thread>

#include "switchyard/cli/command_line.hpp"
#include "switchyard/control/command.hpp"
#include "switchyard/control/ramp_watch.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::control {

namespace json = boost::json;

namespace {

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) {
        if (!out.empty()) out += ' ';
        out += t;
    }
    return out;
}

// The declarations, shared by the parser and the help text. Options may
// come before or after the command; "--" ends them; a token that looks like
// a negative number ("-1") is an argument, for the server to judge.
struct CommandLine {
    CLI::App app{"", "switchyardctl"};
    CtlOptions options;
    std::string timeout;

    CommandLine() {
        cli::configure(
            app,
            "usage: switchyardctl [-s SOCKET] [--json] [-c CONFIG] COMMAND [ARGS...]\n"
            "\n"
            "commands:\n"
            "  status [--fleet]                        who is active, weights, health, in-flight;\n"
            "                                          --fleet: every member of the fleet\n"
            "  switch POOL [drain=D] [--wait [--timeout D]]\n"
            "                                          atomic cutover; --wait: until the old pool "
            "drained\n"
            "  canary POOL PERCENT                     sticky share of users to POOL (0-100)\n"
            "  promote [--wait [--timeout D]]          switch to the canary pool\n"
            "  rollback [--wait [--timeout D]]         abort the canary, else switch back\n"
            "  wait-drained POOL [timeout=D]           wait until POOL has nothing in flight\n"
            "  server POOL ADDRESS drain|disable|enable|weight N\n"
            "  reload                                  re-read the config file\n"
            "  upgrade [binary=PATH]                   hot binary upgrade\n"
            "  ramp POOL [steps=1,5,25,50,100] [bake=D] [promote=auto|manual] [--wait [--timeout "
            "D]]\n"
            "                                          move POOL through canary steps, judged on "
            "its\n"
            "                                          errors and latency; --wait: until it ends\n"
            "  ramp pause|resume|promote|abort|ack [POOL]\n"
            "  flag NAME PERCENT|off                   feature flag on for a sticky share of "
            "users\n"
            "  shadow POOL PERCENT [diff]              copy a share of requests to POOL (dark "
            "launch);\n"
            "                                          diff: compare its answers\n"
            "  shadow off                              stop copying\n"
            "  diff [reset]                            the shadow's differences by route\n"
            "  cluster init                            fill an empty fleet store with this "
            "member's state\n"
            "  mutating commands take if-generation=N (compare-and-set) and force;\n"
            "  in a fleet, --wait-fleet: reply once every live member applied the change\n");
        app.add_option("-s,--socket", options.socket,
                       "control socket (else $SWITCHYARD_CONTROL, else the config's\n"
                       "control.socket, else /run/switchyard/control.sock)")
            ->type_name("PATH");
        app.add_option("-c,--config", options.config,
                       "config file to read control.socket from\n"
                       "(default /etc/switchyard/switchyard.toml)")
            ->type_name("PATH");
        app.add_flag("--json", options.json, "print the reply lines unchanged");
        app.add_flag("--wait", options.wait,
                     "after switch, promote or rollback: wait until the old pool drained;\n"
                     "after ramp: until it is promoted or aborted");
        app.add_flag("--fleet", options.fleet, "with status: every member of the fleet");
        app.add_flag("--wait-fleet", options.wait_fleet,
                     "with a change in a fleet: wait until every live member applied it");
        app.add_option("--timeout", timeout,
                       "with --wait: how long (default 60s; for ramp: no limit)")
            ->type_name("D");
        // The command words, key=value tokens and force: sent as they are.
        app.add_option("command", options.command)->group("");
        cli::add_help_flag(app);
        app.footer(
            "exit status: 0 ok, 1 the command failed, 2 socket unreachable or bad reply,\n"
            "3 the pool did not drain in time (or --wait timed out), 4 the ramp was aborted");
    }
};

}  // namespace

std::string ctl_usage() {
    return CommandLine().app.help();
}

ParsedCtlArgs parse_ctl_args(const std::vector<std::string>& args) {
    CommandLine cl;
    const auto parsed = cli::parse(cl.app, args);
    if (!parsed.ok) return {std::nullopt, parsed.error};
    CtlOptions& o = cl.options;
    o.help = parsed.help;
    if (o.help) return {std::move(o), {}};
    for (const char* name : {"--socket", "--config", "--timeout"})
        if (cl.app.count(name) > 0 && cl.app.get_option(name)->results().back().empty())
            return {std::nullopt, std::string(name) + " needs a value"};
    if (!cl.timeout.empty()) {
        o.wait_timeout = parse_duration(cl.timeout);
        if (!o.wait_timeout)
            return {std::nullopt,
                    "bad --timeout value " + cl.timeout + ": a duration with a unit (30s, 5m, 1h)"};
    }
    if (o.command.empty()) return {std::nullopt, "no command given"};
    if (o.wait_timeout && !o.wait) return {std::nullopt, "--timeout goes with --wait"};
    if (o.wait && o.command[0] != "switch" && o.command[0] != "promote" &&
        o.command[0] != "rollback" && o.command[0] != "ramp")
        return {std::nullopt, "--wait goes with switch, promote, rollback or ramp"};
    if (o.fleet) {
        if (o.command.size() != 1 || o.command[0] != "status")
            return {std::nullopt, "--fleet goes with status"};
        o.command.push_back("fleet");
    }
    if (o.wait_fleet) {
        static constexpr std::string_view kChanges[] = {"switch", "canary", "promote", "rollback",
                                                        "server", "flag",   "shadow"};
        if (std::find(std::begin(kChanges), std::end(kChanges), o.command[0]) == std::end(kChanges))
            return {std::nullopt,
                    "--wait-fleet goes with switch, canary, promote, rollback, server, flag or "
                    "shadow"};
        o.command.push_back("wait=all");
    }
    return {std::move(o), {}};
}

SocketChoice resolve_socket(const CtlOptions& options, const char* env_socket,
                            const ConfigSocketReader& read_config) {
    SocketChoice c;
    if (!options.socket.empty()) {
        c.path = options.socket;
        return c;
    }
    if (env_socket != nullptr && *env_socket != '\0') {
        c.path = env_socket;
        return c;
    }
    const bool explicit_config = !options.config.empty();
    const std::string config = explicit_config ? options.config : kDefaultConfigPath;
    struct stat st {};
    if (explicit_config || ::stat(config.c_str(), &st) == 0) {
        std::string error;
        auto socket = read_config ? read_config(config, error) : std::nullopt;
        if (socket && !socket->empty()) {
            c.path = *socket;
            return c;
        }
        if (explicit_config) {
            c.error = "cannot read the control socket from " + config + ": " + error;
            return c;
        }
        c.warning = "cannot read the control socket from " + config + " (" + error + "); using " +
                    kDefaultSocketPath;
    }
    c.path = kDefaultSocketPath;
    return c;
}

// --- connection ------------------------------------------------------------

CtlConnection::~CtlConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool CtlConnection::connect(const std::string& path, std::string& error) {
    path_ = path;
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        error = "cannot connect to control socket " + path + ": bad path";
        return false;
    }
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        error = "cannot connect to control socket " + path + ": " + std::strerror(err);
        if (err == ENOENT || err == ECONNREFUSED) error += " (is switchyard running?)";
        if (err == EACCES) error += " (are you in the socket's group?)";
        return false;
    }
    return true;
}

bool CtlConnection::send_line(const std::string& line, std::string& error) {
    std::string data = line + "\n";
    std::string_view rest = data;
    while (!rest.empty()) {
        ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "control socket " + path_ + ": send: " + std::strerror(errno);
            return false;
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<std::string> CtlConnection::read_line(Duration timeout, std::string& error) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{fd_, POLLIN, 0};
        int rc = left.count() > 0
                     ? ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1LL << 30)))
                     : 0;
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) {
            error = "no reply from control socket " + path_ + " within " + format_duration(timeout);
            return std::nullopt;
        }
        char buf[4096];
        ssize_t n = rc < 0 ? -1 : ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "control socket " + path_ + ": " + std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) {
            error = "control socket " + path_ + " closed the connection without a reply";
            return std::nullopt;
        }
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

// --- the program -------------------------------------------------------------

namespace {

constexpr Duration kReplyTimeout{120000};
constexpr Duration kWaitDrainedDefault{60000};  // the server's default for wait-drained
constexpr Duration kWaitSlack{30000};

Duration reply_timeout_for(const std::string& line) {
    auto parsed = parse_command(line);
    if (!parsed.command || parsed.command->verb != ControlCommand::Verb::wait_drained)
        return kReplyTimeout;
    return std::max(kReplyTimeout,
                    parsed.command->timeout.value_or(kWaitDrainedDefault) + kWaitSlack);
}

struct Exchange {
    int code = kExitOk;
    std::optional<json::object> reply;
};

// Sends one line, reads and prints its reply. code: the exit code so far.
Exchange exchange(CtlConnection& conn, const std::string& socket,
                  const std::vector<std::string>& tokens, bool json_out, std::ostream& out,
                  std::ostream& err) {
    Exchange x;
    const std::string line = join(tokens);
    std::string error;
    std::optional<std::string> reply_line;
    if (conn.send_line(line, error)) reply_line = conn.read_line(reply_timeout_for(line), error);
    if (!reply_line) {
        err << "switchyardctl: " << error << "\n";
        x.code = kExitUnreachable;
        return x;
    }
    x.reply = parse_reply(*reply_line);
    if (!x.reply) {
        std::string shown = reply_line->substr(0, 200);
        err << "switchyardctl: control socket " << socket
            << ": the reply is not a JSON object with \"ok\": " << shown << "\n";
        x.code = kExitUnreachable;
        return x;
    }
    x.code = reply_exit_code(*x.reply);
    if (json_out) {
        out << *reply_line << "\n";
    } else if (x.code == kExitOk) {
        out << format_summary(tokens, *x.reply);
    } else if (x.code == kExitNotDrained) {
        err << "switchyardctl: " << format_wait(*x.reply);
    } else {
        err << "switchyardctl: " << reply_field(*x.reply, "error", "the command failed") << "\n";
    }
    return x;
}

// `ramp … --wait`: status every 250 ms, a line per transition, until the
// ramp is promoted (0) or aborted (4), or --timeout passes (3).
int watch_ramp(CtlConnection& conn, const std::string& socket, const CtlOptions& o,
               std::ostream& out, std::ostream& err) {
    const auto deadline = o.wait_timeout ? std::chrono::steady_clock::now() + *o.wait_timeout
                                         : std::chrono::steady_clock::time_point::max();
    RampWatch watch;
    for (;;) {
        std::string error;
        std::optional<std::string> line;
        if (conn.send_line("status", error)) line = conn.read_line(kReplyTimeout, error);
        if (!line) {
            err << "switchyardctl: " << error << "\n";
            return kExitUnreachable;
        }
        auto reply = parse_reply(*line);
        if (!reply) {
            err << "switchyardctl: control socket " << socket << ": bad status reply\n";
            return kExitUnreachable;
        }
        const auto step = watch.observe(*reply, o.json);
        out << step.lines << std::flush;
        if (step.exit_code) return *step.exit_code;
        if (std::chrono::steady_clock::now() >= deadline) {
            if (!o.json) out << "timed out waiting; the ramp goes on\n";
            return kExitNotDrained;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

}  // namespace

int run_ctl(const std::vector<std::string>& args, const char* env_socket,
            const ConfigSocketReader& read_config, std::ostream& out, std::ostream& err) {
    auto parsed = parse_ctl_args(args);
    if (!parsed.options) {
        err << "switchyardctl: " << parsed.error << "\n" << ctl_usage();
        return kExitUnreachable;
    }
    const CtlOptions& o = *parsed.options;
    if (o.help) {
        out << ctl_usage();
        return kExitOk;
    }
    const SocketChoice socket = resolve_socket(o, env_socket, read_config);
    if (!socket.warning.empty()) err << "switchyardctl: warning: " << socket.warning << "\n";
    if (!socket.error.empty()) {
        err << "switchyardctl: " << socket.error << "\n";
        return kExitUnreachable;
    }
    CtlConnection conn;
    std::string error;
    if (!conn.connect(socket.path, error)) {
        err << "switchyardctl: " << error << "\n";
        return kExitUnreachable;
    }
    Exchange first = exchange(conn, socket.path, o.command, o.json, out, err);
    if (!o.wait || first.code != kExitOk) return first.code;
    if (o.command[0] == "ramp") return watch_ramp(conn, socket.path, o, out, err);

    // --wait: the pool that lost the active role drains; wait for it.
    const json::object& r = *first.reply;
    std::string pool = reply_field(r, "draining", "");
    const json::value* changed = r.if_contains("changed");
    const bool did_change = changed == nullptr || !changed->is_bool() || changed->get_bool();
    if (pool.empty() && did_change && o.command[0] != "rollback")
        pool = reply_field(r, "previous", "");
    if (pool.empty() || !did_change) {
        if (!o.json) out << "nothing to drain\n";
        return first.code;
    }
    std::vector<std::string> wait = {"wait-drained", pool};
    if (o.wait_timeout) wait.push_back("timeout=" + format_duration(*o.wait_timeout));
    return exchange(conn, socket.path, wait, o.json, out, err).code;
}

}  // namespace switchyard::control

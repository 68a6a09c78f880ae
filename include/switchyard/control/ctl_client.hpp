// switchyardctl: a thin client of the control socket (DESIGN.md,
// "Control protocol"). It sends the command line, reads one reply line and
// prints it for people (or unchanged with --json).
//
// The pieces are separate so they can be tested without a process: argument
// parsing, socket resolution, the blocking connection, and pure formatting
// of replies.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard::control {

inline constexpr const char* kDefaultConfigPath = "/etc/switchyard/switchyard.toml";
inline constexpr const char* kDefaultSocketPath = "/run/switchyard/control.sock";

// Exit codes: the contract pipelines script against.
inline constexpr int kExitOk = 0;           // "ok": true
inline constexpr int kExitFailed = 1;       // "ok": false
inline constexpr int kExitUnreachable = 2;  // no socket, no reply, not JSON; also usage errors
inline constexpr int kExitNotDrained = 3;   // --wait / wait-drained: the pool did not drain in time

struct CtlOptions {
    std::string socket;  // -s, --socket
    std::string config;  // -c, --config; empty: kDefaultConfigPath if it exists
    bool json = false;   // --json: print reply lines unchanged
    bool wait = false;   // --wait: after switch/promote/rollback, wait-drained the old pool
    std::optional<Duration> wait_timeout;  // --timeout D (with --wait)
    bool fleet = false;       // --fleet: status of every fleet member (sends `status fleet`)
    bool wait_fleet = false;  // --wait-fleet: a change replies once every member applied it
    bool help = false;
    std::vector<std::string> command;  // the command and its arguments
};

struct ParsedCtlArgs {
    std::optional<CtlOptions> options;
    std::string error;
};

// Options may come before or after the command; "--" ends them. A token that
// looks like a negative number ("-1") is an argument, for the server to judge.
ParsedCtlArgs parse_ctl_args(const std::vector<std::string>& args);
std::string ctl_usage();

struct SocketChoice {
    std::string path;
    std::string error;    // fatal (an explicit -c that does not load)
    std::string warning;  // the default config exists but does not load
};

// Reads control.socket from a config file; nullopt and `error` when the file
// does not load. Injected so that this layer does not depend on the config
// layer (switchyardctl passes one built on config::load_file).
using ConfigSocketReader =
    std::function<std::optional<std::string>(const std::string& config_path, std::string& error)>;

// -s, else $SWITCHYARD_CONTROL (`env_socket`, may be null or empty), else
// control.socket of the config (-c, or the default file when it exists),
// else kDefaultSocketPath.
SocketChoice resolve_socket(const CtlOptions& options, const char* env_socket,
                            const ConfigSocketReader& read_config);

// A blocking connection to the control socket.
class CtlConnection {
  public:
    CtlConnection() = default;
    ~CtlConnection();
    CtlConnection(const CtlConnection&) = delete;
    CtlConnection& operator=(const CtlConnection&) = delete;

    bool connect(const std::string& path, std::string& error);
    bool send_line(const std::string& line, std::string& error);  // appends '\n'
    // The next line without its terminator; nullopt with `error` on timeout,
    // end of stream or a socket error.
    std::optional<std::string> read_line(Duration timeout, std::string& error);

  private:
    int fd_ = -1;
    std::string path_;
    std::string buffer_;
};

// Parses a reply line: a JSON object with a boolean "ok"; nullopt otherwise.
std::optional<boost::json::object> parse_reply(const std::string& line);

// A scalar field of a reply as text ("5.00", "true", "green"); `fallback`
// when absent, null or not a scalar.
std::string reply_field(const boost::json::object& reply, std::string_view key,
                        std::string fallback = "-");

// Human output. `command` is the command as sent (tokens).
std::string format_status(const boost::json::object& reply);
std::string format_summary(const std::vector<std::string>& command,
                           const boost::json::object& reply);
std::string format_wait(const boost::json::object& reply);
// kExitOk, kExitFailed, or kExitNotDrained for a wait-drained reply with
// "drained": false.
int reply_exit_code(const boost::json::object& reply);

// The whole program: returns the exit code. `env_socket` is
// $SWITCHYARD_CONTROL (may be null).
int run_ctl(const std::vector<std::string>& args, const char* env_socket,
            const ConfigSocketReader& read_config, std::ostream& out, std::ostream& err);

}  // namespace switchyard::control

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
            "  status                                  who is active, weights, health, in-flight\n"
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
            "  mutating commands take if-generation=N (compare-and-set) and force\n");
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

// --- formatting --------------------------------------------------------------

namespace {

std::string two_decimals(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// A scalar as people read it; "" for what is not a scalar.
std::string scalar_text(const json::value& v) {
    switch (v.kind()) {
        case json::kind::string:
            return std::string(v.get_string());
        case json::kind::int64:
            return std::to_string(v.get_int64());
        case json::kind::uint64:
            return std::to_string(v.get_uint64());
        case json::kind::double_:
            return two_decimals(v.get_double());
        case json::kind::bool_:
            return v.get_bool() ? "yes" : "no";
        case json::kind::null:
            return "-";
        default:
            return "";
    }
}

bool is_scalar(const json::value& v) {
    return !v.is_object() && !v.is_array();
}

std::string field(const json::object& o, std::string_view key, std::string fallback = "-") {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null() || !is_scalar(*v)) return fallback;
    return scalar_text(*v);
}

std::optional<double> number(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double()) return v->get_double();
    return std::nullopt;
}

// "green 5.00%", or "none".
std::string canary_text(const json::object& o) {
    const json::value* c = o.if_contains("canary");
    if (c == nullptr || !c->is_object()) return "none";
    const auto& co = c->get_object();
    const json::value* pool = co.if_contains("pool");
    if (pool == nullptr || !pool->is_string()) return "none";
    std::string out(pool->get_string());
    if (auto w = number(co.if_contains("weight"))) out += " " + two_decimals(*w) + "%";
    return out;
}

std::string generation_suffix(const json::object& o) {
    const json::value* g = o.if_contains("generation");
    if (g == nullptr || !is_scalar(*g)) return "";
    return " (generation " + scalar_text(*g) + ")";
}

std::string upper(std::string s) {
    for (auto& ch : s)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

using Row = std::vector<std::string>;

std::string render_table(const std::vector<Row>& rows) {
    std::vector<std::size_t> width;
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

// Columns: the known ones in a fixed order, then any other scalar field the
// reply has, so new fields show up without a client change.
std::vector<std::string> columns_of(const std::vector<const json::object*>& objects,
                                    std::vector<std::string> known, std::string_view skip) {
    std::vector<std::string> present;
    auto has = [&](const std::string& key) {
        for (const auto* o : objects)
            if (const json::value* v = o->if_contains(key); v != nullptr && is_scalar(*v))
                return true;
        return false;
    };
    for (const auto& k : known)
        if (has(k)) present.push_back(k);
    for (const auto* o : objects)
        for (const auto& kv : *o) {
            std::string key(kv.key());
            if (key == skip || !is_scalar(kv.value())) continue;
            if (std::find(present.begin(), present.end(), key) == present.end())
                present.push_back(key);
        }
    return present;
}

// The pools' live rates (status' "rates"): what a pipeline watches while a
// canary ramps. Empty if no pool has them (server.metrics = false).
std::string traffic_table(const std::vector<const json::object*>& pools) {
    std::vector<Row> rows = {
        {"POOL", "REQ/S 10s", "5XX 10s", "P50 ms", "P90 ms", "P99 ms", "REQ/S 60s", "5XX 60s"}};
    auto window = [](const json::object& rates, std::string_view name) -> const json::object* {
        const json::value* w = rates.if_contains(name);
        return w != nullptr && w->is_object() ? &w->get_object() : nullptr;
    };
    auto percent = [](const json::object* w) -> std::string {
        const auto ratio = w == nullptr ? std::nullopt : number(w->if_contains("error_ratio"));
        return ratio ? two_decimals(*ratio * 100) + "%" : "-";
    };
    for (const auto* p : pools) {
        const json::value* r = p->if_contains("rates");
        if (r == nullptr || !r->is_object()) continue;
        const json::object* w10 = window(r->get_object(), "10s");
        const json::object* w60 = window(r->get_object(), "60s");
        auto of = [](const json::object* w, std::string_view key) {
            return w == nullptr ? std::string("-") : field(*w, key);
        };
        rows.push_back({field(*p, "name"), of(w10, "requests_per_second"), percent(w10),
                        of(w10, "p50_ms"), of(w10, "p90_ms"), of(w10, "p99_ms"),
                        of(w60, "requests_per_second"), percent(w60)});
    }
    return rows.size() > 1 ? "\n" + render_table(rows) : "";
}

std::string header_of(const std::string& key) {
    if (key == "idle_connections") return "IDLE";
    if (key == "address") return "SERVER";
    return upper(key);
}

}  // namespace

std::optional<json::object> parse_reply(const std::string& line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const json::value* ok = v.get_object().if_contains("ok");
    if (ok == nullptr || !ok->is_bool()) return std::nullopt;
    return std::move(v.get_object());
}

std::string format_status(const json::object& reply) {
    std::vector<Row> head = {{"active", field(reply, "active")},
                             {"previous", field(reply, "previous")},
                             {"canary", canary_text(reply)},
                             {"generation", field(reply, "generation")}};
    if (reply.contains("config_generation"))
        head.push_back({"config generation", field(reply, "config_generation")});
    for (const auto& kv : reply) {
        const std::string key(kv.key());
        if (key == "ok" || key == "active" || key == "previous" || key == "generation" ||
            key == "config_generation" || !is_scalar(kv.value()))
            continue;
        head.push_back({key, scalar_text(kv.value())});
    }
    std::string out = render_table(head);

    std::vector<const json::object*> pools;
    std::vector<std::pair<std::string, const json::object*>> servers;
    if (const json::value* p = reply.if_contains("pools"); p != nullptr && p->is_array()) {
        for (const auto& pv : p->get_array()) {
            if (!pv.is_object()) continue;
            const auto& po = pv.get_object();
            pools.push_back(&po);
            if (const json::value* s = po.if_contains("servers"); s != nullptr && s->is_array())
                for (const auto& sv : s->get_array())
                    if (sv.is_object()) servers.emplace_back(field(po, "name"), &sv.get_object());
        }
    }
    if (!pools.empty()) {
        const auto cols =
            columns_of(pools, {"role", "inflight", "tunnels", "idle_connections"}, "name");
        std::vector<Row> rows;
        Row header = {"POOL"};
        for (const auto& c : cols)
            header.push_back(header_of(c));
        rows.push_back(header);
        for (const auto* p : pools) {
            Row r = {field(*p, "name")};
            for (const auto& c : cols)
                r.push_back(field(*p, c));
            rows.push_back(r);
        }
        out += "\n" + render_table(rows);
        out += traffic_table(pools);
    }
    if (!servers.empty()) {
        std::vector<const json::object*> objs;
        for (const auto& s : servers)
            objs.push_back(s.second);
        const auto cols =
            columns_of(objs, {"address", "admin", "health", "weight", "inflight"}, "");
        std::vector<Row> rows;
        Row header = {"POOL"};
        for (const auto& c : cols)
            header.push_back(header_of(c));
        rows.push_back(header);
        for (const auto& [pool, s] : servers) {
            Row r = {pool};
            for (const auto& c : cols)
                r.push_back(field(*s, c));
            rows.push_back(r);
        }
        out += "\n" + render_table(rows);
    }
    if (const json::value* ramp = reply.if_contains("ramp"); ramp != nullptr && ramp->is_object()) {
        out += "\nramp: " + format_ramp(ramp->get_object()) + "\n";
        if (auto verdict = format_last_verdict(ramp->get_object()); !verdict.empty())
            out += "  " + verdict + "\n";
    }
    // Lists of sentences (conflicts, dropped state entries, ...).
    for (const auto& kv : reply) {
        if (!kv.value().is_array() || kv.key() == "pools" || kv.value().get_array().empty())
            continue;
        out += "\n" + std::string(kv.key()) + ":\n";
        for (const auto& item : kv.value().get_array())
            out += "  " + (is_scalar(item) ? scalar_text(item) : json::serialize(item)) + "\n";
    }
    return out;
}

std::string format_wait(const json::object& reply) {
    const std::string pool = field(reply, "pool", "the pool");
    const json::value* drained = reply.if_contains("drained");
    const std::string waited = reply.contains("waited_ms") ? field(reply, "waited_ms") + " ms" : "";
    if (drained != nullptr && drained->is_bool() && drained->get_bool())
        return pool + " drained" + (waited.empty() ? "" : " in " + waited) + "\n";
    std::string out = pool + " not drained" + (waited.empty() ? "" : " after " + waited);
    out += ": " + field(reply, "inflight", "?") + " in flight, " + field(reply, "tunnels", "?") +
           " tunnels, " + field(reply, "idle_connections", "?") + " idle connections";
    if (reply.contains("error")) out += " (" + field(reply, "error") + ")";
    return out + "\n";
}

std::string format_summary(const std::vector<std::string>& command, const json::object& reply) {
    const std::string verb = command.empty() ? "" : command[0];
    const std::string gen = generation_suffix(reply);
    const json::value* changed_v = reply.if_contains("changed");
    const bool unchanged = changed_v != nullptr && changed_v->is_bool() && !changed_v->get_bool();
    const std::string active = field(reply, "active");
    std::string draining = field(reply, "draining", "");
    if (draining.empty() && !unchanged && (verb == "switch" || verb == "promote"))
        draining = field(reply, "previous", "");
    const std::string drain_note = draining.empty() ? "" : "; " + draining + " draining";

    if (verb == "status") return format_status(reply);
    if (verb == "wait-drained") return format_wait(reply);
    if (verb == "switch") {
        if (unchanged) return active + " is already active" + gen + "; nothing changed\n";
        return "switched to " + active + gen + drain_note + "\n";
    }
    if (verb == "promote") return "promoted " + active + " to active" + gen + drain_note + "\n";
    if (verb == "rollback") {
        if (!draining.empty()) return "rolled back to " + active + gen + drain_note + "\n";
        return "rolled back: active " + active + ", canary " + canary_text(reply) + gen + "\n";
    }
    if (verb == "canary")
        return "canary " + canary_text(reply) + gen + (unchanged ? "; nothing changed" : "") + "\n";
    if (verb == "server" && command.size() >= 4) {
        std::string action = command[3];
        if (command.size() >= 5 && action == "weight") action += " " + command[4];
        return "server " + command[2] + " in pool " + command[1] + ": " + action + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "reload") return "configuration reloaded" + gen + "\n";
    if (verb == "ramp") {
        const json::value* ramp = reply.if_contains("ramp");
        if (ramp == nullptr || !ramp->is_object()) return "no ramp" + gen + "\n";
        return "ramp of " + format_ramp(ramp->get_object()) + gen +
               (unchanged ? "; nothing changed" : "") + "\n";
    }
    if (verb == "upgrade" && reply.contains("pid"))
        return "upgrading: new process " + field(reply, "pid") + "\n";
    // Anything else: the scalar fields as key=value.
    std::string out = (verb.empty() ? std::string("ok") : verb + ": ok");
    for (const auto& kv : reply)
        if (kv.key() != "ok" && is_scalar(kv.value()))
            out += " " + std::string(kv.key()) + "=" + scalar_text(kv.value());
    return out + "\n";
}

int reply_exit_code(const json::object& reply) {
    const json::value* drained = reply.if_contains("drained");
    if (drained != nullptr && drained->is_bool() && !drained->get_bool()) return kExitNotDrained;
    const json::value* ok = reply.if_contains("ok");
    return ok != nullptr && ok->is_bool() && ok->get_bool() ? kExitOk : kExitFailed;
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
        err << "switchyardctl: " << field(*x.reply, "error", "the command failed") << "\n";
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
    std::string pool = field(r, "draining", "");
    const json::value* changed = r.if_contains("changed");
    const bool did_change = changed == nullptr || !changed->is_bool() || changed->get_bool();
    if (pool.empty() && did_change && o.command[0] != "rollback") pool = field(r, "previous", "");
    if (pool.empty() || !did_change) {
        if (!o.json) out << "nothing to drain\n";
        return first.code;
    }
    std::vector<std::string> wait = {"wait-drained", pool};
    if (o.wait_timeout) wait.push_back("timeout=" + format_duration(*o.wait_timeout));
    return exchange(conn, socket.path, wait, o.json, out, err).code;
}

}  // namespace switchyard::control

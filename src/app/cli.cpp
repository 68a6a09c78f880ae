#include "switchyard/app/cli.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>

#include "switchyard/app/handover.hpp"
#include "switchyard/app/instance.hpp"
#include "switchyard/app/listen_socket.hpp"
#include "switchyard/app/logging.hpp"
#include "switchyard/app/options.hpp"
#include "switchyard/config/config_loader.hpp"
#include "switchyard/control/ctl_client.hpp"
#include "switchyard/control/state_file.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/http/tls_files.hpp"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.1.0"
#endif

namespace switchyard::app {

namespace {

// The path this binary was started from, absolute but with symlinks kept:
// after a package upgrade it names the new binary, where /proc/self/exe
// names the deleted old one.
std::string launch_path(const std::string& argv0) {
    namespace fs = std::filesystem;
    if (argv0.find('/') != std::string::npos) {
        if (argv0[0] == '/') return argv0;
        std::error_code ec;
        const fs::path cwd = fs::current_path(ec);
        return ec ? std::string() : (cwd / argv0).string();
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        // An empty or relative entry of PATH is skipped: the path must be absolute.
        const fs::path candidate = fs::path(dirs.substr(start, end - start)) / argv0;
        if (candidate.is_absolute() && ::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
        start = end + 1;
    }
    return {};
}

// switchyard --upgrade: the control command `upgrade`, for ExecReload= and
// scripts that know the config but not the socket.
int request_upgrade(const Settings& settings, const Options& opt) {
    control::CtlConnection conn;
    std::string error;
    std::string line = "upgrade";
    if (!opt.upgrade_binary.empty()) line += " binary=" + opt.upgrade_binary;
    std::optional<std::string> reply;
    if (conn.connect(settings.control.socket, error) && conn.send_line(line, error))
        reply = conn.read_line(Duration(120000), error);
    if (!reply) {
        std::cerr << "switchyard: upgrade: " << error << "\n";
        return 1;
    }
    std::cout << *reply << "\n";
    auto parsed = control::parse_reply(*reply);
    return parsed && control::reply_exit_code(*parsed) == control::kExitOk ? 0 : 1;
}

// --check: every certificate, key and CA file the config names must be
// readable, parse, and (cert with key) match; expiry within 14 days and
// SNI names a certificate does not cover are warnings. Printed like the
// config's diagnostics; false if there is an error.
bool check_tls_files(const Settings& settings) {
    bool ok = true;
    auto print = [&](config::Diagnostic::Severity severity, const std::string& key_path,
                     const std::string& message) {
        config::Diagnostic d;
        d.severity = severity;
        d.file = settings.source_path;
        d.key_path = key_path;
        d.message = message;
        std::cerr << d.to_string() << "\n";
    };
    for (const auto& report : http::check_tls_files(settings, std::chrono::system_clock::now())) {
        if (!report.ok) {
            ok = false;
            print(config::Diagnostic::Severity::error, report.key_path, report.error);
        }
        for (const auto& warning : http::report_warnings(report))
            print(config::Diagnostic::Severity::warning, report.key_path, warning);
    }
    return ok;
}

}  // namespace

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = parse_options(args);
    if (!parsed.options) {
        std::cerr << "switchyard: " << parsed.error << "\n" << usage();
        return 2;
    }
    const Options& opt = *parsed.options;
    if (opt.show_help) {
        std::cout << usage();
        return 0;
    }
    if (opt.show_version) {
        std::cout << "switchyard " << SWITCHYARD_VERSION << "\n";
        return 0;
    }

    // The successor of a hot upgrade reports whatever stops it to the old
    // process, which then keeps serving and passes the reason on.
    Inheritance inherited;
    inherited.handover_fd = opt.handover_fd;
    auto give_up = [&](const std::string& why) {
        std::cerr << "switchyard: " << why << "\n";
        if (opt.handover_fd >= 0) send_reply(opt.handover_fd, {false, 0, why});
        return 1;
    };

    auto result = config::load_file(opt.config_path);
    for (const auto& d : result.diagnostics)
        std::cerr << d.to_string() << "\n";
    if (!result.ok()) return give_up(opt.config_path + ": configuration has errors");
    auto settings = std::make_shared<const Settings>(std::move(*result.settings));
    if (opt.upgrade) return request_upgrade(*settings, opt);

    std::optional<HandoverMessage> handover;
    if (opt.handover_fd >= 0) {
        ::fcntl(opt.handover_fd, F_SETFD, FD_CLOEXEC);
        std::string error;
        handover = receive_handover(opt.handover_fd, Duration(10000), error);
        if (!handover) return give_up("hot upgrade: " + error);
        inherited.listeners = std::move(handover->listeners);
        inherited.control_fd = handover->control_fd;
        inherited.watchdog_usec = handover->watchdog_usec;
        inherited.health = std::move(handover->health);
        inherited.tls_ticket_keys = std::move(handover->tls_ticket_keys);
        inherited.config_generation = handover->config_generation;
        inherited.step_window = handover->step_window;
    } else {
        inherited.listeners = take_systemd_sockets();
    }

    // The state file wins over the config's routing (DESIGN.md, State): a
    // restart must never revert a cutover.
    RuntimeState runtime = initial_runtime_state(*settings);
    // The ramp's durable part, read with the routing state (empty when there
    // is none); the control plane is to restore it with restore_rollout().
    RolloutSnapshot rollout;
    std::vector<std::string> conflicts;
    std::string state_error;
    // The replaced process's state is the freshest there is (mutating
    // commands were refused during the hand-over).
    const control::LoadStatus loaded =
        handover
            ? (runtime = handover->runtime, rollout = handover->rollout, control::LoadStatus::ok)
            : control::load_state_file(settings->server.state_file, runtime, rollout, state_error);
    switch (loaded) {
        case control::LoadStatus::missing:
            runtime = initial_runtime_state(*settings);
            break;
        case control::LoadStatus::corrupt:
            if (!opt.reset_state)
                return give_up("state file " + settings->server.state_file +
                               " is corrupt: " + state_error +
                               "\n  fix or remove it, or start with --reset-state to begin from "
                               "the config's routing");
            std::cerr << "switchyard: state file " << settings->server.state_file << " is corrupt ("
                      << state_error << "); --reset-state: starting from the config\n";
            runtime = initial_runtime_state(*settings);
            break;
        case control::LoadStatus::ok: {
            auto reconciled = reconcile(runtime, *settings);
            runtime = reconciled.state;
            conflicts = reconciled.conflicts;
            for (const auto& d : reconciled.dropped)
                std::cerr << "switchyard: state file: dropped " << d << "\n";
            break;
        }
    }
    if (opt.check) {
        if (!check_tls_files(*settings))
            return give_up(opt.config_path + ": TLS files have errors");
        std::cout << config::summary(*settings) << "\n";
        for (const auto& c : conflicts)
            std::cout << "state: " << c << "\n";
        return 0;
    }

    // A client that goes away must not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<Instance> instance;
    try {
        auto log = make_error_logger(settings->log);
        auto audit = make_audit_logger(settings->log);
        for (const auto& c : conflicts)
            log->warn("state: {}", c);
        LaunchInfo launch{launch_path(argv[0]), {}};
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--handover-fd") {
                ++i;  // and its value: each successor gets its own
                continue;
            }
            if (a.rfind("--handover-fd=", 0) == 0) continue;
            launch.args.push_back(a);
        }
        instance = std::make_unique<Instance>(settings, std::move(runtime), std::move(rollout),
                                              std::move(conflicts), log, audit, std::move(launch),
                                              std::move(inherited));
        return instance->run();
    } catch (const std::exception& e) {
        if (instance && !instance->awaiting_handover_answer()) {
            std::cerr << "switchyard: " << e.what() << "\n";
            return 1;
        }
        return give_up(e.what());
    }
}

}  // namespace switchyard::app

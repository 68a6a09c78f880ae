// HotUpgrade: the running process's side of a hot binary upgrade.
//
// It starts the successor itself (so it stays in the service's cgroup) with
// `--handover-fd`, sends it the hand-over message (handover.hpp: listening
// sockets, control socket, routing state, health view, ticket keys) and waits
// for it to say it serves. Until then this process serves as before, so a
// successor that fails changes nothing: it gets a moment to exit, else it is
// killed, and the upgrade reports why. The successor's side is in main's
// start-up (receive_handover) and Instance::run (send_reply).
#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/app/handover.hpp"
#include "switchyard/control/data_plane.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::app {

// How this process was started: what a hot upgrade runs again.
struct LaunchInfo {
    std::string binary;             // absolute path, symlinks kept
    std::vector<std::string> args;  // without argv[0]
};

class HotUpgrade {
  public:
    using Done = std::function<void(control::UpgradeResult)>;

    HotUpgrade(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log);
    ~HotUpgrade();

    // Runs `binary` with `args` and --handover-fd, sends it `message`, and
    // calls `done` once it serves, or with the failure (within `timeout`,
    // plus the time a failed successor is given to exit).
    void start(const std::string& binary, const std::vector<std::string>& args,
               const HandoverMessage& message, Duration timeout, Done done);

    bool in_progress() const { return attempt_ != nullptr; }

    // This process stops: a successor that is starting must not serve next
    // to it. Fails the upgrade in progress, if any, killing it at once.
    void abort(std::string why);

    // "upgrade failed: WHY; this process keeps serving"
    static control::UpgradeResult failure(const std::string& why);

  private:
    struct Attempt;
    void wait_for_answer();
    void succeed(pid_t pid);
    void fail(std::string error, std::chrono::milliseconds grace);
    void reap();

    boost::asio::io_context& io_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<Attempt> attempt_;
};

}  // namespace switchyard::app

#include "switchyard/app/hot_upgrade.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

extern char** environ;

namespace switchyard::app {

namespace {

// A successor that gave up is exiting; how long it may take.
constexpr std::chrono::milliseconds kExitGrace{1000};

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
    return "stopped";
}

}  // namespace

// The successor's pid and our end of the hand-over socket pair, on which it
// answers once it serves.
struct HotUpgrade::Attempt {
    Attempt(boost::asio::io_context& io, int fd)
        : channel(io, boost::asio::local::stream_protocol(), fd), timer(io) {}
    pid_t pid = -1;
    boost::asio::local::stream_protocol::socket channel;
    boost::asio::streambuf answer;
    boost::asio::steady_timer timer;  // the upgrade timeout, then reaping a failed successor
    Done done;
    std::string failure;  // set once it failed; the successor is being reaped
    std::chrono::steady_clock::time_point kill_at;
};

HotUpgrade::HotUpgrade(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log)
    : io_(io), log_(std::move(log)) {}

HotUpgrade::~HotUpgrade() = default;

control::UpgradeResult HotUpgrade::failure(const std::string& why) {
    return {false, 0, 0, "upgrade failed: " + why + "; this process keeps serving"};
}

void HotUpgrade::start(const std::string& binary, const std::vector<std::string>& args,
                       const HandoverMessage& message, Duration timeout, Done done) {
    if (attempt_) return done(failure("an upgrade is in progress"));
    if (binary.empty() || ::access(binary.c_str(), X_OK) != 0)
        return done(failure("cannot execute " + binary + ": " + std::strerror(errno)));
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return done(failure(std::string("socketpair: ") + std::strerror(errno)));
    // Only stdio and the successor's end of the pair (as fd 3) cross exec:
    // Asio opens client and upstream sockets without CLOEXEC, and a
    // successor holding copies would keep connections open after this
    // process closed them (no FIN for the peer, a leaked descriptor).
    constexpr int kHandoverFd = 3;
    ::fcntl(pair[1], F_SETFD, 0);  // in case it is fd 3 already
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, pair[1], kHandoverFd);
    ::posix_spawn_file_actions_addclosefrom_np(&actions, kHandoverFd + 1);
    std::vector<std::string> command{binary};
    command.insert(command.end(), args.begin(), args.end());
    command.push_back("--handover-fd");
    command.push_back(std::to_string(kHandoverFd));
    std::vector<char*> argv;
    for (auto& a : command)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(pair[1]);
    if (rc != 0) {
        ::close(pair[0]);
        return done(failure("cannot start " + binary + ": " + std::strerror(rc)));
    }
    log_->info("upgrade: started {} as pid {}", binary, pid);

    attempt_ = std::make_unique<Attempt>(io_, pair[0]);
    attempt_->pid = pid;
    attempt_->done = std::move(done);
    std::string error;
    if (!send_handover(pair[0], message, error)) {
        fail("cannot hand over: " + error, kExitGrace);
        return;
    }
    attempt_->timer.expires_after(timeout);
    attempt_->timer.async_wait([this, timeout](boost::system::error_code ec) {
        if (!ec && attempt_ && attempt_->failure.empty())
            fail("the new process did not serve within server.upgrade_timeout (" +
                     format_duration(timeout) + ")",
                 {});
    });
    wait_for_answer();
}

void HotUpgrade::wait_for_answer() {
    boost::asio::async_read_until(
        attempt_->channel, attempt_->answer, '\n',
        [this](boost::system::error_code ec, std::size_t n) {
            if (!attempt_ || !attempt_->failure.empty() ||
                ec == boost::asio::error::operation_aborted)
                return;
            std::optional<HandoverReply> reply;
            if (!ec) {
                const auto data = attempt_->answer.data();
                std::string line(boost::asio::buffers_begin(data),
                                 boost::asio::buffers_begin(data) + static_cast<std::ptrdiff_t>(n));
                reply = decode_reply(line);
            }
            if (reply && reply->ready)
                succeed(reply->pid);
            else
                fail(reply ? reply->error : "the new process ended the hand-over without an answer",
                     kExitGrace);
        });
}

void HotUpgrade::succeed(pid_t pid) {
    auto attempt = std::move(attempt_);
    boost::system::error_code ignored;
    attempt->timer.cancel();
    attempt->channel.close(ignored);
    log_->info("upgrade: pid {} serves now; this process (pid {}) drains and exits", pid,
               ::getpid());
    attempt->done({true, pid, ::getpid(), {}});
}

void HotUpgrade::abort(std::string why) {
    if (attempt_) fail(std::move(why), {});
}

// The successor must not serve next to us: it gets `grace` to exit by itself
// (it said why it gives up, or closed the channel), then it is killed.
void HotUpgrade::fail(std::string error, std::chrono::milliseconds grace) {
    auto& attempt = *attempt_;
    const auto kill_at = std::chrono::steady_clock::now() + grace;
    if (!attempt.failure.empty()) {  // already failing: only hurry
        attempt.kill_at = std::min(attempt.kill_at, kill_at);
        return;
    }
    boost::system::error_code ignored;
    attempt.timer.cancel();
    attempt.channel.close(ignored);
    attempt.failure = std::move(error);
    attempt.kill_at = kill_at;
    reap();
}

void HotUpgrade::reap() {
    auto& attempt = *attempt_;
    int status = 0;
    std::string how;
    if (::waitpid(attempt.pid, &status, WNOHANG) == attempt.pid) {
        how = "it " + describe_exit(status);
    } else if (std::chrono::steady_clock::now() >= attempt.kill_at) {
        ::kill(attempt.pid, SIGKILL);
        ::waitpid(attempt.pid, &status, 0);
        how = "it was stopped";
    } else {
        attempt.timer.expires_after(std::chrono::milliseconds(10));
        attempt.timer.async_wait([this](boost::system::error_code ec) {
            if (!ec && attempt_) reap();
        });
        return;
    }
    auto done = std::move(attempt.done);
    const std::string error = "upgrade failed: " + attempt.failure + " (" + how + ")";
    attempt_.reset();
    log_->error("{}; this process keeps serving", error);
    done({false, 0, 0, error + "; this process keeps serving"});
}

}  // namespace switchyard::app

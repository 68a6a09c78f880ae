#include "switchyard/control/control_server.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

namespace switchyard::control {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Replies {"ok":true,"cmd":"<text>","n":<count>}; "reload" replies 100 ms
// later from a timer; "wait-drained" keeps the reply for the test to send.
class FakeHandler : public CommandHandler {
  public:
    explicit FakeHandler(asio::io_context& io) : io_(io) {}

    void handle(const ControlCommand& command, const PeerCredentials& peer, Reply reply) override {
        std::unique_lock lock(mutex_);
        const int n = ++count_;
        texts_.push_back(command.text);
        peer_ = peer;
        if (++outstanding_ > max_outstanding_) max_outstanding_ = outstanding_;
        const std::string line =
            "{\"ok\":true,\"cmd\":\"" + command.text + "\",\"n\":" + std::to_string(n) + "}";
        if (command.verb == ControlCommand::Verb::wait_drained) {
            held_.push_back([this, reply, line] {
                done();
                reply(line);
            });
            cv_.notify_all();
            return;
        }
        if (command.verb == ControlCommand::Verb::reload) {
            auto timer = std::make_shared<asio::steady_timer>(io_, 100ms);
            timer->async_wait([this, timer, reply, line](boost::system::error_code) {
                done();
                reply(line);
            });
            return;
        }
        if (command.verb == ControlCommand::Verb::upgrade) {
            lock.unlock();
            done();
            reply(line);
            reply("{\"ok\":true,\"second\":true}");
            return;
        }
        if (command.verb == ControlCommand::Verb::flag) throw std::runtime_error("boom");
        lock.unlock();
        done();
        reply(line);
    }

    void rejected(const PeerCredentials& peer, std::string_view line,
                  std::string_view error) override {
        std::lock_guard lock(mutex_);
        rejected_.push_back({std::string(line), std::string(error)});
        peer_ = peer;
    }
    std::vector<std::pair<std::string, std::string>> rejected_lines() {
        std::lock_guard lock(mutex_);
        return rejected_;
    }

    // Waits until a wait-drained command is held and returns its reply.
    std::function<void()> take_held() {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, 5s, [&] { return !held_.empty(); });
        if (held_.empty()) return [] {};
        auto f = held_.front();
        held_.erase(held_.begin());
        return f;
    }

    std::vector<std::string> texts() {
        std::lock_guard lock(mutex_);
        return texts_;
    }
    PeerCredentials peer() {
        std::lock_guard lock(mutex_);
        return peer_;
    }
    int max_outstanding() {
        std::lock_guard lock(mutex_);
        return max_outstanding_;
    }

  private:
    void done() {
        std::lock_guard lock(mutex_);
        --outstanding_;
    }

    asio::io_context& io_;
    std::mutex mutex_;
    std::condition_variable cv_;
    int count_ = 0;
    int outstanding_ = 0;
    int max_outstanding_ = 0;
    std::vector<std::string> texts_;
    std::vector<std::pair<std::string, std::string>> rejected_;  // line, error
    PeerCredentials peer_;
    std::vector<std::function<void()>> held_;
};

// A blocking test client.
class Client {
  public:
    explicit Client(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), path.size());
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Client() { ::close(fd_); }
    bool connected() const { return connected_; }

    void send(const std::string& data) {
        ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(data.size()));
    }
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

    // The next line without "\n"; "<eof>" on end of stream, "<timeout>".
    std::string line(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string l = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return l;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left <= 0ms) return "<timeout>";
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "<timeout>";
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) return buf_.empty() ? "<eof>" : std::exchange(buf_, {}) + "<eof>";
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }

    std::string ask(const std::string& command) {
        send(command + "\n");
        return line();
    }

  private:
    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

class ControlServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sy-ctl-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = (dir_ / "run" / "control.sock").string();
        log_ = std::make_shared<spdlog::logger>("test",
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }

    // A socket of our own bound at path_ (listening if asked), as another
    // process would leave it; -1 if that failed.
    int bind_path(bool listening) {
        fs::create_directories(fs::path(path_).parent_path());
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size());
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            (listening && ::listen(fd, 16) != 0)) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    void start(std::function<void(ControlServer&)> configure = {}) {
        server_ = std::make_unique<ControlServer>(io_, handler_, log_);
        if (configure) configure(*server_);
        server_->listen(path_, 0660);
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        if (server_) run_on_io([this] { server_->stop(); });
        work_.reset();
        io_.stop();
        if (thread_.joinable()) thread_.join();
        server_.reset();
        fs::remove_all(dir_);
    }

    void run_on_io(std::function<void()> f) {
        if (!thread_.joinable()) return f();
        std::promise<void> done;
        asio::post(io_, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }

    fs::path dir_;
    std::string path_;
    std::shared_ptr<spdlog::logger> log_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    FakeHandler handler_{io_};
    std::unique_ptr<ControlServer> server_;
    std::thread thread_;
};

TEST_F(ControlServerTest, RepliesToACommandWithPeerCredentials) {
    start();
    Client c(path_);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    EXPECT_EQ(handler_.peer().uid, static_cast<int>(::getuid()));
    EXPECT_EQ(handler_.peer().pid, static_cast<int>(::getpid()));
}

TEST_F(ControlServerTest, CreatesTheDirectoryAndSetsTheMode) {
    start();
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(server_->path(), path_);
    EXPECT_GE(server_->native_handle(), 0);
}

TEST_F(ControlServerTest, ParseErrorIsAnsweredAndTheConnectionStays) {
    start();
    Client c(path_);
    EXPECT_EQ(c.ask("swtich green"),
              R"x({"ok":false,"error":"unknown command swtich (commands: status, switch, canary, )x"
              R"x(promote, rollback, wait-drained, server, reload, upgrade, ramp, flag, shadow, )x"
              R"x(diff, cluster)"})x");
    EXPECT_EQ(c.ask(""), R"({"ok":false,"error":"empty command"})");
    c.send(std::string("canary green 5\x01\xff\n"));
    EXPECT_EQ(c.line(), R"({"ok":false,"error":"command contains a control character"})");
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    // Each line that is not a command reaches the handler (the audit log)
    // raw, with the error it was answered with; commands do not.
    using Rejected = std::pair<std::string, std::string>;
    EXPECT_EQ(handler_.rejected_lines(),
              (std::vector<Rejected>{
                  {"swtich green",
                   "unknown command swtich (commands: status, switch, canary, promote, rollback, "
                   "wait-drained, server, reload, upgrade, ramp, flag, shadow, diff, cluster)"},
                  {"", "empty command"},
                  {"canary green 5\x01\xff", "command contains a control character"}}));
    EXPECT_EQ(handler_.peer().pid, static_cast<int>(::getpid()));
}

TEST_F(ControlServerTest, CrLfAndAFinalLineWithoutNewline) {
    start();
    Client c(path_);
    c.send("status\r\n");
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"status","n":1})");
    c.send("canary green 5");
    c.shutdown_write();
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"canary green 5","n":2})");
    EXPECT_EQ(c.line(), "<eof>");
}

TEST_F(ControlServerTest, PipelinedCommandsRunOneAtATimeInOrder) {
    start();
    Client c(path_);
    // reload answers 100 ms later; the commands after it must wait for it.
    c.send("reload\nstatus\nbogus\nreload\nstatus\n");
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"reload","n":1})");
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"status","n":2})");
    EXPECT_EQ(c.line().rfind(R"({"ok":false,"error":"unknown command bogus)", 0), 0u);
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"reload","n":3})");
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"status","n":4})");
    EXPECT_EQ(handler_.max_outstanding(), 1);
}

TEST_F(ControlServerTest, AsyncReplyFromAnotherThread) {
    start();
    Client waiter(path_);
    waiter.send("wait-drained blue timeout=60s\n");
    auto reply = handler_.take_held();
    // While it waits, another client is served.
    Client other(path_);
    EXPECT_EQ(other.ask("status"), R"({"ok":true,"cmd":"status","n":2})");
    EXPECT_EQ(waiter.line(200ms), "<timeout>");
    reply();  // from this (non-io) thread
    EXPECT_EQ(waiter.line(), R"({"ok":true,"cmd":"wait-drained blue timeout=60s","n":1})");
    EXPECT_EQ(waiter.ask("status"), R"({"ok":true,"cmd":"status","n":3})");
}

TEST_F(ControlServerTest, ASecondReplyIsIgnored) {
    start();
    Client c(path_);
    EXPECT_EQ(c.ask("upgrade"), R"({"ok":true,"cmd":"upgrade","n":1})");
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":2})");
}

TEST_F(ControlServerTest, AThrowingHandlerGetsAnErrorReply) {
    start();
    Client c(path_);
    EXPECT_EQ(c.ask("flag x 5"), R"({"ok":false,"error":"internal error: boom"})");
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":2})");
}

TEST_F(ControlServerTest, SeveralClientsAtOnce) {
    start();
    constexpr int kClients = 16;
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            Client c(path_);
            if (!c.connected()) return;
            for (int j = 0; j < 5; ++j) {
                auto r = c.ask("switch pool" + std::to_string(i));
                if (r.find("\"cmd\":\"switch pool" + std::to_string(i) + "\"") != std::string::npos)
                    ++good;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(good.load(), kClients * 5);
    EXPECT_EQ(handler_.texts().size(), static_cast<std::size_t>(kClients * 5));
}

TEST_F(ControlServerTest, ASilentOrTricklingClientDoesNotDelayOthers) {
    start();
    Client silent(path_);
    Client trickler(path_);
    silent.send("sta");
    trickler.send("s");
    for (int i = 0; i < 5; ++i) {
        const auto t0 = Clock::now();
        Client c(path_);
        EXPECT_EQ(c.ask("status").rfind(R"({"ok":true,"cmd":"status")", 0), 0u);
        EXPECT_LT(Clock::now() - t0, 1s);
        trickler.send(std::string(1, "tatus"[i]));
    }
    trickler.send("\n");
    EXPECT_EQ(trickler.line().rfind(R"({"ok":true,"cmd":"status")", 0), 0u);
}

TEST_F(ControlServerTest, IdleConnectionsAreClosed) {
    start([](ControlServer& s) { s.set_idle_timeout(300ms); });
    Client idle(path_);
    Client busy(path_);
    EXPECT_EQ(busy.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    const auto t0 = Clock::now();
    EXPECT_EQ(idle.line(3000ms), "<eof>");
    EXPECT_GE(Clock::now() - t0, 250ms);
    // A line trickled a byte at a time does not reset the deadline.
    Client trickler(path_);
    std::string got;
    for (int i = 0; i < 20 && got.empty(); ++i) {
        trickler.send("s");
        std::string l = trickler.line(50ms);
        if (l != "<timeout>") got = l;
    }
    EXPECT_EQ(got, "<eof>");
}

TEST_F(ControlServerTest, NoIdleDeadlineWhileTheHandlerWorks) {
    start([](ControlServer& s) { s.set_idle_timeout(200ms); });
    Client c(path_);
    c.send("wait-drained blue\n");
    auto reply = handler_.take_held();
    EXPECT_EQ(c.line(500ms), "<timeout>");
    reply();
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"wait-drained blue","n":1})");
}

TEST_F(ControlServerTest, LineTooLongIsAnsweredAndClosed) {
    start();
    Client c(path_);
    c.send(std::string(5000, 'a'));
    EXPECT_EQ(c.line(), R"({"ok":false,"error":"line too long"})");
    EXPECT_EQ(c.line(), "<eof>");

    Client d(path_);
    d.send("switch " + std::string(kMaxLineBytes - 6, 'g') + "\n");
    EXPECT_EQ(d.line(), R"({"ok":false,"error":"line too long"})");
    EXPECT_EQ(d.line(), "<eof>");
    // Both are reported, cut at kMaxLineBytes.
    const auto rejected = handler_.rejected_lines();
    ASSERT_EQ(rejected.size(), 2u);
    EXPECT_EQ(rejected[0],
              std::make_pair(std::string(kMaxLineBytes, 'a'), std::string("line too long")));
    EXPECT_EQ(rejected[1].first, "switch " + std::string(kMaxLineBytes - 7, 'g'));
    EXPECT_TRUE(handler_.texts().empty());
}

TEST_F(ControlServerTest, LongestLineIsAccepted) {
    start();
    Client c(path_);
    const std::string pool(kMaxLineBytes - 7, 'g');
    c.send("switch " + pool + "\r\n");
    EXPECT_EQ(c.line(), R"({"ok":true,"cmd":"switch )" + pool + R"(","n":1})");
}

TEST_F(ControlServerTest, TooManyConnections) {
    start([](ControlServer& s) { s.set_max_connections(2); });
    Client a(path_);
    Client b(path_);
    EXPECT_EQ(a.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    EXPECT_EQ(b.ask("status"), R"({"ok":true,"cmd":"status","n":2})");
    Client c(path_);
    EXPECT_EQ(c.line(), R"({"ok":false,"error":"too many control connections"})");
    EXPECT_EQ(c.line(), "<eof>");
    EXPECT_EQ(a.ask("status"), R"({"ok":true,"cmd":"status","n":3})");
}

TEST_F(ControlServerTest, StopClosesSessionsAndDropsLateReplies) {
    start();
    Client c(path_);
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    Client waiter(path_);
    waiter.send("wait-drained blue\n");
    auto reply = handler_.take_held();
    run_on_io([this] { server_->stop(); });
    EXPECT_EQ(c.line(), "<eof>");
    EXPECT_EQ(waiter.line(), "<eof>");
    reply();
    run_on_io([] {});
    EXPECT_FALSE(Client(path_).connected());
    EXPECT_EQ(server_->native_handle(), -1);
    EXPECT_TRUE(fs::exists(path_)) << "the socket file stays for a successor";
}

TEST_F(ControlServerTest, StaleSocketIsReplaced) {
    // Bound, then closed without unlink: what a crashed process leaves.
    const int fd = bind_path(false);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_TRUE(fs::is_socket(path_));
    start();
    Client c(path_);
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
}

// What a process killed with an io_uring accept pending leaves: a socket
// that still takes connects for a moment after the exit. It is asked again
// before it counts as live, and replaced once it stops listening.
TEST_F(ControlServerTest, ASocketThatStopsListeningShortlyIsReplaced) {
    const int fd = bind_path(true);
    ASSERT_GE(fd, 0);
    std::thread closer([fd] {
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 5000);  // the first probe's connect
        ::close(fd);
    });
    start();
    closer.join();
    Client c(path_);
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
}

TEST_F(ControlServerTest, LiveSocketIsRefused) {
    start();
    asio::io_context other_io;
    FakeHandler other_handler(other_io);
    ControlServer second(other_io, other_handler, log_);
    try {
        second.listen(path_, 0600);
        FAIL() << "listen on a live socket succeeded";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "another switchyard is listening on " + path_);
    }
    // The first one still serves, with its mode intact.
    Client c(path_);
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(ControlServerTest, APathThatIsNotASocketIsRefused) {
    fs::create_directories(fs::path(path_).parent_path());
    std::ofstream(path_) << "data";
    ControlServer s(io_, handler_, log_);
    try {
        s.listen(path_, 0600);
        FAIL() << "listen over a regular file succeeded";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "control socket " + path_ + ": the path exists and is not a socket");
    }
    EXPECT_TRUE(fs::is_regular_file(path_));
}

TEST_F(ControlServerTest, APathTooLongIsRefused) {
    ControlServer s(io_, handler_, log_);
    EXPECT_THROW(s.listen("/tmp/" + std::string(200, 'x'), 0600), std::runtime_error);
}

TEST_F(ControlServerTest, AdoptsAListeningDescriptor) {
    const int fd = bind_path(true);
    ASSERT_GE(fd, 0);
    server_ = std::make_unique<ControlServer>(io_, handler_, log_);
    server_->adopt(fd);
    EXPECT_EQ(server_->native_handle(), fd);
    EXPECT_EQ(server_->path(), path_);
    thread_ = std::thread([this] { io_.run(); });
    Client c(path_);
    EXPECT_EQ(c.ask("status"), R"({"ok":true,"cmd":"status","n":1})");
}

}  // namespace
}  // namespace switchyard::control

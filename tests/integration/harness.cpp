#include "harness.hpp"

#include <sys/un.h>

#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sy_it {

namespace fs = std::filesystem;

bool poll_until(Clock::time_point deadline, const std::function<bool()>& cond, milliseconds step) {
    for (;;) {
        if (cond()) return true;
        if (Clock::now() >= deadline) return cond();
        std::this_thread::sleep_for(step);
    }
}

// --- Bytes -------------------------------------------------------------------------

std::string hex16(std::uint64_t v) {
    char buf[17];
    for (int i = 15; i >= 0; --i, v >>= 4)
        buf[i] = "0123456789abcdef"[v & 0xf];
    buf[16] = 0;
    return buf;
}

namespace {
constexpr std::size_t kPatternTable = 64 * 1024;
const char* pattern_table() {
    static const std::string table = [] {
        std::string s(kPatternTable + 26, '\0');
        for (std::size_t i = 0; i < s.size(); ++i)
            s[i] = static_cast<char>('a' + i % 26);
        return s;
    }();
    return table.data();
}
}  // namespace

std::string pattern(std::uint64_t offset, std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<char>('a' + (offset + i) % 26);
    return out;
}

std::size_t pattern_mismatch(std::uint64_t offset, std::string_view data) {
    const char* table = pattern_table();
    std::size_t done = 0;
    while (done < data.size()) {
        const std::size_t n = std::min(kPatternTable, data.size() - done);
        const char* expect = table + (offset + done) % 26;
        if (std::memcmp(data.data() + done, expect, n) != 0) {
            for (std::size_t i = 0; i < n; ++i)
                if (data[done + i] != expect[i]) return done + i;
        }
        done += n;
    }
    return std::string_view::npos;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

long vm_hwm_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

// --- TempDir ---------------------------------------------------------------------------

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sy-it-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (std::getenv("SY_KEEP_TMP") != nullptr) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
}

// --- Process ---------------------------------------------------------------------------

Process::Process(const Options& options) : options_(options) {
    if (options_.argv.empty()) throw std::invalid_argument("Process: empty argv");
    std::vector<char*> argv;
    for (auto& a : options_.argv)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    auto open_out = [](const fs::path& p) {
        const std::string s = p.empty() ? std::string("/dev/null") : p.string();
        int fd = ::open(s.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error("open " + s + ": " + std::strerror(errno));
        return fd;
    };
    int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = -1;
    int pipe_fds[2] = {-1, -1};
    if (options_.stdout_pipe) {
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
        out_fd = pipe_fds[1];
    } else {
        out_fd = open_out(options_.stdout_path);
    }
    int err_fd = open_out(options_.stderr_path);

    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Child: only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::dup2(in_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::closefrom(3);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
    if (pid_ < 0) {
        if (pipe_fds[0] >= 0) ::close(pipe_fds[0]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
    }
    if (options_.stdout_pipe) {
        stdout_fd_ = pipe_fds[0];
        ::fcntl(stdout_fd_, F_SETFL, O_NONBLOCK);
    }
}

Process::~Process() {
    if (pid_ > 0 && !status_) {
        if (!try_reap()) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
            }
        }
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void Process::signal(int signo) {
    if (pid_ > 0 && !status_) ::kill(pid_, signo);
}

bool Process::try_reap() {
    if (status_) return true;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = st;
        return true;
    }
    return false;
}

bool Process::running() {
    return !try_reap();
}

std::optional<int> Process::wait_exit(Clock::time_point deadline) {
    poll_until(
        deadline, [&] { return try_reap(); }, milliseconds(2));
    return status_;
}

std::optional<std::string> Process::read_line(Clock::time_point deadline) {
    if (stdout_fd_ < 0) return std::nullopt;
    for (;;) {
        if (auto nl = stdout_buf_.find('\n'); nl != std::string::npos) {
            std::string line = stdout_buf_.substr(0, nl);
            stdout_buf_.erase(0, nl + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd pfd{stdout_fd_, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 50)));
        if (r < 0 && errno != EINTR) return std::nullopt;
        if (r <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
        if (n == 0) return std::nullopt;
        if (n > 0) stdout_buf_.append(buf, static_cast<std::size_t>(n));
    }
}

std::string describe_status(int st) {
    if (WIFEXITED(st)) return "exited " + std::to_string(WEXITSTATUS(st));
    if (WIFSIGNALED(st)) return "killed by signal " + std::to_string(WTERMSIG(st));
    return "status " + std::to_string(st);
}

bool exited_with(const std::optional<int>& st, int code) {
    return st && WIFEXITED(*st) && WEXITSTATUS(*st) == code;
}

// --- Sockets ----------------------------------------------------------------------------

namespace {
sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    return static_cast<int>(std::min<long long>(left, 1'000'000));
}
}  // namespace

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    auto a = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool wait_for_port(std::uint16_t port, Clock::time_point deadline) {
    return poll_until(
        deadline,
        [&] { return Socket::connect(port, std::min(deadline, after(milliseconds(500)))).valid(); },
        milliseconds(10));
}

void Socket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Socket Socket::connect(std::uint16_t port, Clock::time_point deadline, int* error) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        if (error) *error = errno;
        return Socket();
    }
    Socket s(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return s;
    if (errno != EINPROGRESS) {
        if (error) *error = errno;
        return Socket();
    }
    pollfd pfd{fd, POLLOUT, 0};
    for (;;) {
        int r = ::poll(&pfd, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (error) *error = ETIMEDOUT;
            return Socket();
        }
        break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        if (error) *error = err;
        return Socket();
    }
    return s;
}

bool Socket::send_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd pfd{fd_, POLLOUT, 0};
            int r = ::poll(&pfd, 1, remaining_ms(deadline));
            if (r == 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

long Socket::recv_some(char* buf, std::size_t max, Clock::time_point deadline) {
    for (;;) {
        ssize_t n = ::recv(fd_, buf, max, 0);
        if (n >= 0) return static_cast<long>(n);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        pollfd pfd{fd_, POLLIN, 0};
        int r = ::poll(&pfd, 1, remaining_ms(deadline));
        if (r == 0) return -2;
        if (r < 0 && errno != EINTR) return -1;
    }
}

void Socket::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

std::uint16_t Socket::local_port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// --- HTTP client -------------------------------------------------------------------------

std::string Response::header(std::string_view name) const {
    auto it = msg.find(beast::string_view(name.data(), name.size()));
    if (it == msg.end()) return {};
    return std::string(it->value());
}

std::size_t Response::count(std::string_view name) const {
    return msg.count(beast::string_view(name.data(), name.size()));
}

HttpConn::HttpConn(std::uint16_t port, Clock::duration timeout) {
    int err = 0;
    sock_ = Socket::connect(port, after(timeout), &err);
    if (!sock_.valid())
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(err));
}

void HttpConn::send(std::string_view raw, Clock::duration timeout) {
    if (!sock_.send_all(raw, after(timeout)))
        throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
}

template <class Parser>
beast::error_code HttpConn::read_into(Parser& p, Clock::time_point deadline, std::size_t& wire) {
    p.eager(true);
    p.header_limit(1024 * 1024);
    p.body_limit(boost::none);
    for (;;) {
        if (!buf_.empty()) {
            beast::error_code ec;
            const std::size_t used = p.put(boost::asio::buffer(buf_.data(), buf_.size()), ec);
            buf_.erase(0, used);
            wire += used;
            if (ec && ec != bhttp::error::need_more) return ec;
            if (p.is_done()) return {};
            if (!ec && used > 0) continue;
        }
        constexpr std::size_t kRead = 256 * 1024;
        const std::size_t old = buf_.size();
        buf_.resize(old + kRead);
        long n = sock_.recv_some(buf_.data() + old, kRead, deadline);
        const int err = errno;
        buf_.resize(old + static_cast<std::size_t>(std::max(n, 0L)));
        if (n > 0) continue;
        if (n == 0) {
            // Beast's put_eof() asserts got_some(): EOF before any byte is
            // the end of the stream, not an empty message.
            if (!p.got_some()) return bhttp::error::end_of_stream;
            beast::error_code ec;
            p.put_eof(ec);
            if (!ec && p.is_done()) return {};
            return ec ? ec : beast::error_code(bhttp::error::partial_message);
        }
        if (n == -2) return beast::error::timeout;
        return beast::error_code(err, boost::system::system_category());
    }
}

beast::error_code HttpConn::try_read_response(Response& out, Clock::duration timeout,
                                              bool head_request) {
    bhttp::response_parser<bhttp::string_body> p;
    if (head_request) p.skip(true);
    out.wire_bytes = 0;
    auto ec = read_into(p, after(timeout), out.wire_bytes);
    out.msg = p.release();
    return ec;
}

beast::error_code HttpConn::try_read_streamed(StreamedResponse& out, Clock::duration timeout) {
    bhttp::response_parser<StatsBody> p;
    p.get().body().want_fnv = out.msg.body().want_fnv;
    out.wire_bytes = 0;
    auto ec = read_into(p, after(timeout), out.wire_bytes);
    out.msg = p.release();
    return ec;
}

Response HttpConn::read_response(Clock::duration timeout, bool head_request) {
    Response r;
    auto ec = try_read_response(r, timeout, head_request);
    if (ec) throw std::runtime_error("reading a response failed: " + ec.message());
    return r;
}

Response HttpConn::roundtrip(std::string_view raw, Clock::duration timeout) {
    send(raw, timeout);
    return read_response(timeout);
}

HttpConn::RawRead HttpConn::read_until_close(Clock::duration timeout) {
    RawRead out;
    out.bytes = std::move(buf_);
    buf_.clear();
    const auto deadline = after(timeout);
    char tmp[64 * 1024];
    for (;;) {
        long n = sock_.recv_some(tmp, sizeof tmp, deadline);
        if (n > 0) {
            out.bytes.append(tmp, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) out.eof = true;
        if (n == -1) out.reset = true;
        if (n == -2) out.timed_out = true;
        return out;
    }
}

bool HttpConn::wait_closed(Clock::duration timeout, std::string* unexpected) {
    auto r = read_until_close(timeout);
    if (unexpected) *unexpected += r.bytes;
    return (r.eof || r.reset) && r.bytes.empty();
}

std::string get_request(std::string_view target, std::string_view extra) {
    std::string s = "GET ";
    s.append(target);
    s.append(" HTTP/1.1\r\nHost: test\r\n");
    s.append(extra);
    s.append("\r\n");
    return s;
}

// --- EchoServer --------------------------------------------------------------------------

EchoServer::EchoServer(const TempDir& dir, std::string name, std::vector<std::string> args)
    : name_(std::move(name)) {
    Process::Options o;
    o.argv = {SWITCHYARD_ECHO_BIN, "--name", name_, "--listen", "127.0.0.1:0"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.stdout_pipe = true;
    o.stderr_path = dir / ("echo-" + name_ + ".stderr");
    proc_ = std::make_unique<Process>(o);
    auto line = proc_->read_line(after(seconds(10)));
    const std::string prefix = "listening 127.0.0.1:";
    if (!line || line->rfind(prefix, 0) != 0)
        throw std::runtime_error("switchyard-echo " + name_ + " did not start: '" +
                                 line.value_or("<no line>") + "' " + read_file(o.stderr_path));
    port_ = static_cast<std::uint16_t>(std::stoul(line->substr(prefix.size())));
}

// --- Switchyard ---------------------------------------------------------------------------

std::string render_config(const ProxyConfig& cfg, const TempDir& dir, std::uint16_t port) {
    std::ostringstream t;
    t << "[server]\n";
    t << "workers = " << cfg.workers << "\n";
    t << "state_file = \""
      << (cfg.state_file.empty() ? (dir / "state.json").string() : cfg.state_file) << "\"\n";
    for (const auto& [k, v] : cfg.server)
        t << k << " = " << v << "\n";
    if (!cfg.timeouts.empty()) {
        t << "\n[timeouts]\n";
        for (const auto& [k, v] : cfg.timeouts)
            t << k << " = " << v << "\n";
    }
    if (!cfg.limits.empty()) {
        t << "\n[limits]\n";
        for (const auto& [k, v] : cfg.limits)
            t << k << " = " << v << "\n";
    }
    t << "\n[log]\n";
    t << "level = \"" << cfg.level << "\"\n";
    t << "error_log = \""
      << (cfg.error_log_file ? (dir / "error.log").string() : std::string("stderr")) << "\"\n";
    t << "access_log = \""
      << (cfg.access_log_file ? (dir / "access.log").string() : std::string("off")) << "\"\n";
    t << "audit_log = \""
      << (cfg.audit_log_file ? (dir / "audit.log").string() : std::string("stderr")) << "\"\n";
    for (const auto& [k, v] : cfg.log)
        t << k << " = " << v << "\n";
    t << "\n[[listeners]]\n";
    t << "address = \"127.0.0.1:" << port << "\"\n";
    t << cfg.listener_extra;
    if (cfg.admin_port != 0) t << "\n[admin]\naddress = \"127.0.0.1:" << cfg.admin_port << "\"\n";
    if (cfg.control_socket) {
        t << "\n[control]\n";
        t << "socket = \"" << (dir / "control.sock").string() << "\"\n";
    }
    t << "\n[routing]\n";
    t << "active = \"" << cfg.active << "\"\n";
    for (const auto& [k, v] : cfg.routing)
        t << k << " = " << v << "\n";
    for (const auto& pool : cfg.pools) {
        t << "\n[pools." << pool.name << "]\n";
        t << "servers = [";
        for (std::size_t i = 0; i < pool.servers.size(); ++i)
            t << (i ? ", " : "") << "{ address = \"" << pool.servers[i] << "\" }";
        t << "]\n";
        t << pool.extra;
    }
    t << cfg.extra;
    return t.str();
}

Switchyard::Switchyard(const TempDir& dir, const ProxyConfig& cfg) {
    config_path_ = dir / "switchyard.toml";
    access_log_ = dir / "access.log";
    stderr_path_ = dir / "switchyard.stderr";
    // A port taken between free_port() and the bind is retried once.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_port();
        write_file(config_path_, render_config(cfg, dir, port_));
        Process::Options o;
        o.argv = cfg.launcher;
        for (std::string a :
             {std::string(SWITCHYARD_BIN), std::string("-c"), config_path_.string()})
            o.argv.push_back(a);
        o.stdout_path = dir / "switchyard.stdout";
        o.stderr_path = stderr_path_;
        proc_ = std::make_unique<Process>(o);
        const auto deadline = after(seconds(10));
        bool up = poll_until(
            deadline,
            [&] {
                if (!proc_->running()) return true;
                return Socket::connect(port_, after(milliseconds(200))).valid();
            },
            milliseconds(5));
        if (up && proc_->running()) return;
        if (!up)
            throw std::runtime_error("switchyard did not listen within 10 s: " + stderr_text());
        if (stderr_text().find("Address already in use") == std::string::npos)
            throw std::runtime_error("switchyard exited at start: " + stderr_text());
    }
    throw std::runtime_error("switchyard could not bind a port: " + stderr_text());
}

std::string Switchyard::stderr_text() const {
    return read_file(stderr_path_);
}

std::vector<std::string> Switchyard::wait_access_lines(std::size_t n,
                                                       Clock::duration timeout) const {
    std::vector<std::string> lines;
    poll_until(
        after(timeout),
        [&] {
            lines.clear();
            std::string text = read_file(access_log_);
            std::size_t start = 0;
            for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
                lines.push_back(text.substr(start, nl - start));
            return lines.size() >= n;
        },
        milliseconds(10));
    return lines;
}

CheckResult run_check(const TempDir& dir, const fs::path& config) {
    Process::Options o;
    o.argv = {SWITCHYARD_BIN, "--check", "-c", config.string()};
    o.stdout_path = dir / "check.stdout";
    o.stderr_path = dir / "check.stderr";
    CheckResult r;
    {
        Process p(o);
        r.status = p.wait_exit(after(seconds(10)));
    }
    r.out = read_file(o.stdout_path);
    r.err = read_file(o.stderr_path);
    return r;
}

// --- ScriptedUpstream ---------------------------------------------------------------------

ScriptedUpstream::ScriptedUpstream(Handler handler) : handler_(std::move(handler)) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error("socket");
    listener_ = Socket(fd);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0)
        throw std::runtime_error(std::string("scripted upstream: ") + std::strerror(errno));
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

ScriptedUpstream::~ScriptedUpstream() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

void ScriptedUpstream::accept_loop() {
    while (!stop_) {
        pollfd pfd{listener_.fd(), POLLIN, 0};
        if (::poll(&pfd, 1, 20) <= 0) continue;
        int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int seq = ++connections_;
        std::lock_guard lock(mu_);
        threads_.emplace_back([this, fd, seq] {
            {
                Conn c(Socket(fd), *this);
                handler_(c, seq);
            }
            ++closed;
        });
    }
}

ScriptedUpstream::Conn::Wait ScriptedUpstream::Conn::wait_readable(Clock::duration timeout) {
    const auto deadline = after(timeout);
    if (!buf.empty()) return Wait::data;
    while (!owner_.stopping() && Clock::now() < deadline) {
        pollfd pfd{sock.fd(), POLLIN, 0};
        int r = ::poll(&pfd, 1, std::min(20, remaining_ms(deadline)));
        if (r <= 0) continue;
        char tmp[4096];
        ssize_t n = ::recv(sock.fd(), tmp, sizeof tmp, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return Wait::closed;
        buf.append(tmp, static_cast<std::size_t>(n));
        return Wait::data;
    }
    return Wait::timeout;
}

std::optional<ScriptedUpstream::Request> ScriptedUpstream::Conn::read_request(
    Clock::duration timeout) {
    const auto deadline = after(timeout);
    auto fill = [&]() -> bool {  // one more read; false at EOF/error/deadline/stop
        while (!owner_.stopping() && Clock::now() < deadline) {
            pollfd pfd{sock.fd(), POLLIN, 0};
            int r = ::poll(&pfd, 1, std::min(20, remaining_ms(deadline)));
            if (r <= 0) continue;
            char tmp[64 * 1024];
            ssize_t n = ::recv(sock.fd(), tmp, sizeof tmp, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) return false;
            buf.append(tmp, static_cast<std::size_t>(n));
            return true;
        }
        return false;
    };
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
        if (!fill()) return std::nullopt;
    Request req;
    req.head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    std::string lower = req.head;
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t length = 0;
    if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos)
        length = std::stoul(lower.substr(p + 17));
    while (buf.size() < length)
        if (!fill()) return std::nullopt;
    req.body = buf.substr(0, length);
    buf.erase(0, length);
    return req;
}

}  // namespace sy_it

namespace sy_it {

CtlRun run_switchyardctl(const std::filesystem::path& dir, const std::filesystem::path& socket,
                         const std::vector<std::string>& args, Clock::duration timeout) {
    Process::Options o;
    o.argv = {SWITCHYARDCTL_BIN, "-s", socket.string()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.stdout_path = dir / "ctl.out";
    o.stderr_path = dir / "ctl.err";
    Process p(o);
    auto status = p.wait_exit(after(timeout));
    CtlRun r;
    if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
    r.out = read_file(o.stdout_path);
    r.err = read_file(o.stderr_path);
    return r;
}

std::string control_command(const std::filesystem::path& socket, std::string_view line,
                            Clock::duration timeout) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket(AF_UNIX) failed");
    Socket s(fd);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("cannot connect to " + socket.string());
    const auto deadline = after(timeout);
    if (!s.send_all(std::string(line) + "\n", deadline))
        throw std::runtime_error("cannot send to " + socket.string());
    std::string reply;
    char buf[4096];
    while (reply.find('\n') == std::string::npos) {
        long n = s.recv_some(buf, sizeof buf, deadline);
        if (n <= 0) throw std::runtime_error("no reply to \"" + std::string(line) + "\": " + reply);
        reply.append(buf, static_cast<std::size_t>(n));
    }
    return reply.substr(0, reply.find('\n'));
}

NotifySocket::NotifySocket(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd_ >= 0) ::close(fd_);
        throw std::runtime_error("cannot bind " + path.string());
    }
}

NotifySocket::~NotifySocket() {
    ::close(fd_);
}

std::string NotifySocket::wait_for(std::string_view what, Clock::duration timeout) {
    const auto deadline = after(timeout);
    do {
        for (const auto& m : messages_)
            if (m.find(what) != std::string::npos) return m;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) messages_.emplace_back(buf, static_cast<std::size_t>(n));
    } while (Clock::now() < deadline);
    return "";
}

std::size_t NotifySocket::count(std::string_view what) const {
    std::size_t n = 0;
    for (const auto& m : messages_)
        n += m.find(what) != std::string::npos ? 1 : 0;
    return n;
}

}  // namespace sy_it

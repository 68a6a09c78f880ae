#include "switchyard/control/control_server.hpp"

#include <fcntl.h>
#include <spdlog/logger.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

#include "switchyard/control/state_file.hpp"

namespace switchyard::control {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using boost::system::error_code;

namespace {

class Session;

// Descriptors must not leak into processes we start (hot upgrade execs a
// new binary; it gets the listener explicitly).
void set_cloexec(int fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// Connects to the socket at `path` without blocking: 0 if someone listens
// (a full backlog, EAGAIN, says so too), else the connect's errno.
int probe_listener(const std::string& path) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0)
        throw std::runtime_error("control socket " + path + ": socket: " + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    const int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = rc == 0 ? 0 : errno;
    ::close(probe);
    return err == EAGAIN || err == EINPROGRESS ? 0 : err;
}

}  // namespace

// Shared by the ControlServer and its sessions and handlers, so that a
// handler that runs after the ControlServer is gone finds valid state.
struct ControlServer::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io_, CommandHandler& handler_, std::shared_ptr<spdlog::logger> log_)
        : io(io_), handler(handler_), log(std::move(log_)), acceptor(io_), retry_timer(io_) {}

    void do_accept();
    void on_accept(const error_code& ec, local::socket socket);
    void stop();

    asio::io_context& io;
    CommandHandler& handler;
    std::shared_ptr<spdlog::logger> log;
    local::acceptor acceptor;
    asio::steady_timer retry_timer;
    Duration idle_timeout = ControlServer::kDefaultIdleTimeout;
    std::size_t max_connections = ControlServer::kDefaultMaxConnections;
    std::set<Session*> sessions;  // each removes itself when destroyed
    std::string path;
    bool stopped = false;
};

namespace {

// One control connection (Beast example style): kept alive by the handler
// of its pending operation or by an outstanding Reply.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(std::shared_ptr<ControlServer::Impl> server, local::socket socket, PeerCredentials peer)
        : server_(std::move(server)),
          socket_(std::move(socket)),
          timer_(server_->io),
          peer_(peer) {}

    ~Session() { server_->sessions.erase(this); }

    void start() {
        server_->sessions.insert(this);
        do_read();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        timer_.cancel();
        error_code ec;
        socket_.shutdown(local::socket::shutdown_both, ec);
        socket_.close(ec);
    }

  private:
    void do_read() {
        if (closed_) return;
        // A line already buffered (pipelined commands) goes first.
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            on_line(std::move(line));
            return;
        }
        // Room for the longest line and its "\r"; past that no "\n" can
        // make it valid.
        if (buffer_.size() > kMaxLineBytes + 1) return refuse(buffer_, "line too long", true);
        if (eof_) {
            // A last command without its "\n" still counts; then we are done.
            if (buffer_.empty()) return close();
            on_line(std::exchange(buffer_, {}));
            return;
        }
        // One deadline per line, not per read: a client that trickles a byte
        // at a time cannot hold the connection forever.
        if (!in_line_) {
            in_line_ = true;
            arm_timer();
        }
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                    self->on_read(ec, n);
                                });
    }

    void on_read(const error_code& ec, std::size_t n) {
        if (ec == asio::error::eof) {
            eof_ = true;
            return do_read();
        }
        if (ec) return fail(ec, "read");
        buffer_.append(chunk_.data(), n);
        do_read();
    }

    void on_line(std::string line) {
        in_line_ = false;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > kMaxLineBytes) return refuse(line, "line too long", true);
        auto parsed = parse_command(line);
        if (!parsed.command) return refuse(line, parsed.error, false);
        // The handler may take its time (wait-drained): the client waits for
        // us, so no idle deadline runs meanwhile.
        timer_.cancel();
        awaiting_reply_ = true;
        const std::uint64_t seq = ++command_seq_;
        Reply reply = [self = shared_from_this(), seq](std::string json_line) {
            // Any thread may reply: hop onto the session's executor.
            asio::post(self->socket_.get_executor(),
                       [self, seq, json_line = std::move(json_line)]() mutable {
                           self->on_reply(seq, std::move(json_line));
                       });
        };
        try {
            server_->handler.handle(*parsed.command, peer_, std::move(reply));
        } catch (const std::exception& e) {
            // A bug in a handler must not take the control plane down.
            if (server_->log) server_->log->error("control command failed: {}", e.what());
            on_reply(seq, error_reply(std::string("internal error: ") + e.what()));
        }
    }

    // Answers a line that is not a command, after telling the handler (the
    // audit log records it; only the start of an over-long line).
    void refuse(std::string_view line, const std::string& error, bool close_after) {
        server_->handler.rejected(peer_, line.substr(0, kMaxLineBytes), error);
        send(error_reply(error), close_after);
    }

    void on_reply(std::uint64_t seq, std::string json_line) {
        if (!awaiting_reply_ || seq != command_seq_) {
            if (server_->log) server_->log->warn("control: a second reply to one command ignored");
            return;
        }
        awaiting_reply_ = false;
        send(std::move(json_line), false);
    }

    void send(std::string json_line, bool close_after) {
        if (closed_) return;
        out_ = std::move(json_line);
        out_ += '\n';
        arm_timer();
        asio::async_write(
            socket_, asio::buffer(out_),
            [self = shared_from_this(), close_after](const error_code& ec, std::size_t) {
                if (ec) return self->fail(ec, "write");
                if (close_after) return self->close();
                self->do_read();
            });
    }

    void arm_timer() {
        timer_.expires_after(server_->idle_timeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            // A wait that completed just before the timer was re-armed is not
            // a timeout: check the expiry.
            if (ec || self->timer_.expiry() > asio::steady_timer::clock_type::now()) return;
            if (self->server_->log)
                self->server_->log->debug("control: closing a connection silent for {} ms (pid {})",
                                          self->server_->idle_timeout.count(), self->peer_.pid);
            self->close();
        });
    }

    void fail(const error_code& ec, const char* what) {
        if (ec != asio::error::operation_aborted && server_->log && !closed_)
            server_->log->debug("control: {} failed: {}", what, ec.message());
        close();
    }

    std::shared_ptr<ControlServer::Impl> server_;
    local::socket socket_;
    asio::steady_timer timer_;
    PeerCredentials peer_;
    std::array<char, 1024> chunk_{};
    std::string buffer_;
    std::string out_;
    std::uint64_t command_seq_ = 0;
    bool awaiting_reply_ = false;
    bool in_line_ = false;  // the deadline for the line being read runs
    bool eof_ = false;
    bool closed_ = false;
};

PeerCredentials peer_credentials(int fd) {
    PeerCredentials peer;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer.uid = static_cast<int>(cred.uid);
        peer.pid = static_cast<int>(cred.pid);
    }
    return peer;
}

}  // namespace

void ControlServer::Impl::do_accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, local::socket socket) {
        self->on_accept(ec, std::move(socket));
    });
}

void ControlServer::Impl::on_accept(const error_code& ec, local::socket socket) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
        // Out of descriptors or memory: retry a little later instead of
        // spinning on an error that will not clear at once.
        if (ec == asio::error::no_descriptors || ec == asio::error::no_memory ||
            ec == asio::error::no_buffer_space || ec.value() == ENFILE) {
            if (log) log->warn("control: accept failed: {}; retrying in 100 ms", ec.message());
            retry_timer.expires_after(std::chrono::milliseconds(100));
            retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
                if (!e && !self->stopped) self->do_accept();
            });
            return;
        }
        if (log) log->debug("control: accept failed: {}", ec.message());
        return do_accept();
    }
    set_cloexec(socket.native_handle());
    if (sessions.size() >= max_connections) {
        // The socket is fresh, so a short line fits its send buffer: a
        // non-blocking send never stalls the io_context.
        const std::string busy = error_reply("too many control connections") + "\n";
        ssize_t sent =
            ::send(socket.native_handle(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)sent;
        if (log) log->warn("control: {} connections already open; refusing one", sessions.size());
        error_code ignored;
        socket.close(ignored);
        return do_accept();
    }
    const PeerCredentials peer = peer_credentials(socket.native_handle());
    std::make_shared<Session>(shared_from_this(), std::move(socket), peer)->start();
    do_accept();
}

void ControlServer::Impl::stop() {
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    // close() only cancels operations; sessions go when their handlers run.
    for (Session* s : std::set<Session*>(sessions))
        s->close();
}

ControlServer::ControlServer(asio::io_context& io, CommandHandler& handler,
                             std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<Impl>(io, handler, std::move(log))) {}

ControlServer::~ControlServer() {
    stop();
}

void ControlServer::listen(const std::string& path, std::uint32_t mode) {
    const std::string where = "control socket " + path;
    if (path.empty()) throw std::runtime_error("control socket: empty path");
    if (path.size() >= sizeof(sockaddr_un::sun_path))
        throw std::runtime_error(where + ": path longer than " +
                                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    std::string error;
    if (!make_directories(std::filesystem::path(path).parent_path(), error))
        throw std::runtime_error(where + ": " + error);

    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            throw std::runtime_error(where + ": the path exists and is not a socket");
        // Live or stale? Only a connect tells. A process killed while an
        // io_uring accept was pending (the SWITCHYARD_IO_URING build) leaves
        // its socket listening until the kernel has torn its ring down,
        // shortly after the exit: a listener is asked again for a moment
        // before it counts as live.
        int err = probe_listener(path);
        for (int i = 0; err == 0 && i < 10; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            err = probe_listener(path);
        }
        if (err == 0) throw std::runtime_error("another switchyard is listening on " + path);
        if (err != ECONNREFUSED)
            throw std::runtime_error(where +
                                     ": cannot tell whether it is in use: " + std::strerror(err));
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw std::runtime_error(where +
                                     ": cannot remove the stale socket: " + std::strerror(errno));
        if (impl_->log) impl_->log->info("control: replaced the stale socket {}", path);
    }

    auto& acceptor = impl_->acceptor;
    error_code ec;
    const local::endpoint endpoint(path);
    acceptor.open(endpoint.protocol(), ec);
    if (ec) throw std::runtime_error(where + ": socket: " + ec.message());
    set_cloexec(acceptor.native_handle());
    acceptor.bind(endpoint, ec);
    if (ec) {
        error_code ignored;
        acceptor.close(ignored);
        throw std::runtime_error(where + ": bind: " + ec.message());
    }
    // Before listen(): until then every connect is refused, so no client
    // ever reaches the socket with the umask's permissions.
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
        const int err = errno;
        acceptor.close(ec);
        ::unlink(path.c_str());
        throw std::runtime_error(where + ": chmod: " + std::strerror(err));
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        error_code ignored;
        acceptor.close(ignored);
        ::unlink(path.c_str());
        throw std::runtime_error(where + ": listen: " + ec.message());
    }
    impl_->path = path;
    impl_->stopped = false;
    impl_->do_accept();
}

void ControlServer::adopt(int fd) {
    error_code ec;
    impl_->acceptor.assign(local(), fd, ec);
    if (ec)
        throw std::runtime_error("control socket (fd " + std::to_string(fd) + "): " + ec.message());
    set_cloexec(fd);
    auto endpoint = impl_->acceptor.local_endpoint(ec);
    impl_->path = ec ? std::string() : endpoint.path();
    impl_->stopped = false;
    impl_->do_accept();
}

int ControlServer::native_handle() const {
    return impl_->acceptor.is_open() ? impl_->acceptor.native_handle() : -1;
}

const std::string& ControlServer::path() const {
    return impl_->path;
}

void ControlServer::stop() {
    impl_->stop();
}

void ControlServer::stop_accepting() {
    impl_->stopped = true;
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
}

void ControlServer::set_idle_timeout(Duration timeout) {
    impl_->idle_timeout = timeout;
}

void ControlServer::set_max_connections(std::size_t max) {
    impl_->max_connections = max;
}

std::size_t ControlServer::connection_count() const {
    return impl_->sessions.size();
}

}  // namespace switchyard::control

// Integration-test harness: real processes (switchyard, switchyard-echo) on
// 127.0.0.1 with ephemeral ports, a blocking HTTP/1.1 client on raw sockets
// (responses parsed by Beast), and small scripted upstreams for behaviour the
// echo server cannot produce. Every wait is bounded by a deadline; nothing
// sleeps to synchronise: conditions are polled with short pauses in between.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sy_it {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

inline Clock::time_point after(Clock::duration d) {
    return Clock::now() + d;
}
inline long long ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

// Polls `cond` every `step` until it is true (returns true) or the deadline
// passes (returns false).
bool poll_until(Clock::time_point deadline, const std::function<bool()>& cond,
                milliseconds step = milliseconds(5));

// --- Bytes -----------------------------------------------------------------------

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

inline std::uint64_t fnv1a(std::uint64_t h, std::string_view data) {
    for (unsigned char c : data) {
        h ^= c;
        h *= kFnvPrime;
    }
    return h;
}
inline std::uint64_t fnv1a(std::string_view data) {
    return fnv1a(kFnvOffset, data);
}
std::string hex16(std::uint64_t v);

// switchyard-echo's body pattern: byte[i] = 'a' + i % 26.
std::string pattern(std::uint64_t offset, std::size_t n);
// Index of the first byte of `data` (starting at `offset`) that breaks the
// pattern, or npos.
std::size_t pattern_mismatch(std::uint64_t offset, std::string_view data);

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, std::string_view text);
// Peak resident set size (VmHWM) of a process in KiB, or -1.
long vm_hwm_kib(pid_t pid);

// --- Temporary directory ----------------------------------------------------------

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// --- Processes ----------------------------------------------------------------------

class Process {
  public:
    struct Options {
        std::vector<std::string> argv;      // argv[0] is the executable path
        std::filesystem::path stdout_path;  // empty: /dev/null (unless stdout_pipe)
        std::filesystem::path stderr_path;  // empty: /dev/null
        bool stdout_pipe = false;           // read stdout with read_line()
    };

    explicit Process(const Options& options);
    ~Process();  // SIGKILL and reap if still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int signo);
    // True while the process has not exited (reaps it if it has).
    bool running();
    // The raw wait status once the process exited before `deadline`.
    std::optional<int> wait_exit(Clock::time_point deadline);
    // One line from the stdout pipe (without '\n'), or nullopt at EOF/deadline.
    std::optional<std::string> read_line(Clock::time_point deadline);
    const Options& options() const { return options_; }

  private:
    bool try_reap();

    Options options_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string stdout_buf_;
    std::optional<int> status_;
};

// "exited 0", "killed by signal 9", ...
std::string describe_status(int wait_status);
bool exited_with(const std::optional<int>& wait_status, int code);

// --- Sockets ---------------------------------------------------------------------------

// A free TCP port on 127.0.0.1 (bound to port 0, read, closed).
std::uint16_t free_port();
// Connects until a connection succeeds or the deadline passes.
bool wait_for_port(std::uint16_t port, Clock::time_point deadline);

class Socket {
  public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() { close(); }
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket& operator=(Socket&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    int fd() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void close();

    // Connects to 127.0.0.1:port (blocking, bounded by the deadline). An
    // invalid socket on failure; `error` gets errno.
    static Socket connect(std::uint16_t port, Clock::time_point deadline, int* error = nullptr);

    // Writes all of `data`; false on error or deadline.
    bool send_all(std::string_view data, Clock::time_point deadline);
    // Reads what is there (up to `max`): >0 bytes, 0 at EOF, -1 on error
    // (errno kept), -2 at the deadline.
    long recv_some(char* buf, std::size_t max, Clock::time_point deadline);
    void shutdown_write();
    std::uint16_t local_port() const;

  private:
    int fd_ = -1;
};

// --- HTTP client ----------------------------------------------------------------------

struct Response {
    bhttp::response<bhttp::string_body> msg;
    std::size_t wire_bytes = 0;  // bytes of head and body as received

    unsigned status() const { return msg.result_int(); }
    std::string header(std::string_view name) const;
    std::size_t count(std::string_view name) const;
    bool has(std::string_view name) const { return count(name) > 0; }
    const std::string& body() const { return msg.body(); }
};

// What a streamed body looked like: counted, hashed and checked against the
// echo pattern, never stored.
struct BodyStats {
    bool want_fnv = true;  // hashing costs ~1 ns a byte; the pattern check is cheap
    std::uint64_t bytes = 0;
    std::uint64_t fnv = kFnvOffset;
    std::uint64_t first_mismatch = UINT64_MAX;  // offset where the echo pattern broke
};

// A body type for Beast's parser that keeps only BodyStats.
struct StatsBody {
    using value_type = BodyStats;
    class reader {
      public:
        template <bool isRequest, class Fields>
        reader(bhttp::header<isRequest, Fields>&, value_type& v) : v_(v) {}
        void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec);
        void finish(beast::error_code& ec) { ec = {}; }

      private:
        value_type& v_;
    };
};

struct StreamedResponse {
    bhttp::response<StatsBody> msg;
    std::size_t wire_bytes = 0;
};

// One client connection to 127.0.0.1:port. Bytes read past a response stay
// buffered for the next one, so a keep-alive connection can be reused.
class HttpConn {
  public:
    HttpConn() = default;
    explicit HttpConn(std::uint16_t port, Clock::duration timeout = seconds(5));

    bool connected() const { return sock_.valid(); }
    Socket& socket() { return sock_; }
    std::uint16_t local_port() const { return sock_.local_port(); }

    void send(std::string_view raw, Clock::duration timeout = seconds(10));  // throws on failure

    // Reads one response; throws std::runtime_error on any error or timeout.
    Response read_response(Clock::duration timeout = seconds(5), bool head_request = false);
    // The same, but returns the error instead of throwing; `out` has what
    // was parsed so far (body bytes received end up in out.msg.body()).
    beast::error_code try_read_response(Response& out, Clock::duration timeout,
                                        bool head_request = false);
    // Streams a (large) body through StatsBody.
    beast::error_code try_read_streamed(StreamedResponse& out, Clock::duration timeout);

    // Sends a request and reads its response.
    Response roundtrip(std::string_view raw, Clock::duration timeout = seconds(5));

    // Reads raw bytes until EOF. `eof` tells whether EOF (not an error or
    // the deadline) ended it; `reset` whether a connection reset did.
    struct RawRead {
        std::string bytes;
        bool eof = false;
        bool reset = false;
        bool timed_out = false;
    };
    RawRead read_until_close(Clock::duration timeout);
    // Waits for the peer to close; true at EOF/reset, false if bytes arrive
    // (they are appended to `unexpected`) or the deadline passes.
    bool wait_closed(Clock::duration timeout, std::string* unexpected = nullptr);

    std::string& buffered() { return buf_; }

  private:
    template <class Parser>
    beast::error_code read_into(Parser& p, Clock::time_point deadline, std::size_t& wire);

    Socket sock_;
    std::string buf_;
};

// "GET target HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n"
std::string get_request(std::string_view target, std::string_view extra = {});

// --- switchyard-echo ----------------------------------------------------------------------

class EchoServer {
  public:
    // `args`: more switchyard-echo options (--fail-percent, --delay-ms).
    EchoServer(const TempDir& dir, std::string name, std::vector<std::string> args = {});
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    Process& process() { return *proc_; }
    const std::string& name() const { return name_; }

  private:
    std::string name_;
    std::unique_ptr<Process> proc_;
    std::uint16_t port_ = 0;
};

// --- switchyard ------------------------------------------------------------------------------

struct PoolSpec {
    std::string name;
    std::vector<std::string> servers;  // host:port
    std::string extra{};               // raw TOML lines for the pool, e.g. "health = {...}\n"
};

struct ProxyConfig {
    unsigned workers = 1;
    std::string active = "blue";
    std::vector<PoolSpec> pools;
    // key -> value as written into the TOML (strings need their quotes).
    std::map<std::string, std::string> server;    // [server] beyond workers/state_file
    std::map<std::string, std::string> timeouts;  // e.g. {"client_idle", "\"300ms\""}
    std::map<std::string, std::string> limits;
    bool access_log_file = false;  // write the access log into the temp dir
    bool error_log_file = false;   // error.log in the temp dir instead of stderr
    bool audit_log_file = false;   // audit.log in the temp dir instead of stderr
    std::string level = "warn";
    std::map<std::string, std::string> log;      // [log] beyond level and the targets
    bool control_socket = true;                  // [control] socket inside the temp dir
    std::string listener_extra;                  // raw TOML lines added to the [[listeners]] entry
    std::uint16_t admin_port = 0;                // non-zero: [admin] on 127.0.0.1:admin_port
    std::map<std::string, std::string> routing;  // [routing] beyond active, e.g. {"seed", "7"}
    std::string state_file;                      // empty: state.json in the temp dir
    // Prepended to the command line, e.g. {"prlimit", "--nofile=40:40", "--"}
    // (it must exec the proxy in place, so that the pid stays the proxy's).
    std::vector<std::string> launcher;
    std::string extra;  // raw TOML appended at the end, e.g. a [rollout] section
};

// The TOML text of a configuration; listener on 127.0.0.1:port.
std::string render_config(const ProxyConfig& cfg, const TempDir& dir, std::uint16_t port);

class Switchyard {
  public:
    // Writes the config, starts `switchyard -c FILE`, waits for the port.
    // Throws if the process does not come up.
    Switchyard(const TempDir& dir, const ProxyConfig& cfg);

    std::uint16_t port() const { return port_; }
    Process& process() { return *proc_; }
    pid_t pid() const { return proc_->pid(); }
    std::filesystem::path config_path() const { return config_path_; }
    std::filesystem::path access_log_path() const { return access_log_; }
    // Where error_log_file / audit_log_file put the error and audit logs.
    std::filesystem::path error_log_path() const { return access_log_.parent_path() / "error.log"; }
    std::filesystem::path audit_log_path() const { return access_log_.parent_path() / "audit.log"; }
    std::string stderr_text() const;

    HttpConn connect(Clock::duration timeout = seconds(5)) const {
        return HttpConn(port_, timeout);
    }

    // Waits until the access log holds at least `n` lines; returns them.
    std::vector<std::string> wait_access_lines(std::size_t n,
                                               Clock::duration timeout = seconds(5)) const;

  private:
    std::unique_ptr<Process> proc_;
    std::uint16_t port_ = 0;
    std::filesystem::path config_path_;
    std::filesystem::path access_log_;
    std::filesystem::path stderr_path_;
};

// Sends one line to a control socket and returns the reply line (without
// '\n'); throws on connection errors or timeout.
std::string control_command(const std::filesystem::path& socket, std::string_view line,
                            Clock::duration timeout = seconds(5));

// switchyardctl -s SOCKET ARGS... as a pipeline runs it: its exit code (-1
// if it did not exit within `timeout`), stdout and stderr (kept in `dir`).
struct CtlRun {
    int exit_code = -1;
    std::string out, err;
};
CtlRun run_switchyardctl(const std::filesystem::path& dir, const std::filesystem::path& socket,
                         const std::vector<std::string>& args,
                         Clock::duration timeout = seconds(30));

// A datagram socket standing in for systemd's notify socket (NOTIFY_SOCKET);
// keeps every message it received.
class NotifySocket {
  public:
    explicit NotifySocket(const std::filesystem::path& path);  // throws if it cannot bind
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    // Waits until some message received so far contains `what`; returns it,
    // or "" at the deadline.
    std::string wait_for(std::string_view what, Clock::duration timeout);
    // Messages received so far that contain `what`.
    std::size_t count(std::string_view what) const;

  private:
    int fd_ = -1;
    std::vector<std::string> messages_;
};

// Runs `switchyard --check -c FILE`; returns {wait status, stdout, stderr}.
struct CheckResult {
    std::optional<int> status;
    std::string out;
    std::string err;
};
CheckResult run_check(const TempDir& dir, const std::filesystem::path& config);

// --- Scripted upstream ------------------------------------------------------------------------

// A tiny upstream on 127.0.0.1:0: one thread per accepted connection runs
// `handler` with the connection and its 1-based sequence number. Helpers
// read requests with deadlines; the destructor stops and joins everything
// (handlers must poll `stopping()` or use deadlines).
class ScriptedUpstream {
  public:
    struct Request {
        std::string head;  // request line + fields + CRLF CRLF
        std::string body;  // Content-Length bodies only
        std::string method() const { return head.substr(0, head.find(' ')); }
    };
    class Conn {
      public:
        Conn(Socket s, ScriptedUpstream& owner) : sock(std::move(s)), owner_(owner) {}
        // The next request (Content-Length body included), or nullopt at EOF,
        // error, deadline or stop.
        std::optional<Request> read_request(Clock::duration timeout);
        // Waits for the peer to send something or close.
        enum class Wait { data, closed, timeout };
        Wait wait_readable(Clock::duration timeout);
        bool send(std::string_view data) { return sock.send_all(data, after(seconds(5))); }
        Socket sock;
        std::string buf;

      private:
        ScriptedUpstream& owner_;
    };
    using Handler = std::function<void(Conn&, int conn_seq)>;

    explicit ScriptedUpstream(Handler handler);
    ~ScriptedUpstream();
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    bool stopping() const { return stop_.load(); }
    int connections() const { return connections_.load(); }

    // Counters handlers may use.
    std::atomic<int> requests{0};
    std::atomic<int> closed{0};
    std::atomic<int> flag{0};

  private:
    void accept_loop();

    Handler handler_;
    Socket listener_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<std::thread> threads_;
};

// --- inline template parts ------------------------------------------------------------------

template <class ConstBufferSequence>
std::size_t StatsBody::reader::put(const ConstBufferSequence& buffers, beast::error_code& ec) {
    ec = {};
    std::size_t n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        std::string_view s(static_cast<const char*>(b.data()), b.size());
        if (v_.first_mismatch == UINT64_MAX) {
            auto m = pattern_mismatch(v_.bytes, s);
            if (m != std::string_view::npos) v_.first_mismatch = v_.bytes + m;
        }
        if (v_.want_fnv) v_.fnv = fnv1a(v_.fnv, s);
        v_.bytes += s.size();
        n += s.size();
    }
    return n;
}

}  // namespace sy_it

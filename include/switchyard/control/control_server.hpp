// ControlServer: the control socket (DESIGN.md, "Control protocol").
//
// A Unix stream socket served on the control thread's io_context: one
// command per line in, one JSON object per line out. Each connection is an
// independent session (a slow or silent client never delays another), runs
// its commands one at a time in order, and hands each parsed command to the
// CommandHandler, which may reply at once or later (wait-drained). Parse
// errors and over-long lines are answered here and reported to the handler
// (rejected); what a command does, and the audit log, are the handler's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "switchyard/control/command.hpp"
#include "switchyard/core/settings.hpp"

namespace spdlog {
class logger;
}

namespace switchyard::control {

// The peer of a control connection (SO_PEERCRED), for the audit log.
struct PeerCredentials {
    int uid = -1;
    int pid = -1;
};

// Sends the reply to the command it was given for: one JSON object, no
// newline (the server appends '\n'). Callable from any thread, once; later
// calls are ignored.
using Reply = std::function<void(std::string json_line)>;

class CommandHandler {
  public:
    virtual ~CommandHandler() = default;
    // Called on the io_context's thread; must not block it.
    virtual void handle(const ControlCommand& command, const PeerCredentials& peer,
                        Reply reply) = 0;
    // A line that is not a command (the server answers it with `error`):
    // for the audit log. `line` is raw (it may hold any byte) and, when over
    // kMaxLineBytes, only its start.
    virtual void rejected(const PeerCredentials& /*peer*/, std::string_view /*line*/,
                          std::string_view /*error*/) {}
};

class ControlServer {
  public:
    static constexpr Duration kDefaultIdleTimeout{60000};
    static constexpr std::size_t kDefaultMaxConnections = 64;

    ControlServer(boost::asio::io_context& io, CommandHandler& handler,
                  std::shared_ptr<spdlog::logger> log);
    ~ControlServer();  // stop()
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Creates the parent directory, refuses a live socket ("another
    // switchyard is listening on PATH"), replaces a stale one, binds, chmods
    // to `mode` and starts accepting. Throws std::runtime_error with a clear
    // message.
    void listen(const std::string& path, std::uint32_t mode);
    // Or adopts an already-listening descriptor (hot upgrade) and starts
    // accepting on it. Throws std::runtime_error.
    void adopt(int fd);
    int native_handle() const;  // the listening descriptor; -1 before listen/adopt
    const std::string& path() const;

    // Stops accepting and closes every session; a late reply is dropped.
    // Call it on the io_context's thread or while the io_context is not
    // running. The socket file stays: a hot upgrade's successor serves it,
    // and a stale one is replaced at the next start.
    void stop();
    // Stops accepting but lets open sessions finish (the reply to `upgrade`
    // is still being written when the successor takes the socket over).
    void stop_accepting();

    // Tunables (tests shorten them): silence allowed before a connection is
    // closed (also the deadline for reading one whole line and for writing
    // a reply), and the connections served at once; more are answered
    // {"ok":false,"error":"too many control connections"} and closed.
    void set_idle_timeout(Duration timeout);
    void set_max_connections(std::size_t max);
    std::size_t connection_count() const;

    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace switchyard::control

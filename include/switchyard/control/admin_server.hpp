// AdminServer: the read-only admin HTTP listener (`[admin] address`).
//
// Served on the control thread, like the control socket: scrapes and health
// checks are a few requests a second, and everything they report is
// gathered there anyway. Each connection is a small Beast session (HTTP/1.1,
// keep-alive, one request at a time, a deadline on every step).
//
//   GET /healthz   200 "ok" while serving, 503 "draining" once a shutdown
//                  began (during server.shutdown_delay too), so an outer load
//                  balancer stops sending before the drain
//   GET /status    the control `status` JSON with live rates per pool
//   GET /metrics   Prometheus text format 0.0.4
//   GET /          the live dashboard (control/dashboard.hpp), with
//                  /dashboard.js, /dashboard.css, /favicon.svg; every answer
//                  carries Content-Security-Policy: default-src 'self'
//   anything else  404; methods other than GET and HEAD: 405
//
// Nothing on this listener changes state: mutating commands exist only on
// the control socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace switchyard::control {

class AdminServer {
  public:
    struct Sources {
        // Gets the status JSON (asynchronously: it collects from the workers).
        std::function<void(std::function<void(std::string)>)> status;
        // False once the process is shutting down.
        std::function<bool()> serving;
        // Gets the Prometheus page (asynchronously, like status); empty: 404.
        std::function<void(std::function<void(std::string)>)> metrics;
        // Gets the compared answers of mirrored requests (JSON); empty: 404.
        std::function<void(std::function<void(std::string)>)> diff;
    };

    AdminServer(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log, Sources sources);
    ~AdminServer();  // stop()
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    // Starts accepting on an open, listening TCP socket (opened or inherited
    // by the caller, which keeps its own descriptor for a hot upgrade).
    // Throws std::runtime_error.
    void adopt(int fd);
    // Stops accepting; open connections get their current answer with
    // Connection: close (a hot upgrade: the successor accepts from now on).
    void stop_accepting();
    // Stops accepting and closes every connection.
    void stop();
    std::size_t connection_count() const;

  private:
    class Session;
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace switchyard::control

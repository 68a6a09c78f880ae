// ListenerSet: the listening sockets of a running process, one per
// configured listener (shared by every worker, DESIGN.md "Thread per core")
// and the admin listener's, with each listener's context: its settings and,
// for TLS, its certificates and the session ticket keys all TLS listeners
// share.
//
// At start a socket is taken over from systemd or the replaced process where
// one matches, so no connection waiting in its queue is lost; a reload opens
// what it adds, closes what it drops and reloads TLS files, touching no
// connection; a hot upgrade hands every socket on. Control thread only.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/app/listen_socket.hpp"
#include "switchyard/app/worker_group.hpp"
#include "switchyard/core/settings.hpp"
#include "switchyard/http/tls_ticket_keys.hpp"

namespace switchyard::app {

class ListenerSet {
  public:
    ListenerSet(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log);
    ~ListenerSet();  // closes every socket it holds
    ListenerSet(const ListenerSet&) = delete;
    ListenerSet& operator=(const ListenerSet&) = delete;

    // The session ticket keys: the replaced process's (hex, from the
    // hand-over) so that its clients resume here, else new ones. Throws if
    // there are none. Before open().
    void load_ticket_keys(const std::string& inherited_hex);
    // Rotates the ticket keys every hour from now until close() (a ticket
    // outlives its key by up to two periods, see TicketKeys), so a leaked
    // key exposes a bounded window.
    void start_ticket_rotation();

    // Start: a socket and a context for every listener of `settings`, and a
    // socket for its admin listener; each taken from `inherited` where one
    // matches, else opened. Inherited sockets that match nothing are closed
    // and `inherited` is emptied. Throws std::runtime_error with the reason.
    void open(const Settings& settings, std::vector<InheritedSocket>& inherited);
    // Gives every listener to every worker (each gets its own descriptor).
    void attach(WorkerGroup& workers);
    // Reload, before `next` is published: opens the listeners it adds,
    // loads its TLS files (a TLS listener always gets a new context: its
    // files may have changed), then stops the workers accepting on listeners
    // it drops or changes and gives them the new ones. If a socket cannot be
    // opened or a file loaded, returns false with `error` and nothing changed.
    bool reconfigure(const Settings& next, WorkerGroup& workers, std::string& error);
    // Draining: closes the client listeners (the workers have stopped
    // accepting) and stops the ticket rotation. The admin socket stays
    // open: the admin server serves until the process ends.
    void close();

    // Every socket, named by its configured address: what a hot upgrade
    // hands over.
    std::vector<InheritedSocket> sockets() const;
    int admin_fd() const { return admin_fd_; }
    // "serving on 127.0.0.1:8080, 127.0.0.1:8443"
    std::string serving_status() const;
    std::string export_ticket_keys() const { return ticket_keys_->export_hex(); }

  private:
    struct Listener {
        ListenerSettings config;
        int fd = -1;
        std::shared_ptr<const proxy::ListenerContext> context;
    };
    // A listener's context (its TLS files loaded), or nullptr with `error`.
    std::shared_ptr<const proxy::ListenerContext> make_context(const ListenerSettings& l,
                                                               std::string& error) const;

    std::shared_ptr<spdlog::logger> log_;
    boost::asio::steady_timer ticket_timer_;
    std::shared_ptr<http::TicketKeys> ticket_keys_;
    std::vector<Listener> listeners_;
    std::string admin_name_;
    int admin_fd_ = -1;
    bool rotating_ = false;
};

}  // namespace switchyard::app

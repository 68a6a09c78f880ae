#include "switchyard/app/listener_set.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "switchyard/http/tls_context.hpp"

namespace switchyard::app {

ListenerSet::ListenerSet(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)), ticket_timer_(io) {}

ListenerSet::~ListenerSet() {
    if (admin_fd_ >= 0) ::close(admin_fd_);
    for (const auto& l : listeners_)
        ::close(l.fd);
}

void ListenerSet::load_ticket_keys(const std::string& inherited_hex) {
    std::string error;
    if (!inherited_hex.empty()) ticket_keys_ = http::TicketKeys::import_hex(inherited_hex, error);
    if (!ticket_keys_) {
        if (!error.empty()) log_->warn("TLS ticket keys from the hand-over: {}", error);
        ticket_keys_ = http::TicketKeys::generate(error);
    }
    if (!ticket_keys_) throw std::runtime_error("TLS ticket keys: " + error);
}

void ListenerSet::start_ticket_rotation() {
    rotating_ = true;
    ticket_timer_.expires_after(std::chrono::hours(1));
    ticket_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !rotating_) return;
        std::string error;
        if (!ticket_keys_->rotate(error)) log_->warn("TLS ticket key rotation failed: {}", error);
        start_ticket_rotation();
    });
}

// TLS listeners read their certificate files here, at start and on every
// reload (so a renewed certificate is picked up); new connections get the
// new context, connections already up keep theirs.
std::shared_ptr<const proxy::ListenerContext> ListenerSet::make_context(const ListenerSettings& l,
                                                                        std::string& error) const {
    auto ctx = std::make_shared<proxy::ListenerContext>();
    ctx->name = l.address.to_string();
    ctx->trusted_proxies = l.trusted_proxies;
    ctx->forwarded = l.forwarded;
    ctx->proxy_protocol = l.proxy_protocol;
    ctx->tls = l.tls.has_value();
    ctx->h2 = l.speaks(l.tls ? "h2" : "h2c");
    ctx->http1 = l.speaks("http/1.1");
    ctx->h2_limits.max_concurrent_streams = l.http2.max_concurrent_streams;
    ctx->h2_limits.initial_window = static_cast<std::uint32_t>(l.http2.initial_window);
    ctx->h2_limits.max_header_list = static_cast<std::uint32_t>(l.http2.max_header_list);
    if (l.tls) {
        std::string why;
        ctx->tls_context = http::build_server_tls(*l.tls, ticket_keys_, why);
        if (!ctx->tls_context) {
            error = "listener " + ctx->name + ": " + why;
            return nullptr;
        }
    }
    return ctx;
}

void ListenerSet::open(const Settings& settings, std::vector<InheritedSocket>& inherited) {
    for (const auto& l : settings.listeners) {
        int fd;
        if (auto taken = take_inherited(inherited, l)) {
            fd = *taken;
            log_->info("listener {}: using the inherited socket", l.address.to_string());
        } else {
            fd = open_listen_socket(l.address, SOMAXCONN);
        }
        std::string error;
        auto context = make_context(l, error);
        if (!context) {
            ::close(fd);
            throw std::runtime_error(error);
        }
        listeners_.push_back({l, fd, std::move(context)});
    }
    if (settings.admin) {
        ListenerSettings admin;
        admin.address = settings.admin->address;
        admin_name_ = admin.address.to_string();
        if (auto taken = take_inherited(inherited, admin)) {
            admin_fd_ = *taken;
            log_->info("admin listener {}: using the inherited socket", admin_name_);
        } else {
            admin_fd_ = open_listen_socket(admin.address, SOMAXCONN);
        }
    }
    for (const auto& s : inherited) {
        log_->warn("an inherited listening socket ({}) matches no listener; closing it",
                   s.name.empty() ? "fd " + std::to_string(s.fd) : s.name);
        ::close(s.fd);
    }
    inherited.clear();
}

void ListenerSet::attach(WorkerGroup& workers) {
    for (const auto& l : listeners_)
        workers.add_listener(l.fd, l.context);
}

bool ListenerSet::reconfigure(const Settings& next, WorkerGroup& workers, std::string& error) {
    // Open every new socket and load every file first: a failure leaves
    // everything as it was.
    std::vector<Listener> result;
    std::vector<Listener> opened;
    auto give_up = [&] {
        for (const auto& o : opened)
            ::close(o.fd);
        return false;
    };
    for (const auto& l : next.listeners) {
        auto same = std::find_if(listeners_.begin(), listeners_.end(),
                                 [&](const Listener& o) { return o.config.address == l.address; });
        auto context = same != listeners_.end() && same->config == l && !l.tls
                           ? same->context
                           : make_context(l, error);
        if (!context) return give_up();
        if (same != listeners_.end()) {
            result.push_back({l, same->fd, std::move(context)});
            continue;
        }
        try {
            opened.push_back({l, open_listen_socket(l.address, SOMAXCONN), std::move(context)});
            result.push_back(opened.back());
        } catch (const std::exception& e) {
            error = e.what();
            return give_up();
        }
    }
    for (const auto& old : listeners_) {
        auto kept = std::find_if(result.begin(), result.end(),
                                 [&](const Listener& o) { return o.fd == old.fd; });
        if (kept != result.end() && kept->context == old.context) continue;
        workers.remove_listener(old.context->name);
        if (kept == result.end()) {
            ::close(old.fd);
            log_->info("listener {} closed", old.context->name);
        }
    }
    for (const auto& l : result) {
        auto before = std::find_if(listeners_.begin(), listeners_.end(), [&](const Listener& o) {
            return o.fd == l.fd && o.context == l.context;
        });
        if (before != listeners_.end()) continue;
        workers.add_listener(l.fd, l.context);
        log_->info("listener {} {}", l.context->name,
                   std::any_of(opened.begin(), opened.end(),
                               [&](const Listener& o) { return o.fd == l.fd; })
                       ? "opened"
                       : "updated");
    }
    listeners_ = std::move(result);
    return true;
}

void ListenerSet::close() {
    rotating_ = false;
    ticket_timer_.cancel();
    for (const auto& l : listeners_)
        ::close(l.fd);
    listeners_.clear();
}

std::vector<InheritedSocket> ListenerSet::sockets() const {
    std::vector<InheritedSocket> out;
    for (const auto& l : listeners_)
        out.push_back({l.fd, l.context->name});
    if (admin_fd_ >= 0) out.push_back({admin_fd_, admin_name_});
    return out;
}

std::string ListenerSet::serving_status() const {
    std::string where;
    for (const auto& l : listeners_)
        where += (where.empty() ? "" : ", ") + l.context->name;
    return "serving on " + where;
}

}  // namespace switchyard::app

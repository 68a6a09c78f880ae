#include "switchyard/app/server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace switchyard::app {

namespace asio = boost::asio;

int open_listen_socket(const Endpoint& address, int backlog) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(address.port);
    int rc = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(), port.c_str(),
                           &hints, &res);
    if (rc != 0)
        throw std::runtime_error("listener " + address.to_string() + ": " + gai_strerror(rc));
    std::string last_error = "no address";
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) {
            ::freeaddrinfo(res);
            return fd;
        }
        last_error = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(res);
    throw std::runtime_error("listener " + address.to_string() + ": " + last_error);
}

Server::Server(std::shared_ptr<const Settings> settings, RuntimeState runtime,
               std::vector<std::string> conflicts, std::shared_ptr<spdlog::logger> log,
               std::shared_ptr<spdlog::logger> audit)
    : settings_(std::move(settings)),
      log_(std::move(log)),
      audit_(std::move(audit)),
      conflicts_(std::move(conflicts)),
      io_(1),
      signals_(io_),
      dns_timer_(io_),
      resolver_(io_),
      runtime_(std::move(runtime)) {
    access_log_ = std::make_unique<proxy::AccessLogWriter>(settings_->log.access_log);
    shared_.log = log_;
    shared_.access_log = access_log_.get();
}

Server::~Server() {
    for (int fd : listen_fds_)
        ::close(fd);
}

void Server::open_listeners() {
    for (const auto& l : settings_->listeners) {
        int fd = open_listen_socket(l.address, SOMAXCONN);
        listen_fds_.push_back(fd);
        auto ctx = std::make_shared<proxy::ListenerContext>();
        ctx->name = l.address.to_string();
        ctx->trusted_proxies = l.trusted_proxies;
        ctx->proxy_protocol = l.proxy_protocol;
        ctx->tls = l.tls.has_value();
        listeners_.push_back(std::move(ctx));
    }
}

// Server names are resolved here, at start, and on every dns_refresh: never
// on the request path.
void Server::resolve_all() {
    for (const auto& pool : settings_->pools) {
        for (const auto& s : pool.servers) {
            if (is_ip_literal(s.address.host) || resolved_.count(s.address.host)) continue;
            addrinfo hints{};
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* res = nullptr;
            if (::getaddrinfo(s.address.host.c_str(), nullptr, &hints, &res) != 0) {
                log_->warn("pool {}: cannot resolve {}; the server takes no traffic until it does",
                           pool.name, s.address.host);
                continue;
            }
            std::vector<std::string> ips;
            for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
                char buf[INET6_ADDRSTRLEN];
                const void* a = ai->ai_family == AF_INET
                                    ? static_cast<const void*>(
                                          &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                                    : static_cast<const void*>(
                                          &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
                if (::inet_ntop(ai->ai_family, a, buf, sizeof buf) != nullptr &&
                    std::find(ips.begin(), ips.end(), buf) == ips.end())
                    ips.emplace_back(buf);
            }
            ::freeaddrinfo(res);
            resolved_[s.address.host] = std::move(ips);
        }
    }
}

void Server::schedule_dns_refresh() {
    Duration shortest = Duration::max();
    bool any_name = false;
    for (const auto& pool : settings_->pools)
        for (const auto& s : pool.servers)
            if (!is_ip_literal(s.address.host)) {
                any_name = true;
                shortest = std::min(shortest, pool.dns_refresh);
            }
    if (!any_name || shortest <= Duration::zero()) return;
    dns_timer_.expires_after(shortest);
    dns_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopping_) refresh_dns();
    });
}

void Server::refresh_dns() {
    std::set<std::string> names;
    for (const auto& pool : settings_->pools)
        for (const auto& s : pool.servers)
            if (!is_ip_literal(s.address.host)) names.insert(s.address.host);
    auto fresh = std::make_shared<ResolvedHosts>();
    auto left = std::make_shared<std::size_t>(names.size());
    for (const auto& name : names) {
        resolver_.async_resolve(
            name, "",
            [this, name, fresh, left](boost::system::error_code ec,
                                      asio::ip::tcp::resolver::results_type results) {
                if (!ec) {
                    auto& ips = (*fresh)[name];
                    for (const auto& r : results) {
                        auto ip = r.endpoint().address().to_string();
                        if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
                    }
                } else if (auto it = resolved_.find(name); it != resolved_.end()) {
                    (*fresh)[name] = it->second;  // keep the last good answer
                    log_->warn("dns refresh of {} failed ({}); keeping the last answer", name,
                               ec.message());
                }
                if (--*left > 0) return;
                if (*fresh != resolved_) {
                    resolved_ = std::move(*fresh);
                    log_->info("dns answers changed; publishing new upstream addresses");
                    republish();
                }
                schedule_dns_refresh();
            });
    }
}

void Server::republish() {
    publish(settings_, runtime_, nullptr);
}

// Every worker gets the snapshot by a post; the last ack (on its own thread)
// posts `applied` back to the control thread.
void Server::publish(std::shared_ptr<const Settings> settings, const RuntimeState& runtime,
                     std::function<void()> applied) {
    settings_ = std::move(settings);
    runtime_ = runtime;
    routing_ = std::make_shared<RoutingState>(
        build_routing_state(*settings_, runtime_, resolved_, ++snapshot_));
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto done = std::make_shared<std::function<void()>>(std::move(applied));
    for (auto& w : workers_) {
        w->publish(settings_, routing_, [this, left, done] {
            if (left->fetch_sub(1) == 1 && *done) asio::post(io_, [done] { (*done)(); });
        });
    }
}

void Server::collect(std::function<void(proxy::WorkerStats)> done) {
    struct Gather {
        std::mutex mu;
        proxy::WorkerStats all;
        std::size_t left;
        std::function<void(proxy::WorkerStats)> done;
    };
    auto g = std::make_shared<Gather>();
    g->left = workers_.size();
    g->done = std::move(done);
    for (auto& w : workers_) {
        w->collect([this, g](proxy::WorkerStats stats) {
            std::lock_guard lock(g->mu);  // once per worker per status, not per request
            g->all.insert(g->all.end(), stats.begin(), stats.end());
            if (--g->left == 0) asio::post(io_, [g] { g->done(std::move(g->all)); });
        });
    }
}

void Server::cut_pool(const std::string& pool, std::function<void(std::size_t)> done) {
    auto total = std::make_shared<std::atomic<std::size_t>>(0);
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto cb = std::make_shared<std::function<void(std::size_t)>>(std::move(done));
    for (auto& w : workers_) {
        w->cut_pool(pool, [this, total, left, cb](std::size_t n) {
            total->fetch_add(n);
            if (left->fetch_sub(1) == 1 && *cb)
                asio::post(io_, [total, cb] { (*cb)(total->load()); });
        });
    }
}

void Server::on_signal(int signo) {
    if (signo == SIGHUP && !stopping_) {
        log_->info("SIGHUP: reloading {}", settings_->source_path);
        control_plane_->reload([this](boost::json::object result) {
            if (!result["ok"].as_bool())
                log_->error("reload failed: {}", boost::json::serialize(result));
        });
    } else if (signo == SIGINT || signo == SIGTERM) {
        if (stopping_) return;
        stopping_ = true;
        log_->info("signal {}: draining (up to {} ms)", signo,
                   settings_->server.drain_timeout.count());
        sd_notify(0, "STOPPING=1");
        if (control_server_) control_server_->stop();
        dns_timer_.cancel();
        resolver_.cancel();
        auto deadline = proxy::Clock::now() + settings_->server.drain_timeout;
        for (auto& w : workers_)
            w->begin_shutdown(deadline);
        for (int fd : listen_fds_)
            ::close(fd);
        listen_fds_.clear();
        // The workers end on their own once drained and say so (run()).
    }
    signals_.async_wait([this](boost::system::error_code ec, int s) {
        if (!ec) on_signal(s);
    });
}

int Server::run() {
    // Each client costs a descriptor, each upstream connection another: use
    // all the descriptors the hard limit allows, as HAProxy does.
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &nofile);
    }
    // The control socket first: a second instance fails here, before it binds
    // a port, and the socket exists once the ports answer. Commands are
    // handled only once io_.run() runs, when the workers exist.
    control_plane_ = std::make_unique<ControlPlane>(io_, *this, log_, audit_);
    control_plane_->start(settings_, runtime_, conflicts_);
    control_server_ = std::make_unique<control::ControlServer>(io_, *control_plane_, log_);
    control_server_->listen(settings_->control.socket, settings_->control.mode);
    open_listeners();
    resolve_all();
    routing_ = std::make_shared<RoutingState>(
        build_routing_state(*settings_, runtime_, resolved_, ++snapshot_));
    unsigned n = settings_->server.workers;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i)
        workers_.push_back(std::make_unique<proxy::Worker>(i, shared_, settings_, routing_));
    std::vector<proxy::Worker*> peers;
    for (auto& w : workers_)
        peers.push_back(w.get());
    for (auto& w : workers_) {
        w->set_peers(peers);
        for (std::size_t i = 0; i < listen_fds_.size(); ++i) {
            int dup = ::fcntl(listen_fds_[i], F_DUPFD_CLOEXEC, 0);
            if (dup < 0) throw std::runtime_error(std::string("dup: ") + std::strerror(errno));
            w->add_listener(dup, listeners_[i]);
        }
        w->start([this] {
            asio::post(io_, [this] {
                if (++workers_exited_ == workers_.size()) io_.stop();
            });
        });
    }
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    signals_.async_wait([this](boost::system::error_code ec, int s) {
        if (!ec) on_signal(s);
    });
    schedule_dns_refresh();
    std::string where;
    for (const auto& l : listeners_)
        where += (where.empty() ? "" : ", ") + l->name;
    log_->info("switchyard serving on {} with {} workers; active pool {}", where, n,
               routing_->pools.empty()
                   ? "-"
                   : routing_->pools[static_cast<std::size_t>(routing_->active)].name);
    sd_notifyf(0, "READY=1\nSTATUS=serving on %s", where.c_str());
    io_.run();
    workers_.clear();
    access_log_->flush();
    log_->info("stopped");
    return 0;
}

}  // namespace switchyard::app

#include "switchyard/app/worker_group.hpp"

#include <fcntl.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace switchyard::app {

namespace asio = boost::asio;

namespace {

// A callback shared with the workers is called, and destroyed, on the
// control thread: moved out there, it cannot be destroyed on whichever
// worker thread drops the last reference to its holder (its captures, a
// control connection say, belong to the control thread).
template <typename F>
F take(F& f) {
    F out = std::move(f);
    f = nullptr;
    return out;
}

}  // namespace

void WorkerGroup::create(unsigned count, proxy::WorkerShared& shared,
                         const std::shared_ptr<const Settings>& settings,
                         const std::shared_ptr<const RoutingState>& routing,
                         const std::shared_ptr<const proxy::UpstreamTlsMap>& upstream_tls) {
    for (unsigned i = 0; i < count; ++i)
        workers_.push_back(std::make_unique<proxy::Worker>(i, shared, settings, routing));
    for (auto& w : workers_)
        w->publish(settings, routing, upstream_tls, nullptr);  // runs before any accept
    std::vector<proxy::Worker*> peers;
    for (auto& w : workers_)
        peers.push_back(w.get());
    for (auto& w : workers_)
        w->set_peers(peers);
}

void WorkerGroup::start(std::function<void()> all_exited) {
    auto done = std::make_shared<std::function<void()>>(std::move(all_exited));
    for (auto& w : workers_) {
        w->start([this, done] {
            asio::post(control_, [this, done] {
                if (++exited_ == workers_.size() && *done) take (*done)();
            });
        });
    }
}

void WorkerGroup::add_listener(int fd,
                               const std::shared_ptr<const proxy::ListenerContext>& context) {
    for (auto& w : workers_) {
        int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0) throw std::runtime_error(std::string("dup: ") + std::strerror(errno));
        w->add_listener(dup, context);
    }
}

void WorkerGroup::remove_listener(const std::string& name) {
    for (auto& w : workers_)
        w->remove_listener(name);
}

// Every worker gets the snapshot by a post; the last ack (on its own thread)
// posts `applied` back to the control thread.
void WorkerGroup::publish(const std::shared_ptr<const Settings>& settings,
                          const std::shared_ptr<const RoutingState>& routing,
                          const std::shared_ptr<const proxy::UpstreamTlsMap>& upstream_tls,
                          std::function<void()> applied) {
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto done = std::make_shared<std::function<void()>>(std::move(applied));
    for (auto& w : workers_) {
        w->publish(settings, routing, upstream_tls, [this, left, done] {
            if (left->fetch_sub(1) == 1 && *done) asio::post(control_, [done] { take (*done)(); });
        });
    }
}

void WorkerGroup::collect(bool traffic, std::function<void(TrafficTotals)> done) {
    struct Gather {
        std::mutex mu;
        TrafficTotals all;
        std::size_t left;
        std::function<void(TrafficTotals)> done;
    };
    auto g = std::make_shared<Gather>();
    g->left = workers_.size();
    g->done = std::move(done);
    for (auto& w : workers_) {
        w->collect(traffic, [this, g](WorkerStats stats) {
            std::lock_guard lock(g->mu);  // once per worker per status, not per request
            g->all.add(stats);
            if (--g->left == 0) asio::post(control_, [g] { take(g->done)(std::move(g->all)); });
        });
    }
}

void WorkerGroup::set_step_window(std::uint64_t id, std::function<void()> applied) {
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto done = std::make_shared<std::function<void()>>(std::move(applied));
    for (auto& w : workers_) {
        w->set_step_window(id, [this, left, done] {
            if (left->fetch_sub(1) == 1 && *done) asio::post(control_, [done] { take (*done)(); });
        });
    }
}

void WorkerGroup::collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) {
    struct Gather {
        std::mutex mu;
        StepWindow all;
        std::size_t left;
        std::function<void(StepWindow)> done;
    };
    auto g = std::make_shared<Gather>();
    g->all.id = id;
    g->left = workers_.size();
    g->done = std::move(done);
    for (auto& w : workers_) {
        w->collect_step_window([this, g](StepWindow window) {
            std::lock_guard lock(g->mu);  // once per worker per interval
            g->all.add(window);
            if (--g->left == 0) asio::post(control_, [g] { take(g->done)(std::move(g->all)); });
        });
    }
}

void WorkerGroup::cut_pool(const std::string& pool, std::uint64_t generation,
                           std::function<void(std::size_t)> done) {
    auto total = std::make_shared<std::atomic<std::size_t>>(0);
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto cb = std::make_shared<std::function<void(std::size_t)>>(std::move(done));
    for (auto& w : workers_) {
        w->cut_pool(pool, generation, [this, total, left, cb](std::size_t n) {
            total->fetch_add(n);
            if (left->fetch_sub(1) == 1 && *cb)
                asio::post(control_, [total, cb] { take (*cb)(total->load()); });
        });
    }
}

void WorkerGroup::flush_access_logs(std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto cb = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& w : workers_) {
        asio::post(w->io(), [this, worker = w.get(), left, cb] {
            worker->access_log().flush();
            if (left->fetch_sub(1) == 1) asio::post(control_, [cb] { take (*cb)(); });
        });
    }
}

void WorkerGroup::begin_shutdown(Clock::time_point deadline) {
    for (auto& w : workers_)
        w->begin_shutdown(deadline);
}

}  // namespace switchyard::app

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

std::function<void()> WorkerGroup::when_all(std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto cb = std::make_shared<std::function<void()>>(std::move(done));
    return [this, left, cb] {
        if (left->fetch_sub(1) == 1 && *cb) asio::post(control_, [cb] { take (*cb)(); });
    };
}

template <class Sum, class Part, class Ask>
void WorkerGroup::gather(Sum all, Ask ask, std::function<void(Sum)> done) {
    struct Gather {
        std::mutex mu;
        Sum all;
        std::size_t left;
        std::function<void(Sum)> done;
    };
    auto g = std::make_shared<Gather>();
    g->all = std::move(all);
    g->left = workers_.size();
    g->done = std::move(done);
    for (auto& w : workers_) {
        ask(*w, [this, g](Part part) {
            std::lock_guard lock(g->mu);  // once per worker per question, not per request
            g->all.add(part);
            if (--g->left == 0) asio::post(control_, [g] { take(g->done)(std::move(g->all)); });
        });
    }
}

// Every worker gets the snapshot by a post; the last ack (on its own thread)
// posts `applied` back to the control thread.
void WorkerGroup::publish(const std::shared_ptr<const Settings>& settings,
                          const std::shared_ptr<const RoutingState>& routing,
                          const std::shared_ptr<const proxy::UpstreamTlsMap>& upstream_tls,
                          std::function<void()> applied) {
    auto ack = when_all(std::move(applied));
    for (auto& w : workers_)
        w->publish(settings, routing, upstream_tls, ack);
}

void WorkerGroup::collect(bool traffic, std::function<void(TrafficTotals)> done) {
    TrafficTotals none;  // (a braced {} here trips GCC 12's maybe-uninitialized)
    gather<TrafficTotals, WorkerStats>(
        std::move(none),
        [traffic](proxy::Worker& w, auto reply) { w.collect(traffic, std::move(reply)); },
        std::move(done));
}

void WorkerGroup::set_step_window(std::uint64_t id, std::function<void()> applied) {
    auto ack = when_all(std::move(applied));
    for (auto& w : workers_)
        w->set_step_window(id, ack);
}

void WorkerGroup::collect_step_window(std::uint64_t id, std::function<void(StepWindow)> done) {
    StepWindow all;
    all.id = id;  // a worker still counting another window adds nothing
    gather<StepWindow, StepWindow>(
        std::move(all),
        [](proxy::Worker& w, auto reply) { w.collect_step_window(std::move(reply)); },
        std::move(done));
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

void WorkerGroup::reset_diff(std::function<void()> done) {
    auto all = when_all(std::move(done));
    for (auto& w : workers_)
        w->reset_diff(all);
}

void WorkerGroup::flush_access_logs(std::function<void()> done) {
    auto flushed = when_all(std::move(done));
    for (auto& w : workers_) {
        asio::post(w->io(), [worker = w.get(), flushed] {
            worker->access_log().flush();
            flushed();
        });
    }
}

void WorkerGroup::begin_shutdown(Clock::time_point deadline) {
    for (auto& w : workers_)
        w->begin_shutdown(deadline);
}

}  // namespace switchyard::app

// switchyard-load: the bounded HTTP/1.1 load client of scripts/zdd-check.sh.
// It counts every request outcome by kind; exit 0 iff no request failed.
//
//   switchyard-load --target 127.0.0.1:PORT [--duration S] [--max-requests N]
//                   [--keepalive N] [--per-request N] [--slow N] [--post-percent P] ...
//
// Threads: N worker io_contexts run the loops (round robin); the main thread
// runs a small io_context of its own for signals, the duration and progress.
// The contract is in tools/load/README.md.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include "load_options.hpp"
#include "loop.hpp"
#include "report.hpp"
#include "stats.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using namespace switchyard::load;

// One thread, its io_context, its loops and their statistics.
class Worker {
  public:
    Worker(const LoadOptions& options, const PlanOptions& plan_options, RunControl& control,
           SlowLog* slow_log, Progress& progress)
        : options_(options),
          plan_options_(plan_options),
          control_(control),
          stats_(slow_log, std::uint64_t{options.slow_threshold_ms} * 1000, progress) {}

    void add_loop(LoopKind kind, std::uint64_t seed) {
        loops_.push_back(
            std::make_shared<Loop>(ioc_, kind, options_, plan_options_, control_, stats_, seed));
    }

    // Runs every loop until it stops by itself; then calls on_done (on this thread).
    void start(std::function<void()> on_done) {
        for (auto& loop : loops_)
            net::post(ioc_, [loop] { loop->run(); });
        thread_ = std::thread([this, on_done = std::move(on_done)] {
            ioc_.run();
            stats_.flush();
            on_done();
        });
    }

    // From any thread: cut what is in flight.
    void abort() {
        net::post(ioc_, [this] {
            for (auto& loop : loops_)
                loop->abort();
        });
    }

    void join() {
        if (thread_.joinable()) thread_.join();
    }

    const Stats& stats() const { return stats_; }

  private:
    const LoadOptions& options_;
    const PlanOptions& plan_options_;
    RunControl& control_;
    net::io_context ioc_{1};
    Stats stats_;
    std::vector<std::shared_ptr<Loop>> loops_;
    std::thread thread_;
};

// The main thread's part: signals, the duration, the last-resort deadline,
// progress lines; it returns once every worker has finished.
class Supervisor {
  public:
    Supervisor(const LoadOptions& options, RunControl& control,
               std::vector<std::unique_ptr<Worker>>& workers, Progress& progress)
        : options_(options),
          control_(control),
          workers_(workers),
          progress_(progress),
          signals_(ioc_, SIGINT, SIGTERM),
          duration_(ioc_),
          deadline_(ioc_),
          progress_timer_(ioc_),
          running_(static_cast<unsigned>(workers.size())) {}

    void run() {
        start_ = std::chrono::steady_clock::now();
        do_wait_signal();
        duration_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(options_.duration_s)));
        duration_.async_wait([this](beast::error_code ec) { on_duration(ec); });
        if (options_.progress_s > 0) do_progress();
        for (auto& w : workers_)
            w->start([this] { on_worker_done(); });
        ioc_.run();
        for (auto& w : workers_)
            w->join();
        elapsed_s_ =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

    double elapsed_s() const { return elapsed_s_; }

  private:
    void do_wait_signal() {
        signals_.async_wait([this](beast::error_code ec, int) { on_signal(ec); });
    }

    void on_signal(beast::error_code ec) {
        if (ec) return;
        if (!control_.stopped()) {
            // First signal: start nothing new; what is in flight finishes.
            control_.stop(StopReason::signal);
            arm_deadline();
        } else {
            // Second signal: cut what is in flight too.
            abort_all();
        }
        do_wait_signal();
    }

    void on_duration(beast::error_code ec) {
        if (ec) return;
        control_.stop(StopReason::duration);
        arm_deadline();
    }

    // Once stopped, requests in flight have their own deadline; this one is
    // the last resort, so that the run always ends.
    void arm_deadline() {
        if (deadline_armed_) return;
        deadline_armed_ = true;
        deadline_.expires_after(std::chrono::milliseconds(options_.timeout_ms) +
                                std::chrono::seconds(2));
        deadline_.async_wait([this](beast::error_code ec) {
            if (!ec) abort_all();
        });
    }

    void abort_all() {
        for (auto& w : workers_)
            w->abort();
    }

    void do_progress() {
        progress_timer_.expires_after(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(options_.progress_s)));
        progress_timer_.async_wait([this](beast::error_code ec) {
            if (ec) return;
            const double t =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
            std::fprintf(stderr, "switchyard-load: progress %.1fs requests=%llu failures=%llu\n", t,
                         static_cast<unsigned long long>(progress_.requests.load()),
                         static_cast<unsigned long long>(progress_.failures.load()));
            std::fflush(stderr);
            do_progress();
        });
    }

    // On a worker's thread.
    void on_worker_done() {
        if (running_.fetch_sub(1) != 1) return;
        net::post(ioc_, [this] {
            beast::error_code ec;
            signals_.cancel(ec);
            duration_.cancel();
            deadline_.cancel();
            progress_timer_.cancel();
        });
    }

    const LoadOptions& options_;
    RunControl& control_;
    std::vector<std::unique_ptr<Worker>>& workers_;
    Progress& progress_;
    net::io_context ioc_{1};
    net::signal_set signals_;
    net::steady_timer duration_;
    net::steady_timer deadline_;
    net::steady_timer progress_timer_;
    bool deadline_armed_ = false;
    std::atomic<unsigned> running_;
    std::chrono::steady_clock::time_point start_;
    double elapsed_s_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    const auto parsed = parse_load_args(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help) {
        std::cout << load_usage();
        return 0;
    }
    if (!parsed.options) {
        std::cerr << "switchyard-load: " << parsed.error << "\n" << load_usage();
        return 2;
    }
    const LoadOptions& options = *parsed.options;
    ::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<SlowLog> slow_log;
    if (!options.slow_log.empty()) {
        try {
            slow_log = std::make_unique<SlowLog>(options.slow_log);
        } catch (const std::exception& e) {
            std::cerr << "switchyard-load: --slow-log: " << e.what() << "\n";
            return 2;
        }
    }

    try {
        const PlanOptions plan_options{options.post_percent, options.bytes_percent, options.slow_ms,
                                       options.path_suffix};
        Progress progress;
        RunControl control(options.max_requests);
        std::vector<std::unique_ptr<Worker>> workers;
        for (unsigned i = 0; i < options.threads; ++i)
            workers.push_back(
                std::make_unique<Worker>(options, plan_options, control, slow_log.get(), progress));
        std::random_device seeds;
        std::size_t next_worker = 0;
        auto add = [&](LoopKind kind, unsigned count) {
            for (unsigned i = 0; i < count; ++i) {
                const std::uint64_t seed = (std::uint64_t{seeds()} << 32) | seeds();
                workers[next_worker++ % workers.size()]->add_loop(kind, seed);
            }
        };
        add(LoopKind::keepalive, options.keepalive);
        add(LoopKind::per_request, options.per_request);
        add(LoopKind::slow, options.slow);

        Supervisor supervisor(options, control, workers, progress);
        supervisor.run();

        Stats total(nullptr, 0, progress);
        for (const auto& w : workers)
            total.merge(w->stats());
        const RunInfo info{options, supervisor.elapsed_s(), control.reason()};
        if (options.json) {
            print_json(total, info, std::cout);
        } else {
            print_text(total, info, std::cout);
        }
        std::cout.flush();
        return total.failures() == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "switchyard-load: " << e.what() << "\n";
        return 1;
    }
}

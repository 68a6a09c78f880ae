// A real etcd (Debian's etcd-server, 3.4) for the fleet's tests: one member
// on 127.0.0.1 with ephemeral client and peer ports and a data dir in the
// test's temp dir, compacting itself as DESIGN.md asks of a production
// store. Stopped (SIGKILL and reaped) with the object.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "harness.hpp"

namespace sy_it {

// Runs the io_context of an etcd client until `cond` or the deadline.
inline bool run_until(boost::asio::io_context& io, Clock::time_point deadline,
                      const std::function<bool()>& cond) {
    io.restart();
    while (!cond() && Clock::now() < deadline)
        io.run_for(std::chrono::milliseconds(20));
    return cond();
}

class EtcdServer {
  public:
    // Where etcd is, or nullopt when it is not installed (scripts/install-deps.sh).
    static std::optional<std::string> binary();

    // Starts it and waits until it answers on its client port; throws if
    // it does not within 20 s.
    EtcdServer(const TempDir& dir, std::string name = "etcd");
    std::uint16_t port() const { return port_; }
    // Kills it (SIGKILL, reaped): the store is gone, as in a crash.
    void kill();
    // Starts it again on the same ports and data dir; waits as the constructor.
    void restart();
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    Process& process() { return *proc_; }

  private:
    void launch();

    std::uint16_t port_ = 0;
    Process::Options options_;
    std::unique_ptr<Process> proc_;
};

}  // namespace sy_it

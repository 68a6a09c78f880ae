#include "etcd_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <stdexcept>

namespace sy_it {

std::optional<std::string> EtcdServer::binary() {
    for (const char* path : {"/usr/bin/etcd", "/usr/local/bin/etcd"})
        if (::access(path, X_OK) == 0) return std::string(path);
    return std::nullopt;
}

EtcdServer::EtcdServer(const TempDir& dir, std::string name) {
    const auto bin = binary();
    if (!bin) throw std::runtime_error("etcd is not installed (scripts/install-deps.sh)");
    port_ = free_port();
    const std::uint16_t peer = free_port();
    const std::string client = "http://127.0.0.1:" + std::to_string(port_);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    Process::Options& o = options_;
    o.argv = {*bin,
              "--name",
              name,
              "--data-dir",
              (dir.path() / (name + ".data")).string(),
              "--listen-client-urls",
              client,
              "--advertise-client-urls",
              client,
              "--listen-peer-urls",
              peer_url,
              "--initial-advertise-peer-urls",
              peer_url,
              "--initial-cluster",
              name + "=" + peer_url,
              "--auto-compaction-mode=periodic",
              "--auto-compaction-retention=1h",
              "--log-level=error"};
    o.stderr_path = dir.path() / (name + ".stderr");
    launch();
}

void EtcdServer::kill() {
    proc_->signal(SIGKILL);
    proc_->wait_exit(after(seconds(10)));
}

void EtcdServer::restart() {
    if (proc_->running()) kill();
    launch();
}

void EtcdServer::launch() {
    proc_ = std::make_unique<Process>(options_);
    // The client port opens once the member serves (a single member elects
    // itself at once).
    const bool up = poll_until(
        after(seconds(20)),
        [&] {
            if (!proc_->running()) return true;
            try {
                HttpConn probe(port_, seconds(1));
                return probe.connected() &&
                       probe.roundtrip("GET /health HTTP/1.1\r\nHost: etcd\r\n\r\n", seconds(2))
                               .status() == 200u;
            } catch (const std::exception&) {
                return false;  // not listening yet
            }
        },
        milliseconds(50));
    if (!up || !proc_->running())
        throw std::runtime_error("etcd did not start: " + read_file(options_.stderr_path));
}

}  // namespace sy_it

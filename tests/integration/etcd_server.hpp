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

    // https on the client port: etcd's certificate and key (PEM files),
    // and with `client_ca`, client certificates signed by it are required
    // (--client-cert-auth).
    struct Tls {
        std::string cert;
        std::string key;
        std::string client_ca;
    };

    // Starts it and waits until it answers (/health; with TLS on a plain
    // metrics port of its own); throws if it does not within 20 s.
    EtcdServer(const TempDir& dir, std::string name = "etcd", std::optional<Tls> tls = {});
    std::uint16_t port() const { return port_; }
    // Kills it (SIGKILL, reaped): the store is gone, as in a crash.
    void kill();
    // Starts it again on the same ports and data dir; waits as the constructor.
    void restart();
    std::string url() const {
        return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
    }
    Process& process() { return *proc_; }

  private:
    void launch();

    std::uint16_t port_ = 0;
    std::uint16_t health_port_ = 0;  // the client port, or the metrics port with TLS
    bool tls_ = false;
    Process::Options options_;
    std::unique_ptr<Process> proc_;
};

// Certificates made for an etcd with TLS (tests/unit/http/test_pki.hpp), as
// PEM files in `dir`: a CA, etcd's certificate for 127.0.0.1 and localhost,
// a client certificate, both signed by the CA, and another CA that signed
// neither.
struct EtcdTlsFiles {
    std::string ca, other_ca, server_cert, server_key, client_cert, client_key;
    // etcd serving with them, client certificates required.
    EtcdServer::Tls server() const { return {server_cert, server_key, ca}; }
};
EtcdTlsFiles make_etcd_tls_files(const std::filesystem::path& dir);

}  // namespace sy_it

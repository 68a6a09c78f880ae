#include "etcd_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "../unit/http/test_pki.hpp"

namespace sy_it {

std::optional<std::string> EtcdServer::binary() {
    for (const char* path : {"/usr/bin/etcd", "/usr/local/bin/etcd"})
        if (::access(path, X_OK) == 0) return std::string(path);
    return std::nullopt;
}

EtcdServer::EtcdServer(const TempDir& dir, std::string name, std::optional<Tls> tls)
    : tls_(tls.has_value()) {
    const auto bin = binary();
    if (!bin) throw std::runtime_error("etcd is not installed (scripts/install-deps.sh)");
    port_ = free_port();
    health_port_ = tls_ ? free_port() : port_;
    const std::uint16_t peer = free_port();
    const std::string client = url();
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
    if (tls) {
        o.argv.insert(o.argv.end(),
                      {"--cert-file", tls->cert, "--key-file", tls->key, "--listen-metrics-urls",
                       "http://127.0.0.1:" + std::to_string(health_port_)});
        if (!tls->client_ca.empty())
            o.argv.insert(o.argv.end(),
                          {"--client-cert-auth", "--trusted-ca-file", tls->client_ca});
    }
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
                HttpConn probe(health_port_, seconds(1));
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

EtcdTlsFiles make_etcd_tls_files(const std::filesystem::path& dir) {
    namespace pki = switchyard::http::test_pki;
    EtcdTlsFiles f;
    auto file = [&](const std::string& name) { return (dir / name).string(); };
    f.ca = file("etcd-ca.pem");
    f.other_ca = file("etcd-other-ca.pem");
    f.server_cert = file("etcd-server.pem");
    f.server_key = file("etcd-server.key");
    f.client_cert = file("etcd-client.pem");
    f.client_key = file("etcd-client.key");
    auto ca_key = pki::make_key();
    auto ca = pki::make_cert({"Etcd Test Root", "", true}, ca_key.get());
    pki::write_pem(f.ca, {ca.get()});
    auto other_key = pki::make_key();
    auto other = pki::make_cert({"Other Root", "", true}, other_key.get());
    pki::write_pem(f.other_ca, {other.get()});
    auto leaf = [&](const std::string& cn, const std::string& san, const std::string& cert_path,
                    const std::string& key_path) {
        auto key = pki::make_key();
        auto cert = pki::make_cert({cn, san}, key.get(), ca.get(), ca_key.get());
        pki::write_pem(cert_path, {cert.get()});
        pki::write_key(key_path, key.get());
    };
    leaf("etcd", "DNS:localhost,IP:127.0.0.1", f.server_cert, f.server_key);
    leaf("switchyard", "DNS:switchyard.test", f.client_cert, f.client_key);
    return f;
}

}  // namespace sy_it

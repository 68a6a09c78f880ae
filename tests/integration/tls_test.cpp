// TLS: termination with SNI and min_version, certificate reload,
// session resumption across workers and hot upgrades, upstream TLS with
// verification, and bad input on a TLS port. Certificates are made at test
// time (no key material in the repository); the client is OpenSSL on a
// blocking socket, verifying the chain and the name like a browser.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include <set>

#include "../unit/http/test_pki.hpp"
#include "fixture.hpp"

namespace sy_it {
namespace {

namespace pki = switchyard::http::test_pki;

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

using pki::SessionPtr;

std::string ssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

// One TLS client connection (blocking, bounded by socket timeouts).
class TlsConn {
  public:
    struct Options {
        std::string ca;       // verify the chain against this file (empty: no verification)
        std::string sni;      // also the name verified; empty: no SNI, no name check
        int max_version = 0;  // e.g. TLS1_2_VERSION
        SSL_SESSION* resume = nullptr;
        std::string preamble;  // sent in clear before the handshake (a PROXY header)
        std::string alpn = std::string("\x08http/1.1", 9);  // wire format; empty: none
    };

    // Connects and handshakes; on failure connected() is false and error() says why.
    TlsConn(std::uint16_t port, const Options& o) {
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        if (!o.ca.empty()) {
            SSL_CTX_load_verify_locations(ctx_.get(), o.ca.c_str(), nullptr);
            SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
        }
        if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx_.get(), o.max_version);
        SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_CLIENT);
        sock_ = Socket::connect(port, after(seconds(5)));
        if (!sock_.valid()) {
            error_ = "connect failed";
            return;
        }
        // Blocking, bounded by socket timeouts (the harness connects non-blocking).
        ::fcntl(sock_.fd(), F_SETFL, ::fcntl(sock_.fd(), F_GETFL) & ~O_NONBLOCK);
        timeval tv{5, 0};
        ::setsockopt(sock_.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(sock_.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (!o.preamble.empty() && !sock_.send_all(o.preamble, after(seconds(5)))) {
            error_ = "preamble not sent";
            return;
        }
        ssl_.reset(SSL_new(ctx_.get()));
        SSL_set_fd(ssl_.get(), sock_.fd());
        if (!o.sni.empty()) {
            SSL_set_tlsext_host_name(ssl_.get(), o.sni.c_str());
            if (!o.ca.empty()) SSL_set1_host(ssl_.get(), o.sni.c_str());
        }
        if (!o.alpn.empty())
            SSL_set_alpn_protos(ssl_.get(), reinterpret_cast<const unsigned char*>(o.alpn.data()),
                                static_cast<unsigned>(o.alpn.size()));
        if (o.resume != nullptr) SSL_set_session(ssl_.get(), o.resume);
        if (SSL_connect(ssl_.get()) != 1) {
            error_ = "handshake: " + ssl_errors() + " (errno " + std::to_string(errno) + ")";
            ssl_.reset();
        }
    }

    ~TlsConn() {
        if (ssl_) SSL_shutdown(ssl_.get());
    }
    TlsConn(const TlsConn&) = delete;
    TlsConn& operator=(const TlsConn&) = delete;

    bool connected() const { return ssl_ != nullptr; }
    const std::string& error() const { return error_; }
    bool resumed() const { return SSL_session_reused(ssl_.get()) == 1; }
    std::string version() const { return SSL_get_version(ssl_.get()); }
    std::string peer_cn() const {
        X509* cert = SSL_get1_peer_certificate(ssl_.get());
        if (cert == nullptr) return "";
        char buf[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
        X509_free(cert);
        return buf;
    }
    // TLS 1.3 tickets arrive after the handshake: read a response first. A
    // copy, as a client's session cache keeps one: whatever happens to this
    // connection later does not touch it.
    SessionPtr session() const {
        SSL_SESSION* s = SSL_get_session(ssl_.get());
        return SessionPtr(s == nullptr ? nullptr : SSL_SESSION_dup(s));
    }

    // Sends a request and reads one Content-Length response (head + body).
    std::string roundtrip(std::string_view request) {
        if (SSL_write(ssl_.get(), request.data(), static_cast<int>(request.size())) <= 0) return "";
        std::string in;
        char buf[16384];
        const auto deadline = after(seconds(5));
        while (Clock::now() < deadline) {
            auto end = in.find("\r\n\r\n");
            if (end != std::string::npos) {
                auto cl = in.find("Content-Length: ");
                std::size_t need = end + 4;
                if (cl != std::string::npos && cl < end) need += std::stoul(in.substr(cl + 16));
                if (in.size() >= need) return in.substr(0, need);
            }
            int n = SSL_read(ssl_.get(), buf, sizeof buf);
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
        }
        return in;
    }

  private:
    pki::SslCtxPtr ctx_;
    Socket sock_;
    pki::SslPtr ssl_;
    std::string error_;
};

unsigned status_of(const std::string& response) {
    if (response.size() < 12 || response.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
    return static_cast<unsigned>(std::stoi(response.substr(9, 3)));
}

class Tls : public ProxyTest {
  protected:
    void SetUp() override {
        ca_key_ = pki::make_key();
        ca_ = pki::make_cert({"Test Root", "", true}, ca_key_.get());
        pki::write_pem(path("ca.pem"), {ca_.get()});
        // Another CA, to verify against the wrong one.
        auto other_key = pki::make_key();
        auto other = pki::make_cert({"Other Root", "", true}, other_key.get());
        pki::write_pem(path("other-ca.pem"), {other.get()});
        leaf("localhost", "DNS:localhost,IP:127.0.0.1", "server");
        leaf("api.test", "DNS:api.test", "api");
    }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // NAME.pem (chain) and NAME.key for a leaf signed by the test CA.
    void leaf(const std::string& cn, const std::string& san, const std::string& name) {
        auto key = pki::make_key();
        auto cert = pki::make_cert({cn, san}, key.get(), ca_.get(), ca_key_.get());
        pki::write_pem(path(name + ".pem"), {cert.get()});
        pki::write_key(path(name + ".key"), key.get());
    }

    std::string tls_listener(const std::string& extra = "") const {
        return "tls = { cert = \"" + path("server.pem") + "\", key = \"" + path("server.key") +
               "\"" + extra + " }\n";
    }

    TlsConn::Options verified(std::string sni = "localhost") const {
        TlsConn::Options o;
        o.ca = path("ca.pem");
        o.sni = std::move(sni);
        return o;
    }

    std::string command(std::string_view line) {
        return control_command(dir_ / "control.sock", line);
    }

    switchyard::http::EvpPkeyPtr ca_key_;
    switchyard::http::X509Ptr ca_;
};

TEST_F(Tls, HttpsThroughTheProxyWithVerification) {
    auto cfg = base_config();
    cfg.listener_extra = tls_listener();
    start_proxy(cfg);
    TlsConn c(proxy_->port(), verified());
    ASSERT_TRUE(c.connected()) << c.error();
    EXPECT_EQ(c.peer_cn(), "localhost");
    auto r = c.roundtrip(get_request("/?echo=head"));
    ASSERT_EQ(status_of(r), 200u) << r;
    // The upstream learns the client used https; the assignment cookie is Secure.
    EXPECT_TRUE(has(r, "X-Forwarded-Proto: https")) << r;
    EXPECT_TRUE(has(r, "Set-Cookie: sy_uid=")) << r;
    EXPECT_TRUE(has(r, "; Secure")) << r;
    // Keep-alive over TLS.
    auto again = c.roundtrip(get_request("/"));
    EXPECT_EQ(status_of(again), 200u) << again;
    EXPECT_TRUE(has(again, "\r\n\r\nblue\n")) << again;
}

// PROXY protocol in front of TLS: the header comes in clear, then the
// handshake (in the same read or not).
TEST_F(Tls, ProxyProtocolHeaderBeforeTheHandshake) {
    auto cfg = base_config();
    cfg.listener_extra = "proxy_protocol = true\n" + tls_listener();
    start_proxy(cfg);
    auto o = verified();
    o.preamble = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n";
    TlsConn c(proxy_->port(), o);
    ASSERT_TRUE(c.connected()) << c.error();
    auto r = c.roundtrip(get_request("/?echo=head"));
    EXPECT_EQ(status_of(r), 200u) << r;
    EXPECT_TRUE(has(r, "X-Forwarded-For: 203.0.113.7")) << r;
}

TEST_F(Tls, SniPicksTheCertificateAndAnUnknownNameGetsTheDefault) {
    auto cfg = base_config();
    cfg.listener_extra = tls_listener(
        ", certificates = [{ hosts = [\"api.test\", \"*.api.test\"], "
        "cert = \"" +
        path("api.pem") + "\", key = \"" + path("api.key") + "\" }]");
    start_proxy(cfg);
    TlsConn api(proxy_->port(), verified("api.test"));
    ASSERT_TRUE(api.connected()) << api.error();
    EXPECT_EQ(api.peer_cn(), "api.test");
    EXPECT_EQ(status_of(api.roundtrip(get_request("/"))), 200u);

    TlsConn::Options unknown;  // no verification: the default certificate is for localhost
    unknown.sni = "unknown.test";
    TlsConn other(proxy_->port(), unknown);
    ASSERT_TRUE(other.connected()) << other.error();
    EXPECT_EQ(other.peer_cn(), "localhost");

    TlsConn::Options none;  // no SNI at all
    TlsConn plain_name(proxy_->port(), none);
    ASSERT_TRUE(plain_name.connected()) << plain_name.error();
    EXPECT_EQ(plain_name.peer_cn(), "localhost");
}

TEST_F(Tls, MinVersion13RefusesATls12Client) {
    auto cfg = base_config();
    cfg.listener_extra = tls_listener(", min_version = \"1.3\"");
    start_proxy(cfg);
    auto old = verified();
    old.max_version = TLS1_2_VERSION;
    TlsConn refused(proxy_->port(), old);
    EXPECT_FALSE(refused.connected());
    TlsConn modern(proxy_->port(), verified());
    ASSERT_TRUE(modern.connected()) << modern.error();
    EXPECT_EQ(modern.version(), "TLSv1.3");
    EXPECT_EQ(status_of(modern.roundtrip(get_request("/"))), 200u);
}

TEST_F(Tls, ReloadSwapsTheCertificateWhileAnExistingConnectionKeepsWorking) {
    auto cfg = base_config();
    cfg.listener_extra = tls_listener();
    start_proxy(cfg);
    TlsConn before(proxy_->port(), verified());
    ASSERT_TRUE(before.connected()) << before.error();
    ASSERT_EQ(status_of(before.roundtrip(get_request("/"))), 200u);
    EXPECT_EQ(before.peer_cn(), "localhost");

    // A renewed certificate for the same name (another CN, to tell them apart).
    leaf("localhost-v2", "DNS:localhost,IP:127.0.0.1", "server");
    auto reply = command("reload");
    ASSERT_TRUE(has(reply, "\"ok\":true")) << reply;
    TlsConn after(proxy_->port(), verified());
    ASSERT_TRUE(after.connected()) << after.error();
    EXPECT_EQ(after.peer_cn(), "localhost-v2");
    // The connection made before the reload goes on with its session.
    EXPECT_EQ(status_of(before.roundtrip(get_request("/"))), 200u);

    // A bad certificate keeps the running one and says why.
    pki::write_text(path("server.pem"), "not a certificate\n");
    reply = command("reload");
    EXPECT_TRUE(has(reply, "\"ok\":false")) << reply;
    EXPECT_TRUE(has(reply, "server.pem")) << reply;
    TlsConn still(proxy_->port(), verified());
    ASSERT_TRUE(still.connected()) << still.error();
    EXPECT_EQ(still.peer_cn(), "localhost-v2");
}

// Tickets sealed by one worker open on the other: the keys are shared.
TEST_F(Tls, SessionsResumeAcrossWorkers) {
    auto cfg = base_config();
    cfg.workers = 2;
    cfg.access_log_file = true;
    cfg.listener_extra = tls_listener();
    start_proxy(cfg);
    SessionPtr session;
    {
        TlsConn first(proxy_->port(), verified());
        ASSERT_TRUE(first.connected()) << first.error();
        ASSERT_EQ(status_of(first.roundtrip(get_request("/first"))), 200u);
        EXPECT_FALSE(first.resumed());
        session = first.session();
    }
    ASSERT_NE(session, nullptr);
    // Several connections open at once spread over both workers.
    std::vector<std::unique_ptr<TlsConn>> conns;
    std::vector<SessionPtr> copies;  // TLS 1.3 sessions are single use in OpenSSL's client
    for (int i = 0; i < 8; ++i) {
        auto o = verified();
        copies.emplace_back(SSL_SESSION_dup(session.get()));
        o.resume = copies.back().get();
        conns.push_back(std::make_unique<TlsConn>(proxy_->port(), o));
        ASSERT_TRUE(conns.back()->connected()) << conns.back()->error();
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
        EXPECT_TRUE(conns[i]->resumed()) << i;
        EXPECT_EQ(status_of(conns[i]->roundtrip(get_request("/resumed"))), 200u) << i;
    }
    auto lines = proxy_->wait_access_lines(9);
    std::set<std::string> workers;
    for (const auto& line : lines)
        if (has(line, "\"target\":\"/resumed\""))
            workers.insert(line.substr(line.find("\"worker\":") + 9, 1));
    EXPECT_EQ(workers.size(), 2u) << "resumed connections were all served by one worker";
}

TEST_F(Tls, BadInputOnATlsPortIsClosedAndAffectsNothingElse) {
    auto cfg = base_config();
    cfg.level = "debug";
    cfg.timeouts = {{"client_header", "\"300ms\""}};
    cfg.listener_extra = tls_listener();
    start_proxy(cfg);
    // Plain HTTP on the TLS port: no HTTP answer, the connection is closed.
    HttpConn plain = proxy_->connect();
    plain.send(get_request("/"));
    auto raw = plain.read_until_close(seconds(3));
    EXPECT_FALSE(raw.timed_out);
    EXPECT_FALSE(has(raw.bytes, "HTTP/1.1")) << raw.bytes;
    // A client that stalls in the handshake is cut by client_header.
    HttpConn stalled = proxy_->connect();
    stalled.send(std::string("\x16\x03\x01\x00", 4));  // the start of a ClientHello, no more
    const auto t0 = Clock::now();
    EXPECT_TRUE(stalled.wait_closed(seconds(3)));
    EXPECT_LT(ms_since(t0), 2000);
    // A client offering only another application protocol is refused (the
    // TLS 1.3-only listener refusing a TLS 1.2 client is another test); a
    // client without ALPN is served.
    auto h3_only = verified();
    h3_only.alpn = std::string("\x02h3", 3);
    EXPECT_FALSE(TlsConn(proxy_->port(), h3_only).connected());
    auto no_alpn = verified();
    no_alpn.alpn.clear();
    TlsConn fine(proxy_->port(), no_alpn);
    ASSERT_TRUE(fine.connected()) << fine.error();
    EXPECT_EQ(status_of(fine.roundtrip(get_request("/"))), 200u);
    EXPECT_TRUE(poll_until(after(seconds(3)), [&] {
        return has(proxy_->stderr_text(), "TLS handshake failed");
    })) << proxy_->stderr_text();
}

// Upstream TLS: the upstream is a second switchyard terminating TLS in
// front of the echo server (another via_name, or it would see a loop).
TEST_F(Tls, UpstreamTlsVerifiesTheServerAndAWrongCaGives502) {
    start_upstreams();
    TempDir up_dir;
    ProxyConfig up_cfg;
    up_cfg.pools = {{"blue", {blue_->address()}, ""}};
    up_cfg.server = {{"via_name", "\"upstream-tls\""}};
    up_cfg.listener_extra = tls_listener();
    up_cfg.access_log_file = true;
    Switchyard upstream(up_dir, up_cfg);
    const std::string address = "127.0.0.1:" + std::to_string(upstream.port());

    ProxyConfig cfg;
    cfg.access_log_file = true;
    cfg.active = "good";
    // Health probes speak TLS with the pool's settings too.
    const std::string health =
        "health = { path = \"/\", interval = \"100ms\", timeout = \"500ms\", rise = 1, fall = 1 "
        "}\n";
    cfg.pools = {
        {"good", {address}, "tls = { ca = \"" + path("ca.pem") + "\" }\n" + health},
        {"bad", {address}, "tls = { ca = \"" + path("other-ca.pem") + "\" }\n"},
        {"probed", {address}, "tls = { ca = \"" + path("other-ca.pem") + "\" }\n" + health}};
    start_proxy(cfg);
    std::string status;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        status = command("status");
        return has(status, "\"health\":\"healthy\"") && has(status, "\"health\":\"unhealthy\"");
    })) << status;
    EXPECT_TRUE(has(status, "tls handshake: certificate verify failed")) << status;
    HttpConn c = proxy_->connect();
    auto ok = c.roundtrip(get_request("/reuse-1"));
    EXPECT_EQ(ok.status(), 200u);
    EXPECT_EQ(ok.body(), "blue\n");
    EXPECT_EQ(c.roundtrip(get_request("/reuse-2")).status(), 200u);
    // Pooled TLS connections are reused: the TLS upstream saw both requests
    // come from one client address and port.
    std::string first, second;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        const auto text = read_file(upstream.access_log_path());
        auto client_of = [&](std::string_view target) -> std::string {
            auto at = text.find("\"target\":\"" + std::string(target) + "\"");
            if (at == std::string::npos) return "";
            auto start = text.rfind('\n', at);
            auto c = text.find("\"client\":\"", start == std::string::npos ? 0 : start) + 10;
            return text.substr(c, text.find('"', c) - c);
        };
        first = client_of("/reuse-1");
        second = client_of("/reuse-2");
        return !first.empty() && !second.empty();
    }));
    EXPECT_EQ(first, second);

    ASSERT_TRUE(has(command("switch bad force"), "\"ok\":true"));  // past its health gate
    auto refused = proxy_->connect().roundtrip(get_request("/"));
    EXPECT_EQ(refused.status(), 502u);
    auto lines = proxy_->wait_access_lines(3);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(has(lines[2], "\"error\":\"upstream_tls\"")) << lines[2];
}

// --check loads every certificate and key: a key that does not match fails
// the check (exit 1, naming the files); one expiring soon is a warning.
TEST_F(Tls, CheckVerifiesCertificatesAndWarnsAboutExpiry) {
    auto cfg = base_config();
    cfg.listener_extra =
        "tls = { cert = \"" + path("server.pem") + "\", key = \"" + path("api.key") + "\" }\n";
    const auto bad = dir_ / "bad.toml";
    write_file(bad, render_config(cfg, dir_, free_port()));
    auto r = run_check(dir_, bad);
    EXPECT_TRUE(exited_with(r.status, 1)) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "does not match certificate")) << r.err;

    auto key = pki::make_key();
    auto soon = pki::make_cert({"localhost", "DNS:localhost", false, pki::now_unix() - 3600,
                                pki::now_unix() + 3 * pki::kDay},
                               key.get(), ca_.get(), ca_key_.get());
    pki::write_pem(path("soon.pem"), {soon.get()});
    pki::write_key(path("soon.key"), key.get());
    cfg.listener_extra =
        "tls = { cert = \"" + path("soon.pem") + "\", key = \"" + path("soon.key") + "\" }\n";
    const auto expiring = dir_ / "soon.toml";
    write_file(expiring, render_config(cfg, dir_, free_port()));
    r = run_check(dir_, expiring);
    EXPECT_TRUE(exited_with(r.status, 0)) << r.out << r.err;
    EXPECT_TRUE(has(r.out + r.err, "expires within 14 days")) << r.out << r.err;
}

// A hot upgrade hands the ticket keys over: a session from the old process
// resumes on the new one.
TEST_F(Tls, SessionsResumeAfterAHotUpgrade) {
    auto cfg = base_config();
    cfg.listener_extra = tls_listener();
    start_proxy(cfg);
    SessionPtr session;
    {
        TlsConn first(proxy_->port(), verified());
        ASSERT_TRUE(first.connected()) << first.error();
        ASSERT_EQ(status_of(first.roundtrip(get_request("/"))), 200u);
        session = first.session();
    }
    auto reply = control_command(dir_ / "control.sock", "upgrade", seconds(30));
    ASSERT_TRUE(has(reply, "\"ok\":true")) << reply;
    const auto at = reply.find("\"pid\":");
    ASSERT_NE(at, std::string::npos) << reply;
    const pid_t new_pid = static_cast<pid_t>(std::stol(reply.substr(at + 6)));
    // The old process drains and exits; only the new one accepts from here.
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
    auto o = verified();
    o.resume = session.get();
    TlsConn resumed(proxy_->port(), o);
    EXPECT_TRUE(resumed.connected()) << resumed.error();
    if (resumed.connected()) {
        EXPECT_TRUE(resumed.resumed());
        EXPECT_EQ(status_of(resumed.roundtrip(get_request("/"))), 200u);
    }
    // Not our child (the old process started it): stop it by its pid.
    ::kill(new_pid, SIGTERM);
    EXPECT_TRUE(poll_until(after(seconds(10)), [&] { return ::kill(new_pid, 0) != 0; }));
}

}  // namespace
}  // namespace sy_it

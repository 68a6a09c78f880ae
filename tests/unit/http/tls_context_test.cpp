// Listener and upstream TLS contexts, exercised by in-memory handshakes
// (test_pki.hpp): certificates made at test time, no sockets.
#include "switchyard/http/tls_context.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "test_pki.hpp"

namespace switchyard::http {
namespace {

using namespace test_pki;

// One PKI for the whole suite: a root CA, an intermediate, and leaves
//   default.test (root), a.test (root), *.b.test (intermediate, chain in its
//   file), 127.0.0.1 (root); and an unrelated root.
class TlsContextTest : public ::testing::Test {
  protected:
    struct Pki {
        TempDir dir;
        EvpPkeyPtr root_key = make_key(), inter_key = make_key(), other_key = make_key();
        X509Ptr root, inter, other_root;
        X509Ptr default_cert, a_cert, b_cert, ip_cert;
        std::string root_file, other_root_file;
        std::string default_crt, default_key, a_crt, a_key, b_crt, b_key, ip_crt, ip_key;
    };
    static inline std::unique_ptr<Pki> pki;

    static void SetUpTestSuite() {
        pki = std::make_unique<Pki>();
        Pki& p = *pki;
        p.root = make_cert({.cn = "Test Root", .ca = true}, p.root_key.get());
        p.inter = make_cert({.cn = "Test Intermediate", .ca = true}, p.inter_key.get(),
                            p.root.get(), p.root_key.get());
        p.other_root = make_cert({.cn = "Other Root", .ca = true}, p.other_key.get());
        p.root_file = p.dir.file("root.pem");
        write_pem(p.root_file, {p.root.get()});
        p.other_root_file = p.dir.file("other-root.pem");
        write_pem(p.other_root_file, {p.other_root.get()});

        auto leaf = [&](const std::string& name, const CertSpec& spec, X509Ptr& cert,
                        std::string& crt, std::string& key, bool via_intermediate) {
            auto k = make_key();
            cert = via_intermediate ? make_cert(spec, k.get(), p.inter.get(), p.inter_key.get())
                                    : make_cert(spec, k.get(), p.root.get(), p.root_key.get());
            crt = p.dir.file(name + ".crt");
            key = p.dir.file(name + ".key");
            if (via_intermediate)
                write_pem(crt, {cert.get(), p.inter.get()});
            else
                write_pem(crt, {cert.get()});
            write_key(key, k.get());
        };
        leaf("default", {.cn = "default.test", .san = "DNS:default.test"}, p.default_cert,
             p.default_crt, p.default_key, false);
        leaf("a", {.cn = "a.test", .san = "DNS:a.test"}, p.a_cert, p.a_crt, p.a_key, false);
        leaf("b", {.cn = "*.b.test", .san = "DNS:*.b.test"}, p.b_cert, p.b_crt, p.b_key, true);
        leaf("ip", {.cn = "127.0.0.1", .san = "IP:127.0.0.1"}, p.ip_cert, p.ip_crt, p.ip_key,
             false);
    }
    static void TearDownTestSuite() { pki.reset(); }

    static ListenerTlsSettings listener() {
        ListenerTlsSettings s;
        s.cert = pki->default_crt;
        s.key = pki->default_key;
        s.certificates.push_back({{"a.test"}, pki->a_crt, pki->a_key});
        s.certificates.push_back({{"*.b.test"}, pki->b_crt, pki->b_key});
        return s;
    }

    static std::shared_ptr<const ServerTlsContext> build(const ListenerTlsSettings& s,
                                                         std::shared_ptr<TicketKeys> keys = {}) {
        std::string error;
        auto ctx = build_server_tls(s, std::move(keys), error);
        EXPECT_NE(ctx, nullptr) << error;
        return ctx;
    }

    // A client of `server` with optional SNI and ALPN offer (wire format).
    struct Connection {
        SslPtr client, server;
        HandshakeResult result;
    };
    static Connection connect(const ServerTlsContext& server, SSL_CTX* client_ctx,
                              const std::string& sni = {}, const std::string& alpn = {},
                              SSL_SESSION* session = nullptr) {
        Connection c{SslPtr(SSL_new(client_ctx)), SslPtr(SSL_new(server.native_handle())), {}};
        if (!sni.empty()) SSL_set_tlsext_host_name(c.client.get(), sni.c_str());
        if (!alpn.empty())
            SSL_set_alpn_protos(c.client.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                                static_cast<unsigned int>(alpn.size()));
        if (session != nullptr) SSL_set_session(c.client.get(), session);
        c.result = handshake(c.client.get(), c.server.get());
        return c;
    }

    static bool served(const Connection& c, const X509Ptr& expected) {
        const X509* peer = SSL_get0_peer_certificate(c.client.get());
        return peer != nullptr && X509_cmp(peer, expected.get()) == 0;
    }
};

TEST_F(TlsContextTest, BuildsOneContextPerCertificate) {
    auto ctx = build(listener());
    ASSERT_NE(ctx, nullptr);
    EXPECT_EQ(ctx->certificate_count(), 3u);
    EXPECT_EQ(ctx->native_handle(), ctx->context().native_handle());
    EXPECT_NE(ctx->ticket_keys(), nullptr);  // a set of its own when none is given
}

TEST_F(TlsContextTest, SniPicksTheCertificateAndTheChainVerifies) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get());

    struct Case {
        std::string sni;
        const X509Ptr* expected;
    };
    const Case cases[] = {
        {"", &pki->default_cert},            // no SNI: the default
        {"a.test", &pki->a_cert},            //
        {"A.Test", &pki->a_cert},            // case-insensitive
        {"x.b.test", &pki->b_cert},          // wildcard, chain via the intermediate
        {"x.a.test", &pki->default_cert},    // a.test has no wildcard
        {"b.test", &pki->default_cert},      // *.b.test needs one more label
        {"y.x.b.test", &pki->default_cert},  // ... and only one
        {"unknown.test", &pki->default_cert},
    };
    for (const auto& c : cases) {
        auto conn = connect(*server, client.get(), c.sni);
        ASSERT_TRUE(conn.result.ok) << c.sni << ": client " << conn.result.client_error
                                    << ", server " << conn.result.server_error;
        EXPECT_TRUE(served(conn, *c.expected)) << c.sni;
        EXPECT_EQ(SSL_get_verify_result(conn.client.get()), X509_V_OK) << c.sni;
    }
}

TEST_F(TlsContextTest, TheServedCertificateMatchesTheNameTheClientChecks) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get());
    for (const std::string name : {"a.test", "www.b.test"}) {
        SslPtr c(SSL_new(client.get())), s(SSL_new(server->native_handle()));
        SSL_set_tlsext_host_name(c.get(), name.c_str());
        SSL_set1_host(c.get(), name.c_str());
        EXPECT_TRUE(handshake(c.get(), s.get()).ok) << name;
    }
}

TEST_F(TlsContextTest, DefaultsNegotiateTls13AndAllowTls12) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto modern = client_ctx(pki->root.get());
    auto conn = connect(*server, modern.get(), "a.test");
    ASSERT_TRUE(conn.result.ok);
    EXPECT_STREQ(SSL_get_version(conn.client.get()), "TLSv1.3");

    auto old = client_ctx(pki->root.get(), TLS1_2_VERSION);
    conn = connect(*server, old.get(), "a.test");
    ASSERT_TRUE(conn.result.ok) << conn.result.server_error;
    EXPECT_STREQ(SSL_get_version(conn.client.get()), "TLSv1.2");
    EXPECT_STREQ(SSL_get_cipher_name(conn.client.get()), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsContextTest, Tls12UsesTheServersCipherOrder) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get(), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(client.get(),
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256");
    auto conn = connect(*server, client.get());
    ASSERT_TRUE(conn.result.ok);
    EXPECT_STREQ(SSL_get_cipher_name(conn.client.get()), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsContextTest, Tls12RefusesCiphersOutsideTheModernDefault) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get(), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(client.get(), "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA");
    auto conn = connect(*server, client.get());
    EXPECT_FALSE(conn.result.ok);
    EXPECT_EQ(conn.result.server_error, "no shared cipher");
}

TEST_F(TlsContextTest, ConfiguredCipherLists) {
    auto s = listener();
    s.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
    s.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    auto server = build(s);
    ASSERT_NE(server, nullptr);
    auto tls12 = client_ctx(pki->root.get(), TLS1_2_VERSION);
    auto conn = connect(*server, tls12.get());
    ASSERT_TRUE(conn.result.ok);
    EXPECT_STREQ(SSL_get_cipher_name(conn.client.get()), "ECDHE-ECDSA-CHACHA20-POLY1305");
    auto tls13 = client_ctx(pki->root.get());
    conn = connect(*server, tls13.get());
    ASSERT_TRUE(conn.result.ok);
    EXPECT_STREQ(SSL_get_cipher_name(conn.client.get()), "TLS_CHACHA20_POLY1305_SHA256");
}

TEST_F(TlsContextTest, MinVersion13RefusesATls12Client) {
    auto s = listener();
    s.min_version = "1.3";
    auto server = build(s);
    ASSERT_NE(server, nullptr);
    auto old = client_ctx(pki->root.get(), TLS1_2_VERSION);
    auto conn = connect(*server, old.get(), "a.test");
    EXPECT_FALSE(conn.result.ok);
    EXPECT_EQ(conn.result.server_error, "unsupported protocol");
    auto modern = client_ctx(pki->root.get());
    EXPECT_TRUE(connect(*server, modern.get(), "a.test").result.ok);
}

// The listener's protocols in its order (default h2, then HTTP/1.1), on
// every certificate's context.
TEST_F(TlsContextTest, AlpnPicksTheListenersFirstProtocolTheClientOffers) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get());
    const std::string h1_and_h2("\x08http/1.1\x02h2", 12);
    for (const std::string sni : {"", "a.test", "x.b.test"}) {
        auto conn = connect(*server, client.get(), sni, h1_and_h2);
        ASSERT_TRUE(conn.result.ok) << sni;
        EXPECT_EQ(alpn_of(conn.client.get()), "h2") << sni;
        EXPECT_EQ(alpn_of(conn.server.get()), "h2") << sni;
    }
    auto h1_only = connect(*server, client.get(), "a.test", std::string("\x08http/1.1", 9));
    ASSERT_TRUE(h1_only.result.ok);
    EXPECT_EQ(alpn_of(h1_only.server.get()), "http/1.1");

    // protocols = ["http/1.1"]: HTTP/2 is not offered.
    auto settings = listener();
    settings.alpn = {"http/1.1"};
    auto h1_server = build(settings);
    ASSERT_NE(h1_server, nullptr);
    for (const std::string sni : {"", "x.b.test"}) {
        auto conn = connect(*h1_server, client.get(), sni, h1_and_h2);
        ASSERT_TRUE(conn.result.ok) << sni;
        EXPECT_EQ(alpn_of(conn.server.get()), "http/1.1") << sni;
    }
}

TEST_F(TlsContextTest, AlpnIsOptionalButOneOfOursMustBeAmongTheOffers) {
    auto settings = listener();
    settings.alpn = {"http/1.1"};
    auto server = build(settings);
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get());
    auto without = connect(*server, client.get(), "a.test");
    ASSERT_TRUE(without.result.ok);
    EXPECT_EQ(alpn_of(without.server.get()), "");

    auto h2_only = connect(*server, client.get(), "a.test", std::string("\x02h2", 3));
    EXPECT_FALSE(h2_only.result.ok);
    EXPECT_EQ(h2_only.result.server_error, "no application protocol");
    EXPECT_EQ(h2_only.result.client_error, "tlsv1 alert no application protocol");
}

// A reload replaces the ServerTlsContext while handshakes are in flight:
// what the callbacks use lives as long as the connection's SSL_CTX.
TEST_F(TlsContextTest, AHandshakeOutlivesItsContextObject) {
    auto server = build(listener());
    ASSERT_NE(server, nullptr);
    SslPtr s(SSL_new(server->native_handle()));
    server.reset();
    auto client = client_ctx(pki->root.get());
    SslPtr c(SSL_new(client.get()));
    SSL_set_tlsext_host_name(c.get(), "x.b.test");
    SSL_set_alpn_protos(c.get(), reinterpret_cast<const unsigned char*>("\x08http/1.1"), 9);
    ASSERT_TRUE(handshake(c.get(), s.get()).ok);
    EXPECT_EQ(X509_cmp(SSL_get0_peer_certificate(c.get()), pki->b_cert.get()), 0);
    EXPECT_EQ(alpn_of(c.get()), "http/1.1");
}

TEST_F(TlsContextTest, BuildErrorsNameTheFileOrSetting) {
    std::string error;
    auto s = listener();
    s.certificates[0].key = pki->b_key;  // a.test's certificate, *.b.test's key
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_EQ(error, "key " + pki->b_key + " does not match certificate " + pki->a_crt);

    s = listener();
    s.cert = pki->dir.file("missing.crt");
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_EQ(error, "cannot read certificate " + s.cert + ": No such file or directory");

    s = listener();
    s.certificates[1].key = pki->dir.file("missing.key");
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_EQ(error, "cannot read key " + s.certificates[1].key + ": No such file or directory");

    s = listener();
    s.min_version = "1.1";
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_EQ(error, "min_version \"1.1\": expected \"1.2\" or \"1.3\"");

    s = listener();
    s.ciphers = "NOT-A-CIPHER";
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_EQ(error, "ciphers \"NOT-A-CIPHER\": no TLS 1.2 cipher that OpenSSL knows");

    s = listener();
    s.ciphersuites = "TLS_NOT_A_SUITE";
    EXPECT_EQ(build_server_tls(s, nullptr, error), nullptr);
    EXPECT_NE(error.find("ciphersuites \"TLS_NOT_A_SUITE\""), std::string::npos) << error;
}

// --- session tickets -------------------------------------------------------

struct Resumption {
    bool first_ok = false;
    bool resumed = false;
};

class TicketTest : public TlsContextTest, public ::testing::WithParamInterface<int> {
  protected:
    // A ticket from `issuer`, then a second connection to `resumer` with it.
    Resumption resume(const ServerTlsContext& issuer, const ServerTlsContext& resumer,
                      const std::function<void()>& between = {}) {
        auto client = client_ctx(pki->root.get(), GetParam());
        auto first = connect(issuer, client.get(), "a.test");
        Resumption r;
        r.first_ok = first.result.ok;
        SessionPtr session(SSL_get1_session(first.client.get()));
        if (!r.first_ok || !session || SSL_SESSION_is_resumable(session.get()) != 1) return r;
        if (between) between();
        auto second = connect(resumer, client.get(), "a.test", {}, session.get());
        EXPECT_TRUE(second.result.ok) << second.result.server_error;
        r.resumed = SSL_session_reused(second.client.get()) == 1;
        return r;
    }
};

TEST_P(TicketTest, ResumesAcrossContextsSharingTheKeys) {
    std::string error;
    auto keys = TicketKeys::generate(error);
    ASSERT_NE(keys, nullptr);
    auto worker1 = build(listener(), keys);
    auto worker2 = build(listener(), keys);  // another worker, or a reload
    ASSERT_TRUE(worker1 && worker2);
    auto r = resume(*worker1, *worker2);
    EXPECT_TRUE(r.first_ok);
    EXPECT_TRUE(r.resumed);
}

TEST_P(TicketTest, OtherKeysMeanAFullHandshake) {
    auto a = build(listener());
    auto b = build(listener());  // each its own keys
    ASSERT_TRUE(a && b);
    auto r = resume(*a, *b);
    EXPECT_TRUE(r.first_ok);
    EXPECT_FALSE(r.resumed);
}

TEST_P(TicketTest, ATicketOutlivesPreviousKeysRotationsOnly) {
    std::string error;
    auto keys = TicketKeys::generate(error, 1);  // current + 1 previous
    ASSERT_NE(keys, nullptr);
    auto server = build(listener(), keys);
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(resume(*server, *server).resumed);
    EXPECT_TRUE(resume(*server, *server, [&] { ASSERT_TRUE(keys->rotate(error)); }).resumed);
    EXPECT_FALSE(resume(*server, *server, [&] {
                     ASSERT_TRUE(keys->rotate(error));
                     ASSERT_TRUE(keys->rotate(error));
                 }).resumed);
}

TEST_P(TicketTest, ExportedKeysResumeInTheSuccessor) {
    std::string error;
    auto old_keys = TicketKeys::generate(error);
    ASSERT_NE(old_keys, nullptr);
    ASSERT_TRUE(old_keys->rotate(error));
    auto new_keys = TicketKeys::import_hex(old_keys->export_hex(), error);
    ASSERT_NE(new_keys, nullptr) << error;
    auto old_process = build(listener(), old_keys);
    auto new_process = build(listener(), new_keys);
    ASSERT_TRUE(old_process && new_process);
    EXPECT_TRUE(resume(*old_process, *new_process).resumed);
}

TEST_P(TicketTest, ResumesAfterSniSwitchedTheCertificate) {
    std::string error;
    auto keys = TicketKeys::generate(error);
    auto server = build(listener(), keys);
    ASSERT_NE(server, nullptr);
    auto client = client_ctx(pki->root.get(), GetParam());
    auto first = connect(*server, client.get(), "x.b.test");
    ASSERT_TRUE(first.result.ok);
    SessionPtr session(SSL_get1_session(first.client.get()));
    auto second = connect(*server, client.get(), "x.b.test", {}, session.get());
    ASSERT_TRUE(second.result.ok);
    EXPECT_EQ(SSL_session_reused(second.client.get()), 1);
    EXPECT_TRUE(served(second, pki->b_cert));
}

INSTANTIATE_TEST_SUITE_P(Versions, TicketTest, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const auto& info) {
                             return info.param == TLS1_2_VERSION ? "Tls12" : "Tls13";
                         });

// --- upstream ----------------------------------------------------------------

class UpstreamTlsTest : public TlsContextTest {
  protected:
    // An upstream server with `cert` as its only certificate.
    static std::shared_ptr<const ServerTlsContext> upstream(const std::string& crt,
                                                            const std::string& key) {
        ListenerTlsSettings s;
        s.cert = crt;
        s.key = key;
        return build(s);
    }

    struct Outcome {
        HandshakeResult result;
        long verify = X509_V_OK;
        std::string alpn;
    };
    static Outcome connect_upstream(const UpstreamTlsSettings& settings,
                                    const ServerTlsContext& server,
                                    std::string_view server_host = "a.test") {
        std::string error;
        auto ctx = build_upstream_tls(settings, error);
        EXPECT_NE(ctx, nullptr) << error;
        if (!ctx) return {};
        SslPtr c(SSL_new(ctx->native_handle())), s(SSL_new(server.native_handle()));
        EXPECT_TRUE(ctx->prepare(c.get(), server_host, error)) << error;
        Outcome out;
        out.result = handshake(c.get(), s.get());
        out.verify = SSL_get_verify_result(c.get());
        out.alpn = alpn_of(c.get());
        return out;
    }
};

TEST_F(UpstreamTlsTest, VerifiesTheChainAndTheName) {
    auto server = upstream(pki->a_crt, pki->a_key);
    ASSERT_NE(server, nullptr);
    auto ok = connect_upstream(upstream_tls(pki->root_file, "a.test"), *server);
    EXPECT_TRUE(ok.result.ok) << ok.result.client_error;
    EXPECT_EQ(ok.verify, X509_V_OK);
    EXPECT_EQ(ok.alpn, "http/1.1");

    // The server's configured host name when there is no sni.
    EXPECT_TRUE(connect_upstream(upstream_tls(pki->root_file), *server, "a.test").result.ok);
}

TEST_F(UpstreamTlsTest, WrongCaFails) {
    auto server = upstream(pki->a_crt, pki->a_key);
    ASSERT_NE(server, nullptr);
    auto out = connect_upstream(upstream_tls(pki->other_root_file, "a.test"), *server);
    EXPECT_FALSE(out.result.ok);
    EXPECT_EQ(out.result.client_error, "certificate verify failed");
    EXPECT_EQ(out.verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(UpstreamTlsTest, WrongNameFails) {
    auto server = upstream(pki->a_crt, pki->a_key);
    ASSERT_NE(server, nullptr);
    auto out = connect_upstream(upstream_tls(pki->root_file, "other.test"), *server);
    EXPECT_FALSE(out.result.ok);
    EXPECT_EQ(out.verify, X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(UpstreamTlsTest, WildcardAndChainFromTheServer) {
    auto server = upstream(pki->b_crt, pki->b_key);
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(connect_upstream(upstream_tls(pki->root_file, "api.b.test"), *server).result.ok);
    EXPECT_FALSE(connect_upstream(upstream_tls(pki->root_file, "b.test"), *server).result.ok);
}

TEST_F(UpstreamTlsTest, AnIpAddressIsCheckedAgainstTheCertificatesAddresses) {
    auto ip_server = upstream(pki->ip_crt, pki->ip_key);
    ASSERT_NE(ip_server, nullptr);
    EXPECT_TRUE(connect_upstream(upstream_tls(pki->root_file), *ip_server, "127.0.0.1").result.ok);
    auto wrong = connect_upstream(upstream_tls(pki->root_file), *ip_server, "127.0.0.2");
    EXPECT_FALSE(wrong.result.ok);
    EXPECT_EQ(wrong.verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(UpstreamTlsTest, VerifyOffAcceptsAnyCertificate) {
    auto server = upstream(pki->a_crt, pki->a_key);
    ASSERT_NE(server, nullptr);
    auto out = connect_upstream(upstream_tls(pki->other_root_file, "x.test", false), *server);
    EXPECT_TRUE(out.result.ok);
}

TEST_F(UpstreamTlsTest, SniIsSentForNamesOnly) {
    std::string error;
    auto ctx = build_upstream_tls(upstream_tls(pki->root_file, "a.test"), error);
    ASSERT_NE(ctx, nullptr);
    SslPtr named(SSL_new(ctx->native_handle()));
    ASSERT_TRUE(ctx->prepare(named.get(), "10.0.0.1", error));
    EXPECT_STREQ(SSL_get_servername(named.get(), TLSEXT_NAMETYPE_host_name), "a.test");

    auto by_ip = build_upstream_tls(upstream_tls(pki->root_file), error);
    ASSERT_NE(by_ip, nullptr);
    SslPtr ip(SSL_new(by_ip->native_handle()));
    ASSERT_TRUE(by_ip->prepare(ip.get(), "10.0.0.1", error));
    EXPECT_EQ(SSL_get_servername(ip.get(), TLSEXT_NAMETYPE_host_name), nullptr);
}

// cluster.tls: the client certificate goes to a server that asks for one.
TEST_F(UpstreamTlsTest, AClientCertificateIsOfferedWhenSet) {
    auto server = upstream(pki->a_crt, pki->a_key);
    ASSERT_NE(server, nullptr);
    auto settings = upstream_tls(pki->root_file, "a.test");
    settings.cert = pki->b_crt;
    settings.key = pki->b_key;
    std::string error;
    auto ctx = build_upstream_tls(settings, error);
    ASSERT_NE(ctx, nullptr) << error;
    SslPtr c(SSL_new(ctx->native_handle())), s(SSL_new(server->native_handle()));
    ASSERT_TRUE(ctx->prepare(c.get(), "a.test", error)) << error;
    SSL_set_verify(s.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    ASSERT_TRUE(handshake(c.get(), s.get()).ok);
    X509Ptr peer(SSL_get1_peer_certificate(s.get()));
    ASSERT_NE(peer, nullptr) << "no client certificate reached the server";
    EXPECT_TRUE(X509_check_host(peer.get(), "api.b.test", 0, 0, nullptr) == 1);

    // Without one, the server sees none.
    auto plain = build_upstream_tls(upstream_tls(pki->root_file, "a.test"), error);
    ASSERT_NE(plain, nullptr) << error;
    SslPtr c2(SSL_new(plain->native_handle())), s2(SSL_new(server->native_handle()));
    ASSERT_TRUE(plain->prepare(c2.get(), "a.test", error)) << error;
    SSL_set_verify(s2.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    ASSERT_TRUE(handshake(c2.get(), s2.get()).ok);
    EXPECT_EQ(X509Ptr(SSL_get1_peer_certificate(s2.get())), nullptr);
}

TEST_F(UpstreamTlsTest, Errors) {
    std::string error;
    const std::string missing = pki->dir.file("missing-ca.pem");
    EXPECT_EQ(build_upstream_tls(upstream_tls(missing), error), nullptr);
    EXPECT_EQ(error, "cannot read CA file " + missing + ": No such file or directory");

    auto ctx = build_upstream_tls(upstream_tls(pki->root_file), error);
    ASSERT_NE(ctx, nullptr);
    SslPtr ssl(SSL_new(ctx->native_handle()));
    EXPECT_FALSE(ctx->prepare(ssl.get(), "", error));
    EXPECT_EQ(error, "no name to verify the upstream certificate against (set tls.sni)");

    // A client key that is not the certificate's.
    auto mismatched = upstream_tls(pki->root_file);
    mismatched.cert = pki->a_crt;
    mismatched.key = pki->b_key;
    EXPECT_EQ(build_upstream_tls(mismatched, error), nullptr);
    EXPECT_EQ(error, "key " + pki->b_key + " does not match certificate " + pki->a_crt);

    // Without a CA file the system's trust store is used.
    EXPECT_NE(build_upstream_tls(upstream_tls(""), error), nullptr) << error;
}

}  // namespace
}  // namespace switchyard::http

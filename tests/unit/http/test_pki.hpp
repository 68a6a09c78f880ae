// Test certificates made at test time with the OpenSSL API (no key material
// in the repository): keys, CA and leaf certificates, PEM files in a
// temporary directory, and an in-memory TLS handshake over a BIO pair (no
// sockets). Shared by the TLS tests of this directory.
#pragma once

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchyard/http/tls_files.hpp"

namespace switchyard::http::test_pki {

struct SslFree {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
struct SslCtxFree {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SessionFree {
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

inline void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

inline std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}
inline constexpr std::int64_t kDay = 24 * 3600;

// A directory removed with everything in it at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sy-tls-XXXXXX").string();
        require(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

inline EvpPkeyPtr make_key() {
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    require(key != nullptr, "keygen");
    return key;
}

struct CertSpec {
    std::string cn;
    std::string san{};  // "DNS:a.test,IP:127.0.0.1"; empty: none
    bool ca = false;
    std::int64_t not_before = now_unix() - 3600;
    std::int64_t not_after = now_unix() + 30 * kDay;
};

// Signed by (issuer, issuer_key), or self-signed when issuer is null.
inline X509Ptr make_cert(const CertSpec& spec, EVP_PKEY* key, X509* issuer = nullptr,
                         EVP_PKEY* issuer_key = nullptr) {
    static long serial = 1;
    X509Ptr cert(X509_new());
    require(cert != nullptr, "X509_new");
    X509* x = cert.get();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(spec.not_before));
    ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(spec.not_after));
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(x, key);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        require(ext != nullptr, "extension");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (spec.ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
    add(NID_subject_key_identifier, "hash");
    if (!spec.san.empty()) add(NID_subject_alt_name, spec.san);
    require(X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "sign");
    return cert;
}

inline void write_pem(const std::string& path, const std::vector<const X509*> certs,
                      const EVP_PKEY* key = nullptr) {
    BIO* bio = BIO_new_file(path.c_str(), "w");
    require(bio != nullptr, "open for writing");
    for (const X509* c : certs)
        require(PEM_write_bio_X509(bio, c) == 1, "write certificate");
    if (key != nullptr)
        require(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
                "write key");
    BIO_free(bio);
}

inline void write_key(const std::string& path, const EVP_PKEY* key) {
    write_pem(path, {}, key);
}

inline void write_encrypted_key(const std::string& path, const EVP_PKEY* key) {
    BIO* bio = BIO_new_file(path.c_str(), "w");
    require(bio != nullptr, "open for writing");
    char pass[] = "secret";
    require(PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), nullptr, 0, nullptr, pass) == 1,
            "write encrypted key");
    BIO_free(bio);
}

inline void write_text(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    require(f != nullptr, "open for writing");
    std::fputs(text.c_str(), f);
    std::fclose(f);
}

// A client context that trusts `ca` (verification on when ca is given).
inline SslCtxPtr client_ctx(const X509* ca, int max_version = 0) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    require(ctx != nullptr, "client context");
    if (ca != nullptr) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), const_cast<X509*>(ca));
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    }
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    return ctx;
}

struct HandshakeResult {
    bool ok = false;
    std::string client_error{};  // OpenSSL's reason, when the client side failed
    std::string server_error{};
};

inline std::string take_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
    return reason != nullptr ? reason : "failed";
}

// Runs both ends of a handshake over a BIO pair until both finish or one
// fails, then moves one application record server → client so that TLS 1.3
// session tickets reach the client.
inline HandshakeResult handshake(SSL* client, SSL* server) {
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    require(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1, "BIO pair");
    SSL_set_bio(client, client_bio, client_bio);
    SSL_set_bio(server, server_bio, server_bio);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    HandshakeResult result;
    bool client_done = false, server_done = false;
    auto step = [&](SSL* ssl, bool& done, std::string& error) {
        if (done || !error.empty()) return;
        const int r = SSL_do_handshake(ssl);
        if (r == 1) {
            done = true;
            return;
        }
        const int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            error = take_error();
        }
    };
    for (int i = 0; i < 50 && !(client_done && server_done); ++i) {
        step(client, client_done, result.client_error);
        step(server, server_done, result.server_error);
    }
    ERR_clear_error();
    result.ok = client_done && server_done;
    if (result.ok) {
        char byte = 'x';
        require(SSL_write(server, &byte, 1) == 1, "server write");
        require(SSL_read(client, &byte, 1) == 1, "client read");
    }
    return result;
}

// UpstreamTlsSettings without designated initializers (its members have no
// `{}` defaults, which -Wmissing-field-initializers wants).
inline UpstreamTlsSettings upstream_tls(std::string ca, std::string sni = {}, bool verify = true) {
    UpstreamTlsSettings s;
    s.ca = std::move(ca);
    s.sni = std::move(sni);
    s.verify = verify;
    return s;
}

inline std::string alpn_of(const SSL* ssl) {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    return std::string(reinterpret_cast<const char*>(data), len);
}

}  // namespace switchyard::http::test_pki

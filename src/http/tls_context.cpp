#include "switchyard/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <vector>

#include "switchyard/core/address.hpp"
#include "switchyard/core/server_name.hpp"
#include "switchyard/http/tls_files.hpp"

namespace switchyard::http {
namespace {

// Tickets and sessions are only valid between contexts with the same id;
// every listener context uses this one, so a ticket survives SNI switches,
// reloads and hot upgrades.
constexpr unsigned char kSessionIdContext[] = "switchyard";

struct SslCtxFree {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// What the OpenSSL callbacks need, hung on each SSL_CTX (ex_data) and freed
// with it: a handshake in flight keeps its SSL_CTX, and so this, alive even
// when its ServerTlsContext has been replaced by a reload.
struct ContextData {
    std::shared_ptr<TicketKeys> ticket_keys;
    std::vector<std::string> alpn;  // the listener's protocols, ours first
    // On the default context only: the certificates' host names and their
    // contexts (each holding a reference; [0], the default itself, holds
    // none, so that there is no reference cycle).
    std::vector<std::vector<std::string>> hosts;
    std::vector<SSL_CTX*> contexts;

    ContextData() = default;
    ContextData(const ContextData&) = delete;
    ContextData& operator=(const ContextData&) = delete;
    ~ContextData() {
        for (SSL_CTX* c : contexts)
            SSL_CTX_free(c);
    }
};

void free_context_data(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) noexcept {
    delete static_cast<ContextData*>(ptr);
}

// A process-wide OpenSSL registration, made once and never changed: the way
// from an SSL_CTX to its ContextData.
int context_data_index() {
    static const int index =
        SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_context_data);
    return index;
}

ContextData* context_data(const SSL* ssl) {
    return static_cast<ContextData*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_data_index()));
}

// The callbacks run inside OpenSSL's C frames, which an exception must never
// cross: they are noexcept (terminate rather than undefined behaviour).

// OpenSSL calls this on the context the connection was created with
// (the default) before it reads the certificate.
int on_server_name(SSL* ssl, int*, void* arg) noexcept {
    const auto* data = static_cast<const ContextData*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
    const int index = select_certificate(data->hosts, name);
    if (index > 0 && SSL_set_SSL_CTX(ssl, data->contexts[index]) == nullptr)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

// Our order of preference (the listener's protocols), among those the
// client offers.
int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void*) noexcept {
    const ContextData* data = context_data(ssl);
    if (data == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
    for (const auto& ours : data->alpn) {
        // The client's list is length-prefixed names (OpenSSL checked it).
        for (unsigned int i = 0; i < inlen;) {
            const unsigned int len = in[i];
            if (i + 1 + len > inlen) break;
            if (len == ours.size() && std::memcmp(in + i + 1, ours.data(), len) == 0) {
                *out = in + i + 1;
                *outlen = static_cast<unsigned char>(len);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    // A client that asked only for protocols we do not speak must not get
    // bytes of another (RFC 7301 §3.2): OpenSSL answers
    // no_application_protocol.
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int on_ticket(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac, int enc) noexcept {
    const ContextData* data = context_data(ssl);
    if (data == nullptr || !data->ticket_keys) return -1;
    return data->ticket_keys->init_ticket_crypto(key_name, iv, cipher, mac, enc);
}

// The TLS 1.3 suites a context would offer.
int count_tls13_suites(SSL_CTX* ctx) {
    int n = 0;
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        // TLS 1.3 suites leave key exchange to the handshake ("any").
        if (SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(ciphers, i)) == NID_kx_any) ++n;
    }
    return n;
}

// One listener context with one certificate; settings checked by the caller.
SslCtxPtr make_server_ctx(const ListenerTlsSettings& settings, int min_version,
                          const std::string& cert_path, const KeyPair& pair, std::string& error) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        error = "cannot create a TLS context: " + openssl_reason();
        return nullptr;
    }
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, min_version);
    // Server order, but a client that puts ChaCha20 first (no AES hardware)
    // keeps it.
    SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                               SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    const std::string ciphers =
        settings.ciphers.empty() ? std::string(kDefaultTls12Ciphers) : settings.ciphers;
    if (SSL_CTX_set_cipher_list(c, ciphers.c_str()) != 1) {
        ERR_clear_error();
        error = "ciphers \"" + settings.ciphers + "\": no TLS 1.2 cipher that OpenSSL knows";
        return nullptr;
    }
    if (!settings.ciphersuites.empty() &&
        SSL_CTX_set_ciphersuites(c, settings.ciphersuites.c_str()) != 1) {
        ERR_clear_error();
        error = "ciphersuites \"" + settings.ciphersuites + "\": not a TLS 1.3 suite list";
        return nullptr;
    }
    if (count_tls13_suites(c) == 0) {
        error =
            "ciphersuites \"" + settings.ciphersuites + "\": no TLS 1.3 suite that OpenSSL knows";
        return nullptr;
    }
    if (SSL_CTX_use_certificate(c, pair.leaf.get()) != 1 ||
        SSL_CTX_use_PrivateKey(c, pair.key.get()) != 1) {
        error = "certificate " + cert_path + ": " + openssl_reason();
        return nullptr;
    }
    for (const auto& cert : pair.chain) {
        if (SSL_CTX_add1_chain_cert(c, cert.get()) != 1) {
            error = "certificate " + cert_path + ": chain: " + openssl_reason();
            return nullptr;
        }
    }
    // The chain is what the file holds: without this OpenSSL would rebuild
    // one from the trust store on every handshake (X509_verify_cert per
    // handshake, which HAProxy and NGINX do not pay).
    SSL_CTX_set_mode(c, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1);
    // Stateless tickets only: nothing per session to keep or share.
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(c, on_ticket);
    SSL_CTX_set_alpn_select_cb(c, on_alpn, nullptr);
    return ctx;
}

bool attach(SSL_CTX* ctx, ContextData* data, std::string& error) {
    const int index = context_data_index();
    if (index < 0 || SSL_CTX_set_ex_data(ctx, index, data) != 1) {
        delete data;
        error = "cannot attach data to a TLS context: " + openssl_reason();
        return false;
    }
    return true;
}

}  // namespace

std::shared_ptr<const ServerTlsContext> build_server_tls(const ListenerTlsSettings& settings,
                                                         std::shared_ptr<TicketKeys> ticket_keys,
                                                         std::string& error) {
    int min_version = 0;
    if (settings.min_version == "1.2")
        min_version = TLS1_2_VERSION;
    else if (settings.min_version == "1.3")
        min_version = TLS1_3_VERSION;
    else {
        error = "min_version \"" + settings.min_version + "\": expected \"1.2\" or \"1.3\"";
        return nullptr;
    }
    if (!ticket_keys) {
        ticket_keys = TicketKeys::generate(error);
        if (!ticket_keys) return nullptr;
    }

    // Certificate 0 is the listener's own; the rest are picked by SNI.
    struct Entry {
        const std::string* cert;
        const std::string* key;
        std::vector<std::string> hosts;
    };
    std::vector<Entry> entries{{&settings.cert, &settings.key, {}}};
    for (const auto& c : settings.certificates)
        entries.push_back({&c.cert, &c.key, c.hosts});

    std::vector<SslCtxPtr> contexts;
    for (const auto& entry : entries) {
        auto pair = load_key_pair(*entry.cert, *entry.key, error);
        if (!pair) return nullptr;
        auto ctx = make_server_ctx(settings, min_version, *entry.cert, *pair, error);
        if (!ctx) return nullptr;
        contexts.push_back(std::move(ctx));
    }

    for (std::size_t i = 1; i < contexts.size(); ++i) {
        auto* data = new ContextData;
        data->ticket_keys = ticket_keys;
        data->alpn = settings.alpn;
        if (!attach(contexts[i].get(), data, error)) return nullptr;
    }
    auto* data = new ContextData;
    data->ticket_keys = ticket_keys;
    data->alpn = settings.alpn;
    data->contexts.push_back(nullptr);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        data->hosts.push_back(std::move(entries[i].hosts));
        if (i == 0) continue;
        SSL_CTX_up_ref(contexts[i].get());
        data->contexts.push_back(contexts[i].get());
    }
    SSL_CTX* main = contexts[0].get();
    if (!attach(main, data, error)) return nullptr;
    SSL_CTX_set_tlsext_servername_callback(main, on_server_name);
    SSL_CTX_set_tlsext_servername_arg(main, data);

    auto result = std::make_shared<ServerTlsContext>();
    // Asio takes over the reference (its constructor only throws for null).
    result->default_ = std::make_unique<boost::asio::ssl::context>(contexts[0].release());
    result->certificate_count_ = entries.size();
    result->ticket_keys_ = std::move(ticket_keys);
    return result;
}

std::shared_ptr<const UpstreamTlsContext> build_upstream_tls(const UpstreamTlsSettings& settings,
                                                             std::string& error) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        error = "cannot create a TLS context: " + openssl_reason();
        return nullptr;
    }
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (!settings.ca.empty()) {
        // Read by hand rather than SSL_CTX_load_verify_file, for errors that
        // name the file and say what is wrong with it.
        auto certs = load_certificates(settings.ca, error, "CA file");
        if (!certs) return nullptr;
        X509_STORE* store = SSL_CTX_get_cert_store(c);
        for (const auto& cert : *certs) {
            if (X509_STORE_add_cert(store, cert.get()) != 1) {
                error = "CA file " + settings.ca + ": " + openssl_reason();
                return nullptr;
            }
        }
    } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
        error = "cannot load the system's trusted CA certificates: " + openssl_reason();
        return nullptr;
    }
    SSL_CTX_set_verify(c, settings.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (!settings.cert.empty()) {
        auto pair = load_key_pair(settings.cert, settings.key, error);
        if (!pair) return nullptr;
        bool ok = SSL_CTX_use_certificate(c, pair->leaf.get()) == 1 &&
                  SSL_CTX_use_PrivateKey(c, pair->key.get()) == 1;
        for (const auto& cert : pair->chain)
            ok = ok && SSL_CTX_add1_chain_cert(c, cert.get()) == 1;
        if (!ok) {
            error = "client certificate " + settings.cert + ": " + openssl_reason();
            return nullptr;
        }
    }
    static constexpr unsigned char kAlpn[] = "\x08http/1.1";
    if (SSL_CTX_set_alpn_protos(c, kAlpn, sizeof kAlpn - 1) != 0) {  // 0 is success here
        error = "cannot set ALPN: " + openssl_reason();
        return nullptr;
    }

    auto result = std::make_shared<UpstreamTlsContext>();
    result->context_ = std::make_unique<boost::asio::ssl::context>(ctx.release());
    result->settings_ = settings;
    return result;
}

bool UpstreamTlsContext::prepare(SSL* ssl, std::string_view server_host, std::string& error) const {
    return prepare_client_ssl(ssl, settings_, server_host, error);
}

bool prepare_client_ssl(SSL* ssl, const UpstreamTlsSettings& settings, std::string_view server_host,
                        std::string& error) {
    const std::string name(settings.sni.empty() ? server_host : settings.sni);
    const bool is_ip = parse_ip(name).has_value();
    // SNI carries DNS names only (RFC 6066 §3).
    if (!name.empty() && !is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
        error = "cannot send server name \"" + name + "\": " + openssl_reason();
        return false;
    }
    if (!settings.verify) return true;
    if (name.empty()) {
        error = "no name to verify the upstream certificate against (set tls.sni)";
        return false;
    }
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
            error = "cannot verify against address " + name + ": " + openssl_reason();
            return false;
        }
        return true;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, name.c_str()) != 1) {
        error = "cannot verify against host name \"" + name + "\": " + openssl_reason();
        return false;
    }
    return true;
}

}  // namespace switchyard::http

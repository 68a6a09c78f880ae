// TLS contexts: a listener's server contexts (one per certificate,
// chosen by SNI) and an upstream pool's client context.
//
// Built on the control thread (start, reload) from Settings; errors are
// returned as text naming the file or key, never thrown, so a reload with a
// bad certificate keeps the running context. A built context is immutable
// and shared by every worker (an SSL_CTX is safe to use from many threads):
// a connection's SSL* keeps its SSL_CTX alive, so swapping in a new context
// on reload never disturbs a connection that is already up.
//
// Server defaults: TLS 1.2 and 1.3 (min_version "1.3" drops 1.2), ECDHE with
// AES-GCM or ChaCha20-Poly1305 only for TLS 1.2 (`ciphers` replaces the
// list), OpenSSL's TLS 1.3 suites (`ciphersuites` replaces them), the
// server's cipher order, no compression, no renegotiation, ALPN "http/1.1".
// Session resumption is by stateless tickets sealed with a TicketKeys set
// shared by every context built with it (workers, reloads, hot upgrades);
// there is no server-side session cache.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "switchyard/core/settings.hpp"
#include "switchyard/http/tls_ticket_keys.hpp"

namespace switchyard::http {

// TLS 1.2 suites when `ciphers` is empty: forward secret, AEAD only
// (Mozilla's "intermediate" profile without DHE).
inline constexpr std::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// HTTP/1.1's ALPN name (what an upstream connection offers).
inline constexpr std::string_view kAlpnHttp11 = "http/1.1";

// A listener's TLS: certificate 0 is the listener's cert/key (the default,
// also for clients without SNI), 1.. are its [[listeners.tls.certificates]].
//
// Handshakes: the SNI callback switches a connection to the certificate
// select_certificate (core/server_name.hpp) picks (every other setting stays the default
// context's, and all contexts are built alike anyway). ALPN: the first of
// settings.alpn (the listener's protocols, "h2" and "http/1.1") that the
// client offers; a client that offers none of them is refused with
// no_application_protocol; a client without ALPN is served (HTTP/1.1).
class ServerTlsContext {
  public:
    // For boost::asio::ssl::stream (it takes a non-const reference; the
    // context is not changed through it).
    boost::asio::ssl::context& context() const { return *default_; }
    SSL_CTX* native_handle() const { return default_->native_handle(); }
    std::size_t certificate_count() const { return certificate_count_; }
    const std::shared_ptr<TicketKeys>& ticket_keys() const { return ticket_keys_; }

  private:
    friend std::shared_ptr<const ServerTlsContext> build_server_tls(const ListenerTlsSettings&,
                                                                    std::shared_ptr<TicketKeys>,
                                                                    std::string&);

    std::unique_ptr<boost::asio::ssl::context> default_;
    std::size_t certificate_count_ = 0;
    std::shared_ptr<TicketKeys> ticket_keys_;
};

// Builds a listener's contexts; nullptr with `error` (naming the file or the
// setting) if a certificate or key cannot be read, parsed or does not match,
// or min_version, ciphers or ciphersuites are unusable. Pass the process's
// shared TicketKeys; with nullptr the contexts get a set of their own
// (resumption then works only with this context).
std::shared_ptr<const ServerTlsContext> build_server_tls(const ListenerTlsSettings& settings,
                                                         std::shared_ptr<TicketKeys> ticket_keys,
                                                         std::string& error);

// A pool's client context: TLS 1.2+, ALPN "http/1.1", the peer's chain
// verified (unless verify = false) against `ca`, or the system's trust store
// when `ca` is empty; `cert` and `key`, when set, are offered as the client
// certificate (etcd's client-cert-auth). The peer's name is checked per connection:
// call prepare() on each new SSL* before the handshake.
class UpstreamTlsContext {
  public:
    boost::asio::ssl::context& context() const { return *context_; }
    SSL_CTX* native_handle() const { return context_->native_handle(); }
    const UpstreamTlsSettings& settings() const { return settings_; }

    // prepare_client_ssl with this context's settings.
    bool prepare(SSL* ssl, std::string_view server_host, std::string& error) const;

  private:
    friend std::shared_ptr<const UpstreamTlsContext> build_upstream_tls(const UpstreamTlsSettings&,
                                                                        std::string&);

    std::unique_ptr<boost::asio::ssl::context> context_;
    UpstreamTlsSettings settings_;
};

// The pools' upstream TLS contexts by pool name (pools without `tls` are
// absent). Built once per configuration by the server; immutable; shared by
// the workers and the health probes.
using UpstreamTlsMap =
    std::map<std::string, std::shared_ptr<const UpstreamTlsContext>, std::less<>>;

// nullptr with `error` if the CA file cannot be read or holds no certificate.
std::shared_ptr<const UpstreamTlsContext> build_upstream_tls(const UpstreamTlsSettings& settings,
                                                             std::string& error);

// Per upstream connection, before the handshake: the name is settings.sni,
// else `server_host` (the server's configured host, a DNS name or an IP
// literal). A DNS name is sent as SNI; with verify on, the certificate must
// match the name (DNS) or the address (IP). false with `error` when verify
// is on and there is no name to check, or OpenSSL refuses the name.
bool prepare_client_ssl(SSL* ssl, const UpstreamTlsSettings& settings, std::string_view server_host,
                        std::string& error);

}  // namespace switchyard::http

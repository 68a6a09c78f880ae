// TLS files: reading PEM certificates and keys with errors that name the
// file, and the checks `switchyard --check` reports.
//
// Control-plane code (start, reload, --check): reads files, never throws.
// Encrypted private keys are refused rather than prompting for a passphrase
// on the terminal, which a service has not got.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard::http {

struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct EvpPkeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The reason of the first queued OpenSSL error (the most specific one);
// clears the queue so that later calls start clean.
std::string openssl_reason();

// A certificate chain and the private key of its leaf.
struct KeyPair {
    X509Ptr leaf{};
    std::vector<X509Ptr> chain{};  // intermediates, in file order
    EvpPkeyPtr key{};
};

// Every certificate of a PEM file, in file order; nullopt (with `error`
// naming the file) if it cannot be read, holds no certificate, or has a
// broken one. `what` names the file's role in errors ("certificate", "CA file").
std::optional<std::vector<X509Ptr>> load_certificates(const std::string& path, std::string& error,
                                                      std::string_view what = "certificate");

// A PEM chain (leaf first) and the leaf's PEM private key; nullopt (with
// `error`) if either cannot be read or parsed, or the key does not belong
// to the leaf.
std::optional<KeyPair> load_key_pair(const std::string& cert_path, const std::string& key_path,
                                     std::string& error);

// --check warns about certificates that expire within this window.
inline constexpr std::chrono::seconds kExpiryWarning{14 * 24 * 3600};

// What --check found about one certificate (and its key) or CA file.
struct CertificateReport {
    std::string key_path{};  // where in the config: "listeners[1].tls", "pools.blue.tls.ca"
    std::string path{};      // the certificate or CA file
    bool ok = false;         // readable, parsed and (with a key) matching
    std::string error{};     // why not; names the file
    std::string subject{};   // of the certificate whose expiry is reported
    std::int64_t not_after_unix = 0;  // for a CA file: the earliest of its certificates
    bool expired = false;
    bool expires_soon = false;                   // within the window, not yet expired
    std::vector<std::string> uncovered_hosts{};  // configured SNI names the leaf does not cover
};

// A certificate chain + key: exists, parses, matches; expiry against `now`.
// `hosts` are the SNI names it is configured for (wildcards allowed).
CertificateReport check_key_pair(const std::string& cert_path, const std::string& key_path,
                                 const std::vector<std::string>& hosts,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::seconds window = kExpiryWarning);

// A CA file of upstream TLS: exists, holds at least one certificate.
CertificateReport check_ca_file(const std::string& path, std::chrono::system_clock::time_point now,
                                std::chrono::seconds window = kExpiryWarning);

// Every TLS file of the config, in config order: each listener's cert/key,
// its [[listeners.tls.certificates]], each pool's tls.ca (when set), then
// cluster.tls's ca and client certificate (when set).
std::vector<CertificateReport> check_tls_files(const Settings& settings,
                                               std::chrono::system_clock::time_point now,
                                               std::chrono::seconds window = kExpiryWarning);

// The report's warnings, one line each, empty when there is none:
//   certificate /p (CN=a.test) expires within 14 days (2025-03-01T12:00:00Z)
//   certificate /p (CN=a.test) expired (2025-03-01T12:00:00Z)
//   certificate /p does not cover host "api.a.test"
std::vector<std::string> report_warnings(const CertificateReport& report,
                                         std::chrono::seconds window = kExpiryWarning);

// "2025-03-01T12:00:00Z".
std::string format_utc(std::int64_t unix_seconds);

}  // namespace switchyard::http

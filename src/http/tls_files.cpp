#include "switchyard/http/tls_files.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace switchyard::http {
std::string openssl_reason() {
    const unsigned long e = ERR_peek_error();
    const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
    std::string out = reason != nullptr ? reason : "unknown OpenSSL error";
    ERR_clear_error();
    return out;
}

namespace {

struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The whole file, or nullopt with "cannot read <what> <path>: <errno text>".
// Read by hand, not with BIO_new_file, for an error that says why.
std::optional<std::string> read_file(const std::string& path, std::string_view what,
                                     std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = "cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string data;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        data.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    OPENSSL_cleanse(buf, sizeof buf);
    if (failed) {
        OPENSSL_cleanse(data.data(), data.size());
        error = "cannot read " + std::string(what) + " " + path + ": " + std::strerror(err);
        return std::nullopt;
    }
    return data;
}

bool is_end_of_pem(unsigned long e) {
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

// Never prompts: a service has no terminal. Records that a passphrase was
// wanted, for a clear error.
int refuse_passphrase(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}

std::int64_t not_after_of(const X509* x) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) return 0;
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::string subject_of(const X509* x) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) return {};
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

void set_expiry(CertificateReport& report, const X509* x, std::chrono::system_clock::time_point now,
                std::chrono::seconds window) {
    report.subject = subject_of(x);
    report.not_after_unix = not_after_of(x);
    const auto now_unix =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    report.expired = report.not_after_unix <= now_unix;
    report.expires_soon = !report.expired && report.not_after_unix < now_unix + window.count();
}

// The first private key in PEM text, or null with `error` (other blocks, such as certificates in
// a combined file, are skipped). The blocks are scanned by hand first
// because OpenSSL 3.0's key decoder says only "unsupported" for any failure.
EvpPkeyPtr read_private_key(const std::string& text, const std::string& path, std::string& error) {
    ERR_clear_error();
    BioPtr in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!in) {
        error = "key " + path + ": " + openssl_reason();
        return nullptr;
    }
    for (;;) {
        char* name = nullptr;
        char* header = nullptr;
        unsigned char* der = nullptr;
        long len = 0;
        if (PEM_read_bio(in.get(), &name, &header, &der, &len) != 1) {
            if (is_end_of_pem(ERR_peek_last_error())) {
                ERR_clear_error();
                error = "key " + path + ": no PEM private key in it";
            } else {
                error = "key " + path + " does not parse: " + openssl_reason();
            }
            return nullptr;
        }
        const std::string_view block = name;
        const bool is_key = block.ends_with("PRIVATE KEY");
        // PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with a
        // "Proc-Type: 4,ENCRYPTED" header.
        const bool encrypted =
            block == "ENCRYPTED PRIVATE KEY" ||
            std::string_view(header != nullptr ? header : "").find("ENCRYPTED") !=
                std::string_view::npos;
        EvpPkeyPtr key;
        bool failed = false;
        if (is_key && encrypted) {
            error = "key " + path + " is encrypted; passphrases are not supported";
            failed = true;
        } else if (is_key) {
            // Decode this one block on its own.
            BioPtr one(BIO_new(BIO_s_secmem()));
            bool asked = false;
            if (one && PEM_write_bio(one.get(), name, header, der, len) > 0)
                key.reset(PEM_read_bio_PrivateKey(one.get(), nullptr, refuse_passphrase, &asked));
            if (!key) {
                error = asked ? "key " + path + " is encrypted; passphrases are not supported"
                              : "key " + path + " does not parse (" + std::string(block) + ")";
                ERR_clear_error();
                failed = true;
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_clear_free(der, static_cast<std::size_t>(len));
        if (failed || key) return key;
    }
}

}  // namespace

std::optional<std::vector<X509Ptr>> load_certificates(const std::string& path, std::string& error,
                                                      std::string_view what) {
    auto data = read_file(path, what, error);
    if (!data) return std::nullopt;
    BioPtr bio(BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
    if (!bio) {
        error = std::string(what) + " " + path + ": " + openssl_reason();
        return std::nullopt;
    }
    ERR_clear_error();
    std::vector<X509Ptr> certs;
    for (;;) {
        // Other PEM blocks (a key in a combined file) are skipped.
        X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (cert) {
            certs.push_back(std::move(cert));
            continue;
        }
        if (is_end_of_pem(ERR_peek_last_error())) break;
        error = std::string(what) + " " + path + ": certificate " +
                std::to_string(certs.size() + 1) + " does not parse: " + openssl_reason();
        return std::nullopt;
    }
    ERR_clear_error();
    if (certs.empty()) {
        error = std::string(what) + " " + path + ": no PEM certificate in it";
        return std::nullopt;
    }
    return certs;
}

std::optional<KeyPair> load_key_pair(const std::string& cert_path, const std::string& key_path,
                                     std::string& error) {
    auto certs = load_certificates(cert_path, error);
    if (!certs) return std::nullopt;
    auto data = read_file(key_path, "key", error);
    if (!data) return std::nullopt;

    auto key = read_private_key(*data, key_path, error);
    OPENSSL_cleanse(data->data(), data->size());
    if (!key) return std::nullopt;
    KeyPair pair;
    pair.leaf = std::move(certs->front());
    for (std::size_t i = 1; i < certs->size(); ++i)
        pair.chain.push_back(std::move((*certs)[i]));
    pair.key = std::move(key);
    if (X509_check_private_key(pair.leaf.get(), pair.key.get()) != 1) {
        ERR_clear_error();
        error = "key " + key_path + " does not match certificate " + cert_path;
        return std::nullopt;
    }
    return pair;
}

CertificateReport check_key_pair(const std::string& cert_path, const std::string& key_path,
                                 const std::vector<std::string>& hosts,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::seconds window) {
    CertificateReport report;
    report.path = cert_path;
    auto pair = load_key_pair(cert_path, key_path, report.error);
    if (!pair) return report;
    report.ok = true;
    set_expiry(report, pair->leaf.get(), now, window);
    for (const auto& host : hosts) {
        // A wildcard is covered if a name it stands for is: the certificate
        // may hold the same wildcard or a wider one.
        const std::string name = host.starts_with("*.") ? "sni-check" + host.substr(1) : host;
        if (X509_check_host(pair->leaf.get(), name.data(), name.size(), 0, nullptr) != 1)
            report.uncovered_hosts.push_back(host);
    }
    return report;
}

CertificateReport check_ca_file(const std::string& path, std::chrono::system_clock::time_point now,
                                std::chrono::seconds window) {
    CertificateReport report;
    report.path = path;
    auto certs = load_certificates(path, report.error, "CA file");
    if (!certs) return report;
    report.ok = true;
    // The certificate that expires first is the one to warn about.
    const X509* first = certs->front().get();
    for (const auto& cert : *certs)
        if (not_after_of(cert.get()) < not_after_of(first)) first = cert.get();
    set_expiry(report, first, now, window);
    return report;
}

std::vector<CertificateReport> check_tls_files(const Settings& settings,
                                               std::chrono::system_clock::time_point now,
                                               std::chrono::seconds window) {
    std::vector<CertificateReport> reports;
    for (std::size_t i = 0; i < settings.listeners.size(); ++i) {
        const auto& tls = settings.listeners[i].tls;
        if (!tls) continue;
        const std::string base = "listeners[" + std::to_string(i) + "].tls";
        reports.push_back(check_key_pair(tls->cert, tls->key, {}, now, window));
        reports.back().key_path = base;
        for (std::size_t j = 0; j < tls->certificates.size(); ++j) {
            const auto& c = tls->certificates[j];
            reports.push_back(check_key_pair(c.cert, c.key, c.hosts, now, window));
            reports.back().key_path = base + ".certificates[" + std::to_string(j) + "]";
        }
    }
    for (const auto& pool : settings.pools) {
        if (!pool.tls || pool.tls->ca.empty()) continue;
        reports.push_back(check_ca_file(pool.tls->ca, now, window));
        reports.back().key_path = "pools." + pool.name + ".tls.ca";
    }
    if (settings.cluster && settings.cluster->tls) {
        const auto& tls = *settings.cluster->tls;
        if (!tls.ca.empty()) {
            reports.push_back(check_ca_file(tls.ca, now, window));
            reports.back().key_path = "cluster.tls.ca";
        }
        if (!tls.cert.empty()) {
            reports.push_back(check_key_pair(tls.cert, tls.key, {}, now, window));
            reports.back().key_path = "cluster.tls";
        }
    }
    return reports;
}

std::vector<std::string> report_warnings(const CertificateReport& report,
                                         std::chrono::seconds window) {
    std::vector<std::string> out;
    if (!report.ok) return out;
    std::string who = "certificate " + report.path;
    if (!report.subject.empty()) who += " (" + report.subject + ")";
    if (report.expired)
        out.push_back(who + " expired (" + format_utc(report.not_after_unix) + ")");
    else if (report.expires_soon)
        out.push_back(who + " expires within " + std::to_string(window.count() / 86400) +
                      " days (" + format_utc(report.not_after_unix) + ")");
    for (const auto& host : report.uncovered_hosts)
        out.push_back("certificate " + report.path + " does not cover host \"" + host + "\"");
    return out;
}

std::string format_utc(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

}  // namespace switchyard::http

// Reading TLS files and the --check reports, against files made at test
// time (test_pki.hpp). `now` is injected, so expiry is exact.
#include "switchyard/http/tls_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "test_pki.hpp"

namespace switchyard::http {
namespace {

using namespace test_pki;
using Clock = std::chrono::system_clock;

constexpr std::int64_t kNow = 1'750'000'000;  // 2025-06-15T15:06:40Z
const Clock::time_point now{std::chrono::seconds(kNow)};

class TlsFilesTest : public ::testing::Test {
  protected:
    TempDir dir;
    EvpPkeyPtr ca_key = make_key();
    X509Ptr ca = make_cert(
        {.cn = "Test CA", .ca = true, .not_before = kNow - kDay, .not_after = kNow + 365 * kDay},
        ca_key.get());

    // A leaf for `name` valid until `not_after`, written to <file>.crt/.key.
    std::pair<std::string, std::string> leaf(const std::string& file, const std::string& name,
                                             std::int64_t not_after) {
        auto key = make_key();
        auto cert = make_cert(
            {.cn = name, .san = "DNS:" + name, .not_before = kNow - kDay, .not_after = not_after},
            key.get(), ca.get(), ca_key.get());
        const auto crt = dir.file(file + ".crt"), k = dir.file(file + ".key");
        write_pem(crt, {cert.get()});
        write_key(k, key.get());
        return {crt, k};
    }
};

TEST_F(TlsFilesTest, FormatUtc) {
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(kNow), "2025-06-15T15:06:40Z");
}

TEST_F(TlsFilesTest, AGoodPairIsOkWithItsExpiry) {
    auto [crt, key] = leaf("good", "good.test", kNow + 30 * kDay);
    auto r = check_key_pair(crt, key, {"good.test"}, now);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.path, crt);
    EXPECT_EQ(r.subject, "CN=good.test");
    EXPECT_EQ(r.not_after_unix, kNow + 30 * kDay);
    EXPECT_FALSE(r.expired);
    EXPECT_FALSE(r.expires_soon);
    EXPECT_TRUE(r.uncovered_hosts.empty());
    EXPECT_TRUE(report_warnings(r).empty());
}

TEST_F(TlsFilesTest, ExpiringWithin14DaysWarns) {
    auto [crt, key] = leaf("soon", "soon.test", kNow + 3 * kDay);
    auto r = check_key_pair(crt, key, {}, now);
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(r.expires_soon);
    EXPECT_FALSE(r.expired);
    ASSERT_EQ(report_warnings(r).size(), 1u);
    EXPECT_EQ(report_warnings(r)[0], "certificate " + crt +
                                         " (CN=soon.test) expires within 14 days "
                                         "(2025-06-18T15:06:40Z)");

    // The window's edges: 14 days exactly is outside, a second less inside.
    auto [crt14, key14] = leaf("edge", "edge.test", kNow + 14 * kDay);
    EXPECT_FALSE(check_key_pair(crt14, key14, {}, now).expires_soon);
    EXPECT_TRUE(check_key_pair(crt14, key14, {}, now + std::chrono::seconds(1)).expires_soon);
}

TEST_F(TlsFilesTest, ExpiredWarnsDifferently) {
    auto [crt, key] = leaf("old", "old.test", kNow - kDay);
    auto r = check_key_pair(crt, key, {}, now);
    EXPECT_TRUE(r.ok);  // it loads; clients will refuse it
    EXPECT_TRUE(r.expired);
    EXPECT_FALSE(r.expires_soon);
    ASSERT_EQ(report_warnings(r).size(), 1u);
    EXPECT_EQ(report_warnings(r)[0],
              "certificate " + crt + " (CN=old.test) expired (2025-06-14T15:06:40Z)");
}

TEST_F(TlsFilesTest, HostsTheCertificateDoesNotCover) {
    auto [crt, key] = leaf("a", "a.test", kNow + 30 * kDay);
    auto r = check_key_pair(crt, key, {"a.test", "www.a.test", "*.a.test"}, now);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.uncovered_hosts, (std::vector<std::string>{"www.a.test", "*.a.test"}));
    ASSERT_EQ(report_warnings(r).size(), 2u);
    EXPECT_EQ(report_warnings(r)[0], "certificate " + crt + " does not cover host \"www.a.test\"");

    auto [wcrt, wkey] = leaf("w", "*.b.test", kNow + 30 * kDay);
    auto w = check_key_pair(wcrt, wkey, {"*.b.test", "api.b.test", "b.test"}, now);
    EXPECT_EQ(w.uncovered_hosts, (std::vector<std::string>{"b.test"}));
}

TEST_F(TlsFilesTest, Mismatch) {
    auto [a_crt, a_key] = leaf("a", "a.test", kNow + 30 * kDay);
    auto [b_crt, b_key] = leaf("b", "b.test", kNow + 30 * kDay);
    auto r = check_key_pair(a_crt, b_key, {}, now);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "key " + b_key + " does not match certificate " + a_crt);
    EXPECT_TRUE(report_warnings(r).empty());
}

TEST_F(TlsFilesTest, MissingAndUnparsableFiles) {
    auto [crt, key] = leaf("a", "a.test", kNow + 30 * kDay);
    const auto missing = dir.file("nope.pem");
    EXPECT_EQ(check_key_pair(missing, key, {}, now).error,
              "cannot read certificate " + missing + ": No such file or directory");
    EXPECT_EQ(check_key_pair(crt, missing, {}, now).error,
              "cannot read key " + missing + ": No such file or directory");
    EXPECT_EQ(check_key_pair(dir.file(""), key, {}, now).error,
              "cannot read certificate " + dir.file("") + ": Is a directory");

    const auto text = dir.file("text.pem");
    write_text(text, "hello\n");
    EXPECT_EQ(check_key_pair(text, key, {}, now).error,
              "certificate " + text + ": no PEM certificate in it");
    EXPECT_EQ(check_key_pair(crt, text, {}, now).error,
              "key " + text + ": no PEM private key in it");

    // A key where the certificate belongs: no certificate in it.
    EXPECT_EQ(check_key_pair(key, key, {}, now).error,
              "certificate " + key + ": no PEM certificate in it");

    const auto broken = dir.file("broken.pem");
    write_text(broken, "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n");
    auto r = check_key_pair(broken, key, {}, now);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind("certificate " + broken + ": certificate 1 does not parse: ", 0), 0u)
        << r.error;

    const auto broken_key = dir.file("broken.key");
    write_text(broken_key, "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
    EXPECT_EQ(check_key_pair(crt, broken_key, {}, now).error,
              "key " + broken_key + " does not parse (PRIVATE KEY)");
    write_text(broken_key, "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n");
    EXPECT_EQ(check_key_pair(crt, broken_key, {}, now).error,
              "key " + broken_key + " does not parse: bad base64 decode");
}

TEST_F(TlsFilesTest, EncryptedKeysAreRefusedWithoutPrompting) {
    auto [crt, key] = leaf("a", "a.test", kNow + 30 * kDay);
    EvpPkeyPtr k = make_key();
    const auto encrypted = dir.file("encrypted.key");
    write_encrypted_key(encrypted, k.get());
    EXPECT_EQ(check_key_pair(crt, encrypted, {}, now).error,
              "key " + encrypted + " is encrypted; passphrases are not supported");
}

TEST_F(TlsFilesTest, TraditionalEncryptedKeysToo) {
    auto [crt, key] = leaf("a", "a.test", kNow + 30 * kDay);
    const auto encrypted = dir.file("legacy.key");
    write_text(encrypted,
               "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
               "DEK-Info: AES-256-CBC,00000000000000000000000000000000\n\nAAAA\n"
               "-----END EC PRIVATE KEY-----\n");
    EXPECT_EQ(check_key_pair(crt, encrypted, {}, now).error,
              "key " + encrypted + " is encrypted; passphrases are not supported");
}

TEST_F(TlsFilesTest, CombinedFileAndChain) {
    auto key = make_key();
    auto cert =
        make_cert({.cn = "c.test", .not_before = kNow - kDay, .not_after = kNow + kDay * 30},
                  key.get(), ca.get(), ca_key.get());
    const auto combined = dir.file("combined.pem");
    write_pem(combined, {cert.get(), ca.get()}, key.get());
    std::string error;
    auto pair = load_key_pair(combined, combined, error);
    ASSERT_TRUE(pair) << error;
    EXPECT_EQ(X509_cmp(pair->leaf.get(), cert.get()), 0);
    ASSERT_EQ(pair->chain.size(), 1u);
    EXPECT_EQ(X509_cmp(pair->chain[0].get(), ca.get()), 0);
}

TEST_F(TlsFilesTest, CaFiles) {
    const auto ca_file = dir.file("ca.pem");
    write_pem(ca_file, {ca.get()});
    auto r = check_ca_file(ca_file, now);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.subject, "CN=Test CA");
    EXPECT_FALSE(r.expires_soon);

    // A bundle reports the certificate that expires first.
    auto key = make_key();
    auto soon = make_cert(
        {.cn = "Soon CA", .ca = true, .not_before = kNow - kDay, .not_after = kNow + 2 * kDay},
        key.get());
    const auto bundle = dir.file("bundle.pem");
    write_pem(bundle, {ca.get(), soon.get()});
    r = check_ca_file(bundle, now);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.subject, "CN=Soon CA");
    EXPECT_TRUE(r.expires_soon);
    EXPECT_EQ(r.not_after_unix, kNow + 2 * kDay);

    const auto missing = dir.file("missing-ca.pem");
    EXPECT_EQ(check_ca_file(missing, now).error,
              "cannot read CA file " + missing + ": No such file or directory");
    const auto empty = dir.file("empty.pem");
    write_text(empty, "");
    EXPECT_EQ(check_ca_file(empty, now).error, "CA file " + empty + ": no PEM certificate in it");
}

TEST_F(TlsFilesTest, EveryFileOfTheConfigInOrder) {
    auto [crt, key] = leaf("main", "main.test", kNow + 30 * kDay);
    auto [a_crt, a_key] = leaf("a", "a.test", kNow + 3 * kDay);
    const auto ca_file = dir.file("ca.pem");
    write_pem(ca_file, {ca.get()});

    Settings s;
    s.listeners.resize(2);
    s.listeners[1].tls.emplace();
    s.listeners[1].tls->cert = crt;
    s.listeners[1].tls->key = key;
    s.listeners[1].tls->certificates.push_back({{"a.test"}, a_crt, dir.file("missing.key")});
    s.listeners[1].tls->certificates.push_back({{"a.test"}, a_crt, a_key});
    s.pools.resize(3);
    s.pools[0].name = "blue";
    s.pools[0].tls = UpstreamTlsSettings{};
    s.pools[0].tls->ca = ca_file;
    s.pools[1].name = "green";
    s.pools[1].tls = UpstreamTlsSettings{};  // system trust store: nothing to check
    s.pools[2].name = "red";
    s.cluster.emplace();
    s.cluster->tls.emplace();
    s.cluster->tls->ca = dir.file("missing-ca.pem");
    s.cluster->tls->cert = crt;
    s.cluster->tls->key = key;

    auto reports = check_tls_files(s, now);
    ASSERT_EQ(reports.size(), 6u);
    EXPECT_EQ(reports[0].key_path, "listeners[1].tls");
    EXPECT_TRUE(reports[0].ok);
    EXPECT_EQ(reports[1].key_path, "listeners[1].tls.certificates[0]");
    EXPECT_FALSE(reports[1].ok);
    EXPECT_EQ(reports[2].key_path, "listeners[1].tls.certificates[1]");
    EXPECT_TRUE(reports[2].expires_soon);
    EXPECT_EQ(reports[3].key_path, "pools.blue.tls.ca");
    EXPECT_TRUE(reports[3].ok);
    EXPECT_EQ(reports[3].path, ca_file);
    EXPECT_EQ(reports[4].key_path, "cluster.tls.ca");
    EXPECT_FALSE(reports[4].ok);
    EXPECT_EQ(reports[5].key_path, "cluster.tls");
    EXPECT_TRUE(reports[5].ok);
}

}  // namespace
}  // namespace switchyard::http

// [cluster] (DESIGN.md, "Fleet"): every key read, every rule's diagnostic
// with its place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include "config_test_support.hpp"
#include "switchyard/config/config_loader.hpp"

namespace switchyard::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using namespace test;

TEST(ConfigCluster, AbsentIsASingleInstance) {
    auto r = load_with("");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.settings->cluster.has_value());
}

// DESIGN.md's block, verbatim: its all-empty tls is no TLS.
TEST(ConfigCluster, TheDesignBlockLoadsAsTheDefaults) {
    auto r = load_with(R"toml(
[cluster]                      # absent: a single instance
etcd = ["http://127.0.0.1:2379"]
prefix = "/switchyard/default"
member = ""                    # default: the host name
lease_ttl = "10s"
tls = { ca = "", cert = "", key = "" }   # optional client TLS to etcd
username = ""                  # optional etcd auth (token refreshed before it expires)
password_file = ""
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    ASSERT_TRUE(r.settings->cluster);
    ClusterSettings expected;
    expected.etcd.push_back(parse_http_url("http://127.0.0.1:2379").url);
    EXPECT_EQ(*r.settings->cluster, expected);
    EXPECT_THAT(summary(*r.settings), HasSubstr("fleet /switchyard/default on 1 etcd endpoint"));
}

TEST(ConfigCluster, EveryKeyIsRead) {
    const std::string password =
        ::testing::TempDir() + "/sy-etcd-password-" + std::to_string(::getpid());
    std::ofstream(password) << "s3cret\n";
    auto r = load_with(
        "[cluster]\netcd = [\"http://10.0.0.1:2379\", \"http://[::1]:2380\"]\n"
        "prefix = \"/sy/prod\"\nmember = \"lb-1.eu\"\nlease_ttl = \"30s\"\n"
        "username = \"sy\"\npassword_file = \"" +
        password + "\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    const ClusterSettings& c = *r.settings->cluster;
    ASSERT_EQ(c.etcd.size(), 2u);
    EXPECT_EQ(c.etcd[0].host, "10.0.0.1");
    EXPECT_EQ(c.etcd[1].host, "::1");
    EXPECT_EQ(c.etcd[1].port, 2380);
    EXPECT_EQ(c.prefix, "/sy/prod");
    EXPECT_EQ(c.member, "lb-1.eu");
    EXPECT_EQ(c.lease_ttl, Duration{30000});
    EXPECT_EQ(c.username, "sy");
    std::string error;
    EXPECT_EQ(read_password_file(c.password_file, error), "s3cret");
    std::filesystem::remove(password);
}

// https endpoints take tls as it is; without it, etcd is verified against
// the system's trust store and no client certificate is sent.
TEST(ConfigCluster, HttpsEndpointsUseTheTlsTable) {
    auto r = load_with(
        "[cluster]\netcd = [\"https://etcd-1:2379\", \"https://etcd-2:2379\"]\n"
        "tls = { ca = \"/etc/sy/etcd-ca.pem\", cert = \"/etc/sy/lb.pem\", key = "
        "\"/etc/sy/lb.key\" }\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    const ClusterSettings& c = *r.settings->cluster;
    ASSERT_EQ(c.etcd.size(), 2u);
    EXPECT_TRUE(c.etcd[1].tls);
    UpstreamTlsSettings expected;
    expected.ca = "/etc/sy/etcd-ca.pem";
    expected.cert = "/etc/sy/lb.pem";
    expected.key = "/etc/sy/lb.key";
    EXPECT_EQ(c.tls, expected);

    auto system = load_with("[cluster]\netcd = [\"https://etcd:2379\"]\n");
    ASSERT_TRUE(system.ok()) << ::testing::PrintToString(lines(system));
    EXPECT_EQ(system.settings->cluster->tls, UpstreamTlsSettings{});

    auto plain = load_with("[cluster]\netcd = [\"http://etcd:2379\"]\n");
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain.settings->cluster->tls);
}

TEST(ConfigCluster, EachRuleSaysWhereAndWhy) {
    const std::string etcd = "etcd = [\"http://127.0.0.1:2379\"]\n";
    const std::pair<std::string, std::string> cases[] = {
        {"prefix = \"/x\"\n", "t.toml:5:1: error: cluster.etcd: required key is missing"},
        {"etcd = []\n", "t.toml:6:8: error: cluster.etcd: must name at least one etcd endpoint"},
        {"etcd = [\"127.0.0.1:2379\"]\n", "t.toml:6:9: error: cluster.etcd[0]: invalid URL"},
        {"etcd = [\"http://a:1\", \"https://b:1\"]\n",
         "t.toml:6:23: error: cluster.etcd[1]: \"https://b:1\": the endpoints are all http:// or "
         "all https://"},
        {"etcd = [\"https://a:1\"]\ntls = { cert = \"c.pem\" }\n",
         "cluster.tls.key: cert and key go together"},
        {"etcd = [\"https://a:1\"]\ntls = { key = \"c.key\" }\n",
         "cluster.tls.cert: cert and key go together"},
        {etcd + "tls = { ca = \"ca.pem\" }\n",
         "t.toml:7:7: error: cluster.tls: set, but the etcd endpoints are http://; use https://"},
        {etcd + "tls = { ca = \"\", crt = \"\" }\n",
         "t.toml:7:18: error: cluster.tls.crt: unknown key \"crt\" (did you mean \"cert\"?)"},
        {etcd + "tls = { ca = 5 }\n", "cluster.tls.ca:"},
        {"etcd = [\"http://127.0.0.1:2379/v3\"]\n",
         "t.toml:6:9: error: cluster.etcd[0]: \"http://127.0.0.1:2379/v3\": no path"},
        {"etcd = [\"http://a:1\", \"http://a:1\"]\n",
         "t.toml:6:23: error: cluster.etcd[1]: duplicate endpoint \"http://a:1\""},
        {etcd + "prefix = \"sy\"\n", "t.toml:7:10: error: cluster.prefix: invalid prefix \"sy\""},
        {etcd + "prefix = \"/sy/\"\n", "cluster.prefix: invalid prefix \"/sy/\""},
        {etcd + "prefix = \"/a//b\"\n", "cluster.prefix: invalid prefix"},
        {etcd + "prefix = \"/a b\"\n", "cluster.prefix: invalid prefix"},
        {etcd + "member = \"lb 1\"\n",
         "t.toml:7:10: error: cluster.member: invalid member name \"lb 1\""},
        {etcd + "member = \"a/b\"\n", "cluster.member: invalid member name"},
        {etcd + "lease_ttl = \"1s\"\n",
         "t.toml:7:13: error: cluster.lease_ttl: must be whole seconds from 2s to 1h"},
        {etcd + "lease_ttl = \"2500ms\"\n", "cluster.lease_ttl: must be whole seconds"},
        {etcd + "lease_ttl = \"2h\"\n", "cluster.lease_ttl: must be whole seconds"},
        {etcd + "username = \"sy\"\n",
         "cluster.password_file: username and password_file go together"},
        {etcd + "password_file = \"/etc/hostname\"\n",
         "cluster.username: username and password_file go together"},
        {etcd + "username = \"sy\"\npassword_file = \"/nonexistent/pw\"\n",
         "t.toml:8:17: error: cluster.password_file: cannot read \"/nonexistent/pw\""},
        {etcd + "etcd_urls = []\n",
         "t.toml:7:1: error: cluster.etcd_urls: unknown key \"etcd_urls\" (did you mean "
         "\"etcd\"?)"},
    };
    for (const auto& [body, expected] : cases) {
        auto r = load_with("[cluster]\n" + body);
        EXPECT_FALSE(r.ok()) << body;
        ASSERT_EQ(r.error_count(), 1u) << body << ::testing::PrintToString(lines(r));
        EXPECT_THAT(lines(r)[0], HasSubstr(expected)) << body;
    }
}

TEST(ConfigCluster, AnEmptyPasswordFileIsRefused) {
    const std::string password =
        ::testing::TempDir() + "/sy-etcd-empty-" + std::to_string(::getpid());
    std::ofstream(password) << "\n";
    auto r = load_with(
        "[cluster]\netcd = [\"http://127.0.0.1:2379\"]\nusername = \"sy\"\n"
        "password_file = \"" +
        password + "\"\n");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(lines(r), ElementsAre(HasSubstr("holds no password")));
    std::filesystem::remove(password);
}

}  // namespace
}  // namespace switchyard::config

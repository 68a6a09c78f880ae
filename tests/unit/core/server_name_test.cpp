#include "switchyard/core/server_name.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

TEST(HostMatches, ExactNamesIgnoreCaseAndTheRootDot) {
    EXPECT_TRUE(host_matches("api.example.com", "api.example.com"));
    EXPECT_TRUE(host_matches("api.example.com", "API.Example.COM"));
    EXPECT_TRUE(host_matches("API.example.com", "api.example.com"));
    EXPECT_TRUE(host_matches("api.example.com", "api.example.com."));
    EXPECT_TRUE(host_matches("api.example.com.", "api.example.com"));
    EXPECT_FALSE(host_matches("api.example.com", "api.example.co"));
    EXPECT_FALSE(host_matches("api.example.com", "xapi.example.com"));
    EXPECT_FALSE(host_matches("api.example.com", "example.com"));
}

TEST(HostMatches, WildcardCoversExactlyOneLeftMostLabel) {
    EXPECT_TRUE(host_matches("*.example.com", "a.example.com"));
    EXPECT_TRUE(host_matches("*.example.com", "A.EXAMPLE.com"));
    EXPECT_TRUE(host_matches("*.example.com", "a.example.com."));
    EXPECT_FALSE(host_matches("*.example.com", "example.com"));
    EXPECT_FALSE(host_matches("*.example.com", ".example.com"));
    EXPECT_FALSE(host_matches("*.example.com", "a.b.example.com"));
    EXPECT_FALSE(host_matches("*.example.com", "a.example.org"));
    EXPECT_FALSE(host_matches("*.example.com", "aexample.com"));
}

TEST(HostMatches, EmptyMatchesNothing) {
    EXPECT_FALSE(host_matches("", ""));
    EXPECT_FALSE(host_matches("a.test", ""));
    EXPECT_FALSE(host_matches("a.test", "."));
    EXPECT_FALSE(host_matches("", "a.test"));
    EXPECT_FALSE(host_matches("*.", "a."));
}

TEST(HostMatches, AStarAnywhereElseIsNoWildcard) {
    EXPECT_FALSE(host_matches("a*.example.com", "ab.example.com"));
    EXPECT_FALSE(host_matches("*", "localhost"));
    EXPECT_FALSE(host_matches("api.*.com", "api.example.com"));
}

using Hosts = std::vector<std::vector<std::string>>;

TEST(SelectCertificate, DefaultForNoSniAndNoMatch) {
    const Hosts hosts{{}, {"a.test"}, {"*.b.test"}};
    EXPECT_EQ(select_certificate(hosts, ""), 0);
    EXPECT_EQ(select_certificate(hosts, "."), 0);
    EXPECT_EQ(select_certificate(hosts, "unknown.test"), 0);
    EXPECT_EQ(select_certificate(hosts, "x.a.test"), 0);  // no wildcard for a.test
    EXPECT_EQ(select_certificate(hosts, "b.test"), 0);    // the wildcard needs a label
    EXPECT_EQ(select_certificate(Hosts{}, "a.test"), 0);
}

TEST(SelectCertificate, ByExactNameOrWildcard) {
    const Hosts hosts{{}, {"a.test", "www.a.test"}, {"*.b.test"}};
    EXPECT_EQ(select_certificate(hosts, "a.test"), 1);
    EXPECT_EQ(select_certificate(hosts, "WWW.A.TEST."), 1);
    EXPECT_EQ(select_certificate(hosts, "x.b.test"), 2);
}

TEST(SelectCertificate, ExactWinsOverAnEarlierWildcard) {
    const Hosts hosts{{}, {"*.b.test"}, {"api.b.test"}};
    EXPECT_EQ(select_certificate(hosts, "api.b.test"), 2);
    EXPECT_EQ(select_certificate(hosts, "web.b.test"), 1);
}

TEST(SelectCertificate, FirstMatchWinsAmongEquals) {
    const Hosts hosts{{}, {"a.test"}, {"a.test"}, {"*.b.test"}, {"*.b.test"}};
    EXPECT_EQ(select_certificate(hosts, "a.test"), 1);
    EXPECT_EQ(select_certificate(hosts, "x.b.test"), 3);
}

TEST(SelectCertificate, TheDefaultCanHaveNamesToo) {
    const Hosts hosts{{"*.a.test"}, {"api.a.test"}};
    EXPECT_EQ(select_certificate(hosts, "api.a.test"), 1);
    EXPECT_EQ(select_certificate(hosts, "www.a.test"), 0);
}

}  // namespace
}  // namespace switchyard

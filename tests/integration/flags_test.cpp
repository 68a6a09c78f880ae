// Feature flags at the edge (DESIGN.md "Feature flags at the edge"): the
// proxy decides a user's flags from the routing key and tells the upstream
// in X-Switchyard-Flags; clients cannot set it; `flag` changes are durable.
#include <boost/json.hpp>

#include <set>
#include <string>

#include "fixture.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/sticky.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

constexpr std::string_view kFlags = R"toml(
[[flags]]
name = "new-checkout"
percent = 5
description = "the one-page checkout"

[[flags]]
name = "dark-mode"
percent = 100
pools = ["green"]
)toml";

class Flags : public ProxyTest {
  protected:
    ProxyConfig flag_config() {
        auto cfg = base_config();
        cfg.extra = std::string(kFlags);
        return cfg;
    }
    json::object control(const std::string& line) {
        return json::parse(control_command(dir_.path() / "control.sock", line, seconds(10)))
            .as_object();
    }
    // The flags and context the upstream saw for `user`'s request.
    SeenHead seen_by_upstream(HttpConn& c, const std::string& user,
                              const std::string& extra_fields = {}) {
        Response r = c.roundtrip(
            get_request("/?echo=head", "Cookie: sy_uid=" + user + "\r\n" + extra_fields));
        EXPECT_EQ(r.status(), 200u);
        return SeenHead::parse(r.body());
    }
    std::set<int> users_with(HttpConn& c, const std::string& flag, int users) {
        std::set<int> on;
        for (int i = 0; i < users; ++i) {
            const auto values =
                seen_by_upstream(c, "u" + std::to_string(i)).values("X-Switchyard-Flags");
            EXPECT_LE(values.size(), 1u);
            if (!values.empty() &&
                ("," + values[0] + ",").find("," + flag + ",") != std::string::npos)
                on.insert(i);
        }
        return on;
    }
};

// The issue's measure through real processes: users u0..u9999 at 5 % are
// 5 % within half a point, exactly the users the hash names, and raising
// the flag to 10 % keeps every one of them.
TEST_F(Flags, AStickyShareOfUsersGetsTheFlagAndRaisingItKeepsThem) {
    auto cfg = flag_config();
    cfg.workers = 2;
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    constexpr int kUsers = 10000;
    const auto at5 = users_with(c, "new-checkout", kUsers);
    EXPECT_NEAR(static_cast<double>(at5.size()) * 100.0 / kUsers, 5.0, 0.5) << at5.size();
    for (int i = 0; i < kUsers; ++i) {
        const bool expected =
            switchyard::flag_bucket("new-checkout", "u" + std::to_string(i), 0) < 5000;
        if (expected != (at5.count(i) > 0)) ADD_FAILURE() << "user u" << i;
    }
    auto r = control("flag new-checkout 10");
    ASSERT_TRUE(r["ok"].as_bool()) << json::serialize(r);
    EXPECT_TRUE(r["changed"].as_bool());
    EXPECT_EQ(r["flags"].as_object()["new-checkout"].as_double(), 10.0);
    const auto at10 = users_with(c, "new-checkout", kUsers);
    EXPECT_NEAR(static_cast<double>(at10.size()) * 100.0 / kUsers, 10.0, 0.5) << at10.size();
    for (int u : at5)
        EXPECT_TRUE(at10.count(u)) << "user u" << u << " lost the flag when it rose";
    // status counts the requests that had it (both workers summed).
    const auto status = control("status");
    const auto& flags = status.at("flags").as_array();
    ASSERT_EQ(flags.size(), 2u);
    const auto& checkout = flags[0].as_object();
    EXPECT_EQ(checkout.at("name").as_string(), "new-checkout");
    EXPECT_EQ(checkout.at("percent").as_double(), 10.0);
    EXPECT_EQ(checkout.at("requests").as_int64(),
              static_cast<std::int64_t>(at5.size() + at10.size()));
    EXPECT_EQ(checkout.at("description").as_string(), "the one-page checkout");
    // Nobody is on green: dark-mode (green only) had no request.
    EXPECT_EQ(flags[1].as_object().at("requests").as_int64(), 0);
}

// A user cannot turn a flag on, nor forge the context: the headers from a
// client are removed in any case and number (trailers: strict_http_test).
TEST_F(Flags, ClientsCannotSetFlagsOrContext) {
    auto cfg = flag_config();
    cfg.routing = {{"context_header", "\"X-Switchyard-Context\""}};
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    std::string outside = "u0";  // a user without new-checkout
    for (int i = 1; switchyard::flag_bucket("new-checkout", outside, 0) < 5000; ++i)
        outside = "u" + std::to_string(i);
    const auto seen =
        seen_by_upstream(c, outside,
                         "X-Switchyard-Flags: new-checkout\r\nx-switchyard-flags: dark-mode\r\n"
                         "X-SWITCHYARD-CONTEXT: pool=green; bucket=0\r\n");
    EXPECT_TRUE(seen.values("X-Switchyard-Flags").empty());
    EXPECT_EQ(seen.values("X-Switchyard-Context"),
              std::vector<std::string>{"pool=blue; bucket=" +
                                       std::to_string(switchyard::bucket_of(outside, 0))});
}

// `pools`: a flag for the canary's users only, whatever their share.
TEST_F(Flags, AFlagLimitedToAPoolFollowsTheCanaryAndTheContextSaysWhere) {
    auto cfg = flag_config();
    cfg.routing = {{"context_header", "\"X-Switchyard-Context\""}};
    start_proxy(cfg);
    ASSERT_TRUE(control("canary green 30")["ok"].as_bool());
    HttpConn c(proxy_->port());
    for (int i = 0; i < 300; ++i) {
        const std::string user = "u" + std::to_string(i);
        const auto bucket = switchyard::bucket_of(user, 0);
        const bool green = bucket < 3000;
        const auto seen = seen_by_upstream(c, user);
        const auto flags = seen.values("X-Switchyard-Flags");
        const bool dark = !flags.empty() && flags[0].find("dark-mode") != std::string::npos;
        EXPECT_EQ(dark, green) << user;
        EXPECT_EQ(seen.values("X-Switchyard-Context"),
                  std::vector<std::string>{std::string("pool=") + (green ? "green" : "blue") +
                                           "; bucket=" + std::to_string(bucket)})
            << user;
    }
}

// Durable and audited like routing changes: a restart keeps the percent, a
// reload keeps it (state wins, the difference is a conflict), and bad
// commands change nothing.
TEST_F(Flags, ChangesAreDurableAndBadCommandsChangeNothing) {
    auto cfg = flag_config();
    cfg.audit_log_file = true;
    start_proxy(cfg);
    const auto generation = control("status")["generation"].as_int64();
    for (const char* bad : {"flag old-checkout 5", "flag new-checkout 101", "flag new-checkout x",
                            "flag new/checkout 5", "flag new-checkout 5 if-generation=99"}) {
        auto r = control(bad);
        EXPECT_FALSE(r["ok"].as_bool()) << bad;
        EXPECT_FALSE(r["error"].as_string().empty()) << bad;
    }
    EXPECT_EQ(control("status")["generation"].as_int64(), generation);

    auto r = control("flag new-checkout 12.345 if-generation=" + std::to_string(generation));
    ASSERT_TRUE(r["ok"].as_bool()) << json::serialize(r);
    EXPECT_EQ(r["generation"].as_int64(), generation + 1);
    ASSERT_TRUE(control("flag dark-mode off")["ok"].as_bool());
    const std::string audit = read_file(proxy_->audit_log_path());
    EXPECT_NE(audit.find("flag=new-checkout:12.345%"), std::string::npos) << audit;

    proxy_.reset();
    start_proxy(cfg);
    auto status = control("status");
    EXPECT_EQ(status["flags"].as_array()[0].as_object()["percent"].as_double(), 12.345);
    EXPECT_EQ(status["flags"].as_array()[1].as_object()["percent"].as_double(), 0.0);
    EXPECT_EQ(status["generation"].as_int64(), generation + 2);
    EXPECT_NE(json::serialize(status["conflicts"])
                  .find("flag new-checkout 12.345% from state; config says 5.000%"),
              std::string::npos)
        << json::serialize(status);

    ASSERT_TRUE(control("reload")["ok"].as_bool());
    EXPECT_EQ(control("status")["flags"].as_array()[0].as_object()["percent"].as_double(), 12.345);
    // A new seed would hand new-checkout to other users: refused.
    std::string reseeded = read_file(proxy_->config_path());
    const auto routing = reseeded.find("\n[routing]\n");
    ASSERT_NE(routing, std::string::npos) << reseeded;
    reseeded.insert(routing + 11, "seed = 9\n");
    write_file(proxy_->config_path(), reseeded);
    r = control("reload");
    EXPECT_FALSE(r["ok"].as_bool());
    EXPECT_NE(std::string(r["error"].as_string())
                  .find("routing.seed cannot change while flag "
                        "new-checkout"),
              std::string::npos)
        << json::serialize(r);
}

TEST_F(Flags, MetricsCountRequestsPerFlag) {
    auto cfg = flag_config();
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(control("flag new-checkout 100")["ok"].as_bool());
    HttpConn c(proxy_->port());
    for (int i = 0; i < 7; ++i)
        ASSERT_EQ(
            c.roundtrip(get_request("/", "Cookie: sy_uid=u" + std::to_string(i) + "\r\n")).status(),
            200u);
    const std::string metrics = HttpConn(cfg.admin_port).roundtrip(get_request("/metrics")).body();
    EXPECT_NE(metrics.find("switchyard_flag_requests_total{flag=\"new-checkout\"} 7\n"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("switchyard_flag_requests_total{flag=\"dark-mode\"} 0\n"),
              std::string::npos);
    EXPECT_NE(metrics.find("switchyard_flag_percent{flag=\"new-checkout\"} 100"),
              std::string::npos);
}

}  // namespace
}  // namespace sy_it

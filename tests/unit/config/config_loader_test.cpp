#include "switchyard/config/config_loader.hpp"
#include "config_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The "Config (TOML)" block of DESIGN.md, verbatim: tools rely on these keys.
constexpr std::string_view kDesignExample = R"toml(
[server]
workers = 0                    # 0: one per core
drain_timeout = "30s"
state_file = "/var/lib/switchyard/state.json"
max_connections = 10000        # client connections; above it, accept waits
shutdown_delay = "0s"          # on SIGTERM: /healthz says 503 but keep serving this long, then drain
retry_buffer = "64KiB"         # replay buffer for the retry rule

[timeouts]
client_header = "10s"          # read a request head (slowloris) → 408
client_body = "60s"            # idle between body reads from a client
client_idle = "60s"            # keep-alive idle between requests
send = "60s"                   # a client or upstream that does not read
upstream_connect = "3s"
upstream_response = "60s"      # first response byte → 504
upstream_idle = "4s"           # pooled upstream connection idle; keep below the upstreams' own
tunnel_idle = "1h"             # upgraded (WebSocket) connections

[limits]
max_header_bytes = "64KiB"     # → 431
max_target_bytes = "8KiB"      # → 414
max_body_bytes = "0"           # 0 = no limit; above → 413

[log]
level = "info"
error_log = "stderr"           # or a path
access_log = "stdout"          # or a path, or "off"
audit_log = "stderr"           # control commands with peer uid/pid

[[listeners]]
address = "0.0.0.0:8080"
trusted_proxies = []           # CIDRs whose X-Forwarded-For is believed
proxy_protocol = false

[[listeners]]
address = "0.0.0.0:8443"
[listeners.tls]
cert = "/etc/switchyard/cert.pem"
key = "/etc/switchyard/key.pem"
min_version = "1.2"
# [[listeners.tls.certificates]]  hosts = ["api.example.com"], cert = "...", key = "..."

[control]
socket = "/run/switchyard/control.sock"
mode = "0660"

[admin]                        # absent: no admin listener
address = "127.0.0.1:9901"     # /metrics, /status, /healthz, dashboard; read only

[routing]
active = "blue"
seed = 0                       # same seed on every instance = same user assignment
canary = { pool = "green", weight = 0.0 }
sticky = { source = "cookie", name = "sy_uid", assign_cookie = "sy_uid", assign_max_age = "30d" }
# sticky sources: cookie | header | client_ip | none
# override_header = "X-Switchyard-Pool"
# override_token = "…"        # override honoured only with this token or from trusted_proxies

[pools.blue]
balance = "least_request"      # or round_robin
servers = [{ address = "127.0.0.1:9001", weight = 1 }]
retries = 1
max_connections_per_server = 0   # 0 = no limit; above it requests wait (max_pending_per_server), then 503 + Retry-After
max_pending_per_server = 0
retry_budget_percent = 20        # retries at most this share of requests
dns_refresh = "30s"              # server hostnames are resolved at start, reload and this period, never per request
# health = { path = "/healthz", interval = "2s", timeout = "1s", rise = 2, fall = 3, expect = "200-399" }
#   absent: no active checks, servers count healthy
# outlier = { consecutive_failures = 5, base_ejection = "30s", max_ejected_percent = 50 }
# min_healthy = { count = 1, percent = 50 }   # gate for switch/canary/promote/rollback
# on_unhealthy = "fail"                        # or "fallback" to the previous pool
# tls = { ca = "/etc/ssl/certs/ca.pem", sni = "app.internal", verify = true }

[pools.green]
servers = [{ address = "127.0.0.1:9002" }]
)toml";

using namespace test;

// Uncomments lines "# key = ..." (and "# [table]" when `tables`), to check
// that commented examples are valid.
std::string uncomment_examples(std::string_view text, bool tables) {
    const std::regex example(tables ? R"(^# ?(\[|[a-z_]+ = ).*)" : R"(^# ([a-z_]+ = ).*)");
    std::istringstream in{std::string(text)};
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (std::regex_match(line, example))
            line.erase(0, line.size() > 1 && line[1] == ' ' ? 2 : 1);
        out += line + "\n";
    }
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> key_paths(const LoadResult& r, Diagnostic::Severity severity) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics)
        if (d.severity == severity) out.push_back(d.key_path);
    return out;
}

Endpoint ep(std::string host, std::uint16_t port) {
    return Endpoint{std::move(host), port};
}

// ---------------------------------------------------------------- defaults

TEST(ConfigDefaults, AbsentKeysTakeSettingsDefaults) {
    auto r = load(kMinimal);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(r.diagnostics, IsEmpty());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.source_path, "t.toml");
    EXPECT_EQ(s.server, ServerProcessSettings{});
    EXPECT_EQ(s.timeouts, TimeoutSettings{});
    EXPECT_EQ(s.limits, LimitSettings{});
    EXPECT_EQ(s.log, LogSettings{});
    EXPECT_EQ(s.control, ControlSettings{});
    EXPECT_EQ(s.admin, std::nullopt);
    EXPECT_EQ(s.routing, RoutingSettings{});
    ASSERT_EQ(s.listeners.size(), 1u);
    EXPECT_EQ(
        s.listeners[0],
        (ListenerSettings{
            ep("127.0.0.1", 0), {}, false, std::nullopt, ForwardedHeader::append, {"http/1.1"}}));
    ASSERT_EQ(s.pools.size(), 1u);
    PoolSettings blue;
    blue.name = "blue";
    blue.servers = {ServerSettings{ep("127.0.0.1", 9001), 1}};
    EXPECT_EQ(s.pools[0], blue);
}

TEST(ConfigDefaults, SpotCheckOfTheDefaultValues) {
    // The defaults themselves are part of the contract (DESIGN.md).
    auto r = load(kMinimal);
    ASSERT_TRUE(r.ok());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.server.workers, 0u);
    EXPECT_EQ(s.server.drain_timeout, milliseconds(30'000));
    EXPECT_EQ(s.server.state_file, "/var/lib/switchyard/state.json");
    EXPECT_EQ(s.server.max_connections, 10'000u);
    EXPECT_EQ(s.server.retry_buffer, 65'536u);
    EXPECT_EQ(s.server.upgrade_timeout, milliseconds(30'000));
    EXPECT_EQ(s.timeouts.client_header, milliseconds(10'000));
    EXPECT_EQ(s.timeouts.upstream_idle, milliseconds(4'000));
    EXPECT_EQ(s.timeouts.tunnel_idle, milliseconds(3'600'000));
    EXPECT_EQ(s.limits.max_header_bytes, 65'536u);
    EXPECT_EQ(s.limits.max_target_bytes, 8'192u);
    EXPECT_EQ(s.limits.max_body_bytes, 0u);
    EXPECT_EQ(s.control.mode, 0660u);
    EXPECT_EQ(s.routing.active, "blue");
    EXPECT_EQ(s.routing.sticky.assign_max_age, milliseconds(2'592'000'000LL));
    EXPECT_EQ(s.pools[0].balance, BalancePolicy::least_request);
    EXPECT_EQ(s.pools[0].retries, 1u);
    EXPECT_EQ(s.pools[0].retry_budget_percent, 20u);
    EXPECT_EQ(s.pools[0].dns_refresh, milliseconds(30'000));
    EXPECT_EQ(s.pools[0].health, std::nullopt);
    EXPECT_EQ(s.pools[0].on_unhealthy, OnUnhealthy::fail);
}

// ---------------------------------------------------------------- DESIGN.md

TEST(ConfigDesignExample, LoadsWithoutDiagnostics) {
    auto r = load_string(kDesignExample, "design.toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    // Every feature of DESIGN.md's example is built: no "not built yet" warning.
    EXPECT_THAT(lines(r), ::testing::IsEmpty());
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_EQ(r.warning_count(), 0u);
}

TEST(ConfigDesignExample, EveryValueIsRead) {
    auto r = load_string(kDesignExample, "design.toml");
    ASSERT_TRUE(r.ok());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.source_path, "design.toml");
    EXPECT_EQ(s.server, ServerProcessSettings{});
    EXPECT_EQ(s.timeouts, TimeoutSettings{});
    EXPECT_EQ(s.limits, LimitSettings{});
    EXPECT_EQ(s.log, LogSettings{});
    ASSERT_EQ(s.listeners.size(), 2u);
    EXPECT_EQ(
        s.listeners[0],
        (ListenerSettings{
            ep("0.0.0.0", 8080), {}, false, std::nullopt, ForwardedHeader::append, {"http/1.1"}}));
    EXPECT_EQ(s.listeners[1].address, ep("0.0.0.0", 8443));
    ListenerTlsSettings tls;
    tls.cert = "/etc/switchyard/cert.pem";
    tls.key = "/etc/switchyard/key.pem";
    tls.min_version = "1.2";
    EXPECT_EQ(s.listeners[1].tls, tls);
    EXPECT_EQ(s.control, (ControlSettings{"/run/switchyard/control.sock", 0660}));
    ASSERT_TRUE(s.admin.has_value());
    EXPECT_EQ(s.admin->address, ep("127.0.0.1", 9901));
    EXPECT_EQ(s.routing.active, "blue");
    EXPECT_EQ(s.routing.seed, 0u);
    EXPECT_EQ(s.routing.canary_pool, "green");
    EXPECT_EQ(s.routing.canary_weight_percent, 0.0);
    EXPECT_EQ(s.routing.sticky, StickySettings{});
    ASSERT_EQ(s.pools.size(), 2u);
    EXPECT_EQ(s.pools[0].name, "blue");
    EXPECT_EQ(s.pools[0].servers, (std::vector<ServerSettings>{{ep("127.0.0.1", 9001), 1}}));
    EXPECT_EQ(s.pools[0].retries, 1u);
    EXPECT_EQ(s.pools[0].dns_refresh, milliseconds(30'000));
    EXPECT_EQ(s.pools[1].name, "green");
    EXPECT_EQ(s.pools[1].servers, (std::vector<ServerSettings>{{ep("127.0.0.1", 9002), 1}}));
    EXPECT_EQ(summary(s),
              "config ok: 2 listeners, 2 pools (blue: 1 server, green: 1 server), active blue, "
              "one worker per core");
}

TEST(ConfigDesignExample, CommentedKeysAreValidToo) {
    auto text = uncomment_examples(kDesignExample, false);
    ASSERT_NE(text.find("\noverride_header = \"X-Switchyard-Pool\""), std::string::npos);
    ASSERT_NE(text.find("\ntls = { ca"), std::string::npos);
    auto r = load_string(text, "design.toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_THAT(key_paths(r, Diagnostic::Severity::warning), ::testing::IsEmpty());
    const auto& blue = r.settings->pools[0];
    EXPECT_EQ(r.settings->routing.override_header, "X-Switchyard-Pool");
    EXPECT_EQ(r.settings->routing.override_token, "…");
    EXPECT_EQ(blue.health, HealthCheckSettings{});
    EXPECT_EQ(blue.outlier, OutlierSettings{});
    EXPECT_EQ(blue.min_healthy, MinHealthySettings{});
    EXPECT_EQ(blue.on_unhealthy, OnUnhealthy::fail);
    EXPECT_EQ(blue.tls, (UpstreamTlsSettings{"/etc/ssl/certs/ca.pem", "app.internal", true}));
}

// ---------------------------------------------------------------- conf/switchyard.toml

TEST(ConfigReference, LoadsWithoutAnyDiagnostic) {
    const std::string path = SWITCHYARD_SOURCE_DIR "/conf/switchyard.toml";
    auto r = load_file(path);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), IsEmpty());
    const Settings& s = *r.settings;
    EXPECT_EQ(s.source_path, path);
    // It documents the defaults, so it must produce exactly them.
    EXPECT_EQ(s.server, ServerProcessSettings{});
    EXPECT_EQ(s.timeouts, TimeoutSettings{});
    EXPECT_EQ(s.limits, LimitSettings{});
    EXPECT_EQ(s.log, LogSettings{});
    EXPECT_EQ(s.control, ControlSettings{});
    EXPECT_EQ(s.routing.sticky, StickySettings{});
    EXPECT_EQ(s.routing.canary_pool, "green");
    EXPECT_EQ(s.rollout, RolloutSettings{});
    EXPECT_EQ(s.shadow, ShadowSettings{});
    ASSERT_EQ(s.pools.size(), 2u);
    PoolSettings blue;
    blue.name = "blue";
    blue.servers = {ServerSettings{ep("127.0.0.1", 9001), 1}};
    EXPECT_EQ(s.pools[0], blue);
}

TEST(ConfigReference, CommentedExamplesAreValidAndDocumentDefaults) {
    auto text = uncomment_examples(read_file(SWITCHYARD_SOURCE_DIR "/conf/switchyard.toml"), true);
    auto r = load_string(text, "ref.toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), ::testing::IsEmpty());
    const Settings& s = *r.settings;
    ASSERT_EQ(s.listeners.size(), 2u);
    ASSERT_TRUE(s.listeners[1].tls.has_value());
    ASSERT_EQ(s.listeners[1].tls->certificates.size(), 1u);
    EXPECT_EQ(s.listeners[1].tls->certificates[0].hosts,
              std::vector<std::string>{"api.example.com"});
    EXPECT_EQ(s.control, ControlSettings{});
    ASSERT_TRUE(s.admin.has_value());
    EXPECT_EQ(s.routing.sticky, StickySettings{});
    EXPECT_EQ(s.pools[0].retry_budget_percent, 20u);
    EXPECT_EQ(s.pools[0].health, HealthCheckSettings{});
    EXPECT_EQ(s.pools[0].outlier, OutlierSettings{});
    EXPECT_EQ(s.pools[0].min_healthy, MinHealthySettings{});
    ASSERT_EQ(s.rollout.webhooks.size(), 1u);
    WebhookSettings webhook;
    webhook.url = "https://hooks.example.com/deploys";
    EXPECT_EQ(s.rollout.webhooks[0], webhook);
}

// ---------------------------------------------------------------- values

TEST(ConfigValues, EveryKeySetToANonDefaultValue) {
    auto r = load(R"toml(
[server]
workers = 2
drain_timeout = "5m"
state_file = "/tmp/state.json"
max_connections = 77
upgrade_timeout = "9s"
shutdown_delay = "250ms"
retry_buffer = "1MiB"

[timeouts]
client_header = "1s"
client_body = "2s"
client_idle = "3s"
send = "4s"
upstream_connect = "500ms"
upstream_response = "6s"
upstream_idle = "7s"
tunnel_idle = "1d"
client_body_min_rate = "500B/s"
client_body_grace = "20s"

[limits]
max_header_bytes = "16KiB"
max_target_bytes = 2048
max_body_bytes = "2GiB"

[log]
level = "debug"
error_log = "/var/log/sy/error.log"
access_log = "off"
audit_log = "stdout"
event_log = "stderr"

[[listeners]]
address = "[::]:8080"
trusted_proxies = ["10.0.0.0/8", "::1", "192.168.7.9/24"]
forwarded = "replace"
proxy_protocol = true

[[listeners]]
address = "lb.internal:8443"
[listeners.tls]
cert = "c.pem"
key = "k.pem"
min_version = "1.3"
ciphers = "ECDHE+AESGCM"
ciphersuites = "TLS_AES_128_GCM_SHA256"
[[listeners.tls.certificates]]
hosts = ["api.example.com", "*.example.org"]
cert = "api.pem"
key = "api.key"

[control]
socket = "/tmp/sy.sock"
mode = "0600"

[admin]
address = "127.0.0.1:9901"

[routing]
active = "green"
seed = 12345
canary = { pool = "blue", weight = 2.5 }
sticky = { source = "header", name = "X-User", assign_cookie = "sy_a", assign_max_age = "1h" }
override_header = "X-Switchyard-Pool"
override_token = "s3cret"

[pools.green]
balance = "round_robin"
servers = [{ address = "10.0.0.1:80", weight = 3 }, { address = "app.internal:81", weight = 10000 }]
retries = 0
max_connections_per_server = 100
max_pending_per_server = 50
retry_budget_percent = 100
dns_refresh = "1m"
health = { path = "/ready", host = "app.local", interval = "5s", timeout = "500ms", rise = 1, fall = 7, expect = "204" }
outlier = { consecutive_failures = 2, base_ejection = "10s", max_ejected_percent = 0 }
min_healthy = { count = 0, percent = 100 }
on_unhealthy = "fallback"
tls = { ca = "ca.pem", sni = "app.internal", verify = false }

[pools.blue]
servers = [{ address = "[2001:db8::1]:9000" }]
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    const Settings& s = *r.settings;

    EXPECT_EQ(s.server, (ServerProcessSettings{2, milliseconds(300'000), "/tmp/state.json", 77,
                                               milliseconds(250), milliseconds(9000), 1'048'576}));
    EXPECT_EQ(
        s.timeouts,
        (TimeoutSettings{milliseconds(1000), milliseconds(2000), milliseconds(3000),
                         milliseconds(4000), milliseconds(500), milliseconds(6000),
                         milliseconds(7000), milliseconds(86'400'000), 500, milliseconds(20'000)}));
    EXPECT_EQ(s.limits, (LimitSettings{16'384, 2'048, 2'147'483'648ULL}));
    EXPECT_EQ(s.log,
              (LogSettings{"debug", "/var/log/sy/error.log", "off", "stdout", 1.0, "stderr"}));

    ASSERT_EQ(s.listeners.size(), 2u);
    EXPECT_EQ(s.listeners[0].address, ep("::", 8080));
    ASSERT_EQ(s.listeners[0].trusted_proxies.size(), 3u);
    EXPECT_EQ(s.listeners[0].trusted_proxies[0], (Cidr{{10, 0, 0, 0}, 8}));
    EXPECT_EQ(s.listeners[0].trusted_proxies[1].prefix_len, 128);
    EXPECT_EQ(s.listeners[0].trusted_proxies[2], (Cidr{{192, 168, 7, 0}, 24}));
    EXPECT_TRUE(s.listeners[0].proxy_protocol);
    EXPECT_EQ(s.listeners[0].forwarded, ForwardedHeader::replace);
    EXPECT_EQ(s.listeners[0].tls, std::nullopt);
    EXPECT_EQ(s.listeners[1].address, ep("lb.internal", 8443));
    ListenerTlsSettings tls{
        "c.pem",
        "k.pem",
        "1.3",
        "ECDHE+AESGCM",
        "TLS_AES_128_GCM_SHA256",
        {TlsCertificateSettings{{"api.example.com", "*.example.org"}, "api.pem", "api.key"}}};
    EXPECT_EQ(s.listeners[1].tls, tls);

    EXPECT_EQ(s.control, (ControlSettings{"/tmp/sy.sock", 0600}));
    ASSERT_TRUE(s.admin.has_value());
    EXPECT_EQ(s.admin->address, ep("127.0.0.1", 9901));

    EXPECT_EQ(s.routing.active, "green");
    EXPECT_EQ(s.routing.seed, 12345u);
    EXPECT_EQ(s.routing.canary_pool, "blue");
    EXPECT_EQ(s.routing.canary_weight_percent, 2.5);
    EXPECT_EQ(s.routing.sticky,
              (StickySettings{StickySource::header, "X-User", "sy_a", milliseconds(3'600'000)}));
    EXPECT_EQ(s.routing.override_header, "X-Switchyard-Pool");
    EXPECT_EQ(s.routing.override_token, "s3cret");

    ASSERT_EQ(s.pools.size(), 2u);
    const PoolSettings& g = s.pools[0];  // file order, not alphabetical
    EXPECT_EQ(g.name, "green");
    EXPECT_EQ(g.balance, BalancePolicy::round_robin);
    EXPECT_EQ(g.servers, (std::vector<ServerSettings>{{ep("10.0.0.1", 80), 3},
                                                      {ep("app.internal", 81), 10000}}));
    EXPECT_EQ(g.retries, 0u);
    EXPECT_EQ(g.max_connections_per_server, 100u);
    EXPECT_EQ(g.max_pending_per_server, 50u);
    EXPECT_EQ(g.retry_budget_percent, 100u);
    EXPECT_EQ(g.dns_refresh, milliseconds(60'000));
    EXPECT_EQ(g.health, (HealthCheckSettings{"/ready", "app.local", milliseconds(5000),
                                             milliseconds(500), 1, 7, 204, 204}));
    EXPECT_EQ(g.outlier, (OutlierSettings{2, milliseconds(10'000), 0}));
    EXPECT_EQ(g.min_healthy, (MinHealthySettings{0, 100}));
    EXPECT_EQ(g.on_unhealthy, OnUnhealthy::fallback);
    EXPECT_EQ(g.tls, (UpstreamTlsSettings{"ca.pem", "app.internal", false}));
    EXPECT_EQ(s.pools[1].name, "blue");
    EXPECT_EQ(s.pools[1].servers, (std::vector<ServerSettings>{{ep("2001:db8::1", 9000), 1}}));
    EXPECT_EQ(summary(s),
              "config ok: 2 listeners, 2 pools (green: 2 servers, blue: 1 server), active green, "
              "canary blue 2.5%, 2 workers");
}

TEST(ConfigValues, TablesAndInlineTablesAreTheSameSchema) {
    auto inline_form = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[routing]
canary = { pool = "green", weight = 5 }
[pools.blue]
servers = [{ address = "h1:1", weight = 2 }, { address = "h2:2" }]
health = { path = "/h", expect = "200-299" }
[pools.green]
servers = [{ address = "h3:3" }]
)toml");
    auto table_form = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[routing.canary]
pool = "green"
weight = 5.0
[pools.blue]
[[pools.blue.servers]]
address = "h1:1"
weight = 2
[[pools.blue.servers]]
address = "h2:2"
[pools.blue.health]
path = "/h"
expect = "200-299"
[pools.green]
servers = [{ address = "h3:3" }]
)toml");
    ASSERT_TRUE(inline_form.ok()) << ::testing::PrintToString(lines(inline_form));
    ASSERT_TRUE(table_form.ok()) << ::testing::PrintToString(lines(table_form));
    EXPECT_EQ(inline_form.settings->routing, table_form.settings->routing);
    EXPECT_EQ(inline_form.settings->pools, table_form.settings->pools);
    EXPECT_EQ(table_form.settings->routing.canary_weight_percent, 5.0);
    EXPECT_EQ(table_form.settings->pools[0].health->expect_min, 200);
    EXPECT_EQ(table_form.settings->pools[0].health->expect_max, 299);
    EXPECT_EQ(table_form.settings->pools[0].servers.size(), 2u);
}

TEST(ConfigValues, PoolsKeepFileOrder) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[routing]
active = "zulu"
[pools.zulu]
servers = [{ address = "h:1" }]
[pools.alpha]
servers = [{ address = "h:2" }]
[pools.mike]
servers = [{ address = "h:3" }]
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    ASSERT_EQ(r.settings->pools.size(), 3u);
    EXPECT_EQ(r.settings->pools[0].name, "zulu");
    EXPECT_EQ(r.settings->pools[1].name, "alpha");
    EXPECT_EQ(r.settings->pools[2].name, "mike");
    EXPECT_EQ(r.settings->find_pool("alpha"), &r.settings->pools[1]);
}

TEST(ConfigValues, SizesAcceptIntegerBytes) {
    auto r = load_with("[limits]\nmax_header_bytes = 4096\nmax_body_bytes = 0\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->limits.max_header_bytes, 4096u);
    EXPECT_EQ(r.settings->limits.max_body_bytes, 0u);
}

TEST(ConfigValues, ZeroDurationsWhereZeroMakesSense) {
    auto r = load_with("[server]\ndrain_timeout = \"0\"\nshutdown_delay = \"0s\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(r.diagnostics, IsEmpty());
    EXPECT_EQ(r.settings->server.drain_timeout, milliseconds(0));
}

TEST(ConfigValues, WorkersBoundaries) {
    for (int workers : {0, 1, 1024}) {
        auto r = load_with("[server]\nworkers = " + std::to_string(workers) + "\n");
        ASSERT_TRUE(r.ok()) << workers;
        EXPECT_EQ(r.settings->server.workers, static_cast<std::uint32_t>(workers));
    }
}

TEST(ConfigValues, ServerWeightBoundaries) {
    for (int weight : {1, 10000}) {
        auto r = load(std::string(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "h:1", weight = )toml") +
                      std::to_string(weight) + " }]\n");
        ASSERT_TRUE(r.ok()) << weight;
        EXPECT_EQ(r.settings->pools[0].servers[0].weight, static_cast<std::uint32_t>(weight));
    }
}

TEST(ConfigValues, ControlModeIsAnOctalString) {
    for (auto [text, mode] : {std::pair{"0660", 0660u},
                              {"600", 0600u},
                              {"0777", 0777u},
                              {"0000", 0u},
                              {"0640", 0640u}}) {
        auto r = load_with(std::string("[control]\nmode = \"") + text + "\"\n");
        ASSERT_TRUE(r.ok()) << text;
        EXPECT_EQ(r.settings->control.mode, mode) << text;
    }
}

TEST(ConfigValues, HealthExpectForms) {
    for (auto [expect, lo, hi] : {std::tuple{"\"200\"", 200, 200},
                                  {"\"200-399\"", 200, 399},
                                  {"204", 204, 204},
                                  {"\"100-599\"", 100, 599}}) {
        auto r = load_with(std::string("health = { expect = ") + expect + " }\n");
        ASSERT_TRUE(r.ok()) << expect << ::testing::PrintToString(lines(r));
        EXPECT_EQ(r.settings->pools[0].health->expect_min, lo) << expect;
        EXPECT_EQ(r.settings->pools[0].health->expect_max, hi) << expect;
    }
}

TEST(ConfigValues, CanaryWeightBoundariesAndDecimals) {
    for (auto [text, value] : {std::pair{"0", 0.0},
                               {"100", 100.0},
                               {"0.01", 0.01},
                               {"99.99", 99.99},
                               {"5.07", 5.07},
                               {"33.3", 33.3}}) {
        auto r = load(std::string(R"toml([[listeners]]
address = "127.0.0.1:0"
[routing]
canary = { pool = "green", weight = )toml") +
                      text + R"toml( }
[pools.blue]
servers = [{ address = "h:1" }]
[pools.green]
servers = [{ address = "h:2" }]
)toml");
        ASSERT_TRUE(r.ok()) << text << ::testing::PrintToString(lines(r));
        EXPECT_DOUBLE_EQ(r.settings->routing.canary_weight_percent, value) << text;
    }
}

TEST(ConfigValues, PortZeroListenersMayRepeat) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "h:1" }]
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_EQ(r.settings->listeners.size(), 2u);
}

TEST(ConfigValues, SameServerInTwoPoolsIsFine) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "h:1" }]
[pools.green]
servers = [{ address = "h:1" }]
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
}

// ---------------------------------------------------------------- unknown keys

TEST(ConfigUnknownKeys, TopLevelWithHint) {
    auto r = load_with("[pool.red]\nservers = []\n");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.settings, std::nullopt);
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:5:2: error: pool: unknown key \"pool\" (did you mean \"pools\"?)"));
}

TEST(ConfigUnknownKeys, NestedWithHintAtTheKeyPosition) {
    auto r = load_with("[server]\n  worker = 2\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:3: error: server.worker: unknown key \"worker\" "
                                      "(did you mean \"workers\"?)"));
}

TEST(ConfigUnknownKeys, WithoutHintWhenNothingIsClose) {
    auto r = load_with("[timeouts]\nbanana = \"1s\"\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:6:1: error: timeouts.banana: unknown key \"banana\""));
}

TEST(ConfigUnknownKeys, InsideInlineTablesAndArrayElements) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
tsl = { cert = "c" }
[pools.blue]
servers = [{ address = "h:1", wieght = 2 }]
health = { paht = "/h" }
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:3:1: error: listeners[0].tsl: unknown key \"tsl\" (did you mean "
                    "\"tls\"?)",
                    "t.toml:5:31: error: pools.blue.servers[0].wieght: unknown key \"wieght\" "
                    "(did you mean \"weight\"?)",
                    "t.toml:6:12: error: pools.blue.health.paht: unknown key \"paht\" (did "
                    "you mean \"path\"?)"));
}

TEST(ConfigUnknownKeys, DottedKeysAndQuotedKeys) {
    auto r = load_with("[routing]\nsticky.sorce = \"none\"\n\"odd key\" = 1\n");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:8: error: routing.sticky.sorce: unknown key \"sorce\" (did you "
                    "mean \"source\"?)",
                    "t.toml:7:1: error: routing.\"odd key\": unknown key \"odd key\""));
}

TEST(ConfigUnknownKeys, UnknownSubtreeIsReportedOnceAtItsRoot) {
    auto r = load_with("[extras.a.b]\nc = 1\nd = 2\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:5:2: error: extras: unknown key \"extras\""));
}

// ---------------------------------------------------------------- types

TEST(ConfigTypes, WrongTypesAreErrors) {
    auto r = load_with(R"toml([server]
workers = "2"
state_file = 5
max_connections = 1.5
[log]
level = true
[[listeners]]
address = 8080
proxy_protocol = "yes"
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:11: error: server.workers: expected an integer, got a string",
                    "t.toml:7:14: error: server.state_file: expected a string, got an integer",
                    "t.toml:8:19: error: server.max_connections: expected an integer, got a "
                    "floating-point number",
                    "t.toml:10:9: error: log.level: expected a string, got a boolean",
                    "t.toml:12:11: error: listeners[1].address: expected a string, got an "
                    "integer",
                    "t.toml:13:18: error: listeners[1].proxy_protocol: expected a boolean "
                    "(true or false), got a string"));
}

TEST(ConfigTypes, SectionsMustBeTables) {
    auto r = load_with("[routing]\nsticky = \"cookie\"\ncanary = 5\n");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:10: error: routing.sticky: expected a table, got a string",
                    "t.toml:7:10: error: routing.canary: expected a table, got an integer"));
}

TEST(ConfigTypes, TopLevelSectionAsValue) {
    auto r = load(std::string("server = 1\n") + std::string(kMinimal));
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:1:10: error: server: expected a table, got an integer"));
}

TEST(ConfigTypes, DurationsMustBeStrings) {
    auto r = load_with("[timeouts]\nsend = 30\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:6:8: error: timeouts.send: expected a duration string "
                            "like \"30s\", got an integer"));
}

TEST(ConfigTypes, EmptyStringsAreRejectedWhereTheyMeanNothing) {
    auto r = load_with("[server]\nstate_file = \"\"\n[log]\naccess_log = \"\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:14: error: server.state_file: must not be empty",
                                      "t.toml:8:14: error: log.access_log: must not be empty"));
}

// ---------------------------------------------------------------- durations and sizes

TEST(ConfigDurations, InvalidAndZero) {
    auto r = load_with(R"toml([server]
drain_timeout = "30"
[timeouts]
client_header = "1.5s"
upstream_connect = "0s"
tunnel_idle = "-1h"
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:6:17: error: server.drain_timeout: invalid duration \"30\" "
                            "(expected an integer with a unit ms, s, m, h or d, like \"30s\")",
                            "t.toml:8:17: error: timeouts.client_header: invalid duration \"1.5s\" "
                            "(expected an integer with a unit ms, s, m, h or d, like \"30s\")",
                            "t.toml:9:20: error: timeouts.upstream_connect: must be greater than 0",
                            "t.toml:10:15: error: timeouts.tunnel_idle: invalid duration \"-1h\" "
                            "(expected an integer with a unit ms, s, m, h or d, like \"30s\")"));
}

TEST(ConfigDurations, MinimumsAboveZero) {
    auto r = load_with("dns_refresh = \"500ms\"\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:5:15: error: pools.blue.dns_refresh: must be at least 1s"));
}

TEST(ConfigSizes, InvalidNegativeAndOutOfRange) {
    auto r = load_with(R"toml([limits]
max_header_bytes = "64KB"
max_target_bytes = -1
max_body_bytes = "1 MiB"
[server]
retry_buffer = "2GiB"
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:20: error: limits.max_header_bytes: invalid size \"64KB\" "
                    "(expected an integer with an optional unit B, KiB, MiB, GiB or TiB, like "
                    "\"64KiB\")",
                    "t.toml:7:20: error: limits.max_target_bytes: must not be negative",
                    "t.toml:8:18: error: limits.max_body_bytes: invalid size \"1 MiB\" "
                    "(expected an integer with an optional unit B, KiB, MiB, GiB or TiB, like "
                    "\"64KiB\")",
                    "t.toml:10:16: error: server.retry_buffer: must be at most 1GiB"));
}

TEST(ConfigValues, ClientBodyMinRate) {
    auto off = load_with("[timeouts]\nclient_body_min_rate = \"0\"\nclient_body_grace = \"0s\"\n");
    ASSERT_TRUE(off.ok()) << ::testing::PrintToString(lines(off));
    EXPECT_EQ(off.settings->timeouts.client_body_min_rate, 0u);
    EXPECT_EQ(off.settings->timeouts.client_body_grace, milliseconds(0));
    EXPECT_EQ(load(kMinimal).settings->timeouts.client_body_min_rate, 1024u);
    EXPECT_EQ(load(kMinimal).settings->timeouts.client_body_grace, milliseconds(10'000));
    for (const char* bad : {"1KiB", "fast", "2GiB/s", "1KiB/min"}) {
        auto r = load_with(std::string("[timeouts]\nclient_body_min_rate = \"") + bad + "\"\n");
        EXPECT_FALSE(r.ok()) << bad;
        EXPECT_THAT(key_paths(r, Diagnostic::Severity::error),
                    ElementsAre("timeouts.client_body_min_rate"))
            << bad;
    }
    auto number = load_with("[timeouts]\nclient_body_min_rate = 1024\n");
    EXPECT_FALSE(number.ok());
}

TEST(ConfigSizes, HeaderLimitsMustBePositive) {
    auto r = load_with("[limits]\nmax_header_bytes = \"0\"\nmax_target_bytes = 0\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:6:20: error: limits.max_header_bytes: must be greater than 0",
                            "t.toml:7:20: error: limits.max_target_bytes: must be greater than 0"));
}

// ---------------------------------------------------------------- ranges

TEST(ConfigRanges, WorkersAndConnections) {
    auto r = load_with("[server]\nworkers = 1025\nmax_connections = 0\n");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:11: error: server.workers: 1025 is out of range (expected 0 to "
                    "1024)",
                    "t.toml:7:19: error: server.max_connections: 0 is out of range (expected "
                    "1 to 4294967295)"));
}

TEST(ConfigRanges, NegativeWorkers) {
    auto r = load_with("[server]\nworkers = -1\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:11: error: server.workers: -1 is out of range "
                                      "(expected 0 to 1024)"));
}

TEST(ConfigRanges, PoolNumbers) {
    auto r = load_with(R"toml(retries = 11
retry_budget_percent = 101
max_connections_per_server = 4294967296
min_healthy = { percent = 101 }
outlier = { consecutive_failures = 0, max_ejected_percent = 101 }
health = { rise = 0, fall = 1001 }
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:5:11: error: pools.blue.retries: 11 is out of range (expected 0 "
                    "to 10)",
                    "t.toml:6:24: error: pools.blue.retry_budget_percent: 101 is out of range "
                    "(expected 0 to 100)",
                    "t.toml:7:30: error: pools.blue.max_connections_per_server: 4294967296 is "
                    "out of range (expected 0 to 4294967295)",
                    "t.toml:8:27: error: pools.blue.min_healthy.percent: 101 is out of range "
                    "(expected 0 to 100)",
                    "t.toml:9:36: error: pools.blue.outlier.consecutive_failures: 0 is out of "
                    "range (expected 1 to 4294967295)",
                    "t.toml:9:61: error: pools.blue.outlier.max_ejected_percent: 101 is out of "
                    "range (expected 0 to 100)",
                    "t.toml:10:19: error: pools.blue.health.rise: 0 is out of range (expected "
                    "1 to 1000)",
                    "t.toml:10:29: error: pools.blue.health.fall: 1001 is out of range "
                    "(expected 1 to 1000)"));
}

TEST(ConfigRanges, ServerWeight) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "h:1", weight = 0 }, { address = "h:2", weight = 10001 }]
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:4:40: error: pools.blue.servers[0].weight: 0 is out of range "
                    "(expected 1 to 10000)",
                    "t.toml:4:73: error: pools.blue.servers[1].weight: 10001 is out of range "
                    "(expected 1 to 10000)"));
}

TEST(ConfigRanges, NegativeSeed) {
    auto r = load_with("[routing]\nseed = -1\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:8: error: routing.seed: -1 is out of range "
                                      "(expected at least 0)"));
}

// ---------------------------------------------------------------- enums

TEST(ConfigEnums, EveryEnumWithItsChoicesAndAHint) {
    auto r = load(R"toml([log]
level = "warning"
[[listeners]]
address = "127.0.0.1:0"
tls = { cert = "c", key = "k", min_version = "1.1" }
[routing]
sticky = { source = "ip" }
[pools.blue]
balance = "round-robin"
on_unhealthy = "fall_back"
servers = [{ address = "h:1" }]
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:2:9: error: log.level: invalid value \"warning\" (expected one of "
                    "\"trace\", \"debug\", \"info\", \"warn\", \"error\", \"critical\" or "
                    "\"off\"); did you mean \"warn\"?",
                    "t.toml:5:46: error: listeners[0].tls.min_version: invalid value \"1.1\" "
                    "(expected \"1.2\" or \"1.3\"); did you mean \"1.2\"?",
                    "t.toml:7:21: error: routing.sticky.source: invalid value \"ip\" "
                    "(expected one of \"cookie\", \"header\", \"client_ip\" or \"none\")",
                    "t.toml:9:11: error: pools.blue.balance: invalid value \"round-robin\" "
                    "(expected \"least_request\" or \"round_robin\"); did you mean "
                    "\"round_robin\"?",
                    "t.toml:10:16: error: pools.blue.on_unhealthy: invalid value "
                    "\"fall_back\" (expected \"fail\" or \"fallback\"); did you mean "
                    "\"fallback\"?"));
}

TEST(ConfigEnums, ForwardedHeaderModes) {
    for (auto [text, mode] :
         {std::pair{"append", ForwardedHeader::append},
          std::pair{"replace", ForwardedHeader::replace}, std::pair{"off", ForwardedHeader::off}}) {
        auto r = load_with("[[listeners]]\naddress = \"127.0.0.1:0\"\nforwarded = \"" +
                           std::string(text) + "\"\n");
        ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
        EXPECT_EQ(r.settings->listeners[1].forwarded, mode) << text;
    }
    EXPECT_EQ(load(kMinimal).settings->listeners[0].forwarded, ForwardedHeader::append);
    auto r = load_with("[[listeners]]\naddress = \"127.0.0.1:0\"\nforwarded = \"rfc7239\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:7:13: error: listeners[1].forwarded: invalid value "
                                      "\"rfc7239\" (expected one of \"append\", \"replace\" "
                                      "or \"off\")"));
}

TEST(ConfigEnums, MinVersionMustBeAString) {
    auto r = load_with(
        "[[listeners]]\naddress = \"127.0.0.1:0\"\ntls = { cert = \"c\", key = \"k\", "
        "min_version = 1.2 }\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:7:46: error: listeners[1].tls.min_version: expected a "
                            "string, got a floating-point number"));
}

// ---------------------------------------------------------------- addresses and CIDRs

TEST(ConfigAddresses, InvalidEverywhere) {
    auto r = load(R"toml([[listeners]]
address = "0.0.0.0"
trusted_proxies = ["10.0.0.0/33", "10.0.0.0/8", 7]
[admin]
address = "localhost:99999"
[pools.blue]
servers = [{ address = "::1:80" }, { address = "[::1]:80" }, { address = "bad_host!:1" }]
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:2:11: error: listeners[0].address: invalid address \"0.0.0.0\" "
                    "(expected host:port)",
                    "t.toml:3:20: error: listeners[0].trusted_proxies[0]: invalid CIDR "
                    "\"10.0.0.0/33\" (expected an IP address or address/prefix, like "
                    "\"10.0.0.0/8\")",
                    "t.toml:3:49: error: listeners[0].trusted_proxies[2]: expected a string, "
                    "got an integer",
                    "t.toml:5:11: error: admin.address: invalid address \"localhost:99999\" "
                    "(expected host:port)",
                    "t.toml:7:24: error: pools.blue.servers[0].address: invalid address "
                    "\"::1:80\" (expected host:port)",
                    "t.toml:7:74: error: pools.blue.servers[2].address: invalid address "
                    "\"bad_host!:1\" (expected host:port)"));
}

TEST(ConfigAddresses, RequiredAddressesReportedAtTheirTable) {
    auto r = load(R"toml([[listeners]]
proxy_protocol = false
[admin]
[pools.blue]
servers = [{ weight = 2 }]
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:1:1: error: listeners[0].address: required key is missing",
                            "t.toml:3:1: error: admin.address: required key is missing",
                            "t.toml:5:12: error: pools.blue.servers[0].address: required key is "
                            "missing"));
}

TEST(ConfigAddresses, DuplicateListenerAndAdminAddresses) {
    auto r = load(R"toml([[listeners]]
address = "0.0.0.0:8080"
[[listeners]]
address = "0.0.0.0:8080"
[admin]
address = "0.0.0.0:8080"
[pools.blue]
servers = [{ address = "h:1" }]
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:4:11: error: listeners[1].address: duplicate address "
                            "\"0.0.0.0:8080\" (also listeners[0].address)",
                            "t.toml:6:11: warning: admin.address: the admin listener on "
                            "\"0.0.0.0\" is reachable from other hosts; it has no "
                            "authentication (keep it on 127.0.0.1 or a management network)",
                            "t.toml:6:11: error: admin.address: duplicate address \"0.0.0.0:8080\" "
                            "(also listeners[0].address)"));
}

TEST(ConfigAddresses, DuplicateServerInAPool) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = [{ address = "h:1" }, { address = "h:2" }, { address = "h:1" }]
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:4:66: error: pools.blue.servers[2].address: duplicate "
                            "server \"h:1\" (also pools.blue.servers[0].address)"));
}

// ---------------------------------------------------------------- listeners

TEST(ConfigListeners, AbsentIsAnUnplacedError) {
    auto r = load("[pools.blue]\nservers = [{ address = \"h:1\" }]\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml: error: listeners: at least one [[listeners]] entry "
                                      "with an address is required"));
    EXPECT_EQ(r.diagnostics[0].line, 0);
    EXPECT_EQ(r.diagnostics[0].column, 0);
}

TEST(ConfigListeners, EmptyArray) {
    auto r = load("listeners = []\n[pools.blue]\nservers = [{ address = \"h:1\" }]\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:1:13: error: listeners: at least one [[listeners]] "
                                      "entry with an address is required"));
}

TEST(ConfigListeners, SingleTableInsteadOfArray) {
    auto r =
        load("[listeners]\naddress = \"h:1\"\n[pools.blue]\nservers = [{ address = \"h:1\" }]\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:1:1: error: listeners: expected an array of tables "
                                      "([[listeners]]), got a table"));
}

TEST(ConfigListeners, ElementsMustBeTables) {
    auto r =
        load("listeners = [\"0.0.0.0:80\"]\n[pools.blue]\nservers = [{ address = \"h:1\" }]\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:1:14: error: listeners[0]: expected a table, got a string"));
}

TEST(ConfigListeners, TlsRequiresCertAndKeyAndValidHosts) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[listeners.tls]
min_version = "1.3"
[[listeners.tls.certificates]]
hosts = ["ok.example", "*.example.org", "bad host", "", 5]
cert = ""
[pools.blue]
servers = [{ address = "h:1" }]
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:3:1: error: listeners[0].tls.cert: required key is missing",
                    "t.toml:3:1: error: listeners[0].tls.key: required key is missing",
                    "t.toml:5:1: error: listeners[0].tls.certificates[0].key: required key is "
                    "missing",
                    "t.toml:6:41: error: listeners[0].tls.certificates[0].hosts[2]: invalid "
                    "host name \"bad host\" (expected a DNS name, optionally starting with "
                    "\"*.\")",
                    "t.toml:6:53: error: listeners[0].tls.certificates[0].hosts[3]: must not "
                    "be empty",
                    "t.toml:6:57: error: listeners[0].tls.certificates[0].hosts[4]: expected "
                    "a string, got an integer",
                    "t.toml:7:8: error: listeners[0].tls.certificates[0].cert: must not be "
                    "empty"));
}

// ---------------------------------------------------------------- pools

TEST(ConfigPools, AbsentIsAnUnplacedError) {
    auto r = load("[[listeners]]\naddress = \"127.0.0.1:0\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml: error: pools: at least one pool is required "
                                      "([pools.NAME] with servers)"));
}

TEST(ConfigPools, EmptyPoolsTable) {
    auto r = load("[[listeners]]\naddress = \"127.0.0.1:0\"\n[pools]\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:3:1: error: pools: at least one pool is required "
                                      "([pools.NAME] with servers)"));
}

TEST(ConfigPools, PoolWithoutServers) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
balance = "round_robin"
[pools.green]
servers = []
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:3:1: error: pools.blue.servers: required key is missing (a pool "
                    "needs at least one server)",
                    "t.toml:6:11: error: pools.green.servers: a pool needs at least one "
                    "server"));
}

TEST(ConfigPools, ServersMustBeTables) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools.blue]
servers = ["127.0.0.1:9001", 5]
[pools.green]
servers = { address = "h:1" }
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:4:12: error: pools.blue.servers[0]: expected a table like { "
                            "address = \"127.0.0.1:9001\" }, got a string",
                            "t.toml:4:30: error: pools.blue.servers[1]: expected a table, got an "
                            "integer",
                            "t.toml:6:11: error: pools.green.servers: expected an array, got a "
                            "table"));
}

TEST(ConfigPools, InvalidNamesAndNonTablePools) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[pools]
blue = 5
"blue green" = { servers = [{ address = "h:1" }] }
)toml");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:4:8: error: pools.blue: expected a table, got an integer",
                            "t.toml:5:1: error: pools.\"blue green\": invalid pool name \"blue "
                            "green\" (1 to 64 letters, digits, '_' or '-')"));
}

TEST(ConfigPools, HealthChecks) {
    auto r = load_with(
        R"toml(health = { path = "healthz", host = 1, interval = "0s", expect = "399-200" }
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:5:19: error: pools.blue.health.path: must start with \"/\"",
                    "t.toml:5:37: error: pools.blue.health.host: expected a string, got an "
                    "integer",
                    "t.toml:5:51: error: pools.blue.health.interval: must be greater than 0",
                    "t.toml:5:66: error: pools.blue.health.expect: invalid status range "
                    "\"399-200\" (expected a code or a range of codes between 100 and 599, "
                    "like \"200-399\")"));
}

TEST(ConfigPools, HealthExpectRejects) {
    for (const char* bad : {"\"2xx\"", "\"99\"", "\"600\"", "\"200-\"", "\"-399\"", "\"200-600\"",
                            "\"200 - 399\"", "99", "600"}) {
        auto r = load_with(std::string("health = { expect = ") + bad + " }\n");
        ASSERT_EQ(r.error_count(), 1u) << bad;
        EXPECT_EQ(r.diagnostics[0].key_path, "pools.blue.health.expect") << bad;
        EXPECT_EQ(r.diagnostics[0].column, 21) << bad;
    }
    auto r = load_with("health = { expect = true }\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:5:21: error: pools.blue.health.expect: expected a "
                                      "status code or range like \"200-399\", got a boolean"));
}

TEST(ConfigPools, UpstreamTls) {
    auto r = load_with("tls = { sni = \"not a name\", verify = \"yes\", ca = \"\" }\n");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:5:15: error: pools.blue.tls.sni: invalid host name \"not a "
                    "name\"",
                    "t.toml:5:38: error: pools.blue.tls.verify: expected a boolean (true or "
                    "false), got a string",
                    "t.toml:5:50: error: pools.blue.tls.ca: must not be empty"));
}

// ---------------------------------------------------------------- routing

TEST(ConfigRouting, ActiveNamesNoPool) {
    auto r = load_with("[routing]\nactive = \"bleu\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:10: error: routing.active: no pool named \"bleu\" "
                                      "(pools: blue); did you mean \"blue\"?"));
}

TEST(ConfigRouting, DefaultActiveNamesNoPool) {
    auto r = load(
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n[pools.green]\n"
        "servers = [{ address = \"h:1\" }]\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml: error: routing.active: not set, and the default "
                                      "\"blue\" names no pool (pools: green)"));
}

TEST(ConfigRouting, CanaryPoolNamesNoPool) {
    auto r = load_with("[routing]\ncanary = { pool = \"gren\", weight = 5 }\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:19: error: routing.canary.pool: no pool named "
                                      "\"gren\" (pools: blue)"));
}

TEST(ConfigRouting, CanaryPoolIsTheActivePool) {
    auto r = load_with("[routing]\ncanary = { pool = \"blue\", weight = 0 }\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:19: error: routing.canary.pool: \"blue\" is the "
                                      "active pool; a canary pool must be another pool"));
}

TEST(ConfigRouting, CanaryWeightRangeAndPrecision) {
    for (auto [text, message] :
         {std::pair{"-1", "-1 is out of range (expected 0 to 100)"},
          {"100.5", "100.5 is out of range (expected 0 to 100)"},
          {"nan", "nan is out of range (expected 0 to 100)"},
          {"inf", "inf is out of range (expected 0 to 100)"},
          {"0.125", "at most two decimals (the weight is kept in hundredths of a percent)"},
          {"\"5\"", "expected a number, got a string"}}) {
        auto r = load(std::string(R"toml([[listeners]]
address = "127.0.0.1:0"
[routing]
canary = { pool = "green", weight = )toml") +
                      text + R"toml( }
[pools.blue]
servers = [{ address = "h:1" }]
[pools.green]
servers = [{ address = "h:2" }]
)toml");
        EXPECT_THAT(
            lines(r),
            ElementsAre(std::string("t.toml:4:37: error: routing.canary.weight: ") + message))
            << text;
    }
}

TEST(ConfigRouting, CanaryWeightWithoutPool) {
    auto r = load_with("[routing.canary]\nweight = 5\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:5:1: error: routing.canary.pool: required when weight > 0"));
}

TEST(ConfigRouting, StickyNamesAndMaxAge) {
    auto r = load_with(R"toml([routing]
sticky = { source = "header", name = "X User", assign_cookie = "a;b", assign_max_age = "500ms" }
override_header = "X:Pool"
override_token = ""
)toml");
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:6:38: error: routing.sticky.name: invalid header name \"X User\" "
                    "(letters, digits and !#$%&'*+-.^_`|~ only)",
                    "t.toml:6:64: error: routing.sticky.assign_cookie: invalid cookie name "
                    "\"a;b\" (letters, digits and !#$%&'*+-.^_`|~ only)",
                    "t.toml:6:88: error: routing.sticky.assign_max_age: must be at least 1s",
                    "t.toml:7:19: error: routing.override_header: invalid header name "
                    "\"X:Pool\" (letters, digits and !#$%&'*+-.^_`|~ only)",
                    "t.toml:8:18: error: routing.override_token: must not be empty"));
}

// ---------------------------------------------------------------- control and admin

TEST(ConfigControl, ModeRejects) {
    for (const char* bad : {"\"0888\"", "\"1777\"", "\"01777\"", "\"66\"", "\"rw-rw----\"", "\"\"",
                            "\"0o660\"", "\" 660\""}) {
        auto r = load_with(std::string("[control]\nmode = ") + bad + "\n");
        EXPECT_THAT(lines(r),
                    ElementsAre(std::string("t.toml:6:8: error: control.mode: invalid mode ") +
                                bad + " (expected octal permissions 0000 to 0777, like \"0660\")"))
            << bad;
    }
}

TEST(ConfigControl, ModeMustBeAString) {
    auto r = load_with("[control]\nmode = 0o660\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:8: error: control.mode: expected a string with an "
                                      "octal mode like \"0660\", got an integer"));
}

TEST(ConfigControl, SocketPathMustFitSunPath) {
    auto ok = load_with("[control]\nsocket = \"/" + std::string(106, 's') + "\"\n");
    ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(lines(ok));
    EXPECT_EQ(ok.settings->control.socket.size(), 107u);
    auto r = load_with("[control]\nsocket = \"/" + std::string(107, 's') + "\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:10: error: control.socket: too long: 108 bytes (a "
                                      "Unix socket path holds at most 107)"));
}

TEST(ConfigAdmin, AbsentMeansNoAdminListener) {
    auto r = load(kMinimal);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.settings->admin.has_value());
    auto with_admin = load_with("[admin]\naddress = \"[::1]:9901\"\n");
    ASSERT_TRUE(with_admin.ok());
    ASSERT_TRUE(with_admin.settings->admin.has_value());
    EXPECT_EQ(with_admin.settings->admin->address, ep("::1", 9901));
}

TEST(ConfigAdmin, UnknownKey) {
    auto r = load_with("[admin]\naddress = \"127.0.0.1:9901\"\nlisten = \"x\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:7:1: error: admin.listen: unknown key \"listen\""));
}

TEST(ConfigObservability, MetricsSwitchAndAccessLogSampling) {
    auto r = load_with("[server]\nmetrics = false\n[log]\naccess_log_sample = 0.25\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_FALSE(r.settings->server.metrics);
    EXPECT_DOUBLE_EQ(r.settings->log.access_log_sample, 0.25);
    auto d = load_with("");
    EXPECT_TRUE(d.settings->server.metrics);
    EXPECT_DOUBLE_EQ(d.settings->log.access_log_sample, 1.0);
    for (const char* bad : {"0", "1.5", "-0.1", "\"10%\""}) {
        auto e = load_with(std::string("[log]\naccess_log_sample = ") + bad + "\n");
        EXPECT_FALSE(e.ok()) << bad;
        ASSERT_EQ(e.error_count(), 1u) << bad;
        EXPECT_THAT(lines(e)[0], ::testing::HasSubstr("log.access_log_sample")) << bad;
    }
}

// ---------------------------------------------------------------- all errors at once

TEST(ConfigErrors, AllErrorsAreReportedInFileOrder) {
    auto r = load(R"toml([server]
workers = 2000
drain_timeout = 30
[[listeners]]
address = "nowhere"
[routing]
active = "purple"
[pools.green]
servers = []
balance = "fastest"
[pools.blue]
servers = [{ address = "h:1", weight = 0 }]
colour = "blue"
)toml");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error_count(), 8u);
    EXPECT_EQ(r.warning_count(), 0u);
    EXPECT_THAT(
        lines(r),
        ElementsAre("t.toml:2:11: error: server.workers: 2000 is out of range (expected 0 to "
                    "1024)",
                    "t.toml:3:17: error: server.drain_timeout: expected a duration string "
                    "like \"30s\", got an integer",
                    "t.toml:5:11: error: listeners[0].address: invalid address \"nowhere\" "
                    "(expected host:port)",
                    "t.toml:7:10: error: routing.active: no pool named \"purple\" (pools: "
                    "green, blue)",
                    "t.toml:9:11: error: pools.green.servers: a pool needs at least one "
                    "server",
                    "t.toml:10:11: error: pools.green.balance: invalid value \"fastest\" "
                    "(expected \"least_request\" or \"round_robin\")",
                    "t.toml:12:40: error: pools.blue.servers[0].weight: 0 is out of range "
                    "(expected 1 to 10000)",
                    "t.toml:13:1: error: pools.blue.colour: unknown key \"colour\""));
}

TEST(ConfigErrors, WarningsDoNotPreventLoading) {
    auto r = load_with("[admin]\naddress = \"0.0.0.0:9901\"\n");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_EQ(r.warning_count(), 1u);
    ASSERT_TRUE(r.settings->admin);
    EXPECT_EQ(r.settings->admin->address.port, 9901);
    EXPECT_EQ(r.settings->admin->address.host, "0.0.0.0");
}

TEST(ConfigAdmin, OnlyALoopbackAddressLoadsWithoutAWarning) {
    for (const char* quiet : {"127.0.0.1:9901", "[::1]:9901", "localhost:9901"})
        EXPECT_EQ(load_with(std::string("[admin]\naddress = \"") + quiet + "\"\n").warning_count(),
                  0u)
            << quiet;
    auto r = load_with("[admin]\naddress = \"[::]:9901\"\n");
    ASSERT_EQ(r.warning_count(), 1u);
    EXPECT_THAT(lines(r)[0], ::testing::HasSubstr("admin.address: the admin listener on \"::\" "
                                                  "is reachable from other hosts"));
}

TEST(ConfigLog, OffIsAcceptedForEveryLogAndWarnedForTheErrorAndAuditLogs) {
    auto r = load_with("[log]\nerror_log = \"off\"\naccess_log = \"off\"\naudit_log = \"off\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->log.error_log, "off");
    EXPECT_EQ(r.settings->log.access_log, "off");
    EXPECT_EQ(r.settings->log.audit_log, "off");
    // An access log off is a usual choice; losing errors or the audit trail
    // is said (--check and the start print warnings).
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:6:13: warning: log.error_log: off: errors and warnings are "
                            "not logged (failures to start still go to stderr)",
                            "t.toml:8:13: warning: log.audit_log: off: control commands are not "
                            "audited"));
    EXPECT_EQ(load_with("[log]\naccess_log = \"off\"\n").warning_count(), 0u);
}

TEST(ConfigErrors, SyntaxErrorHasItsPosition) {
    auto r = load("[server]\nworkers = \n");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    const auto& d = r.diagnostics[0];
    EXPECT_EQ(d.severity, Diagnostic::Severity::error);
    EXPECT_EQ(d.file, "t.toml");
    EXPECT_EQ(d.line, 2);
    EXPECT_EQ(d.column, 11);
    EXPECT_EQ(d.key_path, "");
    EXPECT_THAT(d.message, ::testing::HasSubstr("expected value"));
}

TEST(ConfigErrors, DuplicateKeyIsASyntaxError) {
    auto r = load("[server]\nworkers = 1\nworkers = 2\n");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].line, 3);
    EXPECT_EQ(r.diagnostics[0].column, 11);
    EXPECT_THAT(r.diagnostics[0].message, ::testing::HasSubstr("workers"));
}

// ---------------------------------------------------------------- not-built warnings

TEST(ConfigWarnings, EveryKeyOfABuiltFeatureLoadsWithoutAWarning) {
    auto r = load(R"toml([server]
shutdown_delay = "5s"
[[listeners]]
address = "127.0.0.1:0"
trusted_proxies = ["10.0.0.0/8"]
proxy_protocol = true
tls = { cert = "c", key = "k" }
[control]
socket = "/tmp/s"
[admin]
address = "127.0.0.1:9901"
[routing]
canary = { pool = "green", weight = 5 }
sticky = { source = "none" }
override_header = "X-Pool"
override_token = "t"
[pools.blue]
servers = [{ address = "h:1" }]
max_connections_per_server = 10
max_pending_per_server = 5
retry_budget_percent = 20
health = { path = "/h" }
outlier = { consecutive_failures = 3 }
min_healthy = { count = 1 }
on_unhealthy = "fallback"
tls = { verify = false }
[pools.green]
servers = [{ address = "h:2" }]
)toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(lines(r));
    EXPECT_THAT(lines(r), ::testing::IsEmpty());
    // Accepted means read: the values are in Settings for when the features land.
    EXPECT_EQ(r.settings->server.shutdown_delay, milliseconds(5000));  // built: no warning
    EXPECT_EQ(r.settings->routing.sticky.source, StickySource::none);
    EXPECT_EQ(r.settings->pools[0].on_unhealthy, OnUnhealthy::fallback);
}

TEST(ConfigWarnings, DefaultsOfConditionalKeysDoNotWarn) {
    auto r = load(R"toml([server]
shutdown_delay = "0s"
[[listeners]]
address = "127.0.0.1:0"
trusted_proxies = []
proxy_protocol = false
[routing]
canary = { pool = "green", weight = 0 }
[pools.blue]
servers = [{ address = "h:1" }]
max_connections_per_server = 0
max_pending_per_server = 0
balance = "round_robin"
[pools.green]
servers = [{ address = "h:2" }]
)toml");
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(lines(r), IsEmpty());
}

TEST(ConfigWarnings, NoWarningWhereTheKeyHasAnError) {
    auto r = load_with("health = { path = \"x\" }\n[admin]\naddress = \"x\"\n");
    EXPECT_THAT(lines(r),
                ElementsAre("t.toml:5:19: error: pools.blue.health.path: must start with \"/\"",
                            "t.toml:7:11: error: admin.address: invalid address \"x\" (expected "
                            "host:port)"));
}

TEST(ConfigWarnings, TlsListenersAndUpstreamTlsAreBuiltAndDoNotWarn) {
    auto r = load(R"toml([[listeners]]
address = "127.0.0.1:0"
[[listeners]]
address = "127.0.0.1:0"
tls = { cert = "c", key = "k" }
[pools.blue]
servers = [{ address = "h:1" }]
[pools.green]
servers = [{ address = "h:2" }]
tls = { verify = false }
)toml");
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(key_paths(r, Diagnostic::Severity::warning), IsEmpty());
    ASSERT_TRUE(r.settings->listeners[1].tls.has_value());
    EXPECT_EQ(r.settings->listeners[1].tls->cert, "c");
    ASSERT_TRUE(r.settings->pools[1].tls.has_value());
    EXPECT_FALSE(r.settings->pools[1].tls->verify);
}

// ---------------------------------------------------------------- load_file

TEST(ConfigFile, MissingFile) {
    auto r = load_file("/nonexistent/switchyard.toml");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(lines(r), ElementsAre("/nonexistent/switchyard.toml: error: cannot open: No such "
                                      "file or directory"));
}

TEST(ConfigFile, Directory) {
    auto r = load_file(SWITCHYARD_SOURCE_DIR "/conf");
    EXPECT_THAT(lines(r), ElementsAre(SWITCHYARD_SOURCE_DIR "/conf: error: cannot read: is a "
                                                            "directory"));
}

TEST(ConfigFile, DiagnosticsNameTheFile) {
    auto path = std::filesystem::temp_directory_path() /
                ("sy_config_test_" + std::to_string(::getpid()) + ".toml");
    {
        std::ofstream out(path);
        out << kMinimal << "[server]\nworkers = 9999\n";
    }
    auto r = load_file(path.string());
    std::filesystem::remove(path);
    EXPECT_THAT(lines(r),
                ElementsAre(path.string() + ":6:11: error: server.workers: 9999 is out of "
                                            "range (expected 0 to 1024)"));
}

// ---------------------------------------------------------------- formatting

TEST(DiagnosticFormat, AllParts) {
    Diagnostic d{Diagnostic::Severity::error,
                 "f.toml",
                 3,
                 7,
                 "pools.blue.servers[0].address",
                 "invalid address \"x\" (expected host:port)"};
    EXPECT_EQ(d.to_string(),
              "f.toml:3:7: error: pools.blue.servers[0].address: invalid address \"x\" (expected "
              "host:port)");
}

TEST(DiagnosticFormat, WarningWithoutPositionOrPath) {
    Diagnostic w{Diagnostic::Severity::warning, "f.toml", 0, 0, "", "something"};
    EXPECT_EQ(w.to_string(), "f.toml: warning: something");
    Diagnostic p{Diagnostic::Severity::warning, "f.toml", 1, 2, "", "x"};
    EXPECT_EQ(p.to_string(), "f.toml:1:2: warning: x");
}

TEST(DiagnosticFormat, ValuesWithControlCharactersAreEscaped) {
    auto r = load_with("[[listeners]]\naddress = \"a\\tb\\\"c\\u0001\"\n");
    EXPECT_THAT(lines(r), ElementsAre("t.toml:6:11: error: listeners[1].address: invalid address "
                                      "\"a\\tb\\\"c\\x01\" (expected host:port)"));
}

TEST(Summary, SingularPluralWorkersAndCanary) {
    Settings s;
    s.listeners.resize(1);
    s.pools.resize(2);
    s.pools[0].name = "blue";
    s.pools[0].servers.resize(3);
    s.pools[1].name = "green";
    s.pools[1].servers.resize(1);
    s.server.workers = 1;
    EXPECT_EQ(summary(s),
              "config ok: 1 listener, 2 pools (blue: 3 servers, green: 1 server), active blue, 1 "
              "worker");
    s.server.workers = 2;
    s.listeners.resize(2);
    s.routing.canary_pool = "green";
    s.routing.canary_weight_percent = 5;
    EXPECT_EQ(summary(s),
              "config ok: 2 listeners, 2 pools (blue: 3 servers, green: 1 server), active blue, "
              "canary green 5%, 2 workers");
    s.routing.canary_weight_percent = 0.05;
    s.server.workers = 0;
    EXPECT_EQ(summary(s),
              "config ok: 2 listeners, 2 pools (blue: 3 servers, green: 1 server), active blue, "
              "canary green 0.05%, one worker per core");
}

TEST(Summary, MatchesTheBriefsExample) {
    auto r = load(R"toml([server]
workers = 2
[[listeners]]
address = "0.0.0.0:8080"
[[listeners]]
address = "0.0.0.0:8081"
[pools.blue]
servers = [{ address = "127.0.0.1:9001" }]
[pools.green]
servers = [{ address = "127.0.0.1:9002" }]
)toml");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(summary(*r.settings),
              "config ok: 2 listeners, 2 pools (blue: 1 server, green: 1 server), active blue, 2 "
              "workers");
}

}  // namespace
}  // namespace switchyard::config

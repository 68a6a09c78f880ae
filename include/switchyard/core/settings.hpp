// Settings: the typed, validated form of switchyard.toml.
//
// Plain data, standard library only, so that every layer (proxy, control, app)
// can read it without seeing toml++. The config layer is the only producer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/http_url.hpp"
#include "switchyard/core/rollout_settings.hpp"

namespace switchyard {

using Duration = std::chrono::milliseconds;

// host:port as written in the config. `host` is an IP literal (v6 without
// brackets) or a DNS name; names are resolved off the request path.
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const;  // "127.0.0.1:80", "[::1]:80", "app.internal:80"
    bool operator==(const Endpoint&) const = default;
};

// An address block for trusted_proxies ("10.0.0.0/8", "::1/128", "127.0.0.1").
struct Cidr {
    std::vector<std::uint8_t> network;  // 4 or 16 bytes, host bits zeroed
    int prefix_len = 0;
    bool operator==(const Cidr&) const = default;
};

struct ServerSettings {
    Endpoint address;
    std::uint32_t weight = 1;
    bool operator==(const ServerSettings&) const = default;
};

enum class BalancePolicy { least_request, round_robin };

struct HealthCheckSettings {
    std::string path = "/healthz";
    std::string host;  // Host header of probes; empty: the server address
    Duration interval{2000};
    Duration timeout{1000};
    std::uint32_t rise = 2;
    std::uint32_t fall = 3;
    std::uint16_t expect_min = 200;
    std::uint16_t expect_max = 399;
    bool operator==(const HealthCheckSettings&) const = default;
};

struct OutlierSettings {
    std::uint32_t consecutive_failures = 5;
    Duration base_ejection{30000};
    std::uint32_t max_ejected_percent = 50;
    bool operator==(const OutlierSettings&) const = default;
};

struct MinHealthySettings {
    std::uint32_t count = 1;
    std::uint32_t percent = 50;
    bool operator==(const MinHealthySettings&) const = default;
};

enum class OnUnhealthy { fail, fallback };

struct UpstreamTlsSettings {
    std::string ca;
    std::string sni;
    bool verify = true;
    // A client certificate (PEM chain) and its key, both or neither; only
    // cluster.tls sets them (etcd with --client-cert-auth).
    std::string cert{};
    std::string key{};
    bool operator==(const UpstreamTlsSettings&) const = default;
};

struct PoolSettings {
    std::string name;
    BalancePolicy balance = BalancePolicy::least_request;
    std::vector<ServerSettings> servers;
    std::uint32_t retries = 1;
    std::uint32_t max_connections_per_server = 0;  // 0: no limit
    std::uint32_t max_pending_per_server = 0;
    std::uint32_t retry_budget_percent = 20;
    Duration dns_refresh{30000};
    std::optional<HealthCheckSettings> health;
    std::optional<OutlierSettings> outlier;
    MinHealthySettings min_healthy;
    OnUnhealthy on_unhealthy = OnUnhealthy::fail;
    std::optional<UpstreamTlsSettings> tls;
    bool operator==(const PoolSettings&) const = default;
};

struct TlsCertificateSettings {
    std::vector<std::string> hosts;  // SNI names, wildcards allowed; empty: default
    std::string cert;
    std::string key;
    bool operator==(const TlsCertificateSettings&) const = default;
};

struct ListenerTlsSettings {
    std::string cert;
    std::string key;
    std::string min_version = "1.2";
    std::string ciphers;       // TLS 1.2 cipher list; empty: built-in modern default
    std::string ciphersuites;  // TLS 1.3 suites; empty: OpenSSL default
    std::vector<TlsCertificateSettings> certificates;
    // ALPN names in our order of preference: the listener's protocols.
    std::vector<std::string> alpn{"h2", "http/1.1"};
    bool operator==(const ListenerTlsSettings&) const = default;
};

// The RFC 7239 Forwarded field sent upstream. append: a trusted_proxies
// peer's Forwarded is kept and this hop's element appended, anyone else's is
// replaced by this hop's alone; replace: always this hop's alone; off: a
// client's Forwarded is removed and none is added.
enum class ForwardedHeader { append, replace, off };

// [listeners.http2]: what one HTTP/2 connection may ask of the proxy.
struct Http2Settings {
    std::uint32_t max_concurrent_streams = 128;
    std::uint64_t initial_window = 256 * 1024;  // each stream's receive window
    std::uint64_t max_header_list = 64 * 1024;
    bool operator==(const Http2Settings&) const = default;
};

struct ListenerSettings {
    Endpoint address;
    std::vector<Cidr> trusted_proxies;
    bool proxy_protocol = false;
    std::optional<ListenerTlsSettings> tls;
    ForwardedHeader forwarded = ForwardedHeader::append;
    // "h2", "http/1.1" (TLS, in ALPN order), "h2c", "http/1.1" (plain).
    // Default: h2 and HTTP/1.1 on TLS, HTTP/1.1 alone on plain listeners.
    std::vector<std::string> protocols{};
    Http2Settings http2{};
    bool speaks(std::string_view protocol) const {
        for (const auto& p : protocols)
            if (p == protocol) return true;
        return false;
    }
    bool operator==(const ListenerSettings&) const = default;
};

struct ServerProcessSettings {
    std::uint32_t workers = 0;  // 0: one per core
    Duration drain_timeout{30000};
    std::string state_file = "/var/lib/switchyard/state.json";
    std::uint32_t max_connections = 10000;
    Duration shutdown_delay{0};
    // A hot upgrade's successor must serve within this, or it is stopped.
    Duration upgrade_timeout{30000};
    std::uint64_t retry_buffer = 64 * 1024;
    // Our pseudonym in Via (RFC 9110 §7.6.3); a request that already carries
    // it has looped (508). Give each tier of a multi-tier setup its own.
    std::string via_name = "switchyard";
    // Per-request traffic metrics (status counts, latency histograms, the
    // rates of status). Off only to measure what they cost.
    bool metrics = true;
    bool operator==(const ServerProcessSettings&) const = default;
};

struct TimeoutSettings {
    Duration client_header{10000};
    Duration client_body{60000};
    Duration client_idle{60000};
    Duration send{60000};
    Duration upstream_connect{3000};
    Duration upstream_response{60000};
    Duration upstream_idle{4000};
    Duration tunnel_idle{3600000};
    // Slow request bodies (BodyRateMeter): once client_body_grace of waiting
    // for the body has passed, it must have arrived at an average of at least
    // client_body_min_rate bytes a second, else 408. 0: no minimum rate.
    std::uint64_t client_body_min_rate = 1024;
    Duration client_body_grace{10000};
    bool operator==(const TimeoutSettings&) const = default;
};

struct LimitSettings {
    std::uint64_t max_header_bytes = 64 * 1024;
    std::uint64_t max_target_bytes = 8 * 1024;
    std::uint64_t max_body_bytes = 0;  // 0: no limit
    bool operator==(const LimitSettings&) const = default;
};

struct LogSettings {
    std::string level = "info";  // trace debug info warn error critical off
    std::string error_log = "stderr";
    std::string access_log = "stdout";  // a path, "stdout", "stderr" or "off"
    std::string audit_log = "stderr";
    // The share of requests logged (0 < x <= 1); a request that ended in a
    // 5xx or an error is always logged.
    double access_log_sample = 1.0;
    // The ramp's events, one JSON line each: a path, "stdout", "stderr", or
    // empty for the error log.
    std::string event_log;
    bool operator==(const LogSettings&) const = default;
};

struct ControlSettings {
    std::string socket = "/run/switchyard/control.sock";
    std::uint32_t mode = 0660;
    bool operator==(const ControlSettings&) const = default;
};

struct AdminSettings {
    Endpoint address;
    bool operator==(const AdminSettings&) const = default;
};

enum class StickySource { cookie, header, client_ip, none };

struct StickySettings {
    StickySource source = StickySource::cookie;
    std::string name = "sy_uid";  // cookie or header name that carries the user key
    std::string assign_cookie = "sy_uid";
    Duration assign_max_age{30LL * 24 * 3600 * 1000};
    bool operator==(const StickySettings&) const = default;
};

struct RoutingSettings {
    std::string active = "blue";
    std::uint64_t seed = 0;
    std::string canary_pool;  // empty: no canary pool configured
    double canary_weight_percent = 0.0;
    StickySettings sticky;
    std::string override_header;  // empty: overrides off
    std::string override_token;
    // Feature flags (DESIGN.md "Feature flags at the edge"): the field that
    // tells the upstream which flags a user has, and the optional one with
    // the routing context ("pool=green; bucket=1234"; empty: not sent).
    std::string flags_header = "X-Switchyard-Flags";
    std::string context_header;
    bool operator==(const RoutingSettings&) const = default;
};

// One [[flags]] entry.
struct FlagSettings {
    std::string name;                 // letters, digits, '.', '_', '-'
    std::uint32_t percent_milli = 0;  // percent x 1000: 0..100000 (0.001 % steps)
    std::vector<std::string> pools;   // on only for users routed to these; empty: any pool
    std::string description;
    bool operator==(const FlagSettings&) const = default;
};

// [shadow.diff]: comparing the shadow's answers with the primary's
// (DESIGN.md "Dark launch").
struct ShadowDiffSettings {
    bool enabled = false;
    // Also send safe requests to a second server of the active pool, so that
    // differences the good build shows against itself count as noise.
    bool secondary = true;
    std::vector<std::string> ignore_headers = {"date", "x-request-id", "set-cookie", "etag",
                                               "age"};  // lower case
    std::uint64_t max_body = 256 * 1024;
    std::vector<std::string> routes;  // "/api/users/*"; else the first two path segments
    std::uint32_t max_routes = 100;
    std::string log;  // differing records, JSON lines: a path, "stdout", "stderr"; empty: error log
    std::uint32_t log_per_minute = 60;
    bool log_bodies = false;
    bool operator==(const ShadowDiffSettings&) const = default;
};

enum class ShadowSample { user, request };

// [shadow]: request mirroring (DESIGN.md "Dark launch"). pool and percent
// (and diff.enabled) are the initial runtime state; the rest applies as is.
struct ShadowSettings {
    std::string pool;                 // empty: off
    std::uint32_t percent_milli = 0;  // percent x 1000, 0..100000
    ShadowSample sample = ShadowSample::user;
    std::vector<std::string> methods = {"GET", "HEAD", "OPTIONS"};  // upper case
    std::uint64_t max_body = 1024 * 1024;
    Duration timeout{5000};
    std::uint32_t max_inflight = 256;         // per worker
    std::uint64_t memory = 16 * 1024 * 1024;  // per worker, buffered mirror bytes
    std::string host_suffix = "-shadow";
    bool allow_unsafe = false;
    ShadowDiffSettings diff;
    bool operator==(const ShadowSettings&) const = default;
};

// [cluster]: the fleet's shared routing state in etcd (DESIGN.md "Fleet").
struct ClusterSettings {
    std::vector<HttpUrl> etcd;                   // gateway endpoints, all http:// or all https://
    std::string prefix = "/switchyard/default";  // starts with '/', no trailing '/'
    std::string member;                          // empty: the host name
    Duration lease_ttl{10000};                   // whole seconds, 2 s .. 1 h
    std::string username;                        // empty: no etcd authentication
    std::string password_file;                   // with username: the password's file
    // https endpoints: verified against tls.ca (empty: the system's trust
    // store), with tls.cert/key as the client certificate when set.
    std::optional<UpstreamTlsSettings> tls;
    bool operator==(const ClusterSettings&) const = default;
};

struct Settings {
    std::string source_path;  // the file these settings came from
    ServerProcessSettings server;
    TimeoutSettings timeouts;
    LimitSettings limits;
    LogSettings log;
    std::vector<ListenerSettings> listeners;
    ControlSettings control;
    std::optional<AdminSettings> admin;
    RoutingSettings routing;
    std::vector<PoolSettings> pools;  // in file order
    RolloutSettings rollout;
    std::vector<FlagSettings> flags;  // in file order
    ShadowSettings shadow;
    std::optional<ClusterSettings> cluster;  // absent: a single instance

    const PoolSettings* find_pool(std::string_view name) const;
    const FlagSettings* find_flag(std::string_view name) const;
};

}  // namespace switchyard

#include "switchyard/control/metrics_report.hpp"

#include <array>

#include "switchyard/control/prometheus_text.hpp"

namespace switchyard::control {

namespace {

using Type = PrometheusText::Type;

// A server whose health is unknown takes traffic (DESIGN.md), so it counts
// as healthy here too.
bool takes_traffic(HealthState s) {
    return s == HealthState::healthy || s == HealthState::unknown;
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
    PrometheusText t;
    const auto& pools = in.settings.pools;
    // A family with one sample per configured pool, or per server (below).
    auto per_pool = [&](std::string_view name, Type type, std::string_view help, auto value) {
        t.family(name, type, help);
        for (const auto& p : pools)
            t.sample({{"pool", p.name}}, value(p.name));
    };
    auto pool_histogram = [&](std::string_view name, std::string_view help, auto member) {
        t.family(name, Type::histogram, help);
        for (const auto& p : pools)
            t.histogram({{"pool", p.name}}, in.traffic.pool(p.name).*member);
    };

    t.family("switchyard_build_info", Type::gauge, "Build of the running binary (value 1).");
    t.sample({{"version", in.version}}, std::uint64_t{1});
    t.family("switchyard_workers", Type::gauge, "Worker threads.");
    t.sample({}, std::uint64_t{in.workers});

    // Routing state (DESIGN.md's series).
    t.family("switchyard_generation", Type::gauge,
             "Routing generation: increments on every routing change.");
    t.sample({}, in.runtime.generation);
    per_pool("switchyard_active_pool", Type::gauge, "1 for the active pool, 0 for the others.",
             [&](const std::string& pool) { return std::uint64_t{pool == in.runtime.active}; });
    per_pool("switchyard_canary_weight_percent", Type::gauge,
             "Share of users sent to the pool as the canary, in percent.",
             [&](const std::string& pool) {
                 return pool == in.runtime.canary_pool ? in.runtime.canary_weight_bp / 100.0 : 0.0;
             });

    // Feature flags: one series per configured flag.
    t.family("switchyard_flag_percent", Type::gauge,
             "Share of users the flag is on for, in percent (before its pools restriction).");
    for (const auto& f : in.settings.flags) {
        const auto it = in.runtime.flags.find(f.name);
        t.sample({{"flag", f.name}},
                 (it != in.runtime.flags.end() ? it->second : f.percent_milli) / 1000.0);
    }
    t.family("switchyard_flag_requests", Type::counter,
             "Requests routed with the flag on (sent upstream in the flags header).");
    for (const auto& f : in.settings.flags)
        t.sample({{"flag", f.name}}, in.traffic.flag(f.name));

    // Mirroring: the share on every pool (0 but for the shadow pool), and
    // the copies by result for the shadow pool (the state's or the
    // config's) and any pool that has some, every result present.
    per_pool("switchyard_shadow_percent", Type::gauge,
             "Share of requests copied to the pool as the shadow pool, in percent.",
             [&](const std::string& pool) {
                 return pool == in.runtime.shadow.pool ? in.runtime.shadow.percent_milli / 1000.0
                                                       : 0.0;
             });
    t.family("switchyard_shadow_requests", Type::counter,
             "Requests sampled for the shadow pool, by result (sent, ok, error, timeout, "
             "dropped_overload, skipped_method, skipped_body); never in switchyard_requests.");
    for (const auto& p : pools) {
        const auto counted = in.traffic.shadow_requests.find(p.name);
        const bool has_counts = counted != in.traffic.shadow_requests.end();
        if (!has_counts && p.name != in.runtime.shadow.pool && p.name != in.settings.shadow.pool)
            continue;
        for (std::size_t i = 0; i < kShadowResults; ++i)
            t.sample({{"pool", p.name}, {"result", to_string(static_cast<ShadowResult>(i))}},
                     has_counts ? counted->second[i] : std::uint64_t{0});
    }
    // At most shadow.diff.max_routes routes (then "other"); `diff reset`
    // starts them at 0 again, which a scraper reads as a counter reset.
    t.family("switchyard_shadow_diff", Type::counter,
             "Mirrored answers compared with the primary's, by route and result (equal, "
             "differing, skipped: over shadow.diff.max_body).");
    for (const auto& [route, c] : in.traffic.diff.routes()) {
        t.sample({{"route", route}, {"result", "equal"}}, c.equal);
        t.sample({{"route", route}, {"result", "differing"}}, c.compared - c.equal);
        t.sample({{"route", route}, {"result", "skipped"}}, c.skipped);
    }

    // The ramp.
    t.family("switchyard_rollout_state", Type::gauge,
             "1 for the ramp's state, 0 for the others (no series before the first ramp).");
    for (std::string_view state : {"running", "holding", "paused", "aborted", "promoted"})
        if (!in.ramp.pool.empty())
            t.sample({{"pool", in.ramp.pool}, {"state", state}},
                     std::uint64_t{state == in.ramp.state});
    t.family("switchyard_rollout_step", Type::gauge,
             "The ramp's current step, from 1 (0: no ramp since start).");
    t.sample({}, in.ramp.step);
    t.family("switchyard_rollout_verdicts", Type::counter,
             "Judgements of a ramp step by the canary analysis, by result.");
    t.sample({{"result", "pass"}}, in.ramp.verdicts[0]);
    t.sample({{"result", "fail"}}, in.ramp.verdicts[1]);
    t.sample({{"result", "inconclusive"}}, in.ramp.verdicts[2]);
    t.family("switchyard_rollout_step_requests", Type::gauge,
             "Requests the canary split placed on the pool in the ramp's current step, as last "
             "judged (canary and baseline; no series without a ramp in progress).");
    for (const auto& s : in.ramp.judged)
        t.sample({{"pool", s.pool}}, s.requests);
    t.family("switchyard_rollout_step_error_ratio", Type::gauge,
             "The 5xx share the ramp's last judgement saw on the pool in the current step.");
    for (const auto& s : in.ramp.judged)
        t.sample({{"pool", s.pool}}, s.error_ratio);
    t.family("switchyard_rollout_step_p99_seconds", Type::gauge,
             "The p99 latency (request written upstream to response head) the ramp's last "
             "judgement saw on the pool in the current step.");
    for (const auto& s : in.ramp.judged)
        if (s.p99_seconds) t.sample({{"pool", s.pool}}, *s.p99_seconds);
    t.family("switchyard_webhook_deliveries", Type::counter,
             "Ramp event webhook deliveries, by result (retried: each try after a failure).");
    t.sample({{"result", "ok"}}, in.ramp.webhooks_ok);
    t.sample({{"result", "failed"}}, in.ramp.webhooks_failed);
    t.sample({{"result", "retried"}}, in.ramp.webhooks_retried);

    // Requests by pool.
    t.family("switchyard_requests", Type::counter,
             "Requests routed to a pool, by the status the client got (0: none, the client "
             "went away or the request was cut).");
    for (const auto& p : pools)
        for (const auto& [code, n] : in.traffic.pool(p.name).responses)
            t.sample({{"pool", p.name}, {"code", std::to_string(code)}}, n);
    t.family("switchyard_unrouted_requests", Type::counter,
             "Requests answered before a pool was chosen (malformed, no usable pool), by status.");
    for (const auto& [code, n] : in.traffic.connections.unrouted)
        t.sample({{"code", std::to_string(code)}}, n);
    pool_histogram("switchyard_request_duration_seconds",
                   "From the first byte of the request head to the end of the response (tunnels "
                   "excluded).",
                   &PoolStats::duration);
    pool_histogram("switchyard_upstream_connect_duration_seconds",
                   "Setting up a new upstream connection (TCP and TLS).",
                   &PoolStats::upstream_connect);
    pool_histogram("switchyard_upstream_response_duration_seconds",
                   "From writing the request upstream to the first response head.",
                   &PoolStats::upstream_response);

    // In flight, per pool: the sum over its servers (every identity).
    std::map<std::string, ServerStats> open;
    for (const auto& [key, s] : in.traffic.servers)
        open[key.first].add(s);
    per_pool("switchyard_inflight_requests", Type::gauge, "Requests in flight to the pool.",
             [&](const std::string& pool) { return open[pool].inflight; });
    per_pool("switchyard_open_tunnels", Type::gauge,
             "Upgraded (WebSocket) connections open to the pool.",
             [&](const std::string& pool) { return open[pool].tunnels; });
    per_pool("switchyard_upstream_idle_connections", Type::gauge,
             "Idle keep-alive connections to the pool.",
             [&](const std::string& pool) { return open[pool].idle_connections; });

    // Retries and routing fallbacks.
    per_pool("switchyard_retries", Type::counter, "Attempts on another server of the pool.",
             [&](const std::string& pool) { return in.traffic.pool(pool).retries; });
    per_pool("switchyard_retry_budget_exhausted", Type::counter,
             "Retries refused by the pool's retry budget.",
             [&](const std::string& pool) { return in.traffic.pool(pool).budget_exhausted; });
    per_pool("switchyard_canary_failovers", Type::counter,
             "Requests of the canary's share served by the active pool (no usable canary server).",
             [&](const std::string& pool) { return in.traffic.pool(pool).canary_failovers; });
    per_pool("switchyard_fallbacks", Type::counter,
             "Requests the previous pool served for this one (on_unhealthy = \"fallback\").",
             [&](const std::string& pool) { return in.traffic.pool(pool).fallbacks; });

    // Per server, in config order.
    struct Row {
        const std::string& pool;
        std::string address;
        const ServerStats& stats;
        const ServerHealth* health;
    };
    std::vector<Row> rows;
    for (const auto& p : pools)
        for (const auto& s : p.servers) {
            std::string address = s.address.to_string();
            const ServerStats& stats = in.traffic.server(p.name, address);
            const ServerHealth* h = in.health.find(p.name, address);
            rows.push_back({p.name, std::move(address), stats, h});
        }
    auto per_server = [&](std::string_view name, Type type, std::string_view help, auto value) {
        t.family(name, type, help);
        for (const auto& r : rows)
            t.sample({{"pool", r.pool}, {"server", r.address}}, value(r));
    };
    per_server("switchyard_server_requests", Type::counter,
               "Requests sent to the server, retries included.",
               [](const Row& r) { return r.stats.attempts; });
    t.family("switchyard_server_responses", Type::counter,
             "Responses the server gave, by status class.");
    static constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (const auto& r : rows)
        for (std::size_t c = 0; c < kClasses.size(); ++c)
            t.sample({{"pool", r.pool}, {"server", r.address}, {"class", kClasses[c]}},
                     r.stats.responses[c]);
    t.family(
        "switchyard_upstream_errors", Type::counter,
        "Attempts on the server that failed, by kind (connect_failed, connect_timeout, "
        "upstream_tls, upstream_reset, upstream_closed, upstream_timeout, bad_response, ...).");
    for (const auto& r : rows)
        for (const auto& [kind, n] : r.stats.errors)
            t.sample({{"pool", r.pool}, {"server", r.address}, {"kind", kind}}, n);
    per_server("switchyard_server_limit_reached", Type::counter,
               "Requests that found the server at max_connections_per_server.",
               [](const Row& r) { return r.stats.limited; });
    per_server("switchyard_server_inflight_requests", Type::gauge,
               "Requests in flight to the server.", [](const Row& r) { return r.stats.inflight; });
    per_server("switchyard_server_healthy", Type::gauge,
               "1 if the server takes traffic as far as health goes (healthy, or not known "
               "yet), 0 if unhealthy or ejected.",
               [](const Row& r) {
                   return std::uint64_t{r.health == nullptr || takes_traffic(r.health->state)};
               });
    per_server(
        "switchyard_server_ejected", Type::gauge, "1 while outlier detection keeps the server out.",
        [](const Row& r) {
            return std::uint64_t{r.health != nullptr && r.health->state == HealthState::ejected};
        });
    per_server(
        "switchyard_server_ejections", Type::counter, "Times the server was ejected.",
        [](const Row& r) { return std::uint64_t{r.health != nullptr ? r.health->ejections : 0u}; });

    // Connections.
    const auto& c = in.traffic.connections;
    t.family("switchyard_client_connections", Type::gauge, "Client connections open.");
    t.sample({}, in.client_connections);
    t.family("switchyard_client_connections_accepted", Type::counter,
             "Client connections accepted.");
    t.sample({}, c.accepted);
    t.family("switchyard_tls_handshake_failures", Type::counter,
             "Client TLS handshakes that failed (plain HTTP on a TLS port, no common version, "
             "ALPN mismatch, timeout).");
    t.sample({}, c.tls_handshake_failures);
    t.family("switchyard_http2_connections", Type::counter,
             "Client connections that spoke HTTP/2 (h2 by ALPN, or h2c).");
    t.sample({}, c.http2_connections);
    t.family("switchyard_http2_streams", Type::counter, "HTTP/2 request streams begun.");
    t.sample({}, c.http2_streams);
    t.family("switchyard_http2_client_resets", Type::counter,
             "HTTP/2 streams the client reset (RST_STREAM).");
    t.sample({}, c.http2_client_resets);
    t.family("switchyard_http2_defences", Type::counter,
             "What the HTTP/2 defences did, by kind: a stream refused or answered 431, a "
             "stream reset after stalling, a connection ended with GOAWAY (rapid reset, "
             "floods, HPACK bomb, protocol error).");
    for (const char* kind : {"refused_stream", "header_list_too_large", "stalled_stream",
                             "rapid_reset", "continuation_flood", "hpack_bomb", "settings_flood",
                             "ping_flood", "stream_flood", "protocol_error"}) {
        const auto it = c.http2_defences.find(kind);
        t.sample({{"kind", kind}}, it == c.http2_defences.end() ? 0 : it->second);
    }
    t.family("switchyard_upstream_connections", Type::gauge,
             "Upstream connections open, in use or idle.");
    t.sample({}, c.upstream_open);
    t.family("switchyard_upstream_connections_opened", Type::counter, "Upstream connections made.");
    t.sample({}, c.upstream_opened);

    // Operations.
    t.family("switchyard_reloads", Type::counter, "Configuration reloads, by result.");
    t.sample({{"result", "ok"}}, in.reload.succeeded);
    t.sample({{"result", "failed"}}, in.reload.failed);
    t.family("switchyard_last_reload_success", Type::gauge,
             "1 if the last reload succeeded (or none happened), 0 if it was refused.");
    t.sample({}, std::uint64_t{in.reload.last_ok ? 1u : 0u});
    t.family("switchyard_last_reload_timestamp_seconds", Type::gauge,
             "When the last reload ended, in seconds since the epoch (0: none yet).");
    t.sample({}, in.reload.last_time_seconds);
    if (in.cluster) {
        const ClusterMetrics& c = *in.cluster;
        t.family("switchyard_cluster_applied_generation", Type::gauge,
                 "The fleet's routing generation this member serves.");
        t.sample({}, c.applied_generation);
        t.family("switchyard_cluster_degraded", Type::gauge,
                 "1 while the fleet's store is unreachable (only an emergency stop applies).");
        t.sample({}, std::uint64_t{c.degraded ? 1u : 0u});
        t.family("switchyard_cluster_store_revision", Type::gauge,
                 "The store revision of the routing state this member applied (0: none).");
        t.sample({}, static_cast<std::uint64_t>(c.store_revision));
    }
    t.family("switchyard_access_log_dropped_lines", Type::counter,
             "Access log lines dropped because the writer fell behind.");
    t.sample({}, in.access_log_dropped);

    // The process (the names every Prometheus client library uses).
    const auto& p = in.process;
    t.family("process_resident_memory_bytes", Type::gauge, "Resident memory size in bytes.");
    t.sample({}, p.resident_bytes);
    t.family("process_virtual_memory_bytes", Type::gauge, "Virtual memory size in bytes.");
    t.sample({}, p.virtual_bytes);
    t.family("process_open_fds", Type::gauge, "Open file descriptors.");
    t.sample({}, p.open_fds);
    t.family("process_max_fds", Type::gauge, "The limit of open file descriptors.");
    t.sample({}, p.max_fds);
    t.family("process_cpu_seconds", Type::counter, "User and system CPU time in seconds.");
    t.sample({}, p.cpu_seconds);
    t.family("process_start_time_seconds", Type::gauge,
             "Start time of the process since the epoch, in seconds.");
    t.sample({}, p.start_time_seconds);
    return t.take();
}

}  // namespace switchyard::control

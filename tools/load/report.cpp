#include "report.hpp"

#include <cstdio>
#include <string_view>

#include "switchyard/core/json_writer.hpp"

namespace switchyard::load {

namespace {

std::string_view stop_name(StopReason r) {
    switch (r) {
        case StopReason::none:
            return "done";
        case StopReason::duration:
            return "duration";
        case StopReason::max_requests:
            return "max-requests";
        case StopReason::signal:
            return "signal";
    }
    return "?";
}

std::string ms(std::uint64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us) / 1000.0);
    return buf;
}

std::string fixed(double v, int digits) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

double rate(const Stats& stats, const RunInfo& run) {
    return run.elapsed_s > 0 ? static_cast<double>(stats.requests()) / run.elapsed_s : 0;
}

constexpr Outcome kFailures[] = {
    Outcome::refused,    Outcome::reset,   Outcome::closed_before_response,
    Outcome::truncated,  Outcome::timeout, Outcome::non_2xx,
    Outcome::wrong_body, Outcome::other};

}  // namespace

void print_text(const Stats& stats, const RunInfo& run, std::ostream& out) {
    const auto& o = run.options;
    out << "switchyard-load: " << o.host_header << ", " << fixed(run.elapsed_s, 1)
        << " s (stopped by " << stop_name(run.stopped_by) << "), loops: " << o.keepalive
        << " keep-alive, " << o.per_request << " per-request, " << o.slow << " slow (" << o.slow_ms
        << " ms); " << o.threads << " thread(s)\n";
    out << "requests " << stats.requests() << " (" << fixed(rate(stats, run), 1) << "/s), ok "
        << stats.count(Outcome::ok) << ", failed " << stats.failures() << "\n";
    out << "failures:";
    for (auto k : kFailures)
        out << " " << outcome_name(k) << " " << stats.count(k);
    out << "\n";
    if (!stats.statuses().empty()) {
        out << "non-2xx statuses:";
        for (const auto& [status, n] : stats.statuses())
            out << " " << status << " x" << n;
        out << "\n";
    }
    for (const auto& [what, n] : stats.details())
        out << "  " << what << " (x" << n << ")\n";
    const auto& lat = stats.latency();
    out << "latency ms: p50 " << ms(lat.quantile(0.5)) << ", p99 " << ms(lat.quantile(0.99))
        << ", max " << ms(lat.max()) << "\n";
    out << "pools:";
    if (stats.pools().empty()) out << " none";
    for (const auto& [pool, n] : stats.pools())
        out << " " << pool << " " << n;
    out << "\n";
    out << "connections opened " << stats.connections() << ", reconnects after Connection: close "
        << stats.close_reconnects() << ", idle connections found closed " << stats.idle_closed()
        << ", in flight when aborted " << stats.aborted() << "\n";
    if (!stats.slowest().empty()) {
        out << "slowest (beyond the delay asked for): start_epoch_ms duration_ms excess_ms kind "
               "status pool class\n";
        for (const auto& s : stats.slowest())
            out << "  " << s.start_epoch_ms << " " << ms(s.duration_us) << " " << ms(s.excess_us)
                << " " << outcome_name(s.outcome) << " " << s.status << " "
                << (s.pool.empty() ? "-" : s.pool) << " " << class_name(s.cls) << "\n";
    }
}

void print_json(const Stats& stats, const RunInfo& run, std::ostream& out) {
    const auto& o = run.options;
    const auto& lat = stats.latency();
    const auto as_ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    std::string text;
    JsonWriter w(text);
    w.begin_object();
    w.key("target").string(o.host_header);
    w.key("elapsed_s").number_fixed(run.elapsed_s, 3);
    w.key("stopped_by").string(stop_name(run.stopped_by));
    w.key("loops").begin_object();
    w.key("keepalive").number(o.keepalive);
    w.key("per_request").number(o.per_request);
    w.key("slow").number(o.slow);
    w.end_object();
    w.key("threads").number(o.threads);
    w.key("reuse_check").boolean(o.reuse_check);
    w.key("requests").number(stats.requests());
    w.key("rps").number_fixed(rate(stats, run), 1);
    w.key("ok").number(stats.count(Outcome::ok));
    w.key("failures").number(stats.failures());
    w.key("by_kind").begin_object();
    for (auto k : kFailures)
        w.key(outcome_name(k)).number(stats.count(k));
    w.end_object();
    w.key("non_2xx_statuses").begin_object();
    for (const auto& [status, n] : stats.statuses())
        w.key(std::to_string(status)).number(n);
    w.end_object();
    w.key("details").begin_object();
    for (const auto& [what, n] : stats.details())
        w.key(what).number(n);
    w.end_object();
    w.key("latency_ms").begin_object();
    w.key("p50").number_fixed(as_ms(lat.quantile(0.5)), 3);
    w.key("p99").number_fixed(as_ms(lat.quantile(0.99)), 3);
    w.key("max").number_fixed(as_ms(lat.max()), 3);
    w.end_object();
    w.key("pools").begin_object();
    for (const auto& [pool, n] : stats.pools())
        w.key(pool).number(n);
    w.end_object();
    w.key("connections").number(stats.connections());
    w.key("reconnects_after_close").number(stats.close_reconnects());
    w.key("idle_closed").number(stats.idle_closed());
    w.key("aborted").number(stats.aborted());
    w.key("slowest").begin_array();
    for (const auto& s : stats.slowest()) {
        w.begin_object();
        w.key("start_epoch_ms").number(s.start_epoch_ms);
        w.key("duration_ms").number_fixed(as_ms(s.duration_us), 3);
        w.key("excess_ms").number_fixed(as_ms(s.excess_us), 3);
        w.key("kind").string(outcome_name(s.outcome));
        w.key("status").number(s.status);
        w.key("pool").string(s.pool);
        w.key("class").string(class_name(s.cls));
        w.end_object();
    }
    w.end_array();
    w.end_object();
    out << text << "\n";
}

}  // namespace switchyard::load

#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdio>
#include <string_view>

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

// A JSON string literal (with quotes): Boost.JSON escapes what needs it.
std::string json_string(std::string_view s) {
    return boost::json::serialize(boost::json::string(s));
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
    out << "{\"target\":" << json_string(o.host_header)
        << ",\"elapsed_s\":" << fixed(run.elapsed_s, 3)
        << ",\"stopped_by\":" << json_string(stop_name(run.stopped_by))
        << ",\"loops\":{\"keepalive\":" << o.keepalive << ",\"per_request\":" << o.per_request
        << ",\"slow\":" << o.slow << "},\"threads\":" << o.threads
        << ",\"reuse_check\":" << (o.reuse_check ? "true" : "false")
        << ",\"requests\":" << stats.requests() << ",\"rps\":" << fixed(rate(stats, run), 1)
        << ",\"ok\":" << stats.count(Outcome::ok) << ",\"failures\":" << stats.failures()
        << ",\"by_kind\":{";
    bool first = true;
    for (auto k : kFailures) {
        out << (first ? "" : ",") << json_string(outcome_name(k)) << ":" << stats.count(k);
        first = false;
    }
    out << "},\"non_2xx_statuses\":{";
    first = true;
    for (const auto& [status, n] : stats.statuses()) {
        out << (first ? "" : ",") << "\"" << status << "\":" << n;
        first = false;
    }
    out << "},\"details\":{";
    first = true;
    for (const auto& [what, n] : stats.details()) {
        out << (first ? "" : ",") << json_string(what) << ":" << n;
        first = false;
    }
    out << "},\"latency_ms\":{\"p50\":" << ms(lat.quantile(0.5))
        << ",\"p99\":" << ms(lat.quantile(0.99)) << ",\"max\":" << ms(lat.max()) << "},\"pools\":{";
    first = true;
    for (const auto& [pool, n] : stats.pools()) {
        out << (first ? "" : ",") << json_string(pool) << ":" << n;
        first = false;
    }
    out << "},\"connections\":" << stats.connections()
        << ",\"reconnects_after_close\":" << stats.close_reconnects()
        << ",\"idle_closed\":" << stats.idle_closed() << ",\"aborted\":" << stats.aborted()
        << ",\"slowest\":[";
    first = true;
    for (const auto& s : stats.slowest()) {
        out << (first ? "" : ",") << "{\"start_epoch_ms\":" << s.start_epoch_ms
            << ",\"duration_ms\":" << ms(s.duration_us) << ",\"excess_ms\":" << ms(s.excess_us)
            << ",\"kind\":" << json_string(outcome_name(s.outcome)) << ",\"status\":" << s.status
            << ",\"pool\":" << json_string(s.pool)
            << ",\"class\":" << json_string(class_name(s.cls)) << "}";
        first = false;
    }
    out << "]}\n";
}

}  // namespace switchyard::load

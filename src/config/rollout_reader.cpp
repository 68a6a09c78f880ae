// [rollout] -> RolloutSettings. Every rule is checked where its value is, so
// a diagnostic points at the offending step, URL or event.
#include "rollout_reader.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "switchyard/core/http_url.hpp"
#include "switchyard/core/ramp_steps.hpp"

namespace switchyard::config::detail {
namespace {

// Steps are canary weights in percent with 0.01 % resolution; the core's
// validate_ramp_steps words the ordering rules, applied to each prefix so
// that the error lands on the first step that breaks them.
void read_steps(const TableReader& r, std::vector<std::uint32_t>& out) {
    const auto* array = r.get_array("steps");
    if (array == nullptr) return;
    Sink& sink = r.sink();
    const std::string path = r.path_of("steps");
    std::vector<std::uint32_t> steps;
    bool usable = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& node = (*array)[i];
        const std::string at = index_path(path, i);
        const auto percent = read_number(sink, node, at, 0, 100);
        if (!percent) {
            usable = false;
            continue;
        }
        if (*percent <= 0) {
            sink.error(node.source(), at,
                       "must be above 0 (a step is a canary weight in (0, 100])");
            usable = false;
            continue;
        }
        const double bp = std::round(*percent * 100);
        if (std::abs(*percent * 100 - bp) > 1e-6) {
            sink.error(node.source(), at, "at most two decimals (0.01 % resolution)");
            usable = false;
            continue;
        }
        steps.push_back(static_cast<std::uint32_t>(bp));
        if (!usable) continue;  // the order of a list with holes says nothing
        if (auto why = validate_ramp_steps(steps)) {
            sink.error(node.source(), at, std::move(*why));
            usable = false;
        }
    }
    if (!usable) return;
    if (auto why = validate_ramp_steps(steps)) {  // only "must not be empty" is left
        sink.error(array->source(), path, std::move(*why));
        return;
    }
    out = std::move(steps);
}

void read_percent(const TableReader& r, std::string_view key, double& out) {
    if (const auto* node = r.find(key))
        if (auto v = read_number(r.sink(), *node, r.path_of(key), 0, 100)) out = *v;
}

void read_confidence(const TableReader& r, double& out) {
    const auto* node = r.find("confidence");
    if (node == nullptr) return;
    const std::string path = r.path_of("confidence");
    auto v = read_number(r.sink(), *node, path, 0.5, kMaxConfidence);
    if (!v) return;
    if (*v <= 0.5) {
        r.sink().error(node->source(), path,
                       "must be above 0.5 (at 0.5 a coin flip would fail the canary)");
        return;
    }
    out = *v;
}

// nullopt and a diagnostic when `text` is no URL Switchyard can POST to. The
// URL itself is not repeated: it may carry a token (DESIGN.md: URLs are
// secrets), and the line and column already point at it.
bool check_url(Sink& sink, const toml::node& node, const std::string& path,
               const std::string& text) {
    const auto parsed = parse_http_url(text);
    if (parsed.error.empty()) return true;
    sink.error(node.source(), path,
               "invalid URL: " + parsed.error +
                   " (expected http:// or https:// and a host, like "
                   "\"https://hooks.example.com/deploys\")");
    return false;
}

void read_gate_url(const TableReader& r, std::string& out) {
    const auto* node = r.find("gate_url");
    if (node == nullptr) return;
    const std::string path = r.path_of("gate_url");
    auto text = read_string(r.sink(), *node, path, true);
    if (!text) return;
    if (!text->empty() && !check_url(r.sink(), *node, path, *text)) return;
    out = std::move(*text);
}

void read_events(const TableReader& r, std::vector<RampEventType>& out) {
    const auto* array = r.get_array("events");
    if (array == nullptr) return;
    Sink& sink = r.sink();
    const std::string path = r.path_of("events");
    if (array->empty()) {
        sink.error(array->source(), path,
                   "must not be empty (leave events out to deliver every event)");
        return;
    }
    std::vector<RampEventType> events;
    std::vector<std::size_t> index_of;  // where each of `events` was given
    bool usable = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& node = (*array)[i];
        const std::string at = index_path(path, i);
        auto event = read_enum<RampEventType>(sink, node, at,
                                              {{"started", RampEventType::started},
                                               {"step", RampEventType::step},
                                               {"holding", RampEventType::holding},
                                               {"paused", RampEventType::paused},
                                               {"aborted", RampEventType::aborted},
                                               {"promoted", RampEventType::promoted}});
        if (!event) {
            usable = false;
            continue;
        }
        const auto seen = std::find(events.begin(), events.end(), *event);
        if (seen != events.end()) {
            sink.error(
                node.source(), at,
                "duplicate event " + quote(to_string(*event)) + " (also " +
                    index_path(path, index_of[static_cast<std::size_t>(seen - events.begin())]) +
                    ")");
            usable = false;
            continue;
        }
        events.push_back(*event);
        index_of.push_back(i);
    }
    if (usable) out = std::move(events);
}

void read_webhook(Sink& sink, const toml::table& t, const std::string& path, WebhookSettings& out) {
    TableReader r(sink, t, path, {"url", "secret", "events", "format", "timeout"});
    if (const auto* node = r.require("url"))
        if (auto text = read_string(sink, *node, r.path_of("url")))
            if (check_url(sink, *node, r.path_of("url"), *text)) out.url = std::move(*text);
    r.get_string("secret", out.secret, true);
    read_events(r, out.events);
    r.get_enum<WebhookFormat>("format", out.format,
                              {{"json", WebhookFormat::json}, {"slack", WebhookFormat::slack}});
    r.get_duration("timeout", out.timeout, kMs);
}

void read_webhooks(const TableReader& r, std::vector<WebhookSettings>& out) {
    const auto* array = r.get_array("webhooks");
    if (array == nullptr) return;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const std::string path = index_path(r.path_of("webhooks"), i);
        if (const auto* t = read_table(r.sink(), (*array)[i], path))
            read_webhook(r.sink(), *t, path, out.emplace_back());
    }
}

}  // namespace

void read_rollout(Sink& sink, const toml::table& t, RolloutSettings& out) {
    TableReader r(sink, t, "rollout",
                  {"steps", "bake", "promote", "interval", "min_requests", "max_error_increase",
                   "max_error_rate", "confidence", "max_p99_ratio", "min_p99_delta",
                   "failure_limit", "max_hold", "on_no_data", "gate_url", "webhooks"});
    RampSettings& ramp = out.ramp;
    CanaryAnalysisSettings& analysis = ramp.analysis;
    read_steps(r, ramp.steps_bp);
    r.get_duration("bake", ramp.bake);
    r.get_enum<PromoteMode>("promote", ramp.promote,
                            {{"auto", PromoteMode::automatic}, {"manual", PromoteMode::manual}});
    r.get_duration("interval", ramp.interval, kMinRolloutInterval);
    r.get_integer("min_requests", analysis.min_requests, 1, kMaxMinRequests);
    read_percent(r, "max_error_increase", analysis.max_error_increase);
    read_percent(r, "max_error_rate", analysis.max_error_rate);
    read_confidence(r, analysis.confidence);
    if (const auto* node = r.find("max_p99_ratio"))
        if (auto v = read_number(sink, *node, r.path_of("max_p99_ratio"), 1, kMaxP99Ratio))
            analysis.max_p99_ratio = *v;
    r.get_duration("min_p99_delta", analysis.min_p99_delta);
    r.get_integer("failure_limit", ramp.failure_limit, 1, kMaxFailureLimit);
    r.get_duration("max_hold", ramp.max_hold);
    r.get_enum<OnNoData>(
        "on_no_data", ramp.on_no_data,
        {{"pause", OnNoData::pause}, {"abort", OnNoData::abort}, {"advance", OnNoData::advance}});
    read_gate_url(r, out.gate_url);
    ramp.gate = !out.gate_url.empty();
    read_webhooks(r, out.webhooks);
}

}  // namespace switchyard::config::detail

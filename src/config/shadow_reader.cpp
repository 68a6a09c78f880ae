// [shadow] and [shadow.diff] -> ShadowSettings. Each rule is checked where
// its value is, so a diagnostic points at the offending method, header or
// route.
#include "shadow_reader.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "pool_reader.hpp"
#include "switchyard/core/shadow_policy.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::config::detail {
namespace {

constexpr std::string_view kTokenChars = "letters, digits and !#$%&'*+-.^_`|~ only";

std::string ascii_upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

std::string ascii_lower_copy(std::string s) {
    for (char& c : s)
        c = ascii_lower(c);
    return s;
}

// Reads an array of strings, each checked and normalised by `check` (which
// reports its own error and returns nullopt); a value given twice (after
// normalising) is an error at its second place. `out` is replaced only when
// every element is usable.
template <typename Check>
void read_unique_strings(const TableReader& r, std::string_view key, std::string_view what,
                         std::vector<std::string>& out, Check check) {
    const auto* array = r.get_array(key);
    if (array == nullptr) return;
    Sink& sink = r.sink();
    const std::string path = r.path_of(key);
    std::vector<std::string> values;
    std::vector<std::size_t> index_of;  // where each of `values` was given
    bool usable = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& node = (*array)[i];
        const std::string at = index_path(path, i);
        auto text = read_string(sink, node, at);
        if (!text) {
            usable = false;
            continue;
        }
        auto value = check(node, at, std::move(*text));
        if (!value) {
            usable = false;
            continue;
        }
        const auto seen = std::find(values.begin(), values.end(), *value);
        if (seen != values.end()) {
            sink.error(
                node.source(), at,
                "duplicate " + std::string(what) + " " + quote(*value) + " (also " +
                    index_path(path, index_of[static_cast<std::size_t>(seen - values.begin())]) +
                    ")");
            usable = false;
            continue;
        }
        values.push_back(std::move(*value));
        index_of.push_back(i);
    }
    if (usable) out = std::move(values);
}

void read_percent(const TableReader& r, std::uint32_t& out) {
    const auto* node = r.find("percent");
    if (node == nullptr) return;
    auto percent = read_number(r.sink(), *node, r.path_of("percent"), 0, 100);
    if (!percent) return;
    const double milli = *percent * 1000;
    if (std::abs(milli - std::round(milli)) > 1e-6) {
        r.sink().error(node->source(), r.path_of("percent"),
                       "at most three decimals (the shadow percent moves in steps of 0.001 %)");
        return;
    }
    out = static_cast<std::uint32_t>(std::round(milli));
}

// Methods are case-sensitive on the wire, but a lower-case name in the
// config is meant as the standard method: they are stored upper-cased.
void read_methods(const TableReader& r, bool allow_unsafe, std::vector<std::string>& out) {
    Sink& sink = r.sink();
    if (const auto* node = r.find("methods"))
        if (const auto* array = node->as_array(); array != nullptr && array->empty()) {
            sink.error(array->source(), r.path_of("methods"),
                       "must not be empty (percent = 0 or pool = \"\" mirrors nothing)");
            return;
        }
    read_unique_strings(
        r, "methods", "method", out,
        [&](const toml::node& node, const std::string& at,
            std::string text) -> std::optional<std::string> {
            if (!is_token(text)) {
                sink.error(node.source(), at,
                           "invalid method " + quote(text) + " (" + std::string(kTokenChars) + ")");
                return std::nullopt;
            }
            std::string method = ascii_upper(std::move(text));
            if (!allow_unsafe && !is_safe_method(method)) {
                sink.error(node.source(), at,
                           quote(method) +
                               " is not a safe method: a mirrored copy may write to data the "
                               "pools share (set allow_unsafe = true to mirror it)");
                return std::nullopt;
            }
            return method;
        });
}

// A suffix of a DNS label or name ("-shadow", ".shadow"): it is appended to
// the host name the upstream sees.
void read_host_suffix(const TableReader& r, std::string& out) {
    const auto* node = r.find("host_suffix");
    if (node == nullptr) return;
    auto text = read_string(r.sink(), *node, r.path_of("host_suffix"), true);
    if (!text) return;
    const bool valid = std::all_of(text->begin(), text->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
    if (!valid) {
        r.sink().error(
            node->source(), r.path_of("host_suffix"),
            "invalid host suffix " + quote(*text) + " (letters, digits, '.' and '-' only)");
        return;
    }
    out = std::move(*text);
}

// "/api/users/*": '*' stands for one whole segment.
std::optional<std::string> check_route(Sink& sink, const toml::node& node, const std::string& at,
                                       std::string text) {
    if (text.front() != '/') {
        sink.error(
            node.source(), at,
            "invalid route " + quote(text) + " (a path beginning with '/', like \"/api/users/*\")");
        return std::nullopt;
    }
    for (char c : text)
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            sink.error(node.source(), at,
                       "invalid route " + quote(text) +
                           " (a path without spaces, controls, '?' or '#', like \"/api/users/*\")");
            return std::nullopt;
        }
    std::string_view rest(text);
    rest.remove_prefix(1);
    while (true) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment != "*" && segment.find('*') != std::string_view::npos) {
            sink.error(node.source(), at,
                       "invalid route " + quote(text) +
                           " ('*' stands for a whole segment, like \"/api/users/*\")");
            return std::nullopt;
        }
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return text;
}

void read_diff_log(const TableReader& r, std::string& out) {
    const auto* node = r.find("log");
    if (node == nullptr) return;
    auto text = read_string(r.sink(), *node, r.path_of("log"), true);
    if (!text) return;
    // Like log.event_log: "off" would otherwise be a file named off.
    if (*text == "off") {
        r.sink().error(node->source(), r.path_of("log"),
                       "not a log target (log_per_minute = 0 logs no record; \"\" writes them to "
                       "the error log)");
        return;
    }
    out = std::move(*text);
}

void read_diff(Sink& sink, const toml::table& t, ShadowDiffSettings& out) {
    TableReader r(sink, t, "shadow.diff",
                  {"enabled", "secondary", "ignore_headers", "max_body", "routes", "max_routes",
                   "log", "log_per_minute", "log_bodies"});
    r.get_bool("enabled", out.enabled);
    r.get_bool("secondary", out.secondary);
    read_unique_strings(r, "ignore_headers", "header", out.ignore_headers,
                        [&](const toml::node& node, const std::string& at,
                            std::string text) -> std::optional<std::string> {
                            if (!is_token(text)) {
                                sink.error(node.source(), at,
                                           "invalid header name " + quote(text) + " (" +
                                               std::string(kTokenChars) + ")");
                                return std::nullopt;
                            }
                            return ascii_lower_copy(std::move(text));  // compared ignoring case
                        });
    r.get_size("max_body", out.max_body, 0, kGiB);
    r.get_integer("max_routes", out.max_routes, 1, 10000);
    read_unique_strings(r, "routes", "route", out.routes,
                        [&](const toml::node& node, const std::string& at, std::string text) {
                            return check_route(sink, node, at, std::move(text));
                        });
    if (out.routes.size() > out.max_routes && !sink.has_error_under("shadow.diff.max_routes"))
        sink.error(r.find("routes")->source(), r.path_of("routes"),
                   std::to_string(out.routes.size()) + " routes, more than max_routes (" +
                       std::to_string(out.max_routes) + ")");
    read_diff_log(r, out.log);
    r.get_integer("log_per_minute", out.log_per_minute, 0);
    r.get_bool("log_bodies", out.log_bodies);
}

// The pool must exist and must not be the active pool (a copy of a request
// to the pool that served it tells nothing); a percent above 0 needs one.
void check_pool(const TableReader& r, const Settings& settings, const ShadowSettings& out) {
    Sink& sink = r.sink();
    const toml::node* node = r.find("pool");
    if (out.pool.empty()) {
        if (out.percent_milli > 0 && !sink.has_error_under("shadow.pool"))
            sink.error(r.table().source(), "shadow.pool", "required when percent > 0");
        return;
    }
    if (settings.pools.empty()) return;  // "no pool" is reported once, at pools
    if (settings.find_pool(out.pool) == nullptr) {
        sink.error(node->source(), "shadow.pool", no_such_pool(out.pool, settings.pools));
        return;
    }
    if (out.pool == settings.routing.active && !sink.has_error_under("routing.active"))
        sink.error(node->source(), "shadow.pool",
                   quote(out.pool) + " is the active pool; a shadow pool must be another pool");
}

}  // namespace

void read_shadow(Sink& sink, const TableReader& top, Settings& settings) {
    const auto* t = top.get_table("shadow");
    if (t == nullptr) return;
    ShadowSettings& out = settings.shadow;
    TableReader r(sink, *t, "shadow",
                  {"pool", "percent", "sample", "methods", "max_body", "timeout", "max_inflight",
                   "memory", "host_suffix", "allow_unsafe", "diff"});
    r.get_string("pool", out.pool, true);
    read_percent(r, out.percent_milli);
    r.get_enum<ShadowSample>("sample", out.sample,
                             {{"user", ShadowSample::user}, {"request", ShadowSample::request}});
    // Read first: it decides whether the methods may be unsafe.
    r.get_bool("allow_unsafe", out.allow_unsafe);
    read_methods(r, out.allow_unsafe, out.methods);
    r.get_size("max_body", out.max_body, 0, kGiB);
    r.get_duration("timeout", out.timeout, kMs);
    r.get_integer("max_inflight", out.max_inflight, 1);
    r.get_size("memory", out.memory, 0, kGiB);
    // A mirrored body is buffered whole, within the worker's memory budget.
    if (out.memory < out.max_body && !sink.has_error_under("shadow.memory") &&
        !sink.has_error_under("shadow.max_body")) {
        const std::string message = "shadow.memory (" + format_size(out.memory) +
                                    ") is below shadow.max_body (" + format_size(out.max_body) +
                                    "): a mirrored body is buffered whole within memory";
        if (const auto* node = r.find("memory"))
            sink.error(node->source(), "shadow.memory", message);
        else
            sink.error(r.find("max_body")->source(), "shadow.max_body", message);
    }
    read_host_suffix(r, out.host_suffix);
    if (const auto* diff = r.get_table("diff")) read_diff(sink, *diff, out.diff);
    check_pool(r, settings, out);
}

}  // namespace switchyard::config::detail

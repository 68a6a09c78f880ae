// The [pools.NAME] tables: each read_* function owns one table of the
// schema, as in config_loader.cpp.
#include "pool_reader.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "switchyard/core/address.hpp"

namespace switchyard::config::detail {
namespace {

// Pool names travel in control commands, metric labels and the state file.
bool is_pool_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_status_range(std::string_view s) {
    auto parse_code = [](std::string_view code) -> std::optional<std::uint16_t> {
        if (code.size() != 3 ||
            !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        auto v = static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 +
                                            (code[2] - '0'));
        if (v < 100 || v > 599) return std::nullopt;
        return v;
    };
    auto dash = s.find('-');
    auto lo = parse_code(s.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_code(s.substr(dash + 1));
    if (!lo || !hi || *lo > *hi) return std::nullopt;
    return std::pair{*lo, *hi};
}

void read_health(Sink& sink, const toml::table& t, const std::string& path,
                 HealthCheckSettings& out) {
    TableReader r(sink, t, path, {"path", "host", "interval", "timeout", "rise", "fall", "expect"});
    if (const auto* node = r.find("path")) {
        if (auto p = detail::read_string(sink, *node, r.path_of("path"))) {
            if (p->front() != '/')
                sink.error(node->source(), r.path_of("path"), "must start with \"/\"");
            else
                out.path = std::move(*p);
        }
    }
    r.get_string("host", out.host, true);  // empty: the server address
    r.get_duration("interval", out.interval, kMs);
    r.get_duration("timeout", out.timeout, kMs);
    r.get_integer("rise", out.rise, 1, 1000);
    r.get_integer("fall", out.fall, 1, 1000);
    if (const auto* node = r.find("expect")) {
        std::optional<std::pair<std::uint16_t, std::uint16_t>> range;
        std::string shown;
        if (const auto* s = node->as_string()) {
            range = parse_status_range(s->get());
            shown = quote(s->get());
        } else if (const auto* i = node->as_integer()) {
            if (i->get() >= 100 && i->get() <= 599)
                range = std::pair{static_cast<std::uint16_t>(i->get()),
                                  static_cast<std::uint16_t>(i->get())};
            shown = std::to_string(i->get());
        }
        if (shown.empty()) {
            sink.error(node->source(), r.path_of("expect"),
                       "expected a status code or range like \"200-399\", got " +
                           std::string(detail::describe(node->type())));
        } else if (!range) {
            sink.error(
                node->source(), r.path_of("expect"),
                "invalid status range " + shown +
                    " (expected a code or a range of codes between 100 and 599, like \"200-399\")");
        } else {
            out.expect_min = range->first;
            out.expect_max = range->second;
        }
    }
}

void read_outlier(Sink& sink, const toml::table& t, const std::string& path, OutlierSettings& out) {
    TableReader r(sink, t, path, {"consecutive_failures", "base_ejection", "max_ejected_percent"});
    r.get_integer("consecutive_failures", out.consecutive_failures, 1);
    r.get_duration("base_ejection", out.base_ejection, kMs);
    r.get_integer("max_ejected_percent", out.max_ejected_percent, 0, 100);
}

void read_min_healthy(Sink& sink, const toml::table& t, const std::string& path,
                      MinHealthySettings& out) {
    TableReader r(sink, t, path, {"count", "percent"});
    r.get_integer("count", out.count, 0);
    r.get_integer("percent", out.percent, 0, 100);
}

void read_upstream_tls(Sink& sink, const toml::table& t, const std::string& path,
                       UpstreamTlsSettings& out) {
    TableReader r(sink, t, path, {"ca", "sni", "verify"});
    r.get_string("ca", out.ca);
    if (const auto* node = r.find("sni")) {
        if (auto sni = detail::read_string(sink, *node, r.path_of("sni"))) {
            if (!is_valid_hostname(*sni))
                sink.error(node->source(), r.path_of("sni"), "invalid host name " + quote(*sni));
            else
                out.sni = std::move(*sni);
        }
    }
    r.get_bool("verify", out.verify);
}

void read_upstream_server(Sink& sink, const toml::table& t, const std::string& path,
                          ServerSettings& out, std::vector<PlacedEndpoint>& seen) {
    TableReader r(sink, t, path, {"address", "weight"});
    if (const auto* node = r.require("address")) {
        if (auto ep = detail::read_endpoint(sink, *node, r.path_of("address"))) {
            // Control commands name a server by its address, so it must be
            // unique within the pool.
            auto dup = std::find_if(seen.begin(), seen.end(),
                                    [&](const PlacedEndpoint& p) { return p.endpoint == *ep; });
            if (dup != seen.end())
                sink.error(
                    node->source(), r.path_of("address"),
                    "duplicate server " + quote(ep->to_string()) + " (also " + dup->path + ")");
            else
                seen.push_back({*ep, r.path_of("address")});
            out.address = std::move(*ep);
        }
    }
    r.get_integer("weight", out.weight, 1, 10000);
}

void read_pool(Sink& sink, const toml::table& t, const std::string& path, PoolSettings& out) {
    TableReader r(sink, t, path,
                  {"balance", "servers", "retries", "max_connections_per_server",
                   "max_pending_per_server", "retry_budget_percent", "dns_refresh", "health",
                   "outlier", "min_healthy", "on_unhealthy", "tls"});
    r.get_enum<BalancePolicy>("balance", out.balance,
                              {{"least_request", BalancePolicy::least_request},
                               {"round_robin", BalancePolicy::round_robin}});
    if (const auto* node = r.find("servers")) {
        if (const auto* servers = detail::read_array(sink, *node, r.path_of("servers"))) {
            if (servers->empty())
                sink.error(node->source(), r.path_of("servers"),
                           "a pool needs at least one server");
            std::vector<PlacedEndpoint> seen;
            for (std::size_t i = 0; i < servers->size(); ++i) {
                auto server_path = index_path(r.path_of("servers"), i);
                const auto& element = (*servers)[i];
                if (element.is_string()) {
                    sink.error(element.source(), server_path,
                               "expected a table like { address = " +
                                   quote(element.value_or(std::string_view{})) +
                                   " }, got a string");
                    continue;
                }
                if (const auto* st = detail::read_table(sink, element, server_path))
                    read_upstream_server(sink, *st, server_path, out.servers.emplace_back(), seen);
            }
        }
    } else {
        sink.error(t.source(), r.path_of("servers"),
                   "required key is missing (a pool needs at least one server)");
    }
    r.get_integer("retries", out.retries, 0, 10);
    r.get_integer("max_connections_per_server", out.max_connections_per_server, 0);
    r.get_integer("max_pending_per_server", out.max_pending_per_server, 0);
    r.get_integer("retry_budget_percent", out.retry_budget_percent, 0, 100);
    // Names are resolved on this period; more often than 1s only loads DNS.
    r.get_duration("dns_refresh", out.dns_refresh, kSecond);
    if (const auto* h = r.get_table("health"))
        read_health(sink, *h, r.path_of("health"), out.health.emplace());
    if (const auto* o = r.get_table("outlier"))
        read_outlier(sink, *o, r.path_of("outlier"), out.outlier.emplace());
    if (const auto* m = r.get_table("min_healthy"))
        read_min_healthy(sink, *m, r.path_of("min_healthy"), out.min_healthy);
    r.get_enum<OnUnhealthy>("on_unhealthy", out.on_unhealthy,
                            {{"fail", OnUnhealthy::fail}, {"fallback", OnUnhealthy::fallback}});
    if (const auto* tls = r.get_table("tls"))
        read_upstream_tls(sink, *tls, r.path_of("tls"), out.tls.emplace());
}

}  // namespace

void read_pools(Sink& sink, const TableReader& top, std::vector<PoolSettings>& out) {
    const auto* node = top.find("pools");
    if (node == nullptr) {
        sink.error_unplaced("pools", "at least one pool is required ([pools.NAME] with servers)");
        return;
    }
    const auto* pools = detail::read_table(sink, *node, "pools");
    if (pools == nullptr) return;
    if (pools->empty()) {
        sink.error(node->source(), "pools",
                   "at least one pool is required ([pools.NAME] with servers)");
        return;
    }
    // toml::table is ordered by key; Settings::pools keeps the file's order.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [key, value] : *pools)
        entries.emplace_back(&key, &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.first->source().begin;
        const auto& pb = b.first->source().begin;
        return std::pair{pa.line, pa.column} < std::pair{pb.line, pb.column};
    });
    for (const auto& [key, value] : entries) {
        auto path = detail::join_path("pools", key->str());
        if (!is_pool_name(key->str())) {
            sink.error(key->source(), path,
                       "invalid pool name " + quote(key->str()) +
                           " (1 to 64 letters, digits, '_' or '-')");
            continue;
        }
        if (const auto* t = detail::read_table(sink, *value, path)) {
            auto& pool = out.emplace_back();
            pool.name = std::string(key->str());
            read_pool(sink, *t, path, pool);
        }
    }
}

namespace {

std::string pool_list(const std::vector<PoolSettings>& pools) {
    std::string out;
    for (const auto& p : pools)
        out += (out.empty() ? "" : ", ") + p.name;
    return out;
}

std::string_view pool_hint(std::string_view name, const std::vector<PoolSettings>& pools) {
    std::vector<std::string_view> names;
    for (const auto& p : pools)
        names.push_back(p.name);
    return closest(name, names);
}

}  // namespace

std::string no_such_pool(std::string_view name, const std::vector<PoolSettings>& pools) {
    std::string message = "no pool named " + quote(name) + " (pools: " + pool_list(pools) + ")";
    if (auto hint = pool_hint(name, pools); !hint.empty())
        message += "; did you mean " + quote(hint) + "?";
    return message;
}

std::string default_names_no_pool(std::string_view name, const std::vector<PoolSettings>& pools) {
    return "not set, and the default " + quote(name) +
           " names no pool (pools: " + pool_list(pools) + ")";
}

}  // namespace switchyard::config::detail

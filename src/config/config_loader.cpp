// switchyard.toml -> Settings: the schema of DESIGN.md's "Config (TOML)".
//
// Each read_* function owns one table of the schema: its TableReader lists the
// table's keys (anything else is an unknown-key error) and every value is
// checked where it is read. Cross-references (routing -> pools) are checked
// after all tables are read, so every error of a file is reported in one run.
// The pools' tables are read in pool_reader.cpp.
#include "switchyard/config/config_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster_reader.hpp"
#include "flag_reader.hpp"
#include "pool_reader.hpp"
#include "rollout_reader.hpp"
#include "shadow_reader.hpp"
#include "switchyard/core/address.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/core/units.hpp"
#include "toml_reader.hpp"

namespace switchyard::config {
namespace {

using detail::closest;
using detail::default_names_no_pool;
using detail::index_path;
using detail::kGiB;
using detail::kMs;
using detail::kSecond;
using detail::no_such_pool;
using detail::PlacedEndpoint;
using detail::quote;
using detail::read_pools;
using detail::Sink;
using detail::TableReader;

bool is_sni_pattern(std::string_view host) {
    if (host.starts_with("*.")) host.remove_prefix(2);
    return is_valid_hostname(host);
}

void read_token(const TableReader& r, std::string_view key, std::string& out,
                std::string_view what) {
    const auto* node = r.find(key);
    if (node == nullptr) return;
    auto text = detail::read_string(r.sink(), *node, r.path_of(key));
    if (!text) return;
    if (!is_token(*text)) {
        r.sink().error(node->source(), r.path_of(key),
                       "invalid " + std::string(what) + " " + quote(*text) +
                           " (letters, digits and !#$%&'*+-.^_`|~ only)");
        return;
    }
    out = std::move(*text);
}

void read_server_process(Sink& sink, const toml::table& t, ServerProcessSettings& out) {
    TableReader r(sink, t, "server",
                  {"workers", "drain_timeout", "state_file", "max_connections", "shutdown_delay",
                   "retry_buffer", "via_name", "upgrade_timeout", "metrics"});
    r.get_integer("workers", out.workers, 0, 1024);
    r.get_duration("drain_timeout", out.drain_timeout);
    r.get_string("state_file", out.state_file);
    r.get_integer("max_connections", out.max_connections, 1);
    r.get_duration("shutdown_delay", out.shutdown_delay);
    r.get_duration("upgrade_timeout", out.upgrade_timeout, kMs);
    r.get_size("retry_buffer", out.retry_buffer, 0, kGiB);
    read_token(r, "via_name", out.via_name, "Via pseudonym");
    r.get_bool("metrics", out.metrics);
}

void read_timeouts(Sink& sink, const toml::table& t, TimeoutSettings& out) {
    TableReader r(sink, t, "timeouts",
                  {"client_header", "client_body", "client_idle", "send", "upstream_connect",
                   "upstream_response", "upstream_idle", "tunnel_idle", "client_body_min_rate",
                   "client_body_grace"});
    // A zero timeout would fail every request at once, so none may be 0.
    r.get_duration("client_header", out.client_header, kMs);
    r.get_duration("client_body", out.client_body, kMs);
    r.get_duration("client_idle", out.client_idle, kMs);
    r.get_duration("send", out.send, kMs);
    r.get_duration("upstream_connect", out.upstream_connect, kMs);
    r.get_duration("upstream_response", out.upstream_response, kMs);
    r.get_duration("upstream_idle", out.upstream_idle, kMs);
    r.get_duration("tunnel_idle", out.tunnel_idle, kMs);
    if (const auto* node = r.find("client_body_min_rate")) {
        const std::string path = r.path_of("client_body_min_rate");
        if (auto text = detail::read_string(sink, *node, path)) {
            if (auto rate = parse_rate(*text); rate && *rate <= kGiB)
                out.client_body_min_rate = *rate;
            else
                sink.error(node->source(), path,
                           "invalid rate " + quote(*text) +
                               " (expected a size per second up to 1GiB/s, like \"1KiB/s\", "
                               "or \"0\" for no minimum)");
        }
    }
    r.get_duration("client_body_grace", out.client_body_grace);
}

void read_limits(Sink& sink, const toml::table& t, LimitSettings& out) {
    TableReader r(sink, t, "limits", {"max_header_bytes", "max_target_bytes", "max_body_bytes"});
    r.get_size("max_header_bytes", out.max_header_bytes, 1, kGiB);
    r.get_size("max_target_bytes", out.max_target_bytes, 1, kGiB);
    r.get_size("max_body_bytes", out.max_body_bytes);
}

void read_log(Sink& sink, const toml::table& t, LogSettings& out) {
    TableReader r(
        sink, t, "log",
        {"level", "error_log", "access_log", "audit_log", "access_log_sample", "event_log"});
    std::string_view level = out.level;
    r.get_enum<std::string_view>("level", level,
                                 {{"trace", "trace"},
                                  {"debug", "debug"},
                                  {"info", "info"},
                                  {"warn", "warn"},
                                  {"error", "error"},
                                  {"critical", "critical"},
                                  {"off", "off"}});
    out.level = std::string(level);
    r.get_string("error_log", out.error_log);
    r.get_string("access_log", out.access_log);
    r.get_string("audit_log", out.audit_log);
    // "off" writes nothing (never a file named off). An access log is often
    // off on purpose; the error and audit logs losing everything is worth a
    // word at --check and start.
    if (out.error_log == "off")
        if (const auto* node = r.find("error_log"))
            sink.warning(node->source(), "log.error_log",
                         "off: errors and warnings are not logged (failures to start still go "
                         "to stderr)");
    if (out.audit_log == "off")
        if (const auto* node = r.find("audit_log"))
            sink.warning(node->source(), "log.audit_log", "off: control commands are not audited");
    // Empty: the ramp's events go to the error log. They are the record of
    // what a ramp did to the users, so unlike the other logs there is no
    // "off" (which would otherwise be a file named off).
    if (const auto* node = r.find("event_log")) {
        if (auto path = detail::read_string(sink, *node, "log.event_log", true)) {
            if (*path == "off")
                sink.error(node->source(), "log.event_log",
                           "the ramp's events cannot be turned off (\"\" writes them to the "
                           "error log)");
            else
                out.event_log = std::move(*path);
        }
    }
    if (const auto* node = r.find("access_log_sample")) {
        if (auto v = detail::read_number(sink, *node, "log.access_log_sample", 0, 1)) {
            if (*v <= 0)
                sink.error(node->source(), "log.access_log_sample",
                           "must be above 0 (use access_log = \"off\" to log nothing)");
            else
                out.access_log_sample = *v;
        }
    }
}

void read_tls_certificate(Sink& sink, const toml::table& t, const std::string& path,
                          TlsCertificateSettings& out) {
    TableReader r(sink, t, path, {"hosts", "cert", "key"});
    if (const auto* hosts = r.get_array("hosts")) {
        for (std::size_t i = 0; i < hosts->size(); ++i) {
            const auto& node = (*hosts)[i];
            auto host_path = index_path(r.path_of("hosts"), i);
            auto host = detail::read_string(sink, node, host_path);
            if (!host) continue;
            if (!is_sni_pattern(*host)) {
                sink.error(node.source(), host_path,
                           "invalid host name " + quote(*host) +
                               " (expected a DNS name, optionally starting with \"*.\")");
                continue;
            }
            out.hosts.push_back(std::move(*host));
        }
    }
    if (r.require("cert")) r.get_string("cert", out.cert);
    if (r.require("key")) r.get_string("key", out.key);
}

void read_listener_tls(Sink& sink, const toml::table& t, const std::string& path,
                       ListenerTlsSettings& out) {
    TableReader r(sink, t, path,
                  {"cert", "key", "min_version", "ciphers", "ciphersuites", "certificates"});
    if (r.require("cert")) r.get_string("cert", out.cert);
    if (r.require("key")) r.get_string("key", out.key);
    std::string_view min_version = out.min_version;
    r.get_enum<std::string_view>("min_version", min_version, {{"1.2", "1.2"}, {"1.3", "1.3"}});
    out.min_version = std::string(min_version);
    r.get_string("ciphers", out.ciphers, true);
    r.get_string("ciphersuites", out.ciphersuites, true);
    if (const auto* certs = r.get_array("certificates")) {
        for (std::size_t i = 0; i < certs->size(); ++i) {
            auto cert_path = index_path(r.path_of("certificates"), i);
            if (const auto* ct = detail::read_table(sink, (*certs)[i], cert_path)) {
                read_tls_certificate(sink, *ct, cert_path, out.certificates.emplace_back());
            }
        }
    }
}

// protocols: on TLS "h2" and "http/1.1" in ALPN order; on plain "h2c"
// (prior-knowledge HTTP/2) and "http/1.1". Default: h2 and HTTP/1.1 on
// TLS, HTTP/1.1 on plain.
void read_protocols(const TableReader& r, ListenerSettings& out) {
    const bool tls = out.tls.has_value();
    Sink& sink = r.sink();
    const auto* array = r.get_array("protocols");
    if (array == nullptr) {
        out.protocols =
            tls ? std::vector<std::string>{"h2", "http/1.1"} : std::vector<std::string>{"http/1.1"};
    } else {
        if (array->empty())
            sink.error(array->source(), r.path_of("protocols"), "must name at least one protocol");
        for (std::size_t i = 0; i < array->size(); ++i) {
            const std::string at = index_path(r.path_of("protocols"), i);
            auto name = detail::read_string(sink, (*array)[i], at);
            if (!name) continue;
            if (*name == "h2" && !tls) {
                sink.error((*array)[i].source(), at,
                           "\"h2\" needs tls on the listener; plain HTTP/2 is \"h2c\"");
            } else if (*name == "h2c" && tls) {
                sink.error((*array)[i].source(), at,
                           "\"h2c\" is HTTP/2 without TLS; on a TLS listener use \"h2\"");
            } else if (*name != "h2" && *name != "h2c" && *name != "http/1.1") {
                sink.error((*array)[i].source(), at,
                           "invalid value " + quote(*name) +
                               " (expected \"h2\", \"h2c\" or \"http/1.1\")");
            } else if (out.speaks(*name)) {
                sink.error((*array)[i].source(), at, "duplicate protocol " + quote(*name));
            } else {
                out.protocols.push_back(std::move(*name));
            }
        }
    }
    if (tls) {
        out.tls->alpn.clear();
        for (const auto& p : out.protocols)
            out.tls->alpn.push_back(p);
    }
}

void read_http2(Sink& sink, const toml::table& t, const std::string& path, Http2Settings& out) {
    TableReader r(sink, t, path, {"max_concurrent_streams", "initial_window", "max_header_list"});
    r.get_integer("max_concurrent_streams", out.max_concurrent_streams, 1, 100000);
    // RFC 9113 §6.5.2: a window is at most 2^31-1.
    r.get_size("initial_window", out.initial_window, 1024, 0x7fffffff);
    r.get_size("max_header_list", out.max_header_list, 1024, 16 * 1024 * 1024);
}

void read_listener(Sink& sink, const toml::table& t, const std::string& path, ListenerSettings& out,
                   std::vector<PlacedEndpoint>& seen) {
    TableReader r(
        sink, t, path,
        {"address", "trusted_proxies", "forwarded", "proxy_protocol", "tls", "protocols", "http2"});
    if (const auto* node = r.require("address")) {
        if (auto ep = detail::read_endpoint(sink, *node, r.path_of("address"))) {
            // Two listeners on one fixed address cannot both bind; port 0
            // gets a fresh ephemeral port each time, so it never clashes.
            auto dup = std::find_if(seen.begin(), seen.end(), [&](const PlacedEndpoint& p) {
                return ep->port != 0 && p.endpoint == *ep;
            });
            if (dup != seen.end()) {
                sink.error(
                    node->source(), r.path_of("address"),
                    "duplicate address " + quote(ep->to_string()) + " (also " + dup->path + ")");
            } else {
                seen.push_back({*ep, r.path_of("address")});
            }
            out.address = std::move(*ep);
        }
    }
    if (const auto* proxies = r.get_array("trusted_proxies")) {
        for (std::size_t i = 0; i < proxies->size(); ++i) {
            if (auto cidr = detail::read_cidr(sink, (*proxies)[i],
                                              index_path(r.path_of("trusted_proxies"), i)))
                out.trusted_proxies.push_back(std::move(*cidr));
        }
    }
    r.get_enum<ForwardedHeader>("forwarded", out.forwarded,
                                {{"append", ForwardedHeader::append},
                                 {"replace", ForwardedHeader::replace},
                                 {"off", ForwardedHeader::off}});
    r.get_bool("proxy_protocol", out.proxy_protocol);
    if (const auto* tls = r.get_table("tls"))
        read_listener_tls(sink, *tls, r.path_of("tls"), out.tls.emplace());
    read_protocols(r, out);
    if (const auto* h2 = r.get_table("http2")) read_http2(sink, *h2, r.path_of("http2"), out.http2);
}

void read_listeners(Sink& sink, const TableReader& top, std::vector<ListenerSettings>& out,
                    std::vector<PlacedEndpoint>& seen) {
    const auto* node = top.find("listeners");
    if (node == nullptr) {
        sink.error_unplaced("listeners",
                            "at least one [[listeners]] entry with an address is required");
        return;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
        sink.error(node->source(), "listeners",
                   "expected an array of tables ([[listeners]]), got " +
                       std::string(detail::describe(node->type())));
        return;
    }
    if (array->empty()) {
        sink.error(node->source(), "listeners",
                   "at least one [[listeners]] entry with an address is required");
        return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto path = index_path("listeners", i);
        if (const auto* t = detail::read_table(sink, (*array)[i], path))
            read_listener(sink, *t, path, out.emplace_back(), seen);
    }
}

void read_control(Sink& sink, const toml::table& t, ControlSettings& out) {
    TableReader r(sink, t, "control", {"socket", "mode"});
    if (const auto* node = r.find("socket")) {
        if (auto path = detail::read_string(sink, *node, "control.socket")) {
            // sockaddr_un::sun_path holds 108 bytes with the terminating NUL;
            // a longer path would only fail later, at bind().
            if (path->size() > 107)
                sink.error(node->source(), "control.socket",
                           "too long: " + std::to_string(path->size()) +
                               " bytes (a Unix socket path holds at most 107)");
            else
                out.socket = std::move(*path);
        }
    }
    if (const auto* node = r.find("mode")) {
        // A string, because TOML has no leading-zero integers: mode = 660
        // would silently be decimal.
        const auto* text = node->as_string();
        if (text == nullptr) {
            sink.error(node->source(), "control.mode",
                       "expected a string with an octal mode like \"0660\", got " +
                           std::string(detail::describe(node->type())));
            return;
        }
        const std::string& s = text->get();
        const bool octal =
            (s.size() == 3 || s.size() == 4) &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; });
        const unsigned long value = octal ? std::stoul(s, nullptr, 8) : 0;
        if (!octal || value > 0777) {
            sink.error(node->source(), "control.mode",
                       "invalid mode " + quote(s) +
                           " (expected octal permissions 0000 to 0777, like \"0660\")");
            return;
        }
        out.mode = static_cast<std::uint32_t>(value);
    }
}

void read_admin(Sink& sink, const toml::table& t, AdminSettings& out) {
    TableReader r(sink, t, "admin", {"address"});
    if (const auto* node = r.require("address"))
        if (auto ep = detail::read_endpoint(sink, *node, "admin.address")) {
            // Read only, but it tells whoever reaches it about every pool
            // and server: like Envoy's admin port, keep it on loopback.
            const std::string& h = ep->host;
            if (h != "localhost" && h != "::1" && h.rfind("127.", 0) != 0)
                sink.warning(node->source(), "admin.address",
                             "the admin listener on " + quote(h) +
                                 " is reachable from other hosts; it has no authentication "
                                 "(keep it on 127.0.0.1 or a management network)");
            out.address = std::move(*ep);
        }
}

void read_sticky(Sink& sink, const toml::table& t, StickySettings& out) {
    TableReader r(sink, t, "routing.sticky", {"source", "name", "assign_cookie", "assign_max_age"});
    r.get_enum<StickySource>("source", out.source,
                             {{"cookie", StickySource::cookie},
                              {"header", StickySource::header},
                              {"client_ip", StickySource::client_ip},
                              {"none", StickySource::none}});
    read_token(r, "name", out.name,
               out.source == StickySource::header ? "header name" : "cookie name");
    read_token(r, "assign_cookie", out.assign_cookie, "cookie name");
    // Max-Age is in whole seconds.
    r.get_duration("assign_max_age", out.assign_max_age, kSecond);
}

// Routing is read after the pools because it names them.
void read_routing(Sink& sink, const toml::table* t, const Settings& settings,
                  RoutingSettings& out) {
    const toml::node* active_node = nullptr;
    const toml::node* canary_pool_node = nullptr;
    const toml::table* canary_table = nullptr;
    if (t != nullptr) {
        TableReader r(sink, *t, "routing",
                      {"active", "seed", "canary", "sticky", "override_header", "override_token",
                       "flags_header", "context_header"});
        active_node = r.find("active");
        r.get_string("active", out.active);
        r.get_integer("seed", out.seed, 0);
        if ((canary_table = r.get_table("canary"))) {
            TableReader c(sink, *canary_table, "routing.canary", {"pool", "weight"});
            canary_pool_node = c.find("pool");
            c.get_string("pool", out.canary_pool);
            if (const auto* w = c.find("weight")) {
                if (auto weight = detail::read_number(sink, *w, "routing.canary.weight", 0, 100)) {
                    // The router works in basis points (hundredths of a percent).
                    if (std::abs(*weight * 100 - std::round(*weight * 100)) > 1e-6)
                        sink.error(
                            w->source(), "routing.canary.weight",
                            "at most two decimals (the weight is kept in hundredths of a percent)");
                    else
                        out.canary_weight_percent = std::round(*weight * 100) / 100;
                }
            }
        }
        if (const auto* sticky = r.get_table("sticky")) read_sticky(sink, *sticky, out.sticky);
        read_token(r, "override_header", out.override_header, "header name");
        r.get_string("override_token", out.override_token);
        detail::read_flag_headers(r, out);
    }

    if (settings.pools.empty()) return;  // "no pool" is reported once, at pools
    if (!sink.has_error_under("routing.active") && !settings.find_pool(out.active)) {
        if (active_node != nullptr)
            sink.error(active_node->source(), "routing.active",
                       no_such_pool(out.active, settings.pools));
        else if (t != nullptr)
            sink.error(t->source(), "routing.active",
                       default_names_no_pool(out.active, settings.pools));
        else
            sink.error_unplaced("routing.active",
                                default_names_no_pool(out.active, settings.pools));
    }
    if (canary_table == nullptr) return;
    if (!out.canary_pool.empty()) {
        if (!settings.find_pool(out.canary_pool))
            sink.error(canary_pool_node->source(), "routing.canary.pool",
                       no_such_pool(out.canary_pool, settings.pools));
        else if (out.canary_pool == out.active)
            sink.error(
                canary_pool_node->source(), "routing.canary.pool",
                quote(out.canary_pool) + " is the active pool; a canary pool must be another pool");
    } else if (out.canary_weight_percent > 0 && !sink.has_error_under("routing.canary.pool")) {
        sink.error(canary_table->source(), "routing.canary.pool", "required when weight > 0");
    }
}

void read_settings(Sink& sink, const toml::table& root, Settings& s) {
    TableReader top(sink, root, "",
                    {"server", "timeouts", "limits", "log", "listeners", "control", "admin",
                     "routing", "pools", "rollout", "flags", "shadow", "cluster"});
    if (const auto* t = top.get_table("server")) read_server_process(sink, *t, s.server);
    if (const auto* t = top.get_table("timeouts")) read_timeouts(sink, *t, s.timeouts);
    if (const auto* t = top.get_table("limits")) read_limits(sink, *t, s.limits);
    if (const auto* t = top.get_table("log")) read_log(sink, *t, s.log);
    std::vector<PlacedEndpoint> listen_addresses;
    read_listeners(sink, top, s.listeners, listen_addresses);
    if (const auto* t = top.get_table("control")) read_control(sink, *t, s.control);
    if (const auto* t = top.get_table("admin")) {
        read_admin(sink, *t, s.admin.emplace());
        auto clash =
            std::find_if(listen_addresses.begin(), listen_addresses.end(), [&](const auto& p) {
                return s.admin->address.port != 0 && p.endpoint == s.admin->address;
            });
        if (clash != listen_addresses.end())
            sink.error(t->get("address")->source(), "admin.address",
                       "duplicate address " + quote(s.admin->address.to_string()) + " (also " +
                           clash->path + ")");
    }
    read_pools(sink, top, s.pools);
    read_routing(sink, top.get_table("routing"), s, s.routing);
    detail::read_flags(sink, top, s);
    detail::read_shadow(sink, top, s);
    detail::read_cluster(sink, top, s);
    if (const auto* t = top.get_table("rollout")) detail::read_rollout(sink, *t, s.rollout);
}

std::string plural(std::size_t n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string format_percent(double percent) {
    // Two decimals at most, trailing zeros dropped: 5 -> "5", 2.5 -> "2.5".
    auto hundredths = static_cast<long long>(std::llround(percent * 100));
    std::string out = std::to_string(hundredths / 100);
    if (auto frac = hundredths % 100; frac != 0) {
        out += "." + std::to_string(frac / 10);
        if (frac % 10 != 0) out += std::to_string(frac % 10);
    }
    return out;
}

}  // namespace

std::string Diagnostic::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    if (!key_path.empty()) out += key_path + ": ";
    out += message;
    return out;
}

std::size_t LoadResult::error_count() const {
    return static_cast<std::size_t>(
        std::count_if(diagnostics.begin(), diagnostics.end(),
                      [](const auto& d) { return d.severity == Diagnostic::Severity::error; }));
}

std::size_t LoadResult::warning_count() const {
    return diagnostics.size() - error_count();
}

LoadResult load_string(std::string_view toml_text, std::string_view source_name) {
    Sink sink{std::string(source_name)};
    LoadResult result;
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string(source_name));
    } catch (const toml::parse_error& e) {
        sink.error(e.source(), "", std::string(e.description()));
        result.diagnostics = sink.take();
        return result;
    }
    Settings settings;
    settings.source_path = std::string(source_name);
    read_settings(sink, root, settings);
    if (!sink.has_errors()) result.settings = std::move(settings);
    result.diagnostics = sink.take();
    return result;
}

LoadResult load_file(const std::string& path) {
    auto fail = [&](std::string message) {
        Sink sink{path};
        sink.error_unplaced("", std::move(message));
        LoadResult result;
        result.diagnostics = sink.take();
        return result;
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("cannot read: is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot open: " + std::string(std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail("cannot read: " + std::string(std::strerror(errno)));
    return load_string(text.str(), path);
}

std::string summary(const Settings& s) {
    std::string out = "config ok: " + plural(s.listeners.size(), "listener") + ", " +
                      plural(s.pools.size(), "pool") + " (";
    for (std::size_t i = 0; i < s.pools.size(); ++i) {
        if (i > 0) out += ", ";
        out += s.pools[i].name + ": " + plural(s.pools[i].servers.size(), "server");
    }
    out += "), active " + s.routing.active;
    if (s.routing.canary_weight_percent > 0)
        out += ", canary " + s.routing.canary_pool + " " +
               format_percent(s.routing.canary_weight_percent) + "%";
    out += s.server.workers == 0 ? std::string(", one worker per core")
                                 : ", " + plural(s.server.workers, "worker");
    if (!s.flags.empty()) out += ", " + plural(s.flags.size(), "flag");
    if (!s.shadow.pool.empty())
        out +=
            ", shadow " + s.shadow.pool + " " + format_flag_percent(s.shadow.percent_milli) + "%";
    if (!s.rollout.gate_url.empty()) out += ", ramp gate";
    if (!s.rollout.webhooks.empty())
        out += ", " + plural(s.rollout.webhooks.size(), "ramp webhook");
    if (s.cluster)
        out += ", fleet " + s.cluster->prefix + " on " +
               plural(s.cluster->etcd.size(), "etcd endpoint");
    return out;
}

}  // namespace switchyard::config

#include "cluster_reader.hpp"

#include <fstream>
#include <iterator>
#include <string>

#include "switchyard/config/config_loader.hpp"

namespace switchyard::config {

std::string read_password_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + detail::quote(path);
        return {};
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    if (text.empty()) error = detail::quote(path) + " holds no password";
    return text;
}

namespace detail {
namespace {

// Key text etcd stores as is; kept to printable ASCII without spaces so
// that it reads the same in logs, etcdctl and every member's config.
bool printable_token(std::string_view s) {
    for (char c : s)
        if (c <= ' ' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

bool member_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

void read_endpoints(const TableReader& r, ClusterSettings& out) {
    Sink& sink = r.sink();
    const auto* node = r.require("etcd");
    if (node == nullptr) return;
    const auto* array = read_array(sink, *node, r.path_of("etcd"));
    if (array == nullptr) return;
    if (array->empty()) {
        sink.error(node->source(), r.path_of("etcd"), "must name at least one etcd endpoint");
        return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& item = (*array)[i];
        const std::string at = index_path(r.path_of("etcd"), i);
        auto text = read_string(sink, item, at);
        if (!text) continue;
        const HttpUrlParse parsed = parse_http_url(*text);
        if (!parsed.error.empty()) {
            sink.error(item.source(), at, "invalid URL " + quote(*text) + ": " + parsed.error);
            continue;
        }
        if (!out.etcd.empty() && parsed.url.tls != out.etcd.front().tls) {
            sink.error(item.source(), at,
                       quote(*text) + ": the endpoints are all http:// or all https://");
            continue;
        }
        if (parsed.url.target != "/") {
            sink.error(item.source(), at,
                       quote(*text) + ": no path (the gateway's paths are /v3/...)");
            continue;
        }
        for (const auto& seen : out.etcd)
            if (seen.host == parsed.url.host && seen.port == parsed.url.port) {
                sink.error(item.source(), at, "duplicate endpoint " + quote(*text));
                return;
            }
        out.etcd.push_back(parsed.url);
    }
}

// tls = { ca, cert, key }: for https endpoints. https without it verifies
// etcd against the system's trust store; with http endpoints only its
// all-empty form (DESIGN.md's template) is accepted, so that no one
// believes a plain connection is protected.
void read_tls(const TableReader& top, ClusterSettings& out) {
    Sink& sink = top.sink();
    const auto* table = top.get_table("tls");
    const bool https = !out.etcd.empty() && out.etcd.front().tls;
    if (table == nullptr) {
        if (https) out.tls.emplace();
        return;
    }
    TableReader r(sink, *table, top.path_of("tls"), {"ca", "cert", "key"});
    UpstreamTlsSettings tls;
    r.get_string("ca", tls.ca, true);
    r.get_string("cert", tls.cert, true);
    r.get_string("key", tls.key, true);
    if (tls.cert.empty() != tls.key.empty()) {
        sink.error(table->source(), r.path_of(tls.cert.empty() ? "cert" : "key"),
                   "cert and key go together (the client certificate etcd asks for)");
        return;
    }
    if (!https) {
        if (!out.etcd.empty() && !(tls == UpstreamTlsSettings{}))
            sink.error(table->source(), r.path(),
                       "set, but the etcd endpoints are http://; use https:// URLs");
        return;
    }
    out.tls = std::move(tls);
}

void read_prefix(const TableReader& r, ClusterSettings& out) {
    const auto* node = r.find("prefix");
    if (node == nullptr) return;
    auto text = read_string(r.sink(), *node, r.path_of("prefix"));
    if (!text) return;
    const bool shape = text->front() == '/' && text->size() > 1 && text->back() != '/' &&
                       text->find("//") == std::string::npos;
    if (!shape || !printable_token(*text) || text->size() > 256) {
        r.sink().error(node->source(), r.path_of("prefix"),
                       "invalid prefix " + quote(*text) +
                           ": a path such as \"/switchyard/prod\" (starts with '/', no empty "
                           "segment, no trailing '/', printable, at most 256 bytes)");
        return;
    }
    out.prefix = std::move(*text);
}

void read_member(const TableReader& r, ClusterSettings& out) {
    const auto* node = r.find("member");
    if (node == nullptr) return;
    auto text = read_string(r.sink(), *node, r.path_of("member"), true);
    if (!text) return;
    bool ok = text->size() <= 64;
    for (char c : *text)
        ok = ok && member_char(c);
    if (!ok) {
        r.sink().error(node->source(), r.path_of("member"),
                       "invalid member name " + quote(*text) +
                           ": letters, digits, '-', '_' and '.' only, at most 64 bytes");
        return;
    }
    out.member = std::move(*text);
}

void read_lease_ttl(const TableReader& r, ClusterSettings& out) {
    const auto* node = r.find("lease_ttl");
    if (node == nullptr) return;
    auto ttl = read_duration(r.sink(), *node, r.path_of("lease_ttl"), Duration{0});
    if (!ttl) return;
    // etcd grants leases in whole seconds; below 2 s one lost heartbeat
    // drops a live member.
    if (ttl->count() % 1000 != 0 || *ttl < Duration{2000} || *ttl > Duration{3600 * 1000}) {
        r.sink().error(node->source(), r.path_of("lease_ttl"),
                       "must be whole seconds from 2s to 1h");
        return;
    }
    out.lease_ttl = *ttl;
}

void read_credentials(const TableReader& r, const toml::table& table, ClusterSettings& out) {
    r.get_string("username", out.username, true);
    r.get_string("password_file", out.password_file, true);
    Sink& sink = r.sink();
    if (sink.has_error_under(r.path_of("username")) ||
        sink.has_error_under(r.path_of("password_file")))
        return;
    if (out.username.empty() != out.password_file.empty()) {
        sink.error(table.source(), r.path_of(out.username.empty() ? "username" : "password_file"),
                   "username and password_file go together");
        return;
    }
    if (out.password_file.empty()) return;
    std::string error;
    if (read_password_file(out.password_file, error).empty())
        sink.error(r.find("password_file")->source(), r.path_of("password_file"), error);
}

}  // namespace

void read_cluster(Sink& sink, const TableReader& top, Settings& settings) {
    const auto* table = top.get_table("cluster");
    if (table == nullptr) return;
    TableReader r(sink, *table, "cluster",
                  {"etcd", "prefix", "member", "lease_ttl", "username", "password_file", "tls"});
    ClusterSettings& out = settings.cluster.emplace();
    read_endpoints(r, out);
    read_tls(r, out);
    read_prefix(r, out);
    read_member(r, out);
    read_lease_ttl(r, out);
    read_credentials(r, *table, out);
}

}  // namespace detail
}  // namespace switchyard::config

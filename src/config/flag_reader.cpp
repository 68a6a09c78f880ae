#include "flag_reader.hpp"

#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include "pool_reader.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/text.hpp"

namespace switchyard::config::detail {
namespace {

// Fields the proxy writes or interprets itself: a flags or context header
// with one of these names would corrupt the request it forwards.
constexpr std::array<std::string_view, 16> kProxyFields = {"host",
                                                           "content-length",
                                                           "transfer-encoding",
                                                           "connection",
                                                           "keep-alive",
                                                           "te",
                                                           "trailer",
                                                           "upgrade",
                                                           "via",
                                                           "forwarded",
                                                           "x-forwarded-for",
                                                           "x-forwarded-proto",
                                                           "x-forwarded-host",
                                                           "x-request-id",
                                                           "cookie",
                                                           "proxy-connection"};

bool is_proxy_field(std::string_view name) {
    for (auto f : kProxyFields)
        if (iequals(f, name)) return true;
    return false;
}

// Reads one header-name key; false when it is absent or invalid.
bool read_header_name(const TableReader& r, std::string_view key, std::string& out,
                      bool allow_empty) {
    const auto* node = r.find(key);
    if (node == nullptr) return false;
    auto text = read_string(r.sink(), *node, r.path_of(key), allow_empty);
    if (!text) return false;
    if (text->empty()) {
        out.clear();
        return true;
    }
    if (!is_token(*text)) {
        r.sink().error(
            node->source(), r.path_of(key),
            "invalid header name " + quote(*text) + " (letters, digits and !#$%&'*+-.^_`|~ only)");
        return false;
    }
    if (is_proxy_field(*text)) {
        r.sink().error(node->source(), r.path_of(key),
                       quote(*text) + " is a field the proxy writes itself; choose another name");
        return false;
    }
    out = std::move(*text);
    return true;
}

void read_flag(Sink& sink, const toml::table& t, const std::string& path, const Settings& settings,
               FlagSettings& out) {
    TableReader r(sink, t, path, {"name", "percent", "pools", "description"});
    if (const auto* node = r.require("name")) {
        if (auto name = read_string(sink, *node, r.path_of("name"), true)) {
            if (!valid_flag_name(*name))
                sink.error(node->source(), r.path_of("name"),
                           "invalid flag name " + quote(*name) +
                               " (1 to 64 letters, digits, '.', '_' or '-')");
            else
                out.name = std::move(*name);
        }
    }
    if (const auto* node = r.find("percent")) {
        if (auto percent = read_number(sink, *node, r.path_of("percent"), 0, 100)) {
            const double milli = *percent * 1000;
            if (std::abs(milli - std::round(milli)) > 1e-6)
                sink.error(node->source(), r.path_of("percent"),
                           "at most three decimals (flags move in steps of 0.001 %)");
            else
                out.percent_milli = static_cast<std::uint32_t>(std::round(milli));
        }
    }
    if (const auto* pools = r.get_array("pools")) {
        for (std::size_t i = 0; i < pools->size(); ++i) {
            const std::string pool_path = index_path(r.path_of("pools"), i);
            auto name = read_string(sink, (*pools)[i], pool_path);
            if (!name) continue;
            if (settings.find_pool(*name) == nullptr) {
                sink.error((*pools)[i].source(), pool_path, no_such_pool(*name, settings.pools));
                continue;
            }
            if (std::find(out.pools.begin(), out.pools.end(), *name) != out.pools.end()) {
                sink.error((*pools)[i].source(), pool_path, "pool " + quote(*name) + " twice");
                continue;
            }
            out.pools.push_back(std::move(*name));
        }
    }
    r.get_string("description", out.description, true);
}

}  // namespace

void read_flag_headers(const TableReader& r, RoutingSettings& out) {
    read_header_name(r, "flags_header", out.flags_header, false);
    read_header_name(r, "context_header", out.context_header, true);
    // Each header is stripped from clients and set by the proxy: two roles
    // cannot share a name.
    const auto clash = [&](std::string_view key, const std::string& name,
                           std::string_view other_key, const std::string& other) {
        if (name.empty() || other.empty() || !iequals(name, other)) return;
        const auto* node = r.find(key);
        const std::string message = "the same header as routing." + std::string(other_key);
        if (node != nullptr)
            r.sink().error(node->source(), r.path_of(key), message);
        else
            r.sink().error(r.table().source(), r.path_of(key), message);
    };
    clash("flags_header", out.flags_header, "override_header", out.override_header);
    clash("context_header", out.context_header, "override_header", out.override_header);
    clash("context_header", out.context_header, "flags_header", out.flags_header);
}

void read_flags(Sink& sink, const TableReader& top, Settings& settings) {
    const auto* array = top.get_array("flags");
    if (array == nullptr) return;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const std::string path = index_path("flags", i);
        const auto* t = read_table(sink, (*array)[i], path);
        if (t == nullptr) continue;
        if (i == kMaxFlags) {
            sink.error(t->source(), path,
                       "at most " + std::to_string(kMaxFlags) + " flags (this is one more)");
            break;
        }
        FlagSettings flag;
        read_flag(sink, *t, path, settings, flag);
        if (flag.name.empty()) continue;
        if (settings.find_flag(flag.name) != nullptr) {
            sink.error(t->get("name")->source(), path + ".name",
                       "flag " + quote(flag.name) + " is defined twice");
            continue;
        }
        settings.flags.push_back(std::move(flag));
    }
    if (!settings.flags.empty() && settings.routing.sticky.source == StickySource::none)
        sink.error((*array)[0].source(), "flags",
                   "flags need a user key to hash, and routing.sticky.source = \"none\" gives "
                   "none (use cookie, header or client_ip)");
}

}  // namespace switchyard::config::detail

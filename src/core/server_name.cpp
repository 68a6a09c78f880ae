#include "switchyard/core/server_name.hpp"

#include "switchyard/core/text.hpp"

namespace switchyard {
namespace {

std::string_view strip_root_dot(std::string_view s) noexcept {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
}

bool is_wildcard(std::string_view pattern) noexcept {
    return pattern.size() > 2 && pattern.starts_with("*.");
}

}  // namespace

bool host_matches(std::string_view pattern, std::string_view name) {
    pattern = strip_root_dot(pattern);
    name = strip_root_dot(name);
    if (pattern.empty() || name.empty()) return false;
    if (!is_wildcard(pattern)) return iequals(pattern, name);
    // "*.example.com": the name's first label must be non-empty and the rest
    // must equal ".example.com" exactly, so one label and only one is added.
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    const std::size_t dot = name.find('.');
    if (dot == 0 || dot == std::string_view::npos) return false;
    return iequals(name.substr(dot), suffix);
}

int select_certificate(std::span<const std::vector<std::string>> hosts_per_cert,
                       std::string_view server_name) {
    if (strip_root_dot(server_name).empty()) return 0;
    int wildcard = -1;
    for (std::size_t i = 0; i < hosts_per_cert.size(); ++i) {
        for (const auto& pattern : hosts_per_cert[i]) {
            if (!host_matches(pattern, server_name)) continue;
            if (!is_wildcard(strip_root_dot(pattern))) return static_cast<int>(i);
            if (wildcard < 0) wildcard = static_cast<int>(i);
        }
    }
    return wildcard < 0 ? 0 : wildcard;
}

}  // namespace switchyard

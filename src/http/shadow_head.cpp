#include "switchyard/http/shadow_head.hpp"

#include <algorithm>

#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/text.hpp"

namespace switchyard::http {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ipv4_literal(std::string_view host) {
    int dots = 0;
    for (char c : host) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            return false;
    }
    return dots == 3;
}

// Host's value with the suffix after the name, before any ":port".
void append_host(std::string_view value, std::string_view suffix, std::string& out) {
    if (suffix.empty() || value.empty() || value.front() == '[') {
        out += value;
        return;
    }
    std::string_view name = value;
    std::string_view port;
    if (const auto colon = value.rfind(':');
        colon != std::string_view::npos && all_digits(value.substr(colon + 1))) {
        name = value.substr(0, colon);
        port = value.substr(colon);
    }
    out += name;
    if (!is_ipv4_literal(name)) out += suffix;
    out += port;
}

}  // namespace

bool write_shadow_head(std::string_view head, std::string_view host_suffix, std::string& out) {
    constexpr std::string_view kEnd = "\r\n\r\n";
    if (head.size() < kEnd.size() || head.substr(head.size() - kEnd.size()) != kEnd) return false;
    out.clear();
    out.reserve(head.size() + host_suffix.size() + kShadowHeader.size() + 6);
    const std::string_view fields = head.substr(0, head.size() - 2);  // up to the last field's CRLF
    std::size_t pos = 0;
    bool first = true;
    while (pos < fields.size()) {
        const std::size_t eol = fields.find("\r\n", pos);
        if (eol == std::string_view::npos) return false;
        const std::string_view line = fields.substr(pos, eol - pos);
        pos = eol + 2;
        const auto colon = line.find(':');
        if (!first && colon != std::string_view::npos && iequals(line.substr(0, colon), "host")) {
            out.append(line.substr(0, colon + 1));
            out += ' ';
            append_host(trim_ows(line.substr(colon + 1)), host_suffix, out);
        } else {
            out += line;
        }
        out += "\r\n";
        first = false;
    }
    out += kShadowHeader;
    out += ": 1\r\n\r\n";
    return true;
}

}  // namespace switchyard::http

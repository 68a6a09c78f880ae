#include "switchyard/core/http_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "switchyard/core/address.hpp"

namespace switchyard {
namespace {

HttpUrlParse failed(std::string why) {
    HttpUrlParse p;
    p.error = std::move(why);
    return p;
}

bool is_hex(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// RFC 3986 pchar / "/" / "?": unreserved, sub-delims, ":" and "@".
bool is_target_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos;
}

}  // namespace

HttpUrlParse parse_http_url(std::string_view text) {
    HttpUrlParse p;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) return failed("expected http:// or https://");
    std::string scheme(text.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "http" && scheme != "https")
        return failed("scheme \"" + scheme + "\" is not http or https");
    p.url.tls = scheme == "https";
    std::string_view rest = text.substr(sep + 3);
    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view target =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

    if (authority.find('@') != std::string_view::npos)
        return failed("credentials (user@) in the URL are not supported");
    std::string_view host = authority;
    std::string_view port;
    bool ipv6 = false;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return failed("unclosed '[' in the host");
        const auto after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        ipv6 = true;
        if (!after.empty()) {
            if (after.front() != ':') return failed("expected ':' and a port after ']'");
            port = after.substr(1);
            if (port.empty()) return failed("empty port");
        }
    } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
        if (port.empty()) return failed("empty port");
    }
    if (host.empty()) return failed("no host");
    if (ipv6) {
        const auto ip = parse_ip(host);
        if (!ip || ip->size() != 16) return failed("invalid IPv6 address in brackets");
    } else if (const auto ip = parse_ip(host);
               !is_valid_hostname(host) && !(ip && ip->size() == 4)) {
        return failed("invalid host \"" + std::string(host) + "\"");
    }
    p.url.host = std::string(host);
    p.url.port = p.url.tls ? 443 : 80;
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || port.size() > 5 ||
            value == 0 || value > 65535)
            return failed("invalid port \"" + std::string(port) + "\" (1 to 65535)");
        p.url.port = static_cast<std::uint16_t>(value);
    }

    if (target.find('#') != std::string_view::npos)
        return failed("a fragment (#...) is never sent; remove it");
    for (std::size_t i = 0; i < target.size(); ++i) {
        const char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2]))
                return failed("'%' not followed by two hex digits");
            i += 2;
            continue;
        }
        if (!is_target_char(c))
            return failed("character not allowed in a URL path or query (escape it as %XX)");
    }
    if (target.empty())
        p.url.target = "/";
    else if (target.front() == '?')
        p.url.target = "/" + std::string(target);
    else
        p.url.target = std::string(target);
    return p;
}

}  // namespace switchyard

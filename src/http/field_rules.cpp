#include "switchyard/http/field_rules.hpp"

#include "switchyard/core/text.hpp"

namespace switchyard::http {

namespace {

using detail::has_class;

// Characters of a path or query (RFC 3986 §3.3, §3.4) with pct-encoding
// checked. The first '?' ends the path and later ones are query characters,
// so one set (pchar, '/', '?') covers "path [ ? query ]".
bool valid_path_query_chars(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (has_class(c, detail::kPchar) || c == '/' || c == '?') continue;
        if (c == '%' && i + 2 < s.size() && is_hexdig(s[i + 1]) && is_hexdig(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2).
// IPv4address is a subset of it, so it needs no separate check.
bool valid_reg_name(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (has_class(c, detail::kRegName)) continue;
        if (c == '%' && i + 2 < s.size() && is_hexdig(s[i + 1]) && is_hexdig(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

// dec-octet "." dec-octet "." dec-octet "." dec-octet (RFC 3986 §3.2.2): no
// leading zeros, each at most 255.
bool valid_ipv4(std::string_view s) noexcept {
    int octets = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t digits = 0;
        unsigned value = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            value = value * 10 + static_cast<unsigned>(s[i] - '0');
            ++digits;
            ++i;
        }
        if (digits == 0 || digits > 3 || value > 255) return false;
        if (digits > 1 && s[i - digits] == '0') return false;
        if (++octets == 4) return i == s.size();
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
    }
}

// IPv6address (RFC 3986 §3.2.2 / RFC 4291 §2.2): eight h16 groups, one "::"
// standing for one or more zero groups, an optional IPv4 tail counting as two.
bool valid_ipv6(std::string_view s) noexcept {
    std::size_t i = 0;
    int groups = 0;
    bool compressed = false;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
        if (i == s.size()) return true;
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (true) {
        const std::size_t start = i;
        while (i < s.size() && is_hexdig(s[i]))
            ++i;
        const std::size_t digits = i - start;
        if (i < s.size() && s[i] == '.') {
            // IPv4 tail: must be last and needs room for two groups.
            if (!valid_ipv4(s.substr(start))) return false;
            groups += 2;
            break;
        }
        if (digits == 0 || digits > 4) return false;
        ++groups;
        if (i == s.size()) break;
        if (s[i] != ':') return false;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (compressed) return false;
            compressed = true;
            ++i;
            if (i == s.size()) break;
        } else if (i == s.size()) {
            return false;  // a single trailing ':'
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

// port = 1*5DIGIT with value <= 65535 (strict: RFC 3986 allows any digits
// and an empty port; neither is a usable TCP port).
bool valid_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5) return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v <= 65535;
}

}  // namespace

bool is_valid_field_name(std::string_view s) noexcept {
    return is_token(s);
}

bool is_valid_field_value(std::string_view s) noexcept {
    return field_value_run(s) == s.size();
}

bool is_hop_by_hop(std::string_view name) noexcept {
    // Dispatch on length so that most end-to-end fields cost one compare.
    switch (name.size()) {
        case 2:
            return iequals(name, "TE");
        case 7:
            return iequals(name, "Trailer") || iequals(name, "Upgrade");
        case 10:
            return iequals(name, "Connection") || iequals(name, "Keep-Alive");
        case 16:
            return iequals(name, "Proxy-Connection");
        case 17:
            return iequals(name, "Transfer-Encoding");
        default:
            return false;
    }
}

bool is_dropped_trailer_field(std::string_view name) noexcept {
    static constexpr std::string_view dropped[] = {
        "content-length",
        "transfer-encoding",
        "trailer",
        "content-range",
        "connection",
        "keep-alive",
        "te",
        "upgrade",
        "http2-settings",
        "host",
        "max-forwards",
        "authorization",
        "www-authenticate",
        "authentication-info",
        "cookie",
        "set-cookie",
        "expect",
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "cache-control",
        "pragma",
        "expires",
        "age",
        "date",
        "vary",
        "location",
        "retry-after",
        "content-type",
        "content-encoding",
        "via",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
    };
    if (name.size() >= 6 && iequals(name.substr(0, 6), "proxy-")) return true;
    for (std::string_view d : dropped)
        if (iequals(name, d)) return true;
    return false;
}

void ConnectionTokens::add(std::string_view value) noexcept {
    for_each_token(value, [this](std::string_view opt) {
        if (!is_token(opt)) {
            malformed_ = true;
            return;
        }
        if (iequals(opt, "close")) close_ = true;
        if (iequals(opt, "keep-alive")) keep_alive_ = true;
        if (iequals(opt, "upgrade")) upgrade_ = true;
        // Deduplicate so that "close, close, ..." cannot exhaust the capacity;
        // bounded by `capacity` compares per option.
        for (std::size_t i = 0; i < size_; ++i)
            if (iequals(tokens_[i], opt)) return;
        if (size_ == capacity) {
            overflowed_ = true;
            return;
        }
        tokens_[size_++] = opt;
    });
}

bool ConnectionTokens::names(std::string_view field_name) const noexcept {
    for (std::size_t i = 0; i < size_; ++i)
        if (iequals(tokens_[i], field_name)) return true;
    return false;
}

bool is_valid_method(std::string_view method) noexcept {
    return is_token(method);
}

bool is_idempotent(std::string_view method) noexcept {
    // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
           method == "PUT" || method == "DELETE";
}

bool is_valid_origin_form(std::string_view target) noexcept {
    return !target.empty() && target[0] == '/' && valid_path_query_chars(target);
}

std::optional<AbsoluteForm> split_absolute_form(std::string_view target) noexcept {
    const std::size_t colon = target.find("://");
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = target.substr(0, colon);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
    const std::string_view rest = target.substr(colon + 3);
    const std::size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    // '@' (userinfo) and '#' are not valid host characters, so is_valid_host
    // rejects both here.
    if (!is_valid_host(authority)) return std::nullopt;
    const std::string_view path_and_query =
        end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (!valid_path_query_chars(path_and_query)) return std::nullopt;
    return AbsoluteForm{scheme, authority, path_and_query};
}

bool is_valid_host(std::string_view host) noexcept {
    if (host.empty()) return false;
    std::string_view name;
    std::string_view after;
    if (host[0] == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return false;
        // IPvFuture ("v1.x") and zone ids ("%25eth0") fail valid_ipv6: strict.
        if (!valid_ipv6(host.substr(1, close - 1))) return false;
        after = host.substr(close + 1);
    } else {
        const std::size_t colon = host.find(':');
        name = host.substr(0, colon);
        if (name.empty() || !valid_reg_name(name)) return false;
        if (colon != std::string_view::npos) after = host.substr(colon);
    }
    if (after.empty()) return true;
    return after[0] == ':' && valid_port(after.substr(1));
}

}  // namespace switchyard::http

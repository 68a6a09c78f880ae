#include "switchyard/core/cookie.hpp"
#include "switchyard/core/text.hpp"

#include <charconv>

namespace switchyard {
namespace {

// The value of `name` in one Cookie field value, or nullopt. Pairs whose
// name does not match are skipped with one memchr for the next ';' and no
// search for their '=': this runs on every request.
std::optional<std::string_view> find_in(std::string_view field, std::string_view name) {
    while (!field.empty()) {
        const auto semi = field.find(';');
        std::string_view pair = field.substr(0, semi);
        field = semi == std::string_view::npos ? std::string_view{} : field.substr(semi + 1);
        pair = trim_ows(pair);
        if (!pair.starts_with(name)) continue;
        pair = trim_ows(pair.substr(name.size()));
        // Not '=': a longer name ("sy_uidx") or a pair without a value.
        if (pair.empty() || pair.front() != '=') continue;
        std::string_view value = trim_ows(pair.substr(1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        return value;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string_view> find_cookie(std::span<const std::string_view> cookie_header_values,
                                            std::string_view name) {
    // An empty name would match "=value" pairs, which are not cookies.
    if (name.empty()) return std::nullopt;
    for (std::string_view field : cookie_header_values)
        if (auto v = find_in(field, name)) return v;
    return std::nullopt;
}

void append_assign_cookie(std::string& out, std::string_view name, std::string_view value,
                          std::int64_t max_age_seconds, bool secure) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, max_age_seconds);
    (void)ec;  // 24 chars hold any int64
    out.reserve(out.size() + name.size() + value.size() + 64);
    out.append(name).append("=").append(value).append("; Path=/; Max-Age=");
    out.append(digits, end);
    out.append("; HttpOnly; SameSite=Lax");
    if (secure) out.append("; Secure");
}

}  // namespace switchyard

#include "switchyard/core/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace switchyard {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal without sign or spaces, at most `max_digits` digits and `max`.
std::optional<unsigned> parse_small_uint(std::string_view s, std::size_t max_digits, unsigned max) {
    if (!all_digits(s) || s.size() > max_digits) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value > max) return std::nullopt;
    return value;
}

std::optional<std::vector<std::uint8_t>> parse_ip_family(std::string_view text, int family) {
    // inet_pton needs a NUL-terminated string; an embedded NUL must not
    // truncate the input into something valid.
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    std::string copy(text);
    std::vector<std::uint8_t> bytes(family == AF_INET ? 4 : 16);
    if (inet_pton(family, copy.c_str(), bytes.data()) != 1) return std::nullopt;
    return bytes;
}

bool is_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

}  // namespace

std::optional<std::vector<std::uint8_t>> parse_ip(std::string_view text) {
    if (auto v4 = parse_ip_family(text, AF_INET)) return v4;
    return parse_ip_family(text, AF_INET6);
}

bool is_valid_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    std::string_view last_label;
    std::size_t start = 0;
    while (true) {
        auto dot = host.find('.', start);
        auto label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        if (!std::all_of(label.begin(), label.end(), is_label_char)) return false;
        last_label = label;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    // "10.0.0.256" or "1.2.3" look numeric but are no IPv4: refuse them
    // rather than send them to DNS (RFC 3696 2: a TLD is never all-numeric).
    return !all_digits(last_label);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') return std::nullopt;
        port = rest.substr(1);
        if (!parse_ip_family(host, AF_INET6)) return std::nullopt;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        // An unbracketed IPv6 literal is ambiguous ("::1:80").
        if (host.find(':') != std::string_view::npos) return std::nullopt;
        if (!parse_ip_family(host, AF_INET) && !is_valid_hostname(host)) return std::nullopt;
    }
    auto port_value = parse_small_uint(port, 5, 65535);
    if (!port_value) return std::nullopt;
    return Endpoint{std::string(host), static_cast<std::uint16_t>(*port_value)};
}

std::optional<Cidr> parse_cidr(std::string_view text) {
    auto slash = text.find('/');
    auto bytes = parse_ip(text.substr(0, slash));
    if (!bytes) return std::nullopt;
    const int max_len = static_cast<int>(bytes->size() * 8);
    int prefix_len = max_len;
    if (slash != std::string_view::npos) {
        auto len = parse_small_uint(text.substr(slash + 1), 3, static_cast<unsigned>(max_len));
        if (!len) return std::nullopt;
        prefix_len = static_cast<int>(*len);
    }
    for (int bit = prefix_len; bit < max_len; ++bit)
        (*bytes)[static_cast<std::size_t>(bit / 8)] &=
            static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return Cidr{std::move(*bytes), prefix_len};
}

std::string to_string(const Cidr& cidr) {
    char buf[INET6_ADDRSTRLEN] = {};
    const int family = cidr.network.size() == 4 ? AF_INET : AF_INET6;
    if ((cidr.network.size() != 4 && cidr.network.size() != 16) ||
        inet_ntop(family, cidr.network.data(), buf, sizeof buf) == nullptr)
        return "invalid";
    return std::string(buf) + "/" + std::to_string(cidr.prefix_len);
}

bool cidr_contains(const Cidr& cidr, std::span<const std::uint8_t> addr) {
    if (addr.size() != 4 && addr.size() != 16) return false;
    if (cidr.network.size() != 4 && cidr.network.size() != 16) return false;
    // Bring the address to the block's family; a plain IPv6 address never
    // matches an IPv4 block.
    std::array<std::uint8_t, 16> mapped{};
    if (cidr.network.size() == 4 && addr.size() == 16) {
        if (!std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), addr.begin())) return false;
        addr = addr.subspan(12);
    } else if (cidr.network.size() == 16 && addr.size() == 4) {
        std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), mapped.begin());
        std::copy(addr.begin(), addr.end(), mapped.begin() + 12);
        addr = mapped;
    }
    const int max_len = static_cast<int>(cidr.network.size() * 8);
    const int len = std::clamp(cidr.prefix_len, 0, max_len);
    const auto full = static_cast<std::size_t>(len / 8);
    if (!std::equal(cidr.network.begin(), cidr.network.begin() + static_cast<long>(full),
                    addr.begin()))
        return false;
    if (len % 8 == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff00u >> (len % 8));
    return (cidr.network[full] & mask) == (addr[full] & mask);
}

}  // namespace switchyard

#include "switchyard/core/client_address.hpp"
#include "switchyard/core/text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "switchyard/core/address.hpp"

namespace switchyard {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// A parsed address on the stack: parse_ip would allocate a string and a
// vector per entry, and this runs for every request.
struct Ip {
    std::array<std::uint8_t, 16> bytes{};
    std::size_t size = 0;

    std::span<const std::uint8_t> view() const { return {bytes.data(), size}; }
};

// ::ffff:a.b.c.d -> a.b.c.d, so that the answer (a sticky key) is the same
// whether the client came in over IPv4 or a dual-stack socket.
Ip normalise(std::span<const std::uint8_t> addr) {
    Ip ip;
    if (addr.size() == 16 && std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), addr.begin()))
        addr = addr.subspan(12);
    ip.size = std::min(addr.size(), ip.bytes.size());
    std::copy_n(addr.begin(), ip.size, ip.bytes.begin());
    return ip;
}

bool parse_family(std::string_view text, int family, Ip& out) {
    // inet_pton wants a NUL-terminated string; an embedded NUL must not cut
    // the text into something valid.
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (text.empty() || text.size() >= buf.size()) return false;
    if (text.find('\0') != std::string_view::npos) return false;
    std::memcpy(buf.data(), text.data(), text.size());
    if (inet_pton(family, buf.data(), out.bytes.data()) != 1) return false;
    out.size = family == AF_INET ? 4 : 16;
    return true;
}

bool valid_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return false;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

// One X-Forwarded-For entry, already trimmed: "1.2.3.4", "1.2.3.4:80",
// "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443".
bool parse_entry(std::string_view text, Ip& out) {
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return false;
        const auto rest = text.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return false;
        return parse_family(text.substr(1, close - 1), AF_INET6, out);
    }
    if (parse_family(text, AF_INET, out) || parse_family(text, AF_INET6, out)) return true;
    // "v4:port": exactly one colon, else it would have been IPv6 above.
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos)
        return false;
    return valid_port(text.substr(colon + 1)) && parse_family(text.substr(0, colon), AF_INET, out);
}

bool is_trusted(std::span<const std::uint8_t> addr, std::span<const Cidr> trusted) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const Cidr& cidr) { return cidr_contains(cidr, addr); });
}

std::vector<std::uint8_t> to_vector(const Ip& ip) {
    return std::vector<std::uint8_t>(ip.bytes.begin(),
                                     ip.bytes.begin() + static_cast<long>(ip.size));
}

}  // namespace

std::vector<std::uint8_t> client_address(std::span<const std::uint8_t> peer,
                                         std::span<const std::string_view> xff_values,
                                         std::span<const Cidr> trusted) {
    if (peer.size() != 4 && peer.size() != 16) return {peer.begin(), peer.end()};
    Ip current = normalise(peer);
    if (!is_trusted(current.view(), trusted)) return to_vector(current);

    // Rightmost field line first, and in each its rightmost element first:
    // the nearest hop's entry is the one our trusted peer appended.
    for (auto field = xff_values.rbegin(); field != xff_values.rend(); ++field) {
        std::string_view rest = *field;
        while (true) {
            const auto comma = rest.rfind(',');
            const auto element =
                trim_ows(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
            if (!element.empty()) {  // RFC 9110 §5.6.1: ignore empty elements
                Ip entry;
                if (!parse_entry(element, entry)) return to_vector(current);
                current = normalise(entry.view());
                if (!is_trusted(current.view(), trusted)) return to_vector(current);
            }
            if (comma == std::string_view::npos) break;
            rest = rest.substr(0, comma);
        }
    }
    return to_vector(current);
}

}  // namespace switchyard

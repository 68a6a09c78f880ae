#include "switchyard/app/listen_socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace switchyard::app {

namespace {

struct AddrInfoDeleter {
    void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

AddrInfoPtr resolve_passive(const Endpoint& address, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(address.port);
    const int rc = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                                 port.c_str(), &hints, &res);
    if (rc != 0) error = gai_strerror(rc);
    return AddrInfoPtr(res);
}

bool same_address(const sockaddr_storage& bound, const addrinfo& ai) {
    if (bound.ss_family != ai.ai_family) return false;
    if (bound.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(bound);
        const auto& b = *reinterpret_cast<const sockaddr_in*>(ai.ai_addr);
        return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
    }
    if (bound.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(bound);
        const auto& b = *reinterpret_cast<const sockaddr_in6*>(ai.ai_addr);
        return a.sin6_port == b.sin6_port &&
               std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
    }
    return false;
}

}  // namespace

int open_listen_socket(const Endpoint& address, int backlog) {
    std::string last_error = "no address";
    auto res = resolve_passive(address, last_error);
    if (!res) throw std::runtime_error("listener " + address.to_string() + ": " + last_error);
    for (addrinfo* ai = res.get(); ai != nullptr; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) return fd;
        last_error = std::strerror(errno);
        ::close(fd);
    }
    throw std::runtime_error("listener " + address.to_string() + ": " + last_error);
}

bool socket_bound_to(int fd, const Endpoint& address) {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) return false;
    std::string error;
    auto res = resolve_passive(address, error);
    for (addrinfo* ai = res.get(); ai != nullptr; ai = ai->ai_next)
        if (same_address(bound, *ai)) return true;
    return false;
}

std::vector<InheritedSocket> take_systemd_sockets() {
    std::vector<InheritedSocket> out;
    const int n = sd_listen_fds(1);  // 1: unset LISTEN_PID/LISTEN_FDS for our children
    for (int i = 0; i < n; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        // Only listening TCP sockets are listeners; anything else is a
        // mistake in the socket unit, reported by the caller when unmatched.
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        out.push_back({fd, {}});
    }
    return out;
}

std::optional<int> take_inherited(std::vector<InheritedSocket>& inherited,
                                  const ListenerSettings& listener) {
    const std::string name = listener.address.to_string();
    auto take = [&](auto it) {
        const int fd = it->fd;
        inherited.erase(it);
        return std::optional<int>(fd);
    };
    for (auto it = inherited.begin(); it != inherited.end(); ++it)
        if (!it->name.empty() && it->name == name) return take(it);
    for (auto it = inherited.begin(); it != inherited.end(); ++it)
        if (socket_bound_to(it->fd, listener.address)) return take(it);
    return std::nullopt;
}

}  // namespace switchyard::app

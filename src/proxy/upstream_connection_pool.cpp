#include "switchyard/proxy/upstream_connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace switchyard::proxy {

bool is_stale(boost::asio::ip::tcp::socket& socket) {
    char c;
    ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    return true;  // 0: EOF; >0: bytes nobody asked for
}

std::unique_ptr<UpstreamConnection> UpstreamConnectionPool::take(std::uint64_t server_id,
                                                                 Clock::time_point now,
                                                                 Clock::duration max_idle,
                                                                 bool peek) {
    auto it = idle_.find(server_id);
    if (it == idle_.end()) return nullptr;
    auto& stack = it->second;
    while (!stack.empty()) {
        auto conn = std::move(stack.back());
        stack.pop_back();
        // Unwatched (no hang-up set on this system), only a peek can tell.
        if (now - conn->idle_since < max_idle && !conn->hung_up &&
            !((peek || !conn->watch) && is_stale(conn->stream.socket())))
            return conn;
        // Dropping it closes the socket.
    }
    return nullptr;
}

void UpstreamConnectionPool::put(std::unique_ptr<UpstreamConnection> conn, Clock::time_point now) {
    if (conn->hung_up) return;  // closed by the server while it was busy
    if (watch_) watch_->watch(*conn);
    conn->idle_since = now;
    conn->buffer.clear();
    idle_[conn->server_id].push_back(std::move(conn));
}

void UpstreamConnectionPool::sweep(Clock::time_point now, Clock::duration max_idle) {
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& stack = it->second;
        // Oldest first in the stack: drop the expired prefix.
        std::size_t expired = 0;
        while (expired < stack.size() && now - stack[expired]->idle_since >= max_idle)
            ++expired;
        stack.erase(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(expired));
        // Closed by their server: release the sockets now, not at reuse.
        std::erase_if(stack, [](const auto& conn) { return conn->hung_up; });
        it = stack.empty() ? idle_.erase(it) : std::next(it);
    }
}

void UpstreamConnectionPool::retain_only(const std::unordered_set<std::uint64_t>& keep) {
    for (auto it = idle_.begin(); it != idle_.end();)
        it = keep.count(it->first) ? std::next(it) : idle_.erase(it);
}

std::size_t UpstreamConnectionPool::idle_count() const {
    std::size_t n = 0;
    for (const auto& [id, stack] : idle_)
        n += stack.size();
    return n;
}

std::size_t UpstreamConnectionPool::idle_count(std::uint64_t server_id) const {
    auto it = idle_.find(server_id);
    return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace switchyard::proxy

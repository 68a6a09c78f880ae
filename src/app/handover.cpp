#include "switchyard/app/handover.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>

#include "switchyard/control/state_file.hpp"
#include "switchyard/control/step_window_json.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::app {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLine = 1 << 20;
constexpr std::size_t kMaxFds = 200;  // below the kernel's SCM_MAX_FD (253)

const json::value* member(const json::object& o, std::string_view key) {
    return o.if_contains(key);
}

std::optional<int> fd_at(const json::value* v, const std::vector<int>& fds) {
    if (v == nullptr || !v->is_int64()) return std::nullopt;
    const auto i = v->get_int64();
    if (i < 0 || static_cast<std::size_t>(i) >= fds.size()) return std::nullopt;
    return fds[static_cast<std::size_t>(i)];
}

// --- The health section ------------------------------------------------------
//
// Times travel as durations relative to encoding, not as steady_clock time
// points: those are CLOCK_MONOTONIC on Linux and so would mean the same in
// the successor, but a duration needs no such assumption and reads plainly.
// The cost: an ejection ends later by the time the message waits in the
// socket until the successor reads it (its start-up, well under a second).

// Relative times are clamped to ten years: an absurd value must not overflow
// steady_clock's nanoseconds.
constexpr std::int64_t kMaxRelativeMs = 10LL * 365 * 24 * 3600 * 1000;

// to - from in whole milliseconds, rounded up (an ejection must not end
// early), within [0, kMaxRelativeMs].
std::int64_t ms_from(HealthTime from, HealthTime to) {
    if (to <= from) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(to - from).count();
    return std::min<std::int64_t>(ms, kMaxRelativeMs);
}

std::optional<std::uint64_t> unsigned_at(const json::object& o, std::string_view key,
                                         std::uint64_t max) {
    const json::value* v = member(o, key);
    if (v == nullptr) return std::nullopt;
    std::uint64_t n;
    if (v->is_uint64())
        n = v->get_uint64();
    else if (v->is_int64() && v->get_int64() >= 0)
        n = static_cast<std::uint64_t>(v->get_int64());
    else
        return std::nullopt;
    if (n > max) return std::nullopt;
    return n;
}

std::optional<std::uint32_t> u32_at(const json::object& o, std::string_view key) {
    auto n = unsigned_at(o, key, std::numeric_limits<std::uint32_t>::max());
    if (!n) return std::nullopt;
    return static_cast<std::uint32_t>(*n);
}

std::optional<std::uint16_t> u16_at(const json::object& o, std::string_view key) {
    auto n = unsigned_at(o, key, std::numeric_limits<std::uint16_t>::max());
    if (!n) return std::nullopt;
    return static_cast<std::uint16_t>(*n);
}

std::optional<Duration> ms_at(const json::object& o, std::string_view key) {
    auto n = unsigned_at(o, key, static_cast<std::uint64_t>(kMaxRelativeMs));
    if (!n) return std::nullopt;
    return Duration(static_cast<Duration::rep>(*n));
}

std::optional<std::string> string_at(const json::object& o, std::string_view key) {
    const json::value* v = member(o, key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
}

void write_health(JsonWriter& w, const HealthHandover& h, HealthTime now) {
    w.begin_object();
    w.key("pool").string(h.pool);
    w.key("address").string(h.address);
    w.key("state").string(to_string(h.health.state));
    w.key("reason").string(h.health.reason);
    w.key("last_check").begin_object();
    w.key("outcome").string(to_string(h.health.last_check.outcome));
    w.key("status").number(h.health.last_check.status);
    w.key("detail").string(h.health.last_check.detail);
    w.end_object();
    w.key("ejections").number(h.health.ejections);
    if (h.health.state == HealthState::ejected)
        w.key("ejected_until_ms").number(ms_from(now, h.health.ejected_until));
    w.key("ejection_level").number(h.ejection_level);
    if (h.returned != HealthTime{}) w.key("returned_ms_ago").number(ms_from(h.returned, now));
    if (h.checked) {
        const HealthCheckSettings& cs = h.check_settings;
        w.key("checks").begin_object();
        w.key("path").string(cs.path);
        w.key("host").string(cs.host);
        w.key("interval_ms").number(cs.interval.count());
        w.key("timeout_ms").number(cs.timeout.count());
        w.key("rise").number(cs.rise);
        w.key("fall").number(cs.fall);
        w.key("expect_min").number(cs.expect_min);
        w.key("expect_max").number(cs.expect_max);
        w.key("state").string(to_string(h.check_state));
        w.key("successes").number(h.successes);
        w.key("failures").number(h.failures);
        w.end_object();
    }
    w.end_object();
}

// The active-check part of an entry; false, and nothing taken, when anything
// is missing or unreadable (the server then starts unknown: a guess at the
// sender's settings could keep a verdict they do not support).
bool checks_from_json(const json::object& c, HealthHandover& h) {
    auto path = string_at(c, "path");
    auto host = string_at(c, "host");
    auto interval = ms_at(c, "interval_ms");
    auto timeout = ms_at(c, "timeout_ms");
    auto rise = u32_at(c, "rise");
    auto fall = u32_at(c, "fall");
    auto expect_min = u16_at(c, "expect_min");
    auto expect_max = u16_at(c, "expect_max");
    // Absent or unreadable reads as ejected, which is never a check state.
    const HealthState state =
        health_state_from_string(string_at(c, "state").value_or("")).value_or(HealthState::ejected);
    auto successes = u32_at(c, "successes");
    auto failures = u32_at(c, "failures");
    if (!path || !host || !interval || !timeout || !rise || !fall || !expect_min || !expect_max ||
        state == HealthState::ejected || !successes || !failures)
        return false;
    h.checked = true;
    h.check_settings = {*path, *host, *interval, *timeout, *rise, *fall, *expect_min, *expect_max};
    h.check_state = state;
    h.successes = *successes;
    h.failures = *failures;
    return true;
}

std::optional<HealthHandover> health_from_json(const json::value& v, HealthTime now) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    HealthHandover h;
    auto pool = string_at(o, "pool");
    auto address = string_at(o, "address");
    const auto state = health_state_from_string(string_at(o, "state").value_or(""));
    if (!pool || !address || pool->empty() || address->empty() || !state) return std::nullopt;
    h.pool = std::move(*pool);
    h.address = std::move(*address);
    h.health.state = state.value_or(HealthState::unknown);
    h.health.reason = string_at(o, "reason").value_or("");
    if (const json::value* last = member(o, "last_check"); last != nullptr) {
        if (!last->is_object()) return std::nullopt;
        const auto& lo = last->get_object();
        const auto outcome = check_outcome_from_string(string_at(lo, "outcome").value_or(""));
        if (!outcome) return std::nullopt;
        h.health.last_check.outcome = outcome.value_or(CheckOutcome::none);
        h.health.last_check.status = u16_at(lo, "status").value_or(0);
        h.health.last_check.detail = string_at(lo, "detail").value_or("");
    }
    h.health.ejections = u32_at(o, "ejections").value_or(0);
    if (h.health.state == HealthState::ejected) {
        auto left = ms_at(o, "ejected_until_ms");
        if (!left) return std::nullopt;  // an ejection without an end cannot be honoured
        h.health.ejected_until = now + *left;
    }
    h.ejection_level = u32_at(o, "ejection_level").value_or(0);
    if (auto ago = ms_at(o, "returned_ms_ago")) h.returned = now - *ago;
    if (const json::value* c = member(o, "checks"); c != nullptr && c->is_object())
        checks_from_json(c->get_object(), h);
    return h;
}

}  // namespace

std::string encode_handover(const HandoverMessage& m, std::vector<int>& fds, HealthTime now) {
    fds.clear();
    std::string line;
    JsonWriter w(line);
    // Still 1 with "health": the section is optional and additive. A
    // receiver that predates it ignores it (only the members it knows are
    // looked up) and its servers start unknown, as before; a message without
    // it decodes here with no health. A new version number would instead
    // make an upgrade from, or a roll-back to, an older binary fail outright
    // over knowledge that only saves a few probes.
    w.begin_object().key("version").number(1);
    w.key("from_pid").number(m.from_pid);
    w.key("listeners").begin_array();
    for (const auto& l : m.listeners) {
        w.begin_object().key("name").string(l.name);
        w.key("fd").number(fds.size()).end_object();
        fds.push_back(l.fd);
    }
    w.end_array();
    if (m.control_fd >= 0) {
        w.key("control_fd").number(fds.size());
        fds.push_back(m.control_fd);
    }
    w.key("runtime").raw(control::to_json(m.runtime, m.rollout));  // the state file's JSON
    w.key("watchdog_usec").number(m.watchdog_usec);
    if (m.config_generation > 0) w.key("config_generation").number(m.config_generation);
    if (!m.tls_ticket_keys.empty()) w.key("tls_ticket_keys").string(m.tls_ticket_keys);
    if (!m.step_window.pools.empty()) {
        w.key("step_window");
        control::write_step_window(w, m.step_window);
    }
    if (!m.health.empty()) {
        w.key("health").begin_array();
        for (const auto& h : m.health)
            write_health(w, h, now);
        w.end_array();
    }
    w.end_object();
    return line + "\n";
}

std::optional<HandoverMessage> decode_handover(std::string_view line, const std::vector<int>& fds,
                                               std::string& error, HealthTime now) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
        error = "the hand-over message is not a JSON object";
        return std::nullopt;
    }
    const auto& o = v.get_object();
    const json::value* version = member(o, "version");
    if (version == nullptr || !version->is_int64() || version->get_int64() != 1) {
        error = "unsupported hand-over version (this binary understands 1)";
        return std::nullopt;
    }
    HandoverMessage m;
    if (const auto* pid = member(o, "from_pid"); pid != nullptr && pid->is_int64())
        m.from_pid = static_cast<int>(pid->get_int64());
    const json::value* listeners = member(o, "listeners");
    if (listeners == nullptr || !listeners->is_array()) {
        error = "the hand-over message has no listeners array";
        return std::nullopt;
    }
    for (const auto& l : listeners->get_array()) {
        const json::value* name = l.is_object() ? member(l.get_object(), "name") : nullptr;
        auto fd = l.is_object() ? fd_at(member(l.get_object(), "fd"), fds) : std::nullopt;
        if (name == nullptr || !name->is_string() || !fd) {
            error = "a hand-over listener lacks a name or a valid descriptor index";
            return std::nullopt;
        }
        m.listeners.push_back({*fd, std::string(name->get_string())});
    }
    if (const auto* c = member(o, "control_fd")) {
        auto fd = fd_at(c, fds);
        if (!fd) {
            error = "the hand-over control_fd is not a valid descriptor index";
            return std::nullopt;
        }
        m.control_fd = *fd;
    }
    const json::value* runtime = member(o, "runtime");
    if (runtime == nullptr) {
        error = "the hand-over message has no runtime state";
        return std::nullopt;
    }
    std::string state_error;
    auto state = control::from_json(json::serialize(*runtime), m.rollout, state_error);
    if (!state) {
        error = "the hand-over runtime state is invalid: " + state_error;
        return std::nullopt;
    }
    m.runtime = std::move(*state);
    const auto u64_at = [&](std::string_view key) -> std::optional<std::uint64_t> {
        const json::value* v = member(o, key);
        if (v != nullptr && v->is_uint64()) return v->get_uint64();
        if (v != nullptr && v->is_int64() && v->get_int64() >= 0)
            return static_cast<std::uint64_t>(v->get_int64());
        return std::nullopt;
    };
    m.watchdog_usec = u64_at("watchdog_usec").value_or(0);
    m.config_generation = u64_at("config_generation").value_or(0);
    if (const auto* keys = member(o, "tls_ticket_keys"); keys != nullptr && keys->is_string())
        m.tls_ticket_keys = std::string(keys->get_string());
    if (const auto* window = member(o, "step_window"); window != nullptr && window->is_object())
        m.step_window = control::step_window_from_json(window->get_object());
    if (const auto* health = member(o, "health"); health != nullptr && health->is_array())
        for (const auto& entry : health->get_array())
            if (auto h = health_from_json(entry, now)) m.health.push_back(std::move(*h));
    return m;
}

std::string encode_reply(const HandoverReply& r) {
    std::string line;
    JsonWriter w(line);
    w.begin_object().key("ready").boolean(r.ready);
    if (r.ready)
        w.key("pid").number(r.pid);
    else
        w.key("error").string(r.error);
    w.end_object();
    return line + "\n";
}

std::optional<HandoverReply> decode_reply(std::string_view line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const json::value* ready = member(o, "ready");
    if (ready == nullptr || !ready->is_bool()) return std::nullopt;
    HandoverReply r;
    r.ready = ready->get_bool();
    if (const auto* pid = member(o, "pid"); pid != nullptr && pid->is_int64())
        r.pid = static_cast<int>(pid->get_int64());
    if (const auto* e = member(o, "error"); e != nullptr && e->is_string())
        r.error = std::string(e->get_string());
    if (r.ready && r.pid <= 0) return std::nullopt;
    return r;
}

bool send_handover(int fd, const HandoverMessage& message, std::string& error) {
    std::vector<int> fds;
    const std::string line = encode_handover(message, fds);
    if (fds.size() > kMaxFds) {
        error = "too many descriptors to hand over";
        return false;
    }
    // The descriptors ride on the first byte; the rest of the line follows.
    std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<std::size_t>(fds.size(), 1)));
    iovec iov{const_cast<char*>(line.data()), 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    do {
        n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        error = std::string("sendmsg: ") + std::strerror(errno);
        return false;
    }
    std::size_t off = 1;
    while (off < line.size()) {
        n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = std::string("send: ") + std::strerror(errno);
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<HandoverMessage> receive_handover(int fd, Duration timeout, std::string& error) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    std::vector<int> fds;
    auto close_all = [&] {
        for (int f : fds)
            ::close(f);
    };
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) {
            error = rc == 0 ? "timed out waiting for the hand-over" : std::strerror(errno);
            close_all();
            return std::nullopt;
        }
        char buf[4096];
        std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int f;
                std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                fds.push_back(f);
            }
        }
        if (n <= 0 || (msg.msg_flags & MSG_CTRUNC) != 0 || line.size() > kMaxLine) {
            error = n == 0  ? "the old process closed the hand-over socket"
                    : n < 0 ? std::string("recvmsg: ") + std::strerror(errno)
                            : "the hand-over message is too large";
            close_all();
            return std::nullopt;
        }
        line.append(buf, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    auto message = decode_handover(line, fds, error);
    if (!message) {
        close_all();
        return std::nullopt;
    }
    // Close what the message does not name.
    for (int f : fds) {
        bool named = f == message->control_fd;
        for (const auto& l : message->listeners)
            named = named || l.fd == f;
        if (!named) ::close(f);
    }
    return message;
}

bool send_reply(int fd, const HandoverReply& reply) {
    const std::string line = encode_reply(reply);
    std::size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace switchyard::app

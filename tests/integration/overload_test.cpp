// Overload: slow and stuck clients must not delay anyone else, memory stays
// bounded, and server.max_connections makes new connections wait instead of
// failing.
#include <sys/resource.h>
#include <unistd.h>
#include <csignal>

#include <sstream>

#include "fixture.hpp"

namespace sy_it {
namespace {

class Overload : public ProxyTest {};

long vm_rss_kib(pid_t pid) {
    std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    auto pos = status.find("VmRSS:");
    return pos == std::string::npos ? -1 : std::stol(status.substr(pos + 6));
}

TEST_F(Overload, ThousandSlowClientsDoNotDelayNormalRequests) {
    auto cfg = base_config();
    cfg.workers = 2;
    auto& proxy = start_proxy(cfg);

    // 1000 slowloris connections: half a head each, then nothing.
    std::vector<Socket> slow;
    slow.reserve(1000);
    for (int i = 0; i < 1000; ++i) {
        Socket s = Socket::connect(proxy.port(), after(seconds(5)));
        ASSERT_TRUE(s.valid()) << "connection " << i;
        ASSERT_TRUE(s.send_all("GET / HTTP/1.1\r\nHost: slow\r\nX-Trickle: ", after(seconds(2))));
        slow.push_back(std::move(s));
    }
    // 20 clients that ask for a large body and never read it.
    std::vector<Socket> stuck;
    for (int i = 0; i < 20; ++i) {
        Socket s = Socket::connect(proxy.port(), after(seconds(5)));
        ASSERT_TRUE(s.valid());
        ASSERT_TRUE(s.send_all(get_request("/?bytes=50000000"), after(seconds(2))));
        stuck.push_back(std::move(s));
    }

    // Every normal request still succeeds, each within 1 s.
    long long slowest = 0;
    for (int i = 0; i < 50; ++i) {
        auto start = Clock::now();
        HttpConn c(proxy.port());
        Response r = c.roundtrip(get_request("/"));
        EXPECT_EQ(r.status(), 200u);
        EXPECT_EQ(r.body(), "blue\n");
        slowest = std::max(slowest, ms_since(start));
    }
    EXPECT_LT(slowest, 1000) << "slowest normal request in ms";
    std::cout << "[ overload ] slowest of 50 requests beside 1000 slow and 20 stuck clients: "
              << slowest << " ms; proxy RSS " << vm_rss_kib(proxy.pid()) / 1024 << " MiB\n";
    // Memory is bounded: one small read buffer per slow client, one relay
    // buffer per stuck one.
#ifdef SWITCHYARD_SANITIZED
    constexpr long kMaxRssKib = 512 * 1024;  // sanitizers' shadow memory
#else
    constexpr long kMaxRssKib = 128 * 1024;
#endif
    EXPECT_LT(vm_rss_kib(proxy.pid()), kMaxRssKib);
}

TEST_F(Overload, SlowlorisHeadsAreCutByClientHeaderTimeout) {
    auto cfg = base_config();
    cfg.timeouts["client_header"] = "\"300ms\"";
    auto& proxy = start_proxy(cfg);
    std::vector<HttpConn> slow;
    for (int i = 0; i < 50; ++i) {
        slow.emplace_back(proxy.port());
        slow.back().send("GET / HTTP/1.1\r\nHost: slow\r\n");
    }
    for (auto& c : slow) {
        auto raw = c.read_until_close(seconds(3));
        EXPECT_TRUE(raw.eof || raw.reset);
        EXPECT_EQ(raw.bytes.rfind("HTTP/1.1 408 ", 0), 0u) << raw.bytes;
    }
}

TEST_F(Overload, AboveMaxConnectionsNewConnectionsWaitInsteadOfFailing) {
    auto cfg = base_config();
    cfg.server["max_connections"] = "4";
    auto& proxy = start_proxy(cfg);
    std::vector<HttpConn> held;
    for (int i = 0; i < 4; ++i) {
        held.emplace_back(proxy.port());
        EXPECT_EQ(held.back().roundtrip(get_request("/")).status(), 200u);
    }
    // The fifth connects (the kernel's backlog holds it) but is not served...
    HttpConn waiting(proxy.port());
    ASSERT_TRUE(waiting.connected());
    waiting.send(get_request("/"));
    Response early;
    EXPECT_TRUE(waiting.try_read_response(early, milliseconds(300)));  // an error: nothing came
    // ...until a held connection closes; then it is, promptly.
    held.pop_back();
    Response r = waiting.read_response(seconds(2));
    EXPECT_EQ(r.status(), 200u);
    EXPECT_EQ(r.body(), "blue\n");
}

// Stopped, the proxy accepts nothing: `n` connections, each with a GET sent,
// wait in the kernel's queue and meet the workers all at once when it goes
// on. It goes on before any assertion can end the test.
std::vector<HttpConn> queue_while_stopped(pid_t pid, std::uint16_t port, int n) {
    EXPECT_EQ(::kill(pid, SIGSTOP), 0);
    std::vector<HttpConn> burst;
    for (int i = 0; i < n; ++i) {
        burst.emplace_back(port);
        if (burst.back().connected()) burst.back().send(get_request("/"));
    }
    EXPECT_EQ(::kill(pid, SIGCONT), 0);
    return burst;
}

// A worker takes what is queued in batches (many connections per wake-up) and
// hands some to its peer: the batch still stops at server.max_connections.
TEST_F(Overload, ABurstQueuedWhileStoppedIsAcceptedOnlyUpToMaxConnections) {
    auto cfg = base_config();
    cfg.workers = 2;
    cfg.server["max_connections"] = "4";
    auto& proxy = start_proxy(cfg);
    std::vector<HttpConn> burst = queue_while_stopped(proxy.pid(), proxy.port(), 10);
    for (auto& c : burst)
        ASSERT_TRUE(c.connected());
    // The kernel's queue is first in, first out: the first four are served...
    for (int i = 0; i < 4; ++i) {
        Response r = burst[i].read_response(seconds(3));
        EXPECT_EQ(r.status(), 200u) << "connection " << i;
    }
    // ...and no more, however many a worker took per wake-up.
    for (int i = 4; i < 10; ++i) {
        Response r;
        EXPECT_TRUE(burst[i].try_read_response(r, milliseconds(i == 4 ? 300 : 20)))
            << "connection " << i << " was served beyond server.max_connections";
    }
    // Closing the four lets the next four in.
    for (int i = 0; i < 4; ++i)
        burst[i] = HttpConn();
    for (int i = 4; i < 8; ++i) {
        Response r = burst[i].read_response(seconds(3));
        EXPECT_EQ(r.status(), 200u) << "connection " << i;
    }
}

// More than one batch (64) queued at once, then no further connection: the
// rest is taken without a new connection to wake the acceptor.
TEST_F(Overload, ABurstLargerThanABatchIsServedWhenNothingMoreArrives) {
    auto cfg = base_config();
    auto& proxy = start_proxy(cfg);
    std::vector<HttpConn> burst = queue_while_stopped(proxy.pid(), proxy.port(), 150);
    for (std::size_t i = 0; i < burst.size(); ++i) {
        ASSERT_TRUE(burst[i].connected()) << "connection " << i;
        Response r = burst[i].read_response(seconds(5));
        EXPECT_EQ(r.status(), 200u) << "connection " << i;
    }
}

}  // namespace
}  // namespace sy_it

namespace sy_it {
namespace {

// Process CPU time (user + system) in clock ticks.
long cpu_ticks(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return utime + stime;
}

TEST_F(Overload, OutOfDescriptorsBacksOffInsteadOfSpinning) {
    auto cfg = base_config();
    cfg.launcher = {"/usr/bin/prlimit", "--nofile=48:48", "--"};
    auto& proxy = start_proxy(cfg);
    // More idle connections than the proxy has descriptors: accept fails with
    // EMFILE while they stay open.
    std::vector<Socket> idle;
    for (int i = 0; i < 80; ++i) {
        Socket s = Socket::connect(proxy.port(), after(seconds(2)));
        ASSERT_TRUE(s.valid());
        idle.push_back(std::move(s));
    }
    const long before = cpu_ticks(proxy.pid());
    const auto t0 = Clock::now();
    poll_until(
        after(seconds(1)), [] { return false; }, milliseconds(100));  // observe for 1 s
    const long used = cpu_ticks(proxy.pid()) - before;
    const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
    // Spinning on EMFILE would burn a whole core (ticks_per_s in 1 s).
    EXPECT_LT(used, ticks_per_s / 5) << "CPU ticks in " << ms_since(t0) << " ms";
    // Once descriptors are free again, service resumes.
    idle.clear();
    Response r;
    bool served = poll_until(after(seconds(5)), [&] {
        try {
            HttpConn c(proxy.port());
            c.send(get_request("/"));
            return !c.try_read_response(r, seconds(1));
        } catch (const std::exception&) {
            return false;
        }
    });
    EXPECT_TRUE(served);
    EXPECT_EQ(r.status(), 200u);
}

TEST_F(Overload, TrickledBodyIsCutByClientBodyTimeout) {
    auto cfg = base_config();
    cfg.timeouts["client_body"] = "\"300ms\"";
    auto& proxy = start_proxy(cfg);
    HttpConn c(proxy.port());
    c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nfirst-bytes");
    const auto t0 = Clock::now();
    auto got = c.read_until_close(seconds(3));
    EXPECT_EQ(got.bytes.rfind("HTTP/1.1 408 ", 0), 0u) << got.bytes;
    EXPECT_TRUE(got.eof || got.reset);
    EXPECT_LT(ms_since(t0), 1500);
}

// timeouts.client_body_min_rate: a body that keeps trickling (so the idle
// timeout never fires) is cut with 408 once it falls below the rate after the
// grace, and the upstream sees its connection end, never a complete request.
TEST_F(Overload, BodyBelowTheMinimumRateIsCutWith408) {
    std::atomic<int> complete{0}, cut{0};
    ScriptedUpstream upstream([&](ScriptedUpstream::Conn& conn, int) {
        while (auto req = conn.read_request(seconds(10))) {
            ++complete;
            if (!conn.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) return;
        }
        ++cut;
    });
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    cfg.timeouts = {{"client_body", "\"30s\""},
                    {"client_body_min_rate", "\"1KiB/s\""},
                    {"client_body_grace", "\"1s\""}};
    auto& proxy = start_proxy(cfg);

    // At full speed the same body passes.
    HttpConn fast(proxy.port());
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n";
    EXPECT_EQ(fast.roundtrip(head + std::string(100000, 'x')).status(), 200u);
    EXPECT_EQ(complete.load(), 1);

    // 2 bytes every 100 ms: 20 bytes a second.
    HttpConn slow(proxy.port());
    slow.send(head);
    const auto t0 = Clock::now();
    std::string got;
    bool closed = false;
    while (!closed && ms_since(t0) < 8000) {
        if (!slow.socket().send_all("xx", after(seconds(1)))) break;
        char tmp[1024];
        const auto step = after(milliseconds(100));
        for (long n; (n = slow.socket().recv_some(tmp, sizeof tmp, step)) != -2;) {
            if (n <= 0) {
                closed = true;
                break;
            }
            got.append(tmp, static_cast<std::size_t>(n));
        }
    }
    const auto elapsed = ms_since(t0);
    EXPECT_EQ(got.rfind("HTTP/1.1 408 ", 0), 0u) << got;
    EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    EXPECT_TRUE(closed);
    EXPECT_GE(elapsed, 1000);  // not before the grace
    EXPECT_LT(elapsed, 4000);
    EXPECT_TRUE(poll_until(after(seconds(3)), [&] { return cut.load() >= 1; }));
    EXPECT_EQ(complete.load(), 1) << "the trickled request reached the upstream as complete";
}

}  // namespace
}  // namespace sy_it

// Retries on another server of the pool: under DESIGN.md's retry
// rule, within `retries` and the retry budget; and the per-server limits
// (max_connections_per_server, max_pending_per_server → 503 + Retry-After).
#include <signal.h>
#include <sys/socket.h>

#include <thread>

#include "fixture.hpp"

namespace sy_it {
namespace {

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

class Retries : public ProxyTest {
  protected:
    std::string command(std::string_view line) {
        return control_command(dir_ / "control.sock", line);
    }
    // A number field of the status JSON after `"address":"ADDR"` (or after
    // `"name":"POOL"` for pool fields, which follow the pool's servers).
    long long status_number(const std::string& anchor, const std::string& field) {
        std::string status = command("status");
        auto at = status.find(anchor);
        if (at == std::string::npos) return -1;
        at = status.find("\"" + field + "\":", at);
        if (at == std::string::npos) return -1;
        return std::stoll(status.substr(at + field.size() + 3));
    }
};

// Steady GETs from several clients while one of two servers is killed:
// requests in flight on it, and those sent before it is marked down, are
// retried on the other; the clients see no error at all.
TEST_F(Retries, KillingAnUpstreamUnderSteadyGetsCausesNoError) {
    start_upstreams();
    EchoServer second(dir_, "blue-b");
    ProxyConfig cfg;
    cfg.workers = 2;
    cfg.pools = {{"blue",
                  {blue_->address(), second.address()},
                  "health = { path = \"/\", interval = \"100ms\", timeout = \"300ms\", rise = 1, "
                  "fall = 2 }\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    ASSERT_TRUE(poll_until(after(seconds(5)),
                           [&] { return has(command("status"), "\"health\":\"healthy\""); }));

    std::atomic<bool> stop{false};
    std::atomic<int> ok{0};
    std::atomic<int> killed_at_ok{-1};
    std::mutex mu;
    std::vector<std::string> errors;
    auto client = [&](int id) {
        // Keep-alive, a new connection every 20 requests; some requests take
        // 20 ms so that several are in flight on the server when it dies.
        const auto deadline = after(seconds(30));
        for (int i = 0; i < 5000 && !stop.load() && Clock::now() < deadline;) {
            HttpConn c = proxy_->connect();
            for (int k = 0; k < 20 && !stop.load(); ++k, ++i) {
                Response r;
                try {
                    r = c.roundtrip(get_request(i % 3 == id % 3 ? "/?delay_ms=20" : "/"));
                } catch (const std::exception& e) {
                    std::lock_guard lock(mu);
                    errors.push_back(e.what());
                    break;
                }
                if (r.status() != 200) {
                    std::lock_guard lock(mu);
                    errors.push_back("status " + std::to_string(r.status()) + ": " + r.body());
                } else {
                    ++ok;
                }
            }
        }
    };
    std::vector<std::thread> clients;
    for (int id = 0; id < 4; ++id)
        clients.emplace_back(client, id);
    // Kill once the stream is steady: the retry budget is a share of the
    // requests of the last 10 s, and a stream that just began has none.
    // Then keep going until it is marked down, and well after.
    const auto started = Clock::now();
    EXPECT_TRUE(poll_until(after(seconds(10)),
                           [&] { return ok.load() >= 200 && ms_since(started) >= 2000; }));
    second.process().signal(SIGKILL);
    killed_at_ok = ok.load();
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        std::string status = command("status");
        auto at = status.find("\"address\":\"" + second.address() + "\"");
        return at != std::string::npos &&
               status.find("\"health\":\"unhealthy\"", at) < status.find('}', at);
    }));
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] { return ok.load() >= killed_at_ok + 300; }));
    stop = true;
    for (auto& t : clients)
        t.join();
    std::cout << "[ measured ] " << ok.load() << " GETs, " << killed_at_ok.load()
              << " before the kill, " << errors.size() << " errors\n";
    EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors.front();
    EXPECT_GE(ok.load(), 500);
}

// A POST whose body reached a server that then closed without an answer is
// never replayed (it may have taken effect): 502. A GET meeting the same
// server is retried on the other one.
TEST_F(Retries, PostWhoseBodyWasSentIsNotRetriedButGetIs) {
    start_upstreams();
    std::atomic<int> posts{0};
    ScriptedUpstream dies([&](ScriptedUpstream::Conn& c, int) {
        auto req = c.read_request(seconds(5));
        if (req && req->method() == "POST") ++posts;
        // Closes without a response.
    });
    ProxyConfig cfg;
    cfg.access_log_file = true;
    // Round robin: the first request of each kind goes to the failing server.
    cfg.pools = {{"blue", {dies.address(), blue_->address()}, "balance = \"round_robin\"\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    auto c = proxy_->connect();
    c.send("POST /order HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nbuy 1 share");
    auto post = c.read_response(seconds(5));
    EXPECT_EQ(post.status(), 502u);
    EXPECT_EQ(posts.load(), 1);

    auto get1 = proxy_->connect().roundtrip(get_request("/a"));  // round robin: blue
    EXPECT_EQ(get1.status(), 200u);
    auto get2 = proxy_->connect().roundtrip(get_request("/b"));  // the failing one, then blue
    EXPECT_EQ(get2.status(), 200u);
    EXPECT_EQ(get2.body(), "blue\n");
    EXPECT_EQ(dies.connections(), 2);
    auto lines = proxy_->wait_access_lines(3);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(has(lines[0], "\"status\":502")) << lines[0];
    EXPECT_FALSE(has(lines[0], "\"retries\"")) << lines[0];
    EXPECT_TRUE(has(lines[2], "\"retries\":1")) << lines[2];
    EXPECT_EQ(status_number("\"name\":\"blue\"", "retries"), 1);
}

// One of two servers resets every connection: half the requests need a
// retry, but the budget (20 %) caps the extra load. Upstream attempts are
// counted at the upstreams themselves.
TEST_F(Retries, RetryBudgetCapsUpstreamAttempts) {
    start_upstreams();
    ScriptedUpstream refuses([](ScriptedUpstream::Conn& c, int) {
        linger l{1, 0};  // close with a reset, as a refusing server would
        ::setsockopt(c.sock.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    });
    ProxyConfig cfg;
    cfg.level = "error";
    cfg.pools = {{"blue", {refuses.address(), blue_->address()}, "balance = \"round_robin\"\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    auto c = proxy_->connect();
    const int requests = 600;
    int ok = 0, bad_gateway = 0;
    const auto deadline = after(seconds(30));
    for (int i = 0; i < requests && Clock::now() < deadline; ++i) {
        auto r = c.roundtrip(get_request("/"));
        if (r.status() == 200)
            ++ok;
        else if (r.status() == 502)
            ++bad_gateway;
    }
    ASSERT_EQ(ok + bad_gateway, requests);
    // Every 200 reached blue exactly once, every 502 did not reach it.
    const int attempts = refuses.connections() + ok;
    std::cout << "[ measured ] " << requests << " requests: " << ok << " ok, " << bad_gateway
              << " 502, " << attempts << " upstream attempts\n";
    EXPECT_LE(attempts, requests * 12 / 10) << "refusing " << refuses.connections();
    EXPECT_GT(attempts, requests);  // retries happened
    EXPECT_GT(ok, requests / 2);    // and rescued requests
    EXPECT_GT(bad_gateway, 0);      // but not all of them: the budget ran out
    EXPECT_GT(status_number("\"name\":\"blue\"", "retry_budget_exhausted"), 0);
}

// max_connections_per_server = 1 and no queue: a second request while the
// first is in flight gets 503 with Retry-After at once.
TEST_F(Retries, OverTheConnectionLimitGives503WithRetryAfter) {
    start_upstreams();
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address()}, "max_connections_per_server = 1\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    auto slow = proxy_->connect();
    slow.send(get_request("/?delay_ms=1500"));
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return status_number("\"address\":\"" + blue_->address() + "\"", "inflight") == 1;
    }));
    const auto t0 = Clock::now();
    auto refused = proxy_->connect().roundtrip(get_request("/"));
    EXPECT_LT(ms_since(t0), 500);
    EXPECT_EQ(refused.status(), 503u);
    EXPECT_EQ(refused.header("Retry-After"), "1");
    EXPECT_EQ(slow.read_response(seconds(5)).status(), 200u);
    // The slot is free again once the request has ended.
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return status_number("\"address\":\"" + blue_->address() + "\"", "inflight") == 0;
    }));
    EXPECT_EQ(proxy_->connect().roundtrip(get_request("/")).status(), 200u);
    EXPECT_EQ(status_number("\"address\":\"" + blue_->address() + "\"", "limit_reached"), 1);
}

// With max_pending_per_server = 1 the next request waits for the slot and is
// served when it frees; one more beyond the queue gets 503.
TEST_F(Retries, PendingRequestsWaitForASlot) {
    start_upstreams();
    ProxyConfig cfg;
    cfg.workers = 2;
    cfg.pools = {{"blue",
                  {blue_->address()},
                  "max_connections_per_server = 1\nmax_pending_per_server = 1\n"},
                 {"green", {green_->address()}, ""}};
    start_proxy(cfg);
    auto first = proxy_->connect();
    first.send(get_request("/?delay_ms=600"));
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return status_number("\"address\":\"" + blue_->address() + "\"", "inflight") == 1;
    }));
    auto waiting = proxy_->connect();
    waiting.send(get_request("/queued"));
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return status_number("\"address\":\"" + blue_->address() + "\"", "limit_reached") == 1;
    }));
    auto over = proxy_->connect().roundtrip(get_request("/over"));
    EXPECT_EQ(over.status(), 503u);
    EXPECT_EQ(over.header("Retry-After"), "1");
    EXPECT_EQ(first.read_response(seconds(5)).status(), 200u);
    auto queued = waiting.read_response(seconds(5));
    EXPECT_EQ(queued.status(), 200u);
    EXPECT_EQ(queued.body(), "blue\n");
}

// A canary pool whose only server is down sends its users to the active
// pool, and status counts it.
TEST_F(Retries, CanaryFailoverIsCountedInStatus) {
    start_upstreams();
    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue_->address()}, ""},
                 {"green",
                  {nowhere},
                  "health = { path = \"/\", interval = \"100ms\", timeout = \"300ms\", rise = 1, "
                  "fall = 1 }\n"}};
    start_proxy(cfg);
    ASSERT_TRUE(has(command("canary green 100 force"), "\"ok\":true"));
    ASSERT_TRUE(poll_until(after(seconds(5)),
                           [&] { return has(command("status"), "\"health\":\"unhealthy\""); }));
    auto c = proxy_->connect();
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(c.roundtrip(get_request("/")).body(), "blue\n") << i;
    EXPECT_EQ(status_number("\"name\":\"green\"", "canary_failovers"), 5);
}

}  // namespace
}  // namespace sy_it

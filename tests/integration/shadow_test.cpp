// Dark launch (DESIGN.md "Dark launch"): sampled requests are copied to the
// shadow pool, marked, and their answers discarded; the client only ever
// gets the primary's answer, and a slow or broken shadow never delays it.
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "switchyard/core/shadow_backoff.hpp"
#include "switchyard/core/shadow_policy.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

// Reads the requests of `c` until the peer closes or `up` stops, and
// hands each to `answer`, which returns false to end the connection.
template <class Answer>
void serve_requests(const ScriptedUpstream& up, ScriptedUpstream::Conn& c, Answer answer) {
    while (!up.stopping()) {
        auto req = c.read_request(milliseconds(200));
        if (!req) {
            if (c.wait_readable(milliseconds(0)) == ScriptedUpstream::Conn::Wait::closed) return;
            continue;
        }
        if (!answer(*req)) return;
    }
}

// The shadow pool's one server: records every request it gets and
// answers it (`answer`), never answers (`hang`), or closes at once
// (`reset`, with an RST).
class ShadowServer {
  public:
    enum class Mode { answer, hang, reset, garbage };
    explicit ShadowServer(Mode mode)
        : mode_(mode), up_([this](ScriptedUpstream::Conn& c, int) { serve(c); }) {}

    std::string address() const { return up_.address(); }

    // Waits until `n` requests arrived (false at the deadline).
    bool wait_for(std::size_t n, Clock::duration timeout = seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
    }
    std::vector<ScriptedUpstream::Request> seen() {
        std::lock_guard lock(mu_);
        return seen_;
    }

  private:
    void serve(ScriptedUpstream::Conn& c) {
        serve_requests(up_, c, [&](const ScriptedUpstream::Request& req) {
            {
                std::lock_guard lock(mu_);
                seen_.push_back(req);
            }
            cv_.notify_all();
            switch (mode_) {
                case Mode::hang:
                    while (!up_.stopping() && c.wait_readable(milliseconds(100)) !=
                                                  ScriptedUpstream::Conn::Wait::closed) {
                    }
                    return false;
                case Mode::reset: {
                    linger l{1, 0};
                    ::setsockopt(c.sock.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
                    return false;  // closed with an RST
                }
                case Mode::garbage:
                    c.send("NOT HTTP AT ALL\r\n\r\n");
                    return false;
                case Mode::answer:
                    break;
            }
            return c.send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nshadow");
        });
    }

    Mode mode_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<ScriptedUpstream::Request> seen_;
    ScriptedUpstream up_;  // last: its threads use the members above
};

std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

std::string field(const std::string& head, const std::string& name) {
    return SeenHead::parse(head).values(name).empty() ? std::string()
                                                      : SeenHead::parse(head).values(name)[0];
}

class Shadow : public ProxyTest {
  protected:
    // The shadow counts by result, from status (the shadow pool's).
    std::map<std::string, std::int64_t> shadow_counts() {
        std::map<std::string, std::int64_t> out;
        const auto status = control("status");  // named: the loop's range must outlive it
        for (const auto& kv : status.at("shadow").at("requests").as_object())
            out[std::string(kv.key())] = kv.value().to_number<std::int64_t>();
        return out;
    }
    // Waits until each of `sampled` requests has its one final result
    // (a copy sent ends as ok, error, timeout, dropped_overload or
    // skipped_body; one not sent is counted by why); returns the counts.
    std::map<std::string, std::int64_t> settled_counts(std::int64_t sampled) {
        std::map<std::string, std::int64_t> c;
        poll_until(after(seconds(10)), [&] {
            c = shadow_counts();
            return c["ok"] + c["error"] + c["timeout"] + c["dropped_overload"] + c["skipped_body"] +
                       c["skipped_method"] ==
                   sampled;
        });
        return c;
    }
    // blue (active) and green, and `dark` with the shadow server.
    ProxyConfig shadow_config(const ShadowServer& dark, const std::string& shadow_keys) {
        auto cfg = base_config();
        cfg.pools.push_back({"dark", {dark.address()}});
        cfg.extra = "[shadow]\npool = \"dark\"\n" + shadow_keys;
        return cfg;
    }
    json::object control(const std::string& line) {
        return json::parse(control_command(dir_.path() / "control.sock", line, seconds(10)))
            .as_object();
    }
    static std::string user_get(const std::string& target, const std::string& user,
                                const std::string& extra = {}) {
        return get_request(target, "Cookie: sy_uid=" + user + "\r\n" + extra);
    }
};

// Every request is copied with the marker and the host suffix, the client
// gets blue's answer, and a client cannot mark its own request.
TEST_F(Shadow, CopiesAreMarkedAndTheClientGetsThePrimarysAnswer) {
    ShadowServer dark(ShadowServer::Mode::answer);
    auto cfg = shadow_config(dark, "percent = 100\n");
    cfg.admin_port = free_port();
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    constexpr int kRequests = 20;
    for (int i = 0; i < kRequests; ++i) {
        Response r = c.roundtrip(user_get("/item/" + std::to_string(i) + "?echo=head",
                                          "u" + std::to_string(i), "X-Switchyard-Shadow: 1\r\n"));
        ASSERT_EQ(r.status(), 200u);
        EXPECT_EQ(r.msg["X-Echo-Name"], "blue");
        // The primary never sees the marker, even the client's own.
        EXPECT_TRUE(SeenHead::parse(r.body()).values("X-Switchyard-Shadow").empty());
    }
    ASSERT_TRUE(dark.wait_for(kRequests));
    std::set<std::string> targets;
    for (const auto& req : dark.seen()) {
        EXPECT_EQ(req.method(), "GET");
        EXPECT_EQ(SeenHead::parse(req.head).values("X-Switchyard-Shadow"),
                  std::vector<std::string>{"1"});
        EXPECT_EQ(field(req.head, "Host"), "test-shadow");
        targets.insert(SeenHead::parse(req.head).request_line);
    }
    EXPECT_EQ(targets.size(), static_cast<std::size_t>(kRequests));
    EXPECT_TRUE(targets.count("GET /item/7?echo=head HTTP/1.1")) << *targets.begin();
    // Copies count as shadow results only, never as the pools' requests.
    EXPECT_EQ(settled_counts(kRequests)["ok"], kRequests);
    const std::string metrics = HttpConn(cfg.admin_port).roundtrip(get_request("/metrics")).body();
    EXPECT_NE(metrics.find("switchyard_shadow_requests_total{pool=\"dark\",result=\"ok\"} 20\n"),
              std::string::npos)
        << metrics;
    EXPECT_EQ(metrics.find("switchyard_requests_total{pool=\"dark\""), std::string::npos);
    EXPECT_NE(metrics.find("switchyard_requests_total{pool=\"blue\",code=\"200\"} 20\n"),
              std::string::npos);
}

// sample = "user": the users the hash names are mirrored, every request
// of theirs, and nobody else.
TEST_F(Shadow, UserSamplingMirrorsExactlyTheUsersTheHashNames) {
    ShadowServer dark(ShadowServer::Mode::answer);
    start_proxy(shadow_config(dark, "percent = 10\n"));
    HttpConn c(proxy_->port());
    constexpr int kUsers = 400;
    std::set<std::string> expected;
    for (int i = 0; i < kUsers; ++i) {
        const std::string user = "u" + std::to_string(i);
        if (switchyard::shadow_bucket(user, 0) < 10000) expected.insert("/" + user);
        for (int k = 0; k < 2; ++k)
            ASSERT_EQ(c.roundtrip(user_get("/" + user, user)).status(), 200u);
    }
    ASSERT_GT(expected.size(), 20u);
    ASSERT_TRUE(dark.wait_for(2 * expected.size()));
    std::multiset<std::string> mirrored;
    for (const auto& req : dark.seen()) {
        const std::string line = SeenHead::parse(req.head).request_line;
        mirrored.insert(line.substr(4, line.find(' ', 4) - 4));
    }
    for (const auto& target : expected)
        EXPECT_EQ(mirrored.count(target), 2u) << target;
    EXPECT_EQ(mirrored.size(), 2 * expected.size());
}

// Unsafe methods are mirrored only with allow_unsafe, body and all.
TEST_F(Shadow, UnsafeMethodsOnlyWhenAllowedWithTheirBody) {
    ShadowServer dark(ShadowServer::Mode::answer);
    start_proxy(
        shadow_config(dark, "percent = 100\nmethods = [\"GET\", \"POST\"]\nallow_unsafe = true\n"));
    HttpConn c(proxy_->port());
    const std::string body(100000, 'x');
    Response r = c.roundtrip("POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_EQ(r.status(), 200u);
    EXPECT_EQ(r.msg["X-Echo-Body-Bytes"], std::to_string(body.size()));
    ASSERT_TRUE(dark.wait_for(1));
    const auto seen = dark.seen();
    EXPECT_EQ(seen[0].method(), "POST");
    EXPECT_EQ(seen[0].body, body);
    // OPTIONS is not listed: not mirrored.
    ASSERT_EQ(c.roundtrip("OPTIONS / HTTP/1.1\r\nHost: localhost\r\n\r\n").status(), 200u);
    ASSERT_EQ(c.roundtrip(get_request("/after")).status(), 200u);
    ASSERT_TRUE(dark.wait_for(2));
    EXPECT_EQ(SeenHead::parse(dark.seen()[1].head).request_line, "GET /after HTTP/1.1");
}

// The default methods: a POST is not copied (the pools usually share a
// database), a GET is.
TEST_F(Shadow, UnsafeMethodsAreNotMirroredByDefault) {
    ShadowServer dark(ShadowServer::Mode::answer);
    start_proxy(shadow_config(dark, "percent = 100\n"));
    HttpConn c(proxy_->port());
    ASSERT_EQ(
        c.roundtrip("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi").status(),
        200u);
    ASSERT_EQ(c.roundtrip(get_request("/second")).status(), 200u);
    ASSERT_TRUE(dark.wait_for(1));
    EXPECT_EQ(SeenHead::parse(dark.seen()[0].head).request_line, "GET /second HTTP/1.1");
}

// A shadow that never answers or resets changes nothing for clients:
// every answer comes from blue, at blue's pace.
TEST_F(Shadow, AHangingOrResettingShadowNeverDelaysClients) {
    for (auto mode : {ShadowServer::Mode::hang, ShadowServer::Mode::reset}) {
        ShadowServer dark(mode);
        auto cfg = shadow_config(dark, "percent = 100\ntimeout = \"30s\"\n");
        start_proxy(cfg);
        HttpConn c(proxy_->port());
        for (int i = 0; i < 20; ++i) {
            const auto t0 = Clock::now();
            Response r = c.roundtrip(user_get("/", "u" + std::to_string(i)), seconds(5));
            ASSERT_EQ(r.status(), 200u);
            EXPECT_EQ(r.msg["X-Echo-Name"], "blue");
            // The copy waits up to 30 s; the client never does.
            EXPECT_LT(Clock::now() - t0, seconds(2));
        }
        // A resetting shadow gets copies until it failed a few in a row,
        // then they pause (ShadowBackoff); a hanging one gets them all.
        ASSERT_TRUE(dark.wait_for(
            mode == ShadowServer::Mode::hang ? 20 : switchyard::ShadowBackoff::kFailuresInRow));
        proxy_.reset();
    }
}

// A shadow pool that is down (nothing listens), answers garbage, or
// answers too late (after shadow.timeout): clients get blue's answers at
// blue's pace, and each copy is counted by what became of it. After a few
// failures in a row copies pause: those not sent count as dropped.
TEST_F(Shadow, ABrokenShadowIsCountedAndChangesNothingForClients) {
    struct Case {
        std::string name;
        std::optional<ShadowServer::Mode> mode;  // none: a port nothing listens on
        std::string result;
    };
    const Case cases[] = {{"down", std::nullopt, "error"},
                          {"garbage", ShadowServer::Mode::garbage, "error"},
                          {"slow", ShadowServer::Mode::hang, "timeout"}};
    for (const auto& k : cases) {
        SCOPED_TRACE(k.name);
        std::optional<ShadowServer> dark;
        std::string address = "127.0.0.1:" + std::to_string(free_port());
        if (k.mode) {
            dark.emplace(*k.mode);
            address = dark->address();
        }
        auto cfg = base_config();
        cfg.pools.push_back({"dark", {address}});
        cfg.extra = "[shadow]\npool = \"dark\"\npercent = 100\ntimeout = \"300ms\"\n";
        start_proxy(cfg);
        HttpConn c(proxy_->port());
        constexpr int kRequests = 10;
        for (int i = 0; i < kRequests; ++i) {
            const auto t0 = Clock::now();
            Response r = c.roundtrip(user_get("/?i=" + std::to_string(i), "u1"));
            ASSERT_EQ(r.status(), 200u);
            EXPECT_EQ(r.msg["X-Echo-Name"], "blue");
            EXPECT_LT(Clock::now() - t0, seconds(1));
        }
        auto counts = settled_counts(kRequests);
        const auto shown = json::serialize(control("status").at("shadow"));
        EXPECT_GE(counts[k.result], switchyard::ShadowBackoff::kFailuresInRow) << shown;
        EXPECT_EQ(counts[k.result] + counts["dropped_overload"], kRequests) << shown;
        EXPECT_EQ(counts["sent"], counts[k.result]) << shown;
        proxy_.reset();
    }
}

// Memory stays bounded: bodies copied to a shadow that takes nothing
// (its listener never accepts) stop at shadow.memory; further copies are
// dropped, and every client is answered all the same.
TEST_F(Shadow, CopiesThatCannotBeDeliveredStayWithinTheMemoryBudget) {
    // A listener whose queue holds one connection and which never accepts:
    // later connects hang, so copied bodies would pile up in the proxy.
    Socket stuck(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(stuck.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(stuck.fd(), 0), 0);
    socklen_t len = sizeof addr;
    ::getsockname(stuck.fd(), reinterpret_cast<sockaddr*>(&addr), &len);
    auto cfg = base_config();
    cfg.pools.push_back({"dark", {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))}});
    cfg.extra =
        "[shadow]\npool = \"dark\"\npercent = 100\nmethods = [\"POST\"]\nallow_unsafe = true\n"
        "memory = \"256KiB\"\nmax_body = \"256KiB\"\ntimeout = \"30s\"\n";
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    const std::string body(100000, 'b');
    constexpr int kRequests = 20;
    for (int i = 0; i < kRequests; ++i) {
        Response r = c.roundtrip("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body);
        ASSERT_EQ(r.status(), 200u);
        EXPECT_EQ(r.msg["X-Echo-Body-Bytes"], std::to_string(body.size()));
    }
    // 20 x 100 kB to nowhere within 256 KiB: most copies were dropped.
    const auto counts = shadow_counts();
    EXPECT_GE(counts.at("dropped_overload"), kRequests - 4) << json::serialize(control("status"));
    EXPECT_LE(counts.at("sent"), kRequests);
}

// A JSON API on 127.0.0.1: {"id":42,"price":PRICE,"ts":N}, N counting
// every JsonServer's answers (a field that differs between any two
// answers, as a timestamp or a request id does).
class JsonServer {
  public:
    explicit JsonServer(int price)
        : price_(price), up_([this](ScriptedUpstream::Conn& c, int) { serve(c); }) {}
    std::string address() const { return up_.address(); }
    std::atomic<int> posts{0};

  private:
    void serve(ScriptedUpstream::Conn& c) {
        serve_requests(up_, c, [&](const ScriptedUpstream::Request& req) {
            if (req.method() == "POST") ++posts;
            const std::string body = "{\"id\":42,\"price\":" + std::to_string(price_) +
                                     ",\"ts\":" + std::to_string(++answers) + "}";
            return c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
        });
    }
    static inline std::atomic<int> answers{0};
    int price_;
    ScriptedUpstream up_;
};

// diff: the shadow's changed field is found; the field that differs on
// the good build too (the counter) is noise, thanks to the secondary.
TEST_F(Shadow, DiffFindsTheChangedFieldAndCancelsTheNoise) {
    JsonServer blue1(10), blue2(10), dark(12);
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue1.address(), blue2.address()}}, {"dark", {dark.address()}}};
    cfg.admin_port = free_port();
    const auto log = dir_.path() / "diff.log";
    cfg.extra =
        "[shadow]\npool = \"dark\"\npercent = 100\n[shadow.diff]\nenabled = true\n"
        "log = \"" +
        log.string() + "\"\nlog_per_minute = 1000\n";
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    constexpr int kRequests = 40;
    for (int i = 0; i < kRequests; ++i) {
        Response r = c.roundtrip(get_request("/api/items/" + std::to_string(i) + "?x=1"));
        ASSERT_EQ(r.status(), 200u);
        EXPECT_NE(r.body().find("\"price\":10"), std::string::npos) << r.body();
    }
    // Compared once the three answers of each request are in.
    json::object route;
    poll_until(after(seconds(10)), [&] {
        const auto report =
            json::parse(HttpConn(cfg.admin_port).roundtrip(get_request("/diff")).body());
        const auto& routes = report.at("routes").as_array();
        if (routes.empty()) return false;
        route = routes[0].as_object();
        return route.at("compared").as_int64() == kRequests &&
               route.at("secondary_compared").as_int64() == kRequests;
    });
    ASSERT_FALSE(route.empty());
    EXPECT_EQ(route.at("route").as_string(), "/api/items");
    EXPECT_EQ(route.at("compared").as_int64(), kRequests);
    EXPECT_EQ(route.at("secondary_compared").as_int64(), kRequests);
    EXPECT_EQ(route.at("equal").as_int64(), 0);
    EXPECT_EQ(route.at("differing_fields").as_int64(), 1);
    std::map<std::string, json::object> fields;
    for (const auto& f : route.at("fields").as_array())
        fields[std::string(f.at("field").as_string())] = f.as_object();
    ASSERT_EQ(fields.size(), 2u) << json::serialize(route);
    EXPECT_EQ(fields["$.price"].at("differing").as_int64(), kRequests);
    EXPECT_FALSE(fields["$.price"].at("noise").as_bool());
    EXPECT_EQ(fields["$.ts"].at("differing").as_int64(), kRequests);
    EXPECT_TRUE(fields["$.ts"].at("noise").as_bool());
    // Each differing pair is a JSON line, without bodies (log_bodies off).
    const auto lines = read_lines(log);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRequests));
    const auto record = json::parse(lines[0]).as_object();
    EXPECT_EQ(record.at("route").as_string(), "/api/items");
    EXPECT_EQ(json::serialize(record.at("fields")), R"(["$.price","$.ts"])");
    EXPECT_EQ(record.at("primary").as_object().at("status").as_int64(), 200);
    EXPECT_FALSE(record.at("candidate").as_object().contains("body"));
}

// The secondary replays only safe requests: a mirrored POST (allowed to
// the shadow) reaches the active pool once, from the client, never twice.
TEST_F(Shadow, TheSecondaryNeverReplaysAWrite) {
    JsonServer blue1(10), blue2(10), dark(12);
    ProxyConfig cfg;
    cfg.pools = {{"blue", {blue1.address(), blue2.address()}}, {"dark", {dark.address()}}};
    cfg.extra =
        "[shadow]\npool = \"dark\"\npercent = 100\nmethods = [\"GET\", \"POST\"]\n"
        "allow_unsafe = true\n[shadow.diff]\nenabled = true\n";
    start_proxy(cfg);
    HttpConn c(proxy_->port());
    constexpr int kPosts = 10;
    for (int i = 0; i < kPosts; ++i)
        ASSERT_EQ(
            c.roundtrip("POST /api/orders HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\n{}")
                .status(),
            200u);
    // Each POST compared (candidate only), then a GET with its secondary.
    ASSERT_EQ(c.roundtrip(get_request("/api/orders")).status(), 200u);
    json::object route;
    ASSERT_TRUE(poll_until(after(seconds(10)), [&] {
        const auto report = control("diff");
        const auto& routes = report.at("routes").as_array();
        if (routes.empty()) return false;
        route = routes[0].as_object();
        return route.at("compared").as_int64() == kPosts + 1 &&
               route.at("secondary_compared").as_int64() == 1;
    })) << json::serialize(route);
    EXPECT_EQ(blue1.posts + blue2.posts, kPosts);
    EXPECT_EQ(dark.posts, kPosts);
}

}  // namespace
}  // namespace sy_it

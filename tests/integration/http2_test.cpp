// HTTP/2 on listeners (DESIGN.md "HTTP/2 on listeners") with real clients:
// curl (--http2-prior-knowledge, --http2 over TLS), nghttp (frames shown),
// and h2_client.py (Debian's python3-h2) for many streams, flow control
// and the defences. Each client runs as a process of its own against the
// proxy on 127.0.0.1 and is stopped by its pid; every wait has a deadline.
#include <signal.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <set>

#include "../unit/http/test_pki.hpp"
#include "exposition_check.hpp"
#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;
namespace pki = switchyard::http::test_pki;

constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kNghttp = "/usr/bin/nghttp";
constexpr const char* kPython = "/usr/bin/python3";  // the system's, which has python3-h2

std::string client_script() {
    return std::string(SWITCHYARD_SOURCE_DIR) + "/tests/integration/h2_client.py";
}

struct ToolRun {
    std::optional<int> status;
    std::string out;
};

// Runs a client to its end (killed at the deadline): its stdout.
ToolRun run_tool(const TempDir& dir, std::vector<std::string> argv,
                 Clock::duration limit = seconds(60)) {
    static int n = 0;
    const auto out_path = dir.path() / ("tool-" + std::to_string(++n) + ".out");
    Process::Options o;
    o.argv = std::move(argv);
    o.stdout_path = out_path;
    o.stderr_path = dir.path() / ("tool-" + std::to_string(n) + ".err");
    Process p(o);
    ToolRun run;
    run.status = p.wait_exit(after(limit));
    run.out = read_file(out_path);
    if (!run.status) run.out += "\n(killed at the deadline)";
    return run;
}

// h2_client.py's lines, parsed.
std::vector<json::object> lines_of(const std::string& out) {
    std::vector<json::object> lines;
    std::size_t start = 0;
    while (start < out.size()) {
        auto end = out.find('\n', start);
        if (end == std::string::npos) end = out.size();
        const auto line = out.substr(start, end - start);
        if (!line.empty()) {
            boost::system::error_code ec;
            auto v = json::parse(line, ec);
            if (!ec && v.is_object()) lines.push_back(v.as_object());
        }
        start = end + 1;
    }
    return lines;
}

class Http2 : public ProxyTest {
  protected:
    void SetUp() override {
        for (const char* tool : {kCurl, kNghttp, kPython})
            if (::access(tool, X_OK) != 0)
                GTEST_SKIP() << tool << " is missing (scripts/install-deps.sh installs it)";
        if (!std::filesystem::exists("/usr/lib/python3/dist-packages/h2"))
            GTEST_SKIP() << "python3-h2 is missing (scripts/install-deps.sh installs it)";
    }

    // A listener speaking h2c next to HTTP/1.1.
    Switchyard& start_h2c(ProxyConfig cfg) {
        cfg.listener_extra = "protocols = [\"h2c\", \"http/1.1\"]\n" + cfg.listener_extra;
        return start_proxy(cfg);
    }
    Switchyard& start_h2c() { return start_h2c(base_config()); }

    // A TLS listener (default protocols: h2, then HTTP/1.1).
    Switchyard& start_tls(ProxyConfig cfg, const std::string& extra = "") {
        auto key = pki::make_key();
        auto cert = pki::make_cert({"localhost", "DNS:localhost,IP:127.0.0.1"}, key.get());
        pki::write_pem((dir_.path() / "server.pem").string(), {cert.get()});
        pki::write_key((dir_.path() / "server.key").string(), key.get());
        cfg.listener_extra += "tls = { cert = \"" + (dir_.path() / "server.pem").string() +
                              "\", key = \"" + (dir_.path() / "server.key").string() + "\" }\n" +
                              extra;
        return start_proxy(cfg);
    }

    ToolRun curl(std::vector<std::string> args) {
        std::vector<std::string> argv = {kCurl, "-sS", "--max-time", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_tool(dir_, std::move(argv));
    }
    std::string url(const std::string& scheme, const std::string& path) const {
        return scheme + "://127.0.0.1:" + std::to_string(proxy_->port()) + path;
    }
    // Requests in flight on `pool`, as `status` counts them.
    std::int64_t inflight_on(std::string_view pool) {
        const auto status =
            json::parse(control_command(dir_.path() / "control.sock", "status")).as_object();
        for (const auto& p : status.at("pools").as_array())
            if (p.at("name").as_string() == pool) return p.at("inflight").as_int64();
        return -1;
    }
    std::vector<json::object> h2_client(std::vector<std::string> args, bool tls = false) {
        std::vector<std::string> argv = {kPython, client_script()};
        if (tls) argv.push_back("--tls");
        argv.push_back(std::to_string(proxy_->port()));
        argv.insert(argv.end(), args.begin(), args.end());
        const auto run = run_tool(dir_, std::move(argv));
        EXPECT_TRUE(run.status && exited_with(run.status, 0)) << run.out;
        return lines_of(run.out);
    }
};

TEST_F(Http2, H2cByPriorKnowledgeAndHttp11OnOnePort) {
    start_h2c();
    auto h2 = curl({"-i", "--http2-prior-knowledge", url("http", "/a?x=1")});
    ASSERT_TRUE(exited_with(h2.status, 0)) << h2.out;
    EXPECT_EQ(h2.out.rfind("HTTP/2 200", 0), 0u) << h2.out;
    EXPECT_NE(h2.out.find("x-echo-name: blue"), std::string::npos) << h2.out;
    EXPECT_NE(h2.out.find("via: 1.1 switchyard"), std::string::npos) << h2.out;
    // The upstream sees an HTTP/1.1 request that names the hop's protocol.
    auto head = curl({"--http2-prior-knowledge", url("http", "/?echo=head"), "-H", "Cookie: a=1",
                      "-H", "Cookie: b=2"});
    EXPECT_EQ(head.out.rfind("GET /?echo=head HTTP/1.1\r\n", 0), 0u) << head.out;
    EXPECT_NE(head.out.find("Via: 2 switchyard\r\n"), std::string::npos) << head.out;
    EXPECT_NE(head.out.find("cookie: a=1; b=2\r\n"), std::string::npos) << head.out;
    // The same port still speaks HTTP/1.1.
    auto h1 = curl({"-i", "--http1.1", url("http", "/b")});
    EXPECT_EQ(h1.out.rfind("HTTP/1.1 200", 0), 0u) << h1.out;
}

TEST_F(Http2, H2ByAlpnOnTlsAndHttp11WhenTheListenerSaysSo) {
    start_tls(base_config());
    auto h2 = curl({"-i", "-k", "--http2", url("https", "/")});
    ASSERT_TRUE(exited_with(h2.status, 0)) << h2.out;
    EXPECT_EQ(h2.out.rfind("HTTP/2 200", 0), 0u) << h2.out;
    EXPECT_NE(h2.out.find("Secure"), std::string::npos) << "the assignment cookie over TLS";
    proxy_.reset();
    start_tls(base_config(), "protocols = [\"http/1.1\"]\n");
    auto h1 = curl({"-i", "-k", "--http2", url("https", "/")});
    ASSERT_TRUE(exited_with(h1.status, 0)) << h1.out;
    EXPECT_EQ(h1.out.rfind("HTTP/1.1 200", 0), 0u) << h1.out;
}

// A request for an origin the connection's certificate does not cover
// (connection coalescing gone wrong) is misdirected: 421.
TEST_F(Http2, AnAuthorityTheCertificateDoesNotCoverGets421) {
    start_tls(base_config());
    auto other = curl({"-k", "--http2", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                       "Host: other.test", url("https", "/")});
    EXPECT_EQ(other.out, "421");
    auto covered = curl({"-k", "--http2", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                         "Host: localhost:8443", url("https", "/")});
    EXPECT_EQ(covered.out, "200");
    auto by_ip =
        curl({"-k", "--http2", "-o", "/dev/null", "-w", "%{http_code}", url("https", "/")});
    EXPECT_EQ(by_ip.out, "200");
}

// Many streams on one connection, each with a body up and down: every byte
// arrives, each stream's own.
TEST_F(Http2, ConcurrentStreamsCarryBodiesBothWays) {
    start_h2c();
    const std::size_t size = 200000;
    const auto lines = h2_client({"streams", "16", std::to_string(size), "/?echo=body"});
    ASSERT_EQ(lines.size(), 16u);
    const std::string expected = hex16(fnv1a(pattern(0, size)));
    std::set<std::string> connections;
    for (const auto& l : lines) {
        EXPECT_EQ(l.at("status").as_int64(), 200) << json::serialize(l);
        EXPECT_EQ(l.at("body_len").as_int64(), static_cast<std::int64_t>(size));
        EXPECT_EQ(l.at("body_fnv").as_string(), expected);
        const auto& h = l.at("headers").as_object();
        EXPECT_EQ(h.at("x-echo-body-sum").as_string(), expected);
        connections.insert(std::string(h.at("x-echo-conn").as_string()));
    }
    EXPECT_GT(connections.size(), 1u) << "streams went to the upstream side by side";
}

// The client opens its window 16 KiB at a time: the response streams under
// flow control and arrives whole; a chunked upstream body loses its framing
// and keeps its trailers.
TEST_F(Http2, ASlowReaderGetsTheWholeBodyAndAChunkedOneComesWithItsTrailers) {
    start_tls(base_config());
    const std::size_t size = 3'000'000;
    const auto lines =
        h2_client({"slow-read", "/?bytes=" + std::to_string(size), "65535"}, /*tls=*/true);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("status").as_int64(), 200);
    EXPECT_EQ(lines[0].at("body_len").as_int64(), static_cast<std::int64_t>(size));
    EXPECT_EQ(lines[0].at("body_fnv").as_string(), hex16(fnv1a(pattern(0, size))));

    // The upstream's trailers follow the body as HTTP/2 trailers (curl
    // writes them to its header dump after the body).
    const auto dump = dir_.path() / "headers.txt";
    auto chunked = curl({"-k", "--http2", "-D", dump.string(),
                         url("https",
                             "/?chunked=1&bytes=100000&trailer=grpc-status:0&"
                             "trailer=X-Sum:abc")});
    ASSERT_TRUE(exited_with(chunked.status, 0));
    EXPECT_EQ(chunked.out, pattern(0, 100000));
    const std::string headers = read_file(dump);
    EXPECT_EQ(headers.find("transfer-encoding"), std::string::npos) << headers;
    EXPECT_NE(headers.find("\r\ngrpc-status: 0\r\nx-sum: abc\r\n"), std::string::npos) << headers;
}

// One decide() for both protocols: a switch moves HTTP/2 streams too.
TEST_F(Http2, ASwitchMovesTheNextStream) {
    start_h2c();
    auto before = curl({"--http2-prior-knowledge", url("http", "/")});
    EXPECT_EQ(before.out, "blue\n");
    const auto reply = control_command(dir_.path() / "control.sock", "switch green");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    auto after = curl({"--http2-prior-knowledge", url("http", "/")});
    EXPECT_EQ(after.out, "green\n");
}

// A reload rebuilds the listener's context: its protocols apply to the
// connections accepted after it.
TEST_F(Http2, AReloadTurnsH2cOffAndOnForNewConnections) {
    start_h2c();
    EXPECT_EQ(curl({"--http2-prior-knowledge", url("http", "/")}).out, "blue\n");
    const std::string with_h2c = read_file(proxy_->config_path());
    const std::string line = "protocols = [\"h2c\", \"http/1.1\"]\n";
    const auto at = with_h2c.find(line);
    ASSERT_NE(at, std::string::npos) << with_h2c;
    std::string without = with_h2c;
    without.erase(at, line.size());
    write_file(proxy_->config_path(), without);
    auto reply = control_command(dir_.path() / "control.sock", "reload");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    auto refused = curl({"--http2-prior-knowledge", url("http", "/")});
    EXPECT_FALSE(exited_with(refused.status, 0)) << "HTTP/1.1 only now: " << refused.out;
    EXPECT_EQ(curl({"--http1.1", url("http", "/")}).out, "blue\n");
    write_file(proxy_->config_path(), with_h2c);
    reply = control_command(dir_.path() / "control.sock", "reload");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    EXPECT_EQ(curl({"--http2-prior-knowledge", url("http", "/")}).out, "blue\n");
}

TEST_F(Http2, AHeaderListOverTheLimitGets431) {
    auto cfg = base_config();
    cfg.listener_extra = "[listeners.http2]\nmax_header_list = \"32KiB\"\n";
    start_h2c(cfg);
    auto big = h2_client({"headers", "50000"});
    ASSERT_EQ(big.size(), 1u);
    EXPECT_EQ(big[0].at("status").as_int64(), 431) << json::serialize(big[0]);
    auto fine = h2_client({"headers", "8000"});
    ASSERT_EQ(fine.size(), 1u);
    EXPECT_EQ(fine[0].at("status").as_int64(), 200);
}

// Each attack ends its connection with GOAWAY(ENHANCE_YOUR_CALM); the
// proxy goes on serving everyone else.
TEST_F(Http2, DefencesAnswerWithEnhanceYourCalm) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    start_h2c(cfg);
    const std::vector<std::vector<std::string>> attacks = {
        {"rapid-reset", "400"},           {"flood", "ping", "300"}, {"flood", "settings", "300"},
        {"flood", "continuation", "100"}, {"bomb", "300"},  // 900 kB decoded from a few kB
        {"headers", "1000000"},  // 1 MB of fields: too many CONTINUATIONs
    };
    for (const auto& attack : attacks) {
        const auto lines = h2_client(attack);
        ASSERT_EQ(lines.size(), 1u) << attack[0];
        const auto& goaways = lines[0].at("goaways").as_array();
        ASSERT_FALSE(goaways.empty()) << attack[0] << ": " << json::serialize(lines[0]);
        EXPECT_EQ(goaways.back().at("error_code").as_int64(), 0xb) << attack[0];
    }
    auto served = curl({"--http2-prior-knowledge", url("http", "/")});
    EXPECT_EQ(served.out, "blue\n");
    // Each is counted by kind (the worker reports each tick).
    const std::map<std::string, double> expected = {{"rapid_reset", 1},
                                                    {"ping_flood", 1},
                                                    {"settings_flood", 1},
                                                    {"continuation_flood", 2},
                                                    {"hpack_bomb", 1}};
    Exposition m;
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        m = parse_exposition(HttpConn(cfg.admin_port).roundtrip(get_request("/metrics")).body());
        for (const auto& [kind, n] : expected)
            if (m.value("switchyard_http2_defences_total", {{"kind", kind}}) != n) return false;
        return m.value("switchyard_http2_connections_total") >= 7;
    })) << HttpConn(cfg.admin_port).roundtrip(get_request("/metrics")).body();
    EXPECT_GE(m.value("switchyard_http2_streams_total"), 100);
    EXPECT_GE(m.value("switchyard_http2_client_resets_total"), 100);
}

// A client that stops reading: its stream is reset once its bytes waited
// timeouts.send on the shut window, and counted; an idle connection gets
// GOAWAY after timeouts.client_idle.
TEST_F(Http2, AStalledStreamIsResetAndAnIdleConnectionClosed) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    cfg.timeouts = {{"send", "\"500ms\""}, {"client_idle", "\"500ms\""}};
    cfg.access_log_file = true;
    start_h2c(cfg);
    const auto t0 = Clock::now();
    const auto stalled = h2_client({"stall", "/?bytes=1000000"});
    ASSERT_EQ(stalled.size(), 1u);
    EXPECT_EQ(stalled[0].at("reset").as_int64(), 0x8) << json::serialize(stalled[0]);
    EXPECT_EQ(stalled[0].at("received").as_int64(), 65535) << "one default window";
    EXPECT_LT(ms_since(t0), 5000);
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        return read_file(proxy_->access_log_path()).find("\"error\":\"send_timeout\"") !=
               std::string::npos;
    }));
    const auto idle = h2_client({"idle"});
    ASSERT_EQ(idle.size(), 1u);
    const auto& goaways = idle[0].at("goaways").as_array();
    ASSERT_EQ(goaways.size(), 1u) << json::serialize(idle[0]);
    EXPECT_EQ(goaways[0].at("error_code").as_int64(), 0);
    EXPECT_TRUE(poll_until(after(seconds(5)), [&] {
        const auto m =
            parse_exposition(HttpConn(cfg.admin_port).roundtrip(get_request("/metrics")).body());
        return m.value("switchyard_http2_defences_total", {{"kind", "stalled_stream"}}) == 1;
    }));
}

// A switch with drain=D: the stream still on the old pool is cut at the
// deadline; new streams, on the same connection or not, go to the new pool.
TEST_F(Http2, ADrainDeadlineCutsTheStreamsLeftOnTheOldPool) {
    start_h2c();
    Process::Options o;
    o.argv = {kCurl,
              "-sS",
              "--max-time",
              "20",
              "--http2-prior-knowledge",
              url("http", "/?delay_ms=5000")};
    o.stdout_path = dir_.path() / "slow.out";
    o.stderr_path = dir_.path() / "slow.err";
    Process slow(o);
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return inflight_on("blue") == 1; }));
    const auto t0 = Clock::now();
    const auto reply = control_command(dir_.path() / "control.sock", "switch green drain=300ms");
    ASSERT_NE(reply.find("\"ok\":true"), std::string::npos) << reply;
    auto fresh = curl({"--http2-prior-knowledge", url("http", "/")});
    EXPECT_EQ(fresh.out, "green\n");
    const auto status = slow.wait_exit(after(seconds(10)));
    ASSERT_TRUE(status);
    EXPECT_FALSE(exited_with(status, 0)) << "the stream was cut, not answered";
    EXPECT_LT(ms_since(t0), 3000);
}

// SIGTERM: GOAWAY with the largest id, then GOAWAY naming the last stream;
// the stream in flight is answered, and the process exits.
TEST_F(Http2, DrainSendsTwoGoawaysAndTheStreamInFlightFinishes) {
    start_h2c();
    Process::Options o;
    o.argv = {kNghttp, "-v", url("http", "/?delay_ms=1500")};
    o.stdout_path = dir_.path() / "nghttp.out";
    Process client(o);
    // Signalled once the request is in flight (the pool counts it).
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return inflight_on("blue") == 1; }));
    proxy_->process().signal(SIGTERM);
    ASSERT_TRUE(exited_with(client.wait_exit(after(seconds(15))), 0));
    const std::string out = read_file(o.stdout_path);
    // The notice refuses nothing; the real one names the stream in flight
    // (nghttp's request is its first stream after its priority groups).
    const auto first = out.find("recv GOAWAY");
    ASSERT_NE(first, std::string::npos) << out;
    const auto second = out.find("recv GOAWAY", first + 1);
    ASSERT_NE(second, std::string::npos) << out;
    EXPECT_EQ(out.find("(last_stream_id=2147483647, error_code=NO_ERROR", first),
              out.find('(', first))
        << out;
    const auto named = out.find("last_stream_id=", second);
    ASSERT_NE(named, std::string::npos);
    const auto request = out.find("send HEADERS frame <length=");
    ASSERT_NE(request, std::string::npos);
    const auto id_at = out.find("stream_id=", request) + 10;
    const std::string stream_id = out.substr(id_at, out.find('>', id_at) - id_at);
    EXPECT_EQ(out.substr(named + 15, stream_id.size() + 1), stream_id + ",") << out;
    EXPECT_NE(out.find(":status: 200", second), std::string::npos) << out;
    EXPECT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
}

}  // namespace
}  // namespace sy_it

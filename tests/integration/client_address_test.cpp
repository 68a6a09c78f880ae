// Who the client is: the peer, a PROXY protocol header's source, or, from a
// trusted proxy only, the last untrusted X-Forwarded-For entry.
#include "fixture.hpp"

namespace sy_it {
namespace {

class ClientAddress : public ProxyTest {
  protected:
    // The "client" (and "peer") of the last access log line.
    std::pair<std::string, std::string> logged_client(std::size_t lines) {
        auto all = proxy_->wait_access_lines(lines);
        const std::string& line = all.back();
        auto field = [&](const std::string& key) -> std::string {
            auto pos = line.find("\"" + key + "\":\"");
            if (pos == std::string::npos) return "";
            pos += key.size() + 4;
            return line.substr(pos, line.find('"', pos) - pos);
        };
        return {field("client"), field("peer")};
    }
};

std::string seen_xff(const Response& r) {
    auto head = SeenHead::parse(r.body());
    for (const auto& [name, value] : head.fields)
        if (SeenHead::lower(name) == "x-forwarded-for") return value;
    return "<none>";
}

TEST_F(ClientAddress, ProxyProtocolV1SourceIsTheClient) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    cfg.listener_extra = "proxy_protocol = true\n";
    auto& proxy = start_proxy(cfg);
    HttpConn c(proxy.port());
    c.send("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n");
    Response r = c.roundtrip(get_request("/?echo=head"));
    ASSERT_EQ(r.status(), 200u);
    EXPECT_EQ(seen_xff(r), "203.0.113.7");
    EXPECT_EQ(logged_client(1).first, "203.0.113.7:5555");
    // The connection stays usable for more requests.
    EXPECT_EQ(c.roundtrip(get_request("/")).status(), 200u);
}

TEST_F(ClientAddress, ProxyProtocolV2SourceIsTheClient) {
    auto cfg = base_config();
    cfg.listener_extra = "proxy_protocol = true\n";
    auto& proxy = start_proxy(cfg);
    std::string v2("\r\n\r\n\0\r\nQUIT\n", 12);
    v2 += '\x21';  // version 2, PROXY
    v2 += '\x11';  // TCP over IPv4
    v2 += std::string("\x00\x0c", 2);
    v2 += std::string("\xc6\x33\x64\x09", 4);  // 198.51.100.9
    v2 += std::string("\x0a\x00\x00\x01", 4);  // 10.0.0.1
    v2 += std::string("\x1f\x90\x00\x50", 4);  // 8080 -> 80
    HttpConn c(proxy.port());
    c.send(v2 + get_request("/?echo=head"));
    Response r = c.read_response();
    ASSERT_EQ(r.status(), 200u);
    EXPECT_EQ(seen_xff(r), "198.51.100.9");
}

TEST_F(ClientAddress, InvalidProxyHeaderClosesWithoutReachingTheUpstream) {
    ScriptedUpstream upstream([](ScriptedUpstream::Conn& conn, int) {
        while (conn.read_request(seconds(2)))
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    ProxyConfig cfg;
    cfg.pools = {{"blue", {upstream.address()}}};
    cfg.listener_extra = "proxy_protocol = true\n";
    auto& proxy = start_proxy(cfg);
    HttpConn c(proxy.port());
    c.send(get_request("/"));  // HTTP where a PROXY header must come
    auto raw = c.read_until_close(seconds(3));
    EXPECT_TRUE(raw.eof || raw.reset);
    EXPECT_EQ(raw.bytes, "");
    EXPECT_EQ(upstream.connections(), 0);
}

TEST_F(ClientAddress, ForwardedForIsBelievedOnlyFromTrustedProxies) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    cfg.listener_extra = "trusted_proxies = [\"127.0.0.0/8\", \"10.0.0.0/8\"]\n";
    auto& proxy = start_proxy(cfg);
    HttpConn c(proxy.port());
    Response r = c.roundtrip(
        get_request("/?echo=head", "X-Forwarded-For: 6.6.6.6, 198.51.100.9, 10.1.2.3\r\n"));
    ASSERT_EQ(r.status(), 200u);
    // Upstreams still see the whole chain plus the peer.
    EXPECT_EQ(seen_xff(r), "6.6.6.6, 198.51.100.9, 10.1.2.3, 127.0.0.1");
    auto [client, peer] = logged_client(1);
    EXPECT_EQ(client, "198.51.100.9");  // the spoofable 6.6.6.6 is ignored
    EXPECT_EQ(peer, "127.0.0.1:" + std::to_string(c.local_port()));
}

TEST_F(ClientAddress, ForwardedForFromAnUntrustedPeerIsNotBelieved) {
    auto cfg = base_config();
    cfg.access_log_file = true;
    cfg.listener_extra = "trusted_proxies = [\"10.0.0.0/8\"]\n";
    auto& proxy = start_proxy(cfg);
    HttpConn c(proxy.port());
    ASSERT_EQ(c.roundtrip(get_request("/", "X-Forwarded-For: 198.51.100.9\r\n")).status(), 200u);
    auto [client, peer] = logged_client(1);
    EXPECT_EQ(client, "127.0.0.1:" + std::to_string(c.local_port()));
    EXPECT_EQ(peer, "");
}

}  // namespace
}  // namespace sy_it

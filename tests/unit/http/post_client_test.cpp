// The POST client against real loopback sockets (RecordingServer on the same
// io_context). Every wait is bounded.
#include "switchyard/http/post_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "recording_server.hpp"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using test::http_reply;
using test::RecordedRequest;
using test::RecordingServer;

struct Outcome {
    std::optional<PostResult> result;
    int calls = 0;
    Clock::duration elapsed{};
};

// Runs one post until it reports (or 5 s pass), then the handlers already
// due, to catch a second call of `done`.
Outcome run_post(asio::io_context& io, PostRequest request) {
    auto out = std::make_shared<Outcome>();
    const auto start = Clock::now();
    post(io, std::move(request), [out, start](PostResult r) {
        ++out->calls;
        out->elapsed = Clock::now() - start;
        out->result = std::move(r);
    });
    EXPECT_EQ(out->calls, 0) << "done ran inside post()";
    const auto deadline = start + std::chrono::seconds(5);
    while (out->calls == 0 && Clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(50));
    io.poll();
    io.restart();
    return *out;
}

RecordingServer::Script always(std::string reply) {
    return [reply](std::size_t, const RecordedRequest&) { return std::optional(reply); };
}

PostRequest request_to(std::string url, std::string body = R"({"type":"step"})") {
    PostRequest r;
    r.url = std::move(url);
    r.body = std::move(body);
    r.headers = {{"Content-Type", "application/json"}, {"X-Switchyard-Event", "step"}};
    r.timeout = std::chrono::milliseconds(2000);
    return r;
}

TEST(PostClient, Status200WithItsBodyAndTheRequestIsExact) {
    asio::io_context io;
    RecordingServer server(io, always(http_reply("HTTP/1.1 200 OK", "accepted")));
    auto out = run_post(io, request_to(server.url("/hooks/abc?x=1#frag")));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(out.result->status, 200);
    EXPECT_EQ(out.result->body_excerpt, "accepted");
    EXPECT_EQ(out.result->error, "");
    ASSERT_EQ(server.requests().size(), 1u);
    const std::string host = "127.0.0.1:" + std::to_string(server.port());
    EXPECT_EQ(server.requests()[0].head,
              "POST /hooks/abc?x=1 HTTP/1.1\r\nHost: " + host +
                  "\r\nUser-Agent: switchyard\r\nContent-Length: 15\r\nConnection: close\r\n"
                  "Content-Type: application/json\r\nX-Switchyard-Event: step\r\n\r\n");
    EXPECT_EQ(server.requests()[0].body, R"({"type":"step"})");
}

TEST(PostClient, A503IsItsStatusWithTheReason) {
    asio::io_context io;
    RecordingServer server(io, always(http_reply("HTTP/1.1 503 Service Unavailable",
                                                 "migration 42 "
                                                 "pending")));
    auto out = run_post(io, request_to(server.url()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 503);
    EXPECT_EQ(out.result->body_excerpt, "migration 42 pending");
    EXPECT_EQ(out.result->error, "");
}

TEST(PostClient, ARedirectIsNotFollowed) {
    asio::io_context io;
    RecordingServer server(io, always(""));
    const std::string elsewhere = server.url("/elsewhere");
    RecordingServer redirecting(
        io, always(http_reply("HTTP/1.1 302 Found", "", "Location: " + elsewhere + "\r\n")));
    auto out = run_post(io, request_to(redirecting.url()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 302);
    EXPECT_EQ(out.result->error, "");
    EXPECT_EQ(redirecting.requests().size(), 1u);
    EXPECT_EQ(server.connections(), 0u);
}

TEST(PostClient, ASilentServerTimesOutAtTheDeadline) {
    asio::io_context io;
    RecordingServer server(
        io, [](std::size_t, const RecordedRequest&) { return std::optional<std::string>(); });
    PostRequest r = request_to(server.url());
    r.timeout = std::chrono::milliseconds(300);
    auto out = run_post(io, r);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(out.result->status, 0);
    EXPECT_EQ(out.result->error, "timed out after 300ms");
    EXPECT_GE(out.elapsed, std::chrono::milliseconds(300));
    EXPECT_LT(out.elapsed, std::chrono::milliseconds(2000));
    EXPECT_EQ(server.requests().size(), 1u);  // it got there; only the answer is missing
}

TEST(PostClient, ARefusedConnectionSaysSo) {
    asio::io_context io;
    std::uint16_t port = 0;
    {
        asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
        port = a.local_endpoint().port();
    }
    auto out = run_post(io, request_to("http://127.0.0.1:" + std::to_string(port) + "/"));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(out.result->status, 0);
    EXPECT_EQ(out.result->error, "connection refused");
}

TEST(PostClient, OnlyTheFirstKibOfALargeBodyIsKept) {
    asio::io_context io;
    const std::string big(5000, 'x');
    RecordingServer server(io, always(http_reply("HTTP/1.1 409 Conflict", big)));
    auto out = run_post(io, request_to(server.url()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 409);
    EXPECT_EQ(out.result->body_excerpt, std::string(kBodyExcerptLimit, 'x'));
}

TEST(PostClient, ChunkedAndCloseDelimitedBodiesAndInterimResponses) {
    asio::io_context io;
    RecordingServer chunked(io,
                            always("HTTP/1.1 100 Continue\r\n\r\n"
                                   "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "3\r\nnot\r\n4\r\n now\r\n0\r\n\r\n"));
    auto out = run_post(io, request_to(chunked.url()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 403);
    EXPECT_EQ(out.result->body_excerpt, "not now");

    RecordingServer until_close(io, always("HTTP/1.1 200 OK\r\n\r\nuntil close"));
    out = run_post(io, request_to(until_close.url()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 200);
    EXPECT_EQ(out.result->body_excerpt, "until close");
}

TEST(PostClient, ADnsNameIsResolved) {
    asio::io_context io;
    RecordingServer server(io, always(http_reply("HTTP/1.1 204 No Content")));
    auto out = run_post(io, request_to("http://localhost:" + std::to_string(server.port()) + "/h"));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 204) << out.result->error;
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].header("Host"), "localhost:" + std::to_string(server.port()));
}

TEST(PostClient, BadUrlsAndHeadersFailWithoutSendingAnything) {
    asio::io_context io;
    for (const char* url :
         {"ftp://127.0.0.1/x", "not a url", "http://user:pw@127.0.0.1/", "http:///path"}) {
        auto out = run_post(io, request_to(url));
        ASSERT_TRUE(out.result) << url;
        EXPECT_EQ(out.calls, 1);
        EXPECT_EQ(out.result->status, 0);
        EXPECT_EQ(out.result->error.rfind("invalid URL", 0), 0u)
            << url << ": " << out.result->error;
    }
    RecordingServer server(io, always(http_reply("HTTP/1.1 200 OK")));
    PostRequest r = request_to(server.url());
    r.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
    auto out = run_post(io, r);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 0);
    EXPECT_EQ(out.result->error, "invalid header X-Evil");
    EXPECT_EQ(server.connections(), 0u);
}

TEST(PostClient, HttpsFailsTheHandshakeWithAServerThatIsNotTls) {
    // The server answers the ClientHello in plain HTTP, as a plain server
    // would; nothing of the request is sent.
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket peer(io);
    const std::string answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    acceptor.async_accept(peer, [&](boost::system::error_code ec) {
        if (!ec) asio::async_write(peer, asio::buffer(answer), [](auto, auto) {});
    });
    auto out = run_post(
        io,
        request_to("https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/h"));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->status, 0);
    EXPECT_EQ(out.result->error.rfind("tls handshake: ", 0), 0u) << out.result->error;
}

TEST(PostClient, UrlHostLeavesOutPathQueryAndUserInfo) {
    EXPECT_EQ(url_host("https://hooks.slack.com/services/T0/B0/SECRET?token=x"), "hooks.slack.com");
    EXPECT_EQ(url_host("http://127.0.0.1:9000/secret"), "127.0.0.1:9000");
    EXPECT_EQ(url_host("http://user:pw@[::1]:8080/x"), "[::1]:8080");
    EXPECT_EQ(url_host("not a url"), "(invalid URL)");
}

TEST(PostClient, TimeoutText) {
    EXPECT_EQ(format_timeout(std::chrono::milliseconds(3000)), "3s");
    EXPECT_EQ(format_timeout(std::chrono::milliseconds(1500)), "1500ms");
}

}  // namespace
}  // namespace switchyard::http

// The probe client against real loopback sockets: a one-connection server on
// the same io_context answers as each test needs. Every wait is bounded.
#include "switchyard/http/probe_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// What the test server does with the connection it accepts.
enum class Mode {
    reply,          // read the request head, write `reply`, close
    reply_no_read,  // write `reply` at once, keep the connection (and what it got) open
    silent,         // read the request head, then never answer
    close_at_once,  // accept and close without reading
};

// Accepts one connection on 127.0.0.1, port 0.
class OneShotServer {
  public:
    OneShotServer(asio::io_context& io, Mode mode, std::string reply = {})
        : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
          socket_(io),
          mode_(mode),
          reply_(std::move(reply)) {
        acceptor_.async_accept(socket_, [this](error_code ec) { on_accept(ec); });
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    // The request head as received (reply and silent modes).
    const std::string& request() const { return request_; }

  private:
    void on_accept(error_code ec) {
        if (ec) return;
        error_code ignored;
        switch (mode_) {
            case Mode::close_at_once:
                socket_.close(ignored);
                return;
            case Mode::reply_no_read:
                asio::async_write(socket_, asio::buffer(reply_), [](error_code, std::size_t) {});
                return;
            case Mode::reply:
            case Mode::silent:
                asio::async_read_until(socket_, asio::dynamic_buffer(request_), "\r\n\r\n",
                                       [this](error_code e, std::size_t) { on_request(e); });
                return;
        }
    }

    void on_request(error_code ec) {
        if (ec || mode_ == Mode::silent) return;
        asio::async_write(socket_, asio::buffer(reply_), [this](error_code, std::size_t) {
            error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_send, ignored);
        });
    }

    tcp::acceptor acceptor_;
    tcp::socket socket_;
    Mode mode_;
    std::string reply_;
    std::string request_;
};

ProbeRequest request_to(std::uint16_t port) {
    ProbeRequest r;
    r.ip = "127.0.0.1";
    r.port = port;
    r.host = "127.0.0.1:" + std::to_string(port);
    return r;
}

struct Outcome {
    std::optional<CheckResult> result;
    int calls = 0;
    Clock::duration elapsed{};
};

// Runs one probe on `io` until it reports (or 5 s pass), then a little longer
// to catch a second call of `done`.
Outcome run_probe(asio::io_context& io, const ProbeRequest& request) {
    auto out = std::make_shared<Outcome>();
    auto start = Clock::now();
    probe(io, request, [out, start](CheckResult r) {
        ++out->calls;
        out->elapsed = Clock::now() - start;
        out->result = std::move(r);
    });
    EXPECT_EQ(out->calls, 0) << "done ran inside probe()";
    auto deadline = start + std::chrono::seconds(5);
    while (out->calls == 0 && Clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(50));
    // Handlers already due (the cancelled steps) must not report again.
    io.poll();
    io.restart();
    return *out;
}

std::string reply_with(std::string_view status_line, std::string_view body = {}) {
    std::string r(status_line);
    r += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
}

CheckResult result_of(CheckOutcome outcome, std::uint16_t status = 0) {
    CheckResult r;
    r.outcome = outcome;
    r.status = status;
    return r;
}

TEST(ProbeClient, Status200IsOkAndTheRequestIsExact) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply, reply_with("HTTP/1.1 200 OK", "fine"));
    ProbeRequest req = request_to(server.port());
    req.host = "app.local";
    req.path = "/health/ready?x=1";
    auto out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::ok, 200));
    EXPECT_EQ(server.request(),
              "GET /health/ready?x=1 HTTP/1.1\r\nHost: app.local\r\n"
              "User-Agent: switchyard-health\r\nConnection: close\r\n\r\n");
}

TEST(ProbeClient, RequestText) {
    ProbeRequest req;
    req.host = "127.0.0.1:9001";
    EXPECT_EQ(probe_request_text(req),
              "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
              "User-Agent: switchyard-health\r\nConnection: close\r\n\r\n");
    req.path.clear();
    EXPECT_EQ(probe_request_text(req).substr(0, 16), "GET / HTTP/1.1\r\n");
}

TEST(ProbeClient, Status500IsBadStatus) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply, reply_with("HTTP/1.1 500 Internal Server Error"));
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::bad_status, 500));
}

TEST(ProbeClient, Status204And301AreOkWithTheDefaultRange) {
    for (std::string_view line : {"HTTP/1.1 204 No Content", "HTTP/1.1 301 Moved Permanently"}) {
        asio::io_context io;
        OneShotServer server(io, Mode::reply, std::string(line) + "\r\n\r\n");
        auto out = run_probe(io, request_to(server.port()));
        ASSERT_TRUE(out.result) << line;
        EXPECT_EQ(out.result->outcome, CheckOutcome::ok) << line;
        EXPECT_EQ(out.result->status, line[9] == '2' ? 204 : 301);
    }
}

TEST(ProbeClient, CustomExpectRange) {
    {
        asio::io_context io;
        OneShotServer server(io, Mode::reply, "HTTP/1.1 204 No Content\r\n\r\n");
        ProbeRequest req = request_to(server.port());
        req.expect_min = req.expect_max = 200;
        auto out = run_probe(io, req);
        ASSERT_TRUE(out.result);
        EXPECT_EQ(*out.result, result_of(CheckOutcome::bad_status, 204));
    }
    {
        asio::io_context io;
        OneShotServer server(io, Mode::reply, reply_with("HTTP/1.1 503 Service Unavailable"));
        ProbeRequest req = request_to(server.port());
        req.expect_min = 200;
        req.expect_max = 503;
        auto out = run_probe(io, req);
        ASSERT_TRUE(out.result);
        EXPECT_EQ(*out.result, result_of(CheckOutcome::ok, 503));
    }
}

TEST(ProbeClient, InterimResponsesAreSkipped) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply,
                         "HTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
                             reply_with("HTTP/1.1 200 OK"));
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::ok, 200));
}

TEST(ProbeClient, LargeBodyStillOk) {
    asio::io_context io;
    // 1 MiB body, sent without waiting for the request: the probe stops
    // after the head.
    OneShotServer server(io, Mode::reply_no_read,
                         reply_with("HTTP/1.1 200 OK", std::string(1 << 20, 'x')));
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::ok, 200));
}

TEST(ProbeClient, NoAnswerTimesOutWithinTheDeadline) {
    asio::io_context io;
    OneShotServer server(io, Mode::silent);
    ProbeRequest req = request_to(server.port());
    req.timeout = Duration(200);
    auto out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::timeout));
    EXPECT_GE(out.elapsed, req.timeout);
    EXPECT_LT(out.elapsed, 2 * req.timeout);
}

TEST(ProbeClient, HalfAHeadThenSilenceTimesOut) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply_no_read, "HTTP/1.1 200 OK\r\nContent-Le");
    ProbeRequest req = request_to(server.port());
    req.timeout = Duration(200);
    auto out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::timeout));
    EXPECT_LT(out.elapsed, 2 * req.timeout);
}

TEST(ProbeClient, ImmediateCloseIsReset) {
    asio::io_context io;
    OneShotServer server(io, Mode::close_at_once);
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::reset));
}

TEST(ProbeClient, CloseInTheMiddleOfTheHeadIsReset) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply, "HTTP/1.1 200 OK\r\nContent-Le");
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::reset));
}

TEST(ProbeClient, GarbageIsBadResponse) {
    asio::io_context io;
    OneShotServer server(io, Mode::reply, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    auto out = run_probe(io, request_to(server.port()));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(out.result->outcome, CheckOutcome::bad_response);
    EXPECT_FALSE(out.result->detail.empty());
    EXPECT_EQ(out.result->status, 0);
}

TEST(ProbeClient, ClosedPortIsRefused) {
    asio::io_context io;
    std::uint16_t port = 0;
    {
        tcp::acceptor probe_port(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        port = probe_port.local_endpoint().port();
    }  // closed again: nothing listens there
    auto out = run_probe(io, request_to(port));
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::refused));
}

TEST(ProbeClient, Ipv6LoopbackInBrackets) {
    asio::io_context io;
    error_code ec;
    tcp::acceptor acceptor(io);
    acceptor.open(tcp::v6(), ec);
    if (!ec) acceptor.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback: " << ec.message();
    std::uint16_t port = acceptor.local_endpoint().port();
    acceptor.close();
    ProbeRequest req = request_to(port);
    req.ip = "[::1]";
    auto out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(*out.result, result_of(CheckOutcome::refused));
}

TEST(ProbeClient, InvalidInputIsOtherAndReportedFromTheLoop) {
    asio::io_context io;
    ProbeRequest req = request_to(9);
    req.ip = "app.internal";
    auto out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(out.result->outcome, CheckOutcome::other);
    EXPECT_NE(out.result->detail.find("app.internal"), std::string::npos);

    req = request_to(9);
    req.host = "a\r\nX-Injected: 1";
    out = run_probe(io, req);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->outcome, CheckOutcome::other);
}

TEST(ProbeClient, StoppedLoopNeverCallsDoneAndReleasesTheProbe) {
    bool called = false;
    auto witness = std::make_shared<int>(0);
    std::weak_ptr<int> weak = witness;
    {
        asio::io_context io;
        OneShotServer server(io, Mode::silent);
        ProbeRequest req = request_to(server.port());
        req.timeout = Duration(10000);
        probe(io, req, [&called, w = std::move(witness)](CheckResult) { called = true; });
        // Let it connect and send; then the loop stops with the probe pending.
        for (int i = 0; i < 4; ++i)
            io.run_one_for(std::chrono::milliseconds(20));
        io.stop();
    }  // the io_context goes with the probe's pending handlers
    EXPECT_FALSE(called);
    EXPECT_TRUE(weak.expired()) << "the probe (and its callback) leaked";
}

}  // namespace
}  // namespace switchyard::http

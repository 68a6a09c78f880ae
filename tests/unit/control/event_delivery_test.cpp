// EventDelivery against real loopback servers (RecordingServer on the test's
// io_context): signatures, event filtering, formats, retries and their
// counts, the gate's answers. Waits are on conditions with a deadline.
#include "switchyard/control/event_delivery.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "../http/recording_server.hpp"
#include "switchyard/core/ramp_event_text.hpp"

namespace switchyard::control {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::http_reply;
using test::RecordedRequest;
using test::RecordingServer;
using Clock = std::chrono::steady_clock;

RampEvent event_of(RampEventType type) {
    RampEvent e;
    e.type = type;
    e.pool = "green";
    e.step = 1;
    e.steps = 5;
    e.weight_bp = 500;
    e.reason = "step 2 of 5 (5.00 %): passed";
    return e;
}

// GateAnswer has no ==: compared as (allowed, text).
using Answer = std::pair<bool, std::string>;
Answer as_pair(const GateAnswer& a) {
    return {a.allowed, a.text};
}
Answer as_pair(const std::optional<GateAnswer>& a) {
    return a ? as_pair(*a) : Answer{false, "(no answer)"};
}

const RampTime kTime{std::chrono::milliseconds(1'796'540'400'123)};

RecordingServer::Script always(std::string reply) {
    return [reply](std::size_t, const RecordedRequest&) { return std::optional(reply); };
}

// The n-th request answers `replies[n]` (the last one for the rest).
RecordingServer::Script in_turn(std::vector<std::string> replies) {
    return [replies](std::size_t i, const RecordedRequest&) {
        return std::optional(replies[std::min(i, replies.size() - 1)]);
    };
}

WebhookSettings hook_to(const RecordingServer& server, std::string path = "/hook") {
    WebhookSettings w;
    w.url = server.url(path);
    w.timeout = 2000ms;
    return w;
}

class EventDeliveryTest : public ::testing::Test {
  protected:
    EventDeliveryTest()
        : log_(std::make_shared<spdlog::logger>(
              "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
          delivery_(io_, log_, 20ms) {}

    // Runs io until `done` holds (or 5 s pass); false on the deadline.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = Clock::now() + 5s;
        while (!done() && Clock::now() < deadline)
            io_.run_one_for(20ms);
        io_.poll();
        io_.restart();
        return done();
    }
    bool settled(std::uint64_t deliveries) {
        return run_until([&] {
            const auto c = delivery_.counts();
            return c.ok + c.failed == deliveries;
        });
    }

    void configure(std::vector<WebhookSettings> hooks) {
        RolloutSettings s;
        s.webhooks = std::move(hooks);
        delivery_.configure(s);
    }

    asio::io_context io_;
    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    EventDelivery delivery_;
};

TEST(WebhookSignature, Rfc4231TestCase2) {
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
              "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(GateAnswerText, StatusesAndErrors) {
    EXPECT_EQ(as_pair(gate_answer(200, "ok", "")), (Answer{true, "gate answered 200"}));
    EXPECT_TRUE(gate_answer(204, "", "").allowed);
    EXPECT_EQ(as_pair(gate_answer(409, "  migration 42\r\n not applied\t\n", "")),
              (Answer{false, "gate answered 409: migration 42 not applied"}));
    EXPECT_EQ(as_pair(gate_answer(302, "", "")), (Answer{false, "gate answered 302"}));
    EXPECT_EQ(as_pair(gate_answer(0, "", "connection refused")),
              (Answer{false, "gate unreachable: connection refused"}));
}

TEST_F(EventDeliveryTest, SignedJsonDeliveryWithItsHeaders) {
    RecordingServer server(io_, always(http_reply("HTTP/1.1 200 OK")));
    WebhookSettings hook = hook_to(server);
    hook.secret = "s3cret";
    configure({hook});
    delivery_.deliver(event_of(RampEventType::step), kTime, 12);
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(delivery_.counts(), (WebhookCounts{1, 0, 0}));
    ASSERT_EQ(server.requests().size(), 1u);
    const RecordedRequest& r = server.requests()[0];
    EXPECT_EQ(r.body, ramp_event_json(event_of(RampEventType::step), kTime, 12));
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.header("X-Switchyard-Event"), "step");
    EXPECT_EQ(r.header("X-Switchyard-Signature"), "sha256=" + hmac_sha256_hex("s3cret", r.body));
    EXPECT_EQ(r.head.rfind("POST /hook HTTP/1.1\r\n", 0), 0u);
}

TEST_F(EventDeliveryTest, OnlyTheWebhooksThatWantTheEventGetItAndUnsignedWithoutASecret) {
    RecordingServer server(io_, always(http_reply("HTTP/1.1 204 No Content")));
    WebhookSettings aborts = hook_to(server, "/aborts");
    aborts.events = {RampEventType::aborted, RampEventType::promoted};
    WebhookSettings all = hook_to(server, "/all");
    configure({aborts, all});

    delivery_.deliver(event_of(RampEventType::holding), kTime, 1);
    ASSERT_TRUE(settled(1));
    delivery_.deliver(event_of(RampEventType::aborted), kTime, 2);
    ASSERT_TRUE(settled(3));
    ASSERT_EQ(server.requests().size(), 3u);
    int to_aborts = 0;
    for (const auto& r : server.requests()) {
        if (r.head.rfind("POST /aborts ", 0) == 0) {
            ++to_aborts;
            EXPECT_EQ(r.header("X-Switchyard-Event"), "aborted");
        }
        EXPECT_EQ(r.header("X-Switchyard-Signature"), "");
    }
    EXPECT_EQ(to_aborts, 1);
}

TEST_F(EventDeliveryTest, SlackFormatIsTheSentence) {
    RecordingServer server(io_, always(http_reply("HTTP/1.1 200 OK", "ok")));
    WebhookSettings hook = hook_to(server);
    hook.format = WebhookFormat::slack;
    configure({hook});
    delivery_.deliver(event_of(RampEventType::paused), kTime, 3);
    ASSERT_TRUE(settled(1));
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].body,
              ramp_event_slack(event_of(RampEventType::paused), kTime, 3));
    EXPECT_EQ(server.requests()[0].body.rfind("{\"text\":\"Switchyard ramp of green: step 2/5", 0),
              0u);
}

TEST_F(EventDeliveryTest, A500IsRetriedThenDelivered) {
    RecordingServer server(io_, in_turn({http_reply("HTTP/1.1 500 Internal Server Error"),
                                         http_reply("HTTP/1.1 200 OK")}));
    configure({hook_to(server, "/T0/B0/SECRETPATH")});
    delivery_.deliver(event_of(RampEventType::step), kTime, 4);
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(delivery_.counts(), (WebhookCounts{1, 0, 1}));
    ASSERT_EQ(server.requests().size(), 2u);
    EXPECT_EQ(server.requests()[0].body, server.requests()[1].body);
    const std::string logged = log_text_.str();
    EXPECT_NE(logged.find("webhook to 127.0.0.1:" + std::to_string(server.port()) +
                          ": step event, try 1 of 3 failed: answered 500; retrying in 20ms"),
              std::string::npos)
        << logged;
    EXPECT_EQ(logged.find("SECRETPATH"), std::string::npos) << logged;
}

TEST_F(EventDeliveryTest, FailsAfterThreeTriesWithBackoff) {
    RecordingServer server(io_, always(http_reply("HTTP/1.1 503 Service Unavailable")));
    configure({hook_to(server)});
    const auto start = Clock::now();
    delivery_.deliver(event_of(RampEventType::aborted), kTime, 5);
    ASSERT_TRUE(settled(1));
    EXPECT_GE(Clock::now() - start, 60ms);  // 20 ms, then 40 ms
    EXPECT_EQ(delivery_.counts(), (WebhookCounts{0, 1, 2}));
    EXPECT_EQ(server.requests().size(), 3u);
    EXPECT_NE(log_text_.str().find("aborted event not delivered after 3 tries: answered 503"),
              std::string::npos)
        << log_text_.str();
}

TEST_F(EventDeliveryTest, DeliverNeverBlocksAndAReloadLeavesDeliveriesInFlightAlone) {
    RecordingServer server(io_, in_turn({http_reply("HTTP/1.1 500 Internal Server Error"),
                                         http_reply("HTTP/1.1 200 OK")}));
    configure({hook_to(server)});
    delivery_.deliver(event_of(RampEventType::step), kTime, 6);
    EXPECT_EQ(server.requests().size(), 0u);  // nothing happened inside deliver()
    configure({});                            // the retry still goes to the old webhook
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(delivery_.counts(), (WebhookCounts{1, 0, 1}));
    delivery_.deliver(event_of(RampEventType::step), kTime, 7);
    io_.poll();
    EXPECT_EQ(server.requests().size(), 2u);  // no webhooks any more
}

TEST_F(EventDeliveryTest, GateAllowsRefusesOrIsUnreachable) {
    std::optional<GateAnswer> answer;
    const auto ask = [&](const std::string& url) {
        answer.reset();
        delivery_.ask_gate(url, event_of(RampEventType::step), kTime, 8, 1000ms,
                           [&](GateAnswer a) { answer = std::move(a); });
        EXPECT_FALSE(answer) << "done ran inside ask_gate()";
        EXPECT_TRUE(run_until([&] { return answer.has_value(); }));
    };

    RecordingServer allowing(io_, always(http_reply("HTTP/1.1 200 OK", "go")));
    ask(allowing.url("/gate"));
    EXPECT_EQ(as_pair(answer), (Answer{true, "gate answered 200"}));
    ASSERT_EQ(allowing.requests().size(), 1u);
    EXPECT_EQ(allowing.requests()[0].body,
              ramp_event_json(event_of(RampEventType::step), kTime, 8));

    RecordingServer refusing(io_,
                             always(http_reply("HTTP/1.1 409 Conflict", "migration 42 pending\n")));
    ask(refusing.url("/gate"));
    EXPECT_EQ(as_pair(answer), (Answer{false, "gate answered 409: migration 42 pending"}));
    EXPECT_EQ(refusing.requests().size(), 1u);  // asked once, never retried

    std::uint16_t closed_port = 0;
    {
        asio::ip::tcp::acceptor a(io_, {asio::ip::address_v4::loopback(), 0});
        closed_port = a.local_endpoint().port();
    }
    ask("http://127.0.0.1:" + std::to_string(closed_port) + "/gate");
    EXPECT_EQ(as_pair(answer), (Answer{false, "gate unreachable: connection refused"}));

    RecordingServer silent(
        io_, [](std::size_t, const RecordedRequest&) { return std::optional<std::string>(); });
    delivery_.ask_gate(silent.url("/gate"), event_of(RampEventType::step), kTime, 8, 100ms,
                       [&](GateAnswer a) { answer = std::move(a); });
    answer.reset();
    ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
    EXPECT_EQ(as_pair(answer), (Answer{false, "gate unreachable: timed out after 100ms"}));
    EXPECT_EQ(delivery_.counts(), WebhookCounts{});  // the gate is not a webhook
}

}  // namespace
}  // namespace switchyard::control

#include "switchyard/app/handover.hpp"

#include <gtest/gtest.h>

namespace switchyard::app {
namespace {

HandoverMessage sample() {
    HandoverMessage m;
    m.from_pid = 4242;
    m.listeners = {{10, "0.0.0.0:8080"}, {11, "[::1]:8081"}};
    m.control_fd = 12;
    m.runtime.active = "green";
    m.runtime.previous = "blue";
    m.runtime.canary_pool = "blue";
    m.runtime.canary_weight_bp = 250;
    m.runtime.generation = 9;
    m.watchdog_usec = 30'000'000;
    return m;
}

// The descriptors arrive renumbered: the message names them by index.
TEST(Handover, RoundTripsWithRenumberedDescriptors) {
    std::vector<int> fds;
    const std::string line = encode_handover(sample(), fds);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(fds, (std::vector<int>{10, 11, 12}));
    std::string error;
    auto m = decode_handover(line.substr(0, line.size() - 1), {20, 21, 22}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->from_pid, 4242);
    ASSERT_EQ(m->listeners.size(), 2u);
    EXPECT_EQ(m->listeners[0].fd, 20);
    EXPECT_EQ(m->listeners[0].name, "0.0.0.0:8080");
    EXPECT_EQ(m->listeners[1].fd, 21);
    EXPECT_EQ(m->listeners[1].name, "[::1]:8081");
    EXPECT_EQ(m->control_fd, 22);
    EXPECT_EQ(m->runtime.active, "green");
    EXPECT_EQ(m->runtime.previous, "blue");
    EXPECT_EQ(m->runtime.canary_pool, "blue");
    EXPECT_EQ(m->runtime.canary_weight_bp, 250u);
    EXPECT_EQ(m->runtime.generation, 9u);
    EXPECT_EQ(m->watchdog_usec, 30'000'000u);
}

TEST(Handover, WithoutControlSocket) {
    auto in = sample();
    in.control_fd = -1;
    std::vector<int> fds;
    const std::string line = encode_handover(in, fds);
    EXPECT_EQ(fds.size(), 2u);
    std::string error;
    auto m = decode_handover(line, {3, 4}, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->control_fd, -1);
}

TEST(Handover, RejectsWhatItCannotTrust) {
    std::vector<int> fds;
    const std::string good = encode_handover(sample(), fds);
    std::string error;
    // Fewer descriptors arrived than the message names.
    EXPECT_FALSE(decode_handover(good, {20, 21}, error));
    EXPECT_NE(error.find("control_fd"), std::string::npos) << error;
    EXPECT_FALSE(decode_handover(good, {}, error));
    EXPECT_NE(error.find("descriptor"), std::string::npos) << error;

    struct Case {
        const char* json;
        const char* error;
    };
    for (const Case& c : {
             Case{"not json", "not a JSON object"},
             Case{R"({"version":2,"listeners":[],"runtime":{}})", "unsupported hand-over version"},
             Case{R"({"version":1,"runtime":{}})", "no listeners array"},
             Case{R"({"version":1,"listeners":[{"name":"a:1","fd":-1}],"runtime":{}})",
                  "valid descriptor index"},
             Case{R"({"version":1,"listeners":[{"fd":0}],"runtime":{}})", "lacks a name"},
             Case{R"({"version":1,"listeners":[]})", "no runtime state"},
             Case{R"({"version":1,"listeners":[],"runtime":{"active":7}})",
                  "runtime state is invalid"},
         }) {
        error.clear();
        EXPECT_FALSE(decode_handover(c.json, {5}, error)) << c.json;
        EXPECT_NE(error.find(c.error), std::string::npos) << c.json << " -> " << error;
    }
}

TEST(Handover, Replies) {
    auto ready = decode_reply(encode_reply({true, 77, {}}));
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ready);
    EXPECT_EQ(ready->pid, 77);
    auto failed = decode_reply(encode_reply({false, 0, "config has errors"}));
    ASSERT_TRUE(failed);
    EXPECT_FALSE(failed->ready);
    EXPECT_EQ(failed->error, "config has errors");
    EXPECT_FALSE(decode_reply("{}"));
    EXPECT_FALSE(decode_reply(R"({"ready":true})"));  // ready needs a pid
    EXPECT_FALSE(decode_reply("garbage"));
}

}  // namespace
}  // namespace switchyard::app

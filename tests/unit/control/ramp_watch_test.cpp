// switchyardctl's lines for a ramp: status's "ramp" object as one line, and
// `ramp … --wait`'s transitions and exit codes.
#include "switchyard/control/ramp_watch.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard::control {
namespace {

namespace json = boost::json;

json::object status_with(const std::string& ramp) {
    return json::parse(R"({"ok":true,"ramp":)" + ramp + "}").as_object();
}

const char* kRunning =
    R"x({"pool":"green","state":"running","reason":"step 2 of 3 (25.00 %)","step":2,)x"
    R"x("steps":[5.00,25.00,100.00],"weight":25.00,"bake_left_s":12.345,"verdicts":[)x"
    R"x({"verdict":"pass","text":"pass: canary 0.40 % (1 of 250)"}]})x";

TEST(RampWatch, FormatsTheRampAsOneLine) {
    const auto ramp = json::parse(kRunning).as_object();
    EXPECT_EQ(format_ramp(ramp),
              "green running, step 2 of 3 (25.00 %), bake left 12.3 s: step 2 of 3 (25.00 %)");
    EXPECT_EQ(format_last_verdict(ramp), "last verdict pass: canary 0.40 % (1 of 250)");
    const auto paused = json::parse(R"({"pool":"green","state":"paused","step":1,"steps":[5,100],)"
                                    R"("weight":5,"reason":"ramp pause"})")
                            .as_object();
    EXPECT_EQ(format_ramp(paused), "green paused, step 1 of 2 (5.00 %): ramp pause");
    EXPECT_EQ(format_last_verdict(paused), "");
}

TEST(RampWatch, PrintsEachTransitionOnceAndEndsWithTheOutcome) {
    RampWatch watch;
    auto step = watch.observe(status_with(kRunning), false);
    EXPECT_EQ(step.lines,
              "green running, step 2 of 3 (25.00 %), bake left 12.3 s: step 2 of 3 (25.00 %)\n"
              "  last verdict pass: canary 0.40 % (1 of 250)\n");
    EXPECT_FALSE(step.exit_code);
    // The same state, step and reason: nothing new to say.
    step = watch.observe(status_with(kRunning), false);
    EXPECT_EQ(step.lines, "");
    EXPECT_FALSE(step.exit_code);
    step = watch.observe(
        status_with(R"({"pool":"green","state":"promoted","step":2,"steps":[5,25,100],)"
                    R"("weight":100,"reason":"promoted: pass"})"),
        false);
    EXPECT_EQ(step.lines, "green promoted, step 2 of 3 (100.00 %): promoted: pass\n");
    EXPECT_EQ(step.exit_code, 0);
}

TEST(RampWatch, AbortedExitsFourAndNoRampIsAFailure) {
    RampWatch watch;
    auto step = watch.observe(status_with(R"({"pool":"green","state":"aborted","step":1,)"
                                          R"("steps":[5,100],"weight":0,"reason":"error rate"})"),
                              true);
    EXPECT_EQ(step.exit_code, kExitRampAborted);
    EXPECT_EQ(json::parse(step.lines).as_object().at("state").as_string(), "aborted");
    RampWatch none;
    step = none.observe(json::parse(R"({"ok":true,"ramp":null})").as_object(), false);
    EXPECT_EQ(step.lines, "no ramp\n");
    EXPECT_EQ(step.exit_code, 1);
}

}  // namespace
}  // namespace switchyard::control

#include "switchyard/core/ramp_event_text.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "switchyard/core/canary_analysis.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

using namespace std::chrono;

// 2026-12-06T07:00:00.123Z
RampTime at_seven() {
    return RampTime{sys_days{year{2026} / December / 6}.time_since_epoch() + hours{7} +
                    milliseconds{123}};
}

RampEvent step_event() {
    RampEvent e;
    e.type = RampEventType::step;
    e.pool = "green";
    e.step = 2;
    e.steps = 5;
    e.weight_bp = 2500;
    e.reason = "step 3 of 5 (25.00 %): bake over";
    return e;
}

// Every request timed at `micros`; the first `errors` are errors.
StepCounts counts(std::uint64_t requests, std::uint64_t errors, std::uint64_t micros) {
    StepCounts c;
    for (std::uint64_t i = 0; i < requests; ++i)
        c.record(i < errors ? RequestOutcome::error : RequestOutcome::ok, micros);
    return c;
}

TEST(EventTime, IsUtcWithMilliseconds) {
    EXPECT_EQ(format_event_time(at_seven()), "2026-12-06T07:00:00.123Z");
    EXPECT_EQ(format_event_time(RampTime{}), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(
        format_event_time(RampTime{sys_days{year{2024} / February / 29}.time_since_epoch() +
                                   hours{23} + minutes{59} + seconds{59} + milliseconds{999}}),
        "2024-02-29T23:59:59.999Z");
}

TEST(RampEventJson, WithoutAJudgementIsExact) {
    EXPECT_EQ(ramp_event_json(step_event(), at_seven(), 7),
              R"({"time":"2026-12-06T07:00:00.123Z","generation":7,"type":"step","pool":"green",)"
              R"("step":3,"steps":5,"weight":25.00,"reason":"step 3 of 5 (25.00 %): bake over"})");

    RampEvent started;
    started.type = RampEventType::started;
    started.pool = "blue";
    started.steps = 3;
    started.weight_bp = 1;
    EXPECT_EQ(ramp_event_json(started, RampTime{}, 0),
              R"({"time":"1970-01-01T00:00:00.000Z","generation":0,"type":"started",)"
              R"("pool":"blue","step":1,"steps":3,"weight":0.01,"reason":""})");
}

TEST(RampEventJson, AJudgementAddsBothSidesNumbersAndTheRule) {
    RampEvent e = step_event();
    e.type = RampEventType::aborted;
    e.weight_bp = 0;
    // 13 of 250 canary errors against 1 of 1000: the increase rule fails.
    const CanaryJudgement j =
        judge_canary(counts(1000, 1, 12000), counts(250, 13, 12000), CanaryAnalysisSettings{});
    ASSERT_EQ(j.verdict, Verdict::fail);
    ASSERT_TRUE(j.latency.judged);
    e.judgement = j;
    e.reason = "2 failing judgements in a row";
    const auto ms = [](std::uint64_t micros) {
        std::string out;
        append_json_fixed(out, static_cast<double>(micros) / 1000.0, 3);
        return out;
    };
    std::string analysis;
    append_json_escaped(analysis, describe(j));
    EXPECT_EQ(ramp_event_json(e, at_seven(), 9),
              R"({"time":"2026-12-06T07:00:00.123Z","generation":9,"type":"aborted",)"
              R"("pool":"green","step":3,"steps":5,"weight":0.00,)"
              R"("reason":"2 failing judgements in a row","verdict":"fail",)"
              R"("rule":"error_increase","analysis":")" +
                  analysis +
                  R"(","canary":{"requests":250,"errors":13,"error_ratio":0.052000,)"
                  R"("timed":250,"p99_ms":)" +
                  ms(j.canary.p99_micros) +
                  R"(},"baseline":{"requests":1000,"errors":1,"error_ratio":0.001000,)"
                  R"("timed":1000,"p99_ms":)" +
                  ms(j.baseline.p99_micros) + R"(},"latency_threshold_ms":)" +
                  ms(j.latency_threshold_micros) + "}");
    // Real numbers, not zeros: the histogram's bound of 12 ms.
    EXPECT_GE(j.canary.p99_micros, 12000u);
}

TEST(RampEventJson, AnInconclusiveJudgementHasNoLatencyThresholdAndNullP99WithoutTimings) {
    RampEvent e = step_event();
    e.type = RampEventType::holding;
    StepCounts untimed;
    untimed.record(RequestOutcome::ok, std::nullopt);
    e.judgement = judge_canary(untimed, StepCounts{}, CanaryAnalysisSettings{});
    const std::string json = ramp_event_json(e, at_seven(), 1);
    EXPECT_NE(json.find(R"("verdict":"inconclusive","rule":"min_requests")"), std::string::npos);
    EXPECT_NE(json.find(R"("canary":{"requests":0,"errors":0,"error_ratio":0.000000,)"
                        R"("timed":0,"p99_ms":null},)"
                        R"("baseline":{"requests":1,"errors":0,"error_ratio":0.000000,)"
                        R"("timed":0,"p99_ms":null}})"),
              std::string::npos)
        << json;
    EXPECT_EQ(json.find("latency_threshold_ms"), std::string::npos);
}

TEST(RampEventJson, ReasonWithQuotesAndControlCharactersIsEscaped) {
    RampEvent e = step_event();
    e.pool = "gr\"een";
    e.reason = "gate answered 409: \"migration\\pending\"\r\n\x01\x7f end";
    const std::string json = ramp_event_json(e, at_seven(), 7);
    EXPECT_NE(json.find(R"("pool":"gr\"een")"), std::string::npos);
    EXPECT_NE(
        json.find(
            R"("reason":"gate answered 409: \"migration\\pending\"\u000d\u000a\u0001\u007f end"})"),
        std::string::npos)
        << json;
    for (char c : json)
        EXPECT_GE(static_cast<unsigned char>(c), 0x20) << json;
}

TEST(RampEventSlack, IsOneSentenceWithTheKeyNumbers) {
    EXPECT_EQ(ramp_event_slack(step_event(), at_seven(), 7),
              "{\"text\":\"Switchyard ramp of green: step 3/5 at 25.00 % \xe2\x80\x94 step: "
              "step 3 of 5 (25.00 %): bake over\"}");

    RampEvent promoted = step_event();
    promoted.type = RampEventType::promoted;
    promoted.step = 5;  // past the last step: steps that end below 100
    promoted.weight_bp = 10000;
    promoted.reason = "promoted: all steps passed";
    EXPECT_EQ(ramp_event_slack(promoted, at_seven(), 7),
              "{\"text\":\"Switchyard ramp of green: at 100.00 % \xe2\x80\x94 promoted: "
              "promoted: all steps passed\"}");
}

TEST(RampEventSlack, AddsTheJudgementUnlessTheReasonQuotesIt) {
    RampEvent e = step_event();
    e.type = RampEventType::aborted;
    e.weight_bp = 0;
    const CanaryJudgement j =
        judge_canary(counts(1000, 1, 12000), counts(250, 13, 12000), CanaryAnalysisSettings{});
    e.judgement = j;
    e.reason = "2 failing judgements in a row";
    std::string expected_text;
    append_json_escaped(expected_text,
                        "Switchyard ramp of green: step 3/5 at 0.00 % \xe2\x80\x94 "
                        "aborted: 2 failing judgements in a row (" +
                            describe(j) + ")");
    EXPECT_EQ(ramp_event_slack(e, at_seven(), 7), "{\"text\":\"" + expected_text + "\"}");

    e.reason = "2 failing judgements in a row: " + describe(j);
    expected_text.clear();
    append_json_escaped(
        expected_text,
        "Switchyard ramp of green: step 3/5 at 0.00 % \xe2\x80\x94 aborted: " + e.reason);
    EXPECT_EQ(ramp_event_slack(e, at_seven(), 7), "{\"text\":\"" + expected_text + "\"}");
}

TEST(RampEventSlack, EscapesTheReason) {
    RampEvent e = step_event();
    e.reason = "say \"no\"\n";
    EXPECT_EQ(ramp_event_slack(e, at_seven(), 7),
              "{\"text\":\"Switchyard ramp of green: step 3/5 at 25.00 % \xe2\x80\x94 step: "
              "say \\\"no\\\"\\u000a\"}");
}

}  // namespace
}  // namespace switchyard

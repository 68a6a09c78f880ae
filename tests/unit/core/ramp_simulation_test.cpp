// The ramp and the canary analysis together, on simulated traffic, second
// by second: the scenarios scripts/ramp-check.sh measures against a real
// proxy, here deterministic and without sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "switchyard/core/canary_analysis.hpp"
#include "switchyard/core/ramp.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;

constexpr RampTime kT0{std::chrono::milliseconds{1'700'000'000'000}};

struct Pool {
    double error_ratio = 0.0;
    std::uint64_t extra_micros = 0;  // added to every request
};

struct Outcome {
    RampState state = RampState::running;
    std::chrono::seconds elapsed{0};
    std::uint64_t canary_errors = 0;  // requests that saw a canary error
};

class Simulation {
  public:
    Simulation(std::uint64_t seed, Pool baseline, Pool canary, std::uint64_t requests_per_second)
        : engine_(seed), baseline_(baseline), canary_(canary), rate_(requests_per_second) {}

    // Runs `command` and then one judgement a second until the ramp ends or
    // pauses, or `limit` passes.
    Outcome run(const RampCommand& command, const RampSettings& defaults,
                std::chrono::seconds limit) {
        RampContext ctx;
        ctx.now = kT0;
        ctx.defaults = defaults;
        ctx.pools = {"blue", "green"};
        ctx.active = "blue";
        RampResult r = apply_ramp_command(state_, command, ctx);
        EXPECT_TRUE(r.ok) << r.error;
        keep(r);
        Outcome out;
        for (std::chrono::seconds t{1}; t <= limit; ++t) {
            serve(out);
            RampTick tick;
            tick.now = kT0 + t;
            tick.window = state_.window;
            tick.judgement = judge_canary(baseline_counts_, canary_counts_,
                                          state_.ramp->record.settings.analysis);
            keep(tick_ramp(state_, tick));
            out.state = state_.ramp->record.state;
            out.elapsed = t;
            if (out.state != RampState::running && out.state != RampState::holding) break;
        }
        return out;
    }

  private:
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    std::uint64_t latency(const Pool& pool) {
        return 8000 + static_cast<std::uint64_t>(-std::log1p(-uniform()) * 2000) +
               pool.extra_micros;
    }

    // One second of traffic at the current weight.
    void serve(Outcome& out) {
        for (std::uint64_t i = 0; i < rate_; ++i) {
            const bool to_canary = uniform() * 10000 < weight_bp_;
            const Pool& pool = to_canary ? canary_ : baseline_;
            const bool error = uniform() < pool.error_ratio;
            if (to_canary && error) ++out.canary_errors;
            (to_canary ? canary_counts_ : baseline_counts_)
                .record(error ? RequestOutcome::error : RequestOutcome::ok, latency(pool));
        }
    }

    void keep(const RampResult& r) {
        state_ = r.next;
        mark_persisted(state_);
        if (r.effects.canary_weight_bp) weight_bp_ = *r.effects.canary_weight_bp;
        if (!r.effects.switch_to.empty()) weight_bp_ = 10000;
        if (r.effects.new_window) {
            baseline_counts_ = {};
            canary_counts_ = {};
        }
    }

    std::mt19937_64 engine_;
    Pool baseline_;
    Pool canary_;
    std::uint64_t rate_;
    RolloutState state_;
    std::uint32_t weight_bp_ = 0;
    StepCounts baseline_counts_;
    StepCounts canary_counts_;
};

RampCommand ramp(std::vector<std::uint32_t> steps, std::chrono::seconds bake) {
    RampCommand c;
    c.kind = RampCommand::Kind::start;
    c.pool = "green";
    c.steps_bp = std::move(steps);
    c.bake = bake;
    return c;
}

// 200 requests/s, canary 5 % errors against 0.1 %, steps 5, 25, 50, 100,
// bake 20 s, default analysis: every run aborts, none promotes, the median
// within 15 s (about 12 s: at 10 canary requests a second the difference
// takes 100-150 canary requests to be significant at 99 %).
TEST(RampSimulationTest, ClearlyWorseCanaryIsAbortedInSeconds) {
    std::vector<std::int64_t> seconds;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        Simulation sim(seed, {0.001, 0}, {0.05, 0}, 200);
        const Outcome o = sim.run(ramp({500, 2500, 5000, 10000}, 20s), {}, 300s);
        EXPECT_EQ(o.state, RampState::aborted) << seed;
        seconds.push_back(o.elapsed.count());
    }
    std::sort(seconds.begin(), seconds.end());
    EXPECT_LE(seconds[seconds.size() / 2], 15);
    EXPECT_LE(seconds.back(), 60);
}

TEST(RampSimulationTest, FiftyMillisecondsSlowerCanaryIsAbortedByTheLatencyRule) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        Simulation sim(seed, {0.001, 0}, {0.001, 50000}, 200);
        const Outcome o = sim.run(ramp({500, 2500, 5000, 10000}, 20s), {}, 300s);
        EXPECT_EQ(o.state, RampState::aborted) << seed;
        EXPECT_LE(o.elapsed, 10s) << seed;  // 50 canary requests, then two judgements
    }
}

// Both pools at 1 % (and at 3 %) errors, steps 10, 50, 100, bake 10 s:
// 100 ramps each, no false abort, each promoted shortly after its two
// bakes.
TEST(RampSimulationTest, AaRampsArePromoted) {
    for (double error_ratio : {0.01, 0.03}) {
        for (std::uint64_t seed = 1; seed <= 100; ++seed) {
            Simulation sim(seed + 100, {error_ratio, 0}, {error_ratio, 0}, 200);
            const Outcome o = sim.run(ramp({1000, 5000, 10000}, 10s), {}, 300s);
            EXPECT_EQ(o.state, RampState::promoted) << error_ratio << " " << seed;
            EXPECT_LE(o.elapsed, 25s) << error_ratio << " " << seed;
        }
    }
}

// 2 requests/s: the canary never reaches min_requests at 10 %; the ramp
// holds, pauses after max_hold, and never promotes.
TEST(RampSimulationTest, LowTrafficHoldsAndNeverPromotes) {
    RampSettings s;
    s.max_hold = 120s;
    Simulation sim(7, {0.0, 0}, {0.0, 0}, 2);
    const Outcome o = sim.run(ramp({1000, 5000, 10000}, 10s), s, 600s);
    EXPECT_EQ(o.state, RampState::paused);
    EXPECT_EQ(o.elapsed, 130s);  // bake, then max_hold
}

TEST(RampSimulationTest, LowTrafficAdvancesOnBakeTimeAloneWhenAsked) {
    RampSettings s;
    s.on_no_data = OnNoData::advance;
    s.max_hold = 0s;
    Simulation sim(7, {0.0, 0}, {0.0, 0}, 2);
    const Outcome o = sim.run(ramp({1000, 5000, 10000}, 10s), s, 600s);
    EXPECT_EQ(o.state, RampState::promoted);
    EXPECT_EQ(o.elapsed, 20s);
}

}  // namespace
}  // namespace switchyard

// Micro-benchmarks of the routing policy: the cost of one Router::decide() on
// the request path (DESIGN.md target: <= 100 ns) and of its parts.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "switchyard/core/cookie.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/router.hpp"
#include "switchyard/core/sticky.hpp"

namespace switchyard {
namespace {

// blue active and green canary at 10 %, 4 servers each, least request, the
// default sticky cookie (sy_uid).
RoutingState bench_state(StickySource source = StickySource::cookie, int flags = 0) {
    Settings s;
    s.routing.active = "blue";
    s.routing.seed = 7;
    s.routing.canary_pool = "green";
    s.routing.canary_weight_percent = 10.0;
    s.routing.sticky.source = source;
    for (const char* name : {"blue", "green"}) {
        PoolSettings p;
        p.name = name;
        p.balance = BalancePolicy::least_request;
        for (std::uint16_t i = 0; i < 4; ++i)
            p.servers.push_back({{"10.0.0." + std::to_string(i + 1), 8080}, i == 0 ? 2u : 1u});
        s.pools.push_back(p);
    }
    // Flags at 5 % (issue 18's decide() cost with 0, 1 and 10 flags); every
    // other one limited to the canary pool, as a canary-only feature is.
    for (int f = 0; f < flags; ++f)
        s.flags.push_back(
            {"feature-" + std::to_string(f), 5000,
             f % 2 == 1 ? std::vector<std::string>{"green"} : std::vector<std::string>{}, ""});
    return build_routing_state(s, initial_runtime_state(s), {}, 1);
}

// Realistic Cookie fields, sy_uid fourth of five, one per simulated user so
// that buckets (and the canary share) vary across iterations.
std::vector<std::string> cookie_headers(std::size_t users) {
    std::mt19937_64 gen(1);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < users; ++i)
        out.push_back(
            "_ga=GA1.2.1234567890.1700000000; theme=dark; "
            "csrftoken=Yx9aQ2fT7vLp0sKe3mWb8nRc; sy_uid=" +
            new_assignment_id(gen(), gen()) + "; lang=en-US");
    return out;
}

// In-flight loads as a busy worker has them.
void add_loads(const RoutingState& state, BalancerState& balancer) {
    balancer.sync(state);
    for (int p = 0; p < 2; ++p)
        for (int s = 0; s < 4; ++s)
            balancer.add_load(p, s, (p * 4 + s) % 5);
}

// Arg: the number of flags configured (0, 1, 10).
void BM_DecideCookieCanaryLeastRequest(benchmark::State& st) {
    const auto state = bench_state(StickySource::cookie, static_cast<int>(st.range(0)));
    BalancerState balancer;
    add_loads(state, balancer);
    SplitMix64 random(42);
    const auto headers = cookie_headers(1024);
    std::vector<std::string_view> fields(headers.begin(), headers.end());
    std::size_t i = 0, canary = 0, flagged = 0;
    for (auto _ : st) {
        RequestView r;
        r.cookies = std::span<const std::string_view>(&fields[i++ & 1023], 1);
        Decision d = Router::decide(r, state, balancer, random);
        canary += d.canary;
        flagged += d.flags != 0;
        benchmark::DoNotOptimize(d);
    }
    const auto n = static_cast<double>(st.iterations());
    st.counters["canary_share"] = benchmark::Counter(static_cast<double>(canary) / n);
    st.counters["flagged_share"] = benchmark::Counter(static_cast<double>(flagged) / n);
}
BENCHMARK(BM_DecideCookieCanaryLeastRequest)->Arg(0)->Arg(1)->Arg(10);

void BM_FlagBucket(benchmark::State& st) {
    const std::string key = new_assignment_id(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    std::uint64_t seed = 7;
    for (auto _ : st) {
        benchmark::DoNotOptimize(seed);
        auto b = flag_bucket("new-checkout", key, seed);
        benchmark::DoNotOptimize(b);
    }
}
BENCHMARK(BM_FlagBucket);

void BM_DecideNewUser(benchmark::State& st) {
    // No cookie: a new id is drawn and returned for Set-Cookie (allocates).
    const auto state = bench_state();
    BalancerState balancer;
    add_loads(state, balancer);
    SplitMix64 random(42);
    for (auto _ : st) {
        Decision d = Router::decide({}, state, balancer, random);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_DecideNewUser);

void BM_DecideHeaderKey(benchmark::State& st) {
    // No cookie parsing: the rest of decide().
    const auto state = bench_state(StickySource::header);
    BalancerState balancer;
    add_loads(state, balancer);
    SplitMix64 random(42);
    std::vector<std::string> keys;
    for (int i = 0; i < 1024; ++i)
        keys.push_back("user-" + std::to_string(i));
    std::size_t i = 0;
    for (auto _ : st) {
        RequestView r;
        r.sticky_header = keys[i++ & 1023];
        Decision d = Router::decide(r, state, balancer, random);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_DecideHeaderKey);

void BM_FindCookie(benchmark::State& st) {
    const auto headers = cookie_headers(1);
    const std::string_view fields[] = {headers[0]};
    for (auto _ : st) {
        auto v = find_cookie(fields, "sy_uid");
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_FindCookie);

void BM_BucketOf(benchmark::State& st) {
    const std::string key = new_assignment_id(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    std::uint64_t seed = 7;
    for (auto _ : st) {
        benchmark::DoNotOptimize(seed);
        auto b = bucket_of(key, seed);
        benchmark::DoNotOptimize(b);
    }
}
BENCHMARK(BM_BucketOf);

}  // namespace
}  // namespace switchyard

// Binomial probabilities for the canary analysis' exact tests: the
// probability of k events in n trials of probability p, its tails, and the
// one-sided Clopper–Pearson upper bound of a rate.
//
// Exact in the sense of the exact binomial test (no normal approximation)
// and numerically stable for every n the proxy can count: each probability
// mass comes from Loader's saddle-point form (the one R's dbinom uses), which
// keeps a relative error near 1e-15 where log-gamma differences of numbers
// around 1e6 would lose 6 digits; tails are sums of masses walked from the
// tail's start outwards, where they only shrink, so they stop after a few
// standard deviations. A tail is summed on its own side of the mean, so a
// p-value of 1e-300 is as accurate as one of 0.5.
//
// n up to 2^53 (the counts are exact doubles); p outside [0, 1] is clamped.
#pragma once

#include <cstdint>

namespace switchyard {

// P(X = k) for X ~ Binomial(n, p).
double binomial_pmf(std::uint64_t k, std::uint64_t n, double p);

// P(X >= k): the p-value of observing k or more events if the true rate
// were p. 1 for k = 0, 0 for k > n.
double binomial_upper_tail(std::uint64_t k, std::uint64_t n, double p);

// P(X <= k). 1 for k >= n.
double binomial_lower_tail(std::uint64_t k, std::uint64_t n, double p);

// The one-sided Clopper–Pearson upper confidence bound of a rate after x
// events in n trials: the largest p with P(X <= x | n, p) >= 1 - confidence,
// so the true rate lies below it with probability >= confidence. 1 when
// x >= n, n = 0 or confidence >= 1; x/n when confidence <= 0. Within 1e-12
// relative.
double binomial_upper_bound(std::uint64_t x, std::uint64_t n, double confidence);

}  // namespace switchyard

#include "switchyard/core/binomial.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

namespace switchyard {
namespace {

constexpr double kLn2Pi = 1.837877066409345483560659472811235279722794947275566825634;

// ln(n!) - ln(sqrt(2πn) (n/e)^n): Stirling's error, exact to double
// precision. Small n from a table (computed to 50 digits), large n from its
// asymptotic series, as in Loader (2000), "Fast and accurate computation of
// binomial probabilities".
double stirling_error(double n) {
    static constexpr std::array<double, 16> kSmall = {
        0.0,
        0.08106146679532725821967026,
        0.04134069595540929409382208,
        0.02767792568499833914878929,
        0.02079067210376509311152277,
        0.01664469118982119216319486,
        0.01387612882307074799874572,
        0.01189670994589177009505572,
        0.01041126526197209649747856,
        0.00925546218271273291772863,
        0.00833056343336287125646931,
        0.00757367548795184079497202,
        0.00694284010720952986566415,
        0.00640899418800420706843963,
        0.00595137011275884773562441,
        0.00555473355196280137103868,
    };
    if (n <= 15.0) return kSmall[static_cast<std::size_t>(n)];
    constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680,
                     s4 = 1.0 / 1188;
    const double nn = n * n;
    if (n > 500) return (s0 - s1 / nn) / n;
    if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
    if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// x ln(x / m) + m - x, the deviance term, without the cancellation of the
// direct formula when x is close to m.
double deviance(double x, double m) {
    if (std::fabs(x - m) < 0.1 * (x + m)) {
        double v = (x - m) / (x + m);
        double sum = (x - m) * v;
        if (std::fabs(sum) < std::numeric_limits<double>::min()) return sum;
        double term = 2 * x * v;
        v *= v;
        for (int j = 1; j < 1000; ++j) {
            term *= v;
            const double next = sum + term / (2 * j + 1);
            if (next == sum) return next;
            sum = next;
        }
    }
    return x * std::log(x / m) + m - x;
}

// P(X = k) with q = 1 - p given separately (exact for p >= 0.5).
double pmf(double k, double n, double p, double q) {
    if (p == 0) return k == 0 ? 1.0 : 0.0;
    if (q == 0) return k == n ? 1.0 : 0.0;
    if (k == 0) return std::exp(p < 0.1 ? -deviance(n, n * q) - n * p : n * std::log(q));
    if (k == n) return std::exp(q < 0.1 ? -deviance(n, n * p) - n * q : n * std::log(p));
    const double log_core = stirling_error(n) - stirling_error(k) - stirling_error(n - k) -
                            deviance(k, n * p) - deviance(n - k, n * q);
    const double log_scale = kLn2Pi + std::log(k) + std::log1p(-k / n);
    return std::exp(log_core - 0.5 * log_scale);
}

// A tail's terms shrink geometrically past a few standard deviations; once a
// term no longer moves the sum in its 17th digit, the rest cannot either.
constexpr double kNegligible = 1e-17;

// P(X >= k) summed upwards from k, for k above the mean (terms decrease).
double sum_upwards(std::uint64_t k, std::uint64_t n, double p, double q) {
    const double odds = p / q;
    double term = pmf(static_cast<double>(k), static_cast<double>(n), p, q);
    double sum = term;
    for (std::uint64_t i = k; i < n && term > sum * kNegligible; ++i) {
        term *= static_cast<double>(n - i) / static_cast<double>(i + 1) * odds;
        sum += term;
    }
    return sum;
}

// P(X <= k) summed downwards from k, for k below the mean (terms decrease).
double sum_downwards(std::uint64_t k, std::uint64_t n, double p, double q) {
    const double odds = q / p;
    double term = pmf(static_cast<double>(k), static_cast<double>(n), p, q);
    double sum = term;
    for (std::uint64_t i = k; i > 0 && term > sum * kNegligible; --i) {
        term *= static_cast<double>(i) / static_cast<double>(n - i + 1) * odds;
        sum += term;
    }
    return sum;
}

double clamp_probability(double p) {
    if (std::isnan(p)) return 0.0;
    return std::clamp(p, 0.0, 1.0);
}

}  // namespace

double binomial_pmf(std::uint64_t k, std::uint64_t n, double p) {
    if (k > n) return 0.0;
    p = clamp_probability(p);
    return pmf(static_cast<double>(k), static_cast<double>(n), p, 1.0 - p);
}

// Each tail is summed directly when it is the side away from the mean
// (small, so its relative accuracy matters) and as 1 - the other side when
// it contains the median (then it is >= 1/2 and the subtraction loses
// nothing).
double binomial_upper_tail(std::uint64_t k, std::uint64_t n, double p) {
    if (k == 0) return 1.0;
    if (k > n) return 0.0;
    p = clamp_probability(p);
    if (p == 0.0) return 0.0;
    if (p == 1.0) return 1.0;
    const double q = 1.0 - p;
    if (static_cast<double>(k) > static_cast<double>(n) * p) return sum_upwards(k, n, p, q);
    return std::max(0.0, 1.0 - sum_downwards(k - 1, n, p, q));
}

double binomial_lower_tail(std::uint64_t k, std::uint64_t n, double p) {
    if (k >= n) return 1.0;
    p = clamp_probability(p);
    if (p == 0.0) return 1.0;
    if (p == 1.0) return 0.0;
    const double q = 1.0 - p;
    if (static_cast<double>(k) < static_cast<double>(n) * p) return sum_downwards(k, n, p, q);
    return std::max(0.0, 1.0 - sum_upwards(k + 1, n, p, q));
}

double binomial_upper_bound(std::uint64_t x, std::uint64_t n, double confidence) {
    if (n == 0 || x >= n) return 1.0;
    const double alpha = 1.0 - std::clamp(std::isnan(confidence) ? 0.0 : confidence, 0.0, 1.0);
    const double estimate = static_cast<double>(x) / static_cast<double>(n);
    if (alpha >= 1.0) return estimate;
    if (alpha <= 0.0) return 1.0;
    // No events: P(X = 0) = (1 - p)^n = alpha has a closed form.
    if (x == 0) return -std::expm1(std::log(alpha) / static_cast<double>(n));
    // P(X <= x | p) falls as p grows: bisect between a p where it is above
    // alpha (the estimate x/n, where it is about 1/2, or 0) and 1 (where it
    // is 0).
    double low = alpha < 0.5 ? estimate : 0.0;
    double high = 1.0;
    for (int i = 0; i < 200 && high - low > high * 1e-14; ++i) {
        const double mid = 0.5 * (low + high);
        if (binomial_lower_tail(x, n, mid) >= alpha)
            low = mid;
        else
            high = mid;
    }
    return high;
}

}  // namespace switchyard

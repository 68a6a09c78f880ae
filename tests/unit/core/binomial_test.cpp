#include "switchyard/core/binomial.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace switchyard {
namespace {

// Reference values computed with 80-digit decimal arithmetic from
// math.comb (p taken as the exact value of the double), so a mismatch is
// this code's error, not the reference's.
enum class Kind { pmf, upper, lower };
struct Reference {
    Kind kind;
    std::uint64_t k;
    std::uint64_t n;
    double p;
    double expected;
};

constexpr Reference kReferences[] = {
    {Kind::pmf, 3, 10, 0.3, 0.266827932},
    {Kind::pmf, 0, 100000, 1e-06, 0.9048373727940596},
    {Kind::pmf, 100000, 100000, 0.999999, 0.9048373727914577},
    {Kind::pmf, 1000, 100000, 0.01, 0.012678161323544589},
    {Kind::pmf, 50000, 100000, 0.5, 0.00252312621419674},
    {Kind::upper, 5, 20, 0.1, 0.04317449528446339},
    {Kind::upper, 13, 250, 0.011, 5.36782506598003e-06},
    {Kind::upper, 1, 10, 0.5, 0.9990234375},
    {Kind::upper, 50, 50, 0.01, 1.000000000000001e-100},
    {Kind::upper, 1100, 100000, 0.01, 0.0009117803412451086},
    {Kind::upper, 1200, 100000, 0.01, 3.8125331012146047e-10},
    {Kind::upper, 900, 100000, 0.01, 0.9994109510545188},
    {Kind::upper, 50000, 100000, 0.5, 0.5012615631070984},
    {Kind::upper, 51000, 100000, 0.5, 1.294358019173449e-10},
    {Kind::upper, 3, 100000, 1e-06, 0.00015464877230815632},
    {Kind::upper, 1, 100000, 1e-09, 9.999500021665751e-05},
    {Kind::upper, 999, 1000, 0.999999, 0.9999995008322098},
    {Kind::upper, 99990, 100000, 0.9999, 0.5830397502973921},
    {Kind::lower, 900, 100000, 0.01, 0.0006608413334501511},
    {Kind::lower, 998, 1000, 0.999999, 4.991677902470782e-07},
    {Kind::lower, 0, 100000, 1e-06, 0.9048373727940596},
    {Kind::lower, 5, 1000, 0.02, 6.400906688293036e-05},
    {Kind::lower, 99990, 100000, 0.9999, 0.5420765413843016},
};

double evaluate(const Reference& r) {
    switch (r.kind) {
        case Kind::pmf:
            return binomial_pmf(r.k, r.n, r.p);
        case Kind::upper:
            return binomial_upper_tail(r.k, r.n, r.p);
        case Kind::lower:
            return binomial_lower_tail(r.k, r.n, r.p);
    }
    return -1;
}

TEST(BinomialTest, MatchesHighPrecisionReferences) {
    for (const Reference& r : kReferences) {
        const double got = evaluate(r);
        EXPECT_NEAR(got, r.expected, r.expected * 1e-12)
            << "kind " << static_cast<int>(r.kind) << " k=" << r.k << " n=" << r.n << " p=" << r.p;
    }
}

TEST(BinomialTest, EdgesOfTheSupport) {
    EXPECT_EQ(binomial_upper_tail(0, 10, 0.3), 1.0);
    EXPECT_EQ(binomial_upper_tail(11, 10, 0.3), 0.0);
    EXPECT_EQ(binomial_lower_tail(10, 10, 0.3), 1.0);
    EXPECT_EQ(binomial_lower_tail(99, 10, 0.3), 1.0);
    EXPECT_EQ(binomial_pmf(11, 10, 0.3), 0.0);
    EXPECT_EQ(binomial_upper_tail(0, 0, 0.3), 1.0);
    EXPECT_EQ(binomial_pmf(0, 0, 0.3), 1.0);
}

TEST(BinomialTest, DegenerateProbabilities) {
    EXPECT_EQ(binomial_upper_tail(1, 100, 0.0), 0.0);
    EXPECT_EQ(binomial_lower_tail(0, 100, 0.0), 1.0);
    EXPECT_EQ(binomial_upper_tail(100, 100, 1.0), 1.0);
    EXPECT_EQ(binomial_lower_tail(99, 100, 1.0), 0.0);
    EXPECT_EQ(binomial_pmf(0, 100, 0.0), 1.0);
    EXPECT_EQ(binomial_pmf(100, 100, 1.0), 1.0);
    EXPECT_EQ(binomial_pmf(3, 100, 1.0), 0.0);
    // Out of range and NaN are clamped rather than producing NaN.
    EXPECT_EQ(binomial_upper_tail(1, 100, -0.5), 0.0);
    EXPECT_EQ(binomial_upper_tail(1, 100, 1.5), 1.0);
    EXPECT_EQ(binomial_upper_tail(1, 100, std::nan("")), 0.0);
}

TEST(BinomialTest, TailsAreComplementsAndSumToOne) {
    for (std::uint64_t n : {1u, 7u, 50u, 1000u, 100000u}) {
        for (double p : {1e-7, 0.001, 0.01, 0.3, 0.5, 0.97, 1 - 1e-7}) {
            for (std::uint64_t k : {std::uint64_t{0}, n / 100, n / 3, n / 2, n - n / 50, n}) {
                const double upper = binomial_upper_tail(k, n, p);
                const double below = k == 0 ? 0.0 : binomial_lower_tail(k - 1, n, p);
                EXPECT_NEAR(upper + below, 1.0, 1e-13) << n << " " << p << " " << k;
            }
        }
    }
}

TEST(BinomialTest, PmfSumsToOne) {
    for (std::uint64_t n : {1u, 20u, 3000u}) {
        for (double p : {0.001, 0.25, 0.5, 0.999}) {
            double sum = 0;
            for (std::uint64_t k = 0; k <= n; ++k)
                sum += binomial_pmf(k, n, p);
            EXPECT_NEAR(sum, 1.0, 1e-12) << n << " " << p;
        }
    }
}

TEST(BinomialTest, UpperTailFallsWithKAndRisesWithP) {
    double previous = 1.0;
    for (std::uint64_t k = 0; k <= 2000; k += 10) {
        const double t = binomial_upper_tail(k, 100000, 0.01);
        EXPECT_LE(t, previous) << k;
        previous = t;
    }
    previous = 0.0;
    for (double p = 0.001; p < 0.05; p += 0.001) {
        const double t = binomial_upper_tail(500, 20000, p);
        EXPECT_GE(t, previous) << p;
        previous = t;
    }
}

TEST(BinomialTest, FarTailUnderflowsToZeroNotNaN) {
    const double t = binomial_upper_tail(100000, 100000, 0.001);
    EXPECT_EQ(t, 0.0);
    EXPECT_FALSE(std::isnan(binomial_lower_tail(0, 100000, 0.5)));
}

struct Bound {
    std::uint64_t x;
    std::uint64_t n;
    double confidence;
    double expected;
};

TEST(BinomialTest, ClopperPearsonUpperBoundMatchesReferences) {
    constexpr Bound kBounds[] = {
        {0, 50, 0.99, 0.08798916064409024},     {1, 950, 0.99, 0.0069670386951092575},
        {10, 1000, 0.95, 0.016903175120562504}, {5, 20, 0.99, 0.5321064089534617},
        {19, 20, 0.9, 0.9947458259305311},      {1000, 100000, 0.99, 0.010756594114118652},
    };
    for (const Bound& b : kBounds)
        EXPECT_NEAR(binomial_upper_bound(b.x, b.n, b.confidence), b.expected, b.expected * 1e-11)
            << b.x << "/" << b.n << " at " << b.confidence;
}

TEST(BinomialTest, ClopperPearsonBoundIsWhereTheLowerTailMeetsAlpha) {
    for (std::uint64_t x : {0u, 1u, 3u, 40u}) {
        const double u = binomial_upper_bound(x, 5000, 0.99);
        EXPECT_NEAR(binomial_lower_tail(x, 5000, u), 0.01, 1e-10) << x;
    }
}

TEST(BinomialTest, ClopperPearsonDegenerateInputs) {
    EXPECT_EQ(binomial_upper_bound(0, 0, 0.99), 1.0);
    EXPECT_EQ(binomial_upper_bound(5, 5, 0.99), 1.0);
    EXPECT_EQ(binomial_upper_bound(7, 5, 0.99), 1.0);
    EXPECT_EQ(binomial_upper_bound(2, 10, 1.0), 1.0);
    EXPECT_DOUBLE_EQ(binomial_upper_bound(2, 10, 0.0), 0.2);
    // A higher confidence gives a wider bound.
    EXPECT_LT(binomial_upper_bound(3, 300, 0.9), binomial_upper_bound(3, 300, 0.99));
}

}  // namespace
}  // namespace switchyard

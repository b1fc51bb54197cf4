// Exact small-sample statistics for the report and the gates: the Beta and
// binomial laws (through the regularised incomplete beta function), Wilson
// intervals for proportions, the Clopper-Pearson upper bound of a risk,
// McNemar's exact test for paired correctness and a seeded percentile
// bootstrap. Pure functions of counts, in double precision; nothing here
// reads a tensor or a file.
//
// Deliberately not here: anything asymptotic beyond Wilson's score interval
// (its normal approximation is the standard one for reported accuracies).
#ifndef VIT_MOE_EVAL_STATISTICS_H_
#define VIT_MOE_EVAL_STATISTICS_H_

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace vit_moe::eval {

// I_x(a, b), the CDF of Beta(a, b) at x; a, b > 0, x in [0, 1].
// Continued fraction (modified Lentz), accurate to ~1e-13 for the
// parameters used here (a, b up to ~1e6).
double RegularizedIncompleteBeta(double a, double b, double x);

// The q-quantile of Beta(a, b), q in [0, 1], by bisection on
// RegularizedIncompleteBeta (60 halvings: ~1e-18 of the unit interval).
double BetaQuantile(double a, double b, double q);

// P(X <= k) for X ~ Binomial(n, p); 1 for k >= n, 0 for k < 0.
double BinomialCdf(int64_t k, int64_t n, double p);

// A two-sided interval [low, high] of a proportion.
struct ProportionInterval {
  double low = 0;
  double high = 1;
};

// Wilson's score interval of `successes` out of `trials` at two-sided
// confidence `level` (e.g. 0.95); [0, 1] for trials == 0.
ProportionInterval WilsonInterval(int64_t successes, int64_t trials,
                                  double level);

// The one-sided Clopper-Pearson upper confidence bound of a risk with
// `errors` out of `trials`: the largest r with P(Binomial(trials, r) <=
// errors) >= delta, so the true risk lies below it with probability at
// least 1 - delta. 1 for trials == 0.
double ClopperPearsonUpper(int64_t errors, int64_t trials, double delta);

// McNemar's exact one-sided test on the discordant pairs of two classifiers
// judged on the same images: `only_baseline_right` images the baseline got
// right and the new model wrong, `only_new_right` the reverse. Under the
// null hypothesis (equal accuracy) each discordant image falls either way
// with probability 1/2; the p-value is P(X >= only_baseline_right) for
// X ~ Binomial(discordant, 1/2): small when the new model is worse.
double McNemarWorsePValue(int64_t only_baseline_right, int64_t only_new_right);

// The q-quantile of the standard normal law, q in (0, 1), by bisection on
// erfc (to ~1e-15).
double NormalQuantile(double q);

// A uniform index in [0, n) from `generator` by multiply-and-shift, so the
// draws are the same with every standard library (std::uniform_int_
// distribution and std::shuffle are not specified bit for bit).
int64_t UniformIndex(std::mt19937_64& generator, int64_t n);

// The central `level` percentile interval of `statistic` over `resamples`
// bootstrap resamples of n items (indices drawn with replacement by
// UniformIndex from a std::mt19937_64 seeded with `seed`). `statistic`
// receives the resampled indices.
ProportionInterval BootstrapInterval(
    int64_t n, int resamples, uint64_t seed, double level,
    const std::function<double(const std::vector<int64_t>&)>& statistic);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_STATISTICS_H_

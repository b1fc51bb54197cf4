#include "eval/statistics.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace vit_moe::eval {
namespace {

// The continued fraction of I_x(a, b) / (x^a (1-x)^b / (a B(a, b))), which
// converges fast for x < (a + 1) / (a + b + 2); evaluated by the modified
// Lentz method.
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  double c = 1;
  double d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double result = d;
  for (int m = 1; m <= 100000; ++m) {
    // Even term: m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + numerator * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + numerator / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    result *= d * c;
    // Odd term: -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + numerator / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double step = d * c;
    result *= step;
    if (std::abs(step - 1) < kEpsilon) return result;
  }
  LOG(FATAL) << "incomplete beta did not converge for a=" << a << " b=" << b
             << " x=" << x;
}

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  CHECK_GT(a, 0);
  CHECK_GT(b, 0);
  CHECK_GE(x, 0);
  CHECK_LE(x, 1);
  if (x == 0) return 0;
  if (x == 1) return 1;
  const double log_front =
      a * std::log(x) + b * std::log1p(-x) -
      (std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b));
  if (x < (a + 1) / (a + b + 2)) {
    return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  }
  return 1 - std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
}

double BetaQuantile(double a, double b, double q) {
  CHECK_GE(q, 0);
  CHECK_LE(q, 1);
  double low = 0, high = 1;
  for (int i = 0; i < 60; ++i) {
    const double mid = (low + high) / 2;
    (RegularizedIncompleteBeta(a, b, mid) < q ? low : high) = mid;
  }
  return (low + high) / 2;
}

double BinomialCdf(int64_t k, int64_t n, double p) {
  CHECK_GE(n, 0);
  if (k < 0) return 0;
  if (k >= n) return 1;
  // P(X <= k) = I_{1-p}(n - k, k + 1).
  return RegularizedIncompleteBeta(n - k, k + 1, 1 - p);
}

double NormalQuantile(double q) {
  CHECK_GT(q, 0);
  CHECK_LT(q, 1);
  double low = -40, high = 40;
  for (int i = 0; i < 200 && high - low > 1e-15; ++i) {
    const double mid = (low + high) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? low : high) = mid;
  }
  return (low + high) / 2;
}

ProportionInterval WilsonInterval(int64_t successes, int64_t trials,
                                  double level) {
  CHECK_GE(successes, 0);
  CHECK_LE(successes, trials);
  if (trials == 0) return {};
  const double z = NormalQuantile(1 - (1 - level) / 2);
  const double n = trials;
  const double p = successes / n;
  const double z2 = z * z;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half =
      z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

double ClopperPearsonUpper(int64_t errors, int64_t trials, double delta) {
  CHECK_GE(errors, 0);
  CHECK_LE(errors, trials);
  CHECK_GT(delta, 0);
  CHECK_LT(delta, 1);
  if (errors == trials) return 1;
  // P(Binomial(n, r) <= k) = 1 - I_r(k + 1, n - k) falls in r; it equals
  // delta at the (1 - delta)-quantile of Beta(k + 1, n - k).
  return BetaQuantile(errors + 1, trials - errors, 1 - delta);
}

double McNemarWorsePValue(int64_t only_baseline_right, int64_t only_new_right) {
  CHECK_GE(only_baseline_right, 0);
  CHECK_GE(only_new_right, 0);
  if (only_baseline_right == 0) return 1;
  // P(X >= b) for X ~ Binomial(b + c, 1/2) is I_{1/2}(b, c + 1).
  return RegularizedIncompleteBeta(only_baseline_right, only_new_right + 1,
                                   0.5);
}

int64_t UniformIndex(std::mt19937_64& generator, int64_t n) {
  CHECK_GT(n, 0);
  const unsigned __int128 wide =
      static_cast<unsigned __int128>(generator()) * static_cast<uint64_t>(n);
  return static_cast<int64_t>(wide >> 64);
}

ProportionInterval BootstrapInterval(
    int64_t n, int resamples, uint64_t seed, double level,
    const std::function<double(const std::vector<int64_t>&)>& statistic) {
  CHECK_GT(n, 0);
  CHECK_GT(resamples, 0);
  std::mt19937_64 generator(seed);
  std::vector<int64_t> indices(n);
  std::vector<double> values;
  values.reserve(resamples);
  for (int r = 0; r < resamples; ++r) {
    for (int64_t& i : indices) i = UniformIndex(generator, n);
    values.push_back(statistic(indices));
  }
  std::sort(values.begin(), values.end());
  const double tail = (1 - level) / 2;
  // The outer order statistics, so the interval holds at least `level`.
  const int64_t low = static_cast<int64_t>(std::floor(tail * (resamples - 1)));
  const int64_t high =
      static_cast<int64_t>(std::ceil((1 - tail) * (resamples - 1)));
  return {values[std::clamp<int64_t>(low, 0, resamples - 1)],
          values[std::clamp<int64_t>(high, 0, resamples - 1)]};
}

}  // namespace vit_moe::eval

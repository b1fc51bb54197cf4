#include "augment/sample_random.h"

#include <glog/logging.h>

#include <cmath>

namespace vit_moe::augment {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// SplitMix64's output function: a bijective avalanche of all 64 bits.
uint64_t Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

SampleRandom::SampleRandom(uint64_t seed, int64_t epoch, int64_t item,
                           RandomStream stream) {
  // Chained finalisers, so (seed, epoch, item) triples that sum alike still
  // get unrelated keys.
  uint64_t key = Finalize(seed + kGolden);
  key = Finalize(key ^ static_cast<uint64_t>(epoch));
  key = Finalize(key ^ static_cast<uint64_t>(item));
  key_ = Finalize(key ^ static_cast<uint64_t>(stream));
}

uint64_t SampleRandom::Next() { return Finalize(key_ + ++counter_ * kGolden); }

double SampleRandom::Uniform() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

double SampleRandom::Uniform(double low, double high) {
  return low + (high - low) * Uniform();
}

int64_t SampleRandom::Below(int64_t n) {
  CHECK_GT(n, 0);
  // Multiply-shift: the bias is below n / 2^64, far under anything visible.
  unsigned __int128 product =
      static_cast<unsigned __int128>(Next()) * static_cast<uint64_t>(n);
  return static_cast<int64_t>(product >> 64);
}

bool SampleRandom::Bernoulli(double p) { return Uniform() < p; }

double SampleRandom::Normal() {
  // 1 - Uniform() lies in (0, 1], so the logarithm is finite.
  double radius = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
  return radius * std::cos(2.0 * M_PI * Uniform());
}

double SampleRandom::Gamma(double shape) {
  CHECK_GT(shape, 0.0);
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a).
    double u = 1.0 - Uniform();
    return Gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = Normal();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = 1.0 - Uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

double SampleRandom::Beta(double a, double b) {
  double x = Gamma(a);
  double y = Gamma(b);
  return x / (x + y);
}

}  // namespace vit_moe::augment

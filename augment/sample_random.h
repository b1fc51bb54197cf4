// Per-sample random numbers whose values depend only on a key
// (seed, epoch, item, stream): never on thread count, batch composition or
// the order in which samples are processed.
//
// The generator is SplitMix64 started from a key that mixes the four parts
// with SplitMix64's finaliser; the k-th draw is finalise(key + k * golden),
// so it is counter-based and needs no shared state. Every distribution below
// is written here (not taken from <random>, whose algorithms differ between
// standard libraries) so a seed gives the same images on every platform.
#ifndef VIT_MOE_AUGMENT_SAMPLE_RANDOM_H_
#define VIT_MOE_AUGMENT_SAMPLE_RANDOM_H_

#include <cstdint>

namespace vit_moe::augment {

// Independent streams for the three places the augmenter draws randomness.
enum class RandomStream : uint64_t {
  kImageOps = 1,  // AugmentImages, keyed by the sample's split index
  kErasing = 2,   // EraseImages, keyed by the sample's split index
  kMixing = 3,    // MixBatch, keyed by the global batch index
};

class SampleRandom {
 public:
  SampleRandom(uint64_t seed, int64_t epoch, int64_t item, RandomStream stream);

  // Uniform 64-bit value.
  uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform in [low, high).
  double Uniform(double low, double high);
  // Uniform integer in [0, n); n > 0.
  int64_t Below(int64_t n);
  // True with probability p.
  bool Bernoulli(double p);
  // Standard normal (Box-Muller).
  double Normal();
  // Gamma(shape, 1), shape > 0 (Marsaglia-Tsang).
  double Gamma(double shape);
  // Beta(a, b), a, b > 0.
  double Beta(double a, double b);

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_SAMPLE_RANDOM_H_

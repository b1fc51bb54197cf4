// The project's data-side random generator. std::shuffle and the standard
// distributions are implementation-defined, so a split or an epoch order made
// with them could differ between standard libraries; this generator and its
// Fisher-Yates shuffle are fully specified here and give the same sequence
// everywhere.
#ifndef VIT_MOE_DATA_RANDOM_H_
#define VIT_MOE_DATA_RANDOM_H_

#include <cstdint>
#include <utility>
#include <vector>

namespace vit_moe::data {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, full period 2^64, passes
// BigCrush; good enough for permutations and far cheaper than a Mersenne
// Twister state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound), bound > 0; rejection removes modulo bias.
  uint64_t Uniform(uint64_t bound) {
    uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % bound);
    uint64_t value;
    do {
      value = Next();
    } while (value >= limit);
    return value % bound;
  }

 private:
  uint64_t state_;
};

// Derives an independent stream seed from a base seed and a purpose-specific
// value (epoch, class id, ...), so streams for different values don't overlap
// in an obvious way.
inline uint64_t MixSeed(uint64_t seed, uint64_t value) {
  SplitMix64 mixer(seed ^ (value * 0xd1b54a32d192ed03ULL));
  mixer.Next();
  return mixer.Next();
}

// Fisher-Yates shuffle in place.
template <typename T>
void Shuffle(std::vector<T>& items, SplitMix64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng.Uniform(i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_RANDOM_H_

// BaselineCorrectness::top1_correct: one bit per evaluated image, so that a
// report of 10,000 images carries its per-image correctness in 1,250 bytes.
#ifndef VIT_MOE_EVAL_BASELINE_CORRECTNESS_H_
#define VIT_MOE_EVAL_BASELINE_CORRECTNESS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace vit_moe::eval {

// Bit i % 8 of byte i / 8, least significant first.
std::string PackCorrectness(const std::vector<bool>& correct);
// The first `images` bits; `bits` must hold at least that many (CHECKed).
std::vector<bool> UnpackCorrectness(const std::string& bits, int64_t images);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_BASELINE_CORRECTNESS_H_

#include "eval/baseline_correctness.h"

#include <glog/logging.h>

namespace vit_moe::eval {

std::string PackCorrectness(const std::vector<bool>& correct) {
  std::string bits((correct.size() + 7) / 8, '\0');
  for (size_t i = 0; i < correct.size(); ++i) {
    if (correct[i]) bits[i / 8] |= static_cast<char>(1 << (i % 8));
  }
  return bits;
}

std::vector<bool> UnpackCorrectness(const std::string& bits, int64_t images) {
  CHECK_GE(static_cast<int64_t>(bits.size()) * 8, images);
  std::vector<bool> correct(images);
  for (int64_t i = 0; i < images; ++i) {
    correct[i] = (static_cast<unsigned char>(bits[i / 8]) >> (i % 8)) & 1;
  }
  return correct;
}

}  // namespace vit_moe::eval

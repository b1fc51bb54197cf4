#include "common/memory.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace vit_moe {
namespace {

constexpr int64_t kMiB = 1 << 20;

TEST(MemoryTest, PeakCoversATouchedAllocation) {
  const int64_t before = PeakResidentBytes();
  std::vector<char> block(256 * kMiB);
  std::memset(block.data(), 1, block.size());
  // Bytes, not the KiB getrusage reports.
  EXPECT_GE(PeakResidentBytes(), before + 200 * kMiB);
  EXPECT_LT(PeakResidentBytes(), before + 2048 * kMiB);
}

}  // namespace
}  // namespace vit_moe

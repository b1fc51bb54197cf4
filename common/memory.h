#ifndef VIT_MOE_COMMON_MEMORY_H_
#define VIT_MOE_COMMON_MEMORY_H_

#include <cstdint>

namespace vit_moe {

// Highest resident set size this process has reached, in bytes (0 when the
// kernel does not say).
int64_t PeakResidentBytes();

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_MEMORY_H_

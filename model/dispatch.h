// Expert dispatch planning: which token slots each expert processes, after
// capacity limits. Shared by the sparse path and the dense reference so that
// both drop exactly the same slots.
//
// A slot is one (token, k) pair of the top-k routing. With a capacity, each
// expert keeps at most `capacity` slots, preferring lower k (every token's
// first choice before any second choice), then lower token index; a dropped
// slot contributes nothing, so its token passes through the residual.
//
// Legend: T tokens (B*N), E experts, K top-k, S kept slots.
#ifndef VIT_MOE_MODEL_DISPATCH_H_
#define VIT_MOE_MODEL_DISPATCH_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace vit_moe::model {

struct DispatchPlan {
  // Kept slots sorted by expert, then by token (ascending within an expert).
  torch::Tensor token;  // [S] int64
  torch::Tensor gate;   // [S] float, the slot's renormalised router weight
  // Expert e owns slots [expert_begin[e], expert_begin[e + 1]); size E + 1.
  std::vector<int64_t> expert_begin;
  torch::Tensor keep;  // [T, K] bool, false for slots dropped by capacity
};

// How often each value in [0, bins) occurs in `values` (any shape, int64):
// [bins] int64 on values' device. Unlike torch::bincount, which reads the
// input's min and max back to the host on CUDA, this never synchronises.
torch::Tensor CountValues(const torch::Tensor& values, int64_t bins);

// Routed row counts change every step. Under CPU autocast, bf16 matmuls run
// in oneDNN, which JIT-compiles a kernel for every new GEMM shape: that cost
// more than the matmuls themselves. Experts therefore pad their rows to a
// multiple of kRowBucket there (a few percent more rows), so shapes repeat
// and oneDNN's primitive cache hits. Float32 (OpenBLAS) and CUDA need no
// padding: `rows` itself.
inline constexpr int64_t kRowBucket = 64;
int64_t PaddedRows(int64_t rows);
// index [S] -> [padded]: its entries, then the last one repeated.
torch::Tensor PadIndex(const torch::Tensor& index, int64_t padded);

// Slots per expert for `tokens` tokens: ceil(factor * tokens * K / E);
// 0 (unlimited) when factor is 0.
int64_t ExpertCapacity(double capacity_factor, int64_t tokens, int64_t top_k,
                       int64_t num_experts);

// top_experts, gates: [T, K]. capacity 0 = dropless.
DispatchPlan PlanDispatch(const torch::Tensor& top_experts,
                          const torch::Tensor& gates, int64_t num_experts,
                          int64_t capacity);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_DISPATCH_H_

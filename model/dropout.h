// Dropout and stochastic depth with cheap, deterministic masks.
//
// LibTorch's CPU bernoulli_ draws every element from a Mersenne Twister on
// one thread; with the seed preset's dropout, attention dropout and
// drop-path, drawing the masks cost as much as the matmuls of a training
// step. Here each call takes a single 64-bit draw from torch's default CPU
// generator (so torch::manual_seed and the checkpointed generator state fix
// it, and a resumed run draws what the uninterrupted one drew), and element
// i's uniform comes from the SplitMix64 sequence started at that draw:
// 32 bits per element, two elements per 64-bit output, independent of the
// thread count. Keep probability (1 - p) within 2^-32, kept elements scaled
// by 1 / (1 - p) in the input's dtype (as LibTorch's dropout does).
//
// Off the CPU the fused device kernels of LibTorch are used unchanged.
#ifndef VIT_MOE_MODEL_DROPOUT_H_
#define VIT_MOE_MODEL_DROPOUT_H_

#include <torch/torch.h>

#include <cstdint>

namespace vit_moe::model {

// A CPU tensor of `shape` and `dtype` whose elements are 1 / keep with
// probability `keep` and 0 otherwise, from the generator stream starting
// at `seed`. 0 < keep < 1.
torch::Tensor KeepMask(at::IntArrayRef shape, double keep,
                       torch::ScalarType dtype, uint64_t seed);

// Inverted dropout: in training, zeroes each element with probability `p`
// and scales the rest by 1 / (1 - p); the identity otherwise or at p = 0.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool training);

// x + DropPath(branch): stochastic depth on a residual branch. In
// training, the branch is zeroed for a random subset of samples (rate `p`)
// and the rest scaled by 1/(1-p), fused with the residual add into one
// pass; x + branch otherwise. x, branch: [B, ...].
torch::Tensor AddDropPath(const torch::Tensor& x, const torch::Tensor& branch,
                          double p, bool training);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_DROPOUT_H_

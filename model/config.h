// Model configuration: resolving a preset plus overrides into a complete
// config, validating it before anything is allocated, and the quantities
// derived from it (token grid, MoE placement, analytic FLOPs).
#ifndef VIT_MOE_MODEL_CONFIG_H_
#define VIT_MOE_MODEL_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/model_config.pb.h"

namespace vit_moe::model {

// Starts from the preset named by config.preset ("" = "default") and applies
// every field set in `config`; the result has every field set and is
// validated. InvalidArgument names the offending field.
absl::StatusOr<ModelConfig> ResolveModelConfig(const ModelConfig& config);

// Checks a resolved config: ranges, divisibility (embed_dim % num_heads,
// image_size % (stem reduction * patch_size)), top_k <= num_experts. The
// error names the field ("model.moe.top_k: ...").
absl::Status ValidateModelConfig(const ModelConfig& resolved);

// Side of the token grid: image_size / (2^conv_stem_layers * patch_size).
int64_t TokenGridSide(const ModelConfig& resolved);
// Tokens per image entering the transformer (grid + class token if any).
int64_t TokensPerImage(const ModelConfig& resolved);
// MLP hidden width: round(embed_dim * mlp_ratio).
int64_t MlpHiddenDim(const ModelConfig& resolved);
// Channels of convolutional stem layer `layer` (0-based): 64, 128, ...,
// capped at embed_dim (Compact Convolutional Transformer widths). The patch
// convolution then maps them to embed_dim.
int64_t StemChannels(const ModelConfig& resolved, int layer);
// Whether transformer layer `layer` (0-based) is an MoE layer. With
// EVERY_OTHER_LAYER the odd layers are (1, 3, ...), as in V-MoE.
bool IsMoeLayer(const ModelConfig& resolved, int layer);

// Analytic forward FLOPs for one image (a multiply-add counts 2), counting
// only the experts each token is routed to (top_k of them, no capacity
// dropping). Block experts compute keys and values for every token, queries
// and the rest only for their routed tokens. Norms, softmax and activations
// are left out: they are a few percent.
double ForwardFlopsPerImage(const ModelConfig& resolved);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_CONFIG_H_

#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/presets.h"

namespace vit_moe::model {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("model.", field, ": ", problem));
}

absl::Status CheckAtLeast(absl::string_view field, bool has, double value,
                          double min) {
  if (!has) return FieldError(field, "not set");
  if (value < min) {
    return FieldError(field,
                      absl::StrCat(value, " is below the minimum ", min));
  }
  return absl::OkStatus();
}

// A probability-like rate in [0, 1).
absl::Status CheckRate(absl::string_view field, bool has, double value) {
  if (!has) return FieldError(field, "not set");
  if (!(value >= 0.0 && value < 1.0)) {
    return FieldError(field, absl::StrCat(value, " is outside [0, 1)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMoe(const ModelConfig& c) {
  if (!c.has_moe()) return FieldError("moe", "not set");
  const MoeConfig& m = c.moe();
  RETURN_IF_ERROR(
      CheckAtLeast("moe.num_experts", m.has_num_experts(), m.num_experts(), 1));
  RETURN_IF_ERROR(CheckAtLeast("moe.top_k", m.has_top_k(), m.top_k(), 1));
  if (m.top_k() > m.num_experts()) {
    return FieldError("moe.top_k",
                      absl::StrCat(m.top_k(), " exceeds moe.num_experts (",
                                   m.num_experts(), ")"));
  }
  if (!m.has_expert_kind() || m.expert_kind() == EXPERT_KIND_UNSPECIFIED) {
    return FieldError("moe.expert_kind", "must be BLOCK or FFN");
  }
  if (!m.has_router_kind() || m.router_kind() == ROUTER_KIND_UNSPECIFIED) {
    return FieldError("moe.router_kind", "must be EXPERT_TOKEN or LINEAR");
  }
  if (!m.has_placement() || m.placement() == MOE_PLACEMENT_UNSPECIFIED) {
    return FieldError("moe.placement",
                      "must be EVERY_LAYER or EVERY_OTHER_LAYER");
  }
  if (m.placement() == EVERY_OTHER_LAYER && c.depth() < 2) {
    return FieldError("moe.placement",
                      "EVERY_OTHER_LAYER needs depth >= 2 to place any MoE "
                      "layer");
  }
  RETURN_IF_ERROR(CheckAtLeast("moe.router_noise", m.has_router_noise(),
                               m.router_noise(), 0.0));
  RETURN_IF_ERROR(CheckAtLeast("moe.capacity_factor", m.has_capacity_factor(),
                               m.capacity_factor(), 0.0));
  RETURN_IF_ERROR(CheckAtLeast("moe.balance_loss_weight",
                               m.has_balance_loss_weight(),
                               m.balance_loss_weight(), 0.0));
  RETURN_IF_ERROR(CheckAtLeast("moe.z_loss_weight", m.has_z_loss_weight(),
                               m.z_loss_weight(), 0.0));
  RETURN_IF_ERROR(CheckAtLeast("moe.router_l2_weight", m.has_router_l2_weight(),
                               m.router_l2_weight(), 0.0));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& c) {
  RETURN_IF_ERROR(
      CheckAtLeast("image_size", c.has_image_size(), c.image_size(), 1));
  RETURN_IF_ERROR(
      CheckAtLeast("in_channels", c.has_in_channels(), c.in_channels(), 1));
  RETURN_IF_ERROR(
      CheckAtLeast("num_classes", c.has_num_classes(), c.num_classes(), 2));
  RETURN_IF_ERROR(
      CheckAtLeast("patch_size", c.has_patch_size(), c.patch_size(), 1));
  RETURN_IF_ERROR(
      CheckAtLeast("embed_dim", c.has_embed_dim(), c.embed_dim(), 1));
  RETURN_IF_ERROR(CheckAtLeast("depth", c.has_depth(), c.depth(), 1));
  RETURN_IF_ERROR(
      CheckAtLeast("num_heads", c.has_num_heads(), c.num_heads(), 1));
  if (c.embed_dim() % c.num_heads() != 0) {
    return FieldError("embed_dim", absl::StrCat(c.embed_dim(),
                                                " is not divisible by "
                                                "num_heads (",
                                                c.num_heads(), ")"));
  }
  if (!c.has_mlp_ratio() || !(c.mlp_ratio() > 0.0)) {
    return FieldError("mlp_ratio", "must be set and positive");
  }
  if (!c.has_qkv_bias()) return FieldError("qkv_bias", "not set");
  RETURN_IF_ERROR(CheckAtLeast("conv_stem_layers", c.has_conv_stem_layers(),
                               c.conv_stem_layers(), 0));
  if (c.conv_stem_layers() > 4) {
    return FieldError("conv_stem_layers",
                      absl::StrCat(c.conv_stem_layers(), " exceeds 4"));
  }
  const int64_t reduction = (int64_t{1} << c.conv_stem_layers()) *
                            static_cast<int64_t>(c.patch_size());
  if (c.image_size() % reduction != 0) {
    return FieldError(
        "image_size",
        absl::StrCat(c.image_size(), " is not divisible by patch_size (",
                     c.patch_size(), ") * 2^conv_stem_layers (",
                     int64_t{1} << c.conv_stem_layers(), ") = ", reduction));
  }
  if (!c.has_pooling() || c.pooling() == POOLING_UNSPECIFIED) {
    return FieldError("pooling", "must be CLASS_TOKEN or SEQUENCE_POOL");
  }
  RETURN_IF_ERROR(CheckRate("dropout", c.has_dropout(), c.dropout()));
  RETURN_IF_ERROR(CheckRate("attention_dropout", c.has_attention_dropout(),
                            c.attention_dropout()));
  RETURN_IF_ERROR(CheckRate("drop_path", c.has_drop_path(), c.drop_path()));
  if (!c.has_drop_path_linear()) {
    return FieldError("drop_path_linear", "not set");
  }
  return ValidateMoe(c);
}

absl::StatusOr<ModelConfig> ResolveModelConfig(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ModelConfig resolved, PresetByName(config.preset()));
  const std::string name = resolved.preset();
  // Proto3 `optional` fields carry presence, so MergeFrom copies exactly the
  // fields the user set, recursing into moe.
  resolved.MergeFrom(config);
  resolved.set_preset(name);
  RETURN_IF_ERROR(ValidateModelConfig(resolved));
  return resolved;
}

int64_t TokenGridSide(const ModelConfig& c) {
  return c.image_size() / ((int64_t{1} << c.conv_stem_layers()) *
                           static_cast<int64_t>(c.patch_size()));
}

int64_t TokensPerImage(const ModelConfig& c) {
  const int64_t side = TokenGridSide(c);
  return side * side + (c.pooling() == CLASS_TOKEN ? 1 : 0);
}

int64_t MlpHiddenDim(const ModelConfig& c) {
  return std::max<int64_t>(1, std::llround(c.embed_dim() * c.mlp_ratio()));
}

int64_t StemChannels(const ModelConfig& c, int layer) {
  return std::min<int64_t>(c.embed_dim(), int64_t{64} << layer);
}

bool IsMoeLayer(const ModelConfig& c, int layer) {
  return c.moe().placement() == EVERY_LAYER || layer % 2 == 1;
}

double ForwardFlopsPerImage(const ModelConfig& c) {
  const double d = c.embed_dim();
  const double h = MlpHiddenDim(c);
  const double n = TokensPerImage(c);
  const double e = c.moe().num_experts();
  const double k = c.moe().top_k();
  double flops = 0.0;
  // Stem: 3x3 convolutions at full resolution of their input, then pooling.
  double side = c.image_size();
  double channels = c.in_channels();
  for (int i = 0; i < c.conv_stem_layers(); ++i) {
    const double out = StemChannels(c, i);
    flops += 2.0 * side * side * 9.0 * channels * out;
    channels = out;
    side /= 2.0;
  }
  const double grid = TokenGridSide(c);
  const double p = c.patch_size();
  flops += 2.0 * grid * grid * p * p * channels * d;
  // Per token: attention projections, per-query attention over n keys, MLP.
  const double kv = 2.0 * 2.0 * d * d;
  const double q_proj_attn = 2.0 * d * d + 2.0 * d * d + 4.0 * n * d;
  const double mlp = 4.0 * d * h;
  for (int layer = 0; layer < c.depth(); ++layer) {
    if (!IsMoeLayer(c, layer)) {
      flops += n * (kv + q_proj_attn + mlp);
      continue;
    }
    flops += n * 2.0 * d * e;  // router
    if (c.moe().expert_kind() == BLOCK) {
      // Keys and values for all tokens in every expert that some token of
      // the image is routed to.
      const double active = std::min(e, n * k);
      flops += active * n * kv + k * n * (q_proj_attn + mlp);
    } else {
      flops += n * (kv + q_proj_attn) + k * n * mlp;
    }
  }
  if (c.pooling() == SEQUENCE_POOL) flops += 2.0 * n * d;
  flops += 2.0 * d * c.num_classes();
  return flops;
}

}  // namespace vit_moe::model

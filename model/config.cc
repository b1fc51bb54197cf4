#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/field_checker.h"
#include "common/status_macros.h"
#include "model/presets.h"

namespace vit_moe::model {
namespace {

void CheckMoe(const ModelConfig& c, FieldChecker& check) {
  check.RequireSet(c.has_moe(), "moe");
  const MoeConfig& m = c.moe();
  check.RequireSet(m.has_num_experts(), "moe.num_experts");
  check.AtLeast(m.num_experts(), 1, "moe.num_experts");
  check.AtMost(m.num_experts(), 1024, "moe.num_experts");
  check.RequireSet(m.has_top_k(), "moe.top_k");
  check.AtLeast(m.top_k(), 1, "moe.top_k");
  check.Require(
      m.top_k() <= m.num_experts(), "moe.top_k",
      absl::StrCat("must not exceed moe.num_experts (", m.num_experts(), ")"),
      absl::StrCat(m.top_k()));
  check.Require(m.expert_kind() != EXPERT_KIND_UNSPECIFIED, "moe.expert_kind",
                "must be BLOCK or FFN", "nothing");
  check.Require(m.router_kind() != ROUTER_KIND_UNSPECIFIED, "moe.router_kind",
                "must be EXPERT_TOKEN or LINEAR", "nothing");
  check.Require(m.placement() != MOE_PLACEMENT_UNSPECIFIED, "moe.placement",
                "must be EVERY_LAYER or EVERY_OTHER_LAYER", "nothing");
  check.Require(m.placement() != EVERY_OTHER_LAYER || c.depth() >= 2,
                "moe.placement",
                "EVERY_OTHER_LAYER needs depth >= 2 to place any MoE layer",
                absl::StrCat("depth ", c.depth()));
  const std::pair<const char*, std::pair<bool, double>> weights[] = {
      {"moe.router_noise", {m.has_router_noise(), m.router_noise()}},
      {"moe.capacity_factor", {m.has_capacity_factor(), m.capacity_factor()}},
      {"moe.balance_loss_weight",
       {m.has_balance_loss_weight(), m.balance_loss_weight()}},
      {"moe.z_loss_weight", {m.has_z_loss_weight(), m.z_loss_weight()}},
      {"moe.router_l2_weight",
       {m.has_router_l2_weight(), m.router_l2_weight()}},
  };
  for (const auto& [field, value] : weights) {
    check.RequireSet(value.first, field);
    check.NonNegative(value.second, field);
  }
}

}  // namespace

// Patches per image at most: 128 x 128, where one head's attention scores
// of one image already take 1 GiB in float32.
constexpr int64_t kMaxTokens = 128 * 128;

absl::Status ValidateModelConfig(const ModelConfig& c) {
  FieldChecker check("model.");
  const std::pair<const char*, std::pair<bool, int64_t>> sizes[] = {
      {"image_size", {c.has_image_size(), c.image_size()}},
      {"in_channels", {c.has_in_channels(), c.in_channels()}},
      {"patch_size", {c.has_patch_size(), c.patch_size()}},
      {"embed_dim", {c.has_embed_dim(), c.embed_dim()}},
      {"depth", {c.has_depth(), c.depth()}},
      {"num_heads", {c.has_num_heads(), c.num_heads()}},
  };
  for (const auto& [field, value] : sizes) {
    check.RequireSet(value.first, field);
    check.AtLeast(value.second, 1, field);
  }
  check.RequireSet(c.has_num_classes(), "num_classes");
  check.AtLeast(c.num_classes(), 2, "num_classes");
  // Upper bounds far above any model this pipeline trains on one machine
  // and below what would allocate absurd memory before failing: beyond
  // them a value is a typo. image_size is //data:import's --side limit;
  // stores and normalizations hold 1 or 3 channels.
  check.AtMost(c.image_size(), 1024, "image_size");
  check.Require(c.in_channels() == 1 || c.in_channels() == 3, "in_channels",
                "must be 1 or 3", absl::StrCat(c.in_channels()));
  check.AtMost(c.patch_size(), c.image_size(), "patch_size");
  check.AtMost(c.embed_dim(), 8192, "embed_dim");
  check.AtMost(c.depth(), 256, "depth");
  check.AtMost(c.num_heads(), c.embed_dim(), "num_heads");
  check.AtMost(c.num_classes(), 1 << 20, "num_classes");
  if (!check.ok()) return check.status();
  check.Require(
      c.embed_dim() % c.num_heads() == 0, "embed_dim",
      absl::StrCat("must be divisible by num_heads (", c.num_heads(), ")"),
      absl::StrCat(c.embed_dim()));
  check.RequireSet(c.has_mlp_ratio(), "mlp_ratio");
  check.Positive(c.mlp_ratio(), "mlp_ratio");
  check.RequireSet(c.has_qkv_bias(), "qkv_bias");
  check.RequireSet(c.has_conv_stem_layers(), "conv_stem_layers");
  check.InRange(c.conv_stem_layers(), 0, 4, "conv_stem_layers");
  if (!check.ok()) return check.status();
  const int64_t reduction = (int64_t{1} << c.conv_stem_layers()) *
                            static_cast<int64_t>(c.patch_size());
  check.Require(
      c.image_size() % reduction == 0, "image_size",
      absl::StrCat("must be divisible by patch_size (", c.patch_size(),
                   ") * 2^conv_stem_layers (",
                   int64_t{1} << c.conv_stem_layers(), ") = ", reduction),
      absl::StrCat(c.image_size()));
  // Attention holds tokens^2 scores per head and image.
  const int64_t grid = c.image_size() / reduction;
  check.Require(grid * grid <= kMaxTokens, "image_size",
                absl::StrCat("must give at most ", kMaxTokens,
                             " patches (image_size / (patch_size * "
                             "2^conv_stem_layers))^2"),
                absl::StrCat(c.image_size(), " with patch_size ",
                             c.patch_size(), ": ", grid * grid));
  check.AtMost(c.mlp_ratio(), 64, "mlp_ratio");
  check.Require(c.pooling() != POOLING_UNSPECIFIED, "pooling",
                "must be CLASS_TOKEN or SEQUENCE_POOL", "nothing");
  const std::pair<const char*, std::pair<bool, double>> rates[] = {
      {"dropout", {c.has_dropout(), c.dropout()}},
      {"attention_dropout", {c.has_attention_dropout(), c.attention_dropout()}},
      {"drop_path", {c.has_drop_path(), c.drop_path()}},
  };
  for (const auto& [field, value] : rates) {
    check.RequireSet(value.first, field);
    check.InHalfOpenRange(value.second, 0, 1, field);
  }
  check.RequireSet(c.has_drop_path_linear(), "drop_path_linear");
  CheckMoe(c, check);
  return check.status();
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

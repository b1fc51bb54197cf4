#include "model/vit_moe.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "model/config.h"
#include "model/dropout.h"

namespace vit_moe::model {

namespace F = torch::nn::functional;

namespace {

torch::nn::LayerNorm MakeNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}));
}

const char* ExpertKindName(ExpertKind kind) {
  return kind == BLOCK ? "block" : "ffn";
}

}  // namespace

TransformerLayerImpl::TransformerLayerImpl(const ModelConfig& c, bool is_moe,
                                           double drop_path)
    : drop_path_(drop_path) {
  const int64_t dim = c.embed_dim();
  const bool block_experts = is_moe && c.moe().expert_kind() == BLOCK;
  if (!block_experts) {
    norm1 = register_module("norm1", MakeNorm(dim));
    attn =
        register_module("attn", Attention(dim, c.num_heads(), c.qkv_bias(),
                                          c.attention_dropout(), c.dropout()));
    norm2 = register_module("norm2", MakeNorm(dim));
  }
  if (is_moe) {
    moe = register_module("moe", MoeLayer(c));
  } else {
    mlp = register_module("mlp", Mlp(dim, MlpHiddenDim(c), c.dropout()));
  }
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x,
                                            MoeOutput* moe_out) {
  const bool training = is_training();
  auto run_moe = [&](const torch::Tensor& input) {
    *moe_out =
        dense_reference_ ? moe->forward_dense(input) : moe->forward(input);
    return moe_out->delta;
  };
  if (is_moe() && attn.is_empty()) {
    return AddDropPath(x, run_moe(x), drop_path_, training);
  }
  torch::Tensor h =
      AddDropPath(x, attn->forward(norm1->forward(x)), drop_path_, training);
  if (is_moe()) {
    return AddDropPath(h, run_moe(norm2->forward(h)), drop_path_, training);
  }
  return AddDropPath(h, mlp->forward(norm2->forward(h)), drop_path_, training);
}

ViTMoEImpl::ViTMoEImpl(const ModelConfig& resolved) : config_(resolved) {
  const absl::Status valid = ValidateModelConfig(resolved);
  CHECK(valid.ok()) << "ViTMoE needs a resolved, valid config: " << valid;
  const ModelConfig& c = config_;
  const int64_t dim = c.embed_dim();

  stem_ = register_module("stem", torch::nn::ModuleList());
  int64_t channels = c.in_channels();
  for (int i = 0; i < c.conv_stem_layers(); ++i) {
    const int64_t out = StemChannels(c, i);
    stem_->push_back(torch::nn::Conv2d(
        torch::nn::Conv2dOptions(channels, out, 3).padding(1).bias(false)));
    channels = out;
  }
  patch_embed_ = register_module(
      "patch_embed",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, dim, c.patch_size())
                            .stride(c.patch_size())));
  if (c.pooling() == CLASS_TOKEN) {
    cls_token_ = register_parameter("cls_token", torch::zeros({1, 1, dim}));
    InitTruncNormal(cls_token_, 0.02);
  }
  pos_embed_ = register_parameter("pos_embed",
                                  torch::zeros({1, TokensPerImage(c), dim}));
  InitTruncNormal(pos_embed_, 0.02);

  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.depth(); ++i) {
    double rate = c.drop_path();
    if (c.drop_path_linear()) {
      rate = c.depth() > 1 ? c.drop_path() * i / (c.depth() - 1) : 0.0;
    }
    TransformerLayer layer(c, IsMoeLayer(c, i), rate);
    blocks_->push_back(layer);
    layers_.push_back(layer);
  }
  norm_ = register_module("norm", MakeNorm(dim));
  if (c.pooling() == SEQUENCE_POOL) {
    seq_pool_ = register_module("seq_pool", torch::nn::Linear(dim, 1));
    InitLinear(seq_pool_);
  }
  head_ = register_module("head", torch::nn::Linear(dim, c.num_classes()));
  InitLinear(head_);
}

ModelOutput ViTMoEImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = images;  // [B, C, H, W]
  for (const auto& conv : *stem_) {
    x = conv->as<torch::nn::Conv2d>()->forward(x);
    // LibTorch's CPU max-pool (and ReLU's backward next to it) run about
    // 10x faster on channels-last tensors, which oneDNN's convolutions then
    // keep.
    if (x.is_cpu()) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    x = F::max_pool2d(torch::relu(x),
                      F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  }
  x = patch_embed_->forward(x).flatten(2).transpose(1, 2);  // [B, G*G, D]
  if (cls_token_.defined()) {
    x = torch::cat({cls_token_.expand({x.size(0), -1, -1}), x}, 1);
  }
  x = Dropout(x + pos_embed_, config_.dropout(), is_training());  // [B, N, D]

  ModelOutput out;
  std::vector<torch::Tensor> penalties;
  for (auto& layer : layers_) {
    MoeOutput moe;
    x = layer->forward(x, &moe);
    if (!layer->is_moe()) continue;
    out.routing.push_back(moe.routing);
    penalties.push_back(moe.router_penalty);
    out.expert_load.push_back(moe.expert_load);
    out.top_experts.push_back(moe.top_experts);
    out.diagnostics.push_back(moe.diagnostics);
  }
  x = norm_->forward(x);
  torch::Tensor pooled;  // [B, D]
  if (config_.pooling() == CLASS_TOKEN) {
    pooled = x.select(1, 0);
  } else {
    torch::Tensor weights =
        torch::softmax(seq_pool_->forward(x), 1);  // [B, N, 1]
    pooled = (weights * x).sum(1);
  }
  out.logits = head_->forward(pooled);  // [B, C]
  out.features = pooled;
  out.router_penalty = torch::stack(penalties).mean();
  SetAuxLosses(config_.moe().balance_loss_weight(), &out);
  return out;
}

void SetAuxLosses(double balance_loss_weight, ModelOutput* out) {
  std::vector<torch::Tensor> balance;
  for (const RoutingStatistics& layer : out->routing) {
    balance.push_back(BalanceLoss(layer));
  }
  out->balance_loss = torch::stack(balance).mean();
  out->aux_loss = balance_loss_weight * out->balance_loss + out->router_penalty;
}

void ViTMoEImpl::set_dense_reference(bool dense) {
  for (auto& layer : layers_) layer->set_dense_reference(dense);
}

bool ViTMoEImpl::IsNoDecay(const std::string& name, const torch::Tensor& p) {
  return p.dim() <= 1 || name == "pos_embed" || name == "cls_token" ||
         name.find(".router.") != std::string::npos;
}

std::vector<torch::Tensor> ViTMoEImpl::decay_parameters() {
  std::vector<torch::Tensor> result;
  for (const auto& item : named_parameters()) {
    if (!IsNoDecay(item.key(), item.value())) result.push_back(item.value());
  }
  return result;
}

std::vector<torch::Tensor> ViTMoEImpl::no_decay_parameters() {
  std::vector<torch::Tensor> result;
  for (const auto& item : named_parameters()) {
    if (IsNoDecay(item.key(), item.value())) result.push_back(item.value());
  }
  return result;
}

int64_t CountTrainableParameters(const ViTMoE& model) {
  int64_t total = 0;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) total += p.numel();
  }
  return total;
}

bool IsEmbeddingParameter(absl::string_view name) {
  return absl::StartsWith(name, "stem.") ||
         absl::StartsWith(name, "patch_embed.") || name == "cls_token" ||
         name == "pos_embed";
}

int BlockIndexOf(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "blocks.")) return -1;
  int index = -1;
  const absl::string_view digits = name.substr(0, name.find('.'));
  if (!absl::SimpleAtoi(digits, &index)) return -1;
  return index;
}

bool IsHeadParameter(absl::string_view name) {
  return absl::StartsWith(name, kHeadPrefix);
}

std::string DescribeModel(const ViTMoE& model) {
  const ModelConfig& c = model->config();
  const MoeConfig& m = c.moe();
  std::string s;
  absl::StrAppendFormat(
      &s, "ViT-MoE preset \"%s\": %dx%dx%d images, %d classes\n", c.preset(),
      c.image_size(), c.image_size(), c.in_channels(), c.num_classes());
  absl::StrAppendFormat(
      &s, "  stem: %d conv layer(s); patch %d -> %dx%d grid, %d tokens (%s)\n",
      c.conv_stem_layers(), c.patch_size(), TokenGridSide(c), TokenGridSide(c),
      TokensPerImage(c),
      c.pooling() == CLASS_TOKEN ? "class token" : "sequence pooling");
  absl::StrAppendFormat(
      &s,
      "  transformer: D %d, depth %d, %d heads, MLP hidden %d, qkv bias %s\n",
      c.embed_dim(), c.depth(), c.num_heads(), MlpHiddenDim(c),
      c.qkv_bias() ? "yes" : "no");
  absl::StrAppendFormat(
      &s,
      "  regularisation: dropout %g, attention dropout %g, drop-path %g (%s)\n",
      c.dropout(), c.attention_dropout(), c.drop_path(),
      c.drop_path_linear() ? "linear in depth" : "constant");
  absl::StrAppendFormat(
      &s,
      "  MoE: %d %s experts, top-%d, %s router, noise %g, capacity %s\n"
      "  aux loss weights: balance %g, z-loss %g, router L2 %g\n",
      m.num_experts(), ExpertKindName(m.expert_kind()), m.top_k(),
      m.router_kind() == EXPERT_TOKEN ? "expert-token" : "linear",
      m.router_noise(),
      m.capacity_factor() > 0 ? absl::StrCat(m.capacity_factor())
                              : std::string("dropless"),
      m.balance_loss_weight(), m.z_loss_weight(), m.router_l2_weight());

  // Parameters per top-level part, blocks listed one by one.
  std::map<std::string, int64_t> per_part;
  std::vector<std::string> order;
  for (const auto& item : model->named_parameters()) {
    std::vector<std::string> parts = absl::StrSplit(item.key(), '.');
    std::string part = parts[0];
    if (part == "blocks") part = absl::StrCat("blocks.", parts[1]);
    if (!per_part.count(part)) order.push_back(part);
    per_part[part] += item.value().numel();
  }
  s += "  parameters:\n";
  for (const std::string& part : order) {
    std::string kind;
    if (absl::StartsWith(part, "blocks.")) {
      const int index = std::stoi(part.substr(7));
      kind = IsMoeLayer(c, index)
                 ? absl::StrFormat(" (MoE, %d %s experts)", m.num_experts(),
                                   ExpertKindName(m.expert_kind()))
                 : " (dense)";
    }
    absl::StrAppendFormat(&s, "    %-12s %12d%s\n", part, per_part[part], kind);
  }
  absl::StrAppendFormat(&s, "  trainable parameters: %d\n",
                        CountTrainableParameters(model));
  absl::StrAppendFormat(&s,
                        "  forward FLOPs per image (routed experts only): "
                        "%.1f M\n",
                        ForwardFlopsPerImage(c) / 1e6);
  return s;
}

}  // namespace vit_moe::model

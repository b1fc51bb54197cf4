#include "model/onnx/transformer_graph.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace vit_moe::model::onnx_export {

namespace {

// LayerNorm's default epsilon in LibTorch.
constexpr float kLayerNormEps = 1e-5f;

// The [B, N, E] gate matrix of an MoE layer: renormalised top-k router
// probabilities of the chosen (and not dropped) experts, zero elsewhere.
// u: [B, N, D]; `prefix` = "blocks.<i>.moe".
std::string GateMatrix(ModelGraph& m, const std::string& u,
                       const std::string& prefix, const ModelConfig& c) {
  GraphBuilder& g = m.g();
  const MoeConfig& moe = c.moe();
  const int64_t dim = c.embed_dim(), k = moe.top_k(), e = moe.num_experts();
  // The router reads a parameter-free LayerNorm of the token.
  std::string ones =
      g.Constant(absl::StrCat("ones_", dim), torch::ones({dim}, torch::kFloat));
  std::string normed = g.Op(
      "LayerNormalization", {u, ones},
      {IntAttribute("axis", -1), FloatAttribute("epsilon", kLayerNormEps)});
  std::string logits;  // [B, N, E]
  if (moe.router_kind() == EXPERT_TOKEN) {
    std::string tokens_t =
        g.Op("Transpose", {m.Param(prefix + ".router.expert_tokens")},
             {IntsAttribute("perm", {1, 0})});  // [D, E]
    logits = g.Op("Div", {g.Op("MatMul", {normed, tokens_t}),
                          g.FloatScalar(std::sqrt(static_cast<float>(dim)))});
  } else {
    logits = Linear(m, normed, prefix + ".router.linear");
  }
  std::string probs = g.Op("Softmax", {logits}, {IntAttribute("axis", -1)});
  std::vector<std::string> top =
      g.AddNode("TopK", {probs, g.Int64s({k})}, 2,
                {IntAttribute("axis", -1), IntAttribute("largest", 1),
                 IntAttribute("sorted", 1)});
  const std::string& top_probs = top[0];    // [B, N, K]
  const std::string& top_experts = top[1];  // [B, N, K] int64
  std::string gates =
      g.Op("Div", {top_probs, g.Op("ReduceSum", {top_probs, g.Int64s({-1})},
                                   {IntAttribute("keepdims", 1)})});

  if (moe.capacity_factor() > 0) {
    // Same rule as model/dispatch.h: each expert keeps its first
    // ceil(factor * T * K / E) slots in (k, token) order.
    std::string by_token = g.Op("Reshape", {top_experts, g.Int64s({-1, k})});
    std::string slots =
        g.Op("Reshape",
             {g.Op("Transpose", {by_token}, {IntsAttribute("perm", {1, 0})}),
              g.Int64s({-1})});  // [K*T], k-major
    std::string one_hot =
        g.Op("OneHot", {slots, g.Int64s({e}), g.Int64s({0, 1})},
             {IntAttribute("axis", -1)});  // [K*T, E] int64
    std::string earlier = g.Op("CumSum", {one_hot, g.Int64Scalar(0)},
                               {IntAttribute("exclusive", 1)});
    std::string position =
        g.Op("ReduceSum", {g.Op("Mul", {earlier, one_hot}), g.Int64s({1})},
             {IntAttribute("keepdims", 0)});  // [K*T]
    // Evaluated in float64 in the order ExpertCapacity uses.
    std::string tokens =
        g.Op("Cast",
             {g.Op("Shape", {by_token},
                   {IntAttribute("start", 0), IntAttribute("end", 1)})},
             {IntAttribute("to", ::onnx::TensorProto::DOUBLE)});
    std::string capacity_real = g.Op(
        "Div",
        {g.Op("Mul",
              {g.Op("Mul", {tokens, g.DoubleScalar(moe.capacity_factor())}),
               g.DoubleScalar(static_cast<double>(k))}),
         g.DoubleScalar(static_cast<double>(e))});
    std::string capacity =
        g.Op("Cast", {g.Op("Ceil", {capacity_real})},
             {IntAttribute("to", ::onnx::TensorProto::INT64)});  // [1]
    std::string keep =
        g.Op("Cast", {g.Op("Less", {position, capacity})},
             {IntAttribute("to", ::onnx::TensorProto::FLOAT)});  // [K*T]
    keep = g.Op("Transpose", {g.Op("Reshape", {keep, g.Int64s({k, -1})})},
                {IntsAttribute("perm", {1, 0})});  // [T, K]
    gates =
        g.Op("Mul", {gates, g.Op("Reshape", {keep, g.Op("Shape", {gates})})});
  }
  std::string zeros =
      g.Op("ConstantOfShape", {g.Op("Shape", {probs})});  // [B, N, E] float
  return g.Op("ScatterElements", {zeros, top_experts, gates},
              {IntAttribute("axis", -1)});
}

// Sum over experts of gate * delta; u [B, N, D] -> [B, N, D].
std::string MoeDelta(ModelGraph& m, const std::string& u,
                     const std::string& prefix, const ModelConfig& c) {
  GraphBuilder& g = m.g();
  std::string gate_matrix = GateMatrix(m, u, prefix, c);
  std::string combined;
  for (int e = 0; e < c.moe().num_experts(); ++e) {
    const std::string p = absl::StrCat(prefix, ".experts.", e);
    std::string delta;
    if (c.moe().expert_kind() == BLOCK) {
      // Block(u) - u = a + MLP(norm2(u + a)), a = Attn(norm1 u).
      std::string a = Attention(m, LayerNorm(m, u, p + ".norm1"), p + ".attn",
                                c.embed_dim(), c.num_heads());
      std::string h = g.Op("Add", {u, a});
      delta = g.Op("Add", {a, Mlp(m, LayerNorm(m, h, p + ".norm2"),
                                  p + ".mlp.fc1", p + ".mlp.fc2")});
    } else {
      delta = Mlp(m, u, p + ".fc1", p + ".fc2");
    }
    std::string gate = g.Op("Slice", {gate_matrix, g.Int64s({e}),
                                      g.Int64s({e + 1}), g.Int64s({-1})});
    std::string weighted = g.Op("Mul", {delta, gate});  // [B, N, D]
    combined = combined.empty() ? weighted : g.Op("Add", {combined, weighted});
  }
  return combined;
}

}  // namespace

ModelGraph::ModelGraph(GraphBuilder* graph, torch::nn::Module& module)
    : graph_(graph) {
  for (const auto& item : module.named_parameters()) {
    tensors_[item.key()] = item.value();
  }
  for (const auto& item : module.named_buffers()) {
    tensors_[item.key()] = item.value();
  }
}

std::string ModelGraph::Param(const std::string& name) {
  auto it = tensors_.find(name);
  CHECK(it != tensors_.end()) << "the model has no tensor " << name;
  if (used_.insert(name).second) graph_->AddInitializer(name, it->second);
  return name;
}

std::vector<std::string> ModelGraph::Unused() const {
  std::vector<std::string> unused;
  for (const auto& [name, tensor] : tensors_) {
    if (!used_.count(name)) unused.push_back(name);
  }
  return unused;
}

std::string LayerNorm(ModelGraph& m, const std::string& x,
                      const std::string& prefix) {
  return m.g().Op(
      "LayerNormalization",
      {x, m.Param(prefix + ".weight"), m.Param(prefix + ".bias")},
      {IntAttribute("axis", -1), FloatAttribute("epsilon", kLayerNormEps)});
}

std::string Linear(ModelGraph& m, const std::string& x,
                   const std::string& prefix) {
  GraphBuilder& g = m.g();
  // The initializer keeps LibTorch's [out, in] layout and name; onnxruntime
  // folds this constant Transpose when it loads the model.
  std::string weight_t = g.Op("Transpose", {m.Param(prefix + ".weight")},
                              {IntsAttribute("perm", {1, 0})});
  std::string y = g.Op("MatMul", {x, weight_t});
  if (m.Has(prefix + ".bias")) y = g.Op("Add", {y, m.Param(prefix + ".bias")});
  return y;
}

std::string Gelu(ModelGraph& m, const std::string& x) {
  GraphBuilder& g = m.g();
  // 0.5 x (1 + erf(x / sqrt 2)); the Gelu op itself needs opset 20.
  std::string erf =
      g.Op("Erf", {g.Op("Div", {x, g.FloatScalar(std::sqrt(2.0f))})});
  return g.Op("Mul", {g.Op("Mul", {x, g.Op("Add", {erf, g.FloatScalar(1.0f)})}),
                      g.FloatScalar(0.5f)});
}

std::string Mlp(ModelGraph& m, const std::string& x, const std::string& fc1,
                const std::string& fc2) {
  return Linear(m, Gelu(m, Linear(m, x, fc1)), fc2);
}

std::string Attention(ModelGraph& m, const std::string& x,
                      const std::string& prefix, int64_t dim,
                      int64_t num_heads) {
  GraphBuilder& g = m.g();
  const int64_t head_dim = dim / num_heads;
  // [B, N, 3D] -> [B, N, 3, h, d] -> [3, B, h, N, d]
  std::string qkv =
      g.Op("Transpose",
           {g.Op("Reshape", {Linear(m, x, prefix + ".qkv"),
                             g.Int64s({0, 0, 3, num_heads, head_dim})})},
           {IntsAttribute("perm", {2, 0, 3, 1, 4})});
  auto part = [&](int64_t i) {
    return g.Op("Gather", {qkv, g.Int64Scalar(i)},
                {IntAttribute("axis", 0)});  // [B, h, N, d]
  };
  std::string q = part(0), k = part(1), v = part(2);
  std::string k_t =
      g.Op("Transpose", {k}, {IntsAttribute("perm", {0, 1, 3, 2})});
  std::string scores =
      g.Op("Mul", {g.Op("MatMul", {q, k_t}),
                   g.FloatScalar(static_cast<float>(
                       1.0 / std::sqrt(static_cast<double>(head_dim))))});
  std::string attn =
      g.Op("Softmax", {scores}, {IntAttribute("axis", -1)});  // [B, h, N, N]
  std::string out =
      g.Op("Reshape", {g.Op("Transpose", {g.Op("MatMul", {attn, v})},
                            {IntsAttribute("perm", {0, 2, 1, 3})}),
                       g.Int64s({0, 0, dim})});  // [B, N, D]
  return Linear(m, out, prefix + ".proj");
}

std::string TransformerLayer(ModelGraph& m, const std::string& x,
                             const std::string& prefix, const ModelConfig& c,
                             bool moe) {
  GraphBuilder& g = m.g();
  g.set_scope(prefix);
  if (moe && c.moe().expert_kind() == BLOCK) {
    return g.Op("Add", {x, MoeDelta(m, x, prefix + ".moe", c)});
  }
  std::string h = g.Op(
      "Add", {x, Attention(m, LayerNorm(m, x, prefix + ".norm1"),
                           prefix + ".attn", c.embed_dim(), c.num_heads())});
  std::string u = LayerNorm(m, h, prefix + ".norm2");
  std::string delta = moe ? MoeDelta(m, u, prefix + ".moe", c)
                          : Mlp(m, u, prefix + ".mlp.fc1", prefix + ".mlp.fc2");
  return g.Op("Add", {h, delta});
}

}  // namespace vit_moe::model::onnx_export

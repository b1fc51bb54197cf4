// ONNX subgraphs for the transformer parts of the ViT-MoE, mirroring the
// LibTorch modules in model/ (attention.h, layers.h, experts.h, router.h,
// moe_layer.h) in eval mode: no dropout, no drop-path, no router noise.
//
// The MoE layer is exported densely: every expert runs on every token and
// the results are combined with a [B, N, E] gate matrix that holds the
// renormalised top-k probabilities of the chosen experts and zero elsewhere
// (and zero for slots a capacity limit drops). That equals the sparse
// LibTorch result; ONNX has no cheap data-dependent gather-per-expert.
//
// Legend: B batch, N tokens, D embed, E experts, K top-k, h heads,
// d head_dim, T = B*N.
#ifndef VIT_MOE_MODEL_ONNX_TRANSFORMER_GRAPH_H_
#define VIT_MOE_MODEL_ONNX_TRANSFORMER_GRAPH_H_

#include <torch/torch.h>

#include <map>
#include <set>
#include <string>

#include "model/model_config.pb.h"
#include "model/onnx/onnx_graph.h"

namespace vit_moe::model::onnx_export {

// The graph under construction plus the model's named tensors; each tensor
// becomes an initializer (under its own name) the first time it is used.
class ModelGraph {
 public:
  ModelGraph(GraphBuilder* graph, torch::nn::Module& module);

  GraphBuilder& g() { return *graph_; }
  bool Has(const std::string& name) const { return tensors_.count(name) > 0; }
  // CHECKs that the model has the tensor (names are fixed by model/).
  std::string Param(const std::string& name);
  // Tensors of the model that no node used (must be none after export).
  std::vector<std::string> Unused() const;

 private:
  GraphBuilder* graph_;
  std::map<std::string, torch::Tensor> tensors_;
  std::set<std::string> used_;
};

// x [..., D] -> LayerNorm with `prefix`.weight / .bias, eps 1e-5.
std::string LayerNorm(ModelGraph& m, const std::string& x,
                      const std::string& prefix);
// x [..., in] -> x W^T (+ b) with `prefix`.weight [out, in] (and .bias).
std::string Linear(ModelGraph& m, const std::string& x,
                   const std::string& prefix);
// Exact (erf) GELU, as torch::gelu.
std::string Gelu(ModelGraph& m, const std::string& x);
// fc2(GELU(fc1 x)) with the two linear prefixes.
std::string Mlp(ModelGraph& m, const std::string& x, const std::string& fc1,
                const std::string& fc2);
// x [B, N, D], already normalised -> [B, N, D].
std::string Attention(ModelGraph& m, const std::string& x,
                      const std::string& prefix, int64_t dim,
                      int64_t num_heads);

// One transformer layer (`prefix` = "blocks.<i>"), dense or MoE as `moe`
// says; x [B, N, D] -> [B, N, D].
std::string TransformerLayer(ModelGraph& m, const std::string& x,
                             const std::string& prefix,
                             const ModelConfig& config, bool moe);

}  // namespace vit_moe::model::onnx_export

#endif  // VIT_MOE_MODEL_ONNX_TRANSFORMER_GRAPH_H_

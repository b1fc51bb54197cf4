// Conversion between tensors and NamedTensor records (tensor_record.proto),
// the one tensor format of model files and training checkpoints, and the
// digest over records that both store and check on load.
#ifndef VIT_MOE_MODEL_TENSOR_RECORD_H_
#define VIT_MOE_MODEL_TENSOR_RECORD_H_

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "model/tensor_record.pb.h"

namespace vit_moe::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
using TensorRecords = google::protobuf::RepeatedPtrField<NamedTensor>;

// Tensor -> record (copied to CPU, contiguous) and back (on CPU). A record
// whose dtype is unknown or whose bytes do not fill its shape is
// InvalidArgument naming the tensor.
NamedTensor ToRecord(const std::string& name, const torch::Tensor& tensor);
absl::StatusOr<torch::Tensor> FromRecord(const NamedTensor& record);
void AppendRecords(const NamedTensors& tensors, TensorRecords* records);
absl::StatusOr<NamedTensors> FromRecords(const TensorRecords& records);

// Parameters then buffers of `module`, by module path.
NamedTensors ModuleTensors(torch::nn::Module& module);

// Copies records into the module's tensors in place. Every tensor of the
// module must be present with the same dtype and shape, and no other; all
// of this is checked before the first copy, so a failed restore leaves the
// module as it was. Errors name the tensor (callers add the file).
absl::Status RestoreModuleTensors(torch::nn::Module& module,
                                  const TensorRecords& records);

// Feeds every record's name, dtype, shape and bytes, in order, to `digest`.
void DigestRecords(const TensorRecords& records, Digester* digest);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_TENSOR_RECORD_H_

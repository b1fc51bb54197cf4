#include "pipeline/run_report.h"

#include <torch/version.h>

#include <map>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "google/protobuf/stubs/common.h"

namespace vit_moe::pipeline {

std::string MetricsCsv(const TrainingRun& run) {
  std::map<int, const EpochTiming*> timing;
  for (const EpochTiming& t : run.timing().epochs()) timing[t.epoch()] = &t;
  std::string csv =
      "epoch,global_step,train_loss,train_accuracy,balance_loss,aux_loss,"
      "grad_norm,learning_rate,validation_loss,validation_accuracy,seconds,"
      "images_per_second,share_of_matmul_peak,ema_validation_loss,"
      "ema_validation_accuracy,validation_balance_loss";
  // Every epoch has the same MoE layers; the first names the columns.
  const int layers =
      run.epochs().empty() ? 0 : run.epochs(0).expert_load_size();
  for (int layer = 0; layer < layers; ++layer) {
    absl::StrAppend(&csv, absl::StrFormat(",layer%d_dropped,layer%d_entropy,"
                                          "layer%d_z_loss,layer%d_imbalance",
                                          layer, layer, layer, layer));
  }
  absl::StrAppend(&csv, "\n");
  const bool ema = run.resolved_config().ema().decay() > 0;
  for (const EpochMetrics& m : run.epochs()) {
    absl::StrAppend(
        &csv, m.epoch(), ",", m.global_step(), ",",
        absl::StrFormat("%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", m.train_loss(),
                        m.train_accuracy(), m.balance_loss(), m.aux_loss(),
                        m.grad_norm(), m.learning_rate()));
    if (m.has_validation()) {
      absl::StrAppend(&csv, absl::StrFormat(",%.6g,%.6g", m.validation_loss(),
                                            m.validation_accuracy()));
    } else {
      absl::StrAppend(&csv, ",,");
    }
    auto it = timing.find(m.epoch());
    if (it != timing.end()) {
      absl::StrAppend(&csv,
                      absl::StrFormat(",%.3f,%.2f,%.4f", it->second->seconds(),
                                      it->second->images_per_second(),
                                      it->second->share_of_matmul_peak()));
    } else {
      absl::StrAppend(&csv, ",,,");
    }
    if (ema && m.has_validation()) {
      absl::StrAppend(&csv,
                      absl::StrFormat(",%.6g,%.6g", m.ema_validation_loss(),
                                      m.ema_validation_accuracy()));
    } else {
      absl::StrAppend(&csv, ",,");
    }
    if (m.has_validation()) {
      absl::StrAppend(&csv,
                      absl::StrFormat(",%.6g", m.validation_balance_loss()));
    } else {
      absl::StrAppend(&csv, ",");
    }
    for (int layer = 0; layer < layers; ++layer) {
      const LayerExpertLoad& l = m.expert_load(layer);
      absl::StrAppend(
          &csv,
          absl::StrFormat(",%.6g,%.6g,%.6g,%.6g", l.dropped_slot_fraction(),
                          l.router_entropy(), l.z_loss(), l.load_imbalance()));
    }
    absl::StrAppend(&csv, "\n");
  }
  return csv;
}

absl::Status WriteMetricsCsv(const std::string& path, const TrainingRun& run) {
  return WriteFileAtomically(path, MetricsCsv(run));
}

std::vector<std::string> LibraryVersions() {
  return {
      absl::StrCat("libtorch ", TORCH_VERSION),
      absl::StrCat("protobuf ", google::protobuf::internal::VersionString(
                                    GOOGLE_PROTOBUF_VERSION)),
      absl::StrCat("abseil ", ABSL_LTS_RELEASE_VERSION),
      absl::StrCat("compiler ", __VERSION__),
  };
}

}  // namespace vit_moe::pipeline

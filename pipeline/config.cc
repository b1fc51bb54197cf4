#include "pipeline/config.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/field_checker.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "model/precision.h"

namespace vit_moe::pipeline {
absl::StatusOr<TrainConfig> ReadTrainConfig(const std::string& path) {
  TrainConfig config;
  RETURN_IF_ERROR(ReadTextProto(path, &config));
  return config;
}

// Every TrainConfig default, in one place. Only `optional` fields and
// enums or strings whose zero value means "unset" appear here, so MergeFrom
// (which copies exactly what a config sets) keeps the config's values.
constexpr char kTrainDefaults[] = R"pb(
  optimizer {
    learning_rate: 1e-3
    weight_decay: 0.05
    beta1: 0.9
    beta2: 0.999
    epsilon: 1e-8
    grad_clip_norm: 1.0
  }
  schedule { warmup_epochs: 5 min_lr_ratio: 0.01 }
  batch_size: 128
  label_smoothing: 0.1
  eval { start_epoch: 1 every_epochs: 1 }
  device: AUTO
  precision: BF16_MIXED
  distributed { backend: "auto" timeout_seconds: 300 }
  log_every_steps: 50
  ema { warmup_power: 0.75 }
  fine_tune { backbone_lr_scale: 1 }
  accumulate_steps: 1
)pb";

void FillTrainDefaults(TrainConfig* config) {
  static const TrainConfig* const defaults = [] {
    auto* parsed = new TrainConfig;
    CHECK(google::protobuf::TextFormat::ParseFromString(kTrainDefaults, parsed))
        << "kTrainDefaults does not parse";
    return parsed;
  }();
  TrainConfig merged = *defaults;
  merged.MergeFrom(*config);
  *config = std::move(merged);
}

absl::Status ValidateTrainConfig(const TrainConfig& config,
                                 const std::string& source) {
  FieldChecker check("", source);
  check.RequireSet(config.manifest(), "manifest");
  check.RequireSet(config.normalization(), "normalization");
  check.RequireSet(config.output_dir(), "output_dir");
  const FineTuneConfig& fine_tune = config.fine_tune();
  // A fine-tuning run takes its architecture from the model it loads.
  if (fine_tune.init_from().empty()) {
    check.RequireSet(config.model().preset(), "model.preset");
  }

  const OptimizerConfig& opt = config.optimizer();
  check.Positive(opt.learning_rate(), "optimizer.learning_rate");
  check.NonNegative(opt.weight_decay(), "optimizer.weight_decay");
  check.InHalfOpenRange(opt.beta1(), 0, 1, "optimizer.beta1");
  check.InHalfOpenRange(opt.beta2(), 0, 1, "optimizer.beta2");
  check.Positive(opt.epsilon(), "optimizer.epsilon");
  check.NonNegative(opt.grad_clip_norm(), "optimizer.grad_clip_norm");

  const ScheduleConfig& schedule = config.schedule();
  check.Positive(schedule.epochs(), "schedule.epochs");
  check.NonNegative(schedule.warmup_epochs(), "schedule.warmup_epochs");
  check.Require(
      schedule.warmup_epochs() < schedule.epochs(), "schedule.warmup_epochs",
      absl::StrCat("must be below schedule.epochs (", schedule.epochs(), ")"),
      absl::StrCat(schedule.warmup_epochs()));
  check.InRange(schedule.min_lr_ratio(), 0, 1, "schedule.min_lr_ratio");

  check.Positive(config.batch_size(), "batch_size");
  check.InHalfOpenRange(config.label_smoothing(), 0, 1, "label_smoothing");
  check.Positive(config.eval().start_epoch(), "eval.start_epoch");
  check.Positive(config.eval().every_epochs(), "eval.every_epochs");
  check.NonNegative(config.threads(), "threads");
  check.Require(config.device() != DEVICE_UNSPECIFIED, "device",
                "must be AUTO, CPU or CUDA", "DEVICE_UNSPECIFIED");
  check.Require(config.precision() != PRECISION_UNSPECIFIED, "precision",
                "must be FLOAT32 or BF16_MIXED", "PRECISION_UNSPECIFIED");
  check.NonNegative(config.debug().subset_images(), "debug.subset_images");
  const std::string& backend = config.distributed().backend();
  check.Require(backend == "auto" || backend == "gloo" || backend == "nccl",
                "distributed.backend", "must be \"auto\", \"gloo\" or \"nccl\"",
                absl::StrCat("\"", backend, "\""));
  check.Positive(config.distributed().timeout_seconds(),
                 "distributed.timeout_seconds");
  check.NonNegative(config.checkpoint_every_steps(), "checkpoint_every_steps");
  check.Positive(config.log_every_steps(), "log_every_steps");
  check.InHalfOpenRange(config.ema().decay(), 0, 1, "ema.decay");
  check.NonNegative(config.ema().warmup_power(), "ema.warmup_power");
  check.NonNegative(config.early_stopping().patience(),
                    "early_stopping.patience");
  check.InHalfOpenRange(config.early_stopping().min_delta(), 0, 1,
                        "early_stopping.min_delta");
  check.NonNegative(fine_tune.freeze_blocks(), "fine_tune.freeze_blocks");
  check.Positive(fine_tune.backbone_lr_scale(), "fine_tune.backbone_lr_scale");
  const bool adapts = fine_tune.freeze_embedding() ||
                      fine_tune.freeze_blocks() > 0 ||
                      fine_tune.backbone_lr_scale() != 1;
  check.Require(!adapts || !fine_tune.init_from().empty(),
                "fine_tune.init_from",
                "must name the model to fine-tune when fine_tune freezes "
                "layers or scales the backbone's learning rate",
                "\"\"");
  check.Positive(config.accumulate_steps(), "accumulate_steps");
  check.Require(config.accumulate_steps() <= 0 ||
                    config.batch_size() % config.accumulate_steps() == 0,
                "accumulate_steps",
                absl::StrCat("must divide batch_size (", config.batch_size(),
                             ") into equal micro-batches"),
                absl::StrCat(config.accumulate_steps()));
  return check.status();
}

absl::StatusOr<Device> ParseDevice(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "auto") return AUTO;
  if (lower == "cpu") return CPU;
  if (lower == "cuda") return CUDA;
  return absl::InvalidArgumentError(
      absl::StrCat("--device must be auto, cpu or cuda (got \"", name, "\")"));
}

absl::StatusOr<Precision> ParsePrecision(const std::string& name) {
  // Training alone knows fp16 (it needs loss scaling); the evaluation
  // tools' flag takes float32 and bf16_mixed.
  if (absl::AsciiStrToLower(name) == "fp16_mixed") return FP16_MIXED;
  absl::StatusOr<bool> bf16 = model::ParseBf16Flag(name);
  if (!bf16.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--precision must be float32, bf16_mixed or fp16_mixed (got \"", name,
        "\")"));
  }
  return *bf16 ? BF16_MIXED : FLOAT32;
}

}  // namespace vit_moe::pipeline

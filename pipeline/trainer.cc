#include "pipeline/trainer.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <iostream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "augment/batch_transforms.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/memory.h"
#include "common/numeric_environment.h"
#include "common/proto_io.h"
#include "common/run_folder.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/loader.h"
#include "data/normalization.h"
#include "data/random.h"
#include "eval/classify.h"
#include "google/protobuf/util/message_differencer.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/precision.h"
#include "model/tensor_record.h"
#include "pipeline/adamw.h"
#include "pipeline/checkpoint.h"
#include "pipeline/curves.h"
#include "pipeline/device.h"
#include "pipeline/distributed/communicator.h"
#include "pipeline/ema.h"
#include "pipeline/epoch_stats.h"
#include "pipeline/fine_tune.h"
#include "pipeline/grad_scaler.h"
#include "pipeline/loss.h"
#include "pipeline/progress.h"
#include "pipeline/run_report.h"
#include "pipeline/schedule.h"
#include "pipeline/training_setup.h"

namespace vit_moe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double ScalarOrZero(const torch::Tensor& t) {
  return t.defined() ? t.detach().to(torch::kFloat64).item<double>() : 0.0;
}

// Adds one of `parts` equal micro-batches of a step to its statistics:
// counts and expert loads summed, means weighted 1 / parts.
void AddMicroBatch(const model::ModelOutput& out, const torch::Tensor& targets,
                   double loss, int64_t parts, StepStats* stats) {
  {
    torch::NoGradGuard no_grad;
    stats->correct +=
        out.logits.argmax(1).eq(targets.argmax(1)).sum().item<int64_t>();
  }
  stats->loss += loss / parts;
  stats->balance_loss += ScalarOrZero(out.balance_loss) / parts;
  stats->aux_loss += ScalarOrZero(out.aux_loss) / parts;
  // Undefined without MoE layers.
  if (torch::Tensor diagnostics = RoutingDiagnostics(out);
      diagnostics.defined()) {
    diagnostics /= static_cast<double>(parts);
    stats->routing_diagnostics = stats->routing_diagnostics.defined()
                                     ? stats->routing_diagnostics + diagnostics
                                     : diagnostics;
  }
  for (size_t layer = 0; layer < out.expert_load.size(); ++layer) {
    if (stats->expert_load.size() <= layer) {
      stats->expert_load.push_back(out.expert_load[layer].detach());
    } else {
      stats->expert_load[layer] += out.expert_load[layer].detach();
    }
  }
}

// Fields that may change between a run and its resumption without changing
// what is computed.
TrainConfig ComparableForResume(TrainConfig config) {
  config.clear_output_dir();
  // Inputs are compared by digest (TrainingCheckpoint.input_sha256).
  config.clear_manifest();
  config.clear_normalization();
  config.mutable_fine_tune()->clear_init_from();
  config.set_checkpoint_every_steps(0);
  config.set_log_every_steps(0);
  // Parameters, optimizer state and checkpoints are float32 in every
  // precision, so a run may continue in another one.
  config.set_precision(PRECISION_UNSPECIFIED);
  return config;
}

// SHA-256 of the parameters' bytes in module order: equal digests on all
// ranks show they hold bitwise-identical models.
std::string ParameterDigest(model::ViTMoE& model) {
  Digester digester(DigestKind::kSha256);
  for (const torch::Tensor& p : model->parameters()) {
    torch::Tensor bytes = p.detach().to(torch::kCPU).contiguous();
    digester.Update(absl::string_view(
        static_cast<const char*>(bytes.data_ptr()), bytes.nbytes()));
  }
  return digester.FinishHex();
}

class Trainer {
 public:
  Trainer(TrainingSetup& setup, const TrainOptions& options,
          distributed::Communicator& comm)
      : setup_(setup),
        config_(setup.resolved),
        comm_(comm),
        world_(options.world),
        model_(setup.model),
        optimizer_(setup.groups, config_.optimizer()),
        checkpoint_path_(config_.output_dir() + "/" + kCheckpointFile),
        precision_(ResolvePrecision(config_.precision(), setup.device)),
        progress_(world_.is_primary() ? std::cerr : null_stream_,
                  StderrIsTerminal(), config_.log_every_steps()) {
    for (const ParameterGroup& group : setup.groups) {
      for (const auto& [name, p] : group.parameters) parameters_.push_back(p);
    }
    resume_ = options.resume;
    const model::ModelConfig& model = config_.model();
    bool has_moe = false;
    for (int layer = 0; layer < model.depth(); ++layer) {
      has_moe = has_moe || model::IsMoeLayer(model, layer);
    }
    balances_across_micro_batches_ = config_.accumulate_steps() > 1 &&
                                     model.moe().balance_loss_weight() > 0 &&
                                     has_moe;
  }

  absl::StatusOr<TrainingRun> Run();

 private:
  data::LoaderOptions TrainLoaderOptions(int64_t start_batch) const;
  absl::Status Restore();
  absl::Status TrainEpoch(int epoch);
  // One optimizer step on `batch`, in accumulate_steps micro-batches.
  absl::Status Step(const data::Batch& batch, int epoch);
  struct BatchRouting {
    // Packed routing statistics (model::PackRoutingStatistics) of the whole
    // global batch; undefined when each forward balances its own batch.
    torch::Tensor mean;
    // Generator states before each micro-batch's routing forward.
    std::vector<TrainingCheckpoint> replay;
  };
  // With several micro-batches and a balance loss, the balance loss of the
  // whole batch needs every micro-batch's routing before the first
  // backward: a forward pass without gradients collects it (one collective
  // over ranks), recording the generator states so the gradient passes
  // draw, and so route, the same.
  absl::StatusOr<BatchRouting> RouteWholeBatch(
      const std::vector<torch::Tensor>& micro_batches);
  // fp16_mixed: unscales the gradients, updates the loss scale in state_
  // and returns whether the step may be applied (false: they overflowed).
  bool UnscaleGradients();
  absl::Status CheckGradients() const;
  absl::Status Diverged(const std::string& what) const;
  // Plain cross entropy, accuracy and mean unweighted balance loss of the
  // current weights on the validation split.
  struct Validation {
    double loss = 0;
    double accuracy = 0;
    double balance_loss = 0;
  };
  absl::StatusOr<Validation> Validate();
  absl::Status EndEpoch(int epoch, double train_seconds);
  // Validates the live weights and their average, keeps the better as
  // best_model.pt when it beats the best so far, and counts validations
  // without improvement for early stopping; appends to `summary`.
  absl::Status ValidateAndSelect(int epoch, EpochMetrics* metrics,
                                 std::string* summary);
  absl::Status SaveCheckpoint();
  // model_flops / the matmul peak, never above 1: a model faster than the
  // peak means the start-up probe was slowed (by another process on the
  // cores, say), so the peak is measured again, and the share capped at 1
  // with a log line if it still is.
  double ShareOfMatmulPeak(double model_flops);
  TrainingRun Report() const;
  // Data-parallel: replaces the routing statistics of `out` by the global
  // batch's (one collective for all MoE layers) and recomputes its balance
  // and aux losses, so every rank balances the same loss.
  absl::Status BalanceGlobalBatch(model::ModelOutput* out);
  // Sums `values` over ranks (in place, on the training device).
  absl::Status SumOverRanks(torch::Tensor& values);
  // Adds the other ranks' images, hits, losses and routed slots to `stats`
  // and averages the routing diagnostics over ranks.
  absl::Status GatherStepStats(StepStats* stats);

  TrainingSetup& setup_;
  const TrainConfig& config_;
  distributed::Communicator& comm_;
  const distributed::WorldInfo world_;
  // Ranks other than 0 report nothing (a stream without a buffer drops it).
  std::ostream null_stream_{nullptr};
  model::ViTMoE model_;
  AdamW optimizer_;
  // The weights' moving average; null without ema.decay. On resume its
  // saved state waits in resumed_average_ until the average exists.
  std::unique_ptr<WeightAverage> ema_;
  // fp16_mixed only; its state lives in state_.loss_scale() between steps.
  std::unique_ptr<GradScaler> scaler_;
  model::NamedTensors resumed_average_;
  std::vector<torch::Tensor> parameters_;
  std::string checkpoint_path_;
  model::PrecisionChoice precision_;
  bool resume_ = false;
  ProgressReporter progress_;
  std::unique_ptr<LearningRateSchedule> schedule_;
  int64_t steps_per_epoch_ = 0;
  // accumulate_steps > 1, a balance loss and MoE layers: see
  // RouteWholeBatch.
  bool balances_across_micro_batches_ = false;
  double forward_flops_ = 0;
  double matmul_peak_ = 0;

  // Run state without tensors; SaveCheckpoint adds them.
  TrainingCheckpoint state_;
  int64_t last_checkpoint_step_ = -1;
  NumericEnvironment numeric_environment_;
  RunTiming timing_;
  Clock::time_point run_start_ = Clock::now();
  // Steps this process ran, for the ETA.
  int64_t steps_this_process_ = 0;
  double step_seconds_this_process_ = 0;
};

data::LoaderOptions Trainer::TrainLoaderOptions(int64_t start_batch) const {
  data::LoaderOptions options;
  options.batch_size = config_.batch_size();
  options.shuffle = true;
  options.seed = config_.seed();
  options.drop_last = true;
  options.start_batch = start_batch;
  options.limit_images = config_.debug().subset_images();
  options.rank = world_.rank;
  options.world_size = world_.world_size;
  options.prefetch_batches = data::PrefetchBatchesFor(
      setup_.device.is_cuda(), setup_.threads, CoreCount());
  return options;
}

absl::Status Trainer::BalanceGlobalBatch(model::ModelOutput* out) {
  if (!world_.is_distributed()) return absl::OkStatus();
  torch::Tensor mean = model::PackRoutingStatistics(out->routing);
  RETURN_IF_ERROR(SumOverRanks(mean));
  mean /= world_.world_size;
  out->routing = model::GlobalRoutingStatistics(out->routing, mean);
  model::SetAuxLosses(config_.model().moe().balance_loss_weight(), out);
  return absl::OkStatus();
}

absl::Status Trainer::SumOverRanks(torch::Tensor& values) {
  if (!world_.is_distributed()) return absl::OkStatus();
  torch::Tensor on_device = values.to(setup_.device);
  RETURN_IF_ERROR(comm_.AllReduceSum(on_device));
  values = on_device.to(values.device());
  return absl::OkStatus();
}

absl::Status Trainer::GatherStepStats(StepStats* stats) {
  if (!world_.is_distributed()) return absl::OkStatus();
  // [4 + sum of E]: images, hits, loss sum, aux loss, routed slots.
  std::vector<torch::Tensor> parts = {torch::tensor(
      std::vector<double>{static_cast<double>(stats->images),
                          static_cast<double>(stats->correct),
                          stats->loss * stats->images, stats->aux_loss},
      torch::kFloat64)};
  for (const torch::Tensor& load : stats->expert_load) {
    parts.push_back(load.detach().to(torch::kCPU, torch::kFloat64));
  }
  if (stats->routing_diagnostics.defined()) {
    parts.push_back(stats->routing_diagnostics.detach()
                        .to(torch::kCPU, torch::kFloat64)
                        .flatten());
  }
  torch::Tensor sums = torch::cat(parts);
  RETURN_IF_ERROR(SumOverRanks(sums));
  auto v = sums.accessor<double, 1>();
  stats->images = std::llround(v[0]);
  stats->correct = std::llround(v[1]);
  stats->loss = v[2] / std::max<double>(1, v[0]);
  // The z-loss part is a per-rank mean of equal-sized shares.
  stats->aux_loss = v[3] / world_.world_size;
  int64_t offset = 4;
  for (torch::Tensor& load : stats->expert_load) {
    const int64_t e = load.numel();
    load = sums.narrow(0, offset, e).to(torch::kFloat);
    offset += e;
  }
  if (stats->routing_diagnostics.defined()) {
    // Per-rank means of equal-sized batches.
    stats->routing_diagnostics =
        sums.narrow(0, offset, stats->routing_diagnostics.numel())
            .view_as(stats->routing_diagnostics) /
        world_.world_size;
  }
  return absl::OkStatus();
}

absl::Status Trainer::Restore() {
  ASSIGN_OR_RETURN(TrainingCheckpoint saved, ReadCheckpoint(checkpoint_path_));
  google::protobuf::util::MessageDifferencer differ;
  std::string differences;
  differ.ReportDifferencesToString(&differences);
  if (!differ.Compare(ComparableForResume(saved.resolved_config()),
                      ComparableForResume(config_))) {
    return absl::FailedPreconditionError(
        absl::StrCat(checkpoint_path_,
                     ": written with a different config, so --resume "
                     "would not continue the same run: ",
                     differences));
  }
  for (const InputDigest& input : setup_.inputs) {
    auto trained_on = saved.input_sha256().find(input.role());
    if (trained_on != saved.input_sha256().end() &&
        trained_on->second != input.sha256()) {
      return absl::FailedPreconditionError(absl::StrCat(
          checkpoint_path_, ": trained on a ", input.role(), " with SHA-256 ",
          trained_on->second, ", but ", input.path(), " has ", input.sha256(),
          ", so --resume would not continue the same run"));
    }
  }
  absl::Status status = model::RestoreModuleTensors(*model_, saved.model());
  if (status.ok()) {
    ASSIGN_OR_RETURN(model::NamedTensors moments,
                     model::FromRecords(saved.optimizer()));
    status = optimizer_.LoadStateTensors(moments);
  }
  // Loaded once the weight average exists (after the broadcast in Run).
  ASSIGN_OR_RETURN(resumed_average_, model::FromRecords(saved.ema()));
  if (status.ok()) status = RestoreGeneratorStates(setup_.device, saved);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(checkpoint_path_, ": ", status.message()));
  }
  ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(checkpoint_path_));
  InputDigest* input = &setup_.inputs.emplace_back();
  input->set_role("resume");
  input->set_path(checkpoint_path_);
  input->set_sha256(sha);
  saved.clear_model();
  saved.clear_optimizer();
  saved.clear_ema();
  saved.clear_cpu_rng_state();
  saved.clear_cuda_rng_state();
  state_ = std::move(saved);
  last_checkpoint_step_ = state_.global_step();
  progress_.Line(absl::StrCat("resuming at step ", state_.global_step(),
                              " (epoch ", state_.epoch() + 1, ", batch ",
                              state_.next_batch(), ")"));
  return absl::OkStatus();
}

absl::StatusOr<TrainingRun> Trainer::Run() {
  RETURN_IF_ERROR(MakeDirectories(config_.output_dir()));
  const int epochs = config_.schedule().epochs();
  {
    data::BatchLoader probe(*setup_.train, TrainLoaderOptions(0), 0);
    steps_per_epoch_ = probe.batches_per_epoch();
  }
  if (steps_per_epoch_ == 0) {
    const int64_t images = setup_.train->labels.size(0);
    const int64_t subset = config_.debug().subset_images();
    return absl::InvalidArgumentError(
        subset > 0 && subset < images
            ? absl::StrCat("batch_size ", config_.batch_size(), " exceeds the ",
                           subset, " training images debug.subset_images keeps")
            : absl::StrCat("batch_size ", config_.batch_size(), " exceeds the ",
                           images, " training images of ", config_.manifest()));
  }
  schedule_ = std::make_unique<LearningRateSchedule>(
      config_.optimizer().learning_rate(), config_.schedule(),
      steps_per_epoch_);
  forward_flops_ = model::ForwardFlopsPerImage(config_.model());
  if (!precision_.fallback_reason.empty()) {
    progress_.Line(precision_.fallback_reason);
  }
  matmul_peak_ = MeasureMatmulPeak(setup_.device, precision_);
  timing_.set_matmul_peak_flops_per_second(matmul_peak_);

  // Without paths: equal training states give equal checkpoint bytes
  // wherever the run and its inputs live; the inputs are named by digest.
  *state_.mutable_resolved_config() = config_;
  state_.mutable_resolved_config()->clear_output_dir();
  state_.mutable_resolved_config()->clear_manifest();
  state_.mutable_resolved_config()->clear_normalization();
  state_.mutable_resolved_config()->mutable_fine_tune()->clear_init_from();
  for (const InputDigest& input : setup_.inputs) {
    if (input.role() == "manifest" || input.role() == "normalization" ||
        input.role() == "init_from") {
      (*state_.mutable_input_sha256())[input.role()] = input.sha256();
    }
  }
  numeric_environment_ = CaptureNumericEnvironment(
      setup_.threads, setup_.device.str(), precision_.name);
  progress_.Line(DescribeNumericEnvironment(numeric_environment_));
  if (setup_.fine_tune.has_value()) {
    progress_.Line(DescribeFineTune(config_.fine_tune(), *setup_.fine_tune,
                                    config_.model().num_classes()));
  }
  if (resume_) {
    RETURN_IF_ERROR(Restore());
    // Resuming a finished run changes nothing: its record stays as written.
    // Without the record (stopped after the last checkpoint), it is
    // written below from the checkpoint's state.
    TrainingRun recorded;
    const std::string record_path =
        absl::StrCat(config_.output_dir(), "/", kTrainingRunFile);
    if ((state_.epoch() >= epochs || state_.stopped_early_after_epoch() != 0) &&
        ReadBinaryProto(record_path, &recorded).ok()) {
      progress_.Line(absl::StrCat(record_path,
                                  ": the run finished after epoch ",
                                  state_.epoch(), "; nothing to resume"));
      return recorded;
    }
  }
  {
    // Every rank starts from rank 0's model, whatever its own
    // initialisation or checkpoint read gave.
    torch::NoGradGuard no_grad;
    RETURN_IF_ERROR(comm_.Broadcast(model_->parameters()));
  }
  if (config_.ema().decay() > 0) {
    // Starts at the broadcast weights, so every rank holds the same average.
    ema_ = std::make_unique<WeightAverage>(*model_, config_.ema().decay(),
                                           config_.ema().warmup_power());
    if (resume_) {
      absl::Status loaded = ema_->LoadStateTensors(resumed_average_);
      if (!loaded.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(checkpoint_path_, ": ", loaded.message()));
      }
      resumed_average_.clear();
    }
  }
  if (precision_.fp16) {
    GradScalerState scale;
    if (state_.has_loss_scale()) {
      scale.scale = state_.loss_scale().scale();
      scale.good_steps = state_.loss_scale().good_steps();
      scale.skipped_steps = state_.loss_scale().skipped_steps();
    }
    scaler_ = std::make_unique<GradScaler>(scale);
  }
  progress_.Line(absl::StrFormat(
      "training %d epochs x %d steps of %d images on %s (%s, %d threads); "
      "matmul peak %.1f GFLOP/s",
      epochs, steps_per_epoch_, config_.batch_size(), setup_.device.str(),
      precision_.name, setup_.threads, matmul_peak_ / 1e9));
  if (world_.is_distributed()) {
    progress_.Line(absl::StrFormat(
        "data-parallel: %d ranks over %s, %d images per rank and step; "
        "rendezvous %s:%d",
        world_.world_size, comm_.backend(),
        config_.batch_size() / world_.world_size, world_.master_addr,
        world_.master_port));
    // Every rank says where it computes: on CUDA each takes its own GPU.
    std::cerr << "rank " << world_.rank << " of " << world_.world_size
              << " (local rank " << world_.local_rank << ") on "
              << setup_.device.str() << std::endl;
  }

  if (config_.debug().enabled()) {
    torch::autograd::AnomalyMode::set_enabled(true);
  }
  for (int epoch = state_.epoch();
       epoch < epochs && state_.stopped_early_after_epoch() == 0; ++epoch) {
    RETURN_IF_ERROR(TrainEpoch(epoch));
  }
  TrainingRun run = Report();
  if (world_.is_distributed()) {
    std::cerr << "rank " << world_.rank << " of " << world_.world_size
              << ": final parameters sha256 " << ParameterDigest(model_)
              << std::endl;
    // Rank 0 may still be writing; the others wait so that a failure
    // there is not mistaken for success by a launcher.
    RETURN_IF_ERROR(comm_.Barrier());
  }
  if (world_.is_primary()) {
    RETURN_IF_ERROR(
        WriteBinaryProto(config_.output_dir() + "/" + kTrainingRunFile, run));
  }
  return run;
}

absl::Status Trainer::TrainEpoch(int epoch) {
  const data::SplitData& split = *setup_.train;
  data::BatchLoader loader(
      split, TrainLoaderOptions(state_.next_batch()), epoch,
      augment::TrainingTransform(*setup_.augmenter, setup_.normalization,
                                 config_.seed(), epoch,
                                 setup_.device.is_cuda()));
  Clock::time_point start = Clock::now();
  // Images of all ranks: this rank's share times the world size.
  int64_t images_this_process = 0;
  while (std::optional<data::Batch> batch = loader.Next()) {
    Clock::time_point step_start = Clock::now();
    RETURN_IF_ERROR(Step(*batch, epoch));
    step_seconds_this_process_ += SecondsSince(step_start);
    ++steps_this_process_;
    images_this_process += batch->labels.size(0) * world_.world_size;

    StepProgress p;
    p.epoch = epoch + 1;
    p.epochs = config_.schedule().epochs();
    p.step_in_epoch = state_.next_batch();
    p.steps_per_epoch = steps_per_epoch_;
    p.loss = RunningLoss(state_.partial_epoch());
    p.accuracy = RunningAccuracy(state_.partial_epoch());
    double elapsed = SecondsSince(start);
    p.images_per_second = elapsed > 0 ? images_this_process / elapsed : 0;
    int64_t remaining = schedule_->total_steps() - state_.global_step();
    p.eta_seconds =
        remaining * step_seconds_this_process_ / steps_this_process_;
    progress_.Step(p);

    int every = config_.checkpoint_every_steps();
    if (every > 0 && state_.global_step() % every == 0 &&
        state_.next_batch() < steps_per_epoch_) {
      RETURN_IF_ERROR(SaveCheckpoint());
    }
  }
  double seconds = SecondsSince(start);
  EpochTiming* timing = timing_.add_epochs();
  timing->set_epoch(epoch + 1);
  timing->set_seconds(seconds);
  double images_per_second = seconds > 0 ? images_this_process / seconds : 0;
  timing->set_images_per_second(images_per_second);
  // Backward costs about twice the forward pass.
  const double model_flops = 3 * forward_flops_ * images_per_second;
  timing->set_model_flops_per_second(model_flops);
  timing->set_share_of_matmul_peak(ShareOfMatmulPeak(model_flops));
  return EndEpoch(epoch, seconds);
}

double Trainer::ShareOfMatmulPeak(double model_flops) {
  if (matmul_peak_ <= 0) return 0;
  if (model_flops > matmul_peak_) {
    const double again = MeasureMatmulPeak(setup_.device, precision_);
    progress_.Line(absl::StrFormat(
        "the model ran at %.1f GFLOP/s, above the matmul peak of %.1f "
        "measured at start-up (the probe shared the cores with other "
        "work?); measured again: %.1f GFLOP/s",
        model_flops / 1e9, matmul_peak_ / 1e9, again / 1e9));
    matmul_peak_ = std::max(matmul_peak_, again);
    timing_.set_matmul_peak_flops_per_second(matmul_peak_);
    if (model_flops > matmul_peak_) {
      progress_.Line(
          "share_of_matmul_peak capped at 1: the peak probe is unreliable "
          "on this machine now");
      return 1.0;
    }
  }
  return model_flops / matmul_peak_;
}

bool Trainer::UnscaleGradients() {
  const bool finite = scaler_->UnscaleAndUpdate(parameters_);
  const GradScalerState& now = scaler_->state();
  LossScale* saved = state_.mutable_loss_scale();
  saved->set_scale(now.scale);
  saved->set_good_steps(now.good_steps);
  saved->set_skipped_steps(now.skipped_steps);
  if (!finite) {
    progress_.Line(absl::StrFormat(
        "step %d: fp16 gradients overflowed; step skipped, loss scale "
        "lowered to %g",
        state_.global_step() + 1, now.scale));
  }
  return finite;
}

absl::StatusOr<Trainer::BatchRouting> Trainer::RouteWholeBatch(
    const std::vector<torch::Tensor>& micro_batches) {
  BatchRouting whole;
  if (!balances_across_micro_batches_) return whole;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& images : micro_batches) {
    CaptureGeneratorStates(setup_.device, &whole.replay.emplace_back());
    model::ModelOutput out;
    {
      model::AutocastScope autocast(precision_, setup_.device);
      out = model_->forward(images);
    }
    torch::Tensor packed = model::PackRoutingStatistics(out.routing);
    whole.mean = whole.mean.defined() ? whole.mean + packed : packed;
  }
  // Equal micro-batches and equal ranks: the mean of their means.
  whole.mean /= static_cast<double>(micro_batches.size());
  RETURN_IF_ERROR(SumOverRanks(whole.mean));
  whole.mean /= world_.world_size;
  return whole;
}

absl::Status Trainer::Step(const data::Batch& batch, int epoch) {
  const int64_t step = state_.global_step();
  const double lr = schedule_->At(step);
  if (world_.rank > 0) {
    // Dropout, drop-path and router noise must differ between ranks (rank
    // 0 keeps the checkpointed stream); a per-step seed keeps resumed runs
    // identical to uninterrupted ones without storing every rank's state.
    torch::manual_seed(data::MixSeed(data::MixSeed(config_.seed(), world_.rank),
                                     static_cast<uint64_t>(step)));
  }
  augment::MixedBatch mixed = setup_.augmenter->MixBatch(
      batch.images, batch.labels, config_.model().num_classes(), config_.seed(),
      epoch, batch.batch_index);
  // Non-blocking from pinned memory on CUDA (a plain copy elsewhere): the
  // GPU's stream orders the copy before the forward pass.
  torch::Tensor images =
      mixed.images.to(setup_.device, /*non_blocking=*/true);  // [B, C, H, W]
  torch::Tensor targets =
      mixed.targets.to(setup_.device, /*non_blocking=*/true);  // [B, classes]
  const int64_t parts = config_.accumulate_steps();
  const std::vector<torch::Tensor> image_parts = images.chunk(parts);
  const std::vector<torch::Tensor> target_parts = targets.chunk(parts);
  ASSIGN_OR_RETURN(BatchRouting whole, RouteWholeBatch(image_parts));

  StepStats stats;
  stats.images = batch.labels.size(0);
  optimizer_.ZeroGrad();
  for (int64_t part = 0; part < parts; ++part) {
    if (!whole.replay.empty()) {
      // The draws (dropout, router noise) of the routing pass, so this
      // forward routes as that pass did.
      RETURN_IF_ERROR(
          RestoreGeneratorStates(setup_.device, whole.replay[part]));
    }
    model::ModelOutput out;
    {
      model::AutocastScope autocast(precision_, setup_.device);
      out = model_->forward(image_parts[part]);
    }
    if (whole.mean.defined()) {
      out.routing = model::GlobalRoutingStatistics(out.routing, whole.mean);
      model::SetAuxLosses(config_.model().moe().balance_loss_weight(), &out);
    } else {
      RETURN_IF_ERROR(BalanceGlobalBatch(&out));
    }
    torch::Tensor loss = SmoothedSoftTargetCrossEntropy(
        out.logits, target_parts[part], config_.label_smoothing());
    torch::Tensor total =
        out.aux_loss.defined() ? loss + out.aux_loss.to(torch::kFloat32) : loss;
    const double total_value = total.item<double>();
    if (!std::isfinite(total_value)) {
      return Diverged(absl::StrCat("loss is ", total_value));
    }
    // Each micro-batch's mean enters the whole batch's mean with 1/parts.
    if (parts > 1) total = total / static_cast<double>(parts);
    try {
      (scaler_ != nullptr ? scaler_->Scale(total) : total).backward();
    } catch (const c10::Error& error) {
      return absl::AbortedError(
          absl::StrCat("step ", step + 1,
                       ": backward failed: ", error.what_without_backtrace()));
    } catch (const std::exception& error) {
      // Anomaly detection (DEBUG) raises a std::runtime_error here, naming
      // the backward function that returned NaN.
      return absl::AbortedError(
          absl::StrCat("step ", step + 1, ": backward failed: ", error.what()));
    }
    AddMicroBatch(out, target_parts[part], loss.item<double>(), parts, &stats);
  }
  RETURN_IF_ERROR(comm_.AverageGradients(parameters_));
  // Every rank holds the same averaged gradients, so all skip together.
  const bool apply = scaler_ == nullptr || UnscaleGradients();
  if (config_.debug().enabled() && apply) RETURN_IF_ERROR(CheckGradients());
  double grad_norm = 0;
  if (apply) {
    grad_norm =
        ClipGradientNorm(parameters_, config_.optimizer().grad_clip_norm());
    if (!std::isfinite(grad_norm)) {
      return Diverged(absl::StrCat("gradient norm is ", grad_norm));
    }
    optimizer_.Step(lr);
    if (ema_ != nullptr) ema_->Update(step + 1);
  }

  stats.grad_norm = grad_norm;
  stats.learning_rate = lr;
  if (config_.debug().enabled()) {
    progress_.Line(absl::StrFormat(
        "step %d loss %.5f balance %.5f grad_norm %.4g lr %.3g routing %s",
        step + 1, stats.loss, stats.balance_loss, grad_norm, lr,
        FormatRouting(stats.expert_load)));
  }
  RETURN_IF_ERROR(GatherStepStats(&stats));
  Accumulate(stats, state_.mutable_partial_epoch());
  state_.set_global_step(step + 1);
  state_.set_next_batch(batch.batch_index + 1);
  return absl::OkStatus();
}

absl::Status Trainer::CheckGradients() const {
  for (const ParameterGroup& group : setup_.groups) {
    for (const auto& [name, p] : group.parameters) {
      if (!p.grad().defined()) continue;
      if (!torch::isfinite(p.grad()).all().item<bool>()) {
        return Diverged(
            absl::StrCat("gradient of ", name, " holds NaN or Inf"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Trainer::Diverged(const std::string& what) const {
  std::string kept =
      last_checkpoint_step_ >= 0
          ? absl::StrCat("the last good checkpoint ", checkpoint_path_,
                         " (step ", last_checkpoint_step_, ") is intact")
          : std::string("no checkpoint was written yet");
  return absl::AbortedError(absl::StrCat(
      "training diverged at step ", state_.global_step() + 1, " (epoch ",
      state_.epoch() + 1, ", batch index ", state_.next_batch(), "): ", what,
      "; lower optimizer.learning_rate or set optimizer.grad_clip_norm; ",
      kept));
}

absl::StatusOr<Trainer::Validation> Trainer::Validate() {
  data::LoaderOptions options;
  options.batch_size = config_.batch_size();
  options.shuffle = false;
  options.drop_last = false;
  options.limit_images = config_.debug().subset_images();
  // Sharded: each rank evaluates its slice of every batch, sums are added.
  options.rank = world_.rank;
  options.world_size = world_.world_size;
  options.prefetch_batches = data::PrefetchBatchesFor(
      setup_.device.is_cuda(), setup_.threads, CoreCount());
  data::BatchLoader loader(*setup_.validation, options, 0,
                           augment::EvaluationTransform(
                               setup_.normalization, setup_.device.is_cuda()));
  double loss_sum = 0, balance_loss_sum = 0;
  int64_t correct = 0, images = 0, batches = 0;
  eval::ClassifyBatches(
      model_, loader, setup_.device, precision_,
      [&](const data::Batch&, const torch::Tensor& labels,
          const model::ModelOutput& output) {
        loss_sum +=
            torch::nn::functional::cross_entropy(
                output.logits, labels,
                torch::nn::functional::CrossEntropyFuncOptions().reduction(
                    torch::kSum))
                .item<double>();
        correct += output.logits.argmax(1).eq(labels).sum().item<int64_t>();
        images += labels.size(0);
        balance_loss_sum += ScalarOrZero(output.balance_loss);
        ++batches;
      });
  torch::Tensor sums = torch::tensor(
      std::vector<double>{loss_sum, static_cast<double>(correct),
                          static_cast<double>(images), balance_loss_sum,
                          static_cast<double>(batches)},
      torch::kFloat64);  // [5]
  RETURN_IF_ERROR(SumOverRanks(sums));
  loss_sum = sums[0].item<double>();
  correct = std::llround(sums[1].item<double>());
  images = std::llround(sums[2].item<double>());
  CHECK_GT(images, 0) << "BuildTrainingSetup refuses an empty validation "
                         "split, and every rank's shard sums into images";
  // Each rank's batch counts once: the mean over every (rank, batch).
  return Validation{loss_sum / images, static_cast<double>(correct) / images,
                    sums[3].item<double>() / sums[4].item<double>()};
}

absl::Status Trainer::EndEpoch(int epoch, double train_seconds) {
  const int total_epochs = config_.schedule().epochs();
  EpochMetrics metrics = pipeline::FinishEpoch(epoch + 1, state_.global_step(),
                                               state_.partial_epoch());
  std::string summary = absl::StrFormat(
      "epoch %d/%d train loss %.4f acc %.2f%% balance %.4f %s lr %.3g (%s)",
      epoch + 1, total_epochs, metrics.train_loss(),
      100 * metrics.train_accuracy(), metrics.balance_loss(),
      FormatRoutingSummary(metrics), metrics.learning_rate(),
      FormatDuration(train_seconds));
  if (IsEvaluationEpoch(config_.eval(), epoch + 1, total_epochs)) {
    RETURN_IF_ERROR(ValidateAndSelect(epoch, &metrics, &summary));
  }
  *state_.add_epochs() = metrics;
  state_.clear_partial_epoch();
  state_.set_epoch(epoch + 1);
  state_.set_next_batch(0);
  RETURN_IF_ERROR(SaveCheckpoint());
  progress_.Line(summary);
  if (!world_.is_primary()) return absl::OkStatus();

  TrainingRun so_far = Report();
  RETURN_IF_ERROR(
      WriteMetricsCsv(config_.output_dir() + "/" + kMetricsCsvFile, so_far));
  return WriteCurves(config_.output_dir(), so_far);
}

absl::Status Trainer::ValidateAndSelect(int epoch, EpochMetrics* metrics,
                                        std::string* summary) {
  Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(Validation validation, Validate());
  metrics->set_has_validation(true);
  metrics->set_validation_loss(validation.loss);
  metrics->set_validation_accuracy(validation.accuracy);
  metrics->set_validation_balance_loss(validation.balance_loss);
  absl::StrAppend(
      summary,
      absl::StrFormat(" | validation loss %.4f acc %.2f%% balance %.4f",
                      validation.loss, 100 * validation.accuracy,
                      validation.balance_loss));
  double accuracy = validation.accuracy;
  std::string weights = "model";
  if (ema_ != nullptr) {
    ema_->Swap();
    absl::StatusOr<Validation> averaged = Validate();
    ema_->Swap();
    if (!averaged.ok()) return averaged.status();
    metrics->set_ema_validation_loss(averaged->loss);
    metrics->set_ema_validation_accuracy(averaged->accuracy);
    absl::StrAppend(summary,
                    absl::StrFormat(", average %.4f acc %.2f%%", averaged->loss,
                                    100 * averaged->accuracy));
    if (averaged->accuracy > accuracy) {
      accuracy = averaged->accuracy;
      weights = "ema";
    }
  }
  timing_.mutable_epochs()->rbegin()->set_validation_seconds(
      SecondsSince(start));
  if (state_.best_epoch() == 0 ||
      accuracy > state_.best_validation_accuracy()) {
    state_.set_best_epoch(epoch + 1);
    state_.set_best_validation_accuracy(accuracy);
    state_.set_best_weights(weights);
    if (world_.is_primary()) {
      if (weights == "ema") ema_->Swap();
      absl::Status saved =
          model::SaveModel(config_.output_dir() + "/" + kBestModelFile, model_);
      if (weights == "ema") ema_->Swap();
      RETURN_IF_ERROR(saved);
    }
    absl::StrAppend(summary, weights == "ema" ? " (best: average)" : " (best)");
  }

  const EarlyStoppingConfig& early = config_.early_stopping();
  if (early.patience() == 0) return absl::OkStatus();
  const bool first =
      std::none_of(state_.epochs().begin(), state_.epochs().end(),
                   [](const EpochMetrics& m) { return m.has_validation(); });
  if (first ||
      accuracy >= state_.early_stopping_reference() + early.min_delta()) {
    state_.set_early_stopping_reference(accuracy);
    state_.set_validations_without_improvement(0);
  } else {
    state_.set_validations_without_improvement(
        state_.validations_without_improvement() + 1);
  }
  if (state_.validations_without_improvement() >= early.patience() &&
      epoch + 1 < config_.schedule().epochs()) {
    state_.set_stopped_early_after_epoch(epoch + 1);
    absl::StrAppend(
        summary,
        absl::StrFormat(" | early stop: %d validations without a gain of "
                        "%g over %.2f%%",
                        state_.validations_without_improvement(),
                        early.min_delta(),
                        100 * state_.early_stopping_reference()));
  }
  return absl::OkStatus();
}

absl::Status Trainer::SaveCheckpoint() {
  if (!world_.is_primary()) {
    // Rank 0 writes the same state.
    last_checkpoint_step_ = state_.global_step();
    return absl::OkStatus();
  }
  TrainingCheckpoint checkpoint = state_;
  model::AppendRecords(model::ModuleTensors(*model_),
                       checkpoint.mutable_model());
  model::AppendRecords(optimizer_.StateTensors(),
                       checkpoint.mutable_optimizer());
  if (ema_ != nullptr) {
    model::AppendRecords(ema_->StateTensors(), checkpoint.mutable_ema());
  }
  CaptureGeneratorStates(setup_.device, &checkpoint);
  RETURN_IF_ERROR(WriteCheckpoint(checkpoint_path_, std::move(checkpoint)));
  last_checkpoint_step_ = state_.global_step();
  progress_.Line(absl::StrCat("checkpoint: step ", state_.global_step(),
                              " (epoch ", state_.epoch() + 1, ", batch ",
                              state_.next_batch(), ") -> ", checkpoint_path_));
  return absl::OkStatus();
}

TrainingRun Trainer::Report() const {
  TrainingRun run;
  *run.mutable_resolved_config() = config_;
  for (const InputDigest& input : setup_.inputs) *run.add_inputs() = input;
  *run.mutable_epochs() = state_.epochs();
  run.set_best_epoch(state_.best_epoch());
  run.set_best_validation_accuracy(state_.best_validation_accuracy());
  run.set_best_weights(state_.best_weights());
  run.set_stopped_early_after_epoch(state_.stopped_early_after_epoch());
  *run.mutable_numeric_environment() = numeric_environment_;
  if (state_.best_epoch() > 0) {
    run.set_checkpoint(kBestModelFile);
    absl::StatusOr<std::string> sha =
        Sha256OfFile(config_.output_dir() + "/" + kBestModelFile);
    if (sha.ok()) run.set_checkpoint_sha256(*sha);
  }
  absl::StatusOr<std::string> final_sha = Sha256OfFile(checkpoint_path_);
  if (final_sha.ok()) run.set_final_checkpoint_sha256(*final_sha);
  run.set_parameter_count(model::CountTrainableParameters(model_));
  for (const std::string& version : LibraryVersions()) {
    run.add_versions(version);
  }
  run.set_forward_flops_per_image(forward_flops_);
  run.set_threads(setup_.threads);
  run.set_device(setup_.device.str());
  run.set_precision(precision_.name);
  if (state_.has_loss_scale()) {
    run.set_skipped_steps(state_.loss_scale().skipped_steps());
    run.set_final_loss_scale(state_.loss_scale().scale());
  }
  run.set_world_size(world_.world_size);
  if (setup_.fine_tune.has_value())
    *run.mutable_fine_tune() = *setup_.fine_tune;
  *run.mutable_timing() = timing_;
  run.mutable_timing()->set_wall_seconds(SecondsSince(run_start_));
  run.mutable_timing()->set_peak_resident_bytes(PeakResidentBytes());
  return run;
}

}  // namespace

absl::StatusOr<TrainingRun> RunTraining(const TrainConfig& config,
                                        const TrainOptions& options) {
  const distributed::WorldInfo& world = options.world;
  if (config.batch_size() % (world.world_size * config.accumulate_steps()) !=
      0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch_size ", config.batch_size(), " does not divide over WORLD_SIZE ",
        world.world_size, " ranks x accumulate_steps ",
        config.accumulate_steps(),
        ": each rank takes an equal slice of every global batch, in equal "
        "micro-batches"));
  }
  std::unique_ptr<RunFolder> folder;
  if (world.is_primary()) {
    RunFolderRules rules;
    rules.continues_earlier_run = options.resume;
    rules.remedy = options.earlier_run_remedy;
    ASSIGN_OR_RETURN(folder, RunFolder::Claim(options.output_dir_name,
                                              config.output_dir(), rules));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<TrainingSetup> setup,
      BuildTrainingSetup(config, options.config_path, options.config_source,
                         world.local_rank,
                         {options.manifest_name, config.manifest()},
                         {options.normalization_name, config.normalization()}));
  ASSIGN_OR_RETURN(
      std::unique_ptr<distributed::Communicator> comm,
      distributed::Communicator::Connect(
          world, config.distributed().backend(), setup->device,
          std::chrono::seconds(config.distributed().timeout_seconds())));
  Trainer trainer(*setup, options, *comm);
  return trainer.Run();
}

}  // namespace vit_moe::pipeline

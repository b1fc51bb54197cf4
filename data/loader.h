// Batches over one split of the store. The epoch order is a permutation
// drawn from (seed, epoch) alone, so every rank of a distributed run, and a
// resumed run, sees the same order; rank r yields its contiguous slice of
// each global batch. A background thread gathers (and optionally
// transforms) batches ahead of the consumer, bounded by prefetch_batches.
#ifndef VIT_MOE_DATA_LOADER_H_
#define VIT_MOE_DATA_LOADER_H_

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/store.h"

namespace vit_moe::data {

struct LoaderOptions {
  int64_t batch_size = 128;  // GLOBAL batch (all ranks together)
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = true;
  int rank = 0,
      world_size =
          1;  // rank r yields its contiguous slice of each global batch
  // Background thread queue depth; 0 = no thread (batches are made and
  // transformed in Next()). PrefetchBatchesFor picks it for a device.
  int prefetch_batches = 2;
  int64_t start_batch = 0;  // skip this many global batches (resume mid-epoch)
  int64_t limit_images =
      0;  // use only the first N images of the split (0 = all)
};

struct Batch {
  torch::Tensor images;     // [B, C, H, W] uint8 (or float after a transform)
  torch::Tensor labels;     // [B] int64
  torch::Tensor indices;    // [B] int64, index of each image in the split
  int64_t batch_index = 0;  // global batch index within the epoch
};

// Queue depth for a loader feeding `compute_threads` intra-op threads on
// `cores` cores: 2 where the prefetch thread has a core of its own or the
// host waits on an `accelerator`, else 0. With every core computing, the
// prefetch thread preempts one intra-op thread and the other stalls at
// the next parallel region: the Fashion-MNIST CPU recipe (2 threads, 2
// cores) trained 5-25% faster with batches made between steps.
int PrefetchBatchesFor(bool accelerator, int compute_threads, int cores);

// The epoch order used by BatchLoader: [0, n) permuted by a generator
// seeded from (seed, epoch), or the identity when !shuffle.
std::vector<int64_t> EpochOrder(int64_t n, bool shuffle, uint64_t seed,
                                int64_t epoch);

class BatchLoader {
 public:
  // `split` must outlive the loader. Invalid options (batch not divisible
  // by world_size, rank out of range, ...) are programmer errors (CHECK).
  // `transform` runs on the prefetch thread; an exception it throws is
  // rethrown by Next().
  BatchLoader(const SplitData& split, LoaderOptions options, int64_t epoch,
              std::function<Batch(Batch)> transform = nullptr);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  std::optional<Batch> Next();  // nullopt at epoch end
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

 private:
  Batch MakeBatch(int64_t batch_index) const;
  void Produce();

  const SplitData& split_;
  const LoaderOptions options_;
  const std::function<Batch(Batch)> transform_;
  std::vector<int64_t> order_;
  int64_t batches_per_epoch_ = 0;
  int64_t next_batch_ = 0;  // next global batch index to produce

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool producer_done_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_LOADER_H_

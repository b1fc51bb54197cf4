#include "data/loader.h"

#include <glog/logging.h>

#include "data/random.h"

namespace vit_moe::data {

std::vector<int64_t> EpochOrder(int64_t n, bool shuffle, uint64_t seed,
                                int64_t epoch) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (shuffle) {
    SplitMix64 rng(MixSeed(seed, static_cast<uint64_t>(epoch)));
    Shuffle(order, rng);
  }
  return order;
}

int PrefetchBatchesFor(bool accelerator, int compute_threads, int cores) {
  return accelerator || compute_threads < cores ? 2 : 0;
}

BatchLoader::BatchLoader(const SplitData& split, LoaderOptions options,
                         int64_t epoch, std::function<Batch(Batch)> transform)
    : split_(split), options_(options), transform_(std::move(transform)) {
  CHECK_GT(options_.batch_size, 0);
  CHECK_GT(options_.world_size, 0);
  CHECK(options_.rank >= 0 && options_.rank < options_.world_size)
      << "rank " << options_.rank << " of " << options_.world_size;
  CHECK_EQ(options_.batch_size % options_.world_size, 0)
      << "global batch " << options_.batch_size
      << " does not divide over world size " << options_.world_size;
  CHECK_GE(options_.start_batch, 0);
  CHECK_GE(options_.limit_images, 0);
  CHECK_GE(options_.prefetch_batches, 0);
  CHECK_EQ(split_.images.dim(), 4) << "images must be [N, H, W, C]";
  CHECK(split_.images.dtype() == torch::kUInt8 &&
        split_.images.is_contiguous() && split_.images.device().is_cpu())
      << "images must be contiguous uint8 on the CPU";
  CHECK(split_.labels.dtype() == torch::kInt64 &&
        split_.labels.is_contiguous() &&
        split_.labels.numel() == split_.images.size(0))
      << "labels must be [N] contiguous int64";
  int64_t n = split_.images.size(0);
  if (options_.limit_images > 0) n = std::min(n, options_.limit_images);
  order_ = EpochOrder(n, options_.shuffle, options_.seed, epoch);
  batches_per_epoch_ =
      options_.drop_last ? n / options_.batch_size
                         : (n + options_.batch_size - 1) / options_.batch_size;
  next_batch_ = std::min(options_.start_batch, batches_per_epoch_);
  if (options_.prefetch_batches > 0) {
    producer_ = std::thread(&BatchLoader::Produce, this);
  }
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (producer_.joinable()) producer_.join();
}

Batch BatchLoader::MakeBatch(int64_t batch_index) const {
  const int64_t n = static_cast<int64_t>(order_.size());
  const int64_t begin = batch_index * options_.batch_size;
  const int64_t length = std::min(options_.batch_size, n - begin);
  // A short last batch (drop_last = false) is shared as evenly as possible.
  const int64_t first = begin + length * options_.rank / options_.world_size;
  const int64_t last =
      begin + length * (options_.rank + 1) / options_.world_size;
  const int64_t count = last - first;
  const int64_t height = split_.images.size(1);
  const int64_t width = split_.images.size(2);
  const int64_t channels = split_.images.size(3);
  const int64_t pixels = height * width;
  Batch batch;
  batch.batch_index = batch_index;
  batch.indices = torch::empty({count}, torch::kInt64);          // [B]
  batch.labels = torch::empty({count}, torch::kInt64);           // [B]
  batch.images = torch::empty({count, channels, height, width},  //
                              torch::kUInt8);                    // [B, C, H, W]
  // A plain loop, not index_select + permute: a batch is a few hundred KB,
  // and LibTorch's intra-op threads only add hand-offs (and stalls on a
  // busy machine) on the loader's thread.
  const uint8_t* source = split_.images.data_ptr<uint8_t>();  // [N, H, W, C]
  const int64_t* labels = split_.labels.data_ptr<int64_t>();  // [N]
  int64_t* indices_out = batch.indices.data_ptr<int64_t>();
  int64_t* labels_out = batch.labels.data_ptr<int64_t>();
  uint8_t* images_out = batch.images.data_ptr<uint8_t>();
  for (int64_t b = 0; b < count; ++b) {
    const int64_t index = order_[first + b];
    indices_out[b] = index;
    labels_out[b] = labels[index];
    const uint8_t* image = source + index * pixels * channels;  // [H, W, C]
    uint8_t* out = images_out + b * channels * pixels;          // [C, H, W]
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t p = 0; p < pixels; ++p) {
        out[c * pixels + p] = image[p * channels + c];
      }
    }
  }
  return batch;
}

void BatchLoader::Produce() {
  while (true) {
    int64_t batch_index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] {
        return stopping_ ||
               static_cast<int>(queue_.size()) < options_.prefetch_batches;
      });
      if (stopping_ || next_batch_ >= batches_per_epoch_) {
        producer_done_ = true;
        changed_.notify_all();
        return;
      }
      batch_index = next_batch_++;
    }
    try {
      Batch batch = MakeBatch(batch_index);
      if (transform_) batch = transform_(std::move(batch));
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      producer_done_ = true;
      changed_.notify_all();
      return;
    }
    changed_.notify_all();
  }
}

std::optional<Batch> BatchLoader::Next() {
  if (options_.prefetch_batches == 0) {
    if (next_batch_ >= batches_per_epoch_) return std::nullopt;
    Batch batch = MakeBatch(next_batch_++);
    if (transform_) batch = transform_(std::move(batch));
    return batch;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || producer_done_; });
  if (queue_.empty()) {
    if (error_) {
      std::exception_ptr error = error_;
      error_ = nullptr;
      std::rethrow_exception(error);
    }
    return std::nullopt;
  }
  Batch batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace vit_moe::data

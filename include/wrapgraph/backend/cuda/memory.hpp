#pragma once
/// Device memory for the CUDA backend: a stream-ordered caching allocator,
/// so that a run in steady state makes no driver allocation calls, with the
/// accounting every device_memory keeps and the driver's own counts.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cuda/device.hpp>
#include <wrapgraph/exec/tensor.hpp>

namespace wrapgraph::backend::cuda {

/// What the allocator has asked of the driver.
struct driver_memory_stats {
  std::size_t allocations = 0;  ///< cuMemAlloc calls
  std::size_t frees = 0;        ///< cuMemFree calls
  std::size_t reserved_bytes = 0;  ///< held from the driver now, in use or cached
  std::size_t cached_bytes = 0;    ///< of those, free for reuse
};

/// Device memory from a cache of blocks.
///
/// A released block goes back to the cache, not to the driver, and the next
/// allocation of its size class takes it: all of a backend's work runs in
/// order on one stream, so work issued after the release cannot overtake
/// the work that used the block before. A size class is the size rounded up
/// to a multiple of 512 bytes (of 2 MiB above 1 MiB); of the cached blocks
/// of a class, the one released last goes first (so a run that repeats the
/// previous one gets the same addresses). Releasing and reusing a block
/// takes no driver call and no host allocation.
/// When the driver is out of memory, the cache is handed back and the
/// allocation tried again.
///
/// Private pools serve CUDA graph capture: while a pool is active, blocks
/// come from and go back to that pool alone, so the addresses a captured
/// graph uses are never handed to other work while the graph may replay.
/// A closed pool's blocks return to the shared cache.
class cuda_memory final : public exec::device_memory {
 public:
  explicit cuda_memory(std::shared_ptr<const device_resources> resources) : resources_(std::move(resources)) {}
  cuda_memory(const cuda_memory&) = delete;
  cuda_memory& operator=(const cuda_memory&) = delete;
  /// Waits for the stream, then gives every block back to the driver
  /// (storage that outlives its memory cannot exist: storage keeps it).
  ~cuda_memory() override {
    try {
      resources_->ctx.make_current();
      resources_->work.synchronize();
    } catch (...) {
    }
    for (const auto& [p, b] : blocks_) (void)api::driver().cuMemFree(reinterpret_cast<api::CUdeviceptr>(p));
  }

  [[nodiscard]] device dev() const noexcept override { return {device_kind::cuda, resources_->ctx.ordinal()}; }
  /// The device and stream this memory is ordered by.
  [[nodiscard]] const device_resources& resources() const noexcept { return *resources_; }

  /// The driver's side of the accounting.
  [[nodiscard]] driver_memory_stats driver_stats() const {
    const std::lock_guard lock(mutex_);
    return {driver_allocations_, driver_frees_, reserved_, cached_};
  }

  /// Gives the cached blocks of the shared cache back to the driver, after
  /// waiting for the stream.
  void release_cached() {
    resources_->ctx.make_current();
    resources_->work.synchronize();
    const std::lock_guard lock(mutex_);
    release_cached_locked();
  }

  /// Opens a private pool and makes it the active one; returns its id, for
  /// activate() and close_pool().
  [[nodiscard]] std::uint32_t open_pool() {
    const std::lock_guard lock(mutex_);
    const std::uint32_t id = next_pool_++;
    active_ = &pools_.try_emplace(id).first->second;
    active_id_ = id;
    return id;
  }
  /// Makes pool `id` (0: the shared cache) the one allocations use.
  void activate(std::uint32_t id) {
    const std::lock_guard lock(mutex_);
    const auto it = pools_.find(id);
    active_id_ = it == pools_.end() ? 0 : id;
    active_ = &pools_.at(active_id_);
  }
  /// The pool allocations use now.
  [[nodiscard]] std::uint32_t active_pool() const {
    const std::lock_guard lock(mutex_);
    return active_id_;
  }
  /// Closes pool `id`: its free blocks, and its blocks in use once they are
  /// released, join the shared cache.
  void close_pool(std::uint32_t id) noexcept {
    const std::lock_guard lock(mutex_);
    const auto it = pools_.find(id);
    if (id == 0 || it == pools_.end()) return;
    free_list& shared = pools_.at(0);
    it->second.for_each([&](std::size_t size, std::vector<void*>& bin) {
      for (void* p : bin) shared.bin(size).push_back(p);
    });
    std::erase_if(private_, [&](const auto& entry) { return entry.second == id; });
    pools_.erase(it);
    if (active_id_ == id) {
      active_id_ = 0;
      active_ = &shared;
    }
  }

  /// The size a request of `bytes` is served with: its size class.
  [[nodiscard]] static std::size_t rounded(std::size_t bytes) noexcept {
    constexpr std::size_t large = std::size_t{2} << 20;
    return bytes <= small_limit ? (bytes + small_granule - 1) / small_granule * small_granule
                                : (bytes + large - 1) / large * large;
  }

 protected:
  void* do_allocate(std::size_t bytes) override {
    const std::size_t size = rounded(bytes);
    const std::lock_guard lock(mutex_);
    if (std::vector<void*>& bin = active_->bin(size); !bin.empty()) {
      void* p = bin.back();  // the block of that size released last
      bin.pop_back();
      cached_ -= size;
      return p;
    }
    return allocate_new(size, bytes);
  }

  void do_deallocate(void* p, std::size_t bytes) noexcept override {
    const std::size_t size = rounded(bytes);  // a block serves requests of its size class only
    const std::lock_guard lock(mutex_);
    free_list* pool = shared_;
    if (!private_.empty())
      if (const auto it = private_.find(p); it != private_.end()) pool = &pools_.at(it->second);
    pool->bin(size).push_back(p);
    cached_ += size;
  }

 private:
  static constexpr std::size_t small_granule = 512, small_limit = std::size_t{1} << 20;

  void* allocate_new(std::size_t size, std::size_t requested) {
    resources_->ctx.make_current();
    api::CUdeviceptr p = 0;
    api::CUresult r = api::driver().cuMemAlloc(&p, size);
    if (r != api::CUDA_SUCCESS && !resources_->work.capturing()) {
      // Out of memory, perhaps only because of the cache: hand it back, once.
      (void)api::driver().cuStreamSynchronize(resources_->work.get());
      release_cached_locked();
      r = api::driver().cuMemAlloc(&p, size);
    }
    if (r != api::CUDA_SUCCESS)
      throw cuda_error("wrapgraph.memory.out_of_memory",
                       "cannot allocate " + std::to_string(requested) + " bytes on " + to_string(dev()) + " (" +
                           std::to_string(reserved_) + " bytes held): " + driver_error_text(r));
    void* q = reinterpret_cast<void*>(p);
    blocks_.emplace(q, size);
    if (active_id_ != 0) private_.emplace(q, active_id_);
    ++driver_allocations_;
    reserved_ += size;
    return q;
  }

  void release_cached_locked() noexcept {
    pools_.at(0).for_each([&](std::size_t size, std::vector<void*>& bin) {
      for (void* p : bin) {
        (void)api::driver().cuMemFree(reinterpret_cast<api::CUdeviceptr>(p));
        blocks_.erase(p);
        ++driver_frees_;
        reserved_ -= size;
        cached_ -= size;
      }
      bin.clear();
    });
  }

  std::shared_ptr<const device_resources> resources_;
  mutable std::mutex mutex_;
  // Free blocks by size class: the classes up to 1 MiB by index, the others
  // by size. A class's list keeps its capacity when emptied, so releasing
  // and reusing blocks allocates nothing on the host either.
  struct free_list {
    std::vector<std::vector<void*>> small;  // class i: (i + 1) * 512 bytes
    std::map<std::size_t, std::vector<void*>> large;

    std::vector<void*>& bin(std::size_t size) {
      if (size > small_limit) return large[size];
      const std::size_t i = size / small_granule - 1;
      if (i >= small.size()) small.resize(i + 1);
      return small[i];
    }
    template <class F>
    void for_each(F&& f) {
      for (std::size_t i = 0; i < small.size(); ++i) f((i + 1) * small_granule, small[i]);
      for (auto& [size, list] : large) f(size, list);
    }
  };
  std::unordered_map<void*, std::size_t> blocks_;  // every block held from the driver, by size
  std::unordered_map<void*, std::uint32_t> private_;  // the blocks of open private pools
  std::map<std::uint32_t, free_list> pools_{{0, {}}};  // 0: the shared cache
  free_list* const shared_ = &pools_.at(0);
  free_list* active_ = shared_;
  std::uint32_t active_id_ = 0, next_pool_ = 1;
  std::size_t driver_allocations_ = 0, driver_frees_ = 0, reserved_ = 0, cached_ = 0;
};

}  // namespace wrapgraph::backend::cuda

#pragma once
/// What a CUDA backend holds of its device, shared with its memory and its
/// operators: the context, the stream all work goes to, the NVRTC compiler
/// for the device, the built-in operators' kernels and the cuBLAS handle.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <wrapgraph/backend/cuda/api.hpp>
#include <wrapgraph/backend/cuda/nvrtc.hpp>
#include <wrapgraph/backend/cuda/runtime.hpp>

namespace wrapgraph::backend::cuda {

/// A device's context and stream, and what is made for it once. Shared by a
/// backend, its memory and the storage made from it, so it outlives them all.
class device_resources {
 public:
  explicit device_resources(int ordinal, nvrtc_options options = {})
      : ctx(ordinal), compiler_(ctx.compute_capability(), std::move(options)) {}
  device_resources(const device_resources&) = delete;
  device_resources& operator=(const device_resources&) = delete;
  ~device_resources() {
    try {
      ctx.make_current();
      work.synchronize();
    } catch (...) {
    }
    if (cublas_) (void)api::cublas().cublasDestroy(cublas_);
    if (workspace_) (void)api::driver().cuMemFree(workspace_);
  }

  cuda::context ctx;  // first: current before the stream is made
  cuda::stream work;  // every launch, copy and capture of the backend

  /// The NVRTC compiler for this device's architecture.
  [[nodiscard]] nvrtc_compiler& compiler() const noexcept { return compiler_; }

  /// Kernel `entry` of CUDA C++ `source`, compiled on first use and kept
  /// under `name` for the life of the device (the built-in operators'
  /// kernels).
  [[nodiscard]] function builtin_function(std::string_view name, std::string_view source,
                                          const std::string& entry) const {
    const std::lock_guard lock(mutex_);
    auto it = builtin_.find(name);
    if (it == builtin_.end()) {
      const compiled_binary binary = compiler_.compile(name, source);
      it = builtin_.try_emplace(std::string(name), binary.image.data(), "kernel '" + std::string(name) + "'").first;
    }
    return it->second.get_function(entry);
  }

  /// The cuBLAS handle of this device, bound to `work`, with a workspace of
  /// its own (so that no cuBLAS call allocates, which graph capture needs).
  [[nodiscard]] api::cublasHandle_t cublas() const {
    const std::lock_guard lock(mutex_);
    if (!cublas_) {
      ctx.make_current();
      api::cublasHandle_t h = nullptr;
      check_cublas(api::cublas().cublasCreate(&h), "creating a cuBLAS handle");
      cublas_ = h;
      check_cublas(api::cublas().cublasSetStream(h, work.get()), "binding cuBLAS to the stream");
      constexpr std::size_t workspace_bytes = std::size_t{32} << 20;
      check(api::driver().cuMemAlloc(&workspace_, workspace_bytes), "allocating cuBLAS's workspace");
      check_cublas(api::cublas().cublasSetWorkspace(h, reinterpret_cast<void*>(workspace_), workspace_bytes),
                   "giving cuBLAS its workspace");
    }
    return cublas_;
  }

 private:
  mutable std::mutex mutex_;
  mutable nvrtc_compiler compiler_;
  mutable std::map<std::string, kernel_module, std::less<>> builtin_;
  mutable api::cublasHandle_t cublas_ = nullptr;
  mutable api::CUdeviceptr workspace_ = 0;
};

}  // namespace wrapgraph::backend::cuda

// Helpers of the CUDA tests: skipping without a GPU, one backend per process.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <wrapgraph/backend/cuda.hpp>

namespace wrapgraph::test {

/// Why the CUDA tests cannot run here, or empty when a GPU is usable.
inline const std::string& no_gpu() {
  static const std::string why = backend::cuda::api::driver_unavailable();
  return why;
}

/// Why NVRTC cannot be used here, or empty when it can (it needs no GPU).
inline std::string no_nvrtc() {
  try {
    (void)backend::cuda::api::nvrtc();
    return {};
  } catch (const backend::cuda::cuda_error& e) {
    return e.message();
  }
}

/// The backend the GPU tests share (made on first use), with its kernel
/// cache in a folder of the tests' own.
inline backend::cuda::cuda_backend& gpu() {
  static backend::cuda::cuda_backend b([] {
    backend::cuda::cuda_options o;
    o.compiler.cache_dir = std::filesystem::temp_directory_path() / "wrapgraph-test-cache";
    return o;
  }());
  return b;
}

}  // namespace wrapgraph::test

/// Ends a test case that needs a GPU where there is none, saying why.
#define WRAPGRAPH_REQUIRE_GPU()                                   \
  do {                                                            \
    if (!::wrapgraph::test::no_gpu().empty()) {                   \
      MESSAGE("skipped: " << ::wrapgraph::test::no_gpu());        \
      return;                                                     \
    }                                                             \
  } while (false)

#pragma once
/// The CUDA backend in one include: the driver, NVRTC and cuBLAS opened at
/// run time (backend/cuda/api.hpp), the thin runtime of handles and typed
/// launches (backend/cuda/runtime.hpp), NVRTC compilation and its cache
/// (backend/cuda/nvrtc.hpp), the caching allocator (backend/cuda/memory.hpp),
/// the built-in operators (backend/cuda/operators.hpp) and the backend with
/// graph capture (backend/cuda/backend.hpp). Use it through the
/// `wrapgraph-cuda` Meson dependency, which defines WRAPGRAPH_HAS_CUDA=1.

#include <wrapgraph/backend/cuda/api.hpp>
#include <wrapgraph/backend/cuda/backend.hpp>
#include <wrapgraph/backend/cuda/device.hpp>
#include <wrapgraph/backend/cuda/memory.hpp>
#include <wrapgraph/backend/cuda/nvrtc.hpp>
#include <wrapgraph/backend/cuda/operators.hpp>
#include <wrapgraph/backend/cuda/runtime.hpp>

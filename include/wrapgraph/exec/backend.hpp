#pragma once
/// The backend concept: what the executable needs of a device — its memory
/// (with accounting), copies, kernels loaded from definitions and launched
/// over a grid, synchronisation and timing.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/lines/lines.hpp>

namespace wrapgraph::exec {

/// Program instances along x, y and z (each ≥ 0; a launch with a zero
/// extent does nothing).
using launch_grid = std::array<std::int64_t, 3>;

/// A kernel's entry in process: the `cpp` ABI of the program format. A
/// backend that runs on the host calls it once per program instance.
using host_kernel_fn = std::function<void(void** params, const std::int64_t* program_id,
                                          const std::int64_t* num_programs)>;

/// A device a graph runs on.
///
/// - `dev()`: the device; `memory()`: its device_memory (shared, so tensors
///   may outlive the backend);
/// - `copy(dst, src, bytes)` within the device, `to_host` / `from_host`
///   between it and host memory;
/// - `load_kernel(definition, config)`: the kernel for the definition's
///   implementation for this device with the config's defines (an error
///   derived from wrapgraph::error when it cannot: no implementation, a
///   compiler failure, ...), cached by the backend;
/// - `launch(kernel, grid, params)`: runs the kernel over the grid with
///   `params[i]` pointing at the i-th launched argument (the program
///   format's ABI), in order with earlier launches;
/// - `synchronize()`: waits for all work launched so far;
/// - `seconds(f)`: runs `f` (which launches work) and returns the seconds
///   it took on the device, synchronised.
template <class B>
concept backend = requires(B& b, const B& cb, void* dst, const void* src, std::size_t bytes,
                           const kernel_definition_line& definition, std::size_t config,
                           const typename B::kernel& k, const launch_grid& grid, void** params,
                           const std::function<void()>& work) {
  typename B::kernel;
  { cb.dev() } -> std::same_as<device>;
  { cb.memory() } -> std::same_as<const std::shared_ptr<device_memory>&>;
  b.copy(dst, src, bytes);
  b.to_host(dst, src, bytes);
  b.from_host(dst, src, bytes);
  { b.load_kernel(definition, config) } -> std::same_as<typename B::kernel>;
  b.launch(k, grid, params);
  b.synchronize();
  { b.seconds(work) } -> std::same_as<double>;
};

/// A backend that can capture work into a graph and replay it (CUDA graphs):
///
/// - `begin_capture()`: work queued from now on is recorded, not run, and
///   memory allocated until the capture ends is reserved for it;
/// - `end_capture()`: the recording, as a `B::capture` (which keeps its
///   memory reserved while it lives);
/// - `abort_capture()`: drops a capture after an error;
/// - `replay(c)`: queues the recorded work again, on the same memory.
template <class B>
concept capturing_backend = backend<B> && requires(B& b, const typename B::capture& c) {
  typename B::capture;
  b.begin_capture();
  { b.end_capture() } -> std::same_as<typename B::capture>;
  b.abort_capture();
  b.replay(c);
};

}  // namespace wrapgraph::exec

#pragma once
/// The thin CUDA runtime: RAII handles for a device's context, streams,
/// events, modules and graphs, and `launch`, which packs typed arguments
/// into the driver's parameter array at compile time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cuda/api.hpp>

namespace wrapgraph::backend::cuda {

// ---- owning handles ------------------------------------------------------------

namespace detail {

/// Owns a driver handle of type H, destroyed by `Destroy` (whose failure is
/// ignored: destructors do not throw). Move-only.
template <class H, api::CUresult (*api::driver_api::*Destroy)(H)>
class unique_handle {
 public:
  unique_handle() noexcept = default;
  explicit unique_handle(H h) noexcept : h_(h) {}
  unique_handle(unique_handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  unique_handle& operator=(unique_handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  ~unique_handle() { reset(); }

  [[nodiscard]] H get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }
  void reset() noexcept {
    if (h_) (void)(api::driver().*Destroy)(std::exchange(h_, nullptr));
  }

 private:
  H h_ = nullptr;
};

}  // namespace detail

/// Extents of a grid or a block, in x, y and z.
struct dims {
  unsigned x = 1, y = 1, z = 1;
};

/// A device and its primary context (the one the CUDA runtime library uses
/// too, so kernels compiled by nvcc run in it), retained while this lives.
/// Constructing it makes the context current on the calling thread.
class context {
 public:
  /// The device `ordinal`: cuda_error `wrapgraph.cuda.unavailable` without
  /// a driver or with fewer devices, `wrapgraph.cuda.driver` when the
  /// context cannot be made.
  explicit context(int ordinal = 0) : ordinal_(ordinal) {
    const api::driver_api& d = api::driver();
    int count = 0;
    check(d.cuDeviceGetCount(&count), "counting CUDA devices");
    if (ordinal < 0 || ordinal >= count)
      throw cuda_error("wrapgraph.cuda.unavailable", "there is no CUDA device " + std::to_string(ordinal) + " (" +
                                                         std::to_string(count) + " found)");
    check(d.cuDeviceGet(&device_, ordinal), "getting CUDA device " + std::to_string(ordinal));
    check(d.cuDevicePrimaryCtxRetain(&context_, device_), "retaining the primary context of CUDA device " +
                                                              std::to_string(ordinal));
    make_current();
    char name[256] = {};
    check(d.cuDeviceGetName(name, sizeof name - 1, device_), "reading the device's name");
    name_ = name;
    major_ = attribute(api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    minor_ = attribute(api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  }
  context(const context&) = delete;
  context& operator=(const context&) = delete;
  ~context() { (void)api::driver().cuDevicePrimaryCtxRelease(device_); }

  /// Makes the context current on the calling thread. It remembers, per
  /// thread, the context it made current last, so a second call is one
  /// comparison (a context made current by other code in between is not
  /// noticed).
  void make_current() const {
    thread_local api::CUcontext current = nullptr;
    if (current == context_) [[likely]]
      return;
    check(api::driver().cuCtxSetCurrent(context_), "making the CUDA context current");
    current = context_;
  }

  [[nodiscard]] int ordinal() const noexcept { return ordinal_; }
  [[nodiscard]] api::CUdevice device() const noexcept { return device_; }
  [[nodiscard]] api::CUcontext get() const noexcept { return context_; }
  /// The device's name, e.g. "NVIDIA H100 80GB HBM3".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Compute capability as major * 10 + minor (90 for Hopper).
  [[nodiscard]] int compute_capability() const noexcept { return major_ * 10 + minor_; }
  /// A device attribute (CUdevice_attribute value).
  [[nodiscard]] int attribute(int which) const {
    int v = 0;
    check(api::driver().cuDeviceGetAttribute(&v, which, device_), "reading a device attribute");
    return v;
  }

 private:
  int ordinal_;
  api::CUdevice device_ = 0;
  api::CUcontext context_ = nullptr;
  std::string name_;
  int major_ = 0, minor_ = 0;
};

/// A stream that does not synchronise with the legacy default stream.
class stream {
 public:
  stream() {
    api::CUstream s = nullptr;
    check(api::driver().cuStreamCreate(&s, api::CU_STREAM_NON_BLOCKING), "creating a CUDA stream");
    h_ = handle(s);
  }
  [[nodiscard]] api::CUstream get() const noexcept { return h_.get(); }
  /// Waits for all work on the stream.
  void synchronize() const { check(api::driver().cuStreamSynchronize(get()), "waiting for the CUDA stream"); }
  /// True while the stream is being captured into a graph.
  [[nodiscard]] bool capturing() const {
    int status = api::CU_STREAM_CAPTURE_STATUS_NONE;
    check(api::driver().cuStreamIsCapturing(get(), &status), "asking whether the stream is capturing");
    return status != api::CU_STREAM_CAPTURE_STATUS_NONE;
  }

 private:
  using handle = detail::unique_handle<api::CUstream, &api::driver_api::cuStreamDestroy>;
  handle h_;
};

/// An event, with timing unless made with `timing = false`.
class event {
 public:
  explicit event(bool timing = true) {
    api::CUevent e = nullptr;
    check(api::driver().cuEventCreate(&e, timing ? api::CU_EVENT_DEFAULT : api::CU_EVENT_DISABLE_TIMING),
          "creating a CUDA event");
    h_ = handle(e);
  }
  [[nodiscard]] api::CUevent get() const noexcept { return h_.get(); }
  void record(api::CUstream s) const { check(api::driver().cuEventRecord(get(), s), "recording a CUDA event"); }
  void synchronize() const { check(api::driver().cuEventSynchronize(get()), "waiting for a CUDA event"); }
  /// Milliseconds between two recorded, completed events.
  [[nodiscard]] static float elapsed_ms(const event& start, const event& end) {
    float ms = 0;
    check(api::driver().cuEventElapsedTime(&ms, start.get(), end.get()), "reading the time between two CUDA events");
    return ms;
  }

 private:
  using handle = detail::unique_handle<api::CUevent, &api::driver_api::cuEventDestroy>;
  handle h_;
};

/// A function of a loaded module (or of the CUDA runtime's registry): a
/// plain handle, valid while its module lives.
class function {
 public:
  function() noexcept = default;
  explicit function(api::CUfunction f) noexcept : f_(f) {}
  [[nodiscard]] api::CUfunction get() const noexcept { return f_; }
  explicit operator bool() const noexcept { return f_ != nullptr; }

  /// The most threads a block of this function may have.
  [[nodiscard]] int max_threads_per_block() const {
    int v = 0;
    check(api::driver().cuFuncGetAttribute(&v, api::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f_),
          "reading a kernel's thread limit");
    return v;
  }
  /// Allows launches with up to `bytes` of dynamic shared memory (needed
  /// above 48 KiB).
  void allow_dynamic_shared(int bytes) const {
    check(api::driver().cuFuncSetAttribute(f_, api::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
          "allowing " + std::to_string(bytes) + " bytes of dynamic shared memory");
  }

 private:
  api::CUfunction f_ = nullptr;
};

/// A loaded module: a cubin or PTX image, and the functions in it.
class kernel_module {
 public:
  kernel_module() noexcept = default;
  /// Loads `image` (a cubin, or NUL-terminated PTX); `what` names it in
  /// errors.
  kernel_module(const void* image, std::string_view what) {
    api::CUmodule m = nullptr;
    check(api::driver().cuModuleLoadData(&m, image), "loading " + std::string(what));
    h_ = handle(m);
  }
  [[nodiscard]] api::CUmodule get() const noexcept { return h_.get(); }
  /// The function `name`; `wrapgraph.cuda.driver` (CUDA_ERROR_NOT_FOUND)
  /// when the module has none.
  [[nodiscard]] function get_function(const std::string& name) const {
    api::CUfunction f = nullptr;
    check(api::driver().cuModuleGetFunction(&f, get(), name.c_str()), "finding kernel '" + name + "' in its module");
    return function(f);
  }

 private:
  using handle = detail::unique_handle<api::CUmodule, &api::driver_api::cuModuleUnload>;
  handle h_;
};

/// A graph captured from a stream, instantiated for launching.
class graph_exec {
 public:
  graph_exec() noexcept = default;
  /// Instantiates `g` (which stays owned by this too).
  explicit graph_exec(api::CUgraph g) : graph_(g) {
    api::CUgraphExec e = nullptr;
    check(api::driver().cuGraphInstantiateWithFlags(&e, g, 0), "instantiating a CUDA graph");
    exec_ = exec_handle(e);
  }
  [[nodiscard]] api::CUgraphExec get() const noexcept { return exec_.get(); }
  [[nodiscard]] api::CUgraph graph() const noexcept { return graph_.get(); }
  /// The nodes in the graph (kernels, copies, memsets).
  [[nodiscard]] std::size_t nodes() const {
    std::size_t n = 0;
    check(api::driver().cuGraphGetNodes(graph_.get(), nullptr, &n), "counting a CUDA graph's nodes");
    return n;
  }
  /// Launches the graph on `s`.
  void launch(api::CUstream s) const { check(api::driver().cuGraphLaunch(get(), s), "launching a CUDA graph"); }

 private:
  using graph_handle = detail::unique_handle<api::CUgraph, &api::driver_api::cuGraphDestroy>;
  using exec_handle = detail::unique_handle<api::CUgraphExec, &api::driver_api::cuGraphExecDestroy>;
  graph_handle graph_;  // destroyed after the instance
  exec_handle exec_;
};

/// Captures the work issued to a stream from construction to `end()` into a
/// graph. A capture abandoned by an exception is ended and its graph
/// dropped, so the stream is usable again.
class stream_capture {
 public:
  explicit stream_capture(api::CUstream s) : s_(s) {
    check(api::driver().cuStreamBeginCapture(s, api::CU_STREAM_CAPTURE_MODE_RELAXED), "starting a stream capture");
    active_ = true;
  }
  stream_capture(const stream_capture&) = delete;
  stream_capture& operator=(const stream_capture&) = delete;
  ~stream_capture() {
    if (!active_) return;
    api::CUgraph g = nullptr;
    if (api::driver().cuStreamEndCapture(s_, &g) == api::CUDA_SUCCESS && g) (void)api::driver().cuGraphDestroy(g);
  }
  /// Ends the capture and instantiates what it recorded.
  [[nodiscard]] graph_exec end() {
    active_ = false;
    api::CUgraph g = nullptr;
    check(api::driver().cuStreamEndCapture(s_, &g), "ending a stream capture");
    return graph_exec(g);
  }

 private:
  api::CUstream s_;
  bool active_ = false;
};

// ---- launching -------------------------------------------------------------------

/// A kernel whose parameter types are known at compile time: launch() checks
/// the arguments against them and packs them as the kernel reads them.
template <class... Params>
class typed_function {
 public:
  typed_function() noexcept = default;
  explicit typed_function(function f) noexcept : f_(f) {}
  explicit typed_function(api::CUfunction f) noexcept : f_(f) {}
  [[nodiscard]] const function& untyped() const noexcept { return f_; }
  [[nodiscard]] api::CUfunction get() const noexcept { return f_.get(); }

 private:
  function f_;
};

namespace detail {

template <class T>
inline constexpr bool is_kernel_argument =
    std::is_trivially_copyable_v<T> && !std::is_reference_v<T> && !std::is_array_v<T>;

[[noreturn]] inline void empty_function() {
  throw cuda_error("wrapgraph.cuda.bad_launch", "launching an empty kernel handle");
}

inline void launch_packed(api::CUfunction f, dims grid, dims block, unsigned shared_bytes, api::CUstream s,
                          void** params) {
  if (!f) [[unlikely]]
    empty_function();
  check(api::driver().cuLaunchKernel(f, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes, s, params,
                                     nullptr),
        "launching a kernel");
}

}  // namespace detail

/// Launches `f` over `grid` blocks of `block` threads with `shared_bytes` of
/// dynamic shared memory on stream `s`, with `args` as its parameters, in
/// order. Each argument is passed by value as the kernel's parameter of the
/// same position reads it, so its type must be exactly that parameter's type
/// (trivially copyable: pointers, integers, floats, structs of them).
template <class... Args>
void launch(const function& f, dims grid, dims block, unsigned shared_bytes, api::CUstream s, const Args&... args) {
  static_assert((detail::is_kernel_argument<Args> && ...),
                "a kernel argument must be a trivially copyable value: a pointer, an integer, a float or a plain struct");
  void* params[sizeof...(Args) + 1] = {const_cast<void*>(static_cast<const void*>(&args))..., nullptr};
  detail::launch_packed(f.get(), grid, block, shared_bytes, s, params);
}

/// Launches a typed kernel: each argument is converted to its parameter's
/// type first (an `int` literal for an `int64_t` parameter is packed as 8
/// bytes), and a call with the wrong number of arguments or an argument
/// that does not convert does not compile.
template <class... Params, class... Args>
void launch(const typed_function<Params...>& f, dims grid, dims block, unsigned shared_bytes, api::CUstream s,
            Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "a kernel launch needs one argument per kernel parameter");
  static_assert((std::is_convertible_v<Args&&, Params> && ...),
                "each kernel argument must convert to the type of its parameter");
  static_assert((detail::is_kernel_argument<Params> && ...),
                "a kernel parameter must be a trivially copyable value");
  const std::tuple<Params...> values(static_cast<Params>(std::forward<Args>(args))...);
  std::apply([&](const Params&... v) { launch(f.untyped(), grid, block, shared_bytes, s, v...); }, values);
}

#if defined(__CUDACC__)
/// The kernel handle of a `__global__` function compiled by nvcc into this
/// program, for launch() and for cuda_backend::register_kernel. Available
/// in translation units that nvcc compiles.
template <class... Params>
[[nodiscard]] typed_function<Params...> kernel_of(void (*fn)(Params...)) {
  cudaFunction_t f = nullptr;
  if (const cudaError_t e = cudaGetFuncBySymbol(&f, reinterpret_cast<const void*>(fn)); e != cudaSuccess)
    throw cuda_error("wrapgraph.cuda.driver", std::string("finding an nvcc-compiled kernel: ") + cudaGetErrorName(e),
                     cudaGetErrorName(e));
  return typed_function<Params...>(reinterpret_cast<api::CUfunction>(f));
}
#endif

}  // namespace wrapgraph::backend::cuda

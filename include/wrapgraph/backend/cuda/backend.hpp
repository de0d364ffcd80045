#pragma once
/// The CUDA backend: device memory from a caching allocator, copies and
/// launches in order on one stream, kernels compiled by NVRTC from `cuda`
/// implementations, loaded from `cubin` binaries or registered in process,
/// timing with events, and capture of work into CUDA graphs.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cuda/api.hpp>
#include <wrapgraph/backend/cuda/device.hpp>
#include <wrapgraph/backend/cuda/memory.hpp>
#include <wrapgraph/backend/cuda/nvrtc.hpp>
#include <wrapgraph/backend/cuda/operators.hpp>
#include <wrapgraph/backend/cuda/runtime.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/backend.hpp>
#include <wrapgraph/exec/operators.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/lines/lines.hpp>

namespace wrapgraph::backend::cuda {

namespace detail {

/// The bytes that base64 `text` encodes (RFC 4648, padding optional,
/// whitespace ignored); `what` names the text in the error.
inline std::string base64_decode(std::string_view text, const std::string& what) {
  static constexpr auto table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t bits = 0;
  int count = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::int8_t v = table[c];
    if (v < 0 || padding != 0)
      throw backend_error("wrapgraph.kernel.bad_binary", what + " is not base64: character " + std::to_string(i));
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 1 || padding > 2)
    throw backend_error("wrapgraph.kernel.bad_binary", what + " is not base64: it ends in the middle of a byte");
  if (count == 2) out.push_back(static_cast<char>(bits >> 4));
  if (count == 3) {
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  }
  return out;
}

/// Threads per block a config asks for: its `block` (an int or up to three
/// ints), else `num_warps` * 32, else 128.
inline dims block_of(const kernel_definition_line& def, std::size_t config) {
  dims block{128, 1, 1};
  if (config >= def.configs.size()) return block;
  const auto bad = [&](const std::string& why) {
    throw backend_error("wrapgraph.kernel.bad_config",
                        "kernel '" + def.kernel + "' config " + std::to_string(config) + ": " + why);
  };
  const auto extent = [&](std::int64_t v) {
    if (v < 1 || v > 1024) bad("a block extent must be in [1, 1024], got " + std::to_string(v));
    return static_cast<unsigned>(v);
  };
  for (const auto& [key, value] : def.configs[config]) {
    if (key == "num_warps") {
      const std::int64_t* w = std::get_if<std::int64_t>(&value);
      if (!w || *w < 1 || *w > 32) bad("num_warps must be an integer in [1, 32]");
      block = {static_cast<unsigned>(*w) * 32, 1, 1};
    }
  }
  for (const auto& [key, value] : def.configs[config]) {
    if (key != "block") continue;
    if (const std::int64_t* b = std::get_if<std::int64_t>(&value)) {
      block = {extent(*b), 1, 1};
    } else if (const auto* l = std::get_if<std::vector<std::int64_t>>(&value); l && !l->empty() && l->size() <= 3) {
      block = {extent((*l)[0]), l->size() > 1 ? extent((*l)[1]) : 1u, l->size() > 2 ? extent((*l)[2]) : 1u};
    } else {
      bad("block must be an integer or a list of one to three integers");
    }
  }
  if (static_cast<std::uint64_t>(block.x) * block.y * block.z > 1024) bad("a block has more than 1024 threads");
  return block;
}

}  // namespace detail

/// A kernel loaded for a device: the function, how it is launched (block,
/// dynamic shared memory, trailing scratch parameters) and what keeps its
/// code loaded. Copies share the code.
class cuda_kernel {
 public:
  cuda_kernel() = default;
  cuda_kernel(std::string name, function fn, dims block, unsigned shared_bytes, std::size_t launched,
              std::vector<std::int64_t> scratch, std::shared_ptr<const kernel_module> code)
      : name_(std::move(name)), fn_(fn), block_(block), shared_bytes_(shared_bytes), launched_(launched),
        scratch_(std::move(scratch)), code_(std::move(code)) {}

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const function& fn() const noexcept { return fn_; }
  [[nodiscard]] dims block() const noexcept { return block_; }
  [[nodiscard]] unsigned shared_bytes() const noexcept { return shared_bytes_; }
  /// The parameters a call passes (before the scratch parameters).
  [[nodiscard]] std::size_t launched() const noexcept { return launched_; }
  /// Bytes per program instance of each trailing scratch parameter (0: a
  /// null pointer).
  [[nodiscard]] const std::vector<std::int64_t>& scratch() const noexcept { return scratch_; }

  /// A copy launched with `block` threads per block.
  [[nodiscard]] cuda_kernel with_block(dims block) const {
    cuda_kernel k = *this;
    k.block_ = block;
    return k;
  }

 private:
  std::string name_;
  function fn_;
  dims block_{128, 1, 1};
  unsigned shared_bytes_ = 0;
  std::size_t launched_ = 0;
  std::vector<std::int64_t> scratch_;
  std::shared_ptr<const kernel_module> code_;
};

/// A run captured into a CUDA graph by cuda_backend, with the memory pool
/// its addresses come from (reserved for it while it lives).
class cuda_capture {
 public:
  cuda_capture() = default;
  cuda_capture(graph_exec g, std::shared_ptr<cuda_memory> memory, std::uint32_t pool)
      : pool_(std::make_shared<pool_lease>(std::move(memory), pool)), graph_(std::make_shared<graph_exec>(std::move(g))) {}

  [[nodiscard]] const graph_exec& graph() const noexcept { return *graph_; }

 private:
  struct pool_lease {
    pool_lease(std::shared_ptr<cuda_memory> m, std::uint32_t id) : memory(std::move(m)), pool(id) {}
    pool_lease(const pool_lease&) = delete;
    pool_lease& operator=(const pool_lease&) = delete;
    ~pool_lease() { memory->close_pool(pool); }
    std::shared_ptr<cuda_memory> memory;
    std::uint32_t pool;
  };
  std::shared_ptr<pool_lease> pool_;  // before graph_: closed once the graph is gone
  std::shared_ptr<graph_exec> graph_;
};

/// How a cuda_backend is set up.
struct cuda_options {
  /// The device's ordinal.
  int device = 0;
  /// How `cuda` kernels are compiled and cached.
  nvrtc_options compiler;
};

/// A CUDA GPU as an exec::backend.
///
/// Everything it does goes to one stream in order: copies, launches and the
/// operators' work. copy() and from_host() return once the work is queued;
/// to_host(), synchronize() and seconds() wait for it. Memory comes from a
/// cuda_memory (a caching allocator). Neither copyable nor movable; tensors
/// and kernels it made may outlive it.
///
/// Constructing one without a usable driver or device throws cuda_error
/// `wrapgraph.cuda.unavailable` saying why.
class cuda_backend {
 public:
  using kernel = cuda_kernel;
  using capture = cuda_capture;

  cuda_backend() : cuda_backend(cuda_options{}) {}
  explicit cuda_backend(cuda_options options)
      : resources_(std::make_shared<device_resources>(options.device, std::move(options.compiler))),
        cuda_memory_(std::make_shared<cuda_memory>(resources_)), memory_(cuda_memory_) {}
  cuda_backend(const cuda_backend&) = delete;
  cuda_backend& operator=(const cuda_backend&) = delete;

  /// `cuda:N`.
  [[nodiscard]] device dev() const noexcept { return {device_kind::cuda, resources_->ctx.ordinal()}; }
  [[nodiscard]] const std::shared_ptr<exec::device_memory>& memory() const noexcept { return memory_; }
  /// The memory as what it is, for its driver statistics and cache.
  [[nodiscard]] cuda_memory& device_memory() const noexcept { return *cuda_memory_; }
  /// The context and the stream.
  [[nodiscard]] const device_resources& resources() const noexcept { return *resources_; }
  /// The stream all work goes to.
  [[nodiscard]] api::CUstream stream() const noexcept { return resources_->work.get(); }
  /// The NVRTC compiler of `cuda` kernels (its counters tell compiles from
  /// cache hits).
  [[nodiscard]] nvrtc_compiler& compiler() const noexcept { return resources_->compiler(); }
  /// The built-in operators of both devices (operators.hpp).
  [[nodiscard]] const exec::operator_registry& operators() const { return builtin_operators(); }

  /// Copies `bytes` within the device (queued on the stream).
  void copy(void* dst, const void* src, std::size_t bytes) {
    if (bytes == 0 || dst == src) return;
    check(api::driver().cuMemcpyDtoDAsync(address(dst), address(src), bytes, stream()),
          "copying " + std::to_string(bytes) + " bytes on the device");
  }
  /// Copies `bytes` from the device to host memory and waits for it.
  void to_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes == 0) return;
    check(api::driver().cuMemcpyDtoHAsync(dst, address(src), bytes, stream()),
          "copying " + std::to_string(bytes) + " bytes to the host");
    resources_->work.synchronize();
  }
  /// Copies `bytes` from host memory to the device; `src` may be reused
  /// once this returns.
  void from_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes == 0) return;
    check(api::driver().cuMemcpyHtoDAsync(address(dst), src, bytes, stream()),
          "copying " + std::to_string(bytes) + " bytes to the device");
  }

  /// Registers `fn` as the kernel named `name`: load_kernel of a definition
  /// of that name launches it, with the block its config asks for, whatever
  /// the definition's implementations. `fn` takes the launched parameters
  /// of the definition, in order. `wrapgraph.kernel.no_implementation` for
  /// an empty handle.
  void register_kernel(std::string name, function fn, unsigned shared_bytes = 0) {
    if (!fn) throw backend_error("wrapgraph.kernel.no_implementation", "kernel '" + name + "' is an empty handle");
    const std::lock_guard lock(mutex_);
    registered_.insert_or_assign(name, cuda_kernel(name, fn, dims{}, shared_bytes, 0, {}, nullptr));
  }
  /// As above, for a kernel whose parameter types are known.
  template <class... Params>
  void register_kernel(std::string name, const typed_function<Params...>& fn, unsigned shared_bytes = 0) {
    register_kernel(std::move(name), fn.untyped(), shared_bytes);
  }

  /// The kernel for `definition` with config `config`: the registered
  /// kernel of its name, else its `cubin` binary for the config, else its
  /// `cuda` source compiled by NVRTC for this device. Loaded modules are
  /// kept, so a second load loads nothing (a `cuda` source is still found
  /// in the compiler's disk cache first). Errors: `wrapgraph.kernel.bad_config`
  /// (index out of range, a bad block), `wrapgraph.kernel.no_implementation`,
  /// `wrapgraph.kernel.bad_binary` (not base64, no binary for the config),
  /// `wrapgraph.cuda.compile` (with NVRTC's log), `wrapgraph.cuda.driver`
  /// (a binary the driver rejects, an entry it lacks).
  kernel load_kernel(const kernel_definition_line& definition, std::size_t config) {
    (void)cpu::kernel_defines(definition, config);  // checks the index
    const dims block = detail::block_of(definition, config);
    const std::size_t launched = launched_parameters(definition).size();
    {
      const std::lock_guard lock(mutex_);
      if (auto it = registered_.find(definition.kernel); it != registered_.end()) {
        cuda_kernel k = it->second.with_block(block);
        return cuda_kernel(k.name(), k.fn(), block, k.shared_bytes(), launched, {}, nullptr);
      }
    }
    resources_->ctx.make_current();
    if (definition.implementations.cubin) return load_cubin(definition, config, block, launched);
    const compiled_binary binary = compiler().compile(definition, config);  // or no_implementation
    const std::string key = std::string("cuda") + '\0' + binary.file.string() + '\0' + std::to_string(block.x) +
                            ',' + std::to_string(block.y) + ',' + std::to_string(block.z);
    {
      const std::lock_guard lock(mutex_);
      if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    }
    auto code = std::make_shared<const kernel_module>(binary.image.data(), "the binary of kernel '" + definition.kernel + "'");
    const function fn = code->get_function(definition.implementations.cuda->entry);
    check_block(definition.kernel, fn, block);
    cuda_kernel k(definition.kernel, fn, block, 0, launched, {}, std::move(code));
    const std::lock_guard lock(mutex_);
    return loaded_.try_emplace(key, std::move(k)).first->second;
  }

  /// Launches `k` over `grid` blocks with `params[i]` pointing at its i-th
  /// launched parameter (and runtime-owned scratch for its trailing ones),
  /// queued on the stream. A zero extent launches nothing. run_error
  /// `wrapgraph.run.bad_grid` for a negative extent or one beyond the
  /// device's limits (x < 2^31, y and z < 2^16).
  void launch(const kernel& k, const exec::launch_grid& grid, void** params) {
    const std::int64_t x = grid[0], y = grid[1], z = grid[2];
    if ((x | y | z) < 0 || x > std::numeric_limits<std::int32_t>::max() || y > 65535 || z > 65535) [[unlikely]]
      bad_grid(grid);
    if (x == 0 || y == 0 || z == 0) return;
    resources_->ctx.make_current();
    const dims g{static_cast<unsigned>(x), static_cast<unsigned>(y), static_cast<unsigned>(z)};
    if (k.scratch().empty()) [[likely]] {
      detail::launch_packed(k.fn().get(), g, k.block(), k.shared_bytes(), stream(), params);
      return;
    }
    launch_with_scratch(k, g, params);
  }

  /// Waits for all work queued so far.
  void synchronize() { resources_->work.synchronize(); }

  /// Runs `work` (which queues work on the stream) and returns the seconds
  /// the device took for it, measured with events.
  double seconds(const std::function<void()>& work) {
    const event start, end;
    start.record(stream());
    work();
    end.record(stream());
    end.synchronize();
    return event::elapsed_ms(start, end) * 1e-3;
  }

  // ---- graph capture (used by executable::run_graph) ------------------------------

  /// Starts capturing the stream's work into a graph, with allocations from
  /// a new private pool.
  void begin_capture() {
    if (capture_) throw cuda_error("wrapgraph.cuda.capture", "a capture is already in progress");
    resources_->ctx.make_current();
    const std::uint32_t pool = cuda_memory_->open_pool();
    try {
      capture_.emplace(stream());
    } catch (...) {
      cuda_memory_->close_pool(pool);
      throw;
    }
    capture_pool_ = pool;
  }
  /// Ends the capture: the graph of what was queued since begin_capture().
  [[nodiscard]] capture end_capture() {
    if (!capture_) throw cuda_error("wrapgraph.cuda.capture", "no capture is in progress");
    cuda_memory_->activate(0);
    graph_exec g = [&] {
      try {
        graph_exec e = capture_->end();
        capture_.reset();
        return e;
      } catch (...) {
        capture_.reset();
        cuda_memory_->close_pool(capture_pool_);
        throw;
      }
    }();
    return capture(std::move(g), cuda_memory_, capture_pool_);
  }
  /// Abandons a capture (after an error): nothing of it is kept.
  void abort_capture() noexcept {
    if (!capture_) return;
    cuda_memory_->activate(0);
    capture_.reset();
    cuda_memory_->close_pool(capture_pool_);
  }
  /// Queues a captured graph on the stream.
  void replay(const capture& c) { c.graph().launch(stream()); }

 private:
  static api::CUdeviceptr address(const void* p) noexcept { return reinterpret_cast<api::CUdeviceptr>(p); }

  [[noreturn]] static void bad_grid(const exec::launch_grid& grid) {
    throw run_error("wrapgraph.run.bad_grid", "the launch grid (" + std::to_string(grid[0]) + ", " +
                                                  std::to_string(grid[1]) + ", " + std::to_string(grid[2]) +
                                                  ") is negative or beyond the device's limits (x < 2^31, y and z < 2^16)");
  }

  static void check_block(const std::string& name, const function& fn, dims block) {
    const int most = fn.max_threads_per_block();
    if (static_cast<std::int64_t>(block.x) * block.y * block.z > most)
      throw backend_error("wrapgraph.kernel.bad_config",
                          "kernel '" + name + "' runs at most " + std::to_string(most) + " threads per block, its config asks for " +
                              std::to_string(block.x * block.y * block.z));
  }

  kernel load_cubin(const kernel_definition_line& def, std::size_t config, dims block, std::size_t launched) {
    const cubin_implementation& impl = *def.implementations.cubin;
    const cubin_binary* binary = impl.per_config.empty() ? (impl.binary ? &*impl.binary : nullptr)
                                                         : (config < impl.per_config.size() ? &impl.per_config[config] : nullptr);
    if (!binary)
      throw backend_error("wrapgraph.kernel.bad_binary", "kernel '" + def.kernel + "' has no cubin for config " +
                                                             std::to_string(config));
    cpu::detail::fnv1a_128 hash;  // of everything the kernel is made of
    hash.field(binary->data_base64);
    hash.field(binary->entry);
    hash.field(std::to_string(binary->shared_bytes));
    for (const extra_param& p : binary->extra_params) hash.field(std::to_string(p.scratch_bytes));
    hash.field(std::to_string(block.x) + ',' + std::to_string(block.y) + ',' + std::to_string(block.z));
    const std::string key = std::string("cubin") + '\0' + def.kernel + '\0' + hash.hex();
    {
      const std::lock_guard lock(mutex_);
      if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    }
    const std::string what = "the cubin of kernel '" + def.kernel + "'";
    const std::string image = detail::base64_decode(binary->data_base64, what);
    if (binary->shared_bytes < 0 || binary->shared_bytes > std::numeric_limits<int>::max())
      throw backend_error("wrapgraph.kernel.bad_binary", what + " asks for " + std::to_string(binary->shared_bytes) +
                                                             " bytes of shared memory");
    auto code = std::make_shared<const kernel_module>(image.data(), what);
    const function fn = code->get_function(binary->entry);
    const auto shared = static_cast<unsigned>(binary->shared_bytes);
    if (shared > 48 * 1024) fn.allow_dynamic_shared(static_cast<int>(shared));
    check_block(def.kernel, fn, block);
    std::vector<std::int64_t> scratch;
    for (const extra_param& p : binary->extra_params) {
      if (p.scratch_bytes < 0)
        throw backend_error("wrapgraph.kernel.bad_binary", what + ": a scratch parameter of " +
                                                               std::to_string(p.scratch_bytes) + " bytes");
      scratch.push_back(p.scratch_bytes);
    }
    cuda_kernel k(def.kernel, fn, block, shared, launched, std::move(scratch), std::move(code));
    const std::lock_guard lock(mutex_);
    return loaded_.try_emplace(key, std::move(k)).first->second;
  }

  // A launch with trailing scratch parameters: each a buffer of its bytes
  // per program instance (released after the launch, in stream order), or
  // null. The parameter array is on the stack for up to 32 parameters.
  void launch_with_scratch(const kernel& k, dims g, void** params) {
    const std::size_t n = k.launched(), extra = k.scratch().size();
    std::array<void*, 32> small_all{}, small_pointers{};
    std::vector<void*> large_all, large_pointers;
    void** all = small_all.data();
    void** pointers = small_pointers.data();
    if (n + extra > small_all.size()) {
      large_all.resize(n + extra);
      large_pointers.assign(extra, nullptr);
      all = large_all.data();
      pointers = large_pointers.data();
    }
    std::vector<exec::storage_ptr> buffers;  // only for scratch of some bytes
    const std::uint64_t programs = std::uint64_t{g.x} * g.y * g.z;
    for (std::size_t i = 0; i < extra; ++i) {
      if (k.scratch()[i] == 0) continue;
      buffers.push_back(memory_->allocate(programs * static_cast<std::uint64_t>(k.scratch()[i])));
      pointers[i] = buffers.back()->data();
    }
    std::copy(params, params + n, all);
    for (std::size_t i = 0; i < extra; ++i) all[n + i] = &pointers[i];
    detail::launch_packed(k.fn().get(), g, k.block(), k.shared_bytes(), stream(), all);
  }

  std::shared_ptr<device_resources> resources_;
  std::shared_ptr<cuda_memory> cuda_memory_;
  std::shared_ptr<exec::device_memory> memory_;
  std::mutex mutex_;  // guards the maps
  std::unordered_map<std::string, kernel> registered_;
  std::unordered_map<std::string, kernel> loaded_;
  std::optional<stream_capture> capture_;
  std::uint32_t capture_pool_ = 0;
};

static_assert(exec::backend<cuda_backend>, "cuda_backend must satisfy exec::backend");

}  // namespace wrapgraph::backend::cuda

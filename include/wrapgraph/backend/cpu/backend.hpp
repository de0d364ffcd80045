#pragma once
/// The CPU backend: host memory, memcpy copies, kernels compiled from `cpp`
/// implementations or registered in process, launched once per program
/// instance over a pool of threads.
///
/// A launch runs every program instance of its grid before it returns, so
/// the backend needs no streams or events: synchronize() has nothing to wait
/// for. A grid of one program instance is called inline on the caller's
/// thread with no allocation, locking or type erasure on the way, so the
/// runtime's cost of launching a small kernel is a few nanoseconds.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cpu/compiler.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/backend.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/types.hpp>

namespace wrapgraph::backend::cpu {

// ---- the thread pool ---------------------------------------------------------

namespace detail {

/// True on a thread while it runs work of some thread_pool: a worker, or a
/// caller inside its own parallel_for. A parallel_for issued there runs
/// inline, so nested loops cannot wait on workers that wait on them.
inline thread_local bool in_pool_work = false;

/// Sets in_pool_work for a scope and restores it.
class pool_work_scope {
 public:
  pool_work_scope() noexcept : previous_(std::exchange(in_pool_work, true)) {}
  pool_work_scope(const pool_work_scope&) = delete;
  pool_work_scope& operator=(const pool_work_scope&) = delete;
  ~pool_work_scope() { in_pool_work = previous_; }

 private:
  bool previous_;
};

}  // namespace detail

/// A fixed set of threads that run the iterations of a loop together.
///
/// A pool of `size()` threads is the calling thread plus `size() - 1`
/// workers, started by the constructor and joined by the destructor. Idle
/// workers sleep on a condition variable. The caller of parallel_for works
/// too, and the range is handed out in chunks through one atomic counter, so
/// a loop of many tiny iterations costs a few atomic operations per chunk,
/// not a wake-up per iteration.
///
/// parallel_for may be called from several threads at once (the loops run
/// one after another) and from inside an iteration (the inner loop runs
/// inline on that thread).
class thread_pool {
 public:
  /// A pool of `threads` threads, the caller included; 0 means
  /// std::thread::hardware_concurrency() (at least 1). A pool of one thread
  /// starts no workers and runs every loop inline.
  explicit thread_pool(std::size_t threads = 0) {
    if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    workers_.reserve(threads - 1);
    try {
      for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    } catch (...) {
      stop();
      throw;
    }
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  /// Wakes and joins the workers. No loop may be running on the pool.
  ~thread_pool() { stop(); }

  /// The threads that run a loop: the workers and the caller.
  [[nodiscard]] std::size_t size() const noexcept { return workers_.size() + 1; }

  /// Calls `f(i)` for every i in [0, n), spread over the pool, and returns
  /// when all calls have returned. The order of the calls is unspecified;
  /// `f` is called concurrently from several threads. When `f` throws, no
  /// further chunks start, and the first exception is rethrown here once
  /// every thread has stopped. `n <= 1`, a pool of one thread and a call
  /// from inside pool work run inline: a plain loop on the caller's thread.
  template <class F>
  void parallel_for(std::int64_t n, const F& f) {
    parallel_for_ranges(n, [&f](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) f(i);
    });
  }

  /// Calls `f(begin, end)` for disjoint ranges that together cover [0, n),
  /// spread over the pool, as parallel_for does. A range is what one thread
  /// takes at once, so `f` may keep state from one index to the next.
  template <class F>
  void parallel_for_ranges(std::int64_t n, const F& f) {
    if (n <= 0) return;
    if (n == 1 || workers_.empty() || detail::in_pool_work) {
      f(std::int64_t{0}, n);
      return;
    }
    // About eight chunks per thread: few atomics per iteration, and threads
    // that finish early still find work.
    const std::int64_t threads = static_cast<std::int64_t>(size());
    const std::int64_t chunk = std::max<std::int64_t>(1, n / (threads * 8));
    const std::int64_t chunks = n / chunk + (n % chunk != 0);
    const std::size_t wanted =
        static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(workers_.size()), chunks - 1));
    run(n, chunk, wanted, &invoke_ranges<F>, &f);
  }

 private:
  using range_fn = void (*)(const void* f, std::int64_t begin, std::int64_t end);

  template <class F>
  static void invoke_ranges(const void* f, std::int64_t begin, std::int64_t end) {
    (*static_cast<const F*>(f))(begin, end);
  }

  /// One loop: publishes it, wakes `wanted` workers, works on it, closes
  /// it to late workers, waits for those that joined, rethrows.
  void run(std::int64_t n, std::int64_t chunk, std::size_t wanted, range_fn fn, const void* f) {
    const std::lock_guard submit(submit_mutex_);
    {
      const std::lock_guard lock(mutex_);
      job_fn_ = fn;
      job_f_ = f;
      job_n_ = n;
      job_chunk_ = chunk;
      next_.store(0, std::memory_order_relaxed);
      failed_.store(false, std::memory_order_relaxed);
      error_ = nullptr;
      slots_ = wanted;
      ++generation_;
    }
    if (wanted == workers_.size())
      wake_.notify_all();
    else
      for (std::size_t i = 0; i < wanted; ++i) wake_.notify_one();
    {
      const detail::pool_work_scope scope;
      run_chunks();
    }
    std::exception_ptr error;
    {
      std::unique_lock lock(mutex_);
      slots_ = 0;  // workers that wake from now on leave this loop alone
      done_.wait(lock, [this] { return active_ == 0; });
      error = std::exchange(error_, nullptr);
    }
    if (error) std::rethrow_exception(error);
  }

  /// Takes chunks of the current loop until none is left or one has thrown.
  void run_chunks() noexcept {
    const std::int64_t n = job_n_;
    const std::int64_t chunk = job_chunk_;
    while (!failed_.load(std::memory_order_relaxed)) {
      const std::int64_t begin = next_.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= n || begin < 0) return;  // < 0: the counter wrapped past a range near 2^63
      const std::int64_t end = n - begin > chunk ? begin + chunk : n;
      try {
        job_fn_(job_f_, begin, end);
      } catch (...) {
        const std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true, std::memory_order_relaxed);
        return;
      }
    }
  }

  void work() {
    detail::in_pool_work = true;
    std::uint64_t seen = 0;  // the generation at construction: a loop may start before this thread does
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (slots_ == 0) continue;
      --slots_;
      ++active_;
      lock.unlock();
      run_chunks();
      lock.lock();
      if (--active_ == 0) done_.notify_one();
    }
  }

  void stop() noexcept {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_)
      if (t.joinable()) t.join();
  }

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // one loop at a time
  std::mutex mutex_;         // guards what follows, but the atomics
  std::condition_variable wake_, done_;
  std::uint64_t generation_ = 0;
  std::size_t slots_ = 0;   // workers that may still join the current loop
  std::size_t active_ = 0;  // workers working on it
  bool stopping_ = false;
  std::exception_ptr error_;
  range_fn job_fn_ = nullptr;
  const void* job_f_ = nullptr;
  std::int64_t job_n_ = 0, job_chunk_ = 1;
  std::atomic<std::int64_t> next_{0};
  std::atomic<bool> failed_{false};
};

// ---- kernels -----------------------------------------------------------------

/// A kernel the CPU backend launches: a plain entry function (compiled, or
/// registered in process) or a C++ callable. A small handle: copies share
/// the kernel, and a compiled kernel's shared object stays loaded while any
/// copy lives, even after the backend is gone. A default-constructed handle
/// holds no kernel.
class cpu_kernel {
 public:
  cpu_kernel() = default;

  /// A kernel named `name` whose program instances call `function`.
  cpu_kernel(std::string name, kernel_entry function) : entry_(function) {
    if (function == nullptr) throw_empty(name);
    auto s = std::make_shared<state>();
    s->name = std::move(name);
    s->entry = function;
    state_ = std::move(s);
  }
  /// A kernel named `name` whose program instances call `fn`.
  cpu_kernel(std::string name, exec::host_kernel_fn fn) {
    if (!fn) throw_empty(name);
    auto s = std::make_shared<state>();
    s->name = std::move(name);
    s->fn = std::move(fn);
    state_ = std::move(s);
  }
  /// A kernel named `name` of any other callable with the signature of
  /// kernel_entry: one that converts to a kernel_entry (a lambda that
  /// captures nothing) becomes a plain entry function, anything else an
  /// exec::host_kernel_fn.
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, kernel_entry> &&
             !std::is_same_v<std::remove_cvref_t<F>, exec::host_kernel_fn> &&
             std::is_invocable_v<const std::remove_cvref_t<F>&, void**, const std::int64_t*, const std::int64_t*>)
  cpu_kernel(std::string name, F&& f) : cpu_kernel(std::move(name), convert(std::forward<F>(f))) {}
  /// The kernel that `compiled` holds, keeping its library loaded.
  explicit cpu_kernel(compiled_kernel compiled) : entry_(compiled.entry) {
    if (compiled.entry == nullptr) throw_empty(compiled.name);
    auto s = std::make_shared<state>();
    s->name = compiled.name;
    s->entry = compiled.entry;
    s->compiled = std::move(compiled);
    state_ = std::move(s);
  }

  /// True when the handle holds a kernel.
  [[nodiscard]] explicit operator bool() const noexcept { return state_ != nullptr; }
  /// The kernel's name (empty for an empty handle).
  [[nodiscard]] const std::string& name() const noexcept {
    static const std::string none;
    return state_ ? state_->name : none;
  }
  /// The entry function, or nullptr for a kernel that is a C++ callable.
  [[nodiscard]] kernel_entry entry() const noexcept { return entry_; }
  /// The compiled kernel behind this one, or nullptr for an in-process
  /// kernel.
  [[nodiscard]] const compiled_kernel* compiled() const noexcept {
    return state_ && state_->compiled.library ? &state_->compiled : nullptr;
  }

  /// Runs one program instance: `program_id` and `num_programs` point at
  /// three values each (x, y, z). An empty handle throws backend_error
  /// `wrapgraph.kernel.no_implementation`.
  void operator()(void** params, const std::int64_t* program_id, const std::int64_t* num_programs) const {
    if (entry_ != nullptr) [[likely]]
      entry_(params, program_id, num_programs);
    else
      call_slow(params, program_id, num_programs);
  }

 private:
  struct state {
    std::string name;
    kernel_entry entry = nullptr;
    exec::host_kernel_fn fn;
    compiled_kernel compiled;
  };

  template <class F>
  static auto convert(F&& f) {
    if constexpr (std::is_convertible_v<F, kernel_entry>)
      return static_cast<kernel_entry>(f);
    else
      return exec::host_kernel_fn(std::forward<F>(f));
  }

  [[noreturn]] static void throw_empty(const std::string& name) {
    throw backend_error("wrapgraph.kernel.no_implementation",
                        name.empty() ? std::string("an empty kernel (no function)")
                                     : "kernel '" + name + "' is empty: no function to call");
  }

  void call_slow(void** params, const std::int64_t* program_id, const std::int64_t* num_programs) const {
    if (!state_) throw_empty({});
    state_->fn(params, program_id, num_programs);
  }

  kernel_entry entry_ = nullptr;  // a copy of state_->entry, for the launch path
  std::shared_ptr<const state> state_;
};

// ---- the backend -------------------------------------------------------------

/// How a cpu_backend compiles kernels and how many threads it runs them on.
struct cpu_options {
  /// Compiler, flags and cache folder for `cpp` kernels.
  compiler_options compiler;
  /// Threads that run a launch, the caller included; 0 means
  /// std::thread::hardware_concurrency().
  std::size_t threads = 0;
};

/// The CPU as an exec::backend: host memory (64-byte aligned, with
/// accounting), memcpy copies, `cpp` kernels compiled with the system
/// compiler (kernel_compiler) or registered in process, launches spread over
/// a thread_pool.
///
/// A launch calls the kernel once per program instance and returns when all
/// have returned; instances of one launch may run concurrently on several
/// threads, in any order. Neither copyable nor movable; tensors and kernel
/// handles it made may outlive it.
class cpu_backend {
 public:
  /// The backend's kernel handle.
  using kernel = cpu_kernel;

  /// A backend with the options from the environment and one thread per
  /// hardware thread.
  cpu_backend() : cpu_backend(cpu_options{}) {}
  explicit cpu_backend(cpu_options options)
      : memory_(std::make_shared<exec::host_memory>()), compiler_(std::move(options.compiler)),
        pool_(options.threads) {}
  cpu_backend(const cpu_backend&) = delete;
  cpu_backend& operator=(const cpu_backend&) = delete;

  /// `cpu`.
  [[nodiscard]] device dev() const noexcept { return ::wrapgraph::cpu; }
  /// Host memory, shared with every storage allocated from it.
  [[nodiscard]] const std::shared_ptr<exec::device_memory>& memory() const noexcept { return memory_; }

  /// Copies `bytes` from `src` to `dst` (the ranges may overlap; nothing
  /// happens for 0 bytes, whatever the pointers).
  void copy(void* dst, const void* src, std::size_t bytes) noexcept {
    if (bytes != 0 && dst != src) std::memmove(dst, src, bytes);
  }
  /// As copy: the device is the host.
  void to_host(void* dst, const void* src, std::size_t bytes) noexcept { copy(dst, src, bytes); }
  /// As copy: the device is the host.
  void from_host(void* dst, const void* src, std::size_t bytes) noexcept { copy(dst, src, bytes); }

  /// Registers `fn` as the kernel named `name`: load_kernel of a definition
  /// of that name returns it, whatever the definition's `cpp` source and
  /// config. Registering a name again replaces the kernel (handles already
  /// loaded keep the old one). backend_error
  /// `wrapgraph.kernel.no_implementation` for an empty `fn`.
  void register_kernel(std::string name, exec::host_kernel_fn fn) {
    cpu_kernel k(name, std::move(fn));
    const std::lock_guard lock(mutex_);
    registered_.insert_or_assign(std::move(name), std::move(k));
  }
  /// Registers a plain entry function, the fastest kernel to launch; a null
  /// `function` is an error as above.
  void register_kernel(std::string name, kernel_entry function) {
    cpu_kernel k(name, function);
    const std::lock_guard lock(mutex_);
    registered_.insert_or_assign(std::move(name), std::move(k));
  }
  /// Registers any other callable with the signature of kernel_entry: one
  /// that converts to a kernel_entry (a lambda that captures nothing) as a
  /// plain entry function, anything else as an exec::host_kernel_fn.
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, kernel_entry> &&
             !std::is_same_v<std::remove_cvref_t<F>, exec::host_kernel_fn> &&
             std::is_invocable_v<const std::remove_cvref_t<F>&, void**, const std::int64_t*, const std::int64_t*>)
  void register_kernel(std::string name, F&& f) {
    cpu_kernel k(name, std::forward<F>(f));
    const std::lock_guard lock(mutex_);
    registered_.insert_or_assign(std::move(name), std::move(k));
  }
  /// A kernel handle for `function`, registered nowhere, to launch directly.
  [[nodiscard]] static kernel make_kernel(std::string name, kernel_entry function) {
    return kernel(std::move(name), function);
  }

  /// The kernel for `definition` with config `config`: the kernel
  /// registered under `definition.kernel` if any, else its `cpp`
  /// implementation compiled (or found in the disk cache) by compiler().
  /// Loaded kernels are kept by name, config and a hash of the source, entry
  /// and defines, so a second load is a lookup. backend_error
  /// `wrapgraph.kernel.bad_config` for a config index out of range, and the
  /// compiler's errors (`wrapgraph.kernel.*`), `no_implementation` among
  /// them for a definition without `cpp`.
  kernel load_kernel(const kernel_definition_line& definition, std::size_t config) {
    const kernel_values defines = kernel_defines(definition, config);  // checks the index
    {
      const std::lock_guard lock(mutex_);
      if (auto it = registered_.find(definition.kernel); it != registered_.end()) return it->second;
    }
    if (!definition.implementations.cpp) return kernel(compiler_.compile(definition, config));  // throws
    const std::string key = cache_key(definition, config, defines);
    {
      const std::lock_guard lock(mutex_);
      if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    }
    kernel k(compiler_.compile(definition.kernel, *definition.implementations.cpp, defines));
    const std::lock_guard lock(mutex_);
    return loaded_.try_emplace(key, std::move(k)).first->second;
  }

  /// Runs `k` once per program instance of `grid`, with `program_id` = {x,
  /// y, z} and `num_programs` = grid, and returns when all have returned.
  /// One instance runs inline on this thread; more are spread over pool()
  /// (x varies fastest within the range a thread takes). A zero extent runs
  /// nothing. run_error `wrapgraph.run.bad_grid` for a negative extent or a
  /// grid of more than 2^63 - 1 instances; an exception thrown by the kernel
  /// propagates (the first one, after every thread has stopped).
  void launch(const kernel& k, const exec::launch_grid& grid, void** params) {
    const std::int64_t x = grid[0], y = grid[1], z = grid[2];
    if ((x | y | z) < 0) [[unlikely]]
      bad_grid(grid, "has a negative extent");
    if (((x ^ 1) | (y ^ 1) | (z ^ 1)) == 0) [[likely]] {  // one program instance
      static constexpr std::int64_t origin[3] = {0, 0, 0};
      k(params, origin, grid.data());
      return;
    }
    if (x == 0 || y == 0 || z == 0) return;
    launch_many(k, grid, params);
  }

  /// Nothing to wait for: launches and copies complete before they return.
  void synchronize() noexcept {}

  /// Runs `work` and returns the seconds it took (std::chrono::steady_clock).
  double seconds(const std::function<void()>& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  /// The compiler of `cpp` kernels (its counters tell compiles from cache
  /// hits).
  [[nodiscard]] kernel_compiler& compiler() noexcept { return compiler_; }
  /// The threads launches run on.
  [[nodiscard]] thread_pool& pool() noexcept { return pool_; }

 private:
  [[noreturn]] static void bad_grid(const exec::launch_grid& grid, const char* why) {
    throw run_error("wrapgraph.run.bad_grid", "the launch grid (" + std::to_string(grid[0]) + ", " +
                                                  std::to_string(grid[1]) + ", " + std::to_string(grid[2]) +
                                                  ") " + why);
  }

  void launch_many(const kernel& k, const exec::launch_grid& grid, void** params) {
    const std::int64_t x = grid[0], y = grid[1], z = grid[2];
    constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max();
    if (x > most / y || x * y > most / z) bad_grid(grid, "has more than 2^63 - 1 program instances");
    const std::int64_t* num_programs = grid.data();
    pool_.parallel_for_ranges(x * y * z, [&](std::int64_t begin, std::int64_t end) {
      std::int64_t id[3] = {begin % x, (begin / x) % y, begin / (x * y)};
      for (std::int64_t i = begin; i < end; ++i) {
        k(params, id, num_programs);
        if (++id[0] == x) {
          id[0] = 0;
          if (++id[1] == y) {
            id[1] = 0;
            ++id[2];
          }
        }
      }
    });
  }

  static std::string cache_key(const kernel_definition_line& definition, std::size_t config,
                               const kernel_values& defines) {
    detail::fnv1a_128 hash;
    hash.field(definition.implementations.cpp->source);
    hash.field(definition.implementations.cpp->entry);
    hash.field(define_lines(defines));
    std::string key = definition.kernel;
    key += '\0';
    key += std::to_string(config);
    key += '\0';
    key += hash.hex();
    return key;
  }

  std::shared_ptr<exec::device_memory> memory_;
  kernel_compiler compiler_;
  std::mutex mutex_;  // guards the two maps
  std::unordered_map<std::string, kernel> registered_;
  std::unordered_map<std::string, kernel> loaded_;
  thread_pool pool_;  // last: its workers stop before the rest goes
};

static_assert(exec::backend<cpu_backend>, "cpu_backend must satisfy exec::backend");

}  // namespace wrapgraph::backend::cpu

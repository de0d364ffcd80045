// Tests of backend/cpu/backend.hpp: the thread pool, the CPU backend's
// memory and copies, kernels registered in process and compiled from `cpp`
// sources, launches over 1-, 2- and 3-D grids, and the errors on the way.
// Pools have four threads whatever the machine, so that workers take part
// even on a machine of one core.

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <wrapgraph/backend/cpu/backend.hpp>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace cpu = wrapgraph::backend::cpu;
using wrapgraph::test::error_id;

// A fresh folder (its name holds spaces), removed with what is in it.
struct temp_dir : wrapgraph::test::temp_dir {
  temp_dir() : wrapgraph::test::temp_dir("wrapgraph cpu backend") {}
};

cpu::cpu_options four_threads() {
  cpu::cpu_options options;
  options.threads = 4;
  return options;
}

/// Counts, for a grid, how often each program instance ran, and whether
/// any saw the wrong num_programs or an id outside the grid.
struct recorder {
  wrapgraph::exec::launch_grid grid;
  std::vector<std::atomic<int>> hits;
  std::atomic<int> wrong{0};

  explicit recorder(wrapgraph::exec::launch_grid g)
      : grid(g), hits(static_cast<std::size_t>(std::max<std::int64_t>(0, g[0] * g[1] * g[2]))) {}

  void record(const std::int64_t* program_id, const std::int64_t* num_programs) {
    for (int d = 0; d < 3; ++d) {
      if (num_programs[d] != grid[d] || program_id[d] < 0 || program_id[d] >= grid[d]) {
        ++wrong;
        return;
      }
    }
    ++hits[static_cast<std::size_t>(program_id[0] + grid[0] * (program_id[1] + grid[1] * program_id[2]))];
  }

  /// True when every program instance ran exactly once and none was wrong.
  [[nodiscard]] bool each_once() const {
    if (wrong.load() != 0) return false;
    for (const std::atomic<int>& h : hits)
      if (h.load() != 1) return false;
    return true;
  }
  [[nodiscard]] int total() const {
    int n = 0;
    for (const std::atomic<int>& h : hits) n += h.load();
    return n;
  }
};

/// The kernel_entry that records into the recorder `*params[0]` points at.
void record_entry(void** params, const std::int64_t* program_id, const std::int64_t* num_programs) {
  (*static_cast<recorder**>(params[0]))->record(program_id, num_programs);
}

void empty_entry(void**, const std::int64_t*, const std::int64_t*) {}

/// A definition named `name` with no implementation.
wrapgraph::kernel_definition_line bare_definition(std::string name) {
  wrapgraph::kernel_definition_line def;
  def.kernel = std::move(name);
  return def;
}

struct kernel_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const wrapgraph::exec::launch_grid grids[] = {{1, 1, 1}, {7, 1, 1}, {1000, 1, 1}, {5, 3, 1}, {1, 9, 1},
                                              {4, 3, 2}, {1, 1, 6}, {17, 5, 3}};

}  // namespace

// ---- the thread pool --------------------------------------------------------

TEST_CASE("thread_pool::parallel_for visits each of 100000 indices once") {
  cpu::thread_pool pool(4);
  CHECK(pool.size() == 4);
  std::vector<std::atomic<int>> hits(100000);
  pool.parallel_for(100000, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
  int wrong = 0;
  for (const std::atomic<int>& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("thread_pool::parallel_for runs n <= 1 inline and n <= 0 not at all") {
  cpu::thread_pool pool(4);
  const std::thread::id caller = std::this_thread::get_id();
  int calls = 0;
  pool.parallel_for(0, [&](std::int64_t) { ++calls; });
  pool.parallel_for(-5, [&](std::int64_t) { ++calls; });
  CHECK(calls == 0);
  pool.parallel_for(1, [&](std::int64_t i) {
    CHECK(i == 0);
    CHECK(std::this_thread::get_id() == caller);
    ++calls;
  });
  CHECK(calls == 1);
}

TEST_CASE("a thread_pool of one thread runs every loop in order on the caller") {
  cpu::thread_pool pool(1);
  CHECK(pool.size() == 1);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::int64_t> order;
  bool on_caller = true;
  pool.parallel_for(50, [&](std::int64_t i) {
    order.push_back(i);
    on_caller = on_caller && std::this_thread::get_id() == caller;
  });
  CHECK(on_caller);
  REQUIRE(order.size() == 50);
  for (std::int64_t i = 0; i < 50; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("thread_pool of the default size has at least one thread") {
  cpu::thread_pool pool;
  CHECK(pool.size() >= 1);
  std::atomic<int> calls{0};
  pool.parallel_for(64, [&](std::int64_t) { ++calls; });
  CHECK(calls.load() == 64);
}

TEST_CASE("thread_pool::parallel_for_ranges covers [0, n) with disjoint ranges") {
  cpu::thread_pool pool(4);
  std::vector<std::atomic<int>> hits(12345);
  std::atomic<int> bad{0};
  pool.parallel_for_ranges(12345, [&](std::int64_t begin, std::int64_t end) {
    if (begin < 0 || end > 12345 || begin >= end) ++bad;
    for (std::int64_t i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
  });
  CHECK(bad.load() == 0);
  int wrong = 0;
  for (const std::atomic<int>& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("a parallel_for inside a parallel_for runs inline and completes") {
  cpu::thread_pool pool(4);
  std::vector<std::atomic<int>> hits(40 * 30);
  pool.parallel_for(40, [&](std::int64_t i) {
    pool.parallel_for(30, [&](std::int64_t j) { ++hits[static_cast<std::size_t>(i * 30 + j)]; });
  });
  int wrong = 0;
  for (const std::atomic<int>& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("parallel_for from several threads at once runs every loop fully") {
  cpu::thread_pool pool(4);
  std::atomic<std::int64_t> sum{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int round = 0; round < 20; ++round) pool.parallel_for(100, [&](std::int64_t i) { sum += i; });
    });
  for (std::thread& t : callers) t.join();
  CHECK(sum.load() == 3 * 20 * (99 * 100 / 2));
}

TEST_CASE("an exception in parallel_for is rethrown on the caller and the pool keeps working") {
  cpu::thread_pool pool(4);
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> calls{0};
    CHECK_THROWS_WITH_AS(pool.parallel_for(10000,
                                           [&](std::int64_t i) {
                                             ++calls;
                                             if (i % 1000 == 7) throw kernel_failure("index " + std::to_string(i));
                                           }),
                         doctest::Contains("index "), kernel_failure);
    CHECK(calls.load() <= 10000);
  }
  std::atomic<int> calls{0};
  pool.parallel_for(10000, [&](std::int64_t) { ++calls; });
  CHECK(calls.load() == 10000);
}

// ---- the backend: memory and copies ----------------------------------------

TEST_CASE("cpu_backend satisfies exec::backend and is the cpu device") {
  static_assert(wrapgraph::exec::backend<cpu::cpu_backend>);
  cpu::cpu_backend backend(four_threads());
  CHECK(backend.dev() == wrapgraph::cpu);
  REQUIRE(backend.memory() != nullptr);
  CHECK(backend.memory()->dev() == wrapgraph::cpu);
  CHECK(backend.pool().size() == 4);
}

TEST_CASE("cpu_backend's memory counts live and peak bytes, allocations and releases") {
  cpu::cpu_backend backend(four_threads());
  auto& memory = *backend.memory();
  {
    wrapgraph::exec::storage_ptr a = memory.allocate(100);
    wrapgraph::exec::storage_ptr b = memory.allocate(300);
    wrapgraph::exec::storage_ptr none = memory.allocate(0);
    CHECK(none->data() == nullptr);
    REQUIRE(a->data() != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(a->data()) % 64 == 0);
    CHECK(a->dev() == wrapgraph::cpu);
    std::memset(a->data(), 1, 100);
    const wrapgraph::exec::memory_stats held = memory.stats();
    CHECK(held.live_bytes == 400);
    CHECK(held.peak_bytes == 400);
    CHECK(held.allocations == 2);
    CHECK(held.releases == 0);
    b.reset();
    CHECK(memory.stats().live_bytes == 100);
    CHECK(memory.stats().peak_bytes == 400);
    CHECK(memory.stats().releases == 1);
  }
  const wrapgraph::exec::memory_stats after = memory.stats();
  CHECK(after.live_bytes == 0);
  CHECK(after.peak_bytes == 400);
  CHECK(after.allocations == 2);
  CHECK(after.releases == 2);
}

TEST_CASE("storage outlives the cpu_backend that allocated it") {
  auto backend = std::make_unique<cpu::cpu_backend>(four_threads());
  std::shared_ptr<wrapgraph::exec::device_memory> memory = backend->memory();
  wrapgraph::exec::tensor t = wrapgraph::exec::empty(*memory, wrapgraph::dtype::float32, {2, 3});
  memory.reset();
  backend.reset();
  for (std::int64_t i = 0; i < 6; ++i) t.set(i, static_cast<double>(i) * 0.5);
  CHECK(t.get(5) == 2.5);
  CHECK(t.storage()->dev() == wrapgraph::cpu);
}

TEST_CASE("cpu_backend copies bytes with copy, to_host and from_host") {
  cpu::cpu_backend backend(four_threads());
  const std::vector<std::uint8_t> source{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<std::uint8_t> a(8, 0), b(8, 0), c(8, 0);
  backend.from_host(a.data(), source.data(), 8);
  CHECK(a == source);
  backend.copy(b.data(), a.data(), 8);
  CHECK(b == source);
  backend.to_host(c.data(), b.data(), 5);
  CHECK(c == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 0, 0, 0});

  SUBCASE("overlapping ranges within the device") {
    backend.copy(b.data() + 2, b.data(), 6);
    CHECK(b == std::vector<std::uint8_t>{1, 2, 1, 2, 3, 4, 5, 6});
  }
  SUBCASE("zero bytes with null pointers") {
    backend.copy(nullptr, nullptr, 0);
    backend.to_host(nullptr, source.data(), 0);
    backend.from_host(a.data(), nullptr, 0);
    CHECK(a == source);
  }
  backend.synchronize();
}

// ---- launches ------------------------------------------------------------------

TEST_CASE("a registered function-pointer kernel runs once per program instance") {
  cpu::cpu_backend backend(four_threads());
  backend.register_kernel("k_record", &record_entry);
  const cpu::cpu_kernel k = backend.load_kernel(bare_definition("k_record"), 0);
  CHECK(k.name() == "k_record");
  CHECK((k.entry() == &record_entry));
  CHECK(k.compiled() == nullptr);
  for (const wrapgraph::exec::launch_grid& grid : grids) {
    CAPTURE(grid[0]);
    CAPTURE(grid[1]);
    CAPTURE(grid[2]);
    recorder r(grid);
    recorder* target = &r;
    void* params[] = {&target};
    backend.launch(k, grid, params);
    CHECK(r.each_once());
  }
  CHECK(backend.compiler().compilations() == 0);
}

TEST_CASE("a registered std::function kernel runs once per program instance") {
  cpu::cpu_backend backend(four_threads());
  recorder* current = nullptr;
  backend.register_kernel("k_function",
                          wrapgraph::exec::host_kernel_fn(
                              [&current](void**, const std::int64_t* program_id, const std::int64_t* num_programs) {
                                current->record(program_id, num_programs);
                              }));
  const cpu::cpu_kernel k = backend.load_kernel(bare_definition("k_function"), 0);
  CHECK((k.entry() == nullptr));
  for (const wrapgraph::exec::launch_grid& grid : grids) {
    CAPTURE(grid[0]);
    CAPTURE(grid[1]);
    CAPTURE(grid[2]);
    recorder r(grid);
    current = &r;
    backend.launch(k, grid, nullptr);
    CHECK(r.each_once());
  }
}

TEST_CASE("lambdas register as entry functions when they capture nothing") {
  cpu::cpu_backend backend(four_threads());
  backend.register_kernel("k_plain", [](void** params, const std::int64_t* program_id, const std::int64_t*) {
    *static_cast<std::int64_t*>(params[0]) += program_id[0] + 1;
  });
  std::int64_t total = 0;
  backend.register_kernel("k_capturing", [&total](void**, const std::int64_t* program_id, const std::int64_t*) {
    total += 10 * (program_id[0] + 1);
  });
  const cpu::cpu_kernel plain = backend.load_kernel(bare_definition("k_plain"), 0);
  const cpu::cpu_kernel capturing = backend.load_kernel(bare_definition("k_capturing"), 0);
  CHECK((plain.entry() != nullptr));
  CHECK((capturing.entry() == nullptr));
  void* params[] = {&total};
  backend.launch(plain, {1, 1, 1}, params);
  backend.launch(capturing, {1, 1, 1}, params);
  CHECK(total == 11);
}

TEST_CASE("one thread runs program instances with x fastest, then y, then z") {
  cpu::cpu_options options;
  options.threads = 1;
  cpu::cpu_backend backend(options);
  std::vector<std::array<std::int64_t, 3>> order;
  const cpu::cpu_kernel k(
      "k_order", wrapgraph::exec::host_kernel_fn([&order](void**, const std::int64_t* id, const std::int64_t*) {
        order.push_back({id[0], id[1], id[2]});
      }));
  backend.launch(k, {2, 2, 2}, nullptr);
  const std::vector<std::array<std::int64_t, 3>> expected{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0},
                                                          {0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}};
  CHECK(order == expected);
}

TEST_CASE("make_kernel gives a handle that launches without registration") {
  cpu::cpu_backend backend(four_threads());
  const cpu::cpu_kernel k = cpu::cpu_backend::make_kernel("k_direct", &record_entry);
  CHECK(k);
  CHECK(k.name() == "k_direct");
  recorder r({6, 2, 1});
  recorder* target = &r;
  void* params[] = {&target};
  backend.launch(k, r.grid, params);
  CHECK(r.each_once());
  CHECK(error_id([&] { (void)backend.load_kernel(bare_definition("k_direct"), 0); }) ==
        "wrapgraph.kernel.no_implementation");
}

TEST_CASE("a grid with a zero extent runs nothing") {
  cpu::cpu_backend backend(four_threads());
  const cpu::cpu_kernel k = cpu::cpu_backend::make_kernel("k_record", &record_entry);
  for (const wrapgraph::exec::launch_grid& grid : {wrapgraph::exec::launch_grid{0, 1, 1}, {0, 5, 5}, {5, 0, 1},
                                                   {3, 4, 0}, {0, 0, 0}}) {
    recorder r({8, 8, 8});
    recorder* target = &r;
    void* params[] = {&target};
    backend.launch(k, grid, params);
    CHECK(r.total() == 0);
    CHECK(r.wrong.load() == 0);
  }
}

TEST_CASE("a negative or overflowing grid is wrapgraph.run.bad_grid") {
  cpu::cpu_backend backend(four_threads());
  const cpu::cpu_kernel k = cpu::cpu_backend::make_kernel("k_empty", &empty_entry);
  constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max();
  for (const wrapgraph::exec::launch_grid& grid : {wrapgraph::exec::launch_grid{-1, 1, 1}, {1, -1, 1}, {4, 4, -2},
                                                   {0, -1, 1}, {most, 2, 1}, {2, most, 2}}) {
    CAPTURE(grid[0]);
    CAPTURE(grid[1]);
    CAPTURE(grid[2]);
    CHECK(error_id<wrapgraph::run_error>([&] { backend.launch(k, grid, nullptr); }) == "wrapgraph.run.bad_grid");
  }
}

TEST_CASE("an exception thrown by a kernel on a worker propagates and the pool keeps working") {
  cpu::cpu_backend backend(four_threads());
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> thrown{false};
  std::chrono::steady_clock::time_point deadline;
  // The caller's instances wait (for a few seconds at most) until a worker
  // has thrown, so that the failure surely happens on a worker.
  const cpu::cpu_kernel failing(
      "k_failing", wrapgraph::exec::host_kernel_fn([&](void**, const std::int64_t* id, const std::int64_t*) {
        if (std::this_thread::get_id() != caller) {
          thrown = true;
          throw kernel_failure("program " + std::to_string(id[0]) + " failed");
        }
        while (!thrown.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      }));
  for (int round = 0; round < 3; ++round) {
    thrown = false;
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    CHECK_THROWS_WITH_AS(backend.launch(failing, {1000, 1, 1}, nullptr), doctest::Contains("failed"),
                         kernel_failure);
    CHECK(thrown.load());
  }

  recorder r({300, 2, 1});
  recorder* target = &r;
  void* params[] = {&target};
  backend.launch(cpu::cpu_backend::make_kernel("k_record", &record_entry), r.grid, params);
  CHECK(r.each_once());
}

TEST_CASE("an exception thrown by a kernel of one program instance propagates") {
  cpu::cpu_backend backend(four_threads());
  const cpu::cpu_kernel failing(
      "k_failing", wrapgraph::exec::host_kernel_fn([](void**, const std::int64_t*, const std::int64_t*) {
        throw kernel_failure("alone");
      }));
  CHECK_THROWS_AS(backend.launch(failing, {1, 1, 1}, nullptr), kernel_failure);
}

TEST_CASE("empty kernels are wrapgraph.kernel.no_implementation") {
  cpu::cpu_backend backend(four_threads());
  CHECK(error_id<wrapgraph::backend_error>([&] { backend.launch(cpu::cpu_kernel{}, {1, 1, 1}, nullptr); }) ==
        "wrapgraph.kernel.no_implementation");
  CHECK(error_id<wrapgraph::backend_error>([&] { backend.launch(cpu::cpu_kernel{}, {3, 1, 1}, nullptr); }) ==
        "wrapgraph.kernel.no_implementation");
  CHECK(error_id<wrapgraph::backend_error>([&] {
          backend.register_kernel("k_null", static_cast<cpu::kernel_entry>(nullptr));
        }) == "wrapgraph.kernel.no_implementation");
  CHECK(error_id<wrapgraph::backend_error>([&] {
          backend.register_kernel("k_null", wrapgraph::exec::host_kernel_fn{});
        }) == "wrapgraph.kernel.no_implementation");
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)cpu::cpu_backend::make_kernel("k_null", nullptr); }) ==
        "wrapgraph.kernel.no_implementation");
  CHECK_FALSE(cpu::cpu_kernel{});
  CHECK(cpu::cpu_kernel{}.name().empty());
}

TEST_CASE("seconds runs the work and measures it") {
  cpu::cpu_backend backend(four_threads());
  int runs = 0;
  const double t = backend.seconds([&] {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  CHECK(runs == 1);
  CHECK(t >= 0.002);
  CHECK(t < 5.0);
}

// ---- loading kernels -------------------------------------------------------------

namespace {

constexpr const char* scale_source = R"(#include <cstdint>

extern "C" void k_scale(void** params, const int64_t* program_id, const int64_t* num_programs) {
  const float* in = *static_cast<float**>(params[0]);
  float* out = *static_cast<float**>(params[1]);
  const int32_t n = *static_cast<int32_t*>(params[2]);
  const int64_t start = program_id[0] * XBLOCK;
  for (int64_t i = start; i < start + XBLOCK && i < n; ++i) out[i] = in[i] * SCALE + num_programs[0];
}
)";

/// out = in * SCALE + num_programs, XBLOCK elements per program.
wrapgraph::kernel_definition_line scale_kernel() {
  wrapgraph::kernel_definition_line def;
  def.kernel = "k_scale";
  def.signature = {{"in_ptr0", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"},
                   {"XBLOCK", "constexpr"}, {"SCALE", "constexpr"}};
  def.constants = {{"SCALE", 3.0}};
  def.configs = {{{"XBLOCK", std::int64_t{4}}}, {{"XBLOCK", std::int64_t{8}}}};
  def.implementations.cpp = wrapgraph::source_implementation{scale_source, "k_scale"};
  return def;
}

}  // namespace

// The suite's only compile: the checks share it rather than use SUBCASEs,
// which would run the case, and so the compiler, once per subcase.
TEST_CASE("a kernel compiled from its cpp source runs, and loading it again is a lookup") {
  temp_dir dir;
  cpu::cpu_options options = four_threads();
  options.compiler.cache_dir = dir.path / "cache";
  const wrapgraph::kernel_definition_line def = scale_kernel();

  // Runs `k` (config 0: 4 elements per program) on 30 elements over 8
  // programs; true when out = in * 3 + 8 everywhere.
  const auto run_scale = [](cpu::cpu_backend& backend, const cpu::cpu_kernel& k) {
    std::vector<float> in(30), out(30, -1.0F);
    for (int i = 0; i < 30; ++i) in[static_cast<std::size_t>(i)] = static_cast<float>(i);
    float* in_ptr = in.data();
    float* out_ptr = out.data();
    std::int32_t n = 30;
    void* params[] = {&in_ptr, &out_ptr, &n};
    backend.launch(k, {8, 1, 1}, params);
    bool right = true;
    for (int i = 0; i < 30; ++i) right = right && out[static_cast<std::size_t>(i)] == static_cast<float>(i * 3 + 8);
    return right;
  };

  std::optional<cpu::cpu_kernel> kept;
  {
    cpu::cpu_backend backend(options);
    const cpu::cpu_kernel k = backend.load_kernel(def, 0);
    CHECK(backend.compiler().compilations() == 1);
    CHECK(k.name() == "k_scale");
    REQUIRE(k.compiled() != nullptr);
    CHECK_FALSE(k.compiled()->from_cache);
    CHECK(run_scale(backend, k));

    const cpu::cpu_kernel again = backend.load_kernel(def, 0);
    CHECK(backend.compiler().compilations() == 1);
    CHECK(backend.compiler().cache_hits() == 0);  // a lookup: the compiler was not asked
    CHECK(again.compiled() == k.compiled());
    CHECK((again.entry() == k.entry()));

    CHECK(error_id<wrapgraph::backend_error>([&] { (void)backend.load_kernel(def, 2); }) ==
          "wrapgraph.kernel.bad_config");

    // A registered kernel of the same name takes precedence over the source.
    std::atomic<int> calls{0};
    backend.register_kernel("k_scale", wrapgraph::exec::host_kernel_fn(
                                           [&](void**, const std::int64_t*, const std::int64_t*) { ++calls; }));
    const cpu::cpu_kernel registered = backend.load_kernel(def, 1);
    CHECK(registered.compiled() == nullptr);
    backend.launch(registered, {3, 1, 1}, nullptr);
    CHECK(calls.load() == 3);
    CHECK(backend.compiler().compilations() == 1);
    kept = k;
  }

  // The handle keeps the object loaded after its backend is gone.
  {
    std::vector<float> in{1, 2, 3, 4}, out(4, 0.0F);
    float* in_ptr = in.data();
    float* out_ptr = out.data();
    std::int32_t n = 4;
    void* params[] = {&in_ptr, &out_ptr, &n};
    const std::int64_t program_id[3] = {0, 0, 0};
    const std::int64_t num_programs[3] = {1, 1, 1};
    (*kept)(params, program_id, num_programs);
    CHECK(out == std::vector<float>{4, 7, 10, 13});
  }

  // Another backend on the same cache folder loads the object from disk.
  cpu::cpu_backend other(options);
  const cpu::cpu_kernel cached = other.load_kernel(def, 0);
  CHECK(other.compiler().compilations() == 0);
  REQUIRE(cached.compiled() != nullptr);
  CHECK(cached.compiled()->from_cache);
  CHECK(run_scale(other, cached));
}

TEST_CASE("a definition with neither a registered kernel nor cpp is wrapgraph.kernel.no_implementation") {
  cpu::cpu_backend backend(four_threads());
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)backend.load_kernel(bare_definition("k_nothing"), 0); }) ==
        "wrapgraph.kernel.no_implementation");
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)backend.load_kernel(bare_definition("k_nothing"), 1); }) ==
        "wrapgraph.kernel.bad_config");
}

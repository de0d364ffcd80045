// Tests of include/wrapgraph/backend/cuda/operators.hpp: every kernel source
// compiles with NVRTC (no GPU needed there), the registry holds the CPU's
// names with the right flags, and on a GPU every built-in operator gives
// the CPU operator's results and errors on the same inputs: each call runs
// on host tensors with the CPU operator and on device copies of them with
// the CUDA one, and the results and every storage the arguments reach are
// compared element by element. Cases that need a GPU skip themselves
// without one.

#include <doctest/doctest.h>

#include "support.hpp"
#include "support_cuda.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cuda/operators.hpp>

namespace {

using namespace wrapgraph;
namespace cuda = wrapgraph::backend::cuda;
using exec::extents;
using exec::keyword_value;
using exec::tensor;
using exec::value;
using exec::value_list;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// The kernel cache of these tests, apart from the user's.
std::filesystem::path test_cache() { return std::filesystem::temp_directory_path() / "wrapgraph-test-cache"; }

// The device the GPU cases share.
std::shared_ptr<cuda::device_resources> shared_resources() {
  static const std::shared_ptr<cuda::device_resources> r = [] {
    cuda::nvrtc_options o;
    o.cache_dir = test_cache();
    return std::make_shared<cuda::device_resources>(0, o);
  }();
  return r;
}

bool is_integral(dtype t) { return !is_floating_point(t); }

// Equal element by element (NaN equal to NaN; floats within `tolerance`
// of max(1, |expected|)); reports the first differences.
bool same_elements(const tensor& expected, const tensor& got, double tolerance, const std::string& what) {
  if (expected.type() != got.type() || expected.sizes() != got.sizes()) {
    MESSAGE(what << ": expected " << exec::to_string(expected, 0) << ", got " << exec::to_string(got, 0));
    return false;
  }
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < expected.numel(); ++i) {
    bool equal;
    if (is_integral(expected.type())) {
      equal = expected.get_int(i) == got.get_int(i);
    } else {
      const double e = expected.get(i), g = got.get(i);
      equal = std::isnan(e) ? std::isnan(g) : std::abs(g - e) <= tolerance * std::max(1.0, std::abs(e));
    }
    if (!equal && ++bad <= 5)
      MESSAGE(what << ": element " << i << ": expected " << expected.get(i) << ", got " << got.get(i));
  }
  return bad == 0;
}

std::vector<double> iota(std::int64_t n, double start = 0, double step = 1) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(start + step * static_cast<double>(i));
  return v;
}

// The last two dimensions swapped: a non-contiguous view.
tensor transpose(const tensor& t) {
  extents sizes = t.sizes(), strides = t.strides();
  const std::size_t r = sizes.size();
  std::swap(sizes[r - 1], sizes[r - 2]);
  std::swap(strides[r - 1], strides[r - 2]);
  return t.view(std::move(sizes), std::move(strides), t.offset());
}

const tensor& tensor_of(const value& v) {
  REQUIRE(v.as_tensor() != nullptr);
  return *v.as_tensor();
}

// Host memory, the GPU's memory, a generator per device seeded alike, and
// calls of the built-in operators on either device.
struct fixture {
  std::shared_ptr<exec::host_memory> host = std::make_shared<exec::host_memory>();
  std::shared_ptr<cuda::cuda_memory> memory;
  std::mt19937_64 cpu_random{20240601}, gpu_random{20240601};

  fixture() {
    if (test::no_gpu().empty()) {
      memory = std::make_shared<cuda::cuda_memory>(shared_resources());
      shared_resources()->ctx.make_current();
    }
  }

  const cuda::device_resources& resources() const { return memory->resources(); }

  // ---- host tensors ----
  tensor make(dtype type, extents sizes, const std::vector<double>& values) {
    tensor t = exec::empty(*host, type, std::move(sizes));
    REQUIRE(static_cast<std::int64_t>(values.size()) == t.numel());
    for (std::size_t i = 0; i < values.size(); ++i) t.set(static_cast<std::int64_t>(i), values[i]);
    return t;
  }
  tensor make_int(dtype type, extents sizes, const std::vector<std::int64_t>& values) {
    tensor t = exec::empty(*host, type, std::move(sizes));
    REQUIRE(static_cast<std::int64_t>(values.size()) == t.numel());
    for (std::size_t i = 0; i < values.size(); ++i) t.set_int(static_cast<std::int64_t>(i), values[i]);
    return t;
  }
  tensor full(dtype type, extents sizes, double x) {
    tensor t = exec::empty(*host, type, std::move(sizes));
    for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, x);
    return t;
  }
  // A view of `sizes` whose elements are two apart, one element into its
  // storage; every element of the storage starts as `fill`.
  tensor spread(dtype type, extents sizes, double fill = -7) {
    extents strides = exec::contiguous_strides({sizes.data(), sizes.size()});
    for (std::int64_t& s : strides) s *= 2;
    std::int64_t n = 1;
    for (std::int64_t s : sizes) n *= s;
    tensor whole = full(type, {2 * n + 2}, fill);
    return whole.view(std::move(sizes), std::move(strides), 1);
  }
  // n integers drawn uniformly from [lo, hi) by a generator of the test's.
  std::vector<std::int64_t> random_ints(std::size_t n, std::int64_t lo, std::int64_t hi, unsigned seed) {
    std::mt19937_64 g(seed);
    std::uniform_int_distribution<std::int64_t> d(lo, hi - 1);
    std::vector<std::int64_t> v(n);
    for (std::int64_t& x : v) x = d(g);
    return v;
  }

  // ---- copies between the devices ----
  using storage_map = std::map<const exec::storage*, exec::storage_ptr>;

  // `t` on the GPU with the same layout: its whole storage is copied once
  // per storage (so views of one storage stay views of one storage).
  tensor to_device(const tensor& t, storage_map& copies) {
    exec::storage_ptr& s = copies[t.storage().get()];
    if (!s) {
      const std::size_t bytes = t.storage()->bytes();
      s = memory->allocate(bytes);
      if (bytes > 0) {
        cuda::check(cuda::api::driver().cuMemcpyHtoDAsync(reinterpret_cast<cuda::api::CUdeviceptr>(s->data()),
                                                          t.storage()->data(), bytes, resources().work.get()),
                    "copying a test input to the device");
        resources().work.synchronize();
      }
    }
    return tensor(s, t.type(), t.sizes(), t.strides(), t.offset());
  }
  tensor to_device(const tensor& t) {
    storage_map copies;
    return to_device(t, copies);
  }
  value to_device(const value& v, storage_map& copies) {
    if (const tensor* t = v.as_tensor(); t && t->defined()) return to_device(*t, copies);
    if (const value_list* l = v.as_list()) {
      value_list out;
      for (const value& x : *l) out.push_back(to_device(x, copies));
      return out;
    }
    return v;
  }
  // A GPU tensor on the host with the same layout (its whole storage copied).
  tensor to_host(const tensor& t) {
    const std::size_t bytes = t.storage()->bytes();
    exec::storage_ptr s = host->allocate(bytes);
    if (bytes > 0) {
      cuda::check(cuda::api::driver().cuMemcpyDtoHAsync(s->data(), reinterpret_cast<cuda::api::CUdeviceptr>(t.storage()->data()),
                                                        bytes, resources().work.get()),
                  "copying a test result to the host");
    }
    resources().work.synchronize();
    return tensor(s, t.type(), t.sizes(), t.strides(), t.offset());
  }
  static tensor whole(const tensor& t) {
    const auto n = static_cast<std::int64_t>(t.storage()->bytes() / t.element_size());
    return t.view({n}, {1}, 0);
  }

  // ---- calls ----
  value call_cpu(std::string_view name, const std::vector<value>& args, const std::vector<keyword_value>& kwargs) {
    const exec::operator_fn* fn = cuda::builtin_operators().find(name, device_kind::cpu);
    REQUIRE(fn != nullptr);
    exec::op_context ctx{*host, cpu_random};
    return (*fn)(ctx, exec::op_arguments(name, args, kwargs));
  }
  value call_gpu(std::string_view name, const std::vector<value>& args, const std::vector<keyword_value>& kwargs) {
    const exec::operator_fn* fn = cuda::builtin_operators().find(name, device_kind::cuda);
    REQUIRE(fn != nullptr);
    exec::op_context ctx{*memory, gpu_random};
    const value r = (*fn)(ctx, exec::op_arguments(name, args, kwargs));
    resources().work.synchronize();  // a kernel's failure shows here
    return r;
  }

  // Checks that two results agree: tensors element by element, lists item
  // by item, scalars exactly.
  void check_same(const value& cpu, const value& gpu, double tolerance, const std::string& what) {
    if (const tensor* t = cpu.as_tensor()) {
      REQUIRE(gpu.as_tensor() != nullptr);
      CHECK(gpu.as_tensor()->dev().kind == device_kind::cuda);
      CHECK(same_elements(*t, to_host(*gpu.as_tensor()), tolerance, what));
    } else if (const value_list* l = cpu.as_list()) {
      REQUIRE(gpu.as_list() != nullptr);
      REQUIRE(gpu.as_list()->size() == l->size());
      for (std::size_t i = 0; i < l->size(); ++i)
        check_same((*l)[i], (*gpu.as_list())[i], tolerance, what + "[" + std::to_string(i) + "]");
    } else if (const double* d = cpu.as_double()) {
      REQUIRE(gpu.as_double() != nullptr);
      if (tolerance == 0)
        CHECK(*gpu.as_double() == *d);
      else
        CHECK(*gpu.as_double() == doctest::Approx(*d).epsilon(tolerance));
    } else {
      CHECK(exec::to_string(cpu) == exec::to_string(gpu));
    }
  }

  // Runs `name` on the CPU with `args` and on the GPU with device copies of
  // them; checks that the results and every storage the arguments reach
  // (out, self, the gaps between their elements) agree. Returns the CPU's
  // result.
  value same_as_cpu(std::string_view name, const std::vector<value>& args, const std::vector<keyword_value>& kwargs = {},
                    double tolerance = 0) {
    INFO(name);
    storage_map copies;
    std::vector<value> device_args;
    for (const value& v : args) device_args.push_back(to_device(v, copies));
    std::vector<keyword_value> device_kwargs;
    for (const keyword_value& kv : kwargs) device_kwargs.emplace_back(kv.first, to_device(kv.second, copies));
    // The host views of each storage, to compare whole.
    std::vector<tensor> host_views;
    const auto collect = [&](const auto& self, const value& v) -> void {
      if (const tensor* t = v.as_tensor(); t && t->defined()) host_views.push_back(*t);
      if (const value_list* l = v.as_list())
        for (const value& x : *l) self(self, x);
    };
    for (const value& v : args) collect(collect, v);
    for (const keyword_value& kv : kwargs) collect(collect, kv.second);

    const value cpu = call_cpu(name, args, kwargs);
    const value gpu = call_gpu(name, device_args, device_kwargs);
    check_same(cpu, gpu, tolerance, std::string(name) + " result");
    for (const tensor& h : host_views) {
      const tensor d = tensor(copies.at(h.storage().get()), h.type(), h.sizes(), h.strides(), h.offset());
      CHECK(same_elements(whole(h), whole(to_host(d)), tolerance, std::string(name) + " argument storage"));
    }
    return cpu;
  }

  // The ids of the errors the CPU and the GPU raise for the call, which
  // must agree; then, that the arguments' storages are as they were.
  std::string error(std::string_view name, const std::vector<value>& args, const std::vector<keyword_value>& kwargs = {}) {
    INFO(name);
    storage_map copies;
    std::vector<value> device_args;
    for (const value& v : args) device_args.push_back(to_device(v, copies));
    std::vector<keyword_value> device_kwargs;
    for (const keyword_value& kv : kwargs) device_kwargs.emplace_back(kv.first, to_device(kv.second, copies));
    std::string cpu_message, gpu_message;
    const std::string cpu_id = test::error_id<run_error>([&] {
      try {
        (void)call_cpu(name, args, kwargs);
      } catch (const run_error& e) {
        cpu_message = e.message();
        throw;
      }
    });
    const std::string gpu_id = test::error_id<run_error>([&] {
      try {
        (void)call_gpu(name, device_args, device_kwargs);
      } catch (const run_error& e) {
        gpu_message = e.message();
        throw;
      }
    });
    CHECK(cpu_id == gpu_id);
    if (cpu_id == gpu_id && cpu_message.find(" is on ") == std::string::npos) CHECK(cpu_message == gpu_message);
    return gpu_id;
  }
};

// mm, addmm, bmm of `type` with small integer values, so that every sum is
// exact whatever the order.
std::vector<double> small_values(std::int64_t n, int period = 7) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i % period) - 3);
  return v;
}

}  // namespace

TEST_CASE("cuda operators: the CUDA operators' kernel sources all compile with NVRTC") {
  if (const std::string why = test::no_nvrtc(); !why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  const test::temp_dir cache("wrapgraph-cuda-operators");
  cuda::nvrtc_options options;
  options.cache_dir = cache.path;
  cuda::nvrtc_compiler compiler(90, options);
  for (std::size_t i = 0; i < cuda::detail::operator_modules.size(); ++i) {
    const std::string_view name = cuda::detail::operator_modules[i].name;
    INFO(name);
    const std::string& source = cuda::detail::operator_module_source(i);
    CHECK(source.starts_with(cuda::detail::operator_kernels_common));
    CHECK(source.find("#include") == std::string::npos);
    cuda::compiled_binary binary;
    CHECK_NOTHROW(binary = compiler.compile(name, source));
    CHECK(!binary.image.empty());
  }
}

TEST_CASE("cuda operators: the CUDA registry holds every CPU operator by name, those a replay cannot repeat flagged eager") {
  const exec::operator_registry& both = cuda::builtin_operators();
  const std::vector<std::string> cpu_names = backend::cpu::builtin_operators().names(device_kind::cpu);
  CHECK(both.names(device_kind::cuda) == cpu_names);
  CHECK(both.names(device_kind::cpu) == cpu_names);
  CHECK(&both == &cuda::builtin_operators());
  for (const std::string& name : cpu_names) {
    INFO(name);
    const bool eager = name == "aten.nonzero.default" || name == "aten.item.default" ||
                       name.starts_with("aten.scatter") || name == "aten.index_put_.default" ||
                       name == "aten.randint.low_out" || name == "aten.randn.default";
    CHECK(both.flags(name, device_kind::cuda) == (eager ? exec::operator_flags::eager : exec::operator_flags::none));
    CHECK(both.flags(name, device_kind::cpu) == exec::operator_flags::none);
  }
  exec::operator_registry r;
  cuda::add_builtin_operators(r);
  CHECK(r.names(device_kind::cpu).empty());
  CHECK(test::error_id<run_error>([&] { cuda::add_builtin_operators(r); }) == "wrapgraph.operator.duplicate");
  backend::cpu::add_builtin_operators(r);  // the two devices do not clash
  CHECK(r.names(device_kind::cpu) == cpu_names);
}

TEST_CASE("cuda operators: on a GPU, mm, addmm and bmm write the CPU's products into out") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  constexpr double tol = 1e-5;
  SUBCASE("mm of float32 matrices, row-major and transposed operands") {
    const tensor a = f.make(dtype::float32, {5, 7}, iota(35, -2, 0.25));
    const tensor b = f.make(dtype::float32, {7, 6}, iota(42, 1, -0.125));
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.full(dtype::float32, {5, 6}, 0)}}, tol);
    const tensor at = transpose(f.make(dtype::float32, {7, 5}, iota(35, 3, 0.5)));
    const tensor bt = transpose(f.make(dtype::float32, {6, 7}, iota(42, -4, 0.25)));
    f.same_as_cpu("aten.mm.out", {at, b}, {{"out", f.full(dtype::float32, {5, 6}, 0)}}, tol);
    f.same_as_cpu("aten.mm.out", {a, bt}, {{"out", f.full(dtype::float32, {5, 6}, 0)}}, tol);
    f.same_as_cpu("aten.mm.out", {at, bt}, {{"out", f.full(dtype::float32, {5, 6}, 0)}}, tol);
  }
  SUBCASE("mm into a transposed out, a strided out and a row of a wider matrix") {
    const tensor a = f.make(dtype::float64, {4, 3}, iota(12, -3, 0.5));
    const tensor b = f.make(dtype::float64, {3, 5}, iota(15, 1, 0.25));
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", transpose(f.full(dtype::float64, {5, 4}, 0))}}, tol);
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.spread(dtype::float64, {4, 5})}}, tol);
    const tensor wide = f.full(dtype::float64, {4, 9}, -1);  // out is its columns 2..6
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", wide.view({4, 5}, {9, 1}, 2)}}, tol);
    const tensor a_rows = f.make(dtype::float64, {4, 8}, iota(32)).view({4, 3}, {8, 1}, 1);  // ld 8
    f.same_as_cpu("aten.mm.out", {a_rows, b}, {{"out", f.full(dtype::float64, {4, 5}, 0)}}, tol);
  }
  SUBCASE("mm of expanded (stride 0), strided and reversed operands goes through copies") {
    const tensor row = f.make(dtype::float32, {3}, {1, 2, 3});
    f.same_as_cpu("aten.mm.out", {row.view({2, 3}, {0, 1}, 0), f.make(dtype::float32, {3, 1}, {1, 1, 1})},
                  {{"out", f.full(dtype::float32, {2, 1}, 0)}}, tol);
    for (dtype type : {dtype::bfloat16, dtype::uint8, dtype::float32, dtype::int32}) {
      INFO(to_string(type));
      const tensor stored = f.make(type, {3, 3}, iota(9, 1));
      const tensor a = stored.view({3, 3}, {-3, -1}, 8);  // rows and columns reversed
      const tensor b = stored.view({3, 2}, {1, 3}, 0);    // a transposed corner
      f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.full(type, {3, 2}, 0)}}, tol);
    }
    const tensor every_other = f.make(dtype::float32, {4, 6}, small_values(24)).view({4, 3}, {6, 2}, 0);
    f.same_as_cpu("aten.mm.out", {every_other, f.make(dtype::float32, {3, 2}, small_values(6))},
                  {{"out", f.full(dtype::float32, {4, 2}, 0)}}, tol);
  }
  SUBCASE("mm of 1-row and 1-column matrices") {
    f.same_as_cpu("aten.mm.out", {f.make(dtype::float32, {1, 4}, iota(4)), f.make(dtype::float32, {4, 1}, iota(4, 1))},
                  {{"out", f.full(dtype::float32, {1, 1}, 0)}}, tol);
    f.same_as_cpu("aten.mm.out", {f.make(dtype::float32, {3, 1}, iota(3)), f.make(dtype::float32, {1, 4}, iota(4, 1))},
                  {{"out", f.full(dtype::float32, {3, 4}, 0)}}, tol);
  }
  SUBCASE("a larger float32 product stays within 1e-5 of the CPU's (no TF32)") {
    const tensor a = f.make(dtype::float32, {64, 96}, iota(64 * 96, -1, 1.0 / 1024));
    const tensor b = f.make(dtype::float32, {96, 80}, iota(96 * 80, 1, -1.0 / 2048));
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.full(dtype::float32, {64, 80}, 0)}}, tol);
  }
  SUBCASE("addmm broadcasts self from a row, a column, a 0-d tensor and an expanded view") {
    const tensor a = f.make(dtype::float32, {2, 3}, iota(6, 1));
    const tensor b = f.make(dtype::float32, {3, 4}, iota(12, -2));
    const tensor row = f.make(dtype::float32, {4}, {1, 2, 3, 4});
    for (const tensor& self : {row, f.make(dtype::float32, {2, 1}, {10, 20}), f.make(dtype::float32, {}, {5}),
                               f.make(dtype::float32, {2, 4}, iota(8, 0.5)), row.view({2, 4}, {0, 1}, 0)}) {
      f.same_as_cpu("aten.addmm.out", {self, a, b}, {{"beta", 0.5}, {"alpha", 2}, {"out", f.full(dtype::float32, {2, 4}, 0)}},
                    tol);
      f.same_as_cpu("aten.addmm.out", {self, a, b}, {{"out", transpose(f.full(dtype::float32, {4, 2}, 0))}}, tol);
    }
  }
  SUBCASE("addmm with beta = 0 ignores self and alpha = 0 the product, NaN included") {
    const tensor nan_self = f.full(dtype::float64, {2, 2}, not_a_number);
    const tensor a = f.make(dtype::float64, {2, 2}, {1, 2, 3, 4});
    f.same_as_cpu("aten.addmm.out", {nan_self, a, a}, {{"beta", 0}, {"out", f.full(dtype::float64, {2, 2}, 0)}});
    const tensor nan_a = f.full(dtype::float32, {2, 2}, not_a_number);
    f.same_as_cpu("aten.addmm.out", {f.make(dtype::float32, {2}, {1, 2}), nan_a, nan_a},
                  {{"alpha", 0}, {"beta", 3}, {"out", f.full(dtype::float32, {2, 2}, 0)}});
    f.same_as_cpu("aten.addmm.out", {f.make(dtype::float32, {2}, {1, 2}), nan_a, nan_a},
                  {{"alpha", 0}, {"beta", 0}, {"out", f.full(dtype::float32, {2, 2}, not_a_number)}});
  }
  SUBCASE("addmm may write into self, contiguous or strided") {
    const tensor self = f.make(dtype::float32, {2, 2}, {1, 1, 1, 1});
    const tensor a = f.make(dtype::float32, {2, 2}, {1, 2, 3, 4});
    f.same_as_cpu("aten.addmm.out", {self, a, a}, {{"out", self}}, tol);
    const tensor spread_self = f.spread(dtype::float32, {2, 2}, 2);
    f.same_as_cpu("aten.addmm.out", {spread_self, a, a}, {{"beta", 3}, {"out", spread_self}}, tol);
  }
  SUBCASE("integer products are exact in int64 and wrap in int8, uint8 and int16") {
    const tensor a = f.make_int(dtype::int64, {1, 2}, {int64_max / 4, 3});
    const tensor b = f.make_int(dtype::int64, {2, 1}, {2, 5});
    f.same_as_cpu("aten.addmm.out", {f.make_int(dtype::int64, {1}, {1}), a, b},
                  {{"beta", 3}, {"alpha", 1}, {"out", f.make_int(dtype::int64, {1, 1}, {0})}});
    for (dtype type : {dtype::int8, dtype::uint8, dtype::int16, dtype::int32}) {
      INFO(to_string(type));
      const tensor x = f.make(type, {3, 4}, iota(12, 20, 9));
      const tensor y = transpose(f.make(type, {5, 4}, iota(20, 7, 5)));
      f.same_as_cpu("aten.mm.out", {x, y}, {{"out", f.full(type, {3, 5}, 0)}});
      f.same_as_cpu("aten.addmm.out", {f.make(type, {5}, iota(5, 1)), x, y},
                    {{"beta", 2}, {"alpha", -3}, {"out", f.spread(type, {3, 5})}});
    }
  }
  SUBCASE("float16 and bfloat16 products of small integers are exact") {
    for (dtype type : {dtype::float16, dtype::bfloat16}) {
      INFO(to_string(type));
      const tensor a = f.make(type, {6, 5}, small_values(30));
      const tensor b = transpose(f.make(type, {4, 5}, small_values(20, 5)));
      f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.spread(type, {6, 4})}});
      f.same_as_cpu("aten.addmm.out", {f.make(type, {4}, {1, -2, 3, 0.5}), a, b},
                    {{"beta", 2}, {"alpha", 0.5}, {"out", f.full(type, {6, 4}, 0)}});
      f.same_as_cpu("aten.bmm.out", {f.make(type, {2, 3, 5}, small_values(30)), f.make(type, {2, 5, 2}, small_values(20))},
                    {{"out", f.full(type, {2, 3, 2}, 0)}});
    }
  }
  SUBCASE("bmm over a batch of permuted, broadcast and transposed matrices") {
    // A [3, 2, 4] tensor stored as [2, 3, 4]: batch stride 4, row stride 12.
    const tensor stored = f.make(dtype::float32, {2, 3, 4}, iota(24, 1, 0.5));
    const tensor a = stored.view({3, 2, 4}, {4, 12, 1}, 0);
    const tensor b = f.make(dtype::float32, {3, 4, 2}, iota(24, -5));
    f.same_as_cpu("aten.bmm.out", {a, b}, {{"out", f.spread(dtype::float32, {3, 2, 2})}}, tol);
    const tensor one = f.make(dtype::float32, {4, 2}, iota(8, 2));
    const tensor shared = one.view({3, 4, 2}, {0, 2, 1}, 0);  // one matrix for the whole batch
    f.same_as_cpu("aten.bmm.out", {a, shared}, {{"out", f.full(dtype::float32, {3, 2, 2}, 0)}}, tol);
    const tensor reversed = b.view({3, 4, 2}, {8, -2, 1}, 6);  // each matrix's rows reversed: copied
    f.same_as_cpu("aten.bmm.out", {a, reversed}, {{"out", f.full(dtype::float32, {3, 2, 2}, 0)}}, tol);
    f.same_as_cpu("aten.bmm.out", {a, one.view({3, 4, 2}, {0, -2, 1}, 6)}, {{"out", f.spread(dtype::float32, {3, 2, 2})}},
                  tol);
    const tensor bt = transpose(f.make(dtype::float64, {3, 2, 4}, iota(24, 0.5, 0.25)));  // [3, 4, 2]
    f.same_as_cpu("aten.bmm.out", {f.make(dtype::float64, {3, 5, 4}, iota(60, -7, 0.5)), bt},
                  {{"out", transpose(f.full(dtype::float64, {3, 2, 5}, 0))}}, tol);
    f.same_as_cpu("aten.bmm.out", {f.make_int(dtype::int64, {2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
                                   f.make_int(dtype::int64, {2, 3, 1}, {1, -1, 2, 3, 0, -2})},
                  {{"out", f.full(dtype::int64, {2, 2, 1}, 0)}});
  }
  SUBCASE("an inner size of 0 gives beta * self or zeros, an outer size of 0 nothing") {
    const tensor a = f.make(dtype::float32, {2, 0}, {});
    const tensor b = f.make(dtype::float32, {0, 3}, {});
    f.same_as_cpu("aten.addmm.out", {f.make(dtype::float32, {3}, {1, 2, 3}), a, b},
                  {{"beta", 2}, {"out", f.full(dtype::float32, {2, 3}, not_a_number)}});
    f.same_as_cpu("aten.mm.out", {a, b}, {{"out", f.full(dtype::float32, {2, 3}, not_a_number)}});
    f.same_as_cpu("aten.bmm.out", {f.make(dtype::float64, {2, 2, 0}, {}), f.make(dtype::float64, {2, 0, 3}, {})},
                  {{"out", f.spread(dtype::float64, {2, 2, 3})}});
    f.same_as_cpu("aten.mm.out", {b.view({0, 2}, {3, 1}, 0), f.make(dtype::float32, {2, 3}, iota(6))},
                  {{"out", f.make(dtype::float32, {0, 3}, {})}});
    f.same_as_cpu("aten.bmm.out", {f.make(dtype::float32, {0, 2, 3}, {}), f.make(dtype::float32, {0, 3, 2}, {})},
                  {{"out", f.make(dtype::float32, {0, 2, 2}, {})}});
  }
  SUBCASE("bad shapes, dtypes, devices and arguments are the CPU's errors") {
    const tensor a = f.make(dtype::float32, {2, 3}, iota(6));
    const tensor b = f.make(dtype::float32, {4, 5}, iota(20));
    const tensor c = f.make(dtype::float32, {3, 5}, iota(15));
    const tensor out = f.full(dtype::float32, {2, 5}, 0);
    CHECK(f.error("aten.mm.out", {a, b}, {{"out", out}}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", f.full(dtype::float32, {5, 2}, 0)}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", f.full(dtype::float64, {2, 5}, 0)}}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.mm.out", {f.make(dtype::float32, {6}, iota(6)), c}, {{"out", out}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.mm.out", {a, c, out}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.mm.out", {a, 3}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    const tensor flags = f.make(dtype::bool_, {2, 2}, {1, 0, 0, 1});
    CHECK(f.error("aten.mm.out", {flags, flags}, {{"out", flags}}) == "wrapgraph.operator.unsupported_dtype");
    const tensor i = f.make_int(dtype::int32, {2, 2}, {1, 2, 3, 4});
    CHECK(f.error("aten.addmm.out", {i, i, i}, {{"alpha", 0.5}, {"out", i}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.addmm.out", {f.make(dtype::float32, {3}, iota(3)), a, c}, {{"out", out}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.bmm.out", {f.make(dtype::float32, {2, 2, 3}, iota(12)), f.make(dtype::float32, {3, 3, 2}, iota(18))},
                  {{"out", f.full(dtype::float32, {2, 2, 2}, 0)}}) == "wrapgraph.operator.shape_mismatch");
    // A host tensor given to the CUDA operator.
    CHECK(test::error_id<run_error>([&] {
            (void)f.call_gpu("aten.mm.out", {f.to_device(a), c}, {{"out", f.to_device(out)}});
          }) == "wrapgraph.operator.device_mismatch");
  }
}

TEST_CASE("cuda operators: on a GPU, topk and sort order as the CPU does: stable, NaN the largest") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  SUBCASE("topk largest and smallest, ties by lower index first") {
    const tensor t = f.make(dtype::float32, {5}, {1, 3, 2, 3, 0});
    f.same_as_cpu("aten.topk.default", {t, 3});
    f.same_as_cpu("aten.topk.default", {t, 3}, {{"largest", false}});
    const tensor ints = f.make_int(dtype::int32, {5}, {4, -1, 7, -1, 2});
    f.same_as_cpu("aten.topk.default", {ints, 2}, {{"largest", false}});
    f.same_as_cpu("aten.topk.default", {ints, 5, 0, true, false});
  }
  SUBCASE("NaN counts as the largest value") {
    const tensor t = f.make(dtype::float64, {4}, {1, not_a_number, 3, not_a_number});
    f.same_as_cpu("aten.topk.default", {t, 3});
    f.same_as_cpu("aten.topk.default", {t, 3}, {{"largest", false}});
    f.same_as_cpu("aten.sort.default", {f.make(dtype::float32, {6}, {2, not_a_number, 1, 2, -0.5, 1})});
    f.same_as_cpu("aten.sort.default", {f.make(dtype::float32, {6}, {2, not_a_number, 1, 2, -0.5, 1}), 0, true});
  }
  SUBCASE("along either dimension of a transposed float16 matrix, and of a 3-d tensor") {
    const tensor t = transpose(f.make(dtype::float16, {3, 2}, {1, 4, 5, 0, 2, 6}));
    f.same_as_cpu("aten.topk.default", {t, 1});
    f.same_as_cpu("aten.topk.default", {t, 1}, {{"dim", 0}});
    f.same_as_cpu("aten.topk.default", {t, 2, 0, false, true});
    const tensor cube = f.make(dtype::bfloat16, {3, 4, 5}, small_values(60, 5));
    for (std::int64_t dim = -3; dim < 3; ++dim) {
      f.same_as_cpu("aten.sort.default", {cube, dim});
      f.same_as_cpu("aten.sort.default", {cube, dim, true});
      f.same_as_cpu("aten.topk.default", {cube, 2, dim});
      f.same_as_cpu("aten.topk.default", {cube, 2, dim, false});
    }
  }
  SUBCASE("int64 keys keep their full precision") {
    const std::int64_t big = std::int64_t{1} << 60;
    f.same_as_cpu("aten.topk.default", {f.make_int(dtype::int64, {3}, {big, big + 1, big - 1}), 3});
    f.same_as_cpu("aten.sort.default", {f.make_int(dtype::int64, {4}, {big, -big, big + 1, big - 1})});
  }
  SUBCASE("long rows with many ties, over several tiles and many slices") {
    const std::vector<std::int64_t> values = f.random_ints(8 * 1000, -20, 20, 7);
    std::vector<double> as_double(values.begin(), values.end());
    const tensor rows = f.make(dtype::float32, {8, 1000}, as_double);
    f.same_as_cpu("aten.sort.default", {rows});
    f.same_as_cpu("aten.sort.default", {rows, 1, true});
    f.same_as_cpu("aten.sort.default", {rows, 0});
    f.same_as_cpu("aten.topk.default", {rows, 37});
    f.same_as_cpu("aten.topk.default", {rows, 600, -1, false});
    f.same_as_cpu("aten.topk.default", {transpose(rows), 3, 0});
    const tensor ints = f.make_int(dtype::int16, {300, 7}, f.random_ints(2100, -5, 5, 11));
    f.same_as_cpu("aten.sort.default", {ints, 0, true});
    f.same_as_cpu("aten.sort.default", {ints});
    // More slices than a grid's second dimension holds.
    const tensor pairs = f.make_int(dtype::int32, {70000, 3}, f.random_ints(210000, -3, 3, 5));
    f.same_as_cpu("aten.sort.default", {pairs, 1, true});
    f.same_as_cpu("aten.topk.default", {pairs, 1});
  }
  SUBCASE("bool, a 0-d tensor, k = 0 and empty slices") {
    f.same_as_cpu("aten.sort.default", {f.make(dtype::bool_, {4}, {1, 0, 1, 0})});
    f.same_as_cpu("aten.sort.default", {f.make(dtype::bool_, {4}, {1, 0, 1, 0}), 0, true});
    f.same_as_cpu("aten.sort.default", {f.make(dtype::float64, {}, {2.5})});
    f.same_as_cpu("aten.topk.default", {f.make(dtype::float64, {}, {2.5}), 1});
    f.same_as_cpu("aten.topk.default", {f.make(dtype::float32, {2, 3}, iota(6)), 0});
    f.same_as_cpu("aten.topk.default", {f.make(dtype::float32, {0, 3}, {}), 2});
    f.same_as_cpu("aten.sort.default", {f.make(dtype::int8, {3, 0}, {})});
  }
  SUBCASE("bad k, dim and dtype are the CPU's errors") {
    const tensor t = f.make(dtype::float32, {2, 3}, iota(6));
    CHECK(f.error("aten.topk.default", {t, 4}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.topk.default", {t, -1}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.topk.default", {t, 1, 2}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.topk.default", {t}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.topk.default", {f.make(dtype::bool_, {2}, {0, 1}), 1}) == "wrapgraph.operator.unsupported_dtype");
    CHECK(f.error("aten.sort.default", {t, 5}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.sort.default", {t}, {{"stable", true}}) == "wrapgraph.operator.bad_argument");
  }
}

TEST_CASE("cuda operators: on a GPU, nonzero lists the CPU's coordinates and reads its size back") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  f.same_as_cpu("aten.nonzero.default", {transpose(f.make(dtype::float32, {2, 3}, {0, 3, 0, 2, 0, 5}))});
  for (dtype type : {dtype::float16, dtype::bfloat16, dtype::float32, dtype::float64})
    f.same_as_cpu("aten.nonzero.default", {f.make(type, {4}, {-0.0, not_a_number, 0, 0.5})});
  f.same_as_cpu("aten.nonzero.default", {f.make(dtype::bool_, {3}, {1, 0, 1})});
  f.same_as_cpu("aten.nonzero.default", {f.make_int(dtype::int8, {2, 2}, {0, -1, 0, 0})});
  f.same_as_cpu("aten.nonzero.default", {f.make(dtype::int32, {}, {7})});
  f.same_as_cpu("aten.nonzero.default", {f.make(dtype::int32, {}, {0})});
  f.same_as_cpu("aten.nonzero.default", {f.make(dtype::float32, {2, 0, 3}, {})});
  // None at all.
  const value none = f.same_as_cpu("aten.nonzero.default", {f.full(dtype::float32, {2, 2}, 0)});
  CHECK(tensor_of(none).sizes() == extents{0, 2});
  // Many chunks, in a strided 3-d view.
  std::vector<double> sparse;
  for (std::int64_t x : f.random_ints(3 * 50 * 200, 0, 10, 3)) sparse.push_back(x < 3 ? static_cast<double>(x) : 0.0);
  const tensor big = f.make(dtype::int64, {3, 50, 200}, sparse);
  f.same_as_cpu("aten.nonzero.default", {big});
  f.same_as_cpu("aten.nonzero.default", {big.view({3, 50, 100}, {10000, 200, 2}, 1)});
  f.same_as_cpu("aten.nonzero.default", {f.full(dtype::uint8, {10000}, 1)});
  // More chunks of 4096 than the scan's 1024 threads.
  std::vector<double> flags(4096 * 1500 + 17, 0.0);
  for (std::size_t i = 0; i < flags.size(); i += 997) flags[i] = 1;
  f.same_as_cpu("aten.nonzero.default", {f.make(dtype::bool_, {static_cast<std::int64_t>(flags.size())}, flags)});
  CHECK(f.error("aten.nonzero.default", {}) == "wrapgraph.operator.missing_argument");
}

TEST_CASE("cuda operators: on a GPU, randint and randn draw repeatably from the run's generator") {
  WRAPGRAPH_REQUIRE_GPU();
  SUBCASE("randint fills a strided out with integers in [low, high) and leaves the gaps") {
    fixture f;
    const tensor out = f.to_device(f.spread(dtype::int64, {50, 4}));
    const value r = f.call_gpu("aten.randint.low_out", {-3, 4, value_list{50, 4}}, {{"out", out}});
    CHECK(tensor_of(r).storage() == out.storage());
    const tensor host = f.to_host(out);
    std::vector<int> seen(7, 0);
    for (std::int64_t i = 0; i < host.numel(); ++i) {
      const std::int64_t x = host.get_int(i);
      REQUIRE(x >= -3);
      REQUIRE(x < 4);
      ++seen[static_cast<std::size_t>(x + 3)];
    }
    for (int count : seen) CHECK(count > 0);
    const tensor storage = fixture::whole(host);
    for (std::int64_t i = 0; i < storage.numel(); i += 2) CHECK(storage.get(i) == -7);
  }
  SUBCASE("the same seed gives the same integers, in any dtype; another seed others") {
    for (dtype type : {dtype::int64, dtype::uint8, dtype::int8, dtype::float32, dtype::float16, dtype::bool_}) {
      INFO(to_string(type));
      fixture g, h;
      const std::int64_t high = type == dtype::bool_ ? 2 : 100;
      const tensor a = g.to_device(g.full(type, {1000}, 0)), b = h.to_device(h.full(type, {1000}, 0));
      g.call_gpu("aten.randint.low_out", {0, high, value_list{1000}}, {{"out", a}});
      h.call_gpu("aten.randint.low_out", {0, high, value_list{1000}}, {{"out", b}});
      const std::vector<double> x = exec::to_vector(g.to_host(a)), y = exec::to_vector(h.to_host(b));
      CHECK(x == y);
      for (double v : x) CHECK((v >= 0 && v < static_cast<double>(high) && v == std::floor(v)));
      g.call_gpu("aten.randint.low_out", {0, high, value_list{1000}}, {{"out", a}});
      CHECK(exec::to_vector(g.to_host(a)) != x);  // the generator moved on
    }
  }
  SUBCASE("randn gives standard normal samples, repeatably, in every float dtype") {
    fixture f;
    const tensor t = tensor_of(f.call_gpu("aten.randn.default", {value(value_list{100, 100})}, {}));
    CHECK(t.type() == dtype::float32);
    CHECK(t.sizes() == extents{100, 100});
    CHECK(t.dev().kind == device_kind::cuda);
    double sum = 0, squares = 0;
    for (double x : exec::to_vector(f.to_host(t))) {
      sum += x;
      squares += x * x;
    }
    const double mean = sum / 10000, variance = squares / 10000 - mean * mean;
    CHECK(std::abs(mean) < 0.05);
    CHECK(std::abs(variance - 1) < 0.05);
    for (const char* type : {"float16", "torch.bfloat16", "float32", "float64"}) {
      INFO(type);
      fixture g, h;
      const tensor x = tensor_of(g.call_gpu("aten.randn.default", {value(value_list{7})}, {{"dtype", type}}));
      const tensor y = tensor_of(h.call_gpu("aten.randn.default", {value(value_list{7})}, {{"dtype", type}}));
      CHECK(exec::to_vector(g.to_host(x)) == exec::to_vector(h.to_host(y)));
    }
    CHECK(tensor_of(f.call_gpu("aten.randn.default", {value(value_list{})}, {{"device", "cuda"}})).dim() == 0);
    CHECK(tensor_of(f.call_gpu("aten.randn.default", {value(value_list{0, 3})}, {{"device", "cuda:0"}})).numel() == 0);
  }
  SUBCASE("bad sizes, ranges, dtypes and devices are the CPU's errors") {
    fixture f;
    const tensor out = f.full(dtype::int64, {3}, 0);
    CHECK(f.error("aten.randint.low_out", {5, 5, value_list{3}}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{4}}, {{"out", out}}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{-1}}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 300, value_list{3}}, {{"out", f.full(dtype::uint8, {3}, 0)}}) ==
          "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{3}}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"dtype", "int64"}}) ==
          "wrapgraph.operator.unsupported_dtype");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"dtype", "float128"}}) ==
          "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"generator", value()}}) ==
          "wrapgraph.operator.bad_argument");
    const auto gpu_error = [&](std::vector<keyword_value> kwargs) {
      return test::error_id<run_error>([&] { (void)f.call_gpu("aten.randn.default", {value(value_list{2})}, kwargs); });
    };
    CHECK(gpu_error({{"device", "cpu"}}) == "wrapgraph.operator.device_mismatch");
    CHECK(gpu_error({{"device", "cuda:7"}}) == "wrapgraph.operator.device_mismatch");
  }
}

TEST_CASE("cuda operators: on a GPU, scatter_ and scatter_reduce_ write what the CPU writes") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  const tensor src = f.make(dtype::float32, {2, 5}, iota(10, 1));
  SUBCASE("scatter_.src along dim 0 and dim 1, and into transposed views") {
    f.same_as_cpu("aten.scatter_.src", {f.full(dtype::float32, {3, 5}, 0), 0, f.make_int(dtype::int64, {1, 4}, {0, 1, 2, 0}), src});
    f.same_as_cpu("aten.scatter_.src",
                  {f.full(dtype::float32, {3, 5}, 0), 1, f.make_int(dtype::int64, {2, 3}, {0, 1, 2, 0, 1, 4}), src});
    const tensor self = transpose(f.full(dtype::int32, {2, 3}, 0));
    const tensor s = transpose(f.make_int(dtype::int32, {2, 3}, {1, 3, 5, 2, 4, 6}));
    f.same_as_cpu("aten.scatter_.src", {self, -1, f.make_int(dtype::int64, {3, 1}, {1, 0, 1}), s});
    f.same_as_cpu("aten.scatter_.src",
                  {f.spread(dtype::float64, {4, 3}), 0, transpose(f.make_int(dtype::int64, {3, 2}, {3, 0, 1, 1, 2, 3})),
                   f.make(dtype::float64, {2, 3}, iota(6, 10))});
  }
  SUBCASE("of repeated indices the last in row-major order wins") {
    const tensor index = f.make_int(dtype::int64, {2, 6}, {0, 0, 1, 0, 2, 2, 1, 1, 1, 0, 0, 1});
    f.same_as_cpu("aten.scatter_.src", {f.full(dtype::float32, {3, 6}, 0), 0, index, f.make(dtype::float32, {2, 6}, iota(12, 1))});
    const std::vector<std::int64_t> many = f.random_ints(5000, 0, 7, 5);
    f.same_as_cpu("aten.scatter_.src", {f.full(dtype::int16, {7}, -1), 0, f.make_int(dtype::int64, {5000}, many),
                                        f.make(dtype::int16, {5000}, iota(5000))});
  }
  SUBCASE("scatter_.value writes a scalar converted to self's dtype") {
    f.same_as_cpu("aten.scatter_.value", {f.full(dtype::float64, {2, 4}, 2), 1, f.make_int(dtype::int64, {2, 1}, {2, 3}), 1.25});
    f.same_as_cpu("aten.scatter_.value", {f.full(dtype::int16, {3}, 0), 0, f.make_int(dtype::int64, {2}, {0, 2}), -2.75});
    f.same_as_cpu("aten.scatter_.value", {f.full(dtype::bfloat16, {3}, 0), 0, f.make_int(dtype::int64, {3}, {0, 2, 2}), 0.1});
    f.same_as_cpu("aten.scatter_.value", {f.full(dtype::bool_, {3}, 0), 0, f.make_int(dtype::int64, {1}, {1}), true});
  }
  SUBCASE("reduce add and multiply accumulate repeated indices, in every element width") {
    const tensor index = f.make_int(dtype::int64, {2, 1}, {2, 3});
    f.same_as_cpu("aten.scatter_.value_reduce", {f.full(dtype::float32, {2, 4}, 2), 1, index, 1.5}, {{"reduce", "multiply"}});
    f.same_as_cpu("aten.scatter_.value_reduce", {f.full(dtype::float32, {2, 4}, 2), 1, index, 1.5}, {{"reduce", "add"}});
    const tensor ix = f.make_int(dtype::int64, {4}, {0, 0, 2, 0});
    const tensor s = f.make_int(dtype::int64, {4}, {2, 3, 4, 5});
    f.same_as_cpu("aten.scatter_.reduce", {f.full(dtype::int64, {3}, 1), 0, ix, s}, {{"reduce", "add"}});
    f.same_as_cpu("aten.scatter_.reduce", {f.full(dtype::int64, {3}, 1), 0, ix, s}, {{"reduce", "multiply"}});
    // Thousands of values on a few elements: integers wrap alike in any order.
    const tensor many = f.make_int(dtype::int64, {4000}, f.random_ints(4000, 0, 5, 9));
    for (dtype type : {dtype::int8, dtype::uint8, dtype::int16, dtype::int32, dtype::int64}) {
      INFO(to_string(type));
      const tensor values = f.make_int(type, {4000}, f.random_ints(4000, 0, 100, 13));
      f.same_as_cpu("aten.scatter_.reduce", {f.spread(type, {5}, 1), 0, many, values}, {{"reduce", "add"}});
      f.same_as_cpu("aten.scatter_.reduce", {f.spread(type, {5}, 1), 0, many, values}, {{"reduce", "multiply"}});
    }
    // Small integers sum exactly in floats, in any order.
    for (dtype type : {dtype::float16, dtype::bfloat16, dtype::float32, dtype::float64}) {
      INFO(to_string(type));
      const tensor values = f.make_int(type, {4000}, f.random_ints(4000, -1, 2, 17));
      f.same_as_cpu("aten.scatter_.reduce", {f.full(type, {5}, 0), 0, many, values}, {{"reduce", "add"}});
    }
  }
  SUBCASE("scatter_reduce_.two with every reduce, with and without self") {
    const tensor s = f.make(dtype::float32, {6}, {1, 2, 3, 4, 5, 6});
    const tensor index = f.make_int(dtype::int64, {6}, {0, 1, 0, 1, 2, 1});
    for (const char* how : {"sum", "prod", "mean", "amax", "amin"})
      for (bool include_self : {true, false}) {
        INFO(how, " include_self=", include_self);
        f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::float32, {4}, {1, 2, 3, 4}), 0, index, s, how},
                      {{"include_self", include_self}}, 1e-6);
        for (dtype type : {dtype::int32, dtype::int64, dtype::int8})
          f.same_as_cpu("aten.scatter_reduce_.two",
                        {f.make_int(type, {2, 4}, {1, 2, 3, 4, -5, 6, 7, -8}), 1,
                         f.make_int(dtype::int64, {2, 6}, {0, 1, 0, 1, 2, 1, 3, 3, 0, 3, 2, 3}),
                         f.make_int(type, {2, 6}, {1, -2, 3, 4, -5, 6, 7, 8, -9, 10, 11, 12}), how},
                        {{"include_self", include_self}});
      }
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::float32, {4}, {1, 2, 3, 4}), 0, index, s}, {{"reduce", "sum"}});
  }
  SUBCASE("integer means divide with floor, amax propagates NaN, float16 sums round, bool prod") {
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make_int(dtype::int64, {2}, {0, 7}), 0, f.make_int(dtype::int64, {3}, {0, 0, 1}),
                                               f.make_int(dtype::int64, {3}, {-1, -1, 0}), "mean"});
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::float64, {2}, {1, not_a_number}), 0,
                                               f.make_int(dtype::int64, {2}, {0, 1}), f.make(dtype::float64, {2}, {not_a_number, 5}),
                                               "amax"});
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::float16, {1}, {2048}), 0, f.make_int(dtype::int64, {2}, {0, 0}),
                                               f.make(dtype::float16, {2}, {1, 1}), "sum"});
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::bool_, {2}, {0, 1}), 0, f.make_int(dtype::int64, {2}, {0, 1}),
                                               f.make(dtype::bool_, {2}, {1, 0}), "prod"});
    f.same_as_cpu("aten.scatter_reduce_.two", {f.make(dtype::bool_, {3}, {0, 1, 0}), 0, f.make_int(dtype::int64, {4}, {0, 2, 2, 0}),
                                               f.make(dtype::bool_, {4}, {1, 0, 1, 0}), "amax"},
                  {{"include_self", false}});
  }
  SUBCASE("an empty index or a 0-d self") {
    f.same_as_cpu("aten.scatter_.src", {f.full(dtype::float32, {3}, 1), 0, f.make_int(dtype::int64, {0}, {}), src});
    f.same_as_cpu("aten.scatter_.value", {f.make(dtype::float32, {}, {1}), 0, f.make_int(dtype::int64, {}, {0}), 4.0});
  }
  SUBCASE("bad indices, shapes, dtypes and reduces are the CPU's errors and write nothing") {
    const tensor self = f.full(dtype::float32, {3, 5}, 0);
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {1, 2}, {0, 3}), src}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {2, 3}, {1, 5, 0, 2, -1, 9}), src}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.scatter_.value", {self, 1, transpose(f.make_int(dtype::int64, {2, 2}, {0, 1, 7, 4})), 1.0}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.scatter_reduce_.two", {self, 1, f.make_int(dtype::int64, {1, 2}, {5, 0}), src, "sum"}) ==
          "wrapgraph.operator.index_out_of_range");
    // Nothing written: the device's self is still zeros after a failed scatter.
    const tensor device_self = f.to_device(self);
    CHECK(test::error_id<run_error>([&] {
            (void)f.call_gpu("aten.scatter_.src", {device_self, 0, f.to_device(f.make_int(dtype::int64, {1, 2}, {0, 3})),
                                                   f.to_device(src)}, {});
          }) == "wrapgraph.operator.index_out_of_range");
    CHECK(exec::to_vector(f.to_host(device_self)) == std::vector<double>(15, 0));
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int32, {1, 2}, {0, 1}), src}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {1, 2}, {0, 1}), f.full(dtype::float64, {2, 5}, 0)}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {3, 1}, {0, 1, 2}), src}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {2}, {0, 1}), src}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 2, f.make_int(dtype::int64, {1, 1}, {0}), src}) ==
          "wrapgraph.operator.bad_dimension");
    const tensor index = f.make_int(dtype::int64, {1, 1}, {0});
    CHECK(f.error("aten.scatter_.reduce", {self, 0, index, src}, {{"reduce", "mean"}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_.reduce", {self, 0, index, src}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.scatter_reduce_.two", {self, 0, index, src, "add"}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_.value", {f.full(dtype::uint8, {2}, 0), 0, f.make_int(dtype::int64, {1}, {0}), 300}) ==
          "wrapgraph.operator.overflow");
    CHECK(f.error("aten.scatter_reduce_.two", {f.full(dtype::bool_, {2}, 0), 0, f.make_int(dtype::int64, {1}, {0}),
                                              f.full(dtype::bool_, {1}, 1), "mean"}) ==
          "wrapgraph.operator.unsupported_dtype");
  }
}

TEST_CASE("cuda operators: on a GPU, index_put_ writes or accumulates what the CPU does, repeated indices in order") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  const auto rows = [&](std::vector<std::int64_t> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return f.make_int(dtype::int64, {n}, v);
  };
  SUBCASE("index tensors, None slices, negative indices, broadcasting, split indices") {
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {3, 4}, 0), value_list{rows({0, 2})},
                                              f.make(dtype::float32, {4}, iota(4, 1))});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::int32, {2, 4}, 0), value_list{value(), rows({1, -1})},
                                              f.make_int(dtype::int32, {2, 1}, {5, 6})});
    f.same_as_cpu("aten.index_put_.default",
                  {f.full(dtype::float64, {3, 3}, 0), value_list{f.make_int(dtype::int64, {2, 1}, {0, 2}), rows({0, 1, 2})},
                   f.make(dtype::float64, {}, {9})});
    f.same_as_cpu("aten.index_put_.default",
                  {f.full(dtype::float32, {3, 3}, 0), value_list{rows({0, 2}), rows({1, 0})}, f.make(dtype::float32, {2}, {7, 8})});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {2, 3, 4}, 0), value_list{rows({1, 0}), value(), rows({3, 0})},
                                              f.make(dtype::float32, {2, 3}, {1, 2, 3, 4, 5, 6})});
    f.same_as_cpu("aten.index_put_.default",
                  {f.spread(dtype::int16, {4, 3, 2}), value_list{value(), f.make_int(dtype::int32, {2}, {2, 0})},
                   f.make_int(dtype::int16, {4, 2, 2}, f.random_ints(16, -50, 50, 3))});
  }
  SUBCASE("accumulate adds repeated indices in order, bit for bit, into a transposed self") {
    f.same_as_cpu("aten.index_put_.default", {transpose(f.full(dtype::int64, {3, 2}, 1)), value_list{value(), rows({0, 0, 2})},
                                              f.make_int(dtype::int64, {3}, {10, 20, 30}), true});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float16, {2}, 0.5), value_list{rows({1, 1})},
                                              f.make(dtype::float16, {2}, {0.25, 0.25})},
                  {{"accumulate", true}});
    // Thousands of float values on a few rows: the same sums as the CPU's.
    const std::vector<std::int64_t> targets = f.random_ints(3000, -6, 6, 21);
    std::vector<double> values;
    for (std::int64_t i = 0; i < 3000 * 3; ++i) values.push_back(std::sin(static_cast<double>(i)) * 1000.0);
    for (dtype type : {dtype::float32, dtype::float16, dtype::bfloat16, dtype::float64}) {
      INFO(to_string(type));
      f.same_as_cpu("aten.index_put_.default", {f.make(type, {6, 3}, iota(18, 0.125)), value_list{rows(targets)},
                                                f.make(type, {3000, 3}, values), true});
      f.same_as_cpu("aten.index_put_.default", {f.make(type, {6, 3}, iota(18, 0.125)), value_list{rows(targets)},
                                                f.make(type, {3000, 3}, values), false});
    }
  }
  SUBCASE("few repeated indices into a large self") {
    const tensor targets = f.make_int(dtype::int64, {200}, f.random_ints(200, -5000, 5000, 31));
    const tensor values = f.make(dtype::float32, {200, 2}, iota(400, -3.3, 0.7));
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {5000, 2}, 1), value_list{targets}, values, true});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {5000, 2}, 1), value_list{targets}, values});
    const tensor few = f.make_int(dtype::int64, {200}, f.random_ints(200, 0, 3, 37));
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float64, {5000, 2}, 1), value_list{few}, f.make(dtype::float64, {200, 2}, iota(400, 0.1, 0.3)), true});
  }
  SUBCASE("bool and uint8 masks select the positions where they are true") {
    const tensor self = f.make(dtype::float32, {2, 3}, iota(6));
    f.same_as_cpu("aten.index_put_.default", {self, value_list{f.make(dtype::bool_, {2, 3}, {1, 0, 1, 0, 1, 0})},
                                              f.make(dtype::float32, {3}, {-1, -2, -3})});
    f.same_as_cpu("aten.index_put_.default", {self, value_list{f.make(dtype::bool_, {2}, {0, 1})}, f.make(dtype::float32, {}, {0})});
    f.same_as_cpu("aten.index_put_.default", {self, value_list{value(), f.make_int(dtype::uint8, {3}, {1, 0, 1})},
                                              f.make(dtype::float32, {2, 1}, {4, 5})});
    f.same_as_cpu("aten.index_put_.default", {self, value_list{f.make(dtype::bool_, {2, 3}, {0, 0, 0, 0, 0, 0})},
                                              f.make(dtype::float32, {}, {9})});
  }
  SUBCASE("no index tensors, or an empty one") {
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {2, 2}, 1), value_list{rows({})}, f.make(dtype::float32, {}, {5})});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {2, 2}, 1), value_list{value()}, f.make(dtype::float32, {2}, {3, 4})});
    f.same_as_cpu("aten.index_put_.default", {f.full(dtype::float32, {2, 2}, 1), value_list{}, f.make(dtype::float32, {2}, {3, 4}), true});
  }
  SUBCASE("bad indices, shapes and dtypes are the CPU's errors and write nothing") {
    const tensor self = f.full(dtype::float32, {2, 3}, 0);
    const tensor v = f.make(dtype::float32, {}, {1});
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0, 2})}, v}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({-3})}, v}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.index_put_.default", {self, value_list{value(), value(), rows({0})}, v}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0, 1})}, f.make(dtype::float32, {2}, {1, 2})}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0, 1}), rows({0, 1, 2})}, v}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.index_put_.default", {self, value_list{f.make(dtype::bool_, {3}, {1, 0, 1})}, v}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0})}, f.make(dtype::float64, {}, {1})}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.index_put_.default", {self, value_list{f.make(dtype::float32, {1}, {0})}, v}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.index_put_.default", {self, value_list{3}, v}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0})}}) == "wrapgraph.operator.missing_argument");
    CHECK(test::error_id<run_error>([&] {
            (void)f.call_gpu("aten.index_put_.default", {f.to_device(self), value_list{rows({0})}, f.to_device(v)}, {});
          }) == "wrapgraph.operator.device_mismatch");
  }
}

TEST_CASE("cuda operators: on a GPU, item, where.Scalar, the size queries and the scalar operators agree with the CPU") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  SUBCASE("item gives an int, a bool or a float by dtype") {
    f.same_as_cpu("aten.item.default", {f.make_int(dtype::int64, {1, 1}, {std::numeric_limits<std::int64_t>::min()})});
    f.same_as_cpu("aten.item.default", {f.make_int(dtype::uint8, {}, {255})});
    f.same_as_cpu("aten.item.default", {f.make(dtype::bool_, {1}, {1})});
    f.same_as_cpu("aten.item.default", {f.make(dtype::float16, {}, {0.1})});
    f.same_as_cpu("aten.item.default", {f.make(dtype::bfloat16, {1}, {-3.5})});
    const tensor t = f.make(dtype::float32, {4}, {1, 2, 3, 4});
    const value three = f.same_as_cpu("aten.item.default", {t.view({1}, {1}, 2)});
    CHECK(*three.as_double() == 3);
    CHECK(f.error("aten.item.default", {t}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.item.default", {f.make(dtype::float32, {0}, {})}) == "wrapgraph.operator.shape_mismatch");
  }
  SUBCASE("where.Scalar picks between two scalars in the condition's shape") {
    const tensor c = transpose(f.make(dtype::bool_, {2, 2}, {1, 0, 1, 1}));
    f.same_as_cpu("aten.where.Scalar", {c, 1, 0});
    f.same_as_cpu("aten.where.Scalar", {c, 2.5, 1});
    f.same_as_cpu("aten.where.Scalar", {c, true, false});
    f.same_as_cpu("aten.where.Scalar", {f.make(dtype::bool_, {}, {0}), true, false});
    f.same_as_cpu("aten.where.Scalar", {f.make(dtype::bool_, {0, 2}, {}), 1, 2});
    f.same_as_cpu("aten.where.Scalar", {f.spread(dtype::bool_, {3, 5}, 1), -4, std::int64_t{1} << 40});
    CHECK(f.error("aten.where.Scalar", {f.make(dtype::int64, {1}, {1}), 1, 0}) == "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.where.Scalar", {c, "a", 0}) == "wrapgraph.operator.bad_argument");
  }
  SUBCASE("the size queries read a device tensor's layout; the arithmetic is the CPU's") {
    const tensor t = f.full(dtype::float32, {20}, 0).view({2, 3}, {1, 4}, 5);
    f.same_as_cpu("aten.sym_size.int", {t, 1});
    f.same_as_cpu("aten.sym_stride.int", {t}, {{"dim", 0}});
    f.same_as_cpu("aten.sym_storage_offset.default", {t});
    CHECK(f.error("aten.sym_size.int", {t, 2}) == "wrapgraph.operator.bad_dimension");
    f.same_as_cpu("operator.floordiv", {-7, 2});
    f.same_as_cpu("wrapgraph.ceil_div", {7, 2});
    f.same_as_cpu("torch.sym_max", {3, 2.5});
    f.same_as_cpu("operator.getitem", {value_list{10, 20.5, "x"}, -2});
    CHECK(f.error("operator.add", {int64_max, 1}) == "wrapgraph.operator.overflow");
  }
}

TEST_CASE("cuda operators: on a GPU, the operators that do not wait for the device run inside a CUDA graph capture") {
  WRAPGRAPH_REQUIRE_GPU();
  fixture f;
  struct call {
    std::string_view name;
    std::vector<value> args;
    std::vector<keyword_value> kwargs;
  };
  const tensor b = f.make(dtype::float32, {3, 5}, iota(15, 2, -0.25));
  const tensor t = f.make(dtype::float64, {3, 6}, {3, 1, 2, 2, 0, 5, -1, 4, 4, 0, 9, 1, 2, 2, 2, 7, 0, 1});
  const auto host_calls = [&] {
    return std::vector<call>{
        {"aten.mm.out", {f.make(dtype::float32, {4, 3}, iota(12, -1, 0.5)), b}, {{"out", f.full(dtype::float32, {4, 5}, 0)}}},
        {"aten.addmm.out",
         {f.make(dtype::float32, {5}, iota(5, 1)), transpose(f.make(dtype::float32, {3, 4}, iota(12))), b},
         {{"beta", 2}, {"out", f.spread(dtype::float32, {4, 5})}}},
        {"aten.bmm.out",
         {f.make_int(dtype::int32, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), f.make_int(dtype::int32, {2, 2, 2}, {1, 0, 0, 1, 2, 1, 1, 2})},
         {{"out", f.full(dtype::int32, {2, 2, 2}, 0)}}},
        {"aten.topk.default", {t, 2}, {}},
        {"aten.sort.default", {t, 0, true}, {}},
        {"aten.where.Scalar", {f.make(dtype::bool_, {2, 3}, {1, 0, 1, 0, 0, 1}), 1.5, -2}, {}},
    };
  };
  // The same calls on device copies, made before any capture.
  const auto device_calls = [&](std::vector<call> calls) {
    fixture::storage_map copies;
    for (call& c : calls) {
      for (value& v : c.args) v = f.to_device(v, copies);
      for (keyword_value& kv : c.kwargs) kv.second = f.to_device(kv.second, copies);
    }
    return calls;
  };
  const auto run_gpu = [&](const std::vector<call>& calls) {
    std::vector<value> results;
    for (const call& c : calls) {
      INFO(c.name);
      CHECK(cuda::builtin_operators().flags(c.name, device_kind::cuda) == exec::operator_flags::none);
      exec::op_context ctx{*f.memory, f.gpu_random};
      results.push_back((*cuda::builtin_operators().find(c.name, device_kind::cuda))(
          ctx, exec::op_arguments(c.name, c.args, c.kwargs)));  // no synchronisation here
    }
    return results;
  };
  // Once outside a capture, so that kernels are compiled and cuBLAS is set up.
  (void)run_gpu(device_calls(host_calls()));
  f.resources().work.synchronize();

  const std::vector<call> cpu = host_calls(), gpu = device_calls(host_calls());
  const std::uint32_t pool = f.memory->open_pool();
  std::vector<value> gpu_results;
  cuda::graph_exec graph;
  {
    cuda::stream_capture capture(f.resources().work.get());
    gpu_results = run_gpu(gpu);
    graph = capture.end();
  }
  graph.launch(f.resources().work.get());
  f.resources().work.synchronize();
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    INFO(cpu[i].name);
    f.check_same(f.call_cpu(cpu[i].name, cpu[i].args, cpu[i].kwargs), gpu_results[i], 1e-5, "captured call");
  }
  gpu_results.clear();
  f.memory->close_pool(pool);

  // randint and randn capture too; a replay repeats the values drawn at capture.
  const tensor out = f.to_device(f.full(dtype::int64, {64}, 0));
  const std::uint32_t random_pool = f.memory->open_pool();
  value normal;
  {
    cuda::stream_capture capture(f.resources().work.get());
    exec::op_context ctx{*f.memory, f.gpu_random};
    const std::vector<value> args{0, 1000, value_list{64}};
    const std::vector<keyword_value> kwargs{{"out", out}};
    (void)(*cuda::builtin_operators().find("aten.randint.low_out", device_kind::cuda))(
        ctx, exec::op_arguments("aten.randint.low_out", args, kwargs));
    const std::vector<value> size{value_list{64}};
    normal = (*cuda::builtin_operators().find("aten.randn.default", device_kind::cuda))(
        ctx, exec::op_arguments("aten.randn.default", size, {}));
    graph = capture.end();
  }
  graph.launch(f.resources().work.get());
  const std::vector<double> first = exec::to_vector(f.to_host(out)), first_normal = exec::to_vector(f.to_host(tensor_of(normal)));
  graph.launch(f.resources().work.get());
  CHECK(exec::to_vector(f.to_host(out)) == first);
  CHECK(exec::to_vector(f.to_host(tensor_of(normal))) == first_normal);
  for (double x : first) CHECK((x >= 0 && x < 1000));
  normal = value();
  f.memory->close_pool(random_pool);
}

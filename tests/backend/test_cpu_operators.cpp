// Tests of include/wrapgraph/backend/cpu/operators.hpp: every built-in
// operator against reference results computed here by plain loops or by
// hand, on contiguous tensors and strided views, over several dtypes, and
// every error it reports.

#include <doctest/doctest.h>

#include "../support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <wrapgraph/backend/cpu/operators.hpp>

namespace {

using namespace wrapgraph;
using exec::extents;
using exec::keyword_value;
using exec::tensor;
using exec::value;
using exec::value_list;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// Host memory, a seeded generator, and calls of the built-in operators.
struct fixture {
  std::shared_ptr<exec::host_memory> memory = std::make_shared<exec::host_memory>();
  std::mt19937_64 random{20240601};

  value call(std::string_view name, std::vector<value> args, std::vector<keyword_value> kwargs = {}) {
    const exec::operator_fn* fn = backend::cpu::builtin_operators().find(name, device_kind::cpu);
    REQUIRE(fn != nullptr);
    exec::op_context ctx{*memory, random};
    return (*fn)(ctx, exec::op_arguments(name, args, kwargs));
  }

  // The id of the run_error the call throws, or "(no error)".
  std::string error(std::string_view name, std::vector<value> args, std::vector<keyword_value> kwargs = {}) {
    return test::error_id<run_error>([&] { (void)call(name, std::move(args), std::move(kwargs)); });
  }

  // A contiguous tensor holding `values` in row-major order.
  tensor make(dtype type, extents sizes, const std::vector<double>& values) {
    tensor t = exec::empty(*memory, type, std::move(sizes));
    REQUIRE(static_cast<std::int64_t>(values.size()) == t.numel());
    for (std::size_t i = 0; i < values.size(); ++i) t.set(static_cast<std::int64_t>(i), values[i]);
    return t;
  }
  tensor make_int(dtype type, extents sizes, const std::vector<std::int64_t>& values) {
    tensor t = exec::empty(*memory, type, std::move(sizes));
    REQUIRE(static_cast<std::int64_t>(values.size()) == t.numel());
    for (std::size_t i = 0; i < values.size(); ++i) t.set_int(static_cast<std::int64_t>(i), values[i]);
    return t;
  }
  tensor full(dtype type, extents sizes, double x) {
    tensor t = exec::empty(*memory, type, std::move(sizes));
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
};

// The last two dimensions swapped: a non-contiguous view.
tensor transpose(const tensor& t) {
  extents sizes = t.sizes(), strides = t.strides();
  const std::size_t r = sizes.size();
  std::swap(sizes[r - 1], sizes[r - 2]);
  std::swap(strides[r - 1], strides[r - 2]);
  return t.view(std::move(sizes), std::move(strides), t.offset());
}

// `t` as a tensor of its own storage (every element), row-major.
std::vector<double> whole_storage(const tensor& t) {
  const std::int64_t n = static_cast<std::int64_t>(t.storage()->bytes() / t.element_size());
  return exec::to_vector(t.view({n}, {1}, 0));
}

std::vector<std::int64_t> ints_of(const tensor& t) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_int(i));
  return out;
}

// Equal element by element, NaN equal to NaN, within `tolerance`.
bool near(const std::vector<double>& got, const std::vector<double>& expected, double tolerance = 1e-9) {
  if (got.size() != expected.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i]) ? !std::isnan(got[i]) : !(std::abs(got[i] - expected[i]) <= tolerance)) {
      MESSAGE("element " << i << ": got " << got[i] << ", expected " << expected[i]);
      return false;
    }
  }
  return true;
}

const tensor& tensor_of(const value& v) {
  REQUIRE(v.as_tensor() != nullptr);
  return *v.as_tensor();
}

// beta * c[i, j] + alpha * Σ a[i, p] b[p, j] by a plain loop over logical
// elements (c broadcast from [m], [n, 1], [n, m] or 0-d).
std::vector<double> reference_addmm(const tensor& a, const tensor& b, const tensor* c, double beta, double alpha) {
  const std::int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  std::vector<double> out;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < m; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p) sum += a.get(i * k + p) * b.get(p * m + j);
      double r = alpha * sum;
      if (c && beta != 0) {
        std::int64_t at = 0;
        if (c->dim() == 2) at = (c->size(0) == 1 ? 0 : i) * c->size(1) + (c->size(1) == 1 ? 0 : j);
        if (c->dim() == 1) at = c->size(0) == 1 ? 0 : j;
        r += beta * c->get(at);
      }
      out.push_back(r);
    }
  return out;
}

std::vector<double> iota(std::int64_t n, double start = 0, double step = 1) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(start + step * static_cast<double>(i));
  return v;
}

}  // namespace

TEST_CASE("the built-in registry holds every operator on the CPU and is open to users' own") {
  const exec::operator_registry& builtin = backend::cpu::builtin_operators();
  const std::vector<std::string> names = builtin.names(device_kind::cpu);
  for (const char* name :
       {"aten.mm.out", "aten.addmm.out", "aten.bmm.out", "aten.topk.default", "aten.sort.default",
        "aten.nonzero.default", "aten.randint.low_out", "aten.randn.default", "aten.scatter_.src",
        "aten.scatter_.value", "aten.scatter_.reduce", "aten.scatter_.value_reduce", "aten.scatter_reduce_.two",
        "aten.index_put_.default", "aten.item.default", "aten.where.Scalar", "aten.sym_size.int",
        "aten.sym_stride.int", "aten.sym_storage_offset.default", "operator.add", "operator.sub", "operator.mul",
        "operator.floordiv", "operator.mod", "operator.pow", "operator.neg", "operator.abs", "torch.sym_min",
        "torch.sym_max", "wrapgraph.ceil_div", "operator.getitem"})
    CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(), name);
  CHECK(names.size() == 31);
  CHECK(builtin.names(device_kind::cuda).empty());
  CHECK(&builtin == &backend::cpu::builtin_operators());

  SUBCASE("a copy takes an operator of the user's") {
    exec::operator_registry mine = builtin;
    mine.add("mylib.twice", device_kind::cpu,
             [](exec::op_context&, const exec::op_arguments& a) { return value(2 * a.get_int(0, "x")); });
    CHECK(mine.find("mylib.twice", device_kind::cpu) != nullptr);
    CHECK(builtin.find("mylib.twice", device_kind::cpu) == nullptr);
  }
  SUBCASE("registering the built-ins twice is an error") {
    exec::operator_registry r;
    backend::cpu::add_builtin_operators(r);
    CHECK(test::error_id<run_error>([&] { backend::cpu::add_builtin_operators(r); }) ==
          "wrapgraph.operator.duplicate");
  }
}

TEST_CASE("mm, addmm and bmm write the matrix product into out") {
  fixture f;
  SUBCASE("mm of float32 matrices") {
    const tensor a = f.make(dtype::float32, {2, 3}, {1, 2, 3, 4, 5, 6});
    const tensor b = f.make(dtype::float32, {3, 2}, {7, 8, 9, 10, 11, 12});
    const tensor out = f.full(dtype::float32, {2, 2}, 0);
    const value r = f.call("aten.mm.out", {a, b}, {{"out", out}});
    CHECK(tensor_of(r).storage() == out.storage());
    CHECK(exec::to_vector(out) == std::vector<double>{58, 64, 139, 154});
  }
  SUBCASE("mm of a transposed float64 input into a strided out") {
    const tensor at = f.make(dtype::float64, {4, 3}, iota(12, -3, 0.5));
    const tensor a = transpose(at);  // 3 x 4, strides [1, 3]
    const tensor b = f.make(dtype::float64, {4, 5}, iota(20, 1, 0.25));
    const tensor out = f.spread(dtype::float64, {3, 5});
    f.call("aten.mm.out", {a, b}, {{"out", out}});
    CHECK(near(exec::to_vector(out), reference_addmm(a, b, nullptr, 0, 1)));
    const std::vector<double> storage = whole_storage(out);
    for (std::size_t i = 0; i < storage.size(); i += 2) CHECK(storage[i] == -7);  // the gaps are untouched
  }
  SUBCASE("mm of a matrix with an expanded (stride 0) operand") {
    const tensor row = f.make(dtype::float32, {3}, {1, 2, 3});
    const tensor a = row.view({2, 3}, {0, 1}, 0);
    const tensor b = f.make(dtype::float32, {3, 1}, {1, 1, 1});
    const tensor out = f.full(dtype::float32, {2, 1}, 0);
    f.call("aten.mm.out", {a, b}, {{"out", out}});
    CHECK(exec::to_vector(out) == std::vector<double>{6, 6});
  }
  SUBCASE("mm of reversed views (negative strides) in bfloat16 and uint8") {
    for (dtype type : {dtype::bfloat16, dtype::uint8, dtype::float32}) {
      const tensor stored = f.make(type, {3, 3}, iota(9, 1));
      const tensor a = stored.view({3, 3}, {-3, -1}, 8);  // rows and columns reversed
      const tensor b = stored.view({3, 2}, {1, 3}, 0);    // a transposed corner
      const tensor out = f.full(type, {3, 2}, 0);
      f.call("aten.mm.out", {a, b}, {{"out", out}});
      std::vector<double> expected = reference_addmm(a, b, nullptr, 0, 1);
      if (type == dtype::uint8)
        for (double& x : expected) x = std::fmod(x, 256);
      CHECK(exec::to_vector(out) == expected);
    }
  }
  SUBCASE("addmm broadcasts self from a row, a column and a 0-d tensor") {
    const tensor a = f.make(dtype::float32, {2, 3}, iota(6, 1));
    const tensor b = f.make(dtype::float32, {3, 4}, iota(12, -2));
    for (const tensor& self : {f.make(dtype::float32, {4}, {1, 2, 3, 4}), f.make(dtype::float32, {2, 1}, {10, 20}),
                               f.make(dtype::float32, {}, {5}), f.make(dtype::float32, {2, 4}, iota(8, 0.5))}) {
      const tensor out = f.full(dtype::float32, {2, 4}, 0);
      f.call("aten.addmm.out", {self, a, b}, {{"beta", 0.5}, {"alpha", 2}, {"out", out}});
      CHECK(near(exec::to_vector(out), reference_addmm(a, b, &self, 0.5, 2), 1e-5));
    }
  }
  SUBCASE("addmm with beta = 0 ignores self, NaN included") {
    const tensor self = f.full(dtype::float64, {2, 2}, not_a_number);
    const tensor a = f.make(dtype::float64, {2, 2}, {1, 2, 3, 4});
    const tensor out = f.full(dtype::float64, {2, 2}, 0);
    f.call("aten.addmm.out", {self, a, a}, {{"beta", 0}, {"out", out}});
    CHECK(exec::to_vector(out) == std::vector<double>{7, 10, 15, 22});
  }
  SUBCASE("addmm with alpha = 0 ignores the product, NaN included") {
    const tensor self = f.make(dtype::float32, {2}, {1, 2});
    const tensor a = f.full(dtype::float32, {2, 2}, not_a_number);
    const tensor out = f.full(dtype::float32, {2, 2}, 0);
    f.call("aten.addmm.out", {self, a, a}, {{"alpha", 0}, {"beta", 3}, {"out", out}});
    CHECK(exec::to_vector(out) == std::vector<double>{3, 6, 3, 6});
  }
  SUBCASE("addmm may write into self") {
    const tensor self = f.make(dtype::float32, {2, 2}, {1, 1, 1, 1});
    const tensor a = f.make(dtype::float32, {2, 2}, {1, 2, 3, 4});
    f.call("aten.addmm.out", {self, a, a}, {{"out", self}});
    CHECK(exec::to_vector(self) == std::vector<double>{8, 11, 16, 23});
  }
  SUBCASE("integer products are exact in int64 and wrap in int8") {
    const tensor a = f.make_int(dtype::int64, {1, 2}, {int64_max / 4, 3});
    const tensor b = f.make_int(dtype::int64, {2, 1}, {2, 5});
    const tensor self = f.make_int(dtype::int64, {1}, {1});
    const tensor out = f.make_int(dtype::int64, {1, 1}, {0});
    f.call("aten.addmm.out", {self, a, b}, {{"beta", 3}, {"alpha", 1}, {"out", out}});
    CHECK(out.get_int(0) == (int64_max / 4) * 2 + 15 + 3);

    const tensor x = f.make_int(dtype::int8, {1, 2}, {100, 1});
    const tensor y = f.make_int(dtype::int8, {2, 1}, {2, 1});
    const tensor o = f.make_int(dtype::int8, {1, 1}, {0});
    f.call("aten.mm.out", {x, y}, {{"out", o}});
    CHECK(o.get_int(0) == static_cast<std::int8_t>(201 - 256));
  }
  SUBCASE("float16 products round once") {
    const tensor a = f.make(dtype::float16, {2, 2}, {0.5, 1.5, -2, 4});
    const tensor b = transpose(f.make(dtype::float16, {2, 2}, {1, 3, 2, 0.25}));
    const tensor out = f.spread(dtype::float16, {2, 2});
    f.call("aten.mm.out", {a, b}, {{"out", out}});
    CHECK(exec::to_vector(out) == reference_addmm(a, b, nullptr, 0, 1));
  }
  SUBCASE("bmm over a batch of permuted matrices") {
    // A [3, 2, 4] tensor stored as [2, 3, 4]: batch stride 4, row stride 12.
    const tensor stored = f.make(dtype::float32, {2, 3, 4}, iota(24, 1, 0.5));
    const tensor a = stored.view({3, 2, 4}, {4, 12, 1}, 0);
    const tensor b = f.make(dtype::float32, {3, 4, 2}, iota(24, -5));
    const tensor out = f.spread(dtype::float32, {3, 2, 2});
    f.call("aten.bmm.out", {a, b}, {{"out", out}});
    for (std::int64_t i = 0; i < 3; ++i) {
      const tensor ai = a.view({2, 4}, {12, 1}, 4 * i);
      const tensor bi = b.view({4, 2}, {2, 1}, 8 * i);
      const tensor oi = out.view({2, 2}, {4, 2}, 1 + 8 * i);
      CHECK(near(exec::to_vector(oi), reference_addmm(ai, bi, nullptr, 0, 1), 1e-4));
    }
  }
  SUBCASE("an inner size of 0 gives beta * self, an outer size of 0 nothing") {
    const tensor a = f.make(dtype::float32, {2, 0}, {});
    const tensor b = f.make(dtype::float32, {0, 3}, {});
    const tensor self = f.make(dtype::float32, {3}, {1, 2, 3});
    const tensor out = f.full(dtype::float32, {2, 3}, not_a_number);
    f.call("aten.addmm.out", {self, a, b}, {{"beta", 2}, {"out", out}});
    CHECK(exec::to_vector(out) == std::vector<double>{2, 4, 6, 2, 4, 6});
    const tensor empty_out = f.make(dtype::float32, {0, 3}, {});
    f.call("aten.mm.out", {b.view({0, 2}, {3, 1}, 0), f.make(dtype::float32, {2, 3}, iota(6))}, {{"out", empty_out}});
    const tensor batched_out = f.make(dtype::float32, {0, 2, 2}, {});
    f.call("aten.bmm.out", {f.make(dtype::float32, {0, 2, 3}, {}), f.make(dtype::float32, {0, 3, 2}, {})},
           {{"out", batched_out}});
  }
  SUBCASE("bad shapes, dtypes and arguments are errors") {
    const tensor a = f.make(dtype::float32, {2, 3}, iota(6));
    const tensor b = f.make(dtype::float32, {4, 5}, iota(20));
    const tensor c = f.make(dtype::float32, {3, 5}, iota(15));
    const tensor out = f.full(dtype::float32, {2, 5}, 0);
    CHECK(f.error("aten.mm.out", {a, b}, {{"out", out}}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", f.full(dtype::float32, {5, 2}, 0)}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", f.full(dtype::float64, {2, 5}, 0)}}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.mm.out", {a, f.make(dtype::float64, {3, 5}, iota(15))}, {{"out", out}}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.mm.out", {f.make(dtype::float32, {6}, iota(6)), c}, {{"out", out}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.mm.out", {a, c}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.mm.out", {a}, {{"out", out}}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.mm.out", {a, c, out}) == "wrapgraph.operator.bad_argument");  // out is keyword-only
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", out}, {"alpha", 2}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.mm.out", {a, 3}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.mm.out", {a, c}, {{"out", out}, {"mat2", c}}) == "wrapgraph.operator.bad_argument");
    const tensor flags = f.make(dtype::bool_, {2, 2}, {1, 0, 0, 1});
    CHECK(f.error("aten.mm.out", {flags, flags}, {{"out", flags}}) == "wrapgraph.operator.unsupported_dtype");
    const tensor i = f.make_int(dtype::int32, {2, 2}, {1, 2, 3, 4});
    CHECK(f.error("aten.addmm.out", {i, i, i}, {{"alpha", 0.5}, {"out", i}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.addmm.out", {f.make(dtype::float32, {3}, iota(3)), a, c}, {{"out", out}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.addmm.out", {f.make(dtype::float32, {1, 2, 5}, iota(10)), a, c}, {{"out", out}}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.bmm.out", {f.make(dtype::float32, {2, 2, 3}, iota(12)), f.make(dtype::float32, {3, 3, 2}, iota(18))},
                  {{"out", f.full(dtype::float32, {2, 2, 2}, 0)}}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.bmm.out", {a, c}, {{"out", out}}) == "wrapgraph.operator.shape_mismatch");
  }
  SUBCASE("an error message names the operator and the shapes") {
    try {
      f.call("aten.mm.out", {f.make(dtype::float32, {2, 3}, iota(6)), f.make(dtype::float32, {4, 5}, iota(20))},
             {{"out", f.full(dtype::float32, {2, 5}, 0)}});
      FAIL("no error");
    } catch (const run_error& e) {
      CHECK(e.message() == "aten.mm.out: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
    }
  }
}

TEST_CASE("topk and sort order like PyTorch: stable, NaN the largest") {
  fixture f;
  const auto topk = [&](const tensor& t, std::int64_t k, std::vector<keyword_value> kwargs = {}) {
    const value r = f.call("aten.topk.default", {t, k}, std::move(kwargs));
    REQUIRE(r.as_list() != nullptr);
    REQUIRE(r.as_list()->size() == 2);
    return std::pair{tensor_of((*r.as_list())[0]), tensor_of((*r.as_list())[1])};
  };
  const auto sort = [&](std::vector<value> args, std::vector<keyword_value> kwargs = {}) {
    const value r = f.call("aten.sort.default", std::move(args), std::move(kwargs));
    REQUIRE(r.as_list() != nullptr);
    return std::pair{tensor_of((*r.as_list())[0]), tensor_of((*r.as_list())[1])};
  };
  SUBCASE("topk picks the largest, ties by lower index first") {
    const auto [values, indices] = topk(f.make(dtype::float32, {5}, {1, 3, 2, 3, 0}), 3);
    CHECK(exec::to_vector(values) == std::vector<double>{3, 3, 2});
    CHECK(ints_of(indices) == std::vector<std::int64_t>{1, 3, 2});
    CHECK(indices.type() == dtype::int64);
    CHECK(values.type() == dtype::float32);
  }
  SUBCASE("topk with largest=False picks the smallest") {
    const auto [values, indices] = topk(f.make(dtype::int32, {5}, {4, -1, 7, -1, 2}), 2, {{"largest", false}});
    CHECK(ints_of(values) == std::vector<std::int64_t>{-1, -1});
    CHECK(ints_of(indices) == std::vector<std::int64_t>{1, 3});
    CHECK(values.type() == dtype::int32);
  }
  SUBCASE("NaN counts as the largest value") {
    const tensor t = f.make(dtype::float64, {4}, {1, not_a_number, 3, not_a_number});
    const auto [v1, i1] = topk(t, 3);
    CHECK(near(exec::to_vector(v1), {not_a_number, not_a_number, 3}));
    CHECK(ints_of(i1) == std::vector<std::int64_t>{1, 3, 2});
    const auto [v2, i2] = topk(t, 3, {{"largest", false}});
    CHECK(near(exec::to_vector(v2), {1, 3, not_a_number}));
    CHECK(ints_of(i2) == std::vector<std::int64_t>{0, 2, 1});
  }
  SUBCASE("topk along dim 0 of a transposed float16 matrix") {
    // t = [[1, 5, 2], [4, 0, 6]] stored transposed.
    const tensor t = transpose(f.make(dtype::float16, {3, 2}, {1, 4, 5, 0, 2, 6}));
    const auto [values, indices] = topk(t, 1, {});
    CHECK(exec::to_vector(values) == std::vector<double>{5, 6});
    CHECK(ints_of(indices) == std::vector<std::int64_t>{1, 2});
    const auto [v0, i0] = topk(t, 1, {{"dim", 0}});
    CHECK(exec::to_vector(v0) == std::vector<double>{4, 5, 6});
    CHECK(ints_of(i0) == std::vector<std::int64_t>{1, 0, 1});
    CHECK(v0.sizes() == extents{1, 3});
    const value positional = f.call("aten.topk.default", {t, 2, 0, false, true});
    CHECK(ints_of(tensor_of((*positional.as_list())[1])) == std::vector<std::int64_t>{0, 1, 0, 1, 0, 1});
  }
  SUBCASE("int64 keys keep their full precision") {
    const std::int64_t big = std::int64_t{1} << 60;
    const auto [values, indices] = topk(f.make_int(dtype::int64, {3}, {big, big + 1, big - 1}), 3);
    CHECK(ints_of(values) == std::vector<std::int64_t>{big + 1, big, big - 1});
    CHECK(ints_of(indices) == std::vector<std::int64_t>{1, 0, 2});
  }
  SUBCASE("k = 0 and an empty slice give empty results") {
    const auto [v, i] = topk(f.make(dtype::float32, {2, 3}, iota(6)), 0);
    CHECK(v.sizes() == extents{2, 0});
    CHECK(i.sizes() == extents{2, 0});
    const auto [ve, ie] = topk(f.make(dtype::float32, {0, 3}, {}), 2);
    CHECK(ve.sizes() == extents{0, 2});
  }
  SUBCASE("sort is stable, ascending or descending, NaN last or first") {
    const tensor t = f.make(dtype::float32, {6}, {2, not_a_number, 1, 2, -0.5, 1});
    const auto [v, i] = sort({t});
    CHECK(near(exec::to_vector(v), {-0.5, 1, 1, 2, 2, not_a_number}));
    CHECK(ints_of(i) == std::vector<std::int64_t>{4, 2, 5, 0, 3, 1});
    const auto [vd, id] = sort({t, 0, true});
    CHECK(near(exec::to_vector(vd), {not_a_number, 2, 2, 1, 1, -0.5}));
    CHECK(ints_of(id) == std::vector<std::int64_t>{1, 0, 3, 2, 5, 4});
  }
  SUBCASE("sort along dim 0 of a transposed int16 matrix, bool, and a 0-d tensor") {
    // t = [[3, 1], [2, 2], [1, 3]] stored transposed.
    const tensor t = transpose(f.make_int(dtype::int16, {2, 3}, {3, 2, 1, 1, 2, 3}));
    const auto [v, i] = sort({t}, {{"dim", 0}, {"descending", true}});
    CHECK(ints_of(v) == std::vector<std::int64_t>{3, 3, 2, 2, 1, 1});
    CHECK(ints_of(i) == std::vector<std::int64_t>{0, 2, 1, 1, 2, 0});
    const auto [vb, ib] = sort({f.make(dtype::bool_, {4}, {1, 0, 1, 0})});
    CHECK(ints_of(vb) == std::vector<std::int64_t>{0, 0, 1, 1});
    CHECK(ints_of(ib) == std::vector<std::int64_t>{1, 3, 0, 2});
    const auto [vs, is] = sort({f.make(dtype::float64, {}, {2.5})});
    CHECK(vs.dim() == 0);
    CHECK(vs.get(0) == 2.5);
    CHECK(is.get_int(0) == 0);
  }
  SUBCASE("bad k, dim and dtype are errors") {
    const tensor t = f.make(dtype::float32, {2, 3}, iota(6));
    CHECK(f.error("aten.topk.default", {t, 4}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.topk.default", {t, -1}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.topk.default", {t, 1, 2}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.topk.default", {t, 1, -3}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.topk.default", {t}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.topk.default", {t, 1.5}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.topk.default", {f.make(dtype::bool_, {2}, {0, 1}), 1}) == "wrapgraph.operator.unsupported_dtype");
    CHECK(f.error("aten.sort.default", {t, 5}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.sort.default", {t}, {{"stable", true}}) == "wrapgraph.operator.bad_argument");
  }
}

TEST_CASE("nonzero lists the coordinates of nonzero elements in row-major order") {
  fixture f;
  SUBCASE("a transposed matrix") {
    // t = [[0, 2], [3, 0], [0, 5]] stored transposed.
    const tensor t = transpose(f.make(dtype::float32, {2, 3}, {0, 3, 0, 2, 0, 5}));
    const tensor r = tensor_of(f.call("aten.nonzero.default", {t}));
    CHECK(r.type() == dtype::int64);
    CHECK(r.sizes() == extents{3, 2});
    CHECK(ints_of(r) == std::vector<std::int64_t>{0, 1, 1, 0, 2, 1});
  }
  SUBCASE("NaN is nonzero, -0 is zero, in float16 too") {
    for (dtype type : {dtype::float16, dtype::bfloat16, dtype::float64}) {
      const tensor r = tensor_of(f.call("aten.nonzero.default", {f.make(type, {4}, {-0.0, not_a_number, 0, 0.5})}));
      CHECK(ints_of(r) == std::vector<std::int64_t>{1, 3});
    }
  }
  SUBCASE("bool, int8, 0-d and empty tensors") {
    CHECK(ints_of(tensor_of(f.call("aten.nonzero.default", {f.make(dtype::bool_, {3}, {1, 0, 1})}))) ==
          std::vector<std::int64_t>{0, 2});
    CHECK(ints_of(tensor_of(f.call("aten.nonzero.default", {f.make_int(dtype::int8, {2, 2}, {0, -1, 0, 0})}))) ==
          std::vector<std::int64_t>{0, 1});
    CHECK(tensor_of(f.call("aten.nonzero.default", {f.make(dtype::int32, {}, {7})})).sizes() == extents{1, 0});
    CHECK(tensor_of(f.call("aten.nonzero.default", {f.make(dtype::int32, {}, {0})})).sizes() == extents{0, 0});
    CHECK(tensor_of(f.call("aten.nonzero.default", {f.make(dtype::float32, {2, 0, 3}, {})})).sizes() == extents{0, 3});
    CHECK(tensor_of(f.call("aten.nonzero.default", {f.full(dtype::float32, {2, 2}, 0)})).sizes() == extents{0, 2});
  }
  SUBCASE("a missing tensor is an error") {
    CHECK(f.error("aten.nonzero.default", {}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.nonzero.default", {value()}) == "wrapgraph.operator.bad_argument");
  }
}

TEST_CASE("randint and randn draw from the run's generator") {
  fixture f;
  SUBCASE("randint fills a strided out with integers in [low, high)") {
    const tensor out = f.spread(dtype::int64, {50, 4});
    const value r = f.call("aten.randint.low_out", {-3, 4, value_list{50, 4}}, {{"out", out}});
    CHECK(tensor_of(r).storage() == out.storage());
    std::vector<int> seen(7, 0);
    for (std::int64_t x : ints_of(out)) {
      REQUIRE(x >= -3);
      REQUIRE(x < 4);
      ++seen[static_cast<std::size_t>(x + 3)];
    }
    for (int count : seen) CHECK(count > 0);
    const std::vector<double> storage = whole_storage(out);
    for (std::size_t i = 0; i < storage.size(); i += 2) CHECK(storage[i] == -7);
  }
  SUBCASE("the same seed gives the same integers, in any dtype") {
    for (dtype type : {dtype::int64, dtype::uint8, dtype::float32, dtype::float16}) {
      fixture g, h;
      const tensor a = g.full(type, {10}, 0), b = h.full(type, {10}, 0);
      g.call("aten.randint.low_out", {0, 100, value_list{10}}, {{"out", a}});
      h.call("aten.randint.low_out", {0, 100, value_list{10}}, {{"out", b}});
      CHECK(exec::to_vector(a) == exec::to_vector(b));
      for (double x : exec::to_vector(a)) CHECK((x >= 0 && x < 100 && x == std::floor(x)));
    }
  }
  SUBCASE("randint checks its range and out") {
    const tensor out = f.full(dtype::int64, {3}, 0);
    CHECK(f.error("aten.randint.low_out", {5, 5, value_list{3}}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{4}}, {{"out", out}}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{-1}}, {{"out", out}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 300, value_list{3}}, {{"out", f.full(dtype::uint8, {3}, 0)}}) ==
          "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randint.low_out", {0, 5, value_list{3}}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.randint.low_out", {0, 2, value_list{3}}, {{"out", f.full(dtype::bool_, {3}, 0)}}) ==
          "(no error)");
  }
  SUBCASE("randn gives standard normal float32 samples, repeatably") {
    const tensor t = tensor_of(f.call("aten.randn.default", {value(value_list{100, 100})}));
    CHECK(t.type() == dtype::float32);
    CHECK(t.sizes() == extents{100, 100});
    double sum = 0, squares = 0;
    for (double x : exec::to_vector(t)) {
      sum += x;
      squares += x * x;
    }
    const double mean = sum / 10000, variance = squares / 10000 - mean * mean;
    CHECK(std::abs(mean) < 0.05);
    CHECK(std::abs(variance - 1) < 0.05);
    fixture g, h;
    CHECK(exec::to_vector(tensor_of(g.call("aten.randn.default", {value(value_list{5})}))) ==
          exec::to_vector(tensor_of(h.call("aten.randn.default", {value(value_list{5})}))));
  }
  SUBCASE("randn takes a dtype by name and rejects the rest") {
    const tensor t = tensor_of(f.call("aten.randn.default", {value(value_list{3})}, {{"dtype", "float64"}, {"device", "cpu"},
                                                                              {"layout", value()}, {"pin_memory", false}}));
    CHECK(t.type() == dtype::float64);
    CHECK(tensor_of(f.call("aten.randn.default", {value(value_list{2})}, {{"dtype", "torch.float16"}})).type() ==
          dtype::float16);
    CHECK(tensor_of(f.call("aten.randn.default", {value(value_list{})})).dim() == 0);
    CHECK(tensor_of(f.call("aten.randn.default", {value(value_list{0, 3})})).numel() == 0);
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"dtype", "int64"}}) == "wrapgraph.operator.unsupported_dtype");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"dtype", "float128"}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"device", "cuda:0"}}) == "wrapgraph.operator.device_mismatch");
    CHECK(f.error("aten.randn.default", {value(value_list{2})}, {{"generator", value()}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.randn.default", {value(value_list{2, 2.5})}) == "wrapgraph.operator.bad_argument");
  }
}

TEST_CASE("scatter_ and scatter_reduce_ write along a dimension through an index") {
  fixture f;
  const tensor src = f.make(dtype::float32, {2, 5}, iota(10, 1));
  SUBCASE("scatter_.src along dim 0 and dim 1 (PyTorch's examples)") {
    const tensor self0 = f.full(dtype::float32, {3, 5}, 0);
    const value r = f.call("aten.scatter_.src", {self0, 0, f.make_int(dtype::int64, {1, 4}, {0, 1, 2, 0}), src});
    CHECK(tensor_of(r).storage() == self0.storage());
    CHECK(exec::to_vector(self0) == std::vector<double>{1, 0, 0, 4, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0});
    const tensor self1 = f.full(dtype::float32, {3, 5}, 0);
    f.call("aten.scatter_.src", {self1, 1, f.make_int(dtype::int64, {2, 3}, {0, 1, 2, 0, 1, 4}), src});
    CHECK(exec::to_vector(self1) == std::vector<double>{1, 2, 3, 0, 0, 6, 7, 0, 0, 8, 0, 0, 0, 0, 0});
  }
  SUBCASE("scatter_.src into a transposed self from a transposed src") {
    // self is a 3 x 2 view of a 2 x 3 storage; src is [[1, 2], [3, 4], [5, 6]] stored transposed.
    const tensor stored = f.full(dtype::int32, {2, 3}, 0);
    const tensor self = transpose(stored);
    const tensor s = transpose(f.make_int(dtype::int32, {2, 3}, {1, 3, 5, 2, 4, 6}));
    f.call("aten.scatter_.src", {self, -1, f.make_int(dtype::int64, {3, 1}, {1, 0, 1}), s});
    // self = [[0, 1], [3, 0], [0, 5]]
    CHECK(ints_of(self) == std::vector<std::int64_t>{0, 1, 3, 0, 0, 5});
  }
  SUBCASE("scatter_.value writes a scalar converted to self's dtype") {
    const tensor self = f.full(dtype::float64, {2, 4}, 2);
    f.call("aten.scatter_.value", {self, 1, f.make_int(dtype::int64, {2, 1}, {2, 3}), 1.25});
    CHECK(exec::to_vector(self) == std::vector<double>{2, 2, 1.25, 2, 2, 2, 2, 1.25});
    const tensor ints = f.full(dtype::int16, {3}, 0);
    f.call("aten.scatter_.value", {ints, 0, f.make_int(dtype::int64, {2}, {0, 2}), -2.75});
    CHECK(ints_of(ints) == std::vector<std::int64_t>{-2, 0, -2});
  }
  SUBCASE("scatter_.reduce and scatter_.value_reduce add or multiply") {
    const tensor index = f.make_int(dtype::int64, {2, 1}, {2, 3});
    const tensor m = f.full(dtype::float32, {2, 4}, 2);
    f.call("aten.scatter_.value_reduce", {m, 1, index, 1.5}, {{"reduce", "multiply"}});
    CHECK(exec::to_vector(m) == std::vector<double>{2, 2, 3, 2, 2, 2, 2, 3});
    const tensor a = f.full(dtype::float32, {2, 4}, 2);
    f.call("aten.scatter_.value_reduce", {a, 1, index, 1.5}, {{"reduce", "add"}});
    CHECK(exec::to_vector(a) == std::vector<double>{2, 2, 3.5, 2, 2, 2, 2, 3.5});
    // Repeated indices accumulate.
    const tensor self = f.full(dtype::int64, {3}, 1);
    const tensor s = f.make_int(dtype::int64, {4}, {2, 3, 4, 5});
    const tensor ix = f.make_int(dtype::int64, {4}, {0, 0, 2, 0});
    f.call("aten.scatter_.reduce", {self, 0, ix, s}, {{"reduce", "add"}});
    CHECK(ints_of(self) == std::vector<std::int64_t>{11, 1, 5});
    f.call("aten.scatter_.reduce", {self, 0, ix, s}, {{"reduce", "multiply"}});
    CHECK(ints_of(self) == std::vector<std::int64_t>{330, 1, 20});
  }
  SUBCASE("scatter_reduce_.two with every reduce, with and without self") {
    // PyTorch's example: index 0 gets 1 and 3, index 1 gets 2, 4 and 6,
    // index 2 gets 5, index 3 nothing.
    const tensor s = f.make(dtype::float32, {6}, {1, 2, 3, 4, 5, 6});
    const tensor index = f.make_int(dtype::int64, {6}, {0, 1, 0, 1, 2, 1});
    const auto reduce = [&](const char* how, bool include_self) {
      const tensor self = f.make(dtype::float32, {4}, {1, 2, 3, 4});
      f.call("aten.scatter_reduce_.two", {self, 0, index, s, how}, {{"include_self", include_self}});
      return exec::to_vector(self);
    };
    CHECK(near(reduce("sum", true), {5, 14, 8, 4}));
    CHECK(near(reduce("sum", false), {4, 12, 5, 4}));
    CHECK(near(reduce("prod", true), {3, 96, 15, 4}));
    CHECK(near(reduce("prod", false), {3, 48, 5, 4}));
    CHECK(near(reduce("mean", true), {5.0 / 3, 3.5, 4, 4}, 1e-6));
    CHECK(near(reduce("mean", false), {2, 4, 5, 4}));
    CHECK(near(reduce("amax", true), {3, 6, 5, 4}));
    CHECK(near(reduce("amax", false), {3, 6, 5, 4}));
    CHECK(near(reduce("amin", true), {1, 2, 3, 4}));
    CHECK(near(reduce("amin", false), {1, 2, 5, 4}));
    // include_self defaults to True; reduce may come by keyword.
    const tensor self = f.make(dtype::float32, {4}, {1, 2, 3, 4});
    f.call("aten.scatter_reduce_.two", {self, 0, index, s}, {{"reduce", "sum"}});
    CHECK(exec::to_vector(self) == std::vector<double>{5, 14, 8, 4});
  }
  SUBCASE("integer means divide with floor, amax propagates NaN, float16 sums round") {
    const tensor ints = f.make_int(dtype::int64, {2}, {0, 7});
    f.call("aten.scatter_reduce_.two", {ints, 0, f.make_int(dtype::int64, {3}, {0, 0, 1}),
                                        f.make_int(dtype::int64, {3}, {-1, -1, 0}), "mean"});
    CHECK(ints_of(ints) == std::vector<std::int64_t>{-1, 3});  // floor(-2 / 3), floor(7 / 2)
    const tensor floats = f.make(dtype::float64, {2}, {1, not_a_number});
    f.call("aten.scatter_reduce_.two", {floats, 0, f.make_int(dtype::int64, {2}, {0, 1}), f.make(dtype::float64, {2}, {not_a_number, 5}),
                                        "amax"});
    CHECK(near(exec::to_vector(floats), {not_a_number, not_a_number}));
    const tensor halves = f.make(dtype::float16, {1}, {2048});
    f.call("aten.scatter_reduce_.two", {halves, 0, f.make_int(dtype::int64, {2}, {0, 0}), f.make(dtype::float16, {2}, {1, 1}),
                                        "sum"});
    CHECK(halves.get(0) == 2048);  // 2048 + 1 rounds back to 2048, twice
    const tensor flags = f.make(dtype::bool_, {2}, {0, 1});
    f.call("aten.scatter_reduce_.two", {flags, 0, f.make_int(dtype::int64, {2}, {0, 1}), f.make(dtype::bool_, {2}, {1, 0}),
                                        "prod"});
    CHECK(ints_of(flags) == std::vector<std::int64_t>{0, 0});
  }
  SUBCASE("an empty index or a 0-d self") {
    const tensor self = f.full(dtype::float32, {3}, 1);
    f.call("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {0}, {}), src});
    CHECK(exec::to_vector(self) == std::vector<double>{1, 1, 1});
    const tensor scalar = f.make(dtype::float32, {}, {1});
    f.call("aten.scatter_.value", {scalar, 0, f.make_int(dtype::int64, {}, {0}), 4.0});
    CHECK(scalar.get(0) == 4);
  }
  SUBCASE("bad indices, shapes, dtypes and reduces are errors and write nothing") {
    const tensor self = f.full(dtype::float32, {3, 5}, 0);
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {1, 2}, {0, 3}), src}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {1, 2}, {1, -1}), src}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(exec::to_vector(self) == std::vector<double>(15, 0));
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int32, {1, 2}, {0, 1}), src}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {1, 2}, {0, 1}), f.full(dtype::float64, {2, 5}, 0)}) ==
          "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {3, 1}, {0, 1, 2}), src}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 1, f.make_int(dtype::int64, {4, 1}, {0, 1, 2, 0}), f.full(dtype::float32, {4, 5}, 0)}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 0, f.make_int(dtype::int64, {2}, {0, 1}), src}) ==
          "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.scatter_.src", {self, 2, f.make_int(dtype::int64, {1, 1}, {0}), src}) ==
          "wrapgraph.operator.bad_dimension");
    const tensor index = f.make_int(dtype::int64, {1, 1}, {0});
    CHECK(f.error("aten.scatter_.reduce", {self, 0, index, src}, {{"reduce", "mean"}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_.reduce", {self, 0, index, src}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.scatter_.reduce", {self, 0, index, src, "add"}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_.value_reduce", {self, 0, index, 1.0}, {{"reduce", 3}}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_reduce_.two", {self, 0, index, src, "add"}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_reduce_.two", {self, 0, index, src}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.scatter_.value", {self, 0, index, src}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.scatter_.value", {f.full(dtype::uint8, {2}, 0), 0, f.make_int(dtype::int64, {1}, {0}), 300}) ==
          "wrapgraph.operator.overflow");
    CHECK(f.error("aten.scatter_reduce_.two", {f.full(dtype::bool_, {2}, 0), 0, f.make_int(dtype::int64, {1}, {0}),
                                              f.full(dtype::bool_, {1}, 1), "mean"}) ==
          "wrapgraph.operator.unsupported_dtype");
    CHECK(exec::to_vector(self) == std::vector<double>(15, 0));
  }
}

TEST_CASE("index_put_ writes or accumulates values at advanced indices") {
  fixture f;
  const auto rows = [&](std::vector<std::int64_t> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return f.make_int(dtype::int64, {n}, v);
  };
  SUBCASE("one index tensor selects rows; values broadcast to them") {
    const tensor self = f.full(dtype::float32, {3, 4}, 0);
    const value r = f.call("aten.index_put_.default", {self, value_list{rows({0, 2})}, f.make(dtype::float32, {4}, iota(4, 1))});
    CHECK(tensor_of(r).storage() == self.storage());
    CHECK(exec::to_vector(self) == std::vector<double>{1, 2, 3, 4, 0, 0, 0, 0, 1, 2, 3, 4});
  }
  SUBCASE("None slices a leading dimension; negative indices count from the end") {
    const tensor self = f.full(dtype::int32, {2, 4}, 0);
    f.call("aten.index_put_.default", {self, value_list{value(), rows({1, -1})}, f.make_int(dtype::int32, {2, 1}, {5, 6})});
    CHECK(ints_of(self) == std::vector<std::int64_t>{0, 5, 0, 5, 0, 6, 0, 6});
  }
  SUBCASE("index tensors broadcast together; a 0-d value fills every position") {
    const tensor self = f.full(dtype::float64, {3, 3}, 0);
    f.call("aten.index_put_.default",
           {self, value_list{f.make_int(dtype::int64, {2, 1}, {0, 2}), rows({0, 1, 2})}, f.make(dtype::float64, {}, {9})});
    CHECK(exec::to_vector(self) == std::vector<double>{9, 9, 9, 0, 0, 0, 9, 9, 9});
  }
  SUBCASE("pairs of indices select points") {
    const tensor self = f.full(dtype::float32, {3, 3}, 0);
    f.call("aten.index_put_.default", {self, value_list{rows({0, 2}), rows({1, 0})}, f.make(dtype::float32, {2}, {7, 8})});
    CHECK(exec::to_vector(self) == std::vector<double>{0, 7, 0, 0, 0, 0, 8, 0, 0});
  }
  SUBCASE("indices split by None put the broadcast dimensions first") {
    // self[i, :, j] = values with i, j of shape [2]: the indexed shape is [2, 3].
    const tensor self = f.full(dtype::float32, {2, 3, 4}, 0);
    const tensor values = f.make(dtype::float32, {2, 3}, {1, 2, 3, 4, 5, 6});
    f.call("aten.index_put_.default", {self, value_list{rows({1, 0}), value(), rows({3, 0})}, values});
    std::vector<double> expected(24, 0);
    for (int k = 0; k < 3; ++k) {
      expected[static_cast<std::size_t>(1 * 12 + k * 4 + 3)] = 1 + k;
      expected[static_cast<std::size_t>(0 * 12 + k * 4 + 0)] = 4 + k;
    }
    CHECK(exec::to_vector(self) == expected);
  }
  SUBCASE("accumulate adds, repeated indices included, into a transposed self") {
    const tensor stored = f.full(dtype::int64, {3, 2}, 1);
    const tensor self = transpose(stored);  // 2 x 3
    f.call("aten.index_put_.default",
           {self, value_list{value(), rows({0, 0, 2})}, f.make_int(dtype::int64, {3}, {10, 20, 30}), true});
    CHECK(ints_of(self) == std::vector<std::int64_t>{31, 1, 31, 31, 1, 31});
    const tensor halves = f.full(dtype::float16, {2}, 0.5);
    f.call("aten.index_put_.default", {halves, value_list{rows({1, 1})}, f.make(dtype::float16, {2}, {0.25, 0.25})},
           {{"accumulate", true}});
    CHECK(exec::to_vector(halves) == std::vector<double>{0.5, 1});
  }
  SUBCASE("a bool mask selects the positions where it is true") {
    const tensor self = f.make(dtype::float32, {2, 3}, iota(6));
    const tensor mask = f.make(dtype::bool_, {2, 3}, {1, 0, 1, 0, 1, 0});
    f.call("aten.index_put_.default", {self, value_list{mask}, f.make(dtype::float32, {3}, {-1, -2, -3})});
    CHECK(exec::to_vector(self) == std::vector<double>{-1, 1, -2, 3, -3, 5});
    const tensor row_mask = f.make(dtype::bool_, {2}, {0, 1});
    f.call("aten.index_put_.default", {self, value_list{row_mask}, f.make(dtype::float32, {}, {0})});
    CHECK(exec::to_vector(self) == std::vector<double>{-1, 1, -2, 0, 0, 0});
  }
  SUBCASE("no index tensors or an empty index change nothing but what they select") {
    const tensor self = f.full(dtype::float32, {2, 2}, 1);
    f.call("aten.index_put_.default", {self, value_list{rows({})}, f.make(dtype::float32, {}, {5})});
    CHECK(exec::to_vector(self) == std::vector<double>{1, 1, 1, 1});
    f.call("aten.index_put_.default", {self, value_list{value()}, f.make(dtype::float32, {2}, {3, 4})});
    CHECK(exec::to_vector(self) == std::vector<double>{3, 4, 3, 4});
  }
  SUBCASE("bad indices, shapes and dtypes are errors and write nothing") {
    const tensor self = f.full(dtype::float32, {2, 3}, 0);
    const tensor v = f.make(dtype::float32, {}, {1});
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0, 2})}, v}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({-3})}, v}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("aten.index_put_.default", {self, value_list{value(), value(), rows({0})}, v}) ==
          "wrapgraph.operator.index_out_of_range");
    CHECK(exec::to_vector(self) == std::vector<double>(6, 0));
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
    CHECK(f.error("aten.index_put_.default", {self, rows({0}), v}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("aten.index_put_.default", {self, value_list{rows({0})}}) == "wrapgraph.operator.missing_argument");
  }
}

TEST_CASE("item, where.Scalar and the size queries give graph-level scalars") {
  fixture f;
  SUBCASE("item gives an int, a bool or a float by dtype") {
    const value i = f.call("aten.item.default", {f.make_int(dtype::int64, {1, 1}, {int64_min})});
    REQUIRE(i.as_int() != nullptr);
    CHECK(*i.as_int() == int64_min);
    const value u = f.call("aten.item.default", {f.make_int(dtype::uint8, {}, {255})});
    REQUIRE(u.as_int() != nullptr);
    CHECK(*u.as_int() == 255);
    const value b = f.call("aten.item.default", {f.make(dtype::bool_, {1}, {1})});
    REQUIRE(b.as_bool() != nullptr);
    CHECK(*b.as_bool());
    const value h = f.call("aten.item.default", {f.make(dtype::float16, {}, {0.1})});
    REQUIRE(h.as_double() != nullptr);
    CHECK(*h.as_double() == doctest::Approx(0.0999755859375));
    // One element of a strided view.
    const tensor t = f.make(dtype::float32, {4}, {1, 2, 3, 4});
    CHECK(*f.call("aten.item.default", {t.view({1}, {1}, 2)}).as_double() == 3);
    CHECK(f.error("aten.item.default", {t}) == "wrapgraph.operator.shape_mismatch");
    CHECK(f.error("aten.item.default", {f.make(dtype::float32, {0}, {})}) == "wrapgraph.operator.shape_mismatch");
  }
  SUBCASE("where.Scalar picks between two scalars in the condition's shape") {
    const tensor c = transpose(f.make(dtype::bool_, {2, 2}, {1, 0, 1, 1}));  // [[1, 1], [0, 1]]
    const tensor i = tensor_of(f.call("aten.where.Scalar", {c, 1, 0}));
    CHECK(i.type() == dtype::int64);
    CHECK(i.sizes() == extents{2, 2});
    CHECK(ints_of(i) == std::vector<std::int64_t>{1, 1, 0, 1});
    const tensor x = tensor_of(f.call("aten.where.Scalar", {c, 2.5, 1}));
    CHECK(x.type() == dtype::float32);
    CHECK(exec::to_vector(x) == std::vector<double>{2.5, 2.5, 1, 2.5});
    const tensor b = tensor_of(f.call("aten.where.Scalar", {f.make(dtype::bool_, {}, {0}), true, false}));
    CHECK(b.type() == dtype::bool_);
    CHECK(b.get_int(0) == 0);
    CHECK(f.error("aten.where.Scalar", {f.make(dtype::int64, {1}, {1}), 1, 0}) == "wrapgraph.operator.dtype_mismatch");
    CHECK(f.error("aten.where.Scalar", {c, "a", 0}) == "wrapgraph.operator.bad_argument");
  }
  SUBCASE("sym_size, sym_stride and sym_storage_offset read the layout") {
    const tensor t = f.full(dtype::float32, {20}, 0).view({2, 3}, {1, 4}, 5);
    CHECK(*f.call("aten.sym_size.int", {t, 1}).as_int() == 3);
    CHECK(*f.call("aten.sym_size.int", {t, -2}).as_int() == 2);
    CHECK(*f.call("aten.sym_stride.int", {t, 1}).as_int() == 4);
    CHECK(*f.call("aten.sym_stride.int", {t}, {{"dim", 0}}).as_int() == 1);
    CHECK(*f.call("aten.sym_storage_offset.default", {t}).as_int() == 5);
    CHECK(f.error("aten.sym_size.int", {t, 2}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.sym_stride.int", {t, -3}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.sym_size.int", {f.make(dtype::float32, {}, {1}), 0}) == "wrapgraph.operator.bad_dimension");
    CHECK(f.error("aten.sym_size.int", {t}) == "wrapgraph.operator.missing_argument");
    CHECK(f.error("aten.sym_storage_offset.default", {3}) == "wrapgraph.operator.bad_argument");
  }
}

TEST_CASE("integer arithmetic follows Python and reports overflow") {
  fixture f;
  const auto int_of = [&](std::string_view op, std::vector<value> args) {
    const value r = f.call(op, std::move(args));
    INFO(op, " gave a ", r.kind_name());
    REQUIRE(r.as_int() != nullptr);
    return *r.as_int();
  };
  const auto float_of = [&](std::string_view op, std::vector<value> args) {
    const value r = f.call(op, std::move(args));
    INFO(op, " gave a ", r.kind_name());
    REQUIRE(r.as_double() != nullptr);
    return *r.as_double();
  };
  SUBCASE("add, sub, mul on ints, floats and bools") {
    CHECK(int_of("operator.add", {2, 3}) == 5);
    CHECK(int_of("operator.sub", {2, 3}) == -1);
    CHECK(int_of("operator.mul", {-4, 3}) == -12);
    CHECK(int_of("operator.add", {true, true}) == 2);
    CHECK(float_of("operator.add", {2, 0.5}) == 2.5);
    CHECK(float_of("operator.mul", {1.5, 4}) == 6);
    CHECK(f.error("operator.add", {int64_max, 1}) == "wrapgraph.operator.overflow");
    CHECK(f.error("operator.sub", {int64_min, 1}) == "wrapgraph.operator.overflow");
    CHECK(f.error("operator.mul", {std::int64_t{1} << 32, std::int64_t{1} << 31}) == "wrapgraph.operator.overflow");
    CHECK(f.error("operator.add", {1, "x"}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("operator.add", {1}) == "wrapgraph.operator.missing_argument");
  }
  SUBCASE("floordiv and mod round toward negative infinity") {
    CHECK(int_of("operator.floordiv", {7, 2}) == 3);
    CHECK(int_of("operator.floordiv", {-7, 2}) == -4);
    CHECK(int_of("operator.floordiv", {7, -2}) == -4);
    CHECK(int_of("operator.floordiv", {-7, -2}) == 3);
    CHECK(int_of("operator.mod", {-7, 3}) == 2);
    CHECK(int_of("operator.mod", {7, -3}) == -2);
    CHECK(int_of("operator.mod", {-6, 3}) == 0);
    CHECK(int_of("operator.mod", {int64_min, -1}) == 0);
    CHECK(float_of("operator.floordiv", {-7.5, 2}) == -4);
    CHECK(float_of("operator.mod", {-7.5, 2}) == 0.5);
    CHECK(float_of("operator.mod", {7.5, -2.0}) == -0.5);
    CHECK(f.error("operator.floordiv", {1, 0}) == "wrapgraph.operator.division_by_zero");
    CHECK(f.error("operator.mod", {1, 0}) == "wrapgraph.operator.division_by_zero");
    CHECK(f.error("operator.floordiv", {1.0, 0.0}) == "wrapgraph.operator.division_by_zero");
    CHECK(f.error("operator.floordiv", {int64_min, -1}) == "wrapgraph.operator.overflow");
  }
  SUBCASE("ceil_div rounds up") {
    CHECK(int_of("wrapgraph.ceil_div", {7, 2}) == 4);
    CHECK(int_of("wrapgraph.ceil_div", {8, 2}) == 4);
    CHECK(int_of("wrapgraph.ceil_div", {-7, 2}) == -3);
    CHECK(int_of("wrapgraph.ceil_div", {7, -2}) == -3);
    CHECK(int_of("wrapgraph.ceil_div", {-7, -2}) == 4);
    CHECK(int_of("wrapgraph.ceil_div", {int64_min, 2}) == int64_min / 2);
    CHECK(f.error("wrapgraph.ceil_div", {1, 0}) == "wrapgraph.operator.division_by_zero");
    CHECK(f.error("wrapgraph.ceil_div", {int64_min, -1}) == "wrapgraph.operator.overflow");
    CHECK(f.error("wrapgraph.ceil_div", {1.5, 2}) == "wrapgraph.operator.bad_argument");
  }
  SUBCASE("pow of ints stays an int unless the exponent is negative") {
    CHECK(int_of("operator.pow", {2, 10}) == 1024);
    CHECK(int_of("operator.pow", {-2, 3}) == -8);
    CHECK(int_of("operator.pow", {0, 0}) == 1);
    CHECK(int_of("operator.pow", {-2, 63}) == int64_min);
    CHECK(float_of("operator.pow", {2, -1}) == 0.5);
    CHECK(float_of("operator.pow", {2.0, 0.5}) == doctest::Approx(std::sqrt(2.0)));
    CHECK(f.error("operator.pow", {2, 63}) == "wrapgraph.operator.overflow");
    CHECK(f.error("operator.pow", {0, -1}) == "wrapgraph.operator.division_by_zero");
    CHECK(f.error("operator.pow", {-8.0, 0.5}) == "wrapgraph.operator.bad_argument");
    CHECK(f.error("operator.pow", {10.0, 400}) == "wrapgraph.operator.overflow");
  }
  SUBCASE("neg and abs") {
    CHECK(int_of("operator.neg", {5}) == -5);
    CHECK(int_of("operator.abs", {-5}) == 5);
    CHECK(int_of("operator.neg", {true}) == -1);
    CHECK(float_of("operator.abs", {-2.5}) == 2.5);
    CHECK(f.error("operator.neg", {int64_min}) == "wrapgraph.operator.overflow");
    CHECK(f.error("operator.abs", {int64_min}) == "wrapgraph.operator.overflow");
  }
  SUBCASE("sym_min and sym_max promote to float when either is a float") {
    CHECK(int_of("torch.sym_min", {3, -2}) == -2);
    CHECK(int_of("torch.sym_max", {3, -2}) == 3);
    CHECK(float_of("torch.sym_max", {3, 2.5}) == 3.0);
    CHECK(float_of("torch.sym_min", {3, 2.5}) == 2.5);
  }
  SUBCASE("getitem indexes a list, from the end when negative") {
    const value_list list{10, 20.5, "x"};
    CHECK(int_of("operator.getitem", {list, 0}) == 10);
    CHECK(float_of("operator.getitem", {list, -2}) == 20.5);
    CHECK(f.error("operator.getitem", {list, 3}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("operator.getitem", {list, -4}) == "wrapgraph.operator.index_out_of_range");
    CHECK(f.error("operator.getitem", {3, 0}) == "wrapgraph.operator.bad_argument");
  }
}

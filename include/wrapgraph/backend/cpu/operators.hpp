#pragma once
/// The built-in extern operators on the CPU: matrix products, topk, sort,
/// nonzero, random tensors, scatter, index_put, the graph-level scalar
/// operators and integer arithmetic, with PyTorch's semantics and argument
/// conventions.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/operators.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>
#include <wrapgraph/lines/types.hpp>

namespace wrapgraph::backend::cpu {

// Other headers of backend/cpu have functions of their own in `detail`;
// these live apart from them.
namespace detail::builtin {

using exec::extents;
using exec::op_arguments;
using exec::op_context;
using exec::tensor;
using exec::value;
using exec::value_list;

// ---- arguments ------------------------------------------------------------------

/// Checks a call against a schema as Python binds it: at most
/// `positional.size()` positional arguments, keywords that name a parameter,
/// and no parameter passed twice.
inline void check_call(const op_arguments& a, std::initializer_list<std::string_view> positional,
                       std::initializer_list<std::string_view> keyword_only = {}) {
  if (a.args().size() > positional.size())
    a.fail("wrapgraph.operator.bad_argument", "takes at most " + std::to_string(positional.size()) +
                                                  " positional arguments, " + std::to_string(a.args().size()) +
                                                  " were passed");
  for (const exec::keyword_value& kv : a.kwargs()) {
    const auto* p = std::find(positional.begin(), positional.end(), kv.first);
    if (p != positional.end()) {
      if (static_cast<std::size_t>(p - positional.begin()) < a.args().size())
        a.fail("wrapgraph.operator.bad_argument", "argument '" + kv.first + "' was passed twice");
      continue;
    }
    if (std::find(keyword_only.begin(), keyword_only.end(), kv.first) == keyword_only.end())
      a.fail("wrapgraph.operator.bad_argument", "unexpected keyword argument '" + kv.first + "'");
  }
}

[[nodiscard]] inline std::string shape_string(std::span<const std::int64_t> sizes) {
  std::string out = "[";
  for (std::size_t d = 0; d < sizes.size(); ++d) out += (d ? ", " : "") + std::to_string(sizes[d]);
  return out + "]";
}
[[nodiscard]] inline std::string shape_string(const tensor& t) { return shape_string({t.sizes().data(), t.sizes().size()}); }

inline void require_host(const op_arguments& a, const tensor& t, std::string_view name) {
  if (t.dev().kind != device_kind::cpu)
    a.fail("wrapgraph.operator.device_mismatch",
           "'" + std::string(name) + "' is on " + to_string(t.dev()) + ", the operator runs on the CPU");
}

/// A tensor argument on the host, positional or by keyword.
[[nodiscard]] inline const tensor& host_tensor(const op_arguments& a, std::size_t index, std::string_view name) {
  const tensor& t = a.get_tensor(index, name);
  require_host(a, t, name);
  return t;
}

/// A keyword-only tensor argument on the host (`out`).
[[nodiscard]] inline const tensor& keyword_tensor(const op_arguments& a, std::string_view name) {
  const value* v = a.kwarg(name);
  if (!v) a.fail("wrapgraph.operator.missing_argument", "keyword argument '" + std::string(name) + "' was not passed");
  const tensor* t = v->as_tensor();
  if (!t || !t->defined())
    a.fail("wrapgraph.operator.bad_argument",
           "keyword argument '" + std::string(name) + "' must be a tensor, got " + v->kind_name());
  require_host(a, *t, name);
  return *t;
}

/// A keyword-only bool argument, `fallback` when missing or None.
[[nodiscard]] inline bool keyword_bool(const op_arguments& a, std::string_view name, bool fallback) {
  const value* v = a.kwarg(name);
  if (!v || v->is_none()) return fallback;
  if (const bool* b = v->as_bool()) return *b;
  if (const std::int64_t* i = v->as_int()) return *i != 0;
  a.fail("wrapgraph.operator.bad_argument",
         "keyword argument '" + std::string(name) + "' must be a bool, got " + v->kind_name());
}

/// A number argument (int, float or bool), positional or by keyword.
[[nodiscard]] inline const value& number_argument(const op_arguments& a, std::size_t index, std::string_view name) {
  const value& v = a.get(index, name);
  if (!v.as_int() && !v.as_double() && !v.as_bool())
    a.fail("wrapgraph.operator.bad_argument",
           "argument " + std::to_string(index) + " ('" + std::string(name) + "') must be a number, got " + v.kind_name());
  return v;
}

/// `dim` wrapped into [0, rank) as PyTorch does (a 0-d tensor counts as
/// rank 1 where `scalar_as_vector`).
[[nodiscard]] inline std::int64_t wrap_dim(const op_arguments& a, std::int64_t dim, std::int64_t rank,
                                           bool scalar_as_vector = true) {
  const std::int64_t r = scalar_as_vector ? std::max<std::int64_t>(rank, 1) : rank;
  if (dim < -r || dim >= r)
    a.fail("wrapgraph.operator.bad_dimension",
           "dimension " + std::to_string(dim) + " is out of range for a tensor of rank " + std::to_string(rank) +
               (r > 0 ? " (expected it in [" + std::to_string(-r) + ", " + std::to_string(r - 1) + "])" : ""));
  return dim < 0 ? dim + r : dim;
}

inline void require_dtype(const op_arguments& a, const tensor& t, dtype expected, std::string_view name) {
  if (t.type() != expected)
    a.fail("wrapgraph.operator.dtype_mismatch", "'" + std::string(name) + "' holds " + std::string(to_string(t.type())) +
                                                    ", expected " + std::string(to_string(expected)));
}

[[noreturn]] inline void unsupported(const op_arguments& a, dtype t) {
  a.fail("wrapgraph.operator.unsupported_dtype", "not implemented for " + std::string(to_string(t)) + " (as in PyTorch)");
}

/// The reduce argument at `index` (or by keyword), one of `allowed`.
[[nodiscard]] inline std::string reduce_argument(const op_arguments& a, std::size_t index, bool keyword_only,
                                                 std::initializer_list<std::string_view> allowed) {
  const std::string* s = nullptr;
  if (keyword_only) {
    const value* v = a.kwarg("reduce");
    if (!v || v->is_none()) a.fail("wrapgraph.operator.missing_argument", "keyword argument 'reduce' was not passed");
    s = v->as_string();
    if (!s) a.fail("wrapgraph.operator.bad_argument", std::string("'reduce' must be a string, got ") + v->kind_name());
  } else {
    s = a.find_string(index, "reduce");
    if (!s) a.fail("wrapgraph.operator.missing_argument", "argument " + std::to_string(index) + " ('reduce') was not passed");
  }
  if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
    std::string names;
    for (std::string_view n : allowed) names += (names.empty() ? "'" : ", '") + std::string(n) + "'";
    a.fail("wrapgraph.operator.bad_argument", "unknown reduce '" + *s + "' (expected one of " + names + ")");
  }
  return *s;
}

// ---- elements -------------------------------------------------------------------

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, exec::float16_t> || std::is_same_v<T, exec::bfloat16_t>;
template <class T>
inline constexpr bool is_float_v = is_half_v<T> || std::is_floating_point_v<T>;
template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

/// The type arithmetic on T happens in: float for 16-bit floats, T otherwise.
template <class T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

template <class T>
[[nodiscard]] compute_t<T> widen(T x) noexcept {
  if constexpr (is_half_v<T>)
    return exec::to_float(x);
  else
    return x;
}
template <class T>
[[nodiscard]] T narrow(compute_t<T> x) noexcept {
  if constexpr (std::is_same_v<T, exec::float16_t>)
    return exec::to_float16(x);
  else if constexpr (std::is_same_v<T, exec::bfloat16_t>)
    return exec::to_bfloat16(x);
  else
    return x;
}

template <class T>
[[nodiscard]] double to_double(T x) noexcept {
  return static_cast<double>(widen(x));
}

/// double → T: floats round, integers truncate toward zero (the caller has
/// checked the range), bool is `x != 0`.
template <class T>
[[nodiscard]] T from_double(double x) noexcept {
  if constexpr (std::is_same_v<T, bool>)
    return x != 0;
  else if constexpr (is_half_v<T>)
    return narrow<T>(static_cast<float>(x));
  else
    return static_cast<T>(x);
}

/// a + b and a * b in T: integers wrap as PyTorch's do, bool is or / and,
/// 16-bit floats compute in float and round.
template <class T>
[[nodiscard]] T add(T a, T b) noexcept {
  if constexpr (std::is_same_v<T, bool>)
    return a || b;
  else if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
  else
    return narrow<T>(widen(a) + widen(b));
}
template <class T>
[[nodiscard]] T mul(T a, T b) noexcept {
  if constexpr (std::is_same_v<T, bool>)
    return a && b;
  else if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
  else
    return narrow<T>(widen(a) * widen(b));
}
/// a or b, whichever `second_wins(a, b)` (on widened values) picks; a NaN
/// always wins, so max and min propagate NaN.
template <class T, class SecondWins>
[[nodiscard]] T pick(T a, T b, SecondWins second_wins) noexcept {
  if constexpr (is_float_v<T>) {
    const auto x = widen(a), y = widen(b);
    if (std::isnan(x)) return a;
    if (std::isnan(y)) return b;
    return second_wins(x, y) ? b : a;
  } else
    return second_wins(a, b) ? b : a;
}
template <class T>
[[nodiscard]] T maximum(T a, T b) noexcept {
  return pick(a, b, [](auto x, auto y) { return x < y; });
}
template <class T>
[[nodiscard]] T minimum(T a, T b) noexcept {
  return pick(a, b, [](auto x, auto y) { return y < x; });
}

[[nodiscard]] inline std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {  // b != 0, not MIN / -1
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// A Scalar argument converted to T as PyTorch's checked conversion does: an
/// error when the value does not fit T.
template <class T>
[[nodiscard]] T scalar_to(const op_arguments& a, const value& v, std::string_view name) {
  if (const bool* b = v.as_bool()) {
    if constexpr (std::is_same_v<T, bool>)
      return *b;
    else
      return from_double<T>(*b ? 1.0 : 0.0);
  }
  const std::int64_t* i = v.as_int();
  const double* d = v.as_double();
  if (!i && !d)
    a.fail("wrapgraph.operator.bad_argument", "'" + std::string(name) + "' must be a number, got " + v.kind_name());
  const std::string fits = "'" + std::string(name) + "' = " + exec::to_string(v) + " does not fit " +
                           std::string(to_string(exec::dtype_of<T>));
  if constexpr (std::is_same_v<T, bool>) {
    return i ? *i != 0 : *d != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (i) {
      if (*i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          *i > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
        a.fail("wrapgraph.operator.overflow", fits);
      return static_cast<T>(*i);
    }
    // [min, max + 1) in double: for int64 max + 1 rounds to 2^63, as wanted.
    const double t = std::trunc(*d);
    if (!(t >= static_cast<double>(std::numeric_limits<T>::min()) &&
          t < static_cast<double>(std::numeric_limits<T>::max()) + 1.0))
      a.fail("wrapgraph.operator.overflow", fits);
    return static_cast<T>(t);
  } else {
    const double x = i ? static_cast<double>(*i) : *d;
    double max = 0;
    if constexpr (std::is_same_v<T, exec::float16_t>)
      max = 65504.0;
    else if constexpr (std::is_same_v<T, exec::bfloat16_t>)
      max = static_cast<double>(std::numeric_limits<float>::max());
    else
      max = static_cast<double>(std::numeric_limits<T>::max());
    if (std::isfinite(x) && std::abs(x) > max) a.fail("wrapgraph.operator.overflow", fits);
    return from_double<T>(x);
  }
}

// ---- iteration ------------------------------------------------------------------

/// Calls `f(offsets)` for every coordinate of `sizes` in row-major order,
/// where `offsets[t]` is `base[t] + Σ coordinate[d] * strides[t][d]`.
template <std::size_t N, class F>
void for_each_offset(std::span<const std::int64_t> sizes, const std::array<const std::int64_t*, N>& strides,
                     std::array<std::int64_t, N> base, F&& f) {
  for (std::int64_t s : sizes)
    if (s == 0) return;
  const std::size_t rank = sizes.size();
  if (rank == 0) {
    f(std::as_const(base));
    return;
  }
  extents coordinate(rank, 0);
  const std::size_t last = rank - 1;
  for (;;) {
    std::array<std::int64_t, N> at = base;
    for (std::int64_t i = 0; i < sizes[last]; ++i) {
      f(std::as_const(at));
      for (std::size_t t = 0; t < N; ++t) at[t] += strides[t][last];
    }
    std::size_t d = last;
    for (;;) {
      if (d == 0) return;
      --d;
      ++coordinate[d];
      for (std::size_t t = 0; t < N; ++t) base[t] += strides[t][d];
      if (coordinate[d] < sizes[d]) break;
      for (std::size_t t = 0; t < N; ++t) base[t] -= coordinate[d] * strides[t][d];
      coordinate[d] = 0;
    }
  }
}

/// Calls `f(coordinate)` for every coordinate of `sizes` in row-major order.
template <class F>
void for_each_coordinate(std::span<const std::int64_t> sizes, F&& f) {
  for (std::int64_t s : sizes)
    if (s == 0) return;
  extents coordinate(sizes.size(), 0);
  for (;;) {
    f(std::span<const std::int64_t>(coordinate.data(), coordinate.size()));
    std::size_t d = sizes.size();
    for (;;) {
      if (d == 0) return;
      --d;
      if (++coordinate[d] < sizes[d]) break;
      coordinate[d] = 0;
    }
  }
}

/// The strides that view a tensor of `sizes` and `strides` as `target` by
/// broadcasting (0 for new and expanded dimensions), or nullopt when it
/// cannot be broadcast.
[[nodiscard]] inline std::optional<extents> broadcast_strides(std::span<const std::int64_t> sizes,
                                                              std::span<const std::int64_t> strides,
                                                              std::span<const std::int64_t> target) {
  // Leading dimensions of size 1 beyond the target's rank can be dropped.
  std::size_t skip = 0;
  while (sizes.size() - skip > target.size()) {
    if (sizes[skip] != 1) return std::nullopt;
    ++skip;
  }
  extents out(target.size(), 0);
  const std::size_t lead = target.size() - (sizes.size() - skip);
  for (std::size_t d = skip; d < sizes.size(); ++d) {
    const std::size_t t = lead + d - skip;
    if (sizes[d] == target[t])
      out[t] = sizes[d] == 1 ? 0 : strides[d];
    else if (sizes[d] == 1)
      out[t] = 0;
    else
      return std::nullopt;
  }
  return out;
}

/// The sizes and strides of `t` with a 0-d tensor seen as one element of rank 1.
struct rank1_layout {
  extents sizes, strides;
  explicit rank1_layout(const tensor& t) : sizes(t.sizes()), strides(t.strides()) {
    if (sizes.empty()) {
      sizes.push_back(1);
      strides.push_back(1);
    }
  }
};

template <class T>
[[nodiscard]] T* base_of(const tensor& t) noexcept {
  return static_cast<T*>(t.storage()->data());
}

[[nodiscard]] inline tensor allocate(op_context& ctx, dtype type, extents sizes) {
  return exec::empty(ctx.memory, type, std::move(sizes));
}

// ---- matrix products ------------------------------------------------------------

/// A strided matrix inside a storage: rows × cols, strides and offset in elements.
struct matrix_view {
  std::int64_t rows, cols, row_stride, col_stride, offset;
};

/// alpha and beta of addmm, as the dtype's computation takes them.
struct gemm_scalars {
  double alpha = 1, beta = 0;
  std::int64_t int_alpha = 1, int_beta = 0;
};

/// out = alpha * (a @ b) + beta * c, where c (broadcast to out's shape) is
/// ignored when absent or beta == 0, and a @ b when alpha == 0, as BLAS and
/// PyTorch do (NaN there does not propagate). The product is computed
/// completely before out is written, so out may be c.
template <class T>
void gemm(const T* a_base, matrix_view a, const T* b_base, matrix_view b, const T* c_base, const matrix_view* c,
          T* out_base, matrix_view out, const gemm_scalars& s) {
  const std::int64_t n = a.rows, m = b.cols;
  std::int64_t k = a.cols;
  if (n == 0 || m == 0) return;
  const auto at = [](matrix_view v, std::int64_t i, std::int64_t j) { return v.offset + i * v.row_stride + j * v.col_stride; };
  const bool use_c = c != nullptr && (std::is_integral_v<T> ? s.int_beta != 0 : s.beta != 0);
  if (k > 0 && (std::is_integral_v<T> ? s.int_alpha == 0 : s.alpha == 0)) k = 0;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using stride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    using map = Eigen::Map<const matrix, Eigen::Unaligned, stride>;
    matrix product(n, m);
    if (k == 0)
      product.setZero();
    else
      product.noalias() = map(a_base + a.offset, n, k, stride(a.row_stride, a.col_stride)) *
                          map(b_base + b.offset, k, m, stride(b.row_stride, b.col_stride));
    const T alpha = static_cast<T>(s.alpha), beta = static_cast<T>(s.beta);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) {
        T r = alpha * product(i, j);
        if (use_c) r += beta * c_base[at(*c, i, j)];
        out_base[at(out, i, j)] = r;
      }
  } else if constexpr (std::is_integral_v<T>) {
    // Integers wrap: accumulate modulo 2^64 and truncate, as T's arithmetic does.
    std::vector<std::uint64_t> product(static_cast<std::size_t>(n * m), 0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t p = 0; p < k; ++p) {
        const auto x = static_cast<std::uint64_t>(a_base[at(a, i, p)]);
        for (std::int64_t j = 0; j < m; ++j)
          product[static_cast<std::size_t>(i * m + j)] += x * static_cast<std::uint64_t>(b_base[at(b, p, j)]);
      }
    const auto alpha = static_cast<std::uint64_t>(s.int_alpha), beta = static_cast<std::uint64_t>(s.int_beta);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) {
        std::uint64_t r = alpha * product[static_cast<std::size_t>(i * m + j)];
        if (use_c) r += beta * static_cast<std::uint64_t>(c_base[at(*c, i, j)]);
        out_base[at(out, i, j)] = static_cast<T>(r);
      }
  } else {
    // 16-bit floats: accumulate in double, round once.
    std::vector<double> product(static_cast<std::size_t>(n * m), 0.0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t p = 0; p < k; ++p) {
        const double x = to_double(a_base[at(a, i, p)]);
        for (std::int64_t j = 0; j < m; ++j) product[static_cast<std::size_t>(i * m + j)] += x * to_double(b_base[at(b, p, j)]);
      }
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) {
        double r = s.alpha * product[static_cast<std::size_t>(i * m + j)];
        if (use_c) r += s.beta * to_double(c_base[at(*c, i, j)]);
        out_base[at(out, i, j)] = from_double<T>(r);
      }
  }
}

[[nodiscard]] inline matrix_view matrix_of(const tensor& t, std::size_t first_dim, std::int64_t batch_offset = 0) {
  return {t.sizes()[first_dim], t.sizes()[first_dim + 1], t.strides()[first_dim], t.strides()[first_dim + 1],
          t.offset() + batch_offset};
}

inline void require_rank(const op_arguments& a, const tensor& t, std::int64_t rank, std::string_view name) {
  if (t.dim() != rank)
    a.fail("wrapgraph.operator.shape_mismatch", "'" + std::string(name) + "' must be a " + std::to_string(rank) +
                                                    "-D tensor, got " + std::to_string(t.dim()) + "-D of shape " +
                                                    shape_string(t));
}

inline void require_shape(const op_arguments& a, const tensor& t, std::span<const std::int64_t> sizes,
                          std::string_view name) {
  if (!std::ranges::equal(t.sizes(), sizes))
    a.fail("wrapgraph.operator.shape_mismatch", "'" + std::string(name) + "' has shape " + shape_string(t) +
                                                    ", expected " + shape_string(sizes) +
                                                    " (out tensors are not resized)");
}

/// alpha and beta for a dtype: integral tensors take integral scalars only.
[[nodiscard]] inline gemm_scalars gemm_scalars_of(const op_arguments& a, dtype type, const value* alpha,
                                                  const value* beta) {
  gemm_scalars s;
  s.alpha = 1;
  s.beta = 1;
  s.int_alpha = 1;
  s.int_beta = 1;
  const auto read = [&](const value* v, std::string_view name, double& d, std::int64_t& i) {
    if (!v || v->is_none()) return;
    if (const bool* b = v->as_bool()) {
      d = *b;
      i = *b;
    } else if (const std::int64_t* x = v->as_int()) {
      d = static_cast<double>(*x);
      i = *x;
    } else if (const double* f = v->as_double()) {
      if (!is_floating_point(type))
        a.fail("wrapgraph.operator.bad_argument",
               "for integral input tensors, argument '" + std::string(name) + "' must not be a floating point number");
      d = *f;
    } else
      a.fail("wrapgraph.operator.bad_argument", "'" + std::string(name) + "' must be a number, got " + v->kind_name());
  };
  read(alpha, "alpha", s.alpha, s.int_alpha);
  read(beta, "beta", s.beta, s.int_beta);
  return s;
}

inline void check_matmul_dtypes(const op_arguments& a, std::initializer_list<std::pair<const tensor*, std::string_view>> ts) {
  const dtype type = ts.begin()->first->type();
  if (type == dtype::bool_) unsupported(a, type);
  for (const auto& [t, name] : ts) require_dtype(a, *t, type, name);
}

/// The sizes of an mm, addmm (with `self`) or bmm (`batched`) call,
/// checked: the batch (1 unless batched), n x k times k x m, and where
/// `self`, broadcast to n x m, keeps its elements.
struct matmul_shape {
  std::int64_t batch, n, k, m;
  std::optional<extents> self_strides;
};

/// Checks the operands' ranks and sizes and `out`'s shape (the errors of
/// every device's matmul).
inline matmul_shape check_matmul(const op_arguments& a, const tensor& mat1, const tensor& mat2, const tensor* self,
                                 const tensor& out, bool batched) {
  const std::int64_t rank = batched ? 3 : 2;
  require_rank(a, mat1, rank, self ? "mat1" : "self");
  require_rank(a, mat2, rank, "mat2");
  const std::size_t first = batched ? 1 : 0;
  const std::int64_t batch = batched ? mat1.sizes()[0] : 1;
  if (batched && mat2.sizes()[0] != batch)
    a.fail("wrapgraph.operator.shape_mismatch", "batch sizes differ: " + shape_string(mat1) + " and " + shape_string(mat2));
  const std::int64_t n = mat1.sizes()[first], k = mat1.sizes()[first + 1], m = mat2.sizes()[first + 1];
  if (mat2.sizes()[first] != k)
    a.fail("wrapgraph.operator.shape_mismatch",
           std::string(batched ? "batch1 and batch2" : "mat1 and mat2") + " shapes cannot be multiplied (" +
               std::to_string(n) + "x" + std::to_string(k) + " and " + std::to_string(mat2.sizes()[first]) + "x" +
               std::to_string(m) + ")");
  extents result_sizes;
  if (batched) result_sizes.push_back(batch);
  result_sizes.push_back(n);
  result_sizes.push_back(m);
  require_shape(a, out, {result_sizes.data(), result_sizes.size()}, "out");
  std::optional<extents> c_strides;
  if (self) {
    const std::array<std::int64_t, 2> nm{n, m};
    c_strides = broadcast_strides({self->sizes().data(), self->sizes().size()},
                                  {self->strides().data(), self->strides().size()}, nm);
    if (!c_strides || self->dim() > 2)
      a.fail("wrapgraph.operator.shape_mismatch",
             "'self' of shape " + shape_string(*self) + " cannot be broadcast to " + shape_string(nm));
  }
  return {batch, n, k, m, std::move(c_strides)};
}

/// mm, addmm (with `self`) and bmm (`batched`).
inline value matmul(const op_arguments& a, const tensor& mat1, const tensor& mat2, const tensor* self,
                    const tensor& out, const gemm_scalars& s, bool batched) {
  const matmul_shape shape = check_matmul(a, mat1, mat2, self, out, batched);
  const std::size_t first = batched ? 1 : 0;
  const std::int64_t batch = shape.batch, n = shape.n, m = shape.m;
  const std::optional<extents>& c_strides = shape.self_strides;
  exec::visit_dtype(out.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      const matrix_view c = self ? matrix_view{n, m, (*c_strides)[0], (*c_strides)[1], self->offset()}
                                 : matrix_view{0, 0, 0, 0, 0};
      for (std::int64_t i = 0; i < batch; ++i) {
        const std::int64_t b1 = batched ? i * mat1.strides()[0] : 0, b2 = batched ? i * mat2.strides()[0] : 0,
                           bo = batched ? i * out.strides()[0] : 0;
        gemm<T>(base_of<T>(mat1), matrix_of(mat1, first, b1), base_of<T>(mat2), matrix_of(mat2, first, b2),
                self ? base_of<T>(*self) : nullptr, self ? &c : nullptr, base_of<T>(out), matrix_of(out, first, bo), s);
      }
    }
  });
  return out;
}

// mm.out and bmm.out: self @ mat2 into out, one matrix or a batch of them.
inline value product_out(const op_arguments& a, bool batched) {
  check_call(a, {"self", "mat2"}, {"out"});
  const tensor& self = host_tensor(a, 0, "self");
  const tensor& mat2 = host_tensor(a, 1, "mat2");
  const tensor& out = keyword_tensor(a, "out");
  check_matmul_dtypes(a, {{&self, "self"}, {&mat2, "mat2"}, {&out, "out"}});
  return matmul(a, self, mat2, nullptr, out, gemm_scalars{}, batched);
}

inline value mm_out(op_context&, const op_arguments& a) { return product_out(a, false); }

inline value addmm_out(op_context&, const op_arguments& a) {
  check_call(a, {"self", "mat1", "mat2"}, {"beta", "alpha", "out"});
  const tensor& self = host_tensor(a, 0, "self");
  const tensor& mat1 = host_tensor(a, 1, "mat1");
  const tensor& mat2 = host_tensor(a, 2, "mat2");
  const tensor& out = keyword_tensor(a, "out");
  check_matmul_dtypes(a, {{&mat1, "mat1"}, {&mat2, "mat2"}, {&self, "self"}, {&out, "out"}});
  const gemm_scalars s = gemm_scalars_of(a, mat1.type(), a.kwarg("alpha"), a.kwarg("beta"));
  return matmul(a, mat1, mat2, &self, out, s, false);
}

inline value bmm_out(op_context&, const op_arguments& a) { return product_out(a, true); }

// ---- topk and sort --------------------------------------------------------------

/// Orders positions of one slice by key: ascending or descending, NaN
/// counting as the largest value, equal keys by position (a stable order).
template <class Key>
struct slice_order {
  const std::vector<Key>* keys;
  bool descending;
  [[nodiscard]] static bool less(Key x, Key y) noexcept {
    if constexpr (std::is_floating_point_v<Key>) {
      if (std::isnan(x)) return false;
      if (std::isnan(y)) return true;
    }
    return x < y;
  }
  bool operator()(std::int64_t i, std::int64_t j) const noexcept {
    const Key x = (*keys)[static_cast<std::size_t>(i)], y = (*keys)[static_cast<std::size_t>(j)];
    if (descending ? less(y, x) : less(x, y)) return true;
    if (descending ? less(x, y) : less(y, x)) return false;
    return i < j;
  }
};

/// The first `k` positions of each slice along `dim` in order, written as
/// values and int64 indices (shared by topk and sort).
inline value_list select_sorted(op_context& ctx, const tensor& self, std::int64_t dim,
                                std::int64_t k, bool descending) {
  const rank1_layout in(self);
  const std::size_t d = static_cast<std::size_t>(dim);
  const std::int64_t n = in.sizes[d];
  extents result_sizes = self.sizes();
  if (!result_sizes.empty()) result_sizes[d] = k;
  tensor values = allocate(ctx, self.type(), result_sizes);
  tensor indices = allocate(ctx, dtype::int64, result_sizes);
  const rank1_layout vo(values), io(indices);
  extents outer = in.sizes;
  outer[d] = 1;
  for (std::int64_t s : in.sizes)
    if (s == 0) return {values, indices};
  if (k == 0) return {values, indices};
  exec::visit_dtype(self.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Key = std::conditional_t<std::is_integral_v<T>, std::int64_t, double>;
    const T* src = base_of<T>(self);
    T* dst = base_of<T>(values);
    std::int64_t* idx = base_of<std::int64_t>(indices);
    std::vector<Key> keys(static_cast<std::size_t>(n));
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    const std::array<const std::int64_t*, 3> strides{in.strides.data(), vo.strides.data(), io.strides.data()};
    for_each_offset<3>({outer.data(), outer.size()}, strides, {self.offset(), values.offset(), indices.offset()},
                       [&](const std::array<std::int64_t, 3>& at) {
                         for (std::int64_t i = 0; i < n; ++i) {
                           const T x = src[at[0] + i * in.strides[d]];
                           if constexpr (std::is_integral_v<T>)
                             keys[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(x);
                           else
                             keys[static_cast<std::size_t>(i)] = to_double(x);
                           order[static_cast<std::size_t>(i)] = i;
                         }
                         const slice_order<Key> before{&keys, descending};
                         if (k < n)
                           std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                         else
                           std::sort(order.begin(), order.end(), before);
                         for (std::int64_t i = 0; i < k; ++i) {
                           const std::int64_t from = order[static_cast<std::size_t>(i)];
                           dst[at[1] + i * vo.strides[d]] = src[at[0] + from * in.strides[d]];
                           idx[at[2] + i * io.strides[d]] = from;
                         }
                       });
  });
  return {values, indices};
}

inline value topk(op_context& ctx, const op_arguments& a) {
  check_call(a, {"self", "k", "dim", "largest", "sorted"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t k = a.get_int(1, "k");
  const std::int64_t dim = wrap_dim(a, a.get_int(2, "dim", -1), self.dim());
  const bool largest = a.get_bool(3, "largest", true);
  (void)a.get_bool(4, "sorted", true);  // the result is always sorted
  if (self.type() == dtype::bool_) unsupported(a, self.type());
  const std::int64_t n = self.dim() == 0 ? 1 : self.sizes()[static_cast<std::size_t>(dim)];
  if (k < 0 || k > n)
    a.fail("wrapgraph.operator.index_out_of_range",
           "selected index k = " + std::to_string(k) + " is out of range for a dimension of size " + std::to_string(n));
  return select_sorted(ctx, self, dim, k, largest);
}

inline value sort(op_context& ctx, const op_arguments& a) {
  check_call(a, {"self", "dim", "descending"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = wrap_dim(a, a.get_int(1, "dim", -1), self.dim());
  const bool descending = a.get_bool(2, "descending", false);
  const std::int64_t n = self.dim() == 0 ? 1 : self.sizes()[static_cast<std::size_t>(dim)];
  return select_sorted(ctx, self, dim, n, descending);
}

// ---- nonzero --------------------------------------------------------------------

template <class T>
[[nodiscard]] bool is_nonzero(T x) noexcept {
  if constexpr (is_half_v<T>)
    return widen(x) != 0.0f;  // NaN is nonzero
  else
    return x != T{};
}

inline value nonzero(op_context& ctx, const op_arguments& a) {
  check_call(a, {"self"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::span<const std::int64_t> sizes(self.sizes().data(), self.sizes().size());
  const std::size_t rank = sizes.size();
  std::vector<std::int64_t> found;
  std::int64_t count = 0;
  exec::visit_dtype(self.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = base_of<T>(self);
    for_each_coordinate(sizes, [&](std::span<const std::int64_t> c) {
      std::int64_t at = self.offset();
      for (std::size_t d = 0; d < rank; ++d) at += c[d] * self.strides()[d];
      if (!is_nonzero(src[at])) return;
      found.insert(found.end(), c.begin(), c.end());
      ++count;
    });
  });
  tensor out = allocate(ctx, dtype::int64, {count, static_cast<std::int64_t>(rank)});
  if (!found.empty()) std::copy(found.begin(), found.end(), base_of<std::int64_t>(out));
  return out;
}

// ---- random ---------------------------------------------------------------------

/// Checks randint's size, `out`'s shape and that [low, high) is a range of
/// values `out`'s dtype holds exactly (the errors of every device's randint).
inline void check_randint(const op_arguments& a, const tensor& out, const std::vector<std::int64_t>& size,
                          std::int64_t low, std::int64_t high) {
  for (std::int64_t s : size)
    if (s < 0) a.fail("wrapgraph.operator.bad_argument", "negative size in " + shape_string(size));
  require_shape(a, out, size, "out");
  if (low >= high)
    a.fail("wrapgraph.operator.bad_argument", "'low' must be less than 'high', got low = " + std::to_string(low) +
                                                  " >= high = " + std::to_string(high));
  exec::visit_dtype(out.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::int64_t min = 0, max = 0;  // the representable range of integers
    if constexpr (std::is_same_v<T, bool>) {
      min = 0;
      max = 1;
    } else if constexpr (std::is_integral_v<T>) {
      min = std::numeric_limits<T>::min();
      max = std::numeric_limits<T>::max();
    } else {
      int digits = std::numeric_limits<float>::digits;
      if constexpr (std::is_same_v<T, double>) digits = std::numeric_limits<double>::digits;
      if constexpr (std::is_same_v<T, exec::float16_t>) digits = 11;
      if constexpr (std::is_same_v<T, exec::bfloat16_t>) digits = 8;
      max = std::int64_t{1} << digits;
      min = -max;
    }
    if (low < min || high - 1 > max)
      a.fail("wrapgraph.operator.bad_argument", "[" + std::to_string(low) + ", " + std::to_string(high) +
                                                    ") is not within the range of " + std::string(to_string(out.type())));
  });
}

inline value randint_low_out(op_context& ctx, const op_arguments& a) {
  check_call(a, {"low", "high", "size"}, {"out"});
  const std::int64_t low = a.get_int(0, "low"), high = a.get_int(1, "high");
  const std::vector<std::int64_t> size = a.get_ints(2, "size");
  const tensor& out = keyword_tensor(a, "out");
  check_randint(a, out, size, low, high);
  exec::visit_dtype(out.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    T* dst = base_of<T>(out);
    const std::array<const std::int64_t*, 1> strides{out.strides().data()};
    for_each_offset<1>({out.sizes().data(), out.sizes().size()}, strides, {out.offset()},
                       [&](const std::array<std::int64_t, 1>& at) {
                         const auto x = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + ctx.random() % range);
                         if constexpr (std::is_integral_v<T>)
                           dst[at[0]] = static_cast<T>(x);
                         else
                           dst[at[0]] = from_double<T>(static_cast<double>(x));
                       });
  });
  return out;
}

/// Standard normal samples by the Box–Muller transform: two 53-bit uniform
/// doubles u1, u2 from the generator give sqrt(-2 ln(1 - u1)) · cos(2π u2)
/// and the same · sin(2π u2), in that order.
inline void fill_normal(std::mt19937_64& random, std::vector<double>& out) {
  const auto uniform = [&] { return static_cast<double>(random() >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i < out.size(); i += 2) {
    const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    const double theta = 2.0 * std::numbers::pi * uniform();
    out[i] = r * std::cos(theta);
    if (i + 1 < out.size()) out[i + 1] = r * std::sin(theta);
  }
}

/// randn's size and dtype, checked: sizes not negative, `dtype` the name
/// of a floating-point dtype (float32 when not given), `layout` strided,
/// `pin_memory` a bool; `check_device(value)` checks a `device` given (the
/// errors of every device's randn).
template <class CheckDevice>
std::pair<std::vector<std::int64_t>, dtype> randn_arguments(const op_arguments& a, CheckDevice&& check_device) {
  check_call(a, {"size"}, {"dtype", "layout", "device", "pin_memory"});
  const std::vector<std::int64_t> size = a.get_ints(0, "size");
  for (std::int64_t s : size)
    if (s < 0) a.fail("wrapgraph.operator.bad_argument", "negative size in " + shape_string(size));
  dtype type = dtype::float32;
  if (const value* v = a.kwarg("dtype"); v && !v->is_none()) {
    const std::string* name = v->as_string();
    if (!name) a.fail("wrapgraph.operator.bad_argument", std::string("'dtype' must be a dtype name, got ") + v->kind_name());
    std::string_view n = *name;
    if (n.starts_with("torch.")) n.remove_prefix(6);
    const std::optional<dtype> t = parse_dtype(n);
    if (!t) a.fail("wrapgraph.operator.bad_argument", "unknown dtype '" + *name + "'");
    type = *t;
  }
  if (const value* v = a.kwarg("layout"); v && !v->is_none()) {
    const std::string* s = v->as_string();
    if (!s || (*s != "strided" && *s != "torch.strided"))
      a.fail("wrapgraph.operator.bad_argument", "only the strided layout is supported, got " + exec::to_string(*v));
  }
  if (const value* v = a.kwarg("device"); v && !v->is_none()) check_device(*v);
  if (!is_floating_point(type)) unsupported(a, type);
  (void)keyword_bool(a, "pin_memory", false);
  return {size, type};
}

inline value randn(op_context& ctx, const op_arguments& a) {
  const auto [size, type] = randn_arguments(a, [&](const value& v) {
    const std::string* s = v.as_string();
    const std::optional<device> d = s ? parse_device(*s) : std::nullopt;
    if (!d || d->kind != device_kind::cpu)
      a.fail("wrapgraph.operator.device_mismatch", "the operator runs on the CPU, 'device' is " + exec::to_string(v));
  });
  tensor out = allocate(ctx, type, extents(size.begin(), size.end()));
  std::vector<double> samples(static_cast<std::size_t>(out.numel()));
  fill_normal(ctx.random, samples);
  exec::visit_dtype(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (is_float_v<T>) {
      T* dst = base_of<T>(out);
      for (std::size_t i = 0; i < samples.size(); ++i) dst[i] = from_double<T>(samples[i]);
    }
  });
  return out;
}

// ---- scatter --------------------------------------------------------------------

enum class reduce_kind { assign, sum, prod, mean, amax, amin };

[[nodiscard]] inline reduce_kind reduce_kind_of(std::string_view name) noexcept {
  if (name == "add" || name == "sum") return reduce_kind::sum;
  if (name == "multiply" || name == "prod") return reduce_kind::prod;
  if (name == "mean") return reduce_kind::mean;
  if (name == "amax") return reduce_kind::amax;
  if (name == "amin") return reduce_kind::amin;
  return reduce_kind::assign;
}

template <class T>
[[nodiscard]] T combine(reduce_kind r, T a, T b) noexcept {
  switch (r) {
    case reduce_kind::assign: return b;
    case reduce_kind::sum:
    case reduce_kind::mean: return add(a, b);
    case reduce_kind::prod: return mul(a, b);
    case reduce_kind::amax: return maximum(a, b);
    case reduce_kind::amin: return minimum(a, b);
  }
  return b;
}

/// The value a reduction starts from when `include_self` is false.
template <class T>
[[nodiscard]] T identity(reduce_kind r) noexcept {
  if (r == reduce_kind::prod) {
    if constexpr (std::is_same_v<T, bool>)
      return true;
    else
      return from_double<T>(1.0);
  }
  if (r == reduce_kind::amax || r == reduce_kind::amin) {
    const bool max = r == reduce_kind::amin;
    if constexpr (is_float_v<T>)
      return from_double<T>(max ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity());
    else
      return max ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
  }
  if constexpr (std::is_same_v<T, bool>)
    return false;
  else
    return from_double<T>(0.0);
}

/// sum / count as PyTorch's mean does: true division for floats, floor
/// division for integers.
template <class T>
[[nodiscard]] T divide(T sum, std::int64_t count) noexcept {
  if constexpr (is_float_v<T>)
    return narrow<T>(widen(sum) / static_cast<compute_t<T>>(count));
  else if constexpr (std::is_same_v<T, bool>)
    return sum;
  else
    return static_cast<T>(floor_div(static_cast<std::int64_t>(sum), count));
}

/// What a scatter writes: a tensor `src` or a scalar.
struct scatter_source {
  const tensor* src = nullptr;
  const value* scalar = nullptr;
};

/// scatter_ and scatter_reduce_: self[..., index[i], ...] (index in `dim`)
/// is combined with src[i] (or the scalar) for every position i of index,
/// in row-major order of index.
inline value scatter(const op_arguments& a, const tensor& self, std::int64_t raw_dim, const tensor& index,
                     scatter_source source, reduce_kind reduce, bool include_self) {
  const std::int64_t dim = wrap_dim(a, raw_dim, self.dim());
  require_dtype(a, index, dtype::int64, "index");
  if (source.src) require_dtype(a, *source.src, self.type(), "src");
  if (reduce == reduce_kind::mean && self.type() == dtype::bool_) unsupported(a, self.type());
  if (index.numel() == 0) return self;  // PyTorch checks no shapes then
  const rank1_layout s(self), ix(index);
  if (s.sizes.size() != ix.sizes.size())
    a.fail("wrapgraph.operator.shape_mismatch", "index " + shape_string(index) + " must have as many dimensions as self " +
                                                    shape_string(self));
  std::optional<rank1_layout> src_layout;
  if (source.src) {
    src_layout.emplace(*source.src);
    if (src_layout->sizes.size() != ix.sizes.size())
      a.fail("wrapgraph.operator.shape_mismatch", "index " + shape_string(index) +
                                                      " must have as many dimensions as src " + shape_string(*source.src));
  }
  const std::size_t d0 = static_cast<std::size_t>(dim);
  for (std::size_t d = 0; d < ix.sizes.size(); ++d) {
    if (d != d0 && ix.sizes[d] > s.sizes[d])
      a.fail("wrapgraph.operator.shape_mismatch", "index " + shape_string(index) + " is larger than self " +
                                                      shape_string(self) + " in dimension " + std::to_string(d));
    if (src_layout && ix.sizes[d] > src_layout->sizes[d])
      a.fail("wrapgraph.operator.shape_mismatch", "index " + shape_string(index) + " is larger than src " +
                                                      shape_string(*source.src) + " in dimension " + std::to_string(d));
  }
  // Every index is checked before anything is written.
  const std::int64_t* idx = base_of<std::int64_t>(index);
  const std::int64_t limit = s.sizes[d0];
  const std::array<const std::int64_t*, 1> ix_strides{ix.strides.data()};
  for_each_offset<1>({ix.sizes.data(), ix.sizes.size()}, ix_strides, {index.offset()},
                     [&](const std::array<std::int64_t, 1>& at) {
                       if (idx[at[0]] < 0 || idx[at[0]] >= limit)
                         a.fail("wrapgraph.operator.index_out_of_range",
                                "index " + std::to_string(idx[at[0]]) + " is out of bounds for dimension " +
                                    std::to_string(dim) + " with size " + std::to_string(limit));
                     });
  // Self's strides, with the scatter dimension contributing through the index.
  extents self_strides = s.strides;
  const std::int64_t dim_stride = self_strides[d0];
  self_strides[d0] = 0;
  const extents zeros(ix.sizes.size(), 0);
  const std::int64_t* src_strides = src_layout ? src_layout->strides.data() : zeros.data();
  const std::array<const std::int64_t*, 3> strides{ix.strides.data(), self_strides.data(), src_strides};
  const std::array<std::int64_t, 3> base{index.offset(), self.offset(), source.src ? source.src->offset() : 0};
  exec::visit_dtype(self.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = base_of<T>(self);
    const T* src = source.src ? base_of<T>(*source.src) : nullptr;
    const T scalar = source.src ? T{} : scalar_to<T>(a, *source.scalar, "value");
    const auto visit = [&](auto&& f) {
      for_each_offset<3>({ix.sizes.data(), ix.sizes.size()}, strides, base, [&](const std::array<std::int64_t, 3>& at) {
        f(at[1] + idx[at[0]] * dim_stride, src ? src[at[2]] : scalar);
      });
    };
    if (reduce == reduce_kind::assign) {
      visit([&](std::int64_t to, T x) { dst[to] = x; });
      return;
    }
    std::unordered_map<std::int64_t, std::int64_t> counts;  // per written element: how many values it reduces
    if (!include_self) visit([&](std::int64_t to, T) { dst[to] = identity<T>(reduce); });
    visit([&](std::int64_t to, T x) {
      dst[to] = combine(reduce, dst[to], x);
      if (reduce == reduce_kind::mean) ++counts.try_emplace(to, include_self ? 1 : 0).first->second;
    });
    for (const auto& [to, count] : counts) dst[to] = divide(dst[to], count);
  });
  return self;
}

inline value scatter_src(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim", "index", "src"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = host_tensor(a, 2, "index");
  const tensor& src = host_tensor(a, 3, "src");
  return scatter(a, self, dim, index, {&src, nullptr}, reduce_kind::assign, true);
}

inline value scatter_value(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim", "index", "value"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = host_tensor(a, 2, "index");
  const value& v = number_argument(a, 3, "value");
  return scatter(a, self, dim, index, {nullptr, &v}, reduce_kind::assign, true);
}

inline value scatter_reduce(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim", "index", "src"}, {"reduce"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = host_tensor(a, 2, "index");
  const tensor& src = host_tensor(a, 3, "src");
  const reduce_kind r = reduce_kind_of(reduce_argument(a, 4, true, {"add", "multiply"}));
  return scatter(a, self, dim, index, {&src, nullptr}, r, true);
}

inline value scatter_value_reduce(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim", "index", "value"}, {"reduce"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = host_tensor(a, 2, "index");
  const value& v = number_argument(a, 3, "value");
  const reduce_kind r = reduce_kind_of(reduce_argument(a, 4, true, {"add", "multiply"}));
  return scatter(a, self, dim, index, {nullptr, &v}, r, true);
}

inline value scatter_reduce_two(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim", "index", "src", "reduce"}, {"include_self"});
  const tensor& self = host_tensor(a, 0, "self");
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = host_tensor(a, 2, "index");
  const tensor& src = host_tensor(a, 3, "src");
  const reduce_kind r = reduce_kind_of(reduce_argument(a, 4, false, {"sum", "prod", "mean", "amax", "amin"}));
  const bool include_self = keyword_bool(a, "include_self", true);
  return scatter(a, self, dim, index, {&src, nullptr}, r, include_self);
}

// ---- index_put ------------------------------------------------------------------

/// An index of index_put as dense int64 values, with its sizes.
struct dense_index {
  std::size_t dim;  // the dimension of self it indexes
  extents sizes;
  std::vector<std::int64_t> values;
};

/// The entries of index_put's `indices` as dense indices: None skips a
/// dimension, an int64 or int32 tensor indexes one, a bool or uint8 mask
/// indexes as many as it has (replaced by its nonzero coordinates).
[[nodiscard]] inline std::vector<dense_index> dense_indices(const op_arguments& a, const tensor& self,
                                                           const value_list& list) {
  const std::size_t rank = self.sizes().size();
  std::vector<dense_index> indices;
  std::size_t cursor = 0;
  for (std::size_t e = 0; e < list.size(); ++e) {
    const value& entry = list[e];
    if (entry.is_none()) {
      if (++cursor > rank)
        a.fail("wrapgraph.operator.index_out_of_range", "too many indices for a tensor of rank " + std::to_string(rank));
      continue;
    }
    const tensor* t = entry.as_tensor();
    if (!t || !t->defined())
      a.fail("wrapgraph.operator.bad_argument", "indices[" + std::to_string(e) + "] must be a tensor or None, got " +
                                                    entry.kind_name());
    require_host(a, *t, "indices");
    const std::span<const std::int64_t> tsizes(t->sizes().data(), t->sizes().size());
    const bool mask = t->type() == dtype::bool_ || t->type() == dtype::uint8;
    if (!mask && t->type() != dtype::int64 && t->type() != dtype::int32)
      a.fail("wrapgraph.operator.dtype_mismatch", "indices[" + std::to_string(e) + "] holds " +
                                                      std::string(to_string(t->type())) +
                                                      "; indices must be int64, int32, bool or uint8 tensors");
    const std::size_t used = mask ? tsizes.size() : 1;
    if (mask && used == 0)
      a.fail("wrapgraph.operator.bad_argument", "indices[" + std::to_string(e) + "] is a 0-dimensional mask");
    if (cursor + used > rank)
      a.fail("wrapgraph.operator.index_out_of_range", "too many indices for a tensor of rank " + std::to_string(rank));
    if (mask) {
      for (std::size_t d = 0; d < used; ++d)
        if (tsizes[d] != self.sizes()[cursor + d])
          a.fail("wrapgraph.operator.shape_mismatch", "the mask indices[" + std::to_string(e) + "] of shape " +
                                                          shape_string(*t) + " does not match dimensions from " +
                                                          std::to_string(cursor) + " of self " + shape_string(self));
      std::vector<dense_index> coords(used);
      for (std::size_t d = 0; d < used; ++d) coords[d].dim = cursor + d;
      exec::visit_dtype(t->type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::uint8_t>) {
          const T* m = base_of<T>(*t);
          for_each_coordinate(tsizes, [&](std::span<const std::int64_t> c) {
            std::int64_t at = t->offset();
            for (std::size_t d = 0; d < used; ++d) at += c[d] * t->strides()[d];
            if (!m[at]) return;
            for (std::size_t d = 0; d < used; ++d) coords[d].values.push_back(c[d]);
          });
        }
      });
      for (dense_index& c : coords) {
        c.sizes = {static_cast<std::int64_t>(c.values.size())};
        indices.push_back(std::move(c));
      }
    } else {
      dense_index dense{cursor, t->sizes(), {}};
      dense.values.reserve(static_cast<std::size_t>(t->numel()));
      exec::visit_dtype(t->type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::int32_t>) {
          const T* p = base_of<T>(*t);
          const std::array<const std::int64_t*, 1> strides{t->strides().data()};
          for_each_offset<1>(tsizes, strides, {t->offset()},
                             [&](const std::array<std::int64_t, 1>& at) { dense.values.push_back(p[at[0]]); });
        }
      });
      indices.push_back(std::move(dense));
    }
    cursor += used;
  }
  return indices;
}

/// Where index_put writes: the indices broadcast together (`broadcast`),
/// the indexed shape (`result`; `role[r]` is the self dimension of its axis
/// r, or -1 for a broadcast axis, which start at `broadcast_at`), the
/// values' strides over it and each index's strides over `broadcast`.
struct index_put_plan {
  extents broadcast, result, role;
  std::size_t broadcast_at = 0;
  extents value_strides;
  std::vector<extents> index_strides;
};

/// index_put's layout, checked (the errors of every device's index_put):
/// the indices broadcast, values broadcast to the indexed shape, every index
/// in range; `indices` are made non-negative. Nullopt when nothing is
/// written (an empty indexed shape).
inline std::optional<index_put_plan> plan_index_put(const op_arguments& a, const tensor& self, const tensor& values,
                                                    std::vector<dense_index>& indices) {
  const std::size_t rank = self.sizes().size();
  // The indices broadcast together to `broadcast`.
  extents broadcast;
  for (const dense_index& ix : indices) {
    const std::size_t r = std::max(broadcast.size(), ix.sizes.size());
    extents next(r, 1);
    for (std::size_t i = 0; i < r; ++i) {
      const std::int64_t x = i + broadcast.size() >= r ? broadcast[i + broadcast.size() - r] : 1;
      const std::int64_t y = i + ix.sizes.size() >= r ? ix.sizes[i + ix.sizes.size() - r] : 1;
      if (x != y && x != 1 && y != 1) {
        std::string shapes;
        for (const dense_index& j : indices)
          shapes += (shapes.empty() ? "" : ", ") + shape_string({j.sizes.data(), j.sizes.size()});
        a.fail("wrapgraph.operator.shape_mismatch", "indices could not be broadcast together with shapes " + shapes);
      }
      next[i] = x == 1 ? y : x;
    }
    broadcast = std::move(next);
  }

  // The indexed result's shape: the broadcast shape in place of adjacent
  // indexed dimensions, else first; the sliced dimensions in order around it.
  std::vector<bool> indexed(rank, false);
  for (const dense_index& ix : indices) indexed[ix.dim] = true;
  bool adjacent = true;
  for (std::size_t i = 1; i < indices.size(); ++i)
    if (indices[i].dim != indices[i - 1].dim + 1) adjacent = false;
  const std::size_t first_indexed = indices.empty() ? 0 : (adjacent ? indices.front().dim : 0);
  // role[r] = self dimension of result axis r, or -1 for a broadcast axis.
  extents result, role;
  for (std::size_t d = 0; d < rank && d < first_indexed; ++d) {
    result.push_back(self.sizes()[d]);
    role.push_back(static_cast<std::int64_t>(d));
  }
  const std::size_t broadcast_at = result.size();
  for (std::int64_t b : broadcast) {
    result.push_back(b);
    role.push_back(-1);
  }
  for (std::size_t d = first_indexed; d < rank; ++d)
    if (!indexed[d]) {
      result.push_back(self.sizes()[d]);
      role.push_back(static_cast<std::int64_t>(d));
    }
  const std::span<const std::int64_t> result_span(result.data(), result.size());
  const std::optional<extents> value_strides =
      broadcast_strides({values.sizes().data(), values.sizes().size()}, {values.strides().data(), values.strides().size()},
                        result_span);
  if (!value_strides)
    a.fail("wrapgraph.operator.shape_mismatch", "values of shape " + shape_string(values) +
                                                    " cannot be broadcast to the indexed shape " + shape_string(result_span));
  std::int64_t result_numel = 1;
  for (std::int64_t r : result) result_numel *= r;
  if (result_numel == 0) return std::nullopt;

  // Every index is checked (and made non-negative) before anything is written.
  for (dense_index& ix : indices) {
    const std::int64_t size = self.sizes()[ix.dim];
    for (std::int64_t& i : ix.values) {
      if (i < -size || i >= size)
        a.fail("wrapgraph.operator.index_out_of_range", "index " + std::to_string(i) + " is out of bounds for dimension " +
                                                            std::to_string(ix.dim) + " with size " + std::to_string(size));
      if (i < 0) i += size;
    }
  }
  // Each index's strides within the broadcast shape.
  std::vector<extents> index_strides;
  for (const dense_index& ix : indices) {
    const extents dense = exec::contiguous_strides({ix.sizes.data(), ix.sizes.size()});
    index_strides.push_back(*broadcast_strides({ix.sizes.data(), ix.sizes.size()}, {dense.data(), dense.size()},
                                               {broadcast.data(), broadcast.size()}));
  }
  return index_put_plan{std::move(broadcast), std::move(result), std::move(role), broadcast_at, std::move(*value_strides),
                        std::move(index_strides)};
}

/// self[indices] = values (or += with `accumulate`), PyTorch's advanced
/// indexing: the indices broadcast together to a shape B; the indexed
/// shape is self's with B in place of the indexed dimensions when they are
/// adjacent, else B followed by the sliced dimensions.
inline value index_put(op_context&, const op_arguments& a) {
  check_call(a, {"self", "indices", "values", "accumulate"});
  const tensor& self = host_tensor(a, 0, "self");
  const value_list& list = a.get_list(1, "indices");
  const tensor& values = host_tensor(a, 2, "values");
  const bool accumulate = a.get_bool(3, "accumulate", false);
  require_dtype(a, values, self.type(), "values");
  std::vector<dense_index> indices = dense_indices(a, self, list);
  const std::optional<index_put_plan> plan = plan_index_put(a, self, values, indices);
  if (!plan) return self;
  const extents &broadcast = plan->broadcast, &result = plan->result, &role = plan->role;
  const extents& value_strides = plan->value_strides;
  const std::vector<extents>& index_strides = plan->index_strides;
  const std::size_t broadcast_at = plan->broadcast_at;
  const std::span<const std::int64_t> result_span(result.data(), result.size());
  exec::visit_dtype(self.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = base_of<T>(self);
    const T* src = base_of<T>(values);
    for_each_coordinate(result_span, [&](std::span<const std::int64_t> c) {
      std::int64_t to = self.offset(), from = values.offset();
      for (std::size_t r = 0; r < c.size(); ++r) {
        from += c[r] * value_strides[r];
        if (role[r] >= 0) to += c[r] * self.strides()[static_cast<std::size_t>(role[r])];
      }
      for (std::size_t i = 0; i < indices.size(); ++i) {
        std::int64_t at = 0;
        for (std::size_t b = 0; b < broadcast.size(); ++b) at += c[broadcast_at + b] * index_strides[i][b];
        to += indices[i].values[static_cast<std::size_t>(at)] * self.strides()[indices[i].dim];
      }
      dst[to] = accumulate ? add(dst[to], src[from]) : src[from];
    });
  });
  return self;
}

// ---- graph-level scalars --------------------------------------------------------

inline value item(op_context&, const op_arguments& a) {
  check_call(a, {"self"});
  const tensor& self = host_tensor(a, 0, "self");
  if (self.numel() != 1)
    a.fail("wrapgraph.operator.shape_mismatch",
           "a tensor of " + std::to_string(self.numel()) + " elements cannot be converted to a scalar");
  return exec::visit_dtype(self.type(), [&](auto tag) -> value {
    using T = typename decltype(tag)::type;
    const T x = base_of<T>(self)[self.offset()];
    if constexpr (std::is_same_v<T, bool>)
      return value(x);
    else if constexpr (std::is_integral_v<T>)
      return value(static_cast<std::int64_t>(x));
    else
      return value(to_double(x));
  });
}

inline value where_scalar(op_context& ctx, const op_arguments& a) {
  check_call(a, {"condition", "self", "other"});
  const tensor& condition = host_tensor(a, 0, "condition");
  const value& x = number_argument(a, 1, "self");
  const value& y = number_argument(a, 2, "other");
  if (condition.type() != dtype::bool_)
    a.fail("wrapgraph.operator.dtype_mismatch", "'condition' must be a bool tensor, got " +
                                                    std::string(to_string(condition.type())));
  const dtype type = x.as_double() || y.as_double() ? dtype::float32
                     : x.as_bool() && y.as_bool()   ? dtype::bool_
                                                    : dtype::int64;
  tensor out = allocate(ctx, type, condition.sizes());
  exec::visit_dtype(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, float>) {
      const T t = scalar_to<T>(a, x, "self"), f = scalar_to<T>(a, y, "other");
      const bool* c = base_of<bool>(condition);
      T* dst = base_of<T>(out);
      std::int64_t i = 0;
      const std::array<const std::int64_t*, 1> strides{condition.strides().data()};
      for_each_offset<1>({condition.sizes().data(), condition.sizes().size()}, strides, {condition.offset()},
                         [&](const std::array<std::int64_t, 1>& at) { dst[i++] = c[at[0]] ? t : f; });
    }
  });
  return out;
}

inline value sym_size(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim"});
  const tensor& self = a.get_tensor(0, "self");
  const std::int64_t d = wrap_dim(a, a.get_int(1, "dim"), self.dim(), false);
  return self.sizes()[static_cast<std::size_t>(d)];
}

inline value sym_stride(op_context&, const op_arguments& a) {
  check_call(a, {"self", "dim"});
  const tensor& self = a.get_tensor(0, "self");
  const std::int64_t d = wrap_dim(a, a.get_int(1, "dim"), self.dim(), false);
  return self.strides()[static_cast<std::size_t>(d)];
}

inline value sym_storage_offset(op_context&, const op_arguments& a) {
  check_call(a, {"self"});
  return a.get_tensor(0, "self").offset();
}

// ---- Python arithmetic on ints and floats ---------------------------------------

/// A Python number: an int (bools count as ints) or a float.
struct number {
  bool is_int;
  std::int64_t i;
  double f;
  [[nodiscard]] double as_double() const noexcept { return is_int ? static_cast<double>(i) : f; }
};

[[nodiscard]] inline number number_of(const op_arguments& a, std::size_t index, std::string_view name) {
  const value& v = a.get(index, name);
  if (const std::int64_t* i = v.as_int()) return {true, *i, 0};
  if (const bool* b = v.as_bool()) return {true, *b ? 1 : 0, 0};
  if (const double* f = v.as_double()) return {false, 0, *f};
  a.fail("wrapgraph.operator.bad_argument",
         "argument " + std::to_string(index) + " ('" + std::string(name) + "') must be an int or a float, got " +
             v.kind_name());
}

[[noreturn]] inline void overflow(const op_arguments& a, const number& x, const char* op, const number& y) {
  a.fail("wrapgraph.operator.overflow", std::to_string(x.i) + " " + op + " " + std::to_string(y.i) + " overflows int64");
}

[[noreturn]] inline void division_by_zero(const op_arguments& a, const char* what) {
  a.fail("wrapgraph.operator.division_by_zero", what);
}

/// Python's float floor division and modulo (CPython's float_divmod).
[[nodiscard]] inline std::pair<double, double> python_divmod(double x, double y) noexcept {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return {floordiv, mod};
}

enum class binary_kind { add, sub, mul, floordiv, mod, pow, min, max, ceil_div };

[[nodiscard]] inline value python_pow(const op_arguments& a, number x, number y) {
  if (x.is_int && y.is_int && y.i >= 0) {
    std::int64_t result = 1, base = x.i, e = y.i;
    while (e > 0) {
      if ((e & 1) && __builtin_mul_overflow(result, base, &result)) overflow(a, x, "**", y);
      e >>= 1;
      if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow(a, x, "**", y);
    }
    return result;
  }
  const double b = x.as_double(), e = y.as_double();
  if (b == 0 && e < 0) division_by_zero(a, "0.0 cannot be raised to a negative power");
  if (b < 0 && std::isfinite(e) && e != std::floor(e))
    a.fail("wrapgraph.operator.bad_argument", "a negative number raised to a fractional power has a complex result");
  const double r = std::pow(b, e);
  if (std::isinf(r) && std::isfinite(b) && std::isfinite(e))
    a.fail("wrapgraph.operator.overflow", "the power overflows a float");
  return r;
}

[[nodiscard]] inline value binary(const op_arguments& a, binary_kind kind) {
  check_call(a, {"a", "b"});
  const value& vx = a.get(0, "a");
  const value& vy = a.get(1, "b");
  const number x = number_of(a, 0, "a"), y = number_of(a, 1, "b");
  const bool ints = x.is_int && y.is_int;
  switch (kind) {
    case binary_kind::add:
    case binary_kind::sub:
    case binary_kind::mul: {
      if (!ints) {
        const double p = x.as_double(), q = y.as_double();
        return kind == binary_kind::add ? p + q : kind == binary_kind::sub ? p - q : p * q;
      }
      std::int64_t r = 0;
      const char* op = kind == binary_kind::add ? "+" : kind == binary_kind::sub ? "-" : "*";
      const bool bad = kind == binary_kind::add   ? __builtin_add_overflow(x.i, y.i, &r)
                       : kind == binary_kind::sub ? __builtin_sub_overflow(x.i, y.i, &r)
                                                  : __builtin_mul_overflow(x.i, y.i, &r);
      if (bad) overflow(a, x, op, y);
      return r;
    }
    case binary_kind::floordiv:
    case binary_kind::mod:
    case binary_kind::ceil_div: {
      const bool is_mod = kind == binary_kind::mod;
      if (kind == binary_kind::ceil_div && !ints)
        a.fail("wrapgraph.operator.bad_argument", "ceil_div takes ints");
      if (!ints) {
        if (y.as_double() == 0) division_by_zero(a, is_mod ? "float modulo by zero" : "float floor division by zero");
        const auto [q, r] = python_divmod(x.as_double(), y.as_double());
        return is_mod ? r : q;
      }
      if (y.i == 0) division_by_zero(a, is_mod ? "integer modulo by zero" : "integer division by zero");
      if (is_mod) {
        if (y.i == -1) return std::int64_t{0};
        const std::int64_t r = x.i % y.i;
        return r != 0 && ((r < 0) != (y.i < 0)) ? r + y.i : r;
      }
      if (x.i == std::numeric_limits<std::int64_t>::min() && y.i == -1)
        overflow(a, x, kind == binary_kind::ceil_div ? "ceil_div" : "//", y);
      if (kind == binary_kind::floordiv) return floor_div(x.i, y.i);
      // ceil(x / y) = -((-x) // y), computed without negating x.
      const std::int64_t q = x.i / y.i;
      return x.i % y.i != 0 && ((x.i < 0) == (y.i < 0)) ? q + 1 : q;
    }
    case binary_kind::pow: return python_pow(a, x, y);
    case binary_kind::min:
    case binary_kind::max: {
      // builtins.min / max: the second wins only when strictly smaller /
      // larger; a float operand makes the result a float (torch.sym_min).
      bool second;
      if (ints)
        second = kind == binary_kind::min ? y.i < x.i : y.i > x.i;
      else
        second = kind == binary_kind::min ? y.as_double() < x.as_double() : y.as_double() > x.as_double();
      if (!ints) return second ? y.as_double() : x.as_double();
      return second ? vy : vx;
    }
  }
  return value();
}

[[nodiscard]] inline value unary(const op_arguments& a, bool negate) {
  check_call(a, {"a"});
  const number x = number_of(a, 0, "a");
  if (!x.is_int) return negate ? -x.f : std::abs(x.f);
  if (!negate && x.i >= 0) return x.i;
  if (x.i == std::numeric_limits<std::int64_t>::min())
    a.fail("wrapgraph.operator.overflow", std::string(negate ? "-" : "abs") + "(" + std::to_string(x.i) +
                                              ") overflows int64");
  return -x.i;
}

inline value getitem(op_context&, const op_arguments& a) {
  check_call(a, {"a", "b"});
  const value_list& list = a.get_list(0, "a");
  const std::int64_t i = a.get_int(1, "b");
  const auto n = static_cast<std::int64_t>(list.size());
  if (i < -n || i >= n)
    a.fail("wrapgraph.operator.index_out_of_range",
           "index " + std::to_string(i) + " is out of range for a list of " + std::to_string(n) + " values");
  return list[static_cast<std::size_t>(i < 0 ? i + n : i)];
}

}  // namespace detail::builtin

/// Registers, for device `kind`, the built-in operators that read only sizes
/// and host values, never tensor data, so that any device runs them as they
/// are: the size queries (`aten.sym_size.int`, `aten.sym_stride.int`,
/// `aten.sym_storage_offset.default`), the scalar arithmetic (`operator.*`,
/// `torch.sym_min`, `torch.sym_max`, `wrapgraph.ceil_div`) and
/// `operator.getitem`. add_builtin_operators calls it for the CPU.
inline void add_scalar_operators(exec::operator_registry& registry, device_kind kind) {
  namespace ops = detail::builtin;
  const auto define = [&](const char* name, exec::operator_fn fn) { registry.add(name, kind, std::move(fn)); };
  define("aten.sym_size.int", &ops::sym_size);
  define("aten.sym_stride.int", &ops::sym_stride);
  define("aten.sym_storage_offset.default", &ops::sym_storage_offset);
  const auto define_binary = [&](const char* name, ops::binary_kind k) {
    define(name, [k](exec::op_context&, const exec::op_arguments& a) { return ops::binary(a, k); });
  };
  define_binary("operator.add", ops::binary_kind::add);
  define_binary("operator.sub", ops::binary_kind::sub);
  define_binary("operator.mul", ops::binary_kind::mul);
  define_binary("operator.floordiv", ops::binary_kind::floordiv);
  define_binary("operator.mod", ops::binary_kind::mod);
  define_binary("operator.pow", ops::binary_kind::pow);
  define_binary("torch.sym_min", ops::binary_kind::min);
  define_binary("torch.sym_max", ops::binary_kind::max);
  define_binary("wrapgraph.ceil_div", ops::binary_kind::ceil_div);
  define("operator.neg", [](exec::op_context&, const exec::op_arguments& a) { return ops::unary(a, true); });
  define("operator.abs", [](exec::op_context&, const exec::op_arguments& a) { return ops::unary(a, false); });
  define("operator.getitem", &ops::getitem);
}

/// Registers the built-in operators for `device_kind::cpu` in `registry`
/// (an error, `wrapgraph.operator.duplicate`, if one of their names is
/// registered already). docs/operators.md lists them.
inline void add_builtin_operators(exec::operator_registry& registry) {
  namespace ops = detail::builtin;
  const auto define = [&](const char* name, exec::operator_fn fn) {
    registry.add(name, device_kind::cpu, std::move(fn));
  };
  define("aten.mm.out", &ops::mm_out);
  define("aten.addmm.out", &ops::addmm_out);
  define("aten.bmm.out", &ops::bmm_out);
  define("aten.topk.default", &ops::topk);
  define("aten.sort.default", &ops::sort);
  define("aten.nonzero.default", &ops::nonzero);
  define("aten.randint.low_out", &ops::randint_low_out);
  define("aten.randn.default", &ops::randn);
  define("aten.scatter_.src", &ops::scatter_src);
  define("aten.scatter_.value", &ops::scatter_value);
  define("aten.scatter_.reduce", &ops::scatter_reduce);
  define("aten.scatter_.value_reduce", &ops::scatter_value_reduce);
  define("aten.scatter_reduce_.two", &ops::scatter_reduce_two);
  define("aten.index_put_.default", &ops::index_put);
  define("aten.item.default", &ops::item);
  define("aten.where.Scalar", &ops::where_scalar);
  add_scalar_operators(registry, device_kind::cpu);
}

/// A registry holding the built-in operators, built on first use. Copy it to
/// add operators of your own.
[[nodiscard]] inline const exec::operator_registry& builtin_operators() {
  static const exec::operator_registry registry = [] {
    exec::operator_registry r;
    add_builtin_operators(r);
    return r;
  }();
  return registry;
}

}  // namespace wrapgraph::backend::cpu

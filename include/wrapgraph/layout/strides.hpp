#pragma once
/// Index arithmetic of strided layouts on int64: contiguous strides, element
/// counts, required storage span, coordinate <-> offset, contiguity and
/// overlap tests.
///
/// Notation. A layout of rank r has sizes n = (n_0, ..., n_{r-1}), strides
/// s = (s_0, ..., s_{r-1}) and a base offset b into a storage of elements.
/// Its coordinates are the c with 0 <= c_i < n_i, ordered row-major (the last
/// dimension varies fastest, as in torch), and coordinate c lives at
///
///     offset(c) = b + Σ_i c_i·s_i.
///
/// Sizes, strides, offsets and coordinates are int64 and never negative.
/// Every function takes its lists as an `index_view`, which an `extents`
/// array, a std::vector or std::span of int64, or a braced list `{2, 3, 4}`
/// converts to.
///
/// Errors: bad input throws wrapgraph::layout_error with one of the ids
/// wrapgraph.layout.rank_mismatch, .negative_size, .negative_stride,
/// .negative_offset, .out_of_bounds, .overflow, .offset_not_in_layout,
/// .overlapping; the message names the function, the dimension and the values.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include <wrapgraph/error.hpp>

namespace wrapgraph::layout {

/// A size, stride, offset or coordinate.
using index = std::int64_t;

/// An owning list of sizes, strides or a coordinate: an Eigen column array of
/// int64, e.g. `extents{{2, 3, 4}}`.
using extents = Eigen::Array<index, Eigen::Dynamic, 1>;

namespace detail {
template <class T>
inline constexpr bool is_eigen_v = std::is_base_of_v<Eigen::EigenBase<std::remove_cvref_t<T>>,
                                                     std::remove_cvref_t<T>>;
}  // namespace detail

/// A read-only view of int64 values: what every function of this module
/// takes for sizes, strides and coordinates. It converts implicitly from
/// `extents` (and any Eigen vector of int64 with contiguous storage, such as
/// a Map or a segment), std::vector<int64_t>, std::array, std::span<const
/// int64_t> and braced lists. It does not own: it is meant to be a parameter,
/// and the viewed values must outlive it.
class index_view {
 public:
  using value_type = index;
  using size_type = std::size_t;
  using const_iterator = const index*;

  constexpr index_view() noexcept = default;
  constexpr index_view(std::span<const index> values) noexcept
      : data_(values.data()), size_(values.size()) {}
  constexpr index_view(std::initializer_list<index> values) noexcept
      : data_(std::data(values)), size_(values.size()) {}

  /// Any contiguous range of int64 other than an Eigen object.
  template <class Range>
    requires std::ranges::contiguous_range<const Range&> &&
             std::ranges::sized_range<const Range&> &&
             std::same_as<std::ranges::range_value_t<const Range&>, index> &&
             (!detail::is_eigen_v<Range>) && (!std::same_as<Range, index_view>) &&
             (!std::same_as<Range, std::span<const index>>)
  constexpr index_view(const Range& values) noexcept
      : data_(std::ranges::data(values)), size_(std::ranges::size(values)) {}

  /// An Eigen vector of int64 with contiguous storage.
  template <class Derived>
  index_view(const Eigen::DenseBase<Derived>& values) noexcept {
    using scalar = typename Derived::Scalar;
    constexpr bool is_int64 = std::is_same_v<scalar, index>;
    constexpr bool is_contiguous_vector = Derived::IsVectorAtCompileTime &&
                                          (Derived::Flags & Eigen::DirectAccessBit) != 0 &&
                                          Derived::InnerStrideAtCompileTime == 1;
    static_assert(is_int64,
                  "layout::index_view needs int64 coefficients: convert the Eigen array "
                  "with .cast<std::int64_t>().eval() first");
    static_assert(!is_int64 || is_contiguous_vector,
                  "layout::index_view views stored values: evaluate an Eigen expression "
                  "(.eval()) or pass an extents array, a Map or a segment of one");
    if constexpr (is_int64 && is_contiguous_vector) {
      data_ = values.derived().data();
      size_ = static_cast<std::size_t>(values.size());
    }
  }

  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] constexpr const index* data() const noexcept { return data_; }
  [[nodiscard]] constexpr const index* begin() const noexcept { return data_; }
  [[nodiscard]] constexpr const index* end() const noexcept { return data_ + size_; }
  [[nodiscard]] constexpr index operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The values as a std::span.
  [[nodiscard]] constexpr std::span<const index> span() const noexcept { return {data_, size_}; }
  /// The values as an Eigen array expression (a Map, no copy).
  [[nodiscard]] Eigen::Map<const extents> array() const noexcept {
    return Eigen::Map<const extents>(data_, static_cast<Eigen::Index>(size_));
  }

 private:
  const index* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A copy of `values` as an extents array.
[[nodiscard]] inline extents to_extents(index_view values) { return values.array(); }

/// `values` as text, e.g. `[2, 3, 4]`.
[[nodiscard]] inline std::string to_string(index_view values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(values[i]);
  }
  return out + "]";
}

namespace detail {

inline std::string dimension(std::size_t d) { return "dimension " + std::to_string(d); }

[[noreturn]] inline void overflow(std::string_view function, std::string_view what) {
  throw layout_error("wrapgraph.layout.overflow",
                     std::string(function) + ": " + std::string(what) + " overflows int64");
}

inline void check_rank(std::string_view function, std::string_view a_name, index_view a,
                       std::string_view b_name, index_view b) {
  if (a.size() == b.size()) return;
  throw layout_error("wrapgraph.layout.rank_mismatch",
                     std::string(function) + ": " + std::string(a_name) + " " + to_string(a) +
                         " has rank " + std::to_string(a.size()) + " but " + std::string(b_name) +
                         " " + to_string(b) + " has rank " + std::to_string(b.size()));
}

inline void check_sizes(std::string_view function, index_view sizes) {
  const auto negative = std::ranges::find_if(sizes, [](index n) { return n < 0; });
  if (negative == sizes.end()) return;
  const auto d = static_cast<std::size_t>(negative - sizes.begin());
  throw layout_error("wrapgraph.layout.negative_size",
                     std::string(function) + ": size of " + dimension(d) + " is " +
                         std::to_string(*negative) + " (sizes " + to_string(sizes) + ")");
}

inline void check_strides(std::string_view function, index_view strides) {
  const auto negative = std::ranges::find_if(strides, [](index s) { return s < 0; });
  if (negative == strides.end()) return;
  const auto d = static_cast<std::size_t>(negative - strides.begin());
  throw layout_error("wrapgraph.layout.negative_stride",
                     std::string(function) + ": stride of " + dimension(d) + " is " +
                         std::to_string(*negative) + " (strides " + to_string(strides) + ")");
}

inline void check_offset(std::string_view function, index offset) {
  if (offset >= 0) return;
  throw layout_error("wrapgraph.layout.negative_offset",
                     std::string(function) + ": the base offset is " + std::to_string(offset));
}

inline void check_layout(std::string_view function, index_view sizes, index_view strides) {
  check_rank(function, "sizes", sizes, "strides", strides);
  check_sizes(function, sizes);
  check_strides(function, strides);
}

// Every c_i >= 0 (and c_i < n_i when sizes are given).
inline void check_coordinate(std::string_view function, index_view coordinate,
                             const index_view* sizes) {
  for (std::size_t d = 0; d < coordinate.size(); ++d) {
    const index c = coordinate[d];
    const bool inside = c >= 0 && (sizes == nullptr || c < (*sizes)[d]);
    if (inside) continue;
    std::string message = std::string(function) + ": coordinate " + to_string(coordinate) +
                          " has " + std::to_string(c) + " in " + dimension(d);
    message += sizes == nullptr ? ", which is negative"
                                : ", outside [0, " + std::to_string((*sizes)[d]) +
                                      ") (sizes " + to_string(*sizes) + ")";
    throw layout_error("wrapgraph.layout.out_of_bounds", message);
  }
}

[[nodiscard]] inline bool has_zero_size(index_view sizes) noexcept {
  return (sizes.array() == 0).any();
}

// The dimensions of size >= 2, by increasing stride (ties keep their order).
// Dimensions of size 0 or 1 place no constraint on the offsets reached.
[[nodiscard]] inline std::vector<std::size_t> dimensions_by_stride(index_view sizes,
                                                                   index_view strides) {
  std::vector<std::size_t> order;
  order.reserve(sizes.size());
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] >= 2) order.push_back(d);
  }
  std::ranges::stable_sort(order, {}, [&](std::size_t d) { return strides[d]; });
  return order;
}

}  // namespace detail

/// The number of elements, Π_i n_i (1 for rank 0, 0 when some n_i = 0).
/// Throws negative_size, or overflow when the product does not fit int64.
[[nodiscard]] inline index numel(index_view sizes) {
  detail::check_sizes("numel", sizes);
  if (detail::has_zero_size(sizes)) return 0;
  return std::accumulate(sizes.begin(), sizes.end(), index{1}, [&](index product, index n) {
    index r;
    if (__builtin_mul_overflow(product, n, &r))
      detail::overflow("numel", "the product of sizes " + to_string(sizes));
    return r;
  });
}

/// The row-major (C, torch) strides of `sizes`:
///
///     s_{r-1} = 1,   s_i = s_{i+1} · max(n_{i+1}, 1),
///
/// so s_i = Π_{j>i} max(n_j, 1). A dimension of size 0 or 1 still gets the
/// product of the later sizes, as torch.empty gives it. Throws negative_size,
/// or overflow when a stride does not fit int64 (n_0 takes no part).
[[nodiscard]] inline extents contiguous_strides(index_view sizes) {
  detail::check_sizes("contiguous_strides", sizes);
  const std::size_t rank = sizes.size();
  extents strides = extents::Ones(static_cast<Eigen::Index>(rank));
  if (rank < 2) return strides;
  // An inclusive product scan of max(n_j, 1) from the right, over j >= 1.
  const auto checked_product = [&](index a, index b) {
    index r;
    if (__builtin_mul_overflow(a, b, &r))
      detail::overflow("contiguous_strides", "a stride of sizes " + to_string(sizes));
    return r;
  };
  std::transform_inclusive_scan(std::make_reverse_iterator(sizes.end()),
                                std::make_reverse_iterator(sizes.begin() + 1),
                                std::make_reverse_iterator(strides.data() + rank - 1),
                                checked_product, [](index n) { return std::max<index>(n, 1); });
  return strides;
}

/// The number of storage elements a layout needs, counted from the start of
/// the storage: one past the largest offset it reaches,
///
///     required_span(n, s, b) = b + 1 + Σ_i (n_i - 1)·s_i   when every n_i >= 1,
///                              0                            when some n_i = 0.
///
/// Throws rank_mismatch, negative_size, negative_stride, negative_offset, or
/// overflow when the span does not fit int64.
[[nodiscard]] inline index required_span(index_view sizes, index_view strides, index offset = 0) {
  constexpr std::string_view function = "required_span";
  detail::check_layout(function, sizes, strides);
  detail::check_offset(function, offset);
  if (detail::has_zero_size(sizes)) return 0;
  const auto describe = [&] {
    return "the span of sizes " + to_string(sizes) + ", strides " + to_string(strides) +
           ", offset " + std::to_string(offset);
  };
  // Every term is >= 0, so a partial sum overflows only if the total does.
  const auto add = [&](index a, index b) {
    index r;
    if (__builtin_add_overflow(a, b, &r)) detail::overflow(function, describe());
    return r;
  };
  const auto reach = [&](index n, index s) {
    index r;
    if (__builtin_mul_overflow(n - 1, s, &r)) detail::overflow(function, describe());
    return r;
  };
  return std::transform_reduce(sizes.begin(), sizes.end(), strides.begin(), add(offset, 1), add,
                               reach);
}

/// The offset of `coordinate`: offset(c) = b + Σ_i c_i·s_i, a dot product.
/// The coordinate is not compared with any size (see the overload taking
/// sizes). Throws rank_mismatch, out_of_bounds for a negative c_i,
/// negative_stride, negative_offset, or overflow.
[[nodiscard]] inline index offset_of(index_view coordinate, index_view strides, index offset = 0) {
  constexpr std::string_view function = "offset_of";
  detail::check_rank(function, "coordinate", coordinate, "strides", strides);
  detail::check_coordinate(function, coordinate, nullptr);
  detail::check_strides(function, strides);
  detail::check_offset(function, offset);
  const auto describe = [&] {
    return "the offset of coordinate " + to_string(coordinate) + " with strides " +
           to_string(strides) + " and offset " + std::to_string(offset);
  };
  // Every term is >= 0, so a partial sum overflows only if the total does.
  const auto add = [&](index a, index b) {
    index r;
    if (__builtin_add_overflow(a, b, &r)) detail::overflow(function, describe());
    return r;
  };
  const auto term = [&](index c, index s) {
    index r;
    if (__builtin_mul_overflow(c, s, &r)) detail::overflow(function, describe());
    return r;
  };
  return std::transform_reduce(coordinate.begin(), coordinate.end(), strides.begin(), offset, add,
                               term);
}

/// offset(c) = b + Σ_i c_i·s_i after checking 0 <= c_i < n_i. Throws
/// rank_mismatch, negative_size, out_of_bounds, negative_stride,
/// negative_offset, or overflow.
[[nodiscard]] inline index offset_of(index_view coordinate, index_view sizes, index_view strides,
                                     index offset) {
  constexpr std::string_view function = "offset_of";
  detail::check_rank(function, "coordinate", coordinate, "sizes", sizes);
  detail::check_rank(function, "sizes", sizes, "strides", strides);
  detail::check_sizes(function, sizes);
  detail::check_coordinate(function, coordinate, &sizes);
  return offset_of(coordinate, strides, offset);
}

/// The coordinate of the `linear`-th element in row-major order, the inverse
/// of linear(c) = Σ_i c_i·t_i with t = contiguous_strides(sizes):
///
///     c_i = (linear / t_i) mod n_i.
///
/// Throws negative_size, or out_of_bounds unless 0 <= linear < numel(sizes).
[[nodiscard]] inline extents coordinate_of_index(index linear, index_view sizes) {
  constexpr std::string_view function = "coordinate_of_index";
  detail::check_sizes(function, sizes);
  const auto out_of_bounds = [&](const std::string& why) {
    throw layout_error("wrapgraph.layout.out_of_bounds",
                       std::string(function) + ": linear index " + std::to_string(linear) +
                           " is outside sizes " + to_string(sizes) + " (" + why + ")");
  };
  if (linear < 0) out_of_bounds("it is negative");
  if (detail::has_zero_size(sizes)) out_of_bounds("they have no elements");
  extents coordinate(static_cast<Eigen::Index>(sizes.size()));
  index rest = linear;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    coordinate[static_cast<Eigen::Index>(d)] = rest % sizes[d];
    rest /= sizes[d];
  }
  // Reached only when numel(sizes) <= linear, so numel fits int64.
  if (rest != 0) out_of_bounds("they have " + std::to_string(numel(sizes)) + " elements");
  return coordinate;
}

/// True when no two coordinates share an offset, by the sorted-stride
/// criterion: with the dimensions of size >= 2 ordered by increasing stride,
/// each stride exceeds the largest offset the dimensions before it reach,
///
///     s_(k) > Σ_{j<k} (n_(j) - 1)·s_(j)   for every k.
///
/// Then every offset has one coordinate, which coordinate_of_offset finds.
/// The test is conservative: true guarantees distinct offsets, but false does
/// not prove an overlap (sizes {2, 3}, strides {3, 2} reach 0, 2, 4, 3, 5, 7,
/// all distinct, yet 3 <= (3 - 1)·2). A layout of no elements does not
/// overlap. Throws rank_mismatch, negative_size or negative_stride.
[[nodiscard]] inline bool is_non_overlapping(index_view sizes, index_view strides) {
  detail::check_layout("is_non_overlapping", sizes, strides);
  if (detail::has_zero_size(sizes)) return true;
  const std::vector<std::size_t> order = detail::dimensions_by_stride(sizes, strides);
  index reach = 0;  // the largest offset of the dimensions seen so far
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t d = order[k];
    if (strides[d] <= reach) return false;
    index step;
    // Past int64, no later stride can exceed the reach.
    if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &step) ||
        __builtin_add_overflow(reach, step, &reach))
      return k + 1 == order.size();
  }
  return true;
}

/// True when the layout reaches each of the offsets b, b + 1, ...,
/// b + numel - 1 exactly once: some order of its dimensions is contiguous.
/// With the dimensions of size >= 2 ordered by increasing stride,
///
///     s_(k) = Π_{j<k} n_(j)   for every k.
///
/// This is exact (true if and only if), and a layout of no elements is dense.
/// (torch answers false for some layouts with a size-0 dimension.) Throws
/// rank_mismatch, negative_size or negative_stride.
[[nodiscard]] inline bool is_non_overlapping_and_dense(index_view sizes, index_view strides) {
  detail::check_layout("is_non_overlapping_and_dense", sizes, strides);
  if (detail::has_zero_size(sizes)) return true;
  const std::vector<std::size_t> order = detail::dimensions_by_stride(sizes, strides);
  index expected = 1;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t d = order[k];
    if (strides[d] != expected) return false;
    // Past int64, no later stride can equal the product.
    if (__builtin_mul_overflow(expected, sizes[d], &expected)) return k + 1 == order.size();
  }
  return true;
}

/// True when the layout is row-major contiguous, as torch's is_contiguous:
/// every dimension of size other than 1 has its contiguous stride,
///
///     s_i = Π_{j>i, n_j != 1} n_j   whenever n_i != 1,
///
/// which is the same as offset(coordinate_of_index(k)) = b + k for every k.
/// A layout of no elements is contiguous. Throws rank_mismatch,
/// negative_size or negative_stride.
[[nodiscard]] inline bool is_contiguous(index_view sizes, index_view strides) {
  detail::check_layout("is_contiguous", sizes, strides);
  if (detail::has_zero_size(sizes)) return true;
  index expected = 1;
  bool representable = true;  // false once the product is past int64
  for (std::size_t d = sizes.size(); d-- > 0;) {
    if (sizes[d] == 1) continue;
    if (!representable || strides[d] != expected) return false;
    representable = !__builtin_mul_overflow(expected, sizes[d], &expected);
  }
  return true;
}

/// The coordinate c of a non-overlapping layout with offset(c) = `offset`,
/// the inverse of offset_of. Taking the dimensions of size >= 2 from the
/// largest stride down, the sorted-stride criterion makes the division exact:
///
///     c_(k) = r_k / s_(k),   r_{k+1} = r_k - c_(k)·s_(k),   r_first = offset - b,
///
/// and the offset is reached exactly when every c_(k) < n_(k) and the last
/// remainder is 0; dimensions of size 1 get 0. Throws rank_mismatch,
/// negative_size, negative_stride, negative_offset, overlapping when
/// is_non_overlapping(sizes, strides) is false, or offset_not_in_layout.
[[nodiscard]] inline extents coordinate_of_offset(index offset, index_view sizes,
                                                  index_view strides, index base_offset = 0) {
  constexpr std::string_view function = "coordinate_of_offset";
  detail::check_layout(function, sizes, strides);
  detail::check_offset(function, base_offset);
  if (!is_non_overlapping(sizes, strides)) {
    throw layout_error("wrapgraph.layout.overlapping",
                       std::string(function) + ": sizes " + to_string(sizes) + ", strides " +
                           to_string(strides) +
                           " may reach one offset from two coordinates (is_non_overlapping is "
                           "false)");
  }
  const auto not_in_layout = [&](std::string_view why) {
    throw layout_error("wrapgraph.layout.offset_not_in_layout",
                       std::string(function) + ": offset " + std::to_string(offset) +
                           " is not reached by sizes " + to_string(sizes) + ", strides " +
                           to_string(strides) + ", offset " + std::to_string(base_offset) + " (" +
                           std::string(why) + ")");
  };
  if (detail::has_zero_size(sizes)) not_in_layout("the layout has no elements");
  if (offset < base_offset) not_in_layout("it is below the base offset");
  extents coordinate = extents::Zero(static_cast<Eigen::Index>(sizes.size()));
  index rest = offset - base_offset;
  const std::vector<std::size_t> order = detail::dimensions_by_stride(sizes, strides);
  for (auto d = order.rbegin(); d != order.rend(); ++d) {
    const index c = rest / strides[*d];
    if (c >= sizes[*d]) not_in_layout("no coordinate reaches it");
    coordinate[static_cast<Eigen::Index>(*d)] = c;
    rest -= c * strides[*d];
  }
  if (rest != 0) not_in_layout("no coordinate reaches it");
  return coordinate;
}

}  // namespace wrapgraph::layout

#pragma once
/// Symbolic twins of the layout arithmetic over sym::expr: contiguous
/// strides, element count, required span, offset of a coordinate and the
/// coordinate of a linear index, built in a sym::context.
///
/// Each function computes the same value as its numeric namesake in
/// layout/strides.hpp: evaluating the result under any binding of the
/// symbols gives what the numeric function gives for the evaluated inputs
/// (tests/layout/test_symbolic.cpp checks this as a law). Lists are
/// `sym_index_list`s, whose entries may be expressions, int64 constants or a
/// mix (`{s0, 3, s1}`); the context comes first because a list may hold no
/// expression at all and a rank-0 result still needs one (numel of [] is 1).
///
/// Sizes are assumed >= 0, strides, offsets and coordinates too: an entry
/// known to be negative (an integer, or an expression whose value range
/// lies below 0) throws the same wrapgraph::layout_error ids as the numeric
/// functions; an entry that merely may be negative is accepted.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <wrapgraph/config.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/layout/strides.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::layout {

/// One entry of a symbolic list: a sym::expr, or an int64 constant that the
/// function lifts into its context.
class sym_index {
 public:
  sym_index(sym::expr e) noexcept : expr_(e) {
    WRAPGRAPH_ASSERT(!e.is_null(), "layout::sym_index of a null sym::expr");
  }
  sym_index(index value) noexcept : value_(value) {}

  /// True when the entry holds an expression, false for a constant.
  [[nodiscard]] bool is_expr() const noexcept { return !expr_.is_null(); }
  /// The entry as an expression of `ctx`.
  [[nodiscard]] sym::expr to_expr(sym::context& ctx) const {
    if (expr_.is_null()) return ctx.integer(value_);
    WRAPGRAPH_ASSERT(&expr_.owner() == &ctx,
                     "layout: an expression of another sym::context was passed");
    return expr_;
  }

 private:
  sym::expr expr_;
  index value_ = 0;
};

/// A read-only list of symbolic entries: what the functions here take for
/// sizes, strides and coordinates. It converts implicitly from a
/// std::vector or std::span of sym::expr (or of sym_index), from anything an
/// index_view takes (extents, std::vector<int64_t>, ...), and from braced
/// lists of expressions and integers, mixed or not. Like index_view it does
/// not own what it views.
class sym_index_list {
 public:
  sym_index_list() noexcept = default;
  sym_index_list(std::initializer_list<sym_index> entries) noexcept
      : entries_(std::data(entries)), size_(entries.size()) {}
  sym_index_list(std::span<const sym::expr> exprs) noexcept
      : exprs_(exprs.data()), size_(exprs.size()) {}
  /// A contiguous range of sym::expr or of sym_index.
  template <class Range>
    requires std::ranges::contiguous_range<const Range&> &&
             std::ranges::sized_range<const Range&> &&
             (std::same_as<std::ranges::range_value_t<const Range&>, sym::expr> ||
              std::same_as<std::ranges::range_value_t<const Range&>, sym_index>) &&
             (!std::same_as<Range, std::span<const sym::expr>>)
  sym_index_list(const Range& entries) noexcept : size_(std::ranges::size(entries)) {
    if constexpr (std::same_as<std::ranges::range_value_t<const Range&>, sym::expr>)
      exprs_ = std::ranges::data(entries);
    else
      entries_ = std::ranges::data(entries);
  }
  /// int64 values, as an index_view takes them.
  template <class Values>
    requires std::is_convertible_v<const Values&, index_view> &&
             (!std::same_as<Values, sym_index_list>)
  sym_index_list(const Values& values) noexcept : integers_(index_view(values)),
                                                  size_(integers_.size()) {}

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// Entry `i` as an expression of `ctx`.
  [[nodiscard]] sym::expr at(std::size_t i, sym::context& ctx) const {
    WRAPGRAPH_ASSERT(i < size_, "layout::sym_index_list index out of range");
    if (exprs_ != nullptr) return sym_index(exprs_[i]).to_expr(ctx);
    if (entries_ != nullptr) return entries_[i].to_expr(ctx);
    return ctx.integer(integers_[i]);
  }
  /// Every entry as an expression of `ctx`.
  [[nodiscard]] std::vector<sym::expr> to_exprs(sym::context& ctx) const {
    std::vector<sym::expr> out;
    out.reserve(size_);
    for (std::size_t i = 0; i < size_; ++i) out.push_back(at(i, ctx));
    return out;
  }

 private:
  const sym::expr* exprs_ = nullptr;
  const sym_index* entries_ = nullptr;
  index_view integers_;
  std::size_t size_ = 0;
};

/// `values` as text, e.g. `[4*s1, 4, 1]`.
[[nodiscard]] inline std::string to_string(std::span<const sym::expr> values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += sym::to_string(values[i]);
  }
  return out + "]";
}

namespace detail {

[[nodiscard]] inline bool is_known_negative(sym::expr e) noexcept { return e.range().hi < 0; }

// The entries of `list` in `ctx`, after checking that none is known to be
// negative; `what` says which error applies.
enum class entry_kind { size, stride, coordinate };

inline std::vector<sym::expr> lift(std::string_view function, sym::context& ctx,
                                   const sym_index_list& list, entry_kind kind) {
  std::vector<sym::expr> out = list.to_exprs(ctx);
  for (std::size_t d = 0; d < out.size(); ++d) {
    if (!is_known_negative(out[d])) continue;
    const std::string where = std::string(function) + ": ";
    const std::string value = " is " + sym::to_string(out[d]) + ", which is negative";
    switch (kind) {
      case entry_kind::size:
        throw layout_error("wrapgraph.layout.negative_size",
                           where + "size of " + dimension(d) + value + " (sizes " +
                               to_string(out) + ")");
      case entry_kind::stride:
        throw layout_error("wrapgraph.layout.negative_stride",
                           where + "stride of " + dimension(d) + value + " (strides " +
                               to_string(out) + ")");
      case entry_kind::coordinate:
        throw layout_error("wrapgraph.layout.out_of_bounds",
                           where + "coordinate entry of " + dimension(d) + value +
                               " (coordinate " + to_string(out) + ")");
    }
  }
  return out;
}

inline sym::expr lift_offset(std::string_view function, sym::context& ctx, sym_index offset) {
  const sym::expr e = offset.to_expr(ctx);
  if (is_known_negative(e)) {
    throw layout_error("wrapgraph.layout.negative_offset",
                       std::string(function) + ": the base offset is " + sym::to_string(e) +
                           ", which is negative");
  }
  return e;
}

inline void check_rank(std::string_view function, std::string_view a_name,
                       std::span<const sym::expr> a, std::string_view b_name,
                       std::span<const sym::expr> b) {
  if (a.size() == b.size()) return;
  throw layout_error("wrapgraph.layout.rank_mismatch",
                     std::string(function) + ": " + std::string(a_name) + " " + to_string(a) +
                         " has rank " + std::to_string(a.size()) + " but " + std::string(b_name) +
                         " " + to_string(b) + " has rank " + std::to_string(b.size()));
}

// s_{r-1} = 1, s_i = s_{i+1}·Max(n_{i+1}, 1).
inline std::vector<sym::expr> contiguous_strides(sym::context& ctx,
                                                 std::span<const sym::expr> sizes) {
  std::vector<sym::expr> strides(sizes.size());
  if (sizes.empty()) return strides;
  const sym::expr one = ctx.integer(1);
  strides.back() = one;
  for (std::size_t i = sizes.size() - 1; i-- > 0;)
    strides[i] = ctx.mul(strides[i + 1], ctx.max(sizes[i + 1], one));
  return strides;
}

}  // namespace detail

/// The row-major strides of symbolic sizes, as the numeric contiguous_strides:
///
///     s_{r-1} = 1,   s_i = s_{i+1} · Max(n_{i+1}, 1).
///
/// Max(n, 1) simplifies to n for a size known to be >= 1 (a positive symbol,
/// as Inductor's sizes are), so sizes {s0, s1, 4} give [4*s1, 4, 1]; a size
/// that may be 0 keeps it: [4*Max(1, s1), 4, 1]. Throws negative_size.
[[nodiscard]] inline std::vector<sym::expr> contiguous_strides(sym::context& ctx,
                                                               sym_index_list sizes) {
  return detail::contiguous_strides(
      ctx, detail::lift("contiguous_strides", ctx, sizes, detail::entry_kind::size));
}

/// contiguous_strides(ctx, sizes) with the context of the sizes' expressions
/// (rank 0 needs none).
[[nodiscard]] inline std::vector<sym::expr> contiguous_strides(std::span<const sym::expr> sizes) {
  if (sizes.empty()) return {};
  return contiguous_strides(sizes.front().owner(), sizes);
}

/// The number of elements, Π_i n_i (1 for rank 0). Throws negative_size.
[[nodiscard]] inline sym::expr numel(sym::context& ctx, sym_index_list sizes) {
  const std::vector<sym::expr> n = detail::lift("numel", ctx, sizes, detail::entry_kind::size);
  return ctx.mul(std::span<const sym::expr>(n));
}

/// The storage elements a layout needs, as the numeric required_span:
///
///     required_span(n, s, b) = b + 1 + Σ_i (n_i - 1)·s_i
///
/// when every size is known to be >= 1 (positive symbols, integers >= 1, or
/// expressions whose value range says so), which is the common case. A
/// symbolic size cannot be compared with 0, so otherwise the result is the
/// general form that is exact for every size >= 0,
///
///     Min(Π_i n_i, 1) · (b + 1 + Σ_i (n_i - 1)·s_i),
///
/// which folds to 0 when a size is the integer 0. Throws rank_mismatch,
/// negative_size, negative_stride or negative_offset.
[[nodiscard]] inline sym::expr required_span(sym::context& ctx, sym_index_list sizes,
                                             sym_index_list strides, sym_index offset = 0) {
  constexpr std::string_view function = "required_span";
  const std::vector<sym::expr> n = detail::lift(function, ctx, sizes, detail::entry_kind::size);
  const std::vector<sym::expr> s = detail::lift(function, ctx, strides, detail::entry_kind::stride);
  detail::check_rank(function, "sizes", n, "strides", s);
  const sym::expr b = detail::lift_offset(function, ctx, offset);
  // (n_i - 1)·s_i enters as n_i·s_i - s_i, so that like terms cancel: a
  // contiguous layout's span comes out as its numel.
  std::vector<sym::expr> terms{b, ctx.integer(1)};
  bool all_positive = true;
  for (std::size_t i = 0; i < n.size(); ++i) {
    terms.push_back(ctx.mul(n[i], s[i]));
    terms.push_back(ctx.neg(s[i]));
    all_positive = all_positive && n[i].range().lo >= 1;
  }
  const sym::expr span = ctx.add(std::span<const sym::expr>(terms));
  if (all_positive) return span;
  return ctx.mul(ctx.min(ctx.mul(std::span<const sym::expr>(n)), ctx.integer(1)), span);
}

/// The offset of a symbolic coordinate: offset(c) = b + Σ_i c_i·s_i. With
/// index variables as the coordinate this is the indexing expression of a
/// kernel, e.g. coordinate {x0, x1}, strides {s1, 1} give s1*x0 + x1. Throws
/// rank_mismatch, out_of_bounds (an entry known to be negative),
/// negative_stride or negative_offset.
[[nodiscard]] inline sym::expr offset_of(sym::context& ctx, sym_index_list coordinate,
                                         sym_index_list strides, sym_index offset = 0) {
  constexpr std::string_view function = "offset_of";
  const std::vector<sym::expr> c =
      detail::lift(function, ctx, coordinate, detail::entry_kind::coordinate);
  const std::vector<sym::expr> s = detail::lift(function, ctx, strides, detail::entry_kind::stride);
  detail::check_rank(function, "coordinate", c, "strides", s);
  std::vector<sym::expr> terms{detail::lift_offset(function, ctx, offset)};
  for (std::size_t i = 0; i < c.size(); ++i) terms.push_back(ctx.mul(c[i], s[i]));
  return ctx.add(std::span<const sym::expr>(terms));
}

/// The row-major coordinate of a symbolic linear index, as the numeric
/// coordinate_of_index, in Inductor's terms: with t = contiguous_strides(n),
///
///     c_0 = linear // t_0,   c_i = ModularIndexing(linear, t_i, n_i) = (linear // t_i) % n_i,
///
/// which is right for 0 <= linear < numel(n) (dimension 0 needs no modulo
/// there). Throws negative_size, or out_of_bounds when `linear` is known to
/// be negative or a size is the integer 0 (no element has a coordinate).
[[nodiscard]] inline std::vector<sym::expr> coordinate_of_index(sym::context& ctx, sym_index linear,
                                                                sym_index_list sizes) {
  constexpr std::string_view function = "coordinate_of_index";
  const std::vector<sym::expr> n = detail::lift(function, ctx, sizes, detail::entry_kind::size);
  const sym::expr x = linear.to_expr(ctx);
  if (detail::is_known_negative(x)) {
    throw layout_error("wrapgraph.layout.out_of_bounds",
                       std::string(function) + ": linear index " + sym::to_string(x) +
                           " is negative");
  }
  for (const sym::expr& size : n) {
    if (!size.is_integer(0)) continue;
    throw layout_error("wrapgraph.layout.out_of_bounds",
                       std::string(function) + ": linear index " + sym::to_string(x) +
                           " is outside sizes " + to_string(n) + " (they have no elements)");
  }
  const std::vector<sym::expr> t = detail::contiguous_strides(ctx, n);
  std::vector<sym::expr> coordinate(n.size());
  for (std::size_t i = 0; i < n.size(); ++i)
    coordinate[i] = i == 0 ? ctx.floor_div(x, t[0]) : ctx.modular_indexing(x, t[i], n[i]);
  return coordinate;
}

}  // namespace wrapgraph::layout

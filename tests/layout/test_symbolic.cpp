// Tests of include/wrapgraph/layout/symbolic.hpp: the forms the symbolic
// functions build, their errors, and the law that evaluating a symbolic
// result gives the numeric function's result, over generated layouts and
// random bindings.

#include <doctest/doctest.h>

#include "../support.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <wrapgraph/layout/strides.hpp>
#include <wrapgraph/layout/symbolic.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/print.hpp>

namespace {

using namespace wrapgraph;
using layout::extents;
using layout::sym_index;
using sym::expr;
// `index` alone would clash with POSIX index() from <strings.h>.
using i64 = layout::index;

// The id of the layout_error that `f` throws.
template <class F>
std::string error_id(F&& f) {
  return wrapgraph::test::error_id<layout_error>(std::forward<F>(f));
}

std::vector<i64> evaluate_all(const std::vector<expr>& exprs, const sym::bindings& b) {
  std::vector<i64> values;
  for (const expr& e : exprs) values.push_back(sym::evaluate(e, b));
  return values;
}

// Symbols for generated layouts, each with the range its bindings draw from.
struct test_symbol {
  const char* name;
  sym::assumptions assumed;
  i64 lo, hi;
};
constexpr std::array<test_symbol, 5> symbols{{
    {"s0", sym::positive, 1, 4},
    {"s1", sym::positive, 1, 3},
    {"u0", sym::nonnegative, 0, 3},
    {"u1", sym::nonnegative, 0, 2},
    {"x0", sym::nonnegative, 0, 6},
}};

class generator {
 public:
  generator(sym::context& ctx, std::uint64_t seed) : rng_(seed) {
    for (const test_symbol& s : symbols) symbols_.push_back(ctx.symbol(s.name, s.assumed));
  }

  i64 pick(i64 lo, i64 hi) { return std::uniform_int_distribution<i64>(lo, hi)(rng_); }

  // A binding of every symbol within its range.
  sym::bindings bind() {
    sym::bindings b;
    for (std::size_t i = 0; i < symbols.size(); ++i) b.set(symbols_[i], pick(symbols[i].lo, symbols[i].hi));
    return b;
  }

  // A size: an integer (kept as an int64 entry) or an expression that is >= 0.
  sym_index size() {
    const expr s = symbols_[static_cast<std::size_t>(pick(0, 1))];
    const expr u = symbols_[static_cast<std::size_t>(pick(2, 3))];
    switch (pick(0, 7)) {
      case 0: return pick(0, 4);
      case 1: return s;
      case 2: return u;
      case 3: return s - 1;
      case 4: return u + 1;
      case 5: return 2 * s;
      case 6: return s * u;
      default: return pick(1, 3);
    }
  }
  // A stride or offset: an integer or an expression that is >= 0.
  sym_index nonnegative() {
    const expr s = symbols_[static_cast<std::size_t>(pick(0, 1))];
    const expr u = symbols_[static_cast<std::size_t>(pick(2, 3))];
    switch (pick(0, 4)) {
      case 0: return pick(0, 12);
      case 1: return s;
      case 2: return 3 * u + 1;
      case 3: return s * u;
      default: return pick(1, 6);
    }
  }
  template <class F>
  std::vector<sym_index> list(std::size_t rank, F make) {
    std::vector<sym_index> out;
    for (std::size_t i = 0; i < rank; ++i) out.push_back(make());
    return out;
  }
  expr symbol(std::size_t i) const { return symbols_[i]; }

 private:
  std::mt19937_64 rng_;
  std::vector<expr> symbols_;
};

constexpr int layout_count = 1500;

}  // namespace

TEST_CASE("layout::contiguous_strides of symbols keeps Max(n, 1) only where a size may be 0") {
  sym::context ctx;
  const expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  const expr u0 = ctx.symbol("u0", sym::nonnegative);
  CHECK(layout::contiguous_strides(ctx, {}).empty());
  CHECK(layout::to_string(layout::contiguous_strides(ctx, {s0, s1, 4})) == "[4*s1, 4, 1]");
  CHECK(layout::to_string(layout::contiguous_strides(ctx, {s0, u0, 4})) == "[4*Max(1, u0), 4, 1]");
  CHECK(layout::to_string(layout::contiguous_strides(ctx, {2, 3, 4})) == "[12, 4, 1]");
  CHECK(layout::to_string(layout::contiguous_strides(ctx, extents{{2, 0, 4}})) == "[4, 4, 1]");
  SUBCASE("without a context, the sizes' own is used") {
    const std::vector<expr> sizes{s0, s1, ctx.integer(4)};
    CHECK(layout::contiguous_strides(sizes) == layout::contiguous_strides(ctx, sizes));
    CHECK(layout::contiguous_strides(std::vector<expr>{}).empty());
  }
  SUBCASE("the strides are built in canonical form, so they compare with ==") {
    const std::vector<expr> strides = layout::contiguous_strides(ctx, {s0, s1, 4});
    CHECK(strides[0] == 4 * s1);
    CHECK(strides[1] == ctx.integer(4));
  }
  CHECK(error_id([&] { (void)layout::contiguous_strides(ctx, {s0, -1}); }) ==
        "wrapgraph.layout.negative_size");
  CHECK(error_id([&] { (void)layout::contiguous_strides(ctx, {s0, -s1}); }) ==
        "wrapgraph.layout.negative_size");
}

TEST_CASE("layout::numel of symbols is their product") {
  sym::context ctx;
  const expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  CHECK(layout::numel(ctx, {}) == ctx.integer(1));
  CHECK(layout::numel(ctx, {s0, 3, s1}) == 3 * s0 * s1);
  CHECK(layout::numel(ctx, {s0, 0}) == ctx.integer(0));
}

TEST_CASE("layout::required_span of symbols takes the simple form when every size is >= 1") {
  sym::context ctx;
  const expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  const expr u0 = ctx.symbol("u0", sym::nonnegative);
  SUBCASE("a contiguous layout spans its numel") {
    const std::vector<expr> strides = layout::contiguous_strides(ctx, {s0, s1, 4});
    CHECK(layout::required_span(ctx, {s0, s1, 4}, strides) == 4 * s0 * s1);
    CHECK(layout::required_span(ctx, {s0, s1, 4}, strides, u0) == 4 * s0 * s1 + u0);
  }
  SUBCASE("b + 1 + sum of (n_i - 1)*s_i") {
    CHECK(layout::required_span(ctx, {s0, 3}, {1, s0}) == s0 + 2 * s0);
    CHECK(layout::required_span(ctx, {2, 3}, {3, 1}, 5) == ctx.integer(11));
  }
  SUBCASE("a size that may be 0 brings in Min(numel, 1)") {
    const expr span = layout::required_span(ctx, {u0, 4}, {4, 1});
    CHECK(sym::to_string(span) == "4*u0*Min(1, 4*u0)");
    CHECK(sym::evaluate(span, sym::bindings{{"u0", 0}}) == 0);
    CHECK(sym::evaluate(span, sym::bindings{{"u0", 3}}) == 12);
    CHECK(layout::required_span(ctx, {s0, 0}, {1, 1}, 7) == ctx.integer(0));
  }
  SUBCASE("errors") {
    CHECK(error_id([&] { (void)layout::required_span(ctx, {s0, s1}, {1}); }) ==
          "wrapgraph.layout.rank_mismatch");
    CHECK(error_id([&] { (void)layout::required_span(ctx, {s0}, {-s1}); }) ==
          "wrapgraph.layout.negative_stride");
    CHECK(error_id([&] { (void)layout::required_span(ctx, {-2}, {1}); }) ==
          "wrapgraph.layout.negative_size");
    CHECK(error_id([&] { (void)layout::required_span(ctx, {s0}, {1}, -s0); }) ==
          "wrapgraph.layout.negative_offset");
  }
}

TEST_CASE("layout::offset_of of index variables is a kernel's indexing expression") {
  sym::context ctx;
  const expr s1 = ctx.symbol("s1", sym::positive);
  const expr x0 = ctx.symbol("x0", sym::nonnegative), x1 = ctx.symbol("x1", sym::nonnegative);
  CHECK(layout::offset_of(ctx, {x0, x1}, {s1, 1}) == s1 * x0 + x1);
  CHECK(layout::offset_of(ctx, {x0, x1}, std::vector<i64>{3, 1}, 7) == 3 * x0 + x1 + 7);
  CHECK(layout::offset_of(ctx, {1, 2}, {s1, 1}) == s1 + 2);
  CHECK(layout::offset_of(ctx, {}, {}, 4) == ctx.integer(4));
  CHECK(error_id([&] { (void)layout::offset_of(ctx, {x0, x1}, {1}); }) ==
        "wrapgraph.layout.rank_mismatch");
  CHECK(error_id([&] { (void)layout::offset_of(ctx, {-x0 - 1}, {1}); }) ==
        "wrapgraph.layout.out_of_bounds");
}

TEST_CASE("layout::coordinate_of_index of a symbol is a floor division and ModularIndexing") {
  sym::context ctx;
  const expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  const expr x0 = ctx.symbol("x0", sym::nonnegative);
  CHECK(layout::to_string(layout::coordinate_of_index(ctx, x0, {s0, s1, 4})) ==
        "[x0//(4*s1), ModularIndexing(x0, 4, s1), x0 % 4]");
  CHECK(layout::to_string(layout::coordinate_of_index(ctx, x0, {s0})) == "[x0]");
  CHECK(layout::coordinate_of_index(ctx, x0, {}).empty());
  CHECK(error_id([&] { (void)layout::coordinate_of_index(ctx, -1, {s0}); }) ==
        "wrapgraph.layout.out_of_bounds");
}

TEST_CASE("layout::sym_index_list takes exprs, integers, both mixed, and numeric lists") {
  sym::context ctx;
  const expr s0 = ctx.symbol("s0", sym::positive);
  const std::vector<expr> exprs{s0, ctx.integer(3)};
  const std::vector<sym_index> entries{s0, 3};
  const std::vector<i64> integers{2, 3};
  const extents e{{2, 3}};
  CHECK(layout::numel(ctx, exprs) == 3 * s0);
  CHECK(layout::numel(ctx, std::span<const expr>(exprs)) == 3 * s0);
  CHECK(layout::numel(ctx, entries) == 3 * s0);
  CHECK(layout::numel(ctx, {s0, 3}) == 3 * s0);
  CHECK(layout::numel(ctx, integers) == ctx.integer(6));
  CHECK(layout::numel(ctx, e) == ctx.integer(6));
  CHECK(layout::numel(ctx, layout::index_view(e)) == ctx.integer(6));
}

// ---- law: symbolic results evaluate to the numeric results ----------------

TEST_CASE("law: the symbolic functions evaluate to the numeric ones under random bindings") {
  sym::context ctx;
  generator gen(ctx, 11);
  int spans_checked = 0, coordinates_checked = 0;
  for (int i = 0; i < layout_count; ++i) {
    const auto rank = static_cast<std::size_t>(gen.pick(0, 4));
    const std::vector<expr> sizes = layout::sym_index_list(gen.list(rank, [&] { return gen.size(); })).to_exprs(ctx);
    const std::vector<expr> strides =
        gen.pick(0, 2) == 0 ? layout::contiguous_strides(ctx, sizes)
                            : layout::sym_index_list(gen.list(rank, [&] { return gen.nonnegative(); })).to_exprs(ctx);
    const expr offset = sym_index(gen.nonnegative()).to_expr(ctx);
    const std::vector<expr> coordinate =
        layout::sym_index_list(gen.list(rank, [&] { return gen.nonnegative(); })).to_exprs(ctx);

    const std::vector<expr> strides_of_sizes = layout::contiguous_strides(ctx, sizes);
    const expr count = layout::numel(ctx, sizes);
    const expr span = layout::required_span(ctx, sizes, strides, offset);
    const expr position = layout::offset_of(ctx, coordinate, strides, offset);
    // A size that is the integer 0 leaves no element to unravel.
    const bool has_zero = std::ranges::any_of(sizes, [](expr n) { return n.is_integer(0); });
    if (has_zero) {
      REQUIRE(error_id([&] { (void)layout::coordinate_of_index(ctx, gen.symbol(4), sizes); }) ==
              "wrapgraph.layout.out_of_bounds");
    }
    const std::vector<expr> unravelled =
        has_zero ? std::vector<expr>{} : layout::coordinate_of_index(ctx, gen.symbol(4), sizes);

    for (int binding = 0; binding < 8; ++binding) {
      const sym::bindings b = gen.bind();
      const std::vector<i64> n = evaluate_all(sizes, b), s = evaluate_all(strides, b),
                             c = evaluate_all(coordinate, b);
      const i64 base = sym::evaluate(offset, b);
      INFO("sizes ", layout::to_string(sizes), " = ", layout::to_string(n));
      INFO("strides ", layout::to_string(strides), " = ", layout::to_string(s));
      const extents numeric_strides = layout::contiguous_strides(n);
      REQUIRE(evaluate_all(strides_of_sizes, b) ==
              std::vector<i64>(numeric_strides.begin(), numeric_strides.end()));
      REQUIRE(sym::evaluate(count, b) == layout::numel(n));
      REQUIRE(sym::evaluate(span, b) == layout::required_span(n, s, base));
      REQUIRE(sym::evaluate(position, b) == layout::offset_of(c, s, base));
      ++spans_checked;
      // coordinate_of_index, for a linear index x0 inside the layout
      const i64 elements = layout::numel(n);
      const i64 x0 = *b.find("x0");
      if (x0 < elements) {
        REQUIRE(!has_zero);
        const extents expected = layout::coordinate_of_index(x0, n);
        REQUIRE(evaluate_all(unravelled, b) == std::vector<i64>(expected.begin(), expected.end()));
        ++coordinates_checked;
      }
    }
  }
  CHECK(spans_checked == 8 * layout_count);
  CHECK(coordinates_checked > layout_count);
}

TEST_CASE("law: the symbolic span of positive sizes with their contiguous strides is their numel") {
  sym::context ctx;
  generator gen(ctx, 12);
  const expr s0 = gen.symbol(0), s1 = gen.symbol(1);
  SUBCASE("sizes that are symbols and integers: the same expression") {
    const std::array<expr, 2> positive_sizes{s0, s1};
    for (int i = 0; i < layout_count; ++i) {
      std::vector<sym_index> sizes;
      for (i64 d = gen.pick(0, 4); d > 0; --d) {
        if (gen.pick(0, 2) == 0)
          sizes.emplace_back(gen.pick(1, 5));
        else
          sizes.emplace_back(positive_sizes[static_cast<std::size_t>(gen.pick(0, 1))]);
      }
      const std::vector<expr> strides = layout::contiguous_strides(ctx, sizes);
      INFO("sizes ", layout::to_string(layout::sym_index_list(sizes).to_exprs(ctx)));
      REQUIRE(layout::required_span(ctx, sizes, strides) == layout::numel(ctx, sizes));
    }
  }
  SUBCASE("sizes that are sums and products: the same value") {
    // The canonical form does not expand products of sums, so s1*(5*s1 + 10)
    // and 5*s1*(s1 + 2) stay apart; their values agree.
    const std::array<expr, 5> positive_sizes{s0, s1, 2 * s0, s0 * s1, s1 + 2};
    for (int i = 0; i < layout_count; ++i) {
      std::vector<sym_index> sizes;
      for (i64 d = gen.pick(0, 4); d > 0; --d) {
        if (gen.pick(0, 2) == 0)
          sizes.emplace_back(gen.pick(1, 5));
        else
          sizes.emplace_back(positive_sizes[static_cast<std::size_t>(gen.pick(0, 4))]);
      }
      const expr span = layout::required_span(ctx, sizes, layout::contiguous_strides(ctx, sizes));
      const expr count = layout::numel(ctx, sizes);
      INFO("sizes ", layout::to_string(layout::sym_index_list(sizes).to_exprs(ctx)));
      for (int binding = 0; binding < 4; ++binding) {
        const sym::bindings b = gen.bind();
        REQUIRE(sym::evaluate(span, b) == sym::evaluate(count, b));
      }
    }
  }
}

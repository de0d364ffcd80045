// Tests of include/wrapgraph/sym/substitute.hpp.

#include <doctest/doctest.h>

#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/substitute.hpp>

using namespace wrapgraph::sym;

TEST_CASE("sym::free_symbols lists each symbol once in canonical order") {
  context ctx;
  const expr s10 = ctx.symbol("s10"), s2 = ctx.symbol("s2"), u0 = ctx.symbol("u0", unbacked);
  const auto symbols = free_symbols(floor_div(s10 * s2 + u0, s2) + max(s10, 3));
  REQUIRE(symbols.size() == 3);
  CHECK(symbols[0] == s2);
  CHECK(symbols[1] == s10);
  CHECK(symbols[2] == u0);
  CHECK(free_symbols(ctx.integer(4)).empty());
}

TEST_CASE("sym::substitute replaces symbols and re-canonicalises") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive);
  CHECK(substitute(2 * s0 + s1, {{s0, 3 * s1}}) == 7 * s1);
  CHECK(substitute(floor_div(s0, 8), {{s0, 8 * s1}}) == s1);
  CHECK(substitute(s0 * s1, {{s0, s1}, {s1, s0}}) == s0 * s1);  // simultaneous
  CHECK(substitute(mod(s0 + 1, s1), {{s0 + 1, s1}}) == ctx.integer(0));  // any subexpression
  CHECK(substitute(s0 + s1, bindings{{"s0", 4}}) == s1 + 4);
  CHECK(occurs_in(s0, floor_div(s0, s1) + 1));
  CHECK(!occurs_in(s1 + 2, s1 + 3));
}

TEST_CASE("sym::substitute then evaluate equals evaluate with the substituted values (law)") {
  context ctx;
  const expr a = ctx.symbol("a"), b = ctx.symbol("b", positive);
  const expr e = floor_div(a * a + 3 * b, b + 2) - mod(a, b) + ceil_div(a, 4);
  for (std::int64_t va = -20; va <= 20; ++va) {
    for (std::int64_t vb = 1; vb <= 6; ++vb) {
      const expr partial = substitute(e, bindings{{"a", va}});
      CHECK(evaluate(partial, {{"b", vb}}) == evaluate(e, {{"a", va}, {"b", vb}}));
    }
  }
}

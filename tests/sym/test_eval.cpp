// Tests of include/wrapgraph/sym/eval.hpp: evaluation with Python semantics,
// the prepared form, and evaluation errors.

#include <doctest/doctest.h>

#include <array>
#include <random>
#include <vector>

#include <wrapgraph/sym/context.hpp>

#include "../support.hpp"
#include <wrapgraph/sym/eval.hpp>

using namespace wrapgraph;
using namespace wrapgraph::sym;

using wrapgraph::test::error_id;

TEST_CASE("sym::evaluate follows Python's floor division and modulo for negative operands") {
  context ctx;
  const expr a = ctx.symbol("a"), b = ctx.symbol("b");
  const compiled_expr div(floor_div(a, b)), rem(mod(a, b)), up(ceil_div(a, b));
  for (std::int64_t x = -9; x <= 9; ++x) {
    for (std::int64_t y = -4; y <= 4; ++y) {
      if (y == 0) continue;
      const std::int64_t q = div(bindings{{"a", x}, {"b", y}});
      const std::int64_t r = rem(bindings{{"a", x}, {"b", y}});
      CHECK(q * y + r == x);                        // division identity
      CHECK((r == 0 || (r < 0) == (y < 0)));        // remainder takes the divisor's sign
      CHECK((y > 0 ? (0 <= r && r < y) : (y < r && r <= 0)));
      CHECK(up(bindings{{"a", x}, {"b", y}}) == -div(bindings{{"a", -x}, {"b", y}}));
    }
  }
}

TEST_CASE("sym::evaluate computes every kind of node") {
  context ctx;
  const expr x = ctx.symbol("x"), y = ctx.symbol("y", positive);
  const bindings b{{"x", -7}, {"y", 3}};
  CHECK(evaluate(x + 2 * y, b) == -1);
  CHECK(evaluate(x * y, b) == -21);
  CHECK(evaluate(pow(x, 3), b) == -343);
  CHECK(evaluate(pow(ctx.integer(2), y), b) == 8);
  CHECK(evaluate(floor_div(x, y), b) == -3);
  CHECK(evaluate(ceil_div(x, y), b) == -2);
  CHECK(evaluate(clean_div(3 * x * y, y), b) == -21);
  CHECK(evaluate(mod(x, y), b) == 2);
  CHECK(evaluate(modular_indexing(x + 100, y, 5), b) == (93 / 3) % 5);
  CHECK(evaluate(min(x, y), b) == -7);
  CHECK(evaluate(ctx.max(std::array{x, y, ctx.integer(-10)}), b) == 3);
  CHECK(evaluate(abs(x), b) == 7);
  CHECK(evaluate(ctx.integer(42), {}) == 42);
}

TEST_CASE("sym::compiled_expr reads symbols from slots in canonical order") {
  context ctx;
  const expr s1 = ctx.symbol("s1"), s0 = ctx.symbol("s0");
  const compiled_expr f(s0 * 10 + s1);
  REQUIRE(f.symbols().size() == 2);
  CHECK(f.symbols()[0] == s0);
  CHECK(f.symbols()[1] == s1);
  const std::int64_t values[] = {4, 2};
  CHECK(f(std::span<const std::int64_t>(values)) == 42);
  CHECK(f.source() == s0 * 10 + s1);
  CHECK(f.size() == 5);  // s0, 10, 10*s0, s1, sum
}

TEST_CASE("sym::compiled_expr evaluates a shared subexpression once per node") {
  context ctx;
  expr e = ctx.symbol("x");
  for (int i = 0; i < 60; ++i) e = floor_div(e * e + 1, 3) + max(e, 1);
  const compiled_expr f(e);
  CHECK(f.size() < 60 * 8);
  CHECK(error_id([&] { (void)f(bindings{{"x", 5}}); }) != "(no error)");  // overflow, not a hang
}

TEST_CASE("sym::evaluate reports failures with their ids and the expression") {
  context ctx;
  const expr x = ctx.symbol("x"), y = ctx.symbol("y"), p = ctx.symbol("p", positive);
  CHECK(error_id([&] { (void)evaluate(x + y, {{"x", 1}}); }) == "wrapgraph.sym.unbound_symbol");
  CHECK(error_id([&] { (void)evaluate(floor_div(x, y), {{"x", 1}, {"y", 0}}); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)evaluate(mod(x, y), {{"x", 1}, {"y", 0}}); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)evaluate(x * y, {{"x", INT64_MAX}, {"y", 2}}); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)evaluate(floor_div(x, y), {{"x", INT64_MIN}, {"y", -1}}); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)evaluate(abs(x), {{"x", INT64_MIN}}); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)evaluate(clean_div(x, y), {{"x", 7}, {"y", 2}}); }) == "wrapgraph.sym.inexact_division");
  CHECK(error_id([&] { (void)evaluate(true_div(x, y), {{"x", 7}, {"y", 2}}); }) == "wrapgraph.sym.not_integer");
  CHECK(evaluate(true_div(x, y), {{"x", 8}, {"y", 2}}) == 4);
  CHECK(error_id([&] { (void)evaluate(pow(ctx.integer(2), x), {{"x", -1}}); }) == "wrapgraph.sym.negative_exponent");
  CHECK(error_id([&] { (void)evaluate(p + 1, {{"p", 0}}); }) == "wrapgraph.sym.assumption_violated");
  CHECK(error_id([&] { bindings b; b.set(x + 1, 3); }) == "wrapgraph.sym.not_a_symbol");
  try {
    (void)evaluate(floor_div(x, y - 2), {{"x", 5}, {"y", 2}});
    FAIL("no error");
  } catch (const sym_error& e) {
    CHECK(std::string(e.what()) == "[wrapgraph.sym.division_by_zero] division by zero in x//(y - 2) with x = 5, y = 2");
  }
}

TEST_CASE("sym::compiled_expr agrees with evaluate on random bindings") {
  context ctx;
  const expr a = ctx.symbol("a"), b = ctx.symbol("b", positive), c = ctx.symbol("c", nonnegative);
  const expr e = floor_div(a * b + c, b + 1) + mod(a - 3 * c, 5) * min(a, c) - abs(a - b) + pow(b, 2);
  const compiled_expr f(e);
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int64_t> any(-50, 50), pos(1, 50);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t va = any(rng), vb = pos(rng), vc = pos(rng) - 1;
    const std::int64_t expected =
        [&] {
          auto fd = [](std::int64_t x, std::int64_t y) { std::int64_t q = x / y; return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q; };
          auto md = [&](std::int64_t x, std::int64_t y) { return x - fd(x, y) * y; };
          return fd(va * vb + vc, vb + 1) + md(va - 3 * vc, 5) * std::min(va, vc) - std::abs(va - vb) + vb * vb;
        }();
    CHECK(f(bindings{{"a", va}, {"b", vb}, {"c", vc}}) == expected);
  }
}

// Tests of include/wrapgraph/sym/solve.hpp.

#include <doctest/doctest.h>

#include <random>

#include <wrapgraph/sym/context.hpp>

#include "../support.hpp"
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/solve.hpp>

using namespace wrapgraph;
using namespace wrapgraph::sym;

using wrapgraph::test::error_id;

TEST_CASE("sym::solve_for finds s0 = (size - 1)//2 from 2*s0 + 1 == size") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), size = ctx.symbol("size", nonnegative);
  CHECK(to_string(solve_for(2 * s0 + 1, size, s0)) == "(size - 1)//2");
  CHECK(solve_for(s0 - 3, size, s0) == size + 3);
  CHECK(solve_for(size, s0 * 4, s0) == floor_div(size, 4));
}

TEST_CASE("sym::solve_for accepts a symbolic coefficient") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive), n = ctx.symbol("n");
  CHECK(solve_for(s1 * s0 + 4, n, s0) == floor_div(n - 4, s1));
  CHECK(solve_for(s1 * s0 + 2 * s0, n, s0) == floor_div(n, s1 + 2));
}

TEST_CASE("sym::solve picks the one unknown symbol") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive), n = ctx.symbol("n");
  const auto known = [&](expr s) { return s == n || s == s1; };
  const solution r = solve(s1 * 8 + s0, n, known);
  CHECK(r.symbol == s0);
  CHECK(r.value == n - 8 * s1);
}

TEST_CASE("sym::solve reports what makes an equation unsolvable") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive), n = ctx.symbol("n");
  const auto only_n = [&](expr s) { return s == n; };
  CHECK(error_id([&] { (void)solve(s0 * s1, n, only_n); }) == "wrapgraph.sym.solve.underdetermined");
  CHECK(error_id([&] { (void)solve(s0 + s1 + 1, n, only_n); }) == "wrapgraph.sym.solve.underdetermined");
  CHECK(error_id([&] { (void)solve(pow(s0, 2), n, only_n); }) == "wrapgraph.sym.solve.nonlinear");
  CHECK(error_id([&] { (void)solve(floor_div(s0, 2), n, only_n); }) == "wrapgraph.sym.solve.nonlinear");
  CHECK(error_id([&] { (void)solve(n + 1, n, only_n); }) == "wrapgraph.sym.solve.no_unknown");
  CHECK(error_id([&] { (void)solve_for(s1 + 1, n, s0); }) == "wrapgraph.sym.solve.no_unknown");
  CHECK(error_id([&] { (void)solve_for(s0, n, s0 + 1); }) == "wrapgraph.sym.solve.not_a_symbol");
  try {
    (void)solve(s0 * s1 + 1, n, only_n);
  } catch (const sym_error& e) {
    CHECK(e.message() == "cannot solve s0*s1 + 1 == n: 2 unknown symbols (s0, s1)");
  }
}

TEST_CASE("sym::solve_for solutions satisfy their equations (law)") {
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int64_t> coeff(-6, 6), value(1, 40), other(1, 9);
  context ctx;
  const expr u = ctx.symbol("u", positive), k = ctx.symbol("k", positive), n = ctx.symbol("n");
  int checked = 0;
  for (int i = 0; i < 300; ++i) {
    std::int64_t a = coeff(rng);
    if (a == 0) a = 1;
    const std::int64_t b = coeff(rng), c = coeff(rng);
    // lhs = a*u + b*k + c, with k known; n takes the value of lhs.
    const expr lhs = a * u + b * k + c;
    const expr solution = solve_for(lhs, n, u);
    for (int j = 0; j < 10; ++j) {
      const std::int64_t vu = value(rng), vk = other(rng);
      const std::int64_t vn = evaluate(lhs, {{"u", vu}, {"k", vk}});
      CHECK(evaluate(solution, {{"n", vn}, {"k", vk}}) == vu);
      ++checked;
    }
  }
  CHECK(checked == 3000);
}

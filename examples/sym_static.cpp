// Expression templates in a few lines: constants and symbols as types,
// folding at compile time, evaluation, mixing with run-time values and
// lowering into sym::expr. docs/sym-static.md quotes this file and the
// output it prints.

#include <cstdint>
#include <iostream>
#include <type_traits>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/static.hpp>

namespace sym = wrapgraph::sym;
using namespace wrapgraph::sym::literals;

// [extent]
// A function that takes sizes accepts constants, integers, typed trees and
// runtime expressions alike, and lowers them all into one context.
template <sym::extent... Sizes>
std::vector<sym::expr> shape(sym::context& ctx, const Sizes&... sizes) {
  return {sym::to_expr(ctx, sizes)...};
}
// [extent]

int main() {
  std::cout << std::boolalpha;

  // [notation]
  constexpr sym::var<"s0", sym::positive> s0;  // a symbol >= 1, named at compile time
  constexpr sym::var<"s1"> s1;                 // any integer
  constexpr auto e = 2_c * s0 + 1_c;           // a typed tree: no storage, no context
  std::cout << "e = " << e << ", as written: " << sym::describe(e) << '\n';
  std::cout << "empty type: " << std::is_empty_v<decltype(e)> << '\n';
  // [notation]

  // [folding]
  // Constants fold into constants, as types.
  static_assert(std::is_same_v<decltype(2_c * 3_c), sym::constant<6>>);
  static_assert(std::is_same_v<decltype(sym::floor_div(-7_c, 2_c)), sym::constant<-4>>);
  static_assert(std::is_same_v<decltype(sym::mod(-7_c, 2_c)), sym::constant<1>>);
  // Identities hold at the type level.
  static_assert(std::is_same_v<decltype(s0 * 1_c + 0_c), sym::var<"s0", sym::positive>>);
  static_assert(std::is_same_v<decltype(s1 * 0_c), sym::constant<0>>);
  static_assert(std::is_same_v<decltype(sym::mod(s1, 1_c)), sym::constant<0>>);
  std::cout << "floor_div(-7_c, 2_c) = " << sym::floor_div(-7_c, 2_c)
            << ", s0 - s0 = " << sym::describe(s0 - s0) << '\n';
  // [folding]

  // [eval]
  // Typed bindings: which value feeds which symbol is settled at compile
  // time, and a static tree evaluates in a constant expression.
  static_assert(sym::eval(2_c * s0 + 1_c, s0 = 8) == 17);
  const auto index = sym::modular_indexing(s0 * 3_c + s1, 4_c, 8_c);
  std::cout << "index(s0 = 5, s1 = -2) = " << sym::eval(index, s0 = 5, s1 = -2) << '\n';
  // Bindings by name, at run time, as sym::evaluate takes them.
  const sym::bindings values{{"s0", 5}, {"s1", -2}};
  std::cout << "index with sym::bindings = " << sym::eval(index, values) << '\n';
  // [eval]

  // [mixed]
  const std::int64_t n = 3;           // known only at run time
  const auto scaled = s0 * n + 1_c;    // n becomes a run-time leaf of the tree
  const std::int64_t rows = 4_c * n;   // a constant and an int64: an int64, now
  std::cout << "scaled = " << sym::describe(scaled) << ", rows = " << rows << '\n';

  sym::context ctx;
  const sym::expr width = ctx.symbol("width", sym::positive);
  const sym::expr total = scaled * width;  // typed meets runtime: a sym::expr of ctx
  std::cout << "total = " << total << '\n';
  // [mixed]

  // [lowering]
  const auto blocks = sym::ceil_div(s0 * 2_c + s1, 128_c);
  const sym::expr lowered = sym::lower(ctx, blocks);
  std::cout << "to_string: " << sym::to_string(blocks) << '\n'
            << "lowered:   " << lowered << '\n'
            << "describe:  " << sym::describe(blocks) << '\n'
            << "same text: " << (sym::to_string(blocks) == sym::to_string(lowered)) << '\n'
            << "evaluate:  " << sym::evaluate(lowered, values) << " = eval: " << sym::eval(blocks, values)
            << '\n';
  // [lowering]

  // [shape]
  for (const sym::expr& size : shape(ctx, s0, 8_c, n, width, s0 * 4_c)) std::cout << size << ' ';
  std::cout << '\n';
  // [shape]

  // [errors]
  try {
    (void)sym::eval(sym::floor_div(s1, s0 - 5_c), s0 = 5, s1 = 7);
  } catch (const wrapgraph::error& error) {
    std::cout << error.what() << '\n';
  }
  // [errors]
}

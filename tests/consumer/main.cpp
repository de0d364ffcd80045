// Uses wrapgraph through dependency('wrapgraph') from a subproject.
#include <iostream>

#include <wrapgraph/layout.hpp>
#include <wrapgraph/sym.hpp>

int main() {
  namespace sym = wrapgraph::sym;
  sym::context ctx;
  const sym::expr size = sym::parse(ctx, "2*s0 + 1");
  const sym::expr s0 = ctx.symbol("s0");
  const auto strides = wrapgraph::layout::contiguous_strides(ctx, {size, 8});
  std::cout << "strides " << wrapgraph::layout::to_string(strides) << "\n";
  std::cout << "s0 = " << sym::to_string(sym::solve_for(size, ctx.symbol("n"), s0)) << "\n";
  std::cout << "at s0 = 3: " << sym::evaluate(size * 8, {{"s0", 3}}) << "\n";
}

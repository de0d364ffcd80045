// The main demo: symbolic shapes as a wrapper program uses them. Parses
// sizes as Inductor prints them, shows the canonical form, solves an input
// size for its symbol, evaluates, and builds the same kind of expression at
// compile time. docs/symbolic-shapes.md and the README quote it.

#include <iostream>

#include <wrapgraph/layout.hpp>
#include <wrapgraph/sym.hpp>

namespace sym = wrapgraph::sym;
namespace layout = wrapgraph::layout;
using namespace sym::literals;

int main() {
  // [canonical]
  sym::context ctx;
  const sym::expr s0 = ctx.symbol("s0", sym::positive);
  const sym::expr s1 = ctx.symbol("s1", sym::positive);
  // Text as Inductor prints it; equal expressions are the same node.
  const sym::expr numel = sym::parse(ctx, "s1*(2*s0 + 1) + s1*s0*0");
  const sym::expr blocks = sym::parse(ctx, "floor((s0*8 + 127)/128)");
  std::cout << "numel  = " << numel << "\n";
  std::cout << "blocks = " << blocks << "\n";
  std::cout << "same node: " << std::boolalpha << (sym::floor_div(8 * s0 + 127, 128) == blocks) << "\n";
  std::cout << "FloorDiv(8*s0, 8) = " << sym::floor_div(8 * s0, 8) << "\n";
  // [canonical]

  // [solve]
  // An input of size 2*s0 + 1 defines s0 through its size at run time.
  const sym::expr size = ctx.symbol("size", sym::nonnegative);
  const sym::expr solution = sym::solve_for(2 * s0 + 1, size, s0);
  std::cout << "2*s0 + 1 == size  =>  s0 = " << solution << "\n";
  // [solve]

  // [evaluate]
  const sym::bindings at{{"s0", 100}, {"s1", 3}, {"size", 201}};
  std::cout << "at s0 = 100, s1 = 3: numel " << sym::evaluate(numel, at) << ", blocks "
            << sym::evaluate(blocks, at) << ", s0 from size " << sym::evaluate(solution, at) << "\n";
  // Prepared once, evaluated many times.
  const sym::compiled_expr grid(sym::ceil_div(numel, 1024));
  std::cout << "grid reads " << grid.symbols().size() << " symbols, " << grid.size()
            << " operations; grid(s0 = 100, s1 = 3) = " << grid(at) << "\n";
  std::cout << "as C++: " << sym::to_cpp(grid.source()) << "\n";
  // [evaluate]

  // [errors]
  try {
    (void)sym::evaluate(sym::floor_div(numel, s1 - 3), at);
  } catch (const wrapgraph::error& e) {
    std::cout << e.what() << "\n";
  }
  // [errors]

  // [static]
  // The same arithmetic at compile time: symbols are types, constants fold.
  constexpr sym::var<"s0", sym::positive> t0;
  constexpr auto static_blocks = sym::floor_div(8_c * t0 + 127_c, 128_c);
  static_assert(std::is_same_v<decltype(4_c * 32_c), sym::constant<128>>);
  std::cout << "static: " << static_blocks << " = " << sym::eval(static_blocks, t0 = 100)
            << "; lowered into the context it is the same node: "
            << (sym::lower(ctx, static_blocks) == blocks) << "\n";
  // [static]

  // [layout]
  const auto strides = layout::contiguous_strides(ctx, {s1, 2 * s0 + 1, 4});
  std::cout << "contiguous strides of [s1, 2*s0 + 1, 4]: " << layout::to_string(strides) << "\n";
  // [layout]
  return 0;
}

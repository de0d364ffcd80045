// Reading and writing expression text: sym::parse, sym::to_string,
// sym::to_cpp and sym::cpp_prelude. docs/sym-text.md quotes this program and
// its output.

#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>

namespace sym = wrapgraph::sym;

int main() {
  // [parse]
  sym::context ctx;
  sym::parse_options options;
  options.default_assumptions = sym::positive;  // sizes, as Inductor assumes

  for (std::string_view text : {"(s0 + 127)//128", "FloorDiv(s0 + 127, 128)", "floor((s0 + 127)/128)",
                                "2*s1 + s0*1 + s1 + 0", "ModularIndexing(s0, 1, 64)",
                                "Max(1, CeilDiv(s0*s1, 1024))", "-s0**2 + 2**3**2"}) {
    const sym::expr e = sym::parse(ctx, text, options);
    std::cout << text << "  ->  " << sym::to_string(e) << '\n';
  }

  const sym::expr a = sym::parse(ctx, "(s0 + 127)//128", options);
  const sym::expr b = sym::parse(ctx, "FloorDiv(127 + s0, 128)", options);
  std::cout << "same node: " << std::boolalpha << (a == b) << '\n';
  // [parse]

  // [print]
  const sym::expr s0 = ctx.symbol("s0", sym::positive);
  const sym::expr s1 = ctx.symbol("s1", sym::positive);
  const sym::expr e = sym::ceil_div(s0 * s1, 128) + sym::mod(s0, 8) - 2 * sym::floor_div(s1, 4);
  std::cout << "python: " << sym::to_string(e) << '\n';
  std::cout << "c++:    " << sym::to_cpp(e) << '\n';
  std::cout << "round trip: " << (sym::parse(ctx, sym::to_string(e)) == e) << '\n';
  std::cout << "value at s0=100, s1=7: " << sym::evaluate(e, {{"s0", 100}, {"s1", 7}}) << '\n';
  // [print]

  // [prelude]
  std::cout << sym::cpp_prelude("wg_");
  // [prelude]

  // [resolve]
  // Kernel grids name a config's parameters; resolve turns them into values
  // and rejects every other unknown name.
  sym::parse_options grid;
  grid.resolve = [&](std::string_view name) -> sym::expr {
    if (name == "XBLOCK") return ctx.integer(1024);
    if (name == "xnumel") return ctx.symbol("xnumel", sym::positive);
    return {};
  };
  std::cout << sym::to_string(sym::parse(ctx, "CeilDiv(xnumel, XBLOCK)", grid)) << '\n';
  // [resolve]

  // [true_division]
  sym::parse_options quotients;
  quotients.allow_true_division = true;
  const sym::expr q = sym::parse(ctx, "(s0 + 1)/(2*s1)", quotients);
  std::cout << sym::to_string(q) << " is a " << sym::to_string(q.kind()) << '\n';
  // [true_division]

  // [errors]
  for (std::string_view text : {"s0 * * 2", "(s0 + 1", "s0/2", "sqrt(s0)", "Min()",
                                "99999999999999999999", "FloorDiv(s0, 0)", "s0 + YBLOCK"}) {
    try {
      (void)sym::parse(ctx, text, grid);
    } catch (const wrapgraph::parse_error& err) {
      std::cout << err.what() << '\n';
    }
  }
  // [errors]
}

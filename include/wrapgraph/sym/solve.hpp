#pragma once
/// Solving `lhs == rhs` for one unknown symbol in which the equation is
/// affine, as wrapgraph does for symbols that only occur inside compound
/// input sizes (size == 2*s0 + 1 gives s0 = (size - 1)//2).

#include <functional>
#include <string>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>
#include <wrapgraph/sym/substitute.hpp>

namespace wrapgraph::sym {

/// A symbol and the expression it equals.
struct solution {
  expr symbol;
  expr value;
};

namespace detail {
inline std::string equation_text(expr lhs, expr rhs) { return detail::brief(lhs) + " == " + detail::brief(rhs); }
}  // namespace detail

/// Solves lhs == rhs for `unknown`. With lhs - rhs = a*unknown + b, where a
/// and b do not contain the unknown, the solution is floor((-b)/a), i.e.
/// FloorDiv(-b, a): the integer solution when one exists, as the reference
/// converter takes floor() of the solution and rewrites it to FloorDiv.
/// Errors: wrapgraph.sym.solve.not_a_symbol, .no_unknown (the unknown does
/// not occur), .nonlinear (it occurs other than as a factor of degree one).
[[nodiscard]] inline expr solve_for(expr lhs, expr rhs, expr unknown) {
  if (unknown.is_null() || !unknown.is_symbol()) {
    throw sym_error("wrapgraph.sym.solve.not_a_symbol",
                    "cannot solve " + detail::equation_text(lhs, rhs) + " for " + detail::brief(unknown) +
                        ", which is not a symbol");
  }
  context& ctx = lhs.owner();
  const expr difference = ctx.sub(lhs, rhs);
  if (difference.is(expr_kind::rational)) {
    throw sym_error("wrapgraph.sym.solve.nonlinear",
                    "cannot solve " + detail::equation_text(lhs, rhs) + " for " +
                        std::string(unknown.name()) + ": it contains a true division");
  }
  const std::span<const expr> terms =
      difference.is(expr_kind::add) ? difference.args() : std::span<const expr>(&difference, 1);
  std::vector<expr> coefficient, rest;
  for (const expr& t : terms) {
    if (!occurs_in(unknown, t)) {
      rest.push_back(t);
      continue;
    }
    // t must be c * unknown * (factors free of the unknown)
    const std::span<const expr> factors = t.is(expr_kind::mul) ? t.args() : std::span<const expr>(&t, 1);
    std::vector<expr> others;
    bool linear = false;
    for (const expr& f : factors) {
      if (f == unknown && !linear) {
        linear = true;
      } else if (occurs_in(unknown, f)) {
        throw sym_error("wrapgraph.sym.solve.nonlinear",
                        "cannot solve " + detail::equation_text(lhs, rhs) + " for " +
                            std::string(unknown.name()) + ": it occurs non-linearly in " + detail::brief(f));
      } else {
        others.push_back(f);
      }
    }
    coefficient.push_back(ctx.mul(std::span<const expr>(others)));
  }
  if (coefficient.empty()) {
    throw sym_error("wrapgraph.sym.solve.no_unknown",
                    "cannot solve " + detail::equation_text(lhs, rhs) + " for " +
                        std::string(unknown.name()) + ": it does not occur");
  }
  const expr a = ctx.add(std::span<const expr>(coefficient));
  const expr b = ctx.add(std::span<const expr>(rest));
  if (occurs_in(unknown, a)) {
    throw sym_error("wrapgraph.sym.solve.nonlinear",
                    "cannot solve " + detail::equation_text(lhs, rhs) + " for " +
                        std::string(unknown.name()) + ": its coefficient " + detail::brief(a) +
                        " contains it");
  }
  return ctx.floor(ctx.true_div(ctx.neg(b), a));
}

/// Solves lhs == rhs for its one symbol that `is_known` rejects. Errors:
/// wrapgraph.sym.solve.underdetermined (two or more unknown symbols, named),
/// .no_unknown (none), and those of solve_for.
[[nodiscard]] inline solution solve(expr lhs, expr rhs, const std::function<bool(expr)>& is_known) {
  std::vector<expr> unknowns;
  for (expr s : free_symbols(lhs.owner().sub(lhs, rhs)))
    if (!is_known(s)) unknowns.push_back(s);
  if (unknowns.empty()) {
    throw sym_error("wrapgraph.sym.solve.no_unknown",
                    "nothing to solve in " + detail::equation_text(lhs, rhs) + ": every symbol is known");
  }
  if (unknowns.size() > 1) {
    std::string names;
    for (expr s : unknowns) names += (names.empty() ? "" : ", ") + std::string(s.name());
    throw sym_error("wrapgraph.sym.solve.underdetermined",
                    "cannot solve " + detail::equation_text(lhs, rhs) + ": " +
                        std::to_string(unknowns.size()) + " unknown symbols (" + names + ")");
  }
  return {unknowns[0], solve_for(lhs, rhs, unknowns[0])};
}

}  // namespace wrapgraph::sym

#pragma once
/// Free symbols of an expression and substitution of expressions for
/// symbols (or for any subexpression), re-canonicalised.

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/expr.hpp>

namespace wrapgraph::sym {

/// The symbols that occur in `e`, in canonical order, each once.
[[nodiscard]] inline std::vector<expr> free_symbols(expr e) {
  std::vector<expr> symbols;
  std::unordered_set<expr> seen;
  std::vector<expr> stack{e};
  while (!stack.empty()) {
    const expr x = stack.back();
    stack.pop_back();
    if (!seen.insert(x).second) continue;
    if (x.is_symbol())
      symbols.push_back(x);
    else
      stack.insert(stack.end(), x.args().begin(), x.args().end());
  }
  std::sort(symbols.begin(), symbols.end(), expr_less{});
  return symbols;
}

/// True when `sub` occurs in `e` (as a node of its DAG).
[[nodiscard]] inline bool occurs_in(expr sub, expr e) {
  if (sub == e) return true;
  std::unordered_set<expr> seen;
  std::vector<expr> stack{e};
  while (!stack.empty()) {
    const expr x = stack.back();
    stack.pop_back();
    if (x == sub) return true;
    if (!seen.insert(x).second) continue;
    stack.insert(stack.end(), x.args().begin(), x.args().end());
  }
  return false;
}

/// `e` with every occurrence of a key of `replacements` replaced by its
/// value (simultaneously, not repeatedly), rebuilt in canonical form:
/// substitute(e, {s0: 2*s1}) and then canonicalisation, so the result is the
/// node of the substituted expression. Keys are usually symbols but may be
/// any subexpression.
[[nodiscard]] inline expr substitute(expr e, const std::unordered_map<expr, expr>& replacements) {
  if (replacements.empty()) return e;
  std::unordered_map<expr, expr> memo;
  context& ctx = e.owner();
  auto rebuild = [&](auto& self, expr x) -> expr {
    if (auto r = replacements.find(x); r != replacements.end()) return r->second;
    if (x.arity() == 0) return x;
    if (auto m = memo.find(x); m != memo.end()) return m->second;
    std::vector<expr> args;
    args.reserve(x.arity());
    bool changed = false;
    for (expr a : x.args()) {
      args.push_back(self(self, a));
      changed = changed || args.back() != a;
    }
    const expr result = changed ? ctx.make(x.kind(), args) : x;
    memo.emplace(x, result);
    return result;
  };
  return rebuild(rebuild, e);
}

/// As above, for a few replacements given as (key, value) pairs: keys are
/// searched in order, so the first pair of a key wins, and nothing is hashed
/// or allocated for the small expressions of grids and sizes.
[[nodiscard]] inline expr substitute(expr e, std::span<const std::pair<expr, expr>> replacements) {
  if (replacements.empty() || e.is_integer()) return e;
  auto replacement = [&](expr x) -> expr {
    for (const auto& [key, value] : replacements)
      if (key == x) return value;
    return {};
  };
  detail::small_vector<std::pair<expr, expr>> memo;
  context& ctx = e.owner();
  auto rebuild = [&](auto& self, expr x) -> expr {
    if (const expr r = replacement(x)) return r;
    if (x.arity() == 0) return x;
    for (const auto& [done, result] : memo)
      if (done == x) return result;
    detail::small_vector<expr> args;
    bool changed = false;
    for (expr a : x.args()) {
      args.push_back(self(self, a));
      changed = changed || args.back() != a;
    }
    const expr result = changed ? ctx.make(x.kind(), std::span<const expr>(args.data(), args.size())) : x;
    memo.emplace_back(x, result);
    return result;
  };
  return rebuild(rebuild, e);
}

/// `e` with the symbols that `b` binds replaced by their values; the other
/// symbols stay (partial evaluation).
[[nodiscard]] inline expr substitute(expr e, const bindings& b) {
  std::unordered_map<expr, expr> replacements;
  for (expr s : free_symbols(e)) {
    if (const auto v = b.find(s.name())) replacements.emplace(s, e.owner().integer(*v));
  }
  return substitute(e, replacements);
}

}  // namespace wrapgraph::sym

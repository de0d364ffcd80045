#pragma once
/// Seeded generators of random expressions for the sym tests: canonical
/// exprs built through a context (random_expr_generator) and uncanonical
/// expression text with its own tree (random_text_generator).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/expr.hpp>

namespace wrapgraph::sym::testing {

/// splitmix64: the same numbers on every platform and standard library.
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi] (the tiny modulo bias does not matter here).
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  /// True with probability percent/100.
  bool chance(int percent) { return between(0, 99) < percent; }
  template <class T>
  const T& pick(std::span<const T> items) {
    return items[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(items.size()) - 1))];
  }

 private:
  std::uint64_t state_;
};

/// The symbols of the generated expressions: the first letter says the
/// assumptions (s: positive, u: nonnegative, z: any integer), which the
/// sympy cross-check reads back from the name.
struct symbol_spec {
  std::string_view name;
  assumptions assumed;
  std::int64_t lo, hi;  // the range random bindings draw from
};

inline constexpr symbol_spec test_symbols[] = {
    {"s0", positive, 1, 50},
    {"s1", positive, 1, 50},
    {"s2", positive, 1, 50},
    {"u0", nonnegative, 0, 50},
    {"z0", any_integer, -50, 50},
};

/// Declares the test symbols in `ctx` with their assumptions.
inline void declare_test_symbols(context& ctx) {
  for (const symbol_spec& s : test_symbols) ctx.symbol(s.name, s.assumed);
}

/// Values for the test symbols, each drawn from its spec's range cut to
/// [-cap, cap].
inline bindings random_bindings(random_source& rng, std::int64_t cap = 50) {
  bindings b;
  for (const symbol_spec& s : test_symbols)
    b.set(s.name, rng.between(std::max(s.lo, -cap), std::min(s.hi, cap)));
  return b;
}

/// Random canonical expressions of every kind, built through a context.
/// Divisors are never zero under the symbols' assumptions (nonzero constants,
/// or expressions of positive symbols that are >= 1), so evaluating never
/// divides by zero. The same seed gives the same sequence in every context.
class random_expr_generator {
 public:
  random_expr_generator(context& ctx, std::uint64_t seed) : ctx_(ctx), rng_(seed) {
    declare_test_symbols(ctx);
  }

  /// One expression of at most `depth` levels of operations. A draw that
  /// the context refuses while folding constants (int64 overflow, CleanDiv of
  /// a constant that does not divide) is replaced by the next draw.
  expr operator()(int depth = 4) {
    return retry([&] { return any(depth); });
  }

  /// A true quotient such as (s0 + 1)/(2*s1): usually expr_kind::rational,
  /// or an integer expression where the division cancels.
  expr quotient(int depth = 3) {
    return retry([&] { return any_quotient(depth); });
  }

  random_source& rng() { return rng_; }

 private:
  expr symbol() {
    const auto& s = rng_.pick(std::span<const symbol_spec>(test_symbols));
    return ctx_.symbol(s.name, s.assumed);
  }
  expr positive_symbol() { return ctx_.symbol(test_symbols[rng_.between(0, 2)].name, positive); }

  expr leaf() {
    if (rng_.chance(60)) return symbol();
    if (rng_.chance(10)) return ctx_.integer(rng_.between(-1000, 1000));
    return ctx_.integer(rng_.between(-9, 9));
  }

  // A symbol, a small constant or a sum of two of them: a base of a power.
  expr small() {
    auto one = [&] { return rng_.chance(70) ? symbol() : ctx_.integer(rng_.between(-9, 9)); };
    return rng_.chance(25) ? ctx_.add(one(), one()) : one();
  }

  // An expression >= 1 whatever the (assumption-respecting) binding.
  expr positive_expr(int depth) {
    if (depth <= 0) return rng_.chance(50) ? positive_symbol() : ctx_.integer(rng_.between(1, 16));
    switch (rng_.between(0, 7)) {
      case 0: return ctx_.integer(rng_.between(1, 64));
      case 1: return positive_symbol();
      case 2: return ctx_.add(positive_expr(depth - 1), positive_expr(depth - 1));
      case 3: return ctx_.mul(positive_expr(depth - 1), positive_expr(depth - 1));
      case 4: return ctx_.max(positive_expr(depth - 1), any(depth - 1));
      case 5: return ctx_.add(ctx_.abs(any(depth - 1)), ctx_.integer(1));
      case 6: return ctx_.ceil_div(positive_expr(depth - 1), positive_expr(depth - 1));
      default: return ctx_.pow(positive_symbol(), ctx_.integer(rng_.between(1, 2)));
    }
  }

  // A divisor that is never zero.
  expr divisor(int depth) {
    if (rng_.chance(40)) {
      std::int64_t c = rng_.between(1, 16);
      if (rng_.chance(20)) c = -c;
      return ctx_.integer(c);
    }
    const expr p = positive_expr(std::min(depth, 2));
    return rng_.chance(15) ? ctx_.neg(p) : p;
  }

  std::vector<expr> several(int depth, int lo, int hi) {
    std::vector<expr> out;
    const auto n = rng_.between(lo, hi);
    for (std::int64_t i = 0; i < n; ++i) out.push_back(any(depth));
    return out;
  }

  template <class Draw>
  static expr retry(Draw&& draw) {
    for (;;) {
      try {
        return draw();
      } catch (const sym_error& e) {
        if (!e.has_id("wrapgraph.sym.overflow") && !e.has_id("wrapgraph.sym.inexact_division")) throw;
      }
    }
  }

  // A quotient a/b for floor() or ceiling(), possibly with more terms.
  expr any_quotient(int depth) {
    expr q = ctx_.true_div(any(depth), divisor(depth));
    if (rng_.chance(25)) q = ctx_.add(q, any(depth));
    if (rng_.chance(15)) q = ctx_.true_div(q, divisor(depth));
    return q;
  }

  expr any(int depth) {
    if (depth <= 0 || rng_.chance(15)) return leaf();
    const int d = depth - 1;
    switch (rng_.between(0, 16)) {
      case 0:
      case 1: return ctx_.add(std::span<const expr>(several(d, 2, 4)));
      case 2: return ctx_.mul(std::span<const expr>(several(d, 2, 3)));
      case 3: return ctx_.neg(any(d));
      case 4: return ctx_.sub(any(d), any(d));
      case 5: return ctx_.pow(small(), ctx_.integer(rng_.between(0, 3)));
      case 6: return ctx_.floor_div(any(d), divisor(d));
      case 7: return ctx_.ceil_div(any(d), divisor(d));
      case 8: {
        // Exact most of the time: (a*b)/b; sometimes a constant divisor that
        // may not divide, which evaluates to wrapgraph.sym.inexact_division.
        if (rng_.chance(75)) {
          const expr b = divisor(d);
          return ctx_.clean_div(ctx_.mul(any(d), b), b);
        }
        return ctx_.clean_div(any(d), ctx_.integer(rng_.between(2, 5)));
      }
      case 9: return ctx_.mod(any(d), divisor(d));
      case 10: return ctx_.modular_indexing(any(d), divisor(d), divisor(d));
      case 11: return ctx_.min(std::span<const expr>(several(d, 1, 3)));
      case 12: return ctx_.max(std::span<const expr>(several(d, 1, 3)));
      case 13: return ctx_.abs(any(d));
      case 14: return ctx_.floor(any_quotient(d));
      case 15: return ctx_.ceiling(any_quotient(d));
      default: return ctx_.mul(ctx_.integer(rng_.between(-5, 5)), any(d));
    }
  }

  context& ctx_;
  random_source rng_;
};

/// A tree of expression text as written, before any canonicalisation: the
/// test's own model of what a text means, evaluated independently of sym.
struct text_tree {
  enum class op_kind {
    literal, symbol,                   // value / name
    add, sub, mul, floor_div, mod, true_div, power,  // infix operators
    neg, plus,                         // unary
    call,                              // name(args...)
  };
  op_kind op;
  std::int64_t value = 0;
  std::string name;  // symbol or function name
  std::vector<std::unique_ptr<text_tree>> args;
};

/// Random uncanonical expression text: redundant `+ 0` and `*1`, repeated and
/// unsorted terms, nested Min/Max, divisors that may be zero at some
/// bindings or fold to 0, Python operators next to the named functions, and
/// parentheses either minimal (by Python precedence) or redundant.
/// `/` appears only inside floor(...) and ceiling(...).
class random_text_generator {
 public:
  explicit random_text_generator(std::uint64_t seed) : rng_(seed) {}

  /// A tree and its text.
  std::pair<std::unique_ptr<text_tree>, std::string> operator()(int depth = 4) {
    auto tree = integer_tree(depth);
    std::string text;
    render(*tree, text);
    return {std::move(tree), std::move(text)};
  }

  random_source& rng() { return rng_; }

 private:
  using op_kind = text_tree::op_kind;
  using node_ptr = std::unique_ptr<text_tree>;

  static node_ptr make(op_kind op, std::vector<node_ptr> args = {}) {
    auto n = std::make_unique<text_tree>();
    n->op = op;
    n->args = std::move(args);
    return n;
  }
  static node_ptr literal(std::int64_t v) {
    auto n = make(op_kind::literal);
    n->value = v;
    return n;
  }
  static node_ptr call(std::string name, std::vector<node_ptr> args) {
    auto n = make(op_kind::call, std::move(args));
    n->name = std::move(name);
    return n;
  }
  static std::vector<node_ptr> list(node_ptr a) {
    std::vector<node_ptr> v;
    v.push_back(std::move(a));
    return v;
  }
  static std::vector<node_ptr> list(node_ptr a, node_ptr b) {
    std::vector<node_ptr> v = list(std::move(a));
    v.push_back(std::move(b));
    return v;
  }
  static std::vector<node_ptr> list(node_ptr a, node_ptr b, node_ptr c) {
    std::vector<node_ptr> v = list(std::move(a), std::move(b));
    v.push_back(std::move(c));
    return v;
  }

  node_ptr leaf() {
    if (rng_.chance(55)) {
      auto n = make(op_kind::symbol);
      n->name = rng_.pick(std::span<const symbol_spec>(test_symbols)).name;
      return n;
    }
    return literal(rng_.chance(15) ? rng_.between(-200, 200) : rng_.between(-4, 6));
  }

  node_ptr divisor(int depth) {
    if (rng_.chance(30)) return literal(rng_.chance(85) ? rng_.between(1, 9) : rng_.between(-9, -1));
    if (rng_.chance(3)) return literal(0);  // a constant zero divisor
    return integer_tree(std::min(depth, 2));
  }

  node_ptr binary(op_kind op, node_ptr a, node_ptr b) { return make(op, list(std::move(a), std::move(b))); }

  node_ptr integer_tree(int depth) {
    if (depth <= 0 || rng_.chance(12)) return leaf();
    const int d = depth - 1;
    switch (rng_.between(0, 21)) {
      case 0: return binary(op_kind::add, integer_tree(d), integer_tree(d));
      case 1: return binary(op_kind::sub, integer_tree(d), integer_tree(d));
      case 2: return binary(op_kind::mul, integer_tree(d), integer_tree(d));
      case 3: return binary(op_kind::add, integer_tree(d), literal(0));        // x + 0
      case 4: return binary(op_kind::mul, literal(1), integer_tree(d));        // 1*x
      case 5: {                                                                // x + c*x
        auto x = integer_tree(std::min(d, 2));
        auto copy = clone(*x);
        return binary(op_kind::add, std::move(x),
                      binary(op_kind::mul, literal(rng_.between(-3, 3)), std::move(copy)));
      }
      case 6: return binary(op_kind::floor_div, integer_tree(d), divisor(d));
      case 7: return binary(op_kind::mod, integer_tree(d), divisor(d));
      case 8: return make(op_kind::neg, list(integer_tree(d)));
      case 9: return make(rng_.chance(80) ? op_kind::neg : op_kind::plus, list(integer_tree(d)));
      case 10: return binary(op_kind::power, integer_tree(std::min(d, 1)), literal(rng_.between(0, 3)));
      case 11: return call(rng_.chance(50) ? "FloorDiv" : "CeilDiv", list(integer_tree(d), divisor(d)));
      case 12: {
        // CleanDiv(a*b, b) is exact; CleanDiv(a, c) may not be.
        if (rng_.chance(70)) {
          auto b = divisor(d);
          auto copy = clone(*b);
          return call("CleanDiv", list(binary(op_kind::mul, integer_tree(d), std::move(b)), std::move(copy)));
        }
        return call("CleanDiv", list(integer_tree(d), literal(rng_.between(1, 4))));
      }
      case 13: return call(rng_.chance(50) ? "Mod" : "PythonMod", list(integer_tree(d), divisor(d)));
      case 14: return call("ModularIndexing", list(integer_tree(d), divisor(d), divisor(d)));
      case 15:
      case 16: {
        std::vector<node_ptr> args;
        const auto n = rng_.between(1, 4);
        for (std::int64_t i = 0; i < n; ++i) {
          if (i > 0 && rng_.chance(20))
            args.push_back(clone(*args.front()));  // a duplicate argument
          else
            args.push_back(integer_tree(d));
        }
        return call(rng_.chance(50) ? "Min" : "Max", std::move(args));
      }
      case 17: return call("Abs", list(integer_tree(d)));
      case 18:
      case 19: return call(rng_.chance(50) ? "floor" : "ceiling", list(rational_tree(d)));
      case 20: return call(rng_.chance(50) ? "floor" : "ceiling", list(integer_tree(d)));
      default: return binary(op_kind::mul, literal(rng_.between(-4, 4)),
                             binary(op_kind::add, integer_tree(d), integer_tree(d)));
    }
  }

  // A quotient, for floor/ceiling: a/b, q + x, q*c, q/b, -q.
  node_ptr rational_tree(int depth) {
    node_ptr q = binary(op_kind::true_div, integer_tree(depth), divisor(depth));
    switch (rng_.between(0, 5)) {
      case 0: return binary(op_kind::add, std::move(q), integer_tree(depth));
      case 1: return binary(op_kind::mul, std::move(q), literal(rng_.between(-3, 3)));
      case 2: return binary(op_kind::true_div, std::move(q), divisor(depth));
      case 3: return make(op_kind::neg, list(std::move(q)));
      default: return q;
    }
  }

  static node_ptr clone(const text_tree& t) {
    auto n = std::make_unique<text_tree>();
    n->op = t.op;
    n->value = t.value;
    n->name = t.name;
    for (const auto& a : t.args) n->args.push_back(clone(*a));
    return n;
  }

  // Python binding strength of what a node renders as.
  static int strength(const text_tree& t) {
    switch (t.op) {
      case op_kind::literal: return t.value < 0 ? 3 : 5;
      case op_kind::symbol:
      case op_kind::call: return 5;
      case op_kind::add:
      case op_kind::sub: return 1;
      case op_kind::mul:
      case op_kind::floor_div:
      case op_kind::mod:
      case op_kind::true_div: return 2;
      case op_kind::neg:
      case op_kind::plus: return 3;
      case op_kind::power: return 4;
    }
    return 0;
  }

  void operand(const text_tree& t, int needed, std::string& out) {
    const bool parens = strength(t) < needed || rng_.chance(10);
    if (parens) out += '(';
    render(t, out);
    if (parens) out += ')';
  }

  void space(std::string& out) {
    if (rng_.chance(50)) out += ' ';
  }

  void render(const text_tree& t, std::string& out) {
    static constexpr std::string_view infix[] = {"", "", "+", "-", "*", "//", "%", "/", "**"};
    switch (t.op) {
      case op_kind::literal: out += std::to_string(t.value); return;
      case op_kind::symbol: out += t.name; return;
      case op_kind::neg:
      case op_kind::plus:
        out += t.op == op_kind::neg ? '-' : '+';
        operand(*t.args[0], 3, out);
        return;
      case op_kind::power:
        // power := primary '**' unary: the base must be an atom.
        operand(*t.args[0], 5, out);
        out += "**";
        operand(*t.args[1], 3, out);
        return;
      case op_kind::call: {
        out += t.name;
        out += '(';
        for (std::size_t i = 0; i < t.args.size(); ++i) {
          if (i > 0) out += ", ";
          render(*t.args[i], out);
        }
        out += ')';
        return;
      }
      default: {
        // Left-associative operators: the right operand binds tighter.
        const int s = strength(t);
        operand(*t.args[0], s, out);
        space(out);
        out += infix[static_cast<int>(t.op)];
        space(out);
        operand(*t.args[1], s + 1, out);
        return;
      }
    }
  }

  random_source rng_;
};

}  // namespace wrapgraph::sym::testing

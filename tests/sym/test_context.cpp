// Tests of include/wrapgraph/sym/context.hpp: interning, canonical form and
// its laws.

#include <doctest/doctest.h>

#include <array>
#include <optional>
#include <random>
#include <vector>

#include <wrapgraph/sym/context.hpp>

#include "../support.hpp"
#include <wrapgraph/sym/eval.hpp>

using namespace wrapgraph;
using namespace wrapgraph::sym;

using wrapgraph::test::error_id;

TEST_CASE("sym::context interns equal expressions as one node") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive);
  CHECK(ctx.integer(5) == ctx.integer(5));
  CHECK(ctx.integer(123456789012) == ctx.integer(123456789012));
  CHECK(ctx.symbol("s0", positive) == s0);
  CHECK(2 * s0 + s1 == s1 + s0 * 2);
  CHECK((2 * s0 + s1).hash() == (s1 + s0 * 2).hash());
  const std::size_t before = ctx.node_count();
  (void)(2 * s0 + s1);
  CHECK(ctx.node_count() == before);
}

TEST_CASE("sym::context prints and hashes an expression alike in every context") {
  context a, b;
  auto build = [](context& ctx) {
    const expr x = ctx.symbol("x"), y = ctx.symbol("y", nonnegative);
    return floor_div(3 * x + y * y, 4) + max(x, y) - mod(x, 7);
  };
  const expr ea = build(a), eb = build(b);
  CHECK(to_string(ea) == to_string(eb));
  CHECK(ea.hash() == eb.hash());
}

TEST_CASE("sym::context rejects a symbol redeclared with other assumptions") {
  context ctx;
  (void)ctx.symbol("s0", positive);
  CHECK(error_id([&] { (void)ctx.symbol("s0", nonnegative); }) == "wrapgraph.sym.symbol_redeclared");
  CHECK(error_id([&] { (void)ctx.symbol("0s"); }) == "wrapgraph.sym.invalid_symbol_name");
  CHECK(error_id([&] { (void)ctx.symbol(""); }) == "wrapgraph.sym.invalid_symbol_name");
  CHECK(ctx.find_symbol("s0") == ctx.symbol("s0", positive));
  CHECK(ctx.find_symbol("s9").is_null());
  CHECK(ctx.symbols().size() == 1);
  CHECK(ctx.symbols()[0].symbol_id() == 0);
}

TEST_CASE("sym::context collects like terms and folds constants in sums") {
  context ctx;
  const expr s0 = ctx.symbol("s0"), s1 = ctx.symbol("s1");
  CHECK(s0 + s0 == 2 * s0);
  CHECK(s0 + 0 == s0);
  CHECK(s0 - s0 == ctx.integer(0));
  CHECK((s0 + 1) + (s1 + 2) == s0 + s1 + 3);
  CHECK(to_string(s1 + 4 + s0 * s1 + s0) == "s0 + s1 + s0*s1 + 4");
  CHECK(to_string(3 - s0) == "-s0 + 3");
  CHECK(2 * (s0 + 1) == 2 * s0 + 2);
  CHECK(-(s0 - s1) == s1 - s0);
}

TEST_CASE("sym::context merges powers and orders factors in products") {
  context ctx;
  const expr s0 = ctx.symbol("s0"), s1 = ctx.symbol("s1");
  CHECK(s0 * s0 == pow(s0, 2));
  CHECK(to_string(s1 * s0 * s0 * 3) == "3*s0**2*s1");
  CHECK(s0 * 1 == s0);
  CHECK(s0 * 0 == ctx.integer(0));
  CHECK(pow(s0, 0) == ctx.integer(1));
  CHECK(pow(s0, 1) == s0);
  CHECK(pow(pow(s0, 2), 3) == pow(s0, 6));
  CHECK(pow(2 * s0 * s1, 2) == 4 * pow(s0, 2) * pow(s1, 2));
  CHECK(pow(ctx.integer(3), 4) == ctx.integer(81));
  CHECK(pow(s0, 2) * pow(s0, 3) == pow(s0, 5));
  // A product of sums is not expanded (as sympy), only an integer distributes.
  CHECK(to_string((s0 + 1) * (s1 + 1)) == "(s0 + 1)*(s1 + 1)");
}

TEST_CASE("sym::context simplifies FloorDiv by the laws of floor division") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), s1 = ctx.symbol("s1", positive), x = ctx.symbol("x");
  SUBCASE("floor_div(8*s0, 8) is s0") { CHECK(floor_div(8 * s0, 8) == s0); }
  SUBCASE("a//1 = a, a//-1 = -a, 0//b = 0") {
    CHECK(floor_div(x, 1) == x);
    CHECK(floor_div(x, -1) == -x);
    CHECK(floor_div(0, x) == ctx.integer(0));
  }
  SUBCASE("constants fold with Python semantics") {
    CHECK(floor_div(ctx.integer(-7), 2) == ctx.integer(-4));
    CHECK(floor_div(ctx.integer(7), -2) == ctx.integer(-4));
  }
  SUBCASE("(q*b + r)//b = q + r//b") {
    CHECK(floor_div(8 * x + 3, 8) == x);
    CHECK(floor_div(8 * x + 16 + s0, 8) == x + 2 + floor_div(s0, 8));
    CHECK(floor_div(s0 * s1 + x, s1) == s0 + floor_div(x, s1));
  }
  SUBCASE("(g*a)//(g*b) = a//b") { CHECK(floor_div(6 * x + 4, 10) == floor_div(3 * x + 2, 5)); }
  SUBCASE("a//(-b) = (-a)//b") { CHECK(floor_div(x, -3) == floor_div(-x, 3)); }
  SUBCASE("(a//b)//c = a//(b*c) for positive b and c") {
    CHECK(floor_div(floor_div(x, 4), 8) == floor_div(x, 32));
    CHECK(floor_div(floor_div(x, s0), s1) == floor_div(x, s0 * s1));
  }
  SUBCASE("0 <= a < b gives 0") { CHECK(floor_div(mod(x, 8), 8) == ctx.integer(0)); }
  SUBCASE("a symbolic divisor that may be zero keeps the division") {
    const expr y = ctx.symbol("y");
    CHECK(floor_div(x * y, y).is(expr_kind::floor_div));
  }
}

TEST_CASE("sym::context simplifies CeilDiv, CleanDiv and Mod") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), x = ctx.symbol("x");
  CHECK(ceil_div(ctx.integer(7), 2) == ctx.integer(4));
  CHECK(ceil_div(ctx.integer(-7), 2) == ctx.integer(-3));
  CHECK(ceil_div(128 * x + 1, 128) == x + ceil_div(ctx.integer(1), 128));
  CHECK(ceil_div(s0, s0) == ctx.integer(1));
  CHECK(clean_div(6 * s0, 3) == 2 * s0);
  CHECK(clean_div(ctx.integer(12), 4) == ctx.integer(3));
  CHECK(error_id([&] { (void)clean_div(ctx.integer(7), 2); }) == "wrapgraph.sym.inexact_division");
  CHECK(mod(ctx.integer(-7), 3) == ctx.integer(2));
  CHECK(mod(ctx.integer(7), -3) == ctx.integer(-2));
  CHECK(mod(9 * x + 17, 8) == mod(x + 1, 8));
  CHECK(mod(2 * x, 4) == 2 * mod(x, 2));
  CHECK(mod(mod(x, 8), 4) == mod(x, 4));
  CHECK(mod(x, 1) == ctx.integer(0));
  CHECK(mod(mod(x, 8), 16) == mod(x, 8));  // 0 <= a < b gives a
  CHECK(mod(s0 * x + 3, s0) == mod(ctx.integer(3), s0));
}

TEST_CASE("sym::context simplifies ModularIndexing, Min, Max and Abs") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), n = ctx.symbol("n", nonnegative), x = ctx.symbol("x");
  CHECK(modular_indexing(x, 1, 8) == mod(x, 8));
  CHECK(modular_indexing(x, 4, 1) == ctx.integer(0));
  CHECK(modular_indexing(mod(n, 16), 4, 4) == floor_div(mod(n, 16), 4));
  CHECK(modular_indexing(ctx.integer(37), 4, 8) == ctx.integer(1));
  CHECK(min(s0, 1) == ctx.integer(1));
  CHECK(max(s0, 0) == s0);
  CHECK(max(n, 0) == n);
  CHECK(min(x, x) == x);
  CHECK(min(min(x, s0), 3) == min(x, min(s0, 3)));
  CHECK(max(ctx.integer(3), ctx.integer(9)) == ctx.integer(9));
  CHECK(abs(s0) == s0);
  CHECK(abs(-s0) == s0);
  CHECK(abs(-2 * x) == 2 * abs(x));
  CHECK(abs(ctx.integer(-4)) == ctx.integer(4));
  CHECK(error_id([&] { (void)ctx.min(std::span<const expr>{}); }) == "wrapgraph.sym.empty_min_max");
}

TEST_CASE("sym::floor rewrites every case of the reference's replace_floor_div") {
  context ctx;
  const expr x = ctx.symbol("x"), y = ctx.symbol("y"), z = ctx.symbol("z");
  const expr px = ctx.symbol("px", positive);
  SUBCASE("floor(x/y) is FloorDiv(x, y)") {
    const expr r = floor(true_div(x, y));
    REQUIRE(r.is(expr_kind::floor_div));
    CHECK(r.arg(0) == x);
    CHECK(r.arg(1) == y);
  }
  SUBCASE("floor(x/5) is FloorDiv(x, 5)") { CHECK(floor(true_div(x, 5)) == floor_div(x, 5)); }
  SUBCASE("x/y without floor stays a quotient") {
    const expr q = true_div(x, y);
    CHECK(q.is(expr_kind::rational));
    CHECK(to_string(q) == "x/y");
  }
  SUBCASE("nested floors give two FloorDivs") {
    const expr r = floor(true_div(floor(true_div(x, 5)) + 1, y));
    CHECK(r == floor_div(floor_div(x, 5) + 1, y));
  }
  SUBCASE("floor(1/5) is 0") { CHECK(floor(true_div(ctx.integer(1), 5)) == ctx.integer(0)); }
  SUBCASE("2*floor(x/2) is not distributed") {
    const expr r = 2 * floor(true_div(x, 2));
    CHECK(r.is(expr_kind::mul));
    CHECK(r == 2 * floor_div(x, 2));
  }
  SUBCASE("floor((x/5) * y**2 * z**3) has one FloorDiv") {
    CHECK(floor(true_div(x, 5) * pow(y, 2) * pow(z, 3)) == floor_div(x * pow(y, 2) * pow(z, 3), 5));
  }
  SUBCASE("floor(2**-x) puts 2**x in the denominator") {
    const expr r = floor(pow(ctx.integer(2), -px));
    REQUIRE(r.is(expr_kind::floor_div));
    CHECK(r.arg(0) == ctx.integer(1));
    CHECK(r.arg(1) == pow(ctx.integer(2), px));
  }
  SUBCASE("floor(x/128 + y/128) is FloorDiv(x + y, 128), as sympy.together") {
    CHECK(floor(true_div(x, 128) + true_div(y, 128)) == floor_div(x + y, 128));
  }
  SUBCASE("a launch grid from padding with dynamic shapes") {
    const expr r = floor(true_div(-floor_div(x * y, 2), floor_div(-x * y, 131070)));
    CHECK(r == floor_div(-floor_div(x * y, 2), floor_div(-x * y, 131070)));
  }
  SUBCASE("ceiling(a/b) is CeilDiv(a, b)") { CHECK(ceiling(true_div(x + 127, 128)) == ceil_div(x + 127, 128)); }
  SUBCASE("floor of an integer expression is the expression") { CHECK(floor(x + 1) == x + 1); }
}

TEST_CASE("sym::context reports bad constructions with their ids") {
  context ctx;
  const expr x = ctx.symbol("x");
  CHECK(error_id([&] { (void)floor_div(x, 0); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)mod(x, 0); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)ceil_div(x, 0); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)true_div(x, 0); }) == "wrapgraph.sym.division_by_zero");
  CHECK(error_id([&] { (void)(ctx.integer(INT64_MAX) + 1); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)(ctx.integer(INT64_MIN) * -1); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)pow(ctx.integer(10), 19); }) == "wrapgraph.sym.overflow");
  CHECK(error_id([&] { (void)floor_div(true_div(x, 3), 2); }) == "wrapgraph.sym.rational_operand");
  CHECK(error_id([&] { (void)(x + (std::uint64_t{1} << 63)); }) == "wrapgraph.sym.overflow");
}

TEST_CASE("sym::context keeps value ranges that follow the assumptions") {
  context ctx;
  const expr s0 = ctx.symbol("s0", positive), n = ctx.symbol("n", nonnegative), x = ctx.symbol("x");
  CHECK(s0.range().lo == 1);
  CHECK(n.range().lo == 0);
  CHECK((s0 * n + 1).range().lo == 1);
  CHECK(mod(x, 8).range() == value_range{0, 7});
  CHECK(abs(x).is_nonnegative());
  CHECK(!x.range().is_nonnegative());
  CHECK(floor_div(n, 4).is_nonnegative());
}

// ---- laws -------------------------------------------------------------------

namespace {

// Python semantics on plain integers, the independent reference of the law
// below (no overflow: values stay small).
std::optional<std::int64_t> ref_floordiv(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  std::int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}
std::optional<std::int64_t> ref_mod(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

constexpr int bindings_per_expr = 6;
using values = std::array<std::optional<std::int64_t>, bindings_per_expr>;

// An expression built through the context together with its value at each of
// a few bindings, computed step by step with plain integer arithmetic.
struct tracked {
  expr e;
  values v;
};

class law_generator {
 public:
  law_generator(context& ctx, std::uint32_t seed) : ctx_(ctx), rng_(seed) {
    const assumptions kinds[] = {positive, nonnegative, any_integer};
    for (int i = 0; i < 4; ++i) {
      syms_.push_back(ctx.symbol("s" + std::to_string(i), kinds[i % 3]));
      for (int b = 0; b < bindings_per_expr; ++b) {
        const std::int64_t lo = kinds[i % 3] == positive ? 1 : (kinds[i % 3] == nonnegative ? 0 : -9);
        binding_values_[b].push_back(std::uniform_int_distribution<std::int64_t>(lo, 9)(rng_));
      }
    }
  }

  bindings binding(int b) const {
    bindings out;
    for (std::size_t i = 0; i < syms_.size(); ++i) out.set(syms_[i], binding_values_[b][i]);
    return out;
  }

  tracked generate(int depth) {
    if (depth == 0 || pick(4) == 0) return leaf();
    const tracked a = generate(depth - 1), b = generate(depth - 1);
    switch (pick(10)) {
      case 0: return combine(a.e + b.e, a, b, [](auto x, auto y) { return x + y; });
      case 1: return combine(a.e - b.e, a, b, [](auto x, auto y) { return x - y; });
      case 2: return combine(a.e * b.e, a, b, [](auto x, auto y) { return x * y; });
      case 3: {
        const std::int64_t c = pick(7) + 2;
        return combine(floor_div(a.e, c), a, a, [c](auto x, auto) { return ref_floordiv(x, c); });
      }
      case 4: {
        const std::int64_t c = pick(7) + 2;
        return combine(mod(a.e, c), a, a, [c](auto x, auto) { return ref_mod(x, c); });
      }
      case 5: {
        const std::int64_t c = static_cast<std::int64_t>(pick(5)) - 2;
        return combine(a.e * c + b.e, a, b, [c](auto x, auto y) { return x * c + y; });
      }
      case 6: return combine(min(a.e, b.e), a, b, [](auto x, auto y) { return std::min(x, y); });
      case 7: return combine(max(a.e, b.e), a, b, [](auto x, auto y) { return std::max(x, y); });
      case 8: return combine(abs(a.e), a, a, [](auto x, auto) { return x < 0 ? -x : x; });
      default: {
        // A positive symbolic divisor: s0 is positive.
        const expr d = syms_[0] + 1;
        tracked dt{d, {}};
        for (int k = 0; k < bindings_per_expr; ++k) dt.v[k] = binding_values_[k][0] + 1;
        return combine(floor_div(a.e, d), a, dt, [](auto x, auto y) { return ref_floordiv(x, y); });
      }
    }
  }

 private:
  std::uint32_t pick(std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_); }

  tracked leaf() {
    tracked t;
    if (pick(3) == 0) {
      const std::int64_t c = static_cast<std::int64_t>(pick(11)) - 5;
      t.e = ctx_.integer(c);
      t.v.fill(c);
      return t;
    }
    const std::size_t i = pick(static_cast<std::uint32_t>(syms_.size()));
    t.e = syms_[i];
    for (int b = 0; b < bindings_per_expr; ++b) t.v[b] = binding_values_[b][i];
    return t;
  }

  template <class F>
  tracked combine(expr e, const tracked& a, const tracked& b, F f) {
    tracked t{e, {}};
    for (int k = 0; k < bindings_per_expr; ++k) {
      if (!a.v[k] || !b.v[k]) continue;
      t.v[k] = std::optional<std::int64_t>(f(*a.v[k], *b.v[k]));
    }
    return t;
  }

  context& ctx_;
  std::mt19937 rng_;
  std::vector<expr> syms_;
  std::array<std::vector<std::int64_t>, bindings_per_expr> binding_values_{};
};

}  // namespace

TEST_CASE("sym::context canonicalisation preserves the value of every expression (law)") {
  int checked = 0;
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    context ctx;
    law_generator gen(ctx, seed);
    for (int i = 0; i < 40; ++i) {
      const tracked t = gen.generate(4);
      for (int k = 0; k < bindings_per_expr; ++k) {
        if (!t.v[k]) continue;  // the reference divided by zero (cannot happen here)
        INFO("expression: " << to_string(t.e) << ", seed " << seed);
        CHECK(evaluate(t.e, gen.binding(k)) == *t.v[k]);
        ++checked;
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("sym::context builds the same node however equal inputs are ordered (law)") {
  context ctx;
  std::mt19937 rng(7);
  law_generator gen(ctx, 99);
  for (int i = 0; i < 300; ++i) {
    std::vector<expr> terms;
    for (int k = 0; k < 5; ++k) terms.push_back(gen.generate(2).e);
    const expr sum = ctx.add(terms), product = ctx.mul(terms), minimum = ctx.min(terms);
    std::shuffle(terms.begin(), terms.end(), rng);
    CHECK(ctx.add(terms) == sum);
    CHECK(ctx.mul(terms) == product);
    CHECK(ctx.min(terms) == minimum);
    // ((a + b) + c) + ... equals the n-ary sum
    expr folded = terms[0];
    for (std::size_t k = 1; k < terms.size(); ++k) folded = folded + terms[k];
    CHECK(folded == sum);
    // equal implies same hash; same node implies equal text
    CHECK(folded.hash() == sum.hash());
    CHECK(to_string(folded) == to_string(sum));
  }
}

TEST_CASE("sym::context folds powers of 0, 1 and -1 exactly") {
  context ctx;
  for (std::int64_t n = 0; n <= 9; ++n) {
    CHECK(pow(ctx.integer(0), n) == ctx.integer(n == 0 ? 1 : 0));
    CHECK(pow(ctx.integer(1), n) == ctx.integer(1));
    CHECK(pow(ctx.integer(-1), n) == ctx.integer(n % 2 == 0 ? 1 : -1));
    CHECK(pow(ctx.integer(-2), n) == ctx.integer(n % 2 == 0 ? (1 << n) : -(1 << n)));
  }
  CHECK(pow(ctx.integer(-1), std::int64_t{1} << 62) == ctx.integer(1));
}

TEST_CASE("sym::context gives Abs(x) and Abs(-x) one node") {
  context ctx;
  const expr s1 = ctx.symbol("s1"), s2 = ctx.symbol("s2", nonnegative);
  const expr x = floor_div(s1, 3) - s2;
  CHECK(abs(x) == abs(-x));
  CHECK(abs(s1 - s2) == abs(s2 - s1));
}

TEST_CASE("sym::context subtracts integer constants without a spurious overflow") {
  context ctx;
  CHECK(ctx.integer(-1) - ctx.integer(INT64_MIN) == ctx.integer(INT64_MAX));
  CHECK(error_id([&] { (void)(ctx.integer(0) - ctx.integer(INT64_MIN)); }) == "wrapgraph.sym.overflow");
}

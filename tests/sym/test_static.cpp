// Tests of include/wrapgraph/sym/static.hpp: expression templates.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <wrapgraph/sym/static.hpp>

namespace sym = wrapgraph::sym;
using namespace wrapgraph::sym::literals;
using sym::constant;

namespace {

constexpr sym::var<"s0", sym::positive> s0;
constexpr sym::var<"s1"> s1;
constexpr sym::var<"s2", sym::nonnegative> s2;

template <class T, class U>
constexpr bool same = std::is_same_v<T, U>;

}  // namespace

// ---------------------------------------------------------------------------
// folding at compile time
// ---------------------------------------------------------------------------

TEST_CASE("constant<2> * constant<3> is the type constant<6>") {
  static_assert(same<decltype(constant<2>{} * constant<3>{}), constant<6>>);
  static_assert(same<decltype(2_c * 3_c), constant<6>>);
  static_assert(decltype(2_c * 3_c)::value == 6);
  CHECK(2_c * 3_c == 6);
}

TEST_CASE("every operation on constants folds to a constant with Python semantics") {
  static_assert(same<decltype(7_c + -9_c), constant<-2>>);
  static_assert(same<decltype(7_c - 9_c), constant<-2>>);
  static_assert(same<decltype(-7_c), constant<-7>>);
  static_assert(same<decltype(-7_c * 3_c), constant<-21>>);
  // floor division rounds towards -inf; the remainder has the divisor's sign
  static_assert(same<decltype(sym::floor_div(7_c, 2_c)), constant<3>>);
  static_assert(same<decltype(sym::floor_div(-7_c, 2_c)), constant<-4>>);
  static_assert(same<decltype(sym::floor_div(7_c, -2_c)), constant<-4>>);
  static_assert(same<decltype(sym::ceil_div(-7_c, 2_c)), constant<-3>>);
  static_assert(same<decltype(sym::ceil_div(7_c, 2_c)), constant<4>>);
  static_assert(same<decltype(sym::clean_div(-12_c, 4_c)), constant<-3>>);
  static_assert(same<decltype(sym::mod(-7_c, 2_c)), constant<1>>);
  static_assert(same<decltype(sym::mod(7_c, -2_c)), constant<-1>>);
  static_assert(same<decltype(sym::modular_indexing(-7_c, 2_c, 3_c)), constant<2>>);
  static_assert(same<decltype(sym::min(4_c, -1_c)), constant<-1>>);
  static_assert(same<decltype(sym::max(4_c, -1_c)), constant<4>>);
  static_assert(same<decltype(sym::abs(-5_c)), constant<5>>);
  static_assert(same<decltype(sym::pow<10>(-2_c)), constant<1024>>);
  static_assert(same<decltype(sym::pow(3_c, 4_c)), constant<81>>);
  static_assert(same<decltype(sym::pow<0>(0_c)), constant<1>>);
  static_assert(same<decltype(sym::pow<63>(-2_c)), constant<INT64_MIN>>);
  CHECK(true);
}

namespace {
// The compile-time fold of each operation on (A, B) next to the runtime
// form's fold of the same integers.
template <std::int64_t A, std::int64_t B>
std::vector<std::pair<std::int64_t, sym::expr>> folds_of(sym::context& ctx) {
  constexpr constant<A> a;
  constexpr constant<B> b;
  const sym::expr x = ctx.integer(A), y = ctx.integer(B);
  std::vector<std::pair<std::int64_t, sym::expr>> folds{
      {a + b, x + y}, {a - b, x - y}, {a * b, x * y}, {sym::min(a, b), sym::min(x, y)},
      {sym::max(a, b), sym::max(x, y)}, {sym::abs(a), sym::abs(x)}, {-a, -x}};
  if constexpr (B != 0) {
    folds.insert(folds.end(), {{sym::floor_div(a, b), sym::floor_div(x, y)},
                               {sym::ceil_div(a, b), sym::ceil_div(x, y)},
                               {sym::mod(a, b), sym::mod(x, y)},
                               {sym::modular_indexing(a, b, 5_c), sym::modular_indexing(x, y, 5)},
                               {sym::modular_indexing(a, 3_c, b), sym::modular_indexing(x, 3, y)}});
  }
  return folds;
}
}  // namespace

TEST_CASE("folding a constant pair agrees with the runtime form for every operation") {
  sym::context ctx;
  for (const auto& folds :
       {folds_of<7, 2>(ctx), folds_of<-7, 2>(ctx), folds_of<7, -2>(ctx), folds_of<-7, -2>(ctx),
        folds_of<0, 5>(ctx), folds_of<13, 0>(ctx), folds_of<-1, -1>(ctx), folds_of<INT64_MAX / 3, 2>(ctx),
        folds_of<INT64_MIN / 7, -7>(ctx), folds_of<1'000'000'007, 65'536>(ctx)}) {
    for (const auto& [typed, runtime] : folds) CHECK(runtime.is_integer(typed));
  }
}

TEST_CASE("identities are applied at the type level") {
  using x = sym::tree<sym::op_kind::floor_div, sym::var<"s1">, constant<3>>;
  constexpr x e = sym::floor_div(s1, 3_c);
  static_assert(same<std::remove_const_t<decltype(e)>, x>);

  static_assert(same<decltype(e + 0_c), x>);       // x + 0 = x
  static_assert(same<decltype(0_c + e), x>);       // 0 + x = x
  static_assert(same<decltype(e - 0_c), x>);       // x - 0 = x
  static_assert(same<decltype(e - e), constant<0>>);  // x - x = 0
  static_assert(same<decltype(0_c - e), sym::tree<sym::op_kind::neg, x>>);  // 0 - x = -x
  static_assert(same<decltype(-(-e)), x>);         // -(-x) = x
  static_assert(same<decltype(e * 0_c), constant<0>>);  // x*0 = 0
  static_assert(same<decltype(0_c * e), constant<0>>);  // 0*x = 0
  static_assert(same<decltype(e * 1_c), x>);       // x*1 = x
  static_assert(same<decltype(1_c * e), x>);       // 1*x = x
  static_assert(same<decltype(sym::floor_div(e, 1_c)), x>);
  static_assert(same<decltype(sym::ceil_div(e, 1_c)), x>);
  static_assert(same<decltype(sym::clean_div(e, 1_c)), x>);
  static_assert(same<decltype(sym::mod(e, 1_c)), constant<0>>);
  static_assert(same<decltype(sym::mod(e, -1_c)), constant<0>>);
  static_assert(same<decltype(sym::modular_indexing(e, 4_c, 1_c)), constant<0>>);
  static_assert(same<decltype(sym::modular_indexing(e, 1_c, 4_c)), decltype(sym::mod(e, 4_c))>);
  static_assert(same<decltype(sym::min(e, e)), x>);
  static_assert(same<decltype(sym::max(e, e)), x>);
  static_assert(same<decltype(sym::abs(sym::abs(e))), decltype(sym::abs(e))>);
  static_assert(same<decltype(sym::abs(-e)), decltype(sym::abs(e))>);
  static_assert(same<decltype(sym::pow<0>(e)), constant<1>>);
  static_assert(same<decltype(sym::pow<1>(e)), x>);
  // An int64 times 0_c is statically 0 as well.
  const std::int64_t n = 12;
  static_assert(same<decltype(n * 0_c), constant<0>>);
  CHECK(true);
}

TEST_CASE("a tree holding a run-time integer is not simplified as if its type were its value") {
  const std::int64_t n = 3, m = 4;
  const auto a = s1 * n, b = s1 * m;
  static_assert(same<decltype(a), decltype(b)>);
  static_assert(!same<decltype(a - b), constant<0>>);
  CHECK(sym::eval(a - b, s1 = 5) == -5);
  CHECK(sym::eval(sym::min(a, b), s1 = -1) == -4);
}

TEST_CASE("each identity agrees with the runtime form's canonicalisation") {
  sym::context ctx;
  // Each pair: the lowered typed result, the runtime operation on the lowering.
  const auto check_identities = [&](const auto& e) {
    const sym::expr x = sym::lower(ctx, e);
    const std::pair<sym::expr, sym::expr> laws[] = {
        {sym::lower(ctx, e + 0_c), x + 0},
        {sym::lower(ctx, 0_c + e), 0 + x},
        {sym::lower(ctx, e - 0_c), x - 0},
        {sym::lower(ctx, e - e), x - x},
        {sym::lower(ctx, 0_c - e), 0 - x},
        {sym::lower(ctx, -(-e)), -(-x)},
        {sym::lower(ctx, e * 0_c), x * 0},
        {sym::lower(ctx, 0_c * e), 0 * x},
        {sym::lower(ctx, e * 1_c), x * 1},
        {sym::lower(ctx, 1_c * e), 1 * x},
        {sym::lower(ctx, sym::floor_div(e, 1_c)), sym::floor_div(x, 1)},
        {sym::lower(ctx, sym::ceil_div(e, 1_c)), sym::ceil_div(x, 1)},
        {sym::lower(ctx, sym::clean_div(e, 1_c)), sym::clean_div(x, 1)},
        {sym::lower(ctx, sym::mod(e, 1_c)), sym::mod(x, 1)},
        {sym::lower(ctx, sym::mod(e, -1_c)), sym::mod(x, -1)},
        {sym::lower(ctx, sym::modular_indexing(e, 4_c, 1_c)), sym::modular_indexing(x, 4, 1)},
        {sym::lower(ctx, sym::modular_indexing(e, 4_c, -1_c)), sym::modular_indexing(x, 4, -1)},
        {sym::lower(ctx, sym::modular_indexing(e, 1_c, 4_c)), sym::modular_indexing(x, 1, 4)},
        {sym::lower(ctx, sym::min(e, e)), sym::min(x, x)},
        {sym::lower(ctx, sym::max(e, e)), sym::max(x, x)},
        {sym::lower(ctx, sym::abs(sym::abs(e))), sym::abs(sym::abs(x))},
        {sym::lower(ctx, sym::pow<0>(e)), sym::pow(x, 0)},
        {sym::lower(ctx, sym::pow<1>(e)), sym::pow(x, 1)},
    };
    for (const auto& [typed, runtime] : laws) CHECK(typed == runtime);
    // Abs(-x) = Abs(x) is checked by value: the runtime form keeps Abs(x)
    // and Abs(-x) apart for some sums (e.g. x = s1//3 - s2).
    for (const std::int64_t v : {-7, -1, 0, 1, 5, 12}) {
      const sym::bindings b{{"s0", v < 1 ? 1 - v : v}, {"s1", v}, {"s2", v < 0 ? -v : v}};
      CHECK(sym::evaluate(sym::lower(ctx, sym::abs(-e)), b) == sym::evaluate(sym::abs(-x), b));
    }
  };
  check_identities(s1);
  check_identities(s0 + 3_c);
  check_identities(sym::floor_div(s1, 3_c) - s2);
  check_identities(sym::mod(s1 * s0, 5_c));
}

TEST_CASE("a static tree is an empty type, a tree with run-time integers stores them") {
  static_assert(std::is_empty_v<decltype(2_c * s0 + 1_c)>);
  static_assert(std::is_empty_v<decltype(sym::modular_indexing(s0 * s1, 4_c, 8_c))>);
  const std::int64_t n = 5;
  static_assert(sizeof(s0 * n + 1_c) == sizeof(std::int64_t));
  CHECK((s0 * n).arg1.value == 5);
}

// ---------------------------------------------------------------------------
// the literal
// ---------------------------------------------------------------------------

TEST_CASE("_c makes constants from decimal, hexadecimal, binary and octal literals") {
  static_assert(same<decltype(8_c), constant<8>>);
  static_assert(same<decltype(0_c), constant<0>>);
  static_assert(same<decltype(0x1F_c), constant<31>>);
  static_assert(same<decltype(0b101_c), constant<5>>);
  static_assert(same<decltype(017_c), constant<15>>);
  static_assert(same<decltype(1'000'000_c), constant<1000000>>);
  static_assert(same<decltype(9223372036854775807_c), constant<INT64_MAX>>);
  static_assert(same<decltype(-9223372036854775807_c - 1_c), constant<INT64_MIN>>);
  static_assert(same<decltype(-8_c), constant<-8>>);
  constexpr std::int64_t eight = 8_c;
  CHECK(eight == 8);
}

// ---------------------------------------------------------------------------
// evaluation
// ---------------------------------------------------------------------------

TEST_CASE("eval with typed bindings is a constant expression for a static tree") {
  static_assert(sym::eval(2_c * s0 + 1_c, s0 = 8) == 17);
  static_assert(sym::eval(sym::floor_div(s1 * 3_c - 1_c, 2_c), s1 = -3) == -5);
  static_assert(sym::eval(sym::mod(s1, 4_c) + s2, s2 = 10, s1 = -1) == 13);
  static_assert(sym::eval(12_c) == 12);
  CHECK(sym::eval(sym::max(s0, s2) * s1, s0 = 3, s1 = -2, s2 = 7) == -14);
}

TEST_CASE("eval with run-time bindings finds values by name") {
  const sym::bindings b{{"s0", 4}, {"s1", -9}, {"s2", 0}};
  CHECK(sym::eval(sym::ceil_div(s1, s0) + s2, b) == -2);
  CHECK(sym::eval(7_c, b) == 7);
}

namespace {

// Random run-time integers n, m and values of s0 (>= 1), s1, s2 (>= 0).
class random_draws {
 public:
  std::int64_t n = 0, m = 0, s0 = 1, s1 = 0, s2 = 0;
  sym::bindings named;

  void next() {
    n = draw(-20, 20);
    m = draw(-20, 20);
    s0 = draw(1, 60);
    s1 = draw(-60, 60);
    s2 = draw(0, 60);
    named = sym::bindings{{"s0", s0}, {"s1", s1}, {"s2", s2}};
  }

 private:
  std::int64_t draw(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  std::mt19937_64 rng_{20240611};
};

// What each way of evaluating gave for one draw: a value or an error id.
struct trial {
  std::string typed, by_name, runtime, described;
};

void check_trial(const trial& t, const random_draws& d) {
  INFO(t.described, " with s0 = ", d.s0, ", s1 = ", d.s1, ", s2 = ", d.s2);
  CHECK(t.typed == t.runtime);
  CHECK(t.by_name == t.typed);
}

#define WRAPGRAPH_TEST_OUTCOME(target, ...)  \
  try {                                      \
    target = std::to_string(__VA_ARGS__);    \
  } catch (const wrapgraph::error& e) {      \
    target = e.id();                         \
  }

// eval with typed bindings, eval with sym::bindings and evaluate of the
// lowered expression agree (value or error id) for every draw.
template <class Build>
void check_eval_agrees_with_runtime_form(Build build, int trials = 200) {
  random_draws d;
  sym::context ctx;
  for (int i = 0; i < trials; ++i) {
    d.next();
    const auto e = build(d.n, d.m);
    trial t;
    t.described = sym::describe(e);
    WRAPGRAPH_TEST_OUTCOME(t.typed, sym::eval(e, s0 = d.s0, s1 = d.s1, s2 = d.s2))
    WRAPGRAPH_TEST_OUTCOME(t.by_name, sym::eval(e, d.named))
    WRAPGRAPH_TEST_OUTCOME(t.runtime, sym::evaluate(sym::lower(ctx, e), d.named))
    check_trial(t, d);
  }
}

#undef WRAPGRAPH_TEST_OUTCOME

}  // namespace

TEST_CASE("eval of a typed expression equals evaluate of its lowering, over random bindings") {
  SUBCASE("2*s0 + 1") {
    check_eval_agrees_with_runtime_form([](auto, auto) { return 2_c * s0 + 1_c; });
  }
  SUBCASE("floor division of a sum with a negative run-time coefficient") {
    check_eval_agrees_with_runtime_form([](auto n, auto) { return sym::floor_div(s0 * n + s1, 3_c); });
  }
  SUBCASE("ceil division") {
    check_eval_agrees_with_runtime_form([](auto, auto m) { return sym::ceil_div(s1 - s2 * m, 4_c); });
  }
  SUBCASE("modulo of a sum with run-time terms") {
    check_eval_agrees_with_runtime_form([](auto n, auto m) { return sym::mod(s1 * n + m, 7_c); });
  }
  SUBCASE("modulo by a negative constant") {
    check_eval_agrees_with_runtime_form([](auto, auto) { return sym::mod(s1, -5_c) + sym::floor_div(s1, -3_c); });
  }
  SUBCASE("division by a run-time integer that may be zero or negative") {
    check_eval_agrees_with_runtime_form(
        [](auto n, auto) { return sym::floor_div(s1, n) + sym::ceil_div(s2, n) - sym::mod(s1, n); });
  }
  SUBCASE("modular indexing with constant divisor and modulus") {
    check_eval_agrees_with_runtime_form([](auto n, auto) { return sym::modular_indexing(s0 * s2 + n, 4_c, 8_c); });
  }
  SUBCASE("modular indexing with a run-time modulus") {
    check_eval_agrees_with_runtime_form([](auto n, auto m) { return sym::modular_indexing(s1 + n, 3_c, m); });
  }
  SUBCASE("min, max and abs") {
    check_eval_agrees_with_runtime_form(
        [](auto n, auto) { return sym::min(s0, s1 - 3_c) + sym::max(sym::abs(s2 - s0), 2_c) * n; });
  }
  SUBCASE("powers") {
    check_eval_agrees_with_runtime_form(
        [](auto n, auto) { return sym::pow<3>(s1 - s0) - sym::pow(s2 + n, 2_c); });
  }
  SUBCASE("division by a positive symbol") {
    check_eval_agrees_with_runtime_form([](auto, auto m) {
      return sym::floor_div(s1 * 6_c + s2 * 4_c, 2_c) - sym::mod(s0 * m, s0) + sym::floor_div(s1 * s0 + s2, s0);
    });
  }
  SUBCASE("ceil division and modulo by symbols") {
    check_eval_agrees_with_runtime_form(
        [](auto, auto) { return sym::ceil_div(s1, s0) * sym::mod(s2, s0 + 1_c) + sym::mod(s2 - s1, s0); });
  }
  SUBCASE("exact division") {
    check_eval_agrees_with_runtime_form(
        [](auto n, auto) { return sym::clean_div(s1 * 6_c + s2 * 12_c, 3_c) + sym::clean_div(s0 * n * 4_c, 2_c); });
  }
  SUBCASE("negation inside divisions") {
    check_eval_agrees_with_runtime_form(
        [](auto, auto m) { return -sym::floor_div(-s1, 3_c) + sym::abs(-s1 * m); });
  }
  SUBCASE("nested divisions and moduli") {
    check_eval_agrees_with_runtime_form([](auto, auto) {
      return sym::floor_div(sym::floor_div(s1, 3_c), 5_c) + sym::mod(sym::mod(s1, 12_c), 4_c) +
             sym::modular_indexing(s2, 2_c, 3_c) * 6_c;
    });
  }
  SUBCASE("a rounding-up pattern") {
    check_eval_agrees_with_runtime_form([](auto n, auto m) {
      return sym::max(s1, n) - sym::min(s2, m) + sym::ceil_div(s2, 8_c) * 8_c;
    });
  }
}

// ---------------------------------------------------------------------------
// mixed static and run-time operands
// ---------------------------------------------------------------------------

TEST_CASE("an int64 operand becomes a run-time leaf of the tree") {
  const std::int64_t n = 6;
  const auto e = s0 * n;
  static_assert(same<std::remove_const_t<decltype(e)>, sym::tree<sym::op_kind::mul, sym::var<"s0", sym::positive>, sym::runtime_int>>);
  CHECK(sym::eval(e, s0 = 7) == 42);
  CHECK(sym::eval(n * s0 + 1, s0 = 2) == 13);
}

TEST_CASE("a constant with an int64 computes an int64 now") {
  const std::int64_t n = -7;
  static_assert(same<decltype(2_c * n), std::int64_t>);
  CHECK(2_c * n == -14);
  CHECK(sym::floor_div(n, 2_c) == -4);
  CHECK(sym::mod(n, 3_c) == 2);
  CHECK(sym::pow<3>(n) == -343);
  CHECK(n + 10_c == 3);
}

TEST_CASE("a typed operand meeting a sym::expr gives a sym::expr in that expr's context") {
  sym::context ctx;
  const sym::expr x = ctx.symbol("x", sym::positive);
  const sym::expr sum = (2_c * s0 + 1_c) + x;
  static_assert(same<decltype((2_c * s0) + x), sym::expr>);
  static_assert(same<decltype(x * s1), sym::expr>);
  CHECK(&sum.owner() == &ctx);
  CHECK(sum == 2 * ctx.symbol("s0", sym::positive) + x + 1);
  CHECK(x * s1 == x * ctx.symbol("s1"));
  CHECK(sym::floor_div(x, 4_c) == sym::floor_div(x, 4));
  CHECK(sym::modular_indexing(x, 2_c, 8) == sym::modular_indexing(x, 2, 8));
  CHECK(sym::pow<2>(x) == sym::pow(x, 2));
  CHECK(sym::pow(x, 3_c) == sym::pow(x, 3));
  CHECK(sym::min(s0, x) == sym::min(ctx.symbol("s0", sym::positive), x));
  CHECK(8_c - x == 8 - x);
}

TEST_CASE("the typed operators never take over the operators of sym::expr") {
  static_assert(!sym::typed_operands<sym::expr, std::int64_t>);
  static_assert(!sym::typed_operands<int, std::int64_t>);
  static_assert(sym::typed_operands<sym::expr, constant<1>>);
  sym::context ctx;
  const sym::expr x = ctx.symbol("x");
  static_assert(same<decltype(x + 1), sym::expr>);
  CHECK(x + 1 - 1 == x);
}

TEST_CASE("extent accepts constants, integers, trees and sym::expr, and to_expr lowers each") {
  static_assert(sym::extent<constant<8>>);
  static_assert(sym::extent<std::int64_t>);
  static_assert(sym::extent<int>);
  static_assert(sym::extent<decltype(s0 + 1_c)>);
  static_assert(sym::extent<sym::expr>);
  static_assert(!sym::extent<double>);
  static_assert(!sym::extent<bool>);
  sym::context ctx;
  CHECK(sym::to_expr(ctx, 8_c) == ctx.integer(8));
  CHECK(sym::to_expr(ctx, 8) == ctx.integer(8));
  const sym::expr s = ctx.symbol("s0", sym::positive);
  CHECK(sym::to_expr(ctx, s) == s);
  CHECK(sym::to_expr(ctx, s0 * 2_c + 1_c) == 2 * s + 1);
}

// ---------------------------------------------------------------------------
// printing
// ---------------------------------------------------------------------------

TEST_CASE("a typed expression prints like its lowering") {
  sym::context ctx;
  const std::int64_t n = 5;
  const auto check_prints_alike = [&](const auto& e, const std::string& text) {
    CHECK(sym::to_string(e) == sym::to_string(sym::lower(ctx, e)));
    CHECK(sym::to_string(e) == text);
    std::ostringstream os;
    os << e;
    CHECK(os.str() == text);
  };
  check_prints_alike(8_c, "8");
  check_prints_alike(2_c * s0 + 1_c, "2*s0 + 1");
  check_prints_alike(s0 * n + s1, "5*s0 + s1");
  check_prints_alike(sym::floor_div(s1 + 127_c, 128_c), "(s1 + 127)//128");
  check_prints_alike(sym::ceil_div(s0, 8_c), "CeilDiv(s0, 8)");
  check_prints_alike(sym::modular_indexing(s1, 4_c, 8_c), "ModularIndexing(s1, 4, 8)");
  check_prints_alike(sym::pow<2>(s1 - 1_c), "(s1 - 1)**2");
  check_prints_alike(sym::max(s0, s2) - sym::abs(s1), "Max(s0, s2) - Abs(s1)");
  CHECK(sym::to_string(2_c * s0 + 1_c) == sym::to_string(2 * ctx.symbol("s0", sym::positive) + 1));
}

TEST_CASE("describe shows the tree as written, constants as 8_c and run-time integers plainly") {
  const std::int64_t n = 5, neg = -3;
  CHECK(sym::describe(8_c) == "8_c");
  CHECK(sym::describe(-8_c) == "-8_c");
  CHECK(sym::describe(2_c * s0 + n) == "2_c*s0 + 5");
  CHECK(sym::describe(s0 * neg) == "s0*-3");
  CHECK(sym::describe(sym::floor_div(s0 + 1_c, 8_c)) == "(s0 + 1_c)//8_c");
  CHECK(sym::describe(s0 - (s1 - s2)) == "s0 - (s1 - s2)");
  CHECK(sym::describe(-(s0 * s1)) == "-(s0*s1)");
  CHECK(sym::describe(sym::pow<2>(s0 - 1_c)) == "(s0 - 1_c)**2_c");
  CHECK(sym::describe(sym::modular_indexing(s0, 2_c, n)) == "ModularIndexing(s0, 2_c, 5)");
  CHECK(sym::describe(sym::mod(s1, s0) * s2) == "s1 % s0*s2");
  CHECK(sym::describe(s2 * sym::mod(s1, s0)) == "s2*(s1 % s0)");
  CHECK(sym::describe(sym::min(s0, 4_c)) == "Min(s0, 4_c)");
}

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

namespace {
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const wrapgraph::error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("division by zero at run time raises wrapgraph.sym.division_by_zero") {
  const auto e = sym::floor_div(s1, s2);
  CHECK(error_of([&] { (void)sym::eval(e, s1 = 3, s2 = 0); }) ==
        "[wrapgraph.sym.division_by_zero] division by zero in s1//s2, evaluated as 3//0");
  CHECK_THROWS_WITH_AS((void)sym::eval(sym::mod(s1, s2), sym::bindings{{"s1", 3}, {"s2", 0}}),
                       doctest::Contains("wrapgraph.sym.division_by_zero"), wrapgraph::sym_error);
  CHECK_THROWS_WITH_AS((void)sym::eval(sym::modular_indexing(s1, 2_c, s2), s1 = 3, s2 = 0),
                       doctest::Contains("wrapgraph.sym.division_by_zero"), wrapgraph::sym_error);
  const std::int64_t zero = 0;
  CHECK(error_of([&] { (void)sym::floor_div(sym::runtime_int{7}, zero); }) ==
        "[wrapgraph.sym.division_by_zero] division by zero in 7//0");
}

TEST_CASE("int64 overflow at run time raises wrapgraph.sym.overflow") {
  const std::int64_t big = std::int64_t{1} << 40;
  CHECK(error_of([&] { (void)sym::eval(s1 * s1, s1 = big); }) ==
        "[wrapgraph.sym.overflow] int64 overflow in s1*s1, evaluated as 1099511627776*1099511627776");
  CHECK(error_of([&] { (void)(big * 10'000'000_c); }) ==
        "[wrapgraph.sym.overflow] int64 overflow in 1099511627776*10000000");
  CHECK(error_of([&] { (void)sym::eval(sym::floor_div(s1, s2 - 1_c), s1 = INT64_MIN, s2 = 0); })
            .starts_with("[wrapgraph.sym.overflow]"));
  CHECK(error_of([&] { (void)sym::eval(sym::pow<3>(s1), s1 = 3'000'000); }).starts_with("[wrapgraph.sym.overflow]"));
  CHECK(error_of([&] { (void)(s0 * (std::uint64_t{1} << 63)); }).starts_with("[wrapgraph.sym.overflow]"));
}

TEST_CASE("an inexact clean division of run-time values raises wrapgraph.sym.inexact_division") {
  const std::int64_t seven = 7;
  CHECK_THROWS_WITH_AS((void)sym::clean_div(seven, 2_c), doctest::Contains("wrapgraph.sym.inexact_division"),
                       wrapgraph::sym_error);
  CHECK_THROWS_WITH_AS((void)sym::eval(sym::clean_div(s1, 2_c), s1 = 7),
                       doctest::Contains("wrapgraph.sym.inexact_division"), wrapgraph::sym_error);
}

TEST_CASE("a binding that breaks a symbol's assumption raises wrapgraph.sym.assumption_violated") {
  CHECK(error_of([&] { (void)sym::eval(s0 + 1_c, s0 = 0); }) ==
        "[wrapgraph.sym.assumption_violated] symbol 's0' is declared positive but is bound to 0");
  CHECK_THROWS_WITH_AS((void)sym::eval(s2, sym::bindings{{"s2", -1}}),
                       doctest::Contains("wrapgraph.sym.assumption_violated"), wrapgraph::sym_error);
}

TEST_CASE("a symbol without a run-time binding raises wrapgraph.sym.unbound_symbol like evaluate") {
  const auto e = s0 + 2_c * s1;
  CHECK(error_of([&] { (void)sym::eval(e, sym::bindings{{"s0", 1}}); }) ==
        "[wrapgraph.sym.unbound_symbol] symbol 's1' has no value in s0 + 2_c*s1");
  sym::context ctx;
  CHECK_THROWS_WITH_AS((void)sym::evaluate(sym::lower(ctx, e), sym::bindings{{"s0", 1}}),
                       doctest::Contains("wrapgraph.sym.unbound_symbol"), wrapgraph::sym_error);
}

TEST_CASE("lowering a var into a context that knows its name with other assumptions raises") {
  sym::context ctx;
  (void)ctx.symbol("s0");  // any integer
  CHECK_THROWS_WITH_AS((void)sym::lower(ctx, s0 + 1_c), doctest::Contains("wrapgraph.sym.symbol_redeclared"),
                       wrapgraph::sym_error);
}

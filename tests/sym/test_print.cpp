// Tests of include/wrapgraph/sym/print.hpp: the Python text of each kind,
// the C++ text, and the laws parse(to_string(e)) == e and "printing depends
// only on the expression, not on the context".

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>

#include "random_expr.hpp"

namespace {

using namespace wrapgraph::sym;

struct print_fixture {
  context ctx;
  expr s0 = ctx.symbol("s0", positive);
  expr s1 = ctx.symbol("s1", positive);
  expr s10 = ctx.symbol("s10", positive);
  expr z0 = ctx.symbol("z0", any_integer);
  expr c(std::int64_t v) { return ctx.integer(v); }
};

constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

}  // namespace

// ---- Python text --------------------------------------------------------------

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints integers and symbols as Python literals and names") {
  CHECK(to_string(c(0)) == "0");
  CHECK(to_string(c(-17)) == "-17");
  CHECK(to_string(c(5000000000)) == "5000000000");
  CHECK(to_string(c(int64_min)) == "-9223372036854775808");
  CHECK(to_string(s0) == "s0");
  CHECK(to_string(expr{}) == "<null>");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints a sum in canonical order with the constant last and minus signs folded") {
  CHECK(to_string(2 * s1 + 3 + s0) == "s0 + 2*s1 + 3");
  CHECK(to_string(s0 - 2 * s1 - 3) == "s0 - 2*s1 - 3");
  CHECK(to_string(z0 - s0) == "-s0 + z0");
  CHECK(to_string(s10 + s1) == "s1 + s10");  // natural order of names
  CHECK(to_string(s0 + c(int64_min)) == "s0 + -9223372036854775808");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints a product with its coefficient first and powers as **") {
  CHECK(to_string(s1 * s0) == "s0*s1");
  CHECK(to_string(-s0) == "-s0");
  CHECK(to_string(-(s0 * s1)) == "-s0*s1");
  CHECK(to_string(-2 * s0) == "-2*s0");
  CHECK(to_string(s0 * s0) == "s0**2");
  CHECK(to_string(pow(s0, s1)) == "s0**s1");
  CHECK(to_string(pow(s0 + 1, 2)) == "(s0 + 1)**2");
  CHECK(to_string(-pow(z0, 2)) == "-z0**2");
  CHECK(to_string(s0 * c(int64_min)) == "-9223372036854775808*s0");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints FloorDiv as // and Mod as %, with Python's parentheses") {
  CHECK(to_string(floor_div(s0 + 127, 128)) == "(s0 + 127)//128");
  CHECK(to_string(floor_div(z0, s0 * s1)) == "z0//(s0*s1)");
  CHECK(to_string(2 * floor_div(z0, s1)) == "2*(z0//s1)");
  CHECK(to_string(s1 * floor_div(z0, 3)) == "s1*(z0//3)");
  CHECK(to_string(-floor_div(z0, s1)) == "-(z0//s1)");
  CHECK(to_string(floor_div(z0, 3) * floor_div(z0, 5)) == "z0//3*(z0//5)");
  CHECK(to_string(mod(s0, 8)) == "s0 % 8");
  CHECK(to_string(3 * mod(z0, s1)) == "3*(z0 % s1)");
  CHECK(to_string(pow(mod(z0, 3), 2)) == "(z0 % 3)**2");
  CHECK(to_string(floor_div(mod(z0, s1), 3)) == "z0 % s1//3");
  CHECK(to_string(floor_div(z0, mod(s0, 3) + 1)) == "z0//(s0 % 3 + 1)");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints the other kinds as sympy's function calls") {
  CHECK(to_string(ceil_div(s0, 128)) == "CeilDiv(s0, 128)");
  CHECK(to_string(clean_div(z0, s1)) == "CleanDiv(z0, s1)");
  CHECK(to_string(modular_indexing(s0, 4, 8)) == "ModularIndexing(s0, 4, 8)");
  CHECK(to_string(min(s0, s1)) == "Min(s0, s1)");
  CHECK(to_string(ctx.max(std::vector<expr>{z0, s1, s0})) == "Max(s0, s1, z0)");
  CHECK(to_string(abs(z0)) == "Abs(z0)");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_string prints a true quotient with /") {
  CHECK(to_string(true_div(s0, 2)) == "s0/2");
  CHECK(to_string(true_div(s0 + 1, 2 * s1)) == "(s0 + 1)/(2*s1)");
  CHECK(to_string(true_div(c(1), c(2))) == "1/2");
}

TEST_CASE_FIXTURE(print_fixture, "sym::operator<< writes what sym::to_string returns") {
  const expr e = floor_div(s0 + 127, 128) + ceil_div(z0, 4);
  std::ostringstream os;
  os << e;
  CHECK(os.str() == to_string(e));
}

// ---- C++ text -----------------------------------------------------------------

TEST_CASE_FIXTURE(print_fixture, "sym::to_cpp prints sums and products fully parenthesised") {
  CHECK(to_cpp(s0 + 2 * s1 + 3) == "(s0 + (2 * s1) + 3)");
  CHECK(to_cpp(s0 - 2 * s1 - 3) == "(s0 + ((-2) * s1) + (-3))");
  CHECK(to_cpp(-s0) == "((-1) * s0)");
  CHECK(to_cpp(s0 * s1) == "(s0 * s1)");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_cpp marks wide literals LL and spells INT64_MIN without overflow") {
  CHECK(to_cpp(c(7)) == "7");
  CHECK(to_cpp(c(-7)) == "(-7)");
  CHECK(to_cpp(5000000000 * s0) == "(5000000000LL * s0)");
  CHECK(to_cpp(c(-5000000000)) == "(-5000000000LL)");
  CHECK(to_cpp(c(int64_min)) == "(-9223372036854775807LL - 1)");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_cpp calls a helper for every operation with Python semantics") {
  CHECK(to_cpp(floor_div(s0 + 127, 128)) == "wg_floordiv((s0 + 127), 128)");
  CHECK(to_cpp(ceil_div(s0, 128)) == "wg_ceildiv(s0, 128)");
  CHECK(to_cpp(clean_div(z0, s1)) == "wg_cleandiv(z0, s1)");
  CHECK(to_cpp(mod(z0, s1)) == "wg_mod(z0, s1)");
  CHECK(to_cpp(modular_indexing(s0, 4, 8)) == "wg_mod(wg_floordiv(s0, 4), 8)");
  CHECK(to_cpp(pow(s0, 3)) == "wg_pow(s0, 3)");
  CHECK(to_cpp(abs(z0)) == "wg_abs(z0)");
  CHECK(to_cpp(min(s0, s1)) == "wg_min(s0, s1)");
  CHECK(to_cpp(ctx.max(std::vector<expr>{s0, s1, z0})) == "wg_max(s0, wg_max(s1, z0))");
}

TEST_CASE_FIXTURE(print_fixture, "sym::to_cpp and sym::cpp_prelude take the helpers' prefix") {
  CHECK(to_cpp(ceil_div(s0, 128), "k_") == "k_ceildiv(s0, 128)");
  const std::string prelude = cpp_prelude("k_");
  for (const char* helper : {"floordiv", "ceildiv", "cleandiv", "mod", "pow", "min", "max", "abs"}) {
    INFO(helper);
    CHECK(prelude.find(std::string("int64_t k_") + helper + "(") != std::string::npos);
  }
  CHECK(prelude.find("#include <cstdint>") == 0);
  CHECK(cpp_prelude().find("wg_floordiv(") != std::string::npos);
}

// ---- laws ---------------------------------------------------------------------

TEST_CASE("sym::to_string prints text that sym::parse reads back as the same node, for random expressions") {
  context ctx;
  testing::random_expr_generator generate(ctx, 1);
  constexpr int count = 5000;
  std::vector<std::string> failures;
  for (int i = 0; i < count; ++i) {
    const expr e = generate(4);
    const std::string text = to_string(e);
    try {
      const expr back = parse(ctx, text);
      if (back != e) failures.push_back(text + "  reads back as  " + to_string(back));
    } catch (const wrapgraph::error& err) {
      failures.push_back(text + "  does not parse: " + err.what());
    }
  }
  std::string report;
  for (std::size_t i = 0; i < failures.size() && i < 10; ++i) report += "\n  " + failures[i];
  CHECK_MESSAGE(failures.empty(), failures.size() << " of " << count << " do not round-trip:" << report);
}

TEST_CASE("sym::to_string prints quotients that sym::parse with allow_true_division reads back") {
  context ctx;
  testing::random_expr_generator generate(ctx, 2);
  parse_options options;
  options.allow_true_division = true;
  constexpr int count = 2000;
  int rationals = 0;
  std::vector<std::string> failures;
  for (int i = 0; i < count; ++i) {
    const expr q = generate.quotient(3);
    rationals += q.is(expr_kind::rational);
    const std::string text = to_string(q);
    try {
      const expr back = parse(ctx, text, options);
      if (back != q) failures.push_back(text + "  reads back as  " + to_string(back));
    } catch (const wrapgraph::error& err) {
      failures.push_back(text + "  does not parse: " + err.what());
    }
  }
  std::string report;
  for (std::size_t i = 0; i < failures.size() && i < 10; ++i) report += "\n  " + failures[i];
  CHECK_MESSAGE(failures.empty(), failures.size() << " of " << count << " do not round-trip:" << report);
  CHECK(rationals > count / 2);
}

TEST_CASE("sym::to_string and hashes depend only on the expression: two contexts built alike print alike") {
  context a, b;
  testing::random_expr_generator in_a(a, 3), in_b(b, 3);
  // Extra nodes in one context must not change anything.
  (void)parse(b, "Max(s2, 7) + 3*FloorDiv(u0, s1) + z0**2");
  int differ = 0;
  std::string first;
  for (int i = 0; i < 3000; ++i) {
    const expr x = in_a(4), y = in_b(4);
    if (to_string(x) != to_string(y) || x.hash() != y.hash() || to_cpp(x) != to_cpp(y)) {
      if (differ++ == 0) first = to_string(x) + "  vs  " + to_string(y);
    }
  }
  CHECK_MESSAGE(differ == 0, first);
}

TEST_CASE("sym::to_string is a fixed point of parse and print: print(parse(print(e))) == print(e)") {
  context ctx, fresh;
  testing::random_expr_generator generate(ctx, 4);
  testing::declare_test_symbols(fresh);
  int differ = 0;
  std::string first;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = to_string(generate(4));
    const std::string again = to_string(parse(fresh, text));
    if (again != text && differ++ == 0) first = text + "  prints as  " + again;
  }
  CHECK_MESSAGE(differ == 0, differ << " texts change: " << first);
}

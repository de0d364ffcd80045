// Tests of include/wrapgraph/sym/parse.hpp: the grammar, Python precedence,
// the errors and their ids, and the law that parsing keeps the value of
// uncanonical text.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>

#include "random_expr.hpp"

namespace {

using namespace wrapgraph::sym;
using wrapgraph::parse_error;

// A context with positive s0, s1, s2 and a signed z0 already declared.
struct parse_fixture {
  context ctx;
  expr s0 = ctx.symbol("s0", positive);
  expr s1 = ctx.symbol("s1", positive);
  expr s2 = ctx.symbol("s2", positive);
  expr z0 = ctx.symbol("z0", any_integer);

  expr p(std::string_view text, const parse_options& options = {}) { return parse(ctx, text, options); }
  expr c(std::int64_t v) { return ctx.integer(v); }
};

// The parse_error that parsing `text` throws (its id "none" if it parses).
struct failure {
  std::string id = "none";
  std::size_t column = 0;
  std::string message;
};

failure parse_failure(context& ctx, std::string_view text, const parse_options& options = {}) {
  failure f;
  try {
    (void)parse(ctx, text, options);
  } catch (const parse_error& e) {
    f.id = e.id();
    f.column = e.column();
    f.message = e.message();
  }
  return f;
}

}  // namespace

// ---- literals and names -----------------------------------------------------

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads integer literals as integers") {
  CHECK(p("0") == c(0));
  CHECK(p("42") == c(42));
  CHECK(p("-7") == c(-7));
  CHECK(p("9223372036854775807") == c(std::numeric_limits<std::int64_t>::max()));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads -9223372036854775808 as INT64_MIN, as the printer prints it") {
  const expr min = c(std::numeric_limits<std::int64_t>::min());
  CHECK(p("-9223372036854775808") == min);
  CHECK(p("- 9223372036854775808") == min);
  CHECK(p("-9223372036854775808*s0") == ctx.mul(min, s0));
  CHECK(p("s0 + -9223372036854775808") == ctx.add(s0, min));
  CHECK(parse(ctx, to_string(min)) == min);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reports an integer literal beyond int64 as wrapgraph.sym.parse.overflow") {
  CHECK_THROWS_AS((void)p("9223372036854775808"), parse_error);
  CHECK(parse_failure(ctx, "9223372036854775808").id == "wrapgraph.sym.parse.overflow");
  CHECK(parse_failure(ctx, "s0 + 99999999999999999999999").id == "wrapgraph.sym.parse.overflow");
  CHECK(parse_failure(ctx, "s0 + 99999999999999999999999").column == 5);
  // Only a minus directly on the literal makes INT64_MIN; -(2**63) overflows.
  CHECK(parse_failure(ctx, "-(9223372036854775808)").id == "wrapgraph.sym.parse.overflow");
  // -9223372036854775808**1 is -(9223372036854775808**1) in Python.
  CHECK(parse_failure(ctx, "-9223372036854775808**1").id == "wrapgraph.sym.parse.overflow");
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse uses the context's symbol for a name it knows, whatever the default assumptions") {
  parse_options options;
  options.default_assumptions = nonnegative;
  CHECK(p("z0", options) == z0);
  CHECK(p("z0", options).symbol_assumptions() == any_integer);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse declares an unknown name as a symbol with the default assumptions") {
  CHECK(ctx.find_symbol("u7").is_null());
  parse_options options;
  options.default_assumptions = nonnegative;
  const expr u7 = p("u7 + 1", options) - 1;
  CHECK(u7.is_symbol());
  CHECK(u7.name() == "u7");
  CHECK(u7.symbol_assumptions() == nonnegative);
  CHECK(ctx.find_symbol("u7") == u7);
  CHECK(p("new_name_2").symbol_assumptions() == any_integer);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse asks parse_options::resolve about names the context does not know") {
  std::vector<std::string> asked;
  parse_options options;
  options.resolve = [&](std::string_view name) -> expr {
    asked.emplace_back(name);
    if (name == "XBLOCK") return ctx.integer(128);
    if (name == "xnumel") return ctx.symbol("xnumel", positive);
    return {};
  };
  SUBCASE("a name may stand for a constant or a new symbol") {
    const expr grid = p("CeilDiv(xnumel, XBLOCK)", options);
    CHECK(grid == ceil_div(ctx.find_symbol("xnumel"), 128));
    CHECK(asked == std::vector<std::string>{"xnumel", "XBLOCK"});
  }
  SUBCASE("known symbols are not asked about") {
    CHECK(p("s0 + z0", options) == s0 + z0);
    CHECK(asked.empty());
  }
  SUBCASE("a null answer rejects the name as wrapgraph.sym.parse.unknown_symbol") {
    CHECK_THROWS_AS((void)p("s0 + YBLOCK", options), parse_error);
    const failure f = parse_failure(ctx, "s0 + YBLOCK", options);
    CHECK(f.id == "wrapgraph.sym.parse.unknown_symbol");
    CHECK(f.column == 5);
    CHECK(f.message == "at column 5 of \"s0 + YBLOCK\": unknown symbol 'YBLOCK'");
    CHECK(ctx.find_symbol("YBLOCK").is_null());
  }
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads a function's name without a call as a symbol") {
  CHECK(p("floor + 1") == ctx.symbol("floor") + 1);
  CHECK(p("Min").is_symbol());
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse skips whitespace between tokens") {
  CHECK(p("  s0\t+\n2 *  s1 ") == s0 + 2 * s1);
  CHECK(p("FloorDiv ( s0 , 2 )") == floor_div(s0, 2));
}

// ---- operators and precedence -----------------------------------------------

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads (s0 + 127)//128 as FloorDiv(s0 + 127, 128)") {
  CHECK(p("(s0 + 127)//128") == floor_div(s0 + 127, 128));
  CHECK(p("(s0 + 127)//128") == p("FloorDiv(s0 + 127, 128)"));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads + - * ** // % as the context's operations") {
  CHECK(p("s0 + s1") == s0 + s1);
  CHECK(p("s0 - s1") == s0 - s1);
  CHECK(p("s0*s1") == s0 * s1);
  CHECK(p("s0**3") == pow(s0, 3));
  CHECK(p("s0**s1") == pow(s0, s1));
  CHECK(p("z0//s1") == floor_div(z0, s1));
  CHECK(p("z0 % s1") == mod(z0, s1));
  CHECK(p("-z0") == -z0);
  CHECK(p("+z0") == z0);
  CHECK(p("--z0") == z0);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse gives ** precedence over a unary minus on its left: -x**2 is -(x**2)") {
  CHECK(p("-z0**2") == -pow(z0, 2));
  CHECK(p("(-z0)**2") == pow(z0, 2));
  CHECK(p("-2**2") == c(-4));
  CHECK(p("(-2)**2") == c(4));
  CHECK(p("-s0**2*s1") == -(pow(s0, 2) * s1));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse takes a unary minus as the exponent: 2**-x") {
  CHECK(p("floor(2**-s0)") == floor_div(1, pow(2, s0)));
  CHECK(p("2**-1*4") == c(2));
  CHECK(p("2**--2") == c(4));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse groups ** to the right: 2**3**2 is 2**9") {
  CHECK(p("2**3**2") == c(512));
  CHECK(p("s0**s1**s2") == pow(s0, pow(s1, s2)));
  CHECK(p("(s0**s1)**2") == pow(pow(s0, s1), 2));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse binds * // % / equally and groups them to the left") {
  CHECK(p("z0//s1*s2") == floor_div(z0, s1) * s2);
  CHECK(p("z0*s1//s2") == floor_div(z0 * s1, s2));
  CHECK(p("z0 % s1*s2") == mod(z0, s1) * s2);
  CHECK(p("z0*s1 % s2") == mod(z0 * s1, s2));
  CHECK(p("z0//s1//s2") == floor_div(floor_div(z0, s1), s2));
  CHECK(p("z0//s1 % s2") == mod(floor_div(z0, s1), s2));
  CHECK(p("z0 % s1//s2") == floor_div(mod(z0, s1), s2));
  CHECK(p("floor(z0/s1*s2)") == floor_div(z0 * s2, s1));
  CHECK(p("floor(z0*s1/s2)") == floor_div(z0 * s1, s2));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse applies a unary minus before // and %: -a//b is (-a)//b") {
  CHECK(p("-z0//s1") == floor_div(-z0, s1));
  CHECK(p("-(z0//s1)") == -floor_div(z0, s1));
  CHECK(p("-z0 % s1") == mod(-z0, s1));
  CHECK(p("-7//2") == c(-4));
  CHECK(p("-(7//2)") == c(-3));
  CHECK(p("-7 % 3") == c(2));
  CHECK(p("7 % -3") == c(-2));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse binds * tighter than + and - and groups - to the left") {
  CHECK(p("s0 + s1*s2") == s0 + s1 * s2);
  CHECK(p("(s0 + s1)*s2") == (s0 + s1) * s2);
  CHECK(p("s0 - s1 - s2") == s0 - s1 - s2);
  CHECK(p("s0 - (s1 - s2)") == s0 - s1 + s2);
  CHECK(p("10 - 4 - 3") == c(3));
  CHECK(p("2*-3") == c(-6));
  CHECK(p("s0 - -s1") == s0 + s1);
}

// ---- functions --------------------------------------------------------------

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads every function of the grammar") {
  CHECK(p("FloorDiv(z0, s1)") == floor_div(z0, s1));
  CHECK(p("CeilDiv(z0, s1)") == ceil_div(z0, s1));
  CHECK(p("CleanDiv(z0, s1)") == clean_div(z0, s1));
  CHECK(p("Mod(z0, s1)") == mod(z0, s1));
  CHECK(p("PythonMod(z0, s1)") == mod(z0, s1));
  CHECK(p("ModularIndexing(z0, s1, s2)") == modular_indexing(z0, s1, s2));
  CHECK(p("Min(z0)") == z0);
  CHECK(p("Min(z0, s1, s2)") == ctx.min(std::vector<expr>{z0, s1, s2}));
  CHECK(p("Max(z0, s1)") == max(z0, s1));
  CHECK(p("Abs(z0)") == abs(z0));
  CHECK(p("floor(z0)") == z0);
  CHECK(p("ceiling(z0)") == z0);
  CHECK(p("floor(z0/s1)") == floor_div(z0, s1));
  CHECK(p("ceiling(z0/s1)") == ceil_div(z0, s1));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse folds functions of constants with Python semantics") {
  CHECK(p("FloorDiv(-7, 2)") == c(-4));
  CHECK(p("CeilDiv(-7, 2)") == c(-3));
  CHECK(p("CleanDiv(-8, 2)") == c(-4));
  CHECK(p("Mod(-7, 3)") == c(2));
  CHECK(p("PythonMod(7, -3)") == c(-2));
  CHECK(p("ModularIndexing(-7, 2, 3)") == c(2));
  CHECK(p("Min(3, -1, 2)") == c(-1));
  CHECK(p("Max(3, -1, 2)") == c(3));
  CHECK(p("Abs(-5)") == c(5));
  CHECK(p("floor(-7/2)") == c(-4));
  CHECK(p("ceiling(-7/2)") == c(-3));
  CHECK(p("floor(7/2 + 1/2)") == c(4));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reads nested calls and whole expressions as arguments") {
  CHECK(p("Max(1, CeilDiv(s0*s1, 128))") == max(1, ceil_div(s0 * s1, 128)));
  CHECK(p("ModularIndexing(s0 + 2*s1, 4, Min(s2, 8))") ==
        modular_indexing(s0 + 2 * s1, 4, min(s2, 8)));
  CHECK(p("floor((s0 + 1)/(2*s1))") == floor_div(s0 + 1, 2 * s1));
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reports a wrong number of arguments as wrapgraph.sym.parse.arity") {
  const char* cases[] = {"FloorDiv(s0)", "CeilDiv(s0, 1, 2)", "CleanDiv()", "Mod(s0)",
                         "PythonMod(s0, 1, 2)", "ModularIndexing(s0, 2)", "Min()", "Max()",
                         "floor(s0, 2)", "ceiling()", "Abs(s0, s1)"};
  for (const char* text : cases) {
    INFO(text);
    CHECK_THROWS_AS((void)p(text), parse_error);
    CHECK(parse_failure(ctx, text).id == "wrapgraph.sym.parse.arity");
  }
  const failure f = parse_failure(ctx, "s0 + ModularIndexing(s0, 2)");
  CHECK(f.column == 5);
  CHECK(f.message == "at column 5 of \"s0 + ModularIndexing(s0, 2)\": ModularIndexing takes 3 arguments, got 2");
  CHECK(parse_failure(ctx, "Min()").message == "at column 0 of \"Min()\": Min takes at least 1 argument, got 0");
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse reports a call of an unknown function as wrapgraph.sym.parse.unknown_function") {
  CHECK_THROWS_AS((void)p("sqrt(s0)"), parse_error);
  const failure f = parse_failure(ctx, "1 + sqrt(s0)");
  CHECK(f.id == "wrapgraph.sym.parse.unknown_function");
  CHECK(f.column == 4);
  // Names are case-sensitive, as in sympy.
  CHECK(parse_failure(ctx, "floordiv(s0, 2)").id == "wrapgraph.sym.parse.unknown_function");
  CHECK(parse_failure(ctx, "min(s0, 2)").id == "wrapgraph.sym.parse.unknown_function");
}

// ---- true division ------------------------------------------------------------

TEST_CASE_FIXTURE(parse_fixture, "sym::parse refuses a quotient outside floor/ceiling as wrapgraph.sym.parse.true_division") {
  CHECK_THROWS_AS((void)p("s0/2"), parse_error);
  CHECK(parse_failure(ctx, "s0/2").id == "wrapgraph.sym.parse.true_division");
  CHECK(parse_failure(ctx, "s0/2").column == 2);
  CHECK(parse_failure(ctx, "1/2").id == "wrapgraph.sym.parse.true_division");
  CHECK(parse_failure(ctx, "2**-s0").id == "wrapgraph.sym.parse.true_division");
  CHECK(parse_failure(ctx, "2**-s0").column == 1);
  // The column is that of the first quotient outside floor/ceiling.
  const failure f = parse_failure(ctx, "floor(s0/3) + s1/s2");
  CHECK(f.id == "wrapgraph.sym.parse.true_division");
  CHECK(f.column == 16);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse accepts a '/' whose quotient cancels to an integer expression") {
  CHECK(p("(2*s0)/2") == s0);
  CHECK(p("s0*s1/s1") == s0);
  CHECK(p("6/3") == c(2));
  CHECK(p("s0/2*2") == s0);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse with allow_true_division reads a quotient as expr_kind::rational") {
  parse_options options;
  options.allow_true_division = true;
  const expr q = p("(s0 + 1)/(2*s1)", options);
  CHECK(q.is(expr_kind::rational));
  CHECK(q == true_div(s0 + 1, 2 * s1));
  CHECK(p("1/2", options) == true_div(c(1), c(2)));
  CHECK(p(to_string(q), options) == q);
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse keeps the context's error id for a quotient used as an operand") {
  const failure f = parse_failure(ctx, "FloorDiv(s0/2, 3)");
  CHECK(f.id == "wrapgraph.sym.rational_operand");
  CHECK(f.column == 0);
  CHECK(parse_failure(ctx, "Min(s0/2, 3)").id == "wrapgraph.sym.rational_operand");
  CHECK(parse_failure(ctx, "s0**(1/2)").id == "wrapgraph.sym.rational_operand");
}

// ---- errors ---------------------------------------------------------------------

TEST_CASE_FIXTURE(parse_fixture, "sym::parse says where the text breaks the grammar") {
  SUBCASE("an operator where an operand belongs") {
    CHECK_THROWS_AS((void)p("s0 * * 2"), parse_error);
    const failure f = parse_failure(ctx, "s0 * * 2");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(f.column == 5);
    CHECK(f.message == "at column 5 of \"s0 * * 2\": expected an operand, found '*'");
  }
  SUBCASE("two operands without an operator") {
    const failure f = parse_failure(ctx, "s0 s1");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(f.column == 3);
    CHECK(parse_failure(ctx, "2s0").id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(parse_failure(ctx, "(s0)(s1)").id == "wrapgraph.sym.parse.unexpected_token");
  }
  SUBCASE("a closing parenthesis too many") {
    const failure f = parse_failure(ctx, "(s0 + 1))");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(f.column == 8);
  }
  SUBCASE("a misplaced comma") {
    CHECK(parse_failure(ctx, "s0, s1").id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(parse_failure(ctx, "Min(s0,, s1)").id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(parse_failure(ctx, "Min(s0, s1,)").id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(parse_failure(ctx, "(s0, s1)").id == "wrapgraph.sym.parse.unexpected_token");
  }
  SUBCASE("the text ends too early") {
    const failure f = parse_failure(ctx, "s0 * (2");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_end");
    CHECK(f.column == 7);
    CHECK(f.message == "at column 7 of \"s0 * (2\": expected ')' to close the '(' at column 5, found the end of the text");
    CHECK(parse_failure(ctx, "s0 +").id == "wrapgraph.sym.parse.unexpected_end");
    CHECK(parse_failure(ctx, "-").id == "wrapgraph.sym.parse.unexpected_end");
    CHECK(parse_failure(ctx, "Max(s0, ").id == "wrapgraph.sym.parse.unexpected_end");
    CHECK(parse_failure(ctx, "Max(s0").id == "wrapgraph.sym.parse.unexpected_end");
    CHECK(parse_failure(ctx, "s0**").id == "wrapgraph.sym.parse.unexpected_end");
  }
  SUBCASE("a character outside the grammar") {
    const failure f = parse_failure(ctx, "s0 $ 2");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_character");
    CHECK(f.column == 3);
    CHECK(f.message == "at column 3 of \"s0 $ 2\": '$' is not part of the expression grammar");
    CHECK(parse_failure(ctx, "s0 ^ 2").id == "wrapgraph.sym.parse.unexpected_character");
    CHECK(parse_failure(ctx, "s0 / / 2").id == "wrapgraph.sym.parse.unexpected_token");
    CHECK(parse_failure(ctx, "s\xc3\xa9").id == "wrapgraph.sym.parse.unexpected_character");
    CHECK(parse_failure(ctx, "s\xc3\xa9").message == "at column 1 of \"s\xc3\xa9\": the byte 0xc3 is not part of the expression grammar");
  }
  SUBCASE("a floating-point number") {
    const failure f = parse_failure(ctx, "1.5*s0");
    CHECK(f.id == "wrapgraph.sym.parse.unexpected_character");
    CHECK(f.column == 1);
    CHECK(f.message == "at column 1 of \"1.5*s0\": '1.' starts a floating-point number; expressions are integers");
    CHECK(parse_failure(ctx, "2e3").id == "wrapgraph.sym.parse.unexpected_character");
  }
  SUBCASE("nothing at all") {
    CHECK_THROWS_AS((void)p(""), parse_error);
    CHECK(parse_failure(ctx, "").id == "wrapgraph.sym.parse.empty");
    CHECK(parse_failure(ctx, " \t\n").id == "wrapgraph.sym.parse.empty");
    CHECK(parse_failure(ctx, "()").id == "wrapgraph.sym.parse.unexpected_token");
  }
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse keeps the context's error ids and adds the column of the failing operation") {
  SUBCASE("division by a constant zero") {
    const char* cases[] = {"FloorDiv(s0, 0)", "s0//0", "CeilDiv(s0, 0)", "CleanDiv(s0, 0)", "Mod(s0, 0)",
                           "s0 % 0", "ModularIndexing(s0, 0, 2)", "ModularIndexing(s0, 2, 0)",
                           "floor(s0/0)", "s0//(s1 - s1)"};
    for (const char* text : cases) {
      INFO(text);
      CHECK_THROWS_AS((void)p(text), parse_error);
      CHECK(parse_failure(ctx, text).id == "wrapgraph.sym.division_by_zero");
    }
    const failure f = parse_failure(ctx, "1 + FloorDiv(s0, 0)");
    CHECK(f.column == 4);
    CHECK(f.message == "at column 4 of \"1 + FloorDiv(s0, 0)\": division by zero in FloorDiv(s0, 0)");
    CHECK(parse_failure(ctx, "s1 + s0 % 0").column == 8);
  }
  SUBCASE("int64 overflow while folding constants") {
    const failure f = parse_failure(ctx, "9223372036854775807 + 1");
    CHECK(f.id == "wrapgraph.sym.overflow");
    CHECK(f.column == 20);
    CHECK(parse_failure(ctx, "2**63").id == "wrapgraph.sym.overflow");
    CHECK(parse_failure(ctx, "--9223372036854775808").id == "wrapgraph.sym.overflow");
  }
  SUBCASE("an inexact CleanDiv of constants") {
    CHECK(parse_failure(ctx, "CleanDiv(7, 2)").id == "wrapgraph.sym.inexact_division");
  }
  SUBCASE("the errors are sym_errors") {
    CHECK_THROWS_AS((void)p("s0//0"), wrapgraph::sym_error);
    CHECK_THROWS_AS((void)p("s0 +"), wrapgraph::sym_error);
  }
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse refuses more than 1000 nested levels as wrapgraph.sym.parse.too_deep") {
  const std::string ok = std::string(500, '(') + "s0" + std::string(500, ')');
  CHECK(p(ok) == s0);
  const std::string deep = std::string(2000, '(') + "s0" + std::string(2000, ')');
  CHECK_THROWS_AS((void)p(deep), parse_error);
  CHECK(parse_failure(ctx, deep).id == "wrapgraph.sym.parse.too_deep");
  CHECK(parse_failure(ctx, std::string(5000, '-') + "s0").id == "wrapgraph.sym.parse.too_deep");
  std::string tower = "2";
  for (int i = 0; i < 3000; ++i) tower += "**1";
  CHECK(parse_failure(ctx, tower).id == "wrapgraph.sym.parse.too_deep");
}

TEST_CASE_FIXTURE(parse_fixture, "sym::parse quotes a long text around the failing column") {
  std::string text = "s0";
  for (int i = 0; i < 100; ++i) text += " + s1";
  text += " $";
  const failure f = parse_failure(ctx, text);
  CHECK(f.id == "wrapgraph.sym.parse.unexpected_character");
  CHECK(f.column == text.size() - 1);
  CHECK(f.message.size() < 300);
  CHECK(f.message.find("...+ s1") != std::string::npos);
}

TEST_CASE("sym::parse leaves a context unchanged by a failed parse apart from the symbols it declared") {
  context ctx;
  CHECK_THROWS_AS((void)parse(ctx, "s0 + $"), parse_error);
  CHECK(ctx.find_symbol("s0").is_symbol());
  CHECK(parse(ctx, "s0 + 1") == ctx.find_symbol("s0") + 1);
}

// ---- laws -------------------------------------------------------------------------

namespace {

using wrapgraph::sym::testing::text_tree;

// The independent meaning of expression text: exact fractions of int64 with
// Python's floor division and modulo; no canonicalisation at all.
struct reference_failure {
  std::string what;  // "division_by_zero", "inexact_division", "overflow"
};

struct fraction {
  std::int64_t num = 0, den = 1;  // den > 0, gcd(num, den) == 1
};

constexpr std::int64_t reference_bound = std::int64_t{1} << 50;

std::int64_t checked(std::int64_t v) {
  if (v > reference_bound || v < -reference_bound) throw reference_failure{"overflow"};
  return v;
}
std::int64_t add_checked(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw reference_failure{"overflow"};
  return checked(r);
}
std::int64_t mul_checked(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw reference_failure{"overflow"};
  return checked(r);
}

fraction make_fraction(std::int64_t num, std::int64_t den) {
  if (den == 0) throw reference_failure{"division_by_zero"};
  if (den < 0) num = -num, den = -den;
  const std::int64_t g = std::gcd(num, den);
  return {checked(num / g), checked(den / g)};
}

std::int64_t integer_of(const fraction& f) {
  if (f.den != 1) throw std::logic_error("the text generator put a quotient where an integer belongs");
  return f.num;
}

std::int64_t floor_of(std::int64_t a, std::int64_t b) {
  if (b == 0) throw reference_failure{"division_by_zero"};
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
std::int64_t python_mod(std::int64_t a, std::int64_t b) { return a - floor_of(a, b) * b; }

fraction reference_value(const text_tree& t, const bindings& b) {
  using op = text_tree::op_kind;
  auto arg = [&](std::size_t i) { return reference_value(*t.args[i], b); };
  auto integer_arg = [&](std::size_t i) { return integer_of(arg(i)); };
  switch (t.op) {
    case op::literal: return {t.value, 1};
    case op::symbol: return {*b.find(t.name), 1};
    case op::add:
    case op::sub: {
      const fraction x = arg(0), y = arg(1);
      const std::int64_t ny = t.op == op::add ? y.num : -y.num;
      return make_fraction(add_checked(mul_checked(x.num, y.den), mul_checked(ny, x.den)), mul_checked(x.den, y.den));
    }
    case op::mul: {
      const fraction x = arg(0), y = arg(1);
      return make_fraction(mul_checked(x.num, y.num), mul_checked(x.den, y.den));
    }
    case op::true_div: {
      const fraction x = arg(0), y = arg(1);
      if (y.num == 0) throw reference_failure{"division_by_zero"};
      return make_fraction(mul_checked(x.num, y.den), mul_checked(x.den, y.num));
    }
    case op::floor_div: return {floor_of(integer_arg(0), integer_arg(1)), 1};
    case op::mod: return {python_mod(integer_arg(0), integer_arg(1)), 1};
    case op::neg: {
      const fraction x = arg(0);
      return {-x.num, x.den};
    }
    case op::plus: return arg(0);
    case op::power: {
      const std::int64_t base = integer_arg(0), exponent = integer_arg(1);
      std::int64_t r = 1;
      for (std::int64_t i = 0; i < exponent; ++i) r = mul_checked(r, base);
      return {r, 1};
    }
    case op::call: break;
  }
  const std::string& f = t.name;
  if (f == "FloorDiv") return {floor_of(integer_arg(0), integer_arg(1)), 1};
  if (f == "CeilDiv") return {-floor_of(-integer_arg(0), integer_arg(1)), 1};
  if (f == "CleanDiv") {
    const std::int64_t x = integer_arg(0), y = integer_arg(1);
    if (y == 0) throw reference_failure{"division_by_zero"};
    if (x % y != 0) throw reference_failure{"inexact_division"};
    return {x / y, 1};
  }
  if (f == "Mod" || f == "PythonMod") return {python_mod(integer_arg(0), integer_arg(1)), 1};
  if (f == "ModularIndexing") {
    const std::int64_t x = integer_arg(0), d = integer_arg(1), m = integer_arg(2);
    return {python_mod(floor_of(x, d), m), 1};
  }
  if (f == "Min" || f == "Max") {
    std::int64_t r = integer_arg(0);
    for (std::size_t i = 1; i < t.args.size(); ++i) {
      const std::int64_t v = integer_arg(i);
      r = f == "Min" ? std::min(r, v) : std::max(r, v);
    }
    return {r, 1};
  }
  if (f == "Abs") return {checked(std::abs(integer_arg(0))), 1};
  if (f == "floor") {
    const fraction x = arg(0);
    return {floor_of(x.num, x.den), 1};
  }
  if (f == "ceiling") {
    const fraction x = arg(0);
    return {-floor_of(-x.num, x.den), 1};
  }
  throw std::logic_error("unknown function " + f);
}

// The reference's integer value of `t`, or its failure.
struct reference_outcome {
  std::optional<std::int64_t> value;
  std::string failure;
};

reference_outcome reference(const text_tree& t, const bindings& b) {
  try {
    return {integer_of(reference_value(t, b)), {}};
  } catch (const reference_failure& f) {
    return {std::nullopt, f.what};
  }
}

std::string describe(const bindings& b) {
  std::string out;
  for (const auto& s : wrapgraph::sym::testing::test_symbols) {
    if (!out.empty()) out += ' ';
    out += std::string(s.name) + "=" + std::to_string(*b.find(s.name));
  }
  return out;
}

}  // namespace

TEST_CASE("sym::parse keeps the value of uncanonical text: evaluate(parse(t)) equals an independent evaluation of t") {
  testing::random_text_generator generate(20240611);
  testing::random_source values(77);
  context ctx;
  testing::declare_test_symbols(ctx);

  constexpr int texts = 4000, bindings_per_text = 4;
  int compared = 0, undefined = 0, refused = 0;
  std::vector<std::string> failures;
  for (int i = 0; i < texts && failures.size() < 10; ++i) {
    auto [tree, text] = generate(4);
    std::vector<bindings> points;
    std::vector<reference_outcome> expected;
    for (int k = 0; k < bindings_per_text; ++k) {
      points.push_back(testing::random_bindings(values, 20));
      expected.push_back(reference(*tree, points.back()));
    }
    expr e;
    try {
      e = parse(ctx, text);
    } catch (const wrapgraph::sym_error& err) {
      // Canonicalisation may refuse a text only where the text has no value
      // at all: a divisor that is zero, a CleanDiv that is inexact, or int64
      // overflow of constants.
      ++refused;
      const bool known = err.has_id("wrapgraph.sym.division_by_zero") ||
                         err.has_id("wrapgraph.sym.inexact_division") || err.has_id("wrapgraph.sym.overflow");
      bool everywhere_undefined = true;
      for (const reference_outcome& r : expected) everywhere_undefined = everywhere_undefined && !r.value;
      if (!known || !everywhere_undefined)
        failures.push_back(text + ": parse throws " + err.what() + " but the text has a value");
      continue;
    }
    for (int k = 0; k < bindings_per_text; ++k) {
      if (!expected[k].value) {
        ++undefined;
        continue;
      }
      ++compared;
      std::string got;
      try {
        const std::int64_t v = evaluate(e, points[k]);
        if (v == *expected[k].value) continue;
        got = std::to_string(v);
      } catch (const wrapgraph::error& err) {
        got = err.what();
      }
      failures.push_back(text + " at " + describe(points[k]) + ": the text is " +
                         std::to_string(*expected[k].value) + ", " + to_string(e) + " gives " + got);
    }
  }
  std::string report;
  for (const std::string& f : failures) report += "\n  " + f;
  CHECK_MESSAGE(failures.empty(), report);
  MESSAGE(compared << " values compared, " << undefined << " points where the text has no value, "
                   << refused << " texts refused by canonicalisation");
  CHECK(compared > texts * bindings_per_text / 2);
}

// wrapgraph-symcheck: the C++ half of the sympy differential test
// (sympy_check.py drives it).
//
//   wrapgraph-symcheck random N SEED
//     prints N lines `TEXT <tab> BINDING <tab> RESULT`: a random expression
//     (to_string), values of the test symbols (`s0=3 s1=17 ...`) and what
//     evaluate() gives there: an integer or `error:<id>`.
//   wrapgraph-symcheck canon
//     reads lines `T1 <tab> T2` and prints for each `same <tab> P1`,
//     `diff <tab> P1 <tab> P2` (P = to_string of the parsed text) or
//     `error <tab> ID <tab> MESSAGE`. Each line is parsed in a fresh context
//     where the test symbols have their assumptions (s*: positive, u*:
//     nonnegative, z*: any integer) and other names are positive.

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>

#include "random_expr.hpp"

namespace {

using namespace wrapgraph::sym;

int random_mode(long count, std::uint64_t seed) {
  context ctx;
  testing::random_expr_generator generate(ctx, seed);
  testing::random_source values(seed ^ 0x5eed);
  std::string line;
  for (long i = 0; i < count; ++i) {
    const expr e = generate(4);
    const bindings b = testing::random_bindings(values);
    line = to_string(e);
    line += '\t';
    bool first = true;
    for (const testing::symbol_spec& s : testing::test_symbols) {
      if (!first) line += ' ';
      first = false;
      line += s.name;
      line += '=';
      line += std::to_string(*b.find(s.name));
    }
    line += '\t';
    try {
      line += std::to_string(evaluate(e, b));
    } catch (const wrapgraph::error& err) {
      line += "error:" + err.id();
    }
    std::cout << line << '\n';
  }
  return 0;
}

int canon_mode() {
  parse_options options;
  options.default_assumptions = positive;
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      std::cout << "error\tsymcheck.input\tno tab in the line\n";
      continue;
    }
    context ctx;
    testing::declare_test_symbols(ctx);
    try {
      const expr a = parse(ctx, std::string_view(line).substr(0, tab), options);
      const expr b = parse(ctx, std::string_view(line).substr(tab + 1), options);
      if (a == b)
        std::cout << "same\t" << to_string(a) << '\n';
      else
        std::cout << "diff\t" << to_string(a) << '\t' << to_string(b) << '\n';
    } catch (const wrapgraph::error& err) {
      std::cout << "error\t" << err.id() << '\t' << err.message() << '\n';
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "random" && argc == 4) return random_mode(std::atol(argv[2]), std::strtoull(argv[3], nullptr, 10));
  if (mode == "canon" && argc == 2) return canon_mode();
  std::cerr << "usage: wrapgraph-symcheck random N SEED | wrapgraph-symcheck canon\n";
  return 2;
}

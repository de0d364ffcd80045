// The `wrapgraph` command: works with wrapgraph's forms from the shell.

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/graph.hpp>
#include <wrapgraph/io/json.hpp>
#include <wrapgraph/sym.hpp>

namespace {

namespace sym = wrapgraph::sym;

constexpr std::string_view usage = R"(usage: wrapgraph COMMAND [ARGS...]

Commands:
  convert PROGRAM.json [--emit python|text|dot|json]
      Loads a wrapper program (the wrapgraph/1 JSON format), converts it into
      the graph IR and prints the graph: FX-style Python (the default), a
      table of nodes, Graphviz DOT, or the wrapgraph-graph/1 JSON. PROGRAM
      may be - for standard input.
  expr TEXT [--bind NAME=VALUE]... [--cpp]
      Parses a symbolic integer expression (the grammar of the program
      format: s0*s1 + 4, (s0 + 127)//128, ModularIndexing(x, 4, 8), ...),
      prints its canonical form, and its value when every symbol is bound.
      --cpp prints C++ text instead (helpers as in sym::cpp_prelude).
  solve LHS RHS --for SYMBOL
      Solves LHS == RHS for SYMBOL, where the equation is affine in it, and
      prints SYMBOL = solution (e.g. solve "2*s0 + 1" size --for s0).
  help, --help, -h
      Prints this text.

Symbols are integers without sign assumptions. Errors go to standard error
as "[id] message", with exit status 1 (2 for a usage error).
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "wrapgraph: " << message << "\n(see wrapgraph --help)\n";
  std::exit(2);
}

int expr_command(const std::vector<std::string_view>& args) {
  std::string_view text;
  bool cpp = false;
  sym::bindings values;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--cpp") {
      cpp = true;
    } else if (args[i] == "--bind") {
      if (i + 1 == args.size()) usage_error("--bind needs NAME=VALUE");
      const std::string_view binding = args[++i];
      const auto eq = binding.find('=');
      if (eq == std::string_view::npos) usage_error("--bind needs NAME=VALUE, got '" + std::string(binding) + "'");
      const std::string value(binding.substr(eq + 1));
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE)
        usage_error("--bind " + std::string(binding) + ": the value is not an int64");
      values.set(binding.substr(0, eq), v);
    } else if (text.empty()) {
      text = args[i];
    } else {
      usage_error("expr takes one expression, got another: '" + std::string(args[i]) + "'");
    }
  }
  if (text.empty()) usage_error("expr needs an expression");
  sym::context ctx;
  const sym::expr e = sym::parse(ctx, text);
  std::cout << (cpp ? sym::to_cpp(e) : sym::to_string(e)) << "\n";
  bool all_bound = true;
  for (const sym::expr s : sym::free_symbols(e)) all_bound = all_bound && values.contains(s.name());
  if (values.size() > 0 || sym::free_symbols(e).empty()) {
    if (!all_bound) {
      for (const sym::expr s : sym::free_symbols(e))
        if (!values.contains(s.name())) usage_error("symbol '" + std::string(s.name()) + "' has no --bind");
    }
    const std::int64_t value = sym::evaluate(e, values);
    std::cout << "= " << value << "\n";
  }
  return 0;
}

int convert_command(const std::vector<std::string_view>& args) {
  std::string_view path, emit = "python";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--emit") {
      if (i + 1 == args.size()) usage_error("--emit needs python, text, dot or json");
      emit = args[++i];
      if (emit != "python" && emit != "text" && emit != "dot" && emit != "json")
        usage_error("--emit takes python, text, dot or json, not '" + std::string(emit) + "'");
    } else if (path.empty()) {
      path = args[i];
    } else {
      usage_error("convert takes one program, got another: '" + std::string(args[i]) + "'");
    }
  }
  if (path.empty()) usage_error("convert needs a PROGRAM.json");
  wrapgraph::program program;
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    program = wrapgraph::io::load_program_text(text);
  } else {
    program = wrapgraph::io::load_program_file(std::string(path));
  }
  const wrapgraph::graph::graph g = wrapgraph::convert(program);
  if (emit == "python") std::cout << wrapgraph::graph::to_python(g);
  if (emit == "text") std::cout << wrapgraph::graph::to_text(g);
  if (emit == "dot") std::cout << wrapgraph::graph::to_dot(g);
  if (emit == "json") std::cout << wrapgraph::graph::to_json(g).dump(1) << "\n";
  return 0;
}

int solve_command(const std::vector<std::string_view>& args) {
  std::vector<std::string_view> sides;
  std::string_view unknown;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--for") {
      if (i + 1 == args.size()) usage_error("--for needs a symbol");
      unknown = args[++i];
    } else {
      sides.push_back(args[i]);
    }
  }
  if (sides.size() != 2 || unknown.empty()) usage_error("solve needs LHS RHS --for SYMBOL");
  sym::context ctx;
  const sym::expr lhs = sym::parse(ctx, sides[0]), rhs = sym::parse(ctx, sides[1]);
  const sym::expr symbol = sym::parse(ctx, unknown);
  const sym::expr solution = sym::solve_for(lhs, rhs, symbol);
  std::cout << unknown << " = " << solution << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << usage;
    return 2;
  }
  const std::string_view command = args[0];
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  try {
    if (command == "help" || command == "--help" || command == "-h") {
      std::cout << usage;
      return 0;
    }
    if (command == "convert") return convert_command(rest);
    if (command == "expr") return expr_command(rest);
    if (command == "solve") return solve_command(rest);
    usage_error("unknown command '" + std::string(command) + "'");
  } catch (const wrapgraph::error& e) {
    std::cerr << "wrapgraph: " << e.what() << "\n";
    return 1;
  }
}

// The `wrapgraph` command: works with wrapgraph's forms from the shell.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <wrapgraph/backend/cpu/backend.hpp>
#include <wrapgraph/backend/cpu/operators.hpp>
#if WRAPGRAPH_HAS_CUDA
#include <wrapgraph/backend/cuda.hpp>
#endif
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/examples.hpp>
#include <wrapgraph/exec/executable.hpp>
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
  run PROGRAM.json [--device cpu|cuda] [--graph] [--bind NAME=VALUE]... [--repeat N] [--seed S] [--verbose]
      Converts the program, compiles it for the device (cpp kernels built with
      the system compiler and cached, see WRAPGRAPH_CACHE_DIR; kernels of
      several configs autotuned at the symbols' hints), runs it on inputs
      filled from the seed (default 0) with sizes from --bind and the hints,
      and prints each output and the median time of N runs (default 1).
      --verbose also prints the autotuning choices and memory use. On cuda,
      the program's tensors are put on the GPU, and --graph runs through
      CUDA graphs (captured on the first run, replayed on the others).
  check PROGRAM.json... [--device cpu|cuda] [--graph]
      Runs each program's embedded examples and prints one line per example
      and a final "N passed, N failed"; exits with status 1 if any failed.
      --graph (cuda) runs each example twice through CUDA graphs: captured,
      then replayed, and checks the replay.
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

wrapgraph::program load(std::string_view path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return wrapgraph::io::load_program_text(text);
  }
  return wrapgraph::io::load_program_file(std::string(path));
}

// --device: cpu, or cuda in a build with the CUDA backend.
enum class device_choice { cpu, cuda };
device_choice parse_device_option(std::string_view device) {
  if (device == "cpu") return device_choice::cpu;
#if WRAPGRAPH_HAS_CUDA
  if (device == "cuda" || device == "cuda:0") return device_choice::cuda;
  usage_error("--device takes cpu or cuda, not '" + std::string(device) + "'");
#else
  usage_error("--device takes cpu (this build has no CUDA backend), not '" + std::string(device) + "'");
#endif
}

// Calls f(backend) with the backend of `device`.
template <class F>
int with_backend(device_choice device, bool graph, F&& f) {
#if WRAPGRAPH_HAS_CUDA
  if (device == device_choice::cuda) {
    wrapgraph::backend::cuda::cuda_backend cuda;
    return f(cuda);
  }
#endif
  if (graph) usage_error("--graph needs --device cuda");
  wrapgraph::backend::cpu::cpu_backend cpu;
  return f(cpu);
}

std::int64_t parse_int(std::string_view text, const char* what) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) usage_error(std::string(what) + " needs an integer, got '" + s + "'");
  return v;
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
  const wrapgraph::program program = load(path);
  const wrapgraph::graph::graph g = wrapgraph::convert(program);
  if (emit == "python") std::cout << wrapgraph::graph::to_python(g);
  if (emit == "text") std::cout << wrapgraph::graph::to_text(g);
  if (emit == "dot") std::cout << wrapgraph::graph::to_dot(g);
  if (emit == "json") std::cout << wrapgraph::graph::to_json(g).dump(1) << "\n";
  return 0;
}

// Compile options for backend B: the CPU's operators on the CPU; other
// backends bring their own.
template <class B>
wrapgraph::exec::compile_options default_options(const B&) {
  wrapgraph::exec::compile_options options;
  if constexpr (std::is_same_v<B, wrapgraph::backend::cpu::cpu_backend>)
    options.operators = &wrapgraph::backend::cpu::builtin_operators();
  return options;
}

template <class B>
int run_on(B& b, const wrapgraph::program& program, const sym::bindings& values, std::int64_t repeat,
           std::int64_t seed, bool verbose, bool graph) {
  namespace exec = wrapgraph::exec;
  wrapgraph::graph::graph g = wrapgraph::convert(program);
  wrapgraph::graph::move_to_device(g, b.dev());
  exec::compile_options options = default_options(b);
  options.seed = static_cast<std::uint64_t>(seed);
  for (const auto& [name, decl] : program.symbols)
    if (const auto v = values.find(name)) options.hints.set(name, *v);
  if (verbose) options.log = [](const std::string& line) { std::cout << line << "\n"; };
  auto x = exec::compile(g, program, b, options);
  const std::vector<exec::value> inputs = exec::seeded_inputs(program, b, values, static_cast<std::uint64_t>(seed));
  b.synchronize();
  b.memory()->reset_stats();
  exec::value out;
  std::vector<double> seconds;
  for (std::int64_t r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    if constexpr (exec::capturing_backend<B>) {
      out = graph ? x.run_graph(inputs) : x.run(inputs);
    } else {
      out = x.run(inputs);
    }
    b.synchronize();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const auto print = [&](const exec::value& v) {
    const exec::tensor* t = v.as_tensor();
    if (!t || t->dev().kind == wrapgraph::device_kind::cpu) return exec::to_string(v);
    auto host = std::make_shared<exec::host_memory>();
    auto storage = host->allocate(t->storage()->bytes());
    b.to_host(storage->data(), t->storage()->data(), t->storage()->bytes());
    return exec::to_string(exec::value(exec::tensor(storage, t->type(), t->sizes(), t->strides(), t->offset())));
  };
  const wrapgraph::exec::value_list* list = out.as_list();
  if (program.outputs.size() == 1 || !list) {
    std::cout << "output: " << print(out) << "\n";
  } else {
    for (std::size_t i = 0; i < list->size(); ++i) std::cout << "output " << i << ": " << print((*list)[i]) << "\n";
  }
  std::cout << "time per run: " << seconds[seconds.size() / 2] * 1e6 << " us (median of " << repeat << ")\n";
  if (verbose) {
    const exec::memory_stats m = b.memory()->stats();
    std::cout << "memory: peak " << m.peak_bytes << " bytes, " << m.allocations << " allocations\n";
  }
  return 0;
}

int run_command(const std::vector<std::string_view>& args) {
  std::string_view path;
  sym::bindings values;
  std::int64_t repeat = 1, seed = 0;
  bool verbose = false, graph = false;
  device_choice device = device_choice::cpu;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto next = [&](const char* what) {
      if (i + 1 == args.size()) usage_error(std::string(what) + " needs a value");
      return args[++i];
    };
    if (args[i] == "--device") {
      device = parse_device_option(next("--device"));
    } else if (args[i] == "--graph") {
      graph = true;
    } else if (args[i] == "--bind") {
      const std::string_view binding = next("--bind");
      const auto eq = binding.find('=');
      if (eq == std::string_view::npos) usage_error("--bind needs NAME=VALUE, got '" + std::string(binding) + "'");
      values.set(binding.substr(0, eq), parse_int(binding.substr(eq + 1), "--bind"));
    } else if (args[i] == "--repeat") {
      repeat = parse_int(next("--repeat"), "--repeat");
      if (repeat < 1) usage_error("--repeat needs a positive count");
    } else if (args[i] == "--seed") {
      seed = parse_int(next("--seed"), "--seed");
    } else if (args[i] == "--verbose") {
      verbose = true;
    } else if (path.empty()) {
      path = args[i];
    } else {
      usage_error("run takes one program, got another: '" + std::string(args[i]) + "'");
    }
  }
  if (path.empty()) usage_error("run needs a PROGRAM.json");
  const wrapgraph::program program = load(path);
  return with_backend(device, graph, [&](auto& b) { return run_on(b, program, values, repeat, seed, verbose, graph); });
}

int check_command(const std::vector<std::string_view>& args) {
  std::vector<std::string_view> paths;
  device_choice device = device_choice::cpu;
  bool graph = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--device") {
      if (i + 1 == args.size()) usage_error("--device needs a value");
      device = parse_device_option(args[++i]);
    } else if (args[i] == "--graph") {
      graph = true;
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.empty()) usage_error("check needs at least one PROGRAM.json");
  namespace exec = wrapgraph::exec;
  return with_backend(device, graph, [&](auto& b) {
    const exec::run_mode mode = graph ? exec::run_mode::graph : exec::run_mode::eager;
    std::size_t passed = 0, failed = 0;
    for (std::string_view path : paths) {
      try {
        const wrapgraph::program program = load(path);
        const auto results = exec::check_examples(program, b, default_options(b), mode);
        if (results.empty()) std::cout << path << ": no examples\n";
        for (const exec::example_result& r : results) {
          std::cout << path << " example " << r.index << ": " << (r.passed ? "passed" : "FAILED") << " (" << r.message
                    << ")\n";
          ++(r.passed ? passed : failed);
        }
      } catch (const wrapgraph::error& e) {
        std::cout << path << ": FAILED (" << e.what() << ")\n";
        ++failed;
      }
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
  });
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
    if (command == "run") return run_command(rest);
    if (command == "check") return check_command(rest);
    usage_error("unknown command '" + std::string(command) + "'");
  } catch (const wrapgraph::error& e) {
    std::cerr << "wrapgraph: " << e.what() << "\n";
    return 1;
  }
}

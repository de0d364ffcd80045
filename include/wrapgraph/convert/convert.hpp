#pragma once
/// Program → graph: the reference converter's semantics line by line (one
/// handler per line kind), hash-consed lowering of symbolic expressions into
/// arithmetic nodes, and clear errors for malformed programs.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <wrapgraph/detail/string_map.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/print.hpp>
#include <wrapgraph/sym/solve.hpp>
#include <wrapgraph/sym/substitute.hpp>

namespace wrapgraph {

namespace convert_detail {

using graph::argument;
using graph::argument_list;
using graph::keyword_arguments;
using graph::node_ref;
using graph::op_kind;
using graph::vertex;

/// The launched parameters of a kernel and what each one takes.
struct kernel_info {
  const kernel_definition_line* definition = nullptr;
  std::size_t line = 0;
  std::vector<const kernel_param*> launched;  // signature minus constexpr minus constants
  /// Values a grid may name, from the chosen (first) config and the
  /// constants: worked out once per definition, not per call.
  std::vector<std::pair<sym::expr, sym::expr>> config_values;
  std::size_t chosen_values = 0;  ///< how many of config_values come from the chosen config (they come first)
  graph::argument config;  ///< the chosen config as a graph argument
  /// The grid of the last call, lowered, and what it was lowered from: the
  /// grid's expressions and the values the call bound. Calls of one kernel
  /// mostly repeat them, and the lowered values never change once made.
  struct lowered_grid {
    std::vector<sym::expr> grid;
    std::vector<std::pair<sym::expr, sym::expr>> bound;
    std::vector<graph::argument> values;
  } last_grid;
};

/// The value a pointer parameter type names (`*fp32` → float32).
inline std::optional<dtype> pointer_dtype(std::string_view type) {
  if (!type.starts_with('*')) return std::nullopt;
  const std::string_view code = type.substr(1);
  struct entry {
    std::string_view code;
    dtype type;
  };
  static constexpr entry codes[] = {{"fp32", dtype::float32}, {"fp16", dtype::float16}, {"bf16", dtype::bfloat16},
                                    {"fp64", dtype::float64}, {"i1", dtype::bool_},      {"i8", dtype::int8},
                                    {"i16", dtype::int16},    {"i32", dtype::int32},     {"i64", dtype::int64},
                                    {"u8", dtype::uint8}};
  for (const entry& e : codes)
    if (e.code == code) return e.type;
  return std::nullopt;
}

inline bool is_scalar_type(std::string_view type) {
  return type == "i32" || type == "i64" || type == "fp32" || type == "fp64";
}

/// The operator overloads a scatter_fallback line may name, and the reduce
/// values each accepts (empty: takes no reduce).
struct scatter_overload {
  std::string_view name;
  std::initializer_list<std::string_view> reduces;
  bool needs_reduce;
};

inline const scatter_overload* find_scatter_overload(std::string_view name) {
  static const scatter_overload overloads[] = {
      {"aten.scatter_.src", {}, false},
      {"aten.scatter_.value", {}, false},
      {"aten.scatter_.reduce", {"add", "multiply", "sum", "prod"}, true},
      {"aten.scatter_.value_reduce", {"add", "multiply", "sum", "prod"}, true},
      {"aten.scatter_reduce_.two", {"sum", "prod", "mean", "amax", "amin"}, true},
  };
  for (const scatter_overload& o : overloads)
    if (o.name == name) return &o;
  return nullptr;
}

/// An operator name as the program format writes it: dotted identifiers,
/// e.g. aten.addmm.out.
inline bool is_operator_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find('.') == std::string_view::npos)
    return false;
  bool start = true;
  for (char c : name) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (c == '.') {
      if (start) return false;
      start = true;
    } else if (alpha || (digit && !start)) {
      start = false;
    } else {
      return false;
    }
  }
  return true;
}

/// The FX-style name of a call node of `target`: the last identifier that
/// names the operation (aten.addmm.out → addmm, operator.add → add,
/// aten.sym_size.int → sym_size_int).
inline std::string default_name(std::string_view target) {
  if (target == "aten.sym_size.int") return "sym_size_int";
  if (target == "aten.sym_stride.int") return "sym_stride_int";
  const std::size_t last = target.rfind('.');
  if (last == std::string_view::npos) return std::string(target);
  const std::size_t before = last == 0 ? std::string_view::npos : target.rfind('.', last - 1);
  // namespace.op.overload → op; module.function → function
  if (before == std::string_view::npos) return std::string(target.substr(last + 1));
  return std::string(target.substr(before + 1, last - before - 1));
}

/// Which argument of a line a message is about, e.g. "argument 2 ('xnumel')";
/// built into text only when an error is raised.
struct place {
  std::string_view what;
  std::size_t index = std::string_view::npos;
  std::string_view name = {};

  place(const char* w) : what(w) {}  // NOLINT: a plain description converts
  place(std::string_view w, std::size_t i, std::string_view n = {}) : what(w), index(i), name(n) {}

  [[nodiscard]] std::string text() const {
    std::string t(what);
    if (index != std::string_view::npos) t += " " + std::to_string(index);
    if (!name.empty()) t += " ('" + std::string(name) + "')";
    return t;
  }
};

/// The names a program has defined: live ones map to their node; freed ones
/// remember the line that freed them (for use-after-free messages).
class name_table {
 public:
  void reserve(std::size_t n) { names_.reserve(n); }
  [[nodiscard]] const vertex* live(std::string_view name) const {
    const entry* e = names_.find(name);
    return e && e->live ? &e->node : nullptr;
  }
  [[nodiscard]] std::optional<std::size_t> freed_at(std::string_view name) const {
    const entry* e = names_.find(name);
    if (!e || e->live) return std::nullopt;
    return e->freed_line;
  }
  [[nodiscard]] bool ever_defined(std::string_view name) const { return names_.contains(name); }
  void define(std::string_view name, vertex v) { names_.set(name, entry{v, 0, true}); }
  void release(std::string_view name, std::size_t line) {
    if (entry* e = names_.find(name)) *e = entry{e->node, line, false};
  }

 private:
  struct entry {
    vertex node = 0;
    std::size_t freed_line = 0;
    bool live = false;
  };
  wrapgraph::detail::string_map<entry> names_;
};

/// Converts one program (the parent or a subgraph) into one graph.
class converter {
 public:
  converter(const program& p, std::string scope) : program_(p), scope_(std::move(scope)), graph_(p.ctx) {}

  graph::graph run(bool is_subgraph) {
    // Programs have about as many nodes as lines; a bigger guess costs little.
    graph_.reserve(program_.lines.size() + 2 * program_.inputs.size() + 16);
    table_.reserve(program_.lines.size() + program_.inputs.size());
    generate_inputs();
    generate_constants();
    generate_subgraphs();
    generate_input_shapes();
    for (line_ = 0; line_ < program_.lines.size(); ++line_) {
      current_ = &program_.lines[line_];
      visit_line(*this, program_.lines[line_]);
    }
    current_ = nullptr;
    generate_outputs(is_subgraph);
    return std::move(graph_);
  }

  // ---- one handler per line kind --------------------------------------------

  void operator()(const allocate_line& l) {
    const vertex v = allocation(l.buffer, "torch.empty_strided", {});
    (void)v;
  }

  void operator()(const free_line& l) { free_name(l.name); }

  void operator()(const free_if_not_reused_line& l) {
    if (!l.is_reused)
      free_name(l.name);
    else
      (void)lookup(l.name);  // must still exist
  }

  void operator()(const reuse_line& l) {
    const vertex old = lookup(l.old);
    const graph::tensor_meta* meta = graph_[old].tensor();
    if (!meta) fail("wrapgraph.program.not_a_tensor", "'" + l.old + "' is not a tensor and cannot be reused");
    const tensor_layout& layout = l.new_buffer.layout;
    if (meta->type != layout.type) {
      fail("wrapgraph.program.dtype_mismatch", "'" + l.new_buffer.name + "' (" + std::string(to_string(layout.type)) +
                                                   ") cannot reuse '" + l.old + "' (" +
                                                   std::string(to_string(meta->type)) + ")");
    }
    if (!(meta->dev == layout.dev)) {
      fail("wrapgraph.program.device_mismatch", "'" + l.new_buffer.name + "' on " + to_string(layout.dev) +
                                                    " cannot reuse '" + l.old + "' on " + to_string(meta->dev));
    }
    check_new_name(l.new_buffer.name);
    const sym::expr offset = offset_of(layout);
    const bool same_layout = std::ranges::equal(meta->size, layout.size) &&
                             std::ranges::equal(meta->stride, layout.stride) && meta->offset == offset;
    if (same_layout) {
      define(l.new_buffer.name, old);
      return;
    }
    const vertex v = as_strided(old, layout.size, layout.stride, offset, l.new_buffer.name, *meta);
    define(l.new_buffer.name, v);
    const bool is_output = std::any_of(program_.outputs.begin(), program_.outputs.end(), [&](const ref& r) {
      const name_ref* n = std::get_if<name_ref>(&r);
      return n && n->name == l.old;
    });
    if (l.delete_old && !is_output) release(l.old);
  }

  void operator()(const reinterpret_line& l) {
    const vertex input = lookup(l.input);
    const graph::tensor_meta* meta = graph_[input].tensor();
    if (!meta) fail("wrapgraph.program.not_a_tensor", "'" + l.input + "' is not a tensor and has no view");
    check_new_name(l.result);
    const sym::expr offset = ctx().add(meta->offset, l.offset ? l.offset : ctx().integer(0));
    const vertex v = as_strided(input, l.size, l.stride, offset, l.result, *meta);
    define(l.result, v);
  }

  void operator()(const kernel_definition_line& l) {
    if (const auto it = kernels_.find(l.kernel); it != kernels_.end()) {
      fail("wrapgraph.program.kernel_redefinition",
           "kernel '" + l.kernel + "' was already defined at line " + std::to_string(it->second.line));
    }
    const kernel_implementations& impl = l.implementations;
    if (!impl.cpp && !impl.cuda && !impl.cubin)
      fail("wrapgraph.program.no_implementation", "kernel '" + l.kernel + "' has no implementation");
    if (impl.cubin && !impl.cubin->binary && impl.cubin->per_config.size() != std::max<std::size_t>(l.configs.size(), 1)) {
      fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': a cubin needs one binary, or one per config (" +
                                               std::to_string(l.configs.size()) + " configs, " +
                                               std::to_string(impl.cubin->per_config.size()) + " binaries)");
    }
    kernel_info info{&l, line_, {}, {}, 0, {}, {}};
    std::unordered_set<std::string> names;
    for (const kernel_param& p : l.signature) {
      if (!names.insert(p.name).second)
        fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': parameter '" + p.name + "' appears twice");
      const bool known = p.type == "constexpr" || is_scalar_type(p.type) || pointer_dtype(p.type);
      if (!known) {
        fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': parameter '" + p.name + "' has type '" +
                                                 p.type + "'; expected *fp32, *fp16, *bf16, *fp64, *i1, *i8, "
                                                 "*i16, *i32, *i64, *u8, i32, i64, fp32, fp64 or constexpr");
      }
    }
    auto is_constant = [&](const std::string& name) {
      return std::any_of(l.constants.begin(), l.constants.end(), [&](const auto& c) { return c.first == name; });
    };
    for (const auto& [name, value] : l.constants) {
      if (!names.contains(name))
        fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': constant '" + name + "' is not a parameter");
    }
    for (const kernel_param& p : l.signature) {
      if (p.type == "constexpr" && !is_constant(p.name)) {
        for (std::size_t c = 0; c < l.configs.size(); ++c) {
          const kernel_values& config = l.configs[c];
          if (std::none_of(config.begin(), config.end(), [&](const auto& kv) { return kv.first == p.name; })) {
            fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': config " + std::to_string(c) +
                                                     " gives no value for constexpr parameter '" + p.name + "'");
          }
        }
        if (l.configs.empty()) {
          fail("wrapgraph.program.bad_kernel", "kernel '" + l.kernel + "': constexpr parameter '" + p.name +
                                                   "' has no value (no constants entry and no configs)");
        }
      }
    }
    info.launched = launched_parameters(l);
    const kernel_values chosen = l.configs.empty() ? kernel_values{} : l.configs.front();
    auto bind = [&](const kernel_values& values) {
      for (const auto& [name, value] : values) {
        const std::int64_t* i = std::get_if<std::int64_t>(&value);
        if (!i) continue;
        if (const sym::expr symbol = ctx().find_symbol(name)) info.config_values.emplace_back(symbol, ctx().integer(*i));
      }
    };
    bind(chosen);
    info.chosen_values = info.config_values.size();
    bind(l.constants);
    info.config = config_argument(chosen);
    kernels_.emplace(l.kernel, std::move(info));
    graph_.define_kernel(l.kernel, std::make_shared<const kernel_definition_line>(l));
  }

  void operator()(const kernel_call_line& l) {
    const auto it = kernels_.find(l.kernel);
    if (it == kernels_.end()) fail("wrapgraph.program.unknown_kernel", "kernel '" + l.kernel + "' is not defined");
    kernel_info& info = it->second;
    if (l.args.size() != info.launched.size()) {
      fail("wrapgraph.program.argument_count", "kernel '" + l.kernel + "' takes " +
                                                   std::to_string(info.launched.size()) + " launched arguments, got " +
                                                   std::to_string(l.args.size()));
    }
    if (l.grid.empty() || l.grid.size() > 3) {
      fail("wrapgraph.program.grid_rank",
           "a grid has one to three dimensions, got " + std::to_string(l.grid.size()));
    }
    // Values the grid may name: the chosen config's parameters, the
    // constants, and the call's scalar arguments by their parameter names.
    sym::detail::small_vector<std::pair<sym::expr, sym::expr>> known(info.config_values.begin(),
                                                                     info.config_values.end());
    auto bind = [&](const std::string& name, sym::expr value) {
      if (const sym::expr s = ctx().find_symbol(name)) known.emplace_back(s, value);  // a config value wins
    };
    argument_list args = new_list(l.args.size());
    for (std::size_t i = 0; i < l.args.size(); ++i) {
      const kernel_param& p = *info.launched[i];
      const place where("argument", i, p.name);
      if (const auto element = pointer_dtype(p.type)) {
        const vertex v = tensor_argument(l.args[i], where);
        const graph::tensor_meta* meta = graph_[v].tensor();
        if (meta && meta->type != *element) {
          fail("wrapgraph.program.dtype_mismatch", where.text() + " of kernel '" + l.kernel + "' is " + p.type + ", but '" +
                                                       graph_[v].name + "' holds " +
                                                       std::string(to_string(meta->type)));
        }
        args.emplace_back(node_ref{v});
      } else {
        const scalar_arg s = scalar_argument(l.args[i], p.type, where);
        if (s.value) bind(p.name, s.value);
        args.push_back(s.arg);
      }
    }
    argument_list grid = new_list(3);
    for (const argument& g : lowered_grid(info, l.grid, {known.data(), known.size()})) grid.push_back(g);
    while (grid.size() < 3) grid.emplace_back(std::int64_t{1});
    const vertex v = graph_.call(
        "wrapgraph.kernel_call", l.kernel, {},
        kwargs_of(std::pair("kernel", argument(l.kernel)), std::pair("grid", argument(std::move(grid))),
                  std::pair("config", copy_of(info.config)), std::pair("args", argument(std::move(args)))));
    if (info.definition->configs.size() > 1) {
      // Another config may be chosen at run time: keep the grid with the
      // config's parameters as symbols (the call's arguments substituted).
      const std::span<const std::pair<sym::expr, sym::expr>> call_values(known.data() + info.chosen_values,
                                                                         known.size() - info.chosen_values);
      std::vector<sym::expr> launch;
      for (const sym::expr& g : l.grid) launch.push_back(sym::substitute(g, call_values));
      graph_.set_launch_grid(v, std::move(launch));
    }
  }

  // The grid of a call, its config's and arguments' values substituted, as
  // graph values: worked out again only when the call differs from the
  // kernel's previous one.
  const std::vector<argument>& lowered_grid(kernel_info& info, const std::vector<sym::expr>& grid,
                                            std::span<const std::pair<sym::expr, sym::expr>> known) {
    kernel_info::lowered_grid& last = info.last_grid;
    const auto bound = known.subspan(info.config_values.size());
    if (!last.values.empty() && std::ranges::equal(last.grid, grid) && std::ranges::equal(last.bound, bound))
      return last.values;
    std::vector<argument> values;
    values.reserve(grid.size());
    for (const sym::expr& g : grid) values.push_back(lower(sym::substitute(g, known)));
    last = {grid, {bound.begin(), bound.end()}, std::move(values)};
    return last.values;
  }

  void operator()(const symbolic_call_arg_line& l) {
    const sym::expr symbol = symbol_named(l.name);
    if (exprs_.contains(symbol))
      fail("wrapgraph.program.symbol_redefinition", "symbol '" + l.name + "' is already defined");
    exprs_[symbol] = lower(l.value);
  }

  void operator()(const extern_kernel_out_line& l) {
    check_operator_name(l.kernel);
    argument_list args = extern_args(l.args);
    keyword_arguments kwargs = extern_kwargs(l.kwargs);
    const vertex out = tensor_argument(l.out, "the out argument");
    kwargs.emplace_back("out", node_ref{out});
    graph_.call(l.kernel, default_name(l.kernel), std::move(args), std::move(kwargs));
  }

  void operator()(const extern_kernel_alloc_line& l) {
    check_operator_name(l.kernel);
    argument_list args = extern_args(l.args);
    keyword_arguments kwargs = extern_kwargs(l.kwargs);
    graph::node_meta meta;
    if (l.layout) meta = tensor_meta_of(*l.layout);
    if (l.result_kind == extern_result_kind::none) {
      graph_.call(l.kernel, default_name(l.kernel), std::move(args), std::move(kwargs), std::move(meta));
      return;
    }
    check_new_name(l.result);
    if (l.result_kind == extern_result_kind::multi) meta = {};
    const vertex v = graph_.call(l.kernel, l.result, std::move(args), std::move(kwargs), std::move(meta));
    define(l.result, v);
    if (l.result_kind == extern_result_kind::multi) multi_.insert(v);
  }

  void operator()(const multi_output_line& l) {
    const vertex input = lookup(l.input);
    check_new_name(l.result);
    if (l.index.empty()) {
      define(l.result, input);
      return;
    }
    if (!multi_.contains(input)) {
      fail("wrapgraph.program.not_multi_output",
           "'" + l.input + "' is not a multi-output result (of an extern operator with result_kind 'multi' or of "
           "a conditional); it has no elements to take");
    }
    vertex v = input;
    for (std::size_t i = 0; i < l.index.size(); ++i) {
      const bool last = i + 1 == l.index.size();
      v = graph_.call("operator.getitem", last ? std::string_view(l.result) : std::string_view("getitem"),
                      {node_ref{v}, l.index[i]});
      if (!last) multi_.insert(v);
    }
    define(l.result, v);
  }

  void operator()(const conditional_line& l) {
    const argument predicate = value_argument(l.predicate, "the predicate");
    const vertex true_graph = subgraph_attr(l.true_subgraph);
    const vertex false_graph = subgraph_attr(l.false_subgraph);
    const program& t = *program_.find_subgraph(l.true_subgraph);
    const program& f = *program_.find_subgraph(l.false_subgraph);
    for (const auto& [name, body] : {std::pair{&l.true_subgraph, &t}, std::pair{&l.false_subgraph, &f}}) {
      if (body->inputs.size() != l.operands.size()) {
        fail("wrapgraph.program.operand_count", "subgraph '" + *name + "' takes " +
                                                    std::to_string(body->inputs.size()) + " operands, got " +
                                                    std::to_string(l.operands.size()));
      }
    }
    if (t.outputs.size() != f.outputs.size()) {
      fail("wrapgraph.program.branch_mismatch", "the branches disagree in their outputs: '" + l.true_subgraph +
                                                    "' returns " + std::to_string(t.outputs.size()) + ", '" +
                                                    l.false_subgraph + "' returns " + std::to_string(f.outputs.size()));
    }
    argument_list operands;
    for (std::size_t i = 0; i < l.operands.size(); ++i)
      operands.push_back(value_argument(l.operands[i], place("operand", i)));
    check_new_name(l.result);
    const vertex v = graph_.call("higher_order.cond", "cond",
                                 {predicate, node_ref{true_graph}, node_ref{false_graph}, std::move(operands)});
    define(l.result, v);
    multi_.insert(v);
  }

  void operator()(const dynamic_scalar_line& l) {
    const vertex input = tensor_argument(l.input, "the input");
    const sym::expr symbol = symbol_named(l.symbol);
    if (exprs_.contains(symbol))
      fail("wrapgraph.program.symbol_redefinition", "symbol '" + l.symbol + "' is already defined");
    vertex source = input;
    if (l.keypath.size() == 1 && l.keypath[0] == "convert_int") {
      source = graph_.call("aten.where.Scalar", "where", {node_ref{input}, std::int64_t{1}, std::int64_t{0}});
    } else if (!l.keypath.empty()) {
      std::string path;
      for (const std::string& k : l.keypath) path += (path.empty() ? "" : ", ") + k;
      fail("wrapgraph.program.bad_keypath",
           "a dynamic scalar's keypath is [] or [\"convert_int\"], got [" + path + "]");
    }
    const vertex item = graph_.call("aten.item.default", "item", {node_ref{source}}, {}, graph::int_meta{symbol});
    exprs_[symbol] = node_ref{item};
    define(l.symbol, item);
  }

  void operator()(const unbacked_symbol_defs_line& l) {
    if (l.bindings.empty()) return;  // the result may be an alias without a table entry
    const vertex root = lookup(l.output);
    for (const auto& [name, path] : l.bindings) {
      const sym::expr symbol = symbol_named(name);
      if (exprs_.contains(symbol) || table_.live(name)) continue;  // already defined: keep the first
      const vertex v = follow_key_path(root, path, name);
      graph_[v].meta = graph::int_meta{symbol};
      exprs_[symbol] = node_ref{v};
      define(name, v);
    }
  }

  void operator()(const scatter_fallback_line& l) {
    const scatter_overload* overload = find_scatter_overload(l.kernel);
    if (!overload) {
      fail("wrapgraph.program.unknown_operator",
           "'" + l.kernel + "' is not a scatter overload (aten.scatter_.src, aten.scatter_.value, "
           "aten.scatter_.reduce, aten.scatter_.value_reduce, aten.scatter_reduce_.two)");
    }
    const vertex self = tensor_argument(l.self, "self");
    const vertex index = tensor_argument(l.index, "index");
    argument src = std::holds_alternative<name_ref>(l.src) || std::holds_alternative<view_ref>(l.src)
                       ? argument(node_ref{tensor_argument(l.src, "src")})
                       : constant_argument(l.src, "src");
    keyword_arguments kwargs;
    if (l.reduce) {
      if (!overload->needs_reduce) {
        fail("wrapgraph.program.bad_argument",
             l.kernel + " takes no reduce; name aten.scatter_.reduce or aten.scatter_.value_reduce");
      }
      if (std::find(overload->reduces.begin(), overload->reduces.end(), *l.reduce) == overload->reduces.end())
        fail("wrapgraph.program.bad_argument", l.kernel + " does not reduce with '" + *l.reduce + "'");
      kwargs.emplace_back("reduce", argument(*l.reduce));
    } else if (overload->needs_reduce) {
      fail("wrapgraph.program.bad_argument", l.kernel + " needs a reduce");
    }
    const vertex v = graph_.call(l.kernel, default_name(l.kernel),
                                 list_of(node_ref{self}, l.dim, node_ref{index}, std::move(src)), std::move(kwargs),
                                 graph_[self].meta);
    remap_mutated(l.self, v);
  }

  void operator()(const index_put_fallback_line& l) {
    const vertex self = tensor_argument(l.self, "self");
    argument_list indices;
    for (std::size_t i = 0; i < l.indices.size(); ++i) {
      if (std::holds_alternative<none_ref>(l.indices[i]))
        indices.emplace_back();
      else
        indices.emplace_back(node_ref{tensor_argument(l.indices[i], place("index", i))});
    }
    const vertex values = tensor_argument(l.values, "values");
    const vertex v = graph_.call("aten.index_put_.default", "index_put_",
                                 list_of(node_ref{self}, std::move(indices), node_ref{values}, l.accumulate), {},
                                 graph_[self].meta);
    remap_mutated(l.self, v);
  }

  void operator()(const comm_buffer_allocate_line& l) {
    allocation(l.buffer, "wrapgraph.comm_buffer_allocate",
               {{"comm_type", argument(l.comm_type)}, {"group", argument(l.group)}});
  }

  void operator()(const comm_buffer_free_line& l) { free_name(l.name); }

  // Lines without effect on the graph.
  void operator()(const comment_line&) {}
  void operator()(const null_line&) {}
  void operator()(const line_context_line&) {}
  void operator()(const enter_device_context_line&) {}
  void operator()(const exit_device_context_line&) {}
  void operator()(const enter_subgraph_line&) {}
  void operator()(const exit_subgraph_line&) {}

 private:
  struct scalar_arg {
    argument arg;
    sym::expr value;  // the symbolic value, when the argument is an integer
  };

  sym::context& ctx() { return *program_.ctx; }

  // ---- errors ------------------------------------------------------------------

  [[noreturn]] void fail(std::string id, const std::string& what) const {
    std::string where = scope_.empty() ? "" : "subgraph '" + scope_ + "', ";
    if (current_) {
      where += "line " + std::to_string(line_) + " (" + std::string(op_of(*current_)) + line_subject() + "): ";
    } else {
      where += phase_.empty() ? "" : phase_ + ": ";
    }
    throw program_error(std::move(id), where + what);
  }

  // What the current line is about, for messages: "kernel_call k3".
  std::string line_subject() const {
    return std::visit(
        [](const auto& l) -> std::string {
          if constexpr (requires { l.kernel; }) return " " + l.kernel;
          else if constexpr (requires { l.buffer.name; }) return " " + l.buffer.name;
          else if constexpr (requires { l.result; }) return " " + l.result;
          else if constexpr (requires { l.name; requires std::same_as<decltype(l.name), std::string>; })
            return " " + l.name;
          else return std::string{};
        },
        *current_);
  }

  // ---- names -------------------------------------------------------------------

  vertex lookup(const std::string& name) const {
    if (const vertex* v = table_.live(name)) return *v;
    if (const auto it = table_.freed_at(name)) {
      fail("wrapgraph.program.use_after_free",
           "buffer '" + name + "' was freed at line " + std::to_string(*it));
    }
    fail("wrapgraph.program.unknown_buffer", "'" + name + "' is not defined");
  }

  void check_new_name(const std::string& name) const {
    if (table_.live(name)) fail("wrapgraph.program.redefinition", "'" + name + "' is already defined");
  }

  void define(const std::string& name, vertex v) {
    table_.define(name, v);
  }

  void release(const std::string& name) {
    table_.release(name, line_);
  }

  void free_name(const std::string& name) {
    if (const vertex* it = table_.live(name)) {
      if (graph_[*it].op == op_kind::placeholder) return;  // inputs are never freed
      release(name);
      return;
    }
    if (const auto it = table_.freed_at(name))
      fail("wrapgraph.program.double_free", "'" + name + "' was already freed at line " + std::to_string(*it));
    fail("wrapgraph.program.unknown_buffer", "cannot free '" + name + "', which is not defined");
  }

  // After an in-place fallback, the mutated buffer's name refers to its node.
  void remap_mutated(const ref& self, vertex v) {
    if (const name_ref* n = std::get_if<name_ref>(&self)) {
      if (graph_[*table_.live(n->name)].op != op_kind::placeholder) table_.define(n->name, v);
    }
  }

  sym::expr symbol_named(const std::string& name) {
    if (const sym::expr s = ctx().find_symbol(name)) return s;
    if (const symbol_decl* decl = program_.find_symbol(name)) return ctx().symbol(name, assumptions_of(*decl));
    return ctx().symbol(name, sym::any_integer);
  }

  // ---- expressions ---------------------------------------------------------------

  /// The graph value of an integer expression: an int, or the node computing
  /// it, one node per distinct subexpression.
  argument lower(sym::expr e) {
    if (e.is_integer()) return argument(e.value());
    if (const auto it = exprs_.find(e); it != exprs_.end()) return it->second;
    if (e.is_symbol()) {
      fail("wrapgraph.program.undefined_symbol",
           "symbol '" + std::string(e.name()) + "' is not defined (by an input's size or stride, a symbol input, "
           "a symbolic_call_arg, a dynamic_scalar or an unbacked_symbol_defs line)");
    }
    argument result;
    switch (e.kind()) {
      case sym::expr_kind::add:
        result = lower_sum(e);
        break;
      case sym::expr_kind::mul:
        result = lower_product(e);
        break;
      case sym::expr_kind::pow:
        result = binary("operator.pow", e, e.arg(0), e.arg(1));
        break;
      case sym::expr_kind::floor_div:
      case sym::expr_kind::clean_div:
        result = binary("operator.floordiv", e, e.arg(0), e.arg(1));
        break;
      case sym::expr_kind::ceil_div:
        result = binary("wrapgraph.ceil_div", e, e.arg(0), e.arg(1));
        break;
      case sym::expr_kind::mod:
        result = binary("operator.mod", e, e.arg(0), e.arg(1));
        break;
      case sym::expr_kind::modular_indexing: {
        const sym::expr q = ctx().floor_div(e.arg(0), e.arg(1));
        result = node_of("operator.mod", e, {lower(q), lower(e.arg(2))});
        break;
      }
      case sym::expr_kind::min:
      case sym::expr_kind::max:
        result = lower_chain(e, e.is(sym::expr_kind::min) ? "torch.sym_min" : "torch.sym_max");
        break;
      case sym::expr_kind::abs:
        result = node_of("operator.abs", e, {lower(e.arg(0))});
        break;
      case sym::expr_kind::rational:
        fail("wrapgraph.program.not_integer", "the true division " + sym::to_string(e) +
                                                  " is not an integer; use floor() or ceiling()");
      default:
        WRAPGRAPH_ASSERT(false, "lower: leaf kinds are handled above");
    }
    exprs_[e] = result;
    return result;
  }

  argument node_of(std::string_view target, sym::expr value, argument_list args) {
    const std::string name = default_name(target);
    return node_ref{graph_.call(target, name, std::move(args), {}, graph::int_meta{value})};
  }

  argument binary(std::string_view target, sym::expr value, sym::expr a, sym::expr b) {
    argument x = lower(a);
    argument y = lower(b);
    return node_of(target, value, list_of(std::move(x), std::move(y)));
  }

  // a0 + a1 + ... as a chain whose every prefix is a (hash-consed)
  // subexpression; a negative term is subtracted: s0 - 1, not s0 + -1.
  argument lower_sum(sym::expr e) {
    const auto terms = e.args();
    sym::expr prefix = terms[0];
    argument acc = lower(prefix);
    for (std::size_t i = 1; i < terms.size(); ++i) {
      prefix = ctx().add(prefix, terms[i]);
      if (const auto it = exprs_.find(prefix); it != exprs_.end()) {
        acc = it->second;
        continue;
      }
      const sym::expr negated = ctx().neg(terms[i]);
      const bool subtract = looks_negative(terms[i]);
      argument rhs = lower(subtract ? negated : terms[i]);
      acc = node_of(subtract ? "operator.sub" : "operator.add", prefix, {acc, rhs});
      if (i + 1 < terms.size()) exprs_[prefix] = acc;
    }
    return acc;
  }

  // c * f0 * f1 * ...: -1 becomes a negation, other factors a chain.
  argument lower_product(sym::expr e) {
    const auto factors = e.args();
    std::size_t start = 0;
    std::int64_t coeff = 1;
    if (factors[0].is_integer()) {
      coeff = factors[0].value();
      start = 1;
    }
    sym::expr prefix = factors[start];
    argument acc = lower(prefix);
    for (std::size_t i = start + 1; i < factors.size(); ++i) {
      prefix = ctx().mul(prefix, factors[i]);
      if (const auto it = exprs_.find(prefix); it != exprs_.end()) {
        acc = it->second;
        continue;
      }
      acc = node_of("operator.mul", prefix, {acc, lower(factors[i])});
      exprs_[prefix] = acc;
    }
    if (coeff == 1) return acc;
    if (coeff == -1) return node_of("operator.neg", e, {acc});
    return node_of("operator.mul", e, {coeff, acc});
  }

  argument lower_chain(sym::expr e, std::string_view target) {
    const auto args = e.args();
    argument acc = lower(args[0]);
    for (std::size_t i = 1; i < args.size(); ++i) {
      argument next = lower(args[i]);
      acc = node_of(target, i + 1 == args.size() ? e : sym::expr{}, {acc, next});
    }
    return acc;
  }

  static bool looks_negative(sym::expr t) {
    if (t.is_integer()) return t.value() < 0 && t.value() != INT64_MIN;
    return t.is(sym::expr_kind::mul) && t.arg(0).is_integer() && t.arg(0).value() < 0 &&
           t.arg(0).value() != INT64_MIN;
  }

  argument_list lower_all(const std::vector<sym::expr>& exprs) {
    argument_list out = new_list(exprs.size());
    for (const sym::expr& e : exprs) out.push_back(lower(e));
    return out;
  }

  sym::expr offset_of(const tensor_layout& layout) {
    return layout.offset ? layout.offset : ctx().integer(0);
  }

  graph::tensor_meta tensor_meta_of(const tensor_layout& layout) {
    return tensor_meta_of(layout.type, layout.dev, layout.size, layout.stride, offset_of(layout));
  }
  graph::tensor_meta tensor_meta_of(dtype type, device dev, const std::vector<sym::expr>& size,
                                    const std::vector<sym::expr>& stride, sym::expr offset) {
    const auto a = graph_.allocator<sym::expr>();
    return graph::tensor_meta{type, dev, graph::expr_list(size.begin(), size.end(), a),
                              graph::expr_list(stride.begin(), stride.end(), a), offset};
  }

  // ---- lists in the graph's arena ---------------------------------------------

  argument_list new_list(std::size_t capacity) {
    argument_list l(graph_.allocator());
    l.reserve(capacity);
    return l;
  }
  keyword_arguments new_kwargs(std::size_t capacity) {
    keyword_arguments m(graph_.allocator());
    m.reserve(capacity);
    return m;
  }
  // A list of arguments, each moved in (a braced list would copy each one,
  // and with it every nested list).
  template <class... T>
  argument_list list_of(T&&... values) {
    argument_list out = new_list(sizeof...(T));
    (out.emplace_back(std::forward<T>(values)), ...);
    return out;
  }
  // Keyword arguments, each value moved in.
  template <class... T>
  keyword_arguments kwargs_of(std::pair<const char*, T>&&... entries) {
    keyword_arguments out = new_kwargs(sizeof...(T));
    (out.emplace_back(entries.first, std::move(entries.second)), ...);
    return out;
  }
  // A deep copy whose lists are in the graph's arena.
  argument copy_of(const argument& a) {
    if (const argument_list* l = a.as_list()) {
      argument_list out = new_list(l->size());
      for (const argument& x : *l) out.push_back(copy_of(x));
      return out;
    }
    if (const graph::argument_map* m = a.as_map()) {
      keyword_arguments out = new_kwargs(m->size());
      for (const auto& [k, v] : *m) out.emplace_back(k, copy_of(v));
      return out;
    }
    return a;
  }

  // `kind` and `name` say whose layout it is ("buffer", "buf0"); the
  // message is only built for an error.
  void check_layout(const std::vector<sym::expr>& size, const std::vector<sym::expr>& stride, std::string_view kind,
                    std::string_view name) const {
    auto what = [&] { return std::string(kind) + " '" + std::string(name) + "'"; };
    if (size.size() != stride.size()) {
      fail("wrapgraph.program.bad_layout", what() + " has " + std::to_string(size.size()) + " sizes and " +
                                               std::to_string(stride.size()) + " strides");
    }
    for (std::size_t d = 0; d < size.size(); ++d) {
      if (size[d].range().hi < 0)
        fail("wrapgraph.program.bad_layout", what() + ": size " + sym::to_string(size[d]) + " of dimension " +
                                                 std::to_string(d) + " is negative");
    }
  }

  // ---- nodes -------------------------------------------------------------------

  vertex allocation(const buffer_decl& buffer, std::string_view target, keyword_arguments extra) {
    check_new_name(buffer.name);
    const tensor_layout& layout = buffer.layout;
    check_layout(layout.size, layout.stride, "buffer", buffer.name);
    if (!offset_of(layout).is_integer(0)) {
      fail("wrapgraph.program.bad_layout", "an allocated buffer starts at offset 0; '" + buffer.name +
                                               "' has offset " + sym::to_string(offset_of(layout)) +
                                               " (allocate it, then take a reinterpret view)");
    }
    keyword_arguments kwargs = new_kwargs(2 + extra.size());
    kwargs.emplace_back("dtype", argument(std::string(to_string(layout.type))));
    kwargs.emplace_back("device", argument(to_string(layout.dev)));
    for (auto& kv : extra) kwargs.push_back(std::move(kv));
    // Lowered in order (the arguments of a call are evaluated in no fixed
    // order, and lowering creates nodes).
    argument sizes = lower_all(layout.size);
    argument strides = lower_all(layout.stride);
    const vertex v = graph_.call(target, buffer.name, list_of(std::move(sizes), std::move(strides)),
                                 std::move(kwargs), tensor_meta_of(layout));
    define(buffer.name, v);
    return v;
  }

  vertex as_strided(vertex input, const std::vector<sym::expr>& size, const std::vector<sym::expr>& stride,
                    sym::expr offset, std::string_view name, const graph::tensor_meta& base) {
    check_layout(size, stride, "the view", name);
    argument sizes = lower_all(size);  // in order: lowering creates nodes
    argument strides = lower_all(stride);
    argument start = lower(offset);
    argument_list args = list_of(node_ref{input}, std::move(sizes), std::move(strides), std::move(start));
    graph::tensor_meta meta = tensor_meta_of(base.type, base.dev, size, stride, offset);
    return graph_.call("torch.as_strided", name, std::move(args), {}, std::move(meta));
  }

  /// A tensor argument: a name of a tensor, or a view of one (a new
  /// as_strided node per use, as the reference does).
  vertex tensor_argument(const ref& r, const place& where) {
    if (const name_ref* n = std::get_if<name_ref>(&r)) {
      const vertex v = lookup(n->name);
      if (graph_[v].integer()) fail("wrapgraph.program.not_a_tensor", where.text() + ": '" + n->name + "' is an integer, not a tensor");
      return v;
    }
    if (const view_ref* view = std::get_if<view_ref>(&r)) {
      const vertex input = lookup(view->input);
      const graph::tensor_meta* meta = graph_[input].tensor();
      if (!meta) fail("wrapgraph.program.not_a_tensor", where.text() + ": '" + view->input + "' is not a tensor");
      const sym::expr offset = ctx().add(meta->offset, view->offset ? view->offset : ctx().integer(0));
      return as_strided(input, view->size, view->stride, offset, view->input + "_view", *meta);
    }
    fail("wrapgraph.program.not_a_tensor", where.text() + " must name a tensor or a view of one");
  }

  scalar_arg scalar_argument(const ref& r, std::string_view type, const place& where) {
    const bool floating = type == "fp32" || type == "fp64";
    if (const double* d = std::get_if<double>(&r)) {
      if (!floating) fail("wrapgraph.program.type_mismatch", where.text() + " is " + std::string(type) + ", got a float");
      return {argument(*d), {}};
    }
    if (const std::int64_t* i = std::get_if<std::int64_t>(&r)) {
      if (floating) return {argument(static_cast<double>(*i)), {}};
      return {argument(*i), ctx().integer(*i)};
    }
    if (const bool* b = std::get_if<bool>(&r)) return {argument(std::int64_t{*b}), ctx().integer(*b)};
    sym::expr value;
    if (const expr_ref* e = std::get_if<expr_ref>(&r)) value = e->value;
    if (const name_ref* n = std::get_if<name_ref>(&r)) value = name_value(n->name, where);
    if (!value) fail("wrapgraph.program.type_mismatch", where.text() + " is the scalar " + std::string(type) + ", got a tensor or None");
    return {lower(value), value};
  }

  /// The symbolic value a name stands for when used as an integer: a symbol,
  /// or a symbol/int input.
  sym::expr name_value(const std::string& name, const place& where) {
    if (const vertex* it = table_.live(name)) {
      if (const graph::int_meta* m = graph_[*it].integer()) return m->value;
      fail("wrapgraph.program.type_mismatch", where.text() + ": '" + name + "' is a tensor, not an integer");
    }
    if (const sym::expr s = ctx().find_symbol(name); s && exprs_.contains(s)) return s;
    (void)lookup(name);  // reports freed or unknown names
    return {};
  }

  /// Any value: tensor, integer, view, None or constant (predicates,
  /// operands, outputs).
  argument value_argument(const ref& r, const place& where) {
    if (const name_ref* n = std::get_if<name_ref>(&r)) {
      if (const vertex* it = table_.live(n->name)) return node_ref{*it};
      if (const sym::expr s = ctx().find_symbol(n->name); s && exprs_.contains(s)) return exprs_.at(s);
      return node_ref{lookup(n->name)};
    }
    if (const expr_ref* e = std::get_if<expr_ref>(&r)) return lower(e->value);
    if (std::holds_alternative<view_ref>(r)) return node_ref{tensor_argument(r, where)};
    return constant_argument(r, where);
  }

  argument constant_argument(const ref& r, const place& where) const {
    if (std::holds_alternative<none_ref>(r)) return argument{};
    if (const bool* b = std::get_if<bool>(&r)) return argument(*b);
    if (const std::int64_t* i = std::get_if<std::int64_t>(&r)) return argument(*i);
    if (const double* d = std::get_if<double>(&r)) return argument(*d);
    fail("wrapgraph.program.bad_argument", where.text() + " must be a constant");
  }

  /// An extern operator's argument: as value_argument, except that a name
  /// nothing ever defined is a string constant (e.g. a reduce mode).
  argument extern_argument(const ref& r, const place& where) {
    if (const name_ref* n = std::get_if<name_ref>(&r)) {
      const bool defined = table_.ever_defined(n->name) ||
                           (ctx().find_symbol(n->name) && exprs_.contains(ctx().find_symbol(n->name)));
      if (!defined) return argument(n->name);
    }
    return value_argument(r, where);
  }

  argument_list extern_args(const std::vector<ref>& refs) {
    argument_list out = new_list(refs.size());
    for (std::size_t i = 0; i < refs.size(); ++i) out.push_back(extern_argument(refs[i], place("argument", i)));
    return out;
  }

  keyword_arguments extern_kwargs(const keyword_args& kwargs) {
    keyword_arguments out = new_kwargs(kwargs.size() + 1);  // and an out argument
    for (const auto& [key, value] : kwargs) {
      if (key == "out") fail("wrapgraph.program.bad_argument", "the out argument goes in the line's 'out' field");
      out.emplace_back(key, extern_argument(value, place("keyword argument", std::string_view::npos, key)));
    }
    return out;
  }

  void check_operator_name(const std::string& name) const {
    if (!is_operator_name(name)) {
      fail("wrapgraph.program.bad_operator_name",
           "'" + name + "' is not an operator name (dotted identifiers, e.g. aten.addmm.out)");
    }
  }

  /// The config as an object {name: value}.
  static argument config_argument(const kernel_values& config) {
    graph::argument_map entries;
    for (const auto& [name, value] : config) {
      argument v = std::visit(
          [](const auto& x) -> argument {
            using T = std::remove_cvref_t<decltype(x)>;
            if constexpr (std::same_as<T, std::vector<std::int64_t>>) {
              argument_list l;
              for (std::int64_t i : x) l.emplace_back(i);
              return argument(std::move(l));
            } else {
              return argument(x);
            }
          },
          value);
      entries.emplace_back(name, std::move(v));
    }
    return argument(std::move(entries));
  }

  vertex follow_key_path(vertex root, const key_path& path, const std::string& symbol) {
    vertex v = root;
    for (std::size_t i = 0; i < path.size(); ++i) {
      const key_step& s = path[i];
      switch (s.kind) {
        case key_step::kind_type::size:
        case key_step::kind_type::stride: {
          const std::string target = s.kind == key_step::kind_type::size ? "aten.sym_size.int" : "aten.sym_stride.int";
          std::optional<std::int64_t> dim = s.index;
          if (!dim && i + 1 < path.size() && path[i + 1].kind == key_step::kind_type::element) dim = path[++i].index;
          if (!dim) {
            fail("wrapgraph.program.bad_keypath", "symbol '" + symbol + "': " + to_string(path) +
                                                      " ends in a whole size or stride tuple, not an integer");
          }
          v = graph_.call(target, default_name(target), {node_ref{v}, *dim});
          break;
        }
        case key_step::kind_type::storage_offset:
          v = graph_.call("aten.sym_storage_offset.default", "sym_storage_offset", {node_ref{v}});
          break;
        case key_step::kind_type::element:
          v = graph_.call("operator.getitem", "getitem", {node_ref{v}, s.index.value_or(0)});
          break;
        case key_step::kind_type::divide_by:
          if (s.divisor == 0)
            fail("wrapgraph.program.bad_keypath", "symbol '" + symbol + "': " + to_string(path) + " divides by 0");
          v = graph_.call("operator.floordiv", "floordiv", {node_ref{v}, s.divisor});
          break;
      }
    }
    if (v == root) fail("wrapgraph.program.bad_keypath", "symbol '" + symbol + "' has an empty key path");
    return v;
  }

  vertex subgraph_attr(const std::string& name) const {
    const auto it = subgraph_nodes_.find(name);
    if (it == subgraph_nodes_.end()) fail("wrapgraph.program.missing_subgraph", "there is no subgraph '" + name + "'");
    return it->second;
  }

  // ---- the phases before and after the lines -------------------------------------

  void generate_inputs() {
    phase_ = "inputs";
    std::unordered_set<std::string> names;
    for (const input& in : program_.inputs) {
      const std::string& name = name_of(in);
      if (!names.insert(name).second) fail("wrapgraph.program.redefinition", "input '" + name + "' appears twice");
      std::visit(
          [&](const auto& i) {
            using T = std::remove_cvref_t<decltype(i)>;
            if constexpr (std::same_as<T, tensor_input>) {
              check_layout(i.layout.size, i.layout.stride, "input", i.name);
              define(i.name, graph_.placeholder(i.name, tensor_meta_of(i.layout)));
            } else if constexpr (std::same_as<T, symbol_input>) {
              const sym::expr s = symbol_named(i.name);
              const vertex v = graph_.placeholder(i.name, graph::int_meta{s});
              define(i.name, v);
              exprs_[s] = node_ref{v};
            } else if constexpr (std::same_as<T, int_input>) {
              define(i.name, graph_.placeholder(i.name, graph::int_meta{ctx().integer(i.value)}));
            } else {
              (void)graph_.placeholder(i.name);  // no value, no table entry
            }
          },
          in);
    }
  }

  void generate_constants() {
    phase_ = "constants";
    for (const constant_decl& c : program_.constants) {
      check_new_name(c.name);
      define(c.name, graph_.get_attr(c.name, tensor_meta_of(c.layout)));
      graph_.define_constant(c.name, std::make_shared<const constant_decl>(c));
    }
  }

  void generate_subgraphs() {
    phase_ = "subgraphs";
    for (const subgraph& s : program_.subgraphs) {
      converter inner(s.body, scope_.empty() ? s.name : scope_ + "." + s.name);
      graph_.subgraphs().push_back({s.name, inner.run(true)});
      subgraph_nodes_[s.name] = graph_.get_attr(s.name);
    }
  }

  /// Symbols in the inputs' sizes and strides: a symbol gets a sym_size or
  /// sym_stride node at its first occurrence; a compound expression with one
  /// undefined symbol is solved for it; with none it is computed.
  void generate_input_shapes() {
    phase_ = "input shapes";
    for (const input& in : program_.inputs) {
      const tensor_input* t = std::get_if<tensor_input>(&in);
      if (!t) continue;
      const vertex p = *table_.live(t->name);
      for (std::size_t d = 0; d < t->layout.size.size(); ++d)
        define_from_dimension(t->layout.size[d], p, "aten.sym_size.int", d, t->name);
      for (std::size_t d = 0; d < t->layout.stride.size(); ++d)
        define_from_dimension(t->layout.stride[d], p, "aten.sym_stride.int", d, t->name);
    }
  }

  void define_from_dimension(sym::expr e, vertex input, const std::string& target, std::size_t dim,
                             const std::string& input_name) {
    if (e.is_integer()) return;
    if (e.is_symbol()) {
      if (exprs_.contains(e)) return;
      exprs_[e] = node_ref{graph_.call(target, default_name(target), {node_ref{input}, static_cast<std::int64_t>(dim)},
                                       {}, graph::int_meta{e})};
      return;
    }
    std::vector<sym::expr> undefined;
    for (const sym::expr& s : sym::free_symbols(e))
      if (!exprs_.contains(s)) undefined.push_back(s);
    if (undefined.empty()) {
      (void)lower(e);
      return;
    }
    const std::string what = std::string(target == "aten.sym_size.int" ? "size" : "stride") + " " +
                             std::to_string(dim) + " of input '" + input_name + "', " + sym::to_string(e);
    if (undefined.size() > 1) {
      std::string names;
      for (const sym::expr& s : undefined) names += (names.empty() ? "" : ", ") + std::string(s.name());
      fail("wrapgraph.program.underdetermined_symbol", what + ", has " + std::to_string(undefined.size()) +
                                                           " undefined symbols (" + names + ")");
    }
    const vertex measured = graph_.call(target, default_name(target), {node_ref{input}, static_cast<std::int64_t>(dim)},
                                        {}, graph::int_meta{e});
    exprs_[e] = node_ref{measured};
    // The measured value as a symbol of its own, named after its node.
    std::string anchor_name = graph_[measured].name;
    while (program_.find_symbol(anchor_name) || ctx().find_symbol(anchor_name) == undefined[0]) anchor_name += "_";
    const sym::expr anchor = ctx().symbol(anchor_name, sym::nonnegative);
    exprs_[anchor] = node_ref{measured};
    sym::expr solution;
    try {
      solution = sym::solve_for(e, anchor, undefined[0]);
    } catch (const sym_error& err) {
      fail("wrapgraph.program.unsolvable_symbol",
           what + ", cannot be solved for " + std::string(undefined[0].name()) + ": " + err.message());
    }
    exprs_[undefined[0]] = lower(solution);
  }

  void generate_outputs(bool is_subgraph) {
    phase_ = "outputs";
    argument_list outputs;
    for (std::size_t i = 0; i < program_.outputs.size(); ++i)
      outputs.push_back(value_argument(program_.outputs[i], place("output", i)));
    if (!is_subgraph && outputs.size() == 1)
      graph_.set_output(std::move(outputs[0]));
    else
      graph_.set_output(argument(std::move(outputs)));
  }

  const program& program_;
  std::string scope_;
  graph::graph graph_;
  name_table table_;  // buffer_to_node, and the names freed
  std::unordered_map<sym::expr, argument> exprs_;         // expr_to_proxy
  std::unordered_map<std::string, kernel_info> kernels_;
  std::unordered_map<std::string, vertex> subgraph_nodes_;
  std::unordered_set<vertex> multi_;                      // values that getitem may index
  std::size_t line_ = 0;
  const line* current_ = nullptr;
  std::string phase_;
};

}  // namespace convert_detail

/// Converts a program into a graph with the reference converter's semantics:
/// placeholders for the inputs, get_attr for constants and subgraphs, nodes
/// for the symbols of the inputs' shapes, then one handler per line, then the
/// output. A malformed program raises a program_error whose message names
/// the line, its op and the buffer or symbol concerned.
[[nodiscard]] inline graph::graph convert(const program& p) {
  return convert_detail::converter(p, "").run(false);
}

}  // namespace wrapgraph

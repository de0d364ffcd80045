#pragma once
/// Printers of the graph IR: FX-style Python (as torch.fx's
/// `GraphModule.code` reads), a table, Graphviz DOT, and the
/// `wrapgraph-graph/1` JSON of spec/graph-format.md.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/graph/graphviz.hpp>
#include <boost/range/iterator_range.hpp>
#include <nlohmann/json.hpp>

#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::graph {

/// Choices of `to_python`.
struct python_options {
  /// After each node, `;  a = b = None` for the values it uses last and for
  /// itself when nothing uses it, as torch.fx frees dead values.
  bool free_dead_values = true;
  /// Annotate placeholders and nodes with their meta as strings, as
  /// `GraphModule.print_readable` does: `arg0_1: "f32[s0, 8]"`, `s0: "Sym(s0)"`.
  bool annotate = false;
};

namespace detail {

// Python's repr of a str, always in single quotes.
[[nodiscard]] inline std::string python_string(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A Python float literal that reads back the same double: shortest digits,
// always with a '.', an exponent or a call (`float('inf')`).
[[nodiscard]] inline std::string python_float(double v) {
  if (std::isnan(v)) return "float('nan')";
  if (std::isinf(v)) return v > 0 ? "float('inf')" : "float('-inf')";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string out(buffer, result.ptr);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

// torch.fx's abbreviations of dtypes in annotations: f32, bf16, i64, b8, ...
[[nodiscard]] constexpr std::string_view dtype_abbreviation(dtype t) noexcept {
  constexpr std::string_view names[] = {"b8", "i8", "u8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"};
  return names[static_cast<std::size_t>(t)];
}

// The Python/sympy text of an expression; a null offset reads 0.
[[nodiscard]] inline std::string expr_text(sym::expr e) { return e.is_null() ? std::string("0") : sym::to_string(e); }

[[nodiscard]] inline std::string expr_list_text(std::span<const sym::expr> v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + expr_text(v[i]);
  return out + "]";
}

// `f32[s0, 8]`, with `[8, 1]` after it when `strides`; `Sym(s0 + 1)`; or "".
[[nodiscard]] inline std::string meta_annotation(const node& n, bool strides) {
  if (const tensor_meta* t = n.tensor()) {
    std::string out = std::string(dtype_abbreviation(t->type)) + expr_list_text(t->size);
    if (strides) out += expr_list_text(t->stride);
    return out;
  }
  if (const int_meta* i = n.integer()) return "Sym(" + expr_text(i->value) + ")";
  return {};
}

// The table's meta column: `f32[s0, 8][8, 1] cpu`, ` offset 4` when not 0.
[[nodiscard]] inline std::string meta_text(const node& n) {
  std::string out = meta_annotation(n, true);
  if (const tensor_meta* t = n.tensor()) {
    out += ' ' + to_string(t->dev);
    if (!t->offset.is_null() && !t->offset.is_integer(0)) out += " offset " + expr_text(t->offset);
  }
  return out;
}

// A dotted path of identifiers that are not keywords: `torch.ops.aten.add`.
[[nodiscard]] inline bool is_dotted_identifier(std::string_view s) noexcept {
  for (std::size_t start = 0;;) {
    const std::size_t dot = s.find('.', start);
    if (!is_identifier(s.substr(start, dot == std::string_view::npos ? dot : dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// How torch.fx pretty-prints operator.X (its `magic_methods`): a format with
// `{0}`, `{1}` standing for the arguments.
struct infix_form {
  std::string_view name;
  std::size_t arity;
  std::string_view before, between, after;
};

[[nodiscard]] inline const infix_form* find_infix(std::string_view target) noexcept {
  static constexpr infix_form forms[] = {
      {"add", 2, "", " + ", ""},      {"sub", 2, "", " - ", ""},        {"mul", 2, "", " * ", ""},
      {"floordiv", 2, "", " // ", ""}, {"truediv", 2, "", " / ", ""},   {"div", 2, "", " / ", ""},
      {"mod", 2, "", " % ", ""},      {"pow", 2, "", " ** ", ""},       {"lshift", 2, "", " << ", ""},
      {"rshift", 2, "", " >> ", ""},  {"and_", 2, "", " & ", ""},       {"or_", 2, "", " | ", ""},
      {"xor", 2, "", " ^ ", ""},      {"matmul", 2, "", " @ ", ""},     {"getitem", 2, "", "[", "]"},
      {"eq", 2, "", " == ", ""},      {"ne", 2, "", " != ", ""},        {"lt", 2, "", " < ", ""},
      {"gt", 2, "", " > ", ""},       {"le", 2, "", " <= ", ""},        {"ge", 2, "", " >= ", ""},
      {"neg", 1, "-", "", ""},        {"pos", 1, "+", "", ""},          {"invert", 1, "~", "", ""},
  };
  if (!target.starts_with("operator.")) return nullptr;
  target.remove_prefix(9);
  for (const infix_form& f : forms)
    if (f.name == target) return &f;
  return nullptr;
}

// The Python spelling of a call target: `aten.X.Y` and other operator
// namespaces → `torch.ops.aten.X.Y`; `torch.*`, `operator.*`, `wrapgraph.*`
// and plain names stay; anything that is no dotted identifier is empty
// (the caller prints `wrapgraph.call('target', ...)`).
[[nodiscard]] inline std::string python_callable(std::string_view target) {
  if (!is_dotted_identifier(target)) return {};
  const std::string_view head = target.substr(0, target.find('.'));
  if (head == target || head == "torch" || head == "operator" || head == "wrapgraph") return std::string(target);
  return "torch.ops." + std::string(target);
}

// Renders arguments as Python: node references by name (after `node_prefix`,
// `%` in the table), lists as lists or, where FX holds tuples, as tuples.
class argument_printer {
 public:
  argument_printer(const graph& g, std::string_view node_prefix) : g_(g), prefix_(node_prefix) {}

  void print(std::string& out, const argument& a, bool as_tuple = false) const {
    std::visit([&](const auto& x) { print_value(out, x, as_tuple); }, a.value);
  }
  [[nodiscard]] std::string operator()(const argument& a, bool as_tuple = false) const {
    std::string out;
    print(out, a, as_tuple);
    return out;
  }
  // A keyword argument's value: `dtype` strings naming a dtype print as
  // `torch.float32`.
  [[nodiscard]] std::string kwarg(std::string_view key, const argument& a) const {
    if (const std::string* s = a.as_string(); s && key == "dtype")
      if (const auto t = parse_dtype(*s)) return "torch." + std::string(to_string(*t));
    return (*this)(a);
  }

 private:
  void print_value(std::string& out, std::monostate, bool) const { out += "None"; }
  void print_value(std::string& out, std::int64_t v, bool) const { out += std::to_string(v); }
  void print_value(std::string& out, double v, bool) const { out += python_float(v); }
  void print_value(std::string& out, bool v, bool) const { out += v ? "True" : "False"; }
  void print_value(std::string& out, const std::string& v, bool) const { out += python_string(v); }
  void print_value(std::string& out, node_ref r, bool) const {
    out += prefix_;
    out += r.node < g_.size() ? g_[r.node].name : "__missing_node_" + std::to_string(r.node);
  }
  void print_value(std::string& out, const argument_list& l, bool as_tuple) const {
    out += as_tuple ? '(' : '[';
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (i) out += ", ";
      print(out, l[i]);
    }
    if (as_tuple && l.size() == 1) out += ',';
    out += as_tuple ? ')' : ']';
  }
  void print_value(std::string& out, const argument_map& m, bool) const {
    out += '{';
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (i) out += ", ";
      out += python_string(m[i].first) + ": ";
      print(out, m[i].second);
    }
    out += '}';
  }

  const graph& g_;
  std::string_view prefix_;
};

// Whether argument `index` of a call to `target` is a tuple in FX's graph:
// the size and stride of `torch.empty_strided`, `torch.as_strided` and
// `wrapgraph.comm_buffer_allocate`.
[[nodiscard]] inline bool is_tuple_argument(std::string_view target, std::size_t index) noexcept {
  if (target == "torch.empty_strided" || target == "wrapgraph.comm_buffer_allocate") return index <= 1;
  if (target == "torch.as_strided") return index == 1 || index == 2;
  return false;
}

// `grid` of a kernel call prints as a tuple of three.
[[nodiscard]] inline std::string kwarg_text(const argument_printer& p, const node& n, std::string_view key,
                                            const argument& a) {
  if (key == "grid" && n.target == "wrapgraph.kernel_call") {
    if (const argument_list* l = a.as_list(); l && !l->empty() && !(*l)[0].as_list()) return p(a, true);
  }
  return p.kwarg(key, a);
}

// `a, b, k = v` as torch.fx joins a call's arguments.
[[nodiscard]] inline std::string call_arguments(const argument_printer& p, const node& n) {
  std::string out;
  for (std::size_t i = 0; i < n.args.size(); ++i) {
    if (i) out += ", ";
    p.print(out, n.args[i], is_tuple_argument(n.target, i));
  }
  for (const auto& [key, value] : n.kwargs) {
    if (!out.empty()) out += ", ";
    out += key + " = " + kwarg_text(p, n, key, value);
  }
  return out;
}

// The right-hand side of a call node's assignment.
[[nodiscard]] inline std::string python_call(const argument_printer& p, const node& n) {
  if (const infix_form* f = find_infix(n.target); f && n.kwargs.empty() && n.args.size() == f->arity) {
    std::string first = p(n.args[0]);
    // -2 ** x would be -(2 ** x).
    if (f->name == "pow" && first.starts_with('-')) first = "(" + first + ")";
    std::string out = std::string(f->before) + first;
    if (f->arity == 2) out += std::string(f->between) + p(n.args[1]) + std::string(f->after);
    return out;
  }
  const std::string callable = python_callable(n.target);
  if (callable.empty()) {
    const std::string rest = call_arguments(p, n);
    return "wrapgraph.call(" + python_string(n.target) + (rest.empty() ? "" : ", " + rest) + ")";
  }
  return callable + "(" + call_arguments(p, n) + ")";
}

[[nodiscard]] inline std::string python_annotation(const node& n, const python_options& options) {
  if (!options.annotate) return {};
  const std::string a = meta_annotation(n, false);
  return a.empty() ? std::string() : ": \"" + a + "\"";
}

// One `def forward(self, ...):` and, after it, a `class NAME(torch.nn.Module):`
// per subgraph, all at `indent`.
inline void print_python(std::string& out, const graph& g, const std::string& indent, const python_options& options) {
  const ir& bg = g.bgl();
  const argument_printer p(g, "");
  const std::vector<std::vector<vertex>> dying = values_dying_at(g);

  std::string signature = "self";
  std::vector<std::string> body;
  for (const vertex v : boost::make_iterator_range(boost::vertices(bg))) {
    const node& n = g[v];
    std::string line;
    switch (n.op) {
      case op_kind::placeholder:
        signature += ", " + n.name + python_annotation(n, options);
        continue;
      case op_kind::get_attr:
        line = n.name + python_annotation(n, options) + " = " +
               (is_dotted_identifier(n.target) ? "self." + std::string(n.target) : "getattr(self, " + python_string(n.target) + ")");
        break;
      case op_kind::call:
        line = n.name + python_annotation(n, options) + " = " + python_call(p, n);
        break;
      case op_kind::output:
        body.push_back("return " + (n.args.empty() ? std::string("None") : p(n.args[0])));
        continue;
    }
    if (options.free_dead_values) {
      std::vector<vertex> freed = dying[v];
      if (boost::out_degree(v, bg) == 0) freed.push_back(v);
      if (!freed.empty()) {
        line += ";  ";
        for (const vertex f : freed) line += g[f].name + " = ";
        line += "None";
      }
    }
    body.push_back(std::move(line));
  }
  if (body.empty()) body.emplace_back("pass");

  out += indent + "def forward(" + signature + "):\n";
  for (const std::string& line : body) out += indent + "    " + line + "\n";
  for (const graph::named_subgraph& s : g.subgraphs()) {
    out += "\n";
    if (indent.empty()) out += "\n";
    out += indent + "class " + s.name + "(torch.nn.Module):\n";
    print_python(out, s.body, indent + "    ", options);
  }
}

[[nodiscard]] inline std::string dot_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// write_graphviz's vertex property writer.
struct dot_vertex_writer {
  const graph* g;
  void operator()(std::ostream& os, vertex v) const {
    const node& n = (*g)[v];
    std::string label = n.name;
    std::string_view shape = "box";
    switch (n.op) {
      case op_kind::placeholder:
        shape = "ellipse";
        break;
      case op_kind::get_attr:
        label += "\nself." + std::string(n.target);
        shape = "component";
        break;
      case op_kind::call:
        label += "\n" + std::string(n.target);
        break;
      case op_kind::output:
        shape = "doubleoctagon";
        break;
    }
    os << "[label=\"" << dot_escape(label) << "\", shape=" << shape;
    if (has_side_effects(*g, v)) os << ", style=bold";
    os << "]";
  }
};

// write_graphviz's edge property writer: the use's position among the
// user's node references.
struct dot_edge_writer {
  const graph* g;
  template <class Edge>
  void operator()(std::ostream& os, const Edge& e) const {
    os << "[label=\"" << g->bgl()[e].position << "\"]";
  }
};

struct dot_graph_writer {
  void operator()(std::ostream& os) const { os << "node [fontname=\"monospace\"];\nedge [fontsize=10];\n"; }
};

// One table; `title` above it.
inline void print_table(std::string& out, const graph& g, const std::string& title) {
  const argument_printer p(g, "%");
  std::vector<std::vector<std::string>> rows = {{"#", "name", "op", "target", "args", "kwargs", "meta"}};
  for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) {
    const node& n = g[v];
    std::string args = "(";
    for (std::size_t i = 0; i < n.args.size(); ++i) args += (i ? ", " : "") + p(n.args[i], is_tuple_argument(n.target, i));
    args += n.args.size() == 1 ? ",)" : ")";
    std::string kwargs = "{";
    for (std::size_t i = 0; i < n.kwargs.size(); ++i)
      kwargs += (i ? ", " : "") + n.kwargs[i].first + ": " + kwarg_text(p, n, n.kwargs[i].first, n.kwargs[i].second);
    kwargs += "}";
    rows.push_back({std::to_string(v), n.name, std::string(to_string(n.op)), std::string(n.target), args, kwargs, meta_text(n)});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  out += title + ":\n";
  for (const auto& row : rows) {
    std::string line = "  ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      // The index column is right-aligned, the others left-aligned.
      const std::string pad(width[c] - row[c].size(), ' ');
      line += c == 0 ? pad + row[c] : row[c] + pad;
      if (c + 1 < row.size()) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  for (const graph::named_subgraph& s : g.subgraphs()) {
    out += "\n";
    print_table(out, s.body, (title == "graph" ? "subgraph " : title + ".") + s.name);
  }
}

[[nodiscard]] inline nlohmann::ordered_json expr_json(sym::expr e) {
  if (e.is_null()) return 0;
  if (e.is_integer()) return e.value();
  return sym::to_string(e);
}

[[nodiscard]] inline nlohmann::ordered_json argument_json(const graph& g, const argument& a) {
  using json = nlohmann::ordered_json;
  struct visitor {
    const graph& g;
    json operator()(std::monostate) const { return nullptr; }
    json operator()(std::int64_t v) const { return v; }
    json operator()(double v) const { return v; }
    json operator()(bool v) const { return v; }
    json operator()(const std::string& v) const { return v; }
    json operator()(node_ref r) const { return {{"node", g[r.node].name}}; }
    json operator()(const argument_list& l) const {
      json out = json::array();
      for (const argument& x : l) out.push_back(argument_json(g, x));
      return out;
    }
    json operator()(const argument_map& m) const {
      json out = json::object();
      for (const auto& [k, v] : m) out[k] = argument_json(g, v);
      return out;
    }
  };
  return std::visit(visitor{g}, a.value);
}

[[nodiscard]] inline nlohmann::ordered_json meta_json(const node& n) {
  using json = nlohmann::ordered_json;
  if (const tensor_meta* t = n.tensor()) {
    json size = json::array(), stride = json::array();
    for (const sym::expr e : t->size) size.push_back(expr_json(e));
    for (const sym::expr e : t->stride) stride.push_back(expr_json(e));
    return {{"dtype", to_string(t->type)}, {"device", to_string(t->dev)}, {"size", std::move(size)},
            {"stride", std::move(stride)}, {"offset", expr_json(t->offset)}};
  }
  if (const int_meta* i = n.integer()) return {{"sym", expr_json(i->value)}};
  return json::object();
}

// {"nodes": [...], "subgraphs": {...}} of one graph.
[[nodiscard]] inline nlohmann::ordered_json graph_json(const graph& g) {
  using json = nlohmann::ordered_json;
  json nodes = json::array();
  for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) {
    const node& n = g[v];
    json args = json::array();
    for (const argument& a : n.args) args.push_back(argument_json(g, a));
    json kwargs = json::object();
    for (const auto& [k, a] : n.kwargs) kwargs[k] = argument_json(g, a);
    nodes.push_back({{"name", n.name},
                     {"op", to_string(n.op)},
                     {"target", n.target},
                     {"args", std::move(args)},
                     {"kwargs", std::move(kwargs)},
                     {"meta", meta_json(n)}});
  }
  json subgraphs = json::object();
  for (const graph::named_subgraph& s : g.subgraphs()) subgraphs[s.name] = graph_json(s.body);
  return {{"nodes", std::move(nodes)}, {"subgraphs", std::move(subgraphs)}};
}

}  // namespace detail

/// The graph as Python in torch.fx's style (`GraphModule.code`):
/// `def forward(self, arg0_1, s0):`, one assignment per get_attr and call
/// node, `return` for the output, then each subgraph as
/// `class true_graph_0(torch.nn.Module):` with its own `forward`. Targets
/// are spelled as FX prints them: `operator.add` infix (`add = s0 + 1`),
/// `aten.X.Y` as `torch.ops.aten.X.Y(...)`, `torch.*` and `wrapgraph.*` as
/// they are; kwargs as `key = value`, `dtype` as `torch.float32`; the sizes
/// and strides of `torch.empty_strided`/`torch.as_strided` as tuples, a
/// kernel call's grid as a tuple. A target that is no dotted identifier
/// prints as `wrapgraph.call('target', ...)`. For a graph that passes
/// `verify` the text is valid Python.
[[nodiscard]] inline std::string to_python(const graph& g, const python_options& options = {}) {
  std::string out;
  detail::print_python(out, g, "", options);
  return out;
}

/// The graph as a table, one row per node: index, name, op, target, args
/// (node references as `%name`), kwargs, meta (`f32[s0, 8][8, 1] cpu`,
/// `Sym(s0 + 1)`); each subgraph's table follows under its name.
[[nodiscard]] inline std::string to_text(const graph& g) {
  std::string out;
  detail::print_table(out, g, "graph");
  return out;
}

/// The graph in Graphviz DOT, written by boost::write_graphviz: a vertex per
/// node labelled with its name and target (bold when it has side effects),
/// an edge per use labelled with its position. Subgraphs are not drawn; pass
/// their bodies (`g.subgraphs()`) to draw them.
[[nodiscard]] inline std::string to_dot(const graph& g) {
  std::ostringstream os;
  boost::write_graphviz(os, g.bgl(), detail::dot_vertex_writer{&g}, detail::dot_edge_writer{&g},
                        detail::dot_graph_writer{});
  return os.str();
}

/// The graph in the JSON form of spec/graph-format.md:
/// `{"format": "wrapgraph-graph/1", "nodes": [...], "subgraphs": {...}}`,
/// node references as `{"node": NAME}`, expressions as integers or strings.
[[nodiscard]] inline nlohmann::ordered_json to_json(const graph& g) {
  nlohmann::ordered_json body = detail::graph_json(g);
  nlohmann::ordered_json out = {{"format", "wrapgraph-graph/1"}};
  out["nodes"] = std::move(body["nodes"]);
  out["subgraphs"] = std::move(body["subgraphs"]);
  return out;
}

}  // namespace wrapgraph::graph

// Tests of include/wrapgraph/graph/print.hpp: the FX-style Python of every
// target, freeing dead values, the table, Graphviz DOT and the JSON of
// spec/graph-format.md. (That the Python parses is checked by
// check_python.py over print_samples.)

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <wrapgraph/graph/print.hpp>
#include <wrapgraph/sym/context.hpp>

#include "sample_graphs.hpp"

namespace {

using namespace wrapgraph::graph;
using wrapgraph::dtype;
using json = nlohmann::ordered_json;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// y = x + 1 lowered: the small graph of the Python tests.
graph add_one() {
  graph g;
  auto& ctx = *g.context();
  const auto s0 = ctx.symbol("s0", wrapgraph::sym::positive);
  const tensor_meta m{dtype::float32, wrapgraph::cpu, {s0, ctx.integer(8)}, {ctx.integer(8), ctx.integer(1)}, ctx.integer(0)};
  const vertex x = g.placeholder("arg0_1", m);
  const vertex s = g.placeholder("s0", int_meta{s0});
  const vertex n = g.call("operator.mul", "mul", {node_ref{s}, 8}, {}, int_meta{s0 * 8});
  const vertex buf = g.call("torch.empty_strided", "buf0", {argument_list{node_ref{s}, 8}, argument_list{8, 1}},
                            {{"dtype", "float32"}, {"device", "cpu"}}, m);
  g.call("wrapgraph.kernel_call", "kernel_call", {},
         {{"kernel", "k_add"},
          {"grid", argument_list{node_ref{n}, 1, 1}},
          {"config", argument_map{{"XBLOCK", 1}}},
          {"args", argument_list{node_ref{x}, node_ref{buf}, node_ref{n}}}});
  g.set_output(node_ref{buf});
  return g;
}

}  // namespace

// ---- Python ---------------------------------------------------------------------

TEST_CASE("to_python prints a graph as torch.fx's GraphModule.code reads, freeing values after their last use") {
  CHECK(to_python(add_one()) ==
        "def forward(self, arg0_1, s0):\n"
        "    mul = s0 * 8\n"
        "    buf0 = torch.empty_strided((s0, 8), (8, 1), dtype = torch.float32, device = 'cpu');  s0 = None\n"
        "    kernel_call = wrapgraph.kernel_call(kernel = 'k_add', grid = (mul, 1, 1), config = {'XBLOCK': 1}, "
        "args = [arg0_1, buf0, mul]);  mul = arg0_1 = kernel_call = None\n"
        "    return buf0\n");
}

TEST_CASE("to_python without freeing prints no '= None'; with annotations it shows meta as strings") {
  const std::string plain = to_python(add_one(), {.free_dead_values = false, .annotate = false});
  CHECK(count(plain, "= None") == 0);
  CHECK(has_line(plain, "    mul = s0 * 8"));
  const std::string annotated = to_python(add_one(), {.free_dead_values = false, .annotate = true});
  CHECK(has_line(annotated, "def forward(self, arg0_1: \"f32[s0, 8]\", s0: \"Sym(s0)\"):"));
  CHECK(has_line(annotated, "    mul: \"Sym(8*s0)\" = s0 * 8"));
  CHECK(has_line(annotated, "    kernel_call = wrapgraph.kernel_call(kernel = 'k_add', grid = (mul, 1, 1), config = "
                            "{'XBLOCK': 1}, args = [arg0_1, buf0, mul])"));
}

TEST_CASE("to_python spells every target of graph-format.md as torch.fx prints it") {
  const std::string py = to_python(testing::every_target(), {.free_dead_values = false, .annotate = false});
  const char* expected[] = {
      "def forward(self, arg0_1, arg1_1, arg2_1, arg3_1, s1):",
      "    sym_size_int = torch.ops.aten.sym_size.int(arg0_1, 0)",
      "    sym_stride_int = torch.ops.aten.sym_stride.int(arg0_1, 0)",
      "    sym_storage_offset_default = torch.ops.aten.sym_storage_offset.default(arg0_1)",
      "    add = sym_size_int + 1",
      "    sub = s1 - sym_storage_offset_default",
      "    mul = sym_size_int * sym_stride_int",
      "    floordiv = mul // 3",
      "    mod = sym_size_int % 4",
      "    pow = sym_size_int ** 2",
      "    neg = -sub",
      "    sym_min = torch.sym_min(sym_size_int, sub)",
      "    sym_max = torch.sym_max(floordiv, mod)",
      "    abs = operator.abs(neg)",
      "    ceil_div = wrapgraph.ceil_div(mul, 128)",
      "    buf0 = torch.empty_strided((sym_size_int, 8), (8, 1), dtype = torch.float32, device = 'cpu')",
      "    buf0_view = torch.as_strided(buf0, (mul,), (1,), 0)",
      "    kernel_call = wrapgraph.kernel_call(kernel = 'k_add', grid = (ceil_div, 1, 1), config = {'XBLOCK': 128, "
      "'num_warps': 4, 'block': [128, 1, 1]}, args = [arg0_1, buf0_view, mul])",
      "    addmm = torch.ops.aten.addmm.out(arg1_1, buf0, arg1_1, alpha = 1, beta = 0.5, out = buf1)",
      "    buf2 = torch.ops.aten.mm.default(buf1, arg1_1)",
      "    buf4 = buf3[0]",
      "    scatter = torch.ops.aten.scatter_.value_reduce(buf2, 0, buf5, 1.5, reduce = 'add')",
      "    index_put = torch.ops.aten.index_put_.default(buf2, [arg2_1, None], buf4, True)",
      "    item = torch.ops.aten.item.default(arg3_1)",
      "    where = torch.ops.aten.where.Scalar(arg3_1, 1, 0)",
      "    buf6 = wrapgraph.comm_buffer_allocate((sym_size_int, 8), (8, 1), dtype = torch.float32, device = 'cuda', "
      "comm_type = 'symm_mem', group = '0')",
      "    true_graph_0 = self.true_graph_0",
      "    cond = torch.ops.higher_order.cond(arg3_1, true_graph_0, false_graph_0, [buf2])",
      "    buf7 = cond[0]",
      "    return [buf2, buf7, add, pow, sym_min, sym_max, abs, item, where, buf6]",
      "class true_graph_0(torch.nn.Module):",
      "    def forward(self, arg0_1):",
      "        buf0 = torch.as_strided(arg0_1, (sym_size_int, 8), (8, 1), 0)",
      "        return [buf0]",
  };
  for (const char* line : expected) {
    INFO(line);
    CHECK(has_line(py, line));
  }
}

TEST_CASE("to_python prints subgraphs after their parent as classes, nested ones inside their parent's class") {
  const std::string py = to_python(testing::nested_cond());
  const auto lines = lines_of(py);
  const auto at = [&](const std::string& line) {
    return std::distance(lines.begin(), std::find(lines.begin(), lines.end(), line));
  };
  const auto outer = at("class true_graph_0(torch.nn.Module):");
  const auto inner = at("    class true_graph_1(torch.nn.Module):");
  const auto outer_false = at("class false_graph_0(torch.nn.Module):");
  CHECK(at("    return buf1") < outer);
  CHECK(outer < inner);
  CHECK(inner < outer_false);
  CHECK(outer_false < static_cast<std::ptrdiff_t>(lines.size()));
  CHECK(has_line(py, "            return [buf0]"));
}

TEST_CASE("to_python frees, after each node, what it uses last and itself when unused, in the order it uses them") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.placeholder("y");
  const vertex unused = g.placeholder("unused");
  const vertex a = g.call("operator.add", "add", {node_ref{y}, node_ref{x}});
  const vertex b = g.call("operator.mul", "mul", {node_ref{a}, node_ref{a}});
  g.call("aten.index_put_.default", "index_put", {node_ref{b}, argument_list{node_ref{b}}, 1.0, false});
  g.set_output(node_ref{b});
  (void)unused;
  CHECK(to_python(g) ==
        "def forward(self, x, y, unused):\n"
        "    add = y + x;  y = x = None\n"
        "    mul = add * add;  add = None\n"
        "    index_put = torch.ops.aten.index_put_.default(mul, [mul], 1.0, False);  index_put = None\n"
        "    return mul\n");
}

TEST_CASE("to_python writes None, bools, floats, strings and maps as Python literals") {
  graph g;
  const vertex x = g.placeholder("x");
  g.call("torch.ops.mylib.op.default", "op",
         {argument{}, true, false, -7, 0.5, 3.0, 1e-5, 1e300, std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), "a'b\\c\n\x01",
          argument_map{{"k", node_ref{x}}, {"it's", argument_list{}}}});
  g.set_output(argument{});
  CHECK(has_line(to_python(g, {.free_dead_values = false, .annotate = false}),
                 "    op = torch.ops.mylib.op.default(None, True, False, -7, 0.5, 3.0, 1e-05, 1e+300, float('inf'), "
                 "float('-inf'), float('nan'), 'a\\'b\\\\c\\n\\x01', {'k': x, 'it\\'s': []})"));
  CHECK(has_line(to_python(g), "    return None"));
}

TEST_CASE("to_python prints operator.X infix as torch.fx's magic methods, and calls where the arity differs") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.placeholder("y");
  const auto line = [&](const char* target, argument_list args, keyword_arguments kwargs = {}) {
    const vertex v = g.call(target, "v", std::move(args), std::move(kwargs));
    const std::string py = to_python(g, {.free_dead_values = false, .annotate = false});
    const auto lines = lines_of(py);
    const std::string& l = lines.at(lines.size() - 1);
    (void)v;
    return l.substr(l.find(" = ") + 3);
  };
  CHECK(line("operator.add", {node_ref{x}, node_ref{y}}) == "x + y");
  CHECK(line("operator.sub", {node_ref{x}, -1}) == "x - -1");
  CHECK(line("operator.floordiv", {node_ref{x}, 2}) == "x // 2");
  CHECK(line("operator.mod", {node_ref{x}, 2}) == "x % 2");
  CHECK(line("operator.pow", {-2, node_ref{y}}) == "(-2) ** y");
  CHECK(line("operator.neg", {node_ref{x}}) == "-x");
  CHECK(line("operator.getitem", {node_ref{x}, 1}) == "x[1]");
  CHECK(line("operator.lt", {node_ref{x}, node_ref{y}}) == "x < y");
  CHECK(line("operator.truediv", {node_ref{x}, 2}) == "x / 2");
  CHECK(line("operator.abs", {node_ref{x}}) == "operator.abs(x)");
  CHECK(line("operator.add", {node_ref{x}}) == "operator.add(x)");
  CHECK(line("operator.mul", {node_ref{x}, 2}, {{"k", 1}}) == "operator.mul(x, 2, k = 1)");
  CHECK(line("aten.add.Tensor", {node_ref{x}, node_ref{y}}) == "torch.ops.aten.add.Tensor(x, y)");
  CHECK(line("_c10d_functional.wait_tensor.default", {node_ref{x}}) ==
        "torch.ops._c10d_functional.wait_tensor.default(x)");
  CHECK(line("torch.ops.aten.add.Tensor", {node_ref{x}, node_ref{y}}) == "torch.ops.aten.add.Tensor(x, y)");
  CHECK(line("wrapgraph.ceil_div", {node_ref{x}, 4}) == "wrapgraph.ceil_div(x, 4)");
  CHECK(line("getattr", {node_ref{x}, "shape"}) == "getattr(x, 'shape')");
  CHECK(line("extern-kernels.mm", {node_ref{x}}) == "wrapgraph.call('extern-kernels.mm', x)");
  CHECK(line("aten.is.default", {}) == "wrapgraph.call('aten.is.default')");
}

TEST_CASE("to_python prints a graph without other nodes as a function that returns") {
  CHECK(to_python(testing::identity()) == "def forward(self, x):\n    return None\n");
  graph empty;
  CHECK(to_python(empty) == "def forward(self):\n    pass\n");
}

// ---- the table ------------------------------------------------------------------

TEST_CASE("to_text prints one aligned row per node: index, name, op, target, args, kwargs, meta") {
  const std::string text = to_text(add_one());
  CHECK(text ==
        "graph:\n"
        "  #  name         op           target                 args                kwargs"
        "                                                                                      meta\n"
        "  0  arg0_1       placeholder  arg0_1                 ()                  {}"
        "                                                                                          f32[s0, 8][8, 1] cpu\n"
        "  1  s0           placeholder  s0                     ()                  {}"
        "                                                                                          Sym(s0)\n"
        "  2  mul          call         operator.mul           (%s0, 8)            {}"
        "                                                                                          Sym(8*s0)\n"
        "  3  buf0         call         torch.empty_strided    ((%s0, 8), (8, 1))  {dtype: torch.float32, device: 'cpu'}"
        "                                                       f32[s0, 8][8, 1] cpu\n"
        "  4  kernel_call  call         wrapgraph.kernel_call  ()                  {kernel: 'k_add', grid: (%mul, 1, 1), "
        "config: {'XBLOCK': 1}, args: [%arg0_1, %buf0, %mul]}\n"
        "  5  output       output       output                 (%buf0,)            {}\n");
}

TEST_CASE("to_text shows offsets and devices in meta, and tables of subgraphs under their names") {
  graph g;
  auto& ctx = *g.context();
  g.placeholder("x", tensor_meta{dtype::bfloat16, wrapgraph::device{wrapgraph::device_kind::cuda, 1},
                                 {ctx.integer(4)}, {ctx.integer(2)}, ctx.integer(3)});
  g.subgraphs().push_back({"true_graph_0", testing::identity()});
  g.subgraphs().front().body.subgraphs().push_back({"inner", testing::identity()});
  g.set_output(argument{});
  const std::string text = to_text(g);
  CHECK(text.find("bf16[4][2] cuda:1 offset 3") != std::string::npos);
  CHECK(text.find("\nsubgraph true_graph_0:\n") != std::string::npos);
  CHECK(text.find("\nsubgraph true_graph_0.inner:\n") != std::string::npos);
  CHECK(text.find("output       output  (None,)  {}\n") != std::string::npos);
}

TEST_CASE("to_text and to_dot show every target of graph-format.md") {
  const graph g = testing::every_target();
  const std::string text = to_text(g);
  const std::string dot = to_dot(g);
  for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) {
    if (g[v].op != op_kind::call) continue;
    INFO(g[v].target);
    CHECK(text.find("  " + g[v].name + " ") != std::string::npos);
    const std::string target(g[v].target);
    CHECK(text.find("  " + target + " ") != std::string::npos);
    CHECK(dot.find(std::to_string(v) + "[label=\"" + g[v].name + "\\n" + target + "\"") != std::string::npos);
  }
  CHECK(text.find("\nsubgraph false_graph_0:\n") != std::string::npos);
}

// ---- DOT --------------------------------------------------------------------------

TEST_CASE("to_dot writes a digraph with a labelled vertex per node and an edge per use") {
  const graph g = add_one();
  const std::string dot = to_dot(g);
  CHECK(dot.starts_with("digraph G {\n"));
  CHECK(has_line(dot, "0[label=\"arg0_1\", shape=ellipse];"));
  CHECK(has_line(dot, "3[label=\"buf0\\ntorch.empty_strided\", shape=box];"));
  CHECK(has_line(dot, "4[label=\"kernel_call\\nwrapgraph.kernel_call\", shape=box, style=bold];"));
  CHECK(has_line(dot, "5[label=\"output\", shape=doubleoctagon];"));
  CHECK(has_line(dot, "3->4 [label=\"2\"];"));  // buf0 is the kernel call's third use
  CHECK(count(dot, "->") == boost::num_edges(g.bgl()));
  CHECK(count(dot, "[label=") == boost::num_edges(g.bgl()) + g.size());
}

TEST_CASE("to_dot escapes quotes in labels and draws get_attr nodes as components") {
  graph g;
  g.subgraphs().push_back({"true_graph_0", testing::identity()});
  g.get_attr("true_graph_0");
  g.call("odd\"target", "x", {});
  g.set_output(argument{});
  const std::string dot = to_dot(g);
  CHECK(has_line(dot, "0[label=\"true_graph_0\\nself.true_graph_0\", shape=component];"));
  CHECK(has_line(dot, "1[label=\"x\\nodd\\\"target\", shape=box];"));
}

// ---- JSON -------------------------------------------------------------------------

namespace {

// The rules of spec/graph-format.md, checked on one graph's JSON.
void check_graph_format(const json& g, bool is_subgraph) {
  REQUIRE(g.is_object());
  std::vector<std::string> keys;
  for (const auto& [k, v] : g.items()) keys.push_back(k);
  if (is_subgraph) {
    CHECK(keys == std::vector<std::string>{"nodes", "subgraphs"});
  } else {
    CHECK(keys == std::vector<std::string>{"format", "nodes", "subgraphs"});
    CHECK(g["format"] == "wrapgraph-graph/1");
  }
  const json& nodes = g["nodes"];
  REQUIRE(nodes.is_array());
  REQUIRE_FALSE(nodes.empty());
  std::set<std::string> defined;
  const std::function<void(const json&)> check_argument = [&](const json& a) {
    if (a.is_object() && a.size() == 1 && a.contains("node")) {
      CHECK(defined.contains(a["node"].get<std::string>()));  // defined earlier: program order
    } else if (a.is_array()) {
      for (const json& x : a) check_argument(x);
    } else if (a.is_object()) {
      for (const auto& [k, x] : a.items()) check_argument(x);
    } else {
      CHECK((a.is_number() || a.is_string() || a.is_boolean() || a.is_null()));
    }
  };
  const auto check_expr = [](const json& e) { CHECK((e.is_number_integer() || e.is_string())); };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const json& n = nodes[i];
    std::vector<std::string> node_keys;
    for (const auto& [k, v] : n.items()) node_keys.push_back(k);
    CHECK(node_keys == std::vector<std::string>{"name", "op", "target", "args", "kwargs", "meta"});
    const std::string op = n["op"];
    CHECK((op == "placeholder" || op == "get_attr" || op == "call" || op == "output"));
    CHECK(n["args"].is_array());
    CHECK(n["kwargs"].is_object());
    for (const json& a : n["args"]) check_argument(a);
    for (const auto& [k, a] : n["kwargs"].items()) check_argument(a);
    const json& meta = n["meta"];
    REQUIRE(meta.is_object());
    if (meta.contains("sym")) {
      CHECK(meta.size() == 1);
      check_expr(meta["sym"]);
    } else if (!meta.empty()) {
      std::vector<std::string> meta_keys;
      for (const auto& [k, v] : meta.items()) meta_keys.push_back(k);
      CHECK(meta_keys == std::vector<std::string>{"dtype", "device", "size", "stride", "offset"});
      CHECK(wrapgraph::parse_dtype(meta["dtype"].get<std::string>()).has_value());
      CHECK(wrapgraph::parse_device(meta["device"].get<std::string>()).has_value());
      for (const json& e : meta["size"]) check_expr(e);
      for (const json& e : meta["stride"]) check_expr(e);
      CHECK(meta["size"].size() == meta["stride"].size());
      check_expr(meta["offset"]);
    }
    CHECK(defined.insert(n["name"].get<std::string>()).second);  // unique names
    if (op == "output") {
      CHECK(i + 1 == nodes.size());
      CHECK(n["args"].size() == 1);
      if (is_subgraph) CHECK(n["args"][0].is_array());
    }
    if (op == "get_attr" && meta.empty()) CHECK(g["subgraphs"].contains(n["target"].get<std::string>()));
  }
  CHECK(nodes.back()["op"] == "output");
  for (const auto& [name, sub] : g["subgraphs"].items()) check_graph_format(sub, true);
}

}  // namespace

TEST_CASE("to_json follows every rule of spec/graph-format.md") {
  for (const graph& g : {testing::every_target(), testing::nested_cond(), testing::awkward_values(), add_one()})
    check_graph_format(to_json(g), false);
  // A dump reads back to the same document (awkward_values has a NaN, which JSON cannot hold).
  for (const graph& g : {testing::every_target(), testing::nested_cond(), add_one()})
    CHECK(json::parse(to_json(g).dump()) == to_json(g));
}

TEST_CASE("to_json writes the nodes of graph-format.md's example") {
  const json j = to_json(add_one());
  CHECK(j["nodes"][0].dump() ==
        R"({"name":"arg0_1","op":"placeholder","target":"arg0_1","args":[],"kwargs":{},)"
        R"("meta":{"dtype":"float32","device":"cpu","size":["s0",8],"stride":[8,1],"offset":0}})");
  CHECK(j["nodes"][1]["meta"].dump() == R"({"sym":"s0"})");
  CHECK(j["nodes"][3]["args"].dump() == R"([[{"node":"s0"},8],[8,1]])");
  CHECK(j["nodes"][3]["kwargs"].dump() == R"({"dtype":"float32","device":"cpu"})");
  CHECK(j["nodes"][4]["kwargs"].dump() ==
        R"({"kernel":"k_add","grid":[{"node":"mul"},1,1],"config":{"XBLOCK":1},)"
        R"("args":[{"node":"arg0_1"},{"node":"buf0"},{"node":"mul"}]})");
  CHECK(j["nodes"][4]["meta"].dump() == "{}");
  CHECK(j["nodes"][5].dump() ==
        R"({"name":"output","op":"output","target":"output","args":[{"node":"buf0"}],"kwargs":{},"meta":{}})");
  CHECK(j["subgraphs"].dump() == "{}");
}

TEST_CASE("to_json nests subgraphs by name, each with its own nodes and subgraphs") {
  const json j = to_json(testing::nested_cond());
  CHECK(j["subgraphs"].size() == 2);
  CHECK(j["subgraphs"]["true_graph_0"]["subgraphs"].contains("true_graph_1"));
  CHECK(j["subgraphs"]["false_graph_0"]["nodes"].back()["args"].dump() == R"([[{"node":"arg0_1"}]])");
  const json& cond = j["nodes"][4];
  CHECK(cond["target"] == "higher_order.cond");
  CHECK(cond["args"].dump() == R"([{"node":"pred"},{"node":"true_graph_0"},{"node":"false_graph_0"},)"
                               R"([{"node":"pred"},{"node":"arg0_1"}]])");
}

TEST_CASE("to_json writes symbolic meta as expression strings and integers") {
  const json j = to_json(testing::every_target());
  const auto node = [&](const std::string& name) {
    for (const json& n : j["nodes"])
      if (n["name"] == name) return n;
    FAIL("no node " << name);
    return json();
  };
  CHECK(node("add")["meta"]["sym"] == "s0 + 1");
  CHECK(node("sym_stride_int")["meta"]["sym"] == 8);
  CHECK(node("buf0_view")["meta"]["size"].dump() == R"(["8*s0"])");
  CHECK(node("buf6")["meta"]["device"] == "cuda:0");
  CHECK(node("arg3_1")["meta"]["dtype"] == "bool");
  CHECK(node("arg3_1")["meta"]["size"].dump() == "[]");
}

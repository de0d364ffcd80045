// Tests of include/wrapgraph/convert/convert.hpp: one conversion test per
// line kind, the end-to-end programs of tests/programs/convert (equivalent
// to the reference converter's tests), and hash-consed lowering.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/io/json.hpp>

using namespace wrapgraph;
using graph::op_kind;
using graph::vertex;

namespace {

// A program of one tensor input `x` (float32[8]) and the given lines and
// outputs, converted.
graph::graph convert_lines(const std::string& lines, const std::string& outputs = "[]",
                           const std::string& extra = "") {
  const std::string text = R"({"format": "wrapgraph/1", "inputs": [{"kind": "tensor", "name": "x",
      "dtype": "float32", "device": "cpu", "size": [8], "stride": [1]}], "lines": )" +
                           lines + ", \"outputs\": " + outputs + extra + "}";
  graph::graph g = convert(io::load_program_text(text));
  graph::verify(g);
  return g;
}

std::size_t count(const graph::graph& g, std::string_view target) {
  std::size_t n = 0;
  for (vertex v = 0; v < g.size(); ++v)
    if (g[v].op == op_kind::call && g[v].target == target) ++n;
  return n;
}

std::size_t count_op(const graph::graph& g, op_kind op) {
  std::size_t n = 0;
  for (vertex v = 0; v < g.size(); ++v)
    if (g[v].op == op) ++n;
  return n;
}

const graph::node& named(const graph::graph& g, std::string_view name) {
  const auto v = g.find(name);
  REQUIRE_MESSAGE(v.has_value(), "no node named " << name);
  return g[*v];
}

std::string error_id_of(const std::string& lines, const std::string& outputs = "[]") {
  try {
    (void)convert_lines(lines, outputs);
  } catch (const error& e) {
    return e.id();
  }
  return "(no error)";
}

const std::string copy_kernel = R"({"op": "kernel_definition", "kernel": "k_copy",
    "signature": [{"name": "in_ptr0", "type": "*fp32"}, {"name": "out_ptr0", "type": "*fp32"},
                  {"name": "xnumel", "type": "i32"}, {"name": "XBLOCK", "type": "constexpr"}],
    "constants": {}, "configs": [{"XBLOCK": 4, "num_warps": 1}],
    "implementations": {"cpp": {"source": "", "entry": "k_copy"}}})";

const std::string alloc_buf0 = R"({"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32",
    "device": "cpu", "size": [8], "stride": [1]}})";

}  // namespace

TEST_CASE("convert: allocate becomes torch.empty_strided named after the buffer") {
  const graph::graph g = convert_lines("[" + alloc_buf0 + "]", R"(["buf0"])");
  const graph::node& n = named(g, "buf0");
  CHECK(n.target == "torch.empty_strided");
  REQUIRE(n.args.size() == 2);
  CHECK(*n.args[0].as_list() == graph::argument_list{std::int64_t{8}});
  CHECK(*n.kwarg("dtype") == graph::argument("float32"));
  CHECK(*n.kwarg("device") == graph::argument("cpu"));
  REQUIRE(n.tensor());
  CHECK(n.tensor()->type == dtype::float32);
  CHECK(g[*g.output()].args[0] == graph::argument(graph::node_ref{*g.find("buf0")}));
}

TEST_CASE("convert: free and free_if_not_reused make no node and end the name") {
  const graph::graph g =
      convert_lines("[" + alloc_buf0 + R"(, {"op": "free", "name": "buf0"}, {"op": "free", "name": "x"}])");
  CHECK(g.size() == 3);  // x, buf0, output
  CHECK(error_id_of("[" + alloc_buf0 + R"(, {"op": "free_if_not_reused", "name": "buf0", "is_reused": false}])",
                    R"(["buf0"])") == "wrapgraph.program.use_after_free");
  CHECK(error_id_of("[" + alloc_buf0 + R"(, {"op": "free_if_not_reused", "name": "buf0", "is_reused": true}])",
                    R"(["buf0"])") == "(no error)");
}

TEST_CASE("convert: reuse aliases the same layout and views another") {
  const std::string same = R"({"op": "reuse", "old": "buf0", "new": {"name": "buf1", "dtype": "float32",
      "device": "cpu", "size": [8], "stride": [1]}, "delete_old": true})";
  const graph::graph a = convert_lines("[" + alloc_buf0 + ", " + same + "]", R"(["buf1", "buf0"])");
  CHECK(count(a, "torch.as_strided") == 0);
  const graph::argument_list outputs = *a[*a.output()].args[0].as_list();
  CHECK(outputs[0] == outputs[1]);  // one node, two names
  const std::string other = R"({"op": "reuse", "old": "buf0", "new": {"name": "buf1", "dtype": "float32",
      "device": "cpu", "size": [2, 4], "stride": [4, 1]}, "delete_old": true})";
  const graph::graph b = convert_lines("[" + alloc_buf0 + ", " + other + "]", R"(["buf1"])");
  CHECK(named(b, "buf1").target == "torch.as_strided");
  // The old name ends, unless it is an output of the graph.
  const std::string use_old = R"({"op": "reinterpret", "input": "buf0", "result": "v", "size": [8], "stride": [1],
      "offset": 0})";
  CHECK(error_id_of("[" + alloc_buf0 + ", " + other + ", " + use_old + "]") == "wrapgraph.program.use_after_free");
  CHECK(error_id_of("[" + alloc_buf0 + ", " + other + ", " + use_old + "]", R"(["buf0"])") == "(no error)");
}

TEST_CASE("convert: reinterpret is as_strided with the input's offset added") {
  const graph::graph g = convert_lines("[" + alloc_buf0 + R"(, {"op": "reinterpret", "input": "buf0",
      "result": "buf1", "size": [4], "stride": [1], "offset": 4}, {"op": "reinterpret", "input": "buf1",
      "result": "buf2", "size": [2], "stride": [1], "offset": 1}])",
                                       R"(["buf2"])");
  const graph::node& n = named(g, "buf2");
  CHECK(n.target == "torch.as_strided");
  CHECK(n.args[3] == graph::argument(std::int64_t{5}));
}

TEST_CASE("convert: kernel_definition makes no node, kernel_call one with kernel, grid, config and args") {
  const graph::graph g = convert_lines("[" + copy_kernel + ", " + alloc_buf0 + R"J(, {"op": "kernel_call",
      "kernel": "k_copy", "args": ["x", "buf0", 8], "grid": ["CeilDiv(xnumel, XBLOCK)"]}])J",
                                       R"(["buf0"])");
  REQUIRE(count(g, "wrapgraph.kernel_call") == 1);
  const graph::node& call = named(g, "k_copy");
  CHECK(*call.kwarg("kernel") == graph::argument("k_copy"));
  // CeilDiv(8, 4) with the config's XBLOCK and the call's xnumel
  CHECK(*call.kwarg("grid") == graph::argument(graph::argument_list{std::int64_t{2}, std::int64_t{1}, std::int64_t{1}}));
  CHECK(call.kwarg("config")->as_map() != nullptr);
  const graph::argument_list& args = *call.kwarg("args")->as_list();
  REQUIRE(args.size() == 3);
  CHECK(args[2] == graph::argument(std::int64_t{8}));
}

TEST_CASE("convert: each call of a kernel gets the grid of its own arguments") {
  // Calls that repeat the previous call's arguments share its lowered grid;
  // one that differs must not.
  auto call = [](const std::string& xnumel, const std::string& grid) {
    return R"J(, {"op": "kernel_call", "kernel": "k_copy", "args": ["x", "buf0", )J" + xnumel + R"J(], "grid": [)J" +
           grid + "]}";
  };
  const std::string ceil = R"J("CeilDiv(xnumel, XBLOCK)")J";
  const graph::graph g = convert_lines("[" + copy_kernel + ", " + alloc_buf0 + call("8", ceil) + call("8", ceil) +
                                           call("16", ceil) + call("8", ceil) + call("8", R"("xnumel")") + "]",
                                       R"(["buf0"])");
  std::vector<std::int64_t> grids;
  for (vertex v = 0; v < g.size(); ++v)
    if (g[v].target == "wrapgraph.kernel_call") grids.push_back(*(*g[v].kwarg("grid")->as_list())[0].as_int());
  CHECK(grids == std::vector<std::int64_t>{2, 2, 4, 2, 8});
}

TEST_CASE("convert: the graph keeps the kernels it launches, and the grid of a kernel of several configs") {
  SUBCASE("one config: the definition, and no launch grid to keep") {
    const graph::graph g = convert_lines("[" + copy_kernel + ", " + alloc_buf0 + R"J(, {"op": "kernel_call",
        "kernel": "k_copy", "args": ["x", "buf0", 8], "grid": ["CeilDiv(xnumel, XBLOCK)"]}])J",
                                         R"(["buf0"])");
    REQUIRE(g.kernels().size() == 1);
    const kernel_definition_line* def = g.find_kernel("k_copy");
    REQUIRE(def != nullptr);
    CHECK(def->implementations.cpp->entry == "k_copy");
    CHECK(g.find_kernel("k_other") == nullptr);
    CHECK(g.launch_grid(*g.find("k_copy")) == nullptr);
  }
  SUBCASE("two configs: the grid keeps XBLOCK as a symbol, the call's xnumel substituted") {
    std::string two_configs = copy_kernel;
    const std::string one = R"("configs": [{"XBLOCK": 4, "num_warps": 1}])";
    two_configs.replace(two_configs.find(one), one.size(),
                        R"("configs": [{"XBLOCK": 4, "num_warps": 1}, {"XBLOCK": 8, "num_warps": 2}])");
    const graph::graph g = convert_lines("[" + two_configs + ", " + alloc_buf0 + R"J(, {"op": "kernel_call",
        "kernel": "k_copy", "args": ["x", "buf0", 8], "grid": ["CeilDiv(xnumel, XBLOCK)", 2]}])J",
                                         R"(["buf0"])");
    const graph::vertex call = *g.find("k_copy");
    // the node's grid is the first config's
    CHECK(*g[call].kwarg("grid") ==
          graph::argument(graph::argument_list{std::int64_t{2}, std::int64_t{2}, std::int64_t{1}}));
    const std::vector<sym::expr>* grid = g.launch_grid(call);
    REQUIRE(grid != nullptr);
    REQUIRE(grid->size() == 2);
    CHECK(sym::to_string((*grid)[0]) == "CeilDiv(8, XBLOCK)");
    CHECK((*grid)[1].is_integer(2));
    const graph::graph copy = g;
    CHECK(copy.launch_grid(call) != nullptr);
    CHECK(copy.find_kernel("k_copy") == g.find_kernel("k_copy"));  // shared, immutable
  }
}

TEST_CASE("convert: symbolic_call_arg names an expression for later lines") {
  const std::string program = R"({"format": "wrapgraph/1", "symbols": {"s0": {"hint": 4}},
      "inputs": [{"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}],
      "lines": [{"op": "symbolic_call_arg", "name": "ks0", "expr": "2*s0 + 1"},
                {"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu",
                 "size": ["ks0"], "stride": [1]}}],
      "outputs": ["buf0", {"expr": "ks0 + s0"}]})";
  const graph::graph g = convert(io::load_program_text(program));
  CHECK(count(g, "aten.sym_size.int") == 1);
  CHECK(count(g, "operator.mul") == 1);  // 2*s0, once
  CHECK(count(g, "operator.add") == 2);  // 2*s0 + 1 and ks0 + s0
}

TEST_CASE("convert: extern_kernel_out and extern_kernel_alloc call the operator by name") {
  const graph::graph g = convert_lines("[" + alloc_buf0 + R"(, {"op": "extern_kernel_out",
      "kernel": "aten.add.out", "args": ["x", "x"], "kwargs": {"alpha": 2}, "out": "buf0"},
      {"op": "extern_kernel_alloc", "kernel": "aten.sort.default", "args": ["x"], "kwargs": {"descending": true},
       "result": "buf1", "result_kind": "multi"},
      {"op": "extern_kernel_alloc", "kernel": "aten.relu.default", "args": ["x"], "kwargs": {},
       "result": "buf2", "result_kind": "tensor", "layout": {"dtype": "float32", "device": "cpu", "size": [8], "stride": [1]}},
      {"op": "extern_kernel_alloc", "kernel": "aten.sort.default", "args": ["x", "stable"], "kwargs": {},
       "result": "unused", "result_kind": "none"}])",
                                       R"(["buf0", "buf2"])");
  const graph::node& out = g[*g.find("add")];
  CHECK(out.target == "aten.add.out");
  CHECK(out.kwarg("out")->as_node() != nullptr);
  CHECK(*out.kwarg("alpha") == graph::argument(std::int64_t{2}));
  CHECK(named(g, "buf1").target == "aten.sort.default");
  REQUIRE(named(g, "buf2").tensor());
  // A name that nothing defines is a string constant of an extern operator.
  CHECK(g[*g.find("sort")].args[1] == graph::argument("stable"));
}

TEST_CASE("convert: multi_output indexes with getitem, several levels deep, or aliases") {
  const graph::graph g = convert_lines(R"([{"op": "extern_kernel_alloc", "kernel": "aten.nested.default",
      "args": ["x"], "kwargs": {}, "result": "buf0", "result_kind": "multi"},
      {"op": "multi_output", "result": "buf1", "input": "buf0", "index": [1, 0]},
      {"op": "multi_output", "result": "buf2", "input": "buf0", "index": []}])",
                                       R"(["buf1", "buf2"])");
  CHECK(count(g, "operator.getitem") == 2);
  const graph::node& n = named(g, "buf1");
  CHECK(n.args[1] == graph::argument(std::int64_t{0}));
  const graph::argument_list outputs = *g[*g.output()].args[0].as_list();
  CHECK(outputs[1] == graph::argument(graph::node_ref{*g.find("buf0")}));
}

TEST_CASE("convert: conditional is higher_order.cond over get_attr subgraphs") {
  const std::string branch = R"({"format": "wrapgraph/1", "inputs": [{"kind": "tensor", "name": "a",
      "dtype": "float32", "device": "cpu", "size": [8], "stride": [1]}], "lines": [], "outputs": ["a"]})";
  const graph::graph g = convert_lines(R"([{"op": "conditional", "result": "buf0", "predicate": {"expr": 1},
      "true_subgraph": "t", "false_subgraph": "f", "operands": ["x"]},
      {"op": "multi_output", "result": "buf1", "input": "buf0", "index": [0]}])",
                                       R"(["buf1"])", R"(, "subgraphs": {"t": )" + branch + R"(, "f": )" + branch + "}");
  CHECK(count(g, "higher_order.cond") == 1);
  CHECK(count_op(g, op_kind::get_attr) == 2);
  REQUIRE(g.subgraphs().size() == 2);
  const graph::graph& t = g.subgraphs()[0].body;
  CHECK(t[*t.output()].args[0].as_list() != nullptr);  // a subgraph always returns a list
  const graph::node& cond = g[*g.find("cond")];
  CHECK(cond.args[1].as_node() != nullptr);
  CHECK(g[cond.args[1].as_node()->node].op == op_kind::get_attr);
}

TEST_CASE("convert: dynamic_scalar is item, or where then item for convert_int") {
  const graph::graph g = convert_lines(R"([{"op": "dynamic_scalar", "input": "x", "symbol": "u0", "keypath": []},
      {"op": "dynamic_scalar", "input": "x", "symbol": "u1", "keypath": ["convert_int"]}])",
                                       R"([{"expr": "u0 + u1"}])");
  CHECK(count(g, "aten.item.default") == 2);
  CHECK(count(g, "aten.where.Scalar") == 1);
  CHECK(count(g, "operator.add") == 1);
}

TEST_CASE("convert: unbacked_symbol_defs follows key paths without the reference's off-by-one") {
  const graph::graph g = convert_lines(R"([{"op": "extern_kernel_alloc", "kernel": "aten.nonzero.default",
      "args": ["x"], "kwargs": {}, "result": "buf0", "result_kind": "tensor",
      "layout": {"dtype": "int64", "device": "cpu", "size": ["u0", 1], "stride": [1, 1]}},
      {"op": "unbacked_symbol_defs", "output": "buf0", "bindings": {
         "u0": [{"method": "size", "index": 0}],
         "u1": [{"method": "size"}, {"index": 0}, {"divide_by": 2}],
         "u2": [{"method": "stride", "index": 1}, {"divide_by": 4}],
         "u3": [{"method": "storage_offset"}]}}])",
                                       R"([{"expr": "u0 + u1 + u2 + u3"}])");
  CHECK(count(g, "aten.sym_size.int") == 2);
  CHECK(count(g, "aten.sym_stride.int") == 1);
  CHECK(count(g, "aten.sym_storage_offset.default") == 1);
  CHECK(count(g, "operator.floordiv") == 2);  // the key paths continue after .size(0) and .stride(1)
}

TEST_CASE("convert: scatter_fallback and index_put_fallback mutate and rename their buffer") {
  const graph::graph g = convert_lines("[" + alloc_buf0 + R"(,
      {"op": "scatter_fallback", "kernel": "aten.scatter_.value", "self": "buf0", "dim": 0, "index": "x",
       "src": 2.5, "reduce": null},
      {"op": "index_put_fallback", "self": "buf0", "indices": ["x", null], "values": "x", "accumulate": false}])",
                                       R"(["buf0"])");
  const vertex scatter = *g.find("scatter_");
  CHECK(g[scatter].args[3] == graph::argument(2.5));
  const vertex index_put = *g.find("index_put_");
  CHECK(g[index_put].args[0] == graph::argument(graph::node_ref{scatter}));
  CHECK(g[*g.output()].args[0] == graph::argument(graph::node_ref{index_put}));
  CHECK((*g[index_put].args[1].as_list())[1].is_none());
}

TEST_CASE("convert: comm buffers get a node the runtime can serve") {
  const graph::graph g = convert_lines(R"([{"op": "comm_buffer_allocate", "buffer": {"name": "buf0",
      "dtype": "float32", "device": "cuda:0", "size": [8], "stride": [1]}, "comm_type": "symm_mem", "group": "g0"},
      {"op": "comm_buffer_free", "name": "buf0"}])");
  const graph::node& n = named(g, "buf0");
  CHECK(n.target == "wrapgraph.comm_buffer_allocate");
  CHECK(*n.kwarg("comm_type") == graph::argument("symm_mem"));
  CHECK(*n.kwarg("device") == graph::argument("cuda:0"));
}

TEST_CASE("convert: comment, null, line_context and context markers make no node") {
  const graph::graph g = convert_lines(R"([{"op": "comment", "text": "hello"}, {"op": "null"},
      {"op": "line_context"}, {"op": "enter_device_context", "device": 0}, {"op": "exit_device_context"},
      {"op": "enter_subgraph", "name": "s"}, {"op": "exit_subgraph"}])");
  CHECK(g.size() == 2);  // x and the output
}

TEST_CASE("convert: symbolic expressions become one node per distinct subexpression") {
  const std::string program = R"({"format": "wrapgraph/1", "symbols": {"s0": {"hint": 4}, "s1": {"hint": 2}},
      "inputs": [{"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["s0", "s1"],
                  "stride": ["s1", 1]}],
      "lines": [{"op": "allocate", "buffer": {"name": "a", "dtype": "float32", "device": "cpu",
                 "size": ["s0*s1", "s0 + 1"], "stride": ["s0 + 1", 1]}},
                {"op": "allocate", "buffer": {"name": "b", "dtype": "float32", "device": "cpu",
                 "size": ["(s0*s1 + 127)//128", "s0*s1"], "stride": ["s0*s1", 1]}}],
      "outputs": ["a", "b"]})";
  const graph::graph g = convert(io::load_program_text(program));
  CHECK(count(g, "aten.sym_size.int") == 2);
  CHECK(count(g, "aten.sym_stride.int") == 0);  // stride s1 is already defined by size 1
  CHECK(count(g, "operator.mul") == 1);
  CHECK(count(g, "operator.add") == 2);  // s0 + 1 and s0*s1 + 127
  CHECK(count(g, "operator.floordiv") == 1);
}

TEST_CASE("convert: an input of size 2*s0 + 1 defines s0 = (size - 1)//2 with one sym_size") {
  const std::string program = R"({"format": "wrapgraph/1", "symbols": {"s0": {"hint": 4}},
      "inputs": [{"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["2*s0 + 1"],
                  "stride": [1]},
                 {"kind": "tensor", "name": "y", "dtype": "float32", "device": "cpu", "size": ["s1 - 3"],
                  "stride": [1]}],
      "lines": [], "outputs": [{"expr": "s0"}, {"expr": "s1"}]})";
  const graph::graph g = convert(io::load_program_text(program));
  CHECK(count(g, "aten.sym_size.int") == 2);
  CHECK(count(g, "operator.sub") == 1);
  CHECK(count(g, "operator.floordiv") == 1);
  CHECK(count(g, "operator.add") == 1);  // s1 = size + 3
}

TEST_CASE("convert: error messages name the line, its op and the buffer") {
  try {
    (void)convert_lines("[" + copy_kernel + ", " + alloc_buf0 + R"(, {"op": "free", "name": "buf0"},
        {"op": "kernel_call", "kernel": "k_copy", "args": ["x", "buf0", 8], "grid": [1]}])");
    FAIL("no error");
  } catch (const program_error& e) {
    CHECK(e.id() == "wrapgraph.program.use_after_free");
    CHECK(e.message() == "line 3 (kernel_call k_copy): buffer 'buf0' was freed at line 2");
  }
}

// ---- the end-to-end programs ---------------------------------------------------

TEST_CASE("convert: the programs of tests/programs/convert have the expected structure") {
  const std::filesystem::path dir = std::filesystem::path(WRAPGRAPH_TEST_PROGRAMS_DIR) / "convert";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 16);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const auto json = nlohmann::ordered_json::parse(text.str());
    const program p = io::load_program_text(text.str());
    const graph::graph g = convert(p);
    graph::verify(g);
    const auto& expect = json["meta"]["expect"];
    for (const auto& [target, n] : expect["targets"].items()) {
      CAPTURE(target);
      CHECK(count(g, target) == n.get<std::size_t>());
    }
    if (expect.contains("placeholders")) CHECK(count_op(g, op_kind::placeholder) == expect["placeholders"].get<std::size_t>());
    if (expect.contains("get_attrs")) CHECK(count_op(g, op_kind::get_attr) == expect["get_attrs"].get<std::size_t>());
    const graph::argument& result = g[*g.output()].args[0];
    if (expect.contains("outputs")) {
      REQUIRE(result.as_list());
      CHECK(result.as_list()->size() == expect["outputs"].get<std::size_t>());
    } else {
      CHECK(result.as_node() != nullptr);  // a single output is returned bare
    }
    if (expect.contains("output")) CHECK(g[result.as_node()->node].name == expect["output"].get<std::string>());
    if (expect.contains("subgraph_outputs")) {
      for (const auto& [name, n] : expect["subgraph_outputs"].items()) {
        const graph::graph* sub = g.find_subgraph(name);
        REQUIRE(sub);
        CHECK(sub->operator[](*sub->output()).args[0].as_list()->size() == n.get<std::size_t>());
      }
    }
    // Converting twice gives the same graph: conversion is deterministic.
    const graph::graph again = convert(p);
    REQUIRE(again.size() == g.size());
    for (vertex v = 0; v < g.size(); ++v) CHECK(again[v].name == g[v].name);
  }
}

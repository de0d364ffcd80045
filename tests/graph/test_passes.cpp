// Tests of include/wrapgraph/graph/passes.hpp: verify and its error ids,
// side effects, dead-code elimination (and its laws: the result verifies, is
// a fixed point, keeps names and effects), and liveness.

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/graph/print.hpp>

#include "sample_graphs.hpp"

namespace {

using namespace wrapgraph::graph;

// The id and message of what verify(g) throws, or "" when it passes.
std::string verify_error(const graph& g) {
  try {
    verify(g);
  } catch (const wrapgraph::error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names_of(const graph& g) {
  std::vector<std::string> out;
  for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) out.push_back(g[v].name);
  return out;
}

// A subgraph that returns its input in a list.
graph pass_through() {
  graph g;
  const vertex x = g.placeholder("x");
  g.set_output(argument_list{node_ref{x}});
  return g;
}

std::vector<graph> samples() {
  std::vector<graph> out;
  out.push_back(testing::every_target());
  out.push_back(testing::nested_cond());
  out.push_back(testing::awkward_values());
  out.push_back(testing::identity());
  return out;
}

}  // namespace

// ---- verify -------------------------------------------------------------------------

TEST_CASE("verify accepts the graphs that the graph API builds") {
  for (const graph& g : samples()) CHECK(verify_error(g) == "");
}

TEST_CASE("verify reports a graph without an output node") {
  graph g;
  g.placeholder("x");
  CHECK(verify_error(g) == "[wrapgraph.graph.missing_output] the graph has no output node");
}

TEST_CASE("verify reports an output node that is not last") {
  graph g;
  g.set_output(argument{});
  g.placeholder("x");
  CHECK(verify_error(g) == "[wrapgraph.graph.output_not_last] node 0 (output): an output node is not the last node");
}

TEST_CASE("verify reports a second output node") {
  graph g;
  g.set_output(argument{});
  g.add(op_kind::output, "output", "output", {argument{}});
  CHECK(verify_error(g) == "[wrapgraph.graph.output_not_last] node 0 (output): an output node is not the last node");
}

TEST_CASE("verify reports an output node without exactly one argument, or one the graph does not record") {
  SUBCASE("two arguments") {
    graph g;
    g.set_output(argument{});
    g[0].args.push_back(1);
    CHECK(verify_error(g).starts_with("[wrapgraph.graph.malformed_output] node 0 (output): an output node has exactly one"));
  }
  SUBCASE("not recorded by graph::output") {
    graph g;
    g.add(op_kind::output, "output", "output", {argument{}});
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.malformed_output] node 0 (output): graph::output() does not name the output node");
  }
}

TEST_CASE("verify reports a subgraph whose output is not a list, naming the subgraph") {
  graph g = testing::identity();
  graph body;
  const vertex x = body.placeholder("x");
  body.set_output(node_ref{x});
  g.subgraphs().push_back({"true_graph_0", std::move(body)});
  CHECK(verify_error(g) ==
        "[wrapgraph.graph.malformed_output] subgraph true_graph_0: node 1 (output): a subgraph's output is a list");
}

TEST_CASE("verify reports a use of a node defined later or not at all") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex a = g.call("operator.add", "add", {node_ref{x}, 1});
  const vertex b = g.call("operator.mul", "mul", {node_ref{x}, 2});
  g.set_output(node_ref{b});
  SUBCASE("later") {
    g[a].args[1] = node_ref{b};
    CHECK(verify_error(g) == "[wrapgraph.graph.use_before_definition] node 1 (add): uses node 2 (mul)");
  }
  SUBCASE("itself") {
    g[a].args[1] = node_ref{a};
    CHECK(verify_error(g) == "[wrapgraph.graph.use_before_definition] node 1 (add): uses node 1 (add)");
  }
  SUBCASE("missing") {
    g[a].args[1] = node_ref{99};
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.use_before_definition] node 1 (add): uses node 99, which does not exist");
  }
}

TEST_CASE("verify reports in-edges that do not match a node's references") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.placeholder("y");
  const vertex a = g.call("operator.add", "add", {node_ref{x}, node_ref{y}});
  g.set_output(node_ref{a});
  SUBCASE("a reference without an edge") {
    g[a].args[1] = node_ref{x};
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.edge_mismatch] node 2 (add): its 2 in-edges do not match its 2 node references");
  }
  SUBCASE("an edge without a reference") {
    boost::add_edge(x, a, use{2}, g.bgl());
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.edge_mismatch] node 2 (add): its 3 in-edges do not match its 2 node references");
  }
}

TEST_CASE("verify reports duplicate and invalid names") {
  graph g;
  g.placeholder("x");
  const vertex y = g.placeholder("y");
  g.set_output(argument{});
  SUBCASE("duplicate") {
    g[y].name = "x";
    CHECK(verify_error(g) == "[wrapgraph.graph.duplicate_name] node 1 (x): another node is already named 'x'");
  }
  SUBCASE("not an identifier") {
    g[y].name = "a-b";
    CHECK(verify_error(g) == "[wrapgraph.graph.invalid_name] node 1 (a-b): the name is not a Python identifier "
                             "free for a value");
  }
  SUBCASE("a keyword") {
    g[y].name = "def";
    CHECK(verify_error(g).starts_with("[wrapgraph.graph.invalid_name] node 1 (def)"));
  }
  SUBCASE("reserved") {
    g[y].name = "self";
    CHECK(verify_error(g).starts_with("[wrapgraph.graph.invalid_name] node 1 (self)"));
  }
  SUBCASE("a subgraph name") {
    g.subgraphs().push_back({"true graph", pass_through()});
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.invalid_name] subgraph true graph: the name is not a Python identifier");
  }
}

TEST_CASE("verify reports a get_attr of a subgraph that does not exist, and duplicate subgraphs") {
  SUBCASE("unknown") {
    graph g;
    g.get_attr("true_graph_0");
    g.set_output(argument{});
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.unknown_subgraph] node 0 (true_graph_0): no subgraph is named 'true_graph_0'");
  }
  SUBCASE("a constant is a get_attr with tensor meta") {
    graph g;
    auto& ctx = *g.context();
    g.get_attr("_tensor_constant0",
               tensor_meta{wrapgraph::dtype::float32, wrapgraph::cpu, {ctx.integer(2)}, {ctx.integer(1)}, ctx.integer(0)});
    g.set_output(argument{});
    CHECK(verify_error(g) == "");
  }
  SUBCASE("duplicate") {
    graph g = testing::identity();
    g.subgraphs().push_back({"true_graph_0", pass_through()});
    g.subgraphs().push_back({"true_graph_0", pass_through()});
    CHECK(verify_error(g) ==
          "[wrapgraph.graph.duplicate_subgraph] subgraph true_graph_0: another subgraph has this name");
  }
}

TEST_CASE("verify checks subgraphs recursively and names the path to the bad node") {
  graph g = testing::nested_cond();
  graph& inner = g.subgraphs()[0].body.subgraphs()[0].body;
  inner[1].args[0] = node_ref{3};
  CHECK(verify_error(g) ==
        "[wrapgraph.graph.use_before_definition] subgraph true_graph_0.true_graph_1: node 1 (sym_size_int): "
        "uses node 3 (kernel_call)");
  try {
    verify(g);
  } catch (const wrapgraph::error& e) {
    CHECK(e.id() == "wrapgraph.graph.use_before_definition");
    CHECK(e.has_id("wrapgraph.graph"));
  }
}

// ---- side effects -------------------------------------------------------------------

TEST_CASE("has_side_effects: kernel calls, out variants, in-place operators and conds over effects") {
  graph g;
  const vertex x = g.placeholder("x");
  const auto effect = [&](const char* target, argument_list args = {}, keyword_arguments kwargs = {}) {
    return has_side_effects(g, g.call(target, "n", std::move(args), std::move(kwargs)));
  };
  CHECK(effect("wrapgraph.kernel_call"));
  CHECK(effect("aten.addmm.out", {node_ref{x}}, {{"out", node_ref{x}}}));
  CHECK(effect("aten.scatter_.value"));
  CHECK(effect("aten.scatter_.value_reduce"));
  CHECK(effect("aten.index_put_.default"));
  CHECK(effect("aten.scatter_reduce_.two"));
  CHECK(effect("torch.ops.aten.add_.Tensor"));
  CHECK(effect("aten.__iand__.Tensor"));
  CHECK_FALSE(effect("aten.__and__.Tensor"));
  CHECK_FALSE(effect("aten.add.Tensor"));
  CHECK_FALSE(effect("aten.mm.default"));
  CHECK_FALSE(effect("torch.empty_strided"));
  CHECK_FALSE(effect("torch.as_strided"));
  CHECK_FALSE(effect("wrapgraph.comm_buffer_allocate"));
  CHECK_FALSE(effect("operator.add", {node_ref{x}, 1}));
  CHECK_FALSE(effect("aten.sym_size.int", {node_ref{x}, 0}));
  CHECK_FALSE(has_side_effects(g, x));

  const graph cond = testing::nested_cond();
  CHECK(has_side_effects(cond, *cond.find("cond")));  // through true_graph_0.true_graph_1's kernel
  CHECK(has_side_effects(cond));
  CHECK_FALSE(has_side_effects(*cond.find_subgraph("false_graph_0")));
  const graph pure = testing::every_target();
  const graph* view_branch = pure.find_subgraph("false_graph_0");
  CHECK_FALSE(has_side_effects(*view_branch));
}

TEST_CASE("has_side_effects: a cond whose branches are pure has none") {
  graph g;
  const vertex p = g.placeholder("pred");
  graph t;
  t.placeholder("x");
  t.set_output(argument_list{});
  g.subgraphs().push_back({"true_graph_0", t});
  g.subgraphs().push_back({"false_graph_0", t});
  const vertex a = g.get_attr("true_graph_0");
  const vertex b = g.get_attr("false_graph_0");
  const vertex c = g.call("higher_order.cond", "cond", {node_ref{p}, node_ref{a}, node_ref{b}, argument_list{}});
  g.set_output(argument{});
  CHECK_FALSE(has_side_effects(g, c));
  CHECK(names_of(eliminate_dead_code(g)) == std::vector<std::string>{"pred", "output"});
}

// ---- dead code --------------------------------------------------------------------

TEST_CASE("eliminate_dead_code drops unused pure nodes and keeps effects with what they use") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex unused_input = g.placeholder("unused");
  const vertex size = g.call("aten.sym_size.int", "sym_size_int", {node_ref{x}, 0});
  const vertex dead = g.call("operator.add", "add", {node_ref{size}, 1});
  g.call("operator.mul", "mul", {node_ref{dead}, 2});
  const vertex buf = g.call("torch.empty_strided", "buf0", {argument_list{node_ref{size}}, argument_list{1}});
  const vertex comm = g.call("wrapgraph.comm_buffer_allocate", "buf1", {argument_list{4}, argument_list{1}});
  g.call("wrapgraph.kernel_call", "kernel_call", {}, {{"args", argument_list{node_ref{x}, node_ref{buf}}}});
  g.set_output(node_ref{x});
  (void)unused_input;
  (void)comm;

  const graph live = eliminate_dead_code(g);
  CHECK(names_of(live) == std::vector<std::string>{"x", "unused", "sym_size_int", "buf0", "kernel_call", "output"});
  CHECK(verify_error(live) == "");
  CHECK(live.context() == g.context());
  // New numbering; references follow it.
  CHECK(live[3].args[0].as_list()->at(0).as_node()->node == 2);
  CHECK(live.output() == 5);
  CHECK(g.size() == 9);  // the input graph is unchanged
}

TEST_CASE("eliminate_dead_code keeps an out variant, the buffer it writes and a later reader") {
  graph g;
  const vertex w = g.placeholder("w");
  const vertex buf = g.call("torch.empty_strided", "buf0", {argument_list{4}, argument_list{1}});
  g.call("aten.mm.out", "mm", {node_ref{w}, node_ref{w}}, {{"out", node_ref{buf}}});
  g.call("aten.mm.default", "unused", {node_ref{w}, node_ref{w}});
  const vertex sum = g.call("aten.sum.default", "buf1", {node_ref{buf}});
  g.set_output(node_ref{sum});
  CHECK(names_of(eliminate_dead_code(g)) == std::vector<std::string>{"w", "buf0", "mm", "buf1", "output"});
}

TEST_CASE("eliminate_dead_code keeps a cond whose branch launches a kernel, and cleans the branches") {
  // nested_cond's subgraphs under a cond whose result nothing reads: only
  // its effects keep it.
  const graph source = testing::nested_cond();
  graph g(source.context());
  const vertex p = g.placeholder("pred");
  const vertex x = g.placeholder("arg0_1");
  g.subgraphs() = source.subgraphs();
  const vertex t = g.get_attr("true_graph_0");
  const vertex f = g.get_attr("false_graph_0");
  const vertex cond = g.call("higher_order.cond", "cond", {node_ref{p}, node_ref{t}, node_ref{f}, argument_list{node_ref{p}, node_ref{x}}});
  g.call("operator.getitem", "buf1", {node_ref{cond}, 0});
  g.set_output(node_ref{x});
  REQUIRE(verify_error(g) == "");
  const graph live = eliminate_dead_code(g);
  CHECK(names_of(live) == std::vector<std::string>{"pred", "arg0_1", "true_graph_0", "false_graph_0", "cond", "output"});
  // Inside the pure branch of the inner cond, nothing was dead; the subgraphs stay.
  CHECK(live.find_subgraph("true_graph_0")->find_subgraph("false_graph_1")->size() == 4);
  CHECK(live.find_subgraph("false_graph_0") != nullptr);
}

TEST_CASE("eliminate_dead_code keeps every subgraph, unused ones included, each cleaned") {
  graph g = testing::identity();
  graph body;
  const vertex x = body.placeholder("x");
  body.call("operator.add", "add", {node_ref{x}, 1});
  body.set_output(argument_list{node_ref{x}});
  g.subgraphs().push_back({"unused_graph", std::move(body)});
  const graph live = eliminate_dead_code(g);
  REQUIRE(live.find_subgraph("unused_graph") != nullptr);
  CHECK(names_of(*live.find_subgraph("unused_graph")) == std::vector<std::string>{"x", "output"});
}

TEST_CASE("eliminate_dead_code laws: the result verifies, is a fixed point, keeps names, effects and the output") {
  for (const graph& g : samples()) {
    const graph live = eliminate_dead_code(g);
    CHECK(verify_error(live) == "");
    CHECK(to_json(eliminate_dead_code(live)).dump() == to_json(live).dump());
    std::size_t effects = 0, live_effects = 0;
    for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) effects += has_side_effects(g, v);
    for (const vertex v : boost::make_iterator_range(boost::vertices(live.bgl()))) {
      live_effects += has_side_effects(live, v);
      REQUIRE(g.find(live[v].name).has_value());
      CHECK(g[*g.find(live[v].name)].target == live[v].target);
    }
    CHECK(effects == live_effects);
    CHECK(to_json(live)["nodes"].back() == to_json(g)["nodes"].back());
  }
}

TEST_CASE("eliminate_dead_code on every_target drops only the pure values nothing reads") {
  const graph live = eliminate_dead_code(testing::every_target());
  const auto names = names_of(live);
  const auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("kernel_call"));
  CHECK(has("addmm"));
  CHECK(has("scatter"));
  CHECK(has("index_put"));
  CHECK(has("cond"));
  CHECK(has("buf6"));
  CHECK(live.size() == testing::every_target().size());  // everything feeds the output or an effect
}

// ---- liveness -------------------------------------------------------------------------

TEST_CASE("last_uses gives each value its last user, and values_dying_at lists them at that user") {
  graph g;
  const vertex x = g.placeholder("x");        // 0
  const vertex y = g.placeholder("y");        // 1
  const vertex unused = g.placeholder("z");   // 2
  const vertex a = g.call("operator.add", "add", {node_ref{x}, node_ref{y}});        // 3
  const vertex b = g.call("operator.mul", "mul", {node_ref{a}, node_ref{x}});        // 4
  const vertex c = g.call("operator.sub", "sub", {node_ref{b}, node_ref{a}});        // 5
  const vertex d = g.call("operator.neg", "neg", {node_ref{y}});                     // 6
  const vertex o = g.set_output(argument_list{node_ref{c}, node_ref{b}});            // 7
  (void)unused;
  const auto last = last_uses(g);
  CHECK(last == std::vector<std::optional<vertex>>{b, d, std::nullopt, c, o, o, std::nullopt, std::nullopt});
  const auto dying = values_dying_at(g);
  CHECK(dying[a].empty());
  CHECK(dying[b] == std::vector<vertex>{x});
  CHECK(dying[c] == std::vector<vertex>{a});
  CHECK(dying[d] == std::vector<vertex>{y});
  CHECK(dying[o] == std::vector<vertex>{c, b});  // in the order the output names them
}

TEST_CASE("values_dying_at lists a value used twice by its last user once") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex m = g.call("operator.mul", "mul", {node_ref{x}, node_ref{x}});
  g.set_output(node_ref{m});
  CHECK(values_dying_at(g)[m] == std::vector<vertex>{x});
}

TEST_CASE("liveness law: every value is used last after it is defined, and dies exactly once") {
  for (const graph& g : samples()) {
    const auto last = last_uses(g);
    const auto dying = values_dying_at(g);
    std::vector<int> deaths(g.size(), 0);
    for (const vertex u : boost::make_iterator_range(boost::vertices(g.bgl())))
      for (const vertex v : dying[u]) {
        CHECK(last[v] == u);
        ++deaths[v];
      }
    for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl()))) {
      if (last[v]) CHECK(*last[v] > v);
      CHECK(deaths[v] == (last[v] ? 1 : 0));
      CHECK(last[v].has_value() == (boost::out_degree(v, g.bgl()) > 0));
    }
  }
}

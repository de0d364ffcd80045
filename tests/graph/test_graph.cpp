// Tests of include/wrapgraph/graph/graph.hpp: nodes and their names, uses as
// edges in program order, arguments, subgraphs, and Boost.Graph algorithms
// running on the graph as it is.

#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/print.hpp>

#include "sample_graphs.hpp"

namespace {

using namespace wrapgraph::graph;

// (source, target, position) of every edge, sorted.
struct edge_triple {
  vertex source, target;
  std::size_t position;
  friend bool operator==(const edge_triple&, const edge_triple&) = default;
  friend auto operator<=>(const edge_triple&, const edge_triple&) = default;
};

std::vector<edge_triple> edges_of(const graph& g) {
  std::vector<edge_triple> out;
  for (const auto e : boost::make_iterator_range(boost::edges(g.bgl())))
    out.push_back({boost::source(e, g.bgl()), boost::target(e, g.bgl()), g.bgl()[e].position});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("graph::add names a node after its hint, then hint_1, hint_2 as torch.fx does") {
  graph g;
  const vertex x = g.placeholder("arg0_1");
  const vertex a = g.call("aten.sym_size.int", "sym_size_int", {node_ref{x}, 0});
  const vertex b = g.call("aten.sym_size.int", "sym_size_int", {node_ref{x}, 1});
  const vertex c = g.call("aten.sym_size.int", "sym_size_int", {node_ref{x}, 2});
  CHECK(g[a].name == "sym_size_int");
  CHECK(g[b].name == "sym_size_int_1");
  CHECK(g[c].name == "sym_size_int_2");
  CHECK(g.find("sym_size_int_1") == b);
  CHECK_FALSE(g.find("sym_size_int_3").has_value());
  CHECK(g.size() == 4);
}

TEST_CASE("graph::add skips a suffixed name that a node already holds") {
  graph g;
  g.placeholder("add_1");
  g.call("operator.add", "add", {1, 2});
  CHECK(g[g.call("operator.add", "add", {1, 2})].name == "add_2");
}

TEST_CASE("graph::add turns a hint into a Python identifier that no keyword or module takes") {
  graph g;
  CHECK(g[g.placeholder("2d-input")].name == "_2d_input");
  CHECK(g[g.placeholder("")].name == "node");
  CHECK(g[g.placeholder("self")].name == "self_1");
  CHECK(g[g.placeholder("lambda")].name == "lambda_1");
  CHECK(g[g.placeholder("None")].name == "None_1");
  CHECK(g[g.call("torch.empty_strided", "torch", {})].name == "torch_1");
  CHECK(g[g.call("operator.add", "operator", {1, 2})].name == "operator_1");
  // A placeholder keeps the name it was asked for as its target.
  CHECK(g[0].target == "2d-input");
  CHECK(detail::is_reserved_name("wrapgraph"));
  CHECK_FALSE(detail::is_reserved_name("match"));  // a soft keyword is a name
}

TEST_CASE("graph::rename gives a node a new name, or its first free variant") {
  graph g;
  const vertex a = g.call("operator.add", "add", {1, 2});
  const vertex b = g.call("operator.mul", "mul", {1, 2});
  CHECK(g.rename(b, "buf0") == "buf0");
  CHECK(g.find("buf0") == b);
  CHECK_FALSE(g.find("mul").has_value());
  CHECK(g.rename(a, "buf0") == "buf0_1");
  CHECK(g.rename(a, "buf0_1") == "buf0_1");
}

TEST_CASE("graph adds one edge per node reference, numbered through args then kwargs depth first") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.placeholder("y");
  const vertex k = g.call("wrapgraph.kernel_call", "kernel_call", {node_ref{y}},
                          {{"grid", argument_list{node_ref{x}, 1, 1}},
                           {"config", argument_map{{"a", node_ref{y}}, {"b", 2}}},
                           {"args", argument_list{node_ref{x}, argument_list{node_ref{x}}}}});
  CHECK(edges_of(g) == std::vector<edge_triple>{{x, k, 1}, {x, k, 3}, {x, k, 4}, {y, k, 0}, {y, k, 2}});
  CHECK(boost::in_degree(k, g.bgl()) == 5);
  CHECK(boost::out_degree(x, g.bgl()) == 3);
  CHECK(g[k].kwarg("config")->as_map()->at(1).first == "b");
  CHECK(g[k].kwarg("missing") == nullptr);
}

TEST_CASE("argument holds None, numbers, bools, strings, nodes, lists and maps") {
  const argument none;
  CHECK(none.is_none());
  CHECK(*argument(7).as_int() == 7);
  CHECK(*argument(std::int64_t{-3}).as_int() == -3);
  CHECK(std::get<double>(argument(0.5).value) == 0.5);
  CHECK(std::get<bool>(argument(true).value));
  CHECK(*argument("cpu").as_string() == "cpu");
  CHECK(argument(node_ref{4}).as_node()->node == 4);
  CHECK(argument(argument_list{1, "a"}).as_list()->size() == 2);
  const argument m = argument_map{{"XBLOCK", 128}};
  REQUIRE(m.as_map() != nullptr);
  CHECK(*m.as_map()->front().second.as_int() == 128);
  CHECK(m == argument(argument_map{{"XBLOCK", 128}}));
  CHECK(m != argument(argument_list{128}));
  CHECK(argument(1) != argument(1.0));
}

TEST_CASE("node meta is a tensor layout, an integer expression, or nothing") {
  graph g;
  auto& ctx = *g.context();
  const auto s0 = ctx.symbol("s0", wrapgraph::sym::positive);
  const vertex t = g.placeholder("x", tensor_meta{wrapgraph::dtype::float16, wrapgraph::cuda0, {s0}, {ctx.integer(1)},
                                                  ctx.integer(0)});
  const vertex i = g.placeholder("s0", int_meta{s0});
  const vertex n = g.placeholder("unused");
  REQUIRE(g[t].tensor() != nullptr);
  CHECK(g[t].tensor()->dev == wrapgraph::cuda0);
  CHECK(wrapgraph::sym::to_string(g[i].integer()->value) == "s0");
  CHECK(g[n].tensor() == nullptr);
  CHECK(g[n].integer() == nullptr);
}

TEST_CASE("graph::set_output appends the output node, named output, and records it") {
  graph g;
  const vertex x = g.placeholder("output");
  CHECK_FALSE(g.output().has_value());
  const vertex o = g.set_output(argument_list{node_ref{x}});
  CHECK(g.output() == o);
  CHECK(g[o].op == op_kind::output);
  CHECK(g[o].name == "output_1");
  CHECK(g[o].target == "output");
  CHECK(to_string(op_kind::get_attr) == "get_attr");
}

TEST_CASE("graph::find_subgraph finds a subgraph by the name its get_attr uses") {
  const graph g = testing::every_target();
  REQUIRE(g.find_subgraph("true_graph_0") != nullptr);
  CHECK(g.find_subgraph("true_graph_0")->size() == 5);
  CHECK(g.find_subgraph("false_graph_0")->context() == g.context());
  CHECK(g.find_subgraph("true_graph_1") == nullptr);
}

TEST_CASE("boost::topological_sort runs on g.bgl() and respects every use") {
  const graph g = testing::every_target();
  std::vector<vertex> order;
  boost::topological_sort(g.bgl(), std::back_inserter(order));
  REQUIRE(order.size() == g.size());
  std::vector<std::size_t> rank(g.size());
  // topological_sort writes the reverse order: users before what they use.
  for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = order.size() - i;
  for (const auto e : boost::make_iterator_range(boost::edges(g.bgl())))
    CHECK(rank[boost::source(e, g.bgl())] < rank[boost::target(e, g.bgl())]);
}

TEST_CASE("boost::breadth_first_search from an input reaches exactly the nodes that depend on it") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.placeholder("y");
  const vertex a = g.call("operator.add", "add", {node_ref{x}, 1});
  const vertex b = g.call("operator.mul", "mul", {node_ref{y}, 2});
  const vertex o = g.set_output(argument_list{node_ref{a}, node_ref{b}});
  std::vector<boost::default_color_type> colors(g.size(), boost::white_color);
  boost::breadth_first_search(
      g.bgl(), x, boost::color_map(boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g.bgl()))));
  CHECK(colors[x] == boost::black_color);
  CHECK(colors[a] == boost::black_color);
  CHECK(colors[o] == boost::black_color);
  CHECK(colors[y] == boost::white_color);
  CHECK(colors[b] == boost::white_color);
}

TEST_CASE("graph copies are deep and share the expression context") {
  const graph g = testing::nested_cond();
  graph copy = g;
  copy.rename(0, "renamed");
  CHECK(g[0].name == "pred");
  CHECK(copy.context() == g.context());
  CHECK(copy.find_subgraph("true_graph_0")->find_subgraph("true_graph_1") != nullptr);
}

TEST_CASE("graph moves take the nodes and leave an empty graph that still works") {
  graph g = testing::nested_cond();
  const std::size_t size = g.size();
  const std::vector<edge_triple> edges = edges_of(g);
  const auto* body = &g.bgl();

  graph moved = std::move(g);
  CHECK(&moved.bgl() == body);  // the BGL graph itself moved, not a copy of it
  CHECK(moved.size() == size);
  CHECK(edges_of(moved) == edges);
  CHECK(moved.find("pred") == vertex{0});
  CHECK(moved.output().has_value());

  // NOLINTBEGIN(bugprone-use-after-move): a moved-from graph is specified empty
  CHECK(g.size() == 0);
  CHECK_FALSE(g.find("pred").has_value());
  CHECK_FALSE(g.output().has_value());
  CHECK(g.subgraphs().empty());
  CHECK(g.context() == moved.context());
  CHECK(g.placeholder("pred") == 0);  // the name is free again in the emptied graph
  CHECK(g[0].name == "pred");
  // NOLINTEND(bugprone-use-after-move)

  g = std::move(moved);
  CHECK(g.size() == size);
  CHECK(edges_of(g) == edges);
  graph copy;
  copy = g;
  CHECK(copy.size() == size);
  CHECK(edges_of(copy) == edges);
  CHECK(&copy.bgl() != &g.bgl());
}

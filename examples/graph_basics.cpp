// The graph IR in a few lines: build a graph by hand, print it as FX-style
// Python, as a table, as JSON and as Graphviz DOT, run a Boost.Graph
// algorithm on it, and run the passes. docs/graph-ir.md quotes this file
// and the output it prints.

#include <algorithm>
#include <iostream>
#include <iterator>
#include <utility>
#include <vector>

#include <boost/graph/topological_sort.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/graph.hpp>
#include <wrapgraph/sym/context.hpp>

namespace wg = wrapgraph::graph;
namespace sym = wrapgraph::sym;
using wrapgraph::dtype;

int main() {
  // [build]
  // y = x + 1 on a [s0, 8] tensor, as the converter lowers it: the size
  // symbol read from the input, a buffer, one kernel launch.
  wg::graph g;
  sym::context& ctx = *g.context();
  const sym::expr s0 = ctx.symbol("s0", sym::positive);
  const wg::tensor_meta x_meta{dtype::float32, wrapgraph::cpu, {s0, ctx.integer(8)},
                               {ctx.integer(8), ctx.integer(1)}, ctx.integer(0)};

  const wg::vertex x = g.placeholder("arg0_1", x_meta);
  const wg::vertex size0 = g.call("aten.sym_size.int", "sym_size_int", {wg::node_ref{x}, 0}, {},
                                  wg::int_meta{s0});
  const wg::vertex buf0 = g.call("torch.empty_strided", "buf0",
                                 {wg::argument_list{wg::node_ref{size0}, 8}, wg::argument_list{8, 1}},
                                 {{"dtype", "float32"}, {"device", "cpu"}}, x_meta);
  const wg::vertex numel = g.call("operator.mul", "mul", {wg::node_ref{size0}, 8}, {}, wg::int_meta{s0 * 8});
  const wg::vertex blocks = g.call("wrapgraph.ceil_div", "ceil_div", {wg::node_ref{numel}, 128}, {},
                                   wg::int_meta{ctx.ceil_div(s0 * 8, ctx.integer(128))});
  g.call("wrapgraph.kernel_call", "kernel_call", {},
         {{"kernel", "k_add"},
          {"grid", wg::argument_list{wg::node_ref{blocks}, 1, 1}},
          {"config", wg::argument_map{{"XBLOCK", 128}, {"num_warps", 4}}},
          {"args", wg::argument_list{wg::node_ref{x}, wg::node_ref{buf0}, wg::node_ref{numel}}}});
  // A second read of dimension 0 gets the next free name.
  const wg::vertex again = g.call("aten.sym_size.int", "sym_size_int", {wg::node_ref{x}, 0}, {}, wg::int_meta{s0});
  g.call("operator.add", "add", {wg::node_ref{again}, 1}, {}, wg::int_meta{s0 + 1});
  g.set_output(wg::node_ref{buf0});
  std::cout << g.size() << " nodes; the second sym_size.int is " << g[again].name << '\n';
  // [build]

  // [python]
  std::cout << wg::to_python(g);
  // [python]

  // [text]
  std::cout << wg::to_text(g);
  // [text]

  // [json]
  std::cout << wg::to_json(g)["nodes"][2].dump() << '\n';
  // [json]

  // [dot]
  std::cout << wg::to_dot(g);
  // [dot]

  // [bgl]
  // The BGL graph is g.bgl(): its algorithms take it as it is.
  std::vector<wg::vertex> order;
  boost::topological_sort(g.bgl(), std::back_inserter(order));
  std::reverse(order.begin(), order.end());
  std::cout << "topological order:";
  for (const wg::vertex v : order) std::cout << ' ' << g[v].name;
  std::cout << '\n';
  // [bgl]

  // [passes]
  wg::verify(g);
  // `add` and the second `sym_size_int` feed nothing; the kernel call has
  // side effects, so it and what it uses stay.
  const wg::graph live = wg::eliminate_dead_code(g);
  std::cout << "after dead code elimination: " << live.size() << " nodes\n";
  const auto last = wg::last_uses(live);
  for (const wg::vertex v : boost::make_iterator_range(boost::vertices(live.bgl())))
    if (last[v]) std::cout << "  " << live[v].name << " is last used by " << live[*last[v]].name << '\n';
  // [passes]

  // [verify]
  wg::graph broken;
  broken.placeholder("x");
  try {
    wg::verify(broken);
  } catch (const wrapgraph::error& e) {
    std::cout << e.what() << '\n';
  }
  // [verify]

  // [cond]
  // torch.cond over two subgraphs; each branch returns a list.
  wg::graph c(g.context());
  const wg::vertex pred = c.placeholder("pred");
  const wg::vertex a = c.placeholder("arg0_1", x_meta);
  for (const char* branch : {"true_graph_0", "false_graph_0"}) {
    wg::graph body(g.context());
    const wg::vertex in = body.placeholder("arg0_1", x_meta);
    const wg::vertex out = body.call("torch.empty_strided", "buf0",
                                     {wg::argument_list{8}, wg::argument_list{1}},
                                     {{"dtype", "float32"}, {"device", "cpu"}});
    body.call("wrapgraph.kernel_call", "kernel_call", {},
              {{"kernel", branch[0] == 't' ? "k_one" : "k_zero"},
               {"grid", wg::argument_list{1, 1, 1}},
               {"config", wg::argument_map{}},
               {"args", wg::argument_list{wg::node_ref{in}, wg::node_ref{out}}}});
    body.set_output(wg::argument_list{wg::node_ref{out}});
    c.subgraphs().push_back({branch, std::move(body)});
  }
  const wg::vertex t = c.get_attr("true_graph_0");
  const wg::vertex f = c.get_attr("false_graph_0");
  const wg::vertex cond = c.call("higher_order.cond", "cond",
                                 {wg::node_ref{pred}, wg::node_ref{t}, wg::node_ref{f},
                                  wg::argument_list{wg::node_ref{a}}});
  const wg::vertex buf1 = c.call("operator.getitem", "buf1", {wg::node_ref{cond}, 0});
  c.set_output(wg::node_ref{buf1});
  wg::verify(c);
  std::cout << wg::to_python(c);
  // [cond]

  // [arena]
  // Lists built with the graph's allocator live in its arena; a copy of
  // one is on the heap and outlives the graph.
  wg::graph big;
  big.reserve(1000);
  const wg::vertex in = big.placeholder("x");
  wg::argument_list sizes(big.allocator());
  sizes.emplace_back(16);
  sizes.emplace_back(8);
  wg::argument_list args(big.allocator());
  args.emplace_back(wg::node_ref{in});
  args.emplace_back(std::move(sizes));
  const wg::vertex view = big.call("aten.view.default", "view", std::move(args));
  const wg::argument_list copy = big[view].args;
  std::cout << "in the arena: " << (big[view].args.get_allocator() == big.allocator())
            << ", the copy on the heap: " << (copy.get_allocator().arena() == nullptr) << '\n';
  // [arena]
}

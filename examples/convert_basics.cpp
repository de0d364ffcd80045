// Converting a wrapper program into the graph IR: load the JSON form,
// convert, print the graph as torch.fx would, and read a conversion error.
// docs/lines.md quotes it.

#include <iostream>
#include <map>
#include <string>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/graph.hpp>
#include <wrapgraph/io/json.hpp>

namespace graph = wrapgraph::graph;

int main() {
  // [program]
  // torch.add(x, y) for a dynamic length s0, as Inductor's wrapper would run it.
  const char* text = R"json({
    "format": "wrapgraph/1",
    "symbols": {"s0": {"hint": 8}},
    "inputs": [
      {"kind": "tensor", "name": "arg0_1", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]},
      {"kind": "tensor", "name": "arg1_1", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}],
    "lines": [
      {"op": "kernel_definition", "kernel": "k_add",
       "signature": [{"name": "in_ptr0", "type": "*fp32"}, {"name": "in_ptr1", "type": "*fp32"},
                     {"name": "out_ptr0", "type": "*fp32"}, {"name": "xnumel", "type": "i32"},
                     {"name": "XBLOCK", "type": "constexpr"}],
       "constants": {}, "configs": [{"XBLOCK": 128, "num_warps": 4}],
       "implementations": {"cpp": {"source": "...", "entry": "k_add"}}},
      {"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}},
      {"op": "kernel_call", "kernel": "k_add", "args": ["arg0_1", "arg1_1", "buf0", {"expr": "s0"}],
       "grid": ["CeilDiv(xnumel, XBLOCK)", 1, 1]},
      {"op": "free", "name": "arg0_1"}],
    "outputs": [{"view": {"input": "buf0", "size": ["s0 // 2", 2], "stride": [2, 1], "offset": 0}}]
  })json";
  const wrapgraph::program program = wrapgraph::io::load_program_text(text);
  const graph::graph g = wrapgraph::convert(program);
  std::cout << graph::to_python(g);
  // [program]

  // [targets]
  std::map<std::string, int> targets;
  for (graph::vertex v = 0; v < g.size(); ++v)
    if (g[v].op == graph::op_kind::call) ++targets[std::string(g[v].target)];
  for (const auto& [target, n] : targets) std::cout << n << " x " << target << "\n";
  // [targets]

  // [error]
  try {
    wrapgraph::program bad = program;
    bad.lines.push_back(wrapgraph::free_line{"buf0", {}});
    bad.lines.push_back(wrapgraph::free_line{"buf0", {}});
    (void)wrapgraph::convert(bad);
  } catch (const wrapgraph::program_error& e) {
    std::cout << e.what() << "\n";
  }
  // [error]
  return 0;
}

// Writes the printed Python of the sample graphs (tests/graph/sample_graphs.hpp)
// into the directory argv[1], one file each, for check_python.py.
//
// usage: wrapgraph-print-samples DIRECTORY

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <wrapgraph/graph.hpp>

#include "sample_graphs.hpp"

namespace wg = wrapgraph::graph;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIRECTORY\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<std::pair<std::string, wg::graph>> samples = {
      {"every_target", wg::testing::every_target()},
      {"nested_cond", wg::testing::nested_cond()},
      {"awkward_values", wg::testing::awkward_values()},
      {"identity", wg::testing::identity()},
  };
  int written = 0;
  for (const auto& [name, g] : samples) {
    wg::verify(g);
    const wg::graph live = wg::eliminate_dead_code(g);
    const std::pair<std::string, std::string> files[] = {
        {name, wg::to_python(g)},
        {name + "_annotated", wg::to_python(g, {.free_dead_values = true, .annotate = true})},
        {name + "_nofree", wg::to_python(g, {.free_dead_values = false, .annotate = false})},
        {name + "_live", wg::to_python(live)},
    };
    for (const auto& [file, text] : files) {
      std::ofstream out(dir + "/" + file + ".py");
      out << text;
      if (!out) {
        std::cerr << "cannot write " << dir << "/" << file << ".py\n";
        return 1;
      }
      ++written;
    }
  }
  std::cout << written << " files written to " << dir << '\n';
}

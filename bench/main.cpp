// wrapgraph-bench SUITE...: runs the named suites (all when none is named)
// and prints one JSON object per measurement.

#include <cstring>
#include <iostream>

#include "bench.hpp"

int main(int argc, char** argv) {
  auto& suites = wrapgraph::bench::suites();
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::cout << "usage: wrapgraph-bench [SUITE...]\nsuites:";
    for (const auto& [name, run] : suites) std::cout << " " << name;
    std::cout << "\nPrints one JSON object per measurement.\n";
    return 0;
  }
  if (argc == 1) {
    for (const auto& [name, run] : suites) run();
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    const auto it = suites.find(argv[i]);
    if (it == suites.end()) {
      std::cerr << "wrapgraph-bench: unknown suite '" << argv[i] << "' (see --help)\n";
      return 1;
    }
    it->second();
  }
  return 0;
}

// wrapgraph-bench SUITE...: runs the named suites (all when none is named)
// and prints one JSON object per measurement. The `cuda` suite is built
// with the CUDA backend (WRAPGRAPH_HAS_CUDA) only; named in a build without
// it, it is skipped with a line saying so.

#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <string>

#include "bench.hpp"

namespace {

// Runs one suite; false (after saying why) when it threw.
bool run_suite(const std::string& name, const std::function<void()>& run) {
  try {
    run();
    return true;
  } catch (const std::exception& e) {
    std::cerr << "wrapgraph-bench: suite '" << name << "' failed: " << e.what() << "\n";
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto& suites = wrapgraph::bench::suites();
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::cout << "usage: wrapgraph-bench [SUITE...]\nsuites:";
    for (const auto& [name, run] : suites) std::cout << " " << name;
#if !WRAPGRAPH_HAS_CUDA
    std::cout << "\n(no cuda suite: this build has no CUDA backend)";
#endif
    std::cout << "\nPrints one JSON object per measurement.\n";
    return 0;
  }
  bool ok = true;
  if (argc == 1) {
    for (const auto& [name, run] : suites) ok = run_suite(name, run) && ok;
    return ok ? 0 : 1;
  }
  for (int i = 1; i < argc; ++i) {
    const auto it = suites.find(argv[i]);
#if !WRAPGRAPH_HAS_CUDA
    if (it == suites.end() && std::strcmp(argv[i], "cuda") == 0) {
      // Named but not built: skipped, as the suite skips itself without a GPU.
      wrapgraph::bench::print(
          wrapgraph::bench::record{"cuda"}.set("skipped", std::string("this build has no CUDA backend")));
      continue;
    }
#endif
    if (it == suites.end()) {
      std::cerr << "wrapgraph-bench: unknown suite '" << argv[i] << "' (see --help)\n";
      return 1;
    }
    ok = run_suite(it->first, it->second) && ok;
  }
  return ok ? 0 : 1;
}

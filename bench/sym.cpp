// The `sym` suite: construction of hash-consed expressions and evaluation of
// prepared ones, per node.

#include <cstdint>
#include <string>
#include <vector>

#include <wrapgraph/sym.hpp>

#include "bench.hpp"

namespace {

using namespace wrapgraph;

// Index expressions of the kind Inductor emits, e.g.
// ModularIndexing(x, 4, 8) + 8*(x//32) + s1*y, chained so that each one
// builds on the previous one. Returns the last.
sym::expr build_indexing(sym::context& ctx, int count, std::int64_t salt) {
  const sym::expr x = ctx.symbol("x", sym::nonnegative), y = ctx.symbol("y", sym::nonnegative);
  const sym::expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  sym::expr acc = x;
  for (int i = 0; i < count; ++i) {
    const std::int64_t k = salt + i;
    acc = sym::modular_indexing(acc + k, 4, 8) + 8 * sym::floor_div(acc + s0 * k, 32) + s1 * y +
          sym::min(acc, s0 * (k % 7 + 1));
  }
  return acc;
}

void run_sym() {
  // Construction, at three sizes of the context: every node new, then every
  // node again (found, none new). The intern table of the largest no longer
  // fits in cache, which shows in its figure.
  for (const int count : {200, 2000, 20000}) {
    std::size_t nodes = 0;
    const int repeats = count >= 20000 ? 7 : 21;
    const double seconds = bench::median_seconds(repeats, [&] {
      sym::context ctx;
      bench::keep(build_indexing(ctx, count, 1));
      nodes = ctx.node_count();
    });
    bench::print(bench::record{"sym.construct"}
                     .set("ns_per_node", seconds * 1e9 / static_cast<double>(nodes))
                     .set("nodes", static_cast<double>(nodes))
                     .set("target_ns_per_node", 200));
    sym::context ctx;
    bench::keep(build_indexing(ctx, count, 1));
    const double again = bench::median_seconds(repeats, [&] { bench::keep(build_indexing(ctx, count, 1)); });
    bench::print(bench::record{"sym.construct_interned"}
                     .set("ns_per_node", again * 1e9 / static_cast<double>(nodes))
                     .set("nodes", static_cast<double>(nodes))
                     .set("new_nodes", static_cast<double>(ctx.node_count() - nodes)));
  }
  // Evaluation of a prepared expression.
  {
    sym::context ctx;
    const sym::expr e = build_indexing(ctx, 200, 1);
    const sym::compiled_expr f(e);
    std::vector<std::int64_t> values(f.symbols().size(), 3);
    const int evaluations = 2000;
    std::int64_t sink = 0;
    const double seconds = bench::median_seconds(9, [&] {
      for (int i = 0; i < evaluations; ++i) {
        values[0] = i + 1;
        sink += f(std::span<const std::int64_t>(values));
      }
    });
    bench::keep(sink);
    bench::print(bench::record{"sym.eval"}
                     .set("ns_per_node", seconds * 1e9 / (evaluations * static_cast<double>(f.size())))
                     .set("nodes", static_cast<double>(f.size()))
                     .set("target_ns_per_node", 20));
  }
  // Parsing, per character of text.
  {
    sym::context ctx;
    const std::string text = sym::to_string(build_indexing(ctx, 4, 5));  // the text of a DAG grows fast
    const int parses = 200;
    const double seconds = bench::median_seconds(7, [&] {
      for (int i = 0; i < parses; ++i) bench::keep(sym::parse(ctx, text));
    });
    bench::print(bench::record{"sym.parse"}
                     .set("ns_per_char", seconds * 1e9 / (parses * static_cast<double>(text.size())))
                     .set("chars", static_cast<double>(text.size())));
  }
}

const bench::registration sym_suite{"sym", run_sym};

}  // namespace

// The `convert` suite: converting generated programs of 10^3 to 10^6 lines
// with a realistic mix of lines, in lines per second.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/lines/program.hpp>

#include "bench.hpp"

namespace {

using namespace wrapgraph;

// A program whose lines repeat a block as Inductor emits it: allocate, a
// kernel call with a symbolic grid, a reinterpret view, an extern call into
// an out buffer, a reuse, frees, a comment.
program generate(std::size_t line_count) {
  program p;
  sym::context& c = *p.ctx;
  const sym::expr s0 = c.symbol("s0", sym::positive);
  const sym::expr xblock = c.symbol("XBLOCK"), xnumel = c.symbol("xnumel");
  p.symbols.push_back({"s0", symbol_decl{16, false, {}}});
  const tensor_layout rows{dtype::float32, cpu, {s0, c.integer(64)}, {c.integer(64), c.integer(1)}, c.integer(0)};
  p.inputs.push_back(tensor_input{"arg0_1", rows, {}});
  for (int k = 0; k < 4; ++k) {
    kernel_definition_line def;
    def.kernel = "k" + std::to_string(k);
    def.implementations.cpp = source_implementation{"// source", def.kernel};
    def.signature = {{"in_ptr0", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"}, {"XBLOCK", "constexpr"}};
    def.configs = {{{"XBLOCK", std::int64_t{256}}, {"num_warps", std::int64_t{4}}}};
    p.lines.emplace_back(std::move(def));
  }
  const sym::expr numel = 64 * s0;
  const sym::expr grid = sym::ceil_div(xnumel, xblock);
  std::string previous = "arg0_1";
  for (std::size_t i = 0; p.lines.size() < line_count; ++i) {
    const std::string n = std::to_string(i);
    const std::string a = "buf" + n, v = "view" + n, o = "out" + n, r = "reused" + n;
    p.lines.emplace_back(allocate_line{buffer_decl{a, rows, {}}, {}});
    p.lines.emplace_back(kernel_call_line{"k" + std::to_string(i % 4), {name_ref{previous}, name_ref{a}, expr_ref{numel}},
                                          {grid, c.integer(1), c.integer(1)}, {}});
    p.lines.emplace_back(reinterpret_line{a, v, {numel}, {c.integer(1)}, c.integer(0), {}});
    p.lines.emplace_back(allocate_line{buffer_decl{o, rows, {}}, {}});
    p.lines.emplace_back(extern_kernel_out_line{"aten.mm.out", {name_ref{a}, name_ref{previous}}, {}, name_ref{o}, {}});
    p.lines.emplace_back(reuse_line{o, buffer_decl{r, rows, {}}, true, {}});
    p.lines.emplace_back(comment_line{"block " + n, {}});
    if (previous != "arg0_1") p.lines.emplace_back(free_line{previous, {}});
    p.lines.emplace_back(free_line{a, {}});
    previous = r;
  }
  p.outputs.push_back(name_ref{previous});
  return p;
}

void run_convert() {
  for (std::size_t lines : {std::size_t{1000}, std::size_t{10000}, std::size_t{100000}, std::size_t{1000000}}) {
    const program p = generate(lines);
    std::size_t nodes = 0;
    // About 2*10^5 lines converted per size (at least 5 conversions, 3 of
    // the largest program), so that the median of the small sizes spans a
    // fifth of a second, not a few milliseconds that one burst of activity
    // elsewhere on the machine can fill. Each conversion writes into fresh
    // memory: every result is kept until all are timed.
    const int repeats = static_cast<int>(std::max<std::size_t>(lines >= 1000000 ? 3 : 5, 200000 / lines));
    std::vector<graph::graph> results;
    results.reserve(repeats + 1);  // and the untimed first call
    const double seconds = bench::median_seconds(repeats, [&] {
      results.push_back(convert(p));
      nodes = results.back().size();
    });
    results.clear();
    bench::print(bench::record{"convert.lines"}
                     .set("lines", static_cast<double>(p.lines.size()))
                     .set("nodes", static_cast<double>(nodes))
                     .set("lines_per_second", static_cast<double>(p.lines.size()) / seconds)
                     .set("ns_per_line", seconds * 1e9 / static_cast<double>(p.lines.size()))
                     .set("target_lines_per_second", 1e6));
  }
}

const bench::registration convert_suite{"convert", run_convert};

}  // namespace

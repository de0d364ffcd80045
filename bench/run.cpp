// The `run` suite: what executable::run costs beyond the work it launches.
// (a) run() of a graph of 10,000 launches of an empty kernel, in ns per
// node (target <= 50); (b) run() of a one-kernel program against launching
// the same kernel directly on the same backend (target <= 1.2x).

#include <cstdint>
#include <string>
#include <vector>

#include <wrapgraph/backend/cpu/backend.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/lines/program.hpp>

#include "bench.hpp"

namespace {

using namespace wrapgraph;

extern "C" void empty_kernel(void**, const std::int64_t*, const std::int64_t*) {}

// out[i] = a[i] + b[i] for the XBLOCK elements of this program instance.
extern "C" void add_kernel(void** params, const std::int64_t* program_id, const std::int64_t*) {
  const float* a = *static_cast<float**>(params[0]);
  const float* b = *static_cast<float**>(params[1]);
  float* out = *static_cast<float**>(params[2]);
  const std::int32_t n = *static_cast<std::int32_t*>(params[3]);
  constexpr std::int64_t block = 4096;
  const std::int64_t begin = program_id[0] * block;
  const std::int64_t end = begin + block < n ? begin + block : n;
  for (std::int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
}

kernel_definition_line definition(const std::string& name, std::vector<kernel_param> signature, std::int64_t block) {
  kernel_definition_line def;
  def.kernel = name;
  def.implementations.cpp = source_implementation{"// registered in process", name};
  def.signature = std::move(signature);
  def.configs = {{{"XBLOCK", block}, {"num_warps", std::int64_t{4}}}};
  return def;
}

// One input of n floats; `launches` calls of an empty kernel on it.
program empty_launches(std::size_t launches) {
  program p;
  sym::context& c = *p.ctx;
  const tensor_layout layout{dtype::float32, cpu, {c.integer(1024)}, {c.integer(1)}, c.integer(0)};
  p.inputs.push_back(tensor_input{"arg0_1", layout, {}});
  p.lines.emplace_back(definition("k_empty", {{"in_ptr0", "*fp32"}, {"xnumel", "i32"}, {"XBLOCK", "constexpr"}}, 1024));
  for (std::size_t i = 0; i < launches; ++i)
    p.lines.emplace_back(kernel_call_line{"k_empty", {name_ref{"arg0_1"}, std::int64_t{1024}}, {c.integer(1)}, {}});
  p.outputs.push_back(name_ref{"arg0_1"});
  return p;
}

// out = a + b over n floats, as a program: allocate, one launch, output.
program one_kernel(std::int64_t n) {
  program p;
  sym::context& c = *p.ctx;
  const tensor_layout layout{dtype::float32, cpu, {c.integer(n)}, {c.integer(1)}, c.integer(0)};
  p.inputs.push_back(tensor_input{"arg0_1", layout, {}});
  p.inputs.push_back(tensor_input{"arg1_1", layout, {}});
  p.lines.emplace_back(definition(
      "k_add", {{"in_ptr0", "*fp32"}, {"in_ptr1", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"}, {"XBLOCK", "constexpr"}},
      4096));
  p.lines.emplace_back(allocate_line{buffer_decl{"buf0", layout, {}}, {}});
  p.lines.emplace_back(kernel_call_line{"k_add", {name_ref{"arg0_1"}, name_ref{"arg1_1"}, name_ref{"buf0"}, std::int64_t{n}},
                                        {c.integer((n + 4095) / 4096)}, {}});
  p.outputs.push_back(name_ref{"buf0"});
  return p;
}

void run_run() {
  backend::cpu::cpu_backend cpu;
  cpu.register_kernel("k_empty", &empty_kernel);
  cpu.register_kernel("k_add", &add_kernel);
  exec::compile_options options;  // the programs call no extern operator

  {  // (a) per-node overhead
    constexpr std::size_t launches = 10000;
    const program p = empty_launches(launches);
    const graph::graph g = convert(p);
    auto x = exec::compile(g, p, cpu, options);
    const exec::value input = exec::empty(*cpu.memory(), dtype::float32, {1024});
    const std::vector<exec::value> inputs{input};
    const double seconds = bench::median_seconds(21, [&] { bench::keep(x.run(inputs)); });
    bench::print(bench::record{"run.per_node"}
                     .set("nodes", static_cast<double>(launches))
                     .set("ns_per_node", seconds * 1e9 / launches)
                     .set("target_ns_per_node", 50));
  }
  for (std::int64_t n : {std::int64_t{1} << 16, std::int64_t{1} << 20}) {  // (b) run() against a direct launch
    const program p = one_kernel(n);
    const graph::graph g = convert(p);
    auto x = exec::compile(g, p, cpu, options);
    exec::device_memory& m = *cpu.memory();
    const exec::tensor a = exec::empty(m, dtype::float32, {n}), b = exec::empty(m, dtype::float32, {n});
    for (std::int64_t i = 0; i < n; ++i) {
      a.data_as<float>()[i] = static_cast<float>(i);
      b.data_as<float>()[i] = 1.0f;
    }
    const std::vector<exec::value> inputs{a, b};
    const double run_seconds = bench::median_seconds(51, [&] { bench::keep(x.run(inputs)); });

    // The same launch by hand, into a buffer allocated for each call as run() does.
    const auto kernel = cpu.load_kernel(*g.find_kernel("k_add"), 0);
    const double direct_seconds = bench::median_seconds(51, [&] {
      const exec::tensor out = exec::empty(m, dtype::float32, {n});
      void* pa = a.data();
      void* pb = b.data();
      void* po = out.data();
      auto count = static_cast<std::int32_t>(n);
      void* params[] = {&pa, &pb, &po, &count};
      cpu.launch(kernel, {(n + 4095) / 4096, 1, 1}, params);
      bench::keep(out);
    });
    bench::print(bench::record{"run.one_kernel"}
                     .set("elements", static_cast<double>(n))
                     .set("run_us", run_seconds * 1e6)
                     .set("direct_us", direct_seconds * 1e6)
                     .set("ratio", run_seconds / direct_seconds)
                     .set("target_ratio", 1.2));
  }
}

const bench::registration run_suite{"run", run_run};

}  // namespace

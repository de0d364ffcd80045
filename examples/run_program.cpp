// Running a wrapper program on the CPU: convert it, compile the graph for
// the CPU backend (the cpp kernel is built with the system compiler and
// cached), run it on tensors, read the memory it used, and see what a bad
// input gets. docs/execution.md quotes it.

#include <cstdint>
#include <filesystem>
#include <iostream>

#include <wrapgraph/backend/cpu/backend.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/io/json.hpp>

namespace exec = wrapgraph::exec;
namespace cpu = wrapgraph::backend::cpu;

int main() {
  // [program]
  // out = x * 2 + y for a dynamic length s0; the kernel is C++ with the cpp
  // ABI: one call per program instance, XBLOCK elements each.
  const char* text = R"json({
    "format": "wrapgraph/1",
    "symbols": {"s0": {"hint": 1024}},
    "inputs": [
      {"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]},
      {"kind": "tensor", "name": "y", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}],
    "lines": [
      {"op": "kernel_definition", "kernel": "k_axpy",
       "signature": [{"name": "in_ptr0", "type": "*fp32"}, {"name": "in_ptr1", "type": "*fp32"},
                     {"name": "out_ptr0", "type": "*fp32"}, {"name": "xnumel", "type": "i32"},
                     {"name": "XBLOCK", "type": "constexpr"}],
       "constants": {}, "configs": [{"XBLOCK": 4, "num_warps": 1}, {"XBLOCK": 256, "num_warps": 4}],
       "implementations": {"cpp": {"entry": "k_axpy", "source":
         "#include <cstdint>\nextern \"C\" void k_axpy(void** p, const int64_t* pid, const int64_t*) {\n  const float* x = *(float**)p[0]; const float* y = *(float**)p[1]; float* out = *(float**)p[2];\n  const int32_t n = *(int32_t*)p[3];\n  for (int64_t i = pid[0] * XBLOCK; i < (pid[0] + 1) * XBLOCK && i < n; ++i) out[i] = 2 * x[i] + y[i];\n}\n"}}},
      {"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}},
      {"op": "kernel_call", "kernel": "k_axpy", "args": ["x", "y", "buf0", {"expr": "s0"}],
       "grid": ["CeilDiv(xnumel, XBLOCK)"]}],
    "outputs": ["buf0"]
  })json";
  const wrapgraph::program program = wrapgraph::io::load_program_text(text);
  const wrapgraph::graph::graph g = wrapgraph::convert(program);
  // [program]

  // [compile]
  cpu::cpu_options options;
  options.compiler.cache_dir = std::filesystem::temp_directory_path() / "wrapgraph-example-cache";
  cpu::cpu_backend backend(options);
  exec::compile_options how;  // this program calls no extern operator: no registry needed
  auto executable = exec::compile(g, program, backend, how);  // builds k_axpy, times both configs at s0 = 1024
  const exec::tuning_choice& choice = executable.tuning().front();
  std::cout << "k_axpy: timed " << choice.seconds.size() << " configs (" << choice.reason << ")\n";
  // [compile]

  // [run]
  exec::device_memory& memory = *backend.memory();
  const exec::tensor x = exec::empty(memory, wrapgraph::dtype::float32, {5});
  const exec::tensor y = exec::empty(memory, wrapgraph::dtype::float32, {5});
  for (std::int64_t i = 0; i < 5; ++i) {
    x.set(i, static_cast<double>(i));
    y.set(i, 0.5);
  }
  memory.reset_stats();
  const std::size_t before = memory.stats().live_bytes;  // x and y
  const exec::value out = executable.run({x, y});         // s0 = 5, bound from x
  std::cout << exec::to_string(out) << "\n";
  std::cout << "bytes allocated by the run at its peak: " << memory.stats().peak_bytes - before << "\n";
  // [run]

  // [error]
  try {
    (void)executable.run({x, exec::empty(memory, wrapgraph::dtype::float32, {4})});
  } catch (const wrapgraph::error& e) {
    std::cout << e.what() << "\n";
  }
  // [error]

  // [in-process]
  // A kernel registered in process takes the place of the definition's source.
  backend.register_kernel("k_axpy", [](void** p, const std::int64_t* pid, const std::int64_t*) {
    const float* xs = *static_cast<float**>(p[0]);
    const float* ys = *static_cast<float**>(p[1]);
    float* o = *static_cast<float**>(p[2]);
    const std::int32_t n = *static_cast<std::int32_t*>(p[3]);
    for (std::int64_t i = pid[0] * 4; i < (pid[0] + 1) * 4 && i < n; ++i) o[i] = xs[i] - ys[i];
  });
  how.autotune = false;  // the first config: XBLOCK = 4, as the registered kernel assumes
  auto registered = exec::compile(g, program, backend, how);
  std::cout << exec::to_string(registered.run({x, y})) << "\n";
  // [in-process]
}

// The CUDA backend: make a backend (or learn why there is none), compile
// examples/programs/add.json for the GPU, run it eagerly and through CUDA
// graphs, launch an NVRTC-compiled kernel with typed arguments, register a
// kernel in place of the program's own, and read the allocator's counts.
// It builds without any CUDA installation and runs without a GPU: then it
// prints the id of the error that says so, and exits 0. docs/cuda.md quotes
// it.

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <vector>

#include <wrapgraph/backend/cuda.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/io/json.hpp>

namespace exec = wrapgraph::exec;
namespace cuda = wrapgraph::backend::cuda;

namespace {

// The elements of a contiguous float32 tensor on the GPU, copied to the host.
std::vector<float> host_copy(cuda::cuda_backend& backend, const exec::tensor& t) {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  backend.to_host(out.data(), t.data(), out.size() * sizeof(float));  // waits for the stream
  return out;
}

void print(const char* what, const std::vector<float>& values) {
  std::cout << what << ":";
  for (const float v : values) std::cout << " " << v;
  std::cout << "\n";
}

// Two kernels for NVRTC. The prelude gives them int32_t and int64_t.
constexpr const char* kernels_source = R"cuda(
extern "C" __global__ void scale(float* out, const float* in, float factor, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = factor * in[i];
}

// The launched parameters of add.json's kernel, in order; a grid-stride
// loop, so any grid and block cover all n elements.
extern "C" __global__ void product(const float* in0, const float* in1, float* out, int32_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = in0[i] * in1[i];
}
)cuda";

void run_on(cuda::cuda_backend& backend) {
  std::cout << "device: " << backend.resources().ctx.name() << ", compute capability "
            << backend.resources().ctx.compute_capability() << "\n";

  // [program]
  const wrapgraph::program program = wrapgraph::io::load_program_file(WRAPGRAPH_EXAMPLE_PROGRAMS_DIR "/add.json");
  wrapgraph::graph::graph g = wrapgraph::convert(program);
  wrapgraph::graph::move_to_device(g, backend.dev());  // the program's tensors say cpu
  auto executable = exec::compile(g, program, backend);  // NVRTC builds the 3 configs; events time them
  std::cout << "autotuning: " << executable.tuning().front().reason << ", config "
            << executable.tuning().front().config << "\n";
  // [program]

  // [run]
  const std::int64_t n = 5;
  const exec::tensor x = exec::empty(*backend.memory(), wrapgraph::dtype::float32, {n});
  const exec::tensor y = exec::empty(*backend.memory(), wrapgraph::dtype::float32, {n});
  const std::vector<float> xs{0, 1, 2, 3, 4}, ys{10, 20, 30, 40, 50};
  backend.from_host(x.data(), xs.data(), sizeof(float) * xs.size());
  backend.from_host(y.data(), ys.data(), sizeof(float) * ys.size());
  const exec::value out = executable.run({n, x, y});  // the symbol input s0, then the tensors
  print("x + y", host_copy(backend, *out.as_tensor()));  // x + y: 10 21 32 43 54
  // [run]

  // [graph]
  (void)executable.run_graph({n, x, y});  // captures the launches into a CUDA graph, then replays it
  backend.from_host(x.data(), ys.data(), sizeof(float) * ys.size());  // new contents, same tensors
  const exec::value replayed = executable.run_graph({n, x, y});       // the same key: a replay
  print("x + y, replayed", host_copy(backend, *replayed.as_tensor()));  // 20 40 60 80 100, until the next replay
  const auto stats = executable.graph_statistics();
  std::cout << "graph mode: parts " << stats.parts << ", captures " << stats.captures << ", replays " << stats.replays
            << ", eager steps " << stats.eager_steps << "\n";  // 1, 1, 1, 0
  // [graph]

  // [launch]
  const cuda::compiled_binary binary = backend.compiler().compile("basics", kernels_source);
  const cuda::kernel_module code(binary.image.data(), "the kernels of cuda_basics");
  const cuda::typed_function<float*, const float*, float, std::int64_t> scale(code.get_function("scale"));
  const exec::tensor z = exec::empty(*backend.memory(), wrapgraph::dtype::float32, {n});
  // 0.5 (a double) is packed as the float parameter, n as the int64_t one.
  cuda::launch(scale, {1, 1, 1}, {128, 1, 1}, 0, backend.stream(), z.data_as<float>(), x.data_as<float>(), 0.5, n);
  print("x / 2", host_copy(backend, z));  // x / 2: 5 10 15 20 25
  // [launch]

  // [register]
  // Launched for every definition named triton_poi_fused_add_0, whatever its
  // implementations, with the block of the config (num_warps * 32).
  backend.register_kernel("triton_poi_fused_add_0", code.get_function("product"));
  auto registered = exec::compile(g, program, backend);
  print("x * y", host_copy(backend, *registered.run({n, x, y}).as_tensor()));  // x * y: 100 400 900 1600 2500
  // [register]

  // [memory]
  (void)executable.run({n, x, y});  // the block of the result is in the cache now
  const cuda::driver_memory_stats before = backend.device_memory().driver_stats();
  backend.memory()->reset_stats();
  for (int i = 0; i < 100; ++i) (void)executable.run({n, x, y});
  const cuda::driver_memory_stats after = backend.device_memory().driver_stats();
  std::cout << "100 runs: " << backend.memory()->stats().allocations << " allocations, "
            << after.allocations - before.allocations << " of them from the driver\n";
  std::cout << "held from the driver: " << after.reserved_bytes << " bytes, " << after.cached_bytes << " cached\n";
  backend.device_memory().release_cached();  // waits for the stream, frees the cached blocks
  // [memory]
}

}  // namespace

int main() {
  // [backend]
  cuda::cuda_options options;
  options.compiler.cache_dir = std::filesystem::temp_directory_path() / "wrapgraph-example-cache";  // binaries in cuda/
  try {
    cuda::cuda_backend backend(options);  // the context, the stream, the allocator
    run_on(backend);
  } catch (const cuda::cuda_error& e) {
    if (!e.has_id("wrapgraph.cuda.unavailable")) throw;
    std::cout << e.id() << "\n";  // e.message() says why: no driver, no device, no NVRTC, ...
  }
  // [backend]
}

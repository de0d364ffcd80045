// Tests of backend/cuda/backend.hpp with the executable: every example
// program on the GPU, eagerly and through CUDA graphs; kernels from cubin
// binaries (with scratch parameters) and registered functions; graph mode's
// captures, replays and errors; autotuning with events. Each case skips
// itself without a GPU.

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <wrapgraph/backend/cuda.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/examples.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/io/json.hpp>

#include "support.hpp"
#include "support_cuda.hpp"

namespace {

using namespace wrapgraph;
namespace cuda = wrapgraph::backend::cuda;

std::filesystem::path programs() { return std::filesystem::path(WRAPGRAPH_EXAMPLE_PROGRAMS_DIR); }

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

// The program `name` of examples/programs, converted, on the GPU.
struct loaded_program {
  program p;
  graph::graph g;
  explicit loaded_program(const std::string& name)
      : p(io::load_program_file((programs() / name).string())), g(convert(p)) {
    graph::move_to_device(g, test::gpu().dev());
  }
};

std::vector<double> host_values(const exec::value& v) {
  const exec::tensor& t = *v.as_tensor();
  auto host = std::make_shared<exec::host_memory>();
  auto storage = host->allocate(t.storage()->bytes());
  test::gpu().to_host(storage->data(), t.storage()->data(), t.storage()->bytes());
  const exec::tensor h(storage, t.type(), t.sizes(), t.strides(), t.offset());
  std::vector<double> out;
  for (std::int64_t i = 0; i < h.numel(); ++i) out.push_back(h.get(i));
  return out;
}

}  // namespace

TEST_CASE("cuda: every example program passes its examples on the GPU, eagerly and through CUDA graphs") {
  WRAPGRAPH_REQUIRE_GPU();
  std::size_t programs_seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(programs())) {
    if (entry.path().extension() != ".json") continue;
    ++programs_seen;
    const program p = io::load_program_file(entry.path().string());
    for (const exec::run_mode mode : {exec::run_mode::eager, exec::run_mode::graph}) {
      for (const exec::example_result& r : exec::check_examples(p, test::gpu(), {}, mode)) {
        CHECK_MESSAGE(r.passed, entry.path().filename().string() << (mode == exec::run_mode::graph ? " (graph)" : "")
                                                                 << " example " << r.index << ": " << r.message);
      }
    }
  }
  CHECK(programs_seen >= 12);
}

TEST_CASE("cuda: graph mode captures once per binding, replays without allocating, and equals the eager run") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  loaded_program add("add.json");
  auto eager = exec::compile(add.g, add.p, b);
  auto graphed = exec::compile(add.g, add.p, b);
  std::vector<std::vector<exec::value>> inputs;  // kept: new inputs get new addresses
  std::vector<std::vector<double>> wanted;
  for (const std::int64_t n : {1000, 77}) {
    sym::bindings bind;
    bind.set("s0", n);
    inputs.push_back(exec::seeded_inputs(add.p, b, bind, 7));
    wanted.push_back(host_values(eager.run(inputs.back())));
    CHECK(host_values(graphed.run_graph(inputs.back())) == wanted.back());  // captured
    b.synchronize();
    const exec::memory_stats before = b.memory()->stats();
    const std::size_t driver_before = b.device_memory().driver_stats().allocations;
    for (int i = 0; i < 5; ++i) CHECK(host_values(graphed.run_graph(inputs.back())) == wanted.back());  // replayed
    CHECK(b.memory()->stats().allocations == before.allocations);
    CHECK(b.device_memory().driver_stats().allocations == driver_before);
  }
  // The first binding's capture is still there.
  CHECK(host_values(graphed.run_graph(inputs.front())) == wanted.front());
  const auto stats = graphed.graph_statistics();
  CHECK(stats.parts == 1);
  CHECK(stats.captures == 2);
  CHECK(stats.replays == 11);
  CHECK(stats.eager_steps == 0);
}

TEST_CASE("cuda: graph mode runs host-syncing operators between captured parts") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  loaded_program nz("nonzero.json");
  auto x = exec::compile(nz.g, nz.p, b);
  const std::vector<exec::value> inputs = exec::example_inputs(nz.p, b, nz.p.examples.front());
  // Its outputs: the coordinates of the nonzero elements and a gather of them.
  const auto outputs = [](const exec::value& v) {
    std::vector<std::vector<double>> out;
    for (const exec::value& item : *v.as_list()) out.push_back(host_values(item));
    return out;
  };
  const auto want = outputs(x.run(inputs));
  CHECK(outputs(x.run_graph(inputs)) == want);
  CHECK(outputs(x.run_graph(inputs)) == want);
  const auto stats = x.graph_statistics();
  CHECK(stats.eager_steps >= 2);  // nonzero, once per run
  CHECK(stats.replays >= 1);
}

TEST_CASE("cuda: an operator that waits for the device without the eager flag cannot be captured") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  loaded_program nz("nonzero.json");
  exec::operator_registry ops = b.operators();
  const exec::operator_fn* nonzero = ops.find("aten.nonzero.default", device_kind::cuda);
  REQUIRE(nonzero != nullptr);
  ops.add("aten.nonzero.default", device_kind::cuda, *nonzero, exec::operator_flags::none, true);
  exec::compile_options o;
  o.operators = &ops;
  auto x = exec::compile(nz.g, nz.p, b, o);
  const std::vector<exec::value> inputs = exec::example_inputs(nz.p, b, nz.p.examples.front());
  CHECK(test::error_id([&] { (void)x.run_graph(inputs); }) == "wrapgraph.run.not_capturable");
  // The backend is usable afterwards.
  CHECK_NOTHROW((void)x.run(inputs));
}

TEST_CASE("cuda: a cubin kernel gets runtime-owned scratch for its extra parameters") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  // Writes each program's id into its scratch, reads it back, and reports
  // whether the second extra parameter is null.
  const cuda::compiled_binary binary = b.compiler().compile("scratchy", R"(
extern "C" __global__ void scratchy(int* out, int* scratch, int* none) {
  int* mine = scratch + blockIdx.x * 4;
  mine[threadIdx.x] = blockIdx.x * 10 + threadIdx.x;
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = mine[0] + mine[3] + (none == 0 ? 1000 : 0);
}
)");
  REQUIRE_FALSE(binary.is_ptx);
  kernel_definition_line def;
  def.kernel = "scratchy";
  def.signature = {{"out", "*i32"}};
  def.configs = {{{"block", std::int64_t{4}}}};
  def.implementations.cubin = cubin_implementation{
      cubin_binary{base64(binary.image), "scratchy", 0, {{"*i8", 16}, {"*i8", 0}}}, {}};
  const cuda::cuda_kernel k = b.load_kernel(def, 0);
  CHECK(k.scratch() == std::vector<std::int64_t>{16, 0});
  exec::tensor out = exec::empty(*b.memory(), dtype::int32, {3});
  void* out_ptr = out.data();
  void* params[] = {&out_ptr};
  b.launch(k, {3, 1, 1}, params);
  std::vector<std::int32_t> host(3);
  b.to_host(host.data(), out.data(), sizeof(std::int32_t) * 3);
  CHECK(host == std::vector<std::int32_t>{1003, 1023, 1043});
  // A second load of the same binary is a lookup.
  CHECK(b.load_kernel(def, 0).fn().get() == k.fn().get());
  def.implementations.cubin->binary->data_base64 = "not base64!";
  CHECK(test::error_id([&] { (void)b.load_kernel(def, 0); }) == "wrapgraph.kernel.bad_binary");
}

TEST_CASE("cuda: a registered function runs for the kernel of its name") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend b;
  const cuda::compiled_binary binary = b.compiler().compile("triple", R"(
extern "C" __global__ void triple(float* in, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 3.0f * in[i];
}
)");
  auto code = std::make_shared<cuda::kernel_module>(binary.image.data(), "triple");
  b.register_kernel("triton_poi_fused_mul_0", code->get_function("triple"));
  loaded_program topk("topk.json");  // its one kernel is triton_poi_fused_mul_0: out = 2 * in
  auto x = exec::compile(topk.g, topk.p, b);
  const std::vector<exec::value> inputs = exec::example_inputs(topk.p, b, topk.p.examples.front());
  const exec::value out = x.run(inputs);
  const exec::value_list& results = *out.as_list();
  // The values came through the registered kernel: three times the top
  // values, where the program's own kernel gives twice.
  const std::vector<double> values = host_values(results[0]);
  const auto& want = topk.p.examples.front()["outputs"][0]["data"];
  REQUIRE(values.size() == want.size());
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(values[i] == doctest::Approx(want[i].get<double>() * 1.5));
  CHECK(test::error_id([&] { b.register_kernel("k", cuda::function{}); }) == "wrapgraph.kernel.no_implementation");
}

TEST_CASE("cuda: kernels of several configs are timed with events at the hints") {
  WRAPGRAPH_REQUIRE_GPU();
  loaded_program add("add.json");
  auto x = exec::compile(add.g, add.p, test::gpu());
  REQUIRE(x.tuning().size() == 1);
  CHECK(x.tuning()[0].reason == "timed");
  CHECK(x.tuning()[0].seconds.size() == 3);
  for (double s : x.tuning()[0].seconds) CHECK(s > 0);
}

TEST_CASE("cuda: a grid beyond the device's limits is wrapgraph.run.bad_grid") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  kernel_definition_line def;
  def.kernel = "noop";
  def.configs = {{{"num_warps", std::int64_t{1}}}};
  def.implementations.cuda = source_implementation{"extern \"C\" __global__ void noop() {}\n", "noop"};
  const cuda::cuda_kernel k = b.load_kernel(def, 0);
  CHECK(test::error_id([&] { b.launch(k, {1, 70000, 1}, nullptr); }) == "wrapgraph.run.bad_grid");
  CHECK(test::error_id([&] { b.launch(k, {-1, 1, 1}, nullptr); }) == "wrapgraph.run.bad_grid");
  CHECK_NOTHROW(b.launch(k, {0, 1, 1}, nullptr));
  def.implementations.cuda.reset();
  def.kernel = "nothing";
  CHECK(test::error_id([&] { (void)b.load_kernel(def, 0); }) == "wrapgraph.kernel.no_implementation");
}

// Tests of backend/cuda/api.hpp, runtime.hpp, nvrtc.hpp and memory.hpp:
// clear errors without a driver, typed launches, NVRTC and its cache, the
// check on failing calls, the caching allocator and stream capture. Cases
// that need a GPU skip themselves without one; NVRTC runs without a GPU.

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <wrapgraph/backend/cuda.hpp>

#include "support.hpp"
#include "support_cuda.hpp"

namespace {

using namespace wrapgraph;
namespace cuda = wrapgraph::backend::cuda;


constexpr std::string_view axpy_source = R"(
extern "C" __global__ void axpy(float* y, const float* x, float a, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}
)";

// n floats on the device, from host values.
exec::tensor device_floats(const std::vector<float>& values) {
  exec::tensor t = exec::empty(*test::gpu().memory(), dtype::float32, {static_cast<std::int64_t>(values.size())});
  test::gpu().from_host(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

std::vector<float> host_floats(const exec::tensor& t) {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  test::gpu().to_host(out.data(), t.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace

TEST_CASE("cuda: without a driver, the backend raises wrapgraph.cuda.unavailable saying why") {
  if (test::no_gpu().empty()) {
    cuda::cuda_backend& b = test::gpu();
    CHECK(b.dev() == device{device_kind::cuda, 0});
    CHECK(!b.resources().ctx.name().empty());
    CHECK(b.resources().ctx.compute_capability() >= 50);
    return;
  }
  try {
    cuda::cuda_backend b;
    FAIL("a backend was made without a usable GPU");
  } catch (const cuda::cuda_error& e) {
    CHECK(e.id() == "wrapgraph.cuda.unavailable");
    CHECK(e.message().find("CUDA") != std::string::npos);
  }
}

TEST_CASE("cuda: base64 decodes RFC 4648 vectors and rejects other text") {
  using cuda::detail::base64_decode;
  CHECK(base64_decode("", "x").empty());
  CHECK(base64_decode("Zg==", "x") == "f");
  CHECK(base64_decode("Zm8=", "x") == "fo");
  CHECK(base64_decode("Zm9v", "x") == "foo");
  CHECK(base64_decode("Zm9vYg", "x") == "foob");
  CHECK(base64_decode("Zm9v\nYmFy", "x") == "foobar");
  CHECK(base64_decode(std::string("AAEC/w=="), "x") == std::string("\x00\x01\x02\xff", 4));
  CHECK(test::error_id([] { (void)base64_decode("Zm9v!", "the cubin"); }) == "wrapgraph.kernel.bad_binary");
  CHECK(test::error_id([] { (void)base64_decode("Z", "the cubin"); }) == "wrapgraph.kernel.bad_binary");
  CHECK(test::error_id([] { (void)base64_decode("Zg==Zg", "the cubin"); }) == "wrapgraph.kernel.bad_binary");
}

TEST_CASE("cuda: a config's block is num_warps * 32 threads unless it names a block") {
  kernel_definition_line def;
  def.kernel = "k";
  def.configs = {{{"XBLOCK", std::int64_t{128}}, {"num_warps", std::int64_t{8}}},
                 {{"XBLOCK", std::int64_t{64}}},
                 {{"block", std::vector<std::int64_t>{16, 8}}, {"num_warps", std::int64_t{1}}},
                 {{"num_warps", std::int64_t{0}}},
                 {{"block", std::vector<std::int64_t>{64, 32}}}};
  CHECK(cuda::detail::block_of(def, 0).x == 256);
  CHECK(cuda::detail::block_of(def, 1).x == 128);
  const cuda::dims b = cuda::detail::block_of(def, 2);
  CHECK((b.x == 16 && b.y == 8 && b.z == 1));
  CHECK(test::error_id([&] { (void)cuda::detail::block_of(def, 3); }) == "wrapgraph.kernel.bad_config");
  CHECK(test::error_id([&] { (void)cuda::detail::block_of(def, 4); }) == "wrapgraph.kernel.bad_config");
}

TEST_CASE("cuda: the allocator serves sizes rounded to 512 bytes, or to 2 MiB above 1 MiB") {
  CHECK(cuda::cuda_memory::rounded(1) == 512);
  CHECK(cuda::cuda_memory::rounded(512) == 512);
  CHECK(cuda::cuda_memory::rounded(513) == 1024);
  CHECK(cuda::cuda_memory::rounded(std::size_t{1} << 20) == std::size_t{1} << 20);
  CHECK(cuda::cuda_memory::rounded((std::size_t{1} << 20) + 1) == std::size_t{2} << 20);
  CHECK(cuda::cuda_memory::rounded((std::size_t{5} << 20) + 3) == std::size_t{6} << 20);
}

TEST_CASE("cuda: NVRTC compiles a kernel once, then finds it in the disk cache") {
  if (const std::string why = test::no_nvrtc(); !why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  test::temp_dir cache("wrapgraph-nvrtc");
  cuda::nvrtc_options options;
  options.cache_dir = cache.path;
  cuda::nvrtc_compiler first(90, options);
  const cuda::compiled_binary a = first.compile("axpy", axpy_source, {{"UNUSED", std::int64_t{1}}});
  CHECK(first.compilations() == 1);
  CHECK_FALSE(a.from_cache);
  CHECK(!a.image.empty());
  CHECK(std::filesystem::is_regular_file(a.file));
  cuda::nvrtc_compiler second(90, options);
  const cuda::compiled_binary b = second.compile("axpy", axpy_source, {{"UNUSED", std::int64_t{1}}});
  CHECK(second.compilations() == 0);
  CHECK(second.cache_hits() == 1);
  CHECK(b.from_cache);
  CHECK(b.image == a.image);
  // Another define is another binary.
  (void)second.compile("axpy", axpy_source, {{"UNUSED", std::int64_t{2}}});
  CHECK(second.compilations() == 1);
}

TEST_CASE("cuda: a kernel that does not compile raises wrapgraph.cuda.compile with NVRTC's log") {
  if (const std::string why = test::no_nvrtc(); !why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  test::temp_dir cache("wrapgraph-nvrtc");
  cuda::nvrtc_options options;
  options.cache_dir = cache.path;
  cuda::nvrtc_compiler compiler(90, options);
  try {
    (void)compiler.compile("broken", "extern \"C\" __global__ void broken(float* y) {\n  y[0] = undeclared;\n}\n");
    FAIL("a broken kernel compiled");
  } catch (const cuda::cuda_error& e) {
    CHECK(e.id() == "wrapgraph.cuda.compile");
    CHECK(e.message().find("kernel 'broken'") != std::string::npos);
    CHECK(e.message().find("broken.cu(2)") != std::string::npos);  // the source's own line
    CHECK(e.message().find("undeclared") != std::string::npos);
  }
  CHECK(test::error_id([&] { (void)compiler.compile("k", axpy_source, {{"not an identifier", std::int64_t{1}}}); }) ==
        "wrapgraph.kernel.bad_define");
}

TEST_CASE("cuda: launch packs each argument as its typed parameter") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  const cuda::compiled_binary binary = b.compiler().compile("axpy", axpy_source);
  const cuda::kernel_module code(binary.image.data(), "axpy");
  const cuda::typed_function<float*, const float*, float, std::int64_t> axpy(code.get_function("axpy"));
  exec::tensor y = device_floats({1, 2, 3, 4, 5});
  const exec::tensor x = device_floats({10, 20, 30, 40, 50});
  // An int for the long long parameter and a double for the float one are
  // converted before they are packed.
  cuda::launch(axpy, {1, 1, 1}, {32, 1, 1}, 0, b.stream(), static_cast<float*>(y.data()),
               static_cast<const float*>(x.data()), 0.5, 4);
  CHECK(host_floats(y) == std::vector<float>{6, 12, 18, 24, 5});
  // The untyped form packs what it is given, as given.
  cuda::launch(code.get_function("axpy"), {1, 1, 1}, {32, 1, 1}, 0, b.stream(), static_cast<float*>(y.data()),
               static_cast<const float*>(x.data()), 1.0f, std::int64_t{5});
  CHECK(host_floats(y) == std::vector<float>{16, 32, 48, 64, 55});
}

TEST_CASE("cuda: a failing driver call names what was done and the driver's error") {
  WRAPGRAPH_REQUIRE_GPU();
  (void)test::gpu();
  const std::string garbage(64, 'x');
  try {
    const cuda::kernel_module m(garbage.data(), "a binary of garbage");
    FAIL("garbage loaded as a module");
  } catch (const cuda::cuda_error& e) {
    CHECK(e.id() == "wrapgraph.cuda.driver");
    CHECK(e.message().find("loading a binary of garbage") != std::string::npos);
    CHECK(e.api_error().rfind("CUDA_ERROR_", 0) == 0);
  }
  try {
    cuda::launch(cuda::function{}, {1, 1, 1}, {1, 1, 1}, 0, test::gpu().stream());
    FAIL("an empty kernel launched");
  } catch (const cuda::cuda_error& e) {
    CHECK(e.id() == "wrapgraph.cuda.bad_launch");
  }
}

TEST_CASE("cuda: memory released to the cache serves the next allocation without the driver") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_memory& m = test::gpu().device_memory();
  const std::size_t before = m.driver_stats().allocations;
  void* first = nullptr;
  {
    const exec::storage_ptr a = m.allocate(1000);
    first = a->data();
  }
  const std::size_t after_one = m.driver_stats().allocations;
  CHECK(after_one <= before + 1);
  for (int i = 0; i < 10; ++i) {
    const exec::storage_ptr a = m.allocate(1000);
    CHECK(a->data() == first);  // the block released last
  }
  CHECK(m.driver_stats().allocations == after_one);
  CHECK(m.driver_stats().cached_bytes >= 1024);
  CHECK(test::error_id([&] { (void)m.allocate(std::size_t{1} << 50); }) == "wrapgraph.memory.out_of_memory");
  m.release_cached();
  CHECK(m.driver_stats().cached_bytes == 0);
}

TEST_CASE("cuda: a stream capture records work that each replay runs again") {
  WRAPGRAPH_REQUIRE_GPU();
  cuda::cuda_backend& b = test::gpu();
  const cuda::compiled_binary binary = b.compiler().compile("axpy", axpy_source);
  const cuda::kernel_module code(binary.image.data(), "axpy");
  const cuda::typed_function<float*, const float*, float, std::int64_t> axpy(code.get_function("axpy"));
  exec::tensor y = device_floats({0, 0, 0});
  const exec::tensor x = device_floats({1, 2, 3});
  cuda::stream_capture capture(b.stream());
  cuda::launch(axpy, {1, 1, 1}, {32, 1, 1}, 0, b.stream(), static_cast<float*>(y.data()),
               static_cast<const float*>(x.data()), 1.0f, 3);
  const cuda::graph_exec graph = capture.end();
  CHECK(graph.nodes() == 1);
  CHECK(host_floats(y) == std::vector<float>{0, 0, 0});  // recorded, not run
  for (int i = 0; i < 3; ++i) graph.launch(b.stream());
  CHECK(host_floats(y) == std::vector<float>{3, 6, 9});
}

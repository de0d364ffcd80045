// The `cuda` suite: what the CUDA backend's runtime costs beyond the
// launches it makes, for programs of 1, 16 and 64 small dependent kernels
// (kernel i reads buffer i-1 and writes buffer i: out = in * 1.0001 + 1 over
// 4096 float32 elements, compiled by NVRTC).
// (a) `cuda.run`: executable::run against the same launches made with
//     cuLaunchKernel directly (same function, grid, block and stream,
//     parameters packed beforehand), in us per kernel (target <= 1.15x);
// (b) `cuda.replay`: a run_graph replay against cuGraphLaunch of a graph
//     captured from those direct launches (target <= 1.1x);
// (c) `cuda.allocations`: cuMemAlloc calls (target 0) and allocate() calls
//     per run in steady state, eager and replayed.
// Times are throughput: a batch of runs is timed from the first issue to the
// synchronize after the last. The variants take turns within each round
// (in rotating order), and each one's median over the rounds is reported.
// Without a usable GPU (or without NVRTC) it prints why and measures nothing.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cuda.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/lines/builder.hpp>

#include "bench.hpp"

namespace {

using namespace wrapgraph;
namespace cu = wrapgraph::backend::cuda;

constexpr std::int64_t elements = 4096;
constexpr std::int64_t xblock = 1024;  // 4 blocks of num_warps * 32 = 128 threads
constexpr int rounds = 16;             // a multiple of the 4 variants: each leads a round as often
constexpr std::size_t launches_per_batch = 4096;
constexpr std::size_t counted_runs = 200;  // runs the allocation counts are taken over

// out = in * 1.0001 + 1: one block per program id, whose num_warps * 32
// threads share its XBLOCK elements.
const char* const scale_source = R"cuda(extern "C" __global__
void k_scale(const float* in_ptr0, float* out_ptr0, int xnumel) {
  const long long xoffset = (long long)blockIdx.x * XBLOCK;
  for (long long xlane = threadIdx.x; xlane < XBLOCK; xlane += blockDim.x) {
    const long long xindex = xoffset + xlane;
    if (xindex >= xnumel) break;  // xmask
    out_ptr0[xindex] = in_ptr0[xindex] * 1.0001f + 1.0f;
  }
}
)cuda";

// arg0_1 -> buf0 -> buf1 -> ... -> buf{kernels-1}, the output; each buffer
// freed once the next kernel has read it, as Inductor writes it.
program chain(std::size_t kernels) {
  program_builder b("chain" + std::to_string(kernels));
  const buffer_decl input = b.input("arg0_1", f32, cpu, shape(elements));
  const kernel_builder k = b.kernel("k_scale")
                               .params({{"in_ptr0", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"},
                                        {"XBLOCK", "constexpr"}})
                               .config({{"XBLOCK", xblock}, {"num_warps", 4}})
                               .cuda(scale_source, "k_scale");
  std::string previous = input.name;
  for (std::size_t i = 0; i < kernels; ++i) {
    const buffer_decl buf = b.allocate("buf" + std::to_string(i), f32, cpu, shape(elements));
    b.call(k, {previous, buf, elements}, grid("CeilDiv(xnumel, XBLOCK)", 1, 1));
    if (i > 0) b.free(previous);
    previous = buf.name;
  }
  b.outputs(previous);
  return b.build();
}

// The chain's launches made by hand: kernel i from buffers[i-1] (the input
// for i = 0) into buffers[i], with the function, grid and block the backend
// launches it with and its parameters packed once.
class direct_chain {
 public:
  direct_chain(cu::cuda_backend& b, const cu::cuda_kernel& k, const exec::tensor& input, std::size_t kernels)
      : fn_(k.fn().get()), block_(k.block()), shared_(k.shared_bytes()), stream_(b.stream()),
        grid_{static_cast<unsigned>((elements + xblock - 1) / xblock), 1, 1}, cells_(kernels), params_(kernels) {
    for (std::size_t i = 0; i < kernels; ++i) buffers_.push_back(exec::empty(*b.memory(), dtype::float32, {elements}));
    for (std::size_t i = 0; i < kernels; ++i) {
      void* in = i == 0 ? input.data() : buffers_[i - 1].data();
      cells_[i] = {in, buffers_[i].data(), static_cast<std::int32_t>(elements)};
      params_[i] = {&cells_[i].in, &cells_[i].out, &cells_[i].count};
    }
  }

  void launch() {
    const cu::api::driver_api& d = cu::api::driver();
    for (std::array<void*, 3>& p : params_)
      cu::check(d.cuLaunchKernel(fn_, grid_.x, grid_.y, grid_.z, block_.x, block_.y, block_.z, shared_, stream_,
                                 p.data(), nullptr),
                "launching a kernel");
  }

  [[nodiscard]] const exec::tensor& output() const { return buffers_.back(); }

 private:
  struct cell {
    void* in;
    void* out;
    std::int32_t count;
  };
  cu::api::CUfunction fn_;
  cu::dims block_;
  unsigned shared_;
  cu::api::CUstream stream_;
  cu::dims grid_;
  std::vector<exec::tensor> buffers_;
  std::vector<cell> cells_;                   // sized once: params_ points into it
  std::vector<std::array<void*, 3>> params_;
};

// The tensor's float32 elements, on the host.
std::vector<float> to_host(cu::cuda_backend& b, const exec::value& v) {
  const exec::tensor* t = v.as_tensor();
  std::vector<float> out(t ? static_cast<std::size_t>(t->numel()) : 0);
  if (t) b.to_host(out.data(), t->data(), out.size() * sizeof(float));
  return out;
}

// True when `got` is the chain of `kernels` applied to `input` (up to
// rounding: the device may fuse the multiply-add).
bool chain_result(const std::vector<float>& input, const std::vector<float>& got, std::size_t kernels) {
  if (got.size() != input.size()) return false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    float x = input[i];
    for (std::size_t k = 0; k < kernels; ++k) x = x * 1.0001f + 1.0f;
    if (std::abs(got[i] - x) > 1e-4f * std::max(1.0f, std::abs(x))) return false;
  }
  return true;
}

// Seconds from issuing `iterations` calls of `f` to the end of the work.
template <class F>
double batch_seconds(cu::cuda_backend& b, std::size_t iterations, F&& f) {
  b.synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) f();
  b.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Three decimals: enough for us and ratios, and short lines.
double rounded(double v) { return std::round(v * 1000) / 1000; }

// `text` as the inside of a JSON string.
std::string json_text(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

void measure(cu::cuda_backend& b, std::size_t kernels) {
  const program p = chain(kernels);
  graph::graph g = convert(p);
  graph::move_to_device(g, b.dev());
  auto eager = exec::compile(g, p, b);
  auto replayed = exec::compile(g, p, b);  // its own, so eager runs never touch its captures

  std::vector<float> host(static_cast<std::size_t>(elements));
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i % 17) * 0.25f - 2.0f;
  const exec::tensor input = exec::empty(*b.memory(), dtype::float32, {elements});
  b.from_host(input.data(), host.data(), host.size() * sizeof(float));
  const std::vector<exec::value> inputs{input};

  const cu::cuda_kernel kernel = b.load_kernel(*g.find_kernel("k_scale"), 0);
  direct_chain direct(b, kernel, input, kernels);
  b.synchronize();
  cu::graph_exec direct_graph = [&] {
    cu::stream_capture capture(b.stream());
    direct.launch();
    return capture.end();
  }();

  // Every variant once, checked: the same numbers from each.
  bool agree = chain_result(host, to_host(b, eager.run(inputs)), kernels);
  agree = chain_result(host, to_host(b, replayed.run_graph(inputs)), kernels) && agree;  // captures
  agree = chain_result(host, to_host(b, replayed.run_graph(inputs)), kernels) && agree;  // replays
  direct.launch();
  agree = chain_result(host, to_host(b, direct.output()), kernels) && agree;
  direct_graph.launch(b.stream());
  agree = chain_result(host, to_host(b, direct.output()), kernels) && agree;

  const std::size_t iterations = std::max<std::size_t>(launches_per_batch / kernels, 16);
  const std::array<std::function<void()>, 4> variants{
      [&] { bench::keep(eager.run(inputs)); },
      [&] { direct.launch(); },
      [&] { bench::keep(replayed.run_graph(inputs)); },
      [&] { direct_graph.launch(b.stream()); },
  };
  for (const auto& f : variants) (void)batch_seconds(b, iterations / 4, f);  // warm-up
  std::array<std::vector<double>, 4> seconds;
  for (int r = 0; r < rounds; ++r)
    for (std::size_t j = 0; j < variants.size(); ++j) {
      const std::size_t v = (static_cast<std::size_t>(r) + j) % variants.size();
      seconds[v].push_back(batch_seconds(b, iterations, variants[v]));
    }
  const double per_kernel = 1e6 / static_cast<double>(iterations * kernels);
  const double run_us = median(seconds[0]) * per_kernel, direct_us = median(seconds[1]) * per_kernel;
  const double replay_us = median(seconds[2]) * per_kernel, direct_graph_us = median(seconds[3]) * per_kernel;

  // Allocation calls in steady state.
  const auto count = [&](auto&& run) {
    b.synchronize();
    const std::size_t driver = b.device_memory().driver_stats().allocations;
    const std::size_t calls = b.memory()->stats().allocations;
    for (std::size_t i = 0; i < counted_runs; ++i) run();
    b.synchronize();
    return std::array<double, 2>{static_cast<double>(b.device_memory().driver_stats().allocations - driver),
                                 static_cast<double>(b.memory()->stats().allocations - calls)};
  };
  const auto eager_allocations = count(variants[0]);
  const auto replay_allocations = count(variants[2]);
  const auto stats = replayed.graph_statistics();

  const auto k = static_cast<double>(kernels);
  bench::print(bench::record{"cuda.run"}
                   .set("kernels", k)
                   .set("run_us_per_kernel", rounded(run_us))
                   .set("direct_us_per_kernel", rounded(direct_us))
                   .set("ratio", rounded(run_us / direct_us))
                   .set("target_ratio", 1.15)
                   .set("outputs_ok", agree ? 1 : 0));  // of all four variants
  bench::print(bench::record{"cuda.replay"}
                   .set("kernels", k)
                   .set("replay_us_per_kernel", rounded(replay_us))
                   .set("direct_graph_us_per_kernel", rounded(direct_graph_us))
                   .set("ratio", rounded(replay_us / direct_graph_us))
                   .set("target_ratio", 1.1)
                   .set("captures", static_cast<double>(stats.captures)));
  for (const auto& [mode, counts] : {std::pair{"run", eager_allocations}, std::pair{"replay", replay_allocations}})
    bench::print(bench::record{"cuda.allocations"}
                     .set("mode", std::string(mode))
                     .set("kernels", k)
                     .set("runs", static_cast<double>(counted_runs))
                     .set("cuMemAlloc_calls", counts[0])
                     .set("allocate_calls_per_run", counts[1] / counted_runs)
                     .set("target_cuMemAlloc_calls", 0));
}

void run_cuda() {
  const auto skip = [](const std::string& why) {
    bench::print(bench::record{"cuda"}.set("skipped", json_text(why)));
  };
  if (const std::string why = cu::api::driver_unavailable(); !why.empty()) return skip(why);
  try {
    cu::cuda_backend b;
    bench::print(bench::record{"cuda.device"}
                     .set("gpu", json_text(b.resources().ctx.name()))
                     .set("elements", static_cast<double>(elements))
                     .set("rounds", rounds));
    for (const std::size_t kernels : {std::size_t{1}, std::size_t{16}, std::size_t{64}}) measure(b, kernels);
  } catch (const cu::cuda_error& e) {
    if (e.id() != "wrapgraph.cuda.unavailable") throw;
    skip(e.message());  // a driver but no NVRTC, say
  }
}

const bench::registration cuda_suite{"cuda", run_cuda};

}  // namespace

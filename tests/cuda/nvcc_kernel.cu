// A kernel compiled by nvcc into the program, launched through wrapgraph's
// runtime: kernel_of() finds it by function pointer, launch() packs its
// arguments as its parameters. Built and run by scripts/gpu-test (CI has no
// nvcc); prints "nvcc kernel: ok" and exits 0 when the results are right.

#include <cstdio>
#include <vector>

#include <wrapgraph/backend/cuda/runtime.hpp>

__global__ void scale_add(float* y, const float* x, float a, long long n) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

int main() {
  namespace cuda = wrapgraph::backend::cuda;
  try {
    const cuda::context ctx(0);
    const cuda::stream s;
    const auto kernel = cuda::kernel_of(&scale_add);  // typed_function<float*, const float*, float, long long>
    const long long n = 1000;
    std::vector<float> x(n), y(n);
    for (long long i = 0; i < n; ++i) {
      x[i] = static_cast<float>(i);
      y[i] = 1.0f;
    }
    cuda::api::CUdeviceptr dx = 0, dy = 0;
    const auto& d = cuda::api::driver();
    cuda::check(d.cuMemAlloc(&dx, n * sizeof(float)), "allocating x");
    cuda::check(d.cuMemAlloc(&dy, n * sizeof(float)), "allocating y");
    cuda::check(d.cuMemcpyHtoDAsync(dx, x.data(), n * sizeof(float), s.get()), "copying x");
    cuda::check(d.cuMemcpyHtoDAsync(dy, y.data(), n * sizeof(float), s.get()), "copying y");
    // 2 (an int) converts to the float parameter, n to long long.
    cuda::launch(kernel, {static_cast<unsigned>((n + 255) / 256), 1, 1}, {256, 1, 1}, 0, s.get(),
                 reinterpret_cast<float*>(dy), reinterpret_cast<const float*>(dx), 2, n);
    cuda::check(d.cuMemcpyDtoHAsync(y.data(), dy, n * sizeof(float), s.get()), "copying y back");
    s.synchronize();
    (void)d.cuMemFree(dx);
    (void)d.cuMemFree(dy);
    for (long long i = 0; i < n; ++i)
      if (y[i] != 2.0f * static_cast<float>(i) + 1.0f) {
        std::printf("nvcc kernel: element %lld is %f\n", i, y[i]);
        return 1;
      }
    std::printf("nvcc kernel: ok\n");
    return 0;
  } catch (const wrapgraph::error& e) {
    std::printf("nvcc kernel: %s\n", e.what());
    return 1;
  }
}

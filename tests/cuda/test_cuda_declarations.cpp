// wrapgraph declares the driver, NVRTC and cuBLAS functions and constants it
// uses itself (backend/cuda/api.hpp). Built only where the CUDA toolkit's
// headers are installed, this file checks every one of those declarations
// against the toolkit's: same constant values, and function types that pass
// arguments alike (an enum parameter may be declared as an int of its size).

#include <cublas_v2.h>
#include <cuda.h>
#include <nvrtc.h>

#include <cstddef>
#include <type_traits>

#include <wrapgraph/backend/cuda/api.hpp>

namespace {

namespace api = wrapgraph::backend::cuda::api;

template <class T>
constexpr bool is_int_like = std::is_integral_v<T> || std::is_enum_v<T>;

// True when A and B are passed alike: the same type, integers or enums of
// one size, or pointers to such.
template <class A, class B>
constexpr bool passed_alike() {
  if constexpr (std::is_same_v<A, B>) {
    return true;
  } else if constexpr (is_int_like<A> && is_int_like<B>) {
    return sizeof(A) == sizeof(B);
  } else if constexpr (std::is_pointer_v<A> && std::is_pointer_v<B>) {
    using PA = std::remove_cv_t<std::remove_pointer_t<A>>;
    using PB = std::remove_cv_t<std::remove_pointer_t<B>>;
    return std::is_const_v<std::remove_pointer_t<A>> == std::is_const_v<std::remove_pointer_t<B>> &&
           passed_alike<PA, PB>();
  } else {
    return false;
  }
}

template <class F, class G>
struct same_abi : std::false_type {};
template <class R, class... A, class S, class... B>
  requires(sizeof...(A) == sizeof...(B))
struct same_abi<R (*)(A...), S (*)(B...)>
    : std::bool_constant<passed_alike<R, S>() && (passed_alike<A, B>() && ...)> {};

#define WRAPGRAPH_SAME(table, name)                                                                   \
  static_assert(same_abi<decltype(api::table{}.name), decltype(&::name)>::value,                     \
                #name " is declared unlike the toolkit's header")

WRAPGRAPH_SAME(driver_api, cuGetErrorName);
WRAPGRAPH_SAME(driver_api, cuGetErrorString);
WRAPGRAPH_SAME(driver_api, cuInit);
WRAPGRAPH_SAME(driver_api, cuDriverGetVersion);
WRAPGRAPH_SAME(driver_api, cuDeviceGetCount);
WRAPGRAPH_SAME(driver_api, cuDeviceGet);
WRAPGRAPH_SAME(driver_api, cuDeviceGetName);
WRAPGRAPH_SAME(driver_api, cuDeviceGetAttribute);
WRAPGRAPH_SAME(driver_api, cuDevicePrimaryCtxRetain);
WRAPGRAPH_SAME(driver_api, cuDevicePrimaryCtxRelease);
WRAPGRAPH_SAME(driver_api, cuCtxSetCurrent);
WRAPGRAPH_SAME(driver_api, cuCtxGetCurrent);
WRAPGRAPH_SAME(driver_api, cuCtxSynchronize);
WRAPGRAPH_SAME(driver_api, cuStreamCreate);
WRAPGRAPH_SAME(driver_api, cuStreamDestroy);
WRAPGRAPH_SAME(driver_api, cuStreamSynchronize);
WRAPGRAPH_SAME(driver_api, cuStreamBeginCapture);
WRAPGRAPH_SAME(driver_api, cuStreamEndCapture);
WRAPGRAPH_SAME(driver_api, cuStreamIsCapturing);
WRAPGRAPH_SAME(driver_api, cuGraphInstantiateWithFlags);
WRAPGRAPH_SAME(driver_api, cuGraphLaunch);
WRAPGRAPH_SAME(driver_api, cuGraphExecDestroy);
WRAPGRAPH_SAME(driver_api, cuGraphDestroy);
WRAPGRAPH_SAME(driver_api, cuGraphGetNodes);
WRAPGRAPH_SAME(driver_api, cuEventCreate);
WRAPGRAPH_SAME(driver_api, cuEventDestroy);
WRAPGRAPH_SAME(driver_api, cuEventRecord);
WRAPGRAPH_SAME(driver_api, cuEventSynchronize);
WRAPGRAPH_SAME(driver_api, cuEventElapsedTime);
WRAPGRAPH_SAME(driver_api, cuMemAlloc);
WRAPGRAPH_SAME(driver_api, cuMemFree);
WRAPGRAPH_SAME(driver_api, cuMemGetInfo);
WRAPGRAPH_SAME(driver_api, cuMemcpyHtoDAsync);
WRAPGRAPH_SAME(driver_api, cuMemcpyDtoHAsync);
WRAPGRAPH_SAME(driver_api, cuMemcpyDtoDAsync);
WRAPGRAPH_SAME(driver_api, cuMemsetD8Async);
WRAPGRAPH_SAME(driver_api, cuModuleLoadData);
WRAPGRAPH_SAME(driver_api, cuModuleUnload);
WRAPGRAPH_SAME(driver_api, cuModuleGetFunction);
WRAPGRAPH_SAME(driver_api, cuFuncGetAttribute);
WRAPGRAPH_SAME(driver_api, cuFuncSetAttribute);
WRAPGRAPH_SAME(driver_api, cuLaunchKernel);

WRAPGRAPH_SAME(nvrtc_api, nvrtcGetErrorString);
WRAPGRAPH_SAME(nvrtc_api, nvrtcVersion);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetNumSupportedArchs);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetSupportedArchs);
WRAPGRAPH_SAME(nvrtc_api, nvrtcCreateProgram);
WRAPGRAPH_SAME(nvrtc_api, nvrtcDestroyProgram);
WRAPGRAPH_SAME(nvrtc_api, nvrtcCompileProgram);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetProgramLogSize);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetProgramLog);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetCUBINSize);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetCUBIN);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetPTXSize);
WRAPGRAPH_SAME(nvrtc_api, nvrtcGetPTX);

WRAPGRAPH_SAME(cublas_api, cublasGetStatusName);
WRAPGRAPH_SAME(cublas_api, cublasCreate);
WRAPGRAPH_SAME(cublas_api, cublasDestroy);
WRAPGRAPH_SAME(cublas_api, cublasSetStream);
WRAPGRAPH_SAME(cublas_api, cublasSetWorkspace);
// C++ sees two overloads (a legacy one takes the compute type as a
// cudaDataType): the address is taken through the one wrapgraph calls.
using gemm_strided_batched = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                                const void*, const void*, cudaDataType, int, long long, const void*,
                                                cudaDataType, int, long long, const void*, void*, cudaDataType, int,
                                                long long, int, cublasComputeType_t, cublasGemmAlgo_t);
[[maybe_unused]] constexpr gemm_strided_batched toolkit_gemm = &::cublasGemmStridedBatchedEx;
static_assert(same_abi<decltype(api::cublas_api{}.cublasGemmStridedBatchedEx), gemm_strided_batched>::value,
              "cublasGemmStridedBatchedEx is declared unlike the toolkit's header");

#undef WRAPGRAPH_SAME

static_assert(std::is_same_v<api::CUcontext, ::CUcontext> && std::is_same_v<api::CUmodule, ::CUmodule> &&
              std::is_same_v<api::CUfunction, ::CUfunction> && std::is_same_v<api::CUstream, ::CUstream> &&
              std::is_same_v<api::CUevent, ::CUevent> && std::is_same_v<api::CUgraph, ::CUgraph> &&
              std::is_same_v<api::CUgraphExec, ::CUgraphExec> && std::is_same_v<api::CUdeviceptr, ::CUdeviceptr> &&
              std::is_same_v<api::nvrtcProgram, ::nvrtcProgram> && std::is_same_v<api::cublasHandle_t, ::cublasHandle_t>);

static_assert(api::CUDA_SUCCESS == ::CUDA_SUCCESS && api::CUDA_ERROR_NO_DEVICE == ::CUDA_ERROR_NO_DEVICE &&
              api::CUDA_ERROR_NOT_READY == ::CUDA_ERROR_NOT_READY);
static_assert(api::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT == ::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT &&
              api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR == ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR &&
              api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR == ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR &&
              api::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN ==
                  ::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
static_assert(api::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK == ::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK &&
              api::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES == ::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
static_assert(api::CU_STREAM_NON_BLOCKING == ::CU_STREAM_NON_BLOCKING && api::CU_EVENT_DEFAULT == ::CU_EVENT_DEFAULT &&
              api::CU_EVENT_DISABLE_TIMING == ::CU_EVENT_DISABLE_TIMING &&
              api::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL == ::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
              api::CU_STREAM_CAPTURE_MODE_RELAXED == ::CU_STREAM_CAPTURE_MODE_RELAXED &&
              api::CU_STREAM_CAPTURE_STATUS_NONE == ::CU_STREAM_CAPTURE_STATUS_NONE);
static_assert(api::NVRTC_SUCCESS == ::NVRTC_SUCCESS);
static_assert(api::CUBLAS_STATUS_SUCCESS == ::CUBLAS_STATUS_SUCCESS && api::CUBLAS_OP_N == ::CUBLAS_OP_N &&
              api::CUBLAS_OP_T == ::CUBLAS_OP_T && api::CUDA_R_32F == ::CUDA_R_32F && api::CUDA_R_64F == ::CUDA_R_64F &&
              api::CUDA_R_16F == ::CUDA_R_16F && api::CUDA_R_16BF == ::CUDA_R_16BF &&
              api::CUBLAS_COMPUTE_32F == ::CUBLAS_COMPUTE_32F && api::CUBLAS_COMPUTE_64F == ::CUBLAS_COMPUTE_64F &&
              api::CUBLAS_GEMM_DEFAULT == ::CUBLAS_GEMM_DEFAULT);

}  // namespace

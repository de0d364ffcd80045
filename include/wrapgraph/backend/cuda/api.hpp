#pragma once
/// The part of the CUDA driver, NVRTC and cuBLAS interfaces that wrapgraph
/// calls, opened at run time with dlopen, and the one check every call goes
/// through.
///
/// wrapgraph declares these C interfaces itself (their stable, versioned
/// exported symbols: `cuMemAlloc_v2`, `cublasCreate_v2`, ...) instead of
/// including the toolkit's headers, so a build needs no CUDA installation at
/// all and the same binary runs on machines with and without a GPU. Where
/// the toolkit's headers are installed, the test suite checks every
/// declaration here against them.

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <wrapgraph/error.hpp>

// The opaque handle types, declared where the toolkit's headers declare them
// (the global namespace), so that both declarations name the same types.
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphNode_st;
struct CUgraphExec_st;
struct _nvrtcProgram;
struct cublasContext;

namespace wrapgraph::backend::cuda {

/// A CUDA driver, NVRTC or cuBLAS call that failed, or a CUDA library or
/// device that is missing. `id()` is `wrapgraph.cuda.*` (docs/errors.md);
/// `api_error()` is the API's own name of the failure, such as
/// `CUDA_ERROR_OUT_OF_MEMORY`, or empty.
class cuda_error : public backend_error {
 public:
  cuda_error(std::string id, std::string message, std::string api_error = {})
      : backend_error(std::move(id), std::move(message)), api_error_(std::move(api_error)) {}
  [[nodiscard]] const std::string& api_error() const noexcept { return api_error_; }

 private:
  std::string api_error_;
};

namespace api {

// ---- the driver ----------------------------------------------------------------

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = ::CUctx_st*;
using CUmodule = ::CUmod_st*;
using CUfunction = ::CUfunc_st*;
using CUstream = ::CUstream_st*;
using CUevent = ::CUevent_st*;
using CUgraph = ::CUgraph_st*;
using CUgraphNode = ::CUgraphNode_st*;
using CUgraphExec = ::CUgraphExec_st*;

inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
inline constexpr CUresult CUDA_ERROR_NOT_READY = 600;

// CUdevice_attribute values used here.
inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
// CUfunction_attribute values used here.
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
// Flags.
inline constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
inline constexpr unsigned CU_EVENT_DEFAULT = 0;
inline constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
inline constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
inline constexpr int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
inline constexpr int CU_STREAM_CAPTURE_STATUS_NONE = 0;

/// The driver functions wrapgraph calls, each named after its exported
/// symbol without the version suffix.
struct driver_api {
  CUresult (*cuGetErrorName)(CUresult, const char**) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char**) = nullptr;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDriverGetVersion)(int*) = nullptr;
  CUresult (*cuDeviceGetCount)(int*) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*cuDeviceGetName)(char*, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice) = nullptr;  // _v2
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxGetCurrent)(CUcontext*) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuStreamCreate)(CUstream*, unsigned) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream) = nullptr;  // _v2
  CUresult (*cuStreamSynchronize)(CUstream) = nullptr;
  CUresult (*cuStreamBeginCapture)(CUstream, int) = nullptr;  // _v2
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph*) = nullptr;
  CUresult (*cuStreamIsCapturing)(CUstream, int*) = nullptr;
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec*, CUgraph, unsigned long long) = nullptr;
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream) = nullptr;
  CUresult (*cuGraphExecDestroy)(CUgraphExec) = nullptr;
  CUresult (*cuGraphDestroy)(CUgraph) = nullptr;
  CUresult (*cuGraphGetNodes)(CUgraph, CUgraphNode*, std::size_t*) = nullptr;
  CUresult (*cuEventCreate)(CUevent*, unsigned) = nullptr;
  CUresult (*cuEventDestroy)(CUevent) = nullptr;  // _v2
  CUresult (*cuEventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent) = nullptr;
  CUresult (*cuEventElapsedTime)(float*, CUevent, CUevent) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr*, std::size_t) = nullptr;  // _v2
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;                 // _v2
  CUresult (*cuMemGetInfo)(std::size_t*, std::size_t*) = nullptr;  // _v2
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void*, std::size_t, CUstream) = nullptr;  // _v2
  CUresult (*cuMemcpyDtoHAsync)(void*, CUdeviceptr, std::size_t, CUstream) = nullptr;        // _v2
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, std::size_t, CUstream) = nullptr;  // _v2
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, std::size_t, CUstream) = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule*, const void*) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*) = nullptr;
  CUresult (*cuFuncGetAttribute)(int*, int, CUfunction) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void**, void**) = nullptr;
};

// ---- NVRTC ---------------------------------------------------------------------

using nvrtcResult = int;
using nvrtcProgram = ::_nvrtcProgram*;
inline constexpr nvrtcResult NVRTC_SUCCESS = 0;

struct nvrtc_api {
  const char* (*nvrtcGetErrorString)(nvrtcResult) = nullptr;
  nvrtcResult (*nvrtcVersion)(int*, int*) = nullptr;
  nvrtcResult (*nvrtcGetNumSupportedArchs)(int*) = nullptr;
  nvrtcResult (*nvrtcGetSupportedArchs)(int*) = nullptr;
  nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                                    const char* const*) = nullptr;
  nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram*) = nullptr;
  nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram, int, const char* const*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram, std::size_t*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram, std::size_t*) = nullptr;
  nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram, std::size_t*) = nullptr;
  nvrtcResult (*nvrtcGetPTX)(nvrtcProgram, char*) = nullptr;
};

// ---- cuBLAS --------------------------------------------------------------------

using cublasStatus_t = int;
using cublasHandle_t = ::cublasContext*;
inline constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
inline constexpr int CUBLAS_OP_N = 0;
inline constexpr int CUBLAS_OP_T = 1;
// cudaDataType values.
inline constexpr int CUDA_R_32F = 0;
inline constexpr int CUDA_R_64F = 1;
inline constexpr int CUDA_R_16F = 2;
inline constexpr int CUDA_R_16BF = 14;
// cublasComputeType_t values.
inline constexpr int CUBLAS_COMPUTE_32F = 68;
inline constexpr int CUBLAS_COMPUTE_64F = 70;
inline constexpr int CUBLAS_GEMM_DEFAULT = -1;

struct cublas_api {
  const char* (*cublasGetStatusName)(cublasStatus_t) = nullptr;
  cublasStatus_t (*cublasCreate)(cublasHandle_t*) = nullptr;    // _v2
  cublasStatus_t (*cublasDestroy)(cublasHandle_t) = nullptr;    // _v2
  cublasStatus_t (*cublasSetStream)(cublasHandle_t, CUstream) = nullptr;  // _v2
  cublasStatus_t (*cublasSetWorkspace)(cublasHandle_t, void*, std::size_t) = nullptr;  // _v2
  cublasStatus_t (*cublasGemmStridedBatchedEx)(cublasHandle_t, int, int, int, int, int, const void*, const void*, int,
                                               int, long long, const void*, int, int, long long, const void*, void*,
                                               int, int, long long, int, int, int) = nullptr;
};

// ---- opening the libraries -----------------------------------------------------

namespace detail {

/// The first of `names` that dlopen opens (kept open for the process), or
/// null; `tried` lists what failed, for the error message. With
/// `toolkit_too`, each name is also tried in the toolkit's usual folder
/// (`$CUDA_HOME/lib64`, else /usr/local/cuda/lib64), for installations that
/// did not register it with the dynamic loader.
inline void* open_first(std::initializer_list<const char*> names, std::string& tried, bool toolkit_too = false) {
  const auto attempt = [&](const std::string& name) -> void* {
    if (void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
    if (!tried.empty()) tried += "; ";
    const char* why = ::dlerror();
    tried += why ? why : name;
    return nullptr;
  };
  for (const char* name : names)
    if (void* h = attempt(name)) return h;
  if (toolkit_too) {
    const char* home = std::getenv("CUDA_HOME");
    const std::string dir = std::string(home && *home ? home : "/usr/local/cuda") + "/lib64/";
    for (const char* name : names)
      if (void* h = attempt(dir + name)) return h;
  }
  return nullptr;
}

/// Looks up `symbol` in `library` into `fn`; false when it is missing.
template <class F>
bool bind(void* library, F& fn, const char* symbol) {
  fn = reinterpret_cast<F>(::dlsym(library, symbol));
  return fn != nullptr;
}

/// A loaded table of functions, or why it could not be loaded.
template <class Table>
struct loaded {
  Table table;
  std::string failure;  // empty when loaded
};

[[noreturn]] inline void missing(const char* library, const std::string& why) {
  throw cuda_error("wrapgraph.cuda.unavailable", std::string("cannot use ") + library + ": " + why);
}

/// Opens the first of `names` that loads and binds `Table`'s functions with
/// `bind_all(table, need)`; `what` names the library in the failure.
template <class Table, class BindAll>
loaded<Table> load_library(std::initializer_list<const char*> names, bool toolkit_too, const char* what,
                           BindAll&& bind_all) {
  loaded<Table> out;
  std::string tried;
  void* h = open_first(names, tried, toolkit_too);
  if (!h) {
    out.failure = std::string(what) + " is not installed (" + tried + ")";
    return out;
  }
  std::string absent;
  const auto need = [&](auto& fn, const char* symbol) {
    if (!bind(h, fn, symbol)) absent += (absent.empty() ? "" : ", ") + std::string(symbol);
  };
  bind_all(out.table, need);
  if (!absent.empty()) out.failure = std::string(what) + " is too old: it lacks " + absent;
  return out;
}

inline loaded<driver_api> load_driver() {
  return load_library<driver_api>({"libcuda.so.1", "libcuda.so"}, false, "the CUDA driver library",
                                  [](driver_api& d, const auto& need) {
    need(d.cuGetErrorName, "cuGetErrorName");
    need(d.cuGetErrorString, "cuGetErrorString");
    need(d.cuInit, "cuInit");
    need(d.cuDriverGetVersion, "cuDriverGetVersion");
    need(d.cuDeviceGetCount, "cuDeviceGetCount");
    need(d.cuDeviceGet, "cuDeviceGet");
    need(d.cuDeviceGetName, "cuDeviceGetName");
    need(d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    need(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    need(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    need(d.cuCtxSetCurrent, "cuCtxSetCurrent");
    need(d.cuCtxGetCurrent, "cuCtxGetCurrent");
    need(d.cuCtxSynchronize, "cuCtxSynchronize");
    need(d.cuStreamCreate, "cuStreamCreate");
    need(d.cuStreamDestroy, "cuStreamDestroy_v2");
    need(d.cuStreamSynchronize, "cuStreamSynchronize");
    need(d.cuStreamBeginCapture, "cuStreamBeginCapture_v2");
    need(d.cuStreamEndCapture, "cuStreamEndCapture");
    need(d.cuStreamIsCapturing, "cuStreamIsCapturing");
    need(d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
    need(d.cuGraphLaunch, "cuGraphLaunch");
    need(d.cuGraphExecDestroy, "cuGraphExecDestroy");
    need(d.cuGraphDestroy, "cuGraphDestroy");
    need(d.cuGraphGetNodes, "cuGraphGetNodes");
    need(d.cuEventCreate, "cuEventCreate");
    need(d.cuEventDestroy, "cuEventDestroy_v2");
    need(d.cuEventRecord, "cuEventRecord");
    need(d.cuEventSynchronize, "cuEventSynchronize");
    need(d.cuEventElapsedTime, "cuEventElapsedTime");
    need(d.cuMemAlloc, "cuMemAlloc_v2");
    need(d.cuMemFree, "cuMemFree_v2");
    need(d.cuMemGetInfo, "cuMemGetInfo_v2");
    need(d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    need(d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    need(d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    need(d.cuMemsetD8Async, "cuMemsetD8Async");
    need(d.cuModuleLoadData, "cuModuleLoadData");
    need(d.cuModuleUnload, "cuModuleUnload");
    need(d.cuModuleGetFunction, "cuModuleGetFunction");
    need(d.cuFuncGetAttribute, "cuFuncGetAttribute");
    need(d.cuFuncSetAttribute, "cuFuncSetAttribute");
    need(d.cuLaunchKernel, "cuLaunchKernel");
  });
}

inline loaded<nvrtc_api> load_nvrtc() {
  return load_library<nvrtc_api>({"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}, true, "NVRTC",
                                 [](nvrtc_api& n, const auto& need) {
    need(n.nvrtcGetErrorString, "nvrtcGetErrorString");
    need(n.nvrtcVersion, "nvrtcVersion");
    need(n.nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs");
    need(n.nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs");
    need(n.nvrtcCreateProgram, "nvrtcCreateProgram");
    need(n.nvrtcDestroyProgram, "nvrtcDestroyProgram");
    need(n.nvrtcCompileProgram, "nvrtcCompileProgram");
    need(n.nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
    need(n.nvrtcGetProgramLog, "nvrtcGetProgramLog");
    need(n.nvrtcGetCUBINSize, "nvrtcGetCUBINSize");
    need(n.nvrtcGetCUBIN, "nvrtcGetCUBIN");
    need(n.nvrtcGetPTXSize, "nvrtcGetPTXSize");
    need(n.nvrtcGetPTX, "nvrtcGetPTX");
  });
}

inline loaded<cublas_api> load_cublas() {
  return load_library<cublas_api>({"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}, true,
                                  "cuBLAS", [](cublas_api& b, const auto& need) {
    need(b.cublasGetStatusName, "cublasGetStatusName");
    need(b.cublasCreate, "cublasCreate_v2");
    need(b.cublasDestroy, "cublasDestroy_v2");
    need(b.cublasSetStream, "cublasSetStream_v2");
    need(b.cublasSetWorkspace, "cublasSetWorkspace_v2");
    need(b.cublasGemmStridedBatchedEx, "cublasGemmStridedBatchedEx");
  });
}

}  // namespace detail

/// The driver's functions, loaded on first use (and cuInit called); a
/// cuda_error `wrapgraph.cuda.unavailable` saying why when the driver
/// library is missing, too old, or finds no usable GPU.
inline const driver_api& driver() {
  static const detail::loaded<driver_api> d = [] {
    detail::loaded<driver_api> l = detail::load_driver();
    if (l.failure.empty()) {
      if (const CUresult r = l.table.cuInit(0); r != CUDA_SUCCESS) {
        const char* name = nullptr;
        l.table.cuGetErrorName(r, &name);
        l.failure = std::string("the CUDA driver did not start (cuInit: ") + (name ? name : "unknown error") +
                    (r == CUDA_ERROR_NO_DEVICE ? ": no CUDA device)" : ")");
      }
    }
    return l;
  }();
  if (!d.failure.empty()) detail::missing("the CUDA driver", d.failure);
  return d.table;
}

/// NVRTC's functions, loaded on first use; `wrapgraph.cuda.unavailable` when
/// the library is missing or too old.
inline const nvrtc_api& nvrtc() {
  static const detail::loaded<nvrtc_api> n = detail::load_nvrtc();
  if (!n.failure.empty()) detail::missing("NVRTC", n.failure);
  return n.table;
}

/// cuBLAS's functions, loaded on first use; `wrapgraph.cuda.unavailable`
/// when the library is missing or too old.
inline const cublas_api& cublas() {
  static const detail::loaded<cublas_api> b = detail::load_cublas();
  if (!b.failure.empty()) detail::missing("cuBLAS", b.failure);
  return b.table;
}

/// Why the driver cannot be used, or empty when it can (the check the CUDA
/// tests use to skip themselves).
inline std::string driver_unavailable() {
  try {
    (void)driver();
    int count = 0;
    if (driver().cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) return "no CUDA device";
    return {};
  } catch (const cuda_error& e) {
    return e.message();
  }
}

}  // namespace api

// ---- the check -----------------------------------------------------------------

/// The driver's name of `r` (`CUDA_ERROR_OUT_OF_MEMORY`) and its description.
inline std::string driver_error_text(api::CUresult r) {
  const char* name = nullptr;
  const char* text = nullptr;
  api::driver().cuGetErrorName(r, &name);
  api::driver().cuGetErrorString(r, &text);
  std::string out = name ? name : "CUDA error " + std::to_string(r);
  if (text) out += std::string(" (") + text + ")";
  return out;
}

/// Throws cuda_error `wrapgraph.cuda.driver` naming `what` was being done and
/// the driver's error unless `r` is CUDA_SUCCESS.
inline void check(api::CUresult r, std::string_view what) {
  if (r == api::CUDA_SUCCESS) [[likely]]
    return;
  const char* name = nullptr;
  api::driver().cuGetErrorName(r, &name);
  throw cuda_error("wrapgraph.cuda.driver", std::string(what) + ": " + driver_error_text(r),
                   name ? name : std::to_string(r));
}

/// As check, for NVRTC: `wrapgraph.cuda.nvrtc`.
inline void check_nvrtc(api::nvrtcResult r, std::string_view what) {
  if (r == api::NVRTC_SUCCESS) [[likely]]
    return;
  const char* name = api::nvrtc().nvrtcGetErrorString(r);
  throw cuda_error("wrapgraph.cuda.nvrtc", std::string(what) + ": " + (name ? name : "NVRTC error"),
                   name ? name : std::to_string(r));
}

/// As check, for cuBLAS: `wrapgraph.cuda.cublas`.
inline void check_cublas(api::cublasStatus_t r, std::string_view what) {
  if (r == api::CUBLAS_STATUS_SUCCESS) [[likely]]
    return;
  const char* name = api::cublas().cublasGetStatusName(r);
  throw cuda_error("wrapgraph.cuda.cublas", std::string(what) + ": " + (name ? name : "cuBLAS error"),
                   name ? name : std::to_string(r));
}

}  // namespace wrapgraph::backend::cuda

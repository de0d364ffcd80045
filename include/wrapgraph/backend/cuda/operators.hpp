#pragma once
/// The built-in extern operators on CUDA: the same names, arguments, checks,
/// error ids and results as the CPU's (backend/cpu/operators.hpp), computed
/// on the device. Matrix products go through cuBLAS; topk, sort, nonzero,
/// random tensors, scatter, index_put, item and where run kernels of their
/// own, compiled by NVRTC once per device; the graph-level scalar operators
/// are the CPU's, since they read only sizes and values.
///
/// Every operator queues its work on the device's stream and returns without
/// waiting, so that a CUDA graph can capture it. Those registered with
/// `exec::operator_flags::eager` run between captured parts in graph mode:
/// nonzero (the size of its result), item (its value), scatter (a flag
/// saying whether an index is out of range) and index_put (its indices)
/// read device data on the host; randint and randn draw a seed on the host,
/// which a replay would repeat.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cpu/operators.hpp>
#include <wrapgraph/backend/cuda/api.hpp>
#include <wrapgraph/backend/cuda/device.hpp>
#include <wrapgraph/backend/cuda/memory.hpp>
#include <wrapgraph/backend/cuda/runtime.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/operators.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>
#include <wrapgraph/lines/types.hpp>

namespace wrapgraph::backend::cuda {

namespace detail {

// ---- kernel sources ---------------------------------------------------------------
//
// CUDA C++ for NVRTC, without standard headers (the compiler's prelude gives
// int8_t ... uint64_t). Every module is `operator_kernels_common` followed by
// its own kernels; each kernel is `extern "C"` and, where it depends on the
// element type, instantiated once per dtype with a suffix: b8 (bool), i8,
// u8, i16, i32, i64, f16, bf16, f32, f64. Elements are reached through a
// tensor's storage base, its strides and its offset, all in elements.

/// What every module of the built-in operators starts with: the element
/// types (float16 and bfloat16 as their bits), arithmetic on them as the CPU
/// operators do it, the walk over a strided shape and atomic read-modify-write
/// of any element type.
inline constexpr std::string_view operator_kernels_common = R"cuda(
#define WG_MAX_RANK 25
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define WG_PARAM const __grid_constant__
#else
#define WG_PARAM const
#endif

// A grid-stride loop over [0, n).
#define WG_FOR(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

#define WG_ALL_TYPES(M)                                                                                      \
  M(bool, b8) M(int8_t, i8) M(uint8_t, u8) M(int16_t, i16) M(int32_t, i32) M(int64_t, i64) M(half_t, f16) \
  M(bf16_t, bf16) M(float, f32) M(double, f64)
#define WG_FLOAT_TYPES(M) M(half_t, f16) M(bf16_t, bf16) M(float, f32) M(double, f64)
#define WG_INT_TYPES(M) M(int8_t, i8) M(uint8_t, u8) M(int16_t, i16) M(int32_t, i32) M(int64_t, i64)

// Reduce codes, as the host passes them.
#define WG_ASSIGN 0
#define WG_SUM 1
#define WG_PROD 2
#define WG_MEAN 3
#define WG_AMAX 4
#define WG_AMIN 5

struct half_t { uint16_t bits; };
struct bf16_t { uint16_t bits; };

__device__ inline float half_to_float(uint16_t h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}
// Round to nearest even; overflow gives infinity.
__device__ inline uint16_t float_to_half(float f) {
  uint16_t h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}
__device__ inline float bf16_to_float(uint16_t b) { return __uint_as_float(((unsigned int)b) << 16); }
// Round to nearest even; NaN stays NaN.
__device__ inline uint16_t float_to_bf16(float f) {
  const unsigned int x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

template <class A, class B> struct wg_same { static constexpr bool value = false; };
template <class A> struct wg_same<A, A> { static constexpr bool value = true; };

// The type an element computes in (float for 16-bit floats) and the
// conversions to and from it.
template <class T> struct elem {
  typedef T compute;
  static constexpr bool is_float = wg_same<T, float>::value || wg_same<T, double>::value;
  static constexpr bool is_bool = wg_same<T, bool>::value;
  __device__ static compute widen(T x) { return x; }
  __device__ static T narrow(compute x) { return x; }
};
template <> struct elem<half_t> {
  typedef float compute;
  static constexpr bool is_float = true;
  static constexpr bool is_bool = false;
  __device__ static float widen(half_t x) { return half_to_float(x.bits); }
  __device__ static half_t narrow(float x) { half_t h; h.bits = float_to_half(x); return h; }
};
template <> struct elem<bf16_t> {
  typedef float compute;
  static constexpr bool is_float = true;
  static constexpr bool is_bool = false;
  __device__ static float widen(bf16_t x) { return bf16_to_float(x.bits); }
  __device__ static bf16_t narrow(float x) { bf16_t h; h.bits = float_to_bf16(x); return h; }
};

// An element from the low bytes of `bits` (how the host passes scalars).
template <class T> __device__ inline T wg_from_bits(unsigned long long bits) {
  T v;
  memcpy(&v, &bits, sizeof(T));
  return v;
}
__device__ inline double wg_infinity() { return __longlong_as_double(0x7ff0000000000000ll); }

// double -> T: floats round, integers truncate (in range), bool is x != 0.
template <class T> __device__ inline T wg_from_double(double x) {
  if constexpr (elem<T>::is_bool) return x != 0;
  else return elem<T>::narrow((typename elem<T>::compute)x);
}

// a + b and a * b: integers wrap, bool is or / and, 16-bit floats compute in
// float and round.
template <class T> __device__ inline T wg_add(T a, T b) {
  if constexpr (elem<T>::is_bool) return a || b;
  else if constexpr (elem<T>::is_float) return elem<T>::narrow(elem<T>::widen(a) + elem<T>::widen(b));
  else return (T)((unsigned long long)a + (unsigned long long)b);
}
template <class T> __device__ inline T wg_mul(T a, T b) {
  if constexpr (elem<T>::is_bool) return a && b;
  else if constexpr (elem<T>::is_float) return elem<T>::narrow(elem<T>::widen(a) * elem<T>::widen(b));
  else return (T)((unsigned long long)a * (unsigned long long)b);
}
// max and min; a NaN always wins.
template <class T> __device__ inline T wg_maximum(T a, T b) {
  if constexpr (elem<T>::is_float) {
    const typename elem<T>::compute x = elem<T>::widen(a), y = elem<T>::widen(b);
    if (x != x) return a;
    if (y != y) return b;
    return x < y ? b : a;
  } else return a < b ? b : a;
}
template <class T> __device__ inline T wg_minimum(T a, T b) {
  if constexpr (elem<T>::is_float) {
    const typename elem<T>::compute x = elem<T>::widen(a), y = elem<T>::widen(b);
    if (x != x) return a;
    if (y != y) return b;
    return y < x ? b : a;
  } else return b < a ? b : a;
}
template <class T> __device__ inline T wg_lowest() {
  if constexpr (elem<T>::is_bool) return false;
  else if constexpr (elem<T>::is_float) return elem<T>::narrow((typename elem<T>::compute)(-wg_infinity()));
  else if constexpr ((T)-1 < (T)0) return (T)(1ull << (8 * sizeof(T) - 1));
  else return (T)0;
}
template <class T> __device__ inline T wg_highest() {
  if constexpr (elem<T>::is_bool) return true;
  else if constexpr (elem<T>::is_float) return elem<T>::narrow((typename elem<T>::compute)wg_infinity());
  else if constexpr ((T)-1 < (T)0) return (T)((1ull << (8 * sizeof(T) - 1)) - 1);
  else return (T)~0ull;
}
// What a reduction starts from when it does not include self.
template <class T> __device__ inline T wg_identity(long long reduce) {
  if (reduce == WG_PROD) {
    if constexpr (elem<T>::is_bool) return true;
    else return elem<T>::narrow((typename elem<T>::compute)1);
  }
  if (reduce == WG_AMAX) return wg_lowest<T>();
  if (reduce == WG_AMIN) return wg_highest<T>();
  return wg_from_bits<T>(0);
}
template <class T> __device__ inline T wg_combine(long long reduce, T a, T b) {
  switch (reduce) {
    case WG_SUM:
    case WG_MEAN: return wg_add(a, b);
    case WG_PROD: return wg_mul(a, b);
    case WG_AMAX: return wg_maximum(a, b);
    case WG_AMIN: return wg_minimum(a, b);
    default: return b;
  }
}
// sum / count as a mean: true division for floats, floor division for
// integers.
template <class T> __device__ inline T wg_divide(T sum, long long count) {
  if constexpr (elem<T>::is_bool) return sum;
  else if constexpr (elem<T>::is_float)
    return elem<T>::narrow(elem<T>::widen(sum) / (typename elem<T>::compute)count);
  else {
    const long long a = (long long)sum;
    long long q = a / count;
    if (a % count != 0 && ((a < 0) != (count < 0))) --q;
    return (T)q;
  }
}

// *p = combine(reduce, *p, v), atomically, for any element size: the
// hardware's atomics where they compute the same (sums of float, double,
// int32 and int64, which wrap alike; max and min of int32 and int64), else a
// compare-and-swap loop on the element, or on the aligned 32-bit word that
// holds a 1- or 2-byte element (allocations are 256-byte aligned, so the
// word lies inside the allocation).
template <class T> __device__ inline void wg_atomic_combine(T* p, T v, long long reduce) {
  const bool sum = reduce == WG_SUM || reduce == WG_MEAN;
  if constexpr (wg_same<T, float>::value || wg_same<T, double>::value) {
    if (sum) {
      atomicAdd(p, v);
      return;
    }
  } else if constexpr (wg_same<T, int32_t>::value) {
    if (sum) { atomicAdd((int*)p, (int)v); return; }
    if (reduce == WG_AMAX) { atomicMax((int*)p, (int)v); return; }
    if (reduce == WG_AMIN) { atomicMin((int*)p, (int)v); return; }
  } else if constexpr (wg_same<T, int64_t>::value) {
    if (sum) { atomicAdd((unsigned long long*)p, (unsigned long long)v); return; }
    if (reduce == WG_AMAX) { atomicMax((long long*)p, (long long)v); return; }
    if (reduce == WG_AMIN) { atomicMin((long long*)p, (long long)v); return; }
  }
  if constexpr (sizeof(T) == 8) {
    unsigned long long* word = (unsigned long long*)p;
    unsigned long long old = *word, assumed;
    do {
      assumed = old;
      T current;
      memcpy(&current, &assumed, 8);
      const T next = wg_combine(reduce, current, v);
      unsigned long long bits;
      memcpy(&bits, &next, 8);
      old = atomicCAS(word, assumed, bits);
    } while (old != assumed);
  } else if constexpr (sizeof(T) == 4) {
    unsigned int* word = (unsigned int*)p;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      T current;
      memcpy(&current, &assumed, 4);
      const T next = wg_combine(reduce, current, v);
      unsigned int bits;
      memcpy(&bits, &next, 4);
      old = atomicCAS(word, assumed, bits);
    } while (old != assumed);
  } else {
    const unsigned long long address = (unsigned long long)p;
    unsigned int* word = (unsigned int*)(address & ~3ull);
    const unsigned int shift = (unsigned int)(address & 3ull) * 8u;
    const unsigned int mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      const unsigned int lane = (assumed & mask) >> shift;
      T current;
      memcpy(&current, &lane, sizeof(T));
      const T next = wg_combine(reduce, current, v);
      unsigned int bits = 0;
      memcpy(&bits, &next, sizeof(T));
      old = atomicCAS(word, assumed, (assumed & ~mask) | ((bits << shift) & mask));
    } while (old != assumed);
  }
}

// A walk over a shape in row-major order with N strided views of it: for
// the i-th coordinate, offsets_of gives base[t] + sum of coordinate[d] *
// strides[t][d] for every view t. The host merges dimensions where it can.
template <int N> struct iteration {
  long long rank, numel;
  long long sizes[WG_MAX_RANK];
  long long strides[N][WG_MAX_RANK];
  long long base[N];
};
template <int N> __device__ inline void offsets_of(const iteration<N>& it, long long i, long long* off) {
  for (int t = 0; t < N; ++t) off[t] = it.base[t];
  for (int r = (int)it.rank - 1; r >= 0; --r) {
    const long long s = it.sizes[r];
    const long long c = i % s;
    i /= s;
    for (int t = 0; t < N; ++t) off[t] += c * it.strides[t][r];
  }
}

// An exclusive prefix sum over the block's threads (blockDim.x of them, a
// power of two); `buffer` holds blockDim.x values; `total` gets the sum.
__device__ inline long long wg_block_exclusive_scan(long long v, long long* buffer, long long* total) {
  const unsigned int t = threadIdx.x;
  buffer[t] = v;
  __syncthreads();
  for (unsigned int step = 1; step < blockDim.x; step <<= 1) {
    const long long add = t >= step ? buffer[t - step] : 0;
    __syncthreads();
    buffer[t] += add;
    __syncthreads();
  }
  const long long inclusive = buffer[t];
  *total = buffer[blockDim.x - 1];
  __syncthreads();
  return inclusive - v;
}
)cuda";

/// Copies between strided views (by element size), `out = beta * c` before
/// a cuBLAS product accumulates into it, integer matrix products, and
/// where.Scalar.
inline constexpr std::string_view dense_kernels = R"cuda(
#define WG_COPY(T, S)                                                                      \
  extern "C" __global__ void copy_##S(WG_PARAM iteration<2> it, T* dst, const T* src) {   \
    long long off[2];                                                                     \
    WG_FOR(i, it.numel) {                                                                 \
      offsets_of(it, i, off);                                                             \
      dst[off[0]] = src[off[1]];                                                          \
    }                                                                                     \
  }
WG_COPY(uint8_t, u8) WG_COPY(uint16_t, u16) WG_COPY(uint32_t, u32) WG_COPY(uint64_t, u64)

// out = beta * c (c broadcast through its strides), or 0 without c.
template <class T>
__device__ void scale_into(const iteration<2>& it, T* out, const T* c, double beta, long long use_c) {
  typedef typename elem<T>::compute C;
  long long off[2];
  WG_FOR(i, it.numel) {
    offsets_of(it, i, off);
    out[off[0]] = use_c ? elem<T>::narrow((C)beta * elem<T>::widen(c[off[1]])) : wg_from_bits<T>(0);
  }
}
#define WG_SCALE(T, S)                                                                                        \
  extern "C" __global__ void scale_##S(WG_PARAM iteration<2> it, T* out, const T* c, double beta, long long use_c) { \
    scale_into<T>(it, out, c, beta, use_c);                                                                   \
  }
WG_FLOAT_TYPES(WG_SCALE)

// An integer product, batched, every operand strided: out = alpha * (a @ b)
// + beta * c, accumulated modulo 2^64 and truncated as the CPU does.
struct gemm_params {
  long long batch, n, m, k;
  long long a_offset, a_batch, a_row, a_col;
  long long b_offset, b_batch, b_row, b_col;
  long long c_offset, c_row, c_col;
  long long out_offset, out_batch, out_row, out_col;
  long long alpha, beta, use_c;
};
template <class T>
__device__ void gemm_integer(const gemm_params& p, const T* a, const T* b, const T* c, T* out) {
  WG_FOR(e, p.batch * p.n * p.m) {
    const long long j = e % p.m, i = (e / p.m) % p.n, bi = e / (p.m * p.n);
    unsigned long long sum = 0;
    if (p.alpha != 0) {
      const T* x = a + p.a_offset + bi * p.a_batch + i * p.a_row;
      const T* y = b + p.b_offset + bi * p.b_batch + j * p.b_col;
      for (long long q = 0; q < p.k; ++q)
        sum += (unsigned long long)x[q * p.a_col] * (unsigned long long)y[q * p.b_row];
    }
    unsigned long long r = (unsigned long long)p.alpha * sum;
    if (p.use_c) r += (unsigned long long)p.beta * (unsigned long long)c[p.c_offset + i * p.c_row + j * p.c_col];
    out[p.out_offset + bi * p.out_batch + i * p.out_row + j * p.out_col] = (T)r;
  }
}
#define WG_GEMM(T, S)                                                                                     \
  extern "C" __global__ void gemm_##S(WG_PARAM gemm_params p, const T* a, const T* b, const T* c, T* out) { \
    gemm_integer<T>(p, a, b, c, out);                                                                     \
  }
WG_INT_TYPES(WG_GEMM)

// out (view 0) = condition (view 1) ? x : y, by the result's element size.
#define WG_WHERE(T, S)                                                                                  \
  extern "C" __global__ void where_##S(WG_PARAM iteration<2> it, T* out, const uint8_t* condition,       \
                                       unsigned long long x, unsigned long long y) {                     \
    long long off[2];                                                                                   \
    WG_FOR(i, it.numel) {                                                                               \
      offsets_of(it, i, off);                                                                           \
      out[off[0]] = condition[off[1]] ? (T)x : (T)y;                                                    \
    }                                                                                                   \
  }
WG_WHERE(uint8_t, u8) WG_WHERE(uint32_t, u32) WG_WHERE(uint64_t, u64)
)cuda";

/// topk and sort: one thread per element ranks it by counting the elements
/// of its slice that come before it (a total order: ascending or
/// descending, NaN the largest, ties by position), reading the slice through
/// shared memory in tiles of 256; ranks below k are written.
inline constexpr std::string_view sort_kernels = R"cuda(
#define WG_SORT_BLOCK 256

// Keys compare as int64 for integers and bool, as double for floats.
template <class T> struct sort_key {
  typedef long long type;
  __device__ static long long of(T x) { return (long long)x; }
};
template <> struct sort_key<float> {
  typedef double type;
  __device__ static double of(float x) { return (double)x; }
};
template <> struct sort_key<double> {
  typedef double type;
  __device__ static double of(double x) { return x; }
};
template <> struct sort_key<half_t> {
  typedef double type;
  __device__ static double of(half_t x) { return (double)half_to_float(x.bits); }
};
template <> struct sort_key<bf16_t> {
  typedef double type;
  __device__ static double of(bf16_t x) { return (double)bf16_to_float(x.bits); }
};
__device__ inline bool key_less(long long x, long long y) { return x < y; }
// NaN is larger than everything else.
__device__ inline bool key_less(double x, double y) {
  if (x != x) return false;
  if (y != y) return true;
  return x < y;
}

// Slices are the coordinates of `outer` (self, values and indices at each);
// each holds n elements `step` apart. Grid: x covers n, y the slices.
template <class T>
__device__ void rank_sort(const iteration<3>& outer, long long n, long long k, long long in_step, long long value_step,
                          long long index_step, long long descending, const T* src, T* values, long long* indices) {
  typedef typename sort_key<T>::type K;
  __shared__ K tile[WG_SORT_BLOCK];
  const long long i = (long long)blockIdx.x * WG_SORT_BLOCK + threadIdx.x;
  const bool active = i < n;
  for (long long s = blockIdx.y; s < outer.numel; s += gridDim.y) {
    long long base[3];
    offsets_of(outer, s, base);
    T x = wg_from_bits<T>(0);
    K key = 0;
    if (active) {
      x = src[base[0] + i * in_step];
      key = sort_key<T>::of(x);
    }
    long long rank = 0;
    for (long long j0 = 0; j0 < n; j0 += WG_SORT_BLOCK) {
      const long long j = j0 + threadIdx.x;
      if (j < n) tile[threadIdx.x] = sort_key<T>::of(src[base[0] + j * in_step]);
      __syncthreads();
      if (active) {
        const long long count = n - j0 < WG_SORT_BLOCK ? n - j0 : WG_SORT_BLOCK;
        for (long long t = 0; t < count; ++t) {
          const K other = tile[t];
          // Does element j0 + t come before element i?
          bool before;
          if (descending ? key_less(key, other) : key_less(other, key)) before = true;
          else if (descending ? key_less(other, key) : key_less(key, other)) before = false;
          else before = j0 + t < i;
          rank += before;
        }
      }
      __syncthreads();
    }
    if (active && rank < k) {
      values[base[1] + rank * value_step] = x;
      indices[base[2] + rank * index_step] = i;
    }
  }
}
#define WG_SORT(T, S)                                                                                        \
  extern "C" __global__ void sort_##S(WG_PARAM iteration<3> outer, long long n, long long k, long long in_step,  \
                                      long long value_step, long long index_step, long long descending,        \
                                      const T* src, T* values, long long* indices) {                           \
    rank_sort<T>(outer, n, k, in_step, value_step, index_step, descending, src, values, indices);              \
  }
WG_ALL_TYPES(WG_SORT)
)cuda";

/// nonzero in three steps: each block counts the nonzero elements of its
/// chunk of 4096 (row-major order), one block turns the counts into
/// starting rows (and the total, which the host reads), and each block
/// writes the coordinates of its chunk's nonzero elements from its start.
inline constexpr std::string_view nonzero_kernels = R"cuda(
#define WG_NZ_THREADS 256
#define WG_NZ_ROUNDS 16
#define WG_NZ_CHUNK (WG_NZ_THREADS * WG_NZ_ROUNDS)

// NaN is nonzero, -0.0 is zero.
template <class T> __device__ inline bool wg_nonzero(T x) {
  if constexpr (wg_same<T, half_t>::value || wg_same<T, bf16_t>::value) return (x.bits & 0x7fffu) != 0;
  else return x != 0;
}

template <class T> __device__ void nonzero_count(const iteration<1>& it, const T* p, long long* counts) {
  __shared__ long long buffer[WG_NZ_THREADS];
  const long long chunk = (long long)blockIdx.x * WG_NZ_CHUNK;
  long long count = 0;
  for (int r = 0; r < WG_NZ_ROUNDS; ++r) {
    const long long i = chunk + r * WG_NZ_THREADS + threadIdx.x;
    if (i < it.numel) {
      long long off;
      offsets_of(it, i, &off);
      count += wg_nonzero(p[off]);
    }
  }
  long long total;
  (void)wg_block_exclusive_scan(count, buffer, &total);
  if (threadIdx.x == 0) counts[blockIdx.x] = total;
}

template <class T>
__device__ void nonzero_write(const iteration<1>& it, const T* p, const long long* starts, long long* out) {
  __shared__ long long buffer[WG_NZ_THREADS];
  const long long chunk = (long long)blockIdx.x * WG_NZ_CHUNK;
  long long next = starts[blockIdx.x];
  for (int r = 0; r < WG_NZ_ROUNDS; ++r) {
    const long long i = chunk + r * WG_NZ_THREADS + threadIdx.x;
    long long flag = 0;
    if (i < it.numel) {
      long long off;
      offsets_of(it, i, &off);
      flag = wg_nonzero(p[off]);
    }
    long long total;
    const long long before = wg_block_exclusive_scan(flag, buffer, &total);
    if (flag) {
      const long long row = next + before;
      long long rest = i;
      for (int d = (int)it.rank - 1; d >= 0; --d) {
        out[row * it.rank + d] = rest % it.sizes[d];
        rest /= it.sizes[d];
      }
    }
    next += total;
  }
}

#define WG_NONZERO(T, S)                                                                                 \
  extern "C" __global__ void nonzero_count_##S(WG_PARAM iteration<1> it, const T* p, long long* counts) { \
    nonzero_count<T>(it, p, counts);                                                                     \
  }                                                                                                      \
  extern "C" __global__ void nonzero_write_##S(WG_PARAM iteration<1> it, const T* p, const long long* starts, \
                                               long long* out) {                                         \
    nonzero_write<T>(it, p, starts, out);                                                                \
  }
WG_ALL_TYPES(WG_NONZERO)

// One block of 1024 threads: counts[c] becomes the sum of counts before c;
// *total the sum of all.
extern "C" __global__ void nonzero_scan(long long* counts, long long chunks, long long* total) {
  __shared__ long long buffer[1024];
  const long long each = (chunks + blockDim.x - 1) / blockDim.x;
  const long long first = (long long)threadIdx.x * each;
  const long long last = first + each < chunks ? first + each : chunks;
  long long sum = 0;
  for (long long c = first; c < last; ++c) sum += counts[c];
  long long all;
  long long before = wg_block_exclusive_scan(sum, buffer, &all);
  for (long long c = first; c < last; ++c) {
    const long long x = counts[c];
    counts[c] = before;
    before += x;
  }
  if (threadIdx.x == 0) *total = all;
}
)cuda";

/// randint and randn from a counter-based generator: draw c of a seed is
/// SplitMix64's output function of seed + (c + 1) * 0x9e3779b97f4a7c15, so
/// every element's value depends only on the seed and its position in
/// row-major order.
inline constexpr std::string_view random_kernels = R"cuda(
__device__ inline unsigned long long wg_draw(unsigned long long seed, unsigned long long counter) {
  unsigned long long z = seed + (counter + 1ull) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// out (strided) = low + draw(i) mod range, for the i-th element in row-major order.
template <class T>
__device__ void randint_fill(const iteration<1>& it, T* out, long long low, unsigned long long range,
                             unsigned long long seed) {
  long long off;
  WG_FOR(i, it.numel) {
    offsets_of(it, i, &off);
    const long long x = (long long)((unsigned long long)low + wg_draw(seed, (unsigned long long)i) % range);
    if constexpr (elem<T>::is_float) out[off] = wg_from_double<T>((double)x);
    else if constexpr (elem<T>::is_bool) out[off] = x != 0;
    else out[off] = (T)x;
  }
}
#define WG_RANDINT(T, S)                                                                                 \
  extern "C" __global__ void randint_##S(WG_PARAM iteration<1> it, T* out, long long low,                \
                                         unsigned long long range, unsigned long long seed) {            \
    randint_fill<T>(it, out, low, range, seed);                                                          \
  }
WG_ALL_TYPES(WG_RANDINT)

// Box-Muller on pairs of 53-bit uniform doubles u1, u2 (draws 2p and 2p + 1):
// elements 2p and 2p + 1 of a contiguous out get sqrt(-2 ln(1 - u1)) times
// cos(2 pi u2) and sin(2 pi u2).
template <class T> __device__ void randn_fill(T* out, long long numel, unsigned long long seed) {
  WG_FOR(p, (numel + 1) / 2) {
    const double u1 = (double)(wg_draw(seed, 2ull * p) >> 11) * 0x1.0p-53;
    const double u2 = (double)(wg_draw(seed, 2ull * p + 1ull) >> 11) * 0x1.0p-53;
    const double r = sqrt(-2.0 * log(1.0 - u1));
    double s, c;
    sincospi(2.0 * u2, &s, &c);
    out[2 * p] = wg_from_double<T>(r * c);
    if (2 * p + 1 < numel) out[2 * p + 1] = wg_from_double<T>(r * s);
  }
}
#define WG_RANDN(T, S)                                                                                 \
  extern "C" __global__ void randn_##S(T* out, long long numel, unsigned long long seed) {             \
    randn_fill<T>(out, numel, seed);                                                                   \
  }
WG_FLOAT_TYPES(WG_RANDN)
)cuda";

/// scatter_ and scatter_reduce_. The walk is over the index's shape with
/// four views: the index, self with the scatter dimension's stride 0 (the
/// index supplies it), src (or nothing) and the target's position in a
/// scratch array (also with the scatter dimension left to the index).
/// Assignments write only from the last position (in row-major order) that
/// targets an element, found with atomicMax; reductions combine atomically;
/// means count per target and divide in a last pass.
inline constexpr std::string_view scatter_kernels = R"cuda(
// *first_bad = the least row-major position of an index outside [lo, hi).
extern "C" __global__ void index_check(WG_PARAM iteration<1> it, const long long* index, long long lo, long long hi,
                                       unsigned long long* first_bad) {
  long long off;
  WG_FOR(p, it.numel) {
    offsets_of(it, p, &off);
    const long long v = index[off];
    if (v < lo || v >= hi) atomicMin(first_bad, (unsigned long long)p);
  }
}

extern "C" __global__ void scatter_claim(WG_PARAM iteration<4> it, const long long* index, long long dim_target,
                                         long long* winner) {
  long long off[4];
  WG_FOR(p, it.numel) {
    offsets_of(it, p, off);
    atomicMax(winner + off[3] + index[off[0]] * dim_target, p);
  }
}

template <class T>
__device__ void scatter_assign(const iteration<4>& it, const long long* index, long long dim_stride, long long dim_target,
                               const long long* winner, T* self, const T* src, unsigned long long scalar) {
  long long off[4];
  WG_FOR(p, it.numel) {
    offsets_of(it, p, off);
    const long long v = index[off[0]];
    if (winner && winner[off[3] + v * dim_target] != p) continue;
    self[off[1] + v * dim_stride] = src ? src[off[2]] : wg_from_bits<T>(scalar);
  }
}

template <class T>
__device__ void scatter_identity(const iteration<4>& it, const long long* index, long long dim_stride, T* self,
                                 long long reduce) {
  long long off[4];
  WG_FOR(p, it.numel) {
    offsets_of(it, p, off);
    self[off[1] + index[off[0]] * dim_stride] = wg_identity<T>(reduce);
  }
}

template <class T>
__device__ void scatter_combine(const iteration<4>& it, const long long* index, long long dim_stride, long long dim_target,
                                T* self, const T* src, unsigned long long scalar, long long reduce,
                                unsigned long long* counts) {
  long long off[4];
  WG_FOR(p, it.numel) {
    offsets_of(it, p, off);
    const long long v = index[off[0]];
    wg_atomic_combine(self + off[1] + v * dim_stride, src ? src[off[2]] : wg_from_bits<T>(scalar), reduce);
    if (counts) atomicAdd(counts + off[3] + v * dim_target, 1ull);
  }
}

// Over the target shape: self (view 0) = self / (count + include_self)
// where the count (view 1) is not 0.
template <class T>
__device__ void scatter_mean(const iteration<2>& it, T* self, const unsigned long long* counts, long long include_self) {
  long long off[2];
  WG_FOR(i, it.numel) {
    offsets_of(it, i, off);
    const unsigned long long c = counts[off[1]];
    if (c != 0) self[off[0]] = wg_divide(self[off[0]], (long long)c + include_self);
  }
}

#define WG_SCATTER(T, S)                                                                                          \
  extern "C" __global__ void scatter_assign_##S(WG_PARAM iteration<4> it, const long long* index,                  \
                                                long long dim_stride, long long dim_target, const long long* winner, \
                                                T* self, const T* src, unsigned long long scalar) {                \
    scatter_assign<T>(it, index, dim_stride, dim_target, winner, self, src, scalar);                              \
  }                                                                                                               \
  extern "C" __global__ void scatter_identity_##S(WG_PARAM iteration<4> it, const long long* index,                \
                                                  long long dim_stride, T* self, long long reduce) {              \
    scatter_identity<T>(it, index, dim_stride, self, reduce);                                                     \
  }                                                                                                               \
  extern "C" __global__ void scatter_combine_##S(WG_PARAM iteration<4> it, const long long* index,                 \
                                                 long long dim_stride, long long dim_target, T* self, const T* src, \
                                                 unsigned long long scalar, long long reduce,                      \
                                                 unsigned long long* counts) {                                     \
    scatter_combine<T>(it, index, dim_stride, dim_target, self, src, scalar, reduce, counts);                     \
  }                                                                                                               \
  extern "C" __global__ void scatter_mean_##S(WG_PARAM iteration<2> it, T* self, const unsigned long long* counts,  \
                                              long long include_self) {                                           \
    scatter_mean<T>(it, self, counts, include_self);                                                              \
  }
WG_ALL_TYPES(WG_SCATTER)
)cuda";

/// index_put. The host has grouped the positions of the indices' broadcast
/// shape by the element of self they select (in row-major order within a
/// group); the walk is over the indexed shape with the broadcast
/// dimensions replaced by one dimension of groups, and each thread writes
/// one element of self: the value of the group's last position, or the
/// sum of self and every value in order. No two threads write the same
/// element, so the result is the CPU's, bit for bit.
inline constexpr std::string_view index_put_kernels = R"cuda(
// Views: 0 values, 1 self, 2 the group. Group g holds members[starts[g]] to
// members[starts[g + 1] - 1]; member position q adds self_offsets[q] to
// self's offset and value_offsets[q] to the values'.
template <class T>
__device__ void index_put(const iteration<3>& it, const long long* starts, const long long* members,
                          const long long* self_offsets, const long long* value_offsets, T* self, const T* values,
                          long long accumulate) {
  long long off[3];
  WG_FOR(i, it.numel) {
    offsets_of(it, i, off);
    const long long first = starts[off[2]], end = starts[off[2] + 1];
    const long long to = off[1] + self_offsets[members[first]];
    if (accumulate) {
      T x = self[to];
      for (long long q = first; q < end; ++q) x = wg_add(x, values[off[0] + value_offsets[members[q]]]);
      self[to] = x;
    } else {
      self[to] = values[off[0] + value_offsets[members[end - 1]]];
    }
  }
}
#define WG_INDEX_PUT(T, S)                                                                                      \
  extern "C" __global__ void index_put_##S(WG_PARAM iteration<3> it, const long long* starts,                    \
                                           const long long* members, const long long* self_offsets,             \
                                           const long long* value_offsets, T* self, const T* values,            \
                                           long long accumulate) {                                              \
    index_put<T>(it, starts, members, self_offsets, value_offsets, self, values, accumulate);                   \
  }
WG_ALL_TYPES(WG_INDEX_PUT)
)cuda";

/// A module of the built-in operators' kernels: its name (how the device
/// keeps it, and NVRTC's file name) and its own kernels.
struct operator_module {
  std::string_view name;
  std::string_view kernels;
};

/// The modules, in the order of `module_id`.
inline constexpr std::array<operator_module, 6> operator_modules{{
    {"wrapgraph-operators-dense", dense_kernels},
    {"wrapgraph-operators-sort", sort_kernels},
    {"wrapgraph-operators-nonzero", nonzero_kernels},
    {"wrapgraph-operators-random", random_kernels},
    {"wrapgraph-operators-scatter", scatter_kernels},
    {"wrapgraph-operators-index_put", index_put_kernels},
}};

enum class module_id : std::size_t { dense, sort, nonzero, random, scatter, index_put };

/// The whole source NVRTC compiles for module `i`: the common part, then
/// the module's kernels.
[[nodiscard]] inline const std::string& operator_module_source(std::size_t i) {
  static const std::array<std::string, operator_modules.size()> sources = [] {
    std::array<std::string, operator_modules.size()> s;
    for (std::size_t m = 0; m < s.size(); ++m)
      s[m] = std::string(operator_kernels_common) + std::string(operator_modules[m].kernels);
    return s;
  }();
  return sources.at(i);
}

}  // namespace detail

// Other headers of backend/cuda have functions of their own in `detail`;
// these live apart from them.
namespace detail::builtin {

namespace ops = cpu::detail::builtin;
using exec::extents;
using exec::op_arguments;
using exec::op_context;
using exec::tensor;
using exec::value;
using exec::value_list;

// ---- the device and its tensors ---------------------------------------------------

/// The resources of the device `ctx.memory` belongs to, its context made
/// current on this thread.
[[nodiscard]] inline const device_resources& resources_of(const op_arguments& a, op_context& ctx) {
  if (ctx.memory.dev().kind != device_kind::cuda)
    a.fail("wrapgraph.operator.device_mismatch",
           "the operator runs on CUDA, but its memory is on " + to_string(ctx.memory.dev()));
  const device_resources& r = static_cast<cuda_memory&>(ctx.memory).resources();
  r.ctx.make_current();
  return r;
}

inline void require_device(const op_arguments& a, const tensor& t, std::string_view name, device dev) {
  if (t.dev() != dev)
    a.fail("wrapgraph.operator.device_mismatch",
           "'" + std::string(name) + "' is on " + to_string(t.dev()) + ", the operator runs on " + to_string(dev));
}

/// A tensor argument on `dev`, positional or by keyword.
[[nodiscard]] inline const tensor& device_tensor(const op_arguments& a, std::size_t index, std::string_view name,
                                                 device dev) {
  const tensor& t = a.get_tensor(index, name);
  require_device(a, t, name, dev);
  return t;
}

/// A keyword-only tensor argument on `dev` (`out`).
[[nodiscard]] inline const tensor& keyword_tensor(const op_arguments& a, std::string_view name, device dev) {
  const value* v = a.kwarg(name);
  if (!v) a.fail("wrapgraph.operator.missing_argument", "keyword argument '" + std::string(name) + "' was not passed");
  const tensor* t = v->as_tensor();
  if (!t || !t->defined())
    a.fail("wrapgraph.operator.bad_argument",
           "keyword argument '" + std::string(name) + "' must be a tensor, got " + v->kind_name());
  require_device(a, *t, name, dev);
  return *t;
}

/// The storage of `t` (element 0 of the storage, not of the view): kernels
/// take it with offsets in elements.
[[nodiscard]] inline void* base_of(const tensor& t) noexcept { return t.storage() ? t.storage()->data() : nullptr; }

/// A new contiguous tensor of the device's memory (exec::empty_strided with
/// row-major strides).
[[nodiscard]] inline tensor allocate(op_context& ctx, dtype type, extents sizes) {
  return exec::empty(ctx.memory, type, std::move(sizes));
}

/// Copies `bytes` from the device to the host and waits for them.
inline void read_back(const device_resources& r, void* host, const void* device_address, std::size_t bytes) {
  if (bytes == 0) return;
  check(api::driver().cuMemcpyDtoHAsync(host, reinterpret_cast<api::CUdeviceptr>(device_address), bytes, r.work.get()),
        "copying an operator's data to the host");
  r.work.synchronize();
}

/// Fills `bytes` of device memory with the byte `v`, in stream order.
inline void fill_bytes(const device_resources& r, void* device_address, unsigned char v, std::size_t bytes) {
  if (bytes == 0) return;
  check(api::driver().cuMemsetD8Async(reinterpret_cast<api::CUdeviceptr>(device_address), v, bytes, r.work.get()),
        "filling operator scratch memory");
}

/// A host tensor with the layout of device tensor `t` and its elements
/// (the span of storage the view reaches is copied; the stream is waited for).
[[nodiscard]] inline tensor to_host(const device_resources& r, const tensor& t) {
  const auto host = std::make_shared<exec::host_memory>();
  if (t.numel() == 0) return exec::empty(*host, t.type(), t.sizes());
  std::int64_t lo = t.offset(), hi = t.offset();
  for (std::size_t d = 0; d < t.sizes().size(); ++d) {
    const std::int64_t reach = (t.sizes()[d] - 1) * t.strides()[d];
    (reach < 0 ? lo : hi) += reach;
  }
  const std::size_t es = t.element_size();
  const std::size_t bytes = static_cast<std::size_t>(hi - lo + 1) * es;
  exec::storage_ptr s = host->allocate(bytes);
  read_back(r, s->data(), static_cast<const char*>(base_of(t)) + static_cast<std::size_t>(lo) * es, bytes);
  return tensor(std::move(s), t.type(), t.sizes(), t.strides(), t.offset() - lo);
}

// ---- kernels ----------------------------------------------------------------------

/// The suffix of a dtype's instance of a kernel.
[[nodiscard]] inline std::string_view suffix_of(dtype t) noexcept {
  switch (t) {
    case dtype::bool_: return "b8";
    case dtype::int8: return "i8";
    case dtype::uint8: return "u8";
    case dtype::int16: return "i16";
    case dtype::int32: return "i32";
    case dtype::int64: return "i64";
    case dtype::float16: return "f16";
    case dtype::bfloat16: return "bf16";
    case dtype::float32: return "f32";
    case dtype::float64: return "f64";
  }
  return "f32";
}

/// The suffix of the unsigned type as wide as `t`'s elements.
[[nodiscard]] inline std::string_view bits_suffix_of(dtype t) noexcept {
  switch (size_of(t)) {
    case 1: return "u8";
    case 2: return "u16";
    case 4: return "u32";
    default: return "u64";
  }
}

/// Kernel `entry` of module `m`, compiled on first use on this device.
[[nodiscard]] inline function kernel(const device_resources& r, module_id m, std::string_view entry) {
  const auto i = static_cast<std::size_t>(m);
  return r.builtin_function(operator_modules[i].name, operator_module_source(i), std::string(entry));
}
/// The instance of kernel `entry` for dtype `t`.
[[nodiscard]] inline function kernel(const device_resources& r, module_id m, std::string_view entry, dtype t) {
  return kernel(r, m, std::string(entry) + "_" + std::string(suffix_of(t)));
}

inline constexpr unsigned threads_per_block = 256;

/// Launches `f` with enough blocks of 256 threads for `threads` threads
/// (grid-stride loops cover the rest beyond 2^20 blocks); nothing for none.
template <class... Args>
void launch_over(const device_resources& r, const function& f, std::int64_t threads, const Args&... args) {
  if (threads <= 0) return;
  const std::int64_t blocks =
      std::min<std::int64_t>((threads + threads_per_block - 1) / threads_per_block, std::int64_t{1} << 20);
  launch(f, dims{static_cast<unsigned>(blocks), 1, 1}, dims{threads_per_block, 1, 1}, 0, r.work.get(), args...);
}

/// The most dimensions a walk can have after merging (kernels' WG_MAX_RANK).
inline constexpr std::size_t max_rank = 25;

/// The kernels' `iteration<N>`: a shape walked in row-major order with N
/// strided views of it, all in elements.
template <std::size_t N>
struct iteration {
  std::int64_t rank = 0, numel = 0;
  std::int64_t sizes[max_rank] = {};
  std::int64_t strides[N][max_rank] = {};
  std::int64_t base[N] = {};
};
static_assert(std::is_trivially_copyable_v<iteration<4>> && sizeof(iteration<4>) == (2 + 25 + 4 * 25 + 4) * 8);

/// The walk over `sizes` with views of `strides` (each `sizes.size()`
/// long) from `base`. With `merge`, dimensions of size 1 are dropped and
/// neighbours that every view steps through evenly are merged (the
/// row-major order of the elements stays the same); without, the kernel
/// sees the dimensions as they are (nonzero needs them for coordinates).
template <std::size_t N>
[[nodiscard]] iteration<N> make_iteration(const op_arguments& a, std::span<const std::int64_t> sizes,
                                          const std::array<const std::int64_t*, N>& strides,
                                          const std::array<std::int64_t, N>& base, bool merge = true) {
  iteration<N> it;
  for (std::size_t t = 0; t < N; ++t) it.base[t] = base[t];
  it.numel = 1;
  for (std::int64_t s : sizes) it.numel *= s;
  if (it.numel == 0) return it;
  std::vector<std::int64_t> kept_sizes;
  std::vector<std::array<std::int64_t, N>> kept_strides;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    std::array<std::int64_t, N> st;
    for (std::size_t t = 0; t < N; ++t) st[t] = strides[t][d];
    if (merge && sizes[d] == 1) continue;
    if (merge && !kept_sizes.empty()) {
      bool even = true;
      for (std::size_t t = 0; t < N; ++t) even = even && kept_strides.back()[t] == st[t] * sizes[d];
      if (even) {
        kept_sizes.back() *= sizes[d];
        kept_strides.back() = st;
        continue;
      }
    }
    kept_sizes.push_back(sizes[d]);
    kept_strides.push_back(st);
  }
  if (kept_sizes.size() > max_rank)
    a.fail("wrapgraph.operator.bad_argument", "a tensor layout of " + std::to_string(kept_sizes.size()) +
                                                  " dimensions that cannot be merged; CUDA operators take at most " +
                                                  std::to_string(max_rank));
  it.rank = static_cast<std::int64_t>(kept_sizes.size());
  for (std::size_t d = 0; d < kept_sizes.size(); ++d) {
    it.sizes[d] = kept_sizes[d];
    for (std::size_t t = 0; t < N; ++t) it.strides[t][d] = kept_strides[d][t];
  }
  return it;
}

/// The bits of a host element in the low bytes of a 64-bit word (how
/// kernels take scalars).
template <class T>
[[nodiscard]] std::uint64_t bits_of(T x) noexcept {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof(T));
  return bits;
}

/// A copy of the strided elements of `src` into `dst` (same dtype; `dst` of
/// `sizes` and `dst_strides` from `dst_offset` in `dst_base`).
inline void copy_strided(const op_arguments& a, const device_resources& r, dtype type, std::span<const std::int64_t> sizes,
                         void* dst_base, std::span<const std::int64_t> dst_strides, std::int64_t dst_offset,
                         const void* src_base, std::span<const std::int64_t> src_strides, std::int64_t src_offset) {
  const iteration<2> it = make_iteration<2>(a, sizes, {dst_strides.data(), src_strides.data()}, {dst_offset, src_offset});
  if (it.numel == 0) return;
  launch_over(r, kernel(r, module_id::dense, "copy_" + std::string(bits_suffix_of(type))), it.numel, it, dst_base,
              src_base);
}

/// Where an index kernel found its first out-of-range value: the value of
/// the index at the least row-major position outside [lo, hi), or none.
/// Reads one word back (the stream is waited for).
[[nodiscard]] inline std::optional<std::int64_t> first_bad_index(op_context& ctx, const op_arguments& a,
                                                                 const device_resources& r, const tensor& index,
                                                                 std::int64_t lo, std::int64_t hi) {
  const ops::rank1_layout ix(index);
  const iteration<1> it = make_iteration<1>(a, {ix.sizes.data(), ix.sizes.size()}, {ix.strides.data()}, {index.offset()});
  if (it.numel == 0) return std::nullopt;
  const tensor found = allocate(ctx, dtype::int64, {1});
  fill_bytes(r, found.data(), 0xff, 8);
  launch_over(r, kernel(r, module_id::scatter, "index_check"), it.numel, it, base_of(index), lo, hi, found.data());
  std::uint64_t position = 0;
  read_back(r, &position, found.data(), sizeof position);
  if (position == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  // The element at that row-major position.
  auto rest = static_cast<std::int64_t>(position);
  std::int64_t at = index.offset();
  for (std::size_t d = ix.sizes.size(); d-- > 0;) {
    at += (rest % ix.sizes[d]) * ix.strides[d];
    rest /= ix.sizes[d];
  }
  std::int64_t v = 0;
  read_back(r, &v, static_cast<const std::int64_t*>(base_of(index)) + at, sizeof v);
  return v;
}

// ---- matrix products ------------------------------------------------------------

/// How cuBLAS can read a strided rows × cols matrix as column-major
/// storage: `row_major` when its columns are adjacent (the storage is then
/// the transpose, `row_ld` apart), `col_major` when its rows are (the
/// storage is the matrix, `col_ld` apart). Neither: it overlaps itself, is
/// reversed or has both strides above 1.
struct matrix_form {
  bool row_major = false, col_major = false;
  std::int64_t row_ld = 1, col_ld = 1;
};

[[nodiscard]] inline matrix_form form_of(std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                                         std::int64_t col_stride) noexcept {
  const auto fits = [](std::int64_t x) { return x <= std::numeric_limits<int>::max(); };
  matrix_form f;
  f.row_ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : row_stride;
  f.row_major = (cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= std::max<std::int64_t>(cols, 1)) &&
                fits(f.row_ld);
  f.col_ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : col_stride;
  f.col_major = (rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= std::max<std::int64_t>(rows, 1)) &&
                fits(f.col_ld);
  return f;
}

/// A matrix operand (or a batch of them) as cuBLAS reads it.
struct blas_operand {
  const void* data = nullptr;
  int op = api::CUBLAS_OP_N;
  std::int64_t ld = 1, batch_stride = 0;
  tensor temporary;  // a contiguous copy, when cuBLAS cannot read the view
};

/// The matrices of `t` (its last two dimensions; dimension 0 is the batch
/// when `batched`) for cuBLAS, which reads column-major storage: the
/// matrix's transpose when `transposed`, else the matrix. A view cuBLAS
/// cannot read is copied into a contiguous temporary first (one matrix
/// when the batch is broadcast).
[[nodiscard]] inline blas_operand operand_of(op_context& ctx, const op_arguments& a, const device_resources& r,
                                             const tensor& t, bool batched, bool transposed) {
  const std::size_t first = batched ? 1 : 0;
  const std::int64_t rows = t.sizes()[first], cols = t.sizes()[first + 1];
  const std::int64_t row_stride = t.strides()[first], col_stride = t.strides()[first + 1];
  const std::int64_t batch = batched ? t.sizes()[0] : 1;
  const std::int64_t batch_stride = batch > 1 ? t.strides()[0] : 0;
  const matrix_form f = form_of(rows, cols, row_stride, col_stride);
  blas_operand o;
  if (batch_stride >= 0 && (f.row_major || f.col_major)) {
    o.data = static_cast<const char*>(base_of(t)) + static_cast<std::size_t>(t.offset()) * t.element_size();
    o.op = f.row_major == transposed ? api::CUBLAS_OP_N : api::CUBLAS_OP_T;
    o.ld = f.row_major ? f.row_ld : f.col_ld;
    o.batch_stride = batch_stride;
    return o;
  }
  const std::int64_t copies = batch_stride == 0 ? 1 : batch;
  o.temporary = allocate(ctx, t.type(), {copies, rows, cols});
  const std::array<std::int64_t, 3> sizes{copies, rows, cols};
  const std::array<std::int64_t, 3> from{batch_stride, row_stride, col_stride};
  copy_strided(a, r, t.type(), sizes, base_of(o.temporary),
               {o.temporary.strides().data(), o.temporary.strides().size()}, 0, base_of(t), from, t.offset());
  o.data = base_of(o.temporary);
  o.op = transposed ? api::CUBLAS_OP_N : api::CUBLAS_OP_T;  // row-major
  o.ld = std::max<std::int64_t>(cols, 1);
  o.batch_stride = copies == 1 ? 0 : rows * cols;
  return o;
}

/// The kernels' `gemm_params`: an integer product's sizes, strides and
/// offsets (in elements) and scalars.
struct gemm_params {
  std::int64_t batch, n, m, k;
  std::int64_t a_offset, a_batch, a_row, a_col;
  std::int64_t b_offset, b_batch, b_row, b_col;
  std::int64_t c_offset, c_row, c_col;
  std::int64_t out_offset, out_batch, out_row, out_col;
  std::int64_t alpha, beta, use_c;
};

/// out = beta * c (c broadcast to out by `c_strides`), or zeros without
/// c, over out's whole shape.
inline void scale_into(const op_arguments& a, const device_resources& r, const tensor& out, const tensor* c,
                       std::span<const std::int64_t> c_strides, double beta) {
  const extents zeros(out.sizes().size(), 0);
  const std::int64_t* from = c ? c_strides.data() : zeros.data();
  const iteration<2> it = make_iteration<2>(a, {out.sizes().data(), out.sizes().size()}, {out.strides().data(), from},
                                            {out.offset(), c ? c->offset() : 0});
  launch_over(r, kernel(r, module_id::dense, "scale", out.type()), it.numel, it, base_of(out),
              static_cast<const void*>(c ? base_of(*c) : nullptr), beta, std::int64_t{c != nullptr});
}

/// mm, addmm (with `self`) and bmm (`batched`): the CPU's checks, then
/// integers by a kernel of their own and floats by cuBLAS
/// (cublasGemmStridedBatchedEx: float32 with FP32 compute, no TF32;
/// float64 with FP64; float16 and bfloat16 with FP32 compute). cuBLAS is
/// column-major, so a row-major out gets out^T = mat2^T @ mat1^T and a
/// column-major one out = mat1 @ mat2; an out it cannot write is computed
/// into a contiguous temporary and copied. With `self`, out first gets
/// beta * self and the product is added with beta = 1.
inline value matmul(op_context& ctx, const op_arguments& a, const device_resources& r, const tensor& mat1,
                    const tensor& mat2, const tensor* self, const tensor& out, const ops::gemm_scalars& s,
                    bool batched) {
  const ops::matmul_shape shape = ops::check_matmul(a, mat1, mat2, self, out, batched);
  const std::size_t first = batched ? 1 : 0;
  const std::int64_t batch = shape.batch, n = shape.n, k = shape.k, m = shape.m;
  const std::optional<extents>& c_strides = shape.self_strides;
  if (batch == 0 || n == 0 || m == 0) return out;
  const dtype type = out.type();
  const std::size_t o = batched ? 1 : 0;  // out's first matrix dimension

  if (!is_floating_point(type)) {
    const bool use_c = self != nullptr && s.int_beta != 0;
    const gemm_params p{batch,
                        n,
                        m,
                        k,
                        mat1.offset(),
                        batched ? mat1.strides()[0] : 0,
                        mat1.strides()[first],
                        mat1.strides()[first + 1],
                        mat2.offset(),
                        batched ? mat2.strides()[0] : 0,
                        mat2.strides()[first],
                        mat2.strides()[first + 1],
                        self ? self->offset() : 0,
                        self ? (*c_strides)[0] : 0,
                        self ? (*c_strides)[1] : 0,
                        out.offset(),
                        batched ? out.strides()[0] : 0,
                        out.strides()[o],
                        out.strides()[o + 1],
                        s.int_alpha,
                        s.int_beta,
                        use_c ? 1 : 0};
    launch_over(r, kernel(r, module_id::dense, "gemm", type), batch * n * m, p, static_cast<const void*>(base_of(mat1)),
                static_cast<const void*>(base_of(mat2)), static_cast<const void*>(self ? base_of(*self) : nullptr),
                base_of(out));
    return out;
  }

  const bool use_c = self != nullptr && s.beta != 0;
  const std::span<const std::int64_t> c_span = c_strides ? std::span<const std::int64_t>(c_strides->data(), c_strides->size())
                                                         : std::span<const std::int64_t>();
  if (k == 0 || s.alpha == 0) {  // no product: out = beta * self, or zeros
    scale_into(a, r, out, use_c ? self : nullptr, c_span, s.beta);
    return out;
  }
  constexpr auto int_max = static_cast<std::int64_t>(std::numeric_limits<int>::max());
  if (n > int_max || m > int_max || k > int_max || batch > int_max)
    throw cuda_error("wrapgraph.cuda.cublas", std::string(a.op()) + ": a product of " + std::to_string(batch) + " x " +
                                                  std::to_string(n) + "x" + std::to_string(k) + " and " +
                                                  std::to_string(k) + "x" + std::to_string(m) +
                                                  " matrices exceeds cuBLAS's 32-bit sizes");

  // Where cuBLAS writes: out itself, or a contiguous temporary.
  const matrix_form of = form_of(n, m, out.strides()[o], out.strides()[o + 1]);
  const std::int64_t out_batch_stride = batch > 1 ? out.strides()[0] : 0;
  const bool direct = (batch == 1 || out_batch_stride > 0) && (of.row_major || of.col_major);
  tensor c = out;
  bool transposed = true;  // cuBLAS computes out^T (out row-major) rather than out
  std::int64_t ldc = std::max<std::int64_t>(m, 1), c_batch_stride = n * m;
  if (direct) {
    transposed = of.row_major;
    ldc = of.row_major ? of.row_ld : of.col_ld;
    c_batch_stride = out_batch_stride;
  } else {
    c = allocate(ctx, type, out.sizes());
  }
  if (use_c) scale_into(a, r, c, self, c_span, s.beta);

  const blas_operand x = operand_of(ctx, a, r, transposed ? mat2 : mat1, batched, transposed);
  const blas_operand y = operand_of(ctx, a, r, transposed ? mat1 : mat2, batched, transposed);
  int data_type = api::CUDA_R_32F, compute = api::CUBLAS_COMPUTE_32F;
  if (type == dtype::float64) {
    data_type = api::CUDA_R_64F;
    compute = api::CUBLAS_COMPUTE_64F;
  } else if (type == dtype::float16) {
    data_type = api::CUDA_R_16F;
  } else if (type == dtype::bfloat16) {
    data_type = api::CUDA_R_16BF;
  }
  const double alpha64 = s.alpha, beta64 = use_c ? 1.0 : 0.0;
  const float alpha32 = static_cast<float>(s.alpha), beta32 = static_cast<float>(beta64);
  const bool wide = type == dtype::float64;
  void* c_data = static_cast<char*>(base_of(c)) + static_cast<std::size_t>(c.offset()) * c.element_size();
  check_cublas(api::cublas().cublasGemmStridedBatchedEx(
                   r.cublas(), x.op, y.op, static_cast<int>(transposed ? m : n), static_cast<int>(transposed ? n : m),
                   static_cast<int>(k), wide ? static_cast<const void*>(&alpha64) : static_cast<const void*>(&alpha32),
                   x.data, data_type, static_cast<int>(x.ld), x.batch_stride, y.data, data_type, static_cast<int>(y.ld),
                   y.batch_stride, wide ? static_cast<const void*>(&beta64) : static_cast<const void*>(&beta32), c_data,
                   data_type, static_cast<int>(ldc), c_batch_stride, static_cast<int>(batch), compute,
                   api::CUBLAS_GEMM_DEFAULT),
               std::string(a.op()) + ": cublasGemmStridedBatchedEx");
  if (!direct)
    copy_strided(a, r, type, {out.sizes().data(), out.sizes().size()}, base_of(out),
                 {out.strides().data(), out.strides().size()}, out.offset(), base_of(c),
                 {c.strides().data(), c.strides().size()}, 0);
  return out;
}

// mm.out and bmm.out: self @ mat2 into out, one matrix or a batch of them.
inline value product_out(op_context& ctx, const op_arguments& a, bool batched) {
  ops::check_call(a, {"self", "mat2"}, {"out"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const tensor& mat2 = device_tensor(a, 1, "mat2", dev);
  const tensor& out = keyword_tensor(a, "out", dev);
  ops::check_matmul_dtypes(a, {{&self, "self"}, {&mat2, "mat2"}, {&out, "out"}});
  return matmul(ctx, a, r, self, mat2, nullptr, out, ops::gemm_scalars{}, batched);
}

inline value mm_out(op_context& ctx, const op_arguments& a) { return product_out(ctx, a, false); }

inline value addmm_out(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "mat1", "mat2"}, {"beta", "alpha", "out"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const tensor& mat1 = device_tensor(a, 1, "mat1", dev);
  const tensor& mat2 = device_tensor(a, 2, "mat2", dev);
  const tensor& out = keyword_tensor(a, "out", dev);
  ops::check_matmul_dtypes(a, {{&mat1, "mat1"}, {&mat2, "mat2"}, {&self, "self"}, {&out, "out"}});
  const ops::gemm_scalars s = ops::gemm_scalars_of(a, mat1.type(), a.kwarg("alpha"), a.kwarg("beta"));
  return matmul(ctx, a, r, mat1, mat2, &self, out, s, false);
}

inline value bmm_out(op_context& ctx, const op_arguments& a) { return product_out(ctx, a, true); }

// ---- topk and sort --------------------------------------------------------------

/// The first `k` elements of each slice along `dim` in the CPU's order
/// (ascending or descending, NaN the largest, equal keys by position), as
/// values and int64 indices: sort_<dtype> ranks every element of a slice by
/// counting those before it, in O(n^2) comparisons per slice.
inline value_list select_sorted(op_context& ctx, const op_arguments& a, const device_resources& r, const tensor& self,
                                std::int64_t dim, std::int64_t k, bool descending) {
  const ops::rank1_layout in(self);
  const auto d = static_cast<std::size_t>(dim);
  const std::int64_t n = in.sizes[d];
  extents result_sizes = self.sizes();
  if (!result_sizes.empty()) result_sizes[d] = k;
  tensor values = allocate(ctx, self.type(), result_sizes);
  tensor indices = allocate(ctx, dtype::int64, result_sizes);
  const ops::rank1_layout vo(values), io(indices);
  extents outer = in.sizes;
  outer[d] = 1;
  for (std::int64_t s : in.sizes)
    if (s == 0) return {values, indices};
  if (k == 0) return {values, indices};
  const iteration<3> it = make_iteration<3>(a, {outer.data(), outer.size()},
                                            {in.strides.data(), vo.strides.data(), io.strides.data()},
                                            {self.offset(), values.offset(), indices.offset()});
  constexpr std::int64_t block = 256;  // the kernels' WG_SORT_BLOCK
  const dims grid{static_cast<unsigned>((n + block - 1) / block),
                  static_cast<unsigned>(std::min<std::int64_t>(it.numel, 65535)), 1};
  launch(kernel(r, module_id::sort, "sort", self.type()), grid, dims{static_cast<unsigned>(block), 1, 1}, 0,
         r.work.get(), it, n, k, in.strides[d], vo.strides[d], io.strides[d], std::int64_t{descending},
         static_cast<const void*>(base_of(self)), base_of(values), base_of(indices));
  return {values, indices};
}

inline value topk(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "k", "dim", "largest", "sorted"});
  const device_resources& r = resources_of(a, ctx);
  const tensor& self = device_tensor(a, 0, "self", ctx.memory.dev());
  const std::int64_t k = a.get_int(1, "k");
  const std::int64_t dim = ops::wrap_dim(a, a.get_int(2, "dim", -1), self.dim());
  const bool largest = a.get_bool(3, "largest", true);
  (void)a.get_bool(4, "sorted", true);  // the result is always sorted
  if (self.type() == dtype::bool_) ops::unsupported(a, self.type());
  const std::int64_t n = self.dim() == 0 ? 1 : self.sizes()[static_cast<std::size_t>(dim)];
  if (k < 0 || k > n)
    a.fail("wrapgraph.operator.index_out_of_range",
           "selected index k = " + std::to_string(k) + " is out of range for a dimension of size " + std::to_string(n));
  return select_sorted(ctx, a, r, self, dim, k, largest);
}

inline value sort(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "descending"});
  const device_resources& r = resources_of(a, ctx);
  const tensor& self = device_tensor(a, 0, "self", ctx.memory.dev());
  const std::int64_t dim = ops::wrap_dim(a, a.get_int(1, "dim", -1), self.dim());
  const bool descending = a.get_bool(2, "descending", false);
  const std::int64_t n = self.dim() == 0 ? 1 : self.sizes()[static_cast<std::size_t>(dim)];
  return select_sorted(ctx, a, r, self, dim, n, descending);
}

// ---- nonzero --------------------------------------------------------------------

/// Counts per chunk of 4096 elements, a scan of the counts, a read of the
/// total (the host waits: the result's size depends on the data), then the
/// coordinates, in row-major order.
inline value nonzero(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self"});
  const device_resources& r = resources_of(a, ctx);
  const tensor& self = device_tensor(a, 0, "self", ctx.memory.dev());
  const std::int64_t rank = self.dim();
  if (self.numel() == 0) return allocate(ctx, dtype::int64, {0, rank});
  const iteration<1> it = make_iteration<1>(a, {self.sizes().data(), self.sizes().size()}, {self.strides().data()},
                                            {self.offset()}, false);
  constexpr std::int64_t chunk = 4096;  // the kernels' WG_NZ_CHUNK
  const std::int64_t chunks = (it.numel + chunk - 1) / chunk;
  const tensor scratch = allocate(ctx, dtype::int64, {chunks + 1});
  auto* counts = static_cast<std::int64_t*>(scratch.data());
  std::int64_t* total = counts + chunks;
  const dims grid{static_cast<unsigned>(chunks), 1, 1};
  launch(kernel(r, module_id::nonzero, "nonzero_count", self.type()), grid, dims{256, 1, 1}, 0, r.work.get(), it,
         static_cast<const void*>(base_of(self)), static_cast<void*>(counts));
  launch(kernel(r, module_id::nonzero, "nonzero_scan"), dims{1, 1, 1}, dims{1024, 1, 1}, 0, r.work.get(),
         static_cast<void*>(counts), chunks, static_cast<void*>(total));
  std::int64_t count = 0;
  read_back(r, &count, total, sizeof count);
  tensor out = allocate(ctx, dtype::int64, {count, rank});
  if (count > 0 && rank > 0)
    launch(kernel(r, module_id::nonzero, "nonzero_write", self.type()), grid, dims{256, 1, 1}, 0, r.work.get(), it,
           static_cast<const void*>(base_of(self)), static_cast<const void*>(counts), base_of(out));
  return out;
}

// ---- random ---------------------------------------------------------------------

/// As the CPU's, but the values come from a counter-based generator on the
/// device, seeded by one draw of the run's generator: deterministic for a
/// seed, not the CPU's stream.
inline value randint_low_out(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"low", "high", "size"}, {"out"});
  const device_resources& r = resources_of(a, ctx);
  const std::int64_t low = a.get_int(0, "low"), high = a.get_int(1, "high");
  const std::vector<std::int64_t> size = a.get_ints(2, "size");
  const tensor& out = keyword_tensor(a, "out", ctx.memory.dev());
  ops::check_randint(a, out, size, low, high);
  const iteration<1> it =
      make_iteration<1>(a, {out.sizes().data(), out.sizes().size()}, {out.strides().data()}, {out.offset()});
  if (it.numel == 0) return out;
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  const std::uint64_t seed = ctx.random();
  launch_over(r, kernel(r, module_id::random, "randint", out.type()), it.numel, it, base_of(out), low, range, seed);
  return out;
}

inline value randn(op_context& ctx, const op_arguments& a) {
  const auto [size, type] = ops::randn_arguments(a, [&](const value& v) {
    // "cuda" names the current device, "cuda:N" device N.
    const device here = ctx.memory.dev();
    const std::string* s = v.as_string();
    const std::optional<device> d = s ? parse_device(*s) : std::nullopt;
    if (!d || d->kind != device_kind::cuda || (s->find(':') != std::string::npos && d->index != here.index))
      a.fail("wrapgraph.operator.device_mismatch",
             "the operator runs on " + to_string(here) + ", 'device' is " + exec::to_string(v));
  });
  const device_resources& r = resources_of(a, ctx);
  tensor out = allocate(ctx, type, extents(size.begin(), size.end()));
  if (out.numel() == 0) return out;
  const std::uint64_t seed = ctx.random();
  launch_over(r, kernel(r, module_id::random, "randn", type), (out.numel() + 1) / 2, out.data(), out.numel(), seed);
  return out;
}

// ---- scatter --------------------------------------------------------------------

/// The kernels' reduce code of `r`.
[[nodiscard]] inline std::int64_t reduce_code(ops::reduce_kind r) noexcept {
  switch (r) {
    case ops::reduce_kind::assign: return 0;
    case ops::reduce_kind::sum: return 1;
    case ops::reduce_kind::prod: return 2;
    case ops::reduce_kind::mean: return 3;
    case ops::reduce_kind::amax: return 4;
    case ops::reduce_kind::amin: return 5;
  }
  return 0;
}

/// scatter_ and scatter_reduce_ with the CPU's checks and results. Index
/// values are checked on the device before anything is written; the host
/// reads back where the first bad one is (so these operators synchronise)
/// and raises the CPU's error for it. Then, over the index's positions:
///  - assignment from src: of positions that target the same element, the
///    last in row-major order writes (each position claims its target with
///    atomicMax of its position in a scratch array, then the claimants
///    write); from a scalar, every position writes the same value;
///  - reductions: without include_self the targets are set to the
///    reduction's identity first; each value is combined atomically (the
///    hardware's atomicAdd/Max/Min where they compute the same, else a
///    compare-and-swap loop in the element type), so integers, bool, amax
///    and amin equal the CPU's exactly, while float sums and products may
///    differ from it in the last bits (they combine in another order);
///    mean counts values per target atomically and divides in a last pass.
/// Scratch arrays (claims, counts) cover the index's shape with self's size
/// in the scatter dimension.
inline value scatter(op_context& ctx, const op_arguments& a, const device_resources& r, const tensor& self,
                     std::int64_t raw_dim, const tensor& index, ops::scatter_source source, ops::reduce_kind reduce,
                     bool include_self) {
  const std::int64_t dim = ops::wrap_dim(a, raw_dim, self.dim());
  ops::require_dtype(a, index, dtype::int64, "index");
  if (source.src) ops::require_dtype(a, *source.src, self.type(), "src");
  if (reduce == ops::reduce_kind::mean && self.type() == dtype::bool_) ops::unsupported(a, self.type());
  if (index.numel() == 0) return self;  // PyTorch checks no shapes then
  const ops::rank1_layout s(self), ix(index);
  if (s.sizes.size() != ix.sizes.size())
    a.fail("wrapgraph.operator.shape_mismatch", "index " + ops::shape_string(index) +
                                                    " must have as many dimensions as self " + ops::shape_string(self));
  std::optional<ops::rank1_layout> src_layout;
  if (source.src) {
    src_layout.emplace(*source.src);
    if (src_layout->sizes.size() != ix.sizes.size())
      a.fail("wrapgraph.operator.shape_mismatch", "index " + ops::shape_string(index) +
                                                      " must have as many dimensions as src " +
                                                      ops::shape_string(*source.src));
  }
  const auto d0 = static_cast<std::size_t>(dim);
  for (std::size_t d = 0; d < ix.sizes.size(); ++d) {
    if (d != d0 && ix.sizes[d] > s.sizes[d])
      a.fail("wrapgraph.operator.shape_mismatch", "index " + ops::shape_string(index) + " is larger than self " +
                                                      ops::shape_string(self) + " in dimension " + std::to_string(d));
    if (src_layout && ix.sizes[d] > src_layout->sizes[d])
      a.fail("wrapgraph.operator.shape_mismatch", "index " + ops::shape_string(index) + " is larger than src " +
                                                      ops::shape_string(*source.src) + " in dimension " +
                                                      std::to_string(d));
  }
  const std::int64_t limit = s.sizes[d0];
  if (const std::optional<std::int64_t> bad = first_bad_index(ctx, a, r, index, 0, limit))
    a.fail("wrapgraph.operator.index_out_of_range", "index " + std::to_string(*bad) + " is out of bounds for dimension " +
                                                        std::to_string(dim) + " with size " + std::to_string(limit));
  std::uint64_t scalar = 0;
  exec::visit_dtype(self.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (!source.src) scalar = bits_of(ops::scalar_to<T>(a, *source.scalar, "value"));
  });

  // The elements a scatter can reach: the index's shape with self's size in
  // the scatter dimension; scratch arrays (winners, counts) cover them.
  extents targets = ix.sizes;
  targets[d0] = limit;
  const extents target_strides = exec::contiguous_strides({targets.data(), targets.size()});
  std::int64_t target_count = 1;
  for (std::int64_t t : targets) target_count *= t;
  extents self_strides = s.strides, position_strides = target_strides;
  self_strides[d0] = 0;
  position_strides[d0] = 0;
  const extents zeros(ix.sizes.size(), 0);
  const iteration<4> it = make_iteration<4>(
      a, {ix.sizes.data(), ix.sizes.size()},
      {ix.strides.data(), self_strides.data(), src_layout ? src_layout->strides.data() : zeros.data(),
       position_strides.data()},
      {index.offset(), self.offset(), source.src ? source.src->offset() : 0, 0});
  const std::int64_t dim_stride = s.strides[d0], dim_target = target_strides[d0];
  const void* index_data = base_of(index);
  const void* src_data = source.src ? base_of(*source.src) : nullptr;
  const dtype type = self.type();

  if (reduce == ops::reduce_kind::assign) {
    tensor winners;
    if (source.src) {
      winners = allocate(ctx, dtype::int64, {target_count});
      fill_bytes(r, winners.data(), 0xff, static_cast<std::size_t>(target_count) * 8);  // -1: unclaimed
      launch_over(r, kernel(r, module_id::scatter, "scatter_claim"), it.numel, it, index_data, dim_target,
                  winners.data());
    }
    launch_over(r, kernel(r, module_id::scatter, "scatter_assign", type), it.numel, it, index_data, dim_stride,
                dim_target, static_cast<const void*>(source.src ? winners.data() : nullptr), base_of(self), src_data,
                scalar);
    return self;
  }
  const std::int64_t code = reduce_code(reduce);
  if (!include_self)
    launch_over(r, kernel(r, module_id::scatter, "scatter_identity", type), it.numel, it, index_data, dim_stride,
                base_of(self), code);
  tensor counts;
  if (reduce == ops::reduce_kind::mean) {
    counts = allocate(ctx, dtype::int64, {target_count});
    fill_bytes(r, counts.data(), 0, static_cast<std::size_t>(target_count) * 8);
  }
  launch_over(r, kernel(r, module_id::scatter, "scatter_combine", type), it.numel, it, index_data, dim_stride,
              dim_target, base_of(self), src_data, scalar, code,
              static_cast<void*>(counts.defined() ? counts.data() : nullptr));
  if (counts.defined()) {
    const iteration<2> targets_it = make_iteration<2>(a, {targets.data(), targets.size()},
                                                      {s.strides.data(), target_strides.data()}, {self.offset(), 0});
    launch_over(r, kernel(r, module_id::scatter, "scatter_mean", type), targets_it.numel, targets_it, base_of(self),
                static_cast<const void*>(counts.data()), std::int64_t{include_self});
  }
  return self;
}

inline value scatter_src(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "index", "src"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = device_tensor(a, 2, "index", dev);
  const tensor& src = device_tensor(a, 3, "src", dev);
  return scatter(ctx, a, r, self, dim, index, {&src, nullptr}, ops::reduce_kind::assign, true);
}

inline value scatter_value(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "index", "value"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = device_tensor(a, 2, "index", dev);
  const value& v = ops::number_argument(a, 3, "value");
  return scatter(ctx, a, r, self, dim, index, {nullptr, &v}, ops::reduce_kind::assign, true);
}

inline value scatter_reduce(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "index", "src"}, {"reduce"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = device_tensor(a, 2, "index", dev);
  const tensor& src = device_tensor(a, 3, "src", dev);
  const ops::reduce_kind k = ops::reduce_kind_of(ops::reduce_argument(a, 4, true, {"add", "multiply"}));
  return scatter(ctx, a, r, self, dim, index, {&src, nullptr}, k, true);
}

inline value scatter_value_reduce(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "index", "value"}, {"reduce"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = device_tensor(a, 2, "index", dev);
  const value& v = ops::number_argument(a, 3, "value");
  const ops::reduce_kind k = ops::reduce_kind_of(ops::reduce_argument(a, 4, true, {"add", "multiply"}));
  return scatter(ctx, a, r, self, dim, index, {nullptr, &v}, k, true);
}

inline value scatter_reduce_two(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "dim", "index", "src", "reduce"}, {"include_self"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const std::int64_t dim = a.get_int(1, "dim");
  const tensor& index = device_tensor(a, 2, "index", dev);
  const tensor& src = device_tensor(a, 3, "src", dev);
  const ops::reduce_kind k =
      ops::reduce_kind_of(ops::reduce_argument(a, 4, false, {"sum", "prod", "mean", "amax", "amin"}));
  const bool include_self = ops::keyword_bool(a, "include_self", true);
  return scatter(ctx, a, r, self, dim, index, {&src, nullptr}, k, include_self);
}

// ---- index_put ------------------------------------------------------------------

/// self[indices] = values (or += with `accumulate`) with the CPU's checks
/// and results. The index tensors are copied to the host (the operator
/// synchronises) and resolved there exactly as the CPU does: masks become
/// coordinates, indices broadcast, every value is checked before anything
/// is written. The host then groups the positions of the broadcast shape
/// by the element of self they select, in row-major order, and the kernel
/// gives each selected element to one thread, which writes the group's
/// last value or adds the group's values in order: repeated indices
/// accumulate as on the CPU, bit for bit, with no atomics.
inline value index_put(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self", "indices", "values", "accumulate"});
  const device_resources& r = resources_of(a, ctx);
  const device dev = ctx.memory.dev();
  const tensor& self = device_tensor(a, 0, "self", dev);
  const value_list& list = a.get_list(1, "indices");
  const tensor& values = device_tensor(a, 2, "values", dev);
  const bool accumulate = a.get_bool(3, "accumulate", false);
  ops::require_dtype(a, values, self.type(), "values");
  // The CPU's resolution of the indices, on host copies of the tensors.
  value_list host_list;
  host_list.reserve(list.size());
  for (const value& entry : list) {
    const tensor* t = entry.as_tensor();
    if (t && t->defined()) {
      require_device(a, *t, "indices", dev);
      host_list.emplace_back(to_host(r, *t));
    } else {
      host_list.push_back(entry);
    }
  }
  std::vector<ops::dense_index> indices = ops::dense_indices(a, self, host_list);

  const std::optional<ops::index_put_plan> plan = ops::plan_index_put(a, self, values, indices);
  if (!plan) return self;
  const extents &broadcast = plan->broadcast, &result = plan->result, &role = plan->role;
  const extents& value_strides = plan->value_strides;
  const std::vector<extents>& index_strides = plan->index_strides;
  const std::size_t broadcast_at = plan->broadcast_at;

  // Per position of the broadcast shape (row-major): the element of self it
  // selects (storage offset and row-major number) and the values' offset.
  std::int64_t positions = 1;
  for (std::int64_t b : broadcast) positions *= b;
  const extents logical = exec::contiguous_strides({self.sizes().data(), self.sizes().size()});
  std::vector<std::int64_t> self_offsets(static_cast<std::size_t>(positions)),
      selected(static_cast<std::size_t>(positions)), value_offsets(static_cast<std::size_t>(positions));
  extents coordinate(broadcast.size(), 0);
  for (std::int64_t q = 0; q < positions; ++q) {
    std::int64_t rest = q;
    for (std::size_t b = broadcast.size(); b-- > 0;) {
      coordinate[b] = rest % broadcast[b];
      rest /= broadcast[b];
    }
    std::int64_t to = 0, element = 0, from = 0;
    for (std::size_t i = 0; i < indices.size(); ++i) {
      std::int64_t at = 0;
      for (std::size_t b = 0; b < broadcast.size(); ++b) at += coordinate[b] * index_strides[i][b];
      const std::int64_t v = indices[i].values[static_cast<std::size_t>(at)];
      to += v * self.strides()[indices[i].dim];
      element += v * logical[indices[i].dim];
    }
    for (std::size_t b = 0; b < broadcast.size(); ++b) from += coordinate[b] * value_strides[broadcast_at + b];
    self_offsets[static_cast<std::size_t>(q)] = to;
    selected[static_cast<std::size_t>(q)] = element;
    value_offsets[static_cast<std::size_t>(q)] = from;
  }
  // Groups of positions selecting the same element, each in row-major order:
  // a counting sort when self has few elements for the positions, else a
  // stable sort.
  std::vector<std::int64_t> members(static_cast<std::size_t>(positions));
  std::int64_t self_numel = 1;
  for (std::int64_t x : self.sizes()) self_numel *= x;
  if (self_numel <= 4 * positions + 4096) {
    std::vector<std::int64_t> next(static_cast<std::size_t>(self_numel) + 1, 0);
    for (std::int64_t e : selected) ++next[static_cast<std::size_t>(e) + 1];
    std::partial_sum(next.begin(), next.end(), next.begin());
    for (std::int64_t q = 0; q < positions; ++q)
      members[static_cast<std::size_t>(next[static_cast<std::size_t>(selected[static_cast<std::size_t>(q)])]++)] = q;
  } else {
    std::iota(members.begin(), members.end(), std::int64_t{0});
    std::stable_sort(members.begin(), members.end(), [&](std::int64_t x, std::int64_t y) {
      return selected[static_cast<std::size_t>(x)] < selected[static_cast<std::size_t>(y)];
    });
  }
  std::vector<std::int64_t> starts;
  for (std::size_t i = 0; i < members.size(); ++i)
    if (i == 0 || selected[static_cast<std::size_t>(members[i])] != selected[static_cast<std::size_t>(members[i - 1])])
      starts.push_back(static_cast<std::int64_t>(i));
  const auto groups = static_cast<std::int64_t>(starts.size());
  starts.push_back(positions);

  // One buffer on the device: starts, members, self offsets, value offsets.
  std::vector<std::int64_t> table;
  table.reserve(starts.size() + 3 * members.size());
  for (const std::vector<std::int64_t>* part : {&starts, &members, &self_offsets, &value_offsets})
    table.insert(table.end(), part->begin(), part->end());
  const tensor device_table = allocate(ctx, dtype::int64, {static_cast<std::int64_t>(table.size())});
  check(api::driver().cuMemcpyHtoDAsync(reinterpret_cast<api::CUdeviceptr>(device_table.data()), table.data(),
                                        table.size() * sizeof(std::int64_t), r.work.get()),
        "copying index_put's indices to the device");
  const auto* starts_d = static_cast<const std::int64_t*>(device_table.data());
  const std::int64_t* members_d = starts_d + starts.size();
  const std::int64_t* self_offsets_d = members_d + positions;
  const std::int64_t* value_offsets_d = self_offsets_d + positions;

  // The walk: the indexed shape with the broadcast axes replaced by one axis
  // of groups; views 0 values, 1 self, 2 the group.
  extents walk, value_walk, self_walk, group_walk;
  for (std::size_t x = 0; x < result.size(); ++x) {
    if (x == broadcast_at) {
      walk.push_back(groups);
      value_walk.push_back(0);
      self_walk.push_back(0);
      group_walk.push_back(1);
    }
    if (role[x] < 0) continue;
    walk.push_back(result[x]);
    value_walk.push_back(value_strides[x]);
    self_walk.push_back(self.strides()[static_cast<std::size_t>(role[x])]);
    group_walk.push_back(0);
  }
  if (broadcast_at == result.size()) {  // nothing follows the (empty) broadcast axes
    walk.push_back(groups);
    value_walk.push_back(0);
    self_walk.push_back(0);
    group_walk.push_back(1);
  }
  const iteration<3> it =
      make_iteration<3>(a, {walk.data(), walk.size()}, {value_walk.data(), self_walk.data(), group_walk.data()},
                        {values.offset(), self.offset(), 0});
  launch_over(r, kernel(r, module_id::index_put, "index_put", self.type()), it.numel, it,
              static_cast<const void*>(starts_d), static_cast<const void*>(members_d),
              static_cast<const void*>(self_offsets_d), static_cast<const void*>(value_offsets_d), base_of(self),
              static_cast<const void*>(base_of(values)), std::int64_t{accumulate});
  return self;
}

// ---- graph-level scalars --------------------------------------------------------

/// The one element, read back to the host (the operator synchronises).
inline value item(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"self"});
  const device_resources& r = resources_of(a, ctx);
  const tensor& self = device_tensor(a, 0, "self", ctx.memory.dev());
  if (self.numel() != 1)
    a.fail("wrapgraph.operator.shape_mismatch",
           "a tensor of " + std::to_string(self.numel()) + " elements cannot be converted to a scalar");
  return exec::visit_dtype(self.type(), [&](auto tag) -> value {
    using T = typename decltype(tag)::type;
    T x{};
    read_back(r, &x, self.data(), sizeof(T));
    if constexpr (std::is_same_v<T, bool>)
      return value(x);
    else if constexpr (std::is_integral_v<T>)
      return value(static_cast<std::int64_t>(x));
    else
      return value(ops::to_double(x));
  });
}

inline value where_scalar(op_context& ctx, const op_arguments& a) {
  ops::check_call(a, {"condition", "self", "other"});
  const device_resources& r = resources_of(a, ctx);
  const tensor& condition = device_tensor(a, 0, "condition", ctx.memory.dev());
  const value& x = ops::number_argument(a, 1, "self");
  const value& y = ops::number_argument(a, 2, "other");
  if (condition.type() != dtype::bool_)
    a.fail("wrapgraph.operator.dtype_mismatch", "'condition' must be a bool tensor, got " +
                                                    std::string(to_string(condition.type())));
  const dtype type = x.as_double() || y.as_double() ? dtype::float32
                     : x.as_bool() && y.as_bool()   ? dtype::bool_
                                                    : dtype::int64;
  tensor out = allocate(ctx, type, condition.sizes());
  std::uint64_t t = 0, f = 0;
  exec::visit_dtype(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, float>) {
      t = bits_of(ops::scalar_to<T>(a, x, "self"));
      f = bits_of(ops::scalar_to<T>(a, y, "other"));
    }
  });
  const iteration<2> it =
      make_iteration<2>(a, {condition.sizes().data(), condition.sizes().size()},
                        {out.strides().data(), condition.strides().data()}, {out.offset(), condition.offset()});
  launch_over(r, kernel(r, module_id::dense, "where_" + std::string(bits_suffix_of(type))), it.numel, it,
              base_of(out), static_cast<const void*>(base_of(condition)), t, f);
  return out;
}

}  // namespace detail::builtin

/// Registers the built-in operators for `device_kind::cuda` in `registry`
/// (an error, `wrapgraph.operator.duplicate`, if one of their names is
/// registered for CUDA already): every name the CPU's
/// `cpu::add_builtin_operators` registers, with the same arguments, checks
/// and results. nonzero, item, the scatter overloads and index_put carry
/// `exec::operator_flags::eager` (they wait for the device to read its
/// data), and so do randint and randn (each call draws a new seed). The
/// scalar operators are the CPU's functions.
inline void add_builtin_operators(exec::operator_registry& registry) {
  namespace ops = detail::builtin;
  const auto define = [&](const char* name, exec::operator_fn fn,
                          exec::operator_flags flags = exec::operator_flags::none) {
    registry.add(name, device_kind::cuda, std::move(fn), flags);
  };
  constexpr exec::operator_flags eager = exec::operator_flags::eager;
  define("aten.mm.out", &ops::mm_out);
  define("aten.addmm.out", &ops::addmm_out);
  define("aten.bmm.out", &ops::bmm_out);
  define("aten.topk.default", &ops::topk);
  define("aten.sort.default", &ops::sort);
  define("aten.nonzero.default", &ops::nonzero, eager);
  define("aten.randint.low_out", &ops::randint_low_out, eager);
  define("aten.randn.default", &ops::randn, eager);
  define("aten.scatter_.src", &ops::scatter_src, eager);
  define("aten.scatter_.value", &ops::scatter_value, eager);
  define("aten.scatter_.reduce", &ops::scatter_reduce, eager);
  define("aten.scatter_.value_reduce", &ops::scatter_value_reduce, eager);
  define("aten.scatter_reduce_.two", &ops::scatter_reduce_two, eager);
  define("aten.index_put_.default", &ops::index_put, eager);
  define("aten.item.default", &ops::item, eager);
  define("aten.where.Scalar", &ops::where_scalar);
  cpu::add_scalar_operators(registry, device_kind::cuda);
}

/// A registry holding the built-in operators of the CPU and of CUDA, built
/// on first use. Copy it to add operators of your own.
[[nodiscard]] inline const exec::operator_registry& builtin_operators() {
  static const exec::operator_registry registry = [] {
    exec::operator_registry r;
    cpu::add_builtin_operators(r);
    add_builtin_operators(r);
    return r;
  }();
  return registry;
}

}  // namespace wrapgraph::backend::cuda

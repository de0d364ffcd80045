#pragma once
/// Tensors: storage shared by views, a dtype, sizes, strides and an offset
/// in elements; device memory with accounting (live, peak, allocation calls);
/// typed element access and printing for host tensors.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/lines/types.hpp>

namespace wrapgraph::exec {

/// Sizes or strides of a tensor (most tensors have few dimensions).
using extents = boost::container::small_vector<std::int64_t, 6>;

// ---- 16-bit floating point ----------------------------------------------------

/// IEEE binary16, stored as its bits.
struct float16_t {
  std::uint16_t bits = 0;
};

/// bfloat16 (the upper half of a binary32), stored as its bits.
struct bfloat16_t {
  std::uint16_t bits = 0;
};

/// binary16 → float, exactly (subnormals, infinities and NaN included).
[[nodiscard]] inline float to_float(float16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  std::uint32_t exponent = (h.bits >> 10) & 0x1fu;
  std::uint32_t mantissa = h.bits & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

/// float → binary16, rounding to nearest even; overflow gives infinity.
[[nodiscard]] inline float16_t to_float16(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u)  // inf or NaN
    return {static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u))};
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds past 65504
  if (abs < 0x38800000u) {  // below the smallest normal: a subnormal or zero
    const float scaled = std::bit_cast<float>(abs) * 16777216.0f;  // × 2^24: units of the smallest subnormal
    return {static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(scaled)))};
  }
  const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return {static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
}

[[nodiscard]] inline float to_float(bfloat16_t b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b.bits) << 16);
}

/// float → bfloat16, rounding to nearest even; NaN stays NaN.
[[nodiscard]] inline bfloat16_t to_bfloat16(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((x >> 16) | 0x40u)};
  return {static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16)};
}

// ---- dtypes as C++ types ------------------------------------------------------

/// The C++ type that holds one element of each dtype.
template <dtype T>
struct element;
template <> struct element<dtype::bool_> { using type = bool; };
template <> struct element<dtype::int8> { using type = std::int8_t; };
template <> struct element<dtype::uint8> { using type = std::uint8_t; };
template <> struct element<dtype::int16> { using type = std::int16_t; };
template <> struct element<dtype::int32> { using type = std::int32_t; };
template <> struct element<dtype::int64> { using type = std::int64_t; };
template <> struct element<dtype::float16> { using type = float16_t; };
template <> struct element<dtype::bfloat16> { using type = bfloat16_t; };
template <> struct element<dtype::float32> { using type = float; };
template <> struct element<dtype::float64> { using type = double; };
template <dtype T>
using element_t = typename element<T>::type;

/// The dtype whose elements a C++ type holds.
template <class T>
inline constexpr dtype dtype_of = [] {
  static_assert(std::is_same_v<T, bool> || std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> ||
                    std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::int32_t> ||
                    std::is_same_v<T, std::int64_t> || std::is_same_v<T, float16_t> ||
                    std::is_same_v<T, bfloat16_t> || std::is_same_v<T, float> || std::is_same_v<T, double>,
                "dtype_of<T>: T must be the element type of a dtype (bool, std::int8_t, std::uint8_t, std::int16_t, "
                "std::int32_t, std::int64_t, float16_t, bfloat16_t, float or double)");
  if constexpr (std::is_same_v<T, bool>) return dtype::bool_;
  else if constexpr (std::is_same_v<T, std::int8_t>) return dtype::int8;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return dtype::uint8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return dtype::int16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::int64;
  else if constexpr (std::is_same_v<T, float16_t>) return dtype::float16;
  else if constexpr (std::is_same_v<T, bfloat16_t>) return dtype::bfloat16;
  else if constexpr (std::is_same_v<T, float>) return dtype::float32;
  else return dtype::float64;
}();

/// Calls `f(std::type_identity<C++ element type>{})` for the dtype `t`.
template <class F>
decltype(auto) visit_dtype(dtype t, F&& f) {
  switch (t) {
    case dtype::bool_: return f(std::type_identity<bool>{});
    case dtype::int8: return f(std::type_identity<std::int8_t>{});
    case dtype::uint8: return f(std::type_identity<std::uint8_t>{});
    case dtype::int16: return f(std::type_identity<std::int16_t>{});
    case dtype::int32: return f(std::type_identity<std::int32_t>{});
    case dtype::int64: return f(std::type_identity<std::int64_t>{});
    case dtype::float16: return f(std::type_identity<float16_t>{});
    case dtype::bfloat16: return f(std::type_identity<bfloat16_t>{});
    case dtype::float32: return f(std::type_identity<float>{});
    case dtype::float64: return f(std::type_identity<double>{});
  }
  WRAPGRAPH_ASSERT(false, "visit_dtype: not a dtype");
  return f(std::type_identity<float>{});
}

namespace detail {

template <class T>
double to_double(T v) noexcept {
  if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>)
    return static_cast<double>(to_float(v));
  else
    return static_cast<double>(v);
}

template <class T>
T from_double(double v) noexcept {
  if constexpr (std::is_same_v<T, float16_t>)
    return to_float16(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, bfloat16_t>)
    return to_bfloat16(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, bool>)
    return v != 0;
  else if constexpr (std::is_integral_v<T>) {
    // Saturate, as a cast of an out-of-range double is undefined.
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else
    return static_cast<T>(v);
}

}  // namespace detail

// ---- memory -------------------------------------------------------------------

/// What a device's memory has been through: bytes held now, the most held at
/// once, and calls that allocated or released memory.
struct memory_stats {
  std::size_t live_bytes = 0;
  std::size_t peak_bytes = 0;
  std::size_t allocations = 0;
  std::size_t releases = 0;
};

class device_memory;

/// One allocation on a device, given back when the last tensor using it
/// goes away (it keeps its device_memory alive for that).
class storage {
 public:
  storage(void* data, std::size_t bytes, std::shared_ptr<device_memory> owner) noexcept
      : data_(data), bytes_(bytes), owner_(std::move(owner)) {}
  storage(const storage&) = delete;
  storage& operator=(const storage&) = delete;
  inline ~storage();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] inline device dev() const noexcept;

 private:
  void* data_;
  std::size_t bytes_;
  std::shared_ptr<device_memory> owner_;
};

using storage_ptr = std::shared_ptr<storage>;

/// Where a backend's memory comes from, and its accounting. Storage keeps
/// its device_memory alive, so tensors may outlive the backend that made
/// them. Counting is thread-safe: storage may die on any thread.
class device_memory : public std::enable_shared_from_this<device_memory> {
 public:
  virtual ~device_memory() = default;
  [[nodiscard]] virtual device dev() const noexcept = 0;

  /// `bytes` of memory (none for 0 bytes: a null pointer, no call counted).
  storage_ptr allocate(std::size_t bytes) {
    void* p = nullptr;
    if (bytes > 0) {
      p = do_allocate(bytes);
      allocations_.fetch_add(1, std::memory_order_relaxed);
      const std::size_t live = live_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
      std::size_t peak = peak_.load(std::memory_order_relaxed);
      while (live > peak && !peak_.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
      }
    }
    return std::make_shared<storage>(p, bytes, shared_from_this());
  }

  [[nodiscard]] memory_stats stats() const noexcept {
    return {live_.load(std::memory_order_relaxed), peak_.load(std::memory_order_relaxed),
            allocations_.load(std::memory_order_relaxed), releases_.load(std::memory_order_relaxed)};
  }
  /// Starts a new measurement: the peak becomes what is live now, the call
  /// counters zero.
  void reset_stats() noexcept {
    peak_.store(live_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    allocations_.store(0, std::memory_order_relaxed);
    releases_.store(0, std::memory_order_relaxed);
  }

 protected:
  /// Memory for `bytes` > 0 bytes, aligned for any element type, or a
  /// backend_error (`wrapgraph.memory.out_of_memory`).
  virtual void* do_allocate(std::size_t bytes) = 0;
  virtual void do_deallocate(void* p, std::size_t bytes) noexcept = 0;

 private:
  friend class storage;
  void release(void* p, std::size_t bytes) noexcept {
    if (bytes == 0) return;
    do_deallocate(p, bytes);
    live_.fetch_sub(bytes, std::memory_order_relaxed);
    releases_.fetch_add(1, std::memory_order_relaxed);
  }

  std::atomic<std::size_t> live_{0}, peak_{0}, allocations_{0}, releases_{0};
};

inline storage::~storage() {
  if (owner_) owner_->release(data_, bytes_);
}
inline device storage::dev() const noexcept { return owner_ ? owner_->dev() : cpu; }

/// Host memory: 64-byte aligned.
class host_memory final : public device_memory {
 public:
  [[nodiscard]] device dev() const noexcept override { return cpu; }

 protected:
  void* do_allocate(std::size_t bytes) override {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = rounded >= bytes ? std::aligned_alloc(64, rounded) : nullptr;
    if (!p) throw backend_error("wrapgraph.memory.out_of_memory", "cannot allocate " + std::to_string(bytes) + " bytes on the host");
    return p;
  }
  void do_deallocate(void* p, std::size_t) noexcept override { std::free(p); }
};

// ---- tensor -------------------------------------------------------------------

/// A tensor: a view of storage with a dtype, sizes, strides and an offset,
/// all in elements. Copies share storage (like torch.Tensor); `view` makes
/// another view of the same storage.
class tensor {
 public:
  /// An undefined tensor (no storage).
  tensor() = default;

  /// A view of `s`; its span of elements must lie inside the storage.
  tensor(storage_ptr s, dtype type, extents sizes, extents strides, std::int64_t offset = 0)
      : storage_(std::move(s)), type_(type), sizes_(std::move(sizes)), strides_(std::move(strides)), offset_(offset) {
    check_layout();
  }

  [[nodiscard]] bool defined() const noexcept { return storage_ != nullptr; }
  [[nodiscard]] dtype type() const noexcept { return type_; }
  [[nodiscard]] device dev() const noexcept { return storage_ ? storage_->dev() : cpu; }
  [[nodiscard]] const extents& sizes() const noexcept { return sizes_; }
  [[nodiscard]] const extents& strides() const noexcept { return strides_; }
  [[nodiscard]] std::int64_t offset() const noexcept { return offset_; }
  [[nodiscard]] std::int64_t dim() const noexcept { return static_cast<std::int64_t>(sizes_.size()); }
  [[nodiscard]] std::int64_t size(std::int64_t d) const { return sizes_[axis(d)]; }
  [[nodiscard]] std::int64_t stride(std::int64_t d) const { return strides_[axis(d)]; }
  [[nodiscard]] std::int64_t numel() const noexcept {
    std::int64_t n = 1;
    for (std::int64_t s : sizes_) n *= s;
    return n;
  }
  [[nodiscard]] std::size_t element_size() const noexcept { return size_of(type_); }
  [[nodiscard]] const storage_ptr& storage() const noexcept { return storage_; }

  /// The address of element 0 (storage start + offset), on the tensor's device.
  [[nodiscard]] void* data() const noexcept {
    if (!storage_ || !storage_->data()) return nullptr;
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(element_size());
  }
  /// Element 0 as a `T*`; T must be the dtype's element type.
  template <class T>
  [[nodiscard]] T* data_as() const {
    if (dtype_of<T> != type_)
      throw run_error("wrapgraph.run.dtype_mismatch",
                      "the tensor holds " + std::string(to_string(type_)) + ", not " + std::string(to_string(dtype_of<T>)));
    return static_cast<T*>(data());
  }

  /// Another view of the same storage (offset counts from the storage's
  /// start, as torch.as_strided's does).
  [[nodiscard]] tensor view(extents sizes, extents strides, std::int64_t offset) const {
    return tensor(storage_, type_, std::move(sizes), std::move(strides), offset);
  }

  /// True when the elements are dense in row-major order.
  [[nodiscard]] bool is_contiguous() const noexcept {
    std::int64_t expected = 1;
    for (std::size_t d = sizes_.size(); d-- > 0;) {
      if (sizes_[d] == 1) continue;
      if (strides_[d] != expected) return false;
      expected *= sizes_[d];
    }
    return true;
  }

  /// The storage offset (in elements) of the element at `index`.
  [[nodiscard]] std::int64_t offset_of(std::span<const std::int64_t> index) const {
    if (index.size() != sizes_.size())
      throw run_error("wrapgraph.run.bad_index", "an index of " + std::to_string(index.size()) +
                                                     " coordinates for a tensor of rank " + std::to_string(dim()));
    std::int64_t at = offset_;
    for (std::size_t d = 0; d < index.size(); ++d) {
      if (index[d] < 0 || index[d] >= sizes_[d])
        throw run_error("wrapgraph.run.bad_index", "coordinate " + std::to_string(index[d]) + " of dimension " +
                                                       std::to_string(d) + " is outside [0, " +
                                                       std::to_string(sizes_[d]) + ")");
      at += index[d] * strides_[d];
    }
    return at;
  }

  /// The element at `index` of a host tensor, as a `T` reference.
  template <class T>
  [[nodiscard]] T& at(std::initializer_list<std::int64_t> index) const {
    return at<T>(std::span<const std::int64_t>(index.begin(), index.size()));
  }
  template <class T>
  [[nodiscard]] T& at(std::span<const std::int64_t> index) const {
    require_host("at");
    (void)data_as<T>();
    return static_cast<T*>(storage_->data())[offset_of(index)];
  }

  /// The `i`-th element in row-major order of the sizes, as a double.
  [[nodiscard]] double get(std::int64_t i) const {
    const std::int64_t at = storage_offset_of_logical(i);
    return visit_dtype(type_, [&](auto t) {
      using T = typename decltype(t)::type;
      return detail::to_double(static_cast<const T*>(storage_->data())[at]);
    });
  }
  /// Sets the `i`-th element in row-major order (converted from double:
  /// integers saturate, floats round).
  void set(std::int64_t i, double value) const {
    const std::int64_t at = storage_offset_of_logical(i);
    visit_dtype(type_, [&](auto t) {
      using T = typename decltype(t)::type;
      static_cast<T*>(storage_->data())[at] = detail::from_double<T>(value);
    });
  }
  /// The `i`-th element in row-major order of an integer or bool tensor.
  [[nodiscard]] std::int64_t get_int(std::int64_t i) const {
    const std::int64_t at = storage_offset_of_logical(i);
    return visit_dtype(type_, [&](auto t) -> std::int64_t {
      using T = typename decltype(t)::type;
      if constexpr (std::is_integral_v<T>)
        return static_cast<std::int64_t>(static_cast<const T*>(storage_->data())[at]);
      else
        throw run_error("wrapgraph.run.dtype_mismatch", "an integer read of a " + std::string(to_string(type_)) + " tensor");
    });
  }
  void set_int(std::int64_t i, std::int64_t value) const {
    const std::int64_t at = storage_offset_of_logical(i);
    visit_dtype(type_, [&](auto t) {
      using T = typename decltype(t)::type;
      if constexpr (std::is_integral_v<T>)
        static_cast<T*>(storage_->data())[at] = static_cast<T>(value);
      else
        static_cast<T*>(storage_->data())[at] = detail::from_double<T>(static_cast<double>(value));
    });
  }

  /// The storage offset of the `i`-th element in row-major order.
  [[nodiscard]] std::int64_t storage_offset_of_logical(std::int64_t i) const {
    require_host("element access");
    if (i < 0 || i >= numel())
      throw run_error("wrapgraph.run.bad_index",
                      "element " + std::to_string(i) + " of a tensor of " + std::to_string(numel()) + " elements");
    std::int64_t at = offset_;
    for (std::size_t d = sizes_.size(); d-- > 0;) {
      at += (i % sizes_[d]) * strides_[d];
      i /= sizes_[d];
    }
    return at;
  }

 private:
  std::size_t axis(std::int64_t d) const {
    const std::int64_t n = dim();
    const std::int64_t a = d < 0 ? d + n : d;
    if (a < 0 || a >= n)
      throw run_error("wrapgraph.run.bad_dimension",
                      "dimension " + std::to_string(d) + " of a tensor of rank " + std::to_string(n));
    return static_cast<std::size_t>(a);
  }

  void require_host(const char* what) const {
    if (!storage_) throw run_error("wrapgraph.run.undefined_tensor", std::string(what) + " of an undefined tensor");
    if (dev().kind != device_kind::cpu)
      throw run_error("wrapgraph.run.not_on_host",
                      std::string(what) + " of a tensor on " + to_string(dev()) + "; copy it to the host first");
  }

  // Ranks agree, sizes are not negative, and every element lies in storage.
  void check_layout() const {
    if (!storage_) throw run_error("wrapgraph.run.undefined_tensor", "a tensor needs storage");
    if (sizes_.size() != strides_.size())
      throw run_error("wrapgraph.run.bad_layout", std::to_string(sizes_.size()) + " sizes and " +
                                                      std::to_string(strides_.size()) + " strides");
    if (offset_ < 0) throw run_error("wrapgraph.run.bad_layout", "negative offset " + std::to_string(offset_));
    std::int64_t lo = offset_, hi = offset_;
    bool empty = false;
    for (std::size_t d = 0; d < sizes_.size(); ++d) {
      if (sizes_[d] < 0)
        throw run_error("wrapgraph.run.bad_layout", "negative size " + std::to_string(sizes_[d]) + " of dimension " + std::to_string(d));
      if (sizes_[d] == 0) empty = true;
      const std::int64_t reach = (sizes_[d] - 1) * strides_[d];
      (reach < 0 ? lo : hi) += reach;
    }
    if (empty) return;
    const std::int64_t capacity = static_cast<std::int64_t>(storage_->bytes() / element_size());
    if (lo < 0 || hi >= capacity)
      throw run_error("wrapgraph.run.out_of_bounds", "a view reaching elements [" + std::to_string(lo) + ", " +
                                                         std::to_string(hi) + "] of storage holding " +
                                                         std::to_string(capacity) + " " + std::string(to_string(type_)) +
                                                         " elements");
  }

  storage_ptr storage_;
  dtype type_ = dtype::float32;
  extents sizes_, strides_;
  std::int64_t offset_ = 0;
};

/// Row-major (contiguous) strides of `sizes`.
[[nodiscard]] inline extents contiguous_strides(std::span<const std::int64_t> sizes) {
  extents strides(sizes.size());
  std::int64_t s = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    strides[d] = s;
    s *= std::max<std::int64_t>(sizes[d], 1);
  }
  return strides;
}

/// Elements a layout needs in storage: one past its furthest element (0
/// when it has none). Strides are not negative.
[[nodiscard]] inline std::int64_t required_elements(std::span<const std::int64_t> sizes,
                                                   std::span<const std::int64_t> strides, std::int64_t offset = 0) {
  std::int64_t reach = offset;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return 0;
    reach += (sizes[d] - 1) * strides[d];
  }
  return reach + 1;
}

/// A new tensor of `memory` with the given layout, uninitialised.
[[nodiscard]] inline tensor empty_strided(device_memory& memory, dtype type, extents sizes, extents strides,
                                          std::int64_t offset = 0) {
  for (std::int64_t s : strides)
    if (s < 0) throw run_error("wrapgraph.run.bad_layout", "empty_strided takes strides that are not negative");
  for (std::int64_t s : sizes)
    if (s < 0) throw run_error("wrapgraph.run.bad_layout", "negative size " + std::to_string(s));
  const std::int64_t elements = required_elements({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, offset);
  return tensor(memory.allocate(static_cast<std::size_t>(elements) * size_of(type)), type, std::move(sizes),
                std::move(strides), offset);
}

/// A new contiguous tensor of `memory`, uninitialised.
[[nodiscard]] inline tensor empty(device_memory& memory, dtype type, extents sizes) {
  extents strides = contiguous_strides({sizes.data(), sizes.size()});
  return empty_strided(memory, type, std::move(sizes), std::move(strides));
}

/// The logical elements of a host tensor, row-major, as doubles.
[[nodiscard]] inline std::vector<double> to_vector(const tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) out[static_cast<std::size_t>(i)] = t.get(i);
  return out;
}

/// A short description and, for host tensors, the elements:
/// `tensor(float32, size=[2, 2], stride=[2, 1]) [1, 2, 3, 4]`, eliding
/// the middle beyond `max_elements`.
[[nodiscard]] inline std::string to_string(const tensor& t, std::size_t max_elements = 16) {
  if (!t.defined()) return "tensor(undefined)";
  std::ostringstream out;
  out.precision(7);
  out << "tensor(" << to_string(t.type()) << ", size=[";
  for (std::size_t d = 0; d < t.sizes().size(); ++d) out << (d ? ", " : "") << t.sizes()[d];
  out << "], stride=[";
  for (std::size_t d = 0; d < t.strides().size(); ++d) out << (d ? ", " : "") << t.strides()[d];
  out << "]";
  if (t.offset() != 0) out << ", offset=" << t.offset();
  if (t.dev().kind != device_kind::cpu) {
    out << ", device=" << to_string(t.dev()) << ")";
    return out.str();
  }
  out << ") [";
  const std::int64_t n = t.numel();
  const std::int64_t half = static_cast<std::int64_t>(max_elements / 2);
  for (std::int64_t i = 0; i < n; ++i) {
    if (n > static_cast<std::int64_t>(max_elements) && i == half) {
      out << (i ? ", " : "") << "...";
      i = n - half - 1;
      continue;
    }
    if (i) out << ", ";
    if (t.type() == dtype::bool_)
      out << (t.get(i) != 0 ? "True" : "False");
    else if (is_floating_point(t.type()))
      out << t.get(i);
    else
      out << t.get_int(i);
  }
  out << "]";
  return out.str();
}

}  // namespace wrapgraph::exec

#pragma once
/// Value types of the wrapper IR: dtypes, devices, tensor layouts, buffers,
/// argument references and key paths.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph {

/// Free-form data any object of a program may carry; kept, never interpreted.
using meta_data = nlohmann::ordered_json;

/// Element types, with the names of the program format.
enum class dtype : std::uint8_t {
  bool_,
  int8,
  uint8,
  int16,
  int32,
  int64,
  float16,
  bfloat16,
  float32,
  float64,
};

inline constexpr dtype all_dtypes[] = {dtype::bool_,   dtype::int8,     dtype::uint8,   dtype::int16,
                                       dtype::int32,   dtype::int64,    dtype::float16, dtype::bfloat16,
                                       dtype::float32, dtype::float64};

/// The format's name of a dtype: "float32", "bool", ...
[[nodiscard]] constexpr std::string_view to_string(dtype t) noexcept {
  constexpr std::string_view names[] = {"bool",  "int8",    "uint8",    "int16",   "int32",
                                        "int64", "float16", "bfloat16", "float32", "float64"};
  return names[static_cast<std::size_t>(t)];
}

/// The dtype named `name`, if any.
[[nodiscard]] constexpr std::optional<dtype> parse_dtype(std::string_view name) noexcept {
  for (dtype t : all_dtypes)
    if (to_string(t) == name) return t;
  return std::nullopt;
}

/// Bytes per element.
[[nodiscard]] constexpr std::size_t size_of(dtype t) noexcept {
  switch (t) {
    case dtype::bool_:
    case dtype::int8:
    case dtype::uint8:
      return 1;
    case dtype::int16:
    case dtype::float16:
    case dtype::bfloat16:
      return 2;
    case dtype::int32:
    case dtype::float32:
      return 4;
    case dtype::int64:
    case dtype::float64:
      return 8;
  }
  return 0;
}

[[nodiscard]] constexpr bool is_floating_point(dtype t) noexcept {
  return t == dtype::float16 || t == dtype::bfloat16 || t == dtype::float32 || t == dtype::float64;
}

enum class device_kind : std::uint8_t { cpu, cuda };

/// Where a buffer lives: "cpu" or "cuda:N".
struct device {
  device_kind kind = device_kind::cpu;
  int index = 0;

  friend constexpr bool operator==(const device&, const device&) = default;
};

inline constexpr device cpu{device_kind::cpu, 0};
inline constexpr device cuda0{device_kind::cuda, 0};

/// "cpu" or "cuda:N".
[[nodiscard]] inline std::string to_string(device d) {
  return d.kind == device_kind::cpu ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

/// The device a text names: "cpu", "cuda" (index 0) or "cuda:N".
[[nodiscard]] inline std::optional<device> parse_device(std::string_view text) {
  if (text == "cpu") return cpu;
  if (text == "cuda") return cuda0;
  if (!text.starts_with("cuda:") || text.size() == 5 || text.size() > 9) return std::nullopt;
  int index = 0;
  for (char c : text.substr(5)) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return device{device_kind::cuda, index};
}

/// A strided tensor layout: dtype, device, sizes, strides and storage offset,
/// all symbolic.
struct tensor_layout {
  dtype type = dtype::float32;
  device dev = cpu;
  std::vector<sym::expr> size;
  std::vector<sym::expr> stride;
  sym::expr offset;  ///< null means 0 until a context supplies it
};

/// A named buffer and its layout (the format's `Buffer`).
struct buffer_decl {
  std::string name;
  tensor_layout layout;
  meta_data meta;
};

/// A reference to a buffer, input or symbol by name ("buf0"). Where an
/// argument may be a constant (extern operators), a name that nothing
/// defines is the string constant itself.
struct name_ref {
  std::string name;
  friend bool operator==(const name_ref&, const name_ref&) = default;
};

/// A symbolic integer argument ({"expr": ...}).
struct expr_ref {
  sym::expr value;
};

/// A reinterpreted view of a buffer (Inductor's ReinterpretView); the offset
/// is relative to the buffer's own offset.
struct view_ref {
  std::string input;
  std::vector<sym::expr> size;
  std::vector<sym::expr> stride;
  sym::expr offset;
  meta_data meta;
};

/// A JSON null argument.
struct none_ref {
  friend constexpr bool operator==(none_ref, none_ref) = default;
};

/// An argument or output: a name, a symbolic value, a view, or a constant.
using ref = std::variant<name_ref, expr_ref, view_ref, none_ref, bool, std::int64_t, double>;

/// One step of a key path applied to a result (the format's `KeyPath`).
struct key_step {
  enum class kind_type : std::uint8_t {
    size,            ///< .size() or .size(index)
    stride,          ///< .stride() or .stride(index)
    storage_offset,  ///< .storage_offset()
    element,         ///< [index] of a tuple or list
    divide_by,       ///< // divisor
  };
  kind_type kind = kind_type::element;
  std::optional<std::int64_t> index;  ///< size/stride dimension or element index
  std::int64_t divisor = 1;           ///< divide_by only

  friend bool operator==(const key_step&, const key_step&) = default;
};

using key_path = std::vector<key_step>;

/// Text of a key path, e.g. ".size(0)[1]//2".
[[nodiscard]] inline std::string to_string(const key_path& path) {
  std::string out;
  for (const key_step& s : path) {
    switch (s.kind) {
      case key_step::kind_type::size:
      case key_step::kind_type::stride:
        out += s.kind == key_step::kind_type::size ? ".size(" : ".stride(";
        if (s.index) out += std::to_string(*s.index);
        out += ')';
        break;
      case key_step::kind_type::storage_offset:
        out += ".storage_offset()";
        break;
      case key_step::kind_type::element:
        out += '[' + std::to_string(s.index.value_or(0)) + ']';
        break;
      case key_step::kind_type::divide_by:
        out += "//" + std::to_string(s.divisor);
        break;
    }
  }
  return out;
}

}  // namespace wrapgraph

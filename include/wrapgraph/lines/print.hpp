#pragma once
/// Text of a line for people, written once over the lines' Boost.Hana
/// reflection: `op(field=value, ...)` with the format's field names, e.g.
///
///   kernel_call(kernel=k_add, args=[arg0_1, buf0, {expr: 8*s0}], grid=[CeilDiv(8*s0, XBLOCK), 1, 1])
///
/// Values read like their JSON with names, strings and expressions unquoted:
/// lists in [], objects and layouts in {key: value}, key paths as
/// `.size(0)[1]//2`, null for none. Absent optional fields and null meta are
/// left out; long or multi-line strings (kernel sources) are cut to their
/// start and their length.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <wrapgraph/detail/reflect.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph {

namespace detail {

inline void print_text(std::string& out, const std::string& s) {
  constexpr std::size_t max_length = 80, shown = 40;
  const std::size_t newline = s.find('\n');
  if (s.size() <= max_length && newline == std::string::npos) {
    out += s.empty() ? std::string("\"\"") : s;
    return;
  }
  out += s.substr(0, std::min(shown, newline));
  out += "... (" + std::to_string(s.size()) + " chars)";
}

template <class T>
void print_value(std::string& out, const T& x);

// `{key: value, ...}` or, for a line, `key=value, ...`: the members of a
// reflected struct, without absent optionals and null meta.
template <reflected T>
void print_fields(std::string& out, const T& x, std::string_view separator) {
  bool first = true;
  wrapgraph::detail::for_each_present_field(x, [&](std::string_view name, const auto& m) {
    if (!first) out += ", ";
    first = false;
    out += json_name<T>(name);
    out += separator;
    print_value(out, m);
  });
}

inline void print_layout_fields(std::string& out, const tensor_layout& l) {
  out += "dtype: ";
  out += to_string(l.type);
  out += ", device: " + to_string(l.dev) + ", size: ";
  print_value(out, l.size);
  out += ", stride: ";
  print_value(out, l.stride);
  out += ", offset: ";
  print_value(out, l.offset);
}

inline void print_meta(std::string& out, const meta_data& meta) {
  if (!meta.is_null()) out += ", meta: " + meta.dump();
}

template <class T>
void print_value(std::string& out, const T& x) {
  if constexpr (std::is_same_v<T, sym::expr>) {
    out += x.is_null() ? std::string("0") : sym::to_string(x);
  } else if constexpr (std::is_same_v<T, std::string>) {
    print_text(out, x);
  } else if constexpr (std::is_same_v<T, bool>) {
    out += x ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    out += std::to_string(x);
  } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, meta_data>) {
    out += meta_data(x).dump();
  } else if constexpr (std::is_same_v<T, key_path>) {
    out += x.empty() ? std::string("[]") : to_string(x);
  } else if constexpr (is_named_list_v<T>) {
    out += '{';
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (i > 0) out += ", ";
      out += x[i].first + ": ";
      print_value(out, x[i].second);
    }
    out += '}';
  } else if constexpr (is_vector_v<T>) {
    out += '[';
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (i > 0) out += ", ";
      print_value(out, x[i]);
    }
    out += ']';
  } else if constexpr (is_optional_v<T>) {
    if (x)
      print_value(out, *x);
    else
      out += "null";
  } else if constexpr (is_variant_v<T>) {
    std::visit([&out](const auto& v) { print_value(out, v); }, x);
  } else if constexpr (reflected<T>) {
    out += '{';
    print_fields(out, x, ": ");
    out += '}';
  } else if constexpr (std::is_same_v<T, name_ref>) {
    out += x.name;
  } else if constexpr (std::is_same_v<T, expr_ref>) {
    out += "{expr: ";
    print_value(out, x.value);
    out += '}';
  } else if constexpr (std::is_same_v<T, view_ref>) {
    out += "{view: {input: " + x.input + ", size: ";
    print_value(out, x.size);
    out += ", stride: ";
    print_value(out, x.stride);
    out += ", offset: ";
    print_value(out, x.offset);
    print_meta(out, x.meta);
    out += "}}";
  } else if constexpr (std::is_same_v<T, none_ref>) {
    out += "null";
  } else if constexpr (std::is_same_v<T, tensor_layout>) {
    out += '{';
    print_layout_fields(out, x);
    out += '}';
  } else if constexpr (std::is_same_v<T, buffer_decl>) {
    out += "{name: " + x.name + ", ";
    print_layout_fields(out, x.layout);
    print_meta(out, x.meta);
    out += '}';
  } else if constexpr (std::is_same_v<T, extern_result_kind>) {
    constexpr std::string_view names[] = {"tensor", "multi", "none"};
    out += names[static_cast<std::size_t>(x)];
  } else {
    static_assert(std::is_same_v<T, void>,
                  "lines/print.hpp: print_value has no rule for this member type; add one next to the others");
  }
}

}  // namespace detail

/// The line as `op(field=value, ...)`.
[[nodiscard]] inline std::string to_string(const line& l) {
  return std::visit(
      [](const auto& x) {
        using T = std::remove_cvref_t<decltype(x)>;
        std::string out(T::op);
        out += '(';
        detail::print_fields(out, x, "=");
        out += ')';
        return out;
      },
      l);
}

}  // namespace wrapgraph

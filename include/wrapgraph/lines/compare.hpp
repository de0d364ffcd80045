#pragma once
/// Equality of lines and programs, written once over the lines' Boost.Hana
/// reflection: two lines are equal when they are of one kind and every member
/// is equal. Expressions of one context are equal when they are the same
/// node; expressions of two contexts when they print alike (so two programs
/// loaded separately compare equal); a null expression equals 0 (the default
/// offset). Meta and constant data compare as JSON, doubles with ==.

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <wrapgraph/detail/reflect.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph {

namespace detail {

[[nodiscard]] inline bool equal_expr(sym::expr a, sym::expr b) {
  if (a == b) return true;
  if (a.is_null() || b.is_null()) return (a.is_null() ? b : a).is_integer(0);
  if (&a.owner() == &b.owner()) return false;
  return sym::to_string(a) == sym::to_string(b);
}

// The members of the value types that are not reflected.
inline auto fields_of(const tensor_layout& x) { return std::tie(x.type, x.dev, x.size, x.stride, x.offset); }
inline auto fields_of(const buffer_decl& x) { return std::tie(x.name, x.layout, x.meta); }
inline auto fields_of(const expr_ref& x) { return std::tie(x.value); }
inline auto fields_of(const view_ref& x) { return std::tie(x.input, x.size, x.stride, x.offset, x.meta); }
inline auto fields_of(const tensor_input& x) { return std::tie(x.name, x.layout, x.meta); }
inline auto fields_of(const symbol_input& x) { return std::tie(x.name, x.meta); }
inline auto fields_of(const int_input& x) { return std::tie(x.name, x.value, x.meta); }
inline auto fields_of(const none_input& x) { return std::tie(x.name, x.meta); }
inline auto fields_of(const constant_decl& x) { return std::tie(x.name, x.layout, x.data, x.meta); }

bool equal_program(const program& a, const program& b);

template <class T>
bool equal_value(const T& a, const T& b);

template <class... Ts>
bool equal_fields(const std::tuple<const Ts&...>& a, const std::tuple<const Ts&...>& b) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (equal_value(std::get<I>(a), std::get<I>(b)) && ...);
  }(std::index_sequence_for<Ts...>{});
}

template <class T>
bool equal_value(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, sym::expr>) {
    return equal_expr(a, b);
  } else if constexpr (is_vector_v<T>) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!equal_value(a[i], b[i])) return false;
    return true;
  } else if constexpr (is_optional_v<T>) {
    return a.has_value() == b.has_value() && (!a || equal_value(*a, *b));
  } else if constexpr (is_pair_v<T>) {
    return equal_value(a.first, b.first) && equal_value(a.second, b.second);
  } else if constexpr (is_variant_v<T>) {
    return a.index() == b.index() && std::visit(
                                         [&b](const auto& x) {
                                           using X = std::remove_cvref_t<decltype(x)>;
                                           return equal_value(x, std::get<X>(b));
                                         },
                                         a);
  } else if constexpr (reflected<T>) {
    bool equal = true;
    for_each_field<T>([&](std::string_view, auto get) { equal = equal && equal_value(get(a), get(b)); });
    return equal;
  } else if constexpr (requires { fields_of(a); }) {
    return equal_fields(fields_of(a), fields_of(b));
  } else if constexpr (std::is_same_v<T, subgraph>) {
    return a.name == b.name && equal_program(a.body, b.body);
  } else {
    return a == b;
  }
}

inline bool equal_program(const program& a, const program& b) {
  return a.name == b.name && equal_value(a.symbols, b.symbols) && equal_value(a.inputs, b.inputs) &&
         equal_value(a.constants, b.constants) && equal_value(a.lines, b.lines) &&
         equal_value(a.outputs, b.outputs) && equal_value(a.subgraphs, b.subgraphs) && a.examples == b.examples &&
         a.meta == b.meta;
}

}  // namespace detail

/// True when both lines are of one kind and all their members are equal.
[[nodiscard]] inline bool equal(const line& a, const line& b) { return detail::equal_value(a, b); }

/// True when both programs have equal names, symbols, inputs, constants,
/// lines, outputs, subgraphs, examples and meta; their contexts may differ.
[[nodiscard]] inline bool equal(const program& a, const program& b) { return detail::equal_program(a, b); }

}  // namespace wrapgraph

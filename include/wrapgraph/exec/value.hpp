#pragma once
/// Run-time values: what a graph's nodes produce and operators take — None,
/// integers, floats, bools, strings, tensors and lists of values.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/tensor.hpp>

namespace wrapgraph::exec {

struct value;
/// A list of values (an operator's list argument, a multi-output result).
using value_list = std::vector<value>;

/// A run-time value.
struct value {
  std::variant<std::monostate, std::int64_t, double, bool, std::string, tensor, value_list> v;

  value() = default;
  value(std::monostate) {}
  value(std::int64_t x) : v(x) {}
  value(int x) : v(std::int64_t{x}) {}
  value(double x) : v(x) {}
  value(bool x) : v(x) {}
  value(std::string x) : v(std::move(x)) {}
  value(const char* x) : v(std::string(x)) {}
  value(tensor x) : v(std::move(x)) {}
  value(value_list x) : v(std::move(x)) {}

  /// Makes this None, releasing what it held (a tensor's storage, say).
  void reset() noexcept { v.template emplace<std::monostate>(); }

  [[nodiscard]] bool is_none() const noexcept { return std::holds_alternative<std::monostate>(v); }
  [[nodiscard]] const std::int64_t* as_int() const noexcept { return std::get_if<std::int64_t>(&v); }
  [[nodiscard]] const double* as_double() const noexcept { return std::get_if<double>(&v); }
  [[nodiscard]] const bool* as_bool() const noexcept { return std::get_if<bool>(&v); }
  [[nodiscard]] const std::string* as_string() const noexcept { return std::get_if<std::string>(&v); }
  [[nodiscard]] const tensor* as_tensor() const noexcept { return std::get_if<tensor>(&v); }
  [[nodiscard]] const value_list* as_list() const noexcept { return std::get_if<value_list>(&v); }

  /// What kind of value this is, for messages: "None", "int", "float",
  /// "bool", "str", "tensor" or "list".
  [[nodiscard]] const char* kind_name() const noexcept {
    constexpr const char* names[] = {"None", "int", "float", "bool", "str", "tensor", "list"};
    return names[v.index()];
  }
};

/// A value for messages: `3`, `2.5`, `True`, `'sum'`, a tensor's
/// description, `[...]`.
[[nodiscard]] inline std::string to_string(const value& x) {
  if (x.is_none()) return "None";
  if (const auto* i = x.as_int()) return std::to_string(*i);
  if (const auto* d = x.as_double()) {
    std::ostringstream out;
    out.precision(17);
    out << *d;
    return out.str();
  }
  if (const auto* b = x.as_bool()) return *b ? "True" : "False";
  if (const auto* s = x.as_string()) return "'" + *s + "'";
  if (const auto* t = x.as_tensor()) return to_string(*t);
  std::string out = "[";
  const value_list& l = *x.as_list();
  for (std::size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + to_string(l[i]);
  return out + "]";
}

}  // namespace wrapgraph::exec

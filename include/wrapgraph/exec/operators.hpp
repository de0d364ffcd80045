#pragma once
/// Extern operators: a registry keyed by operator name and device kind, open
/// to users' own operators, with PyTorch's argument conventions (positional
/// arguments, then keyword arguments; out variants take `out`).

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>
#include <wrapgraph/lines/types.hpp>

namespace wrapgraph::exec {

/// A keyword argument at run time.
using keyword_value = std::pair<std::string, value>;

/// What an operator gets besides its arguments: the memory of the device it
/// runs on (for results it allocates) and the run's random generator (seeded
/// by the run's options, so seeded runs repeat).
struct op_context {
  device_memory& memory;
  std::mt19937_64& random;
};

/// The arguments of one operator call, with checked accessors whose errors
/// name the operator and the argument.
class op_arguments {
 public:
  op_arguments(std::string_view op, std::span<const value> args, std::span<const keyword_value> kwargs) noexcept
      : op_(op), args_(args), kwargs_(kwargs) {}

  [[nodiscard]] std::string_view op() const noexcept { return op_; }
  [[nodiscard]] std::span<const value> args() const noexcept { return args_; }
  [[nodiscard]] std::span<const keyword_value> kwargs() const noexcept { return kwargs_; }

  /// The keyword argument `name`, or null.
  [[nodiscard]] const value* kwarg(std::string_view name) const noexcept {
    for (const keyword_value& kv : kwargs_)
      if (kv.first == name) return &kv.second;
    return nullptr;
  }

  /// Argument `index`, passed positionally or as keyword `name` (as Python
  /// binds a call); null when neither was passed.
  [[nodiscard]] const value* find(std::size_t index, std::string_view name) const noexcept {
    if (index < args_.size()) return &args_[index];
    return kwarg(name);
  }

  /// As find, but an error when missing.
  [[nodiscard]] const value& get(std::size_t index, std::string_view name) const {
    if (const value* v = find(index, name)) return *v;
    fail("wrapgraph.operator.missing_argument", "argument " + std::to_string(index) + " ('" + std::string(name) +
                                                    "') was not passed");
  }

  [[nodiscard]] const tensor& get_tensor(std::size_t index, std::string_view name) const {
    const value& v = get(index, name);
    if (const tensor* t = v.as_tensor(); t && t->defined()) return *t;
    wrong(index, name, "a tensor", v);
  }
  /// An optional tensor argument: null when missing or None.
  [[nodiscard]] const tensor* find_tensor(std::size_t index, std::string_view name) const {
    const value* v = find(index, name);
    if (!v || v->is_none()) return nullptr;
    if (const tensor* t = v->as_tensor(); t && t->defined()) return t;
    wrong(index, name, "a tensor or None", *v);
  }
  [[nodiscard]] std::int64_t get_int(std::size_t index, std::string_view name) const {
    const value& v = get(index, name);
    if (const std::int64_t* i = v.as_int()) return *i;
    if (const bool* b = v.as_bool()) return *b;
    wrong(index, name, "an int", v);
  }
  [[nodiscard]] std::int64_t get_int(std::size_t index, std::string_view name, std::int64_t fallback) const {
    const value* v = find(index, name);
    return !v || v->is_none() ? fallback : get_int(index, name);
  }
  [[nodiscard]] double get_number(std::size_t index, std::string_view name) const {
    const value& v = get(index, name);
    if (const double* d = v.as_double()) return *d;
    if (const std::int64_t* i = v.as_int()) return static_cast<double>(*i);
    if (const bool* b = v.as_bool()) return *b;
    wrong(index, name, "a number", v);
  }
  [[nodiscard]] bool get_bool(std::size_t index, std::string_view name, bool fallback) const {
    const value* v = find(index, name);
    if (!v || v->is_none()) return fallback;
    if (const bool* b = v->as_bool()) return *b;
    if (const std::int64_t* i = v->as_int()) return *i != 0;
    wrong(index, name, "a bool", *v);
  }
  [[nodiscard]] const std::string* find_string(std::size_t index, std::string_view name) const {
    const value* v = find(index, name);
    if (!v || v->is_none()) return nullptr;
    if (const std::string* s = v->as_string()) return s;
    wrong(index, name, "a string", *v);
  }
  [[nodiscard]] const value_list& get_list(std::size_t index, std::string_view name) const {
    const value& v = get(index, name);
    if (const value_list* l = v.as_list()) return *l;
    wrong(index, name, "a list", v);
  }
  /// A list of ints (sizes, dims).
  [[nodiscard]] std::vector<std::int64_t> get_ints(std::size_t index, std::string_view name) const {
    const value& v = get(index, name);
    if (const std::int64_t* i = v.as_int()) return {*i};
    std::vector<std::int64_t> out;
    if (const value_list* l = v.as_list()) {
      for (const value& x : *l) {
        const std::int64_t* i = x.as_int();
        if (!i) wrong(index, name, "a list of ints", v);
        out.push_back(*i);
      }
      return out;
    }
    wrong(index, name, "a list of ints", v);
  }

  /// Throws a run_error with the operator's name in front.
  [[noreturn]] void fail(const std::string& id, const std::string& message) const {
    throw run_error(id, std::string(op_) + ": " + message);
  }

 private:
  [[noreturn]] void wrong(std::size_t index, std::string_view name, const char* expected, const value& got) const {
    fail("wrapgraph.operator.bad_argument", "argument " + std::to_string(index) + " ('" + std::string(name) +
                                                "') must be " + expected + ", got " + got.kind_name());
  }

  std::string_view op_;
  std::span<const value> args_;
  std::span<const keyword_value> kwargs_;
};

/// An operator: computes its result from its arguments (an out variant
/// writes into `out` and returns it; a multi-output operator returns a list).
using operator_fn = std::function<value(op_context&, const op_arguments&)>;

/// What the runtime must know of an operator besides how to call it.
enum class operator_flags : std::uint8_t {
  none = 0,
  /// Graph mode runs the operator eagerly, between captured parts, because
  /// a replay of a capture would not do what it does: it reads device data
  /// on the host (a data-dependent size, an item, an index check), so it
  /// waits for the device, or it takes host state that each call renews (a
  /// random seed).
  eager = 1,
};

/// Operators by name and device kind. Users add their own with `add`.
class operator_registry {
 public:
  /// Registers `fn` as `name` on `kind`; an error if one is there already,
  /// unless `replace`.
  void add(std::string name, device_kind kind, operator_fn fn, bool replace = false) {
    add(std::move(name), kind, std::move(fn), operator_flags::none, replace);
  }
  /// As above, with the operator's flags.
  void add(std::string name, device_kind kind, operator_fn fn, operator_flags flags, bool replace = false) {
    const auto it = ops_.find(std::pair<std::string_view, device_kind>(name, kind));
    if (it == ops_.end()) {
      ops_.emplace(std::pair<std::string, device_kind>{std::move(name), kind}, entry{std::move(fn), flags});
      return;
    }
    if (!replace)
      throw run_error("wrapgraph.operator.duplicate", "operator '" + it->first.first + "' is already registered for " +
                                                         (kind == device_kind::cpu ? "cpu" : "cuda"));
    it->second = entry{std::move(fn), flags};
  }

  /// The operator `name` on `kind`, or null.
  [[nodiscard]] const operator_fn* find(std::string_view name, device_kind kind) const {
    const auto it = ops_.find(std::pair<std::string_view, device_kind>(name, kind));
    return it == ops_.end() ? nullptr : &it->second.fn;
  }

  /// The flags of operator `name` on `kind` (none when not registered).
  [[nodiscard]] operator_flags flags(std::string_view name, device_kind kind) const {
    const auto it = ops_.find(std::pair<std::string_view, device_kind>(name, kind));
    return it == ops_.end() ? operator_flags::none : it->second.flags;
  }

  /// The names registered on `kind`, sorted.
  [[nodiscard]] std::vector<std::string> names(device_kind kind) const {
    std::vector<std::string> out;
    for (const auto& [key, fn] : ops_)
      if (key.second == kind) out.push_back(key.first);
    return out;
  }

 private:
  struct key_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const std::string_view an = a.first, bn = b.first;
      return an != bn ? an < bn : a.second < b.second;
    }
  };
  struct entry {
    operator_fn fn;
    operator_flags flags;
  };
  std::map<std::pair<std::string, device_kind>, entry, key_less> ops_;
};

}  // namespace wrapgraph::exec

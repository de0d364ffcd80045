#pragma once
/// Evaluation of runtime expressions under symbol bindings, with int64 and
/// Python semantics: once per call (`evaluate`) or prepared into a flat
/// program that evaluates at native speed (`compiled_expr`).

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::sym {

/// Values of symbols, by name.
class bindings {
 public:
  bindings() = default;
  bindings(std::initializer_list<std::pair<std::string_view, std::int64_t>> values) {
    for (const auto& [name, value] : values) set(name, value);
  }

  bindings& set(std::string_view name, std::int64_t value) {
    if (auto it = values_.find(name); it != values_.end())
      it->second = value;
    else
      values_.emplace(std::string(name), value);
    return *this;
  }
  /// Binds a symbol expression (by its name).
  bindings& set(expr symbol, std::int64_t value) {
    if (symbol.is_null() || !symbol.is_symbol()) {
      throw sym_error("wrapgraph.sym.not_a_symbol",
                      "only symbols can be bound, not " + detail::brief(symbol));
    }
    return set(symbol.name(), value);
  }
  [[nodiscard]] std::optional<std::int64_t> find(std::string_view name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] bool contains(std::string_view name) const { return values_.find(name) != values_.end(); }
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  [[nodiscard]] auto begin() const noexcept { return values_.begin(); }
  [[nodiscard]] auto end() const noexcept { return values_.end(); }

 private:
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::int64_t, name_hash, std::equal_to<>> values_;
};

/// An expression prepared for repeated evaluation: its distinct nodes in
/// post-order as a flat program over a value array. Symbols are read from
/// slots, in the order of `symbols()`.
class compiled_expr {
 public:
  compiled_expr() = default;
  explicit compiled_expr(expr e) : source_(e) {
    WRAPGRAPH_ASSERT(!e.is_null(), "compiled_expr of a null expression");
    std::unordered_map<const detail::node*, std::uint32_t> index;
    // Collect symbols first so that slots follow the canonical order.
    collect_symbols(e, index);
    std::sort(symbols_.begin(), symbols_.end(), expr_less{});
    index.clear();
    emit(e, index);
  }

  /// The expression this was compiled from.
  [[nodiscard]] expr source() const noexcept { return source_; }
  /// The symbols the expression reads, in slot order (canonical order).
  [[nodiscard]] std::span<const expr> symbols() const noexcept { return symbols_; }
  /// Number of operations (distinct nodes).
  [[nodiscard]] std::size_t size() const noexcept { return ops_.size(); }

  /// Evaluates with `values[i]` as the value of `symbols()[i]`.
  [[nodiscard]] std::int64_t operator()(std::span<const std::int64_t> values) const {
    if (values.size() != symbols_.size()) {
      throw sym_error("wrapgraph.sym.arity",
                      "compiled expression " + detail::brief(source_) + " reads " +
                          std::to_string(symbols_.size()) + " symbols, got " +
                          std::to_string(values.size()) + " values");
    }
    check_assumptions(values);
    if (ops_.size() <= 64) {
      std::array<std::int64_t, 64> scratch;
      return run(values, scratch.data());
    }
    std::vector<std::int64_t> scratch(ops_.size());
    return run(values, scratch.data());
  }

  /// Evaluates with the values that `b` gives the symbols; a symbol without
  /// a value is an error.
  [[nodiscard]] std::int64_t operator()(const bindings& b) const {
    std::array<std::int64_t, 16> small;
    std::vector<std::int64_t> large;
    std::span<std::int64_t> values;
    if (symbols_.size() <= small.size()) {
      values = std::span<std::int64_t>(small.data(), symbols_.size());
    } else {
      large.resize(symbols_.size());
      values = large;
    }
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      const auto v = b.find(symbols_[i].name());
      if (!v) {
        throw sym_error("wrapgraph.sym.unbound_symbol",
                        "symbol '" + std::string(symbols_[i].name()) + "' has no value in " +
                            detail::brief(source_));
      }
      values[i] = *v;
    }
    return (*this)(std::span<const std::int64_t>(values));
  }

 private:
  struct op {
    expr_kind kind;
    std::uint32_t first;  // operands_[first ...] (or the slot of a symbol)
    std::uint32_t count;
    std::int64_t value;   // integer constant
  };

  void collect_symbols(expr e, std::unordered_map<const detail::node*, std::uint32_t>& seen) {
    if (!seen.emplace(e.get(), 0).second) return;
    if (e.is_symbol()) {
      symbols_.push_back(e);
      return;
    }
    for (expr a : e.args()) collect_symbols(a, seen);
  }

  std::uint32_t emit(expr e, std::unordered_map<const detail::node*, std::uint32_t>& index) {
    if (auto it = index.find(e.get()); it != index.end()) return it->second;
    std::vector<std::uint32_t> children;
    children.reserve(e.arity());
    for (expr a : e.args()) children.push_back(emit(a, index));
    op o{e.kind(), static_cast<std::uint32_t>(operands_.size()),
         static_cast<std::uint32_t>(children.size()), 0};
    if (e.is_integer()) o.value = e.value();
    if (e.is_symbol()) {
      o.first = static_cast<std::uint32_t>(
          std::find(symbols_.begin(), symbols_.end(), e) - symbols_.begin());
    }
    operands_.insert(operands_.end(), children.begin(), children.end());
    const auto id = static_cast<std::uint32_t>(ops_.size());
    ops_.push_back(o);
    nodes_.push_back(e);
    index.emplace(e.get(), id);
    return id;
  }

  void check_assumptions(std::span<const std::int64_t> values) const {
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      const sign_kind sign = symbols_[i].symbol_assumptions().sign;
      const std::int64_t v = values[i];
      if ((sign == sign_kind::positive && v < 1) || (sign == sign_kind::nonnegative && v < 0)) {
        throw sym_error("wrapgraph.sym.assumption_violated",
                        "symbol '" + std::string(symbols_[i].name()) + "' is declared " +
                            (sign == sign_kind::positive ? "positive" : "nonnegative") +
                            " but is bound to " + std::to_string(v));
      }
    }
  }

  [[noreturn]] void fail(std::string id, std::string what, std::size_t at,
                         std::span<const std::int64_t> values) const {
    std::string message = what + " in " + detail::brief(nodes_[at]);
    if (nodes_[at] != source_) message += " (part of " + detail::brief(source_) + ")";
    if (!symbols_.empty()) {
      message += " with ";
      for (std::size_t i = 0; i < symbols_.size(); ++i) {
        if (i) message += ", ";
        message += std::string(symbols_[i].name()) + " = " + std::to_string(values[i]);
      }
    }
    throw sym_error(std::move(id), std::move(message));
  }

  std::int64_t run(std::span<const std::int64_t> values, std::int64_t* v) const {
    const std::uint32_t* in = operands_.data();
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      const op& o = ops_[i];
      const std::uint32_t* a = in + o.first;
      std::int64_t r;
      switch (o.kind) {
        case expr_kind::integer:
          r = o.value;
          break;
        case expr_kind::symbol:
          r = values[o.first];
          break;
        case expr_kind::add:
          r = v[a[0]];
          for (std::uint32_t k = 1; k < o.count; ++k)
            if (__builtin_add_overflow(r, v[a[k]], &r)) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
          break;
        case expr_kind::mul:
          r = v[a[0]];
          for (std::uint32_t k = 1; k < o.count; ++k)
            if (__builtin_mul_overflow(r, v[a[k]], &r)) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
          break;
        case expr_kind::pow: {
          std::int64_t base = v[a[0]], exponent = v[a[1]];
          if (exponent < 0) fail("wrapgraph.sym.negative_exponent", "negative exponent " + std::to_string(exponent), i, values);
          r = 1;
          while (exponent > 0) {
            if ((exponent & 1) && __builtin_mul_overflow(r, base, &r)) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
            exponent >>= 1;
            if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) {
              if (r == 0) break;
              fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
            }
          }
          break;
        }
        case expr_kind::floor_div:
        case expr_kind::ceil_div:
        case expr_kind::clean_div:
        case expr_kind::rational: {
          const std::int64_t x = v[a[0]], y = v[a[1]];
          if (y == 0) fail("wrapgraph.sym.division_by_zero", "division by zero", i, values);
          if (x == INT64_MIN && y == -1) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
          if (o.kind == expr_kind::floor_div) {
            r = detail::py_floordiv(x, y);
          } else if (o.kind == expr_kind::ceil_div) {
            r = detail::py_ceildiv(x, y);
          } else {
            if (x % y != 0) {
              fail(o.kind == expr_kind::clean_div ? "wrapgraph.sym.inexact_division" : "wrapgraph.sym.not_integer",
                   std::to_string(y) + " does not divide " + std::to_string(x), i, values);
            }
            r = x / y;
          }
          break;
        }
        case expr_kind::mod: {
          const std::int64_t y = v[a[1]];
          if (y == 0) fail("wrapgraph.sym.division_by_zero", "division by zero", i, values);
          r = detail::py_mod(v[a[0]], y);
          break;
        }
        case expr_kind::modular_indexing: {
          const std::int64_t x = v[a[0]], d = v[a[1]], m = v[a[2]];
          if (d == 0 || m == 0) fail("wrapgraph.sym.division_by_zero", "division by zero", i, values);
          if (x == INT64_MIN && d == -1) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
          r = detail::py_mod(detail::py_floordiv(x, d), m);
          break;
        }
        case expr_kind::min:
          r = v[a[0]];
          for (std::uint32_t k = 1; k < o.count; ++k) r = std::min(r, v[a[k]]);
          break;
        case expr_kind::max:
          r = v[a[0]];
          for (std::uint32_t k = 1; k < o.count; ++k) r = std::max(r, v[a[k]]);
          break;
        case expr_kind::abs:
          r = v[a[0]];
          if (r == INT64_MIN) fail("wrapgraph.sym.overflow", "int64 overflow", i, values);
          r = r < 0 ? -r : r;
          break;
        default:
          r = 0;
          WRAPGRAPH_ASSERT(false, "compiled_expr: unknown expression kind");
      }
      v[i] = r;
    }
    return v[ops_.size() - 1];
  }

  expr source_;
  std::vector<expr> symbols_;
  std::vector<op> ops_;
  std::vector<std::uint32_t> operands_;
  std::vector<expr> nodes_;
};

/// The value of `e` with the symbols bound by `b`. Errors (all sym_error):
/// wrapgraph.sym.unbound_symbol, .division_by_zero, .overflow,
/// .inexact_division, .not_integer, .negative_exponent,
/// .assumption_violated; each names the expression.
[[nodiscard]] inline std::int64_t evaluate(expr e, const bindings& b) {
  if (e.is_integer()) return e.value();
  return compiled_expr(e)(b);
}

}  // namespace wrapgraph::sym

#pragma once
/// The runtime form of a symbolic integer expression: an immutable, interned
/// node owned by a sym::context, and `expr`, the handle to one.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>

#include <wrapgraph/config.hpp>

namespace wrapgraph::sym {

class context;

/// What a node computes. Every kind works on int64 with Python semantics.
enum class expr_kind : std::uint8_t {
  integer,           ///< a constant
  symbol,            ///< a named integer with assumptions
  add,               ///< a0 + a1 + ... (n-ary; integer term, if any, last)
  mul,               ///< a0 * a1 * ... (n-ary; integer coefficient, if any, first)
  pow,               ///< base ** exponent, the exponent a non-negative integer expression
  floor_div,         ///< a // b (rounds towards -inf)
  ceil_div,          ///< -((-a) // b)
  clean_div,         ///< a / b where b divides a exactly
  mod,               ///< a % b with the sign of b (Python)
  modular_indexing,  ///< (x // div) % mod
  min,               ///< Min(a0, a1, ...)
  max,               ///< Max(a0, a1, ...)
  abs,               ///< Abs(a)
  rational,          ///< the true quotient a / b; only meaningful inside floor/ceiling
};

/// The lowercase name of a kind, e.g. "floor_div".
[[nodiscard]] constexpr std::string_view to_string(expr_kind kind) noexcept {
  constexpr std::string_view names[] = {"integer", "symbol",    "add",       "mul",
                                        "pow",     "floor_div", "ceil_div",  "clean_div",
                                        "mod",     "modular_indexing", "min", "max",
                                        "abs",     "rational"};
  return names[static_cast<std::size_t>(kind)];
}

/// The sign a symbol is known to have.
enum class sign_kind : std::uint8_t {
  any,          ///< any integer
  nonnegative,  ///< >= 0
  positive,     ///< >= 1
};

/// What is assumed of a symbol. Every symbol is an integer; `unbacked` marks a
/// value that is only known at run time from data (no hint exists).
struct assumptions {
  sign_kind sign = sign_kind::any;
  bool unbacked = false;

  friend constexpr bool operator==(const assumptions&, const assumptions&) = default;
};

/// An integer symbol that may be negative.
inline constexpr assumptions any_integer{};
/// A symbol >= 0, such as a size that may be zero.
inline constexpr assumptions nonnegative{sign_kind::nonnegative, false};
/// A symbol >= 1, as Inductor assumes for backed sizes.
inline constexpr assumptions positive{sign_kind::positive, false};
/// A data-dependent size, known only at run time (>= 0).
inline constexpr assumptions unbacked{sign_kind::nonnegative, true};

/// A closed interval [lo, hi] of int64 that contains every value an
/// expression can take under its symbols' assumptions. `unbounded_below` and
/// `unbounded_above` stand for -inf and +inf.
struct value_range {
  static constexpr std::int64_t unbounded_below = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t unbounded_above = std::numeric_limits<std::int64_t>::max();
  std::int64_t lo = unbounded_below;
  std::int64_t hi = unbounded_above;

  [[nodiscard]] constexpr bool is_nonnegative() const noexcept { return lo >= 0; }
  [[nodiscard]] constexpr bool is_positive() const noexcept { return lo >= 1; }
  [[nodiscard]] constexpr bool is_nonpositive() const noexcept { return hi <= 0; }
  [[nodiscard]] constexpr bool is_negative() const noexcept { return hi <= -1; }
  [[nodiscard]] constexpr bool excludes_zero() const noexcept { return lo > 0 || hi < 0; }
  friend constexpr bool operator==(const value_range&, const value_range&) = default;
};

class expr;

namespace detail {

/// The interned node behind an expr. Nodes live in their context's arena,
/// never change and are never freed before the context.
struct node {
  context* owner;
  std::size_t hash;        // structural, deterministic across contexts
  const expr* args;        // nargs children, canonical order
  std::uint32_t nargs;
  expr_kind kind;
  assumptions assumed;     // symbols only
  std::int64_t value;      // integer: the value; symbol: its id in the context
  std::string_view name;   // symbols only; points into the arena
  value_range range;
  std::uint32_t size;      // number of distinct nodes in this DAG, capped
};

}  // namespace detail

/// A handle to an interned expression node. Copying is free; two exprs are
/// equal exactly when they are the same node, which canonicalisation makes
/// the same as being equal expressions. A default-constructed expr is null.
class expr {
 public:
  constexpr expr() noexcept = default;
  constexpr explicit expr(const detail::node* n) noexcept : node_(n) {}

  [[nodiscard]] constexpr bool is_null() const noexcept { return node_ == nullptr; }
  [[nodiscard]] constexpr explicit operator bool() const noexcept { return node_ != nullptr; }

  [[nodiscard]] expr_kind kind() const noexcept { return checked()->kind; }
  [[nodiscard]] bool is(expr_kind k) const noexcept { return checked()->kind == k; }
  [[nodiscard]] bool is_integer() const noexcept { return is(expr_kind::integer); }
  [[nodiscard]] bool is_symbol() const noexcept { return is(expr_kind::symbol); }
  /// True when the expression is the integer `v`.
  [[nodiscard]] bool is_integer(std::int64_t v) const noexcept {
    return is_integer() && node_->value == v;
  }

  /// The value of an integer expression.
  [[nodiscard]] std::int64_t value() const noexcept {
    WRAPGRAPH_ASSERT(is_integer(), "expr::value() of a non-integer expression");
    return node_->value;
  }
  /// The name of a symbol.
  [[nodiscard]] std::string_view name() const noexcept {
    WRAPGRAPH_ASSERT(is_symbol(), "expr::name() of a non-symbol expression");
    return node_->name;
  }
  /// The assumptions of a symbol.
  [[nodiscard]] assumptions symbol_assumptions() const noexcept {
    WRAPGRAPH_ASSERT(is_symbol(), "expr::symbol_assumptions() of a non-symbol expression");
    return node_->assumed;
  }
  /// Dense index of a symbol in its context, in order of declaration.
  [[nodiscard]] std::size_t symbol_id() const noexcept {
    WRAPGRAPH_ASSERT(is_symbol(), "expr::symbol_id() of a non-symbol expression");
    return static_cast<std::size_t>(node_->value);
  }

  [[nodiscard]] std::span<const expr> args() const noexcept {
    return {checked()->args, node_->nargs};
  }
  [[nodiscard]] expr arg(std::size_t i) const noexcept {
    WRAPGRAPH_ASSERT(i < checked()->nargs, "expr::arg index out of range");
    return node_->args[i];
  }
  [[nodiscard]] std::size_t arity() const noexcept { return checked()->nargs; }

  /// Structural hash, cached; equal expressions have equal hashes.
  [[nodiscard]] std::size_t hash() const noexcept { return checked()->hash; }
  /// Bounds implied by the symbols' assumptions.
  [[nodiscard]] value_range range() const noexcept { return checked()->range; }
  [[nodiscard]] bool is_nonnegative() const noexcept { return range().is_nonnegative(); }
  [[nodiscard]] bool is_positive() const noexcept { return range().is_positive(); }
  /// Number of distinct nodes reachable from this one (saturates at 2^32-1).
  [[nodiscard]] std::size_t node_count() const noexcept { return checked()->size; }
  /// True when no symbol occurs below this node.
  [[nodiscard]] bool is_constant() const noexcept { return is_integer(); }

  /// The context that owns the node.
  [[nodiscard]] context& owner() const noexcept { return *checked()->owner; }
  [[nodiscard]] const detail::node* get() const noexcept { return node_; }

  friend constexpr bool operator==(expr a, expr b) noexcept { return a.node_ == b.node_; }

 private:
  [[nodiscard]] const detail::node* checked() const noexcept {
    WRAPGRAPH_ASSERT(node_ != nullptr, "use of a null sym::expr");
    return node_;
  }
  const detail::node* node_ = nullptr;
};

}  // namespace wrapgraph::sym

template <>
struct std::hash<wrapgraph::sym::expr> {
  std::size_t operator()(wrapgraph::sym::expr e) const noexcept {
    return e.is_null() ? 0 : e.hash();
  }
};

#pragma once
/// Expression templates: typed symbolic integers, folded at compile time, evaluated inline, lowered to expr.
///
/// The typed form of a symbolic integer expression. Its leaves are
///
///   constant<V>     an integer known at compile time (`8_c`),
///   var<"s0", A>    a symbol with assumptions A, named at compile time,
///   runtime_int     an integer known only at run time (what an int64 operand
///                   becomes inside a tree),
///
/// and tree<Op, Args...> combines them with the operations of the runtime form
/// (+, -, unary -, *, floor_div, ceil_div, clean_div, mod, modular_indexing,
/// min, max, abs, pow<N>). Every operation has Python semantics on int64,
/// exactly as sym::evaluate.
///
/// What an operation returns depends on what its operands are:
///
///   all constants                       a constant, folded at compile time
///   constants and int64, no symbol      std::int64_t, computed now (checked)
///   a sym::expr among them              a sym::expr in that expr's context
///   otherwise                           a tree, after the identities below
///
/// Folding rules (each an identity over the integers; the tests check each
/// one as a law against the runtime form):
///
///   c1 op c2 = constant<c1 op c2>       for every op, Python semantics; a
///                                       result outside int64, a division by
///                                       0_c and an inexact clean_div of
///                                       constants are static_assert errors
///   x + 0 = x,  0 + x = x
///   x - 0 = x,  0 - x = -x,  x - x = 0  (x free of run-time integers)
///   -(-x) = x
///   x * 0 = 0,  0 * x = 0,  x * 1 = x,  1 * x = x
///   x // 1 = x,  CeilDiv(x, 1) = x,  CleanDiv(x, 1) = x
///   x % 1 = 0,  x % -1 = 0
///   ModularIndexing(x, d, 1) = 0,  ModularIndexing(x, 1, m) = x % m
///   Min(x, x) = x,  Max(x, x) = x       (x free of run-time integers)
///   Abs(Abs(x)) = Abs(x),  Abs(-x) = Abs(x)
///   x**0 = 1,  x**1 = x                 (0**0 = 1, as in Python)
///
/// Two trees of one type are the same expression only when neither holds a
/// runtime_int, whose value is not part of the type; hence the provisos.
///
/// `eval(e, s0 = 8)` evaluates inline, with bindings matched to vars at
/// compile time; `eval(e, bindings)` looks names up at run time; `lower(ctx,
/// e)` builds the runtime form. `to_string(e)` prints the lowered form, so
/// both forms print alike; `describe(e)` prints the tree as written,
/// constants as `8_c` and run-time integers plainly.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::sym {

// ============================================================================
// leaves
// ============================================================================

/// An integer known at compile time. Converts to std::int64_t.
template <std::int64_t V>
struct constant {
  static constexpr std::int64_t value = V;
  constexpr operator std::int64_t() const noexcept { return V; }
};

/// An integer known only at run time, as a leaf of a tree: `s0 * n` with an
/// int64 `n` holds `runtime_int{n}`.
struct runtime_int {
  std::int64_t value = 0;
};

/// A string usable as a template argument: the name of a var.
template <std::size_t N>
struct fixed_string {
  char text[N]{};

  constexpr fixed_string(const char (&s)[N]) noexcept {  // implicit: var<"s0">
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {text, N - 1}; }
};

/// The value a var takes in `eval`, made by `s0 = 8`.
template <fixed_string Name>
struct binding {
  std::int64_t value = 0;
};

namespace detail {
[[nodiscard]] constexpr bool is_identifier(std::string_view s) noexcept {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}
}  // namespace detail

/// A symbol named at compile time, e.g. `constexpr var<"s0", positive> s0;`.
/// `s0 = 8` does not assign: it makes the binding that `eval` reads.
template <fixed_string Name, assumptions Assumed = any_integer>
struct var {
  static_assert(detail::is_identifier(Name.view()),
                "a var's name must be an identifier: letters, digits and '_', not starting with a digit");
  static constexpr std::string_view name = Name.view();
  static constexpr assumptions assumed = Assumed;

  constexpr binding<Name> operator=(std::int64_t v) const noexcept { return {v}; }
};

// ============================================================================
// trees
// ============================================================================

/// The operation at the root of a tree.
enum class op_kind : std::uint8_t {
  add,               ///< a + b
  sub,               ///< a - b
  neg,               ///< -a
  mul,               ///< a * b
  floor_div,         ///< a // b
  ceil_div,          ///< CeilDiv(a, b)
  clean_div,         ///< CleanDiv(a, b), b divides a
  mod,               ///< a % b, the sign of b
  modular_indexing,  ///< (x // d) % m
  min,               ///< Min(a, b)
  max,               ///< Max(a, b)
  abs,               ///< Abs(a)
  pow,               ///< a ** N, N a constant >= 0
};

/// An operation applied to typed operands; built by the operators and
/// functions below, never by hand. Operands of static type are empty, so a
/// tree without runtime_int leaves occupies no storage.
template <op_kind Op, class... Args>
struct tree {
  static_assert(sizeof...(Args) >= 1 && sizeof...(Args) <= 3, "a tree has one, two or three operands");
};

template <op_kind Op, class A>
struct tree<Op, A> {
  static constexpr op_kind op = Op;
  static constexpr std::size_t arity = 1;
  [[no_unique_address]] A arg0;
};

template <op_kind Op, class A, class B>
struct tree<Op, A, B> {
  static constexpr op_kind op = Op;
  static constexpr std::size_t arity = 2;
  [[no_unique_address]] A arg0;
  [[no_unique_address]] B arg1;
};

template <op_kind Op, class A, class B, class C>
struct tree<Op, A, B, C> {
  static constexpr op_kind op = Op;
  static constexpr std::size_t arity = 3;
  [[no_unique_address]] A arg0;
  [[no_unique_address]] B arg1;
  [[no_unique_address]] C arg2;
};

// ============================================================================
// traits and concepts
// ============================================================================

namespace detail {
template <class T>
inline constexpr bool is_constant = false;
template <std::int64_t V>
inline constexpr bool is_constant<constant<V>> = true;

template <class T>
inline constexpr bool is_var = false;
template <fixed_string Name, assumptions A>
inline constexpr bool is_var<var<Name, A>> = true;

template <class T>
inline constexpr bool is_tree = false;
template <op_kind Op, class... Args>
inline constexpr bool is_tree<tree<Op, Args...>> = true;

// A tree with `Kind` at its root.
template <class T, op_kind Kind>
inline constexpr bool is_tree_of = false;
template <op_kind Op, class... Args, op_kind Kind>
inline constexpr bool is_tree_of<tree<Op, Args...>, Kind> = Op == Kind;

// No runtime_int below: two such trees of one type are one expression.
template <class T>
inline constexpr bool is_pure = true;
template <>
inline constexpr bool is_pure<runtime_int> = false;
template <op_kind Op, class... Args>
inline constexpr bool is_pure<tree<Op, Args...>> = (is_pure<Args> && ...);

// A leaf whose value is known without bindings.
template <class T>
inline constexpr bool is_number = is_constant<T> || std::same_as<T, runtime_int>;

template <class T, std::int64_t V>
inline constexpr bool is_constant_of = std::same_as<T, constant<V>>;

template <class...>
inline constexpr bool always_false = false;
}  // namespace detail

/// True for constant<V> (and cv/ref-qualified forms).
template <class T>
inline constexpr bool is_constant_v = detail::is_constant<std::remove_cvref_t<T>>;

/// An expression template: a constant, a var, a runtime_int or a tree.
template <class T>
concept typed_expr = detail::is_constant<std::remove_cvref_t<T>> || detail::is_var<std::remove_cvref_t<T>> ||
                     detail::is_tree<std::remove_cvref_t<T>> ||
                     std::same_as<std::remove_cvref_t<T>, runtime_int>;

/// What a function taking a size accepts: an expression template, an
/// integer or a runtime sym::expr. `to_expr` lowers any of them.
template <class T>
concept extent = typed_expr<T> || expr_operand<T>;

/// Operands of the typed operators: extents, at least one of them typed (so
/// that these operators never compete with the ones on sym::expr).
template <class... Ts>
concept typed_operands = (extent<Ts> && ...) && (typed_expr<Ts> || ...);

// ============================================================================
// describe: the tree as written
// ============================================================================

namespace detail {

// Python precedence of what the root of a tree prints as (print.hpp's scale).
template <class E>
constexpr prec describe_prec(const E& e) noexcept {
  if constexpr (is_constant<E>) {
    return E::value < 0 ? prec::unary : prec::atom;
  } else if constexpr (std::same_as<E, runtime_int>) {
    return e.value < 0 ? prec::unary : prec::atom;
  } else if constexpr (is_var<E>) {
    return prec::atom;
  } else {
    switch (E::op) {
      case op_kind::add:
      case op_kind::sub: return prec::sum;
      case op_kind::mul:
      case op_kind::floor_div:
      case op_kind::mod: return prec::product;
      case op_kind::neg: return prec::unary;
      case op_kind::pow: return prec::power;
      case op_kind::ceil_div:
      case op_kind::clean_div:
      case op_kind::modular_indexing:
      case op_kind::min:
      case op_kind::max:
      case op_kind::abs: return prec::atom;
    }
    return prec::atom;
  }
}

template <class E>
void describe_into(std::string& out, const E& e, prec needed);

template <class E>
void describe_infix(std::string& out, const E& e, std::string_view op, prec left, prec right) {
  describe_into(out, e.arg0, left);
  out += op;
  describe_into(out, e.arg1, right);
}

template <class... Args>
void describe_call(std::string& out, std::string_view function, const Args&... args) {
  out += function;
  out += '(';
  bool first = true;
  ((out += first ? "" : ", ", first = false, describe_into(out, args, prec::sum)), ...);
  out += ')';
}

template <class E>
void describe_into(std::string& out, const E& e, prec needed) {
  const bool parens = describe_prec(e) < needed;
  if (parens) out += '(';
  if constexpr (is_constant<E>) {
    out += std::to_string(E::value);
    out += "_c";
  } else if constexpr (std::same_as<E, runtime_int>) {
    out += std::to_string(e.value);
  } else if constexpr (is_var<E>) {
    out += E::name;
  } else if constexpr (E::op == op_kind::neg) {
    out += '-';
    describe_into(out, e.arg0, prec::power);
  } else if constexpr (E::op == op_kind::abs) {
    describe_call(out, "Abs", e.arg0);
  } else if constexpr (E::op == op_kind::modular_indexing) {
    describe_call(out, "ModularIndexing", e.arg0, e.arg1, e.arg2);
  } else {
    // Python's binary operators associate to the left: the right operand
    // must bind tighter than the operator, except ** (right-associative).
    switch (E::op) {
      case op_kind::add: describe_infix(out, e, " + ", prec::sum, prec::product); break;
      case op_kind::sub: describe_infix(out, e, " - ", prec::sum, prec::product); break;
      case op_kind::mul: describe_infix(out, e, "*", prec::product, prec::unary); break;
      case op_kind::floor_div: describe_infix(out, e, "//", prec::product, prec::unary); break;
      case op_kind::mod: describe_infix(out, e, " % ", prec::product, prec::unary); break;
      case op_kind::pow: describe_infix(out, e, "**", prec::atom, prec::unary); break;
      case op_kind::ceil_div: describe_call(out, "CeilDiv", e.arg0, e.arg1); break;
      case op_kind::clean_div: describe_call(out, "CleanDiv", e.arg0, e.arg1); break;
      case op_kind::min: describe_call(out, "Min", e.arg0, e.arg1); break;
      case op_kind::max: describe_call(out, "Max", e.arg0, e.arg1); break;
      case op_kind::neg:
      case op_kind::abs:
      case op_kind::modular_indexing: break;  // handled above: other arity
    }
  }
  if (parens) out += ')';
}

}  // namespace detail

/// The tree as it was written, in Python notation: constants print as `8_c`,
/// run-time integers and symbols plainly, e.g. `2_c*s0 + 5`. Unlike
/// `to_string`, nothing is canonicalised.
template <typed_expr E>
[[nodiscard]] std::string describe(const E& e) {
  std::string out;
  detail::describe_into(out, e, detail::prec::sum);
  return out;
}

// ============================================================================
// int64 arithmetic with Python semantics, usable at compile time
// ============================================================================

namespace detail {

enum class fault : std::uint8_t { none, overflow, division_by_zero, inexact_division };

struct folded {
  std::int64_t value = 0;
  fault error = fault::none;
};

inline constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

// base ** exponent for exponent >= 0. The partial products only grow in
// magnitude, so the first overflow means the result overflows.
[[nodiscard]] constexpr folded checked_power(std::int64_t base, std::int64_t exponent) noexcept {
  std::int64_t r = 1;
  while (exponent > 0) {
    if ((exponent & 1) && __builtin_mul_overflow(r, base, &r)) return {0, fault::overflow};
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) return {0, fault::overflow};
  }
  return {r};
}

// The value of `Op` on int64 operands with Python semantics, or the fault
// that prevents it. The switch on a template argument folds away.
template <op_kind Op>
[[nodiscard]] constexpr folded fold_op(std::int64_t a, std::int64_t b = 0, std::int64_t c = 0) noexcept {
  std::int64_t r = 0;
  switch (Op) {
    case op_kind::add:
      if (__builtin_add_overflow(a, b, &r)) return {0, fault::overflow};
      return {r};
    case op_kind::sub:
      if (__builtin_sub_overflow(a, b, &r)) return {0, fault::overflow};
      return {r};
    case op_kind::neg:
      if (a == int64_min) return {0, fault::overflow};
      return {-a};
    case op_kind::mul:
      if (__builtin_mul_overflow(a, b, &r)) return {0, fault::overflow};
      return {r};
    case op_kind::floor_div:
    case op_kind::ceil_div:
    case op_kind::clean_div:
      if (b == 0) return {0, fault::division_by_zero};
      if (a == int64_min && b == -1) return {0, fault::overflow};
      if (Op == op_kind::floor_div) return {py_floordiv(a, b)};
      if (Op == op_kind::ceil_div) return {py_ceildiv(a, b)};
      if (a % b != 0) return {0, fault::inexact_division};
      return {a / b};
    case op_kind::mod:
      if (b == 0) return {0, fault::division_by_zero};
      return {py_mod(a, b)};
    case op_kind::modular_indexing:
      if (b == 0 || c == 0) return {0, fault::division_by_zero};
      if (a == int64_min && b == -1) return {0, fault::overflow};
      return {py_mod(py_floordiv(a, b), c)};
    case op_kind::min: return {a < b ? a : b};
    case op_kind::max: return {a < b ? b : a};
    case op_kind::abs:
      if (a == int64_min) return {0, fault::overflow};
      return {a < 0 ? -a : a};
    case op_kind::pow:
      WRAPGRAPH_ASSERT(b >= 0, "typed pow with a negative exponent");
      return checked_power(a, b);
  }
  return {};
}

[[nodiscard]] inline std::string fault_id(fault f) {
  switch (f) {
    case fault::overflow: return "wrapgraph.sym.overflow";
    case fault::division_by_zero: return "wrapgraph.sym.division_by_zero";
    case fault::inexact_division: return "wrapgraph.sym.inexact_division";
    case fault::none: break;
  }
  WRAPGRAPH_ASSERT(false, "fault_id of no fault");
  return {};
}

[[nodiscard]] inline std::string fault_text(fault f) {
  switch (f) {
    case fault::overflow: return "int64 overflow";
    case fault::division_by_zero: return "division by zero";
    case fault::inexact_division: return "inexact division";
    case fault::none: break;
  }
  return {};
}

// Raised where an int64 operation on run-time values fails: `where` is the
// operation with its operand values, e.g. `7//0`.
[[noreturn]] inline void raise_fault(fault f, const std::string& where) {
  throw sym_error(fault_id(f), fault_text(f) + " in " + where);
}

template <class>
using runtime_int_for = runtime_int;

// An operation on known values as text, e.g. `7//0`.
template <op_kind Op, class... Values>
[[nodiscard]] std::string describe_values(Values... values) {
  return describe(tree<Op, runtime_int_for<Values>...>{runtime_int{values}...});
}

// Op on run-time integers: the value, or a sym_error with the runtime form's id.
template <op_kind Op, class... Values>
[[nodiscard]] constexpr std::int64_t apply_checked(Values... values) {
  const folded r = fold_op<Op>(values...);
  if (r.error != fault::none) raise_fault(r.error, describe_values<Op>(values...));
  return r.value;
}

// An integer operand as int64; an unsigned value beyond int64 is an overflow.
template <integer_like I>
[[nodiscard]] constexpr std::int64_t as_int64(I v) {
  if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
    if (v > static_cast<std::make_unsigned_t<std::int64_t>>(std::numeric_limits<std::int64_t>::max()))
      raise_fault(fault::overflow, "conversion of " + std::to_string(v) + " to int64");
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace detail

// ============================================================================
// lowering into the runtime form
// ============================================================================

namespace detail {
// The runtime form of op applied to already lowered operands.
inline expr apply_runtime(context& ctx, op_kind op, std::span<const expr> a) {
  switch (op) {
    case op_kind::add: return ctx.add(a[0], a[1]);
    case op_kind::sub: return ctx.sub(a[0], a[1]);
    case op_kind::neg: return ctx.neg(a[0]);
    case op_kind::mul: return ctx.mul(a[0], a[1]);
    case op_kind::floor_div: return ctx.floor_div(a[0], a[1]);
    case op_kind::ceil_div: return ctx.ceil_div(a[0], a[1]);
    case op_kind::clean_div: return ctx.clean_div(a[0], a[1]);
    case op_kind::mod: return ctx.mod(a[0], a[1]);
    case op_kind::modular_indexing: return ctx.modular_indexing(a[0], a[1], a[2]);
    case op_kind::min: return ctx.min(a[0], a[1]);
    case op_kind::max: return ctx.max(a[0], a[1]);
    case op_kind::abs: return ctx.abs(a[0]);
    case op_kind::pow: return ctx.pow(a[0], a[1]);
  }
  WRAPGRAPH_ASSERT(false, "apply_runtime: unknown op_kind");
  return {};
}
}  // namespace detail

/// The runtime form of `e` in `ctx`: constants and run-time integers become
/// ctx.integer, vars ctx.symbol(name, assumptions), operations the context's
/// canonical constructors. Raises what those raise (e.g.
/// wrapgraph.sym.symbol_redeclared when `ctx` knows the name with other
/// assumptions).
template <typed_expr E>
[[nodiscard]] expr lower(context& ctx, const E& e) {
  if constexpr (detail::is_constant<E>) {
    return ctx.integer(E::value);
  } else if constexpr (std::same_as<E, runtime_int>) {
    return ctx.integer(e.value);
  } else if constexpr (detail::is_var<E>) {
    return ctx.symbol(E::name, E::assumed);
  } else if constexpr (E::arity == 1) {
    const expr a[] = {lower(ctx, e.arg0)};
    return detail::apply_runtime(ctx, E::op, a);
  } else if constexpr (E::arity == 2) {
    const expr a[] = {lower(ctx, e.arg0), lower(ctx, e.arg1)};
    return detail::apply_runtime(ctx, E::op, a);
  } else {
    const expr a[] = {lower(ctx, e.arg0), lower(ctx, e.arg1), lower(ctx, e.arg2)};
    return detail::apply_runtime(ctx, E::op, a);
  }
}

/// Any extent as a runtime expression of `ctx`: expression templates are
/// lowered, integers become ctx.integer, an expr must belong to `ctx`.
template <extent E>
[[nodiscard]] expr to_expr(context& ctx, const E& e) {
  if constexpr (typed_expr<E>)
    return lower(ctx, e);
  else
    return detail::lift(ctx, e);
}

/// The text of the lowered expression: equal to `to_string(lower(ctx, e))`
/// for any context, so both forms print alike.
template <typed_expr E>
[[nodiscard]] std::string to_string(const E& e) {
  context scratch;
  return to_string(lower(scratch, e));
}

template <typed_expr E>
std::ostream& operator<<(std::ostream& os, const E& e) {
  return os << to_string(e);
}

// ============================================================================
// building: folding and identities
// ============================================================================

namespace detail {

template <op_kind Op, std::int64_t... Vs>
constexpr auto fold_constants() {
  constexpr folded r = fold_op<Op>(Vs...);
  static_assert(r.error != fault::overflow,
                "folding constants overflows int64: the exact result of this operation on constants does not "
                "fit in std::int64_t");
  static_assert(r.error != fault::inexact_division,
                "clean_div of constants that do not divide: clean_div(a, b) requires b to divide a exactly");
  static_assert(r.error != fault::division_by_zero, "division by the constant 0_c");
  return constant<r.value>{};
}

// Operands that are all known values (constants or run-time integers), at
// least one of them run-time: the int64 result, computed now.
template <op_kind Op, class... Args>
constexpr auto node_or_value(const Args&... args) {
  if constexpr ((is_number<Args> && ...)) {
    auto value = [](const auto& x) -> std::int64_t {
      if constexpr (is_constant<std::remove_cvref_t<decltype(x)>>)
        return std::remove_cvref_t<decltype(x)>::value;
      else
        return x.value;
    };
    return apply_checked<Op>(value(args)...);
  } else {
    return tree<Op, Args...>{args...};
  }
}

template <op_kind Op, class A>
constexpr auto build_node(const A& a) {
  if constexpr (is_constant<A>) {
    return fold_constants<Op, A::value>();
  } else if constexpr (Op == op_kind::neg && is_tree_of<A, op_kind::neg>) {
    return a.arg0;  // -(-x) = x
  } else if constexpr (Op == op_kind::abs && (is_tree_of<A, op_kind::abs> || is_tree_of<A, op_kind::neg>)) {
    return tree<op_kind::abs, decltype(a.arg0)>{a.arg0};  // Abs(Abs(x)) = Abs(-x) = Abs(x)
  } else {
    return node_or_value<Op>(a);
  }
}

template <op_kind Op, class A, class B>
constexpr auto build_node(const A& a, const B& b) {
  constexpr bool divides = Op == op_kind::floor_div || Op == op_kind::ceil_div ||
                           Op == op_kind::clean_div || Op == op_kind::mod;
  constexpr bool same_pure = std::same_as<A, B> && is_pure<A>;
  if constexpr (divides && is_constant_of<B, 0>) {
    static_assert(always_false<A, B>,
                  "division by the constant 0_c: the divisor of floor_div, ceil_div, clean_div and mod must not be 0");
    return constant<0>{};
  } else if constexpr (is_constant<A> && is_constant<B>) {
    return fold_constants<Op, A::value, B::value>();
  } else if constexpr (Op == op_kind::add) {
    if constexpr (is_constant_of<B, 0>) return a;       // x + 0 = x
    else if constexpr (is_constant_of<A, 0>) return b;  // 0 + x = x
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::sub) {
    if constexpr (is_constant_of<B, 0>) return a;                    // x - 0 = x
    else if constexpr (same_pure) return constant<0>{};              // x - x = 0
    else if constexpr (is_constant_of<A, 0>) return build_node<op_kind::neg>(b);  // 0 - x = -x
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::mul) {
    if constexpr (is_constant_of<A, 0> || is_constant_of<B, 0>) return constant<0>{};  // x*0 = 0*x = 0
    else if constexpr (is_constant_of<B, 1>) return a;                                // x*1 = x
    else if constexpr (is_constant_of<A, 1>) return b;                                // 1*x = x
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::floor_div || Op == op_kind::ceil_div || Op == op_kind::clean_div) {
    if constexpr (is_constant_of<B, 1>) return a;  // x // 1 = CeilDiv(x, 1) = CleanDiv(x, 1) = x
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::mod) {
    if constexpr (is_constant_of<B, 1> || is_constant_of<B, -1>) return constant<0>{};  // x % ±1 = 0
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::min || Op == op_kind::max) {
    if constexpr (same_pure) return a;  // Min(x, x) = Max(x, x) = x
    else return node_or_value<Op>(a, b);
  } else if constexpr (Op == op_kind::pow) {
    static_assert(is_constant<B>, "build_node: a typed pow has a constant exponent (pow checks it is >= 0)");
    if constexpr (is_constant_of<B, 0>) return constant<1>{};  // x**0 = 1
    else if constexpr (is_constant_of<B, 1>) return a;         // x**1 = x
    else return node_or_value<Op>(a, b);
  } else {
    static_assert(always_false<A, B>, "build_node: this operation does not take two operands");
    return constant<0>{};
  }
}

template <op_kind Op, class X, class D, class M>
constexpr auto build_node(const X& x, const D& d, const M& m) {
  static_assert(Op == op_kind::modular_indexing, "build_node: only modular_indexing takes three operands");
  if constexpr (is_constant_of<D, 0> || is_constant_of<M, 0>) {
    static_assert(always_false<X, D, M>,
                  "division by the constant 0_c: the divisor and the modulus of modular_indexing must not be 0");
    return constant<0>{};
  } else if constexpr (is_constant<X> && is_constant<D> && is_constant<M>) {
    return fold_constants<Op, X::value, D::value, M::value>();
  } else if constexpr (is_constant_of<M, 1> || is_constant_of<M, -1>) {
    return constant<0>{};  // ModularIndexing(x, d, ±1) = 0
  } else if constexpr (is_constant_of<D, 1>) {
    return build_node<op_kind::mod>(x, m);  // ModularIndexing(x, 1, m) = x % m
  } else {
    return node_or_value<Op>(x, d, m);
  }
}

// A typed operand as it is stored in a tree: integers become runtime_int.
template <class T>
constexpr auto as_operand(const T& v) {
  if constexpr (typed_expr<T>)
    return v;
  else
    return runtime_int{as_int64(v)};
}

template <class T>
context* context_or_null(const T& v) noexcept {
  if constexpr (std::same_as<T, expr>)
    return &v.owner();
  else
    return nullptr;
}

// Op on operands of which at least one is typed: a runtime expr when a
// sym::expr is among them, else the folded or built typed result.
template <op_kind Op, class... Args>
constexpr auto combine(const Args&... args) {
  if constexpr ((std::same_as<Args, expr> || ...)) {
    context* ctx = nullptr;
    ((ctx = ctx != nullptr ? ctx : context_or_null(args)), ...);
    const expr lowered[] = {to_expr(*ctx, args)...};
    return apply_runtime(*ctx, Op, lowered);
  } else {
    return build_node<Op>(as_operand(args)...);
  }
}

}  // namespace detail

// ============================================================================
// operators and functions
// ============================================================================

template <class A, class B>
  requires typed_operands<A, B>
constexpr auto operator+(const A& a, const B& b) {
  return detail::combine<op_kind::add>(a, b);
}
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto operator-(const A& a, const B& b) {
  return detail::combine<op_kind::sub>(a, b);
}
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto operator*(const A& a, const B& b) {
  return detail::combine<op_kind::mul>(a, b);
}
template <typed_expr A>
constexpr auto operator-(const A& a) {
  return detail::build_node<op_kind::neg>(a);
}

/// a // b, rounding towards -inf.
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto floor_div(const A& a, const B& b) {
  return detail::combine<op_kind::floor_div>(a, b);
}
/// -((-a) // b), rounding towards +inf.
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto ceil_div(const A& a, const B& b) {
  return detail::combine<op_kind::ceil_div>(a, b);
}
/// a / b where b divides a.
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto clean_div(const A& a, const B& b) {
  return detail::combine<op_kind::clean_div>(a, b);
}
/// a % b with the sign of b (Python).
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto mod(const A& a, const B& b) {
  return detail::combine<op_kind::mod>(a, b);
}
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto min(const A& a, const B& b) {
  return detail::combine<op_kind::min>(a, b);
}
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto max(const A& a, const B& b) {
  return detail::combine<op_kind::max>(a, b);
}
/// (x // div) % m, as Inductor's ModularIndexing.
template <class X, class D, class M>
  requires typed_operands<X, D, M>
constexpr auto modular_indexing(const X& x, const D& div, const M& m) {
  return detail::combine<op_kind::modular_indexing>(x, div, m);
}
template <typed_expr A>
constexpr auto abs(const A& a) {
  return detail::build_node<op_kind::abs>(a);
}
/// base ** N for a constant N >= 0: `pow<2>(s0)`. Also takes an integer or a
/// sym::expr base.
template <std::int64_t N, extent B>
constexpr auto pow(const B& base) {
  if constexpr (N < 0) {
    static_assert(N >= 0, "pow<N> needs N >= 0: a negative power is a true quotient, which has no typed form");
    return constant<0>{};
  } else {
    return detail::combine<op_kind::pow>(base, constant<N>{});
  }
}
/// base ** exponent where the exponent is a constant such as `3_c` (or either
/// side is a sym::expr, which gives the runtime power).
template <class A, class B>
  requires typed_operands<A, B>
constexpr auto pow(const A& base, const B& exponent) {
  if constexpr (std::same_as<A, expr> || std::same_as<B, expr>) {
    return detail::combine<op_kind::pow>(base, exponent);
  } else if constexpr (!detail::is_constant<B>) {
    static_assert(detail::is_constant<B>,
                  "the exponent of a typed pow must be a constant such as 2_c; lower to sym::expr for a "
                  "symbolic exponent");
    return constant<0>{};
  } else {
    return pow<B::value>(base);
  }
}

// ============================================================================
// the literal
// ============================================================================

namespace detail {
struct parsed_literal {
  std::int64_t value = 0;
  bool is_integer = true;
  bool fits = true;
};

// Decimal, 0x hexadecimal, 0b binary or 0 octal, with ' separators.
template <char... Cs>
consteval parsed_literal parse_literal() {
  constexpr char text[] = {Cs...};
  constexpr std::size_t n = sizeof...(Cs);
  parsed_literal r;
  std::size_t i = 0;
  int radix = 10;
  if (n > 1 && text[0] == '0') {
    if (text[1] == 'x' || text[1] == 'X') {
      radix = 16;
      i = 2;
    } else if (text[1] == 'b' || text[1] == 'B') {
      radix = 2;
      i = 2;
    } else {
      radix = 8;
      i = 1;
    }
  }
  for (; i < n; ++i) {
    const char ch = text[i];
    if (ch == '\'') continue;
    int digit = 99;
    if (ch >= '0' && ch <= '9') digit = ch - '0';
    else if (ch >= 'a' && ch <= 'f') digit = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') digit = ch - 'A' + 10;
    if (digit >= radix) {
      r.is_integer = false;
      return r;
    }
    if (__builtin_mul_overflow(r.value, radix, &r.value) || __builtin_add_overflow(r.value, digit, &r.value)) {
      r.fits = false;
      return r;
    }
  }
  return r;
}
}  // namespace detail

inline namespace literals {
/// `8_c` is constant<8>; `-8_c` is constant<-8> (unary minus folds).
/// constexpr rather than consteval: Clang 14 leaves calls to a consteval
/// literal used inside templates unresolved at link time; the value is a
/// type either way.
template <char... Cs>
constexpr auto operator""_c() noexcept {
  constexpr detail::parsed_literal r = detail::parse_literal<Cs...>();
  static_assert(r.is_integer, "_c makes integer constants: write an integer literal such as 8_c or 0x10_c");
  static_assert(r.fits, "the literal does not fit in std::int64_t: the largest constant is 9223372036854775807_c");
  return constant<r.value>{};
}
}  // namespace literals

// ============================================================================
// evaluation
// ============================================================================

namespace detail {

template <fixed_string Name>
struct symbol_has_no_binding {
  static_assert(always_false<symbol_has_no_binding>,
                "eval(e, bindings...): the symbol named in this template's argument has no binding; pass "
                "`name = value` for it");
};

[[noreturn]] inline void raise_assumption_violated(std::string_view name, sign_kind sign, std::int64_t v) {
  throw sym_error("wrapgraph.sym.assumption_violated",
                  "symbol '" + std::string(name) + "' is declared " +
                      (sign == sign_kind::positive ? "positive" : "nonnegative") + " but is bound to " +
                      std::to_string(v));
}

constexpr std::int64_t checked_binding(std::string_view name, assumptions a, std::int64_t v) {
  if ((a.sign == sign_kind::positive && v < 1) || (a.sign == sign_kind::nonnegative && v < 0))
    raise_assumption_violated(name, a.sign, v);
  return v;
}

template <fixed_string Name, fixed_string... Names>
consteval std::size_t binding_index() {
  const std::string_view names[] = {Names.view()..., {}};
  for (std::size_t i = 0; i < sizeof...(Names); ++i) {
    if (names[i] == Name.view()) return i;
  }
  return sizeof...(Names);
}

template <fixed_string... Names>
consteval bool names_distinct() {
  const std::string_view names[] = {Names.view()..., {}};
  for (std::size_t i = 0; i < sizeof...(Names); ++i) {
    for (std::size_t j = i + 1; j < sizeof...(Names); ++j) {
      if (names[i] == names[j]) return false;
    }
  }
  return true;
}

// Values of typed bindings; looking one up is resolved at compile time.
template <fixed_string... Names>
struct typed_values {
  std::array<std::int64_t, sizeof...(Names)> values;

  template <fixed_string Name, assumptions A>
  constexpr std::int64_t get(const var<Name, A>&) const {
    constexpr std::size_t i = binding_index<Name, Names...>();
    if constexpr (i == sizeof...(Names)) {
      (void)symbol_has_no_binding<Name>{};
      return 0;
    } else {
      return checked_binding(Name.view(), A, values[i]);
    }
  }
};

// The distinct vars of a tree, in order of first appearance.
struct var_info {
  std::string_view name;
  assumptions assumed;
};

template <class E>
inline constexpr std::size_t var_leaves = 0;
template <fixed_string Name, assumptions A>
inline constexpr std::size_t var_leaves<var<Name, A>> = 1;
template <op_kind Op, class... Args>
inline constexpr std::size_t var_leaves<tree<Op, Args...>> = (var_leaves<Args> + ...);

template <class E>
constexpr void collect_vars(const E*, var_info* out, std::size_t& count) {
  if constexpr (is_var<E>) {
    for (std::size_t i = 0; i < count; ++i) {
      if (out[i].name == E::name) return;
    }
    out[count++] = {E::name, E::assumed};
  }
}
template <op_kind Op, class... Args>
constexpr void collect_vars(const tree<Op, Args...>*, var_info* out, std::size_t& count) {
  (collect_vars(static_cast<const Args*>(nullptr), out, count), ...);
}

template <class E>
struct vars_of {
  struct list {
    std::array<var_info, var_leaves<E>> vars{};
    std::size_t count = 0;
  };
  static constexpr list value = [] {
    list l;
    collect_vars(static_cast<const E*>(nullptr), l.vars.data(), l.count);
    return l;
  }();

  template <fixed_string Name>
  static consteval std::size_t index() {
    for (std::size_t i = 0; i < value.count; ++i) {
      if (value.vars[i].name == Name.view()) return i;
    }
    return value.count;
  }
};

// Values of the vars of E, in the order of vars_of<E>; each var's slot is
// found at compile time.
template <class E>
struct indexed_values {
  std::span<const std::int64_t> values;

  template <fixed_string Name, assumptions A>
  constexpr std::int64_t get(const var<Name, A>&) const {
    return values[vars_of<E>::template index<Name>()];
  }
};

template <class E, class... Values>
[[noreturn]] void raise_eval_fault(const E& e, fault f, Values... values) {
  throw sym_error(fault_id(f), fault_text(f) + " in " + describe(e) + ", evaluated as " +
                                   describe_values<E::op>(values...));
}

template <class E, class Env>
constexpr std::int64_t evaluate_node(const E& e, const Env& env);

template <class E, class... Values>
constexpr std::int64_t evaluate_op(const E& e, Values... values) {
  const folded r = fold_op<E::op>(values...);
  if (r.error != fault::none) raise_eval_fault(e, r.error, values...);
  return r.value;
}

template <class E, class Env>
constexpr std::int64_t evaluate_node(const E& e, const Env& env) {
  if constexpr (is_constant<E>) {
    return E::value;
  } else if constexpr (std::same_as<E, runtime_int>) {
    return e.value;
  } else if constexpr (is_var<E>) {
    return env.get(e);
  } else if constexpr (E::arity == 1) {
    return evaluate_op(e, evaluate_node(e.arg0, env));
  } else if constexpr (E::arity == 2) {
    const std::int64_t a = evaluate_node(e.arg0, env);
    return evaluate_op(e, a, evaluate_node(e.arg1, env));
  } else {
    const std::int64_t a = evaluate_node(e.arg0, env);
    const std::int64_t b = evaluate_node(e.arg1, env);
    return evaluate_op(e, a, b, evaluate_node(e.arg2, env));
  }
}

}  // namespace detail

/// The value of `e` with vars bound by typed bindings: `eval(2_c*s0 + 1_c,
/// s0 = 8)` is 17. Which binding feeds which var is decided at compile time
/// (a var without a binding is a static_assert error), and the arithmetic
/// runs inline with Python semantics and int64 overflow checks. Constant
/// expression when the bindings are. Errors (sym_error, as `evaluate`):
/// wrapgraph.sym.division_by_zero, .overflow, .inexact_division,
/// .assumption_violated.
template <typed_expr E, fixed_string... Names>
[[nodiscard]] constexpr std::int64_t eval(const E& e, const binding<Names>&... values) {
  static_assert(detail::names_distinct<Names...>(),
                "eval(e, bindings...): a symbol is bound twice; give each symbol one `name = value`");
  const detail::typed_values<Names...> env{{values.value...}};
  return detail::evaluate_node(e, env);
}

/// The value of `e` with vars bound by name at run time: each distinct var
/// is looked up once, then the arithmetic runs as with typed bindings. A var
/// without a value raises wrapgraph.sym.unbound_symbol, as `evaluate` does.
template <typed_expr E>
[[nodiscard]] std::int64_t eval(const E& e, const bindings& values) {
  constexpr auto& vars = detail::vars_of<E>::value;
  std::array<std::int64_t, vars.vars.size()> found{};
  for (std::size_t i = 0; i < vars.count; ++i) {
    const auto v = values.find(vars.vars[i].name);
    if (!v) {
      throw sym_error("wrapgraph.sym.unbound_symbol", "symbol '" + std::string(vars.vars[i].name) +
                                                          "' has no value in " + describe(e));
    }
    found[i] = detail::checked_binding(vars.vars[i].name, vars.vars[i].assumed, *v);
  }
  return detail::evaluate_node(e, detail::indexed_values<E>{found});
}

}  // namespace wrapgraph::sym

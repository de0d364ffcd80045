#pragma once
/// The owner of runtime expressions: interns every node (hash-consing) and
/// builds each one in canonical form, so that equal expressions are the same
/// node. Also the operators on sym::expr.
///
/// Canonical form, by kind (each rule is an identity over the integers under
/// the symbols' assumptions; tests/sym check every rule as a law):
///
///   add   flattened; like terms collected (c1*m + c2*m = (c1+c2)*m); zero
///         terms dropped; terms ordered by their factors (fewer first); the
///         integer term last.
///   mul   flattened; powers of one base merged (x**a * x**b = x**(a+b));
///         the integer coefficient first; c*(a + b) = c*a + c*b for an
///         integer c (as sympy does); a sum among several factors is kept
///         primitive (content 1, first term positive) so that grouping
///         does not matter: (2*s0 + 2)*s1 = 2*(s0 + 1)*s1; x*0 = 0, x*1 = x.
///   pow   x**0 = 1, x**1 = x, (x**a)**n = x**(a*n), (c*x*y)**n = c**n *
///         x**n * y**n for integer n >= 0, (2*s0 + 2)**n = 2**n*(s0 + 1)**n; a negative exponent is a quotient
///         1/x**n, meaningful only inside floor/ceiling.
///   floor_div(a, b)   a//1 = a, a//-1 = -a, 0//b = 0, a//(-b) = (-a)//b,
///         (g*a)//(g*b) = a//b (g > 0), (q*b + r)//b = q + r//b,
///         (a//b)//c = a//(b*c) (b, c > 0), a//b = 0 when 0 <= a < b.
///   ceil_div, clean_div  the same pattern; clean_div of a non-multiple
///         constant is an error.
///   mod(a, b)  a%1 = 0, (q*b + r)%b = r%b (b a monomial or a sum), (g*a)%(g*b) = g*(a%b) (g > 0),
///         coefficients reduced modulo b, (a%b)%c = a%c when c divides b,
///         a%b = a when 0 <= a < b.
///   modular_indexing(x, d, m) = (x//d)%m, and (x//d)%m is built as it:
///         m = 1 gives 0, x//d that simplifies (d = 1, constants, ...) gives
///         (x//d)%m of the simplified quotient, 0 <= x < d*m gives x//d.
///   min, max  flattened, duplicates and dominated arguments dropped (by the
///         arguments' value ranges), integers folded, canonical order.
///   abs   Abs(x) = x when x >= 0, -x when x <= 0, Abs(c*x) = |c|*Abs(x),
///         Abs(-x) = Abs(x) (the argument of x and -x that sorts first).
///   rational  a/b kept as one quotient ("together"): (a/b)/(c/d) = (a*d)/(b*c),
///         a/b + c/b = (a + c)/b, common integer content and exactly dividing
///         monomials cancelled, b > 0 when b is an integer.
///   floor(a/b) = a//b and ceiling(a/b) = CeilDiv(a, b); floor and ceiling
///         of an integer expression are the expression.
///
/// A context is not thread-safe; nodes live as long as their context.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <memory_resource>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::sym {

namespace detail {

/// Scratch lists of the canonical constructors: most hold a few elements.
template <class T>
using small_vector = boost::container::small_vector<T, 8>;

// ---- checked and saturating int64 arithmetic -------------------------------

inline constexpr std::int64_t neg_inf = value_range::unbounded_below;
inline constexpr std::int64_t pos_inf = value_range::unbounded_above;

[[noreturn]] inline void overflow(std::string_view what) {
  throw sym_error("wrapgraph.sym.overflow", "int64 overflow in " + std::string(what));
}

inline std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(what);
  return r;
}
inline std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(what);
  return r;
}
inline std::int64_t checked_neg(std::int64_t a, std::string_view what) {
  if (a == INT64_MIN) overflow(what);
  return -a;
}

// Python floor division and modulo; the caller has excluded b == 0 and
// INT64_MIN // -1.
[[nodiscard]] constexpr std::int64_t py_floordiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
[[nodiscard]] constexpr std::int64_t py_ceildiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}
[[nodiscard]] constexpr std::int64_t py_mod(std::int64_t a, std::int64_t b) noexcept {
  if (b == -1) return 0;
  const std::int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

inline std::int64_t checked_pow(std::int64_t base, std::int64_t exponent, std::string_view what) {
  // Square and multiply. Squaring overflows only when a factor of at least
  // base**2 is still to come, so the result would overflow too.
  std::int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = checked_mul(result, base, what);
    exponent >>= 1;
    if (exponent > 0) base = checked_mul(base, base, what);
  }
  return result;
}

// Interval arithmetic where neg_inf and pos_inf stand for -inf and +inf and
// any overflow saturates to the infinity of its sign.
[[nodiscard]] constexpr bool is_inf(std::int64_t v) noexcept { return v == neg_inf || v == pos_inf; }

[[nodiscard]] constexpr std::int64_t sat_add(std::int64_t a, std::int64_t b) noexcept {
  if (a == neg_inf || b == neg_inf) return (a == pos_inf || b == pos_inf) ? 0 : neg_inf;
  if (a == pos_inf || b == pos_inf) return pos_inf;
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return a < 0 ? neg_inf : pos_inf;
  return r;
}
[[nodiscard]] constexpr std::int64_t sat_mul(std::int64_t a, std::int64_t b) noexcept {
  if (a == 0 || b == 0) return 0;
  const bool negative = (a < 0) != (b < 0);
  if (is_inf(a) || is_inf(b)) return negative ? neg_inf : pos_inf;
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return negative ? neg_inf : pos_inf;
  return r;
}
[[nodiscard]] constexpr std::int64_t sat_neg(std::int64_t a) noexcept {
  if (a == neg_inf) return pos_inf;
  if (a == pos_inf) return neg_inf;
  return -a;
}

[[nodiscard]] constexpr value_range range_add(value_range a, value_range b) noexcept {
  const std::int64_t lo = (a.lo == neg_inf || b.lo == neg_inf) ? neg_inf : sat_add(a.lo, b.lo);
  const std::int64_t hi = (a.hi == pos_inf || b.hi == pos_inf) ? pos_inf : sat_add(a.hi, b.hi);
  return {lo == pos_inf ? neg_inf : lo, hi == neg_inf ? pos_inf : hi};
}
[[nodiscard]] constexpr value_range range_mul(value_range a, value_range b) noexcept {
  const std::int64_t c[4] = {sat_mul(a.lo, b.lo), sat_mul(a.lo, b.hi), sat_mul(a.hi, b.lo),
                             sat_mul(a.hi, b.hi)};
  return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
}

// Floor division of a bound by a positive constant; infinities stay.
[[nodiscard]] constexpr std::int64_t bound_floordiv(std::int64_t v, std::int64_t c) noexcept {
  return is_inf(v) ? v : py_floordiv(v, c);
}
[[nodiscard]] constexpr std::int64_t bound_ceildiv(std::int64_t v, std::int64_t c) noexcept {
  return is_inf(v) ? v : py_ceildiv(v, c);
}

// Deterministic hashing (the same expression hashes alike in every context).
[[nodiscard]] constexpr std::size_t hash_mix(std::size_t h, std::size_t v) noexcept {
  v *= 0x9E3779B97F4A7C15ull;
  v ^= v >> 29;
  h ^= v + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  return h;
}
// A full avalanche of a hash's bits (murmur3's finaliser), so that the low
// bits that pick a slot of the intern table depend on all of them.
[[nodiscard]] constexpr std::size_t spread(std::size_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}
[[nodiscard]] constexpr std::size_t hash_string(std::string_view s) noexcept {
  std::size_t h = 1469598103934665603ull;
  for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  return h;
}

// Natural order of names: "s2" < "s10", then plain lexicographic.
[[nodiscard]] inline int compare_names(std::string_view a, std::string_view b) noexcept {
  auto split = [](std::string_view s) {
    std::size_t i = s.size();
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') --i;
    return i;
  };
  const std::size_t ia = split(a), ib = split(b);
  const std::string_view pa = a.substr(0, ia), pb = b.substr(0, ib);
  if (pa != pb) return pa < pb ? -1 : 1;
  const std::string_view da = a.substr(ia), db = b.substr(ib);
  // Compare digit runs by length (ignoring leading zeros), then text.
  auto strip = [](std::string_view d) {
    while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
    return d;
  };
  const std::string_view sa = strip(da), sb = strip(db);
  if (sa.size() != sb.size()) return sa.size() < sb.size() ? -1 : 1;
  if (sa != sb) return sa < sb ? -1 : 1;
  if (a != b) return a < b ? -1 : 1;
  return 0;
}

[[nodiscard]] constexpr int kind_rank(expr_kind k) noexcept {
  switch (k) {
    case expr_kind::integer: return 0;
    case expr_kind::symbol: return 1;
    case expr_kind::pow: return 2;
    case expr_kind::mul: return 3;
    case expr_kind::add: return 100;
    default: return 10 + static_cast<int>(k);
  }
}

}  // namespace detail

/// The canonical total order of expressions, the same in every context:
/// integers by value, then symbols by natural name order (a power right
/// after its base), products, functions and sums, each compared argument by
/// argument.
/// Returns <0, 0 or >0. compare(a, b) == 0 exactly when a == b.
[[nodiscard]] inline int compare(expr a, expr b) noexcept {
  if (a == b) return 0;
  // A power sorts next to its base (x < x**2 < y), so products read s0**2*s1.
  const bool pa = a.is(expr_kind::pow), pb = b.is(expr_kind::pow);
  if (pa != pb) {
    const int c = pa ? compare(a.arg(0), b) : compare(a, b.arg(0));
    if (c != 0) return c;
    return pa ? 1 : -1;
  }
  const int ra = detail::kind_rank(a.kind()), rb = detail::kind_rank(b.kind());
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind()) {
    case expr_kind::integer:
      return a.value() < b.value() ? -1 : (a.value() > b.value() ? 1 : 0);
    case expr_kind::symbol:
      return detail::compare_names(a.name(), b.name());
    default:
      break;
  }
  const auto aa = a.args(), ba = b.args();
  const std::size_t n = std::min(aa.size(), ba.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (const int c = compare(aa[i], ba[i]); c != 0) return c;
  }
  if (aa.size() != ba.size()) return aa.size() < ba.size() ? -1 : 1;
  return 0;
}

/// Strict weak ordering for ordered containers of exprs.
struct expr_less {
  bool operator()(expr a, expr b) const noexcept { return compare(a, b) < 0; }
};

/// Owns and interns expression nodes. Every expression is built through a
/// context (or through operators on exprs, which find their context), and is
/// returned in canonical form. Not copyable or movable: nodes point to it.
class context {
 public:
  context() = default;
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  // ---- leaves ---------------------------------------------------------------

  /// The integer constant `v`.
  expr integer(std::int64_t v) {
    if (v >= small_min && v <= small_max) {
      auto& slot = small_[static_cast<std::size_t>(v - small_min)];
      if (slot.is_null()) slot = intern(expr_kind::integer, {}, v);
      return slot;
    }
    return intern(expr_kind::integer, {}, v);
  }

  /// The symbol named `name` (an identifier). Declaring a name again returns
  /// the same node; declaring it with other assumptions is an error.
  expr symbol(std::string_view name, assumptions assumed = {}) {
    if (auto found = symbols_by_name_.find(name); found != symbols_by_name_.end()) {
      const expr s = found->second;
      if (s.symbol_assumptions() != assumed) {
        throw sym_error("wrapgraph.sym.symbol_redeclared",
                        "symbol '" + std::string(name) +
                            "' was already declared with other assumptions");
      }
      return s;
    }
    if (!is_identifier(name)) {
      throw sym_error("wrapgraph.sym.invalid_symbol_name",
                      "'" + std::string(name) +
                          "' is not a valid symbol name (letters, digits and '_', not "
                          "starting with a digit)");
    }
    char* text = static_cast<char*>(arena_.allocate(name.size(), 1));
    std::memcpy(text, name.data(), name.size());
    auto* n = new_node(expr_kind::symbol, 0);
    n->assumed = assumed;
    n->value = static_cast<std::int64_t>(symbols_.size());
    n->name = std::string_view(text, name.size());
    n->hash = detail::hash_mix(detail::hash_string(n->name), 0x5157);
    n->range = symbol_range(assumed);
    n->size = 1;
    const expr s{n};
    symbols_.push_back(s);
    symbols_by_name_.emplace(n->name, s);
    ++nodes_;
    return s;
  }

  /// The symbol named `name` if it was declared, else a null expr.
  [[nodiscard]] expr find_symbol(std::string_view name) const {
    const auto found = symbols_by_name_.find(name);
    return found == symbols_by_name_.end() ? expr{} : found->second;
  }
  /// Every declared symbol, in order of declaration (index = symbol_id()).
  [[nodiscard]] std::span<const expr> symbols() const noexcept { return symbols_; }
  /// Number of distinct nodes interned so far.
  [[nodiscard]] std::size_t node_count() const noexcept { return nodes_; }

  // ---- arithmetic -----------------------------------------------------------

  expr add(expr a, expr b) {
    if (a.is_integer() && b.is_integer())
      return integer(detail::checked_add(a.value(), b.value(), "addition"));
    if (b.is_integer(0)) return a;
    if (a.is_integer(0)) return b;
    if (b.is_integer() && !a.is(expr_kind::rational)) return add_constant(a, b.value());
    if (a.is_integer() && !b.is(expr_kind::rational)) return add_constant(b, a.value());
    const expr both[2] = {a, b};
    return add(std::span<const expr>(both));
  }
  expr add(std::span<const expr> terms);
  expr add(std::initializer_list<expr> terms) { return add(std::span(terms.begin(), terms.size())); }

  expr sub(expr a, expr b) {
    if (a.is_integer() && b.is_integer()) {
      std::int64_t r;
      if (__builtin_sub_overflow(a.value(), b.value(), &r)) detail::overflow("subtraction");
      return integer(r);
    }
    return add(a, neg(b));
  }
  expr neg(expr a) {
    if (a.is_integer()) return integer(detail::checked_neg(a.value(), "negation"));
    return mul(integer(-1), a);
  }

  expr mul(expr a, expr b) {
    if (a.is_integer() && b.is_integer())
      return integer(detail::checked_mul(a.value(), b.value(), "multiplication"));
    if (b.is_integer(1)) return a;
    if (a.is_integer(1)) return b;
    // c*x for a leaf or a function of x: nothing to merge or distribute.
    if (a.is_integer() && !a.is_integer(0) && is_plain_factor(b)) return intern(expr_kind::mul, std::array{a, b});
    if (b.is_integer() && !b.is_integer(0) && is_plain_factor(a)) return intern(expr_kind::mul, std::array{b, a});
    const expr both[2] = {a, b};
    return mul(std::span<const expr>(both));
  }
  expr mul(std::span<const expr> factors);
  expr mul(std::initializer_list<expr> factors) {
    return mul(std::span(factors.begin(), factors.size()));
  }

  /// base ** exponent for an integer exponent expression (assumed >= 0 when
  /// symbolic; a negative constant exponent yields the quotient 1/base**-n).
  expr pow(expr base, expr exponent);

  expr floor_div(expr a, expr b);
  expr ceil_div(expr a, expr b);
  /// a / b where b is known to divide a; an inexact constant division is an
  /// error.
  expr clean_div(expr a, expr b);
  /// Python modulo: the result has the sign of b.
  expr mod(expr a, expr b);
  /// (x // div) % mod, as Inductor's ModularIndexing.
  expr modular_indexing(expr x, expr div, expr mod);
  expr min(std::span<const expr> args) { return min_max(expr_kind::min, args); }
  expr max(std::span<const expr> args) { return min_max(expr_kind::max, args); }
  expr min(expr a, expr b) {
    const expr both[2] = {a, b};
    return min(std::span<const expr>(both));
  }
  expr max(expr a, expr b) {
    const expr both[2] = {a, b};
    return max(std::span<const expr>(both));
  }
  expr abs(expr a);

  /// The true quotient a / b, kept as one fraction; only floor and ceiling
  /// turn it back into an integer expression.
  expr true_div(expr a, expr b);
  /// floor(e): a // b for a quotient a / b (the reference's replace_floor_div),
  /// e itself for an integer expression.
  expr floor(expr e) {
    if (e.is(expr_kind::rational)) return floor_div(e.arg(0), e.arg(1));
    return e;
  }
  /// ceiling(e): CeilDiv(a, b) for a quotient a / b, e itself otherwise.
  expr ceiling(expr e) {
    if (e.is(expr_kind::rational)) return ceil_div(e.arg(0), e.arg(1));
    return e;
  }

  /// The node of `kind` with `args`, built in canonical form (dispatches to
  /// the constructors above). Used by substitution and parsers.
  expr make(expr_kind kind, std::span<const expr> args);

 private:
  static constexpr std::int64_t small_min = -64;
  static constexpr std::int64_t small_max = 1024;

  // A product split into an integer coefficient and its other factors.
  struct term {
    std::int64_t coeff;
    std::span<const expr> factors;  // canonical order; empty for the constant
  };

  static bool is_identifier(std::string_view s) noexcept {
    if (s.empty()) return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
  }

  static value_range symbol_range(assumptions a) noexcept {
    switch (a.sign) {
      case sign_kind::positive: return {1, detail::pos_inf};
      case sign_kind::nonnegative: return {0, detail::pos_inf};
      case sign_kind::any: break;
    }
    return {};
  }

  detail::node* new_node(expr_kind kind, std::uint32_t nargs) {
    void* mem = arena_.allocate(sizeof(detail::node) + nargs * sizeof(expr), alignof(detail::node));
    auto* n = static_cast<detail::node*>(mem);
    n->owner = this;
    n->hash = 0;
    n->args = reinterpret_cast<const expr*>(static_cast<char*>(mem) + sizeof(detail::node));
    n->nargs = nargs;
    n->kind = kind;
    n->assumed = {};
    n->value = 0;
    n->name = {};
    n->range = {};
    n->size = 1;
    return n;
  }

  static std::size_t structural_hash(expr_kind kind, std::span<const expr> args,
                                     std::int64_t value) noexcept {
    std::size_t h = detail::hash_mix(static_cast<std::size_t>(kind) + 1,
                                     static_cast<std::size_t>(value));
    for (expr a : args) h = detail::hash_mix(h, a.hash());
    return h;
  }

  /// Returns the unique node (kind, args, value); args must already be in
  /// canonical form and order.
  expr intern(expr_kind kind, std::span<const expr> args, std::int64_t value = 0) {
    const std::size_t h = structural_hash(kind, args, value);
    if (slots_.empty()) slots_.assign(4096, slot{});
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = detail::spread(h) & mask;
    // The slot keeps the hash, so probing past other nodes reads no node.
    for (; slots_[i].node; i = (i + 1) & mask) {
      const detail::node* n = slots_[i].node;
      if (slots_[i].hash == h && n->kind == kind && n->value == value && n->nargs == args.size() &&
          std::equal(args.begin(), args.end(), n->args))
        return expr{n};
    }
    auto* n = new_node(kind, static_cast<std::uint32_t>(args.size()));
    std::uninitialized_copy(args.begin(), args.end(), const_cast<expr*>(n->args));
    n->value = value;
    n->hash = h;
    n->range = compute_range(kind, args, value);
    std::uint64_t size = 1;
    for (expr a : args) size += a.node_count();  // an upper bound on distinct nodes
    n->size = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, UINT32_MAX));
    slots_[i] = slot{h, n};
    ++nodes_;
    ++interned_;
    if (interned_ * 2 > slots_.size()) grow();
    return expr{n};
  }

  void grow() {
    // Growing fourfold rehashes each node about a third as often as doubling.
    std::vector<slot> bigger(slots_.size() * 4, slot{});
    const std::size_t mask = bigger.size() - 1;
    for (const slot& s : slots_) {
      if (!s.node) continue;
      std::size_t i = detail::spread(s.hash) & mask;
      while (bigger[i].node) i = (i + 1) & mask;
      bigger[i] = s;
    }
    slots_.swap(bigger);
  }

  static value_range compute_range(expr_kind kind, std::span<const expr> args, std::int64_t value);

  // helpers of the canonical constructors
  expr add_terms(detail::small_vector<term>& terms, std::int64_t constant);
  expr term_expr(std::int64_t coeff, std::span<const expr> factors);
  // The factors may point at e itself: e must outlive the term.
  static term split(const expr& e);
  static term split(expr&&) = delete;
  static std::int64_t content(expr e);
  static std::int64_t primitive_factor(expr sum);
  expr pull_multiple(expr a, expr b, std::int64_t& k);
  expr divide_content(expr e, std::int64_t g);
  expr try_divide_exactly(expr a, expr b);
  expr try_divide_term(const term& t, expr b);
  expr min_max(expr_kind kind, std::span<const expr> args);
  expr rounding_division(expr_kind kind, expr a, expr b);
  expr add_with_rationals(std::span<const expr> terms);
  expr mul_with_rationals(std::span<const expr> factors);
  [[noreturn]] void rational_operand(std::string_view op, expr a);
  [[noreturn]] void division_by_zero(std::string_view op, expr a, expr b);
  static bool looks_negative(expr e) noexcept;
  expr add_constant(expr a, std::int64_t k);
  // A factor that a product keeps as it is: not a number, sum, product,
  // power or quotient.
  static bool is_plain_factor(expr e) noexcept {
    switch (e.kind()) {
      case expr_kind::integer:
      case expr_kind::add:
      case expr_kind::mul:
      case expr_kind::pow:
      case expr_kind::rational:
        return false;
      default:
        return true;
    }
  }

  std::pmr::monotonic_buffer_resource arena_{std::size_t{1} << 16};
  struct slot {
    std::size_t hash = 0;
    const detail::node* node = nullptr;
  };
  std::vector<slot> slots_;
  std::size_t interned_ = 0;
  std::size_t nodes_ = 0;
  expr small_[small_max - small_min + 1]{};
  std::vector<expr> symbols_;
  std::unordered_map<std::string_view, expr> symbols_by_name_;
};

// ============================================================================
// implementation
// ============================================================================

inline value_range context::compute_range(expr_kind kind, std::span<const expr> args,
                                          std::int64_t value) {
  using namespace detail;
  switch (kind) {
    case expr_kind::integer:
      return {value, value};
    case expr_kind::symbol:
    case expr_kind::rational:
      return {};
    case expr_kind::add: {
      value_range r{0, 0};
      for (expr a : args) r = range_add(r, a.range());
      return r;
    }
    case expr_kind::mul: {
      value_range r{1, 1};
      for (expr a : args) r = range_mul(r, a.range());
      return r;
    }
    case expr_kind::pow: {
      const value_range b = args[0].range();
      if (args[1].is_integer()) {
        value_range r{1, 1};
        for (std::int64_t i = 0; i < args[1].value() && i < 64; ++i) r = range_mul(r, b);
        if (args[1].value() % 2 == 0 && r.lo < 0) r.lo = 0;
        return args[1].value() <= 64 ? r : value_range{b.lo >= 0 ? 0 : neg_inf, pos_inf};
      }
      if (b.lo >= 1) return {1, pos_inf};
      if (b.lo >= 0) return {0, pos_inf};
      return {};
    }
    case expr_kind::floor_div:
    case expr_kind::clean_div:
    case expr_kind::ceil_div: {
      const value_range a = args[0].range();
      const bool ceil = kind == expr_kind::ceil_div;
      if (args[1].is_integer() && args[1].value() > 0) {
        const std::int64_t c = args[1].value();
        return ceil ? value_range{bound_ceildiv(a.lo, c), bound_ceildiv(a.hi, c)}
                    : value_range{bound_floordiv(a.lo, c), bound_floordiv(a.hi, c)};
      }
      if (args[1].range().lo >= 1) {
        // |a // b| <= |a| for b >= 1, and the sign of a is kept (or 0).
        return {std::min<std::int64_t>(a.lo, 0), std::max<std::int64_t>(a.hi, ceil ? 1 : 0)};
      }
      return {};
    }
    case expr_kind::mod:
    case expr_kind::modular_indexing: {
      const value_range m = args.back().range();
      if (m.lo >= 1) {
        std::int64_t hi = m.hi == pos_inf ? pos_inf : m.hi - 1;
        if (kind == expr_kind::mod && args[0].range().lo >= 0)
          hi = std::min(hi, args[0].range().hi);
        return {0, hi};
      }
      if (m.hi <= -1) return {m.lo == neg_inf ? neg_inf : m.lo + 1, 0};
      return {};
    }
    case expr_kind::min:
    case expr_kind::max: {
      value_range r = args[0].range();
      for (expr a : args.subspan(1)) {
        const value_range x = a.range();
        if (kind == expr_kind::min)
          r = {std::min(r.lo, x.lo), std::min(r.hi, x.hi)};
        else
          r = {std::max(r.lo, x.lo), std::max(r.hi, x.hi)};
      }
      return r;
    }
    case expr_kind::abs: {
      const value_range a = args[0].range();
      if (a.lo >= 0) return a;
      if (a.hi <= 0) return {sat_neg(a.hi), sat_neg(a.lo)};
      return {0, std::max(sat_neg(a.lo), a.hi)};
    }
  }
  return {};
}

inline context::term context::split(const expr& e) {
  if (e.is_integer()) return {e.value(), {}};
  if (e.is(expr_kind::mul) && e.arg(0).is_integer()) return {e.arg(0).value(), e.args().subspan(1)};
  if (e.is(expr_kind::mul)) return {1, e.args()};
  return {1, std::span<const expr>(&e, 1)};
}

inline expr context::term_expr(std::int64_t coeff, std::span<const expr> factors) {
  if (factors.empty()) return integer(coeff);
  if (coeff == 1 && factors.size() == 1) return factors[0];
  if (coeff == 1) return intern(expr_kind::mul, factors);
  expr buffer[8];
  std::vector<expr> heap;
  std::span<expr> all;
  if (factors.size() + 1 <= 8) {
    all = std::span<expr>(buffer, factors.size() + 1);
  } else {
    heap.resize(factors.size() + 1);
    all = heap;
  }
  all[0] = integer(coeff);
  std::copy(factors.begin(), factors.end(), all.begin() + 1);
  return intern(expr_kind::mul, all);
}

namespace detail {
// Order of the terms of a sum: by number of factors (s0 + s1 + s0*s1), then
// factor by factor; the coefficient plays no part.
[[nodiscard]] inline int compare_factors(std::span<const expr> a, std::span<const expr> b) noexcept {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (const int c = compare(a[i], b[i]); c != 0) return c;
  }
  return 0;
}
[[nodiscard]] inline bool same_factors(std::span<const expr> a, std::span<const expr> b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
}  // namespace detail

inline expr context::add_terms(detail::small_vector<term>& terms, std::int64_t constant) {
  std::sort(terms.begin(), terms.end(), [](const term& x, const term& y) {
    return detail::compare_factors(x.factors, y.factors) < 0;
  });
  // Collect like terms.
  std::size_t out = 0;
  for (std::size_t i = 0; i < terms.size();) {
    term t = terms[i++];
    while (i < terms.size() && detail::same_factors(terms[i].factors, t.factors))
      t.coeff = detail::checked_add(t.coeff, terms[i++].coeff, "addition");
    if (t.coeff != 0) terms[out++] = t;
  }
  terms.resize(out);
  if (terms.empty()) return integer(constant);
  if (terms.size() == 1 && constant == 0) return term_expr(terms[0].coeff, terms[0].factors);
  detail::small_vector<expr> args;
  args.reserve(terms.size() + 1);
  for (const term& t : terms) args.push_back(term_expr(t.coeff, t.factors));
  if (constant != 0) args.push_back(integer(constant));
  return intern(expr_kind::add, {args.data(), args.size()});
}

// a + k for a non-zero integer k: the integer term of a sum is its last
// argument, so only that one changes.
inline expr context::add_constant(expr a, std::int64_t k) {
  if (!a.is(expr_kind::add)) return intern(expr_kind::add, std::array{a, integer(k)});
  const std::span<const expr> args = a.args();
  detail::small_vector<expr> out(args.begin(), args.end());
  if (out.back().is_integer()) {
    const std::int64_t c = detail::checked_add(out.back().value(), k, "addition");
    if (c == 0) {
      out.pop_back();
      if (out.size() == 1) return out[0];
    } else {
      out.back() = integer(c);
    }
  } else {
    out.push_back(integer(k));
  }
  return intern(expr_kind::add, {out.data(), out.size()});
}

inline expr context::add(std::span<const expr> in) {
  detail::small_vector<term> terms;
  terms.reserve(in.size() + 2);
  std::int64_t constant = 0;
  for (const expr& x : in) {
    if (x.is(expr_kind::rational)) return add_with_rationals(in);
    if (x.is(expr_kind::add)) {
      for (const expr& t : x.args()) {
        if (t.is_integer())
          constant = detail::checked_add(constant, t.value(), "addition");
        else
          terms.push_back(split(t));
      }
    } else if (x.is_integer()) {
      constant = detail::checked_add(constant, x.value(), "addition");
    } else {
      terms.push_back(split(x));
    }
  }
  return add_terms(terms, constant);
}

inline expr context::mul(std::span<const expr> in) {
  std::int64_t coeff = 1;
  struct power {
    expr base, exponent;
  };
  detail::small_vector<power> powers;
  powers.reserve(in.size() + 2);
  auto push = [&](const expr& f) {
    if (f.is_integer())
      coeff = detail::checked_mul(coeff, f.value(), "multiplication");
    else if (f.is(expr_kind::pow))
      powers.push_back({f.arg(0), f.arg(1)});
    else
      powers.push_back({f, expr{}});
  };
  for (const expr& x : in) {
    if (x.is(expr_kind::rational)) return mul_with_rationals(in);
    if (x.is(expr_kind::mul)) {
      for (const expr& f : x.args()) push(f);
    } else {
      push(x);
    }
  }
  if (coeff == 0) return integer(0);
  // In a product of several factors a sum is primitive: its integer content
  // and sign move into the coefficient, (2*s0 + 2)*s1 = 2*(s0 + 1)*s1, so
  // that grouping does not matter: (2*(s0 + 1))*s1 = 2*((s0 + 1)*s1).
  if (powers.size() > 1) {
    for (power& p : powers) {
      if (p.exponent.is_null() && p.base.is(expr_kind::add)) {
        const std::int64_t g = primitive_factor(p.base);
        if (g != 1) {
          coeff = detail::checked_mul(coeff, g, "multiplication");
          p.base = divide_content(p.base, g);
        }
      }
    }
  }
  // Merge powers of one base.
  std::sort(powers.begin(), powers.end(),
            [](const power& a, const power& b) { return compare(a.base, b.base) < 0; });
  detail::small_vector<expr> factors;
  factors.reserve(powers.size() + 1);
  bool refold = false;  // a merged power folded into something that needs another pass
  for (std::size_t i = 0; i < powers.size();) {
    const expr base = powers[i].base;
    const bool single = i + 1 >= powers.size() || powers[i + 1].base != base;
    if (single) {
      factors.push_back(powers[i].exponent ? intern(expr_kind::pow,
                                                    std::array{base, powers[i].exponent})
                                           : base);
      ++i;
      continue;
    }
    expr exponent = integer(0);
    for (; i < powers.size() && powers[i].base == base; ++i)
      exponent = add(exponent, powers[i].exponent ? powers[i].exponent : integer(1));
    const expr merged = pow(base, exponent);
    if (merged.is_integer() || merged.is(expr_kind::mul) || merged.is(expr_kind::rational))
      refold = true;
    factors.push_back(merged);
  }
  if (refold) {
    factors.push_back(integer(coeff));
    return mul(std::span<const expr>(factors.data(), factors.size()));
  }
  if (factors.empty()) return integer(coeff);
  std::sort(factors.begin(), factors.end(), expr_less{});
  if (factors.size() == 1) {
    if (coeff == 1) return factors[0];
    if (factors[0].is(expr_kind::add)) {
      // c*(a + b) = c*a + c*b, as sympy distributes a number over a sum.
      detail::small_vector<term> terms;
      std::int64_t constant = 0;
      for (const expr& t : factors[0].args()) {
        if (t.is_integer()) {
          constant = detail::checked_mul(t.value(), coeff, "multiplication");
        } else {
          term s = split(t);
          s.coeff = detail::checked_mul(s.coeff, coeff, "multiplication");
          terms.push_back(s);
        }
      }
      return add_terms(terms, constant);
    }
  }
  return term_expr(coeff, {factors.data(), factors.size()});
}

inline bool context::looks_negative(expr e) noexcept {
  if (e.is_integer()) return e.value() < 0;
  if (e.is(expr_kind::mul)) return e.arg(0).is_integer() && e.arg(0).value() < 0;
  if (e.is(expr_kind::add)) {
    return std::all_of(e.args().begin(), e.args().end(),
                       [](expr t) { return t.is_integer() ? t.value() <= 0 : looks_negative(t); });
  }
  return false;
}

inline expr context::pow(expr base, expr exponent) {
  if (base.is(expr_kind::rational)) {
    return true_div(pow(base.arg(0), exponent), pow(base.arg(1), exponent));
  }
  if (exponent.is(expr_kind::rational)) rational_operand("pow", exponent);
  if (exponent.is_integer()) {
    const std::int64_t n = exponent.value();
    if (n < 0) {
      if (n == INT64_MIN) detail::overflow("exponent");
      return true_div(integer(1), pow(base, integer(-n)));
    }
    if (n == 0) return integer(1);
    if (n == 1) return base;
    if (base.is_integer()) return integer(detail::checked_pow(base.value(), n, "power"));
    if (base.is(expr_kind::mul)) {
      detail::small_vector<expr> factors;
      factors.reserve(base.arity());
      for (expr f : base.args()) factors.push_back(pow(f, exponent));
      return mul(std::span<const expr>(factors.data(), factors.size()));
    }
    if (base.is(expr_kind::pow) && base.arg(1).is_integer()) {
      return pow(base.arg(0), integer(detail::checked_mul(base.arg(1).value(), n, "power")));
    }
  }
  // (g*a)**n = g**n * a**n for a sum with content or sign g, as in products.
  if (base.is(expr_kind::add)) {
    if (const std::int64_t g = primitive_factor(base); g != 1)
      return mul(pow(integer(g), exponent), pow(divide_content(base, g), exponent));
  }
  if (exponent.is_integer()) return intern(expr_kind::pow, std::array{base, exponent});
  if (looks_negative(exponent)) return true_div(integer(1), pow(base, neg(exponent)));
  if (base.is_integer(1)) return base;
  return intern(expr_kind::pow, std::array{base, exponent});
}

inline std::int64_t context::content(expr e) {
  auto coeff_of = [](expr t) -> std::int64_t {
    if (t.is_integer()) return t.value();
    if (t.is(expr_kind::mul) && t.arg(0).is_integer()) return t.arg(0).value();
    return 1;
  };
  auto absu = [](std::int64_t v) -> std::uint64_t {
    return v < 0 ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v);
  };
  if (!e.is(expr_kind::add)) {
    const std::uint64_t c = absu(coeff_of(e));
    return c > static_cast<std::uint64_t>(INT64_MAX) ? 1 : static_cast<std::int64_t>(c);
  }
  std::uint64_t g = 0;
  for (expr t : e.args()) g = std::gcd(g, absu(coeff_of(t)));
  return g > static_cast<std::uint64_t>(INT64_MAX) || g == 0 ? 1 : static_cast<std::int64_t>(g);
}

// The integer g with sum = g*p where p has content 1 and a positive first
// term: the part of a sum that a product takes into its coefficient.
inline std::int64_t context::primitive_factor(expr sum) {
  const std::int64_t g = content(sum);
  return split(sum.args()[0]).coeff < 0 ? -g : g;
}

// a - k*b for the integer k with which a contains k times every non-constant
// term of the sum b; a null expr when there is none. Both
// (a - k*b) % b = a % b and (a - k*b)//b + k = a//b hold for every integer k.
inline expr context::pull_multiple(expr a, expr b, std::int64_t& k) {
  if (!b.is(expr_kind::add)) return {};
  const std::span<const expr> terms = a.is(expr_kind::add) ? a.args() : std::span<const expr>(&a, 1);
  auto coefficient_in_a = [&](std::span<const expr> factors) -> std::int64_t {
    for (const expr& t : terms) {
      const term s = split(t);
      if (!s.factors.empty() && detail::same_factors(s.factors, factors)) return s.coeff;
    }
    return 0;
  };
  const term first = split(b.args()[0]);
  if (first.factors.empty()) return {};
  const std::int64_t ca = coefficient_in_a(first.factors);
  if (ca == 0 || ca % first.coeff != 0) return {};
  k = ca / first.coeff;
  for (const expr& t : b.args().subspan(1)) {
    const term s = split(t);
    if (s.factors.empty()) continue;
    std::int64_t wanted;
    if (__builtin_mul_overflow(s.coeff, k, &wanted) || coefficient_in_a(s.factors) != wanted) return {};
  }
  return sub(a, mul(integer(k), b));
}

inline expr context::divide_content(expr e, std::int64_t g) {
  if (g == 1) return e;
  auto divide = [&](expr t) {
    const term s = split(t);
    return term_expr(s.coeff / g, s.factors);
  };
  if (!e.is(expr_kind::add)) return divide(e);
  detail::small_vector<expr> terms;
  terms.reserve(e.arity());
  for (expr t : e.args()) terms.push_back(divide(t));
  return add(std::span<const expr>(terms.data(), terms.size()));
}

// t / b when b is a monomial (a product of powers with integer exponents and
// an integer coefficient) dividing t exactly; a null expr otherwise.
inline expr context::try_divide_term(const term& t, expr b) {
  const term d = split(b);
  if (d.coeff == 0 || t.coeff % d.coeff != 0) return {};
  if (d.coeff == -1 && t.coeff == INT64_MIN) return {};
  if (d.factors.empty()) return term_expr(t.coeff / d.coeff, t.factors);  // an integer divisor
  struct power {
    expr base;
    std::int64_t exponent;
  };
  auto as_power = [](expr f) -> power {
    if (f.is(expr_kind::pow) && f.arg(1).is_integer()) return {f.arg(0), f.arg(1).value()};
    return {f, 1};
  };
  detail::small_vector<power> left;
  left.reserve(t.factors.size());
  for (expr f : t.factors) left.push_back(as_power(f));
  for (expr f : d.factors) {
    const power p = as_power(f);
    auto it = std::find_if(left.begin(), left.end(), [&](const power& q) { return q.base == p.base; });
    if (it == left.end() || it->exponent < p.exponent) return {};
    it->exponent -= p.exponent;
  }
  detail::small_vector<expr> factors;
  factors.reserve(left.size() + 1);
  factors.push_back(integer(t.coeff / d.coeff));
  for (const power& p : left) {
    if (p.exponent != 0) factors.push_back(pow(p.base, integer(p.exponent)));
  }
  return mul(std::span<const expr>(factors.data(), factors.size()));
}

// a / b when every term of a is divisible by the monomial b; null otherwise.
inline expr context::try_divide_exactly(expr a, expr b) {
  if (a == b) return integer(1);
  if (a.is(expr_kind::add)) {
    detail::small_vector<expr> quotients;
    quotients.reserve(a.arity());
    for (const expr& t : a.args()) {
      const expr q = try_divide_term(split(t), b);
      if (q.is_null()) return {};
      quotients.push_back(q);
    }
    return add(std::span<const expr>(quotients.data(), quotients.size()));
  }
  return try_divide_term(split(a), b);
}

inline void context::rational_operand(std::string_view op, expr a) {
  throw sym_error("wrapgraph.sym.rational_operand",
                  "the true division " + detail::brief(a) + " is an operand of " + std::string(op) +
                      "; a '/' quotient may only appear inside floor() or ceiling()");
}

inline void context::division_by_zero(std::string_view op, expr a, expr b) {
  throw sym_error("wrapgraph.sym.division_by_zero",
                  "division by zero in " + std::string(op) + "(" + detail::brief(a) + ", " +
                      detail::brief(b) + ")");
}

inline expr context::floor_div(expr a, expr b) { return rounding_division(expr_kind::floor_div, a, b); }
inline expr context::ceil_div(expr a, expr b) { return rounding_division(expr_kind::ceil_div, a, b); }

// The rules that floor and ceiling division share, then each one's own.
inline expr context::rounding_division(expr_kind kind, expr a, expr b) {
  const bool floor = kind == expr_kind::floor_div;
  const char* name = floor ? "FloorDiv" : "CeilDiv";
  auto self = [&](expr x, expr y) { return rounding_division(kind, x, y); };
  if (a.is(expr_kind::rational)) rational_operand(name, a);
  if (b.is(expr_kind::rational)) rational_operand(name, b);
  if (b.is_integer(0)) division_by_zero(name, a, b);
  if (b.is_integer(1)) return a;
  if (a.is_integer(0)) return a;
  if (b.is_integer(-1)) return neg(a);
  if (a.is_integer() && b.is_integer()) {
    if (a.value() == INT64_MIN && b.value() == -1) detail::overflow(name);
    return integer(floor ? detail::py_floordiv(a.value(), b.value()) : detail::py_ceildiv(a.value(), b.value()));
  }
  // a // (-b) = (-a) // b
  if (b.is_integer() && b.value() < 0) return self(neg(a), integer(detail::checked_neg(b.value(), name)));
  if (b.range().hi <= -1) return self(neg(a), neg(b));
  if (a == b && b.range().excludes_zero()) return integer(1);
  if (b.is_integer()) {
    const std::int64_t c = b.value();
    // (g*a) // (g*c) = a // c
    if (const std::int64_t g = std::gcd(content(a), c); g > 1) return self(divide_content(a, g), integer(c / g));
  }
  if (b.is_integer() || b.range().excludes_zero()) {
    // (r + k*b) // b = k + r // b for a sum b
    std::int64_t k = 0;
    if (const expr r = pull_multiple(a, b, k); !r.is_null()) return add(integer(k), self(r, b));
    // (q*b + r) // b = q + r // b: pull out the terms that b divides.
    detail::small_vector<expr> quotient, rest;
    const std::span<const expr> terms = a.is(expr_kind::add) ? a.args() : std::span<const expr>(&a, 1);
    for (const expr& t : terms) {
      const expr q = try_divide_term(split(t), b);
      if (q.is_null())
        rest.push_back(t);
      else
        quotient.push_back(q);
    }
    if (!quotient.empty()) {
      quotient.push_back(self(add(std::span<const expr>(rest.data(), rest.size())), b));
      return add(std::span<const expr>(quotient.data(), quotient.size()));
    }
  }
  if (floor) {
    // (x // c1) // c2 = x // (c1*c2) for positive divisors
    if (a.is(expr_kind::floor_div) && a.arg(1).range().lo >= 1 && b.range().lo >= 1) {
      std::int64_t product;
      if (!(a.arg(1).is_integer() && b.is_integer() &&
            __builtin_mul_overflow(a.arg(1).value(), b.value(), &product)))
        return floor_div(a.arg(0), mul(a.arg(1), b));
    }
    // 0 <= a < b gives 0
    if (a.range().lo >= 0 && b.range().lo >= 1 && a.range().hi < b.range().lo) return integer(0);
  } else {
    // 0 < a <= b gives 1
    if (a.range().lo >= 1 && b.range().lo >= 1 && a.range().hi <= b.range().lo) return integer(1);
  }
  return intern(kind, std::array{a, b});
}

inline expr context::clean_div(expr a, expr b) {
  if (a.is(expr_kind::rational)) rational_operand("CleanDiv", a);
  if (b.is(expr_kind::rational)) rational_operand("CleanDiv", b);
  if (b.is_integer(0)) division_by_zero("CleanDiv", a, b);
  if (b.is_integer(1)) return a;
  if (a.is_integer(0)) return a;
  if (b.is_integer(-1)) return neg(a);
  if (a.is_integer() && b.is_integer()) {
    if (a.value() % b.value() != 0) {
      throw sym_error("wrapgraph.sym.inexact_division",
                      "CleanDiv(" + detail::brief(a) + ", " + detail::brief(b) + "): " + detail::brief(b) +
                          " does not divide " + detail::brief(a));
    }
    if (a.value() == INT64_MIN && b.value() == -1) detail::overflow("CleanDiv");
    return integer(a.value() / b.value());
  }
  if (b.is_integer() || b.range().excludes_zero()) {
    if (const expr q = try_divide_exactly(a, b); !q.is_null()) return q;
  }
  if (b.is_integer()) {
    if (b.value() < 0) return clean_div(neg(a), integer(detail::checked_neg(b.value(), "CleanDiv")));
    if (const std::int64_t g = std::gcd(content(a), b.value()); g > 1)
      return clean_div(divide_content(a, g), integer(b.value() / g));
  }
  return intern(expr_kind::clean_div, std::array{a, b});
}

inline expr context::mod(expr a, expr b) {
  if (a.is(expr_kind::rational)) rational_operand("Mod", a);
  if (b.is(expr_kind::rational)) rational_operand("Mod", b);
  if (b.is_integer(0)) division_by_zero("Mod", a, b);
  if (b.is_integer(1) || b.is_integer(-1) || a.is_integer(0)) return integer(0);
  if (a.is_integer() && b.is_integer()) return integer(detail::py_mod(a.value(), b.value()));
  if (a == b && b.range().excludes_zero()) return integer(0);
  // (x // d) % m is ModularIndexing(x, d, m)
  if (a.is(expr_kind::floor_div)) return modular_indexing(a.arg(0), a.arg(1), b);
  // (r + k*b) % b = r % b for a sum b
  std::int64_t k = 0;
  if (const expr r = pull_multiple(a, b, k); !r.is_null()) return mod(r, b);
  if (b.is_integer()) {
    const std::int64_t c = b.value();
    // Reduce every coefficient modulo |c|: a and the result are congruent.
    const std::int64_t m = c < 0 ? (c == INT64_MIN ? 0 : -c) : c;
    if (m != 0) {
      const std::span<const expr> terms = a.is(expr_kind::add) ? a.args() : std::span<const expr>(&a, 1);
      bool changed = false;
      detail::small_vector<expr> reduced;
      reduced.reserve(terms.size());
      for (const expr& t : terms) {
        const term s = split(t);
        const std::int64_t r = detail::py_mod(s.coeff, m);
        if (r != s.coeff) changed = true;
        if (r != 0) reduced.push_back(term_expr(r, s.factors));
      }
      if (changed) return mod(add(std::span<const expr>(reduced.data(), reduced.size())), b);
    }
    if (c > 0) {
      // (g*a) % (g*c) = g*(a % c)
      if (const std::int64_t g = std::gcd(content(a), c); g > 1)
        return mul(integer(g), mod(divide_content(a, g), integer(c / g)));
      // (x % c1) % c2 = x % c2 when c2 divides c1
      if (a.is(expr_kind::mod) && a.arg(1).is_integer() && a.arg(1).value() > 0 &&
          a.arg(1).value() % c == 0)
        return mod(a.arg(0), b);
    }
  } else if (b.range().excludes_zero()) {
    const std::span<const expr> terms = a.is(expr_kind::add) ? a.args() : std::span<const expr>(&a, 1);
    detail::small_vector<expr> rest;
    bool dropped = false;
    for (const expr& t : terms) {
      if (try_divide_term(split(t), b).is_null())
        rest.push_back(t);
      else
        dropped = true;
    }
    if (dropped) return mod(add(std::span<const expr>(rest.data(), rest.size())), b);
  }
  // 0 <= a < b gives a
  if (a.range().lo >= 0 && b.range().lo >= 1 && a.range().hi < b.range().lo) return a;
  return intern(expr_kind::mod, std::array{a, b});
}

inline expr context::modular_indexing(expr x, expr div, expr m) {
  for (expr e : {x, div, m}) {
    if (e.is(expr_kind::rational)) rational_operand("ModularIndexing", e);
  }
  if (div.is_integer(0)) division_by_zero("ModularIndexing", x, div);
  if (m.is_integer(0)) division_by_zero("ModularIndexing", floor_div(x, div), m);
  if (m.is_integer(1) || m.is_integer(-1) || x.is_integer(0)) return integer(0);
  // ModularIndexing(x, d, m) = q % m with q = x // d: when x // d simplifies
  // to something other than a FloorDiv of (x, d), continue from q.
  const expr q = floor_div(x, div);
  if (!q.is(expr_kind::floor_div)) return mod(q, m);
  x = q.arg(0);
  div = q.arg(1);
  // 0 <= x < div*m gives x // div
  if (x.range().lo >= 0 && div.is_integer() && m.is_integer() && div.value() > 0 && m.value() > 0) {
    std::int64_t bound;
    if (!__builtin_mul_overflow(div.value(), m.value(), &bound) && x.range().hi < bound)
      return floor_div(x, div);
  }
  return intern(expr_kind::modular_indexing, std::array{x, div, m});
}

inline expr context::min_max(expr_kind kind, std::span<const expr> in) {
  const bool is_min = kind == expr_kind::min;
  const char* name = is_min ? "Min" : "Max";
  if (in.empty()) {
    throw sym_error("wrapgraph.sym.empty_min_max", std::string(name) + "() needs at least one argument");
  }
  detail::small_vector<expr> args;
  args.reserve(in.size());
  bool have_constant = false;
  std::int64_t constant = 0;
  auto push = [&](const expr& a) {
    if (a.is(expr_kind::rational)) rational_operand(name, a);
    if (a.is_integer()) {
      constant = !have_constant ? a.value() : (is_min ? std::min(constant, a.value()) : std::max(constant, a.value()));
      have_constant = true;
    } else {
      args.push_back(a);
    }
  };
  for (const expr& a : in) {
    if (a.kind() == kind) {
      for (const expr& x : a.args()) push(x);
    } else {
      push(a);
    }
  }
  if (have_constant) args.push_back(integer(constant));
  std::sort(args.begin(), args.end(), expr_less{});
  args.erase(std::unique(args.begin(), args.end()), args.end());
  // Drop an argument that another one always undercuts (Min) or exceeds (Max).
  detail::small_vector<expr> kept;
  kept.reserve(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const value_range ri = args[i].range();
    bool dominated = false;
    for (std::size_t j = 0; j < args.size() && !dominated; ++j) {
      if (i == j) continue;
      const value_range rj = args[j].range();
      // Ties (rj.hi == ri.lo == ri.hi == rj.lo) keep the earlier argument.
      if (is_min)
        dominated = rj.hi < ri.lo || (rj.hi == ri.lo && (ri.lo != ri.hi || rj.lo != rj.hi || j < i));
      else
        dominated = rj.lo > ri.hi || (rj.lo == ri.hi && (ri.lo != ri.hi || rj.lo != rj.hi || j < i));
    }
    if (!dominated) kept.push_back(args[i]);
  }
  if (kept.size() == 1) return kept[0];
  return intern(kind, {kept.data(), kept.size()});
}

inline expr context::abs(expr a) {
  if (a.is(expr_kind::rational)) rational_operand("Abs", a);
  if (a.is_integer()) return integer(detail::checked_neg(a.value() < 0 ? a.value() : -a.value(), "Abs"));
  if (a.range().lo >= 0) return a;
  if (a.range().hi <= 0) return neg(a);
  if (a.is(expr_kind::mul) && a.arg(0).is_integer()) {
    const term s = split(a);
    const std::int64_t c = detail::checked_neg(s.coeff < 0 ? s.coeff : -s.coeff, "Abs");
    return mul(integer(c), abs(term_expr(1, s.factors)));
  }
  // Abs(-x) = Abs(x): keep whichever of x and -x sorts first.
  if (a.is(expr_kind::add)) {
    const expr negated = neg(a);
    if (compare(negated, a) < 0) a = negated;
  }
  return intern(expr_kind::abs, std::array{a});
}

inline expr context::true_div(expr a, expr b) {
  // (n1/d1) / (n2/d2) = (n1*d2) / (d1*n2)
  if (a.is(expr_kind::rational) || b.is(expr_kind::rational)) {
    const expr n1 = a.is(expr_kind::rational) ? a.arg(0) : a;
    const expr d1 = a.is(expr_kind::rational) ? a.arg(1) : integer(1);
    const expr n2 = b.is(expr_kind::rational) ? b.arg(0) : b;
    const expr d2 = b.is(expr_kind::rational) ? b.arg(1) : integer(1);
    return true_div(mul(n1, d2), mul(d1, n2));
  }
  if (b.is_integer(0)) division_by_zero("true division", a, b);
  if (b.is_integer(1)) return a;
  if (a.is_integer(0)) return a;
  if (b.is_integer(-1)) return neg(a);
  if (b.is_integer() && b.value() < 0) return true_div(neg(a), integer(detail::checked_neg(b.value(), "division")));
  if (looks_negative(b) && !b.is_integer()) return true_div(neg(a), neg(b));
  if (b.is_integer() || b.range().excludes_zero()) {
    if (const expr q = try_divide_exactly(a, b); !q.is_null()) return q;
  }
  const std::int64_t g = std::gcd(content(a), content(b));
  if (g > 1) return true_div(divide_content(a, g), divide_content(b, g));
  if (b.is_integer(1)) return a;
  return intern(expr_kind::rational, std::array{a, b});
}

// Puts a sum with quotients over one denominator: n1/d + n2/d = (n1 + n2)/d,
// x + n/d = (x*d + n)/d.
inline expr context::add_with_rationals(std::span<const expr> in) {
  expr numerator = integer(0), denominator = integer(1);
  for (const expr& x : in) {
    const expr n = x.is(expr_kind::rational) ? x.arg(0) : x;
    const expr d = x.is(expr_kind::rational) ? x.arg(1) : integer(1);
    if (d == denominator) {
      numerator = add(numerator, n);
    } else {
      numerator = add(mul(numerator, d), mul(n, denominator));
      denominator = mul(denominator, d);
    }
  }
  return true_div(numerator, denominator);
}

inline expr context::mul_with_rationals(std::span<const expr> in) {
  detail::small_vector<expr> numerators, denominators;
  for (const expr& x : in) {
    if (x.is(expr_kind::rational)) {
      numerators.push_back(x.arg(0));
      denominators.push_back(x.arg(1));
    } else {
      numerators.push_back(x);
    }
  }
  return true_div(mul(std::span<const expr>(numerators.data(), numerators.size())), mul(std::span<const expr>(denominators.data(), denominators.size())));
}

inline expr context::make(expr_kind kind, std::span<const expr> args) {
  auto need = [&](std::size_t n) {
    if (args.size() != n) {
      throw sym_error("wrapgraph.sym.arity",
                      std::string(to_string(kind)) + " takes " + std::to_string(n) +
                          " arguments, got " + std::to_string(args.size()));
    }
  };
  switch (kind) {
    case expr_kind::integer:
    case expr_kind::symbol:
      throw sym_error("wrapgraph.sym.arity",
                      std::string(to_string(kind)) + " is a leaf; build it with integer() or symbol()");
    case expr_kind::add: return add(args);
    case expr_kind::mul: return mul(args);
    case expr_kind::pow: need(2); return pow(args[0], args[1]);
    case expr_kind::floor_div: need(2); return floor_div(args[0], args[1]);
    case expr_kind::ceil_div: need(2); return ceil_div(args[0], args[1]);
    case expr_kind::clean_div: need(2); return clean_div(args[0], args[1]);
    case expr_kind::mod: need(2); return mod(args[0], args[1]);
    case expr_kind::modular_indexing: need(3); return modular_indexing(args[0], args[1], args[2]);
    case expr_kind::min: return min(args);
    case expr_kind::max: return max(args);
    case expr_kind::abs: need(1); return abs(args[0]);
    case expr_kind::rational: need(2); return true_div(args[0], args[1]);
  }
  return {};
}

// ============================================================================
// operators on expr
// ============================================================================

/// An integral value that converts to int64 without loss (bool excluded).
template <class T>
concept integer_like = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool>;

namespace detail {
template <integer_like I>
std::int64_t to_int64(I v) {
  if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
    if (v > static_cast<std::make_unsigned_t<std::int64_t>>(INT64_MAX))
      overflow("conversion of " + std::to_string(v) + " to int64");
  }
  return static_cast<std::int64_t>(v);
}
}  // namespace detail

/// An expression or an integer; what the operators below accept on one side.
template <class T>
concept expr_operand = std::same_as<std::remove_cvref_t<T>, expr> || integer_like<std::remove_cvref_t<T>>;

namespace detail {
// Brings an operand into `ctx`.
template <class T>
expr lift(context& ctx, const T& v) {
  if constexpr (std::same_as<T, expr>) {
    WRAPGRAPH_ASSERT(&v.owner() == &ctx, "expressions from two different contexts combined");
    return v;
  } else {
    return ctx.integer(to_int64(v));
  }
}
template <class A, class B>
context& owner_of(const A& a, const B& b) {
  if constexpr (std::same_as<A, expr>)
    return a.owner();
  else
    return b.owner();
}
}  // namespace detail

/// At least one side is an expr; the other may be an integer.
template <class A, class B>
concept expr_pair = expr_operand<A> && expr_operand<B> &&
                    (std::same_as<std::remove_cvref_t<A>, expr> || std::same_as<std::remove_cvref_t<B>, expr>);

#define WRAPGRAPH_SYM_BINARY(NAME, METHOD)                                      \
  template <class A, class B>                                                  \
    requires expr_pair<A, B>                                                   \
  expr NAME(const A& a, const B& b) {                                          \
    context& ctx = detail::owner_of(a, b);                                     \
    return ctx.METHOD(detail::lift(ctx, a), detail::lift(ctx, b));             \
  }

WRAPGRAPH_SYM_BINARY(operator+, add)
WRAPGRAPH_SYM_BINARY(operator-, sub)
WRAPGRAPH_SYM_BINARY(operator*, mul)
WRAPGRAPH_SYM_BINARY(floor_div, floor_div)
WRAPGRAPH_SYM_BINARY(ceil_div, ceil_div)
WRAPGRAPH_SYM_BINARY(clean_div, clean_div)
WRAPGRAPH_SYM_BINARY(mod, mod)
WRAPGRAPH_SYM_BINARY(min, min)
WRAPGRAPH_SYM_BINARY(max, max)
WRAPGRAPH_SYM_BINARY(pow, pow)
WRAPGRAPH_SYM_BINARY(true_div, true_div)
#undef WRAPGRAPH_SYM_BINARY

inline expr operator-(expr a) { return a.owner().neg(a); }
inline expr abs(expr a) { return a.owner().abs(a); }
inline expr floor(expr a) { return a.owner().floor(a); }
inline expr ceiling(expr a) { return a.owner().ceiling(a); }

template <class X, class D, class M>
  requires expr_operand<X> && expr_operand<D> && expr_operand<M> &&
           (std::same_as<X, expr> || std::same_as<D, expr> || std::same_as<M, expr>)
expr modular_indexing(const X& x, const D& div, const M& m) {
  context* ctx = nullptr;
  if constexpr (std::same_as<X, expr>) ctx = &x.owner();
  else if constexpr (std::same_as<D, expr>) ctx = &div.owner();
  else ctx = &m.owner();
  return ctx->modular_indexing(detail::lift(*ctx, x), detail::lift(*ctx, div), detail::lift(*ctx, m));
}

}  // namespace wrapgraph::sym

#pragma once
/// Printers for runtime expressions: sympy/Python text that sym::parse reads
/// back, and C++ text for generated kernels.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <wrapgraph/sym/expr.hpp>

namespace wrapgraph::sym {

namespace detail {

// Binding strength of what a node prints as, in Python's terms.
enum class prec : int { sum = 10, product = 20, unary = 30, power = 40, atom = 50 };

[[nodiscard]] inline prec python_prec(expr e) noexcept {
  switch (e.kind()) {
    case expr_kind::integer:
      return e.value() < 0 ? prec::unary : prec::atom;
    case expr_kind::add:
      return prec::sum;
    case expr_kind::mul: {
      // `-x` binds like a unary minus; `-2*x` and `-x*y` are products.
      const expr first = e.arg(0);
      const bool negation = first.is_integer() && first.value() == -1 && e.arity() == 2;
      return negation && python_prec(e.arg(1)) >= prec::power ? prec::unary : prec::product;
    }
    case expr_kind::floor_div:
    case expr_kind::mod:
    case expr_kind::rational:
      return prec::product;
    case expr_kind::pow:
      return prec::power;
    default:
      return prec::atom;
  }
}

// True when `e` prints with a leading minus sign that an enclosing sum can
// absorb: `a + -2*b` prints as `a - 2*b`.
// INT64_MIN has no positive counterpart and keeps its '+ -'.
[[nodiscard]] inline bool prints_negative(expr e) noexcept {
  if (e.is_integer()) return e.value() < 0 && e.value() != INT64_MIN;
  return e.is(expr_kind::mul) && e.arg(0).is_integer() && e.arg(0).value() < 0 &&
         e.arg(0).value() != INT64_MIN;
}

// Prints "(a0<separator>a1...)" through printer.print, behind `head`.
template <class Printer>
void print_arguments(Printer& printer, std::string& out, std::string_view head, expr e,
                     std::string_view separator) {
  out += head;
  out += '(';
  bool first = true;
  for (expr a : e.args()) {
    if (!first) out += separator;
    first = false;
    printer.print(a);
  }
  out += ')';
}

class python_printer {
 public:
  explicit python_printer(std::string& out, std::size_t limit = SIZE_MAX) : out_(out), limit_(limit) {}

  void print(expr e) {
    // A DAG with shared subexpressions can print exponentially long text;
    // messages print a bounded prefix.
    if (out_.size() >= limit_) return;
    switch (e.kind()) {
      case expr_kind::integer:
        out_ += std::to_string(e.value());
        return;
      case expr_kind::symbol:
        out_ += e.name();
        return;
      case expr_kind::add:
        return print_sum(e);
      case expr_kind::mul:
        return print_product(e);
      case expr_kind::pow:
        operand(e.arg(0), prec::atom);
        out_ += "**";
        operand(e.arg(1), prec::atom);
        return;
      case expr_kind::floor_div:
        return infix(e, "//");
      case expr_kind::mod:
        return infix(e, " % ");
      case expr_kind::rational:
        return infix(e, "/");
      case expr_kind::ceil_div:
        return call("CeilDiv", e);
      case expr_kind::clean_div:
        return call("CleanDiv", e);
      case expr_kind::modular_indexing:
        return call("ModularIndexing", e);
      case expr_kind::min:
        return call("Min", e);
      case expr_kind::max:
        return call("Max", e);
      case expr_kind::abs:
        return call("Abs", e);
    }
  }

 private:
  void operand(expr e, prec needed) {
    const bool parens = python_prec(e) < needed;
    if (parens) out_ += '(';
    print(e);
    if (parens) out_ += ')';
  }

  // Left operand binds like a product, the right one must be tighter, as
  // Python's operators of one precedence associate to the left.
  void infix(expr e, std::string_view op) {
    operand(e.arg(0), prec::product);
    out_ += op;
    operand(e.arg(1), prec::unary);
  }

  void call(std::string_view function, expr e) { print_arguments(*this, out_, function, e, ", "); }

  void print_sum(expr e) {
    bool first = true;
    for (expr term : e.args()) {
      if (first) {
        print(term);
        first = false;
        continue;
      }
      if (prints_negative(term)) {
        out_ += " - ";
        print_negated(term);
      } else {
        out_ += " + ";
        print(term);
      }
    }
  }

  // Prints -term for a term that prints_negative().
  void print_negated(expr term) {
    if (term.is_integer()) {
      out_ += std::to_string(-term.value());
      return;
    }
    const std::int64_t c = term.arg(0).value();
    if (c != -1) {
      out_ += std::to_string(-c);
      out_ += '*';
    }
    product_factors(term, 1, c != -1 ? prec::unary : prec::product);
  }

  void print_product(expr e) {
    const expr first = e.arg(0);
    if (!first.is_integer()) return product_factors(e, 0, prec::product);
    if (first.value() == -1) {
      // After a unary minus a factor must bind tighter than it: -(a//b)*c.
      out_ += '-';
      return product_factors(e, 1, prec::power);
    }
    out_ += std::to_string(first.value());
    out_ += '*';
    product_factors(e, 1, prec::unary);
  }

  // Operators of one precedence associate to the left in Python, so only the
  // first factor may print as a product itself (a//b*c); later ones, and the
  // first after a coefficient, must bind tighter: 2*(a//b).
  void product_factors(expr e, std::size_t start, prec first_needed) {
    for (std::size_t i = start; i < e.arity(); ++i) {
      if (i != start) out_ += '*';
      operand(e.arg(i), i == start ? first_needed : prec::unary);
    }
  }

  std::string& out_;
  std::size_t limit_;
};

class cpp_printer {
 public:
  cpp_printer(std::string& out, std::string_view prefix) : out_(out), prefix_(prefix) {}

  void print(expr e) {
    switch (e.kind()) {
      case expr_kind::integer:
        return literal(e.value());
      case expr_kind::symbol:
        out_ += e.name();
        return;
      case expr_kind::add:
        return joined(e, " + ");
      case expr_kind::mul:
        return joined(e, " * ");
      case expr_kind::pow:
        return helper("pow", e);
      case expr_kind::floor_div:
        return helper("floordiv", e);
      case expr_kind::ceil_div:
        return helper("ceildiv", e);
      case expr_kind::clean_div:
      case expr_kind::rational:
        return helper("cleandiv", e);
      case expr_kind::mod:
        return helper("mod", e);
      case expr_kind::modular_indexing:
        out_ += prefix_;
        out_ += "mod(";
        out_ += prefix_;
        out_ += "floordiv(";
        print(e.arg(0));
        out_ += ", ";
        print(e.arg(1));
        out_ += "), ";
        print(e.arg(2));
        out_ += ')';
        return;
      case expr_kind::min:
        return nested("min", e);
      case expr_kind::max:
        return nested("max", e);
      case expr_kind::abs:
        return helper("abs", e);
    }
  }

 private:
  void literal(std::int64_t v) {
    if (v == INT64_MIN) {
      out_ += "(-9223372036854775807LL - 1)";
      return;
    }
    const bool wide = v > INT32_MAX || v < INT32_MIN;
    if (v < 0) out_ += '(';
    out_ += std::to_string(v);
    if (wide) out_ += "LL";
    if (v < 0) out_ += ')';
  }

  void joined(expr e, std::string_view op) { print_arguments(*this, out_, "", e, op); }

  void helper(std::string_view name, expr e) {
    out_ += prefix_;
    print_arguments(*this, out_, name, e, ", ");
  }

  // min/max of n arguments as nested two-argument calls.
  void nested(std::string_view name, expr e) {
    const std::size_t n = e.arity();
    for (std::size_t i = 0; i + 1 < n; ++i) {
      out_ += prefix_;
      out_ += name;
      out_ += '(';
      print(e.arg(i));
      out_ += ", ";
    }
    print(e.arg(n - 1));
    for (std::size_t i = 0; i + 1 < n; ++i) out_ += ')';
  }

  std::string& out_;
  std::string_view prefix_;
};

}  // namespace detail

/// sympy/Python text of `e`, e.g. `2*s0 + (s1 + 127)//128`. `parse` reads it
/// back into the same node: parse(to_string(e)) == e.
[[nodiscard]] inline std::string to_string(expr e) {
  if (e.is_null()) return "<null>";
  std::string out;
  detail::python_printer(out).print(e);
  return out;
}

/// At most about `max_length` characters of to_string(e), ending in "..." when
/// cut; used by error messages, so that a huge expression stays readable.
[[nodiscard]] inline std::string to_string(expr e, std::size_t max_length) {
  if (e.is_null()) return "<null>";
  std::string out;
  detail::python_printer(out, max_length).print(e);
  if (out.size() >= max_length) {
    out.resize(max_length);
    out += "...";
  }
  return out;
}

inline std::ostream& operator<<(std::ostream& os, expr e) { return os << to_string(e); }

namespace detail {
/// The text of an expression as error messages quote it.
[[nodiscard]] inline std::string brief(expr e) { return to_string(e, 240); }
}  // namespace detail

/// C++ text of `e` for generated code. Symbols print as their names (declare
/// them as int64_t variables); Python-semantics operations print as calls to
/// helpers named `prefix` + floordiv, ceildiv, cleandiv, mod, pow, min, max,
/// abs, which `cpp_prelude(prefix)` defines.
[[nodiscard]] inline std::string to_cpp(expr e, std::string_view prefix = "wg_") {
  std::string out;
  detail::cpp_printer(out, prefix).print(e);
  return out;
}

/// Self-contained C++ definitions of the helpers that `to_cpp` calls, with
/// Python's semantics (floor division, modulo with the divisor's sign). Like
/// the C++ operators they do not check for overflow (INT64_MIN // -1).
[[nodiscard]] inline std::string cpp_prelude(std::string_view prefix = "wg_") {
  std::string p{prefix};
  std::string s = "#include <cstdint>\n";
  s += "static inline int64_t " + p +
       "floordiv(int64_t a, int64_t b) { int64_t q = a / b; "
       "return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }\n";
  s += "static inline int64_t " + p +
       "ceildiv(int64_t a, int64_t b) { int64_t q = a / b; "
       "return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q; }\n";
  s += "static inline int64_t " + p + "cleandiv(int64_t a, int64_t b) { return a / b; }\n";
  s += "static inline int64_t " + p +
       "mod(int64_t a, int64_t b) { if (b == -1) return 0; int64_t r = a % b; "
       "return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }\n";
  s += "static inline int64_t " + p +
       "pow(int64_t b, int64_t e) { int64_t r = 1; while (e > 0) { if (e & 1) r *= b; "
       "e >>= 1; if (e > 0) b *= b; } return r; }\n";
  s += "static inline int64_t " + p + "min(int64_t a, int64_t b) { return a < b ? a : b; }\n";
  s += "static inline int64_t " + p + "max(int64_t a, int64_t b) { return a < b ? b : a; }\n";
  s += "static inline int64_t " + p + "abs(int64_t a) { return a < 0 ? -a : a; }\n";
  return s;
}

}  // namespace wrapgraph::sym

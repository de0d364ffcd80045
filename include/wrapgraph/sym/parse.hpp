#pragma once
/// sym::parse: reads the sympy/Python text of an integer expression, as
/// Inductor and sym::to_string print it, into a canonical sym::expr.
///
/// Grammar (Python's precedence, loosest first; docs/sym-text.md):
///
///   sum      := product (('+' | '-') product)*
///   product  := unary (('*' | '//' | '%' | '/') unary)*      left-associative
///   unary    := ('-' | '+') unary | power
///   power    := primary ('**' unary)?                       right-associative
///   primary  := integer | identifier | identifier '(' sum (',' sum)* ')'
///             | '(' sum ')'
///
/// so `-x**2` is -(x**2), `2**-x` is 2**(-x), `-a//b` is (-a)//b and
/// `a//b*c` is (a//b)*c. `/` is the true quotient; it must end up inside
/// floor(...) or ceiling(...) unless parse_options::allow_true_division.
/// Every node is built through the context, so the result is canonical and
/// parse(ctx, to_string(e)) == e.
///
/// Errors are wrapgraph::parse_error with the zero-based column of the
/// offending character: the ids "wrapgraph.sym.parse.*" below for text that
/// does not follow the grammar, and the context's own ids (such as
/// "wrapgraph.sym.division_by_zero" for FloorDiv(s0, 0)) for an operation the
/// context refuses, with the column of its operator or function name added to
/// the message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::sym {

/// How `parse` treats names and true division.
struct parse_options {
  /// Assumptions of a symbol that the text names and the context does not know
  /// yet (and `resolve`, if set, does not supply).
  assumptions default_assumptions{};
  /// Accept a result that is a true quotient `a/b` (expr_kind::rational), so
  /// that printed quotients read back. By default that is the error
  /// wrapgraph.sym.parse.true_division: `/` belongs inside floor/ceiling.
  bool allow_true_division = false;
  /// Called for a name that the context has no symbol of: returns the
  /// expression the name stands for (a new symbol, a constant such as a
  /// kernel config's XBLOCK, ...), or a null expr to reject the name
  /// (wrapgraph.sym.parse.unknown_symbol). The expression must belong to the
  /// context being parsed into. When empty, unknown names become symbols with
  /// `default_assumptions`.
  std::function<expr(std::string_view)> resolve;
};

namespace detail {

// Recursive descent over a lexer that reads one token ahead. Each grammar rule
// is one member function; nodes are built through the context as soon as
// their operands are read.
class expr_parser {
 public:
  expr_parser(context& ctx, std::string_view text, const parse_options& options)
      : ctx_(ctx), text_(text), options_(options) {}

  expr parse() {
    current_ = lex(0);
    if (current_.kind == token_kind::end) {
      throw parse_error("wrapgraph.sym.parse.empty",
                        where(current_.begin) + "expected an expression, found " +
                            (text_.empty() ? std::string("an empty text") : std::string("only spaces")),
                        current_.begin);
    }
    const expr result = sum();
    if (current_.kind != token_kind::end) unexpected("expected an operator or the end of the text");
    if (result.is(expr_kind::rational) && !options_.allow_true_division) {
      const std::size_t column = first_quotient_.value_or(0);
      throw parse_error("wrapgraph.sym.parse.true_division",
                        where(column) + "the quotient " + to_string(result, 240) +
                            " is not an integer expression; '/' may only appear inside "
                            "floor(...) or ceiling(...)",
                        column);
    }
    return result;
  }

 private:
  static constexpr int max_depth = 1000;
  static constexpr std::size_t max_quoted = 160;
  static constexpr std::uint64_t min_magnitude = std::uint64_t{1} << 63;  // |INT64_MIN|

  enum class token_kind : std::uint8_t {
    end,
    integer,
    identifier,
    plus,         // +
    minus,        // -
    star,         // *
    power,        // **
    slash,        // /
    floor_slash,  // //
    percent,      // %
    left_paren,   // (
    right_paren,  // )
    comma,        // ,
  };

  struct token {
    token_kind kind = token_kind::end;
    std::size_t begin = 0;  // [begin, end) in the text
    std::size_t end = 0;
  };

  // The functions of the grammar and how many arguments each takes.
  enum class function_kind : std::uint8_t {
    floor_div, ceil_div, clean_div, mod, modular_indexing, min, max, floor, ceiling, abs
  };
  static constexpr std::size_t variadic = std::numeric_limits<std::size_t>::max();
  struct function_entry {
    std::string_view name;
    function_kind kind;
    std::size_t min_args;
    std::size_t max_args;  // or variadic
  };
  static constexpr function_entry functions[] = {
      {"FloorDiv", function_kind::floor_div, 2, 2},
      {"CeilDiv", function_kind::ceil_div, 2, 2},
      {"CleanDiv", function_kind::clean_div, 2, 2},
      {"Mod", function_kind::mod, 2, 2},
      {"PythonMod", function_kind::mod, 2, 2},
      {"ModularIndexing", function_kind::modular_indexing, 3, 3},
      {"Min", function_kind::min, 1, variadic},
      {"Max", function_kind::max, 1, variadic},
      {"floor", function_kind::floor, 1, 1},
      {"ceiling", function_kind::ceiling, 1, 1},
      {"Abs", function_kind::abs, 1, 1},
  };

  [[nodiscard]] static constexpr const function_entry* find_function(std::string_view name) noexcept {
    for (const function_entry& f : functions) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  [[nodiscard]] static constexpr bool is_identifier_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  [[nodiscard]] static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
  [[nodiscard]] static constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }

  // ---- lexer ----------------------------------------------------------------

  // The token that starts at or after `pos` (after whitespace).
  [[nodiscard]] token lex(std::size_t pos) const {
    while (pos < text_.size() && is_space(text_[pos])) ++pos;
    if (pos == text_.size()) return {token_kind::end, pos, pos};
    const char c = text_[pos];
    const char next = pos + 1 < text_.size() ? text_[pos + 1] : '\0';
    auto one = [&](token_kind k) { return token{k, pos, pos + 1}; };
    auto two = [&](token_kind k) { return token{k, pos, pos + 2}; };
    switch (c) {
      case '+': return one(token_kind::plus);
      case '-': return one(token_kind::minus);
      case '%': return one(token_kind::percent);
      case '(': return one(token_kind::left_paren);
      case ')': return one(token_kind::right_paren);
      case ',': return one(token_kind::comma);
      case '*': return next == '*' ? two(token_kind::power) : one(token_kind::star);
      case '/': return next == '/' ? two(token_kind::floor_slash) : one(token_kind::slash);
      default: break;
    }
    std::size_t end = pos + 1;
    if (is_digit(c)) {
      while (end < text_.size() && is_digit(text_[end])) ++end;
      if (end < text_.size() && (text_[end] == '.' || text_[end] == 'e' || text_[end] == 'E')) {
        throw parse_error("wrapgraph.sym.parse.unexpected_character",
                          where(end) + "'" + std::string(text_.substr(pos, end + 1 - pos)) +
                              "' starts a floating-point number; expressions are integers",
                          end);
      }
      return {token_kind::integer, pos, end};
    }
    if (is_identifier_start(c)) {
      while (end < text_.size() && (is_identifier_start(text_[end]) || is_digit(text_[end]))) ++end;
      return {token_kind::identifier, pos, end};
    }
    std::string shown;
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      shown = std::string("the byte 0x") + hex[u >> 4] + hex[u & 15];
    } else {
      shown = std::string("'") + c + "'";
    }
    throw parse_error("wrapgraph.sym.parse.unexpected_character",
                      where(pos) + shown + " is not part of the expression grammar", pos);
  }

  void advance() { current_ = lex(current_.end); }
  [[nodiscard]] std::string_view spelling(const token& t) const {
    return text_.substr(t.begin, t.end - t.begin);
  }

  // ---- errors ---------------------------------------------------------------

  // `at column 5 of "s0 * * 2": `; long texts are quoted around the column.
  [[nodiscard]] std::string where(std::size_t column) const {
    std::string quoted;
    if (text_.size() <= max_quoted) {
      quoted = text_;
    } else {
      const std::size_t half = max_quoted / 2;
      const std::size_t from = column > half ? column - half : 0;
      const std::size_t to = std::min(text_.size(), from + max_quoted);
      if (from > 0) quoted += "...";
      quoted += text_.substr(from, to - from);
      if (to < text_.size()) quoted += "...";
    }
    return "at column " + std::to_string(column) + " of \"" + quoted + "\": ";
  }

  [[nodiscard]] std::string describe(const token& t) const {
    if (t.kind == token_kind::end) return "the end of the text";
    return "'" + std::string(spelling(t)) + "'";
  }

  // The current token is not what `expectation` says should come.
  [[noreturn]] void unexpected(std::string_view expectation) const {
    const bool at_end = current_.kind == token_kind::end;
    throw parse_error(at_end ? "wrapgraph.sym.parse.unexpected_end"
                             : "wrapgraph.sym.parse.unexpected_token",
                      where(current_.begin) + std::string(expectation) + ", found " +
                          describe(current_),
                      current_.begin);
  }

  void expect(token_kind kind, std::string_view expectation) {
    if (current_.kind != kind) unexpected(expectation);
    advance();
  }

  // Runs a context constructor; its errors (division by zero, overflow, a
  // quotient used as an operand, ...) keep their id and gain the column.
  template <class Build>
  expr build(std::size_t column, Build&& make) {
    try {
      const expr result = make();
      if (result.is(expr_kind::rational) && floor_depth_ == 0 && !first_quotient_)
        first_quotient_ = column;
      return result;
    } catch (const parse_error&) {
      throw;
    } catch (const sym_error& e) {
      throw parse_error(e.id(), where(column) + e.message(), column);
    }
  }

  struct depth_guard {
    expr_parser& parser;
    explicit depth_guard(expr_parser& p, std::size_t column) : parser(p) {
      if (++parser.depth_ > max_depth) {
        throw parse_error("wrapgraph.sym.parse.too_deep",
                          parser.where(column) + "the expression nests deeper than " +
                              std::to_string(max_depth) + " levels",
                          column);
      }
    }
    ~depth_guard() { --parser.depth_; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
  };

  // ---- grammar --------------------------------------------------------------

  // sum := product (('+' | '-') product)*
  expr sum() {
    expr left = product();
    while (current_.kind == token_kind::plus || current_.kind == token_kind::minus) {
      const token op = current_;
      advance();
      const expr right = product();
      left = build(op.begin, [&] {
        return op.kind == token_kind::plus ? ctx_.add(left, right) : ctx_.sub(left, right);
      });
    }
    return left;
  }

  // product := unary (('*' | '//' | '%' | '/') unary)*
  expr product() {
    expr left = unary();
    for (;;) {
      const token op = current_;
      switch (op.kind) {
        case token_kind::star:
        case token_kind::floor_slash:
        case token_kind::percent:
        case token_kind::slash:
          break;
        default:
          return left;
      }
      advance();
      const expr right = unary();
      left = build(op.begin, [&] {
        switch (op.kind) {
          case token_kind::star: return ctx_.mul(left, right);
          case token_kind::floor_slash: return ctx_.floor_div(left, right);
          case token_kind::percent: return ctx_.mod(left, right);
          default: return ctx_.true_div(left, right);
        }
      });
    }
  }

  // unary := ('-' | '+') unary | power
  expr unary() {
    const depth_guard guard(*this, current_.begin);
    const token op = current_;
    if (op.kind == token_kind::plus) {
      advance();
      return unary();
    }
    if (op.kind != token_kind::minus) return power();
    advance();
    // -9223372036854775808 is INT64_MIN, although its digits alone overflow.
    if (current_.kind == token_kind::integer && literal(current_) == min_magnitude &&
        lex(current_.end).kind != token_kind::power) {
      advance();
      return ctx_.integer(std::numeric_limits<std::int64_t>::min());
    }
    const expr operand = unary();
    return build(op.begin, [&] { return ctx_.neg(operand); });
  }

  // power := primary ('**' unary)?
  expr power() {
    const expr base = primary();
    if (current_.kind != token_kind::power) return base;
    const token op = current_;
    advance();
    const expr exponent = unary();
    return build(op.begin, [&] { return ctx_.pow(base, exponent); });
  }

  // primary := integer | identifier | call | '(' sum ')'
  expr primary() {
    const token t = current_;
    switch (t.kind) {
      case token_kind::integer: {
        const std::optional<std::uint64_t> v = literal(t);
        if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          throw parse_error("wrapgraph.sym.parse.overflow",
                            where(t.begin) + "the integer " + std::string(spelling(t)) +
                                " does not fit in int64",
                            t.begin);
        }
        advance();
        return ctx_.integer(static_cast<std::int64_t>(*v));
      }
      case token_kind::identifier:
        advance();
        if (current_.kind == token_kind::left_paren) return call(t);
        return name(t);
      case token_kind::left_paren: {
        advance();
        const expr inner = sum();
        expect(token_kind::right_paren, "expected ')' to close the '(' at column " + std::to_string(t.begin));
        return inner;
      }
      default:
        unexpected("expected an operand");
    }
  }

  // identifier '(' sum (',' sum)* ')', the '(' being current.
  expr call(const token& name_token) {
    const std::string_view name = spelling(name_token);
    const function_entry* f = find_function(name);
    if (f == nullptr) {
      throw parse_error("wrapgraph.sym.parse.unknown_function",
                        where(name_token.begin) + "unknown function '" + std::string(name) +
                            "'; the functions are FloorDiv, CeilDiv, CleanDiv, Mod, PythonMod, "
                            "ModularIndexing, Min, Max, floor, ceiling and Abs",
                        name_token.begin);
    }
    advance();  // '('
    const bool rounds = f->kind == function_kind::floor || f->kind == function_kind::ceiling;
    if (rounds) ++floor_depth_;
    std::vector<expr> args;
    if (current_.kind != token_kind::right_paren) {
      for (;;) {
        args.push_back(sum());
        if (current_.kind != token_kind::comma) break;
        advance();
      }
    }
    expect(token_kind::right_paren, "expected ',' or ')' in the arguments of " + std::string(name));
    if (rounds) --floor_depth_;
    if (args.size() < f->min_args || args.size() > f->max_args) {
      const std::string wanted = (f->max_args == variadic ? "at least " : "") +
                                 std::to_string(f->min_args) +
                                 (f->min_args == 1 ? " argument" : " arguments");
      throw parse_error("wrapgraph.sym.parse.arity",
                        where(name_token.begin) + std::string(name) + " takes " + wanted +
                            ", got " + std::to_string(args.size()),
                        name_token.begin);
    }
    return build(name_token.begin, [&] {
      switch (f->kind) {
        case function_kind::floor_div: return ctx_.floor_div(args[0], args[1]);
        case function_kind::ceil_div: return ctx_.ceil_div(args[0], args[1]);
        case function_kind::clean_div: return ctx_.clean_div(args[0], args[1]);
        case function_kind::mod: return ctx_.mod(args[0], args[1]);
        case function_kind::modular_indexing: return ctx_.modular_indexing(args[0], args[1], args[2]);
        case function_kind::min: return ctx_.min(std::span<const expr>(args));
        case function_kind::max: return ctx_.max(std::span<const expr>(args));
        case function_kind::floor: return ctx_.floor(args[0]);
        case function_kind::ceiling: return ctx_.ceiling(args[0]);
        case function_kind::abs: return ctx_.abs(args[0]);
      }
      return expr{};
    });
  }

  // A name that is not called: the context's symbol, else what `resolve`
  // says, else a new symbol.
  expr name(const token& t) {
    const std::string_view name = spelling(t);
    if (const expr known = ctx_.find_symbol(name)) return known;
    if (options_.resolve) {
      const expr resolved = options_.resolve(name);
      if (resolved.is_null()) {
        throw parse_error("wrapgraph.sym.parse.unknown_symbol",
                          where(t.begin) + "unknown symbol '" + std::string(name) + "'", t.begin);
      }
      WRAPGRAPH_ASSERT(&resolved.owner() == &ctx_,
                       "parse_options::resolve returned an expression of another context");
      return resolved;
    }
    return ctx_.symbol(name, options_.default_assumptions);
  }

  // The value of a decimal literal; nullopt beyond uint64.
  [[nodiscard]] std::optional<std::uint64_t> literal(const token& t) const {
    std::uint64_t v = 0;
    for (char c : spelling(t)) {
      if (__builtin_mul_overflow(v, std::uint64_t{10}, &v) ||
          __builtin_add_overflow(v, static_cast<std::uint64_t>(c - '0'), &v))
        return std::nullopt;
    }
    return v;
  }

  context& ctx_;
  std::string_view text_;
  const parse_options& options_;
  token current_;
  int depth_ = 0;
  int floor_depth_ = 0;  // inside floor(...) or ceiling(...)
  std::optional<std::size_t> first_quotient_;  // first operator outside floor/ceiling giving a/b
};

}  // namespace detail

/// The expression that `text` spells, built in canonical form in `ctx`:
/// parse(ctx, "(s0 + 127)//128") is floor_div(s0 + 127, 128), and
/// parse(ctx, to_string(e)) == e for every expression e of ctx. Names the
/// context knows are its symbols; others go to `options.resolve` or become new
/// symbols with `options.default_assumptions`. A name followed by '(' is a
/// function call; a function's name alone (`floor`) is a symbol.
///
/// Throws wrapgraph::parse_error (a sym_error) with one of these ids:
///   wrapgraph.sym.parse.empty                 the text is empty or only whitespace
///   wrapgraph.sym.parse.unexpected_character  a character that starts no token ('$', '.', '^')
///   wrapgraph.sym.parse.unexpected_token      a token where the grammar needs another
///   wrapgraph.sym.parse.unexpected_end        the text ends where the grammar needs more
///   wrapgraph.sym.parse.unknown_function      a call of a name that is no function of the grammar
///   wrapgraph.sym.parse.arity                 a function called with the wrong number of arguments
///   wrapgraph.sym.parse.overflow              an integer literal outside int64
///   wrapgraph.sym.parse.true_division         the result is a quotient a/b outside floor/ceiling
///   wrapgraph.sym.parse.unknown_symbol        `options.resolve` rejected a name
///   wrapgraph.sym.parse.too_deep              more than 1000 nested levels
/// and, with the context's own id, any error of building a node (such as
/// wrapgraph.sym.division_by_zero for `s0 // 0`), the message prefixed with
/// the column of the operator or function name.
[[nodiscard]] inline expr parse(context& ctx, std::string_view text, const parse_options& options = {}) {
  return detail::expr_parser(ctx, text, options).parse();
}

}  // namespace wrapgraph::sym

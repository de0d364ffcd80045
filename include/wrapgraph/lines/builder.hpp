#pragma once
/// program_builder: writes a wrapper program in C++, one method per line kind, with sizes given as
/// expression templates, integers, runtime exprs or expression text alike.
///
///     using namespace wrapgraph::program_terms;
///     using namespace wrapgraph::sym::literals;
///     wrapgraph::program_builder b;
///     auto s0 = b.symbol<"s0">(hint(8));                        // sym::var<"s0", sym::positive>
///     auto x = b.input("arg0_1", f32, cpu, shape(s0, 8_c));      // contiguous strides
///     auto buf0 = b.allocate("buf0", f32, cpu, shape(s0, 8));
///     b.call(k_add, {x, buf0, s0 * 8_c}, grid("CeilDiv(xnumel, XBLOCK)", 1, 1));
///     b.outputs(view(buf0, shape(s0 * 4_c, 2), strides(2, 1)));
///     wrapgraph::program p = b.build();
///
/// The law: a built program equals (wrapgraph::equal) the program that the
/// JSON form of the same text loads to. So every name means what it means in
/// JSON: a declared symbol has the assumptions of its declaration
/// (assumptions_of), any other name in an expression (a kernel parameter in
/// a grid, a symbol that a line defines) is a sym::any_integer symbol, as a
/// typed `sym::var<"XBLOCK">` is; a string argument is a name; an integer
/// argument is a constant, while an expression (sym::expr or typed) is a
/// symbolic `{"expr": ...}` argument; an offset left out is 0.
///
/// The builder checks only what the JSON form cannot even write, with the id
/// the JSON reader gives the same mistake: a symbol, a subgraph, a keyword
/// argument or a binding named twice (wrapgraph.json.duplicate_name), a
/// hint below 1 (below 0 when unbacked; wrapgraph.json.bad_value). What a
/// program means (names defined before use, ranks, kernels, grids) is the
/// converter's to check, as for a loaded program.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <wrapgraph/config.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/layout/symbolic.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/static.hpp>

namespace wrapgraph {

class program_builder;
class kernel_builder;

namespace builder_detail {
template <class T>
inline constexpr bool always_false = false;

template <sym::integer_like I>
[[nodiscard]] std::int64_t checked_int64(I v) {
  if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
    if (v > static_cast<std::make_unsigned_t<std::int64_t>>(std::numeric_limits<std::int64_t>::max()))
      throw sym_error("wrapgraph.sym.overflow", "the integer " + std::to_string(v) + " does not fit int64");
  }
  return static_cast<std::int64_t>(v);
}
}  // namespace builder_detail

// ---- arguments the builder lowers into its context ------------------------------

/// One size, stride, offset or grid dimension as the builder takes it: a
/// runtime sym::expr (of the builder's context), an integer, an expression
/// template (`8_c`, `s0 * 2_c + 1_c`, a typed `sym::var`) or expression text
/// in the format's grammar ("CeilDiv(xnumel, XBLOCK)"). The builder lowers it
/// into its context when the line is added.
class extent_arg {
 public:
  extent_arg(sym::expr e) noexcept : value_(e) {}  // NOLINT: implicit by design
  template <sym::integer_like I>
  extent_arg(I v) : value_(builder_detail::checked_int64(v)) {}  // NOLINT
  template <sym::typed_expr E>
  extent_arg(const E& e)  // NOLINT
      : value_(lowering([e](sym::context& ctx) { return sym::lower(ctx, e); })) {}
  extent_arg(const char* text) : value_(std::string(text)) {}         // NOLINT
  extent_arg(std::string_view text) : value_(std::string(text)) {}    // NOLINT
  extent_arg(const std::string& text) : value_(text) {}               // NOLINT

 private:
  friend class program_builder;
  using lowering = std::function<sym::expr(sym::context&)>;
  std::variant<sym::expr, std::int64_t, lowering, std::string> value_;
};

/// A list of extents: what `shape(...)`, `strides(...)` and `grid(...)`
/// make; also `{s0, 8}` or a std::vector<sym::expr>.
class extent_list {
 public:
  extent_list() = default;
  extent_list(std::initializer_list<extent_arg> items) : items_(items) {}
  extent_list(const std::vector<sym::expr>& exprs) : items_(exprs.begin(), exprs.end()) {}  // NOLINT
  explicit extent_list(std::vector<extent_arg> items) noexcept : items_(std::move(items)) {}

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

 private:
  friend class program_builder;
  std::vector<extent_arg> items_;
};

/// A view argument or output (`{"view": ...}`), made by `view(...)`.
struct view_spec {
  std::string input;
  extent_list size;
  extent_list stride;
  extent_arg offset = 0;
  meta_data meta = {};
};

/// A tensor layout the builder lowers, made by `layout_of(...)`; strides left
/// out are the contiguous ones.
struct layout_spec {
  dtype type = dtype::float32;
  device dev = cpu;
  extent_list size;
  std::optional<extent_list> stride;
  extent_arg offset = 0;
};

/// A name: a string, or something the builder made that has one (a buffer, a
/// kernel, a subgraph's builder).
class name_arg {
 public:
  name_arg(const char* name) : name_(name) {}             // NOLINT
  name_arg(std::string_view name) : name_(name) {}        // NOLINT
  name_arg(const std::string& name) : name_(name) {}      // NOLINT
  name_arg(const buffer_decl& buffer) : name_(buffer.name) {}  // NOLINT
  name_arg(const kernel_builder& kernel);                 // NOLINT
  name_arg(const program_builder& subgraph);              // NOLINT

  [[nodiscard]] const std::string& str() const noexcept { return name_; }

 private:
  std::string name_;
};

/// An argument or output (the format's `Ref`): a string or buffer is a name,
/// a sym::expr or expression template a symbolic `{"expr": ...}`, an integer,
/// float or bool a constant, `none`/nullptr a None, `view(...)` a view.
class arg {
 public:
  arg(const char* name) : value_(ref(name_ref{name})) {}                 // NOLINT
  arg(std::string_view name) : value_(ref(name_ref{std::string(name)})) {}  // NOLINT
  arg(const std::string& name) : value_(ref(name_ref{name})) {}          // NOLINT
  arg(const buffer_decl& buffer) : value_(ref(name_ref{buffer.name})) {}  // NOLINT
  arg(sym::expr e) : value_(ref(expr_ref{e})) {}                          // NOLINT
  template <sym::typed_expr E>
  arg(const E& e) : value_(extent_arg(e)) {}  // NOLINT
  template <sym::integer_like I>
  arg(I v) : value_(ref(builder_detail::checked_int64(v))) {}  // NOLINT
  template <std::same_as<bool> B>
  arg(B v) : value_(ref(v)) {}  // NOLINT
  template <std::floating_point F>
  arg(F v) : value_(ref(static_cast<double>(v))) {}  // NOLINT
  arg(std::nullptr_t) : value_(ref(none_ref{})) {}  // NOLINT
  arg(none_ref) : value_(ref(none_ref{})) {}        // NOLINT
  arg(view_spec v) : value_(std::move(v)) {}        // NOLINT
  arg(name_ref r) : value_(ref(std::move(r))) {}    // NOLINT
  arg(expr_ref r) : value_(ref(r)) {}               // NOLINT
  arg(view_ref r) : value_(ref(std::move(r))) {}    // NOLINT
  arg(ref r) : value_(std::move(r)) {}              // NOLINT

 private:
  friend class program_builder;
  std::variant<ref, extent_arg, view_spec> value_;
};

/// A keyword argument of an extern operator.
using kwarg = std::pair<std::string, arg>;

/// A value of a kernel's `constants` or of a config: an integer, a float, a
/// bool or a list of integers (`{"block", {128, 1, 1}}`).
class kernel_value_arg {
 public:
  template <sym::integer_like I>
  kernel_value_arg(I v) : value_(builder_detail::checked_int64(v)) {}  // NOLINT
  template <std::floating_point F>
  kernel_value_arg(F v) : value_(static_cast<double>(v)) {}  // NOLINT
  template <std::same_as<bool> B>
  kernel_value_arg(B v) : value_(v) {}  // NOLINT
  kernel_value_arg(std::initializer_list<std::int64_t> v) : value_(std::vector<std::int64_t>(v)) {}
  kernel_value_arg(std::vector<std::int64_t> v) : value_(std::move(v)) {}  // NOLINT

  [[nodiscard]] const kernel_value& value() const noexcept { return value_; }

 private:
  kernel_value value_;
};

// ---- the words of a program -----------------------------------------------------

/// The short names a program is written with: dtypes, devices, `hint`,
/// `unbacked`, `none`, `shape`/`strides`/`grid`, `view`, `layout_of` and
/// key-path steps. An inline namespace: `wrapgraph::f32` works, and
/// `using namespace wrapgraph::program_terms;` brings just these into scope.
inline namespace program_terms {

inline constexpr dtype b8 = dtype::bool_;
inline constexpr dtype boolean = dtype::bool_;
inline constexpr dtype i8 = dtype::int8;
inline constexpr dtype u8 = dtype::uint8;
inline constexpr dtype i16 = dtype::int16;
inline constexpr dtype i32 = dtype::int32;
inline constexpr dtype i64 = dtype::int64;
inline constexpr dtype f16 = dtype::float16;
inline constexpr dtype bf16 = dtype::bfloat16;
inline constexpr dtype f32 = dtype::float32;
inline constexpr dtype f64 = dtype::float64;

using wrapgraph::cpu;
using wrapgraph::cuda0;
/// The CUDA device `index` ("cuda:1").
[[nodiscard]] constexpr device cuda(int index) noexcept { return device{device_kind::cuda, index}; }

/// A backed size symbol's example value: `b.symbol("s0", hint(8))`.
struct hint {
  std::int64_t value;
  constexpr explicit hint(std::int64_t v) noexcept : value(v) {}
};

/// Marks a symbol known only at run time: `b.symbol("u0", unbacked)`.
struct unbacked_t {
  explicit constexpr unbacked_t() noexcept = default;
};
inline constexpr unbacked_t unbacked{};

/// A None argument (also `nullptr`).
inline constexpr none_ref none{};

/// Sizes from extents of any mix: `shape(s0, 8, 8_c, 2_c * s1 + 1_c, "u0 // 2")`.
template <class... Extents>
[[nodiscard]] extent_list shape(const Extents&... extents) {
  static_assert((std::is_constructible_v<extent_arg, const Extents&> && ...),
                "shape/strides/grid: every entry must be an extent: a sym::expr, an integer, an "
                "expression template such as 8_c or s0 * 2_c, or expression text such as \"s0 + 1\"");
  if constexpr ((std::is_constructible_v<extent_arg, const Extents&> && ...))
    return extent_list(std::vector<extent_arg>{extent_arg(extents)...});
  else
    return {};
}

/// Strides, as shape(...) takes them.
template <class... Extents>
[[nodiscard]] extent_list strides(const Extents&... extents) {
  return shape(extents...);
}

/// A kernel call's grid of one to three dimensions, as shape(...) takes them.
template <class... Extents>
[[nodiscard]] extent_list grid(const Extents&... extents) {
  return shape(extents...);
}

/// A strided view of `input` (offset relative to the input's own).
[[nodiscard]] inline view_spec view(const name_arg& input, extent_list size, extent_list stride,
                                    extent_arg offset = 0) {
  return view_spec{input.str(), std::move(size), std::move(stride), std::move(offset), {}};
}

/// A layout with contiguous strides.
[[nodiscard]] inline layout_spec layout_of(dtype type, device dev, extent_list size) {
  return layout_spec{type, dev, std::move(size), std::nullopt, 0};
}

/// A layout with explicit strides and offset.
[[nodiscard]] inline layout_spec layout_of(dtype type, device dev, extent_list size, extent_list stride,
                                           extent_arg offset = 0) {
  return layout_spec{type, dev, std::move(size), std::move(stride), std::move(offset)};
}

/// Steps of a key path (`unbacked_symbol_defs`): `{key::size(0)}`,
/// `{key::element(1), key::stride(0), key::divide_by(2)}`.
namespace key {
[[nodiscard]] inline key_step size(std::optional<std::int64_t> dim = std::nullopt) {
  return key_step{key_step::kind_type::size, dim, 1};
}
[[nodiscard]] inline key_step stride(std::optional<std::int64_t> dim = std::nullopt) {
  return key_step{key_step::kind_type::stride, dim, 1};
}
[[nodiscard]] inline key_step storage_offset() {
  return key_step{key_step::kind_type::storage_offset, std::nullopt, 1};
}
[[nodiscard]] inline key_step element(std::int64_t index) {
  return key_step{key_step::kind_type::element, index, 1};
}
[[nodiscard]] inline key_step divide_by(std::int64_t divisor) {
  return key_step{key_step::kind_type::divide_by, std::nullopt, divisor};
}
}  // namespace key

}  // namespace program_terms

// ---- kernels ---------------------------------------------------------------------

/// The kernel_definition line that `program_builder::kernel` added, completed
/// in place: parameters, constants, configs and implementations, in any order.
/// Valid while its builder lives (and is not moved); converts to the kernel's
/// name where a call wants one.
class kernel_builder {
 public:
  /// Appends a parameter to the signature: `param("in_ptr0", "*fp32")`.
  kernel_builder& param(std::string name, std::string type) {
    line().signature.push_back(kernel_param{std::move(name), std::move(type)});
    return *this;
  }
  /// Appends parameters: `params({{"in_ptr0", "*fp32"}, {"XBLOCK", "constexpr"}})`.
  kernel_builder& params(std::initializer_list<std::pair<std::string_view, std::string_view>> list) {
    for (const auto& [name, type] : list) param(std::string(name), std::string(type));
    return *this;
  }
  /// Fixes parameter `name` to `value` at definition time.
  kernel_builder& constant(std::string name, kernel_value_arg value) {
    line().constants.emplace_back(std::move(name), value.value());
    return *this;
  }
  /// Appends a candidate config: `config({{"XBLOCK", 128}, {"num_warps", 4}})`.
  kernel_builder& config(std::initializer_list<std::pair<std::string, kernel_value_arg>> values) {
    kernel_values& c = line().configs.emplace_back();
    for (const auto& [name, value] : values) c.emplace_back(name, value.value());
    return *this;
  }
  /// The C++ implementation (see the format's `cpp` ABI).
  kernel_builder& cpp(std::string source, std::string entry) {
    line().implementations.cpp = source_implementation{std::move(source), std::move(entry)};
    return *this;
  }
  /// The CUDA C++ implementation.
  kernel_builder& cuda(std::string source, std::string entry) {
    line().implementations.cuda = source_implementation{std::move(source), std::move(entry)};
    return *this;
  }
  /// One prebuilt binary for all configs.
  kernel_builder& cubin(cubin_binary binary) {
    line().implementations.cubin = cubin_implementation{std::move(binary), {}};
    return *this;
  }
  /// One prebuilt binary per config, in the order of the configs.
  kernel_builder& cubin_per_config(std::vector<cubin_binary> binaries) {
    line().implementations.cubin = cubin_implementation{std::nullopt, std::move(binaries)};
    return *this;
  }
  /// Meta of the definition line.
  kernel_builder& meta(meta_data m) {
    line().meta = std::move(m);
    return *this;
  }

  /// The kernel's name.
  [[nodiscard]] const std::string& name() const { return line().kernel; }
  /// The definition as built so far.
  [[nodiscard]] const kernel_definition_line& definition() const { return line(); }

 private:
  friend class program_builder;
  kernel_builder(program* owner, std::size_t index) noexcept : owner_(owner), index_(index) {}
  [[nodiscard]] kernel_definition_line& line() const {
    WRAPGRAPH_ASSERT(index_ < owner_->lines.size() &&
                         std::holds_alternative<kernel_definition_line>(owner_->lines[index_]),
                     "kernel_builder used after its program_builder was built or moved");
    return std::get<kernel_definition_line>(owner_->lines[index_]);
  }

  program* owner_;
  std::size_t index_;
};

// ---- the builder -----------------------------------------------------------------

/// Writes a program line by line. Owns the program and so its sym::context;
/// subgraphs made by `subgraph(name)` share that context. Methods that define
/// something return it (a buffer_decl with its name and layout, a result's
/// name, a symbol); the others return the builder, to chain. `build()` hands
/// the program over and leaves the builder empty.
class program_builder {
 public:
  /// A builder of the program `name` ("main" unless told).
  explicit program_builder(std::string name = "main") { program_.name = std::move(name); }
  /// A builder whose program shares `ctx` (how subgraphs are made).
  program_builder(std::string name, std::shared_ptr<sym::context> ctx) {
    WRAPGRAPH_ASSERT(ctx != nullptr, "program_builder needs a context");
    program_.ctx = std::move(ctx);
    program_.name = std::move(name);
  }
  program_builder(program_builder&&) noexcept = default;
  program_builder& operator=(program_builder&&) noexcept = default;
  program_builder(const program_builder&) = delete;
  program_builder& operator=(const program_builder&) = delete;
  ~program_builder() = default;

  /// The context every expression of the program belongs to.
  [[nodiscard]] sym::context& context() const noexcept { return *program_.ctx; }
  [[nodiscard]] const std::shared_ptr<sym::context>& shared_context() const noexcept { return program_.ctx; }
  /// The program's name.
  [[nodiscard]] const std::string& name() const noexcept { return program_.name; }
  /// The program as built so far (subgraphs are added by build()).
  [[nodiscard]] const program& current() const noexcept { return program_; }

  // ---- symbols ----------------------------------------------------------------

  /// Declares a backed size symbol with an example value; returns it (positive).
  sym::expr symbol(std::string name, hint example) { return declare(std::move(name), {example.value, false, {}}); }
  /// Declares an unbacked symbol (known only at run time); returns it (non-negative).
  sym::expr symbol(std::string name, unbacked_t) { return declare(std::move(name), {std::nullopt, true, {}}); }
  /// Declares a symbol as `decl` says (`{}`: positive, no hint).
  sym::expr symbol(std::string name, symbol_decl decl = {}) { return declare(std::move(name), std::move(decl)); }

  /// Declares a backed size symbol; returns it typed: `sym::var<Name, sym::positive>`.
  template <sym::fixed_string Name>
  sym::var<Name, sym::positive> symbol(hint example) {
    (void)symbol(std::string(Name.view()), example);
    return {};
  }
  /// Declares an unbacked symbol; returns it typed: `sym::var<Name, sym::unbacked>`.
  template <sym::fixed_string Name>
  sym::var<Name, sym::unbacked> symbol(unbacked_t) {
    (void)symbol(std::string(Name.view()), unbacked);
    return {};
  }
  /// Declares the symbol of a typed var, which must carry the assumptions the
  /// declaration gives (positive with a hint, sym::unbacked when unbacked).
  template <sym::fixed_string Name, sym::assumptions Assumed>
  sym::var<Name, Assumed> symbol(sym::var<Name, Assumed> v, hint example) {
    static_assert(Assumed == sym::positive,
                  "symbol(var, hint(n)): a symbol with a hint is positive; declare the var as "
                  "sym::var<\"s0\", sym::positive>");
    (void)symbol(std::string(Name.view()), example);
    return v;
  }
  template <sym::fixed_string Name, sym::assumptions Assumed>
  sym::var<Name, Assumed> symbol(sym::var<Name, Assumed> v, unbacked_t) {
    static_assert(Assumed == sym::unbacked,
                  "symbol(var, unbacked): an unbacked symbol is sym::unbacked; declare the var as "
                  "sym::var<\"u0\", sym::unbacked>");
    (void)symbol(std::string(Name.view()), unbacked);
    return v;
  }

  /// Expression text in the format's grammar, parsed as the JSON reader does
  /// (names not declared become sym::any_integer symbols).
  [[nodiscard]] sym::expr parse(std::string_view text) {
    static const sym::parse_options options{sym::any_integer, false, {}};
    return sym::parse(context(), text, options);
  }
  /// Any extent as an expression of this program's context.
  [[nodiscard]] sym::expr expr(const extent_arg& e) { return lower(e); }

  // ---- inputs and constants ---------------------------------------------------

  /// A tensor input with contiguous strides; returns it as a buffer.
  buffer_decl input(std::string name, dtype type, device dev, extent_list size) {
    return input(std::move(name), layout_of(type, dev, std::move(size)));
  }
  /// A tensor input with explicit strides.
  buffer_decl input(std::string name, dtype type, device dev, extent_list size, extent_list stride) {
    return input(std::move(name), layout_of(type, dev, std::move(size), std::move(stride)));
  }
  buffer_decl input(std::string name, const layout_spec& layout) {
    tensor_input in{std::move(name), lower(layout), {}};
    buffer_decl result{in.name, in.layout, {}};
    program_.inputs.emplace_back(std::move(in));
    return result;
  }
  /// An integer input defining the symbol `name`; returns the symbol.
  sym::expr symbol_input(std::string name) {
    const sym::expr s = named_symbol(name);
    program_.inputs.emplace_back(symbol_input_t{std::move(name), {}});
    return s;
  }
  /// A constant integer input; returns its name.
  std::string int_input(std::string name, std::int64_t value) {
    program_.inputs.emplace_back(int_input_t{name, value, {}});
    return name;
  }
  /// A placeholder with no value; returns its name.
  std::string none_input(std::string name) {
    program_.inputs.emplace_back(none_input_t{name, {}});
    return name;
  }
  /// A constant tensor, contiguous: `constant("c0", f32, cpu, shape(3), {1, 2, 3})`.
  buffer_decl constant(std::string name, dtype type, device dev, extent_list size, nlohmann::ordered_json data) {
    return constant(std::move(name), layout_of(type, dev, std::move(size)), std::move(data));
  }
  buffer_decl constant(std::string name, const layout_spec& layout, nlohmann::ordered_json data) {
    constant_decl c{std::move(name), lower(layout), std::move(data), {}};
    buffer_decl result{c.name, c.layout, {}};
    program_.constants.push_back(std::move(c));
    return result;
  }

  // ---- buffers ----------------------------------------------------------------

  /// `allocate`: a new buffer, contiguous unless strides are given.
  buffer_decl allocate(std::string name, dtype type, device dev, extent_list size) {
    return allocate(std::move(name), layout_of(type, dev, std::move(size)));
  }
  buffer_decl allocate(std::string name, dtype type, device dev, extent_list size, extent_list stride) {
    return allocate(std::move(name), layout_of(type, dev, std::move(size), std::move(stride)));
  }
  buffer_decl allocate(std::string name, const layout_spec& layout) {
    buffer_decl b{std::move(name), lower(layout), {}};
    push(allocate_line{b, {}});
    return b;
  }
  /// `free`.
  program_builder& free(const name_arg& buffer) { return push(free_line{buffer.str(), {}}); }
  /// `free_if_not_reused`.
  program_builder& free_if_not_reused(const name_arg& buffer, bool is_reused) {
    return push(free_if_not_reused_line{buffer.str(), is_reused, {}});
  }
  /// `reuse`: `new_name` takes over `old`'s storage.
  buffer_decl reuse(const name_arg& old, std::string new_name, dtype type, device dev, extent_list size,
                    extent_list stride, bool delete_old) {
    return reuse(old, std::move(new_name), layout_of(type, dev, std::move(size), std::move(stride)), delete_old);
  }
  buffer_decl reuse(const name_arg& old, std::string new_name, dtype type, device dev, extent_list size,
                    bool delete_old) {
    return reuse(old, std::move(new_name), layout_of(type, dev, std::move(size)), delete_old);
  }
  buffer_decl reuse(const name_arg& old, std::string new_name, const layout_spec& layout, bool delete_old) {
    buffer_decl b{std::move(new_name), lower(layout), {}};
    push(reuse_line{old.str(), b, delete_old, {}});
    return b;
  }
  /// `reinterpret`: a strided view of `input` named `result`; returns the name.
  std::string reinterpret(const name_arg& input, std::string result, const extent_list& size,
                          const extent_list& stride, const extent_arg& offset = 0) {
    push(reinterpret_line{input.str(), result, lower(size), lower(stride), lower(offset), {}});
    return result;
  }
  /// `comm_buffer_allocate`, contiguous unless the layout says otherwise.
  buffer_decl comm_buffer_allocate(std::string name, dtype type, device dev, extent_list size,
                                   std::string comm_type, std::string group) {
    return comm_buffer_allocate(std::move(name), layout_of(type, dev, std::move(size)), std::move(comm_type),
                                std::move(group));
  }
  buffer_decl comm_buffer_allocate(std::string name, const layout_spec& layout, std::string comm_type,
                                   std::string group) {
    buffer_decl b{std::move(name), lower(layout), {}};
    push(comm_buffer_allocate_line{b, std::move(comm_type), std::move(group), {}});
    return b;
  }
  /// `comm_buffer_free`.
  program_builder& comm_buffer_free(const name_arg& buffer) { return push(comm_buffer_free_line{buffer.str(), {}}); }

  // ---- kernels ------------------------------------------------------------------

  /// `kernel_definition`: adds the line now and returns its builder:
  /// `b.kernel("k").param("in_ptr0", "*fp32").config({{"XBLOCK", 128}}).cpp(source, "k")`.
  kernel_builder kernel(std::string name) {
    kernel_definition_line k{};
    k.kernel = std::move(name);
    push(std::move(k));
    return kernel_builder(&program_, program_.lines.size() - 1);
  }
  /// `kernel_call`: launches `kernel` with `args` (its launched parameters, in
  /// signature order) over `grid`.
  program_builder& call(const name_arg& kernel, const std::vector<arg>& args, const extent_list& grid) {
    return push(kernel_call_line{kernel.str(), resolve(args), lower(grid), {}});
  }
  /// `symbolic_call_arg`: names `value` as the symbol `name`; returns that symbol.
  sym::expr symbolic_call_arg(std::string name, const extent_arg& value) {
    const sym::expr v = lower(value);
    const sym::expr s = named_symbol(name);
    push(symbolic_call_arg_line{std::move(name), v, {}});
    return s;
  }

  // ---- extern operators -----------------------------------------------------------

  /// `extern_kernel_out`: `kernel(*args, **kwargs, out=out)`.
  program_builder& extern_out(std::string kernel, const std::vector<arg>& args, const arg& out,
                              const std::vector<kwarg>& kwargs = {}) {
    return push(extern_kernel_out_line{std::move(kernel), resolve(args), resolve(kwargs), resolve(out), {}});
  }
  /// `extern_kernel_alloc` whose result is of `kind` (no layout); returns the result's name.
  std::string extern_alloc(std::string kernel, const std::vector<arg>& args, std::string result,
                           extern_result_kind kind = extern_result_kind::tensor,
                           const std::vector<kwarg>& kwargs = {}) {
    push(extern_kernel_alloc_line{std::move(kernel), resolve(args), resolve(kwargs), result, kind,
                                  std::nullopt, {}});
    return result;
  }
  /// `extern_kernel_alloc` of a tensor with a known layout.
  std::string extern_alloc(std::string kernel, const std::vector<arg>& args, std::string result,
                           const layout_spec& layout, const std::vector<kwarg>& kwargs = {}) {
    return extern_alloc(std::move(kernel), args, std::move(result), extern_result_kind::tensor, layout, kwargs);
  }
  /// `extern_kernel_alloc` with both a result kind and a layout.
  std::string extern_alloc(std::string kernel, const std::vector<arg>& args, std::string result,
                           extern_result_kind kind, const layout_spec& layout, const std::vector<kwarg>& kwargs = {}) {
    push(extern_kernel_alloc_line{std::move(kernel), resolve(args), resolve(kwargs), result, kind, lower(layout),
                                  {}});
    return result;
  }
  /// `multi_output`: element `index` of `input` (empty: an alias); returns the result's name.
  std::string multi_output(std::string result, const name_arg& input, std::vector<std::int64_t> index) {
    push(multi_output_line{result, input.str(), std::move(index), {}});
    return result;
  }
  /// `scatter_fallback`: in-place scatter; `src` a tensor or a number.
  program_builder& scatter(std::string kernel, const arg& self, std::int64_t dim, const arg& index, const arg& src,
                           std::optional<std::string> reduce = std::nullopt) {
    return push(
        scatter_fallback_line{std::move(kernel), resolve(self), dim, resolve(index), resolve(src), std::move(reduce), {}});
  }
  /// `index_put_fallback`: in-place index_put; `none` selects a whole dimension.
  program_builder& index_put(const arg& self, const std::vector<arg>& indices, const arg& values,
                             bool accumulate = false) {
    return push(index_put_fallback_line{resolve(self), resolve(indices), resolve(values), accumulate, {}});
  }

  // ---- control flow and data-dependent symbols -----------------------------------------

  /// A subgraph of this program, built by the returned builder, which shares
  /// this program's context and lives as long as this builder. Named twice:
  /// wrapgraph.json.duplicate_name.
  program_builder& subgraph(std::string name) {
    for (const auto& s : subgraphs_)
      if (s->name() == name) duplicate("subgraph", name);
    subgraphs_.push_back(std::make_unique<program_builder>(std::move(name), program_.ctx));
    return *subgraphs_.back();
  }
  /// `conditional`: runs one of two subgraphs on `operands`; returns the result's name.
  std::string conditional(std::string result, const arg& predicate, const name_arg& true_subgraph,
                          const name_arg& false_subgraph, const std::vector<arg>& operands) {
    push(conditional_line{result, resolve(predicate), true_subgraph.str(), false_subgraph.str(), resolve(operands),
                          {}});
    return result;
  }
  /// `dynamic_scalar`: `symbol` = the single value of `input` (keypath `{}`
  /// or `{"convert_int"}`); returns the symbol.
  sym::expr dynamic_scalar(const arg& input, std::string symbol, std::vector<std::string> keypath = {}) {
    const sym::expr s = named_symbol(symbol);
    push(dynamic_scalar_line{resolve(input), std::move(symbol), std::move(keypath), {}});
    return s;
  }
  /// `unbacked_symbol_defs`: `{{"u0", {key::size(0)}}, ...}`.
  program_builder& unbacked_symbol_defs(const name_arg& output,
                                        std::initializer_list<std::pair<std::string, key_path>> bindings) {
    symbol_bindings out;
    for (const auto& [symbol, path] : bindings) {
      for (const auto& [seen, unused] : out)
        if (seen == symbol) duplicate("binding", symbol);
      out.emplace_back(symbol, path);
    }
    return push(unbacked_symbol_defs_line{output.str(), std::move(out), {}});
  }

  // ---- lines with no effect --------------------------------------------------------------

  program_builder& comment(std::optional<std::string> text = std::nullopt) {
    return push(comment_line{std::move(text), {}});
  }
  program_builder& null_line(std::optional<std::string> text = std::nullopt) {
    return push(null_line_t{std::move(text), {}});
  }
  program_builder& line_context(std::optional<std::string> text = std::nullopt) {
    return push(line_context_line{std::move(text), {}});
  }
  program_builder& enter_device_context(std::optional<std::int64_t> device_index = std::nullopt) {
    return push(enter_device_context_line{device_index, {}});
  }
  program_builder& exit_device_context(std::optional<std::int64_t> device_index = std::nullopt) {
    return push(exit_device_context_line{device_index, {}});
  }
  program_builder& enter_subgraph(std::optional<std::string> subgraph_name = std::nullopt) {
    return push(enter_subgraph_line{std::move(subgraph_name), {}});
  }
  program_builder& exit_subgraph(std::optional<std::string> subgraph_name = std::nullopt) {
    return push(exit_subgraph_line{std::move(subgraph_name), {}});
  }

  // ---- anything else -------------------------------------------------------------------

  /// Appends a line as it is; its expressions must belong to context().
  program_builder& add(line l) { return push(std::move(l)); }
  /// Sets the meta of the last line added.
  program_builder& annotate(meta_data m) {
    WRAPGRAPH_ASSERT(!program_.lines.empty(), "annotate() before any line");
    std::visit([&m](auto& l) { l.meta = std::move(m); }, program_.lines.back());
    return *this;
  }
  /// Sets the meta of the buffer that the last line declared (allocate,
  /// reuse, comm_buffer_allocate).
  program_builder& annotate_buffer(meta_data m) {
    WRAPGRAPH_ASSERT(!program_.lines.empty(), "annotate_buffer() before any line");
    line& last = program_.lines.back();
    if (auto* a = std::get_if<allocate_line>(&last)) {
      a->buffer.meta = std::move(m);
    } else if (auto* r = std::get_if<reuse_line>(&last)) {
      r->new_buffer.meta = std::move(m);
    } else if (auto* c = std::get_if<comm_buffer_allocate_line>(&last)) {
      c->buffer.meta = std::move(m);
    } else {
      WRAPGRAPH_ASSERT(false, "annotate_buffer(): the last line declares no buffer");
    }
    return *this;
  }
  /// The program's outputs, in order (a subgraph always returns a list).
  template <class... Outputs>
  program_builder& outputs(const Outputs&... out) {
    static_assert((std::is_constructible_v<arg, const Outputs&> && ...),
                  "outputs(...): every output must be an argument: a name or buffer, a sym::expr or "
                  "expression template, view(...), a number, a bool or none");
    if constexpr ((std::is_constructible_v<arg, const Outputs&> && ...))
      program_.outputs = resolve(std::vector<arg>{arg(out)...});
    return *this;
  }
  /// Appends a test vector, as the format writes it.
  program_builder& example(nlohmann::ordered_json vector) {
    program_.examples.push_back(std::move(vector));
    return *this;
  }
  /// The program's meta.
  program_builder& meta(meta_data m) {
    program_.meta = std::move(m);
    return *this;
  }

  /// The program, with the subgraphs built by subgraph(); the builder is left
  /// empty (a fresh program of the same name and context).
  [[nodiscard]] program build() {
    program out = std::move(program_);
    for (auto& s : subgraphs_) out.subgraphs.push_back(subgraph_t{s->name(), s->build()});
    subgraphs_.clear();
    program_ = program{};
    program_.ctx = out.ctx;
    program_.name = out.name;
    return out;
  }

 private:
  // Names of data-model types that a member function shadows.
  using symbol_input_t = wrapgraph::symbol_input;
  using int_input_t = wrapgraph::int_input;
  using none_input_t = wrapgraph::none_input;
  using null_line_t = wrapgraph::null_line;
  using subgraph_t = wrapgraph::subgraph;

  program_builder& push(line l) {
    program_.lines.push_back(std::move(l));
    return *this;
  }

  [[noreturn]] void duplicate(std::string_view what, std::string_view name) const {
    throw program_error("wrapgraph.json.duplicate_name", std::string(what) + " '" + std::string(name) +
                                                             "' is given twice in program '" + program_.name + "'");
  }

  sym::expr declare(std::string name, symbol_decl decl) {
    if (program_.find_symbol(name) != nullptr) duplicate("symbol", name);
    if (decl.hint && *decl.hint < (decl.unbacked ? 0 : 1))
      throw program_error("wrapgraph.json.bad_value",
                          "symbol '" + name + "': " +
                              (decl.unbacked ? "an unbacked symbol's hint must be at least 0"
                                             : "a size symbol's hint must be at least 1 (sizes are positive)") +
                              ", got " + std::to_string(*decl.hint));
    const sym::expr s = context().symbol(name, assumptions_of(decl));
    program_.symbols.emplace_back(std::move(name), std::move(decl));
    return s;
  }

  // The symbol a name means in an expression, as the JSON reader makes it.
  sym::expr named_symbol(std::string_view name) {
    const sym::expr known = context().find_symbol(name);
    return known.is_null() ? context().symbol(name, sym::any_integer) : known;
  }

  sym::expr lower(const extent_arg& e) {
    return std::visit(
        [this](const auto& v) -> sym::expr {
          using V = std::remove_cvref_t<decltype(v)>;
          if constexpr (std::is_same_v<V, sym::expr>) {
            return sym::to_expr(context(), v);
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            return context().integer(v);
          } else if constexpr (std::is_same_v<V, std::string>) {
            return parse(v);
          } else {
            try {
              return v(context());
            } catch (const sym_error& e) {
              if (e.id() != "wrapgraph.sym.symbol_redeclared") throw;
              throw sym_error(e.id(), e.message() +
                                          "; a typed var lowers with its own assumptions, so declare it as the "
                                          "program does: b.symbol<\"s0\">(hint(8)) returns "
                                          "sym::var<\"s0\", sym::positive>, b.symbol<\"u0\">(unbacked) "
                                          "sym::var<\"u0\", sym::unbacked>, and other names are "
                                          "sym::any_integer (plain sym::var<\"XBLOCK\">)");
            }
          }
        },
        e.value_);
  }

  std::vector<sym::expr> lower(const extent_list& list) {
    std::vector<sym::expr> out;
    out.reserve(list.items_.size());
    for (const extent_arg& e : list.items_) out.push_back(lower(e));
    return out;
  }

  tensor_layout lower(const layout_spec& l) {
    tensor_layout out;
    out.type = l.type;
    out.dev = l.dev;
    out.size = lower(l.size);
    out.stride = l.stride ? lower(*l.stride) : layout::contiguous_strides(context(), out.size);
    out.offset = lower(l.offset);
    return out;
  }

  ref resolve(const arg& a) {
    return std::visit(
        [this](const auto& v) -> ref {
          using V = std::remove_cvref_t<decltype(v)>;
          if constexpr (std::is_same_v<V, ref>) {
            if (const auto* e = std::get_if<expr_ref>(&v)) return expr_ref{sym::to_expr(context(), e->value)};
            return v;
          } else if constexpr (std::is_same_v<V, extent_arg>) {
            return expr_ref{lower(v)};
          } else {
            return view_ref{v.input, lower(v.size), lower(v.stride), lower(v.offset), v.meta};
          }
        },
        a.value_);
  }

  std::vector<ref> resolve(const std::vector<arg>& args) {
    std::vector<ref> out;
    out.reserve(args.size());
    for (const arg& a : args) out.push_back(resolve(a));
    return out;
  }

  keyword_args resolve(const std::vector<kwarg>& kwargs) {
    keyword_args out;
    for (const auto& [key, value] : kwargs) {
      for (const auto& [seen, unused] : out)
        if (seen == key) duplicate("keyword argument", key);
      out.emplace_back(key, resolve(value));
    }
    return out;
  }

  program program_;
  std::vector<std::unique_ptr<program_builder>> subgraphs_;
};

inline name_arg::name_arg(const kernel_builder& kernel) : name_(kernel.name()) {}
inline name_arg::name_arg(const program_builder& subgraph) : name_(subgraph.name()) {}

}  // namespace wrapgraph

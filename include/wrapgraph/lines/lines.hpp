#pragma once
/// One plain aggregate per line kind of the wrapper program, reflected with
/// Boost.Hana; `line`, the closed variant of them; and `visit_line`, the
/// exhaustive visitor.
///
/// Each line type names its op (`static constexpr std::string_view op`), as
/// the program format spells it. Members are reflected in declaration order,
/// which is the order of the format's fields; `json_names` renames the few
/// members whose format name is not a C++ identifier (`new`, `expr`).
/// JSON I/O, equality and printing are written once over this reflection.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <wrapgraph/lines/types.hpp>

namespace wrapgraph {

// ---- kernels -----------------------------------------------------------------

/// One parameter of a kernel's signature: `*fp32`, `i32`, `constexpr`, ...
struct kernel_param {
  BOOST_HANA_DEFINE_STRUCT(kernel_param, (std::string, name), (std::string, type));
};

/// A value in a kernel's `constants` or in a config: an integer, a float, a
/// bool, or a list of integers (e.g. a config's `block`).
using kernel_value = std::variant<std::int64_t, double, bool, std::vector<std::int64_t>>;

/// Named values in the order the program gives them.
using kernel_values = std::vector<std::pair<std::string, kernel_value>>;

/// A source implementation (`cpp` or `cuda`).
struct source_implementation {
  BOOST_HANA_DEFINE_STRUCT(source_implementation, (std::string, source), (std::string, entry));
};

/// A trailing launch parameter that some compilers' ABIs add (Triton's
/// scratch pointers): null when scratch_bytes is 0, else a runtime-owned
/// device buffer of that many bytes per program instance.
struct extra_param {
  BOOST_HANA_DEFINE_STRUCT(extra_param, (std::string, type), (std::int64_t, scratch_bytes));
};

/// One prebuilt binary.
struct cubin_binary {
  BOOST_HANA_DEFINE_STRUCT(cubin_binary, (std::string, data_base64), (std::string, entry),
                           (std::int64_t, shared_bytes), (std::vector<extra_param>, extra_params));
};

/// A prebuilt GPU binary for all configs, or one per config (`per_config`,
/// in the order of `configs`).
struct cubin_implementation {
  BOOST_HANA_DEFINE_STRUCT(cubin_implementation, (std::optional<cubin_binary>, binary),
                           (std::vector<cubin_binary>, per_config));
};

/// A kernel's implementations, by device family; a program need not carry all.
struct kernel_implementations {
  BOOST_HANA_DEFINE_STRUCT(kernel_implementations, (std::optional<source_implementation>, cpp),
                           (std::optional<source_implementation>, cuda),
                           (std::optional<cubin_implementation>, cubin));
};

// ---- lines -------------------------------------------------------------------

/// A new uninitialised strided buffer.
struct allocate_line {
  static constexpr std::string_view op = "allocate";
  BOOST_HANA_DEFINE_STRUCT(allocate_line, (buffer_decl, buffer), (meta_data, meta));
};

/// The buffer is dead (inputs are never freed).
struct free_line {
  static constexpr std::string_view op = "free";
  BOOST_HANA_DEFINE_STRUCT(free_line, (std::string, name), (meta_data, meta));
};

/// The buffer is dead unless it was reused.
struct free_if_not_reused_line {
  static constexpr std::string_view op = "free_if_not_reused";
  BOOST_HANA_DEFINE_STRUCT(free_if_not_reused_line, (std::string, name), (bool, is_reused),
                           (meta_data, meta));
};

/// `new_buffer` takes over `old`'s storage; a view when the layout differs.
struct reuse_line {
  static constexpr std::string_view op = "reuse";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> json_names{
      {{"new_buffer", "new"}}};
  BOOST_HANA_DEFINE_STRUCT(reuse_line, (std::string, old), (buffer_decl, new_buffer), (bool, delete_old),
                           (meta_data, meta));
};

/// A strided view of `input`, named `result`.
struct reinterpret_line {
  static constexpr std::string_view op = "reinterpret";
  BOOST_HANA_DEFINE_STRUCT(reinterpret_line, (std::string, input), (std::string, result),
                           (std::vector<sym::expr>, size), (std::vector<sym::expr>, stride),
                           (sym::expr, offset), (meta_data, meta));
};

/// Defines a kernel: signature, fixed constants, candidate configs and
/// implementations.
struct kernel_definition_line {
  static constexpr std::string_view op = "kernel_definition";
  BOOST_HANA_DEFINE_STRUCT(kernel_definition_line, (std::string, kernel),
                           (kernel_implementations, implementations), (std::vector<kernel_param>, signature),
                           (kernel_values, constants), (std::vector<kernel_values>, configs),
                           (meta_data, meta));
};

/// The parameters a call of `def` passes, in order: the signature minus the
/// `constexpr` parameters minus those fixed in `constants`.
[[nodiscard]] inline std::vector<const kernel_param*> launched_parameters(const kernel_definition_line& def) {
  std::vector<const kernel_param*> out;
  for (const kernel_param& p : def.signature) {
    const bool fixed = std::any_of(def.constants.begin(), def.constants.end(),
                                   [&](const auto& c) { return c.first == p.name; });
    if (p.type != "constexpr" && !fixed) out.push_back(&p);
  }
  return out;
}

/// Launches a defined kernel over a grid of one to three dimensions.
struct kernel_call_line {
  static constexpr std::string_view op = "kernel_call";
  BOOST_HANA_DEFINE_STRUCT(kernel_call_line, (std::string, kernel), (std::vector<ref>, args),
                           (std::vector<sym::expr>, grid), (meta_data, meta));
};

/// Names an expression so later lines may use the symbol `name`.
struct symbolic_call_arg_line {
  static constexpr std::string_view op = "symbolic_call_arg";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> json_names{
      {{"value", "expr"}}};
  BOOST_HANA_DEFINE_STRUCT(symbolic_call_arg_line, (std::string, name), (sym::expr, value), (meta_data, meta));
};

/// Keyword arguments in the order the program gives them.
using keyword_args = std::vector<std::pair<std::string, ref>>;

/// Calls an extern operator that writes into `out`.
struct extern_kernel_out_line {
  static constexpr std::string_view op = "extern_kernel_out";
  BOOST_HANA_DEFINE_STRUCT(extern_kernel_out_line, (std::string, kernel), (std::vector<ref>, args),
                           (keyword_args, kwargs), (ref, out), (meta_data, meta));
};

/// What an allocating extern operator returns.
enum class extern_result_kind : std::uint8_t { tensor, multi, none };

/// Calls an extern operator that allocates its result.
struct extern_kernel_alloc_line {
  static constexpr std::string_view op = "extern_kernel_alloc";
  BOOST_HANA_DEFINE_STRUCT(extern_kernel_alloc_line, (std::string, kernel), (std::vector<ref>, args),
                           (keyword_args, kwargs), (std::string, result), (extern_result_kind, result_kind),
                           (std::optional<tensor_layout>, layout), (meta_data, meta));
};

/// An element of a multi-output result; an empty index is an alias.
struct multi_output_line {
  static constexpr std::string_view op = "multi_output";
  BOOST_HANA_DEFINE_STRUCT(multi_output_line, (std::string, result), (std::string, input),
                           (std::vector<std::int64_t>, index), (meta_data, meta));
};

/// Runs one of two subgraphs; `result` is a multi-output.
struct conditional_line {
  static constexpr std::string_view op = "conditional";
  BOOST_HANA_DEFINE_STRUCT(conditional_line, (std::string, result), (ref, predicate),
                           (std::string, true_subgraph), (std::string, false_subgraph),
                           (std::vector<ref>, operands), (meta_data, meta));
};

/// `symbol` = the single value of a tensor (bool → 0/1 with "convert_int").
struct dynamic_scalar_line {
  static constexpr std::string_view op = "dynamic_scalar";
  BOOST_HANA_DEFINE_STRUCT(dynamic_scalar_line, (ref, input), (std::string, symbol),
                           (std::vector<std::string>, keypath), (meta_data, meta));
};

/// Symbols and the key paths that read them from a result.
using symbol_bindings = std::vector<std::pair<std::string, key_path>>;

/// Defines unbacked symbols from a result's sizes, strides, elements.
struct unbacked_symbol_defs_line {
  static constexpr std::string_view op = "unbacked_symbol_defs";
  BOOST_HANA_DEFINE_STRUCT(unbacked_symbol_defs_line, (std::string, output), (symbol_bindings, bindings),
                           (meta_data, meta));
};

/// In-place scatter; `src` is a tensor reference or a number.
struct scatter_fallback_line {
  static constexpr std::string_view op = "scatter_fallback";
  BOOST_HANA_DEFINE_STRUCT(scatter_fallback_line, (std::string, kernel), (ref, self), (std::int64_t, dim),
                           (ref, index), (ref, src), (std::optional<std::string>, reduce), (meta_data, meta));
};

/// In-place index_put; a null index selects a whole dimension.
struct index_put_fallback_line {
  static constexpr std::string_view op = "index_put_fallback";
  BOOST_HANA_DEFINE_STRUCT(index_put_fallback_line, (ref, self), (std::vector<ref>, indices), (ref, values),
                           (bool, accumulate), (meta_data, meta));
};

/// A buffer for collectives.
struct comm_buffer_allocate_line {
  static constexpr std::string_view op = "comm_buffer_allocate";
  BOOST_HANA_DEFINE_STRUCT(comm_buffer_allocate_line, (buffer_decl, buffer), (std::string, comm_type),
                           (std::string, group), (meta_data, meta));
};

/// Frees a collectives buffer.
struct comm_buffer_free_line {
  static constexpr std::string_view op = "comm_buffer_free";
  BOOST_HANA_DEFINE_STRUCT(comm_buffer_free_line, (std::string, name), (meta_data, meta));
};

/// No effect.
struct comment_line {
  static constexpr std::string_view op = "comment";
  BOOST_HANA_DEFINE_STRUCT(comment_line, (std::optional<std::string>, text), (meta_data, meta));
};

/// No effect.
struct null_line {
  static constexpr std::string_view op = "null";
  BOOST_HANA_DEFINE_STRUCT(null_line, (std::optional<std::string>, text), (meta_data, meta));
};

/// No effect.
struct line_context_line {
  static constexpr std::string_view op = "line_context";
  BOOST_HANA_DEFINE_STRUCT(line_context_line, (std::optional<std::string>, text), (meta_data, meta));
};

/// Device guard; no effect on the graph.
struct enter_device_context_line {
  static constexpr std::string_view op = "enter_device_context";
  BOOST_HANA_DEFINE_STRUCT(enter_device_context_line, (std::optional<std::int64_t>, device), (meta_data, meta));
};

/// End of a device guard; no effect on the graph.
struct exit_device_context_line {
  static constexpr std::string_view op = "exit_device_context";
  BOOST_HANA_DEFINE_STRUCT(exit_device_context_line, (std::optional<std::int64_t>, device), (meta_data, meta));
};

/// Memory-planning marker; no effect on the graph.
struct enter_subgraph_line {
  static constexpr std::string_view op = "enter_subgraph";
  BOOST_HANA_DEFINE_STRUCT(enter_subgraph_line, (std::optional<std::string>, name), (meta_data, meta));
};

/// Memory-planning marker; no effect on the graph.
struct exit_subgraph_line {
  static constexpr std::string_view op = "exit_subgraph";
  BOOST_HANA_DEFINE_STRUCT(exit_subgraph_line, (std::optional<std::string>, name), (meta_data, meta));
};

/// A line of a wrapper program: exactly one of the line kinds.
using line = std::variant<allocate_line, free_line, free_if_not_reused_line, reuse_line, reinterpret_line,
                          kernel_definition_line, kernel_call_line, symbolic_call_arg_line,
                          extern_kernel_out_line, extern_kernel_alloc_line, multi_output_line, conditional_line,
                          dynamic_scalar_line, unbacked_symbol_defs_line, scatter_fallback_line,
                          index_put_fallback_line, comm_buffer_allocate_line, comm_buffer_free_line,
                          comment_line, null_line, line_context_line, enter_device_context_line,
                          exit_device_context_line, enter_subgraph_line, exit_subgraph_line>;

/// Number of line kinds.
inline constexpr std::size_t line_kind_count = std::variant_size_v<line>;

/// The op name of a line, e.g. "kernel_call".
[[nodiscard]] inline std::string_view op_of(const line& l) noexcept {
  return std::visit([](const auto& x) { return std::remove_cvref_t<decltype(x)>::op; }, l);
}

/// The format name of member `member` of line type T (its C++ name unless
/// renamed by T::json_names).
template <class T>
[[nodiscard]] constexpr std::string_view json_name(std::string_view member) noexcept {
  if constexpr (requires { T::json_names; }) {
    for (const auto& [cpp, json] : T::json_names)
      if (cpp == member) return json;
  }
  return member;
}

namespace detail {
// Names the first line kind a visitor cannot take, through the failing
// static_assert's template argument.
template <class Kind>
struct line_kind_without_handler {
  static constexpr bool value = false;
};
template <class Visitor, class Variant>
struct first_unhandled;
template <class Visitor, class... Kinds>
struct first_unhandled<Visitor, std::variant<Kinds...>> {
  static constexpr void check() {
    (check_one<Kinds>(), ...);
  }
  template <class Kind>
  static constexpr void check_one() {
    if constexpr (!std::is_invocable_v<Visitor, Kind&> && !std::is_invocable_v<Visitor, const Kind&>)
      static_assert(line_kind_without_handler<Kind>::value,
                    "visit_line: the visitor has no handler for this line kind (see the template argument "
                    "of line_kind_without_handler); every line kind needs one, and catch-all overloads "
                    "are not allowed");
  }
};
}  // namespace detail

/// Calls `visitor` with the line's alternative. The visitor must handle every
/// line kind explicitly: a missing handler stops the build with a sentence
/// naming the line kind, and a generic catch-all handler (`auto&`) is
/// rejected, so that adding a line kind breaks every visitor that lacks it.
template <class Visitor, class Line>
  requires std::same_as<std::remove_cvref_t<Line>, line>
decltype(auto) visit_line(Visitor&& visitor, Line&& l) {
  struct not_a_line_kind {};
  static_assert(!std::is_invocable_v<Visitor, not_a_line_kind&>,
                "visit_line: the visitor has a catch-all overload (it accepts any type); handle each line "
                "kind explicitly so that a new line kind cannot be forgotten");
  detail::first_unhandled<std::remove_cvref_t<Visitor>, line>::check();
  return std::visit(std::forward<Visitor>(visitor), std::forward<Line>(l));
}

}  // namespace wrapgraph

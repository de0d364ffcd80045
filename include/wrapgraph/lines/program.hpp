#pragma once
/// A wrapper program: symbols, inputs, constants, lines, outputs, subgraphs
/// and examples, with the sym::context that owns its expressions.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/context.hpp>

namespace wrapgraph {

/// A size symbol the program uses: an example value (`hint`, for tuning and
/// examples) or `unbacked` (known only at run time from data).
struct symbol_decl {
  BOOST_HANA_DEFINE_STRUCT(symbol_decl, (std::optional<std::int64_t>, hint), (bool, unbacked),
                           (meta_data, meta));
};

/// A tensor input; the symbols in its sizes and strides are defined by it.
struct tensor_input {
  static constexpr std::string_view kind = "tensor";
  std::string name;
  tensor_layout layout;
  meta_data meta;
};

/// An integer input that defines a symbol of the same name.
struct symbol_input {
  static constexpr std::string_view kind = "symbol";
  std::string name;
  meta_data meta;
};

/// A constant integer input.
struct int_input {
  static constexpr std::string_view kind = "int";
  std::string name;
  std::int64_t value = 0;
  meta_data meta;
};

/// A placeholder with no value.
struct none_input {
  static constexpr std::string_view kind = "none";
  std::string name;
  meta_data meta;
};

/// An input of a program; inputs become the graph's placeholders in order.
using input = std::variant<tensor_input, symbol_input, int_input, none_input>;

/// The name of an input.
[[nodiscard]] inline const std::string& name_of(const input& in) noexcept {
  return std::visit([](const auto& i) -> const std::string& { return i.name; }, in);
}

/// A constant tensor with its data: logical elements in row-major order of
/// its size, as JSON numbers (kept exactly, integers included).
struct constant_decl {
  std::string name;
  tensor_layout layout;
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  meta_data meta;
};

struct subgraph;

/// A wrapper program. Its expressions belong to `ctx`, which its subgraphs
/// share; copies of a program share the context too.
struct program {
  std::shared_ptr<sym::context> ctx = std::make_shared<sym::context>();
  std::string name = "main";
  std::vector<std::pair<std::string, symbol_decl>> symbols;
  std::vector<input> inputs;
  std::vector<constant_decl> constants;
  std::vector<line> lines;
  std::vector<ref> outputs;
  std::vector<subgraph> subgraphs;
  std::vector<nlohmann::ordered_json> examples;  ///< test vectors, as the format writes them
  meta_data meta;

  /// The declaration of symbol `name`, if the program declares it.
  [[nodiscard]] const symbol_decl* find_symbol(std::string_view symbol_name) const {
    for (const auto& [n, decl] : symbols)
      if (n == symbol_name) return &decl;
    return nullptr;
  }
  /// The subgraph named `name`, if any.
  [[nodiscard]] const program* find_subgraph(std::string_view subgraph_name) const;
};

/// A nested program named by conditional lines.
struct subgraph {
  std::string name;
  program body;
};

inline const program* program::find_subgraph(std::string_view subgraph_name) const {
  for (const subgraph& s : subgraphs)
    if (s.name == subgraph_name) return &s.body;
  return nullptr;
}

/// The assumptions a declared symbol gets: sizes with a hint are positive,
/// as Inductor assumes; unbacked symbols are non-negative.
[[nodiscard]] inline sym::assumptions assumptions_of(const symbol_decl& decl) noexcept {
  return decl.unbacked ? sym::unbacked : sym::positive;
}

}  // namespace wrapgraph

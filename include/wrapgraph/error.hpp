#pragma once
/// The error hierarchy: every failure caused by input is a wrapgraph::error
/// carrying a stable id (listed in docs/errors.md) and a message saying where
/// and what.

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <wrapgraph/config.hpp>

namespace wrapgraph {

/// Base of every exception wrapgraph throws for bad input, failed backends and
/// violated preconditions of the public API. `id()` is a dotted identifier
/// such as `wrapgraph.sym.division_by_zero`; `what()` reads
/// `[id] message`.
class error : public std::runtime_error {
 public:
  error(std::string id, std::string message)
      : std::runtime_error("[" + id + "] " + message), id_(std::move(id)),
        message_(std::move(message)) {}

  /// The stable identifier of this kind of failure.
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// The message without the `[id]` prefix.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// True when the id equals `prefix` or starts with `prefix` followed by '.'.
  [[nodiscard]] bool has_id(std::string_view prefix) const noexcept {
    std::string_view id = id_;
    return id == prefix || (id.size() > prefix.size() && id.starts_with(prefix) &&
                            id[prefix.size()] == '.');
  }

 private:
  std::string id_;
  std::string message_;
};

/// Symbolic expressions: construction, evaluation, substitution, solving.
class sym_error : public error {
 public:
  using error::error;
};

/// Text that does not follow the expression grammar; carries the column.
class parse_error : public sym_error {
 public:
  parse_error(std::string id, std::string message, std::size_t column)
      : sym_error(std::move(id), std::move(message)), column_(column) {}
  /// Zero-based column of the offending character in the parsed text.
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

 private:
  std::size_t column_;
};

/// A program that does not follow the program format (io/, ids
/// `wrapgraph.json.*`, or the parser's id for a bad expression) or that the
/// converter cannot give a meaning. The message says where: a JSON path such
/// as `lines[7].buffer.size[1]`, or a line.
class program_error : public error {
 public:
  using error::error;
};

/// A graph whose structure is broken (see graph::verify).
class graph_error : public error {
 public:
  using error::error;
};

/// Index arithmetic on sizes, strides and offsets.
class layout_error : public error {
 public:
  using error::error;
};

/// A graph that cannot be compiled or run: inputs that do not match the
/// graph, operators nobody registered, data-dependent values out of range
/// (ids `wrapgraph.run.*`, `wrapgraph.compile.*`, `wrapgraph.operator.*`).
class run_error : public error {
 public:
  using error::error;
};

/// A backend that failed: a kernel that does not compile or load, memory
/// that cannot be allocated, a device API call that returned an error (ids
/// `wrapgraph.kernel.*`, `wrapgraph.memory.*`, `wrapgraph.cuda.*`).
class backend_error : public error {
 public:
  using error::error;
};

}  // namespace wrapgraph

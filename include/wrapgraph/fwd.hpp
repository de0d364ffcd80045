#pragma once
/// Forward declarations of wrapgraph's main types.

#include <wrapgraph/config.hpp>

namespace wrapgraph {
class error;
class sym_error;
class parse_error;
class program_error;
class graph_error;
class layout_error;

namespace sym {
class context;
class expr;
class bindings;
class compiled_expr;
struct assumptions;
}  // namespace sym
}  // namespace wrapgraph

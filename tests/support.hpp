// Helpers shared by the test files.
#pragma once

#include <string>

#include <wrapgraph/error.hpp>

namespace wrapgraph::test {

/// The id of the wrapgraph::error (of class Error) that `f` throws, or
/// "(no error)".
template <class Error = error, class F>
std::string error_id(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "(no error)";
}

}  // namespace wrapgraph::test

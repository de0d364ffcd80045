// Helpers shared by the test files.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

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

/// A fresh folder under the system's temporary one, named `prefix` and a
/// unique suffix, removed with what is in it.
struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& prefix) {
    std::string name = (std::filesystem::temp_directory_path() / (prefix + " XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + name);
    path = name;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace wrapgraph::test

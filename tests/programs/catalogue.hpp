// The catalogue of malformed programs (tests/programs/malformed/*.json): each
// file names the error it must raise in its top-level meta,
//   "meta": {"expect_error": "wrapgraph.json.unknown_key", "expect_at": "lines[0]"}
// ("expect_at", optional: the JSON path the message names). Both are read from
// the raw text, so that files that are not JSON carry them too.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/io/json.hpp>

namespace wrapgraph::test {

/// The value of `"key": "..."` in a file's text, if any.
inline std::optional<std::string> catalogue_field(const std::string& text, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  std::size_t at = text.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  at = text.find_first_not_of(" \t\r\n", at + quoted.size());
  if (at == std::string::npos || text[at] != ':') return std::nullopt;
  at = text.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string::npos || text[at] != '"') return std::nullopt;
  const std::size_t end = text.find('"', at + 1);
  if (end == std::string::npos) return std::nullopt;
  return text.substr(at + 1, end - at - 1);
}

/// The text of the file at `path`.
inline std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

/// Checks that the program file at `path` raises `expected_id` (or an id that
/// it is a prefix of), with the message at the file's "expect_at" path if it
/// names one. Ids under wrapgraph.json. must come from loading; others may
/// come from loading (an expression's wrapgraph.sym.* id) or a later stage.
inline void check_malformed(const std::string& path, const std::string& expected_id) {
  INFO("program file: ", path);
  const std::optional<std::string> expected_at = catalogue_field(read_text(path), "expect_at");
  auto check_error = [&](const error& e) {
    INFO("raised: ", e.what());
    CHECK(e.has_id(expected_id));
    if (expected_at) CHECK(e.message().find("at " + *expected_at + ":") != std::string::npos);
  };
  program p;
  try {
    p = io::load_program_file(path);
  } catch (const error& e) {
    check_error(e);
    return;
  }
  if (expected_id.starts_with("wrapgraph.json.")) {
    FAIL_CHECK("the program loads, but should raise ", expected_id);
    return;
  }
  try {
    (void)convert(p);
  } catch (const error& e) {
    check_error(e);
    return;
  }
  FAIL_CHECK("the program loads and converts, but should raise ", expected_id);
}

}  // namespace wrapgraph::test

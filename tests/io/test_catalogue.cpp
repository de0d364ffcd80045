// The catalogue of malformed programs: every file in
// WRAPGRAPH_TEST_PROGRAMS_DIR/malformed raises the error its meta names.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../programs/catalogue.hpp"

#ifndef WRAPGRAPH_TEST_PROGRAMS_DIR
#error "define WRAPGRAPH_TEST_PROGRAMS_DIR as the path of tests/programs"
#endif

TEST_CASE("every malformed program in the catalogue raises the error it names") {
  const std::filesystem::path dir = std::filesystem::path(WRAPGRAPH_TEST_PROGRAMS_DIR) / "malformed";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  CHECK(files.size() >= 15);
  for (const auto& file : files) {
    const std::string text = wrapgraph::test::read_text(file.string());
    const auto expected = wrapgraph::test::catalogue_field(text, "expect_error");
    INFO("file: ", file.string());
    REQUIRE_MESSAGE(expected.has_value(), "the file names no expect_error in its meta");
    wrapgraph::test::check_malformed(file.string(), *expected);
  }
}

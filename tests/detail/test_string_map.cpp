// Tests of detail/string_map.hpp: a map from strings to values, checked
// against std::map through random inserts, updates and erases.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include <wrapgraph/detail/string_map.hpp>

namespace {

using wrapgraph::detail::string_map;

void check_same(const string_map<int>& m, const std::map<std::string, int>& expected) {
  REQUIRE(m.size() == expected.size());
  for (const auto& [key, value] : expected) {
    const int* found = m.find(key);
    REQUIRE_MESSAGE(found, key);
    CHECK(*found == value);
  }
  for (const auto& e : m.entries()) CHECK(expected.contains(std::string(e.key)));
}

}  // namespace

TEST_CASE("string_map: try_emplace inserts once, set updates, find misses what is absent") {
  string_map<int> m;
  CHECK(m.find("a") == nullptr);
  CHECK_FALSE(m.erase("a"));
  auto [a, inserted] = m.try_emplace("a", 1);
  CHECK(inserted);
  CHECK(*a == 1);
  auto [again, second] = m.try_emplace("a", 2);
  CHECK_FALSE(second);
  CHECK(*again == 1);
  m.set("a", 3);
  CHECK(*m.find("a") == 3);
  CHECK(m.size() == 1);
  m.set("", 4);  // the empty key is a key like any other
  CHECK(*m.find("") == 4);
  CHECK(m.size() == 2);
}

TEST_CASE("string_map: intern keeps one copy of each key, at a fixed address") {
  string_map<char> m;
  std::string key = "torch.empty_strided";
  const std::string_view kept = m.intern(key);
  key[0] = 'X';
  CHECK(kept == "torch.empty_strided");
  CHECK(kept.data() != key.data());
  for (int i = 0; i < 1000; ++i) (void)m.intern("target" + std::to_string(i));  // the index grows
  CHECK(m.intern("torch.empty_strided").data() == kept.data());
  CHECK(m.size() == 1001);
  const string_map<char> moved(std::move(m));
  CHECK(moved.find("torch.empty_strided") != nullptr);
  CHECK(kept == "torch.empty_strided");  // a move keeps the keys where they are
}

TEST_CASE("string_map: names that differ in one character, or only in length, are all found") {
  // Keys of every length up to 40 around the 4-, 8- and 16-byte steps of the
  // hash, each differing from its neighbours in one character.
  string_map<int> m;
  std::map<std::string, int> expected;
  int n = 0;
  for (std::size_t length = 0; length <= 40; ++length) {
    for (std::size_t at = 0; at < std::max<std::size_t>(length, 1); ++at) {
      std::string key(length, 'a');
      if (length) key[at] = 'b';
      m.set(key, n);
      expected[key] = n++;
    }
  }
  check_same(m, expected);
}

TEST_CASE("string_map: keys are copied; the caller's string may change or die") {
  string_map<int> m;
  {
    std::string key = "a long key that does not fit in a small string";
    m.set(key, 7);
    key[0] = 'X';
  }
  CHECK(*m.find("a long key that does not fit in a small string") == 7);
  CHECK(m.find("X long key that does not fit in a small string") == nullptr);
  const std::string huge(200000, 'k');  // longer than a chunk of key storage
  m.set(huge, 8);
  CHECK(*m.find(huge) == 8);
}

TEST_CASE("string_map: agrees with std::map through 20000 random inserts, updates and erases") {
  std::mt19937_64 rng(42);
  string_map<int> m;
  std::map<std::string, int> expected;
  for (int step = 0; step < 20000; ++step) {
    const std::string key = "k" + std::to_string(rng() % 3000);
    switch (rng() % 4) {
      case 0:
      case 1:
        m.set(key, step);
        expected[key] = step;
        break;
      case 2:
        CHECK(m.erase(key) == (expected.erase(key) == 1));
        break;
      default: {
        const auto [value, inserted] = m.try_emplace(key, -step);
        const auto [it, was_inserted] = expected.try_emplace(key, -step);
        CHECK(inserted == was_inserted);
        CHECK(*value == it->second);
      }
    }
    if (step % 997 == 0) check_same(m, expected);
  }
  check_same(m, expected);
}

TEST_CASE("string_map: a copy is independent, a move leaves an empty usable map") {
  string_map<int> m;
  for (int i = 0; i < 100; ++i) m.set("name" + std::to_string(i), i);
  string_map<int> copy = m;
  m.set("name0", -1);
  CHECK(m.erase("name1"));
  CHECK(*copy.find("name0") == 0);
  CHECK(*copy.find("name1") == 1);
  CHECK(copy.size() == 100);

  string_map<int> moved = std::move(copy);
  CHECK(moved.size() == 100);
  CHECK(*moved.find("name99") == 99);
  CHECK(copy.size() == 0);  // NOLINT: a moved-from map is specified empty
  CHECK(copy.find("name99") == nullptr);
  copy.set("again", 1);
  CHECK(*copy.find("again") == 1);

  copy = moved;
  CHECK(copy.size() == 100);
  moved = std::move(m);
  CHECK(moved.size() == 99);
  CHECK(*moved.find("name0") == -1);
  CHECK(moved.find("name1") == nullptr);
}

TEST_CASE("string_map: reserve keeps every entry") {
  string_map<std::size_t> m;
  for (std::size_t i = 0; i < 50; ++i) m.set(std::to_string(i), i);
  m.reserve(10000);
  for (std::size_t i = 0; i < 50; ++i) CHECK(*m.find(std::to_string(i)) == i);
  m.clear();
  CHECK(m.empty());
  CHECK(m.find("1") == nullptr);
  m.set("1", 1);
  CHECK(*m.find("1") == 1);
}

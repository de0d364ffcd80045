// Tests of include/wrapgraph/layout/strides.hpp: worked examples, every error
// id, and the laws of the module checked by brute force over generated
// layouts.

#include <doctest/doctest.h>

#include "../support.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <wrapgraph/layout/strides.hpp>

namespace {

using namespace wrapgraph;
using layout::extents;
// `index` alone would clash with POSIX index() from <strings.h>.
using i64 = layout::index;
using layout::index_view;

constexpr i64 int64_max = std::numeric_limits<i64>::max();

// True when `a` holds exactly the values `expected`.
bool same(const extents& a, std::vector<i64> expected) {
  return std::ranges::equal(index_view(a).span(), expected);
}

// The id of the layout_error that `f` throws.
template <class F>
std::string error_id(F&& f) {
  return wrapgraph::test::error_id<layout_error>(std::forward<F>(f));
}

// The what() of the layout_error that `f` throws.
template <class F>
std::string error_text(F&& f) {
  try {
    f();
  } catch (const layout_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A small random layout: rank 0..4, sizes 0..4, and strides that are either
// arbitrary, or the contiguous strides of a random permutation of the
// dimensions, possibly spread out by a factor and a padding (which keeps them
// non-overlapping), so that every predicate is true and false often.
struct random_layout {
  extents sizes, strides;
  i64 offset = 0;
};

random_layout make_random_layout(std::mt19937_64& rng) {
  auto pick = [&](i64 lo, i64 hi) { return std::uniform_int_distribution<i64>(lo, hi)(rng); };
  random_layout l;
  const i64 rank = pick(0, 4);
  l.sizes.resize(rank);
  l.strides.resize(rank);
  for (i64 d = 0; d < rank; ++d) l.sizes[d] = pick(0, 5) == 0 ? pick(0, 1) : pick(1, 4);
  switch (pick(0, 2)) {
    case 0:  // arbitrary
      for (i64 d = 0; d < rank; ++d) l.strides[d] = pick(0, 12);
      break;
    default: {  // a permutation of contiguous strides, spread out
      std::vector<i64> order(static_cast<std::size_t>(rank));
      for (i64 d = 0; d < rank; ++d) order[static_cast<std::size_t>(d)] = d;
      std::ranges::shuffle(order, rng);
      const i64 factor = pick(0, 3) == 0 ? 2 : 1;
      i64 stride = factor;
      for (auto d = order.rbegin(); d != order.rend(); ++d) {
        l.strides[*d] = stride;
        stride = stride * std::max<i64>(l.sizes[*d], 1) + (pick(0, 3) == 0 ? pick(1, 3) : 0);
      }
      if (pick(0, 4) == 0 && rank > 0) l.strides[pick(0, rank - 1)] = pick(0, 12);  // perturb one
      break;
    }
  }
  l.offset = pick(0, 1) == 0 ? 0 : pick(1, 5);
  return l;
}

// Every offset the layout reaches, in row-major order of the coordinates.
std::vector<i64> enumerate_offsets(const random_layout& l) {
  std::vector<i64> offsets;
  const i64 count = layout::numel(l.sizes);
  for (i64 k = 0; k < count; ++k)
    offsets.push_back(layout::offset_of(layout::coordinate_of_index(k, l.sizes), l.strides, l.offset));
  return offsets;
}

constexpr int layout_count = 4000;

}  // namespace

TEST_CASE("layout::index_view takes extents, Eigen maps and segments, std containers and braced lists") {
  const extents e{{2, 3, 4}};
  const std::vector<i64> v{2, 3, 4};
  const std::array<i64, 3> a{2, 3, 4};
  const std::span<const i64> s(v);
  CHECK(layout::to_string(e) == "[2, 3, 4]");
  CHECK(layout::to_string(v) == "[2, 3, 4]");
  CHECK(layout::to_string(a) == "[2, 3, 4]");
  CHECK(layout::to_string(s) == "[2, 3, 4]");
  CHECK(layout::to_string({2, 3, 4}) == "[2, 3, 4]");
  CHECK(layout::to_string({}) == "[]");
  CHECK(layout::to_string(e.segment(1, 2)) == "[3, 4]");
  CHECK(layout::to_string(Eigen::Map<const extents>(v.data(), 2)) == "[2, 3]");
  CHECK(layout::to_string(Eigen::Array<i64, 1, Eigen::Dynamic>(e.transpose())) == "[2, 3, 4]");
  CHECK(layout::numel(e) == 24);
  CHECK(layout::numel(v) == 24);
  CHECK(layout::numel(a) == 24);
  CHECK(layout::numel(s) == 24);
  CHECK(layout::numel({2, 3, 4}) == 24);
  const index_view view = e;
  CHECK(view.size() == 3);
  CHECK(view[1] == 3);
  CHECK((view.array() == e).all());
  CHECK((layout::to_extents(v) == e).all());
}

TEST_CASE("layout::numel multiplies the sizes") {
  CHECK(layout::numel({}) == 1);
  CHECK(layout::numel({7}) == 7);
  CHECK(layout::numel({2, 3, 4}) == 24);
  CHECK(layout::numel({2, 0, 4}) == 0);
  SUBCASE("a zero size wins over a product past int64") {
    CHECK(layout::numel({int64_max, int64_max, 0}) == 0);
  }
  SUBCASE("a product past int64 is an error") {
    CHECK(error_id([] { (void)layout::numel({i64{1} << 32, i64{1} << 31}); }) ==
          "wrapgraph.layout.overflow");
    CHECK(layout::numel({i64{1} << 31, i64{1} << 31}) == i64{1} << 62);
  }
  SUBCASE("a negative size is an error naming its dimension") {
    const std::string text = error_text([] { (void)layout::numel({2, -3}); });
    CHECK(contains(text, "[wrapgraph.layout.negative_size]"));
    CHECK(contains(text, "dimension 1 is -3"));
  }
}

TEST_CASE("layout::contiguous_strides gives row-major strides with max(size, 1)") {
  CHECK(same(layout::contiguous_strides({}), {}));
  CHECK(same(layout::contiguous_strides({5}), {1}));
  CHECK(same(layout::contiguous_strides({2, 3, 4}), {12, 4, 1}));
  CHECK(same(layout::contiguous_strides({2, 1, 4}), {4, 4, 1}));
  SUBCASE("a size of 0 counts as 1 for the strides before it, as in torch") {
    CHECK(same(layout::contiguous_strides({2, 0, 3}), {3, 3, 1}));
    CHECK(same(layout::contiguous_strides({0, 0}), {1, 1}));
  }
  SUBCASE("the first size takes no part, so its product may exceed int64") {
    CHECK(same(layout::contiguous_strides({i64{1} << 40, i64{1} << 40}), {i64{1} << 40, 1}));
    CHECK(error_id([] { (void)layout::contiguous_strides({1, i64{1} << 32, i64{1} << 32}); }) ==
          "wrapgraph.layout.overflow");
  }
  CHECK(error_id([] { (void)layout::contiguous_strides({2, -1}); }) ==
        "wrapgraph.layout.negative_size");
}

TEST_CASE("layout::required_span counts the storage up to the last offset") {
  CHECK(layout::required_span({}, {}) == 1);
  CHECK(layout::required_span({}, {}, 5) == 6);
  CHECK(layout::required_span({2, 3}, {3, 1}) == 6);
  CHECK(layout::required_span({2, 3}, {3, 1}, 5) == 11);
  CHECK(layout::required_span({2, 3}, {1, 2}) == 6);
  CHECK(layout::required_span({4}, {0}) == 1);
  CHECK(layout::required_span({2, 2}, {10, 1}) == 12);
  SUBCASE("a layout of no elements needs no storage, whatever its offset") {
    CHECK(layout::required_span({2, 0, 3}, {0, 5, 1}, 9) == 0);
  }
  SUBCASE("errors") {
    CHECK(error_id([] { (void)layout::required_span({2, 3}, {1}); }) ==
          "wrapgraph.layout.rank_mismatch");
    CHECK(error_id([] { (void)layout::required_span({2, 3}, {1, -1}); }) ==
          "wrapgraph.layout.negative_stride");
    CHECK(error_id([] { (void)layout::required_span({2, -3}, {1, 1}); }) ==
          "wrapgraph.layout.negative_size");
    CHECK(error_id([] { (void)layout::required_span({2, 3}, {3, 1}, -1); }) ==
          "wrapgraph.layout.negative_offset");
    CHECK(error_id([] { (void)layout::required_span({3}, {int64_max / 2 + 1}); }) ==
          "wrapgraph.layout.overflow");
    CHECK(layout::required_span({2, 2}, {int64_max / 2, int64_max / 2}) == int64_max);
    CHECK(error_id([] { (void)layout::required_span({2, 2, 2}, {int64_max / 2, int64_max / 2, 1}); }) ==
          "wrapgraph.layout.overflow");
    CHECK(error_id([] { (void)layout::required_span({1}, {1}, int64_max); }) ==
          "wrapgraph.layout.overflow");
    CHECK(layout::required_span({2}, {int64_max - 1}) == int64_max);
  }
}

TEST_CASE("layout::offset_of is the base offset plus a dot product") {
  CHECK(layout::offset_of({}, {}) == 0);
  CHECK(layout::offset_of({}, {}, 4) == 4);
  CHECK(layout::offset_of({1, 2}, {3, 1}) == 5);
  CHECK(layout::offset_of({1, 2}, {3, 1}, 10) == 15);
  CHECK(layout::offset_of({1, 2}, {2, 3}, {3, 1}, 10) == 15);
  SUBCASE("errors") {
    CHECK(error_id([] { (void)layout::offset_of({1, 2}, {3}); }) ==
          "wrapgraph.layout.rank_mismatch");
    CHECK(error_id([] { (void)layout::offset_of({1, 2}, {2, 3, 4}, {3, 1}, 0); }) ==
          "wrapgraph.layout.rank_mismatch");
    CHECK(error_id([] { (void)layout::offset_of({1, -2}, {3, 1}); }) ==
          "wrapgraph.layout.out_of_bounds");
    const std::string text = error_text([] { (void)layout::offset_of({1, 3}, {2, 3}, {3, 1}, 0); });
    CHECK(contains(text, "[wrapgraph.layout.out_of_bounds]"));
    CHECK(contains(text, "3 in dimension 1, outside [0, 3)"));
    CHECK(error_id([] { (void)layout::offset_of({1, 2}, {3, -1}); }) ==
          "wrapgraph.layout.negative_stride");
    CHECK(error_id([] { (void)layout::offset_of({1, 2}, {3, 1}, -4); }) ==
          "wrapgraph.layout.negative_offset");
    CHECK(error_id([] { (void)layout::offset_of({2}, {int64_max / 2 + 1}); }) ==
          "wrapgraph.layout.overflow");
    CHECK(error_id([] { (void)layout::offset_of({1, 1}, {int64_max, 1}); }) ==
          "wrapgraph.layout.overflow");
  }
}

TEST_CASE("layout::coordinate_of_index unravels a linear index row-major") {
  CHECK(same(layout::coordinate_of_index(0, {}), {}));
  CHECK(same(layout::coordinate_of_index(0, {2, 3, 4}), {0, 0, 0}));
  CHECK(same(layout::coordinate_of_index(17, {2, 3, 4}), {1, 1, 1}));
  CHECK(same(layout::coordinate_of_index(23, {2, 3, 4}), {1, 2, 3}));
  SUBCASE("indices outside [0, numel) are errors") {
    for (const i64 linear : {i64{-1}, i64{24}, int64_max}) {
      CHECK(error_id([&] { (void)layout::coordinate_of_index(linear, {2, 3, 4}); }) ==
            "wrapgraph.layout.out_of_bounds");
    }
    CHECK(error_id([] { (void)layout::coordinate_of_index(1, {}); }) ==
          "wrapgraph.layout.out_of_bounds");
    CHECK(error_id([] { (void)layout::coordinate_of_index(0, {2, 0}); }) ==
          "wrapgraph.layout.out_of_bounds");
    CHECK(contains(error_text([] { (void)layout::coordinate_of_index(24, {2, 3, 4}); }),
                   "have 24 elements"));
  }
  SUBCASE("sizes whose numel exceeds int64 still unravel every int64 index") {
    CHECK(same(layout::coordinate_of_index(int64_max, {i64{1} << 40, i64{1} << 40}),
               {(i64{1} << 23) - 1, (i64{1} << 40) - 1}));
  }
}

TEST_CASE("layout::coordinate_of_offset inverts offset_of on non-overlapping layouts") {
  CHECK(same(layout::coordinate_of_offset(5, {2, 3}, {3, 1}), {1, 2}));
  CHECK(same(layout::coordinate_of_offset(5, {2, 3}, {1, 2}), {1, 2}));
  CHECK(same(layout::coordinate_of_offset(15, {2, 3}, {3, 1}, 10), {1, 2}));
  CHECK(same(layout::coordinate_of_offset(7, {}, {}, 7), {}));
  CHECK(same(layout::coordinate_of_offset(3, {1, 4}, {0, 1}), {0, 3}));
  SUBCASE("offsets the layout does not reach are errors") {
    for (const i64 offset : {i64{-1}, i64{9}, i64{5}, i64{3}}) {
      CHECK(error_id([&] { (void)layout::coordinate_of_offset(offset, {2, 3}, {6, 1}, 0); }) ==
            "wrapgraph.layout.offset_not_in_layout");
    }
    CHECK(error_id([] { (void)layout::coordinate_of_offset(9, {2, 3}, {3, 1}, 10); }) ==
          "wrapgraph.layout.offset_not_in_layout");
    CHECK(error_id([] { (void)layout::coordinate_of_offset(0, {2, 0}, {1, 1}); }) ==
          "wrapgraph.layout.offset_not_in_layout");
  }
  SUBCASE("a layout that may overlap is an error") {
    CHECK(error_id([] { (void)layout::coordinate_of_offset(1, {2, 2}, {1, 1}); }) ==
          "wrapgraph.layout.overlapping");
    CHECK(error_id([] { (void)layout::coordinate_of_offset(0, {3}, {0}); }) ==
          "wrapgraph.layout.overlapping");
  }
  CHECK(error_id([] { (void)layout::coordinate_of_offset(0, {2}, {1}, -1); }) ==
        "wrapgraph.layout.negative_offset");
  CHECK(error_id([] { (void)layout::coordinate_of_offset(0, {2}, {1, 1}); }) ==
        "wrapgraph.layout.rank_mismatch");
}

TEST_CASE("layout::is_contiguous follows torch: size-1 dimensions and empty layouts pass") {
  CHECK(layout::is_contiguous({}, {}));
  CHECK(layout::is_contiguous({2, 3, 4}, {12, 4, 1}));
  CHECK(layout::is_contiguous({2, 1, 4}, {4, 99, 1}));
  CHECK(layout::is_contiguous({2, 0, 4}, {0, 7, 9}));
  CHECK_FALSE(layout::is_contiguous({2, 3}, {1, 2}));
  CHECK_FALSE(layout::is_contiguous({2, 3}, {4, 1}));
  CHECK_FALSE(layout::is_contiguous({3}, {2}));
  SUBCASE("products past int64 answer without error") {
    CHECK(layout::is_contiguous({1, i64{1} << 32, i64{1} << 32}, {5, i64{1} << 32, 1}));
    CHECK_FALSE(layout::is_contiguous({2, i64{1} << 32, i64{1} << 32}, {0, i64{1} << 32, 1}));
  }
  CHECK(error_id([] { (void)layout::is_contiguous({2, 3}, {3}); }) ==
        "wrapgraph.layout.rank_mismatch");
}

TEST_CASE("layout::is_non_overlapping_and_dense accepts every permutation of a contiguous layout") {
  CHECK(layout::is_non_overlapping_and_dense({}, {}));
  CHECK(layout::is_non_overlapping_and_dense({2, 3}, {1, 2}));
  CHECK(layout::is_non_overlapping_and_dense({2, 3, 4}, {1, 8, 2}));
  CHECK(layout::is_non_overlapping_and_dense({2, 1, 3}, {1, 100, 2}));
  CHECK(layout::is_non_overlapping_and_dense({0, 3}, {7, 7}));
  CHECK_FALSE(layout::is_non_overlapping_and_dense({2, 3}, {1, 3}));
  CHECK_FALSE(layout::is_non_overlapping_and_dense({2, 2}, {1, 1}));
  CHECK_FALSE(layout::is_non_overlapping_and_dense({3}, {0}));
  CHECK(layout::is_non_overlapping_and_dense({i64{1} << 32, i64{1} << 32}, {1, i64{1} << 32}));
  CHECK_FALSE(layout::is_non_overlapping_and_dense({i64{1} << 32, i64{1} << 32, 2},
                                                   {1, i64{1} << 32, 0}));
}

TEST_CASE("layout::is_non_overlapping is the sorted-stride criterion, and conservative") {
  CHECK(layout::is_non_overlapping({}, {}));
  CHECK(layout::is_non_overlapping({2, 3}, {3, 1}));
  CHECK(layout::is_non_overlapping({2, 3}, {10, 1}));
  CHECK(layout::is_non_overlapping({3, 1}, {1, 0}));
  CHECK(layout::is_non_overlapping({2, 0}, {0, 0}));
  CHECK_FALSE(layout::is_non_overlapping({2, 3}, {2, 1}));
  CHECK_FALSE(layout::is_non_overlapping({2}, {0}));
  SUBCASE("distinct offsets the criterion cannot see") {
    // 0, 2, 4 and 3, 5, 7: distinct, but the stride 3 does not exceed 4.
    CHECK_FALSE(layout::is_non_overlapping({2, 3}, {3, 2}));
  }
  SUBCASE("a span past int64 answers without error") {
    CHECK(layout::is_non_overlapping({2, 2}, {1, int64_max}));
    CHECK_FALSE(layout::is_non_overlapping({2, 3, 2}, {1, int64_max / 2 + 1, int64_max}));
  }
  CHECK(error_id([] { (void)layout::is_non_overlapping({2, 3}, {3, -1}); }) ==
        "wrapgraph.layout.negative_stride");
}

// ---- laws over generated layouts ------------------------------------------

TEST_CASE("law: coordinate_of_index and the row-major linear index are inverse") {
  std::mt19937_64 rng(1);
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    const extents row_major = layout::contiguous_strides(l.sizes);
    const i64 count = layout::numel(l.sizes);
    extents previous;
    for (i64 k = 0; k < count; ++k) {
      const extents c = layout::coordinate_of_index(k, l.sizes);
      REQUIRE(layout::offset_of(c, l.sizes, row_major, 0) == k);
      // Row-major order: coordinates increase lexicographically.
      if (k > 0) REQUIRE(std::ranges::lexicographical_compare(index_view(previous), index_view(c)));
      previous = c;
    }
    REQUIRE(error_id([&] { (void)layout::coordinate_of_index(count, l.sizes); }) ==
            "wrapgraph.layout.out_of_bounds");
  }
}

TEST_CASE("law: required_span is 1 + the largest offset reached (0 for no elements)") {
  std::mt19937_64 rng(2);
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    const std::vector<i64> offsets = enumerate_offsets(l);
    const i64 expected = offsets.empty() ? 0 : 1 + std::ranges::max(offsets);
    INFO("sizes ", layout::to_string(l.sizes), " strides ", layout::to_string(l.strides));
    REQUIRE(layout::required_span(l.sizes, l.strides, l.offset) == expected);
  }
}

TEST_CASE("law: is_non_overlapping implies that the offsets are distinct") {
  std::mt19937_64 rng(3);
  int accepted = 0, distinct = 0;
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    std::vector<i64> offsets = enumerate_offsets(l);
    std::ranges::sort(offsets);
    const bool all_distinct = std::ranges::adjacent_find(offsets) == offsets.end();
    distinct += all_distinct;
    if (!layout::is_non_overlapping(l.sizes, l.strides)) continue;
    ++accepted;
    INFO("sizes ", layout::to_string(l.sizes), " strides ", layout::to_string(l.strides));
    REQUIRE(all_distinct);
  }
  // The generator exercises both answers, and the criterion misses few.
  CHECK(accepted > layout_count / 4);
  CHECK(accepted < layout_count);
  CHECK(distinct - accepted < layout_count / 10);
}

TEST_CASE("law: is_non_overlapping_and_dense iff the offsets are b, b + 1, ..., b + numel - 1") {
  std::mt19937_64 rng(4);
  int dense = 0;
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    std::vector<i64> offsets = enumerate_offsets(l);
    std::ranges::sort(offsets);
    std::vector<i64> range(offsets.size());
    std::iota(range.begin(), range.end(), l.offset);
    const bool is_dense = layout::is_non_overlapping_and_dense(l.sizes, l.strides);
    dense += is_dense;
    INFO("sizes ", layout::to_string(l.sizes), " strides ", layout::to_string(l.strides));
    REQUIRE(is_dense == (offsets == range));
    if (is_dense) REQUIRE(layout::is_non_overlapping(l.sizes, l.strides));
  }
  CHECK(dense > layout_count / 10);
  CHECK(dense < layout_count);
}

TEST_CASE("law: is_contiguous iff offset_of(coordinate_of_index(k)) = b + k for every k") {
  std::mt19937_64 rng(5);
  int contiguous = 0;
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    const std::vector<i64> offsets = enumerate_offsets(l);
    bool row_major = true;
    for (std::size_t k = 0; k < offsets.size(); ++k)
      row_major = row_major && offsets[k] == l.offset + static_cast<i64>(k);
    const bool is_contiguous = layout::is_contiguous(l.sizes, l.strides);
    contiguous += is_contiguous;
    INFO("sizes ", layout::to_string(l.sizes), " strides ", layout::to_string(l.strides));
    REQUIRE(is_contiguous == row_major);
    if (is_contiguous) REQUIRE(layout::is_non_overlapping_and_dense(l.sizes, l.strides));
  }
  CHECK(contiguous > layout_count / 20);
  CHECK(contiguous < layout_count);
}

TEST_CASE("law: contiguous strides are contiguous, dense, and span numel elements") {
  std::mt19937_64 rng(6);
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    const extents strides = layout::contiguous_strides(l.sizes);
    INFO("sizes ", layout::to_string(l.sizes));
    REQUIRE(layout::is_contiguous(l.sizes, strides));
    REQUIRE(layout::is_non_overlapping_and_dense(l.sizes, strides));
    REQUIRE(layout::is_non_overlapping(l.sizes, strides));
    REQUIRE(layout::required_span(l.sizes, strides) == layout::numel(l.sizes));
    // s_i = s_{i+1}·max(n_{i+1}, 1), s_{r-1} = 1
    for (i64 d = 0; d + 1 < l.sizes.size(); ++d)
      REQUIRE(strides[d] == strides[d + 1] * std::max<i64>(l.sizes[d + 1], 1));
    if (l.sizes.size() > 0) REQUIRE(strides[l.sizes.size() - 1] == 1);
  }
}

TEST_CASE("law: on non-overlapping layouts coordinate_of_offset and offset_of are inverse") {
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int i = 0; i < layout_count; ++i) {
    const random_layout l = make_random_layout(rng);
    if (!layout::is_non_overlapping(l.sizes, l.strides)) {
      REQUIRE(error_id([&] { (void)layout::coordinate_of_offset(l.offset, l.sizes, l.strides, l.offset); }) ==
              "wrapgraph.layout.overlapping");
      continue;
    }
    ++checked;
    INFO("sizes ", layout::to_string(l.sizes), " strides ", layout::to_string(l.strides),
         " offset ", l.offset);
    // coordinate_of_offset(offset_of(c)) = c for every coordinate c
    const i64 count = layout::numel(l.sizes);
    std::set<i64> reached;
    for (i64 k = 0; k < count; ++k) {
      const extents c = layout::coordinate_of_index(k, l.sizes);
      const i64 o = layout::offset_of(c, l.strides, l.offset);
      reached.insert(o);
      REQUIRE((layout::coordinate_of_offset(o, l.sizes, l.strides, l.offset) == c).all());
    }
    // offset_of(coordinate_of_offset(o)) = o for every offset reached; the
    // others, around and inside the span, are not in the layout.
    const i64 span = layout::required_span(l.sizes, l.strides, l.offset);
    for (i64 o = -1; o <= span + 1; ++o) {
      if (reached.contains(o)) {
        const extents c = layout::coordinate_of_offset(o, l.sizes, l.strides, l.offset);
        REQUIRE(layout::offset_of(c, l.sizes, l.strides, l.offset) == o);
      } else {
        REQUIRE(error_id([&] { (void)layout::coordinate_of_offset(o, l.sizes, l.strides, l.offset); }) ==
                "wrapgraph.layout.offset_not_in_layout");
      }
    }
  }
  CHECK(checked > layout_count / 4);
}

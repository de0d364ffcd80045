// The layout module in a few lines: strides, spans, offsets and coordinates
// of strided tensors, numeric and symbolic. docs/layout.md quotes this file
// and the output it prints.

#include <iostream>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/layout.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/print.hpp>

namespace layout = wrapgraph::layout;
namespace sym = wrapgraph::sym;

int main() {
  std::cout << std::boolalpha;

  // [contiguous]
  // A 2 x 3 x 4 tensor, row-major.
  const layout::extents sizes{{2, 3, 4}};
  const layout::extents strides = layout::contiguous_strides(sizes);
  std::cout << "strides " << layout::to_string(strides) << ", numel " << layout::numel(sizes)
            << ", span " << layout::required_span(sizes, strides) << '\n';
  // [contiguous]

  // [offsets]
  // Coordinate -> offset -> coordinate, and the linear index of the element.
  const layout::index offset = layout::offset_of({1, 2, 3}, sizes, strides, 0);
  std::cout << "offset of [1, 2, 3]: " << offset << ", back: "
            << layout::to_string(layout::coordinate_of_offset(offset, sizes, strides))
            << ", element 17: " << layout::to_string(layout::coordinate_of_index(17, sizes))
            << '\n';
  // [offsets]

  // [predicates]
  // The same storage seen transposed (dimensions 1 and 2 swapped), and rows
  // of 3 padded to 4 at base offset 2.
  const layout::extents transposed_sizes{{2, 4, 3}}, transposed_strides{{12, 1, 4}};
  std::cout << "transposed: contiguous " << layout::is_contiguous(transposed_sizes, transposed_strides)
            << ", dense " << layout::is_non_overlapping_and_dense(transposed_sizes, transposed_strides)
            << '\n';
  std::cout << "padded: span " << layout::required_span({2, 3}, {4, 1}, 2) << ", dense "
            << layout::is_non_overlapping_and_dense({2, 3}, {4, 1}) << ", non-overlapping "
            << layout::is_non_overlapping({2, 3}, {4, 1}) << '\n';
  // [predicates]

  // [errors]
  // Offset 5 is the padding after the first row: no coordinate reaches it.
  try {
    (void)layout::coordinate_of_offset(5, {2, 3}, {4, 1}, 2);
  } catch (const wrapgraph::layout_error& e) {
    std::cout << e.what() << '\n';
  }
  // [errors]

  // [symbolic]
  sym::context ctx;
  const sym::expr s0 = ctx.symbol("s0", sym::positive), s1 = ctx.symbol("s1", sym::positive);
  const sym::expr x0 = ctx.symbol("x0", sym::nonnegative);
  const std::vector<sym::expr> sym_strides = layout::contiguous_strides(ctx, {s0, s1, 4});
  std::cout << "strides " << layout::to_string(sym_strides) << ", span "
            << layout::required_span(ctx, {s0, s1, 4}, sym_strides) << '\n';
  // Element x0 in row-major order, and where it lives with strides
  // [4*s1, 1, s1] (the last two dimensions stored transposed).
  const std::vector<sym::expr> coordinate = layout::coordinate_of_index(ctx, x0, {s0, s1, 4});
  std::cout << "element x0: " << layout::to_string(coordinate) << '\n';
  std::cout << "offset " << layout::offset_of(ctx, coordinate, {4 * s1, 1, s1}) << '\n';
  // [symbolic]
}

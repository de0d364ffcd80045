// Writing a wrapper program in C++ with program_builder: a typed size symbol,
// sizes that mix expression templates, integers and runtime exprs, a kernel
// with a symbolic grid, a view output; then the law (the built program equals
// its JSON form), the conversion to the graph IR, and a builder error.
// docs/builder.md quotes it.

#include <iostream>
#include <string>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/graph/print.hpp>
#include <wrapgraph/io/json.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym/print.hpp>
#include <wrapgraph/sym/static.hpp>

namespace sym = wrapgraph::sym;
using namespace wrapgraph::program_terms;
using namespace wrapgraph::sym::literals;

// out[i] = in0[i] + in1[i], one block of XBLOCK elements per program instance.
const char* const k_add_source = R"cpp(#include <cstdint>
extern "C" void k_add(void** params, const int64_t* pid, const int64_t*) {
  const float* in0 = *static_cast<float**>(params[0]);
  const float* in1 = *static_cast<float**>(params[1]);
  float* out = *static_cast<float**>(params[2]);
  const int64_t n = *static_cast<int32_t*>(params[3]);
  for (int64_t i = pid[0] * XBLOCK; i < n && i < (pid[0] + 1) * XBLOCK; ++i) out[i] = in0[i] + in1[i];
}
)cpp";

int main() {
  // [build]
  wrapgraph::program_builder b;
  auto s0 = b.symbol<"s0">(hint(8));  // sym::var<"s0", sym::positive>
  auto x = b.input("arg0_1", f32, cpu, shape(s0, 8_c));
  auto y = b.input("arg1_1", f32, cpu, shape(s0, 8));
  auto k_add = b.kernel("k_add")
                   .params({{"in_ptr0", "*fp32"}, {"in_ptr1", "*fp32"}, {"out_ptr0", "*fp32"},
                            {"xnumel", "i32"}, {"XBLOCK", "constexpr"}})
                   .config({{"XBLOCK", 128}, {"num_warps", 4}})
                   .cpp(k_add_source, "k_add");
  auto buf0 = b.allocate("buf0", f32, cpu, shape(s0, 8_c));
  const sym::var<"xnumel"> xnumel;  // kernel parameters, as a grid names them
  const sym::var<"XBLOCK"> XBLOCK;
  b.call(k_add, {x, y, buf0, s0 * 8_c}, grid(sym::ceil_div(xnumel, XBLOCK), 1, 1));
  b.free(x);
  b.outputs(view(buf0, shape(s0 * 4_c, 2), strides(2, 1)));
  const wrapgraph::program built = b.build();
  for (const wrapgraph::line& l : built.lines) std::cout << wrapgraph::to_string(l) << '\n';
  // [build]

  // [mixed]
  wrapgraph::program_builder m;
  const sym::expr n = m.symbol("n", hint(4));  // a runtime expr
  auto t0 = m.symbol<"t0">(hint(3));          // a typed var
  auto buf = m.allocate("buf", f16, cuda(1), shape(n, 2_c * t0 + 1_c, 16, "Max(n, 2)"));
  for (const sym::expr& e : buf.layout.size) std::cout << "size " << e << '\n';
  for (const sym::expr& e : buf.layout.stride) std::cout << "stride " << e << '\n';
  std::cout << "device " << wrapgraph::to_string(buf.layout.dev) << '\n';
  // [mixed]

  // [law]
  const wrapgraph::program loaded = wrapgraph::io::load_program_text(wrapgraph::io::save_program_text(built));
  std::cout << "equal to its JSON form: " << std::boolalpha << wrapgraph::equal(built, loaded) << '\n';
  // [law]

  // [convert]
  const wrapgraph::graph::graph g = wrapgraph::convert(built);
  std::cout << wrapgraph::graph::to_python(g);
  // [convert]

  // [error]
  try {
    wrapgraph::program_builder twice;
    (void)twice.symbol("s0", hint(8));
    (void)twice.symbol("s0", unbacked);
  } catch (const wrapgraph::program_error& e) {
    std::cout << e.what() << '\n';
  }
  try {
    wrapgraph::program_builder assumed;
    (void)assumed.symbol("s0", hint(8));
    (void)assumed.allocate("buf0", f32, cpu, shape(sym::var<"s0">{}));  // any_integer, not positive
  } catch (const wrapgraph::sym_error& e) {
    std::cout << e.what() << '\n';
  }
  // [error]
  return 0;
}

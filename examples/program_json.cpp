// Programs as JSON: load a wrapgraph/1 program, print its lines, save it back
// in canonical form, and read an error that names its JSON path.
// docs/program-json.md quotes this program and its output.

#include <iostream>
#include <string>

#include <wrapgraph/error.hpp>
#include <wrapgraph/io.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym/print.hpp>

namespace io = wrapgraph::io;

int main() {
  // [load]
  const std::string text = R"J({
    "format": "wrapgraph/1",
    "name": "double_it",
    "symbols": {"s0": {"hint": 8}},
    "inputs": [{"kind": "tensor", "name": "arg0_1", "dtype": "float32", "device": "cpu",
                "size": ["s0"], "stride": [1]}],
    "lines": [
      {"op": "kernel_definition", "kernel": "k_double",
       "signature": [{"name": "in_ptr0", "type": "*fp32"}, {"name": "out_ptr0", "type": "*fp32"},
                     {"name": "xnumel", "type": "i64"}, {"name": "XBLOCK", "type": "constexpr"}],
       "constants": {}, "configs": [{"XBLOCK": 128}],
       "implementations": {"cpp": {"entry": "k_double", "source":
         "#include <cstdint>\nextern \"C\" void k_double(void** params, const int64_t* pid, const int64_t*) {\n  const float* in = *static_cast<float**>(params[0]);\n  float* out = *static_cast<float**>(params[1]);\n  const int64_t n = *static_cast<int64_t*>(params[2]);\n  for (int64_t i = pid[0] * XBLOCK; i < n && i < (pid[0] + 1) * XBLOCK; ++i) out[i] = 2 * in[i];\n}\n"}}},
      {"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu",
                                    "size": ["s0"], "stride": [1]}},
      {"op": "kernel_call", "kernel": "k_double", "args": ["arg0_1", "buf0", {"expr": "s0"}],
       "grid": ["FloorDiv(s0 + XBLOCK - 1, XBLOCK)", 1, 1], "meta": {"origin": "mul"}}
    ],
    "outputs": ["buf0"]
  })J";

  const wrapgraph::program p = io::load_program_text(text);
  for (const wrapgraph::line& l : p.lines) std::cout << wrapgraph::to_string(l) << '\n';
  // [load]

  // [save]
  const nlohmann::ordered_json saved = io::save_program(p);
  std::cout << saved["lines"][2].dump() << '\n';
  std::cout << saved["inputs"][0].dump() << '\n';

  const wrapgraph::program again = io::load_program(saved);
  std::cout << "round trip equal: " << std::boolalpha << wrapgraph::equal(p, again) << '\n';
  // [save]

  // [errors]
  const std::string bad = R"J({"format": "wrapgraph/1",
    "lines": [{"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu",
                                            "size": [4, "s0 +"], "stride": [1, 1]}}]})J";
  try {
    (void)io::load_program_text(bad);
  } catch (const wrapgraph::program_error& e) {
    std::cout << e.id() << '\n' << e.message() << '\n';
  }
  try {
    (void)io::load_program_text(R"({"format": "wrapgraph/1", "lines": [{"op": "alocate"}]})");
  } catch (const wrapgraph::error& e) {
    std::cout << e.what() << '\n';
  }
  // [errors]
}

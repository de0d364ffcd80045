// Sample JSON lines of every line kind, shared by the tests of lines/ and io/:
// for each op, one sample with every optional field absent and one (or more)
// with them present, meta included. A new line kind needs samples here; the
// tests over all line kinds fail until it has them.
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include <wrapgraph/lines/lines.hpp>

namespace wrapgraph::test {

/// The alternatives of `line` as a std::tuple, for TEST_CASE_TEMPLATE_APPLY.
template <class Variant>
struct alternatives;
template <class... Kinds>
struct alternatives<std::variant<Kinds...>> {
  using type = std::tuple<Kinds...>;
};
using line_kinds = alternatives<line>::type;

struct line_sample {
  std::string_view op;
  std::string_view json;
};

inline const std::vector<line_sample>& line_samples() {
  static const std::vector<line_sample> samples = {
      {"allocate",
       R"({"op": "allocate", "buffer": {"name": "buf0", "dtype": "float32", "device": "cpu", "size": ["s0", 8], "stride": [8, 1]}})"},
      {"allocate",
       R"({"op": "allocate", "buffer": {"name": "buf1", "dtype": "bfloat16", "device": "cuda:1", "size": [], "stride": [], "offset": "s0", "meta": {"origin": "x"}}, "meta": {"line": 3}})"},
      {"free", R"({"op": "free", "name": "buf0"})"},
      {"free", R"({"op": "free", "name": "buf0", "meta": {"why": ["dead", 1]}})"},
      {"free_if_not_reused", R"({"op": "free_if_not_reused", "name": "buf0", "is_reused": true})"},
      {"free_if_not_reused", R"({"op": "free_if_not_reused", "name": "buf0", "is_reused": false, "meta": {}})"},
      {"reuse",
       R"({"op": "reuse", "old": "buf0", "new": {"name": "buf1", "dtype": "float32", "device": "cpu", "size": ["s0", 8], "stride": [8, 1]}, "delete_old": true})"},
      {"reuse",
       R"({"op": "reuse", "old": "buf0", "new": {"name": "buf1", "dtype": "int64", "device": "cpu", "size": [4], "stride": [2], "offset": 1}, "delete_old": false, "meta": {"k": null}})"},
      {"reinterpret",
       R"({"op": "reinterpret", "input": "buf0", "result": "buf2", "size": ["s0", 4], "stride": [1, "s0"], "offset": "2*s0"})"},
      {"reinterpret",
       R"({"op": "reinterpret", "input": "buf0", "result": "buf2", "size": [], "stride": [], "offset": 0, "meta": {"x": 1}})"},
      {"kernel_definition",
       R"({"op": "kernel_definition", "kernel": "k_add", "implementations": {"cpp": {"source": "extern \"C\" void k_add(void** p, const int64_t* pid, const int64_t* n) {}\n", "entry": "k_add"}}, "signature": [{"name": "in_ptr0", "type": "*fp32"}, {"name": "out_ptr0", "type": "*fp32"}, {"name": "xnumel", "type": "i32"}, {"name": "XBLOCK", "type": "constexpr"}], "constants": {}, "configs": [{"XBLOCK": 128, "num_warps": 4}]})"},
      {"kernel_definition",
       R"({"op": "kernel_definition", "kernel": "k_mul", "implementations": {"cpp": {"source": "s", "entry": "k_mul"}, "cuda": {"source": "__global__ void k_mul() {}", "entry": "k_mul"}, "cubin": {"data_base64": "AAAA", "entry": "k_mul_0", "shared_bytes": 128, "extra_params": [{"type": "*i8", "scratch_bytes": 0}, {"type": "*i8", "scratch_bytes": 64}]}}, "signature": [{"name": "x", "type": "*fp16"}, {"name": "scale", "type": "fp32"}, {"name": "flag", "type": "i1"}], "constants": {"flag": true, "scale": 0.5, "n": 3, "dims": [1, 2]}, "configs": [{"XBLOCK": 128, "num_warps": 4, "block": [128, 1, 1]}, {"XBLOCK": 1024, "num_warps": 8}], "meta": {"triton": "3.0"}})"},
      {"kernel_definition",
       R"({"op": "kernel_definition", "kernel": "k_tuned", "implementations": {"cubin": {"per_config": [{"data_base64": "QUJD", "entry": "k0", "shared_bytes": 0, "extra_params": []}, {"data_base64": "REVG", "entry": "k1", "shared_bytes": 16, "extra_params": []}]}}, "signature": [], "constants": {}, "configs": [{"XBLOCK": 64}, {"XBLOCK": 256}]})"},
      {"kernel_call",
       R"J({"op": "kernel_call", "kernel": "k_add", "args": ["arg0_1", "buf0", {"expr": "8*s0"}], "grid": ["CeilDiv(8*s0, XBLOCK)", 1, 1]})J"},
      {"kernel_call",
       R"({"op": "kernel_call", "kernel": "k_mul", "args": [{"view": {"input": "buf0", "size": ["s0"], "stride": [2], "offset": 1}}, 3, 2.5, true, null, "s0"], "grid": [4], "meta": {"stream": 0}})"},
      {"symbolic_call_arg", R"({"op": "symbolic_call_arg", "name": "ps0", "expr": "s0*s1"})"},
      {"symbolic_call_arg", R"({"op": "symbolic_call_arg", "name": "ps1", "expr": 7, "meta": {"a": 1}})"},
      {"extern_kernel_out",
       R"({"op": "extern_kernel_out", "kernel": "aten.mm.out", "args": ["arg0_1", "arg1_1"], "kwargs": {"beta": 1, "alpha": 1.5}, "out": "buf0"})"},
      {"extern_kernel_out",
       R"({"op": "extern_kernel_out", "kernel": "aten.add.out", "args": [], "kwargs": {}, "out": {"view": {"input": "buf0", "size": [2], "stride": [1], "offset": "s0", "meta": {"v": 1}}}, "meta": {"m": 2}})"},
      {"extern_kernel_alloc",
       R"({"op": "extern_kernel_alloc", "kernel": "aten.nonzero.default", "args": ["arg0_1"], "kwargs": {}, "result": "buf3", "result_kind": "tensor"})"},
      {"extern_kernel_alloc",
       R"({"op": "extern_kernel_alloc", "kernel": "aten.topk.default", "args": ["arg0_1", 3], "kwargs": {"dim": -1, "largest": true, "sorted": null}, "result": "buf4", "result_kind": "multi", "layout": {"dtype": "int64", "device": "cuda", "size": ["u0", 2], "stride": [2, 1]}, "meta": {"x": []}})"},
      {"extern_kernel_alloc",
       R"({"op": "extern_kernel_alloc", "kernel": "aten._assert_async.msg", "args": ["buf1", "message"], "kwargs": {}, "result": "buf5", "result_kind": "none"})"},
      {"multi_output", R"({"op": "multi_output", "result": "buf6", "input": "buf4", "index": [0, 1]})"},
      {"multi_output", R"({"op": "multi_output", "result": "buf7", "input": "buf4", "index": [], "meta": {}})"},
      {"conditional",
       R"({"op": "conditional", "result": "buf8", "predicate": "arg2_1", "true_subgraph": "true_graph_0", "false_subgraph": "false_graph_0", "operands": ["arg0_1", {"expr": "s0"}]})"},
      {"conditional",
       R"({"op": "conditional", "result": "buf8", "predicate": true, "true_subgraph": "t", "false_subgraph": "f", "operands": [], "meta": {"c": 1}})"},
      {"dynamic_scalar", R"({"op": "dynamic_scalar", "input": "buf6", "symbol": "u0", "keypath": []})"},
      {"dynamic_scalar",
       R"({"op": "dynamic_scalar", "input": {"view": {"input": "buf6", "size": [], "stride": [], "offset": 0}}, "symbol": "u1", "keypath": ["convert_int"], "meta": {"d": 0}})"},
      {"unbacked_symbol_defs",
       R"({"op": "unbacked_symbol_defs", "output": "buf7", "bindings": {"u2": [{"method": "size", "index": 0}], "u1": [{"method": "stride", "index": 1}, {"divide_by": 2}], "u3": [{"index": 0}, {"method": "size"}], "u4": [{"method": "storage_offset"}], "u5": []}})"},
      {"unbacked_symbol_defs", R"({"op": "unbacked_symbol_defs", "output": "buf7", "bindings": {}, "meta": {"u": 1}})"},
      {"scatter_fallback",
       R"({"op": "scatter_fallback", "kernel": "aten.scatter_", "self": "buf0", "dim": 0, "index": "arg1_1", "src": 1.5})"},
      {"scatter_fallback",
       R"({"op": "scatter_fallback", "kernel": "aten.scatter_reduce_", "self": "buf0", "dim": -1, "index": "arg1_1", "src": "buf1", "reduce": "sum", "meta": {"r": "sum"}})"},
      {"scatter_fallback",
       R"({"op": "scatter_fallback", "kernel": "aten.scatter_", "self": "buf0", "dim": 1, "index": "arg1_1", "src": 2, "reduce": null})"},
      {"index_put_fallback",
       R"({"op": "index_put_fallback", "self": "buf0", "indices": [null, "arg1_1"], "values": "arg2_1", "accumulate": true})"},
      {"index_put_fallback",
       R"({"op": "index_put_fallback", "self": "buf0", "indices": [], "values": 0.0, "accumulate": false, "meta": {"i": 2}})"},
      {"comm_buffer_allocate",
       R"({"op": "comm_buffer_allocate", "buffer": {"name": "buf9", "dtype": "float32", "device": "cuda:0", "size": [1024], "stride": [1]}, "comm_type": "symm_mem", "group": "0"})"},
      {"comm_buffer_allocate",
       R"({"op": "comm_buffer_allocate", "buffer": {"name": "buf9", "dtype": "uint8", "device": "cuda:0", "size": ["s0"], "stride": [1], "offset": 0}, "comm_type": "nccl", "group": "tp", "meta": {"g": 0}})"},
      {"comm_buffer_free", R"({"op": "comm_buffer_free", "name": "buf9"})"},
      {"comm_buffer_free", R"({"op": "comm_buffer_free", "name": "buf9", "meta": {"f": 1}})"},
      {"comment", R"({"op": "comment"})"},
      {"comment", R"({"op": "comment", "text": "# Topologically Sorted Source Nodes: [add]", "meta": {"c": 1}})"},
      {"null", R"({"op": "null"})"},
      {"null", R"({"op": "null", "text": "", "meta": {"n": 1}})"},
      {"line_context", R"({"op": "line_context"})"},
      {"line_context", R"({"op": "line_context", "text": "with torch.cuda._DeviceGuard(0):"})"},
      {"enter_device_context", R"({"op": "enter_device_context"})"},
      {"enter_device_context", R"({"op": "enter_device_context", "device": 1, "meta": {"e": 1}})"},
      {"exit_device_context", R"({"op": "exit_device_context"})"},
      {"exit_device_context", R"({"op": "exit_device_context", "device": 0})"},
      {"enter_subgraph", R"({"op": "enter_subgraph"})"},
      {"enter_subgraph", R"({"op": "enter_subgraph", "name": "true_graph_0", "meta": {"s": 1}})"},
      {"exit_subgraph", R"({"op": "exit_subgraph"})"},
      {"exit_subgraph", R"({"op": "exit_subgraph", "name": "true_graph_0"})"},
  };
  return samples;
}

/// The samples of line kind T.
template <class T>
std::vector<std::string_view> samples_of() {
  std::vector<std::string_view> out;
  for (const line_sample& s : line_samples())
    if (s.op == T::op) out.push_back(s.json);
  return out;
}

/// A whole program around one line, with the symbols the samples use.
inline std::string program_with_line(std::string_view line_json) {
  return R"({"format": "wrapgraph/1", "symbols": {"s0": {"hint": 4}, "s1": {"hint": 3}, "u0": {"unbacked": true}}, "lines": [)" +
         std::string(line_json) + "]}";
}

}  // namespace wrapgraph::test

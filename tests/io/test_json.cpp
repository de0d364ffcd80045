// Tests of include/wrapgraph/io/json.hpp: the wrapgraph/1 JSON form of
// programs, loaded with errors that name their JSON path and saved in
// canonical form.

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/io.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym/expr.hpp>

#include "../lines/line_samples.hpp"

namespace {

using nlohmann::ordered_json;
using wrapgraph::program;
namespace io = wrapgraph::io;
namespace test = wrapgraph::test;

// The id and message of the error loading `text` throws ("" if none).
std::pair<std::string, std::string> error_of(std::string_view text) {
  try {
    (void)io::load_program_text(text);
  } catch (const wrapgraph::program_error& e) {
    return {e.id(), e.message()};
  }
  return {"", ""};
}

// A program of the given members after the format key.
std::string prog(std::string_view members) {
  return R"({"format": "wrapgraph/1")" + std::string(members.empty() ? "" : ", ") + std::string(members) + "}";
}

// save → load → save gives the same text, and the reloaded program is equal.
void check_round_trip(const program& p) {
  const ordered_json saved = io::save_program(p);
  const program again = io::load_program(saved);
  CHECK(wrapgraph::equal(p, again));
  CHECK(io::save_program(again) == saved);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("io round-trips every sample of every line kind", Line, io_round_trip_each_kind) {
  const auto samples = test::samples_of<Line>();
  INFO("op: ", Line::op);
  REQUIRE_MESSAGE(samples.size() >= 2, "each line kind needs samples with optional fields absent and present");
  for (std::string_view sample : samples) {
    INFO("sample: ", sample);
    const program p = io::load_program_text(test::program_with_line(sample));
    REQUIRE(p.lines.size() == 1);
    CHECK(std::holds_alternative<Line>(p.lines[0]));
    check_round_trip(p);
    // The saved line has the sample's keys, but for a null optional field
    // ("reduce": null), which the canonical form leaves out.
    const ordered_json saved = io::save_program(p)["lines"][0];
    const ordered_json expected = ordered_json::parse(sample);
    CHECK(saved["op"] == expected["op"]);
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      INFO("key: ", it.key());
      CHECK(saved.contains(it.key()) == !it.value().is_null());
    }
    for (auto it = saved.begin(); it != saved.end(); ++it) CHECK(expected.contains(it.key()));
  }
}
TEST_CASE_TEMPLATE_APPLY(io_round_trip_each_kind, test::line_kinds);

TEST_CASE_TEMPLATE_DEFINE("io rejects an unknown key and a missing required field in every line kind", Line,
                          io_keys_each_kind) {
  INFO("op: ", Line::op);
  for (std::string_view sample : test::samples_of<Line>()) {
    INFO("sample: ", sample);
    ordered_json line = ordered_json::parse(sample);
    SUBCASE("an unknown key") {
      line["bogus"] = 1;
      const auto [id, message] = error_of(test::program_with_line(line.dump()));
      CHECK(id == "wrapgraph.json.unknown_key");
      CHECK(message.starts_with("at lines[0]: unknown key \"bogus\""));
    }
    SUBCASE("each field dropped is missing or optional") {
      for (auto it = line.begin(); it != line.end(); ++it) {
        if (it.key() == "op") continue;
        ordered_json dropped = line;
        dropped.erase(it.key());
        INFO("without: ", it.key());
        const auto [id, message] = error_of(test::program_with_line(dropped.dump()));
        if (id.empty()) {
          // Optional: the program loads, and the canonical form leaves it out.
          const program p = io::load_program_text(test::program_with_line(dropped.dump()));
          CHECK_FALSE(io::save_program(p)["lines"][0].contains(it.key()));
        } else {
          CHECK(id == "wrapgraph.json.missing_field");
          CHECK(message == "at lines[0]: missing field \"" + it.key() + "\"");
        }
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(io_keys_each_kind, test::line_kinds);

TEST_CASE("io dispatches every op of the samples to its line kind") {
  for (const test::line_sample& s : test::line_samples()) {
    const program p = io::load_program_text(test::program_with_line(s.json));
    CHECK(wrapgraph::op_of(p.lines[0]) == s.op);
  }
}

TEST_CASE("io reads each form of a reference") {
  const program p = io::load_program_text(prog(R"("symbols": {"s0": {"hint": 4}}, "lines": [
    {"op": "extern_kernel_out", "kernel": "op", "out": "buf0", "kwargs": {},
     "args": ["buf0", {"expr": "2*s0 + 1"}, {"view": {"input": "buf0", "size": ["s0"], "stride": [1], "offset": 3}},
              null, true, false, 7, -3, 2.5, 1e300, "not_a_buffer", {"expr": 12}, 9223372036854775807]}])"));
  const auto& args = std::get<wrapgraph::extern_kernel_out_line>(p.lines[0]).args;
  REQUIRE(args.size() == 13);
  CHECK(std::get<wrapgraph::name_ref>(args[0]).name == "buf0");
  CHECK(wrapgraph::sym::to_string(std::get<wrapgraph::expr_ref>(args[1]).value) == "2*s0 + 1");
  const auto& view = std::get<wrapgraph::view_ref>(args[2]);
  CHECK(view.input == "buf0");
  CHECK(view.size.size() == 1);
  CHECK(view.offset.is_integer(3));
  CHECK(std::holds_alternative<wrapgraph::none_ref>(args[3]));
  CHECK(std::get<bool>(args[4]) == true);
  CHECK(std::get<bool>(args[5]) == false);
  CHECK(std::get<std::int64_t>(args[6]) == 7);
  CHECK(std::get<std::int64_t>(args[7]) == -3);
  CHECK(std::get<double>(args[8]) == 2.5);
  CHECK(std::get<double>(args[9]) == 1e300);
  CHECK(std::get<wrapgraph::name_ref>(args[10]).name == "not_a_buffer");
  CHECK(std::get<wrapgraph::expr_ref>(args[11]).value.is_integer(12));
  CHECK(std::get<std::int64_t>(args[12]) == 9223372036854775807);
  check_round_trip(p);
  // A float stays a float and an integer an integer through a save.
  const ordered_json saved = io::save_program(p)["lines"][0]["args"];
  CHECK(saved[8].is_number_float());
  CHECK(saved[6].is_number_integer());
  CHECK(saved[11] == ordered_json::parse(R"({"expr": 12})"));
}

TEST_CASE("io reads every input kind, constants and outputs") {
  const program p = io::load_program_text(prog(R"("name": "f", "symbols": {"s0": {"hint": 4}},
    "inputs": [{"kind": "tensor", "name": "arg0_1", "dtype": "float16", "device": "cuda:0", "size": ["s0", 3], "stride": [3, 1], "meta": {"a": 1}},
               {"kind": "symbol", "name": "s0"},
               {"kind": "int", "name": "k", "value": -3, "meta": {"b": 2}},
               {"kind": "none", "name": "unused"}],
    "constants": [{"name": "_tensor_constant0", "dtype": "int32", "device": "cpu", "size": [3], "stride": [1], "offset": 0, "data": [1, 2, 3]},
                  {"name": "c1", "dtype": "bool", "device": "cpu", "size": [2], "stride": [1], "data": [true, false], "meta": {}}],
    "outputs": ["arg0_1", {"expr": "s0"}, null, 3])"));
  CHECK(p.name == "f");
  REQUIRE(p.inputs.size() == 4);
  const auto& t = std::get<wrapgraph::tensor_input>(p.inputs[0]);
  CHECK(t.layout.type == wrapgraph::dtype::float16);
  CHECK(t.layout.dev == wrapgraph::cuda0);
  CHECK(t.layout.offset.is_integer(0));
  CHECK(t.meta == ordered_json::parse(R"({"a": 1})"));
  CHECK(std::get<wrapgraph::symbol_input>(p.inputs[1]).name == "s0");
  CHECK(std::get<wrapgraph::int_input>(p.inputs[2]).value == -3);
  CHECK(std::get<wrapgraph::none_input>(p.inputs[3]).name == "unused");
  REQUIRE(p.constants.size() == 2);
  CHECK(p.constants[0].data == ordered_json::parse("[1, 2, 3]"));
  CHECK(p.constants[1].layout.type == wrapgraph::dtype::bool_);
  CHECK(p.outputs.size() == 4);
  check_round_trip(p);
}

TEST_CASE("io reads subgraphs into the parent's context") {
  const program p = io::load_program_text(prog(R"("symbols": {"s0": {"hint": 4}},
    "inputs": [{"kind": "tensor", "name": "arg0_1", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]},
               {"kind": "tensor", "name": "pred", "dtype": "bool", "device": "cpu", "size": [], "stride": []}],
    "lines": [{"op": "conditional", "result": "buf0", "predicate": "pred", "true_subgraph": "true_graph_0",
               "false_subgraph": "false_graph_0", "operands": ["arg0_1"]},
              {"op": "multi_output", "result": "buf1", "input": "buf0", "index": [0]}],
    "outputs": ["buf1"],
    "subgraphs": {
      "true_graph_0": {"inputs": [{"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}],
                       "lines": [{"op": "allocate", "buffer": {"name": "y", "dtype": "float32", "device": "cpu", "size": ["s0 + u9"], "stride": [1]}}],
                       "outputs": ["y"]},
      "false_graph_0": {"format": "wrapgraph/1", "name": "other", "symbols": {"u9": {"unbacked": true}}, "outputs": [], "meta": {"f": 0}}})"));
  REQUIRE(p.subgraphs.size() == 2);
  CHECK(p.subgraphs[0].name == "true_graph_0");
  CHECK(p.subgraphs[0].body.name == "true_graph_0");
  CHECK(p.subgraphs[1].body.name == "other");
  CHECK(p.subgraphs[0].body.ctx == p.ctx);
  CHECK(p.find_subgraph("false_graph_0") == &p.subgraphs[1].body);
  // u9, declared unbacked in the second subgraph, is unbacked in the first
  // too: all symbols are declared before anything is parsed.
  CHECK(p.ctx->find_symbol("u9").symbol_assumptions() == wrapgraph::sym::unbacked);
  check_round_trip(p);
  const ordered_json saved = io::save_program(p);
  CHECK_FALSE(saved["subgraphs"]["true_graph_0"].contains("format"));
  CHECK_FALSE(saved["subgraphs"]["true_graph_0"].contains("name"));
  CHECK(saved["subgraphs"]["false_graph_0"]["name"] == "other");
}

TEST_CASE("io keeps examples as written and checks their shape") {
  const std::string examples = R"([
      {"bind": {"s0": 3}, "inputs": {"arg0_1": {"data": [1, 2, 3]}, "s0": 3, "unused": null},
       "outputs": [{"size": [3], "data": [2, 4, 6], "atol": 1e-5, "rtol": 1e-5}, {"value": 3}, null,
                   {"size": [], "data": [true], "dtype": "bool"}], "raises": null},
      {"raises": "wrapgraph.exec", "meta": {"note": "prefix"}}])";
  const program p = io::load_program_text(prog(R"("examples": )" + examples));
  REQUIRE(p.examples.size() == 2);
  CHECK(p.examples[0] == ordered_json::parse(examples)[0]);
  check_round_trip(p);

  CHECK(error_of(prog(R"("examples": [{"bind": {"s0": 1.5}}])")).second ==
        "at examples[0].bind.s0: expected an integer, got the number 1.5");
  CHECK(error_of(prog(R"("examples": [{"outputs": [{"data": []}]}])")).second ==
        "at examples[0].outputs[0]: missing field \"size\"");
  CHECK(error_of(prog(R"("examples": [{"outputs": [{"size": [1], "data": [1], "dtype": "f32"}]}])")).first ==
        "wrapgraph.json.unknown_dtype");
  CHECK(error_of(prog(R"("examples": [{"expect": 1}])")).first == "wrapgraph.json.unknown_key");
  CHECK(error_of(prog(R"("examples": [{"inputs": {"x": {"data": [[1]]}}}])")).second ==
        "at examples[0].inputs.x.data[0]: expected a number, got a list");
}

TEST_CASE("io gives declared symbols their assumptions and other names any_integer") {
  const program p = io::load_program_text(prog(R"J("symbols": {"s0": {"hint": 8}, "u0": {"unbacked": true}, "s1": {}},
    "lines": [{"op": "dynamic_scalar", "input": "buf0", "symbol": "u0", "keypath": []},
              {"op": "dynamic_scalar", "input": "buf0", "symbol": "u7", "keypath": []},
              {"op": "symbolic_call_arg", "name": "ps0", "expr": "s0 + s1"},
              {"op": "kernel_call", "kernel": "k", "args": [{"expr": "ps0 + u0 + u7"}], "grid": ["CeilDiv(xnumel, XBLOCK)"]}])J"));
  using namespace wrapgraph::sym;
  CHECK(p.ctx->find_symbol("s0").symbol_assumptions() == positive);
  CHECK(p.ctx->find_symbol("s1").symbol_assumptions() == positive);
  CHECK(p.ctx->find_symbol("u0").symbol_assumptions() == unbacked);
  CHECK(p.ctx->find_symbol("u7").symbol_assumptions() == any_integer);
  CHECK(p.ctx->find_symbol("ps0").symbol_assumptions() == any_integer);
  CHECK(p.ctx->find_symbol("XBLOCK").symbol_assumptions() == any_integer);
  CHECK(p.ctx->find_symbol("xnumel").symbol_assumptions() == any_integer);
  REQUIRE(p.symbols.size() == 3);
  CHECK(p.symbols[0].first == "s0");
  CHECK(p.symbols[0].second.hint == 8);
  CHECK(p.symbols[1].second.unbacked);
  CHECK_FALSE(p.symbols[2].second.hint.has_value());
  check_round_trip(p);
}

TEST_CASE("io saves the canonical form") {
  const program p = io::load_program_text(prog(R"J("symbols": {"s1": {"hint": 2, "meta": {"src": "L['x']"}}, "s0": {"unbacked": false}},
    "lines": [{"meta": {"z": 1}, "buffer": {"stride": ["1*s1", 1], "size": [3, "s1+0"], "device": "cuda", "dtype": "float32", "name": "buf0"}, "op": "allocate"},
              {"op": "kernel_call", "kernel": "k", "args": [], "grid": ["FloorDiv(s1 + 127, 128)", "2*3"]},
              {"op": "comment"}],
    "meta": {"b": 1, "a": 2})J"));
  const std::string text = io::save_program_text(p, -1);
  CHECK(text ==
        R"({"format":"wrapgraph/1","name":"main","symbols":{"s1":{"hint":2,"meta":{"src":"L['x']"}},"s0":{}},)"
        R"("inputs":[],"constants":[],"lines":[)"
        R"({"op":"allocate","buffer":{"name":"buf0","dtype":"float32","device":"cuda:0","size":[3,"s1"],"stride":["s1",1],"offset":0},"meta":{"z":1}},)"
        R"({"op":"kernel_call","kernel":"k","args":[],"grid":["(s1 + 127)//128",6]},{"op":"comment"}],)"
        R"("outputs":[],"meta":{"b":1,"a":2}})");
  // Keyword arguments, bindings, constants and configs keep their order.
  const program q = io::load_program_text(test::program_with_line(test::line_samples()[17].json));
  CHECK(io::save_program(q)["lines"][0]["kwargs"].dump() == R"({"beta":1,"alpha":1.5})");
}

TEST_CASE("io accepts meta on every object and keeps it") {
  const program p = io::load_program_text(prog(R"("meta": {"top": [1, {"deep": null}]},
    "symbols": {"s0": {"hint": 2, "meta": {"k": 1}}},
    "inputs": [{"kind": "none", "name": "n", "meta": "text is fine too"}],
    "lines": [{"op": "allocate", "buffer": {"name": "b", "dtype": "int8", "device": "cpu", "size": [1], "stride": [1], "meta": {"unknown_key_inside_meta": {"op": "bogus"}}}, "meta": 5}])"));
  CHECK(p.meta["top"][1].contains("deep"));
  CHECK(p.symbols[0].second.meta["k"] == 1);
  const auto& a = std::get<wrapgraph::allocate_line>(p.lines[0]);
  CHECK(a.meta == 5);
  CHECK(a.buffer.meta["unknown_key_inside_meta"]["op"] == "bogus");
  check_round_trip(p);
}

TEST_CASE("io loads from an unordered nlohmann::json and from files") {
  const nlohmann::json j = nlohmann::json::parse(test::program_with_line(test::line_samples()[13].json));
  const program p = io::load_program(j);
  CHECK(wrapgraph::op_of(p.lines[0]) == "kernel_call");

  const std::string path =
      (std::filesystem::temp_directory_path() / ("wrapgraph_io_test_" + std::to_string(::getpid()) + ".json")).string();
  io::save_program_file(p, path);
  const program q = io::load_program_file(path);
  CHECK(wrapgraph::equal(p, q));
  std::filesystem::remove(path);

  try {
    (void)io::load_program_file(path);
    FAIL("a missing file loads");
  } catch (const wrapgraph::program_error& e) {
    CHECK(e.id() == "wrapgraph.json.io");
  }
  try {
    io::save_program_file(p, "/nonexistent-directory/x.json");
    FAIL("a file in a missing directory is written");
  } catch (const wrapgraph::program_error& e) {
    CHECK(e.id() == "wrapgraph.json.io");
  }
}

TEST_CASE("io errors name the JSON path and keep the parser's id") {
  struct bad_case {
    std::string text;
    std::string id;
    std::string message;
  };
  const std::string buffer = R"("name": "b", "dtype": "float32", "device": "cpu")";
  const bad_case cases[] = {
      {"[1, 2]", "wrapgraph.json.wrong_type", "at the top level: expected a program (an object), got a list"},
      {R"({"lines": []})", "wrapgraph.json.missing_field",
       "at the top level: missing field \"format\" (expected \"wrapgraph/1\")"},
      {R"({"format": "wrapgraph/0"})", "wrapgraph.json.bad_format",
       "at format: this reader knows the format \"wrapgraph/1\", got the string \"wrapgraph/0\""},
      {prog(R"("line": [])"), "wrapgraph.json.unknown_key",
       "at the top level: unknown key \"line\" (expected format, name, symbols, inputs, constants, lines, outputs, "
       "subgraphs, examples or meta)"},
      {prog(R"("lines": [{}, {"op": "fre", "name": "x"}])"), "wrapgraph.json.missing_field",
       "at lines[0]: missing field \"op\""},
      {prog(R"("lines": [{"op": "fre", "name": "x"}])"), "wrapgraph.json.unknown_op", "at lines[0].op: unknown op \"fre\""},
      {prog(R"("lines": [{"op": "allocate", "buffer": {)" + buffer + R"(, "size": [1, "s0 +"], "stride": [1, 1]}}])"),
       "wrapgraph.sym.parse.unexpected_end",
       "at lines[0].buffer.size[1]: at column 4 of \"s0 +\": expected an operand, found the end of the text"},
      {prog(R"("lines": [{"op": "allocate", "buffer": {)" + buffer + R"(, "size": [2.0], "stride": [1]}}])"),
       "wrapgraph.json.wrong_type",
       "at lines[0].buffer.size[0]: expected an expression (an integer or a string), got the number 2.0"},
      {prog(R"("lines": [{"op": "allocate", "buffer": {"name": "b", "dtype": "float", "device": "cpu", "size": [], "stride": []}}])"),
       "wrapgraph.json.unknown_dtype",
       "at lines[0].buffer.dtype: unknown dtype \"float\" (the dtypes are bool, int8, uint8, int16, int32, int64, "
       "float16, bfloat16, float32, float64)"},
      {prog(R"("inputs": [{"kind": "tensor", "name": "x", "dtype": "int8", "device": "gpu", "size": [], "stride": []}])"),
       "wrapgraph.json.unknown_device", "at inputs[0].device: unknown device \"gpu\" (expected cpu or cuda:N)"},
      {prog(R"("lines": [{"op": "kernel_call", "kernel": "k", "args": "buf0", "grid": [1]}])"),
       "wrapgraph.json.wrong_type", "at lines[0].args: expected a list, got the string \"buf0\""},
      {prog(R"("lines": [{"op": "unbacked_symbol_defs", "output": "b", "bindings": {"u0": [{"method": "numel"}]}}])"),
       "wrapgraph.json.bad_value",
       "at lines[0].bindings.u0[0].method: unknown method \"numel\" (expected size, stride or storage_offset)"},
      {prog(R"("lines": [{"op": "extern_kernel_alloc", "kernel": "k", "args": [], "kwargs": {}, "result": "r", "result_kind": "list"}])"),
       "wrapgraph.json.bad_value", "at lines[0].result_kind: unknown result_kind \"list\" (expected tensor, multi or none)"},
      {prog(R"("lines": [{"op": "kernel_call", "kernel": "k", "args": [], "grid": ["s0/2"]}])"),
       "wrapgraph.sym.parse.true_division",
       "at lines[0].grid[0]: at column 2 of \"s0/2\": the quotient s0/2 is not an integer expression; '/' may only "
       "appear inside floor(...) or ceiling(...)"},
      {prog(R"("lines": [{"op": "kernel_call", "kernel": "k", "args": [{"exp": "s0"}], "grid": [1]}])"),
       "wrapgraph.json.unknown_key", "at lines[0].args[0]: unknown key \"exp\" (expected expr, view or meta)"},
      {prog(R"("subgraphs": {"g 1": {"lines": [{"op": "free", "name": 3}]}})"), "wrapgraph.json.wrong_type",
       "at subgraphs[\"g 1\"].lines[0].name: expected a string, got the integer 3"},
      {prog(R"("symbols": {"s0": {"hint": 0}})"), "wrapgraph.json.bad_value",
       "at symbols.s0.hint: a size symbol's hint must be at least 1 (sizes are positive), got 0"},
      {prog(R"("symbols": {"s0": {"hint": 2}}, "subgraphs": {"g": {"symbols": {"s0": {"unbacked": true}}}})"),
       "wrapgraph.sym.symbol_redeclared",
       "at subgraphs.g.symbols.s0: symbol 's0' was already declared with other assumptions"},
      {prog(R"J("lines": [{"op": "symbolic_call_arg", "name": "p", "expr": "FloorDiv(s0, 0)"}])J"),
       "wrapgraph.sym.division_by_zero",
       "at lines[0].expr: at column 0 of \"FloorDiv(s0, 0)\": division by zero in FloorDiv(s0, 0)"},
      {prog(R"("lines": [{"op": "multi_output", "result": "r", "input": "i", "index": [18446744073709551615]}])"),
       "wrapgraph.json.bad_value", "at lines[0].index[0]: the integer 18446744073709551615 is out of the range of int64"},
      {prog(R"("lines": [{"op": "kernel_definition", "kernel": "k", "implementations": {"cubin": {"per_config": []}}, "signature": [], "constants": {}, "configs": []}])"),
       "wrapgraph.json.bad_value", "at lines[0].implementations.cubin.per_config: per_config lists no binary"},
      {prog(R"("lines": [{"op": "kernel_definition", "kernel": "k", "implementations": {"cubin": {"data_base64": "", "entry": "e", "shared_bytes": 0, "extra_params": [{"type": "*i8", "scratch_bytes": -1}]}}, "signature": [], "constants": {}, "configs": []}])"),
       "wrapgraph.json.bad_value",
       "at lines[0].implementations.cubin.extra_params[0].scratch_bytes: scratch_bytes must be at least 0, got -1"},
      {prog(R"("lines": [{"op": "kernel_definition", "kernel": "k", "implementations": {"cpp": {"source": ""}}, "signature": [], "constants": {}, "configs": []}])"),
       "wrapgraph.json.missing_field", "at lines[0].implementations.cpp: missing field \"entry\""},
      {prog(R"("lines": [{"op": "kernel_definition", "kernel": "k", "implementations": {"triton": {}}, "signature": [], "constants": {}, "configs": []}])"),
       "wrapgraph.json.unknown_key",
       "at lines[0].implementations: unknown key \"triton\" (expected cpp, cuda, cubin or meta)"},
      {prog(R"("lines": [{"op": "kernel_definition", "kernel": "k", "implementations": {}, "signature": [], "constants": {"a": "x"}, "configs": []}])"),
       "wrapgraph.json.wrong_type",
       "at lines[0].constants.a: expected an integer, a number, a boolean or a list of integers, got the string \"x\""},
      {prog(R"("inputs": [{"kind": "tensors", "name": "x"}])"), "wrapgraph.json.bad_value",
       "at inputs[0].kind: unknown input kind \"tensors\" (expected tensor, symbol, int or none)"},
      {prog(R"("inputs": [{"kind": "symbol", "name": "s0", "value": 1}])"), "wrapgraph.json.unknown_key",
       "at inputs[0]: unknown key \"value\" (expected kind, name or meta)"},
      {R"({"format": "wrapgraph/1", "lines": [{"op": "free", "name": "a", "name": "b"}]})", "wrapgraph.json.duplicate_name",
       "at lines[0].name: the key \"name\" is given twice"},
      {R"({"format": "wrapgraph/1", "lines": [)", "wrapgraph.json.parse_error",
       "not valid JSON: parse error at line 1, column 37: syntax error while parsing value - unexpected end of input; "
       "expected '[', '{', or a literal"},
  };
  for (const bad_case& c : cases) {
    INFO("program: ", c.text);
    const auto [id, message] = error_of(c.text);
    CHECK(id == c.id);
    CHECK(message == c.message);
  }
}

TEST_CASE("io reports a wrapgraph::error whose what() carries the id") {
  try {
    (void)io::load_program_text(prog(R"("lines": 3)"));
    FAIL("loads");
  } catch (const wrapgraph::error& e) {
    CHECK(std::string(e.what()) == "[wrapgraph.json.wrong_type] at lines: expected a list, got the integer 3");
    CHECK(e.has_id("wrapgraph.json"));
  }
}

TEST_CASE("io loads well-formed programs whose meaning the converter checks") {
  // Names, grid ranks, reductions, key paths and ranks of layouts are the
  // converter's to check, for programs built in C++ as well as loaded ones.
  const program p = io::load_program_text(prog(R"(
    "inputs": [{"kind": "none", "name": "x"}, {"kind": "none", "name": "x"}],
    "lines": [{"op": "kernel_call", "kernel": "k", "args": [], "grid": []},
              {"op": "allocate", "buffer": {"name": "b", "dtype": "int8", "device": "cpu", "size": [1, 2], "stride": [1]}},
              {"op": "scatter_fallback", "kernel": "k", "self": "a", "dim": 0, "index": "i", "src": 1, "reduce": "median"},
              {"op": "dynamic_scalar", "input": "a", "symbol": "u0", "keypath": ["float"]},
              {"op": "unbacked_symbol_defs", "output": "b", "bindings": {"u1": [{"divide_by": 0}]}}])"));
  CHECK(p.inputs.size() == 2);
  CHECK(p.lines.size() == 5);
  check_round_trip(p);
}

TEST_CASE("io rejects a key given twice in any object of the text") {
  CHECK(error_of(prog(R"("lines": [{"op": "extern_kernel_out", "kernel": "k", "args": [], "kwargs": {"a": 1, "b": [1, {"c": 2, "c": 3}]}, "out": "o"}])")) ==
        std::pair<std::string, std::string>{"wrapgraph.json.duplicate_name",
                                            "at lines[0].kwargs.b[1].c: the key \"c\" is given twice"});
  CHECK(error_of(prog(R"("subgraphs": {"g": {}, "g": {}})")).second == "at subgraphs.g: the key \"g\" is given twice");
  CHECK(error_of(R"({"format": "wrapgraph/1", "format": "wrapgraph/1"})").second ==
        "at format: the key \"format\" is given twice");
}

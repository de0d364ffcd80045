// Tests of include/wrapgraph/lines/compare.hpp and lines/print.hpp: equality
// and printing of lines and programs, written once over the reflection.

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <wrapgraph/io/json.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym/context.hpp>

#include "line_samples.hpp"

namespace {

using wrapgraph::line;
using wrapgraph::program;
namespace io = wrapgraph::io;
namespace test = wrapgraph::test;

// A program of one line; the line's expressions live in the program's context.
program load(std::string_view json) { return io::load_program_text(test::program_with_line(json)); }

// The lines of one kind from one loaded program, so that they share a context.
program all_samples() {
  std::string lines;
  for (const test::line_sample& s : test::line_samples()) lines += (lines.empty() ? "" : ", ") + std::string(s.json);
  return io::load_program_text(test::program_with_line(lines));
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("every line kind compares and prints generically", Line, lines_each_kind) {
  INFO("op: ", Line::op);
  const auto samples = test::samples_of<Line>();
  REQUIRE(samples.size() >= 2);
  const program all = all_samples();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    INFO("sample: ", samples[i]);
    // Two separate loads have two contexts; they are still equal.
    const program pa = load(samples[i]);
    const program pb = load(samples[i]);
    const line& a = pa.lines.at(0);
    const line& b = pb.lines.at(0);
    CHECK(wrapgraph::equal(a, b));
    CHECK(wrapgraph::equal(a, a));
    const std::string text = wrapgraph::to_string(a);
    CHECK(text.starts_with(std::string(Line::op) + "("));
    CHECK(text.ends_with(")"));
    CHECK(text == wrapgraph::to_string(b));
    // Each sample differs from every other sample, of its kind or not.
    for (const line& other : all.lines) {
      const bool same_sample = wrapgraph::to_string(other) == text;
      CHECK(wrapgraph::equal(a, other) == same_sample);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(lines_each_kind, test::line_kinds);

TEST_CASE("to_string prints a line as op(field=value, ...)") {
  const auto& s = test::line_samples();
  auto printed = [&](std::size_t i) { return wrapgraph::to_string(load(s[i].json).lines.at(0)); };
  CHECK(printed(13) == "kernel_call(kernel=k_add, args=[arg0_1, buf0, {expr: 8*s0}], grid=[CeilDiv(8*s0, XBLOCK), 1, 1])");
  CHECK(printed(14) ==
        "kernel_call(kernel=k_mul, args=[{view: {input: buf0, size: [s0], stride: [2], offset: 1}}, 3, 2.5, true, "
        "null, s0], grid=[4], meta={\"stream\":0})");
  CHECK(printed(0) == "allocate(buffer={name: buf0, dtype: float32, device: cpu, size: [s0, 8], stride: [8, 1], offset: 0})");
  CHECK(printed(1) ==
        "allocate(buffer={name: buf1, dtype: bfloat16, device: cuda:1, size: [], stride: [], offset: s0, meta: "
        "{\"origin\":\"x\"}}, meta={\"line\":3})");
  CHECK(printed(6) ==
        "reuse(old=buf0, new={name: buf1, dtype: float32, device: cpu, size: [s0, 8], stride: [8, 1], offset: 0}, "
        "delete_old=true)");
  CHECK(printed(10) ==
        "kernel_definition(kernel=k_add, implementations={cpp: {source: extern \"C\" void k_add(void** p, const "
        "in... (73 chars), entry: k_add}}, signature=[{name: in_ptr0, type: *fp32}, {name: out_ptr0, type: "
        "*fp32}, {name: xnumel, type: i32}, {name: XBLOCK, type: constexpr}], constants={}, configs=[{XBLOCK: 128, "
        "num_warps: 4}])");
  CHECK(printed(12) ==
        "kernel_definition(kernel=k_tuned, implementations={cubin: {per_config: [{data_base64: QUJD, entry: k0, "
        "shared_bytes: 0, extra_params: []}, {data_base64: REVG, entry: k1, shared_bytes: 16, extra_params: []}]}}, "
        "signature=[], constants={}, configs=[{XBLOCK: 64}, {XBLOCK: 256}])");
  CHECK(printed(17) == "extern_kernel_out(kernel=aten.mm.out, args=[arg0_1, arg1_1], kwargs={beta: 1, alpha: 1.5}, out=buf0)");
  CHECK(printed(20) ==
        "extern_kernel_alloc(kernel=aten.topk.default, args=[arg0_1, 3], kwargs={dim: -1, largest: true, sorted: "
        "null}, result=buf4, result_kind=multi, layout={dtype: int64, device: cuda:0, size: [u0, 2], stride: [2, 1], "
        "offset: 0}, meta={\"x\":[]})");
  CHECK(printed(28) ==
        "unbacked_symbol_defs(output=buf7, bindings={u2: .size(0), u1: .stride(1)//2, u3: [0].size(), u4: "
        ".storage_offset(), u5: []})");
  CHECK(printed(30) == "scatter_fallback(kernel=aten.scatter_, self=buf0, dim=0, index=arg1_1, src=1.5)");
  CHECK(printed(33) == "index_put_fallback(self=buf0, indices=[null, arg1_1], values=arg2_1, accumulate=true)");
  CHECK(printed(39) == "comment()");
  CHECK(printed(42) == "null(text=\"\", meta={\"n\":1})");
  CHECK(printed(46) == "enter_device_context(device=1, meta={\"e\":1})");
}

TEST_CASE("equal compares expressions by node within a context and by text across contexts") {
  wrapgraph::sym::context c1, c2;
  const auto s0 = c1.symbol("s0", wrapgraph::sym::positive);
  wrapgraph::allocate_line a;
  a.buffer.name = "buf0";
  a.buffer.layout.size = {2 * s0, c1.integer(4)};
  a.buffer.layout.stride = {c1.integer(4), c1.integer(1)};
  wrapgraph::allocate_line b = a;
  CHECK(wrapgraph::equal(line{a}, line{b}));
  SUBCASE("a null offset equals 0") {
    b.buffer.layout.offset = c1.integer(0);
    CHECK(wrapgraph::equal(line{a}, line{b}));
    b.buffer.layout.offset = c1.integer(1);
    CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  }
  SUBCASE("another context, the same text") {
    const auto t0 = c2.symbol("s0", wrapgraph::sym::positive);
    b.buffer.layout.size = {t0 * 2, c2.integer(4)};
    CHECK(wrapgraph::equal(line{a}, line{b}));
    b.buffer.layout.size = {t0 * 3, c2.integer(4)};
    CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  }
  SUBCASE("meta is compared as JSON") {
    b.meta = wrapgraph::meta_data::parse(R"({"a": 1})");
    CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
    a.meta = wrapgraph::meta_data::parse(R"({"a": 1.0})");
    CHECK(wrapgraph::equal(line{a}, line{b}));
  }
  SUBCASE("the dtype and the device count") {
    b.buffer.layout.type = wrapgraph::dtype::int32;
    CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
    b = a;
    b.buffer.layout.dev = wrapgraph::cuda0;
    CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  }
}

TEST_CASE("equal tells references apart by kind and value") {
  wrapgraph::kernel_call_line a{"k", {std::int64_t{1}}, {}, {}};
  wrapgraph::kernel_call_line b{"k", {1.0}, {}, {}};
  CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  b.args = {true};
  CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  b.args = {wrapgraph::name_ref{"1"}};
  CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  b.args = {std::int64_t{1}};
  CHECK(wrapgraph::equal(line{a}, line{b}));
  b.args.push_back(wrapgraph::none_ref{});
  CHECK_FALSE(wrapgraph::equal(line{a}, line{b}));
  CHECK(wrapgraph::to_string(line{b}) == "kernel_call(kernel=k, args=[1, null], grid=[])");
}

TEST_CASE("equal compares whole programs, subgraphs and examples included") {
  const std::string text = R"({"format": "wrapgraph/1", "name": "p", "symbols": {"s0": {"hint": 2}},
    "inputs": [{"kind": "tensor", "name": "x", "dtype": "float32", "device": "cpu", "size": ["s0"], "stride": [1]}],
    "constants": [{"name": "c", "dtype": "int64", "device": "cpu", "size": [2], "stride": [1], "data": [1, 2]}],
    "lines": [{"op": "free", "name": "x"}], "outputs": ["x", {"expr": "s0 + 1"}],
    "subgraphs": {"g": {"inputs": [{"kind": "int", "name": "k", "value": 1}], "outputs": ["k"]}},
    "examples": [{"bind": {"s0": 2}}], "meta": {"m": 1}})";
  const program a = io::load_program_text(text);
  const program b = io::load_program_text(text);
  CHECK(wrapgraph::equal(a, b));
  auto changed = [&](auto&& change) {
    program c = io::load_program_text(text);
    change(c);
    return wrapgraph::equal(a, c);
  };
  CHECK_FALSE(changed([](program& c) { c.name = "q"; }));
  CHECK_FALSE(changed([](program& c) { c.symbols[0].second.hint = 3; }));
  CHECK_FALSE(changed([](program& c) { std::get<wrapgraph::tensor_input>(c.inputs[0]).layout.size.clear(); }));
  CHECK_FALSE(changed([](program& c) { c.constants[0].data[1] = 3; }));
  CHECK_FALSE(changed([](program& c) { c.lines.clear(); }));
  CHECK_FALSE(changed([](program& c) { c.outputs.pop_back(); }));
  CHECK_FALSE(changed([](program& c) { std::get<wrapgraph::int_input>(c.subgraphs[0].body.inputs[0]).value = 2; }));
  CHECK_FALSE(changed([](program& c) { c.subgraphs[0].name = "h"; }));
  CHECK_FALSE(changed([](program& c) { c.examples.clear(); }));
  CHECK_FALSE(changed([](program& c) { c.meta = nullptr; }));
  CHECK(changed([](program&) {}));
}

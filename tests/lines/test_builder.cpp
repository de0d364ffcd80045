// Tests of include/wrapgraph/lines/builder.hpp: program_builder writes every
// line kind, and a built program equals (wrapgraph::equal) the program its
// JSON form loads to; extents of every kind mix in one shape; built programs
// convert; the builder's own errors.

#include <doctest/doctest.h>

#include <concepts>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/graph/print.hpp>
#include <wrapgraph/io/json.hpp>
#include <wrapgraph/layout/symbolic.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym/print.hpp>
#include <wrapgraph/sym/static.hpp>

#include "line_samples.hpp"

#ifndef WRAPGRAPH_TEST_PROGRAMS_DIR
#define WRAPGRAPH_TEST_PROGRAMS_DIR "tests/programs"
#endif

namespace {

namespace sym = wrapgraph::sym;
namespace io = wrapgraph::io;
using namespace wrapgraph::program_terms;
using namespace wrapgraph::sym::literals;
using wrapgraph::meta_data;
using wrapgraph::program;
using wrapgraph::program_builder;

std::string read_program_text(const std::string& name) {
  std::ifstream file(std::string(WRAPGRAPH_TEST_PROGRAMS_DIR) + "/convert/" + name);
  REQUIRE_MESSAGE(file.good(), "cannot read ", name);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// The first line of each kind in `p` that differs from `q`, for a readable failure.
std::string first_difference(const program& p, const program& q) {
  if (p.lines.size() != q.lines.size())
    return "line counts " + std::to_string(p.lines.size()) + " and " + std::to_string(q.lines.size());
  for (std::size_t i = 0; i < p.lines.size(); ++i)
    if (!wrapgraph::equal(p.lines[i], q.lines[i]))
      return "line " + std::to_string(i) + ":\n  " + wrapgraph::to_string(p.lines[i]) + "\n  " +
             wrapgraph::to_string(q.lines[i]);
  return "lines equal; the difference is elsewhere:\n" + io::save_program_text(p, -1) + "\n" +
         io::save_program_text(q, -1);
}

#define CHECK_EQUAL_PROGRAMS(built, loaded) CHECK_MESSAGE(wrapgraph::equal(built, loaded), first_difference(built, loaded))

const char* const cpp_add =
    "#include <cstdint>\nextern \"C\" void k_add(void** p, const int64_t* pid, const int64_t*) {\n"
    "  const float* a = *(const float**)p[0]; const float* b = *(const float**)p[1]; float* o = *(float**)p[2];\n"
    "  int32_t n = *(int32_t*)p[3];\n"
    "  for (int64_t i = pid[0] * XBLOCK; i < (pid[0] + 1) * XBLOCK && i < n; ++i) o[i] = a[i] + b[i];\n}\n";

// Defines the kernel the catalogue's programs share.
wrapgraph::kernel_builder define_add(program_builder& b, std::string name, std::string source,
                                     std::string in_type = "*fp32") {
  return b.kernel(name)
      .params({{"in_ptr0", in_type}, {"in_ptr1", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"},
               {"XBLOCK", "constexpr"}})
      .config({{"XBLOCK", 128}, {"num_warps", 4}})
      .cpp(std::move(source), name);
}

}  // namespace

TEST_CASE("program_builder writes every line sample as the JSON form loads it") {
  program_builder b;
  const sym::expr s0 = b.symbol("s0", hint(4));
  const auto s1 = b.symbol<"s1">(hint(3));
  (void)b.symbol("u0", unbacked);
  const sym::var<"XBLOCK"> XBLOCK;

  // allocate
  b.allocate("buf0", f32, cpu, shape(s0, 8));
  b.allocate("buf1", layout_of(bf16, cuda(1), shape(), strides(), s0));
  b.annotate_buffer({{"origin", "x"}}).annotate({{"line", 3}});
  // free, free_if_not_reused
  b.free("buf0");
  b.free("buf0").annotate({{"why", {"dead", 1}}});
  b.free_if_not_reused("buf0", true);
  b.free_if_not_reused("buf0", false).annotate(meta_data::object());
  // reuse
  b.reuse("buf0", "buf1", f32, cpu, shape(s0, 8), true);
  b.reuse("buf0", "buf1", layout_of(i64, cpu, shape(4), strides(2), 1), false);
  b.annotate({{"k", nullptr}});
  // reinterpret
  b.reinterpret("buf0", "buf2", shape(s0, 4), strides(1, s0), 2 * s0);
  b.reinterpret("buf0", "buf2", shape(), strides(), 0);
  b.annotate({{"x", 1}});
  // kernel_definition
  b.kernel("k_add")
      .params({{"in_ptr0", "*fp32"}, {"out_ptr0", "*fp32"}, {"xnumel", "i32"}, {"XBLOCK", "constexpr"}})
      .config({{"XBLOCK", 128}, {"num_warps", 4}})
      .cpp("extern \"C\" void k_add(void** p, const int64_t* pid, const int64_t* n) {}\n", "k_add");
  b.kernel("k_mul")
      .cpp("s", "k_mul")
      .cuda("__global__ void k_mul() {}", "k_mul")
      .cubin({"AAAA", "k_mul_0", 128, {{"*i8", 0}, {"*i8", 64}}})
      .param("x", "*fp16")
      .param("scale", "fp32")
      .param("flag", "i1")
      .constant("flag", true)
      .constant("scale", 0.5)
      .constant("n", 3)
      .constant("dims", {1, 2})
      .config({{"XBLOCK", 128}, {"num_warps", 4}, {"block", {128, 1, 1}}})
      .config({{"XBLOCK", 1024}, {"num_warps", 8}})
      .meta({{"triton", "3.0"}});
  b.kernel("k_tuned").cubin_per_config({{"QUJD", "k0", 0, {}}, {"REVG", "k1", 16, {}}}).config({{"XBLOCK", 64}}).config(
      {{"XBLOCK", 256}});
  // kernel_call
  b.call("k_add", {"arg0_1", "buf0", 8_c * s0}, grid(sym::ceil_div(8 * s0, XBLOCK), 1, 1));
  b.call("k_mul", {view("buf0", shape(s0), strides(2), 1), 3, 2.5, true, none, "s0"}, grid(4)).annotate({{"stream", 0}});
  // symbolic_call_arg
  b.symbolic_call_arg("ps0", s0 * s1);
  b.symbolic_call_arg("ps1", 7);
  b.annotate({{"a", 1}});
  // extern_kernel_out
  b.extern_out("aten.mm.out", {"arg0_1", "arg1_1"}, "buf0", {{"beta", 1}, {"alpha", 1.5}});
  auto out_view = view("buf0", shape(2), strides(1), s0);
  out_view.meta = {{"v", 1}};
  b.extern_out("aten.add.out", {}, out_view).annotate({{"m", 2}});
  // extern_kernel_alloc
  b.extern_alloc("aten.nonzero.default", {"arg0_1"}, "buf3");
  b.extern_alloc("aten.topk.default", {"arg0_1", 3}, "buf4", wrapgraph::extern_result_kind::multi,
                 layout_of(i64, cuda0, shape("u0", 2)), {{"dim", -1}, {"largest", true}, {"sorted", nullptr}});
  b.annotate({{"x", meta_data::array()}});
  b.extern_alloc("aten._assert_async.msg", {"buf1", "message"}, "buf5", wrapgraph::extern_result_kind::none);
  // multi_output
  b.multi_output("buf6", "buf4", {0, 1});
  b.multi_output("buf7", "buf4", {});
  b.annotate(meta_data::object());
  // conditional
  b.conditional("buf8", "arg2_1", "true_graph_0", "false_graph_0", {"arg0_1", s0});
  b.conditional("buf8", true, "t", "f", {});
  b.annotate({{"c", 1}});
  // dynamic_scalar
  b.dynamic_scalar("buf6", "u0");
  b.dynamic_scalar(view("buf6", shape(), strides()), "u1", {"convert_int"});
  b.annotate({{"d", 0}});
  // unbacked_symbol_defs
  b.unbacked_symbol_defs("buf7", {{"u2", {key::size(0)}},
                                  {"u1", {key::stride(1), key::divide_by(2)}},
                                  {"u3", {key::element(0), key::size()}},
                                  {"u4", {key::storage_offset()}},
                                  {"u5", {}}});
  b.unbacked_symbol_defs("buf7", {}).annotate({{"u", 1}});
  // scatter_fallback
  b.scatter("aten.scatter_", "buf0", 0, "arg1_1", 1.5);
  b.scatter("aten.scatter_reduce_", "buf0", -1, "arg1_1", "buf1", "sum").annotate({{"r", "sum"}});
  b.scatter("aten.scatter_", "buf0", 1, "arg1_1", 2, std::nullopt);
  // index_put_fallback
  b.index_put("buf0", {none, "arg1_1"}, "arg2_1", true);
  b.index_put("buf0", {}, 0.0, false).annotate({{"i", 2}});
  // comm_buffer_allocate, comm_buffer_free
  b.comm_buffer_allocate("buf9", f32, cuda0, shape(1024), "symm_mem", "0");
  b.comm_buffer_allocate("buf9", layout_of(u8, cuda0, shape(s0)), "nccl", "tp");
  b.annotate({{"g", 0}});
  b.comm_buffer_free("buf9");
  b.comm_buffer_free("buf9").annotate({{"f", 1}});
  // lines with no effect
  b.comment();
  b.comment("# Topologically Sorted Source Nodes: [add]").annotate({{"c", 1}});
  b.null_line();
  b.null_line("").annotate({{"n", 1}});
  b.line_context();
  b.line_context("with torch.cuda._DeviceGuard(0):");
  b.enter_device_context();
  b.enter_device_context(1).annotate({{"e", 1}});
  b.exit_device_context();
  b.exit_device_context(0);
  b.enter_subgraph();
  b.enter_subgraph("true_graph_0").annotate({{"s", 1}});
  b.exit_subgraph();
  b.exit_subgraph("true_graph_0");
  const program built = b.build();

  std::string lines;
  for (const wrapgraph::test::line_sample& s : wrapgraph::test::line_samples())
    lines += (lines.empty() ? "" : ", ") + std::string(s.json);
  const program loaded = io::load_program_text(wrapgraph::test::program_with_line(lines));
  REQUIRE(built.lines.size() == wrapgraph::test::line_samples().size());
  CHECK_EQUAL_PROGRAMS(built, loaded);

  SUBCASE("every line kind is among them") {
    std::vector<bool> seen(wrapgraph::line_kind_count);
    for (const wrapgraph::line& l : built.lines) seen[l.index()] = true;
    for (std::size_t i = 0; i < seen.size(); ++i) CHECK_MESSAGE(seen[i], "line kind ", i, " was not built");
  }
  SUBCASE("the law is not vacuous: one changed line makes the programs differ") {
    program other = built;
    std::get<wrapgraph::kernel_call_line>(other.lines[13]).grid[1] = other.ctx->integer(2);
    CHECK_FALSE(wrapgraph::equal(other, loaded));
  }
}

TEST_CASE("program_builder rebuilds the catalogue's torch.cond program with subgraphs") {
  program_builder b("cond_multi");
  b.input("arg0_1", boolean, cpu, shape());
  b.input("arg1_1", f32, cpu, shape(4));
  b.input("arg2_1", f32, cpu, shape(4));
  program_builder& t = b.subgraph("true_graph_0");
  program_builder& f = b.subgraph("false_graph_0");
  CHECK(&t.context() == &b.context());
  CHECK(&f.context() == &b.context());

  for (program_builder* g : {&t, &f}) {
    const bool is_true = g == &t;
    auto a = g->input("arg0_1", f32, cpu, shape(4));
    auto c = g->input("arg1_1", f32, cpu, shape(4));
    auto k = define_add(*g, is_true ? "k_add" : "k_sub", is_true ? cpp_add : "// kernel source");
    auto buf0 = g->allocate("buf0", f32, cpu, shape(4));
    g->call(k, {a, c, buf0, 4}, grid(1));
    auto buf1 = g->allocate("buf1", f32, cpu, shape(4));
    g->call(k, {is_true ? a : c, is_true ? a : a, buf1, 4}, grid(1));
    g->outputs(buf0, buf1);
  }
  const std::string result = b.conditional("buf0", "arg0_1", t, f, {"arg1_1", "arg2_1"});
  CHECK(result == "buf0");
  const std::string first = b.multi_output("buf1", result, {0});
  b.multi_output("buf2", result, {1});
  b.outputs(first, "buf2");
  b.meta({{"about", "torch.cond with two operands and two outputs"},
          {"expect",
           {{"targets", {{"higher_order.cond", 1}, {"operator.getitem", 2}}},
            {"get_attrs", 2},
            {"placeholders", 3},
            {"outputs", 2},
            {"subgraph_outputs", {{"true_graph_0", 2}, {"false_graph_0", 2}}}}}});
  const program built = b.build();

  REQUIRE(built.subgraphs.size() == 2);
  CHECK(built.subgraphs[0].name == "true_graph_0");
  CHECK(built.subgraphs[0].body.name == "true_graph_0");
  CHECK(built.subgraphs[1].body.ctx == built.ctx);
  const program loaded = io::load_program_text(read_program_text("cond_multi.json"));
  CHECK_EQUAL_PROGRAMS(built, loaded);

  const wrapgraph::graph::graph g = wrapgraph::convert(built);
  const std::string python = wrapgraph::graph::to_python(g);
  CHECK(python.find("torch.ops.higher_order.cond(arg0_1, true_graph_0, false_graph_0") != std::string::npos);
  CHECK(python.find("class true_graph_0(torch.nn.Module):") != std::string::npos);
  CHECK(python == wrapgraph::graph::to_python(wrapgraph::convert(loaded)));
}

TEST_CASE("program_builder rebuilds the catalogue's nonzero program with an unbacked symbol") {
  program_builder b("nonzero_unbacked");
  const auto u0 = b.symbol<"u0">(unbacked);
  static_assert(std::same_as<std::remove_const_t<decltype(u0)>, sym::var<"u0", sym::unbacked>>);
  auto x = b.input("arg0_1", f32, cpu, shape(8));
  const std::string buf0 = b.extern_alloc("aten.nonzero.default", {x}, "buf0", layout_of(i64, cpu, shape(u0, 1_c)));
  b.unbacked_symbol_defs(buf0, {{"u0", {key::size(0)}}});
  auto buf1 = b.allocate("buf1", i64, cpu, shape(u0));
  auto k = b.kernel("k_first")
               .params({{"in_ptr0", "*i64"}, {"out_ptr0", "*i64"}, {"xnumel", "i32"}, {"XBLOCK", "constexpr"}})
               .config({{"XBLOCK", 128}, {"num_warps", 4}})
               .cpp("// kernel source", "k_first");
  b.call(k, {buf0, buf1, u0}, grid("CeilDiv(xnumel, XBLOCK)"));
  b.outputs(buf1);
  b.meta({{"about", "torch.nonzero(x)[:, 0]: an unbacked length u0"},
          {"expect",
           {{"targets", {{"aten.nonzero.default", 1}, {"aten.sym_size.int", 1}, {"torch.empty_strided", 1}}},
            {"placeholders", 1}}}});
  const program built = b.build();
  const program loaded = io::load_program_text(read_program_text("nonzero_unbacked.json"));
  CHECK_EQUAL_PROGRAMS(built, loaded);
  CHECK(wrapgraph::graph::to_python(wrapgraph::convert(built)) ==
        wrapgraph::graph::to_python(wrapgraph::convert(loaded)));
}

TEST_CASE("program_builder rebuilds the catalogue's program with a constant tensor") {
  program_builder b("constants");
  auto x = b.input("arg0_1", f32, cpu, shape(3));
  auto c = b.constant("_tensor_constant0", f32, cpu, shape(3), {1, 2, 3});
  CHECK(c.name == "_tensor_constant0");
  auto k = define_add(b, "k_add", cpp_add);
  auto buf0 = b.allocate("buf0", f32, cpu, shape(3));
  b.call(k, {x, c, buf0, 3}, grid(1));
  b.outputs(buf0);
  b.meta({{"about", "x + a constant tensor"},
          {"expect", {{"targets", {{"wrapgraph.kernel_call", 1}}}, {"get_attrs", 1}, {"placeholders", 1}}}});
  const program built = b.build();
  CHECK_EQUAL_PROGRAMS(built, io::load_program_text(read_program_text("constants.json")));
}

TEST_CASE("program_builder writes every input kind, examples and outputs of every ref kind") {
  program_builder b("inputs");
  const sym::expr s0 = b.symbol("s0", hint(5));
  CHECK(b.symbol_input("s0") == s0);
  const sym::expr s9 = b.symbol_input("s9");  // undeclared: any integer, as the JSON reader makes it
  CHECK(s9.symbol_assumptions() == sym::any_integer);
  CHECK(b.int_input("k", 3) == "k");
  CHECK(b.none_input("unused") == "unused");
  auto x = b.input("arg0_1", f64, cpu, shape(s0, 2), strides(1, s0));
  b.input("arg1_1", layout_of(i32, cuda(2), shape(3), strides(2), 1));
  b.constant("c0", layout_of(f16, cpu, shape(2, 2), strides(1, 2)), {0.5, 1, 2, 3});
  b.outputs(x, s0 * 2, 3, 2.5, false, nullptr, view(x, shape(s0), strides(1), 1_c));
  b.example({{"bind", {{"s0", 5}}}, {"inputs", {{"s0", 5}}}, {"outputs", meta_data::array()}, {"raises", "wrapgraph.runtime"}});
  b.meta({{"m", 1}});
  const program built = b.build();
  const program loaded = io::load_program_text(R"({
    "format": "wrapgraph/1", "name": "inputs", "symbols": {"s0": {"hint": 5}},
    "inputs": [
      {"kind": "symbol", "name": "s0"},
      {"kind": "symbol", "name": "s9"},
      {"kind": "int", "name": "k", "value": 3},
      {"kind": "none", "name": "unused"},
      {"kind": "tensor", "name": "arg0_1", "dtype": "float64", "device": "cpu", "size": ["s0", 2], "stride": [1, "s0"]},
      {"kind": "tensor", "name": "arg1_1", "dtype": "int32", "device": "cuda:2", "size": [3], "stride": [2], "offset": 1}],
    "constants": [{"name": "c0", "dtype": "float16", "device": "cpu", "size": [2, 2], "stride": [1, 2],
                   "data": [0.5, 1, 2, 3]}],
    "outputs": ["arg0_1", {"expr": "2*s0"}, 3, 2.5, false, null,
                {"view": {"input": "arg0_1", "size": ["s0"], "stride": [1], "offset": 1}}],
    "examples": [{"bind": {"s0": 5}, "inputs": {"s0": 5}, "outputs": [], "raises": "wrapgraph.runtime"}],
    "meta": {"m": 1}})");
  CHECK_EQUAL_PROGRAMS(built, loaded);
}

TEST_CASE("one shape mixes runtime exprs, integers, expression templates and text") {
  program_builder b;
  sym::context& ctx = b.context();
  const sym::expr n = b.symbol("n", hint(4));
  const auto t0 = b.symbol<"t0">(hint(3));
  static_assert(std::same_as<std::remove_const_t<decltype(t0)>, sym::var<"t0", sym::positive>>);
  const auto buf = b.allocate("buf", f32, cpu, shape(n, 8, 8_c, 2_c * t0 + 1_c, std::int8_t{3}, "Max(n, 2)", n * t0));
  const sym::expr t = ctx.find_symbol("t0");
  REQUIRE_FALSE(t.is_null());
  CHECK(t.symbol_assumptions() == sym::positive);
  const std::vector<sym::expr> expected{n, ctx.integer(8), ctx.integer(8), 2 * t + 1, ctx.integer(3),
                                        ctx.max(n, ctx.integer(2)), n * t};
  CHECK(buf.layout.size == expected);
  CHECK(buf.layout.stride == wrapgraph::layout::contiguous_strides(ctx, expected));
  CHECK(buf.layout.offset == ctx.integer(0));

  SUBCASE("a braced list and a vector of exprs are shapes too") {
    const auto a = b.allocate("a", f32, cpu, {n, 8_c, "n + 1"});
    CHECK(a.layout.size == std::vector<sym::expr>{n, ctx.integer(8), n + 1});
    const auto v = b.allocate("v", f32, cpu, expected);
    CHECK(v.layout.size == expected);
  }
  SUBCASE("call arguments: a typed tree is a symbolic argument, an integer a constant") {
    b.call("k", {2_c * t0, 2, "buf"}, grid(1));
    const auto& call = std::get<wrapgraph::kernel_call_line>(b.current().lines.back());
    REQUIRE(call.args.size() == 3);
    CHECK(std::get<wrapgraph::expr_ref>(call.args[0]).value == 2 * t);
    CHECK(std::get<std::int64_t>(call.args[1]) == 2);
    CHECK(std::get<wrapgraph::name_ref>(call.args[2]).name == "buf");
  }
  SUBCASE("names that no declaration covers are any-integer symbols, as in JSON") {
    const sym::expr g = b.expr(sym::ceil_div(sym::var<"xnumel">{}, sym::var<"XBLOCK">{}));
    CHECK(g == b.parse("CeilDiv(xnumel, XBLOCK)"));
    CHECK(ctx.find_symbol("XBLOCK").symbol_assumptions() == sym::any_integer);
    const sym::expr ps0 = b.symbolic_call_arg("ps0", n * 2);
    CHECK(ps0 == ctx.find_symbol("ps0"));
    CHECK(b.dynamic_scalar("buf", "u7").symbol_assumptions() == sym::any_integer);
  }
}

TEST_CASE("kernel_builder completes its definition line in place and names the kernel") {
  program_builder b;
  auto k = b.kernel("k");
  b.comment("after");
  k.param("x", "*fp32").config({{"XBLOCK", 64}}).cpp("src", "k");
  CHECK(k.name() == "k");
  CHECK(k.definition().signature.size() == 1);
  const program p = b.build();
  REQUIRE(p.lines.size() == 2);
  const auto& def = std::get<wrapgraph::kernel_definition_line>(p.lines[0]);
  CHECK(def.implementations.cpp->entry == "k");
  REQUIRE(def.configs.size() == 1);
  CHECK(std::get<std::int64_t>(def.configs[0][0].second) == 64);
}

TEST_CASE("program_builder::build hands the program over and leaves an empty builder") {
  program_builder b("p");
  (void)b.symbol("s0", hint(2));
  b.comment("x");
  (void)b.subgraph("g");
  const program first = b.build();
  CHECK(first.lines.size() == 1);
  CHECK(first.subgraphs.size() == 1);
  CHECK(b.current().lines.empty());
  CHECK(b.current().symbols.empty());
  CHECK(b.name() == "p");
  CHECK(b.current().ctx == first.ctx);
  // The context keeps s0, so declaring it again in the new program is allowed.
  CHECK(b.symbol("s0", hint(2)) == first.ctx->find_symbol("s0"));
}

TEST_CASE("a built program converts to the graph the JSON form converts to") {
  program_builder b;
  const auto s0 = b.symbol<"s0">(hint(8));
  auto x = b.input("arg0_1", f32, cpu, shape(s0));
  auto y = b.input("arg1_1", f32, cpu, shape(s0));
  auto k = define_add(b, "k_add", "...");
  auto buf0 = b.allocate("buf0", f32, cpu, shape(s0));
  b.call(k, {x, y, buf0, s0}, grid(sym::ceil_div(sym::var<"xnumel">{}, sym::var<"XBLOCK">{}), 1, 1));
  b.free(x);
  b.outputs(view(buf0, shape(sym::floor_div(s0, 2_c), 2), strides(2, 1)));
  const wrapgraph::graph::graph g = wrapgraph::convert(b.build());
  const std::string python = wrapgraph::graph::to_python(g);
  CHECK(python ==
        "def forward(self, arg0_1, arg1_1):\n"
        "    sym_size_int = torch.ops.aten.sym_size.int(arg0_1, 0)\n"
        "    buf0 = torch.empty_strided((sym_size_int,), (1,), dtype = torch.float32, device = 'cpu')\n"
        "    ceil_div = wrapgraph.ceil_div(sym_size_int, 128)\n"
        "    k_add = wrapgraph.kernel_call(kernel = 'k_add', grid = (ceil_div, 1, 1), config = {'XBLOCK': 128, "
        "'num_warps': 4}, args = [arg0_1, arg1_1, buf0, sym_size_int]);  ceil_div = arg0_1 = arg1_1 = k_add = None\n"
        "    floordiv = sym_size_int // 2;  sym_size_int = None\n"
        "    buf0_view = torch.as_strided(buf0, (floordiv, 2), (2, 1), 0);  buf0 = floordiv = None\n"
        "    return buf0_view\n");
}

TEST_CASE("program_builder's errors carry the ids the JSON form gives the same mistakes") {
  program_builder b;
  (void)b.symbol("s0", hint(8));

  SUBCASE("a symbol declared twice in one program") {
    CHECK_THROWS_WITH_AS((void)b.symbol("s0", unbacked),
                         "[wrapgraph.json.duplicate_name] symbol 's0' is given twice in program 'main'",
                         wrapgraph::program_error);
  }
  SUBCASE("a subgraph, keyword argument or binding named twice") {
    (void)b.subgraph("g");
    CHECK_THROWS_AS((void)b.subgraph("g"), wrapgraph::program_error);
    try {
      b.extern_out("aten.add.out", {}, "buf0", {{"alpha", 1}, {"alpha", 2}});
      FAIL("no error");
    } catch (const wrapgraph::program_error& e) {
      CHECK(e.id() == "wrapgraph.json.duplicate_name");
      CHECK(e.message().find("keyword argument 'alpha'") != std::string::npos);
    }
    CHECK_THROWS_AS(b.unbacked_symbol_defs("buf0", {{"u0", {key::size(0)}}, {"u0", {key::size(1)}}}),
                    wrapgraph::program_error);
  }
  SUBCASE("a hint below 1, or below 0 when unbacked") {
    try {
      (void)b.symbol("s1", hint(0));
      FAIL("no error");
    } catch (const wrapgraph::program_error& e) {
      CHECK(e.id() == "wrapgraph.json.bad_value");
    }
    CHECK_THROWS_AS((void)b.symbol("u1", wrapgraph::symbol_decl{-1, true, {}}), wrapgraph::program_error);
    CHECK_NOTHROW((void)b.symbol("u2", wrapgraph::symbol_decl{0, true, {}}));
  }
  SUBCASE("a typed var whose assumptions are not the declaration's") {
    try {
      (void)b.allocate("buf0", f32, cpu, shape(sym::var<"s0">{}));
      FAIL("no error");
    } catch (const wrapgraph::sym_error& e) {
      CHECK(e.id() == "wrapgraph.sym.symbol_redeclared");
      CHECK(e.message().find("sym::var<\"s0\", sym::positive>") != std::string::npos);
    }
    CHECK_NOTHROW((void)b.allocate("buf0", f32, cpu, shape(sym::var<"s0", sym::positive>{})));
  }
  SUBCASE("expression text that does not parse") {
    CHECK_THROWS_AS((void)b.allocate("buf0", f32, cpu, shape("s0 +")), wrapgraph::sym_error);
  }
  SUBCASE("what a program means is the converter's to check, as for a loaded program") {
    b.free("buf_never_allocated");
    const program p = b.build();
    try {
      (void)wrapgraph::convert(p);
      FAIL("no error");
    } catch (const wrapgraph::program_error& e) {
      CHECK(e.id() == "wrapgraph.program.unknown_buffer");
    }
  }
}

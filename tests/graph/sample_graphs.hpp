// Graphs built by hand for the tests of include/wrapgraph/graph/ and for
// print_samples (the Python validity check): one covering every call target
// of spec/graph-format.md, one with a conditional, one with awkward values.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/sym/context.hpp>

namespace wrapgraph::graph::testing {

inline tensor_meta tensor(dtype t, const std::vector<sym::expr>& size, const std::vector<sym::expr>& stride,
                          sym::expr offset, device dev = cpu) {
  return {t, dev, expr_list(size.begin(), size.end()), expr_list(stride.begin(), stride.end()), offset};
}

// One branch of a conditional: an input, a buffer a kernel writes, and the
// branch's output list.
inline graph branch(const std::shared_ptr<sym::context>& ctx, const char* kernel, bool launches) {
  sym::context& c = *ctx;
  const sym::expr s0 = c.symbol("s0", sym::positive);
  graph b(ctx);
  const tensor_meta m = tensor(dtype::float32, {s0, c.integer(8)}, {c.integer(8), c.integer(1)}, c.integer(0));
  const vertex in = b.placeholder("arg0_1", m);
  const vertex size = b.call("aten.sym_size.int", "sym_size_int", {node_ref{in}, 0}, {}, int_meta{s0});
  if (!launches) {
    const vertex view = b.call("torch.as_strided", "buf0",
                               {node_ref{in}, argument_list{node_ref{size}, 8}, argument_list{8, 1}, 0}, {}, m);
    b.set_output(argument_list{node_ref{view}});
    return b;
  }
  const vertex buf = b.call("torch.empty_strided", "buf0", {argument_list{node_ref{size}, 8}, argument_list{8, 1}},
                            {{"dtype", "float32"}, {"device", "cpu"}}, m);
  b.call("wrapgraph.kernel_call", "kernel_call", {},
         {{"kernel", kernel},
          {"grid", argument_list{node_ref{size}, 1, 1}},
          {"config", argument_map{{"XBLOCK", 8}}},
          {"args", argument_list{node_ref{in}, node_ref{buf}}}});
  b.set_output(argument_list{node_ref{buf}});
  return b;
}

// Every target of the table in spec/graph-format.md, as the converter would
// produce them from one program; the parent returns several values (a list).
inline graph every_target() {
  graph g;
  sym::context& c = *g.context();
  const sym::expr s0 = c.symbol("s0", sym::positive), s1 = c.symbol("s1", sym::positive);
  const sym::expr u0 = c.symbol("u0", {sym::sign_kind::any, true});
  const sym::expr zero = c.integer(0), one = c.integer(1), eight = c.integer(8);
  const tensor_meta x_meta = tensor(dtype::float32, {s0, eight}, {eight, one}, zero);
  const tensor_meta w_meta = tensor(dtype::float32, {eight, eight}, {eight, one}, zero);

  const vertex x = g.placeholder("arg0_1", x_meta);
  const vertex w = g.placeholder("arg1_1", w_meta);
  const vertex idx = g.placeholder("arg2_1", tensor(dtype::int64, {s0}, {one}, zero));
  const vertex pred = g.placeholder("arg3_1", tensor(dtype::bool_, {}, {}, zero));
  const vertex sym1 = g.placeholder("s1", int_meta{s1});

  const vertex size0 = g.call("aten.sym_size.int", "sym_size_int", {node_ref{x}, 0}, {}, int_meta{s0});
  const vertex stride0 = g.call("aten.sym_stride.int", "sym_stride_int", {node_ref{x}, 0}, {}, int_meta{eight});
  const vertex offset = g.call("aten.sym_storage_offset.default", "sym_storage_offset_default", {node_ref{x}}, {},
                               int_meta{zero});
  const vertex add = g.call("operator.add", "add", {node_ref{size0}, 1}, {}, int_meta{s0 + 1});
  const vertex sub = g.call("operator.sub", "sub", {node_ref{sym1}, node_ref{offset}}, {}, int_meta{s1});
  const vertex mul = g.call("operator.mul", "mul", {node_ref{size0}, node_ref{stride0}}, {}, int_meta{s0 * 8});
  const vertex fdiv = g.call("operator.floordiv", "floordiv", {node_ref{mul}, 3}, {}, int_meta{c.floor_div(s0 * 8, c.integer(3))});
  const vertex mod = g.call("operator.mod", "mod", {node_ref{size0}, 4}, {}, int_meta{c.mod(s0, c.integer(4))});
  const vertex pow = g.call("operator.pow", "pow", {node_ref{size0}, 2}, {}, int_meta{c.pow(s0, c.integer(2))});
  const vertex neg = g.call("operator.neg", "neg", {node_ref{sub}}, {}, int_meta{-s1});
  const vertex smin = g.call("torch.sym_min", "sym_min", {node_ref{size0}, node_ref{sub}}, {}, int_meta{c.min(s0, s1)});
  const vertex smax = g.call("torch.sym_max", "sym_max", {node_ref{fdiv}, node_ref{mod}}, {},
                             int_meta{c.max(c.floor_div(s0 * 8, c.integer(3)), c.mod(s0, c.integer(4)))});
  const vertex absv = g.call("operator.abs", "abs", {node_ref{neg}}, {}, int_meta{s1});
  const vertex blocks = g.call("wrapgraph.ceil_div", "ceil_div", {node_ref{mul}, 128}, {},
                               int_meta{c.ceil_div(s0 * 8, c.integer(128))});

  const vertex buf0 = g.call("torch.empty_strided", "buf0", {argument_list{node_ref{size0}, 8}, argument_list{8, 1}},
                             {{"dtype", "float32"}, {"device", "cpu"}}, x_meta);
  const vertex view = g.call("torch.as_strided", "buf0_view",
                             {node_ref{buf0}, argument_list{node_ref{mul}}, argument_list{1}, 0}, {},
                             tensor(dtype::float32, {s0 * 8}, {one}, zero));
  g.call("wrapgraph.kernel_call", "kernel_call", {},
         {{"kernel", "k_add"},
          {"grid", argument_list{node_ref{blocks}, 1, 1}},
          {"config", argument_map{{"XBLOCK", 128}, {"num_warps", 4}, {"block", argument_list{128, 1, 1}}}},
          {"args", argument_list{node_ref{x}, node_ref{view}, node_ref{mul}}}});

  const vertex buf1 = g.call("torch.empty_strided", "buf1", {argument_list{node_ref{size0}, 8}, argument_list{8, 1}},
                             {{"dtype", "float32"}, {"device", "cpu"}}, x_meta);
  g.call("aten.addmm.out", "addmm", {node_ref{w}, node_ref{buf0}, node_ref{w}},
         {{"alpha", 1}, {"beta", 0.5}, {"out", node_ref{buf1}}});
  const vertex buf2 = g.call("aten.mm.default", "buf2", {node_ref{buf1}, node_ref{w}}, {}, x_meta);
  const vertex topk = g.call("aten.topk.default", "buf3", {node_ref{buf2}, 2});
  const vertex values = g.call("operator.getitem", "buf4", {node_ref{topk}, 0},
                               {}, tensor(dtype::float32, {s0, c.integer(2)}, {c.integer(2), one}, zero));
  const vertex indices = g.call("operator.getitem", "buf5", {node_ref{topk}, 1}, {},
                                tensor(dtype::int64, {s0, c.integer(2)}, {c.integer(2), one}, zero));
  g.call("aten.scatter_.value_reduce", "scatter", {node_ref{buf2}, 0, node_ref{indices}, 1.5}, {{"reduce", "add"}});
  g.call("aten.index_put_.default", "index_put", {node_ref{buf2}, argument_list{node_ref{idx}, argument{}}, node_ref{values}, true});
  const vertex item = g.call("aten.item.default", "item", {node_ref{pred}}, {}, int_meta{u0});
  const vertex where = g.call("aten.where.Scalar", "where", {node_ref{pred}, 1, 0}, {},
                              tensor(dtype::int64, {}, {}, zero));
  const vertex comm = g.call("wrapgraph.comm_buffer_allocate", "buf6",
                             {argument_list{node_ref{size0}, 8}, argument_list{8, 1}},
                             {{"dtype", "float32"}, {"device", "cuda"}, {"comm_type", "symm_mem"}, {"group", "0"}},
                             tensor(dtype::float32, {s0, eight}, {eight, one}, zero, cuda0));

  g.subgraphs().push_back({"true_graph_0", branch(g.context(), "k_true", true)});
  g.subgraphs().push_back({"false_graph_0", branch(g.context(), "k_false", false)});
  const vertex t = g.get_attr("true_graph_0");
  const vertex f = g.get_attr("false_graph_0");
  const vertex cond = g.call("higher_order.cond", "cond",
                             {node_ref{pred}, node_ref{t}, node_ref{f}, argument_list{node_ref{buf2}}});
  const vertex buf7 = g.call("operator.getitem", "buf7", {node_ref{cond}, 0}, {}, x_meta);

  g.set_output(argument_list{node_ref{buf2}, node_ref{buf7}, node_ref{add}, node_ref{pow}, node_ref{smin},
                             node_ref{smax}, node_ref{absv}, node_ref{item}, node_ref{where}, node_ref{comm}});
  return g;
}

// A conditional whose branches nest another conditional; one branch's kernel
// is its only effect.
inline graph nested_cond() {
  graph g;
  const auto& ctx = g.context();
  const sym::expr s0 = ctx->symbol("s0", sym::positive);
  const tensor_meta m = tensor(dtype::float32, {s0, ctx->integer(8)}, {ctx->integer(8), ctx->integer(1)}, ctx->integer(0));

  graph inner_true = branch(ctx, "k_inner", true);
  graph outer_true(ctx);
  {
    const vertex p = outer_true.placeholder("pred");
    const vertex a = outer_true.placeholder("arg0_1", m);
    outer_true.subgraphs().push_back({"true_graph_1", std::move(inner_true)});
    outer_true.subgraphs().push_back({"false_graph_1", branch(ctx, "unused", false)});
    const vertex t = outer_true.get_attr("true_graph_1");
    const vertex f = outer_true.get_attr("false_graph_1");
    const vertex cond = outer_true.call("higher_order.cond", "cond",
                                        {node_ref{p}, node_ref{t}, node_ref{f}, argument_list{node_ref{a}}});
    const vertex r = outer_true.call("operator.getitem", "buf0", {node_ref{cond}, 0}, {}, m);
    outer_true.set_output(argument_list{node_ref{r}});
  }
  graph outer_false(ctx);
  {
    outer_false.placeholder("pred");
    const vertex a = outer_false.placeholder("arg0_1", m);
    outer_false.set_output(argument_list{node_ref{a}});
  }
  const vertex p = g.placeholder("pred", tensor(dtype::bool_, {}, {}, ctx->integer(0)));
  const vertex a = g.placeholder("arg0_1", m);
  g.subgraphs().push_back({"true_graph_0", std::move(outer_true)});
  g.subgraphs().push_back({"false_graph_0", std::move(outer_false)});
  const vertex t = g.get_attr("true_graph_0");
  const vertex f = g.get_attr("false_graph_0");
  const vertex cond = g.call("higher_order.cond", "cond",
                             {node_ref{p}, node_ref{t}, node_ref{f}, argument_list{node_ref{p}, node_ref{a}}});
  const vertex r = g.call("operator.getitem", "buf1", {node_ref{cond}, 0}, {}, m);
  g.set_output(node_ref{r});
  return g;
}

// Values that are awkward to print: quotes and backslashes in strings,
// special floats, None, bools, negative numbers, reserved names, a target
// that is no Python name, an empty graph body.
inline graph awkward_values() {
  graph g;
  const vertex x = g.placeholder("self");   // becomes self_1
  const vertex y = g.placeholder("lambda");  // becomes lambda_1
  const vertex z = g.placeholder("2d-input");  // becomes _2d_input
  const vertex s = g.call("custom.op-with-dash", "weird", {node_ref{x}, "it's \"quoted\" \\ \n", -3},
                          {{"scale", 1e-5}, {"inf", std::numeric_limits<double>::infinity()}, {"nan", std::numeric_limits<double>::quiet_NaN()}, {"big", 1e300}, {"two", 2.0}});
  const vertex p = g.call("operator.pow", "pow", {-2, node_ref{y}});
  const vertex n = g.call("operator.neg", "neg", {-1});
  const vertex tup = g.call("torch.as_strided", "view", {node_ref{z}, argument_list{}, argument_list{}, 0});
  const vertex flags = g.call("torch.ops.mylib.flags.default", "flags", {true, false, argument{}, argument_map{}},
                              {{"nested", argument_list{argument_list{1, 2}, argument_map{{"k", node_ref{p}}}}}});
  g.set_output(argument_list{node_ref{s}, node_ref{n}, node_ref{tup}, node_ref{flags}, argument{}, 7});
  return g;
}

// Placeholders only, returning nothing.
inline graph identity() {
  graph g;
  g.placeholder("x");
  g.set_output(argument{});
  return g;
}

}  // namespace wrapgraph::graph::testing

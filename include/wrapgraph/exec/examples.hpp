#pragma once
/// Running a program's embedded examples (test vectors of the program
/// format): inputs built with the declared layouts, outputs compared in
/// size, dtype and data within tolerance, expected errors matched by id.

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/sym/eval.hpp>

namespace wrapgraph::exec {

/// The outcome of one example.
struct example_result {
  std::size_t index = 0;
  bool passed = false;
  std::string message;  ///< what differed, or "ok"
};

namespace detail {

[[noreturn]] inline void bad_example(std::size_t index, const std::string& message) {
  throw program_error("wrapgraph.example.malformed", "example " + std::to_string(index) + ": " + message);
}

// A zeroed host tensor with `layout` at the symbol values; `unbound(name)`
// is called first for a symbol without a value (if it returns, evaluating
// reports the symbol).
template <class Unbound>
tensor host_tensor(const tensor_layout& layout, const sym::bindings& values, Unbound&& unbound) {
  auto eval = [&](sym::expr e) -> std::int64_t {
    if (!e) return 0;
    for (sym::expr s : sym::free_symbols(e))
      if (!values.find(s.name())) unbound(s.name());
    return sym::evaluate(e, values);
  };
  extents size, stride;
  for (const sym::expr& e : layout.size) size.push_back(eval(e));
  for (const sym::expr& e : layout.stride) stride.push_back(eval(e));
  const std::int64_t offset = eval(layout.offset);
  tensor t = empty_strided(*std::make_shared<host_memory>(), layout.type, std::move(size), std::move(stride), offset);
  std::memset(t.storage()->data(), 0, t.storage()->bytes());
  return t;
}

// The input tensor of an example: the declared layout at the bound symbols,
// filled with the logical elements of `data`.
template <backend B>
tensor example_tensor(B& b, const tensor_input& in, const nlohmann::ordered_json& data, const sym::bindings& values,
                      std::size_t index) {
  tensor staged = host_tensor(in.layout, values, [](std::string_view) {});
  if (!data.is_array() || static_cast<std::int64_t>(data.size()) != staged.numel())
    throw run_error("wrapgraph.run.example_input", "example " + std::to_string(index) + ": input '" + in.name +
                                                       "' has " + std::to_string(data.is_array() ? data.size() : 0) +
                                                       " elements for a layout of " + std::to_string(staged.numel()));
  if (const std::int64_t bad = fill_from_json(staged, data); bad >= 0)
    bad_example(index, "input '" + in.name + "' element " + std::to_string(bad) + " is not a number");
  return on_backend(b, std::move(staged));
}

// "" when `got` matches `want`, else what differs.
template <backend B>
std::string compare_output(B& b, const value& got, const nlohmann::ordered_json& want, std::size_t k) {
  const std::string where = "output " + std::to_string(k);
  if (want.is_null()) return got.is_none() ? "" : where + ": expected None, got " + got.kind_name();
  if (want.contains("value")) {
    const std::int64_t* i = got.as_int();
    if (!i) return where + ": expected an int, got " + got.kind_name();
    return *i == want["value"].get<std::int64_t>() ? "" : where + ": expected " + want["value"].dump() + ", got " + std::to_string(*i);
  }
  const tensor* t = got.as_tensor();
  if (!t) return where + ": expected a tensor, got " + got.kind_name();
  std::vector<std::int64_t> size = want.at("size").get<std::vector<std::int64_t>>();
  if (std::vector<std::int64_t>(t->sizes().begin(), t->sizes().end()) != size) {
    std::string s;
    for (auto x : t->sizes()) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return where + ": expected size " + want.at("size").dump() + ", got [" + s + "]";
  }
  if (want.contains("dtype") && want["dtype"].get<std::string>() != to_string(t->type()))
    return where + ": expected dtype " + want["dtype"].get<std::string>() + ", got " + std::string(to_string(t->type()));
  tensor host = *t;
  if (t->dev().kind != device_kind::cpu) {
    auto mem = std::make_shared<host_memory>();
    auto storage = mem->allocate(t->storage()->bytes());
    b.to_host(storage->data(), t->storage()->data(), t->storage()->bytes());
    host = tensor(storage, t->type(), t->sizes(), t->strides(), t->offset());
  }
  const bool exact = !is_floating_point(t->type());
  const double atol = want.value("atol", exact ? 0.0 : 1e-5), rtol = want.value("rtol", exact ? 0.0 : 1e-5);
  const auto& data = want.at("data");
  if (static_cast<std::int64_t>(data.size()) != host.numel())
    return where + ": expected " + std::to_string(data.size()) + " elements, got " + std::to_string(host.numel());
  for (std::int64_t i = 0; i < host.numel(); ++i) {
    const auto& w = data[static_cast<std::size_t>(i)];
    const double expected = w.is_boolean() ? (w.get<bool>() ? 1.0 : 0.0) : w.get<double>();
    const double actual = host.get(i);
    const bool same = (std::isnan(expected) && std::isnan(actual)) || actual == expected ||
                      std::abs(actual - expected) <= atol + rtol * std::abs(expected);
    if (!same)
      return where + ": element " + std::to_string(i) + " is " + std::to_string(actual) + ", expected " +
             std::to_string(expected);
  }
  return "";
}

}  // namespace detail

/// Inputs for `p` filled deterministically from `seed` (floats uniform in
/// [-1, 1), ints in [0, 8), bools alternating at random), with the sizes its
/// symbols take in `values` (then their hints); symbol inputs take their
/// values. A symbol with neither is `wrapgraph.run.unbound_symbol`.
template <backend B>
std::vector<value> seeded_inputs(const program& p, B& b, sym::bindings values, std::uint64_t seed) {
  for (const auto& [name, decl] : p.symbols)
    if (decl.hint && !values.find(name)) values.set(name, *decl.hint);
  std::mt19937_64 random(seed);
  std::vector<value> inputs;
  for (const input& in : p.inputs) {
    const std::string& name = name_of(in);
    if (const auto* t = std::get_if<tensor_input>(&in)) {
      tensor staged = detail::host_tensor(t->layout, values, [&](std::string_view symbol) {
        throw run_error("wrapgraph.run.unbound_symbol", "input '" + name + "' needs a value for " + std::string(symbol) +
                                                            " (--bind " + std::string(symbol) + "=N, or a hint)");
      });
      for (std::int64_t i = 0; i < staged.numel(); ++i) {
        if (t->layout.type == dtype::bool_) staged.set(i, static_cast<double>(random() & 1));
        else if (is_floating_point(t->layout.type))
          staged.set(i, static_cast<double>(random() >> 11) * 0x1.0p-52 - 1.0);
        else staged.set_int(i, static_cast<std::int64_t>(random() % 8));
      }
      inputs.emplace_back(detail::on_backend(b, std::move(staged)));
    } else if (const auto* i = std::get_if<int_input>(&in)) {
      inputs.emplace_back(i->value);
    } else if (std::holds_alternative<symbol_input>(in)) {
      const auto v = values.find(name);
      if (!v) throw run_error("wrapgraph.run.unbound_symbol", "symbol input '" + name + "' needs --bind " + name + "=N or a hint");
      inputs.emplace_back(*v);
    } else {
      inputs.emplace_back();
    }
  }
  return inputs;
}

/// The inputs example `ex` (number `index`, for messages) of `p` gives, on
/// `b`'s device: tensors with the declared layouts at the example's symbol
/// values, filled with its data.
template <backend B>
std::vector<value> example_inputs(const program& p, B& b, const nlohmann::ordered_json& ex, std::size_t index = 0) {
  sym::bindings values;
  if (ex.contains("bind"))
    for (auto it = ex["bind"].begin(); it != ex["bind"].end(); ++it) values.set(it.key(), it.value().template get<std::int64_t>());
  const auto& given = ex.contains("inputs") ? ex["inputs"] : nlohmann::ordered_json::object();
  // Symbol inputs bind too.
  for (const input& in : p.inputs)
    if (const auto* s = std::get_if<symbol_input>(&in); s && given.contains(s->name))
      values.set(s->name, given[s->name].template get<std::int64_t>());
  std::vector<value> inputs;
  for (const input& in : p.inputs) {
    const std::string& name = name_of(in);
    if (const auto* t = std::get_if<tensor_input>(&in)) {
      if (!given.contains(name)) detail::bad_example(index, "no data for input '" + name + "'");
      inputs.emplace_back(detail::example_tensor(b, *t, given[name].at("data"), values, index));
    } else if (const auto* i = std::get_if<int_input>(&in)) {
      inputs.emplace_back(given.contains(name) ? given[name].template get<std::int64_t>() : i->value);
    } else if (std::holds_alternative<symbol_input>(in)) {
      if (!given.contains(name) && !values.find(name)) detail::bad_example(index, "no value for symbol input '" + name + "'");
      inputs.emplace_back(given.contains(name) ? given[name].template get<std::int64_t>() : *values.find(name));
    } else {
      inputs.emplace_back();
    }
  }
  return inputs;
}

/// How check_examples runs a program: run() or, on a backend that captures
/// graphs, run_graph() (each example run twice: captured, then replayed).
enum class run_mode : std::uint8_t { eager, graph };

/// Runs every example of `p` (converted once and compiled for `b`) and says
/// how each went. The examples run on `b`'s device whatever device the
/// program's tensors name (test vectors do not depend on the device). A
/// malformed example is a program_error (`wrapgraph.example.malformed`);
/// run_mode::graph on a backend that cannot capture is a run_error
/// (`wrapgraph.run.no_graph_mode`).
template <backend B>
std::vector<example_result> check_examples(const program& p, B& b, compile_options options = {},
                                           run_mode mode = run_mode::eager) {
  if constexpr (!capturing_backend<B>)
    if (mode == run_mode::graph)
      throw run_error("wrapgraph.run.no_graph_mode", "graph mode needs a backend that captures graphs (cuda), not " +
                                                         to_string(b.dev()));
  std::vector<example_result> results;
  if (p.examples.empty()) return results;
  graph::graph g = convert(p);
  graph::move_to_device(g, b.dev());
  std::optional<executable<B>> x;
  std::string compile_failure;
  std::string compile_id;
  try {
    x.emplace(compile(g, p, b, std::move(options)));
  } catch (const error& e) {
    compile_failure = e.what();
    compile_id = e.id();
  }
  for (std::size_t k = 0; k < p.examples.size(); ++k) {
    const nlohmann::ordered_json& ex = p.examples[k];
    example_result r{k, false, {}};
    const std::string raises = ex.contains("raises") && ex["raises"].is_string() ? ex["raises"].get<std::string>() : "";
    try {
      if (!x) throw run_error(compile_id, compile_failure);
      const std::vector<value> inputs = example_inputs(p, b, ex, k);
      value out;
      if constexpr (capturing_backend<B>) {
        if (mode == run_mode::graph) {
          (void)x->run_graph(inputs);  // captures (and runs)
          out = x->run_graph(inputs);  // replays
        } else {
          out = x->run(inputs);
        }
      } else {
        out = x->run(inputs);
      }
      if (!raises.empty()) {
        r.message = "expected an error " + raises + ", but the run succeeded";
      } else {
        const auto& want = ex.at("outputs");
        const bool single = p.outputs.size() == 1;
        std::string diff;
        for (std::size_t o = 0; o < want.size() && diff.empty(); ++o) {
          const value& got = single ? out : (out.as_list() && o < out.as_list()->size() ? (*out.as_list())[o] : value{});
          diff = detail::compare_output(b, got, want[o], o);
        }
        r.passed = diff.empty();
        r.message = diff.empty() ? "ok" : diff;
      }
    } catch (const program_error&) {
      throw;
    } catch (const error& e) {
      if (!raises.empty() && e.has_id(raises)) {
        r.passed = true;
        r.message = "raised " + e.id();
      } else {
        r.message = e.what();
      }
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace wrapgraph::exec

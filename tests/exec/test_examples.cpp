// Tests of exec/executable.hpp and exec/examples.hpp: every program under
// examples/programs runs on the CPU backend (cpp kernels compiled, extern
// operators, cond, dynamic scalars, unbacked symbols, constants) and passes
// its own examples; bad inputs raise the documented errors.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <wrapgraph/backend/cpu/backend.hpp>
#include <wrapgraph/backend/cpu/operators.hpp>
#include <wrapgraph/convert/convert.hpp>
#include <wrapgraph/exec/examples.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/io/json.hpp>

#include "support.hpp"

namespace {

using namespace wrapgraph;

backend::cpu::cpu_backend& cpu_backend() {
  static backend::cpu::cpu_backend b([] {
    backend::cpu::cpu_options o;
    o.compiler.cache_dir = std::filesystem::temp_directory_path() / "wrapgraph-test-cache";
    o.threads = 2;
    return o;
  }());
  return b;
}

exec::compile_options options() {
  exec::compile_options o;
  o.operators = &backend::cpu::builtin_operators();
  return o;
}

std::filesystem::path programs() { return std::filesystem::path(WRAPGRAPH_EXAMPLE_PROGRAMS_DIR); }

// Kernel steps point into their own parameter cells: moving keeps them,
// copying would not, so an executable only moves.
static_assert(!std::is_copy_constructible_v<exec::executable<backend::cpu::cpu_backend>>);
static_assert(std::is_nothrow_move_constructible_v<exec::executable<backend::cpu::cpu_backend>>);

}  // namespace

TEST_CASE("exec: every example program passes its examples on the CPU") {
  std::size_t programs_seen = 0, examples_seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(programs())) {
    if (entry.path().extension() != ".json") continue;
    ++programs_seen;
    const program p = io::load_program_file(entry.path().string());
    for (const exec::example_result& r : exec::check_examples(p, cpu_backend(), options())) {
      ++examples_seen;
      CHECK_MESSAGE(r.passed, entry.path().filename().string() << " example " << r.index << ": " << r.message);
    }
  }
  CHECK(programs_seen >= 12);
  CHECK(examples_seen >= programs_seen);
}

TEST_CASE("exec: run checks its inputs and names the input and dimension") {
  const program p = io::load_program_file((programs() / "add.json").string());
  const graph::graph g = convert(p);
  auto x = exec::compile(g, p, cpu_backend(), options());
  exec::device_memory& m = *cpu_backend().memory();
  auto vec = [&](dtype t, std::int64_t n) { return exec::empty(m, t, {n}); };
  auto id_of = [&](std::vector<exec::value> inputs) {
    try {
      (void)x.run(inputs);
    } catch (const error& e) {
      return e.id();
    }
    return std::string("(no error)");
  };
  CHECK(id_of({std::int64_t{4}, vec(dtype::float32, 4), vec(dtype::float32, 4)}) == "(no error)");
  CHECK(id_of({std::int64_t{4}, vec(dtype::float32, 4)}) == "wrapgraph.run.input_count");
  CHECK(id_of({std::int64_t{4}, vec(dtype::float64, 4), vec(dtype::float32, 4)}) == "wrapgraph.run.input_dtype");
  CHECK(id_of({std::int64_t{4}, vec(dtype::float32, 5), vec(dtype::float32, 4)}) == "wrapgraph.run.symbol_mismatch");
  CHECK(id_of({std::int64_t{4}, exec::empty(m, dtype::float32, {2, 2}), vec(dtype::float32, 4)}) ==
        "wrapgraph.run.input_rank");
  CHECK(id_of({exec::value(1.5), vec(dtype::float32, 4), vec(dtype::float32, 4)}) == "wrapgraph.run.input_kind");
  try {
    (void)x.run({std::int64_t{4}, vec(dtype::float32, 4), vec(dtype::float32, 3)});
    FAIL("a mismatching size runs");
  } catch (const run_error& e) {
    CHECK(e.message().find("input 'arg1_1'") != std::string::npos);
    CHECK(e.message().find("dimension 0") != std::string::npos);
  }
}

TEST_CASE("exec: an operator that is not registered fails when compiling, not when running") {
  const program p = io::load_program_file((programs() / "mlp.json").string());
  const graph::graph g = convert(p);
  exec::operator_registry empty_registry;
  exec::compile_options o;
  o.operators = &empty_registry;
  CHECK(test::error_id([&] { (void)exec::compile(g, p, cpu_backend(), o); }) == "wrapgraph.compile.unknown_operator");
}

TEST_CASE("exec: a kernel of several configs is autotuned at the hints, or runs its first config") {
  const program p = io::load_program_file((programs() / "add.json").string());
  const graph::graph g = convert(p);
  auto tuned = exec::compile(g, p, cpu_backend(), options());
  REQUIRE(tuned.tuning().size() == 1);
  CHECK(tuned.tuning()[0].reason == "timed");
  CHECK(tuned.tuning()[0].seconds.size() == g.find_kernel(tuned.tuning()[0].kernel)->configs.size());
  exec::compile_options off = options();
  off.autotune = false;
  auto first = exec::compile(g, p, cpu_backend(), off);
  REQUIRE(first.tuning().size() == 1);
  CHECK(first.tuning()[0].config == 0);
  CHECK(first.tuning()[0].reason == "autotuning off");
}

namespace {

// What the lines of a program leave open and a run settles: the bytes of
// the results of an operator of several results (their layouts are not in
// the lines), and which branch a conditional takes.
struct run_facts {
  std::function<std::int64_t(const std::string& result)> result_bytes;
  std::function<bool(const conditional_line&)> taken;
};

struct plan {
  std::int64_t peak = 0;
  std::int64_t end = 0;  // live at the end: the outputs
};

// The most bytes live at once under the program's own allocate, free and
// reuse lines, at the given symbol values: a storage is released when the
// last name that owns it (an allocation, a reuse, an operator's result) is
// freed. Views (reinterpret lines) own nothing; a conditional adds the plan
// of the branch it takes.
plan planned(const program& p, const sym::bindings& values, const run_facts& facts) {
  std::map<std::string, std::size_t> owner;   // owning name -> storage
  std::map<std::size_t, std::int64_t> bytes;  // storage -> bytes
  std::map<std::size_t, int> owners;          // storage -> owning names
  std::int64_t live = 0, peak = 0;
  std::size_t next = 0;
  auto own = [&](const std::string& name, std::int64_t n) {
    owner[name] = next;
    bytes[next] = n;
    owners[next] = 1;
    ++next;
    live += n;
    peak = std::max(peak, live);
  };
  auto allocate = [&](const std::string& name, const tensor_layout& t) {
    std::vector<std::int64_t> size, stride;
    for (const sym::expr& e : t.size) size.push_back(sym::evaluate(e, values));
    for (const sym::expr& e : t.stride) stride.push_back(sym::evaluate(e, values));
    own(name, exec::required_elements(size, stride) * static_cast<std::int64_t>(size_of(t.type)));
  };
  auto release = [&](const std::string& name) {
    const auto it = owner.find(name);
    if (it == owner.end()) return;  // an input, a view, or an alias of an input
    if (--owners[it->second] == 0) live -= bytes[it->second];
    owner.erase(it);
  };
  for (const line& l : p.lines) {
    if (const auto* a = std::get_if<allocate_line>(&l)) {
      allocate(a->buffer.name, a->buffer.layout);
    } else if (const auto* e = std::get_if<extern_kernel_alloc_line>(&l)) {
      if (e->layout) {
        allocate(e->result, *e->layout);  // an operator's result of a declared layout
      } else if (e->result_kind == extern_result_kind::multi) {
        for (const line& m : p.lines)  // each element the program takes is a storage of its own
          if (const auto* mo = std::get_if<multi_output_line>(&m); mo && mo->input == e->result)
            own(mo->result, facts.result_bytes(mo->result));
      }
    } else if (const auto* c = std::get_if<conditional_line>(&l)) {
      const program* branch = p.find_subgraph(facts.taken(*c) ? c->true_subgraph : c->false_subgraph);
      const plan inner = planned(*branch, values, facts);
      peak = std::max(peak, live + inner.peak);
      live += inner.end;  // the branch's outputs, held by the conditional's result
    } else if (const auto* f = std::get_if<free_line>(&l)) {
      release(f->name);
    } else if (const auto* f = std::get_if<free_if_not_reused_line>(&l)) {
      if (!f->is_reused) release(f->name);
    } else if (const auto* r = std::get_if<reuse_line>(&l)) {
      if (const auto it = owner.find(r->old); it != owner.end()) {
        owner[r->new_buffer.name] = it->second;
        ++owners[it->second];
        if (r->delete_old) release(r->old);
      }
    }
  }
  return {peak, live};
}

}  // namespace

TEST_CASE("exec: the peak of live bytes is what the program's allocate, free and reuse lines imply") {
  std::size_t programs_checked = 0, checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(programs())) {
    if (entry.path().extension() != ".json") continue;
    const program p = io::load_program_file(entry.path().string());
    const graph::graph g = convert(p);
    auto x = exec::compile(g, p, cpu_backend(), options());
    ++programs_checked;
    for (const auto& example : p.examples) {
      if (example.contains("raises")) continue;
      sym::bindings values;
      const nlohmann::ordered_json bind = example.value("bind", nlohmann::ordered_json::object());
      for (auto it = bind.begin(); it != bind.end(); ++it) values.set(it.key(), it.value().get<std::int64_t>());
      for (const input& in : p.inputs)  // symbol inputs bind too
        if (std::holds_alternative<symbol_input>(in) && example["inputs"].contains(name_of(in)))
          values.set(name_of(in), example["inputs"][name_of(in)].get<std::int64_t>());
      const std::vector<exec::value> inputs = exec::example_inputs(p, cpu_backend(), example);
      cpu_backend().memory()->reset_stats();
      const std::size_t before = cpu_backend().memory()->stats().live_bytes;
      const exec::value out = x.run(inputs);
      const std::size_t peak = cpu_backend().memory()->stats().peak_bytes - before;
      // Symbols defined from data (item, nonzero) take the run's values.
      for (const sym::expr& s : p.ctx->symbols())
        if (!values.find(s.name()))
          if (const auto v = x.symbol(s.name())) values.set(s.name(), *v);
      run_facts facts;
      facts.result_bytes = [&](const std::string& result) -> std::int64_t {
        for (std::size_t k = 0; k < p.outputs.size(); ++k) {
          const auto* n = std::get_if<name_ref>(&p.outputs[k]);
          if (!n || n->name != result) continue;
          const exec::value& v = p.outputs.size() == 1 ? out : (*out.as_list())[k];
          const exec::tensor& t = *v.as_tensor();
          return t.numel() * static_cast<std::int64_t>(t.element_size());
        }
        FAIL("an element of a multi-output result that is not an output: " << result);
        return 0;
      };
      facts.taken = [&](const conditional_line& c) {
        const auto* n = std::get_if<name_ref>(&c.predicate);
        REQUIRE(n != nullptr);
        return example["inputs"][n->name]["data"][0].get<bool>();
      };
      CHECK_MESSAGE(static_cast<std::int64_t>(peak) == planned(p, values, facts).peak,
                    entry.path().filename().string() << " at " << bind.dump());
      ++checked;
    }
  }
  CHECK(programs_checked >= 12);
  CHECK(checked >= programs_checked);
}

namespace {

// Memory that says it is on a GPU, to hand run() a tensor on another device.
class elsewhere_memory final : public exec::device_memory {
 public:
  [[nodiscard]] device dev() const noexcept override { return cuda0; }

 protected:
  void* do_allocate(std::size_t bytes) override { return std::malloc(bytes); }
  void do_deallocate(void* p, std::size_t) noexcept override { std::free(p); }
};

}  // namespace

TEST_CASE("exec: an input on another device is refused, naming the input") {
  const program p = io::load_program_file((programs() / "add.json").string());
  auto x = exec::compile(convert(p), p, cpu_backend(), options());
  auto gpu = std::make_shared<elsewhere_memory>();
  const exec::tensor here = exec::empty(*cpu_backend().memory(), dtype::float32, {4});
  const exec::tensor there = exec::empty(*gpu, dtype::float32, {4});
  try {
    (void)x.run({std::int64_t{4}, here, there});
    FAIL("a tensor on another device runs");
  } catch (const run_error& e) {
    CHECK(e.id() == "wrapgraph.run.input_device");
    CHECK(e.message().find("'arg1_1'") != std::string::npos);
  }
}

TEST_CASE("exec: a kernel that does not compile fails the compile, with the compiler's message and the kernel") {
  program p = io::load_program_file((programs() / "add.json").string());
  for (line& l : p.lines)
    if (auto* def = std::get_if<kernel_definition_line>(&l)) def->implementations.cpp->source = "this is not C++";
  try {
    (void)exec::compile(convert(p), p, cpu_backend(), options());
    FAIL("a broken kernel compiles");
  } catch (const backend_error& e) {
    CHECK(e.id() == "wrapgraph.kernel.compile_failed");
    CHECK(e.message().find("triton_poi_fused_add_0") != std::string::npos);
    CHECK(e.message().find("error") != std::string::npos);
  }
}

TEST_CASE("exec: an unbacked symbol takes its value from data, and runs do not leak memory") {
  const program p = io::load_program_file((programs() / "nonzero.json").string());
  auto x = exec::compile(convert(p), p, cpu_backend(), options());
  REQUIRE_FALSE(p.examples.empty());
  const std::vector<exec::value> inputs = exec::example_inputs(p, cpu_backend(), p.examples.front());
  const std::size_t live = cpu_backend().memory()->stats().live_bytes;
  for (int i = 0; i < 3; ++i) {
    const exec::value out = x.run(inputs);
    CHECK(x.symbol("u0").has_value());
  }
  CHECK(cpu_backend().memory()->stats().live_bytes == live);  // the outputs died with `out`
}

TEST_CASE("exec: a moved executable runs as the original did") {
  const program p = io::load_program_file((programs() / "add.json").string());
  auto x = exec::compile(convert(p), p, cpu_backend(), options());
  std::vector<exec::executable<backend::cpu::cpu_backend>> kept;
  kept.push_back(std::move(x));
  kept.emplace_back(exec::compile(convert(p), p, cpu_backend(), options()));  // the vector grows: a move
  exec::device_memory& m = *cpu_backend().memory();
  const exec::tensor a = exec::empty(m, dtype::float32, {3}), b = exec::empty(m, dtype::float32, {3});
  for (std::int64_t i = 0; i < 3; ++i) {
    a.set(i, static_cast<double>(i));
    b.set(i, 10.0);
  }
  for (auto& e : kept) CHECK(exec::to_vector(*e.run({std::int64_t{3}, a, b}).as_tensor()) == std::vector<double>{10, 11, 12});
}

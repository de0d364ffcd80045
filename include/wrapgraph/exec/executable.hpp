#pragma once
/// The executable: a converted graph compiled for a backend into a flat plan
/// — one step per node with its operands resolved to slots or constants,
/// kernels loaded, the slots to release after each step — and run as many
/// times as wanted.
///
/// run() binds the symbols of the inputs' sizes and strides (checking every
/// input against its declared dtype, device, rank and sizes), then runs the
/// steps in program order: allocations, views, kernel launches, operators,
/// integer arithmetic, `cond` subgraphs. A value is released right after its
/// last use, so the peak of live memory is what the wrapper program's own
/// allocate/free/reuse lines imply.

#include <algorithm>
#include <array>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/exec/backend.hpp>
#include <wrapgraph/exec/operators.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>
#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/substitute.hpp>

namespace wrapgraph::exec {

/// How a graph is compiled.
struct compile_options {
  /// The operators extern calls use; null: the backend's `operators()`.
  const operator_registry* operators = nullptr;
  /// Time the configs of kernels that have several, at `hints`, and keep the
  /// fastest; otherwise (or without a hint for a symbol) the first config.
  bool autotune = true;
  /// Values of symbols for autotuning (a program's symbol hints).
  sym::bindings hints;
  /// Seed of the random generator operators use (randn, randint).
  std::uint64_t seed = 0;
  /// Where to say what was chosen (one line per tuned kernel); may be empty.
  std::function<void(const std::string&)> log;
};

/// The config chosen for one kernel_call node, and why.
struct tuning_choice {
  std::string node;             ///< the kernel_call node's name
  std::string kernel;           ///< the kernel's name
  std::size_t config = 0;       ///< index into the definition's configs
  std::vector<double> seconds;  ///< time of each config (empty when not timed)
  std::string reason;           ///< "timed", "one config", "no hint for s3", "autotuning off"
};

namespace detail {

/// An integer operand: a constant, or the int in a slot.
struct int_operand {
  std::int64_t constant = 0;
  std::ptrdiff_t slot = -1;

  [[nodiscard]] std::int64_t get(const std::vector<value>& slots) const noexcept {
    return slot < 0 ? constant : *std::get_if<std::int64_t>(&slots[static_cast<std::size_t>(slot)].v);
  }
};

/// Any operand: a constant value, a slot, or a list or map of operands.
struct operand {
  enum class kind : std::uint8_t { constant, slot, list } k = kind::constant;
  value constant;
  std::size_t slot = 0;
  std::vector<operand> items;

  [[nodiscard]] value get(const std::vector<value>& slots) const {
    switch (k) {
      case kind::constant: return constant;
      case kind::slot: return slots[slot];
      case kind::list: {
        value_list out;
        out.reserve(items.size());
        for (const operand& o : items) out.push_back(o.get(slots));
        return out;
      }
    }
    return {};
  }
};

// Sets the logical elements of host tensor `t` (zeroed first, gaps
// included) from a JSON array of numbers and bools; the index of the first
// element that is neither, or -1.
inline std::int64_t fill_from_json(const tensor& t, const nlohmann::ordered_json& data) {
  std::memset(t.storage()->data(), 0, t.storage()->bytes());
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const auto& x = data[static_cast<std::size_t>(i)];
    if (x.is_boolean()) t.set(i, x.get<bool>() ? 1.0 : 0.0);
    else if (x.is_number_integer()) t.set_int(i, x.get<std::int64_t>());
    else if (x.is_number()) t.set(i, x.get<double>());
    else return i;
  }
  return -1;
}

// A host tensor on `b`'s device: itself on the CPU, else a copy of its
// storage with the same layout.
template <backend B>
tensor on_backend(B& b, tensor host) {
  if (b.dev().kind == device_kind::cpu) return host;
  tensor copy(b.memory()->allocate(host.storage()->bytes()), host.type(), host.sizes(), host.strides(), host.offset());
  b.from_host(copy.storage()->data(), host.storage()->data(), host.storage()->bytes());
  return copy;
}

// The config's integer values for the symbols the graph names after its
// parameters (XBLOCK, ...): what a symbolic grid is substituted with.
inline std::vector<std::pair<sym::expr, sym::expr>> config_substitution(sym::context& ctx, const kernel_values& config) {
  std::vector<std::pair<sym::expr, sym::expr>> out;
  for (const auto& [key, val] : config)
    if (const std::int64_t* i = std::get_if<std::int64_t>(&val))
      if (const sym::expr s = ctx.find_symbol(key)) out.emplace_back(s, ctx.integer(*i));
  return out;
}

enum class int_op : std::uint8_t { add, sub, mul, floordiv, mod, pow, neg, abs, min, max, ceil_div };

[[nodiscard]] inline std::optional<int_op> int_op_of(std::string_view target) {
  struct entry {
    std::string_view target;
    int_op op;
  };
  static constexpr entry table[] = {
      {"operator.add", int_op::add},      {"operator.sub", int_op::sub},   {"operator.mul", int_op::mul},
      {"operator.floordiv", int_op::floordiv}, {"operator.mod", int_op::mod}, {"operator.pow", int_op::pow},
      {"operator.neg", int_op::neg},      {"operator.abs", int_op::abs},   {"torch.sym_min", int_op::min},
      {"torch.sym_max", int_op::max},     {"wrapgraph.ceil_div", int_op::ceil_div}};
  for (const entry& e : table)
    if (e.target == target) return e.op;
  return std::nullopt;
}

[[noreturn]] inline void arithmetic_error(std::string_view what, const std::string& node) {
  throw run_error("wrapgraph.run.arithmetic", "node '" + node + "': " + std::string(what));
}

// Python's integer semantics, with overflow and division by zero as errors.
[[nodiscard]] inline std::int64_t apply(int_op op, std::int64_t a, std::int64_t b, const std::string& node) {
  std::int64_t r = 0;
  switch (op) {
    case int_op::add:
      if (__builtin_add_overflow(a, b, &r)) arithmetic_error("int64 overflow in +", node);
      return r;
    case int_op::sub:
      if (__builtin_sub_overflow(a, b, &r)) arithmetic_error("int64 overflow in -", node);
      return r;
    case int_op::mul:
      if (__builtin_mul_overflow(a, b, &r)) arithmetic_error("int64 overflow in *", node);
      return r;
    case int_op::floordiv:
    case int_op::mod:
    case int_op::ceil_div: {
      if (b == 0) arithmetic_error("division by zero", node);
      if (a == std::numeric_limits<std::int64_t>::min() && b == -1) arithmetic_error("int64 overflow in //", node);
      std::int64_t q = a / b, m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) {
        --q;
        m += b;
      }
      if (op == int_op::floordiv) return q;
      if (op == int_op::mod) return m;
      return m != 0 ? q + 1 : q;
    }
    case int_op::pow: {
      if (b < 0) arithmetic_error("negative exponent", node);
      std::int64_t result = 1;
      for (std::int64_t i = 0; i < b; ++i)
        if (__builtin_mul_overflow(result, a, &result)) arithmetic_error("int64 overflow in **", node);
      return result;
    }
    case int_op::neg:
      if (a == std::numeric_limits<std::int64_t>::min()) arithmetic_error("int64 overflow in unary -", node);
      return -a;
    case int_op::abs:
      if (a == std::numeric_limits<std::int64_t>::min()) arithmetic_error("int64 overflow in abs", node);
      return a < 0 ? -a : a;
    case int_op::min: return std::min(a, b);
    case int_op::max: return std::max(a, b);
  }
  return 0;
}

}  // namespace detail

template <backend B>
class executable;

namespace detail {

// What a backend's captures are, or nothing for one that cannot capture.
template <class B>
struct capture_of {
  using type = std::monostate;
};
template <capturing_backend B>
struct capture_of<B> {
  using type = typename B::capture;
};

template <backend B>
class planner;
}  // namespace detail

/// A graph compiled for backend `B`. Not safe to run from two threads at
/// once (it reuses its slots and parameter buffers); compile one per thread.
template <backend B>
class executable {
 public:
  executable() = default;
  // Move-only: the parameter arrays of kernel steps point into the steps'
  // own cells, which a move keeps and a copy would not.
  executable(const executable&) = delete;
  executable& operator=(const executable&) = delete;
  executable(executable&&) noexcept = default;
  executable& operator=(executable&&) noexcept = default;
  ~executable() = default;

  /// Runs the graph on `inputs` (one per placeholder, in order: tensors on
  /// the backend's device, ints for symbol and int inputs) and returns its
  /// output: the single output bare, several as a list.
  value run(std::span<const value> inputs) {
    bind(inputs);
    for (step& s : steps_) {
      execute(s);
      for (std::size_t slot : s.release) slots_[slot].reset();
    }
    value result = output_.get(slots_);
    for (std::size_t slot : leftover_) slots_[slot].reset();
    return result;
  }
  value run(std::initializer_list<value> inputs) { return run(std::span<const value>(inputs.begin(), inputs.size())); }

  /// Runs the graph as run() does, through graphs the backend captured and
  /// replays (CUDA graphs): the launches between two steps that a replay
  /// could not repeat (an operator flagged operator_flags::eager, a cond)
  /// are captured once and replayed on later runs; those steps run as in
  /// run().
  ///
  /// A captured part replays when everything it reads from outside equals
  /// what it read when captured: the symbols' values, and the tensors'
  /// storage addresses, sizes and strides (and ints). Otherwise it is
  /// captured anew (a new binding of symbols, new input tensors); the last
  /// 8 captures of each part are kept. So pass the same input tensors,
  /// with new contents, to replay. The results live in memory the capture
  /// owns, and the next replay of that capture overwrites them: copy what
  /// must outlive it. Errors as run(), and run_error
  /// `wrapgraph.run.not_capturable` when a step cannot be captured (an
  /// operator that waits for the device without the eager flag).
  value run_graph(std::span<const value> inputs)
    requires capturing_backend<B>
  {
    if (!graph_plan_) plan_graph();
    bind(inputs);
    for (graph_part& part : graph_plan_->parts) {
      if (part.eager) {
        for (std::size_t i = part.begin; i < part.end; ++i) {
          execute(steps_[i]);
          for (std::size_t slot : steps_[i].release) slots_[slot].reset();
        }
        graph_stats_.eager_steps += part.end - part.begin;
      } else {
        run_captured(part);
      }
    }
    value result = output_.get(slots_);
    for (std::size_t slot : leftover_) slots_[slot].reset();
    return result;
  }
  value run_graph(std::initializer_list<value> inputs)
    requires capturing_backend<B>
  {
    return run_graph(std::span<const value>(inputs.begin(), inputs.size()));
  }

  /// What graph mode has done so far.
  struct graph_stats {
    std::size_t parts = 0;        ///< captured parts of the plan
    std::size_t captures = 0;     ///< captures made
    std::size_t replays = 0;      ///< captured parts replayed
    std::size_t eager_steps = 0;  ///< steps run between them
  };
  [[nodiscard]] graph_stats graph_statistics() const noexcept {
    graph_stats s = graph_stats_;
    if (graph_plan_)
      for (const graph_part& p : graph_plan_->parts) s.parts += !p.eager;
    return s;
  }
  /// Drops every capture (and the memory each reserves).
  void clear_captures() noexcept {
    if (graph_plan_)
      for (graph_part& p : graph_plan_->parts) p.recordings.clear();
  }

  /// The value the last run gave symbol `name` (bound from an input or
  /// defined from data, e.g. nonzero's length), if any.
  [[nodiscard]] std::optional<std::int64_t> symbol(std::string_view name) const {
    const sym::expr s = context_ ? context_->find_symbol(name) : sym::expr{};
    if (!s || s.symbol_id() >= bound_.size() || !bound_[s.symbol_id()]) return std::nullopt;
    return env_[s.symbol_id()];
  }

  /// The config chosen for each kernel_call node of several configs.
  [[nodiscard]] const std::vector<tuning_choice>& tuning() const noexcept { return tuning_; }
  /// The backend this runs on.
  [[nodiscard]] B& backend() const noexcept { return *backend_; }
  /// Names of the graph's inputs, in order.
  [[nodiscard]] const std::vector<std::string>& input_names() const noexcept { return input_names_; }

 private:
  friend class detail::planner<B>;

  using int_operand = detail::int_operand;
  using operand = detail::operand;
  using capture_t = typename detail::capture_of<B>::type;

  // A dimension of an input to check or bind: size or stride `dim` of input
  // `input` equals `expected`.
  struct input_check {
    std::size_t input;
    std::size_t dim;
    bool stride;
    sym::expr expected;
    // A compound expression (2*s0 + 1), compiled, and the ids of the
    // symbols it reads, in the compiled order.
    std::optional<sym::compiled_expr> compound;
    std::vector<std::size_t> symbol_ids;
  };
  struct input_spec {
    std::string name;
    std::size_t slot;
    enum class kind : std::uint8_t { tensor, integer, any } k = kind::any;
    dtype type = dtype::float32;
    device_kind dev = device_kind::cpu;
    std::size_t rank = 0;
    sym::expr symbol;  // of an integer input
  };

  struct alloc_step {
    dtype type;
    std::vector<int_operand> size, stride;
    // The layout and bytes when every size and stride is a constant, made
    // once when compiling.
    std::optional<std::pair<extents, extents>> fixed;
    std::size_t fixed_bytes = 0;
  };
  struct view_step {
    std::size_t input;
    std::vector<int_operand> size, stride;
    int_operand offset;
  };
  struct kernel_param {
    enum class kind : std::uint8_t { pointer, i32, i64, f32, f64 } k;
    operand source;
  };
  struct kernel_step {
    typename B::kernel kernel;
    std::vector<kernel_param> params;
    std::vector<std::uint64_t> cells;  // one 8-byte cell per parameter
    std::vector<void*> pointers;        // &cells[i]
    std::vector<std::uint32_t> dynamic;  // parameters read from slots at each run
    std::array<int_operand, 3> grid;
    bool static_grid = false;            // every grid operand a constant: fixed_grid
    launch_grid fixed_grid{1, 1, 1};
    std::vector<sym::compiled_expr> symbolic_grid;  // a config other than the first
    std::vector<std::vector<std::size_t>> grid_symbols;
  };
  struct op_step {
    const operator_fn* fn;
    bool eager = false;  // graph mode runs it between captured parts (operator_flags::eager)
    std::string target;
    std::vector<operand> args;
    std::vector<operand> kwargs;
    // What the operator reads, laid out when compiled (the keywords too):
    // a run only fills in the values, and empties them after the call.
    std::vector<value> arg_values;
    std::vector<keyword_value> kwarg_values;
  };
  struct int_step {
    detail::int_op op;
    int_operand a, b;
  };
  struct shape_step {
    enum class kind : std::uint8_t { size, stride, offset } k;
    std::size_t input;
    int_operand dim;
  };
  struct getitem_step {
    std::size_t input;
    std::int64_t index;
  };
  struct cond_step {
    operand predicate;
    std::shared_ptr<executable> if_true, if_false;
    std::vector<operand> operands;
  };
  using step_body = std::variant<alloc_step, view_step, kernel_step, op_step, int_step, shape_step, getitem_step,
                                 cond_step>;
  struct step {
    std::size_t result;                  // the node's slot
    std::string name;                    // the node's name, for messages
    std::ptrdiff_t defines_symbol = -1;  // a symbol whose value this int node computes
    std::vector<std::size_t> release;    // slots whose last use this is
    step_body body;
  };

  // ---- running ----------------------------------------------------------------

  void bind(std::span<const value> inputs) {
    if (inputs.size() != inputs_.size())
      throw run_error("wrapgraph.run.input_count", "the graph takes " + std::to_string(inputs_.size()) +
                                                       " inputs, got " + std::to_string(inputs.size()));
    std::fill(bound_.begin(), bound_.end(), false);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      const input_spec& spec = inputs_[i];
      const value& v = inputs[i];
      if (spec.k == input_spec::kind::tensor) {
        const tensor* t = v.as_tensor();
        if (!t || !t->defined())
          throw run_error("wrapgraph.run.input_kind", "input '" + spec.name + "' is a tensor, got " + v.kind_name());
        if (t->type() != spec.type)
          throw run_error("wrapgraph.run.input_dtype", "input '" + spec.name + "' is " + std::string(to_string(spec.type)) +
                                                           ", got " + std::string(to_string(t->type())));
        if (t->dev().kind != spec.dev)
          throw run_error("wrapgraph.run.input_device", "input '" + spec.name + "' belongs on " +
                                                            (spec.dev == device_kind::cpu ? "cpu" : "cuda") + ", got " +
                                                            to_string(t->dev()));
        if (static_cast<std::size_t>(t->dim()) != spec.rank)
          throw run_error("wrapgraph.run.input_rank", "input '" + spec.name + "' has rank " + std::to_string(spec.rank) +
                                                          ", got " + std::to_string(t->dim()));
      } else if (spec.k == input_spec::kind::integer) {
        const std::int64_t* x = v.as_int();
        if (!x) throw run_error("wrapgraph.run.input_kind", "input '" + spec.name + "' is an int, got " + v.kind_name());
        if (spec.symbol && spec.symbol.is_symbol())
          bind_symbol(spec.symbol, *x, [&] { return "input '" + spec.name + "'"; });
      }
      slots_[spec.slot] = v;
    }
    for (const auto& [slot, t] : constants_) slots_[slot] = t;
    // Plain symbols first (they bind), then the compound expressions (they check).
    for (int pass = 0; pass < 2; ++pass) {
      for (const input_check& c : checks_) {
        if ((pass == 0) != c.expected.is_symbol()) continue;
        const tensor& t = *inputs[c.input].as_tensor();
        const auto dim = static_cast<std::int64_t>(c.dim);
        if (c.stride && t.size(dim) <= 1) continue;  // a stride of a dim of size <= 1 is free
        const std::int64_t actual = c.stride ? t.stride(dim) : t.size(dim);
        if (c.expected.is_integer()) {
          if (actual != c.expected.value())
            throw run_error("wrapgraph.run.input_size", what(c) + " is " + std::to_string(c.expected.value()) +
                                                            ", got " + std::to_string(actual));
        } else if (c.expected.is_symbol()) {
          bind_symbol(c.expected, actual, [&] { return what(c); });
        } else if (const auto expected = evaluate_bound(c)) {
          if (*expected != actual)
            throw run_error("wrapgraph.run.input_size", what(c) + " is " + sym::to_string(c.expected) + " = " +
                                                            std::to_string(*expected) + ", got " + std::to_string(actual));
        }
      }
    }
  }

  // "size of dimension 1 of input 'x'", for messages.
  [[nodiscard]] std::string what(const input_check& c) const {
    return std::string(c.stride ? "stride" : "size") + " of dimension " + std::to_string(c.dim) + " of input '" +
           inputs_[c.input].name + "'";
  }

  // The value of a compound check's expression when all its symbols are bound.
  [[nodiscard]] std::optional<std::int64_t> evaluate_bound(const input_check& c) const {
    std::array<std::int64_t, 16> small{};
    std::vector<std::int64_t> large;
    std::span<std::int64_t> values(small.data(), c.symbol_ids.size());
    if (c.symbol_ids.size() > small.size()) {
      large.resize(c.symbol_ids.size());
      values = large;
    }
    for (std::size_t j = 0; j < c.symbol_ids.size(); ++j) {
      const std::size_t id = c.symbol_ids[j];
      if (id >= bound_.size() || !bound_[id]) return std::nullopt;
      values[j] = env_[id];
    }
    return (*c.compound)(values);
  }

  // Binds `symbol` to `actual`, or checks it against its value; `what()`
  // names where the value comes from, for messages.
  template <class What>
  void bind_symbol(sym::expr symbol, std::int64_t actual, What&& what) {
    const std::size_t id = symbol.symbol_id();
    if (id >= env_.size()) {
      env_.resize(id + 1);
      bound_.resize(id + 1);
    }
    if (bound_[id]) {
      if (env_[id] != actual)
        throw run_error("wrapgraph.run.symbol_mismatch", what() + " is " + std::string(symbol.name()) + " = " +
                                                             std::to_string(env_[id]) + ", got " + std::to_string(actual));
      return;
    }
    const sym::value_range r = symbol.range();
    if (actual < r.lo || actual > r.hi)
      throw run_error("wrapgraph.run.symbol_range", what() + " gives " + std::string(symbol.name()) + " = " +
                                                        std::to_string(actual) + ", outside its assumed range");
    env_[id] = actual;
    bound_[id] = true;
  }

  void execute(step& s) {
    std::visit([&](auto& body) { execute(s, body); }, s.body);
    if (s.defines_symbol >= 0) {
      const std::int64_t* x = slots_[s.result].as_int();
      if (x) {
        const auto id = static_cast<std::size_t>(s.defines_symbol);
        env_[id] = *x;
        bound_[id] = true;
      }
    }
  }

  void execute(const step& s, const alloc_step& a) {
    if (a.fixed) {
      slots_[s.result] = tensor(backend_->memory()->allocate(a.fixed_bytes), a.type, a.fixed->first, a.fixed->second);
      return;
    }
    extents size(a.size.size()), stride(a.stride.size());
    for (std::size_t d = 0; d < size.size(); ++d) size[d] = a.size[d].get(slots_);
    for (std::size_t d = 0; d < stride.size(); ++d) stride[d] = a.stride[d].get(slots_);
    slots_[s.result] = empty_strided(*backend_->memory(), a.type, std::move(size), std::move(stride));
  }

  void execute(const step& s, const view_step& a) {
    const tensor* base = slots_[a.input].as_tensor();
    if (!base) throw run_error("wrapgraph.run.argument_kind", "node '" + s.name + "' views a value that is not a tensor");
    extents size(a.size.size()), stride(a.stride.size());
    for (std::size_t d = 0; d < size.size(); ++d) size[d] = a.size[d].get(slots_);
    for (std::size_t d = 0; d < stride.size(); ++d) stride[d] = a.stride[d].get(slots_);
    try {
      slots_[s.result] = base->view(std::move(size), std::move(stride), a.offset.get(slots_));
    } catch (const run_error& e) {
      throw run_error(e.id(), "node '" + s.name + "': " + e.message());
    }
  }

  // Writes parameter `i` of a kernel into its cell, from a slot or a constant.
  void fill_param(const std::string& node, std::size_t i, const kernel_param& p, std::uint64_t& cell) const {
    write_param(node, i, p.k, p.source.k == operand::kind::slot ? slots_[p.source.slot] : p.source.constant, cell);
  }

  // Writes `v` into a parameter cell as a parameter of kind `k` takes it.
  static void write_param(const std::string& node, std::size_t i, typename kernel_param::kind k, const value& v,
                          std::uint64_t& cell) {
    using kind = typename kernel_param::kind;
    auto integer = [&]() -> std::int64_t {
      if (const std::int64_t* x = v.as_int()) return *x;
      if (const bool* b = v.as_bool()) return *b;
      throw run_error("wrapgraph.run.argument_kind", "node '" + node + "': argument " + std::to_string(i) +
                                                         " is an integer parameter, got " + v.kind_name());
    };
    auto number = [&]() -> double {
      if (const double* d = v.as_double()) return *d;
      return static_cast<double>(integer());
    };
    auto store = [&](auto x) { std::memcpy(&cell, &x, sizeof x); };
    switch (k) {
      case kind::pointer: {
        const tensor* t = v.as_tensor();
        if (!t) throw run_error("wrapgraph.run.argument_kind", "node '" + node + "': argument " + std::to_string(i) +
                                                                  " is a pointer parameter, got " + v.kind_name());
        store(t->data());
        break;
      }
      case kind::i32: {
        const std::int64_t x = integer();
        if (x < std::numeric_limits<std::int32_t>::min() || x > std::numeric_limits<std::int32_t>::max())
          throw run_error("wrapgraph.run.argument_range", "node '" + node + "': argument " + std::to_string(i) + " = " +
                                                              std::to_string(x) + " does not fit an i32 parameter");
        store(static_cast<std::int32_t>(x));
        break;
      }
      case kind::i64: store(integer()); break;
      case kind::f32: store(static_cast<float>(number())); break;
      case kind::f64: store(number()); break;
    }
  }

  void execute(const step& s, kernel_step& k) {
    // Constant parameters were written when compiling; only slots change.
    for (const std::uint32_t i : k.dynamic) fill_param(s.name, i, k.params[i], k.cells[i]);
    launch_grid grid = k.fixed_grid;
    if (!k.symbolic_grid.empty()) {
      for (std::size_t d = 0; d < 3; ++d) {
        if (d >= k.symbolic_grid.size()) {
          grid[d] = 1;
          continue;
        }
        std::array<std::int64_t, 16> values{};
        const auto& ids = k.grid_symbols[d];
        for (std::size_t j = 0; j < ids.size(); ++j) values[j] = env_[ids[j]];
        grid[d] = k.symbolic_grid[d](std::span<const std::int64_t>(values.data(), ids.size()));
      }
    } else if (!k.static_grid) {
      for (std::size_t d = 0; d < 3; ++d) grid[d] = k.grid[d].get(slots_);
    }
    backend_->launch(k.kernel, grid, k.pointers.data());
  }

  void execute(const step& s, op_step& o) {
    for (std::size_t i = 0; i < o.args.size(); ++i) o.arg_values[i] = o.args[i].get(slots_);
    for (std::size_t i = 0; i < o.kwargs.size(); ++i) o.kwarg_values[i].second = o.kwargs[i].get(slots_);
    // The operands are dropped after the call, returned or thrown from: a
    // buffer whose last use this is must be freed now, not on the next run.
    struct release {
      op_step& o;
      ~release() {
        for (value& v : o.arg_values) v.reset();
        for (keyword_value& kv : o.kwarg_values) kv.second.reset();
      }
    } operands{o};
    op_context ctx{*backend_->memory(), random_};
    slots_[s.result] = (*o.fn)(ctx, op_arguments(o.target, o.arg_values, o.kwarg_values));
  }

  void execute(const step& s, const int_step& i) {
    slots_[s.result] = detail::apply(i.op, i.a.get(slots_), i.b.get(slots_), s.name);
  }

  void execute(const step& s, const shape_step& h) {
    const tensor* t = slots_[h.input].as_tensor();
    if (!t) throw run_error("wrapgraph.run.argument_kind", "node '" + s.name + "' reads the shape of a non-tensor");
    switch (h.k) {
      case shape_step::kind::size: slots_[s.result] = t->size(h.dim.get(slots_)); break;
      case shape_step::kind::stride: slots_[s.result] = t->stride(h.dim.get(slots_)); break;
      case shape_step::kind::offset: slots_[s.result] = t->offset(); break;
    }
  }

  void execute(const step& s, const getitem_step& g) {
    const value_list* l = slots_[g.input].as_list();
    if (!l) throw run_error("wrapgraph.run.argument_kind", "node '" + s.name + "' indexes a value that is not a list");
    const std::int64_t n = static_cast<std::int64_t>(l->size());
    const std::int64_t i = g.index < 0 ? g.index + n : g.index;
    if (i < 0 || i >= n)
      throw run_error("wrapgraph.run.bad_index", "node '" + s.name + "': index " + std::to_string(g.index) +
                                                     " of a list of " + std::to_string(n));
    slots_[s.result] = (*l)[static_cast<std::size_t>(i)];
  }

  void execute(const step& s, const cond_step& c) {
    const value p = c.predicate.get(slots_);
    bool taken;
    if (const bool* b = p.as_bool()) taken = *b;
    else if (const std::int64_t* i = p.as_int()) taken = *i != 0;
    else if (const tensor* t = p.as_tensor(); t && t->numel() == 1) {
      tensor host = *t;
      if (t->dev().kind != device_kind::cpu) {
        host = empty(host_memory_(), t->type(), {});
        backend_->to_host(host.data(), t->data(), t->element_size());
      }
      taken = host.get(0) != 0;
    } else
      throw run_error("wrapgraph.run.predicate", "node '" + s.name + "': the predicate must be a bool, an int or a "
                                                 "one-element tensor, got " + p.kind_name());
    value_list operands;
    for (const operand& o : c.operands) operands.push_back(o.get(slots_));
    slots_[s.result] = (taken ? c.if_true : c.if_false)->run(operands);
  }

  // ---- graph mode -------------------------------------------------------------

  // A recording of a captured part: what it read (the key), the graph, and
  // what it left in slots and symbols.
  struct recording {
    std::vector<std::int64_t> key;
    capture_t graph;
    std::vector<value> results;  // of part.writes
    std::vector<std::pair<std::size_t, std::int64_t>> symbols;
  };
  // Steps [begin, end): run eagerly, or captured and replayed.
  struct graph_part {
    std::size_t begin = 0, end = 0;
    bool eager = false;
    std::vector<std::size_t> reads;   // slots read from outside the part
    std::vector<std::size_t> writes;  // slots written by it and live after it
    std::vector<recording> recordings;
  };
  struct graph_plan {
    std::vector<graph_part> parts;
  };

  // Calls f(slot) for each slot step `s` reads.
  template <class F>
  static void for_each_read(const step& s, F&& f) {
    const auto int_op = [&](const int_operand& o) {
      if (o.slot >= 0) f(static_cast<std::size_t>(o.slot));
    };
    const auto any_op = [&](const auto& self, const operand& o) -> void {
      if (o.k == operand::kind::slot) f(o.slot);
      for (const operand& item : o.items) self(self, item);
    };
    const auto op = [&](const operand& o) { any_op(any_op, o); };
    std::visit(
        [&](const auto& b) {
          using T = std::remove_cvref_t<decltype(b)>;
          if constexpr (std::is_same_v<T, alloc_step>) {
            for (const int_operand& o : b.size) int_op(o);
            for (const int_operand& o : b.stride) int_op(o);
          } else if constexpr (std::is_same_v<T, view_step>) {
            f(b.input);
            for (const int_operand& o : b.size) int_op(o);
            for (const int_operand& o : b.stride) int_op(o);
            int_op(b.offset);
          } else if constexpr (std::is_same_v<T, kernel_step>) {
            for (const kernel_param& p : b.params) op(p.source);
            for (const int_operand& o : b.grid) int_op(o);
          } else if constexpr (std::is_same_v<T, op_step>) {
            for (const operand& o : b.args) op(o);
            for (const operand& o : b.kwargs) op(o);
          } else if constexpr (std::is_same_v<T, int_step>) {
            int_op(b.a);
            int_op(b.b);
          } else if constexpr (std::is_same_v<T, shape_step>) {
            f(b.input);
            int_op(b.dim);
          } else if constexpr (std::is_same_v<T, getitem_step>) {
            f(b.input);
          } else if constexpr (std::is_same_v<T, cond_step>) {
            op(b.predicate);
            for (const operand& o : b.operands) op(o);
          }
        },
        s.body);
  }

  static bool runs_eagerly(const step& s) {
    if (std::holds_alternative<cond_step>(s.body)) return true;
    const op_step* o = std::get_if<op_step>(&s.body);
    return o && o->eager;
  }

  // Splits the steps into eager steps and the captured parts between them,
  // with what each part reads and leaves behind.
  void plan_graph() {
    graph_plan plan;
    for (std::size_t i = 0; i < steps_.size();) {
      graph_part part;
      part.begin = i;
      part.eager = runs_eagerly(steps_[i]);
      while (i < steps_.size() && runs_eagerly(steps_[i]) == part.eager) ++i;
      part.end = i;
      if (!part.eager) {
        std::vector<char> written(slots_.size(), 0), released(slots_.size(), 0), read(slots_.size(), 0);
        for (std::size_t j = part.begin; j < part.end; ++j) {
          for_each_read(steps_[j], [&](std::size_t slot) {
            if (!written[slot] && !read[slot]) {
              read[slot] = 1;
              part.reads.push_back(slot);
            }
          });
          written[steps_[j].result] = 1;
          for (std::size_t slot : steps_[j].release) released[slot] = 1;
        }
        for (std::size_t j = part.begin; j < part.end; ++j)
          if (!released[steps_[j].result]) part.writes.push_back(steps_[j].result);
      }
      plan.parts.push_back(std::move(part));
    }
    graph_plan_ = std::move(plan);
  }

  // Appends what identifies `v` for a replay: kind, address, layout.
  static void key_of(const value& v, std::vector<std::int64_t>& key) {
    if (const tensor* t = v.as_tensor()) {
      key.push_back(1);
      key.push_back(static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(t->data())));
      key.push_back(static_cast<std::int64_t>(t->type()));
      key.push_back(t->dim());
      for (std::int64_t d = 0; d < t->dim(); ++d) {
        key.push_back(t->size(d));
        key.push_back(t->stride(d));
      }
    } else if (const std::int64_t* i = v.as_int()) {
      key.push_back(2);
      key.push_back(*i);
    } else if (const bool* b = v.as_bool()) {
      key.push_back(3);
      key.push_back(*b);
    } else if (const double* d = v.as_double()) {
      std::int64_t bits = 0;
      std::memcpy(&bits, d, sizeof bits);
      key.push_back(4);
      key.push_back(bits);
    } else if (const value_list* l = v.as_list()) {
      key.push_back(5);
      key.push_back(static_cast<std::int64_t>(l->size()));
      for (const value& x : *l) key_of(x, key);
    } else {
      key.push_back(v.is_none() ? 0 : 6);
    }
  }

  void run_captured(graph_part& part)
    requires capturing_backend<B>
  {
    std::vector<std::int64_t>& key = key_;
    key.clear();
    for (std::size_t id = 0; id < env_.size(); ++id) key.push_back(bound_[id] ? env_[id] : std::int64_t{-1} << 62);
    for (std::size_t slot : part.reads) key_of(slots_[slot], key);
    recording* r = nullptr;
    for (recording& candidate : part.recordings)
      if (candidate.key == key) r = &candidate;
    if (r == nullptr) {
      r = &capture_part(part);
    } else {
      backend_->replay(r->graph);
      ++graph_stats_.replays;
      for (std::size_t i = part.begin; i < part.end; ++i)
        for (std::size_t slot : steps_[i].release) slots_[slot].reset();
    }
    for (std::size_t i = 0; i < part.writes.size(); ++i) slots_[part.writes[i]] = r->results[i];
    for (const auto& [id, x] : r->symbols) {
      env_[id] = x;
      bound_[id] = true;
    }
  }

  // Captures `part` (run as in run(), recorded), then replays it once: the
  // capture only recorded the work.
  recording& capture_part(graph_part& part)
    requires capturing_backend<B>
  {
    recording r;
    r.key = key_;
    backend_->begin_capture();
    std::size_t i = part.begin;
    try {
      for (; i < part.end; ++i) {
        execute(steps_[i]);
        for (std::size_t slot : steps_[i].release) slots_[slot].reset();
      }
    } catch (const error& e) {
      backend_->abort_capture();
      throw run_error("wrapgraph.run.not_capturable", "node '" + steps_[i].name + "' cannot be captured into a graph: " +
                                                          e.what());
    } catch (...) {
      backend_->abort_capture();
      throw;
    }
    r.graph = backend_->end_capture();
    for (std::size_t slot : part.writes) r.results.push_back(slots_[slot]);
    for (std::size_t j = part.begin; j < part.end; ++j)
      if (steps_[j].defines_symbol >= 0) {
        const auto id = static_cast<std::size_t>(steps_[j].defines_symbol);
        r.symbols.emplace_back(id, env_[id]);
      }
    backend_->replay(r.graph);
    ++graph_stats_.captures;
    if (part.recordings.size() == 8) part.recordings.erase(part.recordings.begin());
    part.recordings.push_back(std::move(r));
    return part.recordings.back();
  }

  device_memory& host_memory_() {
    if (!host_) host_ = std::make_shared<host_memory>();
    return *host_;
  }

  B* backend_ = nullptr;
  std::shared_ptr<sym::context> context_;
  std::vector<input_spec> inputs_;
  std::vector<std::string> input_names_;
  std::vector<input_check> checks_;
  std::vector<std::pair<std::size_t, tensor>> constants_;  // get_attr slots, filled at every run
  std::vector<step> steps_;
  std::vector<std::size_t> leftover_;  // slots no step releases: cleared after a run
  operand output_;
  std::vector<value> slots_;
  std::vector<std::int64_t> env_;
  std::vector<bool> bound_;
  std::vector<tuning_choice> tuning_;
  std::mt19937_64 random_;
  std::shared_ptr<host_memory> host_;
  std::optional<graph_plan> graph_plan_;  // made by the first run_graph
  std::vector<std::int64_t> key_;           // scratch for run_captured
  graph_stats graph_stats_;
};

namespace detail {

/// Builds an executable from a graph, node by node.
template <backend B>
class planner {
 public:
  planner(const graph::graph& g, B& b, const compile_options& options, executable<B>& out)
      : g_(g), b_(b), options_(options), x_(out) {}

  void run() {
    ops_ = options_.operators;
    if constexpr (requires { b_.operators(); }) {
      if (!ops_) ops_ = &b_.operators();
    }
    x_.backend_ = &b_;
    x_.context_ = g_.context();
    x_.random_.seed(options_.seed);
    x_.slots_.resize(g_.size());
    const std::size_t symbols = g_.context()->symbols().size();
    x_.env_.assign(symbols, 0);
    x_.bound_.assign(symbols, false);
    const auto last = graph::last_uses(g_);
    std::vector<std::vector<std::size_t>> released(g_.size());
    for (graph::vertex v = 0; v < g_.size(); ++v) {
      if (last[v] && g_[*last[v]].op != graph::op_kind::output)
        released[*last[v]].push_back(v);
      else if (g_[v].op != graph::op_kind::output && g_[v].target != "wrapgraph.kernel_call")
        x_.leftover_.push_back(v);
    }
    for (graph::vertex v = 0; v < g_.size(); ++v) {
      const graph::node& n = g_[v];
      switch (n.op) {
        case graph::op_kind::placeholder: placeholder(v); break;
        case graph::op_kind::get_attr: get_attr(v); break;
        case graph::op_kind::output: x_.output_ = operand_of(n.args.at(0)); break;
        case graph::op_kind::call: {
          typename executable<B>::step s{v, n.name, -1, std::move(released[v]), call(v)};
          if (const graph::int_meta* m = n.integer(); m && m->value && m->value.is_symbol())
            s.defines_symbol = static_cast<std::ptrdiff_t>(m->value.symbol_id());
          x_.steps_.push_back(std::move(s));
          break;
        }
      }
    }
  }

 private:
  using step_body = typename executable<B>::step_body;
  using input_spec = typename executable<B>::input_spec;

  [[noreturn]] void fail(const char* id, graph::vertex v, const std::string& message) const {
    throw run_error(id, "node '" + g_[v].name + "' (" + std::string(g_[v].target) + "): " + message);
  }

  void placeholder(graph::vertex v) {
    const graph::node& n = g_[v];
    input_spec spec;
    spec.name = n.name;
    spec.slot = v;
    const std::size_t index = x_.inputs_.size();
    if (const graph::tensor_meta* t = n.tensor()) {
      spec.k = input_spec::kind::tensor;
      spec.type = t->type;
      spec.dev = t->dev.kind;
      spec.rank = t->size.size();
      for (std::size_t d = 0; d < t->size.size(); ++d) {
        for (const bool stride : {false, true}) {
          typename executable<B>::input_check c{index, d, stride, stride ? t->stride[d] : t->size[d], {}, {}};
          if (!c.expected.is_integer() && !c.expected.is_symbol()) {
            c.compound.emplace(c.expected);
            for (sym::expr s : c.compound->symbols()) c.symbol_ids.push_back(s.symbol_id());
          }
          x_.checks_.push_back(std::move(c));
        }
      }
    } else if (const graph::int_meta* i = n.integer()) {
      spec.k = input_spec::kind::integer;
      spec.symbol = i->value;
    }
    x_.input_names_.push_back(n.name);
    x_.inputs_.push_back(std::move(spec));
  }

  void get_attr(graph::vertex v) {
    const graph::node& n = g_[v];
    if (const graph::graph* body = g_.find_subgraph(n.target)) {
      auto sub = std::make_shared<executable<B>>();
      planner<B>(*body, b_, options_, *sub).run();
      subgraphs_[v] = std::move(sub);
      return;
    }
    const constant_decl* c = g_.find_constant(n.target);
    if (!c) fail("wrapgraph.compile.unknown_attribute", v, "no constant or subgraph is named '" + std::string(n.target) + "'");
    constants_[v] = make_constant(*c, v);
    x_.constants_.emplace_back(v, constants_[v]);
  }

  // A constant's tensor on the backend's device, filled from its data.
  tensor make_constant(const constant_decl& c, graph::vertex v) {
    extents size, stride;
    for (const sym::expr& e : c.layout.size) size.push_back(static_int(e, v, "size"));
    for (const sym::expr& e : c.layout.stride) stride.push_back(static_int(e, v, "stride"));
    const std::int64_t offset = c.layout.offset ? static_int(c.layout.offset, v, "offset") : 0;
    auto host = std::make_shared<host_memory>();
    tensor staged = empty_strided(*host, c.layout.type, size, stride, offset);
    if (!c.data.is_array() || static_cast<std::int64_t>(c.data.size()) != staged.numel())
      fail("wrapgraph.compile.bad_constant", v, "constant '" + c.name + "' has " + std::to_string(c.data.size()) +
                                                    " data elements for " + std::to_string(staged.numel()) + " elements");
    if (const std::int64_t bad = fill_from_json(staged, c.data); bad >= 0)
      fail("wrapgraph.compile.bad_constant", v, "element " + std::to_string(bad) + " of constant '" + c.name + "' is not a number");
    return on_backend(b_, std::move(staged));
  }

  std::int64_t static_int(sym::expr e, graph::vertex v, const char* what) const {
    if (!e.is_integer()) fail("wrapgraph.compile.symbolic_constant", v, std::string("a constant's ") + what + " must be an integer, got " + sym::to_string(e));
    return e.value();
  }

  // ---- operands ------------------------------------------------------------

  operand operand_of(const graph::argument& a) {
    operand o;
    if (const graph::node_ref* r = a.as_node()) {
      if (const auto it = constants_.find(r->node); it != constants_.end()) {
        o.constant = it->second;
        return o;
      }
      o.k = operand::kind::slot;
      o.slot = r->node;
      return o;
    }
    if (const graph::argument_list* l = a.as_list()) {
      o.k = operand::kind::list;
      for (const graph::argument& x : *l) o.items.push_back(operand_of(x));
      return o;
    }
    std::visit(
        [&](const auto& x) {
          using T = std::remove_cvref_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) o.constant = value{};
          else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> || std::is_same_v<T, bool> ||
                             std::is_same_v<T, std::string>)
            o.constant = value(x);
          else if constexpr (std::is_same_v<T, graph::argument_map>) {
            // A map (a kernel's config) is passed as a list of [key, value] pairs.
            o.k = operand::kind::list;
            for (const auto& [k, item] : x) {
              operand pair;
              pair.k = operand::kind::list;
              operand key;
              key.constant = value(k);
              pair.items.push_back(std::move(key));
              pair.items.push_back(operand_of(item));
              o.items.push_back(std::move(pair));
            }
          }
        },
        a.value);
    return o;
  }

  int_operand int_of(const graph::argument& a, graph::vertex v, const char* what) const {
    if (const std::int64_t* i = a.as_int()) return {*i, -1};
    if (const graph::node_ref* r = a.as_node()) {
      if (!g_[r->node].integer() && g_[r->node].op != graph::op_kind::placeholder)
        fail("wrapgraph.compile.bad_argument", v, std::string(what) + " must be an integer, '" + g_[r->node].name + "' is not");
      return {0, static_cast<std::ptrdiff_t>(r->node)};
    }
    fail("wrapgraph.compile.bad_argument", v, std::string(what) + " must be an integer");
  }

  std::vector<int_operand> ints_of(const graph::argument& a, graph::vertex v, const char* what) const {
    const graph::argument_list* l = a.as_list();
    if (!l) fail("wrapgraph.compile.bad_argument", v, std::string(what) + " must be a list");
    std::vector<int_operand> out;
    for (const graph::argument& x : *l) out.push_back(int_of(x, v, what));
    return out;
  }

  std::size_t slot_of(const graph::argument& a, graph::vertex v, const char* what) const {
    const graph::node_ref* r = a.as_node();
    if (!r) fail("wrapgraph.compile.bad_argument", v, std::string(what) + " must be a node");
    return r->node;
  }

  // ---- calls ---------------------------------------------------------------

  step_body call(graph::vertex v) {
    const graph::node& n = g_[v];
    const std::string_view t = n.target;
    if (t == "torch.empty_strided" || t == "wrapgraph.comm_buffer_allocate") {
      const graph::tensor_meta* m = n.tensor();
      if (!m || n.args.size() != 2) fail("wrapgraph.compile.bad_node", v, "an allocation takes (size, stride) and has tensor meta");
      typename executable<B>::alloc_step a{m->type, ints_of(n.args[0], v, "a size"), ints_of(n.args[1], v, "a stride"),
                                           {}, 0};
      // Constant and valid: laid out once here. (A bad layout is left to the
      // run, which says what is wrong with it.)
      const auto fixed = [](const int_operand& o) { return o.slot < 0 && o.constant >= 0; };
      if (std::all_of(a.size.begin(), a.size.end(), fixed) && std::all_of(a.stride.begin(), a.stride.end(), fixed) &&
          a.size.size() == a.stride.size()) {
        extents size, stride;
        for (const int_operand& o : a.size) size.push_back(o.constant);
        for (const int_operand& o : a.stride) stride.push_back(o.constant);
        a.fixed_bytes = static_cast<std::size_t>(required_elements({size.data(), size.size()}, {stride.data(), stride.size()}, 0)) *
                        size_of(a.type);
        a.fixed.emplace(std::move(size), std::move(stride));
      }
      return a;
    }
    if (t == "torch.as_strided") {
      if (n.args.size() != 4) fail("wrapgraph.compile.bad_node", v, "as_strided takes (input, size, stride, offset)");
      return typename executable<B>::view_step{slot_of(n.args[0], v, "the input"), ints_of(n.args[1], v, "a size"),
                                               ints_of(n.args[2], v, "a stride"), int_of(n.args[3], v, "the offset")};
    }
    if (t == "wrapgraph.kernel_call") return kernel(v);
    if (const auto op = int_op_of(t); op && all_ints(n)) {
      const int_operand a = int_of(n.args.at(0), v, "an operand");
      const int_operand b = n.args.size() > 1 ? int_of(n.args[1], v, "an operand") : int_operand{};
      return typename executable<B>::int_step{*op, a, b};
    }
    if ((t == "aten.sym_size.int" || t == "aten.sym_stride.int") && n.args.size() == 2) {
      using k = typename executable<B>::shape_step::kind;
      return typename executable<B>::shape_step{t == "aten.sym_size.int" ? k::size : k::stride,
                                                slot_of(n.args[0], v, "the input"), int_of(n.args[1], v, "the dim")};
    }
    if (t == "aten.sym_storage_offset.default" && n.args.size() == 1) {
      return typename executable<B>::shape_step{executable<B>::shape_step::kind::offset, slot_of(n.args[0], v, "the input"), {}};
    }
    if (t == "operator.getitem" && n.args.size() == 2 && n.args[1].as_int() && n.args[0].as_node() &&
        !g_[n.args[0].as_node()->node].tensor()) {
      return typename executable<B>::getitem_step{n.args[0].as_node()->node, *n.args[1].as_int()};
    }
    if (t == "higher_order.cond") return cond(v);
    const operator_fn* fn = ops_ ? ops_->find(t, b_.dev().kind) : nullptr;
    if (!fn)
      fail("wrapgraph.compile.unknown_operator", v, "no operator '" + std::string(t) + "' is registered for " +
                                                        (b_.dev().kind == device_kind::cpu ? "cpu" : "cuda"));
    const bool eager = ops_->flags(t, b_.dev().kind) == operator_flags::eager;
    typename executable<B>::op_step s{fn, eager, std::string(t), {}, {}, std::vector<value>(n.args.size()), {}};
    for (const graph::argument& a : n.args) s.args.push_back(operand_of(a));
    for (const auto& [k, a] : n.kwargs) {
      s.kwargs.push_back(operand_of(a));
      s.kwarg_values.emplace_back(k, value{});
    }
    return s;
  }

  // True when every argument is an int or an int-valued node.
  bool all_ints(const graph::node& n) const {
    for (const graph::argument& a : n.args) {
      if (a.as_int()) continue;
      const graph::node_ref* r = a.as_node();
      if (!r) return false;
      const graph::node& used = g_[r->node];
      if (!used.integer()) return false;
    }
    return !n.args.empty() && n.args.size() <= 2;
  }

  step_body cond(graph::vertex v) {
    const graph::node& n = g_[v];
    if (n.args.size() != 4) fail("wrapgraph.compile.bad_node", v, "cond takes (predicate, true_graph, false_graph, operands)");
    auto sub = [&](const graph::argument& a) {
      const graph::node_ref* r = a.as_node();
      const auto it = r ? subgraphs_.find(r->node) : subgraphs_.end();
      if (it == subgraphs_.end()) fail("wrapgraph.compile.bad_node", v, "a branch of cond must be a subgraph");
      return it->second;
    };
    typename executable<B>::cond_step s{operand_of(n.args[0]), sub(n.args[1]), sub(n.args[2]), {}};
    const graph::argument_list* operands = n.args[3].as_list();
    if (!operands) fail("wrapgraph.compile.bad_node", v, "cond's operands must be a list");
    for (const graph::argument& a : *operands) s.operands.push_back(operand_of(a));
    return s;
  }

  step_body kernel(graph::vertex v) {
    const graph::node& n = g_[v];
    const graph::argument* name = n.kwarg("kernel");
    const graph::argument* grid = n.kwarg("grid");
    const graph::argument* args = n.kwarg("args");
    if (!name || !name->as_string() || !grid || !grid->as_list() || grid->as_list()->size() != 3 || !args ||
        !args->as_list())
      fail("wrapgraph.compile.bad_node", v, "a kernel call has kwargs kernel, grid (3 ints) and args (a list)");
    const kernel_definition_line* def = g_.find_kernel(*name->as_string());
    if (!def) fail("wrapgraph.compile.unknown_kernel", v, "the graph defines no kernel '" + *name->as_string() + "'");
    const std::vector<const kernel_param*> launched = launched_parameters(*def);
    const graph::argument_list& values = *args->as_list();
    if (values.size() != launched.size())
      fail("wrapgraph.compile.bad_node", v, "kernel '" + def->kernel + "' takes " + std::to_string(launched.size()) +
                                               " arguments, the node passes " + std::to_string(values.size()));
    typename executable<B>::kernel_step k;
    using kind = typename executable<B>::kernel_param::kind;
    for (std::size_t i = 0; i < launched.size(); ++i) {
      const std::string& type = launched[i]->type;
      kind pk;
      if (type.starts_with("*")) pk = kind::pointer;
      else if (type == "i32") pk = kind::i32;
      else if (type == "i64") pk = kind::i64;
      else if (type == "fp32") pk = kind::f32;
      else if (type == "fp64") pk = kind::f64;
      else fail("wrapgraph.compile.bad_node", v, "parameter '" + launched[i]->name + "' has type '" + type + "'");
      operand source = operand_of(values[i]);
      if (pk == kind::pointer) {
        const graph::node_ref* r = values[i].as_node();
        if (!r || !(g_[r->node].tensor() || constants_.contains(r->node)))
          fail("wrapgraph.compile.bad_node", v, "argument " + std::to_string(i) + " ('" + launched[i]->name + "') must be a tensor");
      }
      k.params.push_back({pk, std::move(source)});
    }
    k.cells.assign(k.params.size(), 0);
    k.pointers.resize(k.params.size());
    for (std::size_t i = 0; i < k.params.size(); ++i) {
      k.pointers[i] = &k.cells[i];
      if (k.params[i].source.k == operand::kind::constant)
        x_.fill_param(g_[v].name, i, k.params[i], k.cells[i]);
      else
        k.dynamic.push_back(static_cast<std::uint32_t>(i));
    }
    const graph::argument_list& g = *grid->as_list();
    k.static_grid = true;
    for (std::size_t d = 0; d < 3; ++d) {
      k.grid[d] = int_of(g[d], v, "a grid dimension");
      k.static_grid = k.static_grid && k.grid[d].slot < 0;
      k.fixed_grid[d] = k.grid[d].constant;
    }

    const std::size_t config = choose_config(v, *def, k);
    k.kernel = b_.load_kernel(*def, config);
    if (config != 0) {
      const std::vector<sym::expr>* launch = g_.launch_grid(v);
      const auto values_of = config_substitution(*g_.context(), def->configs[config]);
      for (const sym::expr& e : *launch) {
        const sym::expr concrete = sym::substitute(e, std::span<const std::pair<sym::expr, sym::expr>>(values_of));
        sym::compiled_expr c(concrete);
        std::vector<std::size_t> ids;
        for (sym::expr s : c.symbols()) ids.push_back(s.symbol_id());
        if (ids.size() > 16) fail("wrapgraph.compile.bad_node", v, "a grid reads more than 16 symbols");
        k.symbolic_grid.push_back(std::move(c));
        k.grid_symbols.push_back(std::move(ids));
      }
    }
    return k;
  }

  // The config to launch node v with: timed at the hints when the kernel has
  // several and every symbol involved has a hint.
  std::size_t choose_config(graph::vertex v, const kernel_definition_line& def,
                            const typename executable<B>::kernel_step& k) {
    tuning_choice choice{g_[v].name, def.kernel, 0, {}, {}};
    if (def.configs.size() <= 1) return 0;
    if (!options_.autotune) {
      choice.reason = "autotuning off";
      x_.tuning_.push_back(std::move(choice));
      return 0;
    }
    choice.reason = "not timed";
    choice.config = time_configs(v, def, k, choice);
    if (options_.log) {
      std::ostringstream line;
      line.precision(3);
      line << "autotune " << def.kernel << " (node " << g_[v].name << "): config " << choice.config;
      if (!choice.seconds.empty()) {
        line << " of " << choice.seconds.size() << " (us per launch:";
        for (double s : choice.seconds) line << " " << s * 1e6;
        line << ")";
      } else {
        line << " (" << choice.reason << ")";
      }
      options_.log(line.str());
    }
    x_.tuning_.push_back(std::move(choice));
    return x_.tuning_.back().config;
  }

  std::size_t time_configs(graph::vertex v, const kernel_definition_line& def,
                           const typename executable<B>::kernel_step& k, tuning_choice& choice);

  const graph::graph& g_;
  B& b_;
  const compile_options& options_;
  executable<B>& x_;
  const operator_registry* ops_ = nullptr;
  std::unordered_map<graph::vertex, std::shared_ptr<executable<B>>> subgraphs_;
  std::unordered_map<graph::vertex, tensor> constants_;
};

template <backend B>
std::size_t planner<B>::time_configs(graph::vertex v, const kernel_definition_line& def,
                                     const typename executable<B>::kernel_step& k, tuning_choice& choice) {
  const graph::node& n = g_[v];
  const std::vector<sym::expr>* launch = g_.launch_grid(v);
  if (!launch) {
    choice.reason = "no symbolic grid";
    return 0;
  }
  // Every value the launch needs, at the hints.
  std::optional<std::string> missing;
  auto at_hints = [&](sym::expr e) -> std::int64_t {
    for (sym::expr s : sym::free_symbols(e))
      if (!options_.hints.find(s.name()) && !missing) missing = std::string(s.name());
    return missing ? 0 : sym::evaluate(e, options_.hints);
  };
  // The arguments: zeroed scratch tensors with the layouts of the call's
  // tensors, and the call's scalars, at the hints.
  using operand_kind = typename operand::kind;
  std::vector<std::uint64_t> cells(k.params.size(), 0);
  std::vector<void*> pointers(k.params.size());
  std::vector<value> values(k.params.size());
  for (std::size_t i = 0; i < k.params.size() && !missing; ++i) {
    const operand& source = k.params[i].source;
    pointers[i] = &cells[i];
    if (source.k != operand_kind::slot) {
      values[i] = source.constant;
    } else if (const graph::tensor_meta* m = g_[source.slot].tensor()) {
      extents size, stride;
      for (const sym::expr& e : m->size) size.push_back(at_hints(e));
      for (const sym::expr& e : m->stride) stride.push_back(at_hints(e));
      const std::int64_t offset = at_hints(m->offset);
      if (missing) break;
      tensor t = empty_strided(*b_.memory(), m->type, size, stride, offset);
      const std::vector<char> zeros(t.storage()->bytes(), 0);
      b_.from_host(t.storage()->data(), zeros.data(), zeros.size());
      values[i] = std::move(t);
    } else if (const graph::int_meta* m = g_[source.slot].integer()) {
      values[i] = at_hints(m->value);
    }
    if (!missing) executable<B>::write_param(n.name, i, k.params[i].k, values[i], cells[i]);
  }
  std::vector<launch_grid> grids;
  for (std::size_t c = 0; c < def.configs.size() && !missing; ++c) {
    const auto values_of = config_substitution(*g_.context(), def.configs[c]);
    launch_grid grid{1, 1, 1};
    for (std::size_t d = 0; d < launch->size() && d < 3; ++d)
      grid[d] = at_hints(sym::substitute((*launch)[d], std::span<const std::pair<sym::expr, sym::expr>>(values_of)));
    grids.push_back(grid);
  }
  if (missing) {
    choice.reason = "no hint for " + *missing;
    return 0;
  }
  std::size_t best = 0;
  for (std::size_t c = 0; c < def.configs.size(); ++c) {
    const typename B::kernel kernel = b_.load_kernel(def, c);
    b_.launch(kernel, grids[c], pointers.data());  // warm up
    b_.synchronize();
    double fastest = std::numeric_limits<double>::infinity();
    for (int repeat = 0; repeat < 5; ++repeat)
      fastest = std::min(fastest, b_.seconds([&] { b_.launch(kernel, grids[c], pointers.data()); }));
    choice.seconds.push_back(fastest);
    if (fastest < choice.seconds[best]) best = c;
  }
  choice.reason = "timed";
  return best;
}

}  // namespace detail

/// Compiles `g` for backend `b`: every kernel loaded (and autotuned), every
/// operator found, every operand resolved. Errors: run_error
/// `wrapgraph.compile.*` (unknown operator or kernel, malformed nodes), and
/// the backend's (a kernel that does not compile).
template <backend B>
[[nodiscard]] executable<B> compile(const graph::graph& g, B& b, compile_options options = {}) {
  executable<B> x;
  detail::planner<B>(g, b, options, x).run();
  return x;
}

/// Compiles the graph of a converted program, with the program's symbol
/// hints for autotuning (unless `options.hints` gives values).
template <backend B>
[[nodiscard]] executable<B> compile(const graph::graph& g, const program& p, B& b, compile_options options = {}) {
  for (const auto& [name, decl] : p.symbols)
    if (decl.hint && !options.hints.find(name)) options.hints.set(name, *decl.hint);
  return compile(g, b, std::move(options));
}

}  // namespace wrapgraph::exec

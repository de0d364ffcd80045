#pragma once
/// The graph IR: a Boost.Graph adjacency_list whose vertices are nodes in
/// torch.fx's vocabulary (op, target, args, kwargs, meta, unique names) and
/// whose edges are uses, kept in program order.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include <wrapgraph/detail/arena.hpp>
#include <wrapgraph/detail/string_map.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/context.hpp>

namespace wrapgraph {
struct kernel_definition_line;
struct constant_decl;
}

namespace wrapgraph::graph {

namespace detail {

inline constexpr std::string_view python_keywords[] = {
    "False", "None",   "True",    "and",      "as",       "assert", "async", "await",
    "break", "class",  "continue", "def",     "del",      "elif",   "else",  "except",
    "finally", "for",  "from",    "global",   "if",       "import", "in",    "is",
    "lambda", "nonlocal", "not",  "or",       "pass",     "raise",  "return", "try",
    "while", "with",   "yield"};

/// Besides the keywords, the names printed Python could not bind to a node:
/// the method's `self` and the modules the printed code calls into.
inline constexpr std::string_view reserved_names[] = {"self", "torch", "operator", "wrapgraph"};

// A fixed set of words and, worked out at compile time, the lengths of the
// words that start with each character (as bits): most names (buf12,
// sym_size_int_3) match no word in first character and length, and are told
// apart by one load, without comparing characters.
template <std::size_t N>
struct word_set {
  const std::string_view* words;
  std::uint64_t lengths[128];

  constexpr explicit word_set(const std::string_view (&w)[N]) : words(w), lengths{} {
    for (std::size_t i = 0; i < N; ++i)
      lengths[static_cast<unsigned char>(w[i].front()) % 128] |= std::uint64_t{1} << w[i].size();
  }
  [[nodiscard]] constexpr bool contains(std::string_view s) const noexcept {
    if (s.empty() || s.size() >= 64 || !((lengths[static_cast<unsigned char>(s.front()) % 128] >> s.size()) & 1))
      return false;
    for (std::size_t i = 0; i < N; ++i)
      if (words[i] == s) return true;
    return false;
  }
};

inline constexpr word_set keywords{python_keywords};
inline constexpr word_set other_reserved_names{reserved_names};

/// True for Python's keywords, which cannot name a value.
[[nodiscard]] constexpr bool is_python_keyword(std::string_view s) noexcept { return keywords.contains(s); }

/// True for names a node cannot take: Python's keywords and reserved_names.
[[nodiscard]] constexpr bool is_reserved_name(std::string_view s) noexcept {
  return keywords.contains(s) || other_reserved_names.contains(s);
}

}  // namespace detail

/// What a node is, as torch.fx names it (`call` is fx's call_function).
enum class op_kind : std::uint8_t { placeholder, get_attr, call, output };

[[nodiscard]] constexpr std::string_view to_string(op_kind op) noexcept {
  constexpr std::string_view names[] = {"placeholder", "get_attr", "call", "output"};
  return names[static_cast<std::size_t>(op)];
}

/// A vertex of the graph: its index in program order.
using vertex = std::size_t;

/// A use of another node's value.
struct node_ref {
  vertex node;
  friend constexpr bool operator==(node_ref, node_ref) = default;
};

/// The allocator of the lists in a node: it draws from the arena of the
/// graph that made it (see graph::allocator()), or from the heap when
/// default-constructed, so that lists built anywhere still work. Moves keep
/// the allocator and copies take the heap one, as std::pmr's allocators do
/// across containers; unlike those, a move assignment takes the source's
/// arena, so that moving a list into a node never copies it.
///
/// A list moved out of a node keeps pointing into its graph's arena, so it
/// must not outlive the graph; a copy is independent.
template <class T>
class node_allocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using propagate_on_container_copy_assignment = std::false_type;
  using is_always_equal = std::false_type;

  node_allocator() noexcept = default;
  explicit node_allocator(wrapgraph::detail::arena* a) noexcept : arena_(a) {}
  template <class U>
  node_allocator(const node_allocator<U>& other) noexcept : arena_(other.arena()) {}

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    if (!arena_) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!arena_)
      ::operator delete(p, n * sizeof(T));
    else
      arena_->deallocate(p, n * sizeof(T));
  }
  /// Copies of a list are on the heap: they outlive the graph they came from.
  [[nodiscard]] node_allocator select_on_container_copy_construction() const noexcept { return {}; }

  [[nodiscard]] wrapgraph::detail::arena* arena() const noexcept { return arena_; }
  template <class U>
  friend bool operator==(const node_allocator& a, const node_allocator<U>& b) noexcept {
    return a.arena() == b.arena();
  }

 private:
  wrapgraph::detail::arena* arena_ = nullptr;
};

/// The vector of a node's lists.
template <class T>
using node_vector = std::vector<T, node_allocator<T>>;

struct argument;
using argument_list = node_vector<argument>;
/// Named arguments in order: a Python dict with string keys, a JSON object
/// (e.g. a kernel call's `config`).
using argument_map = node_vector<std::pair<std::string, argument>>;
/// Sizes and strides in a node's meta.
using expr_list = node_vector<sym::expr>;

/// An argument of a node: None, an integer, a float, a bool, a string, a
/// node, a list of arguments, or a map of named arguments. Symbolic values
/// never appear raw: they are integers or the nodes that compute them.
struct argument {
  std::variant<std::monostate, std::int64_t, double, bool, std::string, node_ref, argument_list, argument_map> value;

  argument() = default;
  argument(std::monostate) {}
  argument(std::int64_t v) : value(v) {}
  argument(int v) : value(std::int64_t{v}) {}
  argument(double v) : value(v) {}
  argument(bool v) : value(v) {}
  argument(std::string v) : value(std::move(v)) {}
  argument(const char* v) : value(std::string(v)) {}
  argument(node_ref v) : value(v) {}
  argument(argument_list v) : value(std::move(v)) {}
  argument(argument_map v) : value(std::move(v)) {}

  [[nodiscard]] bool is_none() const noexcept { return std::holds_alternative<std::monostate>(value); }
  [[nodiscard]] const node_ref* as_node() const noexcept { return std::get_if<node_ref>(&value); }
  [[nodiscard]] const argument_list* as_list() const noexcept { return std::get_if<argument_list>(&value); }
  [[nodiscard]] const argument_map* as_map() const noexcept { return std::get_if<argument_map>(&value); }
  [[nodiscard]] const std::int64_t* as_int() const noexcept { return std::get_if<std::int64_t>(&value); }
  [[nodiscard]] const std::string* as_string() const noexcept { return std::get_if<std::string>(&value); }

  friend bool operator==(const argument&, const argument&) = default;
};

/// Keyword arguments in order.
using keyword_arguments = argument_map;

/// Meta of a tensor-valued node.
struct tensor_meta {
  dtype type = dtype::float32;
  device dev = cpu;
  expr_list size;
  expr_list stride;
  sym::expr offset;
};

/// Meta of an integer-valued node: its symbolic value.
struct int_meta {
  sym::expr value;
};

/// What is known of a node's value: a tensor, an integer, or nothing.
using node_meta = std::variant<std::monostate, tensor_meta, int_meta>;

/// A node (the bundled vertex property).
struct node {
  op_kind op = op_kind::call;
  std::string name;    ///< unique in its graph
  /// e.g. "torch.empty_strided", "operator.add", a placeholder's name: the
  /// graph's own copy, shared by its nodes of one target (graph::add makes
  /// it; a view into other storage would outlive it).
  std::string_view target;
  argument_list args;
  keyword_arguments kwargs;
  node_meta meta;

  [[nodiscard]] const tensor_meta* tensor() const noexcept { return std::get_if<tensor_meta>(&meta); }
  [[nodiscard]] const int_meta* integer() const noexcept { return std::get_if<int_meta>(&meta); }
  /// The keyword argument `key`, if present.
  [[nodiscard]] const argument* kwarg(std::string_view key) const noexcept {
    for (const auto& [k, v] : kwargs)
      if (k == key) return &v;
    return nullptr;
  }
};

namespace detail {

// Calls f(ref) for every node reference in `a`, depth first (list elements
// and map values in order), the order of the edges' `use::position`.
template <class F>
void for_each_node_ref(const argument& a, F& f) {
  if (const node_ref* r = a.as_node()) {
    f(*r);
  } else if (const argument_list* l = a.as_list()) {
    for (const argument& x : *l) for_each_node_ref(x, f);
  } else if (const argument_map* m = a.as_map()) {
    for (const auto& kv : *m) for_each_node_ref(kv.second, f);
  }
}

// Every node reference of `n`: args, then kwargs.
template <class F>
void for_each_node_ref(const node& n, F&& f) {
  for (const argument& a : n.args) for_each_node_ref(a, f);
  for (const auto& kv : n.kwargs) for_each_node_ref(kv.second, f);
}

}  // namespace detail

/// A use (the bundled edge property): the edge runs from the used node to
/// the user; `position` is the index of the use among the user's node
/// references in args then kwargs, flattened depth first (list elements and
/// map values in order).
struct use {
  std::size_t position = 0;
};

/// BGL's storage selector for a node's lists of uses (its out- and in-edge
/// lists): a std::vector with a node_allocator, so that graph::add puts them
/// in the graph's arena. It behaves as boost::vecS.
struct use_list_s {};

}  // namespace wrapgraph::graph

namespace boost {
template <class T>
struct container_gen<wrapgraph::graph::use_list_s, T> {
  using type = wrapgraph::graph::node_vector<T>;
};
template <>
struct parallel_edge_traits<wrapgraph::graph::use_list_s> {
  using type = allow_parallel_edge_tag;
};
}  // namespace boost

namespace wrapgraph::graph {

/// The Boost.Graph type: BGL algorithms (topological_sort, write_graphviz,
/// ...) work on it directly.
using ir = boost::adjacency_list<use_list_s, boost::vecS, boost::bidirectionalS, node, use, boost::no_property,
                                 boost::vecS>;

/// A graph: the BGL graph in program order, its names, its output, its
/// subgraphs, and the context of the expressions in its meta.
class graph {
 public:
  // Defined after named_subgraph is complete: a constructor's cleanup
  // destroys the vector of subgraphs, which clang instantiates on the spot.
  explicit graph(std::shared_ptr<sym::context> ctx = std::make_shared<sym::context>());

  // Boost's adjacency_list has no move operations (a move would copy every
  // node and edge), and its edges point at its edge vector, so the BGL graph
  // lives on the heap: moving a graph moves a pointer, copying it copies
  // everything. A moved-from graph is empty and usable.
  graph(const graph& other);
  graph(graph&& other) noexcept;
  graph& operator=(const graph& other) {
    if (this != &other) *this = graph(other);
    return *this;
  }
  graph& operator=(graph&& other) noexcept;
  ~graph() = default;

  /// Appends a node named `name_hint` or, when taken (or reserved: a Python
  /// keyword, `self`, `torch`, `operator`, `wrapgraph`), `name_hint_1`,
  /// `name_hint_2`, ... (as torch.fx names nodes) and an edge for each use.
  vertex add(op_kind op, std::string_view name_hint, std::string_view target, argument_list args = {},
             keyword_arguments kwargs = {}, node_meta meta = {}) {
    ir& g = bgl();
    const vertex v = boost::add_vertex(g);
    auto& stored = g.m_vertices[v];
    stored.m_out_edges = decltype(stored.m_out_edges)(allocator());
    stored.m_in_edges = decltype(stored.m_in_edges)(allocator());
    node& n = g[v];
    n.op = op;
    n.name = claim_name(name_hint, v);
    n.target = targets_.intern(target);
    n.args = std::move(args);
    n.kwargs = std::move(kwargs);
    n.meta = std::move(meta);
    add_uses(v);
    return v;
  }

  // Without a meta, the node's meta is made in place: GCC 12 warns of a
  // default meta moved through a parameter as maybe uninitialized.
  vertex placeholder(std::string_view name) { return add(op_kind::placeholder, name, name, {}, {}, {}); }
  vertex placeholder(std::string_view name, node_meta meta) {
    return add(op_kind::placeholder, name, name, {}, {}, std::move(meta));
  }
  vertex get_attr(std::string_view name) { return add(op_kind::get_attr, name, name, {}, {}, {}); }
  vertex get_attr(std::string_view name, node_meta meta) {
    return add(op_kind::get_attr, name, name, {}, {}, std::move(meta));
  }
  vertex call(std::string_view target, std::string_view name_hint, argument_list args, keyword_arguments kwargs = {},
              node_meta meta = {}) {
    return add(op_kind::call, name_hint, target, std::move(args), std::move(kwargs), std::move(meta));
  }
  /// Sets the graph's output node (one per graph, last).
  vertex set_output(argument value) {
    WRAPGRAPH_ASSERT(!output_, "graph::set_output called twice");
    output_ = add(op_kind::output, "output", "output", {std::move(value)});
    return *output_;
  }

  /// Renames node `v` to `name` (or its first free variant); returns the name.
  const std::string& rename(vertex v, std::string_view name) {
    node& n = bgl()[v];
    if (n.name == name) return n.name;
    names_.erase(n.name);
    n.name = claim_name(name, v);
    return n.name;
  }

  /// Room for `nodes` nodes and about twice as many uses, so that building a
  /// large graph does not move it around.
  void reserve(std::size_t nodes) {
    ir& g = bgl();
    g.m_vertices.reserve(nodes);
    g.m_edges.reserve(2 * nodes);
    wrapgraph::detail::advise_huge_pages(g.m_vertices);
    wrapgraph::detail::advise_huge_pages(g.m_edges);
    names_.reserve(nodes);
    (void)allocator();
    arena_->expect(nodes * expected_list_bytes);
  }

  /// An allocator for the lists of this graph's nodes (args, kwargs, sizes,
  /// strides): lists built with it live in the graph's arena, in large
  /// chunks, and cost no allocation call of their own. Lists built without
  /// it work the same from the heap.
  template <class T = argument>
  [[nodiscard]] node_allocator<T> allocator() {
    if (!arena_) arena_ = std::make_unique<wrapgraph::detail::arena>();
    return node_allocator<T>(arena_.get());
  }

  [[nodiscard]] node& operator[](vertex v) { return bgl()[v]; }
  [[nodiscard]] const node& operator[](vertex v) const { return bgl()[v]; }
  [[nodiscard]] std::size_t size() const noexcept { return g_ ? boost::num_vertices(*g_) : 0; }
  [[nodiscard]] std::optional<vertex> find(std::string_view name) const {
    const vertex* found = names_.find(name);
    if (!found) return std::nullopt;
    return *found;
  }
  [[nodiscard]] std::optional<vertex> output() const noexcept { return output_; }

  /// The Boost.Graph view, for BGL algorithms.
  [[nodiscard]] ir& bgl() {
    if (!g_) g_ = std::make_unique<ir>();
    return *g_;
  }
  [[nodiscard]] const ir& bgl() const noexcept {
    static const ir empty;
    return g_ ? *g_ : empty;
  }

  /// The context that owns the expressions in meta.
  [[nodiscard]] const std::shared_ptr<sym::context>& context() const noexcept { return ctx_; }

  /// Subgraphs referenced by get_attr nodes, in order of creation.
  struct named_subgraph;
  [[nodiscard]] std::vector<named_subgraph>& subgraphs() noexcept { return subgraphs_; }
  [[nodiscard]] const std::vector<named_subgraph>& subgraphs() const noexcept { return subgraphs_; }
  [[nodiscard]] const graph* find_subgraph(std::string_view name) const;

  /// The kernels this graph's kernel_call nodes launch, by name: what a
  /// backend compiles. Copies of a graph share the (immutable) definitions.
  [[nodiscard]] const std::map<std::string, std::shared_ptr<const kernel_definition_line>, std::less<>>& kernels()
      const noexcept {
    return kernels_;
  }
  void define_kernel(std::string name, std::shared_ptr<const kernel_definition_line> definition) {
    kernels_.insert_or_assign(std::move(name), std::move(definition));
  }
  /// The kernel definition `name`, or null.
  [[nodiscard]] const kernel_definition_line* find_kernel(std::string_view name) const {
    const auto it = kernels_.find(name);
    return it == kernels_.end() ? nullptr : it->second.get();
  }

  /// The constants this graph's get_attr nodes read, by name, with their
  /// data. Copies of a graph share them.
  [[nodiscard]] const std::map<std::string, std::shared_ptr<const constant_decl>, std::less<>>& constants()
      const noexcept {
    return constants_;
  }
  void define_constant(std::string name, std::shared_ptr<const constant_decl> constant) {
    constants_.insert_or_assign(std::move(name), std::move(constant));
  }
  /// The constant `name`, or null.
  [[nodiscard]] const constant_decl* find_constant(std::string_view name) const {
    const auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : it->second.get();
  }

  /// The grid of a kernel_call node as expressions in which the kernel's
  /// config parameters (e.g. XBLOCK) are still symbols, kept for kernels of
  /// several configs: the node's `grid` holds it for the first config, and
  /// a backend that picks another config works the grid out from this.
  [[nodiscard]] const std::vector<sym::expr>* launch_grid(vertex v) const {
    const auto it = launch_grids_.find(v);
    return it == launch_grids_.end() ? nullptr : &it->second;
  }
  void set_launch_grid(vertex v, std::vector<sym::expr> grid) { launch_grids_.insert_or_assign(v, std::move(grid)); }

 private:
  // Takes `hint` (sanitised) or its first free variant `hint_N` as the name
  // of `v`: one probe of the name table when the hint is free.
  std::string claim_name(std::string_view hint, vertex v) {
    std::string base = sanitize(hint);
    if (!detail::is_reserved_name(base) && names_.try_emplace(base, v).second) return base;
    std::size_t& counter = *suffix_.try_emplace(base, 0).first;
    std::string candidate;
    do {
      candidate = base + "_" + std::to_string(++counter);
    } while (!names_.try_emplace(candidate, v).second);
    return candidate;
  }

  // A Python identifier: other characters become '_', a leading digit gets
  // a '_' in front.
  static std::string sanitize(std::string_view hint) {
    std::string s(hint.empty() ? std::string_view("node") : hint);
    for (char& c : s)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
    if (s[0] >= '0' && s[0] <= '9') s.insert(s.begin(), '_');
    return s;
  }

  void add_uses(vertex user) {
    ir& g = *g_;
    // One walk of the arguments: most nodes use a handful of values, kept on
    // the stack until the user's in-edge list is made at its final size.
    constexpr std::size_t on_stack = 16;
    vertex used_here[on_stack];
    std::vector<vertex> used_more;
    std::size_t count = 0;
    detail::for_each_node_ref(g[user], [&](node_ref r) {
      WRAPGRAPH_ASSERT(r.node < user, "a node may only use nodes created before it");
      if (count < on_stack) {
        used_here[count] = r.node;
      } else {
        if (used_more.empty()) used_more.assign(used_here, used_here + on_stack);
        used_more.push_back(r.node);
      }
      ++count;
    });
    const vertex* used = count <= on_stack ? used_here : used_more.data();
    g.m_vertices[user].m_in_edges.reserve(count);  // one allocation for the user's uses
    for (std::size_t position = 0; position < count; ++position)
      boost::add_edge(used[position], user, use{position}, g);
  }

  // About what the lists of a converted node take in the arena.
  static constexpr std::size_t expected_list_bytes = 256;

  std::shared_ptr<sym::context> ctx_;
  // Declared before the BGL graph, so destroyed after the nodes that use it.
  std::unique_ptr<wrapgraph::detail::arena> arena_;
  std::unique_ptr<ir> g_;
  wrapgraph::detail::string_map<vertex> names_;
  wrapgraph::detail::string_map<std::size_t> suffix_;
  wrapgraph::detail::string_map<char> targets_;  // the nodes' targets, each kept once
  std::optional<vertex> output_;
  std::vector<named_subgraph> subgraphs_;
  std::map<std::string, std::shared_ptr<const kernel_definition_line>, std::less<>> kernels_;
  std::map<std::string, std::shared_ptr<const constant_decl>, std::less<>> constants_;
  std::unordered_map<vertex, std::vector<sym::expr>> launch_grids_;
};

/// A subgraph and the name its get_attr node uses.
struct graph::named_subgraph {
  std::string name;
  graph body;
};

inline graph::graph(std::shared_ptr<sym::context> ctx) : ctx_(std::move(ctx)), g_(std::make_unique<ir>()) {}

inline graph::graph(const graph& other)
    : ctx_(other.ctx_),
      g_(std::make_unique<ir>(other.bgl())),
      names_(other.names_),
      suffix_(other.suffix_),
      targets_(other.targets_),
      output_(other.output_),
      subgraphs_(other.subgraphs_),
      kernels_(other.kernels_),
      constants_(other.constants_),
      launch_grids_(other.launch_grids_) {
  ir& g = *g_;  // the copied nodes name the other graph's targets
  for (vertex v = 0; v < boost::num_vertices(g); ++v) g[v].target = targets_.intern(g[v].target);
}

// The context is shared, not taken: a moved-from graph keeps its context.
inline graph::graph(graph&& other) noexcept : ctx_(other.ctx_) { *this = std::move(other); }

inline graph& graph::operator=(graph&& other) noexcept {
  if (this == &other) return *this;
  ctx_ = other.ctx_;
  g_ = std::move(other.g_);  // the nodes go before the arena they use
  arena_ = std::move(other.arena_);
  names_ = std::move(other.names_);
  suffix_ = std::move(other.suffix_);
  targets_ = std::move(other.targets_);
  output_ = std::exchange(other.output_, std::nullopt);
  subgraphs_ = std::move(other.subgraphs_);
  kernels_ = std::move(other.kernels_);
  constants_ = std::move(other.constants_);
  launch_grids_ = std::move(other.launch_grids_);
  other.subgraphs_.clear();
  other.kernels_.clear();
  other.constants_.clear();
  other.launch_grids_.clear();
  return *this;
}

inline const graph* graph::find_subgraph(std::string_view name) const {
  for (const named_subgraph& s : subgraphs_)
    if (s.name == name) return &s.body;
  return nullptr;
}

}  // namespace wrapgraph::graph

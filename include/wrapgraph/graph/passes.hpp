#pragma once
/// Passes over the graph IR: verify (well-formedness), has_side_effects,
/// eliminate_dead_code (mark and rebuild), and liveness (last uses).

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <boost/range/iterator_range.hpp>

#include <wrapgraph/error.hpp>
#include <wrapgraph/graph/graph.hpp>

namespace wrapgraph::graph {

namespace detail {

// A copy of `a` with every node reference mapped through `to`.
template <class Map>
argument remap(const argument& a, const Map& to) {
  if (const node_ref* r = a.as_node()) return node_ref{to(r->node)};
  if (const argument_list* l = a.as_list()) {
    argument_list out;
    out.reserve(l->size());
    for (const argument& x : *l) out.push_back(remap(x, to));
    return out;
  }
  if (const argument_map* m = a.as_map()) {
    argument_map out;
    out.reserve(m->size());
    for (const auto& [k, v] : *m) out.emplace_back(k, remap(v, to));
    return out;
  }
  return a;
}

// A Python identifier (ASCII), not a keyword.
[[nodiscard]] inline bool is_identifier(std::string_view s) noexcept {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9') || is_python_keyword(s)) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "node 3 (buf1)", with the subgraph path in front inside subgraphs.
[[nodiscard]] inline std::string where(std::string_view path, const graph& g, vertex v) {
  std::string s = path.empty() ? std::string() : "subgraph " + std::string(path) + ": ";
  return s + "node " + std::to_string(v) + " (" + g[v].name + ")";
}

[[noreturn]] inline void fail(const char* id, std::string message) {
  throw graph_error(id, std::move(message));
}

// The overload packet of an operator target `ns.packet.overload` (or
// `torch.ops.ns.packet.overload`), or empty for other targets.
[[nodiscard]] inline std::string_view overload_packet(std::string_view target) noexcept {
  if (target.starts_with("torch.ops.")) target.remove_prefix(10);
  const std::size_t first = target.find('.');
  if (first == std::string_view::npos) return {};
  const std::string_view ns = target.substr(0, first);
  if (ns == "torch" || ns == "operator" || ns == "wrapgraph" || ns == "higher_order") return {};
  const std::string_view rest = target.substr(first + 1);
  return rest.substr(0, rest.find('.'));
}

// In-place operators: the packet ends in '_' (`scatter_`, `index_put_`),
// dunders aside except the in-place ones (`__iadd__`).
[[nodiscard]] inline bool is_in_place_packet(std::string_view packet) noexcept {
  if (packet.size() < 2 || !packet.ends_with('_')) return false;
  if (packet.starts_with("__") && packet.ends_with("__")) return packet.size() > 5 && packet[2] == 'i';
  return true;
}

}  // namespace detail

// ---- verify -----------------------------------------------------------------

namespace detail {

inline void verify(const graph& g, std::string_view path) {
  const ir& bg = g.bgl();
  const bool is_subgraph = !path.empty();
  std::set<std::string_view> names;
  std::optional<vertex> output;

  for (const vertex v : boost::make_iterator_range(boost::vertices(bg))) {
    const node& n = g[v];
    if (!is_identifier(n.name) || is_reserved_name(n.name))
      fail("wrapgraph.graph.invalid_name",
           where(path, g, v) + ": the name is not a Python identifier free for a value");
    if (!names.insert(n.name).second)
      fail("wrapgraph.graph.duplicate_name", where(path, g, v) + ": another node is already named '" + n.name + "'");

    // Node references go backwards, in the order of the in-edges' positions.
    std::vector<std::pair<std::size_t, vertex>> refs;  // (position, used node)
    for_each_node_ref(n, [&](node_ref r) {
      if (r.node >= v) {
        const std::string used = r.node < g.size() ? "node " + std::to_string(r.node) + " (" + g[r.node].name + ")"
                                                   : "node " + std::to_string(r.node) + ", which does not exist";
        fail("wrapgraph.graph.use_before_definition", where(path, g, v) + ": uses " + used);
      }
      refs.emplace_back(refs.size(), r.node);
    });
    std::vector<std::pair<std::size_t, vertex>> edges;
    for (const auto e : boost::make_iterator_range(boost::in_edges(v, bg)))
      edges.emplace_back(bg[e].position, boost::source(e, bg));
    std::sort(edges.begin(), edges.end());
    if (edges != refs)
      fail("wrapgraph.graph.edge_mismatch", where(path, g, v) + ": its " + std::to_string(edges.size()) +
                                                " in-edges do not match its " + std::to_string(refs.size()) +
                                                " node references");

    if (n.op == op_kind::output) {
      if (output)
        fail("wrapgraph.graph.output_not_last", where(path, g, *output) + ": an output node is not the last node");
      output = v;
      if (n.args.size() != 1 || !n.kwargs.empty())
        fail("wrapgraph.graph.malformed_output",
             where(path, g, v) + ": an output node has exactly one argument and no kwargs, not " +
                 std::to_string(n.args.size()));
      if (is_subgraph && !n.args[0].as_list())
        fail("wrapgraph.graph.malformed_output", where(path, g, v) + ": a subgraph's output is a list");
    } else if (output) {
      fail("wrapgraph.graph.output_not_last", where(path, g, *output) + ": an output node is not the last node");
    }

    if (n.op == op_kind::get_attr && !n.tensor() && !g.find_subgraph(n.target))
      fail("wrapgraph.graph.unknown_subgraph", where(path, g, v) + ": no subgraph is named '" + std::string(n.target) + "'");
  }
  if (!output) fail("wrapgraph.graph.missing_output", (is_subgraph ? "subgraph " + std::string(path) : std::string("the graph")) + " has no output node");
  if (g.output() != output)
    fail("wrapgraph.graph.malformed_output", where(path, g, *output) + ": graph::output() does not name the output node");

  std::set<std::string_view> subgraph_names;
  for (const graph::named_subgraph& s : g.subgraphs()) {
    const std::string sub_path = path.empty() ? s.name : std::string(path) + "." + s.name;
    if (!is_identifier(s.name))
      fail("wrapgraph.graph.invalid_name", "subgraph " + sub_path + ": the name is not a Python identifier");
    if (!subgraph_names.insert(s.name).second)
      fail("wrapgraph.graph.duplicate_subgraph", "subgraph " + sub_path + ": another subgraph has this name");
    verify(s.body, sub_path);
  }
}

}  // namespace detail

/// Checks that `g` is well formed and throws a wrapgraph::error naming the
/// first node that is not:
///
/// | id | rule |
/// |---|---|
/// | `wrapgraph.graph.invalid_name` | node names are Python identifiers, neither keywords nor reserved (`self`, `torch`, `operator`, `wrapgraph`); subgraph names are identifiers |
/// | `wrapgraph.graph.duplicate_name` | names are unique in their graph |
/// | `wrapgraph.graph.use_before_definition` | every node reference names an earlier node |
/// | `wrapgraph.graph.edge_mismatch` | a node's in-edges are exactly its node references, positions in order |
/// | `wrapgraph.graph.missing_output` | the graph has an output node |
/// | `wrapgraph.graph.output_not_last` | it is the only one and the last node |
/// | `wrapgraph.graph.malformed_output` | it has one argument, a list in a subgraph, and `g.output()` names it |
/// | `wrapgraph.graph.unknown_subgraph` | a get_attr without tensor meta names a subgraph of its graph |
/// | `wrapgraph.graph.duplicate_subgraph` | subgraph names are unique in their graph |
///
/// Subgraphs are verified recursively; their messages start with the path
/// (`subgraph true_graph_0: node 2 (add): ...`).
inline void verify(const graph& g) { detail::verify(g, ""); }

// ---- side effects -----------------------------------------------------------

[[nodiscard]] inline bool has_side_effects(const graph& g);

/// True when node `v` must run even if nothing uses its value: a
/// `wrapgraph.kernel_call` (kernels write through their pointer arguments), a
/// call with an `out` kwarg (out variants), an in-place operator (its overload
/// packet ends in `_`: `aten.scatter_.value`, `aten.index_put_.default`), and a
/// call taking a get_attr of a subgraph that has side effects
/// (`higher_order.cond` with a branch that launches a kernel). Allocations,
/// `wrapgraph.comm_buffer_allocate` included, views, arithmetic, placeholders,
/// get_attr and output nodes have none.
[[nodiscard]] inline bool has_side_effects(const graph& g, vertex v) {
  const node& n = g[v];
  if (n.op != op_kind::call) return false;
  if (n.target == "wrapgraph.kernel_call" || n.kwarg("out")) return true;
  if (detail::is_in_place_packet(detail::overload_packet(n.target))) return true;
  bool effect = false;
  detail::for_each_node_ref(n, [&](node_ref r) {
    const node& used = g[r.node];
    if (effect || used.op != op_kind::get_attr) return;
    if (const graph* body = g.find_subgraph(used.target)) effect = has_side_effects(*body);
  });
  return effect;
}

/// True when some node of `g` has side effects.
[[nodiscard]] inline bool has_side_effects(const graph& g) {
  for (const vertex v : boost::make_iterator_range(boost::vertices(g.bgl())))
    if (has_side_effects(g, v)) return true;
  return false;
}

// ---- dead code --------------------------------------------------------------

/// The live part of `g`, rebuilt: the output node, the placeholders (the
/// signature), the nodes with side effects, and everything they use,
/// transitively, in the original order and with their names; the vertices
/// are numbered anew. Subgraphs are kept, each with its own dead code
/// eliminated. `g` is not changed.
[[nodiscard]] inline graph eliminate_dead_code(const graph& g) {
  const ir& bg = g.bgl();
  const std::size_t n = g.size();
  std::vector<bool> live(n, false);
  std::vector<vertex> work;
  for (const vertex v : boost::make_iterator_range(boost::vertices(bg))) {
    const op_kind op = g[v].op;
    if (op == op_kind::output || op == op_kind::placeholder || has_side_effects(g, v)) {
      live[v] = true;
      work.push_back(v);
    }
  }
  while (!work.empty()) {
    const vertex v = work.back();
    work.pop_back();
    for (const auto e : boost::make_iterator_range(boost::in_edges(v, bg))) {
      const vertex used = boost::source(e, bg);
      if (!live[used]) {
        live[used] = true;
        work.push_back(used);
      }
    }
  }

  graph out(g.context());
  std::vector<vertex> renumbered(n, n);
  const auto to = [&](vertex old) {
    WRAPGRAPH_ASSERT(renumbered[old] < n, "a live node uses a node that is not live");
    return renumbered[old];
  };
  for (const vertex v : boost::make_iterator_range(boost::vertices(bg))) {
    if (!live[v]) continue;
    const node& x = g[v];
    if (x.op == op_kind::output) {
      renumbered[v] = out.set_output(x.args.empty() ? argument{} : detail::remap(x.args[0], to));
      continue;
    }
    argument_list args;
    args.reserve(x.args.size());
    for (const argument& a : x.args) args.push_back(detail::remap(a, to));
    keyword_arguments kwargs;
    kwargs.reserve(x.kwargs.size());
    for (const auto& [k, a] : x.kwargs) kwargs.emplace_back(k, detail::remap(a, to));
    renumbered[v] = out.add(x.op, x.name, x.target, std::move(args), std::move(kwargs), x.meta);
  }
  for (const graph::named_subgraph& s : g.subgraphs())
    out.subgraphs().push_back({s.name, eliminate_dead_code(s.body)});
  return out;
}

// ---- liveness ---------------------------------------------------------------

/// For every vertex, its last use: the greatest vertex that uses it, or
/// nullopt when nothing does. A value returned by the graph is last used by
/// the output node.
[[nodiscard]] inline std::vector<std::optional<vertex>> last_uses(const graph& g) {
  const ir& bg = g.bgl();
  std::vector<std::optional<vertex>> last(g.size());
  for (const vertex v : boost::make_iterator_range(boost::vertices(bg)))
    for (const auto e : boost::make_iterator_range(boost::out_edges(v, bg)))
      last[v] = std::max(last[v].value_or(0), boost::target(e, bg));
  return last;
}

/// For every vertex u, the values whose last use is u, in the order u first
/// uses them (as torch.fx frees them: `buf0 = arg0_1 = None`).
[[nodiscard]] inline std::vector<std::vector<vertex>> values_dying_at(const graph& g) {
  const ir& bg = g.bgl();
  const std::vector<std::optional<vertex>> last = last_uses(g);
  std::vector<std::vector<vertex>> dying(g.size());
  for (const vertex u : boost::make_iterator_range(boost::vertices(bg))) {
    std::vector<std::pair<std::size_t, vertex>> uses;  // (position, used node)
    for (const auto e : boost::make_iterator_range(boost::in_edges(u, bg)))
      uses.emplace_back(bg[e].position, boost::source(e, bg));
    std::sort(uses.begin(), uses.end());
    for (const auto& [position, used] : uses)
      if (last[used] == u && std::find(dying[u].begin(), dying[u].end(), used) == dying[u].end())
        dying[u].push_back(used);
  }
  return dying;
}

}  // namespace wrapgraph::graph

namespace wrapgraph::graph {

/// Puts every tensor of `g` (and of its subgraphs) on device `d`: the same
/// program, run on another device. Tensor inputs then must be on `d`, and
/// every buffer is made there.
inline void move_to_device(graph& g, device d) {
  for (vertex v = 0; v < g.size(); ++v)
    if (auto* t = std::get_if<tensor_meta>(&g[v].meta)) t->dev = d;
  for (auto& sub : g.subgraphs()) move_to_device(sub.body, d);
}

}  // namespace wrapgraph::graph

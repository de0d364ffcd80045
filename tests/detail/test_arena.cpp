// Tests of detail/arena.hpp and graph::node_allocator: blocks are aligned
// and distinct, the last block can grow back, lists built with a graph's
// allocator live in its arena, and copies of them (and of graphs) do not.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <wrapgraph/detail/arena.hpp>
#include <wrapgraph/graph/graph.hpp>

namespace {

using wrapgraph::detail::arena;
using namespace wrapgraph::graph;

bool aligned(const void* p, std::size_t align) { return reinterpret_cast<std::uintptr_t>(p) % align == 0; }

}  // namespace

TEST_CASE("arena: blocks are aligned, disjoint and keep their contents across new chunks") {
  arena a;
  std::vector<std::pair<unsigned char*, std::size_t>> blocks;
  for (std::size_t i = 0; i < 4000; ++i) {
    const std::size_t size = 1 + (i * 37) % 300, align = std::size_t{1} << (i % 5);
    auto* p = static_cast<unsigned char*>(a.allocate(size, align));
    CHECK(aligned(p, align));
    std::memset(p, static_cast<int>(i & 0xff), size);
    blocks.emplace_back(p, size);
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto [p, size] = blocks[i];
    for (std::size_t k = 0; k < size; ++k) REQUIRE(p[k] == static_cast<unsigned char>(i & 0xff));
  }
  CHECK(a.reserved() >= a.allocated());
  CHECK(a.reserved() > 16 * 1024);  // it took more than its first chunk
}

TEST_CASE("arena: freeing the last block gives it back, freeing an earlier one does not") {
  arena a;
  void* first = a.allocate(64, 8);
  void* second = a.allocate(64, 8);
  CHECK(a.allocated() == 128);
  a.deallocate(second, 64);
  CHECK(a.allocated() == 64);
  CHECK(a.allocate(64, 8) == second);  // reused
  a.deallocate(first, 64);
  void* third = a.allocate(64, 8);
  CHECK(third != first);
  CHECK(third != second);
}

TEST_CASE("arena: a block larger than any chunk gets a chunk of its own") {
  arena a;
  const std::size_t big = std::size_t{9} << 20;
  auto* p = static_cast<char*>(a.allocate(big, 64));
  std::memset(p, 1, big);
  CHECK(a.reserved() >= big);
  CHECK(p[big - 1] == 1);
}

TEST_CASE("arena: chunks of a huge page or more start on a huge page and span whole ones") {
  using wrapgraph::detail::huge_page_size;
  arena small;
  CHECK(small.allocate(100, 8) != nullptr);
  CHECK(small.reserved() < huge_page_size);  // a small structure does not take a huge page
  arena large;
  large.expect(3 * huge_page_size);  // a large structure: the next chunk is the largest, 4 MiB
  const auto at = reinterpret_cast<std::uintptr_t>(large.allocate(100, 8));
  CHECK(at % huge_page_size == 0);
  CHECK(large.reserved() % huge_page_size == 0);
}

TEST_CASE("node_allocator: lists built with a graph's allocator are in its arena; copies are on the heap") {
  graph g;
  argument_list inner(g.allocator());
  inner.emplace_back(std::int64_t{7});
  argument_list args(g.allocator());
  args.emplace_back(node_ref{0});
  args.emplace_back(std::move(inner));
  CHECK(args.get_allocator() == g.allocator());
  CHECK(args.get_allocator().arena() != nullptr);

  const argument_list copy = args;
  CHECK(copy.get_allocator().arena() == nullptr);
  CHECK(copy == args);

  // A move keeps the arena; a move assignment takes it.
  argument_list moved = std::move(args);
  CHECK(moved.get_allocator() == g.allocator());
  argument_list assigned;
  assigned = std::move(moved);
  CHECK(assigned.get_allocator() == g.allocator());

  // Lists built without a graph work from the heap, in a graph too.
  argument_list heap{std::int64_t{1}, std::int64_t{2}};
  CHECK(heap.get_allocator().arena() == nullptr);
  const vertex x = g.placeholder("x");
  const vertex y = g.call("operator.add", "add", {node_ref{x}, std::int64_t{1}});
  CHECK(g[y].args.size() == 2);
}

TEST_CASE("node_allocator: a copied graph outlives its source, a moved graph keeps its lists") {
  auto ctx = std::make_shared<wrapgraph::sym::context>();
  std::optional<graph> copy;
  graph moved;
  {
    graph g(ctx);
    const vertex x = g.placeholder("x");
    argument_list sizes(g.allocator());
    for (int i = 0; i < 100; ++i) sizes.emplace_back(std::int64_t{i});
    argument_list args(g.allocator());
    args.emplace_back(node_ref{x});
    args.emplace_back(std::move(sizes));
    expr_list size(g.allocator<wrapgraph::sym::expr>());
    size.push_back(ctx->integer(100));
    g.call("torch.empty", "buf", std::move(args), {},
           tensor_meta{wrapgraph::dtype::float32, wrapgraph::cpu, std::move(size), {ctx->integer(1)}, ctx->integer(0)});
    copy.emplace(g);
    moved = std::move(g);
  }
  for (const graph* h : {&*copy, &moved}) {
    const auto buf = h->find("buf");
    REQUIRE(buf);
    const node& n = (*h)[*buf];
    REQUIRE(n.args.size() == 2);
    REQUIRE(n.args[1].as_list());
    CHECK(n.args[1].as_list()->size() == 100);
    CHECK(*(*n.args[1].as_list())[99].as_int() == 99);
    REQUIRE(n.tensor());
    CHECK(n.tensor()->size[0].value() == 100);
    CHECK(n.target == "torch.empty");  // the source's copy of it is gone
  }
  CHECK((*copy)[1].args.get_allocator().arena() == nullptr);
}

TEST_CASE("graph: nodes of one target share the graph's copy of it; a copied graph has its own") {
  graph g;
  std::string target = "aten.a_target_longer_than_a_small_string.default";
  const vertex a = g.call(target, "a", {});
  const vertex b = g.call(target, "b", {});
  target[0] = 'X';  // the graph kept its own copy
  CHECK(g[a].target == "aten.a_target_longer_than_a_small_string.default");
  CHECK(g[a].target.data() == g[b].target.data());
  const graph copy(g);
  CHECK(copy[a].target == g[a].target);
  CHECK(copy[a].target.data() != g[a].target.data());
  CHECK(copy[a].target.data() == copy[b].target.data());
}

TEST_CASE("node_allocator: graph::add puts a node's lists of uses in the arena") {
  graph g;
  const vertex x = g.placeholder("x");
  const vertex y = g.call("operator.add", "add", {node_ref{x}, node_ref{x}});
  const auto& stored = g.bgl().m_vertices;
  CHECK(stored[x].m_out_edges.get_allocator() == g.allocator());
  CHECK(stored[y].m_in_edges.get_allocator() == g.allocator());
  CHECK(boost::out_degree(x, g.bgl()) == 2);
  CHECK(boost::in_degree(y, g.bgl()) == 2);
}

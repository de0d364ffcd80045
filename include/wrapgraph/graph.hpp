#pragma once
/// The graph IR in one include: the graph (graph/graph.hpp), its printers
/// (graph/print.hpp) and its passes (graph/passes.hpp).

#include <wrapgraph/graph/graph.hpp>
#include <wrapgraph/graph/passes.hpp>
#include <wrapgraph/graph/print.hpp>

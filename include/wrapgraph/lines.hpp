#pragma once
/// Wrapper programs as data: value types, one aggregate per line kind, the
/// program, and equality and printing written once over the lines' reflection.

#include <wrapgraph/lines/builder.hpp>
#include <wrapgraph/lines/compare.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/print.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/lines/types.hpp>

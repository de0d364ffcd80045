#pragma once
/// Symbolic shapes: the runtime expressions (context, canonical form,
/// evaluation, substitution, solving, parsing, printing) and the compile-time
/// front end.

#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/eval.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>
#include <wrapgraph/sym/solve.hpp>
#include <wrapgraph/sym/static.hpp>
#include <wrapgraph/sym/substitute.hpp>

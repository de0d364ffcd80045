#pragma once
/// Running graphs in one include: tensors and memory (exec/tensor.hpp),
/// run-time values (exec/value.hpp), the backend concept (exec/backend.hpp),
/// the operator registry (exec/operators.hpp), the executable
/// (exec/executable.hpp) and embedded examples (exec/examples.hpp).

#include <wrapgraph/exec/backend.hpp>
#include <wrapgraph/exec/examples.hpp>
#include <wrapgraph/exec/executable.hpp>
#include <wrapgraph/exec/operators.hpp>
#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>

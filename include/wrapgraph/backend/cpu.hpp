#pragma once
/// The CPU backend in one include: kernel compilation and its cache
/// (backend/cpu/compiler.hpp), the backend and its thread pool
/// (backend/cpu/backend.hpp) and the built-in operators
/// (backend/cpu/operators.hpp).

#include <wrapgraph/backend/cpu/backend.hpp>
#include <wrapgraph/backend/cpu/compiler.hpp>
#include <wrapgraph/backend/cpu/operators.hpp>

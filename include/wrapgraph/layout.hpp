#pragma once
/// The layout module: index arithmetic of strided layouts on int64 Eigen
/// arrays (layout/strides.hpp) and its symbolic twins over sym::expr
/// (layout/symbolic.hpp). See docs/layout.md.

#include <wrapgraph/layout/strides.hpp>
#include <wrapgraph/layout/symbolic.hpp>

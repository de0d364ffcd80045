#pragma once
/// Version, the C++20 gate, feature macros and the internal assertion macro.

#if !defined(__cplusplus) || __cplusplus < 202002L
#error "wrapgraph needs C++20: compile with -std=c++20 or newer"
#endif

#include <cstdio>
#include <cstdlib>

#define WRAPGRAPH_VERSION_MAJOR 0
#define WRAPGRAPH_VERSION_MINOR 1
#define WRAPGRAPH_VERSION_PATCH 0
#define WRAPGRAPH_VERSION_STRING "0.1.0"

/// 1 when the CUDA backend is available to this translation unit. The
/// `wrapgraph-cuda` Meson dependency defines it; plain `wrapgraph` leaves it 0.
#ifndef WRAPGRAPH_HAS_CUDA
#define WRAPGRAPH_HAS_CUDA 0
#endif

namespace wrapgraph {

/// Library version as {major, minor, patch}.
struct version_info {
  int major, minor, patch;
};
inline constexpr version_info version{WRAPGRAPH_VERSION_MAJOR, WRAPGRAPH_VERSION_MINOR,
                                      WRAPGRAPH_VERSION_PATCH};

namespace detail {
[[noreturn]] inline void assertion_failed(const char* condition, const char* file, int line,
                                          const char* message) noexcept {
  std::fprintf(stderr, "wrapgraph: internal invariant violated at %s:%d: %s (%s)\n", file, line,
               message, condition);
  std::abort();
}
}  // namespace detail
}  // namespace wrapgraph

/// WRAPGRAPH_ASSERT(condition, message): a violated internal invariant, i.e. a
/// bug in wrapgraph itself. Bad user input never reaches an assertion; it
/// raises a wrapgraph::error instead. Defining WRAPGRAPH_DISABLE_ASSERTS turns
/// the checks off.
#ifdef WRAPGRAPH_DISABLE_ASSERTS
#define WRAPGRAPH_ASSERT(condition, message) ((void)0)
#else
#define WRAPGRAPH_ASSERT(condition, message)                                                 \
  ((condition) ? (void)0                                                                     \
               : ::wrapgraph::detail::assertion_failed(#condition, __FILE__, __LINE__, message))
#endif

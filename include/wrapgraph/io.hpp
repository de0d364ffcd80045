#pragma once
/// Programs in and out of JSON (the `wrapgraph/1` format).

#include <wrapgraph/io/json.hpp>

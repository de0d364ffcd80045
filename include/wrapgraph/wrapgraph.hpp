#pragma once
/// Everything wrapgraph offers, in one include.

#include <wrapgraph/backend/cpu.hpp>
#include <wrapgraph/config.hpp>
#include <wrapgraph/convert.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/exec.hpp>
#include <wrapgraph/graph.hpp>
#include <wrapgraph/io.hpp>
#include <wrapgraph/layout.hpp>
#include <wrapgraph/lines.hpp>
#include <wrapgraph/sym.hpp>

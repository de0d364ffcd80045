#pragma once
/// Everything wrapgraph offers, in one include.

#include <wrapgraph/config.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/layout.hpp>
#include <wrapgraph/sym.hpp>

#pragma once
/// Program → graph conversion.

#include <wrapgraph/convert/convert.hpp>

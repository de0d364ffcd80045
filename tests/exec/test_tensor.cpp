// Tests of exec/tensor.hpp and exec/value.hpp: storage shared by views,
// bounds, typed and logical element access, 16-bit floats, memory
// accounting, printing.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include <wrapgraph/exec/tensor.hpp>
#include <wrapgraph/exec/value.hpp>

#include "support.hpp"

namespace {

using namespace wrapgraph;
using exec::tensor;

std::shared_ptr<exec::host_memory> host() { return std::make_shared<exec::host_memory>(); }

}  // namespace

TEST_CASE("exec::tensor views share storage and index through sizes, strides and offset") {
  auto m = host();
  const tensor t = exec::empty(*m, dtype::float32, {2, 3});
  CHECK(t.is_contiguous());
  CHECK(t.strides() == exec::extents{3, 1});
  for (std::int64_t i = 0; i < 6; ++i) t.set(i, static_cast<double>(i));
  const tensor transposed = t.view({3, 2}, {1, 3}, 0);
  CHECK_FALSE(transposed.is_contiguous());
  CHECK(exec::to_vector(transposed) == std::vector<double>{0, 3, 1, 4, 2, 5});
  transposed.at<float>({2, 1}) = 50;
  CHECK(t.get(5) == 50);  // one storage
  const tensor row = t.view({3}, {1}, 3);
  CHECK(row.data() == static_cast<char*>(t.data()) + 3 * sizeof(float));
  CHECK(exec::to_vector(row) == std::vector<double>{3, 4, 50});
  CHECK(t.size(-1) == 3);
  CHECK(test::error_id([&] { (void)t.size(2); }) == "wrapgraph.run.bad_dimension");
}

TEST_CASE("exec::tensor refuses views outside their storage and malformed layouts") {
  auto m = host();
  const tensor t = exec::empty(*m, dtype::int32, {4});
  CHECK(test::error_id([&] { (void)t.view({5}, {1}, 0); }) == "wrapgraph.run.out_of_bounds");
  CHECK(test::error_id([&] { (void)t.view({2}, {1}, 3); }) == "wrapgraph.run.out_of_bounds");
  CHECK(test::error_id([&] { (void)t.view({2}, {1, 1}, 0); }) == "wrapgraph.run.bad_layout");
  CHECK(test::error_id([&] { (void)t.view({-1}, {1}, 0); }) == "wrapgraph.run.bad_layout");
  CHECK(t.view({0}, {1}, 4).numel() == 0);  // an empty view reaches nothing
  CHECK(test::error_id([&] { (void)t.get(4); }) == "wrapgraph.run.bad_index");
  CHECK(test::error_id([&] { (void)t.at<int>({4}); }) == "wrapgraph.run.bad_index");
  CHECK(test::error_id([&] { (void)t.data_as<float>(); }) == "wrapgraph.run.dtype_mismatch");
  CHECK(test::error_id([&] { (void)tensor().get(0); }) == "wrapgraph.run.undefined_tensor");
}

TEST_CASE("exec::tensor converts elements: integers saturate, bools are 0 or 1") {
  auto m = host();
  const tensor i8 = exec::empty(*m, dtype::int8, {3});
  i8.set(0, 1000);
  i8.set(1, -1000);
  i8.set(2, std::nan(""));
  CHECK(i8.get_int(0) == 127);
  CHECK(i8.get_int(1) == -128);
  CHECK(i8.get_int(2) == 0);
  const tensor b = exec::empty(*m, dtype::bool_, {2});
  b.set(0, 2.5);
  b.set_int(1, 0);
  CHECK(b.get(0) == 1);
  CHECK(b.get(1) == 0);
  const tensor f = exec::empty(*m, dtype::float64, {1});
  CHECK(test::error_id([&] { (void)f.get_int(0); }) == "wrapgraph.run.dtype_mismatch");
}

TEST_CASE("float16 and bfloat16 convert exactly where they can and round to nearest even") {
  // Every finite binary16 value survives float16 -> float -> float16.
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const exec::float16_t h{static_cast<std::uint16_t>(bits)};
    const float f = exec::to_float(h);
    if (std::isnan(f)) {
      CHECK(std::isnan(exec::to_float(exec::to_float16(f))));
      continue;
    }
    REQUIRE(exec::to_float16(f).bits == h.bits);
  }
  CHECK(exec::to_float(exec::to_float16(1.0f)) == 1.0f);
  CHECK(exec::to_float(exec::to_float16(65504.0f)) == 65504.0f);
  CHECK(std::isinf(exec::to_float(exec::to_float16(65520.0f))));  // rounds past the largest
  CHECK(exec::to_float16(1.0f + 0x1.0p-11f).bits == exec::to_float16(1.0f).bits);  // a tie goes to even
  CHECK(exec::to_float(exec::to_float16(0x1.0p-24f)) == 0x1.0p-24f);                // the smallest subnormal
  CHECK(exec::to_float(exec::to_bfloat16(3.0f)) == 3.0f);
  CHECK(exec::to_bfloat16(1.0f + 0x1.0p-8f).bits == exec::to_bfloat16(1.0f).bits);  // a tie goes to even
  CHECK(std::isnan(exec::to_float(exec::to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  auto m = host();
  const tensor h = exec::empty(*m, dtype::float16, {1});
  h.set(0, 0.333251953125);  // exactly representable
  CHECK(h.get(0) == 0.333251953125);
}

TEST_CASE("device_memory counts live and peak bytes and calls; storage keeps it alive") {
  auto m = host();
  std::weak_ptr<exec::device_memory> watch = m;
  tensor kept;
  {
    const tensor a = exec::empty(*m, dtype::float32, {100});
    kept = exec::empty(*m, dtype::float64, {10});
    CHECK(m->stats().live_bytes == 480);
    CHECK(m->stats().allocations == 2);
  }
  CHECK(m->stats().live_bytes == 80);
  CHECK(m->stats().peak_bytes == 480);
  CHECK(m->stats().releases == 1);
  m->reset_stats();
  CHECK(m->stats().peak_bytes == 80);
  CHECK(m->stats().allocations == 0);
  CHECK(exec::empty(*m, dtype::float32, {0}).numel() == 0);
  CHECK(m->stats().allocations == 0);  // nothing to allocate
  m.reset();
  CHECK_FALSE(watch.expired());  // the storage holds its memory
  kept = tensor();
  CHECK(watch.expired());
}

TEST_CASE("exec::to_string describes a tensor and its elements, eliding long ones") {
  auto m = host();
  const tensor t = exec::empty(*m, dtype::int64, {2, 2});
  for (std::int64_t i = 0; i < 4; ++i) t.set_int(i, i + 1);
  CHECK(exec::to_string(t) == "tensor(int64, size=[2, 2], stride=[2, 1]) [1, 2, 3, 4]");
  CHECK(exec::to_string(t.view({2}, {1}, 1)) == "tensor(int64, size=[2], stride=[1], offset=1) [2, 3]");
  const tensor long_one = exec::empty(*m, dtype::float32, {40});
  for (std::int64_t i = 0; i < 40; ++i) long_one.set(i, 0.5);
  const std::string text = exec::to_string(long_one, 4);
  CHECK(text == "tensor(float32, size=[40], stride=[1]) [0.5, 0.5, ..., 0.5, 0.5]");
  CHECK(exec::to_string(exec::value(exec::value_list{std::int64_t{3}, true, exec::value{}, "sum"})) ==
        "[3, True, None, 'sum']");
}

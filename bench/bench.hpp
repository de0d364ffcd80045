#pragma once
/// Shared pieces of wrapgraph-bench: suites, timing, and the JSON lines it
/// prints (one object per measurement).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace wrapgraph::bench {

/// One measurement: printed as {"bench": name, key: value, ...}.
struct record {
  explicit record(std::string bench_name) : name(std::move(bench_name)) {}

  std::string name;
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::pair<std::string, std::string>> texts;

  record& set(std::string key, double value) {
    numbers.emplace_back(std::move(key), value);
    return *this;
  }
  record& set(std::string key, std::string value) {
    texts.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

inline void print(const record& r) {
  std::cout << "{\"bench\": \"" << r.name << "\"";
  for (const auto& [k, v] : r.texts) std::cout << ", \"" << k << "\": \"" << v << "\"";
  for (const auto& [k, v] : r.numbers) std::cout << ", \"" << k << "\": " << v;
  std::cout << "}" << std::endl;
}

/// Keeps the compiler from optimising a value away.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

/// Median over `repeats` runs of the seconds one call of `f` takes, after
/// one untimed call (first-touch page faults, a cold cache, a CPU still
/// raising its clock).
template <class F>
double median_seconds(int repeats, F&& f) {
  f();
  std::vector<double> times;
  times.reserve(repeats);
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

/// The suites, by name; each registers itself from its own file.
inline std::map<std::string, std::function<void()>>& suites() {
  static std::map<std::string, std::function<void()>> all;
  return all;
}

struct registration {
  registration(std::string name, std::function<void()> run) { suites().emplace(std::move(name), std::move(run)); }
};

}  // namespace wrapgraph::bench

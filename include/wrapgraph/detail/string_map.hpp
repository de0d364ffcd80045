#pragma once
/// A flat hash map from strings to values (open addressing, linear probing,
/// backward-shift erase): one probe sequence in one array, where a node-based
/// std::unordered_map chases a pointer per entry. Not part of the API.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wrapgraph::detail {

template <class Value>
class string_map {
 public:
  /// The value of `key`, or null.
  [[nodiscard]] Value* find(std::string_view key) noexcept {
    if (slots_.empty()) return nullptr;
    const std::size_t h = hash(key);
    for (std::size_t i = h & mask(); slots_[i].used; i = (i + 1) & mask())
      if (slots_[i].hash == h && slots_[i].key == key) return &slots_[i].value;
    return nullptr;
  }
  [[nodiscard]] const Value* find(std::string_view key) const noexcept {
    return const_cast<string_map*>(this)->find(key);
  }
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  /// Sets `key` to `value`; returns the stored value.
  Value& set(std::string_view key, Value value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t h = hash(key);
    std::size_t i = h & mask();
    for (; slots_[i].used; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && slots_[i].key == key) {
        slots_[i].value = std::move(value);
        return slots_[i].value;
      }
    }
    slots_[i] = slot{std::string(key), std::move(value), h, true};
    ++size_;
    return slots_[i].value;
  }

  /// Removes `key`; true when it was there.
  bool erase(std::string_view key) noexcept {
    if (slots_.empty()) return false;
    const std::size_t h = hash(key);
    std::size_t i = h & mask();
    for (; slots_[i].used; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && slots_[i].key == key) break;
    }
    if (!slots_[i].used) return false;
    // Backward shift: move later entries of the run into the hole when
    // their home slot lies at or before it.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = slot{};
    --size_;
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Room for `n` entries without growing.
  void reserve(std::size_t n) {
    std::size_t capacity = 64;
    while (capacity < 2 * n) capacity *= 2;
    if (capacity > slots_.size()) rehash(capacity);
  }

 private:
  struct slot {
    std::string key;
    Value value{};
    std::size_t hash = 0;
    bool used = false;
  };

  static std::size_t hash(std::string_view key) noexcept {
    std::size_t h = std::hash<std::string_view>{}(key);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }

  void grow() { rehash(slots_.empty() ? 64 : slots_.size() * 2); }

  void rehash(std::size_t capacity) {
    std::vector<slot> old = std::move(slots_);
    slots_ = std::vector<slot>(capacity);
    size_ = 0;
    for (slot& s : old) {
      if (!s.used) continue;
      std::size_t i = s.hash & mask();
      while (slots_[i].used) i = (i + 1) & mask();
      slots_[i] = std::move(s);
      ++size_;
    }
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace wrapgraph::detail

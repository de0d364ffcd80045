#pragma once
/// A compact hash map from strings to values. Not part of the API.
///
/// Entries live in one dense vector in insertion order; a power-of-two index
/// of 8-byte slots (a 32-bit hash and an entry number) is probed linearly and
/// erased by backward shift. Keys are copied into an arena whose chunks
/// never move, so an entry is a string_view and its value: no allocation per
/// key, and a probe reads 8 bytes a slot, not a std::string. A node-based
/// std::unordered_map would chase a pointer per entry and allocate per key.
/// The characters of erased keys stay until the map is cleared or destroyed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <wrapgraph/detail/arena.hpp>

namespace wrapgraph::detail {

template <class Value>
class string_map {
 public:
  struct entry {
    std::string_view key;
    Value value;
  };

  string_map() = default;
  string_map(const string_map& other) { *this = other; }
  string_map& operator=(const string_map& other) {
    if (this == &other) return *this;
    clear();
    reserve(other.size());
    for (const entry& e : other.entries_) set(e.key, e.value);
    return *this;
  }
  /// A moved-from map is empty. The moved chunks keep their addresses, so
  /// the keys stay valid.
  string_map(string_map&& other) noexcept { swap(other); }
  string_map& operator=(string_map&& other) noexcept {
    if (this != &other) {
      string_map gone(std::move(*this));
      swap(other);
    }
    return *this;
  }
  ~string_map() = default;

  void swap(string_map& other) noexcept {
    entries_.swap(other.entries_);
    index_.swap(other.index_);
    keys_.swap(other.keys_);
  }

  /// The value of `key`, or null.
  [[nodiscard]] Value* find(std::string_view key) noexcept {
    const std::size_t i = slot_of(key, hash(key));
    return i == npos || !index_[i] ? nullptr : &entries_[entry_of(index_[i])].value;
  }
  [[nodiscard]] const Value* find(std::string_view key) const noexcept {
    return const_cast<string_map*>(this)->find(key);
  }
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  /// The value of `key`, inserting `value` when absent; true when inserted.
  /// One probe, where find then set would take two.
  std::pair<Value*, bool> try_emplace(std::string_view key, Value value) {
    auto [e, inserted] = emplace_entry(key, std::move(value));
    return {&e->value, inserted};
  }

  /// The stored copy of `key`, inserted with a default value when absent:
  /// it stays valid, at the same address, until the map is cleared or
  /// destroyed (moves included).
  std::string_view intern(std::string_view key) { return emplace_entry(key, Value{}).first->key; }

  /// Sets `key` to `value`; returns the stored value.
  Value& set(std::string_view key, Value value) {
    auto [stored, inserted] = try_emplace(key, value);
    if (!inserted) *stored = std::move(value);
    return *stored;
  }

  /// Removes `key`; true when it was there. The last entry takes its place.
  bool erase(std::string_view key) noexcept {
    std::size_t i = slot_of(key, hash(key));
    if (i == npos || !index_[i]) return false;
    const std::size_t gone = entry_of(index_[i]);
    // Backward shift: later slots of the run move into the hole when their
    // home slot lies at or before it.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask(); index_[j]; j = (j + 1) & mask()) {
      const std::size_t home = hash_of(index_[j]) & mask();
      const bool moves = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (moves) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = 0;
    const std::size_t last = entries_.size() - 1;
    if (gone != last) {
      // Point the last entry's slot at the place it moves to.
      const std::uint32_t h = hash(entries_[last].key);
      for (std::size_t j = h & mask();; j = (j + 1) & mask()) {
        if (index_[j] && entry_of(index_[j]) == last) {
          index_[j] = pack(h, gone);
          break;
        }
      }
      entries_[gone] = std::move(entries_[last]);
    }
    entries_.pop_back();
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

  /// The entries, in insertion order except where an erase moved the last
  /// one into the erased one's place.
  [[nodiscard]] const std::vector<entry>& entries() const noexcept { return entries_; }

  /// Room for `n` entries without growing.
  void reserve(std::size_t n) {
    std::size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    if (capacity > index_.size()) rehash(capacity);
    entries_.reserve(n);
  }

  void clear() noexcept {
    entries_.clear();
    index_.clear();
    keys_.reset();
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // A slot is 0 when empty, else the key's 32-bit hash and the entry's
  // number plus one.
  static std::uint64_t pack(std::uint32_t h, std::size_t e) noexcept {
    return (std::uint64_t{h} << 32) | static_cast<std::uint64_t>(e + 1);
  }
  static std::size_t entry_of(std::uint64_t slot) noexcept { return static_cast<std::size_t>(slot & 0xffffffffu) - 1; }
  static std::uint32_t hash_of(std::uint64_t slot) noexcept { return static_cast<std::uint32_t>(slot >> 32); }

  // 64 x 64 -> 128-bit multiply, folded: the mixing step of the hash.
  static std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 wide;  // an extension of GCC and Clang: no -Wpedantic warning
    const wide p = static_cast<wide>(a) * b;
    return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
#else
    const std::uint64_t p = a * b;
    return p ^ (p >> 32) ^ (b >> 29);
#endif
  }
  static std::uint64_t load(const char* p, std::size_t n) noexcept {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    return w;
  }

  // Names are short (buf12, sym_size_int_3): up to 16 bytes are read as two
  // words, longer keys 8 bytes at a time, and every word goes through one
  // folded multiply. Not std::hash: libstdc++'s byte loop costs more than
  // the probe it feeds.
  static std::uint32_t hash(std::string_view key) noexcept {
    constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull;
    const char* p = key.data();
    std::size_t n = key.size();
    std::uint64_t h = k0 ^ (n * k2);
    for (; n > 16; p += 8, n -= 8) h = fold_multiply(h ^ load(p, 8), k1);
    std::uint64_t a = 0, b = 0;
    if (n > 8) {
      a = load(p, 8);
      b = load(p + n - 8, 8);
    } else if (n >= 4) {
      a = load(p, 4);
      b = load(p + n - 4, 4);
    } else if (n > 0) {
      a = (std::uint64_t{static_cast<unsigned char>(p[0])} << 16) |
          (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) | static_cast<unsigned char>(p[n - 1]);
    }
    h = fold_multiply(h ^ a ^ k1, b ^ k2);
    h = fold_multiply(h, k0);
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }
  [[nodiscard]] std::size_t mask() const noexcept { return index_.size() - 1; }

  std::pair<entry*, bool> emplace_entry(std::string_view key, Value&& value) {
    if ((entries_.size() + 1) * 2 > index_.size()) rehash(index_.empty() ? 16 : index_.size() * 2);
    const std::uint32_t h = hash(key);
    const std::size_t i = slot_of(key, h);
    if (index_[i]) return {&entries_[entry_of(index_[i])], false};
    index_[i] = pack(h, entries_.size());
    entries_.push_back(entry{keep(key), std::move(value)});
    return {&entries_.back(), true};
  }

  // The slot holding `key`, or the empty slot where it would go; npos when
  // there is no index yet.
  [[nodiscard]] std::size_t slot_of(std::string_view key, std::uint32_t h) const noexcept {
    if (index_.empty()) return npos;
    std::size_t i = h & mask();
    for (; index_[i]; i = (i + 1) & mask()) {
      if (hash_of(index_[i]) == h && entries_[entry_of(index_[i])].key == key) return i;
    }
    return i;
  }

  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> index(capacity, 0);
    const std::size_t m = capacity - 1;
    for (std::uint64_t slot : index_) {
      if (!slot) continue;
      std::size_t i = hash_of(slot) & m;
      while (index[i]) i = (i + 1) & m;
      index[i] = slot;
    }
    index_.swap(index);
  }

  // A copy of `key` in storage that never moves.
  std::string_view keep(std::string_view key) {
    if (key.empty()) return {};
    if (!keys_) keys_ = std::make_unique<arena>();
    char* kept = static_cast<char*>(keys_->allocate(key.size(), 1));
    std::memcpy(kept, key.data(), key.size());
    return {kept, key.size()};
  }

  std::vector<entry> entries_;
  std::vector<std::uint64_t> index_;
  std::unique_ptr<arena> keys_;
};

}  // namespace wrapgraph::detail

#pragma once
/// Bulk memory for large structures. Not part of the API.
///
/// A graph of a million nodes holds a few hundred megabytes in millions of
/// small blocks. From malloc, each costs a call, a header and, when freed,
/// another call. An arena hands them out from a few large chunks by moving
/// a pointer, packs them without headers, and frees them all at once.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>


namespace wrapgraph::detail {

/// A monotonic arena: blocks are carved from chunks that double from 16 KiB
/// up to 4 MiB. Freeing a block gives it back only when it was the last one
/// handed out (the common case of a vector that grows right after it was
/// made); everything else is freed with the arena. Neither copyable nor
/// movable: containers point at it.
class arena {
 public:
  arena() = default;
  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;
  ~arena() = default;

  [[nodiscard]] void* allocate(std::size_t bytes, std::size_t align) {
    bytes = std::max<std::size_t>(bytes, 1);
    // In integers: the aligned block may not fit, and pointers may not
    // point past their chunk.
    std::uintptr_t at = align_up(next_, align);
    if (!next_ || at + bytes > reinterpret_cast<std::uintptr_t>(end_)) {
      grow(bytes + align);
      at = align_up(next_, align);
    }
    last_ = next_ + (at - reinterpret_cast<std::uintptr_t>(next_));
    next_ = last_ + bytes;
    allocated_ += bytes;
    return last_;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    bytes = std::max<std::size_t>(bytes, 1);
    allocated_ -= bytes;
    if (p == last_ && last_ + bytes == next_) {
      next_ = last_;
      last_ = nullptr;
    }
  }

  /// Expects about `bytes` more: the next chunk is that large (within the
  /// chunk limits), so that a large structure does not grow through many
  /// small chunks.
  void expect(std::size_t bytes) noexcept { next_chunk_ = std::clamp(bytes, next_chunk_, largest_chunk); }

  /// Bytes in blocks handed out and not freed.
  [[nodiscard]] std::size_t allocated() const noexcept { return allocated_; }
  /// Bytes held in chunks.
  [[nodiscard]] std::size_t reserved() const noexcept { return reserved_; }

 private:
  using chunk = std::unique_ptr<char[]>;

  static constexpr std::size_t first_chunk = 16 * 1024;
  static constexpr std::size_t largest_chunk = std::size_t{4} << 20;

  static std::uintptr_t align_up(const char* p, std::size_t align) noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) + align - 1) & ~(std::uintptr_t{align} - 1);
  }

  void grow(std::size_t at_least) {
    const std::size_t size = std::max(next_chunk_, at_least);
    chunks_.push_back(chunk(new char[size]));  // aligned for any fundamental type
    next_ = chunks_.back().get();
    end_ = next_ + size;
    last_ = nullptr;
    reserved_ += size;
    next_chunk_ = std::min(next_chunk_ * 2, largest_chunk);
  }

  std::vector<chunk> chunks_;
  char* next_ = nullptr;
  char* end_ = nullptr;
  char* last_ = nullptr;
  std::size_t next_chunk_ = first_chunk;
  std::size_t allocated_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace wrapgraph::detail

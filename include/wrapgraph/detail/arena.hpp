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
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace wrapgraph::detail {

inline constexpr std::size_t huge_page_size = std::size_t{2} << 20;

/// Asks the kernel to back the whole huge pages inside [p, p + bytes) with
/// huge pages, before they are first written: one page fault per 2 MiB
/// instead of 512. Only advice: the memory means the same either way, and
/// where the kernel or the platform says no, nothing changes.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (begin + huge_page_size - 1) & ~(huge_page_size - 1);
  const std::uintptr_t last = (begin + bytes) & ~(huge_page_size - 1);
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

/// The same advice for the reserved storage of a vector, when it spans a
/// huge page.
template <class Vector>
void advise_huge_pages(Vector& v) noexcept {
  const std::size_t bytes = v.capacity() * sizeof(typename Vector::value_type);
  if (bytes >= 2 * huge_page_size) advise_huge_pages(v.data(), bytes);
}

/// A monotonic arena: blocks are carved from chunks that double from 16 KiB
/// up to 4 MiB; chunks of 2 MiB and more are huge-page aligned and advised
/// (see advise_huge_pages), so only a large structure uses huge pages.
/// Freeing a block gives it back only when it was the last one handed out
/// (the common case of a vector that grows right after it was made);
/// everything else is freed with the arena. Neither copyable nor movable:
/// containers point at it.
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
  struct chunk_deleter {
    std::size_t align;
    void operator()(char* p) const noexcept { ::operator delete(p, std::align_val_t{align}); }
  };
  using chunk = std::unique_ptr<char, chunk_deleter>;

  static constexpr std::size_t first_chunk = 16 * 1024;
  static constexpr std::size_t largest_chunk = std::size_t{4} << 20;

  static std::uintptr_t align_up(const char* p, std::size_t align) noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) + align - 1) & ~(std::uintptr_t{align} - 1);
  }

  void grow(std::size_t at_least) {
    std::size_t size = std::max(next_chunk_, at_least);
    const bool huge = size >= huge_page_size;
    if (huge) size = (size + huge_page_size - 1) & ~(huge_page_size - 1);
    const std::size_t align = huge ? huge_page_size : alignof(std::max_align_t);
    chunks_.push_back(chunk(static_cast<char*>(::operator new(size, std::align_val_t{align})), chunk_deleter{align}));
    if (huge) advise_huge_pages(chunks_.back().get(), size);
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

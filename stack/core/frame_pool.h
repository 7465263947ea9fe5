#pragma once
// FramePool: fixed-size frames over one memory region, and the per-frame
// metadata that makes a frame a Packet (the sk_buff analog lives beside the
// bytes, not inside them, so an AF_XDP UMEM can be the region unchanged).
//
// A frame has exactly one owner at any time. The pool counts the frames that
// are out; every test ends by checking `in_use() == 0` (or the link's idle
// value), so a leak is a failure, not a slow death.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stack/core/packet_meta.h"

namespace xnet::stack {

// Division of a region offset by a fixed frame size without a `div`
// instruction (20-40 cycles; it was a third of reclaim_completions on the
// sending core, and runs again for every received frame). The size is
// odd << shift; for the 32-bit quotient by the odd part, the high half of
// n * magic with magic = floor((2^64 - 1) / odd) + 1 is exact for every
// 32-bit n (Lemire, Kaser and Kurz, "Faster remainder by direct
// computation", 2019). Valid for offsets below 2^32 << shift.
class FrameDivider {
 public:
  explicit FrameDivider(uint32_t frame_size)
      : shift_(static_cast<uint32_t>(std::countr_zero(frame_size))),
        odd_(frame_size >> shift_),
        magic_(odd_ == 1 ? 0 : ~uint64_t{0} / odd_ + 1) {}

  // The largest offset (exclusive) this divider is exact for.
  uint64_t limit() const { return uint64_t{1} << (32 + shift_); }

  uint32_t operator()(uint64_t offset) const {
    const uint64_t n = offset >> shift_;
    if (odd_ == 1) return static_cast<uint32_t>(n);
    return static_cast<uint32_t>((static_cast<unsigned __int128>(n) * magic_) >> 64);
  }

 private:
  uint32_t shift_;
  uint32_t odd_;
  uint64_t magic_;  // 0 when odd_ is 1 (a power-of-two size: a shift alone)
};

class FramePool {
 public:
  static constexpr uint32_t kNoFrame = 0xffffffffu;

  // Owns its memory (heap, page aligned): MemoryLink, tests, benchmarks.
  // Both constructors throw std::invalid_argument for a frame size of 0 or a
  // region too large for FrameDivider (beyond 2^32 frames of the size's odd
  // factor: far beyond any memory).
  FramePool(uint32_t frame_size, uint32_t frame_count);
  // Borrows `region` (e.g. an AF_XDP UMEM); `region.size()` must be a multiple
  // of `frame_size`. The region must outlive the pool.
  FramePool(std::span<std::byte> region, uint32_t frame_size);
  ~FramePool();

  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;

  // Returns kNoFrame when exhausted. The metadata of an allocated frame is reset.
  uint32_t alloc();
  // Runs the frame's destructor hook (if any), then returns it to the free list.
  void free(uint32_t frame);

  std::byte* frame_data(uint32_t frame) { return base_ + size_t{frame} * frame_size_; }
  const std::byte* frame_data(uint32_t frame) const { return base_ + size_t{frame} * frame_size_; }
  PacketMeta& meta(uint32_t frame) { return meta_[frame]; }
  const PacketMeta& meta(uint32_t frame) const { return meta_[frame]; }

  // Maps a byte address inside the region back to its frame (AF_XDP descriptors).
  uint32_t frame_of_offset(uint64_t region_offset) const { return divide_(region_offset); }
  uint64_t offset_of(uint32_t frame) const { return uint64_t{frame} * frame_size_; }

  uint32_t frame_size() const { return frame_size_; }
  uint32_t capacity() const { return frame_count_; }
  uint32_t in_use() const { return frame_count_ - static_cast<uint32_t>(free_.size()); }
  uint32_t available() const { return static_cast<uint32_t>(free_.size()); }
  std::span<std::byte> region() { return {base_, size_t{frame_size_} * frame_count_}; }

 private:
  uint32_t frame_size_;
  uint32_t frame_count_;
  FrameDivider divide_;
  std::byte* base_;
  std::unique_ptr<std::byte, void (*)(std::byte*)> owned_;
  std::vector<PacketMeta> meta_;
  std::vector<uint32_t> free_;
#ifndef NDEBUG
  std::vector<bool> out_;  // double-free detection in debug builds
#endif
};

}  // namespace xnet::stack

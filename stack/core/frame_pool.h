#pragma once
// FramePool: fixed-size frames over one memory region, and the per-frame
// metadata that makes a frame a Packet (the sk_buff analog lives beside the
// bytes, not inside them, so an AF_XDP UMEM can be the region unchanged).
//
// A frame has exactly one owner at any time. The pool counts the frames that
// are out; every test ends by checking `in_use() == 0` (or the link's idle
// value), so a leak is a failure, not a slow death.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stack/core/packet_meta.h"

namespace xnet::stack {

class FramePool {
 public:
  static constexpr uint32_t kNoFrame = 0xffffffffu;

  // Owns its memory (heap, page aligned): MemoryLink, tests, benchmarks.
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
  uint32_t frame_of_offset(uint64_t region_offset) const {
    return static_cast<uint32_t>(region_offset / frame_size_);
  }
  uint64_t offset_of(uint32_t frame) const { return uint64_t{frame} * frame_size_; }

  uint32_t frame_size() const { return frame_size_; }
  uint32_t capacity() const { return frame_count_; }
  uint32_t in_use() const { return frame_count_ - static_cast<uint32_t>(free_.size()); }
  uint32_t available() const { return static_cast<uint32_t>(free_.size()); }
  std::span<std::byte> region() { return {base_, size_t{frame_size_} * frame_count_}; }

 private:
  uint32_t frame_size_;
  uint32_t frame_count_;
  std::byte* base_;
  std::unique_ptr<std::byte, void (*)(std::byte*)> owned_;
  std::vector<PacketMeta> meta_;
  std::vector<uint32_t> free_;
#ifndef NDEBUG
  std::vector<bool> out_;  // double-free detection in debug builds
#endif
};

}  // namespace xnet::stack

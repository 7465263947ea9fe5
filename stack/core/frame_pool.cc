#include "stack/core/frame_pool.h"

#include <cassert>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace xnet::stack {
namespace {

void free_aligned(std::byte* p) { std::free(p); }
void no_free(std::byte*) {}

std::byte* alloc_aligned(size_t bytes) {
  void* p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<std::byte*>(p);
}

uint32_t checked_frame_size(uint32_t frame_size, uint64_t region_bytes) {
  if (frame_size == 0) throw std::invalid_argument("FramePool: frame size 0");
  if (region_bytes > FrameDivider(frame_size).limit()) {
    throw std::invalid_argument("FramePool: a region of " + std::to_string(region_bytes) + " bytes in " +
                                std::to_string(frame_size) + "-byte frames is beyond FrameDivider's range");
  }
  return frame_size;
}

}  // namespace

FramePool::FramePool(uint32_t frame_size, uint32_t frame_count)
    : frame_size_(checked_frame_size(frame_size, uint64_t{frame_size} * frame_count)),
      frame_count_(frame_count),
      divide_(frame_size_),
      base_(alloc_aligned(size_t{frame_size} * frame_count)),
      owned_(base_, &free_aligned),
      meta_(frame_count) {
  free_.reserve(frame_count);
  for (uint32_t i = frame_count; i-- > 0;) free_.push_back(i);
#ifndef NDEBUG
  out_.assign(frame_count, false);
#endif
}

FramePool::FramePool(std::span<std::byte> region, uint32_t frame_size)
    : frame_size_(checked_frame_size(frame_size, region.size())),
      frame_count_(static_cast<uint32_t>(region.size() / frame_size)),
      divide_(frame_size_),
      base_(region.data()),
      owned_(nullptr, &no_free),
      meta_(frame_count_) {
  assert(region.size() % frame_size == 0);
  free_.reserve(frame_count_);
  for (uint32_t i = frame_count_; i-- > 0;) free_.push_back(i);
#ifndef NDEBUG
  out_.assign(frame_count_, false);
#endif
}

FramePool::~FramePool() = default;

uint32_t FramePool::alloc() {
  if (free_.empty()) return kNoFrame;
  const uint32_t f = free_.back();
  free_.pop_back();
  meta_[f] = PacketMeta{};
#ifndef NDEBUG
  out_[f] = true;
#endif
  return f;
}

void FramePool::free(uint32_t frame) {
  assert(frame < frame_count_);
#ifndef NDEBUG
  assert(out_[frame] && "double free of a frame");
  out_[frame] = false;
#endif
  PacketMeta& m = meta_[frame];
  if (m.destructor != nullptr) {
    FrameDestructor d = m.destructor;
    m.destructor = nullptr;
    d(m.destructor_ctx, m.truesize);
  }
  free_.push_back(frame);
}

}  // namespace xnet::stack

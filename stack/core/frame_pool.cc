#include "stack/core/frame_pool.h"

#include <cassert>
#include <cstdlib>
#include <new>

namespace xnet::stack {
namespace {

void free_aligned(std::byte* p) { std::free(p); }
void no_free(std::byte*) {}

std::byte* alloc_aligned(size_t bytes) {
  void* p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<std::byte*>(p);
}

}  // namespace

FramePool::FramePool(uint32_t frame_size, uint32_t frame_count)
    : frame_size_(frame_size),
      frame_count_(frame_count),
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
    : frame_size_(frame_size),
      frame_count_(static_cast<uint32_t>(region.size() / frame_size)),
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

#pragma once
// Umem: the one memory region an AF_XDP socket shares with the kernel, split
// into equal frames, with the stack's FramePool laid over it (borrowing
// constructor) so that a received frame is a Packet without a copy and a packet
// the stack builds is already in a frame the kernel can transmit.
//
// Frame layout (aligned mode, chunk = frame):
//   rx:  [ XDP_PACKET_HEADROOM (256) + umem headroom | frame ... ]   (kernel writes here)
//   tx:  [ ... | TX metadata (24) | Ethernet ... ]   the stack reserves
//        stack::kDefaultHeadroom (78) in front of what it builds; after pushing
//        Ethernet (14) 64 bytes remain: the metadata area fits, and the frame
//        starts on a cache line (the kernel's copy into the skb is aligned).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "stack/core/frame_pool.h"
#include "xdp/error.h"

namespace xnet::xdp {

struct UmemConfig {
  uint32_t frame_size = 2048;  // 2048 or 4096 (aligned chunk mode)
  uint32_t frame_count = 4096;
};

class Umem {
 public:
  static XdpResult<std::unique_ptr<Umem>> create(const UmemConfig& config);
  ~Umem();
  Umem(const Umem&) = delete;
  Umem& operator=(const Umem&) = delete;

  std::span<std::byte> region() { return {base_, size_}; }
  stack::FramePool& pool() { return *pool_; }
  const stack::FramePool& pool() const { return *pool_; }
  uint32_t frame_size() const { return pool_->frame_size(); }
  uint32_t frame_count() const { return pool_->capacity(); }

 private:
  Umem() = default;
  std::byte* base_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<stack::FramePool> pool_;
};

}  // namespace xnet::xdp

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
//
// Jumbo layout (chunk < frame, see xdp/multi_buffer.h): the kernel is
// registered with 4096-byte chunks, but the pool's frames are several chunks
// long and contiguous, so a frame larger than a chunk is one Packet. Only the
// first chunk of a frame ever goes to the fill ring; the kernel writes the
// rest of a multi-buffer packet into other frames' first chunks, and XdpLink
// copies those pieces behind the first one (chunk 1, 2, ... of its frame).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "stack/core/frame_pool.h"
#include "xdp/error.h"

namespace xnet::xdp {

// The largest jumbo frame: a multiple of 4096 whose offsets fit PacketMeta's 16 bits.
inline constexpr uint32_t kMaxJumboFrame = 61440;

// The transparent-huge-page mode this process runs under: the bracketed word
// of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise" or
// "never"; "" when it cannot be read), or "disabled for this process ..."
// when prctl(PR_SET_THP_DISABLE) is in force. A UMEM gets huge pages under
// "always" and "madvise".
std::string transparent_huge_pages_mode();
// The bracketed word of such a line ("always [madvise] never" -> "madvise").
std::string bracketed_mode(std::string_view sysfs_line);

struct UmemConfig {
  uint32_t frame_size = 2048;  // 2048 or 4096 (aligned chunk mode); jumbo: a multiple of chunk_size
  uint32_t frame_count = 4096;
  // The chunk registered with the kernel; 0 = frame_size. Smaller than
  // frame_size only for the jumbo layout (4096, the largest chunk aligned
  // mode accepts without huge pages).
  uint32_t chunk_size = 0;
  // Ask for transparent huge pages (madvise; the host's THP setting decides
  // whether they come: huge_page_bytes() says what did). On 4 KiB pages every
  // received frame of a large UMEM is its own TLB miss for the stack's first
  // touch — a nested page walk under a hypervisor.
  bool huge_pages = true;
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
  // What XDP_UMEM_REG registers; == frame_size() unless jumbo.
  uint32_t chunk_size() const { return chunk_size_; }
  uint32_t frame_count() const { return pool_->capacity(); }
  // Bytes of the region backed by huge pages right now (the kernel's
  // AnonHugePages for the mapping; 0 when none came or none were asked for).
  size_t huge_page_bytes() const;

 private:
  Umem() = default;
  std::byte* base_ = nullptr;
  size_t size_ = 0;
  void* map_base_ = nullptr;  // the whole mapping: size_ rounded up to a huge page
  size_t map_size_ = 0;
  uint32_t chunk_size_ = 0;
  std::unique_ptr<stack::FramePool> pool_;
};

}  // namespace xnet::xdp

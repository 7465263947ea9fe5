#pragma once
// Multi-buffer AF_XDP (XDP_USE_SG): how XdpLink carries a frame larger than
// one UMEM chunk (MTU 9000 on 4096-byte chunks).
//
// The choice: the stack sees one contiguous Packet per frame, never a chain.
// The UMEM's frames (FramePool frames) are several chunks long (12 KiB for
// MTU 9000, xdp/umem.h "jumbo layout"); the kernel only ever sees chunks.
//   TX: zero copy. A jumbo Packet is cut at chunk boundaries into chained
//       descriptors (XDP_PKT_CONTD on all but the last) that point into its
//       own frame; the frame is freed when the last piece completes.
//   RX: the kernel fills one chunk per descriptor (3840 bytes after its 256
//       bytes of headroom) and chains them. Only first chunks are in the fill
//       ring, so the first piece is followed by free chunks of its own frame:
//       the continuation pieces are copied there (one copy of the bytes beyond
//       the first 3840), their frames go back to the pool.
// Why not a chain of frames through the stack: every stage (ip_rcv's length
// checks, checksums, defrag, UDP copy-out, the cork, GSO, fragmenting) would
// have to walk pieces, for all traffic, to save the copy of bytes 3841..9014
// on receive. Measured here (netbench --mtu 9000, 8972-byte datagrams): 53k
// datagrams/s, 3.8 Gbit/s to one receiver shard, ~19 us per datagram of which
// the copy of 5174 bytes is ~0.5 us with cold caches (README "Jumbo frames").
//
// Frames of at most one chunk keep today's single-descriptor path unchanged:
// nothing here runs below the jumbo MTU.

#include <linux/if_xdp.h>

#include <cstdint>
#include <span>

#include "stack/core/packet.h"

namespace xnet::xdp {

// Descriptors for [addr, addr + len) of the UMEM cut at `chunk` boundaries
// (aligned mode: a descriptor may not cross one), chained with XDP_PKT_CONTD.
// `first_options` goes on the first (e.g. XDP_TX_METADATA). Returns how many
// were written to `out`, 0 if they do not fit in it.
uint32_t split_tx(uint64_t addr, uint32_t len, uint32_t chunk, uint32_t first_options,
                  std::span<xdp_desc> out);

// Most descriptors one frame of `frame_size` bytes can need.
constexpr uint32_t max_pieces(uint32_t frame_size, uint32_t chunk) {
  return frame_size <= chunk ? 1 : (frame_size + chunk - 1) / chunk;
}

// Receive side: a packet being put together from chained descriptors. One per
// link; it survives between rx bursts (a chain can straddle two peeks).
class RxChain {
 public:
  bool active() const { return head_.valid() || dropping_; }
  // The first descriptor of a chain: its frame becomes the packet.
  void start(stack::Packet first) { head_ = std::move(first); }
  // A continuation piece at `bytes`. Copied behind what is there when it fits
  // the frame and `max_len`; otherwise the whole chain is dropped (the caller
  // counts LinkStats::rx_dropped once, when finish() says so).
  void append(std::span<const std::byte> bytes, uint32_t max_len);
  // After the last piece: the packet, or an invalid Packet when it was dropped.
  stack::Packet finish();
  // The chain is being dropped (too long): the caller frees pieces until the last.
  void drop() {
    head_.reset();
    dropping_ = true;
  }

 private:
  stack::Packet head_;
  bool dropping_ = false;
};

}  // namespace xnet::xdp

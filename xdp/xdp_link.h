#pragma once
// XdpLink: stack::Link over one AF_XDP socket, for one (interface, queue).
//
// Owns its UMEM (one per link: each queue's shard has its own frames and its
// own fill/completion rings, so nothing is shared between threads) and the
// XSK; registers the XSK in the interface's XSKMAP at `queue`, and removes it
// on destruction. The XdpInterface must outlive the link, and every Packet from
// pool() must be gone before the link is destroyed.
//
// Frame ownership (ROBUSTNESS case 49): every UMEM frame is in exactly one of
// free list, fill ring, rx ring, stack/application, tx ring, completion ring;
// frame_counts() reports each, and they add up to the UMEM's frame count.
//
// Multi-queue veth: an XSK only sees its bound queue. Frames xnet transmits on
// queue q arrive on the peer's rx queue q; the kernel spreads its own flows
// over queues by hash (skb_get_rx_queue / flow hash), so with N queues a
// service needs one XdpLink per queue to see everything.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stack/core/link.h"
#include "xdp/error.h"
#include "xdp/multi_buffer.h"
#include "xdp/umem.h"
#include "xdp/xdp_interface.h"
#include "xdp/xsk_socket.h"

namespace xnet::xdp {

// An MTU larger than a UMEM frame holds (xdp/multi_buffer.h).
enum class MultiBuffer {
  kAuto,  // jumbo frames over multi-buffer descriptors (XDP_USE_SG) when the MTU needs them
  kOff,   // never: such an MTU is refused (EMSGSIZE), as on a driver without it
};

struct XdpLinkConfig {
  UmemConfig umem;
  MultiBuffer multi_buffer = MultiBuffer::kAuto;
  // Jumbo layout only: frames (each the MTU rounded up to 4096-byte chunks,
  // 12 KiB at MTU 9000), replacing umem.frame_size/frame_count.
  uint32_t jumbo_frame_count = 1024;
  XskConfig xsk;
  uint32_t batch = 64;  // descriptors per ring operation
  // Frames kept in the fill ring; 0 = min(fill ring size, half the UMEM), so
  // the other half is left for transmit and for frames the application holds.
  uint32_t fill_target = 0;
};

struct FrameCounts {
  uint32_t free = 0;        // in the pool's free list
  uint32_t fill = 0;        // given to the kernel for receive, not yet back
  uint32_t rx = 0;          // received, waiting in the rx ring
  uint32_t stack = 0;       // held by the stack or the application (Packets)
  uint32_t tx = 0;          // posted for transmit, not yet completed
  uint32_t completion = 0;  // completed, waiting in the completion ring
  uint32_t total = 0;       // the UMEM's frame count
  bool adds_up() const { return free + fill + rx + stack + tx + completion == total; }
};

class XdpLink final : public stack::Link {
 public:
  // Errors: EINVAL "queue out of range", EMSGSIZE "MTU larger than a frame
  // allows" (never truncates; with MultiBuffer::kAuto only above
  // kMaxJumboFrame), plus XskSocket's (an MTU that needs multi-buffer on a
  // driver or kernel without XDP_USE_SG fails there, saying so).
  static XdpResult<std::unique_ptr<XdpLink>> create(XdpInterface& iface, uint32_t queue,
                                                    const XdpLinkConfig& config = {});
  ~XdpLink() override;
  XdpLink(const XdpLink&) = delete;
  XdpLink& operator=(const XdpLink&) = delete;

  // stack::Link
  size_t rx_burst(stack::PacketQueue& out, size_t max) override;
  size_t tx_burst(stack::PacketQueue& q) override;
  stack::FramePool& pool() override { return umem_->pool(); }
  const Umem& umem() const { return *umem_; }
  uint32_t mtu() const override { return mtu_; }
  // The interface's MTU changed: follow it when a frame holds it (false, and
  // nothing changed, when it needs more than a UMEM frame after headroom).
  bool set_mtu(uint32_t mtu);
  // The largest MTU this link's frames hold.
  uint32_t max_mtu() const { return room_ - 14; }  // less the Ethernet header
  // Bound with XDP_USE_SG, frames of several chunks (xdp/multi_buffer.h).
  bool jumbo() const { return jumbo_; }
  wire::MacAddr mac() const override { return mac_; }
  stack::LinkFeatures features() const override;
  std::string name() const override;
  stack::LinkStats stats() const override { return stats_; }
  uint32_t frames_held() const override { return fill_outstanding_ + tx_outstanding_; }
  // The XSK: POLLIN means the rx ring has descriptors.
  int wait_fd() const override { return xsk_->fd(); }
  // Before the reactor sleeps: reclaims completions, pushes out transmits still
  // in the ring, tops up the fill ring and kicks where the rings asked for a
  // wakeup, so nothing waits on a sleeping thread. Cheap when idle: no syscall
  // unless a ring needs one.
  void prepare_to_sleep() override;
  bool tx_completions_pending() const override { return tx_outstanding_ > 0; }
  // The steering program's group map (XdpInterface::add_group), shared by
  // every queue's link. A failure (the map full) leaves the group unsteered,
  // as a NIC whose filter is full would; dev_mc_add's callers ignore it too.
  void add_multicast(wire::Ipv4Addr group) override;
  void del_multicast(wire::Ipv4Addr group) override;

  // For the reactor: wait for POLLIN on fd() (rx). After waking, or before
  // sleeping with transmits outstanding, call kick() if needs_wakeup().
  int fd() const { return xsk_->fd(); }
  bool needs_wakeup() const;
  void kick();
  // Descriptors posted for transmit and not yet completed.
  uint32_t tx_in_flight() const { return tx_outstanding_; }
  // Of those, the ones still on the TX ring: not yet taken by the kernel.
  uint32_t tx_ring_pending() const;
  // Reclaims completed transmit frames into the pool; returns how many.
  uint32_t reclaim_completions();

  FrameCounts frame_counts();
  uint32_t queue() const { return xsk_->queue(); }
  BindMode bind_mode() const { return xsk_->bind_mode(); }
  TxChecksumMode tx_checksum_mode() const { return xsk_->tx_checksum_mode(); }
  XdpResult<xdp_statistics> xsk_statistics() const { return xsk_->statistics(); }

  // No kick for a while after the device dropped a frame
  // (kick_tx_until_drained); the pause doubles with each drop in a row, from
  // about the time veth's NAPI needs to drain its ring to a few of them, and
  // ends early when enough of our frames have left the device's queue.
  static constexpr std::chrono::nanoseconds kMinKickBackoff = std::chrono::microseconds(20);
  static constexpr std::chrono::nanoseconds kMaxKickBackoff = std::chrono::milliseconds(2);
  // Completions after the drop that end the pause: one copy-mode kick's worth.
  static constexpr uint32_t kResumeCompletions = 32;

 private:
  XdpLink() = default;
  void refill();
  // Prepares one packet of our pool for the wire as descriptors in `out`;
  // returns how many, 0 = drop it (the caller counts LinkStats::tx_dropped).
  uint32_t prepare_tx(stack::Packet& p, std::span<xdp_desc> out);
  // One received descriptor: a packet to deliver, or nothing (a chain still
  // open, or dropped: LinkStats::rx_dropped).
  stack::Packet take_rx(const xdp_desc& d);
  void kick_tx_until_drained();
  // Whether the completion ring could be short of room for a batch.
  bool completion_ring_may_fill() const;
  // Frames whose transmission completed, still in the completion ring.
  uint32_t completed_frames();

  XdpInterface* iface_ = nullptr;
  std::unique_ptr<Umem> umem_;
  std::unique_ptr<XskSocket> xsk_;
  std::string ifname_;
  uint32_t mtu_ = 0;
  wire::MacAddr mac_;
  uint32_t batch_ = 64;
  uint32_t fill_target_ = 0;
  uint32_t refill_batch_ = 1;  // rx_burst refills when this many are missing
  uint32_t max_frame_ = 0;
  uint32_t room_ = 0;  // bytes a frame holds for a packet, after headroom
  uint32_t fill_outstanding_ = 0;  // fill ring + rx ring
  uint32_t tx_outstanding_ = 0;    // tx ring + completion ring
  bool in_chain_ = false;          // dropping the rest of a multi-buffer chain
  // Jumbo layout (xdp/multi_buffer.h).
  bool jumbo_ = false;
  uint32_t chunk_ = 0;             // registered chunk size
  uint32_t max_pieces_ = 1;        // descriptors one frame can need
  RxChain rx_chain_;
  std::chrono::nanoseconds kick_backoff_{};
  std::chrono::steady_clock::time_point kick_not_before_{};
  // Completions are the device's own word that its queue has room again
  // (veth completes a frame when the peer's NAPI takes it off its ring): the
  // pause ends early once completed_total_ reaches kick_resume_at_ (0: too
  // few of our frames were in the device's queue, only the clock ends it).
  uint64_t completed_total_ = 0;
  uint64_t kick_resume_at_ = 0;
  std::vector<uint8_t> tx_pieces_;  // per frame: descriptors not yet completed
  stack::LinkStats stats_;
};

}  // namespace xnet::xdp
